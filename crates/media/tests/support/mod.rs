//! Phones for the call tests: plain tokio sockets sending paced G.711 and RFC 4733 packets,
//! and what they heard, decoded and measured.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_media::g711::Codec;
use hotline_media::rtp::RtpPacket;
use hotline_media::{
    CallMedia, CallMediaHandle, MediaEvent, MediaPort, MediaSource, PeerMedia, PromptSet,
};
use hotline_record::Recording;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{timeout, Instant};

pub const LOCALHOST: &str = "127.0.0.1";

/// A test's own empty directory under cargo's scratch space for tests, which goes with the
/// target directory (not the machine's /tmp); the process id keeps concurrent runs apart.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hotline-call-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub async fn phone() -> UdpSocket {
    UdpSocket::bind((LOCALHOST, 0)).await.unwrap()
}

pub fn port() -> MediaPort {
    MediaPort::bind(LOCALHOST.parse().unwrap()).unwrap()
}

pub fn tone(freq: f64, samples: usize, amplitude: f64) -> Vec<i16> {
    (0..samples)
        .map(|n| {
            (amplitude * (2.0 * std::f64::consts::PI * freq * n as f64 / 8_000.0).sin()) as i16
        })
        .collect()
}

/// Prompts for the tests: a 600 Hz "menu" of exactly `frames` 20 ms frames, a short "beep",
/// and a long "music".
pub fn prompts(menu_frames: usize) -> Arc<PromptSet> {
    let mut set = PromptSet::empty();
    set.insert("menu", tone(600.0, menu_frames * 160, 8_000.0).into());
    set.insert("beep", tone(600.0, 3 * 160, 8_000.0).into());
    set.insert("music", tone(523.0, 8_000, 6_000.0).into());
    Arc::new(set)
}

/// A phone's RTP stream: 20 ms packets of `freq` (or DTMF pairs) with its own numbering.
pub struct Sender {
    pub codec: Codec,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
}

impl Sender {
    pub fn new(codec: Codec, ssrc: u32) -> Sender {
        Sender {
            codec,
            ssrc,
            seq: 1_000,
            ts: 50_000,
        }
    }

    pub fn header(&mut self, pt: u8, advance: bool) -> Vec<u8> {
        let mut p = vec![0x80, pt];
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&self.ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        self.seq = self.seq.wrapping_add(1);
        if advance {
            self.ts = self.ts.wrapping_add(160);
        }
        p
    }

    /// The next 20 ms packet of the sum of `freqs`.
    pub fn audio(&mut self, freqs: &[f64]) -> Vec<u8> {
        let start = self.ts;
        let codec = self.codec;
        let mut p = self.header(codec.payload_type(), true);
        for k in 0..160u32 {
            let t = f64::from(start.wrapping_add(k)) / 8_000.0;
            let s: f64 = freqs
                .iter()
                .map(|f| 6_000.0 * (2.0 * std::f64::consts::PI * f * t).sin())
                .sum();
            p.push(codec.encode(s as i16));
        }
        p
    }

    /// One packet of RFC 4733 event `code` starting at `event_ts` (payload type 101).
    pub fn event(&mut self, event_ts: u32, code: u8, end: bool, duration: u16) -> Vec<u8> {
        let mut p = self.header(101, false);
        p[4..8].copy_from_slice(&event_ts.to_be_bytes());
        p.extend_from_slice(&[code, if end { 0x8A } else { 0x0A }]);
        p.extend_from_slice(&duration.to_be_bytes());
        p
    }
}

/// Sends `count` paced 20 ms packets of `freqs` from `from` to `to`.
pub async fn talk(
    from: &UdpSocket,
    to: SocketAddr,
    sender: &mut Sender,
    freqs: &[f64],
    count: usize,
) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..count {
        ticker.tick().await;
        from.send_to(&sender.audio(freqs), to).await.unwrap();
    }
}

