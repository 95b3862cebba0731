//! The caller's keys (core_keys.rs): one digit per press by RFC 4733 or in-band tone, none
//! while an agent is connected, a flood held to a person's pace.

use super::super::tests::*;
use super::super::Verdict;
use crate::call::MediaEvent;
use crate::g711::Codec;
use crate::relay::Leg;

#[test]
fn a_keypress_by_rfc_4733_is_one_digit_and_not_relayed() {
    let (mut c, mut rx) = call(None);
    let mut packets = vec![event(1, 800, 7, false), event(2, 800, 7, false)];
    packets.extend((3..6).map(|s| event(s, 800, 7, true)));
    for mut p in packets {
        assert_eq!(
            c.on_packet(Leg::Caller, src(CALLER), &mut p, 900),
            Verdict::Consumed
        );
    }
    assert_eq!(events(&mut rx), [MediaEvent::Digit('7')]);
    let mut audio = rtp(0, 6, 960, &[0xFF; 160]);
    assert_eq!(
        c.on_packet(Leg::Caller, src(CALLER), &mut audio, 1_000),
        Verdict::Consumed
    );
    assert_eq!(c.stats.dropped, 0, "used, not dropped");
}

/// 20 ms A/μ-law packets of DTMF `key` (941 + 1336 Hz for '0', etc.).
fn tone_packets(codec: Codec, rows_cols: (f64, f64), first_seq: u16, count: u16) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let n0 = u32::from(first_seq + i) * 160;
            let payload: Vec<u8> = (0..160u32)
                .map(|k| {
                    let t = f64::from(n0 + k) / 8_000.0;
                    let w = 2.0 * std::f64::consts::PI * t;
                    let s = 6_000.0 * ((w * rows_cols.0).sin() + (w * rows_cols.1).sin());
                    codec.encode(s as i16)
                })
                .collect();
            rtp(codec.payload_type(), first_seq + i, n0, &payload)
        })
        .collect()
}

#[test]
fn an_in_band_tone_is_one_digit_unless_the_phone_sends_events() {
    let (mut c, mut rx) = call(None);
    for (i, mut p) in tone_packets(Codec::Pcmu, (941.0, 1336.0), 0, 5)
        .into_iter()
        .enumerate()
    {
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 160 * (i as u64 + 1));
    }
    assert_eq!(events(&mut rx), [MediaEvent::Digit('0')]);
    // The phone now shows it sends events: a tone remnant in its audio is not a second key.
    c.on_packet(
        Leg::Caller,
        src(CALLER),
        &mut event(9, 4_000, 1, true),
        4_000,
    );
    for (i, mut p) in tone_packets(Codec::Pcmu, (697.0, 1209.0), 30, 5)
        .into_iter()
        .enumerate()
    {
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 4_800 + 160 * i as u64);
    }
    assert_eq!(events(&mut rx), [MediaEvent::Digit('1')]);
}

#[test]
fn one_press_heard_in_band_and_then_by_event_is_one_digit() {
    let (mut c, mut rx) = call(None);
    for (i, mut p) in tone_packets(Codec::Pcmu, (852.0, 1477.0), 0, 5)
        .into_iter()
        .enumerate()
    {
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 160 * (i as u64 + 1));
    }
    c.on_packet(Leg::Caller, src(CALLER), &mut event(9, 0, 9, true), 900);
    assert_eq!(events(&mut rx), [MediaEvent::Digit('9')]);
    c.on_packet(
        Leg::Caller,
        src(CALLER),
        &mut event(10, 4_000, 9, true),
        4_000,
    );
    assert_eq!(
        events(&mut rx),
        [MediaEvent::Digit('9')],
        "a later press counts"
    );
}

#[test]
fn no_keys_are_detected_while_an_agent_is_connected() {
    let (mut c, mut rx) = call(None);
    c.connect_agent(peer(AGENT, Codec::Pcma, Some(96)));
    c.on_packet(Leg::Caller, src(CALLER), &mut event(1, 0, 3, true), 0);
    for mut p in tone_packets(Codec::Pcmu, (697.0, 1209.0), 1, 5) {
        c.on_packet(Leg::Caller, src(CALLER), &mut p, 800);
    }
    assert!(events(&mut rx).is_empty());
    c.disconnect_agent();
    c.on_packet(
        Leg::Caller,
        src(CALLER),
        &mut event(2, 1_600, 3, true),
        1_600,
    );
    assert_eq!(events(&mut rx), [MediaEvent::Digit('3')]);
}

#[test]
fn a_flood_of_keys_reaches_the_switch_at_a_persons_pace() {
    let (mut c, mut rx) = call(None);
    // Forty different presses within half a second (each its own RFC 4733 event): a burst
    // of twenty passes (a number typed fast), the rest is a flood.
    for i in 0..40u16 {
        let ts = 800 + u32::from(i) * 160;
        let now = 900 + u64::from(i) * 100;
        let mut p = event(i, ts, (i % 10) as u8, true);
        c.on_packet(Leg::Caller, src(CALLER), &mut p, now);
    }
    // 3,900 samples from the first key to the last: four more earned.
    assert_eq!(
        events(&mut rx).len(),
        24,
        "twenty, and four earned meanwhile"
    );
    assert_eq!(c.stats.keys_dropped, 16);
    // A second later, keys pass again.
    let mut p = event(50, 20_000, 5, true);
    c.on_packet(Leg::Caller, src(CALLER), &mut p, 20_000);
    assert_eq!(events(&mut rx), [MediaEvent::Digit('5')]);
}
