//! An attacker spraying RTP at every UDP port a process holds, as one does to take over a
//! call's audio on a switch that latches onto the first sender: the ports are read from
//! `/proc/PID/fd` (socket inodes) and `/proc/net/udp`, a tone is sent to each every 20 ms,
//! and whatever comes back is counted.

use std::collections::HashSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotline_media::Codec;

/// The longest a sprayer runs, whatever the test does.
const MAX_RUN: Duration = Duration::from_secs(60);

/// A running sprayer.
pub struct Sprayer {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    ports: Arc<std::sync::Mutex<HashSet<u16>>>,
    handle: Option<JoinHandle<()>>,
}

/// What the sprayer did.
#[derive(Debug)]
pub struct Sprayed {
    /// Packets sent.
    pub sent: u64,
    /// Datagrams that came back to the sprayer.
    pub received: u64,
    /// Every port of the process sprayed at some point.
    pub ports: HashSet<u16>,
}

/// The UDP ports on 127.0.0.1 that process `pid` holds now.
pub fn udp_ports_of(pid: u32) -> HashSet<u16> {
    let inodes: HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
                .filter_map(|l| {
                    let l = l.to_string_lossy().to_string();
                    Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let (local, inode) = (cols.get(1)?, cols.get(9)?);
            if !inodes.contains(*inode) {
                return None;
            }
            u16::from_str_radix(local.split(':').nth(1)?, 16).ok()
        })
        .collect()
}

impl Sprayer {
    /// Starts spraying a `freq` Hz tone (PCMU and PCMA packets) at every UDP port of `pid`.
    pub fn start(pid: u32, freq: f64) -> Sprayer {
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let received = Arc::new(AtomicU64::new(0));
        let ports = Arc::new(std::sync::Mutex::new(HashSet::new()));
        let (s, se, re, po) = (stop.clone(), sent.clone(), received.clone(), ports.clone());
        let handle = std::thread::spawn(move || spray(pid, freq, s, se, re, po));
        Sprayer {
            stop,
            sent,
            received,
            ports,
            handle: Some(handle),
        }
    }

    /// Stops and tells what happened.
    pub fn stop(mut self) -> Sprayed {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        Sprayed {
            sent: self.sent.load(Ordering::SeqCst),
            received: self.received.load(Ordering::SeqCst),
            ports: self.ports.lock().map(|p| p.clone()).unwrap_or_default(),
        }
    }
}

impl Drop for Sprayer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn spray(
    pid: u32,
    freq: f64,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    received: Arc<AtomicU64>,
    seen: Arc<std::sync::Mutex<HashSet<u16>>>,
) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind sprayer");
    sock.set_nonblocking(true).expect("nonblocking");
    let begin = Instant::now();
    let mut ports = HashSet::new();
    let mut last_scan = begin - Duration::from_secs(1);
    let mut buf = [0u8; 2048];
    let mut n: u32 = 0;
    while !stop.load(Ordering::SeqCst) && begin.elapsed() < MAX_RUN {
        if last_scan.elapsed() >= Duration::from_millis(100) {
            ports = udp_ports_of(pid);
            if let Ok(mut s) = seen.lock() {
                s.extend(ports.iter().copied());
            }
            last_scan = Instant::now();
        }
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let packet = tone_packet(codec, freq, n);
            for port in &ports {
                let to = SocketAddr::from(([127, 0, 0, 1], *port));
                if sock.send_to(&packet, to).is_ok() {
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        while sock.recv_from(&mut buf).is_ok() {
            received.fetch_add(1, Ordering::SeqCst);
        }
        n = n.wrapping_add(1);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Packet `n` of a tone stream: 20 ms of `freq` Hz, its own SSRC per codec.
fn tone_packet(codec: Codec, freq: f64, n: u32) -> Vec<u8> {
    let mut p = vec![0x80, codec.payload_type()];
    p.extend_from_slice(&(n as u16).to_be_bytes());
    p.extend_from_slice(&(n.wrapping_mul(160)).to_be_bytes());
    p.extend_from_slice(&(0xA77A_C000 | u32::from(codec.payload_type())).to_be_bytes());
    for i in 0..160u32 {
        let t = f64::from(n * 160 + i) / 8000.0;
        let x = (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16;
        p.push(codec.encode(x));
    }
    p
}
