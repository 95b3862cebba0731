use super::super::tests::*;
use super::super::{Party, Sends};
use super::*;
use crate::g711::Codec;
use crate::relay::Leg;

/// A bridged call (PCMU caller, PCMA agent) with a PCMU supervisor in `mode`, and one
/// packet from each: caller 1,000, agent 2,000, supervisor 500. Returns the verdicts for the
/// caller's and the agent's packets.
fn supervised(mode: Monitor) -> (CallCore, Verdict, Verdict) {
    let mut c = bridged();
    c.supervise(peer(SUPERVISOR, Codec::Pcmu, None), mode);
    let from_caller = c.on_packet(
        Leg::Caller,
        src(CALLER),
        &mut level(Codec::Pcmu, 1, 1_000),
        160,
    );
    let from_agent = c.on_packet(
        Leg::Agent,
        src(AGENT),
        &mut level(Codec::Pcma, 1, 2_000),
        160,
    );
    let voice = level(Codec::Pcmu, 1, 500);
    assert_eq!(
        c.on_supervisor_packet(src(SUPERVISOR), &voice, 160),
        Verdict::Consumed
    );
    (c, from_caller, from_agent)
}

#[test]
fn a_listening_supervisor_hears_both_and_the_relay_is_untouched() {
    let (mut c, from_caller, from_agent) = supervised(Monitor::Listen);
    assert_eq!(from_caller, Verdict::Send(src(AGENT)));
    assert_eq!(from_agent, Verdict::Send(src(CALLER)));
    let sends = c.tick(320);
    assert_eq!(
        sends,
        Sends {
            caller: None,
            agent: None,
            supervisor: Some(src(SUPERVISOR)),
        }
    );
    let heard = through(Codec::Pcmu, 1_000) + through(Codec::Pcma, 2_000);
    assert_eq!(
        level_of(c.frame(Party::Supervisor)),
        (0, through(Codec::Pcmu, heard))
    );
    // Nothing waits: the next tick is silence, still sent (one continuous stream).
    assert_eq!(c.tick(480).supervisor, Some(src(SUPERVISOR)));
    assert_eq!(level_of(c.frame(Party::Supervisor)).1, 0);
    assert_eq!(c.stats.supervisor.packets, 2);
}

#[test]
fn a_whisper_reaches_the_agent_only_and_keys_still_do() {
    let (mut c, from_caller, from_agent) = supervised(Monitor::Whisper);
    assert_eq!(from_caller, Verdict::Consumed, "mixed, not relayed");
    assert_eq!(from_agent, Verdict::Send(src(CALLER)));
    let sends = c.tick(320);
    assert_eq!((sends.caller, sends.agent), (None, Some(src(AGENT))));
    let to_agent = through(Codec::Pcmu, 1_000) + through(Codec::Pcmu, 500);
    assert_eq!(
        level_of(c.frame(Party::Agent)),
        (8, through(Codec::Pcma, to_agent))
    );
    let mixed = RtpPacket::parse(c.frame(Party::Agent)).unwrap();
    let (ssrc, seq, ts) = (mixed.ssrc(), mixed.sequence(), mixed.timestamp());
    assert!(mixed.marker());
    // A key goes on in the stream the agent now hears, one timestamp for the event.
    let mut ev = event(2, 800, 5, false);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut ev, 330),
        Verdict::Send(src(AGENT))
    );
    let mut end = event(3, 800, 5, true);
    c.on_packet(Leg::Caller, src(CALLER), &mut end, 340);
    let (ev, end) = (
        RtpPacket::parse(&ev[..]).unwrap(),
        RtpPacket::parse(&end[..]).unwrap(),
    );
    assert_eq!((ev.payload_type(), ev.ssrc()), (96, ssrc));
    assert_eq!(
        (ev.sequence(), end.sequence()),
        (seq.wrapping_add(1), seq.wrapping_add(2))
    );
    assert_eq!(ev.timestamp(), end.timestamp());
    assert_eq!(ev.timestamp(), ts.wrapping_add(160));
    c.tick(480);
    let next = RtpPacket::parse(c.frame(Party::Agent)).unwrap();
    assert_eq!(next.sequence(), seq.wrapping_add(3));
    // Back to listening: the caller's packets are relayed as they are again.
    c.set_monitor(Monitor::Listen);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut level(Codec::Pcmu, 4, 0), 640),
        Verdict::Send(src(AGENT))
    );
    assert_eq!(c.tick(640).agent, None);
}

