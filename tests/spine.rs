//! The spine end to end: the real switch, SIPp as taxpayers and agents' phones, on
//! 127.0.0.1. Assertions are on what the peers saw and what landed on disk.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::audio::{dominant, read_wav, tone_pcap};
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
        &[("1003", "luoyang", luoyang_port), ("1001", "zhengzhou", zhengzhou_port)],
        15,
        60,
    ));
    let mut luoyang = Sipp::agent("luoyang", work.path(), "agent.xml", luoyang_port, &agent_pcap, 1);
    let mut zhengzhou = Sipp::agent("zhengzhou", work.path(), "agent.xml", zhengzhou_port, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller("caller", work.path(), switch.port, LUOYANG_MOBILE, &caller_pcap, 4000);
    caller.expect_success(Duration::from_secs(30));
    luoyang.expect_success(Duration::from_secs(10));
    assert!(zhengzhou.running(), "the Zhengzhou phone must not have rung");
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

    let calls = switch.calls_when(|c| c.first().is_some_and(|c| c["ended_at"].is_string()));
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = &calls[0];
    assert_eq!(call["outcome"], "answered");
    assert_eq!(call["region"], "luoyang");
    assert_eq!(call["agent"], "1003");
    assert_eq!(call["caller_kind"], "mobile");
    assert_eq!(call["hung_up_by"], "caller");
    let path = PathBuf::from(call["recording_path"].as_str().expect("recording path"));
    let id = call["call_id"].as_str().unwrap();
    assert!(path.ends_with(format!("{id}.wav")), "recording named by the call id");
    let wav = read_wav(&path);
    assert_eq!(wav.rate, 8000);
    let secs = wav.left.len() as f64 / 8000.0;
    assert!((3.5..6.0).contains(&secs), "recording lasts the call: {secs} s");
    let mid = |v: &[i16]| v[8000..v.len() - 4000].to_vec();
    assert!(dominant(&mid(&wav.left), 440.0, 1000.0), "left = the caller's 440 Hz");
    assert!(dominant(&mid(&wav.right), 1000.0, 440.0), "right = the agent's 1000 Hz");
}
