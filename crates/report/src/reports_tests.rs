//! Each report's figures on a small hand-made morning whose answers are known.

use chrono::{DateTime, Utc};
use hotline_record::{
    AbandonStage, CallId, CallRecord, Callback, CallbackKind, Direction, Outcome,
};

use crate::period::Period;
use crate::table::{Report, Value};

fn at(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2026-12-05T{hms}+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

/// A Luoyang taxpayer's call offered at `offered`, through the menu.
fn call(n: u32, offered: &str) -> CallRecord {
    let mut c = CallRecord::new(
        CallId::generate(at(offered), n),
        format!("1390379{n:04}"),
        at(offered),
    );
    c.caller_normalized = Some(format!("1390379{n:04}"));
    c.region = Some("luoyang".into());
    c.origin = Some("in_province".into());
    c.ivr_node = Some("main".into());
    c.outcome = Outcome::Ivr;
    c.ended_at = Some(at(offered) + chrono::Duration::seconds(30));
    c
}

fn queued(mut c: CallRecord, q: &str, skill: &str) -> CallRecord {
    c.queued_at = Some(at(q));
    c.skill = Some(skill.into());
    c.outcome = Outcome::Queued;
    c
}

fn answered(mut c: CallRecord, a: &str, ring_ms: u64, end: &str) -> CallRecord {
    c.answered_at = Some(at(a));
    c.ended_at = Some(at(end));
    c.agent = Some("1003".into());
    c.agent_announced = true;
    c.ring_ms = Some(ring_ms);
    c.outcome = Outcome::Answered;
    c.recording_path = Some(format!("/r/{}.wav", c.call_id).into());
    c
}

fn gave_up(mut c: CallRecord, end: &str, stage: AbandonStage) -> CallRecord {
    c.ended_at = Some(at(end));
    c.abandoned_in = Some(stage);
    if stage != AbandonStage::Announcement {
        c.outcome = Outcome::Abandoned;
    }
    c
}

/// The morning: A answered fast, B gave up in the queue, C arrived before 09:00 and was
/// answered after it, slowly; D only used the menu; E gave up at once, F while a phone
/// rang, G during the agent-number announcement; an agent's call out; a Zhengzhou call.
/// Staffing from no state changes at all.
fn no_staff() -> crate::Staffing<'static> {
    crate::Staffing::Changes {
        changes: &[],
        wanted: &|_| true,
    }
}

/// The records as the reports read them.
fn summaries(calls: &[CallRecord]) -> Vec<hotline_record::CallSummary> {
    calls.iter().map(Into::into).collect()
}

fn morning() -> Vec<CallRecord> {
    let a = answered(
        queued(call(1, "08:50:00"), "08:50:30", "filing"),
        "08:50:40",
        6_000,
        "08:55:40",
    );
    let b = gave_up(
        queued(call(2, "08:58:00"), "08:58:20", "invoices"),
        "08:59:20",
        AbandonStage::Queue,
    );
    let c = answered(
        queued(call(3, "08:59:50"), "09:00:10", "filing"),
        "09:00:40",
        20_000,
        "09:03:40",
    );
    let d = call(4, "09:05:00");
    let e = gave_up(
        queued(call(5, "09:06:00"), "09:06:10", "filing"),
        "09:06:13",
        AbandonStage::Queue,
    );
    let f = gave_up(
        queued(call(6, "09:07:00"), "09:07:05", "complaints"),
        "09:07:30",
        AbandonStage::Ringing,
    );
    let mut g = answered(
        queued(call(7, "09:08:00"), "09:08:05", "filing"),
        "09:08:20",
        3_000,
        "09:08:22",
    );
    g.agent_announced = false;
    g = gave_up(g, "09:08:22", AbandonStage::Announcement);
    let mut out = answered(call(8, "09:09:00"), "09:09:10", 10_000, "09:10:00");
    out.direction = Direction::Outbound;
    out.dialled = Some("13903790002".into());
    out.ivr_node = None;
    let mut zz = answered(
        queued(call(9, "09:09:30"), "09:09:31", "filing"),
        "09:09:40",
        1_000,
        "09:11:00",
    );
    zz.region = Some("zhengzhou".into());
    vec![a, b, c, d, e, f, g, out, zz]
}

