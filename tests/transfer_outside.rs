//! Transfers that leave the platform end to end: to a legacy city's old system (割接) and
//! to an outside number through the carrier's trunk (a call out of the agent's); and a phone
//! ringing for a transfer is offered no queued call meanwhile.

mod common;

use std::time::Duration;

use common::audio::tone_pcap;
use common::desk::DeskPhone;
use common::sipp::Sipp;
use common::switch::{dialplan, wrap_up, Switch};
use common::transfer::{assert_both_agents_recorded, legs, plan};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";

/// Agent 1003 (a desk phone, 1000 Hz) talking with a Luoyang taxpayer (SIPp, 440 Hz, who
/// hangs up `talk_ms` after the answer), and a trunk answered by SIPp (1300 Hz).
struct TrunkCall {
    _work: tempfile::TempDir,
    switch: Switch,
    a: DeskPhone,
    dialog: common::desk::Dialog,
    caller: Sipp,
    far: Sipp,
    trunk_port: u16,
}

/// [`TrunkCall`] on the dialplan `plan` gives for 1003's port and the trunk's port, two
/// seconds into the call. Bind `_work` where it is taken apart: the peers' traces live there.
fn on_a_call_with_a_trunk(talk_ms: u64, plan: impl Fn(u16, u16) -> String) -> TrunkCall {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    let far_pcap = work.path().join("far-1300.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 14);
    tone_pcap(&far_pcap, 1300.0, Codec::Pcma, 14);
    let trunk_port = common::quiet_port_block();
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    let switch = Switch::start(&plan(a.port(), trunk_port));
    a.connect(switch.port);
    let far = Sipp::agent(
        "far",
        work.path(),
        "trunk_answer.xml",
        trunk_port,
        &far_pcap,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        talk_ms,
    );
    let dialog = a.take_call();
    std::thread::sleep(Duration::from_secs(2));
    TrunkCall {
        _work: work,
        switch,
        a,
        dialog,
        caller,
        far,
        trunk_port,
    }
}

/// The requests `phone` receives over `secs` seconds, unanswered.
fn requests_for(phone: &DeskPhone, secs: u64) -> Vec<hotline_sip::Request> {
    let until = std::time::Instant::now() + Duration::from_secs(secs);
    let sock = &phone.sip.sock;
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 65535];
    while std::time::Instant::now() < until {
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            if let Ok(hotline_sip::Message::Request(r)) = hotline_sip::parse_message(&buf[..n]) {
                seen.push(r);
            }
        }
    }
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    seen
}

#[test]
fn a_phone_ringing_for_a_transfer_is_not_offered_a_queued_call_until_it_stops() {
    use hotline_sip::message::SipMessage;
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 20);
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    let mut b = DeskPhone::new("1019", 0, 1300.0);
    // A wraps up 30 s after handing the call on: B is the only agent who could take another.
    let plan = wrap_up(&plan(("1003", a.port()), ("1019", b.port())), "luoyang", 30);
    let switch = Switch::start(&plan);
    a.connect(switch.port);
    b.connect(switch.port);
    std::thread::sleep(Duration::from_millis(300));
    let _first = Sipp::caller(
        "first",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        16_000,
    );
    let mut dialog = a.take_call();
    assert_eq!(
        a.refer(&mut dialog, &format!("sip:1019@127.0.0.1:{}", switch.port)),
        202
    );
    a.serve_for(1);
    // B's phone rings for the transfer; B lets it ring.
    let transfer = b.sip.expect_request("INVITE");
    b.sip.reply(&transfer, 180);
    let _second = Sipp::caller(
        "second",
        work.path(),
        switch.port,
        "13903790001",
        &caller_pcap,
        16_000,
    );
    let meanwhile = requests_for(&b, 4);
    let others: Vec<_> = meanwhile
        .iter()
        .filter(|r| r.call_id() != transfer.call_id())
        .map(|r| r.method.as_str().to_string())
        .collect();
    assert!(
        others.is_empty(),
        "nothing else rings B while the transfer does: {others:?}"
    );
    let line = switch.agent_when("1019", |l| l["state"] == "ringing");
    assert_eq!(
        line["state"], "ringing",
        "B is listed as ringing, not free: {line}"
    );
    // B turns the transfer down: now a waiting taxpayer is offered to B.
    b.sip.reply(&transfer, 486);
    let next = requests_for(&b, 3)
        .into_iter()
        .find(|r| r.method.as_str() == "INVITE" && r.call_id() != transfer.call_id());
    assert!(
        next.is_some(),
        "a queued call rings B once the transfer stopped"
    );
}

