//! Attended transfer (转办, consulted) end to end: an agent consults a colleague through the
//! switch while the caller waits, then presses transfer (REFER with Replaces); the consulted
//! phone is moved onto the caller's call by re-INVITE, and a lost ACK of that move is sent
//! again.

mod common;

use std::time::Duration;

use common::audio::tone_pcap;
use common::desk::DeskPhone;
use common::sipp::Sipp;
use common::switch::Switch;
use common::transfer::{assert_both_agents_recorded, legs, plan, seconds_with};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";

/// A caller answered by 1003, who consults 1019 through the switch (the caller waits) and
/// presses transfer: the REFER with Replaces is accepted. What 1019 had heard before it.
struct Referred {
    _work: tempfile::TempDir,
    switch: Switch,
    caller: Sipp,
    a: DeskPhone,
    b: DeskPhone,
    b_heard_before: usize,
}

fn attended_transfer_referred() -> Referred {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 16);
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    let mut b = DeskPhone::new("1019", 0, 1300.0);
    let switch = Switch::start(&plan(("1003", a.port()), ("1019", b.port())));
    a.connect(switch.port);
    b.connect(switch.port);
    std::thread::sleep(Duration::from_millis(300));
    let caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        12_000,
    );
    let mut first = a.take_call();
    std::thread::sleep(Duration::from_secs(2));
    let b = std::thread::spawn(move || {
        let consult = b.take_call();
        (b, consult)
    });
    let consult = a.call("1019");
    let (b, _) = b.join().expect("B took the consultation");
    std::thread::sleep(Duration::from_secs(2));
    let b_heard_before = b.rtp.heard().len();
    let replaces = format!(
        "{}%3Bto-tag%3D{}%3Bfrom-tag%3D{}",
        consult.call_id.replace('@', "%40"),
        consult.remote_tag,
        consult.local_tag
    );
    let status = a.refer(
        &mut first,
        &format!("sip:1019@127.0.0.1:{}?Replaces={replaces}", switch.port),
    );
    assert_eq!(status, 202, "the switch accepts the attended transfer");
    Referred {
        _work: work,
        switch,
        caller,
        a,
        b,
        b_heard_before,
    }
}

#[test]
fn an_attended_transfer_moves_the_consulted_agent_onto_the_call() {
    let Referred {
        _work,
        switch,
        mut caller,
        a,
        b,
        b_heard_before: heard_before,
    } = attended_transfer_referred();
    let b = std::thread::spawn(move || {
        let seen = b.serve_for(4);
        (b, seen)
    });
    let seen_a = a.serve_for(3);
    let (b, seen_b) = b.join().expect("B served");
    assert!(
        seen_a.contains(&"NOTIFY".to_string()),
        "transferor told: {seen_a:?}"
    );
    assert_eq!(
        seen_a.iter().filter(|m| *m == "BYE").count(),
        2,
        "both of the transferor's lines hung up: {seen_a:?}"
    );
    assert!(
        seen_b.contains(&"INVITE".to_string()),
        "B moved by re-INVITE: {seen_b:?}"
    );
    // After the move B hears the caller.
    let after = b.rtp.heard();
    let moved = after.get(heard_before..).unwrap_or_default();
    assert!(
        seconds_with(moved, 440.0).iter().filter(|x| **x).count() >= 2,
        "B hears the caller after the transfer"
    );
    caller.expect_success(Duration::from_secs(30));
    let bye = b.serve_for(2);
    assert!(
        bye.contains(&"BYE".to_string()),
        "B is hung up with the caller: {bye:?}"
    );
    // B took the caller's call over from the consultation: its end frees B (no wrap-up here).
    for agent in ["1003", "1019"] {
        let line = switch.agent_when(agent, |l| l["state"] == "available");
        assert_eq!(
            line["state"], "available",
            "{agent} free after the call: {line}"
        );
    }
    let call = assert_both_agents_recorded(&switch, 1000.0, 1300.0);
    let id = call["call_id"].as_str().unwrap();
    assert_eq!(
        legs(&switch.db(), id),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("1019".to_string(), "transfer".to_string(), true)
        ]
    );
}

#[test]
fn a_consulted_phone_whose_ack_to_the_move_was_lost_is_acked_again() {
    // Every part bound: the switch and the caller live to the test's end.
    let Referred {
        _work,
        switch: _switch,
        mut caller,
        a,
        b,
        b_heard_before: _,
    } = attended_transfer_referred();
    let b = std::thread::spawn(move || b.serve_for_retransmitting_200(3));
    a.serve_for(2);
    let seen_b = b.join().expect("B served");
    assert!(seen_b.contains(&"INVITE".to_string()), "{seen_b:?}");
    assert_eq!(
        seen_b.iter().filter(|m| *m == "ACK").count(),
        2,
        "the retransmitted 200 of the move is ACKed again: {seen_b:?}"
    );
    caller.expect_success(Duration::from_secs(30));
}
