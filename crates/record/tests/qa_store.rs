//! The spot checks' tables: a period drawn once, redraws kept beside the first, reviews of
//! sampled calls only, an append-only audit chained row to row, written beside a running
//! call store.

mod common;

use chrono::{Duration, TimeZone, Utc};
use hotline_record::qa::{
    self, Action, AuditRow, NewAudit, NewDraw, NewReview, QaError, Scope, GENESIS_HASH,
};
use hotline_record::{CallId, CallRecord, CallStore};

/// Stands in for the binary's SHA-256: the store only links rows, whatever the hash.
fn seal(row: &AuditRow) -> String {
    format!("h{}:{}:{}", row.seq, row.action, row.prev_hash.len())
}

fn at(hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, hour, 0, 0).unwrap()
}

fn call(n: u32) -> CallId {
    CallId::generate(at(1) - Duration::days(5) + Duration::minutes(n.into()), n)
}

fn luoyang_week(reason: Option<&str>) -> NewDraw {
    NewDraw {
        scope: Scope::Office("luoyang".into()),
        period: "2026-W48".into(),
        rate_bp: 2000,
        seed: 0xfeed_beef,
        calls: 10,
        drawn_at: at(2),
        drawn_by: "qc-lead".into(),
        redraw_reason: reason.map(str::to_string),
        samples: vec![(call(1), "1003".into()), (call(7), "1019".into())],
        detail: "seed=00000000feedbeef".into(),
    }
}

fn store_with_calls(name: &str) -> std::path::PathBuf {
    let db = common::scratch_dir(name).join("calls.db");
    let store = CallStore::open(&db).unwrap();
    store
        .save(&CallRecord::new(call(1), "13903790000", at(1)))
        .unwrap();
    store.sync().unwrap();
    db
}

#[test]
fn a_week_is_drawn_once_and_a_redraw_keeps_the_first_draw() {
    let db = store_with_calls("draw-once");
    let first = qa::record_draw(&db, &luoyang_week(None), &seal).unwrap();
    let again = qa::record_draw(&db, &luoyang_week(None), &seal).unwrap_err();
    assert!(
        matches!(again, QaError::AlreadyDrawn { id, .. } if id == first.id),
        "{again}"
    );
    assert!(again.to_string().contains("--redraw --reason"), "{again}");
    let redraw = qa::record_draw(&db, &luoyang_week(Some("agent list was wrong")), &seal).unwrap();
    assert_eq!(redraw.redraw_of, Some(first.id));

    let draws = qa::list_draws(&db).unwrap();
    assert_eq!(draws, vec![first.clone(), redraw.clone()]);
    assert_eq!(draws[0].seed, 0xfeed_beef);
    assert_eq!(
        qa::list_samples(&db).unwrap().len(),
        4,
        "both draws' samples kept"
    );

    let audit = qa::list_audit(&db).unwrap();
    let actions: Vec<&str> = audit.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["draw", "redraw"]);
    assert_eq!(audit[0].prev_hash, GENESIS_HASH);
    assert_eq!(audit[1].prev_hash, audit[0].hash);
    assert_eq!(audit[1].reason, "agent list was wrong");
    assert_eq!(audit[1].subject, format!("draw {}", redraw.id));
}

#[test]
fn a_redraw_of_a_week_never_drawn_is_refused() {
    let db = store_with_calls("redraw-none");
    let err = qa::record_draw(&db, &luoyang_week(Some("why not")), &seal).unwrap_err();
    assert!(matches!(err, QaError::NothingToRedraw { .. }), "{err}");
    assert!(qa::list_draws(&db).unwrap().is_empty());
    assert!(
        qa::list_audit(&db).unwrap().is_empty(),
        "nothing half written"
    );
}

