//! Seat time (per quarter and region, per day and agent) kept by the writer is what the
//! state changes add up to: written in one run, across a restart, or filled in for a store
//! that predates it.

mod common;

use std::collections::HashMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_record::{
    list_seat_days_between, list_seat_quarters_between, AgentStateChange, CallStore, SeatColumn,
    SeatMillis, SeatState,
};
use proptest::prelude::*;

const QUARTER: i64 = 15 * 60 * 1000;
const DAY: i64 = 24 * 60 * 60 * 1000;
const BEIJING: i64 = 8 * 60 * 60 * 1000;

fn start() -> DateTime<Utc> {
    // 22:00 Beijing: a day's end falls in every test.
    Utc.with_ymd_and_hms(2026, 12, 4, 14, 0, 0).unwrap()
}

/// Seat time worked out the plain way: every consecutive pair of an agent's changes, a
/// millisecond range added to each bucket it overlaps.
type Expected = (
    HashMap<(i64, String), SeatMillis>,
    HashMap<(i64, String), (SeatMillis, u64, u64)>,
);

fn expected(changes: &[AgentStateChange]) -> Expected {
    let mut quarters: HashMap<(i64, String), SeatMillis> = HashMap::new();
    let mut days: HashMap<(i64, String), (SeatMillis, u64, u64)> = HashMap::new();
    let mut last: HashMap<&str, &AgentStateChange> = HashMap::new();
    for c in changes {
        let at = c.at.timestamp_millis();
        if let Some(p) = last.get(c.agent.as_str()) {
            if let Some(col) = SeatColumn::of(p.to, p.reason.as_deref()) {
                let from = p.at.timestamp_millis();
                for (size, offset) in [(QUARTER, 0), (DAY, BEIJING)] {
                    let mut b = (from + offset).div_euclid(size) * size - offset;
                    while b < at {
                        let ms = (at.min(b + size) - from.max(b)) as u64;
                        if size == QUARTER {
                            let region = p.region.as_deref().unwrap_or("").to_string();
                            quarters.entry((b, region)).or_default()[col.index()] += ms;
                        } else {
                            days.entry((b, c.agent.to_string())).or_default().0[col.index()] += ms;
                        }
                        b += size;
                    }
                }
            }
        }
        let day = (at + BEIJING).div_euclid(DAY) * DAY - BEIJING;
        if c.from.is_some() && c.to == SeatState::Ringing {
            days.entry((day, c.agent.to_string())).or_default().1 += 1;
        }
        if c.from == Some(SeatState::Ringing)
            && !matches!(c.to, SeatState::Talking | SeatState::LoggedOut)
        {
            days.entry((day, c.agent.to_string())).or_default().2 += 1;
        }
        last.insert(&c.agent, c);
    }
    quarters.retain(|_, v| v.iter().any(|x| *x > 0));
    (quarters, days)
}

fn stored(db: &std::path::Path) -> Expected {
    let (from, to) = (start() - Duration::days(2), start() + Duration::days(3));
    let quarters = list_seat_quarters_between(db, from, to)
        .unwrap()
        .unwrap()
        .rows
        .into_iter()
        .map(|q| ((q.quarter.timestamp_millis(), q.region.to_string()), q.ms))
        .collect();
    let days = list_seat_days_between(db, from, to)
        .unwrap()
        .unwrap()
        .rows
        .into_iter()
        .map(|d| {
            (
                (d.day.timestamp_millis(), d.agent.to_string()),
                (d.ms, d.offered, d.rang_out),
            )
        })
        .collect();
    (quarters, days)
}

const STATES: [(SeatState, Option<&str>); 7] = [
    (SeatState::Available, None),
    (SeatState::Ringing, None),
    (SeatState::Talking, None),
    (SeatState::WrapUp, None),
    (SeatState::NotReady, Some("lunch")),
    (SeatState::NotReady, Some("no-answer")),
    (SeatState::LoggedOut, None),
];

/// Changes for three agents of two regions from `(agent, gap ms, state)` steps.
fn changes(steps: &[(usize, i64, usize)]) -> Vec<AgentStateChange> {
    let mut now = start();
    let mut current = [SeatState::LoggedOut; 3];
    steps
        .iter()
        .map(|(agent, gap, state)| {
            now += Duration::milliseconds(*gap);
            let (to, reason) = STATES[state % STATES.len()];
            let a = agent % 3;
            let from = Some(current[a]);
            current[a] = to;
            AgentStateChange {
                at: now,
                agent: format!("100{a}").into(),
                from,
                to,
                reason: reason.map(Into::into),
                region: Some(if a == 2 { "kaifeng" } else { "luoyang" }.into()),
            }
        })
        .collect()
}

fn save(db: &std::path::Path, changes: &[AgentStateChange]) {
    let store = CallStore::open(db).unwrap();
    for c in changes {
        store.save_agent_state(c).unwrap();
    }
    store.sync().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn seat_time_is_what_the_changes_add_up_to(
        steps in prop::collection::vec((0usize..3, 0i64..3_000_000, 0usize..7), 1..40),
        restart_at in 0usize..40,
    ) {
        let all = changes(&steps);
        let want = expected(&all);
        // In one run.
        let db = common::scratch_dir("seat-time").join("calls.db");
        save(&db, &all);
        prop_assert_eq!(stored(&db), want.clone());
        // Across a restart: the writer finds each agent's open stretch in their last row.
        let db = common::scratch_dir("seat-time-restart").join("calls.db");
        let (before, after) = all.split_at(restart_at.min(all.len()));
        save(&db, before);
        save(&db, after);
        prop_assert_eq!(stored(&db), want.clone());
        // A store from before seat time: filled in when opened.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DROP TABLE seat_quarters; DROP TABLE seat_days; DROP TABLE seat_time_mark;",
        )
        .unwrap();
        drop(conn);
        drop(CallStore::open(&db).unwrap());
        prop_assert_eq!(stored(&db), want.clone());
        // An older switch ran on it (rows written, no seat time added): the rows past the
        // mark are added when this version opens it again.
        let db = common::scratch_dir("seat-time-downgrade").join("calls.db");
        save(&db, before);
        let conn = rusqlite::Connection::open(&db).unwrap();
        for c in after {
            conn.execute(
                "INSERT INTO agent_states (at, agent, from_state, to_state, reason, region)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                rusqlite::params![
                    c.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    c.agent.as_str(),
                    c.from.map_or("", |f| f.as_str()),
                    c.to.as_str(),
                    c.reason.as_deref(),
                    c.region.as_deref(),
                ],
            )
            .unwrap();
        }
        drop(conn);
        drop(CallStore::open(&db).unwrap());
        prop_assert_eq!(stored(&db), want.clone());
        // Sums kept without a mark are counted again from the first row, not added to.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("DROP TABLE seat_time_mark;").unwrap();
        drop(conn);
        drop(CallStore::open(&db).unwrap());
        prop_assert_eq!(stored(&db), want);
    }
}

#[test]
fn a_change_stamped_before_the_last_one_is_recorded_at_the_last_ones_time() {
    let db = common::scratch_dir("seat-time-clock-back").join("calls.db");
    let mut all = changes(&[(0, 0, 0), (0, 600_000, 1)]);
    // The clock stepped back a minute before the second change.
    all[1].at = all[0].at - Duration::minutes(1);
    save(&db, &all);
    let rows = hotline_record::list_agent_states(&db, None).unwrap();
    assert_eq!(rows[1].at, all[0].at);
    let (_, days) = stored(&db);
    let (ms, offered, _) = days.values().next().unwrap();
    assert_eq!((ms.iter().sum::<u64>(), *offered), (0, 1));
}
