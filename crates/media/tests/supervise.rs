//! A supervisor on a call, and transfers from one agent to the next, on 127.0.0.1 with plain
//! tokio sockets as phones. The caller talks at 440 Hz, the agents at 1000 Hz (and others
//! after a transfer), the supervisor at 1800 Hz; who hears what is read off the spectrum.

// Not every phone helper of the call tests is used here.
#[allow(dead_code)]
mod support;

use std::net::SocketAddr;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use hotline_media::g711::Codec;
use hotline_media::{BridgeStats, MediaEvent, MediaSource, Monitor, PeerMedia};
use hotline_record::{CallId, Recorder};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, Instant};

use support::*;

const CALLER_HZ: f64 = 440.0;
const AGENT_HZ: f64 = 1_000.0;
const SUPERVISOR_HZ: f64 = 1_800.0;
/// Frames each step of a test lasts: 500 ms.
const STEP: usize = 25;
/// What is received this soon after a change still belongs to the change: the mixes'
/// jitter buffers hold up to 60 ms.
const SETTLE: Duration = Duration::from_millis(120);

/// A phone that talks a tone to the switch and keeps everything it receives.
struct Phone {
    sock: Arc<UdpSocket>,
    to_switch: SocketAddr,
    sender: Sender,
    hz: f64,
    heard: JoinHandle<Vec<Got>>,
}

impl Phone {
    fn new(sock: UdpSocket, to_switch: SocketAddr, sender: Sender, hz: f64, stop: &Stop) -> Phone {
        let sock = Arc::new(sock);
        let heard = tokio::spawn(collect(sock.clone(), stop.subscribe()));
        Phone {
            sock,
            to_switch,
            sender,
            hz,
            heard,
        }
    }

    async fn say(&mut self) {
        let packet = self.sender.audio(&[self.hz]);
        // The switch's port may already be closed (a supervisor who left): ICMP, ignored.
        let _ = self.sock.send_to(&packet, self.to_switch).await;
    }

    async fn heard(self) -> Vec<Got> {
        self.heard.await.unwrap()
    }
}

type Stop = watch::Sender<bool>;

/// Everything `sock` receives until `stop`.
async fn collect(sock: Arc<UdpSocket>, mut stop: watch::Receiver<bool>) -> Vec<Got> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2_048];
    loop {
        tokio::select! {
            got = sock.recv_from(&mut buf) => {
                if let Ok((n, _)) = got {
                    out.push(Got { bytes: buf[..n].to_vec(), at: Instant::now() });
                }
            }
            _ = stop.changed() => return out,
        }
    }
}

/// `frames` paced 20 ms of every phone talking at once.
async fn talk_all(phones: &mut [&mut Phone], frames: usize) {
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..frames {
        ticker.tick().await;
        for phone in phones.iter_mut() {
            phone.say().await;
        }
    }
}

/// The audio of the packets received in `[from + SETTLE, to)`.
#[track_caller]
fn between(got: &[Got], from: Instant, to: Instant, codec: Codec) -> Vec<i16> {
    let in_step: Vec<Got> = got
        .iter()
        .filter(|g| g.at >= from + SETTLE && g.at < to)
        .map(|g| Got {
            bytes: g.bytes.clone(),
            at: g.at,
        })
        .collect();
    assert!(in_step.len() >= 10, "only {} packets", in_step.len());
    assert!(in_step
        .iter()
        .all(|g| g.rtp().payload_type() == codec.payload_type()));
    decode(&in_step, codec)
}

/// The audio received during step `n` of a test, from `marks[n]` to `marks[n + 1]`.
#[track_caller]
fn step(got: &[Got], marks: &[Instant], n: usize, codec: Codec) -> Vec<i16> {
    between(got, marks[n], marks[n + 1], codec)
}

/// The samples of a recording surely inside `[from + SETTLE, to)`. The recording's sample 0
/// is when the media task started, a moment after the test's `answered_at` (more so on a
/// busy machine): by at most what the call lasted beyond the recording's length. The span
/// starts as if there were no lag and ends as if the whole difference were lag, less 20 ms.
fn recorded(
    answered_at: Instant,
    call_length: Duration,
    stats: &BridgeStats,
    from: Instant,
    to: Instant,
) -> Range<usize> {
    let samples = |d: Duration| d.as_micros() as usize * 8 / 1_000;
    let lag = samples(call_length).saturating_sub(stats.duration_samples as usize);
    let start = samples(from + SETTLE - answered_at);
    let end = samples(to - answered_at).saturating_sub(lag + samples(Duration::from_millis(20)));
    start..end.max(start)
}

