//! The call store: upsert, list, since filter, modes, JSON.

mod common;

use std::os::unix::fs::PermissionsExt;

use chrono::{Duration, TimeZone, Utc};
use hotline_record::{list_calls, CallId, CallRecord, CallStore, HungUpBy, Outcome};

fn offered(minute: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, minute, 0).unwrap()
}

fn record(minute: u32, random: u32) -> CallRecord {
    let at = offered(minute);
    let mut r = CallRecord::new(CallId::generate(at, random), "03795551234", at);
    r.caller_normalized = Some("+863795551234".into());
    r.caller_kind = Some("landline".into());
    r.region = Some("luoyang".into());
    r
}

#[test]
fn every_state_change_rewrites_the_one_row() {
    let db = common::scratch_dir("upsert").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let mut call = record(0, 1);
    store.save(&call).unwrap();
    call.outcome = Outcome::Queued;
    store.save(&call).unwrap();
    call.outcome = Outcome::Answered;
    call.agent = Some("1001".into());
    call.answered_at = Some(call.offered_at + Duration::seconds(12));
    call.waited_ms = Some(12_000);
    call.recording_path = Some("/var/lib/hotline/recordings/2026/11/23/x.wav".into());
    call.overflowed = true;
    store.save(&call).unwrap();
    call.ended_at = Some(call.offered_at + Duration::seconds(300));
    call.hung_up_by = Some(HungUpBy::Caller);
    store.save(&call).unwrap();
    store.sync().unwrap();

    let calls = list_calls(&db, None).unwrap();
    assert_eq!(calls, vec![call]);
    assert_eq!(store.failed_saves(), 0);
}

#[test]
fn since_selects_calls_offered_from_that_time_on() {
    let db = common::scratch_dir("since").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    for (minute, random) in [(30, 3), (10, 1), (20, 2)] {
        store.save(&record(minute, random)).unwrap();
    }
    store.sync().unwrap();
    let all: Vec<u32> = list_calls(&db, None)
        .unwrap()
        .iter()
        .map(|c| c.offered_at.format("%M").to_string().parse().unwrap())
        .collect();
    assert_eq!(all, vec![10, 20, 30]);
    let recent = list_calls(&db, Some(offered(20))).unwrap();
    assert_eq!(recent.len(), 2);
    assert!(recent.iter().all(|c| c.offered_at >= offered(20)));
}

#[test]
fn records_survive_reopening_and_the_file_is_private() {
    let db = common::scratch_dir("reopen").join("calls.db");
    {
        let store = CallStore::open(&db).unwrap();
        store.save(&record(5, 9)).unwrap();
        store.sync().unwrap();
    }
    let store = CallStore::open(&db).unwrap();
    store.save(&record(6, 10)).unwrap();
    store.sync().unwrap();
    assert_eq!(list_calls(&db, None).unwrap().len(), 2);
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn json_uses_plain_words_and_rfc3339_times() {
    let mut r = record(0, 0xabc);
    r.outcome = Outcome::Abandoned;
    r.hung_up_by = Some(HungUpBy::Caller);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["call_id"], "20261123T090000-000abc");
    assert_eq!(json["outcome"], "abandoned");
    assert_eq!(json["hung_up_by"], "caller");
    assert_eq!(json["offered_at"], "2026-11-23T01:00:00Z");
}

#[test]
fn listing_a_missing_database_is_an_error() {
    let db = common::scratch_dir("missing").join("nope.db");
    assert!(list_calls(&db, None).is_err());
}

#[test]
fn calls_can_be_listed_after_the_switch_has_stopped() {
    let db = common::scratch_dir("stopped").join("calls.db");
    {
        let store = CallStore::open(&db).unwrap();
        store.save(&record(1, 1)).unwrap();
        store.sync().unwrap();
    }
    // The writer thread closes the database (checkpointing the WAL) once every handle is gone.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(list_calls(&db, None).unwrap().len(), 1);
}

#[test]
fn menu_fields_survive_the_round_trip() {
    let db = common::scratch_dir("menu-fields").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let mut call = record(3, 9);
    call.ivr_node = Some("filing".into());
    call.skill = Some("filing".into());
    call.agent_announced = true;
    call.survey_score = Some(2);
    store.save(&call).unwrap();
    store.sync().unwrap();
    assert_eq!(list_calls(&db, None).unwrap(), vec![call]);
}

