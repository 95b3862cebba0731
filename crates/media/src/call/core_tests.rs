use super::*;
use crate::g711::Codec;
use crate::relay::MediaSource;
use crate::rtp::RtpPacket;
use tokio::sync::mpsc::{self, UnboundedReceiver};

pub(super) fn peer(addr: &str, codec: Codec, te: Option<u8>) -> PeerMedia {
    PeerMedia {
        addr: addr.parse().unwrap(),
        codec,
        telephone_event: te,
        source: MediaSource::Exact,
    }
}

/// A phone behind NAT: its SDP names `addr`, its SIP came from `public`.
pub(super) fn nat_peer(addr: &str, codec: Codec, te: Option<u8>, public: &str) -> PeerMedia {
    PeerMedia {
        source: MediaSource::LearnPortFrom(public.parse().unwrap()),
        ..peer(addr, codec, te)
    }
}

pub(super) fn rtp(pt: u8, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 7]);
    p.extend_from_slice(payload);
    p
}

pub(super) fn src(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(super) const CALLER: &str = "10.0.0.1:4000";
pub(super) const AGENT: &str = "10.0.0.2:5000";

/// A call answered by the switch (PCMU caller with events on 101), with a 250-sample
/// prompt "beep" and a 100-sample "tick".
pub(super) fn call(agent: Option<PeerMedia>) -> (CallCore, UnboundedReceiver<MediaEvent>) {
    let mut prompts = PromptSet::empty();
    prompts.insert("beep", vec![1_000i16; 250].into());
    prompts.insert("tick", vec![-1_000i16; 100].into());
    let (tx, rx) = mpsc::unbounded_channel();
    let core = CallCore::new(
        peer(CALLER, Codec::Pcmu, Some(101)),
        agent,
        None,
        Arc::new(prompts),
        tx,
        0x1234_5678_9abc_def0,
    );
    (core, rx)
}

pub(super) fn bridged() -> CallCore {
    call(Some(peer(AGENT, Codec::Pcma, Some(96)))).0
}

pub(super) fn events(rx: &mut UnboundedReceiver<MediaEvent>) -> Vec<MediaEvent> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

pub(super) fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// An RFC 4733 packet of `code` for the event starting at `ts`.
pub(super) fn event(seq: u16, ts: u32, code: u8, end: bool) -> Vec<u8> {
    let flags = if end { 0x8A } else { 0x0A };
    rtp(101, seq, ts, &[code, flags, 0, 160])
}

#[test]
fn bridged_audio_is_transcoded_and_sent_where_the_signalling_vouches() {
    let mut c = bridged();
    let mut p = rtp(0, 1, 160, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 160),
        Verdict::Send(src(AGENT))
    );
    assert_eq!(p[1], 8);
    assert!(
        p[12..].iter().all(|&b| b == 0xD5),
        "μ-law silence became A-law silence"
    );
    // Behind NAT (its SIP from 10.9.9.9): nothing goes to the SDP's address until the
    // phone has sent, then everything goes where it sends from.
    c.update(
        Leg::Agent,
        nat_peer(AGENT, Codec::Pcma, Some(96), "10.9.9.9"),
        160,
    );
    let mut early = rtp(0, 2, 320, &[0xFF; 160]);
    assert!(!matches!(
        c.on_packet(Leg::Caller, src(CALLER), &mut early, 320),
        Verdict::Send(_)
    ));
    let mut back = rtp(0x80 | 8, 9, 160, &[0xD5; 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src("10.9.9.9:6000"), &mut back, 320),
        Verdict::Send(src(CALLER))
    );
    assert_eq!(back[1], 0x80, "marker, PT 0");
    let mut again = rtp(0, 3, 480, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut again, 480),
        Verdict::Send(src("10.9.9.9:6000"))
    );
    assert_eq!(c.stats.caller_to_agent.packets, 2);
}

#[test]
fn bridged_telephone_events_are_mapped_or_dropped() {
    let mut c = bridged();
    let mut ev = event(1, 0, 5, true);
    assert!(matches!(
        c.on_packet(Leg::Caller, src(CALLER), &mut ev, 0),
        Verdict::Send(_)
    ));
    assert_eq!(ev[1], 96);
    c.update(Leg::Caller, peer(CALLER, Codec::Pcmu, None), 0);
    let mut ev = rtp(96, 1, 0, &[5, 0x80, 0, 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut ev, 0),
        Verdict::Drop
    );
}