fn column(r: &Report, key: &str) -> Vec<Value> {
    let i = r.columns.iter().position(|c| c.key == key).unwrap();
    r.rows.iter().map(|row| row.values[i].clone()).collect()
}

fn counts(r: &Report, key: &str) -> Vec<u64> {
    column(r, key)
        .into_iter()
        .map(|v| match v {
            Value::Count(n) => n,
            other => panic!("{key}: {other:?}"),
        })
        .collect()
}

fn numbers(r: &Report, key: &str) -> Vec<Option<f64>> {
    column(r, key)
        .into_iter()
        .map(|v| match v {
            Value::Number(x) | Value::Share(x) => Some((x * 1000.0).round() / 1000.0),
            Value::Empty => None,
            other => panic!("{key}: {other:?}"),
        })
        .collect()
}

#[test]
fn intervals_count_each_call_where_it_arrived_by_stage_and_with_its_waits() {
    let calls = morning();
    let p = Period::range("2026-12-05T08:45:00+08:00", "2026-12-05T09:15:00+08:00").unwrap();
    let r = crate::intervals(
        &summaries(&calls),
        &no_staff(),
        p,
        15,
        Some("luoyang"),
        p.to,
    );
    assert_eq!(
        column(&r, "interval")[0],
        Value::Text("2026-12-05 08:45–09:00".into())
    );
    assert_eq!(counts(&r, "ivr_visits"), [3, 4]);
    assert_eq!(counts(&r, "asked_for_agent"), [3, 3]);
    assert_eq!(counts(&r, "answered"), [2, 0], "C counts where it arrived");
    assert_eq!(counts(&r, "abandoned_in_queue"), [1, 1]);
    assert_eq!(counts(&r, "abandoned_ringing"), [0, 1]);
    assert_eq!(counts(&r, "abandoned_announcement"), [0, 1]);
    assert_eq!(counts(&r, "short_abandons"), [0, 1]);
    assert_eq!(numbers(&r, "service_level_20s"), [Some(0.333), Some(0.0)]);
    assert_eq!(numbers(&r, "within_three_rings"), [Some(0.5), None]);
    assert_eq!(numbers(&r, "asa_secs"), [Some(20.0), None]);
    assert_eq!(numbers(&r, "longest_wait_secs"), [Some(60.0), Some(25.0)]);
    assert_eq!(numbers(&r, "aht_secs"), [Some(240.0), None]);
    assert_eq!(numbers(&r, "connection_rate"), [Some(0.667), Some(0.0)]);
    assert_eq!(r.rows[0].calls.len(), 3, "every figure traced to its calls");
    // Erlang C for 3 calls of 240 s in 15 min at 80/20.
    assert!(counts(&r, "agents_needed")[0] >= 2);
    let all = crate::intervals(&summaries(&calls), &no_staff(), p, 15, None, p.to);
    assert_eq!(
        counts(&all, "answered"),
        [2, 1],
        "Zhengzhou's, not the call out"
    );
}

#[test]
fn the_abandoned_list_names_the_node_and_queue_and_hides_whistle_blowers() {
    let calls = morning();
    let callbacks = vec![Callback {
        id: 1,
        call_id: calls[1].call_id.clone(),
        caller: calls[1].caller_raw.clone(),
        number: calls[1].caller_normalized.clone(),
        region: Some("luoyang".into()),
        created_at: at("08:59:20"),
        kind: CallbackKind::Abandoned,
        voicemail_path: None,
        state: "called".into(),
    }];
    let r = crate::abandoned(&summaries(&calls), &callbacks, Some("luoyang"), |c| {
        c.skill.as_deref() == Some("complaints")
    });
    let callers = column(&r, "caller");
    assert_eq!(
        callers,
        [
            Value::Text("13903790002".into()),
            Value::Text("13903790005".into()),
            Value::Text("139****0006".into()),
            Value::Text("13903790007".into()),
        ]
    );
    let stage = column(&r, "gave_up");
    assert_eq!(stage[2], Value::Text("ringing".into()));
    assert_eq!(stage[3], Value::Text("announcement".into()));
    assert_eq!(column(&r, "queue")[0], Value::Text("invoices".into()));
    assert_eq!(
        column(&r, "asked_at")[0],
        Value::Text("2026-12-05 08:58:20".into())
    );
    let called = column(&r, "called_back");
    assert_eq!(called[0], Value::Text("是".into()));
    assert_eq!(called[1], Value::Text("否".into()));
    // The call out at 09:09 reached 13903790002 (B), later than B: called back either way.
    assert_eq!(column(&r, "short")[1], Value::Text("是".into()));
}