#[test]
fn callbacks_are_stored_and_listed() {
    use hotline_record::{list_callbacks, Callback, CallbackKind};
    let db = common::scratch_dir("callbacks").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let at = offered(5);
    let cb = Callback {
        id: 0,
        call_id: CallId::generate(at, 5),
        caller: "13903790000".into(),
        number: Some("037961234567".into()),
        region: Some("luoyang".into()),
        created_at: at,
        kind: CallbackKind::Callback,
        voicemail_path: None,
        state: "open".into(),
    };
    store.save_callback(&cb).unwrap();
    store.sync().unwrap();
    let listed = list_callbacks(&db).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].number.as_deref(), Some("037961234567"));
    assert_eq!(listed[0].kind, CallbackKind::Callback);
    assert!(listed[0].id > 0);
}

#[test]
fn an_older_database_gains_the_new_columns() {
    let db = common::scratch_dir("migrate").join("calls.db");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE calls (call_id TEXT PRIMARY KEY NOT NULL, caller_raw TEXT NOT NULL,
             caller_normalized TEXT, caller_kind TEXT, region TEXT, agent TEXT, offered_at TEXT NOT NULL,
             answered_at TEXT, ended_at TEXT, outcome TEXT NOT NULL, hung_up_by TEXT, waited_ms INTEGER,
             recording_path TEXT, overflowed INTEGER NOT NULL DEFAULT 0);
             CREATE TABLE monitoring (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL,
             supervisor TEXT NOT NULL, agent TEXT NOT NULL, call_id TEXT, mode TEXT NOT NULL,
             allowed INTEGER NOT NULL);
             INSERT INTO monitoring (at, supervisor, agent, mode, allowed)
             VALUES ('2026-11-23T01:00:00.000Z', '1950', '1003', 'listen', 0);",
        )
        .unwrap();
    }
    let store = CallStore::open(&db).unwrap();
    let mut call = record(7, 3);
    call.recording_failed = true;
    store.save(&call).unwrap();
    let audit = hotline_record::MonitorUse {
        at: offered(8),
        supervisor: "1950".into(),
        agent: "1003".into(),
        call_id: None,
        mode: "barge".into(),
        allowed: false,
        os_user: Some("uid 1000".into()),
    };
    store.save_monitor(&audit).unwrap();
    store.sync().unwrap();
    assert_eq!(list_calls(&db, None).unwrap(), vec![call]);
    let audits = hotline_record::list_monitoring(&db).unwrap();
    assert_eq!(audits.len(), 2, "the old row stays: {audits:?}");
    assert_eq!(
        audits[0].os_user, None,
        "rows from before the column have no OS user"
    );
    assert_eq!(audits[1], audit);
}

#[test]
fn a_call_that_could_not_be_recorded_says_so_in_its_record() {
    let db = common::scratch_dir("recording-failed").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let recorded = record(5, 1);
    let mut unrecorded = record(6, 2);
    unrecorded.recording_failed = true;
    unrecorded.recording_path = None;
    store.save(&recorded).unwrap();
    store.save(&unrecorded).unwrap();
    store.sync().unwrap();
    let listed = list_calls(&db, None).unwrap();
    assert_eq!(listed, vec![recorded, unrecorded]);
    assert!(!listed[0].recording_failed && listed[1].recording_failed);
}

