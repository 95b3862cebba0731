//! The spine end to end: the real switch, SIPp as taxpayers and agents' phones, on
//! 127.0.0.1. Assertions are on what the peers saw and what landed on disk.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::audio::{dominant, read_wav, tone_pcap, tone_wav};
use common::sipp::Sipp;
use common::switch::{dialplan, Switch};
use hotline_media::Codec;

/// Tones: the caller speaks 440 Hz (PCMU), agents answer 1000 Hz (PCMA).
fn tones(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let caller = dir.join("caller-440.pcap");
    let agent = dir.join("agent-1000.pcap");
    tone_pcap(&caller, 440.0, Codec::Pcmu, 8);
    tone_pcap(&agent, 1000.0, Codec::Pcma, 8);
    (caller, agent)
}

const LUOYANG_MOBILE: &str = "13903790000";

#[test]
fn caller_from_luoyang_reaches_a_luoyang_agent_and_the_call_is_recorded() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let luoyang_port = common::free_port();
    let zhengzhou_port = common::free_port();
    let switch = Switch::start(&dialplan(
        &[
            ("1003", "luoyang", luoyang_port),
            ("1001", "zhengzhou", zhengzhou_port),
        ],
        15,
        60,
    ));
    let mut luoyang = Sipp::agent(
        "luoyang",
        work.path(),
        "agent.xml",
        luoyang_port,
        &agent_pcap,
        1,
    );
    let mut zhengzhou = Sipp::agent(
        "zhengzhou",
        work.path(),
        "agent.xml",
        zhengzhou_port,
        &agent_pcap,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        4000,
    );
    caller.expect_success(Duration::from_secs(30));
    luoyang.expect_success(Duration::from_secs(10));
    assert!(
        zhengzhou.running(),
        "the Zhengzhou phone must not have rung"
    );
    let seen = luoyang.messages();
    let from = seen
        .lines()
        .find(|l| l.starts_with("From:"))
        .unwrap_or_default()
        .to_string();
    assert!(
        from.contains(&format!("sip:{LUOYANG_MOBILE}@")),
        "the agent sees the caller's number in From: {from}"
    );
    assert!(
        !luoyang.messages().contains("SIPpTag00"),
        "the agent never sees the caller's own dialog identifiers"
    );

    let calls = switch.ended_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["region"], "luoyang");
    assert_eq!(call["agent"], "1003");
    assert_eq!(call["caller_kind"], "mobile");
    assert_eq!(call["hung_up_by"], "caller");
    let path = PathBuf::from(call["recording_path"].as_str().expect("recording path"));
    let id = call["call_id"].as_str().unwrap();
    assert!(
        path.ends_with(format!("{id}.wav")),
        "recording named by the call id"
    );
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o640, "recordings are not world-readable");
    let wav = read_wav(&path);
    assert_eq!(wav.rate, 8000);
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        (3.5..6.0).contains(&secs),
        "recording lasts the call: {secs} s"
    );
    let mid = |v: &[i16]| v[8000..v.len() - 4000].to_vec();
    assert!(
        dominant(&mid(&wav.left), 440.0, 1000.0),
        "left = the caller's 440 Hz"
    );
    assert!(
        dominant(&mid(&wav.right), 1000.0, 440.0),
        "right = the agent's 1000 Hz"
    );
}

/// Starts one SIPp agent phone per (name, scenario, port) and returns them.
fn phones(work: &std::path::Path, pcap: &std::path::Path, list: &[(&str, &str, u16)]) -> Vec<Sipp> {
    let v = list
        .iter()
        .map(|(name, scenario, port)| Sipp::agent(name, work, scenario, *port, pcap, 1))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    v
}

#[test]
fn an_agent_who_lets_it_ring_out_is_skipped_for_the_next_agent() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let (p1, p2) = (common::free_port(), common::free_port());
    // Equal idle time: the lower agent number rings first.
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", p1), ("1019", "luoyang", p2)],
        2,
        60,
    ));
    let mut ph = phones(
        work.path(),
        &agent_pcap,
        &[
            ("ringout", "agent_noanswer.xml", p1),
            ("answers", "agent.xml", p2),
        ],
    );
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        2000,
    );
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    ph[1].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1019", "{calls:?}");
    assert_eq!(calls[0]["outcome"], "answered");
    let waited = calls[0]["waited_ms"].as_u64().unwrap();
    assert!(
        waited >= 2000,
        "rang 2 s at the first agent: waited {waited} ms"
    );
}