#[test]
fn the_five_hundreds_are_measured_per_day_and_region() {
    let mut calls = morning();
    // A refused call, and one recorded nowhere.
    let mut refused = call(10, "09:12:00");
    refused.outcome = Outcome::Failed;
    refused.ivr_node = None;
    calls.push(refused);
    calls[0].recording_failed = true;
    // Late evening: a call that arrived before midnight counts on its day.
    let mut night = answered(
        queued(call(11, "23:59:50"), "23:59:55", "filing"),
        "23:59:59",
        2_000,
        "23:59:59",
    );
    night.ended_at = Some(at("23:59:59") + chrono::Duration::minutes(3));
    calls.push(night);
    let r = crate::service(&summaries(&calls), &[], Some("luoyang"));
    assert_eq!(r.rows.len(), 1);
    assert_eq!(counts(&r, "offered"), [9]);
    // Accepted: all but the refused one.
    assert_eq!(numbers(&r, "accepted"), [Some(0.889)]);
    // Answered through the menu: A, C, night; all announced (G gave up, not answered).
    assert_eq!(numbers(&r, "announced"), [Some(1.0)]);
    assert_eq!(
        numbers(&r, "recorded"),
        [Some(0.667)],
        "A's recording failed"
    );
    assert_eq!(
        numbers(&r, "connection_rate"),
        [Some(0.429)],
        "3 of 7 who asked"
    );
}

#[test]
fn origins_count_callers_where_they_were_taken() {
    let mut calls = morning();
    calls[0].origin = Some("out_of_province".into());
    calls[1].origin = Some("international".into());
    calls[2].origin = None;
    calls[3].overflowed = true;
    let r = crate::origins(&summaries(&calls), "centre", None);
    let regions = column(&r, "region");
    assert_eq!(
        regions,
        [
            Value::Text("centre".into()),
            Value::Text("luoyang".into()),
            Value::Text("zhengzhou".into())
        ]
    );
    assert_eq!(
        counts(&r, "other_city"),
        [1, 0, 0],
        "the overflowed Luoyang caller"
    );
    assert_eq!(counts(&r, "own_city"), [0, 3, 1]);
    assert_eq!(counts(&r, "other_province"), [0, 1, 0]);
    assert_eq!(counts(&r, "abroad"), [0, 1, 0]);
    assert_eq!(counts(&r, "anonymous_or_unknown"), [0, 1, 0]);
}

