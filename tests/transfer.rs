//! Transfer (转办) end to end: an agent's desk phone presses transfer (REFER), blind and
//! attended; the caller (SIPp) ends up with the new agent, the recording is one file with
//! both agents in it, and the `legs` table names both.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::audio::{pure_tone, read_wav, tone_pcap};
use common::desk::DeskPhone;
use common::sipp::Sipp;
use common::switch::{dialplan, wrap_up, Switch};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";

/// Luoyang's agents in a fixed order (linear): `first` is always rung first.
fn plan(first: (&str, u16), second: (&str, u16)) -> String {
    dialplan(
        &[
            (first.0, "luoyang", first.1),
            (second.0, "luoyang", second.1),
        ],
        15,
        60,
    )
    .replacen(
        "area_codes = [\"0379\"]",
        "area_codes = [\"0379\"]\nstrategy = \"linear\"",
        1,
    )
}

/// Whether each whole second of `samples` is a `freq` Hz tone (speech never is).
fn seconds_with(samples: &[i16], freq: f64) -> Vec<bool> {
    samples
        .chunks(8000)
        .map(|s| s.len() == 8000 && pure_tone(s, freq))
        .collect()
}

/// The seconds of what the caller heard (a recording's right channel) that carry the first
/// agent's tone and the second's; the first and last of the first agent's and the first of
/// the second's (panicking with both maps when one is missing).
struct AgentsHeard {
    first_a: usize,
    last_a: usize,
    first_b: usize,
    /// Both maps, for failure messages.
    maps: String,
}

fn agents_heard(right: &[i16], a: f64, b: f64) -> AgentsHeard {
    let (with_a, with_b) = (seconds_with(right, a), seconds_with(right, b));
    let maps = format!("{with_a:?} {with_b:?}");
    let missing = |who: &str| -> usize { panic!("{who} not in the recording: {maps}") };
    let first_a = with_a
        .iter()
        .position(|x| *x)
        .unwrap_or_else(|| missing("the first agent"));
    let first_b = with_b
        .iter()
        .position(|x| *x)
        .unwrap_or_else(|| missing("the second agent"));
    AgentsHeard {
        first_a,
        last_a: with_a.iter().rposition(|x| *x).unwrap_or(first_a),
        first_b,
        maps,
    }
}