#[test]
fn only_sampled_calls_are_reviewed() {
    let db = store_with_calls("review");
    qa::record_draw(&db, &luoyang_week(None), &seal).unwrap();
    let review = |call_id: CallId| NewReview {
        call_id,
        score: 85,
        note: "礼貌，答复准确".into(),
        reviewer: "qc-07".into(),
        reviewed_at: at(3),
        detail: "score=85".into(),
    };
    let err = qa::record_review(&db, &review(call(2)), &seal).unwrap_err();
    assert!(matches!(err, QaError::NotSampled(_)), "{err}");
    let stored = qa::record_review(&db, &review(call(7)), &seal).unwrap();
    assert_eq!(qa::list_reviews(&db).unwrap(), vec![stored.clone()]);
    let audit = qa::list_audit(&db).unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "review");
    assert_eq!(last.call_id.as_deref(), Some(call(7).as_str()));
    assert_eq!(last.subject, format!("review {}", stored.id));
}

#[test]
fn the_qa_tables_refuse_updates_and_deletes() {
    let db = store_with_calls("append-only");
    qa::record_draw(&db, &luoyang_week(None), &seal).unwrap();
    let review = NewReview {
        call_id: call(1),
        score: 60,
        note: "未报工号".into(),
        reviewer: "qc-07".into(),
        reviewed_at: at(3),
        detail: String::new(),
    };
    qa::record_review(&db, &review, &seal).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    for sql in [
        "UPDATE qa_audit SET actor = 'nobody'",
        "DELETE FROM qa_audit",
        "UPDATE qa_draws SET seed = '0'",
        "DELETE FROM qa_samples",
        "DELETE FROM qa_reviews",
        "UPDATE qa_reviews SET score = 100",
    ] {
        let err = conn.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
}

#[test]
fn audit_rows_go_in_while_the_switch_writes_calls() {
    let db = store_with_calls("beside-switch");
    let store = CallStore::open(&db).unwrap();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for n in 0..400u32 {
                let mut r = CallRecord::new(call(1000 + n), "03796123456", at(1));
                r.region = Some("luoyang".into());
                store.save(&r).unwrap();
            }
            store.sync().unwrap();
        })
    };
    for n in 0..40u32 {
        let play = NewAudit {
            at: at(4) + Duration::seconds(n.into()),
            actor: format!("qc-{:02}", n % 3),
            action: Action::Play,
            call_id: Some(call(1)),
            subject: String::new(),
            reason: "spot check".into(),
            detail: String::new(),
        };
        qa::record_audit(&db, &play, &seal).unwrap();
    }
    writer.join().unwrap();
    assert_eq!(store.failed_saves(), 0, "the switch lost no call record");
    let audit = qa::list_audit(&db).unwrap();
    let seqs: Vec<i64> = audit.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, (1..=40).collect::<Vec<i64>>());
    assert!(audit.windows(2).all(|w| w[1].prev_hash == w[0].hash));
}

#[test]
fn a_database_from_before_the_spot_checks_reads_as_nothing_drawn() {
    let db = common::scratch_dir("old-db").join("calls.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE calls (call_id TEXT PRIMARY KEY)")
        .unwrap();
    assert!(qa::list_draws(&db).unwrap().is_empty());
    assert!(qa::list_audit(&db).unwrap().is_empty());
    // The first write creates the tables.
    qa::record_draw(&db, &luoyang_week(None), &seal).unwrap();
    assert_eq!(qa::list_draws(&db).unwrap().len(), 1);
}

#[test]
fn a_missing_database_is_an_error_not_a_new_file() {
    let db = common::scratch_dir("missing").join("typo.db");
    assert!(qa::record_draw(&db, &luoyang_week(None), &seal).is_err());
    assert!(!db.exists());
}

#[test]
fn a_call_of_a_draw_replaced_by_a_redraw_is_not_reviewed() {
    let db = store_with_calls("replaced");
    qa::record_draw(&db, &luoyang_week(None), &seal).unwrap();
    let mut redraw = luoyang_week(Some("wrong rate"));
    redraw.samples = vec![(call(3), "1003".into())];
    qa::record_draw(&db, &redraw, &seal).unwrap();
    let review = |call_id: CallId| NewReview {
        call_id,
        score: 90,
        note: "ok".into(),
        reviewer: "qc-07".into(),
        reviewed_at: at(3),
        detail: String::new(),
    };
    let err = qa::record_review(&db, &review(call(1)), &seal).unwrap_err();
    assert!(matches!(err, QaError::NotSampled(_)), "{err}");
    qa::record_review(&db, &review(call(3)), &seal).unwrap();
}