/// Whether `freq` is clearly there: within 10 dB of the strongest of `others`.
fn hears(samples: &[i16], freq: f64, others: &[f64]) -> bool {
    let loudest = others
        .iter()
        .map(|&f| power(samples, f))
        .fold(0.0, f64::max);
    power(samples, freq) > loudest / 10.0
}

/// Whether `freq` is absent: 20 dB or more below `reference`.
fn lacks(samples: &[i16], freq: f64, reference: f64) -> bool {
    power(samples, freq) < power(samples, reference) / 100.0
}

/// An agent's or supervisor's phone and the port the switch gives it.
async fn leg(codec: Codec) -> (UdpSocket, hotline_media::MediaPort, PeerMedia) {
    let (sock, port, mut peer) = agent_leg(codec).await;
    peer.telephone_event = None;
    (sock, port, peer)
}

#[tokio::test]
async fn a_supervisor_listens_whispers_barges_and_leaves() {
    let recorder = Recorder::start(scratch_dir("supervise")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 7), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let answered_at = Instant::now();
    let call = answered("supervise", Codec::Pcma, Some(recording), 5).await;
    let (stop, _) = watch::channel(false);
    let mut caller = Phone::new(call.phone, call.to_switch, call.sender, CALLER_HZ, &stop);

    let (sock, port, peer) = agent_leg(Codec::Pcmu).await;
    let to_switch = port.local_addr();
    call.media.connect_agent((port, peer));
    let mut agent = Phone::new(
        sock,
        to_switch,
        Sender::new(Codec::Pcmu, 0xA6E7),
        AGENT_HZ,
        &stop,
    );
    talk_all(&mut [&mut caller, &mut agent], 10).await;

    let (sock, port, peer) = leg(Codec::Pcma).await;
    let to_switch = port.local_addr();
    call.media.supervise((port, peer), Monitor::Listen);
    let mut supervisor = Phone::new(
        sock,
        to_switch,
        Sender::new(Codec::Pcma, 0x5E1F),
        SUPERVISOR_HZ,
        &stop,
    );
    let mut marks = vec![Instant::now()];
    talk_all(&mut [&mut caller, &mut agent, &mut supervisor], STEP).await;
    for change in [Monitor::Whisper, Monitor::Barge] {
        call.media.set_monitor(change);
        marks.push(Instant::now());
        talk_all(&mut [&mut caller, &mut agent, &mut supervisor], STEP).await;
    }
    call.media.end_supervision();
    marks.push(Instant::now());
    talk_all(&mut [&mut caller, &mut agent, &mut supervisor], STEP).await;
    marks.push(Instant::now());
    sleep(Duration::from_millis(100)).await;
    stop.send(true).unwrap();
    let stats = call.media.stop().await;
    let call_length = answered_at.elapsed();
    recorder.sync().unwrap();
    let (at_caller, at_agent, at_supervisor) = (
        caller.heard().await,
        agent.heard().await,
        supervisor.heard().await,
    );

    let everyone = [CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ];
    // Listen, whisper and barge: the supervisor hears caller and agent, never themself.
    for n in 0..3 {
        let s = step(&at_supervisor, &marks, n, Codec::Pcma);
        assert!(hears(&s, CALLER_HZ, &everyone), "step {n}: caller");
        assert!(hears(&s, AGENT_HZ, &everyone), "step {n}: agent");
        assert!(lacks(&s, SUPERVISOR_HZ, AGENT_HZ), "step {n}: no echo");
    }
    // Listen: neither caller nor agent hears the supervisor.
    let (c, a) = (
        step(&at_caller, &marks, 0, Codec::Pcma),
        step(&at_agent, &marks, 0, Codec::Pcmu),
    );
    assert!(hears(&c, AGENT_HZ, &everyone) && lacks(&c, SUPERVISOR_HZ, AGENT_HZ));
    assert!(hears(&a, CALLER_HZ, &everyone) && lacks(&a, SUPERVISOR_HZ, CALLER_HZ));
    // Whisper: the agent hears the supervisor over the caller; the caller does not.
    let (c, a) = (
        step(&at_caller, &marks, 1, Codec::Pcma),
        step(&at_agent, &marks, 1, Codec::Pcmu),
    );
    assert!(hears(&c, AGENT_HZ, &everyone) && lacks(&c, SUPERVISOR_HZ, AGENT_HZ));
    assert!(hears(&a, SUPERVISOR_HZ, &everyone) && hears(&a, CALLER_HZ, &everyone));
    // Barge: both hear the supervisor.
    let (c, a) = (
        step(&at_caller, &marks, 2, Codec::Pcma),
        step(&at_agent, &marks, 2, Codec::Pcmu),
    );
    assert!(hears(&c, SUPERVISOR_HZ, &everyone) && hears(&c, AGENT_HZ, &everyone));
    assert!(hears(&a, SUPERVISOR_HZ, &everyone) && hears(&a, CALLER_HZ, &everyone));
    assert!(lacks(&c, CALLER_HZ, AGENT_HZ), "no echo of the caller");
    // Gone: the supervisor's feed stops, caller and agent talk on as before.
    let late = at_supervisor
        .iter()
        .filter(|g| g.at >= marks[3] + Duration::from_millis(60))
        .count();
    assert_eq!(late, 0, "nothing to the supervisor after they left");
    let (c, a) = (
        step(&at_caller, &marks, 3, Codec::Pcma),
        step(&at_agent, &marks, 3, Codec::Pcmu),
    );
    assert!(hears(&c, AGENT_HZ, &everyone) && lacks(&c, SUPERVISOR_HZ, AGENT_HZ));
    assert!(hears(&a, CALLER_HZ, &everyone) && lacks(&a, SUPERVISOR_HZ, CALLER_HZ));

    // The caller's phone saw one stream throughout: relay, mix, relay.
    let ssrc = at_caller[0].rtp().ssrc();
    for pair in at_caller.windows(2) {
        let (x, y) = (pair[0].rtp(), pair[1].rtp());
        assert_eq!(y.ssrc(), ssrc);
        assert_eq!(y.sequence(), x.sequence().wrapping_add(1));
    }
    assert!(stats.supervisor.packets >= 3 * STEP as u64 - 3);

    // The recording: the barge is in what the caller heard, the whisper is not.
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let span = |n: usize| recorded(answered_at, call_length, &stats, marks[n], marks[n + 1]);
    let (whisper, barge) = (&right[span(1)], &right[span(2)]);
    assert!(hears(whisper, AGENT_HZ, &everyone));
    assert!(
        lacks(whisper, SUPERVISOR_HZ, AGENT_HZ),
        "a whisper is never recorded"
    );
    assert!(
        hears(barge, SUPERVISOR_HZ, &everyone),
        "a barge is recorded"
    );
    assert!(hears(barge, AGENT_HZ, &everyone));
    let caller_side = &left[span(0).start..span(3).end];
    assert!(hears(caller_side, CALLER_HZ, &everyone));
    assert!(
        lacks(caller_side, SUPERVISOR_HZ, CALLER_HZ),
        "left is the caller alone"
    );
}

