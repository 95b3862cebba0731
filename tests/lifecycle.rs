//! Stopping the switch: SIGTERM takes no new call, ends the calls in progress cleanly and
//! leaves no record open.

mod common;

use std::time::Duration;

use common::desk::DeskPhone;
use common::switch::{dialplan, Switch};
use common::taxpayer::Taxpayer;
use hotline_sip::HeaderName;

/// One call talking, one caller waiting in the queue; then SIGTERM. Both legs of the call
/// get a BYE, the waiting caller a 503 (and a place on the callback list), a new caller a
/// 503 while the switch drains; the switch exits 0, the recording is whole and no record
/// is left open.
#[test]
fn sigterm_ends_every_call_cleanly_and_leaves_no_record_open() {
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let switch_plan = dialplan(&[("1003", "luoyang", agent.port())], 15, 600);
    let mut switch = Switch::start(&switch_plan);
    agent.connect(switch.port);

    let mut talking = Taxpayer::dial(switch.port, "13903790000");
    let _dialog = agent.take_call();
    assert_eq!(talking.answered(440.0).status, 200);

    // The only Luoyang agent is busy: the second caller waits in the queue.
    let waiting = Taxpayer::dial(switch.port, "13903790001");
    switch.calls_when(|c| c.len() == 2 && c.iter().any(|c| c["outcome"] == "queued"));
    std::thread::sleep(Duration::from_secs(2));

    switch.terminate();
    let bye = talking.sip.expect_request("BYE");
    let agent_bye = agent.sip.expect_request("BYE");
    assert_eq!(
        waiting.final_response().status,
        503,
        "the waiting caller is told"
    );
    // Draining (its BYEs not answered yet): a new caller is refused, not lost.
    let refused = Taxpayer::dial(switch.port, "13903790002").final_response();
    assert_eq!(refused.status, 503);
    assert!(refused
        .headers
        .get(&HeaderName::parse("Retry-After"))
        .is_some());
    talking.sip.reply(&bye, 200);
    agent.sip.reply(&agent_bye, 200);
    let status = switch
        .exited_within(Duration::from_secs(10))
        .expect("the switch exits");
    assert!(status.success(), "{status:?}");

    let calls = switch.calls();
    assert_eq!(calls.len(), 2, "the refused caller is no call: {calls:?}");
    assert!(calls.iter().all(|c| c["ended_at"].is_string()), "{calls:?}");
    let answered = &calls[0];
    assert_eq!(
        (
            answered["outcome"].as_str(),
            answered["hung_up_by"].as_str()
        ),
        (Some("answered"), Some("switch"))
    );
    let cut_off = &calls[1];
    assert_eq!(
        (cut_off["outcome"].as_str(), cut_off["hung_up_by"].as_str()),
        (Some("failed"), Some("switch"))
    );
    let wav = common::audio::read_wav(std::path::Path::new(
        answered["recording_path"].as_str().expect("recorded"),
    ));
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(answered[k].as_str().unwrap()).unwrap();
    let talked = (at("ended_at") - at("answered_at")).num_milliseconds() as f64 / 1000.0;
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        secs >= 1.5 && (secs - talked).abs() < 0.5,
        "recorded to the end: {secs} s of {talked} s"
    );
    let callbacks = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(
        callbacks.contains("13903790001"),
        "the caller cut off while waiting is called back: {callbacks}"
    );
}