/// The call's legs, in order: (party, kind, ended).
fn legs(db: &std::path::Path, call_id: &str) -> Vec<(String, String, bool)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("db");
    let mut stmt = conn
        .prepare(
            "SELECT party, kind, ended_at IS NOT NULL FROM legs WHERE call_id = ?1 ORDER BY seq",
        )
        .expect("legs");
    stmt.query_map([call_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// The one ended call's record, its recording, and the second in which `a` stops and `b`
/// starts being heard by the caller.
fn assert_both_agents_recorded(switch: &Switch, a: f64, b: f64) -> serde_json::Value {
    let calls = switch.ended_calls();
    let call = calls[0].clone();
    let wav = read_wav(&PathBuf::from(
        call["recording_path"].as_str().expect("recording"),
    ));
    let h = agents_heard(&wav.right, a, b);
    assert!(
        h.first_a < h.first_b,
        "first agent, then second: {}",
        h.maps
    );
    assert!(
        h.last_a <= h.first_b,
        "the first agent is gone once the second speaks: {}",
        h.maps
    );
    assert!(
        seconds_with(&wav.left, 440.0)
            .iter()
            .filter(|x| **x)
            .count()
            >= 5,
        "the caller's side runs through the whole call"
    );
    call
}

#[test]
fn a_blind_transfer_reaches_the_new_agent_and_the_recording_holds_both() {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    let b_pcap = work.path().join("b-1300.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 14);
    tone_pcap(&b_pcap, 1300.0, Codec::Pcma, 14);
    let b_port = common::free_port();
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    let switch = Switch::start(&plan(("1003", a.port()), ("1019", b_port)));
    a.connect(switch.port);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", b_port, &b_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        10_000,
    );
    let mut dialog = a.take_call();
    std::thread::sleep(Duration::from_secs(3));
    let status = a.refer(&mut dialog, &format!("sip:1019@127.0.0.1:{}", switch.port));
    assert_eq!(status, 202, "the switch accepts the transfer");
    let seen = a.serve_for(2);
    assert!(
        seen.contains(&"NOTIFY".to_string()),
        "transferor told: {seen:?}"
    );
    assert!(
        seen.contains(&"BYE".to_string()),
        "transferor hung up: {seen:?}"
    );
    caller.expect_success(Duration::from_secs(30));
    b.expect_success(Duration::from_secs(10));
    let call = assert_both_agents_recorded(&switch, 1000.0, 1300.0);
    assert_eq!(call["agent"], "1003", "the record keeps who answered");
    let id = call["call_id"].as_str().unwrap();
    assert_eq!(
        legs(&switch.db(), id),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("1019".to_string(), "transfer".to_string(), true)
        ]
    );
}

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
fn a_blind_transfer_to_another_city_queue_announces_the_next_agent() {
    let work = tempfile::tempdir().unwrap();
    let b_pcap = work.path().join("b-1300.pcap");
    tone_pcap(&b_pcap, 1300.0, Codec::Pcma, 14);
    let b_port = common::free_port();
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    let plan = format!(
        "{}\n{}",
        dialplan(
            &[("1003", "luoyang", a.port()), ("1001", "zhengzhou", b_port)],
            15,
            60
        ),
        common::switch::test_menu()
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    a.connect(switch.port);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", b_port, &b_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    // Presses 1 (filing) after 6 s, then stays on the line 24 s.
    let silence = work.path().join("silence.pcap");
    tone_pcap(&silence, 0.0, Codec::Pcmu, 1);
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller_menu_key.xml",
        switch.port,
        LUOYANG_MOBILE,
        &silence,
        24_000,
        &[],
    );
    let mut dialog = a.take_call();
    // Transfer once the caller has heard 1003's number and talked a little.
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(
        a.refer(
            &mut dialog,
            &format!("sip:zhengzhou@127.0.0.1:{}", switch.port)
        ),
        202
    );
    let seen = a.serve_for(1);
    assert!(seen.contains(&"BYE".to_string()), "{seen:?}");
    caller.expect_success(Duration::from_secs(50));
    b.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["agent"], "1003");
    assert_eq!(call["skill"], "filing", "the skill goes with the call");
    let wav = read_wav(&PathBuf::from(call["recording_path"].as_str().unwrap()));
    let AgentsHeard {
        first_a,
        first_b,
        maps,
        ..
    } = agents_heard(&wav.right, 1000.0, 1300.0);
    assert!(first_a < first_b, "{maps}");
    let announce = common::switch::prompt_pcm("agent-before");
    let second = common::switch::find_prompt(&wav.right[first_a * 8000..], &announce)
        .expect("the next agent's number is announced after the transfer");
    assert!(first_a * 8000 + second < first_b * 8000);
    assert_eq!(
        legs(&switch.db(), call["call_id"].as_str().unwrap()),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("1001".to_string(), "transfer".to_string(), true)
        ]
    );
}

