//! The reports against what really happened: calls placed on the real switch (one answered,
//! one abandoned in the queue while the only agent was busy), then `hotline report`.

mod common;

use std::time::Duration;

use common::desk::DeskPhone;
use common::rtp_phone::Sound;
use common::switch::{dialplan, hotline, Switch};
use common::taxpayer::Taxpayer;

/// `hotline report KIND` for Luoyang today, parsed.
fn report(switch: &Switch, kind: &str) -> serde_json::Value {
    let today = chrono::Utc::now()
        .with_timezone(&hotline_report::beijing())
        .format("%Y-%m-%d")
        .to_string();
    let out = hotline(
        &[
            "report",
            kind,
            "--date",
            &today,
            "--region",
            "luoyang",
            "--format",
            "json",
            "--dialplan",
            switch.dialplan_path().to_str().unwrap(),
            "--db",
        ],
        Some(&switch.db()),
    );
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{kind}: {e}: {out}"))
}

#[test]
fn the_reports_count_an_answered_call_and_a_caller_who_gave_up_in_the_queue() {
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", agent.port())], 15, 600));
    agent.connect(switch.port);

    let mut first = Taxpayer::dial(switch.port, "13903790000");
    let _dialog = agent.take_call();
    assert_eq!(first.answered(440.0).status, 200);

    // The only agent is busy: the second caller waits, then gives up.
    let second = Taxpayer::dial(switch.port, "13903790001");
    std::thread::sleep(Duration::from_secs(2));
    second.cancel();
    let mut finals = vec![
        second.final_response().status,
        second.final_response().status,
    ];
    finals.sort();
    assert_eq!(finals, [200, 487]);

    std::thread::sleep(Duration::from_secs(1));
    first.hang_up();
    assert_eq!(first.final_response().status, 200);
    switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));

    let intervals = report(&switch, "intervals");
    let rows = intervals["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 96, "a day of quarter hours");
    let sum = |key: &str| {
        rows.iter()
            .map(|r| r[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(sum("asked_for_agent"), 2);
    assert_eq!(sum("answered"), 1);
    assert_eq!(sum("abandoned_in_queue"), 1);
    let busy = rows.iter().find(|r| r["answered"] == 1).unwrap();
    assert_eq!(busy["calls"].as_array().unwrap().len(), 2, "{busy}");
    assert!(
        busy["talking"].as_f64().unwrap() > 0.0,
        "the agent talked in it: {busy}"
    );

    let abandoned = report(&switch, "abandoned");
    let gave_up = abandoned["rows"].as_array().unwrap();
    assert_eq!(gave_up.len(), 1, "{abandoned}");
    assert_eq!(gave_up[0]["caller"], "13903790001");
    assert_eq!(gave_up[0]["gave_up"], "queue");
    assert!(gave_up[0]["waited_secs"].as_f64().unwrap() >= 1.5);

    let service = report(&switch, "service");
    let day = &service["rows"][0];
    assert_eq!(day["offered"], 2);
    assert_eq!(day["connection_rate"], 0.5);
    assert_eq!(day["recorded"], 1.0);
    assert_eq!(
        day["to_follow_up"], 1,
        "the caller who gave up is to be called back"
    );
}

/// Out of hours a caller leaves a voicemail: the menu visit is counted, nobody asked for an
/// agent, and the caller is on the service report's list of callers still to call back.
#[test]
fn a_voicemail_out_of_hours_is_a_menu_visit_still_to_follow_up() {
    use common::caller::{heard_until, Caller};
    use common::switch::{find_prompt, prompt_pcm, test_menu};
    let plan = format!("{}\n{}", dialplan(&[], 15, 60), test_menu());
    let switch = Switch::start_with(&plan, &["--hours", "closed"]);
    let mut caller = Caller::dial(switch.port, "13903790000");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    caller.key(Sound::Event('1'));
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("digit-1")).is_some()
    });
    caller.rtp.talk_to(caller.media, Sound::Tone(440.0));
    std::thread::sleep(Duration::from_secs(2));
    caller.hang_up();
    switch.calls_when(|c| c.first().is_some_and(|c| c["ended_at"].is_string()));

    let intervals = report(&switch, "intervals");
    let rows = intervals["rows"].as_array().unwrap();
    let sum = |key: &str| {
        rows.iter()
            .map(|r| r[key].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(sum("ivr_visits"), 1);
    assert_eq!(sum("asked_for_agent"), 0);
    let abandoned = report(&switch, "abandoned");
    assert!(
        abandoned["rows"].as_array().unwrap().is_empty(),
        "{abandoned}"
    );
    let service = report(&switch, "service");
    let day = &service["rows"][0];
    assert_eq!(day["offered"], 1, "{service}");
    assert_eq!(
        day["to_follow_up"], 1,
        "the message is to be answered: {service}"
    );
    assert_eq!(day["answered_or_followed_up"], 0.0);
}
