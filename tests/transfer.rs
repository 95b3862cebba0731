//! Transfer (转办) end to end: an agent's desk phone presses transfer (REFER), blind and
//! attended; the caller (SIPp) ends up with the new agent, the recording is one file with
//! both agents in it, and the `legs` table names both.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::audio::{read_wav, tone_pcap};
use common::desk::DeskPhone;
use common::sipp::Sipp;
use common::switch::{dialplan, wrap_up, Switch};
use common::transfer::{
    agents_heard, assert_both_agents_recorded, legs, plan, seconds_with, AgentsHeard,
};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";

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