#[test]
fn a_blind_transfer_outside_reaches_the_number_and_counts_as_the_agents_call_out() {
    // One call out an hour: the transfer outside uses it up.
    let TrunkCall {
        switch,
        a,
        mut dialog,
        mut caller,
        far: mut carrier,
        trunk_port,
        _work,
    } = on_a_call_with_a_trunk(8_000, |agent, trunk| {
        dialplan(&[("1003", "luoyang", agent)], 15, 60).replacen(
            "[switch]\n",
            "[switch]\noutbound_per_hour = 1\n",
            1,
        ) + &format!(
            "\n[[trunk]]\nname = \"carrier\"\naddress = \"127.0.0.1:{trunk}\"\n\
allow = [\"1[3-9]XXXXXXXXX\"]\n"
        )
    });
    let status = a.refer(
        &mut dialog,
        &format!("sip:913903790123@127.0.0.1:{}", switch.port),
    );
    assert_eq!(status, 202, "an allowed number");
    a.serve_for(1);
    caller.expect_success(Duration::from_secs(30));
    carrier.expect_success(Duration::from_secs(10));
    let invite = carrier
        .messages()
        .split("INVITE sip:")
        .nth(1)
        .map(|s| s.split(' ').next().unwrap_or_default().to_string());
    assert_eq!(
        invite.as_deref(),
        Some(format!("13903790123@127.0.0.1:{trunk_port}").as_str()),
        "the number, through the trunk"
    );
    let call = &switch.ended_calls()[0];
    assert_eq!(call["dialled"], "13903790123", "{call}");
    assert_eq!(
        legs(&switch.db(), call["call_id"].as_str().unwrap()),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("carrier".to_string(), "trunk".to_string(), true)
        ]
    );
    // The hour's one call out is spent: a call out from the desk phone is refused.
    let refused = a.try_call("913903790124").map(|_| ()).unwrap_err();
    assert_eq!(refused.status, 403, "over the hourly limit: {refused:?}");
}

#[test]
fn a_transfer_to_a_legacy_city_reaches_its_old_system_with_the_callers_number() {
    // Zhengzhou is still on its old system (割接).
    let TrunkCall {
        switch,
        a,
        mut dialog,
        mut caller,
        far: mut old,
        _work,
        ..
    } = on_a_call_with_a_trunk(10_000, |agent, trunk| {
        dialplan(&[("1003", "luoyang", agent)], 15, 60).replacen(
            "area_codes = [\"0371\"]",
            "area_codes = [\"0371\"]\nmode = \"legacy\"\nlegacy_trunk = \"zhengzhou-old\"",
            1,
        ) + &format!("\n[[trunk]]\nname = \"zhengzhou-old\"\naddress = \"127.0.0.1:{trunk}\"\n")
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        a.refer(
            &mut dialog,
            &format!("sip:zhengzhou@127.0.0.1:{}", switch.port)
        ),
        202
    );
    a.serve_for(1);
    caller.expect_success(Duration::from_secs(30));
    old.expect_success(Duration::from_secs(10));
    let seen = old.messages();
    assert!(
        seen.contains("INVITE sip:12366@"),
        "the old system is asked for 12366"
    );
    assert!(
        seen.contains(&format!("<sip:{LUOYANG_MOBILE}@")),
        "and sees the taxpayer's number"
    );
    let call = assert_both_agents_recorded(&switch, 1000.0, 1300.0);
    assert_eq!(
        legs(&switch.db(), call["call_id"].as_str().unwrap()),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("zhengzhou-old".to_string(), "legacy".to_string(), true)
        ]
    );
}