#[test]
fn rtcp_unknown_types_garbage_and_strangers_are_dropped() {
    let mut c = bridged();
    let mut sr = vec![0x80, 200, 0, 6, 0, 0, 0, 7];
    sr.resize(28, 0);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut sr, 0),
        Verdict::Drop
    );
    let mut cn = rtp(13, 1, 0, &[40]);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut cn, 0),
        Verdict::Drop
    );
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut [1, 2, 3], 0),
        Verdict::Drop
    );
    let mut p = rtp(0, 1, 0, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src("6.6.6.6:1"), &mut p, 160),
        Verdict::Drop
    );
    assert_eq!(c.stats.dropped, 4);
    let mut later = rtp(0, 2, 160, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src("10.0.0.7:4000"), &mut later, 160 + 8_000),
        Verdict::Drop,
        "a silent stream is not taken over by a stranger"
    );
    assert_eq!(c.caller.destination(), Some(src(CALLER)));
}

#[test]
fn nothing_is_sent_to_a_phone_on_zero_address_hold() {
    let mut c = bridged();
    c.update(Leg::Agent, peer("0.0.0.0:5000", Codec::Pcma, Some(96)), 0);
    let mut p = rtp(0, 1, 0, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 0),
        Verdict::Drop
    );
}

/// Ticks until the play ends; returns the frames sent.
pub(super) fn play_out(c: &mut CallCore, from: u64) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut now = from;
    while c.needs_tick() {
        if c.tick(now).caller.is_some() {
            frames.push(c.frame(Party::Caller).to_vec());
        }
        now += 160;
    }
    frames
}

#[test]
fn a_play_is_framed_stamped_and_finished_once() {
    let (mut c, mut rx) = call(None);
    c.play(4, &names(&["beep", "unknown", "tick"]), false);
    let frames = play_out(&mut c, 1_000);
    assert_eq!(frames.len(), 3, "350 samples make three frames");
    let parsed: Vec<RtpPacket<&[u8]>> = frames
        .iter()
        .map(|f| RtpPacket::parse(&f[..]).unwrap())
        .collect();
    assert!(parsed[0].marker() && !parsed[1].marker());
    for (i, p) in parsed.iter().enumerate() {
        assert_eq!(p.payload_type(), 0);
        assert_eq!(p.payload().len(), 160);
        assert_eq!(p.ssrc(), parsed[0].ssrc());
        assert_eq!(p.sequence(), parsed[0].sequence().wrapping_add(i as u16));
        assert_eq!(
            p.timestamp(),
            parsed[0].timestamp().wrapping_add(160 * i as u32)
        );
    }
    let via_ulaw = |s: i16| Codec::Pcmu.decode(Codec::Pcmu.encode(s));
    assert_eq!(Codec::Pcmu.decode(parsed[1].payload()[89]), via_ulaw(1_000));
    assert_eq!(
        Codec::Pcmu.decode(parsed[1].payload()[90]),
        via_ulaw(-1_000)
    );
    assert_eq!(
        Codec::Pcmu.decode(parsed[2].payload()[30]),
        0,
        "padded with silence"
    );
    assert_eq!(events(&mut rx), [MediaEvent::PlayFinished(4)]);
    assert_eq!(c.stats.played.packets, 3);
}

#[test]
fn the_end_of_a_play_is_told_with_its_last_frame() {
    let (mut c, mut rx) = call(None);
    c.play(7, &names(&["beep"]), false); // 250 samples: two frames
    assert!(c.tick(0).caller.is_some());
    assert!(events(&mut rx).is_empty());
    assert!(c.tick(160).caller.is_some(), "the last frame is sent");
    let last = c.frame(Party::Caller).to_vec();
    assert!(
        !RtpPacket::parse(&last[..]).unwrap().marker(),
        "one talkspurt"
    );
    assert_eq!(
        events(&mut rx),
        [MediaEvent::PlayFinished(7)],
        "told with the last frame, not a tick later"
    );
    assert!(c.tick(320).caller.is_none());
    assert!(!c.needs_tick());
    assert!(events(&mut rx).is_empty(), "told once");
}

#[test]
fn cut_replaced_and_looped_plays_never_finish_and_empty_ones_finish_at_once() {
    let (mut c, mut rx) = call(None);
    c.play(1, &names(&["beep"]), false);
    c.tick(0);
    c.play(2, &names(&["beep"]), false);
    c.tick(160);
    c.stop_playing();
    assert!(!c.needs_tick());
    c.play(3, &names(&["tick"]), true);
    for n in 0..20 {
        assert!(c.tick(320 + n * 160).caller.is_some());
    }
    c.play(4, &[], false);
    c.play(5, &names(&["unknown"]), false);
    assert!(!c.needs_tick());
    assert_eq!(
        events(&mut rx),
        [MediaEvent::PlayFinished(4), MediaEvent::PlayFinished(5)]
    );
}