#[test]
fn a_busy_agent_is_skipped_for_the_next_agent() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let (p1, p2) = (common::free_port(), common::free_port());
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", p1), ("1019", "luoyang", p2)],
        15,
        60,
    ));
    let mut ph = phones(
        work.path(),
        &agent_pcap,
        &[("busy", "agent_busy.xml", p1), ("answers", "agent.xml", p2)],
    );
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
    );
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    ph[1].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1019", "{calls:?}");
}

#[test]
fn with_no_luoyang_agent_logged_in_the_centre_answers() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let centre = common::free_port();
    // 1003 has a secret and never registers: nobody of Luoyang is logged in.
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", 0), ("1900", "centre", centre)],
        15,
        60,
    ));
    let mut ph = phones(work.path(), &agent_pcap, &[("centre", "agent.xml", centre)]);
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
    );
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["region"], "luoyang", "routed to Luoyang");
    assert_eq!(call["agent"], "1900", "answered by the centre");
    assert_eq!(call["overflowed"], true);
}

#[test]
fn a_call_waiting_past_the_overflow_time_is_answered_by_the_centre() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let (luoyang, centre) = (common::free_port(), common::free_port());
    // The Luoyang phone rings out (10 s ring) while the overflow comes after 1 s.
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", luoyang), ("1900", "centre", centre)],
        10,
        1,
    ));
    let mut ph = phones(
        work.path(),
        &agent_pcap,
        &[
            ("luoyang", "agent_noanswer.xml", luoyang),
            ("centre", "agent.xml", centre),
        ],
    );
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
    );
    caller.expect_success(Duration::from_secs(30));
    ph[1].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1900", "{calls:?}");
    assert_eq!(calls[0]["overflowed"], true);
    let _ = ph[0].wait(Duration::from_secs(15));
}

#[test]
fn a_caller_who_hangs_up_while_ringing_stops_the_agent_phone_and_is_abandoned() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let p = common::free_port();
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", p)], 15, 60));
    let mut ph = phones(
        work.path(),
        &agent_pcap,
        &[("ringing", "agent_noanswer.xml", p)],
    );
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller_cancel.xml",
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
        &[],
    );
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["outcome"], "abandoned");
    assert_eq!(call["hung_up_by"], "caller");
    assert!(call["agent"].is_null());
    assert!(
        call["recording_path"].is_null(),
        "nothing answered, nothing recorded"
    );
    let waited = call["waited_ms"].as_u64().unwrap();
    assert!((900..5000).contains(&waited), "waited about 1 s: {waited}");
    let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(
        out.contains("\"kind\":\"abandoned\"") && out.contains(LUOYANG_MOBILE),
        "followed up: {out}"
    );
}

#[test]
fn when_the_agent_hangs_up_first_the_caller_gets_a_bye_and_the_record_says_so() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let p = common::free_port();
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", p)], 15, 60));
    let mut agent = Sipp::agent_hanging_up("agent", work.path(), p, &agent_pcap, 2000);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller_wait_bye.xml",
        switch.port,
        "037961234567",
        &caller_pcap,
        0,
        &[],
    );
    caller.expect_success(Duration::from_secs(30));
    agent.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["hung_up_by"], "agent");
    assert_eq!(call["caller_kind"], "landline");
    assert_eq!(call["region"], "luoyang");
    let wav = read_wav(&PathBuf::from(call["recording_path"].as_str().unwrap()));
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        (1.5..4.0).contains(&secs),
        "recording lasts the call: {secs} s"
    );
}

#[test]
fn a_call_over_tcp_is_answered_and_recorded() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let p = common::free_port();
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", p)], 15, 60));
    let mut ph = phones(work.path(), &agent_pcap, &[("agent", "agent.xml", p)]);
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller.xml",
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1500,
        &["-t".into(), "t1".into()],
    );
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["outcome"], "answered");
    assert!(calls[0]["recording_path"].is_string());
}

