//! The call summaries the reports read: the same calls, field for field, as the full
//! records say, whatever was written when; kept by the store's triggers and filled in for a
//! store written before they existed.

mod common;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_record::{
    list_calls_between, list_summaries_between, AbandonStage, CallId, CallRecord, CallStore,
    CallSummary, Direction, HungUpBy, Outcome,
};
use proptest::prelude::*;

fn at(ms: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap() + Duration::milliseconds(ms)
}

/// Reads both ways over a day and compares.
fn assert_summaries_match(db: &std::path::Path) -> Vec<CallSummary> {
    let (from, to) = (at(-3_600_000), at(86_400_000));
    let full: Vec<CallSummary> = list_calls_between(db, from, to)
        .unwrap()
        .iter()
        .map(CallSummary::from)
        .collect();
    let summaries = list_summaries_between(db, from, to).unwrap();
    assert_eq!(summaries, full);
    summaries
}

/// A call with every field the reports read, offered `ms` after 09:00 Beijing.
fn varied(n: u32, ms: i64) -> CallRecord {
    let offered = at(ms);
    let mut c = CallRecord::new(CallId::generate(offered, n), "13903790000", offered);
    c.caller_normalized = Some("+8613903790000".into());
    c.region = Some("luoyang".into());
    c.origin = Some("in_province".into());
    c.ivr_node = Some("tax".into());
    c.skill = Some("invoices".into());
    c.queued_at = Some(offered + Duration::milliseconds(12_345));
    c
}

#[test]
fn finished_and_open_calls_read_the_same_from_summaries_as_from_records() {
    let db = common::scratch_dir("summaries").join("calls.db");
    let store = CallStore::open(&db).unwrap();
    // Answered, survey scored after the end, recorded.
    let mut a = varied(1, 1);
    store.save(&a).unwrap();
    a.outcome = Outcome::Answered;
    a.agent = Some("1003".into());
    a.answered_at = Some(a.offered_at + Duration::milliseconds(20_001));
    a.ring_ms = Some(4_321);
    a.agent_announced = true;
    a.recording_path = Some("/tmp/x.wav".into());
    store.save(&a).unwrap();
    a.ended_at = Some(a.offered_at + Duration::milliseconds(300_999));
    a.hung_up_by = Some(HungUpBy::Caller);
    store.save(&a).unwrap();
    a.survey_score = Some(1);
    store.save(&a).unwrap();
    // Gave up while ringing, overflowed.
    let mut b = varied(2, 1);
    b.outcome = Outcome::Abandoned;
    b.abandoned_in = Some(AbandonStage::Ringing);
    b.overflowed = true;
    b.ended_at = Some(b.offered_at + Duration::seconds(40));
    store.save(&b).unwrap();
    // Recording failed; a call out.
    let mut c = varied(3, 59_999);
    c.outcome = Outcome::Answered;
    c.direction = Direction::Outbound;
    c.dialled = Some("13903790000".into());
    c.recording_path = Some("/tmp/y.wav".into());
    c.recording_failed = true;
    c.answered_at = Some(c.offered_at);
    c.ended_at = Some(c.offered_at + Duration::seconds(9));
    store.save(&c).unwrap();
    // Still going: read from its record.
    let mut d = varied(4, 30_000);
    d.outcome = Outcome::Queued;
    store.save(&d).unwrap();
    store.sync().unwrap();
    let seen = assert_summaries_match(&db);
    let ids: Vec<&CallId> = seen.iter().map(|s| &s.call_id).collect();
    assert_eq!(ids, [&a.call_id, &b.call_id, &d.call_id, &c.call_id]);
    assert!(
        seen[0].recorded && !seen[3].recorded,
        "a failed recording is none"
    );
    assert_eq!(seen[0].survey_score, Some(1), "a score given after the end");
    // It finishes: now from its summary, still once.
    d.outcome = Outcome::Answered;
    d.ended_at = Some(d.offered_at + Duration::seconds(100));
    store.save(&d).unwrap();
    store.sync().unwrap();
    assert_eq!(assert_summaries_match(&db).len(), 4);
}

#[test]
fn a_store_written_before_summaries_gets_them_filled_in() {
    let db = common::scratch_dir("summaries-old").join("calls.db");
    {
        let store = CallStore::open(&db).unwrap();
        for n in 0..5u32 {
            let mut c = varied(n, i64::from(n) * 1_000);
            c.outcome = Outcome::Abandoned;
            c.abandoned_in = Some(AbandonStage::Queue);
            c.ended_at = Some(c.offered_at + Duration::seconds(30));
            store.save(&c).unwrap();
        }
        store.sync().unwrap();
    }
    // As an older switch left it: no summaries, no triggers.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DROP TRIGGER call_summaries_insert; DROP TRIGGER call_summaries_update;
         DROP TRIGGER call_summaries_delete; DROP TABLE call_summaries;",
    )
    .unwrap();
    drop(conn);
    assert_eq!(assert_summaries_match(&db).len(), 5);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// Any mix of finished and open calls, written in any number of steps, reads the same
    /// both ways.
    #[test]
    fn summaries_always_match_the_records(
        calls in prop::collection::vec(
            (0i64..86_000_000, any::<bool>(), any::<bool>(), 0u8..4, any::<bool>(), 0u64..60_000),
            1..12,
        )
    ) {
        let db = common::scratch_dir("summaries-prop").join("calls.db");
        let store = CallStore::open(&db).unwrap();
        for (n, (ms, answered, finished, score, overflowed, ring)) in calls.into_iter().enumerate() {
            let mut c = varied(n as u32, ms);
            store.save(&c).unwrap();
            if answered {
                c.outcome = Outcome::Answered;
                c.agent = Some(format!("10{n:02}"));
                c.answered_at = Some(c.offered_at + Duration::milliseconds(ring as i64 + 7));
                c.ring_ms = Some(ring);
                c.recording_path = Some(format!("/tmp/{n}.wav").into());
            } else {
                c.outcome = Outcome::Abandoned;
                c.abandoned_in = Some(AbandonStage::Queue);
            }
            c.overflowed = overflowed;
            c.survey_score = (score > 0).then_some(score);
            if finished {
                c.ended_at = Some(c.offered_at + Duration::milliseconds(ms % 999_999 + 1));
            }
            store.save(&c).unwrap();
        }
        store.sync().unwrap();
        assert_summaries_match(&db);
    }
}