#[test]
fn a_barge_reaches_both_and_is_recorded_as_heard() {
    let (mut c, from_caller, from_agent) = supervised(Monitor::Barge);
    assert_eq!(
        (from_caller, from_agent),
        (Verdict::Consumed, Verdict::Consumed)
    );
    let sends = c.tick(320);
    assert_eq!(
        sends,
        Sends {
            caller: Some(src(CALLER)),
            agent: Some(src(AGENT)),
            supervisor: Some(src(SUPERVISOR)),
        }
    );
    let to_caller = through(Codec::Pcma, 2_000) + through(Codec::Pcmu, 500);
    assert_eq!(
        level_of(c.frame(Party::Caller)),
        (0, through(Codec::Pcmu, to_caller))
    );
    assert_eq!(c.stats.agent_to_caller.packets, 1);
    // The agent's keys go on in the caller's stream.
    let caller_stream = RtpPacket::parse(c.frame(Party::Caller)).unwrap();
    let ssrc = caller_stream.ssrc();
    let mut ev = rtp(96, 9, 0, &[5, 0x80, 0, 160]);
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut ev, 330),
        Verdict::Send(src(CALLER))
    );
    assert_eq!(RtpPacket::parse(&ev[..]).unwrap().ssrc(), ssrc);
    // The supervisor leaves: the relay is back both ways, the agent's packet takes over.
    c.end_supervision();
    assert!(!c.needs_tick());
    let mut a = level(Codec::Pcma, 2, 2_000);
    assert_eq!(
        c.on_packet(Leg::Agent, src(AGENT), &mut a, 480),
        Verdict::Send(src(CALLER))
    );
    let a = RtpPacket::parse(&a[..]).unwrap();
    assert_eq!(a.ssrc(), ssrc);
    assert!(a.marker(), "a new talk spurt on the same stream");
}

#[test]
fn without_an_agent_the_supervisor_hears_the_caller_and_the_play() {
    let (mut c, _rx) = call(None);
    c.supervise(peer(SUPERVISOR, Codec::Pcma, None), Monitor::Barge);
    c.play(1, &names(&["beep"]), false);
    c.on_packet(
        Leg::Caller,
        src(CALLER),
        &mut level(Codec::Pcmu, 1, -3_000),
        160,
    );
    c.on_supervisor_packet(src(SUPERVISOR), &level(Codec::Pcma, 1, 700), 160);
    let sends = c.tick(320);
    assert_eq!(
        (sends.agent, sends.supervisor),
        (None, Some(src(SUPERVISOR)))
    );
    assert_eq!(
        level_of(c.frame(Party::Caller)),
        (0, through(Codec::Pcmu, 1_000)),
        "the caller hears the beep alone"
    );
    let heard = through(Codec::Pcmu, -3_000) + 1_000;
    assert_eq!(
        level_of(c.frame(Party::Supervisor)),
        (8, through(Codec::Pcma, heard))
    );
    // A stranger, RTCP and the supervisor's keys are not mixed.
    assert_eq!(
        c.on_supervisor_packet(src("6.6.6.6:1"), &level(Codec::Pcma, 2, 700), 200),
        Verdict::Drop
    );
    assert_eq!(
        c.on_supervisor_packet(src(SUPERVISOR), &rtp(101, 3, 0, &[1, 0x80, 0, 160]), 200),
        Verdict::Drop
    );
}

#[test]
fn a_supervisor_re_invite_moves_their_feed() {
    let (mut c, _rx) = call(None);
    c.supervise(
        nat_peer(SUPERVISOR, Codec::Pcma, None, "10.0.0.3"),
        Monitor::Listen,
    );
    assert_eq!(
        c.on_supervisor_packet(src("10.0.0.3:7002"), &level(Codec::Pcma, 1, 0), 160),
        Verdict::Consumed
    );
    assert_eq!(
        c.tick(160).supervisor,
        Some(src("10.0.0.3:7002")),
        "latched"
    );
    c.update_supervisor(peer("10.0.0.4:7000", Codec::Pcmu, None), 300);
    assert_eq!(c.tick(320).supervisor, Some(src("10.0.0.4:7000")));
    assert_eq!(
        c.on_supervisor_packet(src("10.0.0.4:7000"), &level(Codec::Pcmu, 2, 0), 330),
        Verdict::Consumed
    );
    assert_eq!(level_of(c.frame(Party::Supervisor)).0, 0);
}