fn state(
    hms: &str,
    agent: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> hotline_record::AgentStateChange {
    hotline_record::AgentStateChange {
        region: None,
        at: at(hms),
        agent: agent.into(),
        from: (!from.is_empty()).then(|| from.parse().unwrap()),
        to: to.parse().unwrap(),
        reason: reason.map(Into::into),
    }
}

#[test]
fn agents_are_judged_by_what_their_phone_and_their_calls_did() {
    let calls = morning();
    let p = Period::range("2026-12-05T08:45:00+08:00", "2026-12-05T09:15:00+08:00").unwrap();
    // 1003 at the start of the period (as the store gives it), then their day.
    let states = vec![
        state("08:45:00", "1003", "", "available", None),
        state("08:50:30", "1003", "available", "ringing", None),
        state("08:50:40", "1003", "ringing", "talking", None),
        state("08:55:40", "1003", "talking", "wrap-up", None),
        state("08:56:40", "1003", "wrap-up", "available", None),
        state("09:07:05", "1003", "available", "ringing", None),
        state(
            "09:07:20",
            "1003",
            "ringing",
            "not-ready",
            Some("no-answer"),
        ),
        state(
            "09:10:00",
            "1003",
            "not-ready",
            "not-ready",
            Some("training"),
        ),
    ];
    let legs = vec![
        hotline_record::CallLeg {
            call_id: calls[0].call_id.clone(),
            seq: 1,
            party: "1003".into(),
            kind: "agent".into(),
            started_at: at("08:50:40"),
            ended_at: Some(at("08:53:00")),
        },
        hotline_record::CallLeg {
            call_id: calls[0].call_id.clone(),
            seq: 2,
            party: "1019".into(),
            kind: "transfer".into(),
            started_at: at("08:53:00"),
            ended_at: Some(at("08:55:40")),
        },
    ];
    let mut calls = calls;
    calls[0].survey_score = Some(1);
    calls[2].survey_score = Some(3);
    calls[7].caller_raw = "1003".into();
    let roster = vec!["1003".to_string(), "1004".to_string()];
    let source = crate::SeatSource::Changes(&states);
    let r = crate::agents(
        &summaries(&calls),
        &source,
        &legs,
        p,
        &roster,
        |a| a != "1019",
        p.to,
    );
    assert_eq!(
        column(&r, "agent"),
        [Value::Text("1003".into()), Value::Text("1004".into())]
    );
    assert_eq!(counts(&r, "offered"), [2, 0]);
    assert_eq!(counts(&r, "rang_out"), [1, 0]);
    // A, C (G gave up during the announcement; Zhengzhou's call is 1003's too here).
    assert_eq!(counts(&r, "answered"), [3, 0]);
    assert_eq!(numbers(&r, "wrap_up_secs"), [Some(60.0), Some(0.0)]);
    assert_eq!(numbers(&r, "training_secs"), [Some(300.0), Some(0.0)]);
    assert_eq!(
        numbers(&r, "other_not_ready_secs"),
        [Some(160.0), Some(0.0)],
        "no-answer pause"
    );
    assert_eq!(numbers(&r, "logged_in_secs"), [Some(1800.0), Some(0.0)]);
    assert_eq!(counts(&r, "transfers"), [1, 0]);
    assert_eq!(counts(&r, "calls_out"), [1, 0]);
    assert_eq!(numbers(&r, "survey_average"), [Some(2.0), None]);
    assert_eq!(counts(&r, "surveys"), [2, 0]);
    // Busy: ringing 10 + 15 s, talking 300 s, wrap-up 60 s; available 08:45:00–08:50:30
    // and 08:56:40–09:07:05.
    let busy: f64 = 10.0 + 15.0 + 300.0 + 60.0;
    let available = 330.0 + 625.0;
    let occ = (busy / (busy + available) * 1000.0).round() / 1000.0;
    assert_eq!(numbers(&r, "occupancy"), [Some(occ), None]);
}

#[test]
fn topics_count_calls_per_menu_branch() {
    let calls = morning();
    let p = Period::day("2026-12-05").unwrap();
    let r = crate::topics(
        &summaries(&calls),
        p,
        crate::topics::By::Day,
        Some("luoyang"),
    );
    let topics: Vec<(Value, u64, u64, u64)> = r
        .rows
        .iter()
        .map(|row| {
            let n = |i: usize| match row.values[i] {
                Value::Count(n) => n,
                _ => panic!(),
            };
            (row.values[1].clone(), n(2), n(3), n(4))
        })
        .collect();
    assert_eq!(
        topics,
        [
            (Value::Text("complaints".into()), 1, 0, 1),
            (Value::Text("filing".into()), 4, 2, 2),
            (Value::Text("invoices".into()), 1, 0, 1),
            (Value::Text("main".into()), 1, 0, 0),
        ]
    );
}