/// `count` 20 ms packets from both phones of a connected call, paced: the caller's 440 Hz to
/// its side of the switch, the agent's 1000 Hz from `agent_phone` to `to_agent_side`.
pub async fn both_talk(
    call: &mut Call,
    agent_phone: &UdpSocket,
    to_agent_side: SocketAddr,
    agent: &mut Sender,
    count: usize,
) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..count {
        ticker.tick().await;
        agent_phone
            .send_to(&agent.audio(&[1_000.0]), to_agent_side)
            .await
            .unwrap();
        call.phone
            .send_to(&call.sender.audio(&[440.0]), call.to_switch)
            .await
            .unwrap();
    }
}

/// A packet received by a phone, and when.
pub struct Got {
    pub bytes: Vec<u8>,
    pub at: Instant,
}

impl Got {
    pub fn rtp(&self) -> RtpPacket<&[u8]> {
        RtpPacket::parse(&self.bytes[..]).unwrap()
    }
}

pub async fn recv(sock: &UdpSocket, wait_ms: u64) -> Option<Got> {
    let mut buf = [0u8; 2048];
    let (n, _) = timeout(Duration::from_millis(wait_ms), sock.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some(Got {
        bytes: buf[..n].to_vec(),
        at: Instant::now(),
    })
}

/// Everything until the phone has heard nothing for `quiet_ms`.
pub async fn recv_until_quiet(sock: &UdpSocket, quiet_ms: u64) -> Vec<Got> {
    let mut out = Vec::new();
    while let Some(got) = recv(sock, quiet_ms).await {
        out.push(got);
    }
    out
}

pub async fn next_event(
    events: &mut UnboundedReceiver<MediaEvent>,
    wait_ms: u64,
) -> Option<MediaEvent> {
    timeout(Duration::from_millis(wait_ms), events.recv())
        .await
        .ok()
        .flatten()
}

/// Packets of one stream must follow each other: same SSRC, sequence +1, timestamp +160.
pub fn assert_continuous(packets: &[Got]) {
    for pair in packets.windows(2) {
        let (a, b) = (pair[0].rtp(), pair[1].rtp());
        assert_eq!(b.ssrc(), a.ssrc(), "one SSRC");
        assert_eq!(
            b.sequence(),
            a.sequence().wrapping_add(1),
            "sequence continues"
        );
        assert_eq!(
            b.timestamp(),
            a.timestamp().wrapping_add(160),
            "timestamp continues"
        );
    }
}

/// Power of `freq` in `samples` (Goertzel), to tell which tone a signal carries.
pub fn power(samples: &[i16], freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / 8_000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

pub fn decode(packets: &[Got], codec: Codec) -> Vec<i16> {
    packets
        .iter()
        .flat_map(|g| {
            g.rtp()
                .payload()
                .iter()
                .map(|&b| codec.decode(b))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A call answered by the switch, its caller's phone and the port the phone sends to.
pub struct Call {
    pub media: CallMediaHandle,
    pub events: UnboundedReceiver<MediaEvent>,
    pub phone: UdpSocket,
    pub to_switch: SocketAddr,
    pub sender: Sender,
}

pub async fn answered(
    name: &str,
    codec: Codec,
    recording: Option<Recording>,
    menu_frames: usize,
) -> Call {
    let phone = phone().await;
    let caller_port = port();
    let to_switch = caller_port.local_addr();
    let peer = PeerMedia {
        addr: phone.local_addr().unwrap(),
        codec,
        telephone_event: Some(101),
        source: MediaSource::Exact,
    };
    let (media, events) = CallMedia::start(
        name.into(),
        (caller_port, peer),
        recording,
        prompts(menu_frames),
    );
    Call {
        media,
        events,
        phone,
        to_switch,
        sender: Sender::new(codec, 0xCA11),
    }
}

/// An agent's phone and the port the switch gives it.
pub async fn agent_leg(codec: Codec) -> (UdpSocket, MediaPort, PeerMedia) {
    let phone = phone().await;
    let port = port();
    let peer = PeerMedia {
        addr: phone.local_addr().unwrap(),
        codec,
        telephone_event: Some(96),
        source: MediaSource::Exact,
    };
    (phone, port, peer)
}
