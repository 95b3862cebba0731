//! The switch as it meets the open network: a new user's phone on the bundled plan, and
//! what a scanner, a password guesser or an RTP sprayer gets out of it (issue 9).

mod common;

use std::time::{Duration, Instant};

use common::switch::Switch;

/// A real softphone registers as the bundled plan's demo agent 1003 with the plan's own
/// `[switch]` settings, exactly as the README tells a new user to: no digest edit needed.
#[test]
fn baresip_registers_against_the_bundled_plan_as_it_ships() {
    let work = tempfile::tempdir().unwrap();
    let mic = work.path().join("silence.wav");
    common::audio::tone_wav(&mic, 0.0, 5);
    let switch = Switch::start_bundled(&["--hours", "open"]);
    let phone = common::baresip::Baresip::start(
        work.path(),
        &format!(
            "<sip:1003@127.0.0.1:{}>;auth_pass=demo-1003;regint=60",
            switch.port
        ),
        &mic,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !phone.log().contains("200 OK () [1 binding]") {
        assert!(
            Instant::now() < deadline,
            "baresip did not register on the bundled plan:\n{}",
            phone.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!phone.log().contains("Function not implemented"));
    let agent = switch.agent_when("1003", |a| a["state"] == "available");
    assert_eq!(agent["state"], "available", "{agent}");
}
