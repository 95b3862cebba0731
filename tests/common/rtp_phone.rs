//! A caller's audio end for tests: sends 20 ms RTP packets (silence, a tone, in-band DTMF,
//! or RFC 4733 events) and keeps everything it receives, decoded, so a test can assert on
//! what the caller really heard.

use std::net::{SocketAddr, UdpSocket};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hotline_media::Codec;

/// What the phone sends next.
#[derive(Debug, Clone, Copy)]
pub enum Sound {
    /// Silence.
    Silence,
    /// A sine tone.
    Tone(f64),
    /// An in-band DTMF key for 100 ms, then silence.
    Inband(char),
    /// An RFC 4733 event for 100 ms (payload type 101), then silence.
    Event(char),
}

/// The audio side of a test caller.
pub struct RtpPhone {
    /// The RTP socket's address (put it in the SDP).
    pub addr: SocketAddr,
    heard: Arc<Mutex<Vec<i16>>>,
    tx: Sender<Option<(SocketAddr, Sound)>>,
    handle: Option<JoinHandle<()>>,
}

fn dtmf_freqs(key: char) -> (f64, f64) {
    let rows = [697.0, 770.0, 852.0, 941.0];
    let cols = [1209.0, 1336.0, 1477.0, 1633.0];
    let keys = ["123A", "456B", "789C", "*0#D"];
    for (r, line) in keys.iter().enumerate() {
        if let Some(c) = line.find(key) {
            return (rows[r], cols[c]);
        }
    }
    (0.0, 0.0)
}

fn event_code(key: char) -> u8 {
    match key {
        '0'..='9' => key as u8 - b'0',
        '*' => 10,
        '#' => 11,
        _ => 0,
    }
}

impl RtpPhone {
    /// Binds on 127.0.0.1; sends PCMU to nobody until [`RtpPhone::talk_to`].
    pub fn new() -> RtpPhone {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind rtp");
        sock.set_read_timeout(Some(Duration::from_millis(5)))
            .expect("timeout");
        let addr = sock.local_addr().expect("addr");
        let heard = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel();
        let h = Arc::clone(&heard);
        let handle = std::thread::spawn(move || run(sock, rx, h));
        RtpPhone {
            addr,
            heard,
            tx,
            handle: Some(handle),
        }
    }

    /// Sends `sound` to `to` from now on (the switch's media address from its SDP).
    pub fn talk_to(&self, to: SocketAddr, sound: Sound) {
        let _ = self.tx.send(Some((to, sound)));
    }

    /// Everything heard so far, decoded to 8 kHz PCM in arrival order.
    pub fn heard(&self) -> Vec<i16> {
        self.heard.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

impl Drop for RtpPhone {
    fn drop(&mut self) {
        let _ = self.tx.send(None);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn run(sock: UdpSocket, rx: Receiver<Option<(SocketAddr, Sound)>>, heard: Arc<Mutex<Vec<i16>>>) {
    let mut to: Option<SocketAddr> = None;
    let mut sound = Sound::Silence;
    let mut sound_start = 0u32;
    let mut seq: u16 = 0;
    let mut ts: u32 = 0;
    let mut next = Instant::now();
    let mut buf = [0u8; 2048];
    loop {
        match rx.try_recv() {
            Ok(Some((t, s))) => {
                to = Some(t);
                sound = s;
                sound_start = ts;
            }
            Ok(None) => return,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
            Err(_) => {}
        }
        while let Ok((n, _)) = sock.recv_from(&mut buf) {
            if n > 12 {
                let pt = buf[1] & 0x7f;
                let codec = match pt {
                    0 => Some(Codec::Pcmu),
                    8 => Some(Codec::Pcma),
                    _ => None,
                };
                if let Some(codec) = codec {
                    if let Ok(mut h) = heard.lock() {
                        h.extend(buf[12..n].iter().map(|b| codec.decode(*b)));
                    }
                }
            }
        }
        if Instant::now() < next {
            continue;
        }
        next += Duration::from_millis(20);
        let Some(dest) = to else { continue };
        let elapsed = ts.wrapping_sub(sound_start);
        let mut pkt = vec![0x80, 0];
        match sound {
            Sound::Event(key) if elapsed < 800 + 480 => {
                // 100 ms of event updates, then the end packet three times.
                let end = elapsed >= 800;
                pkt[1] = 101 | if elapsed == 0 { 0x80 } else { 0 };
                pkt.extend_from_slice(&seq.to_be_bytes());
                pkt.extend_from_slice(&sound_start.to_be_bytes());
                pkt.extend_from_slice(&0x4242_4242u32.to_be_bytes());
                let duration = (elapsed.min(800) + 160) as u16;
                pkt.extend_from_slice(&[event_code(key), if end { 0x80 | 10 } else { 10 }]);
                pkt.extend_from_slice(&duration.to_be_bytes());
            }
            _ => {
                pkt[1] = 0;
                pkt.extend_from_slice(&seq.to_be_bytes());
                pkt.extend_from_slice(&ts.to_be_bytes());
                pkt.extend_from_slice(&0x4242_4242u32.to_be_bytes());
                for i in 0..160u32 {
                    let t = f64::from(ts + i) / 8000.0;
                    let e = f64::from(elapsed + i);
                    let v = match sound {
                        Sound::Tone(f) => 8000.0 * (2.0 * std::f64::consts::PI * f * t).sin(),
                        Sound::Inband(k) if e < 800.0 => {
                            let (a, b) = dtmf_freqs(k);
                            6000.0
                                * ((2.0 * std::f64::consts::PI * a * t).sin()
                                    + (2.0 * std::f64::consts::PI * b * t).sin())
                        }
                        _ => 0.0,
                    };
                    pkt.push(Codec::Pcmu.encode(v as i16));
                }
            }
        }
        let _ = sock.send_to(&pkt, dest);
        seq = seq.wrapping_add(1);
        ts = ts.wrapping_add(160);
    }
}