#[tokio::test]
async fn a_supervisor_without_an_agent_hears_the_caller_side_and_follows_a_re_invite() {
    let mut call = answered("unattended", Codec::Pcmu, None, 100).await;
    let (stop, _) = watch::channel(false);
    // Queue music while the caller talks; the supervisor is already there, whispering.
    call.media.play(1, vec!["music".into()], true);
    let (sock, port, peer) = leg(Codec::Pcma).await;
    let sup_switch = port.local_addr();
    call.media.supervise((port, peer), Monitor::Whisper);
    let mut caller = Phone::new(call.phone, call.to_switch, call.sender, CALLER_HZ, &stop);
    let mut supervisor = Phone::new(
        sock,
        sup_switch,
        Sender::new(Codec::Pcma, 0x5E1F),
        SUPERVISOR_HZ,
        &stop,
    );
    let mut marks = vec![Instant::now()];
    talk_all(&mut [&mut caller, &mut supervisor], STEP).await;

    // The agent answers: the whisper reaches the agent, and not the caller.
    let (sock, port, peer) = agent_leg(Codec::Pcmu).await;
    let to_switch = port.local_addr();
    call.media.connect_agent((port, peer));
    let mut agent = Phone::new(
        sock,
        to_switch,
        Sender::new(Codec::Pcmu, 0xA6E7),
        AGENT_HZ,
        &stop,
    );
    marks.push(Instant::now());
    talk_all(&mut [&mut caller, &mut agent, &mut supervisor], STEP).await;

    // The agent hangs up; the survey plays. The supervisor stays, on a new address.
    call.media.disconnect_agent();
    call.media.play(2, vec!["menu".into()], false);
    let moved = phone().await;
    let new_peer = PeerMedia {
        addr: moved.local_addr().unwrap(),
        codec: Codec::Pcmu,
        telephone_event: None,
        source: MediaSource::Exact,
    };
    call.media.update_supervisor(new_peer);
    let old_supervisor = supervisor;
    let mut supervisor = Phone::new(
        moved,
        sup_switch,
        Sender::new(Codec::Pcmu, 0x5E20),
        SUPERVISOR_HZ,
        &stop,
    );
    marks.push(Instant::now());
    talk_all(&mut [&mut caller, &mut supervisor], STEP).await;
    marks.push(Instant::now());
    sleep(Duration::from_millis(100)).await;
    stop.send(true).unwrap();
    let stats = call.media.stop().await;
    let at_caller = caller.heard().await;
    let at_agent = agent.heard().await;
    let at_old = old_supervisor.heard().await;
    let at_supervisor = supervisor.heard().await;
    assert!(stats.supervisor.packets > 0);
    while let Ok(event) = call.events.try_recv() {
        assert!(!matches!(event, MediaEvent::Digit(_)), "{event:?}");
    }

    const MUSIC_HZ: f64 = 523.0;
    const MENU_HZ: f64 = 600.0;
    let all = [CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ, MUSIC_HZ, MENU_HZ];
    // Before the agent: the supervisor hears the music and the caller; the caller only
    // the music.
    let s = step(&at_old, &marks, 0, Codec::Pcma);
    assert!(hears(&s, MUSIC_HZ, &all) && hears(&s, CALLER_HZ, &all));
    let c = step(&at_caller, &marks, 0, Codec::Pcmu);
    assert!(hears(&c, MUSIC_HZ, &all) && lacks(&c, SUPERVISOR_HZ, MUSIC_HZ));
    // With the agent: the whisper.
    let a = step(&at_agent, &marks, 1, Codec::Pcmu);
    assert!(hears(&a, SUPERVISOR_HZ, &all) && hears(&a, CALLER_HZ, &all));
    let c = step(&at_caller, &marks, 1, Codec::Pcmu);
    assert!(hears(&c, AGENT_HZ, &all) && lacks(&c, SUPERVISOR_HZ, AGENT_HZ));
    let s = step(&at_old, &marks, 1, Codec::Pcma);
    assert!(hears(&s, AGENT_HZ, &all) && hears(&s, CALLER_HZ, &all));
    // After the agent: the supervisor, now elsewhere and on μ-law, hears the survey prompt
    // and the caller; the caller hears the prompt alone.
    let s = step(&at_supervisor, &marks, 2, Codec::Pcmu);
    assert!(hears(&s, MENU_HZ, &all) && hears(&s, CALLER_HZ, &all));
    let c = step(&at_caller, &marks, 2, Codec::Pcmu);
    assert!(hears(&c, MENU_HZ, &all) && lacks(&c, SUPERVISOR_HZ, MENU_HZ));
    let stale = at_old
        .iter()
        .filter(|g| g.at >= marks[2] + Duration::from_millis(60))
        .count();
    assert_eq!(stale, 0, "nothing to the supervisor's old address");
}