#[test]
fn an_answered_call_keeps_its_record_and_a_playable_recording_when_the_switch_is_killed() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let p = common::free_port();
    let mut switch = Switch::start(&dialplan(&[("1003", "luoyang", p)], 15, 60));
    let _agent = phones(work.path(), &agent_pcap, &[("agent", "agent.xml", p)]);
    let _caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        8000,
    );
    let calls = switch.calls_when(|c| c.first().is_some_and(|c| c["outcome"] == "answered"));
    assert_eq!(calls[0]["outcome"], "answered", "{calls:?}");
    std::thread::sleep(Duration::from_millis(3500));
    switch.kill_hard();
    let calls = switch.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["outcome"], "answered",
        "the answered call is on record"
    );
    let path = PathBuf::from(calls[0]["recording_path"].as_str().expect("recording path"));
    let wav = read_wav(&path);
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        secs >= 1.5,
        "what was flushed before the kill is playable: {secs} s"
    );
    assert!(dominant(&wav.left[4000..12000], 440.0, 1000.0));
}

#[test]
fn a_reload_during_a_call_keeps_the_call_and_new_calls_follow_the_new_plan() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = tones(work.path());
    let (luoyang, zhengzhou) = (common::free_port(), common::free_port());
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", luoyang)], 15, 60));
    // Both phones hold their ports from the start, so no other process can take them.
    let mut ph = phones(
        work.path(),
        &agent_pcap,
        &[
            ("luoyang", "agent.xml", luoyang),
            ("zhengzhou", "agent.xml", zhengzhou),
        ],
    );
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        4000,
    );
    switch.calls_when(|c| c.first().is_some_and(|c| c["outcome"] == "answered"));
    // Move agent 1003 to a new contact and add a Zhengzhou agent, mid-call.
    let new_plan = dialplan(
        &[
            ("1003", "luoyang", luoyang),
            ("1001", "zhengzhou", zhengzhou),
        ],
        15,
        60,
    );
    std::fs::write(switch.dialplan_path(), new_plan).unwrap();
    let out = common::switch::hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");
    caller.expect_success(Duration::from_secs(30));
    ph[0].expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(
        calls[0]["hung_up_by"], "caller",
        "the call in progress ran to its end"
    );
    let wav = read_wav(&PathBuf::from(calls[0]["recording_path"].as_str().unwrap()));
    assert!(wav.left.len() as f64 / 8000.0 >= 3.5, "recorded to the end");
    // The new Zhengzhou agent takes a Zhengzhou caller.
    let mut caller2 = Sipp::caller(
        "caller2",
        work.path(),
        switch.port,
        "037161234567",
        &caller_pcap,
        1000,
    );
    caller2.expect_success(Duration::from_secs(30));
    ph[1].expect_success(Duration::from_secs(10));
}

#[test]
fn a_real_softphone_registers_with_digest_and_takes_the_call() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, _) = tones(work.path());
    let mic = work.path().join("agent-1000.wav");
    tone_wav(&mic, 1000.0, 20);
    // The plan's default challenge (MD5 alone): baresip 1.0 gives up when a SHA-256
    // challenge is offered at all.
    let plan = dialplan(&[("1003", "luoyang", 0)], 15, 60);
    let switch = Switch::start(&plan);
    let phone = common::baresip::Baresip::start(
        work.path(),
        &format!(
            "<sip:1003@127.0.0.1:{}>;auth_pass=pw-1003;answermode=auto;regint=60",
            switch.port
        ),
        &mic,
    );
    // What the phone itself reports, not the switch's log.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !phone.log().contains("200 OK () [1 binding]") {
        assert!(
            std::time::Instant::now() < deadline,
            "baresip did not register:\n{}",
            phone.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        3000,
    );
    caller.expect_success(Duration::from_secs(30));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1003");
    let wav = read_wav(&PathBuf::from(calls[0]["recording_path"].as_str().unwrap()));
    let mid = &wav.right[8000..wav.right.len() - 4000];
    assert!(
        dominant(mid, 1000.0, 440.0),
        "the softphone's voice reached the caller's side"
    );
    assert!(dominant(
        &wav.left[8000..wav.left.len() - 4000],
        440.0,
        1000.0
    ));
}