#[test]
fn agent_states_legs_and_monitoring_are_stored_and_listed() {
    use hotline_record::{
        list_agent_states, list_legs, list_monitoring, AgentStateChange, CallLeg, MonitorUse,
    };
    let db = common::scratch_dir("journal").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let at = offered(9);
    let change = AgentStateChange {
        region: Some("luoyang".into()),
        at,
        agent: "1003".into(),
        from: Some(hotline_record::SeatState::Available),
        to: hotline_record::SeatState::NotReady,
        reason: Some("training".into()),
    };
    store.save_agent_state(&change).unwrap();
    let id = CallId::generate(at, 9);
    let mut first = CallLeg {
        call_id: id.clone(),
        seq: 1,
        party: "1003".into(),
        kind: "agent".into(),
        started_at: at,
        ended_at: None,
    };
    store.save_leg(&first).unwrap();
    first.ended_at = Some(at + Duration::seconds(30));
    store.save_leg(&first).unwrap();
    let second = CallLeg {
        seq: 2,
        party: "1019".into(),
        kind: "transfer".into(),
        ended_at: None,
        ..first.clone()
    };
    store.save_leg(&second).unwrap();
    let audit = MonitorUse {
        at,
        supervisor: "1950".into(),
        agent: "1003".into(),
        call_id: Some(id.clone()),
        mode: "listen".into(),
        allowed: true,
        os_user: Some("zhangwei".into()),
    };
    store.save_monitor(&audit).unwrap();
    store.sync().unwrap();
    assert_eq!(list_agent_states(&db, None).unwrap(), vec![change]);
    assert!(list_agent_states(&db, Some(at + Duration::seconds(1)))
        .unwrap()
        .is_empty());
    assert_eq!(list_legs(&db, &id).unwrap(), vec![first, second]);
    assert_eq!(list_monitoring(&db).unwrap(), vec![audit]);
}

#[test]
fn a_call_out_keeps_its_direction_and_dialled_number() {
    use hotline_record::Direction;
    let db = common::scratch_dir("direction").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let mut call = record(11, 4);
    call.direction = Direction::Outbound;
    call.dialled = Some("13903790000".into());
    store.save(&call).unwrap();
    store.sync().unwrap();
    assert_eq!(list_calls(&db, None).unwrap(), vec![call]);
}

#[test]
fn a_call_out_that_reaches_the_number_closes_its_callbacks() {
    use hotline_record::{list_callbacks, Callback, CallbackKind};
    let db = common::scratch_dir("called-back").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let at = offered(6);
    for (i, number) in ["13903790000", "13903790000", "037961234567"]
        .iter()
        .enumerate()
    {
        store
            .save_callback(&Callback {
                id: 0,
                call_id: CallId::generate(at, i as u32),
                caller: (*number).into(),
                number: Some((*number).into()),
                region: Some("luoyang".into()),
                created_at: at,
                kind: CallbackKind::Abandoned,
                voicemail_path: None,
                state: "open".into(),
            })
            .unwrap();
    }
    store.called_back("13903790000").unwrap();
    store.sync().unwrap();
    let states: Vec<(Option<String>, String)> = list_callbacks(&db)
        .unwrap()
        .into_iter()
        .map(|c| (c.number, c.state))
        .collect();
    assert_eq!(
        states,
        [
            (Some("13903790000".into()), "called".into()),
            (Some("13903790000".into()), "called".into()),
            (Some("037961234567".into()), "open".into())
        ]
    );
}

#[test]
fn a_voicemail_without_audio_keeps_its_caller_by_number_only() {
    use hotline_record::{list_callbacks, Callback, CallbackKind};
    let db = common::scratch_dir("empty-voicemail").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let at = offered(7);
    let voicemail = |i: u32, number: Option<&str>| Callback {
        id: 0,
        call_id: CallId::generate(at, i),
        caller: number.unwrap_or("anonymous").into(),
        number: number.map(str::to_string),
        region: Some("luoyang".into()),
        created_at: at,
        kind: CallbackKind::Voicemail,
        voicemail_path: Some(format!("/vm/{i}.wav").into()),
        state: "open".into(),
    };
    store
        .save_callback(&voicemail(1, Some("13903790000")))
        .unwrap();
    store.save_callback(&voicemail(2, None)).unwrap();
    store
        .save_callback(&voicemail(3, Some("13903790001")))
        .unwrap();
    for i in [1, 2] {
        store
            .voicemail_without_audio(std::path::Path::new(&format!("/vm/{i}.wav")))
            .unwrap();
    }
    store.sync().unwrap();
    let rows: Vec<(Option<String>, Option<std::path::PathBuf>)> = list_callbacks(&db)
        .unwrap()
        .into_iter()
        .map(|c| (c.number, c.voicemail_path))
        .collect();
    assert_eq!(
        rows,
        vec![
            (Some("13903790000".into()), None),
            (Some("13903790001".into()), Some("/vm/3.wav".into())),
        ],
        "the silent caller with a number stays, without a file; the anonymous one goes"
    );
}