#[tokio::test]
async fn transfers_continue_one_call_and_one_recording_across_agents() {
    let recorder = Recorder::start(scratch_dir("transfer")).unwrap();
    let recording = recorder
        .open(&CallId::generate(Utc::now(), 9), Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let answered_at = Instant::now();
    let mut call = answered("transfer", Codec::Pcma, Some(recording), 5).await;
    let (stop, _) = watch::channel(false);
    let caller_key = call.sender.event(90_000, 1, true, 800);
    let mut caller = Phone::new(call.phone, call.to_switch, call.sender, CALLER_HZ, &stop);
    const MUSIC_HZ: f64 = 523.0;
    // Agent 1 at 1000 Hz, agent 2 at 1300 Hz, agent 3 (attended transfer) at 700 Hz.
    let tones = [AGENT_HZ, 1_300.0, 700.0];
    let all = [CALLER_HZ, MUSIC_HZ, tones[0], tones[1], tones[2]];
    let mut agents = Vec::new();
    for (n, &hz) in tones.iter().enumerate() {
        let codec = if n == 1 { Codec::Pcma } else { Codec::Pcmu };
        let (sock, port, peer) = agent_leg(codec).await;
        let to_switch = port.local_addr();
        let phone = Phone::new(
            sock,
            to_switch,
            Sender::new(codec, 0xA6E0 + n as u32),
            hz,
            &stop,
        );
        agents.push((phone, Some((port, peer)), codec));
    }

    let mut marks = vec![Instant::now()];
    call.media.connect_agent(agents[0].1.take().unwrap());
    talk_all(&mut [&mut caller, &mut agents[0].0], STEP).await;
    // Blind transfer: agent 1 leaves, music while agent 2 rings; the caller's keys count.
    call.media.disconnect_agent();
    call.media.play(5, vec!["music".into()], true);
    marks.push(Instant::now());
    talk_all(&mut [&mut caller, &mut agents[0].0], STEP / 2).await;
    caller
        .sock
        .send_to(&caller_key, caller.to_switch)
        .await
        .unwrap();
    talk_all(&mut [&mut caller, &mut agents[0].0], STEP - STEP / 2).await;
    call.media.connect_agent(agents[1].1.take().unwrap());
    marks.push(Instant::now());
    talk_all(&mut [&mut caller, &mut agents[1].0], STEP).await;
    // Attended transfer: straight from agent 2 to agent 3.
    call.media.replace_agent(agents[2].1.take().unwrap());
    marks.push(Instant::now());
    // Agent 2's phone talks on: its port is closed, so nothing of it reaches the caller.
    let (two, three) = agents.split_at_mut(2);
    talk_all(&mut [&mut caller, &mut two[1].0, &mut three[0].0], STEP).await;
    marks.push(Instant::now());
    sleep(Duration::from_millis(100)).await;
    stop.send(true).unwrap();
    let stats = call.media.stop().await;
    let call_length = answered_at.elapsed();
    recorder.sync().unwrap();
    assert_eq!(
        next_event(&mut call.events, 100).await,
        Some(MediaEvent::Digit('1')),
        "keys count between agents"
    );
    let at_caller = caller.heard().await;
    let mut heard_by = Vec::new();
    for (phone, _, codec) in agents {
        heard_by.push((phone.heard().await, codec));
    }

    // The caller hears agent 1, the music, agent 2, agent 3, on one stream.
    for (n, hz) in [tones[0], MUSIC_HZ, tones[1], tones[2]]
        .into_iter()
        .enumerate()
    {
        let c = step(&at_caller, &marks, n, Codec::Pcma);
        assert!(c.len() > 1_000);
        for other in all.iter().filter(|&&f| f != hz && f != CALLER_HZ) {
            assert!(lacks(&c, *other, hz), "step {n}: {hz} Hz, not {other} Hz");
        }
    }
    let ssrc = at_caller[0].rtp().ssrc();
    for pair in at_caller.windows(2) {
        let (x, y) = (pair[0].rtp(), pair[1].rtp());
        assert_eq!(y.ssrc(), ssrc, "one stream to the caller");
        assert_eq!(y.sequence(), x.sequence().wrapping_add(1));
    }
    // Each agent hears the caller while connected, and nothing after.
    for (n, (got, codec)) in heard_by.iter().enumerate() {
        let connected = [0, 2, 3][n];
        let a = step(got, &marks, connected, *codec);
        assert!(hears(&a, CALLER_HZ, &all), "agent {n} hears the caller");
        let left_at = marks[[1, 3, 4][n]] + Duration::from_millis(60);
        let after = got.iter().filter(|g| g.at >= left_at).count();
        assert_eq!(after, 0, "agent {n} hears nothing once gone");
    }
    for flow in [stats.caller_to_agent, stats.agent_to_caller] {
        assert!(flow.packets >= 3 * STEP as u64 - 6, "{flow:?}");
    }

    // One recording: the caller on the left throughout, on the right what they heard in turn.
    let mut reader = hound::WavReader::open(&wav).unwrap();
    assert_eq!(u64::from(reader.duration()), stats.duration_samples);
    let expected = call_length.as_micros() as i64 * 8 / 1_000;
    assert!((stats.duration_samples as i64 - expected).abs() <= 800);
    let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let span = |n: usize| recorded(answered_at, call_length, &stats, marks[n], marks[n + 1]);
    for (n, hz) in [tones[0], MUSIC_HZ, tones[1], tones[2]]
        .into_iter()
        .enumerate()
    {
        let r = &right[span(n)];
        for other in all.iter().filter(|&&f| f != hz) {
            assert!(
                lacks(r, *other, hz),
                "right, step {n}: {hz} Hz, not {other} Hz"
            );
        }
        let l = &left[span(n)];
        assert!(
            lacks(l, hz, CALLER_HZ) || hz == CALLER_HZ,
            "left, step {n}: the caller"
        );
    }
}