#[test]
fn a_transfer_nobody_answers_goes_back_to_the_queue_and_toll_fraud_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    let c_pcap = work.path().join("c-1300.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 20);
    tone_pcap(&c_pcap, 1300.0, Codec::Pcma, 14);
    let (b_port, c_port) = (common::free_port(), common::free_port());
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    // Linear order A, C, B; 3 s rings; A wraps up after the transfer, so the queue takes C.
    let plan = dialplan(
        &[
            ("1003", "luoyang", a.port()),
            ("1020", "luoyang", c_port),
            ("1019", "luoyang", b_port),
        ],
        3,
        60,
    )
    .replacen(
        "area_codes = [\"0379\"]",
        "area_codes = [\"0379\"]\nstrategy = \"linear\"",
        1,
    );
    let plan = wrap_up(&plan, "luoyang", 30);
    let switch = Switch::start(&plan);
    a.connect(switch.port);
    let mut b = Sipp::agent("b", work.path(), "agent_noanswer.xml", b_port, &c_pcap, 1);
    let mut c = Sipp::agent("c", work.path(), "agent.xml", c_port, &c_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        14_000,
    );
    let mut dialog = a.take_call();
    std::thread::sleep(Duration::from_secs(2));
    // No trunk allows anything here: a transfer outside has nowhere to go.
    assert_eq!(
        a.refer(
            &mut dialog,
            &format!("sip:913903790001@127.0.0.1:{}", switch.port)
        ),
        404,
        "no transfer outside without a trunk allowing it"
    );
    assert_eq!(
        a.refer(&mut dialog, &format!("sip:1019@127.0.0.1:{}", switch.port)),
        202
    );
    a.serve_for(1);
    // 1019 rings 3 s unanswered, is CANCELled, and the call goes to the queue: 1020.
    b.expect_success(Duration::from_secs(15));
    caller.expect_success(Duration::from_secs(30));
    c.expect_success(Duration::from_secs(10));
    let call = assert_both_agents_recorded(&switch, 1000.0, 1300.0);
    assert_eq!(
        legs(&switch.db(), call["call_id"].as_str().unwrap()),
        [
            ("1003".to_string(), "agent".to_string(), true),
            ("1020".to_string(), "transfer".to_string(), true)
        ]
    );
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

#[test]
fn without_a_menu_a_transferred_caller_waits_with_music_on_hold() {
    let work = tempfile::tempdir().unwrap();
    let caller_pcap = work.path().join("caller-440.pcap");
    let b_pcap = work.path().join("b-1300.pcap");
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 16);
    tone_pcap(&b_pcap, 1300.0, Codec::Pcma, 10);
    let b_port = common::free_port();
    let mut a = DeskPhone::new("1003", 0, 1000.0);
    // The switch finds prompts/ (moh.wav) next to its dialplan.
    let switch = common::switch::Switch::start_with_prompts(
        &plan(("1003", a.port()), ("1019", b_port)),
        &[],
    );
    a.connect(switch.port);
    // 1019 rings 3 s before answering: the caller waits that long after the transfer.
    let ring = ["-d".to_string(), "3000".to_string()];
    let mut b = Sipp::agent_with(
        "b",
        work.path(),
        "acd_agent_slow.xml",
        b_port,
        &b_pcap,
        1,
        &ring,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        12_000,
    );
    let mut dialog = a.take_call();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        a.refer(&mut dialog, &format!("sip:1019@127.0.0.1:{}", switch.port)),
        202
    );
    a.serve_for(1);
    caller.expect_success(Duration::from_secs(30));
    b.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let wav = read_wav(&PathBuf::from(calls[0]["recording_path"].as_str().unwrap()));
    let AgentsHeard {
        last_a,
        first_b,
        maps,
        ..
    } = agents_heard(&wav.right, 1000.0, 1300.0);
    assert!(first_b >= last_a + 3, "a wait between the two: {maps}");
    let moh = common::switch::prompt_pcm("moh");
    let waiting = &wav.right[(last_a + 1) * 8000..first_b * 8000];
    assert!(
        common::switch::find_prompt(waiting, &moh[..4000]).is_some(),
        "the caller heard music on hold between the two agents"
    );
}

#[test]
fn a_menu_queue_of_a_legacy_city_rings_its_old_system_without_an_agent_number() {
    let work = tempfile::tempdir().unwrap();
    let old_pcap = work.path().join("old-1300.pcap");
    tone_pcap(&old_pcap, 1300.0, Codec::Pcma, 14);
    let old_port = common::free_port();
    // Filing questions are still answered by Zhengzhou's old system.
    let plan = format!(
        "{}\n[[trunk]]\nname = \"zhengzhou-old\"\naddress = \"127.0.0.1:{old_port}\"\n{}",
        dialplan(&[("1003", "luoyang", common::free_port())], 15, 60).replacen(
            "area_codes = [\"0371\"]",
            "area_codes = [\"0371\"]\nmode = \"legacy\"\nlegacy_trunk = \"zhengzhou-old\"",
            1,
        ),
        common::switch::test_menu().replacen(
            "queue = \"filing\"",
            "queue = \"filing\"\nregion = \"zhengzhou\"",
            1,
        )
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    let mut old = Sipp::agent(
        "old",
        work.path(),
        "trunk_answer.xml",
        old_port,
        &old_pcap,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let silence = work.path().join("silence.pcap");
    tone_pcap(&silence, 0.0, Codec::Pcmu, 1);
    // Presses 1 after 6 s, then stays 8 s.
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller_menu_key.xml",
        switch.port,
        LUOYANG_MOBILE,
        &silence,
        8_000,
        &[],
    );
    caller.expect_success(Duration::from_secs(40));
    old.expect_success(Duration::from_secs(10));
    let seen = old.messages();
    assert!(
        seen.contains("INVITE sip:12366@"),
        "the old system is asked for 12366"
    );
    assert!(
        seen.contains(&format!("<sip:{LUOYANG_MOBILE}@")),
        "with the taxpayer's number"
    );
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["skill"], "filing");
    assert_eq!(call["outcome"], "forwarded", "{call}");
    assert!(call["agent"].is_null(), "no agent of the platform: {call}");
    let wav = read_wav(&PathBuf::from(call["recording_path"].as_str().unwrap()));
    assert!(
        seconds_with(&wav.right, 1300.0).iter().any(|x| *x),
        "the caller talks to the old system"
    );
    assert!(
        common::switch::find_prompt(&wav.right, &common::switch::prompt_pcm("agent-before"))
            .is_none(),
        "no agent number is announced for the old system"
    );
}

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