#[test]
fn a_stopping_switch_and_the_next_start_leave_no_record_open() {
    let db = common::scratch_dir("unfinished").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let mut queued = record(0, 1);
    queued.outcome = Outcome::Queued;
    let mut talking = record(1, 2);
    talking.outcome = Outcome::Answered;
    talking.answered_at = Some(talking.offered_at + Duration::seconds(5));
    let mut over = record(2, 3);
    over.outcome = Outcome::Abandoned;
    over.ended_at = Some(over.offered_at + Duration::seconds(9));
    over.hung_up_by = Some(HungUpBy::Caller);
    for r in [&queued, &talking, &over] {
        store.save(r).unwrap();
    }
    // Closed after every save queued before it: nothing stays open, finished calls keep
    // what they had.
    assert_eq!(store.finish_unfinished().unwrap(), 2);
    let calls = list_calls(&db, None).unwrap();
    let state: Vec<(Outcome, Option<HungUpBy>, bool)> = calls
        .iter()
        .map(|c| (c.outcome, c.hung_up_by, c.ended_at.is_some()))
        .collect();
    assert_eq!(
        state,
        [
            (Outcome::Failed, Some(HungUpBy::Switch), true),
            (Outcome::Answered, Some(HungUpBy::Switch), true),
            (Outcome::Abandoned, Some(HungUpBy::Caller), true),
        ]
    );
    assert_eq!(calls[2].ended_at, over.ended_at);

    // A switch killed with a call open: the next start closes it.
    let mut open = record(3, 4);
    open.outcome = Outcome::Ivr;
    store.save(&open).unwrap();
    store.sync().unwrap();
    drop(store);
    let _again = CallStore::open(&db).unwrap();
    let calls = list_calls(&db, None).unwrap();
    assert!(calls.iter().all(|c| c.ended_at.is_some()), "{calls:?}");
    assert_eq!(calls[3].outcome, Outcome::Failed);
}

#[test]
fn states_over_a_period_start_with_each_agents_state_at_its_start() {
    let db = common::scratch_dir("states-between").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let change =
        |minute: u32, agent: &str, from: &str, to: &str| hotline_record::AgentStateChange {
            region: None,
            at: offered(minute),
            agent: agent.into(),
            from: Some(from.parse().unwrap()),
            to: to.parse().unwrap(),
            reason: None,
        };
    for s in [
        change(1, "1003", "logged-out", "available"),
        change(2, "1003", "available", "talking"),
        change(4, "1003", "talking", "available"),
        change(1, "1004", "logged-out", "available"),
        change(3, "1005", "logged-out", "available"),
    ] {
        store.save_agent_state(&s).unwrap();
    }
    store.sync().unwrap();
    let rows = hotline_record::list_agent_states_between(&db, offered(3), offered(5)).unwrap();
    let seen: Vec<(u32, &str, &str, &str)> = rows
        .iter()
        .map(|s| {
            let minute = (s.at - offered(0)).num_minutes() as u32;
            let from = s.from.map_or("", |f| f.as_str());
            (minute, s.agent.as_str(), from, s.to.as_str())
        })
        .collect();
    assert_eq!(
        seen,
        [
            (3, "1003", "", "talking"),
            (3, "1004", "", "available"),
            (3, "1005", "logged-out", "available"),
            (4, "1003", "talking", "available"),
        ]
    );
}

#[test]
fn a_long_period_read_in_parallel_slices_comes_back_whole_and_in_order() {
    let db = common::scratch_dir("slices").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    let start = offered(0);
    let mut written = Vec::new();
    // Ninety days, a call every six hours, stored out of order.
    for n in (0..360u32).rev() {
        let at = start + Duration::hours(6 * i64::from(n));
        let r = CallRecord::new(CallId::generate(at, n), "03795551234", at);
        store.save(&r).unwrap();
        written.push(r);
    }
    store.sync().unwrap();
    written.sort_by_key(|r| r.offered_at);
    let read = hotline_record::list_calls_between(&db, start, start + Duration::days(90)).unwrap();
    assert_eq!(read, written);
    let some = hotline_record::list_calls_between(
        &db,
        start + Duration::days(30),
        start + Duration::days(60),
    )
    .unwrap();
    assert_eq!(some.len(), 120);
    assert!(some.windows(2).all(|w| w[0].offered_at < w[1].offered_at));
}
