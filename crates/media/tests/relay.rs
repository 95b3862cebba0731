//! Two phones on 127.0.0.1 (plain tokio sockets) talking through a bridge: transcoding both
//! ways, latching, telephone-event mapping, RTCP dropped, and what the recording holds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use hotline_media::g711::Codec;
use hotline_media::relay::{Bridge, Leg, MediaPort, MediaSource, PeerMedia};
use hotline_media::rtp::RtpPacket;
use hotline_record::{CallId, Recorder};
use tokio::net::UdpSocket;
use tokio::time::timeout;

const LOCALHOST: &str = "127.0.0.1";

/// A test's own empty directory under cargo's scratch space for tests (not /tmp).
fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("hotline-media-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn phone() -> UdpSocket {
    UdpSocket::bind((LOCALHOST, 0)).await.unwrap()
}

fn port() -> MediaPort {
    MediaPort::bind(LOCALHOST.parse().unwrap()).unwrap()
}

/// A 20 ms G.711 packet of a `freq` Hz tone, phase-continuous across packet numbers.
fn tone_packet(codec: Codec, freq: f64, n: u32, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, codec.payload_type()];
    p.extend_from_slice(&(n as u16).to_be_bytes());
    p.extend_from_slice(&(n * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    for k in 0..160 {
        let t = f64::from(n * 160 + k) / 8000.0;
        p.push(codec.encode((8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16));
    }
    p
}

fn event_packet(pt: u8, digit: u8) -> Vec<u8> {
    vec![
        0x80,
        0x80 | pt,
        0,
        99,
        0,
        0,
        0x10,
        0,
        0,
        0,
        0,
        9,
        digit,
        0x8A,
        0x03,
        0x20,
    ]
}

async fn recv(sock: &UdpSocket) -> Option<(Vec<u8>, SocketAddr)> {
    let mut buf = [0u8; 2048];
    let (n, from) = timeout(Duration::from_millis(500), sock.recv_from(&mut buf))
        .await
        .ok()?
        .ok()?;
    Some((buf[..n].to_vec(), from))
}

async fn recv_all(sock: &UdpSocket) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some((p, _)) = recv(sock).await {
        out.push(p);
    }
    out
}

/// Power of `freq` in `samples` (Goertzel), to tell which tone a channel carries.
fn power(samples: &[i16], freq: f64) -> f64 {
    let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

fn decode_audio(packets: &[Vec<u8>], codec: Codec) -> Vec<i16> {
    packets
        .iter()
        .filter_map(|p| RtpPacket::parse(&p[..]).ok())
        .filter(|p| p.payload_type() == codec.payload_type())
        .flat_map(|p| {
            p.payload()
                .iter()
                .map(|&b| codec.decode(b))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test]
async fn pcmu_caller_and_pcma_agent_hear_each_other_and_are_recorded() {
    let caller_phone = phone().await;
    let agent_sdp_socket = phone().await; // where the agent's SDP says to send
                                          // Where the agent really sends from: its NAT's public address, the one its SIP came from.
    let agent_phone = UdpSocket::bind(("127.0.0.2", 0)).await.unwrap();
    let (caller_port, agent_port) = (port(), port());
    let (to_caller_side, to_agent_side) = (caller_port.local_addr(), agent_port.local_addr());
    let recorder = Recorder::start(scratch_dir("bridge")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 1), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let caller = PeerMedia {
        addr: caller_phone.local_addr().unwrap(),
        codec: Codec::Pcmu,
        telephone_event: Some(101),
        source: MediaSource::Exact,
    };
    let agent = PeerMedia {
        addr: agent_sdp_socket.local_addr().unwrap(),
        codec: Codec::Pcma,
        telephone_event: Some(96),
        // Its SIP came from another address, the one it really sends from: the port is
        // learnt from its first packet.
        source: MediaSource::LearnPortFrom(agent_phone.local_addr().unwrap().ip()),
    };
    let bridge = Bridge::start(
        "t1".into(),
        (caller_port, caller),
        (agent_port, agent),
        Some(recording),
    );

    // Before the agent's phone has sent anything, nothing goes to the (private) address its
    // SDP named: the signalling does not vouch for it.
    let first = tone_packet(Codec::Pcmu, 440.0, 0, 11);
    caller_phone.send_to(&first, to_caller_side).await.unwrap();
    assert!(
        recv(&agent_sdp_socket).await.is_none(),
        "not to the SDP address"
    );

    // The agent's phone sends from a port of the signalled address (NAT); the relay locks
    // on to it.
    let reply = tone_packet(Codec::Pcma, 1000.0, 0, 22);
    agent_phone.send_to(&reply, to_agent_side).await.unwrap();
    let (got, from) = recv(&caller_phone)
        .await
        .expect("agent's audio reaches the caller");
    assert_eq!(from, to_caller_side);
    assert_eq!(RtpPacket::parse(&got[..]).unwrap().payload_type(), 0);

    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    for n in 1..50 {
        ticker.tick().await;
        caller_phone
            .send_to(&tone_packet(Codec::Pcmu, 440.0, n, 11), to_caller_side)
            .await
            .unwrap();
        agent_phone
            .send_to(&tone_packet(Codec::Pcma, 1000.0, n, 22), to_agent_side)
            .await
            .unwrap();
    }
    // DTMF both ways, RTCP (a sender report) from the caller, and a comfort-noise packet.
    caller_phone
        .send_to(&event_packet(101, 5), to_caller_side)
        .await
        .unwrap();
    agent_phone
        .send_to(&event_packet(96, 11), to_agent_side)
        .await
        .unwrap();
    let mut sender_report = vec![0x80, 200, 0, 6];
    sender_report.resize(28, 0);
    caller_phone
        .send_to(&sender_report, to_caller_side)
        .await
        .unwrap();
    caller_phone
        .send_to(
            &[0x80, 13, 0, 1, 0, 0, 0, 0, 0, 0, 0, 11, 40],
            to_caller_side,
        )
        .await
        .unwrap();

    let at_agent = recv_all(&agent_phone).await;
    let at_caller = recv_all(&caller_phone).await;
    assert!(
        recv(&agent_sdp_socket).await.is_none(),
        "nothing more to the SDP address once latched"
    );

    let agent_pts: Vec<u8> = at_agent.iter().map(|p| p[1] & 0x7f).collect();
    assert_eq!(agent_pts.iter().filter(|&&pt| pt == 8).count(), 49);
    assert_eq!(
        agent_pts.iter().filter(|&&pt| pt == 96).count(),
        1,
        "caller's event 101 → 96"
    );
    assert_eq!(at_agent.len(), 50, "RTCP and comfort noise not relayed");
    let event = at_agent.iter().find(|p| p[1] & 0x7f == 96).unwrap();
    assert_eq!(
        &event[12..],
        &[5, 0x8A, 0x03, 0x20],
        "event payload untouched"
    );
    let caller_pts: Vec<u8> = at_caller.iter().map(|p| p[1] & 0x7f).collect();
    assert_eq!(caller_pts.iter().filter(|&&pt| pt == 0).count(), 49);
    assert_eq!(
        caller_pts.iter().filter(|&&pt| pt == 101).count(),
        1,
        "agent's event 96 → 101"
    );

    let heard_by_agent = decode_audio(&at_agent, Codec::Pcma);
    assert!(power(&heard_by_agent, 440.0) > 100.0 * power(&heard_by_agent, 1000.0));
    let heard_by_caller = decode_audio(&at_caller, Codec::Pcmu);
    assert!(power(&heard_by_caller, 1000.0) > 100.0 * power(&heard_by_caller, 440.0));

    let stats = bridge.stop().await;
    // The caller's first packet went nowhere: the agent had not sent yet.
    assert_eq!(stats.caller_to_agent.packets, 50);
    assert_eq!(stats.agent_to_caller.packets, 51);
    assert_eq!(stats.caller_to_agent.bytes, 49 * 172 + 16);
    assert_eq!(stats.dropped, 3, "RTCP, comfort noise and the first packet");
    recorder.sync().unwrap();

    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(
        u64::from(reader.duration()),
        stats.duration_samples,
        "recording lasts as long as the bridge"
    );
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(
        power(&left, 440.0) > 100.0 * power(&left, 1000.0),
        "left is the caller"
    );
    assert!(
        power(&right, 1000.0) > 100.0 * power(&right, 440.0),
        "right is what the caller heard"
    );
    let voiced = |ch: &[i16]| ch.iter().filter(|s| s.abs() > 1000).count();
    // 50 packets × 160 samples of tone, about 60% of which exceed 1000 in magnitude.
    assert!(
        voiced(&left) > 4_000 && voiced(&left) < 8_000,
        "left voiced {}",
        voiced(&left)
    );
    assert!(
        voiced(&right) > 4_000 && voiced(&right) < 8_000,
        "right voiced {}",
        voiced(&right)
    );
    // The tone starts at the beginning: the caller spoke right after the answer.
    assert!(
        left[..1_600].iter().any(|s| s.abs() > 1000),
        "caller's first packet placed near 0"
    );
}

#[tokio::test]
async fn re_invite_changes_codec_and_zero_address_hold_stops_sending() {
    let caller_phone = phone().await;
    let agent_phone = phone().await;
    let (caller_port, agent_port) = (port(), port());
    let to_caller_side = caller_port.local_addr();
    let agent = PeerMedia {
        addr: agent_phone.local_addr().unwrap(),
        codec: Codec::Pcma,
        telephone_event: None,
        source: MediaSource::Exact,
    };
    let caller = PeerMedia {
        addr: caller_phone.local_addr().unwrap(),
        codec: Codec::Pcmu,
        telephone_event: Some(101),
        source: MediaSource::Exact,
    };
    let bridge = Bridge::start(
        "t2".into(),
        (caller_port, caller),
        (agent_port, agent),
        None,
    );

    caller_phone
        .send_to(&event_packet(101, 1), to_caller_side)
        .await
        .unwrap();
    caller_phone
        .send_to(&tone_packet(Codec::Pcmu, 440.0, 0, 1), to_caller_side)
        .await
        .unwrap();
    let got = recv_all(&agent_phone).await;
    assert_eq!(
        got.len(),
        1,
        "the event is dropped: the agent negotiated none"
    );
    assert_eq!(got[0][1], 8);

    bridge.update(
        Leg::Agent,
        PeerMedia {
            codec: Codec::Pcmu,
            ..agent
        },
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    let packet = tone_packet(Codec::Pcmu, 440.0, 1, 1);
    caller_phone.send_to(&packet, to_caller_side).await.unwrap();
    let (got, _) = recv(&agent_phone).await.unwrap();
    assert_eq!(got, packet, "same codec both sides: relayed byte for byte");

    bridge.update(
        Leg::Agent,
        PeerMedia {
            addr: "0.0.0.0:9".parse().unwrap(),
            ..agent
        },
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    caller_phone
        .send_to(&tone_packet(Codec::Pcmu, 440.0, 2, 1), to_caller_side)
        .await
        .unwrap();
    assert!(
        recv(&agent_phone).await.is_none(),
        "nothing sent to a phone on hold"
    );

    let stats = bridge.stop().await;
    assert_eq!(stats.caller_to_agent.packets, 2);
}

#[tokio::test]
async fn dropping_the_handle_still_finishes_the_recording() {
    let recorder = Recorder::start(scratch_dir("drop")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 2), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let peer = |addr: SocketAddr| PeerMedia {
        addr,
        codec: Codec::Pcma,
        telephone_event: None,
        source: MediaSource::Exact,
    };
    let (a, b) = (port(), port());
    let (pa, pb) = (peer(b.local_addr()), peer(a.local_addr()));
    let bridge = Bridge::start("t3".into(), (a, pa), (b, pb), Some(recording));
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(bridge);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        recorder.sync().unwrap();
        if let Ok(r) = hound::WavReader::open(&wav) {
            if r.duration() >= 700 {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "recording never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Load check, run by hand in release with a raised fd limit: `ulimit -n 20000; cargo test
/// --release -p hotline-media --test relay -- --ignored --nocapture` (`HOTLINE_LOAD_CALLS`,
/// default 1,000). Phones send 20 ms packets both ways for 5 s; prints the CPU of the whole
/// process, which includes the phones' own sends.
#[test]
#[ignore]
fn many_recorded_calls_cpu() {
    let calls: usize = std::env::var("HOTLINE_LOAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let recorder = Recorder::start(scratch_dir("load")).unwrap();
        let mut phones = Vec::new();
        let mut bridges = Vec::new();
        for n in 0..calls {
            let (caller_phone, agent_phone) = (phone().await, phone().await);
            let (caller_port, agent_port) = (port(), port());
            let targets = (caller_port.local_addr(), agent_port.local_addr());
            let peer = |s: &UdpSocket, codec| PeerMedia { addr: s.local_addr().unwrap(), codec, telephone_event: None, source: MediaSource::Exact };
            let recording = recorder.open(&CallId::generate(Utc::now(), n as u32), Utc::now()).unwrap();
            bridges.push(Bridge::start(
                format!("load{n}"),
                (caller_port, peer(&caller_phone, Codec::Pcmu)),
                (agent_port, peer(&agent_phone, Codec::Pcma)),
                Some(recording),
            ));
            phones.push((caller_phone, agent_phone, targets));
        }
        let packets = (tone_packet(Codec::Pcmu, 440.0, 1, 1), tone_packet(Codec::Pcma, 1000.0, 1, 2));
        let cpu_before = process_cpu_ticks();
        let begin = std::time::Instant::now();
        let mut ticker = tokio::time::interval(Duration::from_millis(20));
        for _ in 0..250 {
            ticker.tick().await;
            for (caller_phone, agent_phone, (to_caller_side, to_agent_side)) in &phones {
                let _ = caller_phone.try_send_to(&packets.0, *to_caller_side);
                let _ = agent_phone.try_send_to(&packets.1, *to_agent_side);
            }
        }
        let elapsed = begin.elapsed();
        let cpu = (process_cpu_ticks() - cpu_before) as f64 / 100.0;
        let mut relayed = 0;
        for b in bridges {
            let s = b.stop().await;
            relayed += s.caller_to_agent.packets + s.agent_to_caller.packets;
        }
        recorder.sync().unwrap();
        println!(
            "{calls} calls for {elapsed:?}: {cpu:.1} s CPU ({:.0}% of one core), {relayed} of {} packets relayed",
            100.0 * cpu / elapsed.as_secs_f64(),
            calls * 500
        );
    });
}

/// User + system CPU time of this process, in clock ticks (1/100 s on Linux).
fn process_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