#[test]
fn the_agent_continues_the_callers_stream_and_waits_for_a_prompt() {
    let (mut c, _rx) = call(None);
    c.play(1, &names(&["tick"]), false);
    let prompt = play_out(&mut c, 0);
    let last = RtpPacket::parse(&prompt[0][..]).unwrap();
    let (ssrc, seq, ts) = (last.ssrc(), last.sequence(), last.timestamp());
    c.connect_agent(peer(AGENT, Codec::Pcma, Some(96)));
    let mut a = rtp(8, 40_000, 555, &[0xD5; 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut a, 8_000),
        Verdict::Send(src(CALLER))
    );
    let a = RtpPacket::parse(&a[..]).unwrap();
    assert_eq!(
        (a.ssrc(), a.sequence(), a.payload_type()),
        (ssrc, seq.wrapping_add(1), 0)
    );
    assert_eq!(a.timestamp(), ts.wrapping_add(8_000), "a second later");
    assert!(a.marker());
    // A prompt to the connected caller has the stream; the agent's audio waits.
    c.play(2, &names(&["tick"]), false);
    let mut b = rtp(8, 40_001, 715, &[0xD5; 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut b, 8_160),
        Verdict::Consumed
    );
}

pub(super) const SUPERVISOR: &str = "10.0.0.3:7000";

/// A 20 ms packet of constant `value` in `codec`.
pub(super) fn level(codec: Codec, seq: u16, value: i16) -> Vec<u8> {
    rtp(
        codec.payload_type(),
        seq,
        u32::from(seq) * 160,
        &[codec.encode(value); 160],
    )
}

/// The constant level a frame carries (all samples must agree).
pub(super) fn level_of(frame: &[u8]) -> (u8, i16) {
    let p = RtpPacket::parse(frame).unwrap();
    let codec = Codec::from_payload_type(p.payload_type()).unwrap();
    let first = codec.decode(p.payload()[0]);
    assert!(p.payload().iter().all(|&b| codec.decode(b) == first));
    assert_eq!(p.payload().len(), 160);
    (p.payload_type(), first)
}

/// What `value` becomes through `codec`.
pub(super) fn through(codec: Codec, value: i16) -> i16 {
    codec.decode(codec.encode(value))
}

#[test]
fn a_replaced_agent_starts_a_new_spurt_on_the_callers_stream() {
    let mut c = bridged();
    let mut a = level(Codec::Pcma, 7, 0);
    c.on_packet(Leg::Agent, src(AGENT), &mut a, 160);
    let first = RtpPacket::parse(&a[..]).unwrap();
    let (ssrc, seq) = (first.ssrc(), first.sequence());
    c.connect_agent(peer("10.0.0.9:5000", Codec::Pcmu, Some(101)));
    // Agent B's phone happens to reuse A's SSRC and numbering.
    let mut b = rtp(0, 8, 7 * 160 + 160, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src("10.0.0.9:5000"), &mut b, 320),
        Verdict::Send(src(CALLER))
    );
    let b = RtpPacket::parse(&b[..]).unwrap();
    assert_eq!((b.ssrc(), b.sequence()), (ssrc, seq.wrapping_add(1)));
    assert!(b.marker());
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut level(Codec::Pcma, 8, 0), 330),
        Verdict::Drop,
        "agent A is gone"
    );
}

#[test]
fn music_after_the_agent_is_recorded_after_their_last_words_not_over_them() {
    use hotline_record::{CallId, Recorder};
    let scratch = tempfile::tempdir().unwrap();
    let recorder = Recorder::start(scratch.path().to_path_buf()).unwrap();
    let recording = recorder
        .open(&CallId::generate(chrono::Utc::now(), 1), chrono::Utc::now())
        .unwrap();
    let wav = recording.path().to_path_buf();
    let (mut c, _rx) = call(Some(peer(AGENT, Codec::Pcma, Some(96))));
    c.recording = Some(recording);
    // The agent's first packet came 30 ms late and the rest on time: their stream is placed
    // 240 samples ahead of the clock, up to sample 1,040 when the last arrives at 800.
    for seq in 0..5u16 {
        let mut p = level(Codec::Pcma, seq, 2_000);
        let now = if seq == 0 {
            400
        } else {
            160 * (u64::from(seq) + 1)
        };
        assert_eq!(
            c.on_packet(Leg::Agent, src(AGENT), &mut p, now),
            Verdict::Send(src(CALLER))
        );
    }
    // The agent hands the call on at 800; the music starts.
    c.disconnect_agent();
    c.play(1, &names(&["beep"]), false);
    assert!(c.tick(800).caller.is_some());
    while c.needs_tick() {
        c.tick(960);
    }
    c.finish(2_000);
    recorder.sync().unwrap();
    let right: Vec<i16> = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .skip(1)
        .step_by(2)
        .collect();
    let agent = through(Codec::Pcma, 2_000);
    assert!(
        right[240..1_040].iter().all(|&s| s == agent),
        "the agent's words are whole"
    );
    assert!(
        right[1_040..1_290].iter().all(|&s| s == 1_000),
        "the music follows them"
    );
}
