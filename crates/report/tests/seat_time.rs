//! Staffing (`report intervals`) and agents' time (`report agents`) are the same whether
//! worked out from the state changes or from the seat time the store sums as they arrive:
//! random days of three agents in two regions, both ways, for the province and a region.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hotline_record::{AgentStateChange, CallStore, SeatState};
use hotline_report::{Period, Report, SeatSource, Staffing, Value};
use proptest::prelude::*;

const STATES: [(SeatState, Option<&str>); 8] = [
    (SeatState::Available, None),
    (SeatState::Ringing, None),
    (SeatState::Talking, None),
    (SeatState::WrapUp, None),
    (SeatState::NotReady, Some("training")),
    (SeatState::NotReady, Some("no-answer")),
    (SeatState::Ringing, None),
    (SeatState::LoggedOut, None),
];

fn scratch(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    // Under cargo's scratch space for tests, which goes with the target directory (not the
    // machine's /tmp); the process id keeps concurrent runs apart.
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "hotline-report-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("calls.db")
}

/// Starts the evening before the reported day, so some agents are mid-state at midnight.
fn first_change() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 15, 0, 0).unwrap()
}

fn changes(steps: &[(usize, i64, usize)]) -> Vec<AgentStateChange> {
    let mut now = first_change();
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

fn numbers(r: &Report) -> Vec<Vec<f64>> {
    r.rows
        .iter()
        .map(|row| {
            row.values
                .iter()
                .map(|v| match v {
                    Value::Count(n) => *n as f64,
                    Value::Number(x) | Value::Share(x) => *x,
                    Value::Text(_) | Value::Empty => -1.0,
                })
                .collect()
        })
        .collect()
}

fn assert_close(a: &Report, b: &Report) {
    let (a, b) = (numbers(a), numbers(b));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        for (p, q) in x.iter().zip(y) {
            assert!((p - q).abs() < 1e-6, "{x:?}\n{y:?}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn seat_time_and_changes_give_the_same_staffing_and_agents(
        steps in prop::collection::vec((0usize..3, 0i64..4_000_000, 0usize..8), 1..60),
    ) {
        let db = scratch("seat-time");
        let store = CallStore::open(&db).unwrap();
        for c in changes(&steps) {
            store.save_agent_state(&c).unwrap();
        }
        store.sync().unwrap();
        let day = Period::day("2026-12-05").unwrap();
        let states = hotline_record::list_agent_states_between(&db, day.from, day.to).unwrap();
        let quarters = hotline_record::list_seat_quarters_between(&db, day.from, day.to)
            .unwrap()
            .unwrap();
        let days = hotline_record::list_seat_days_between(&db, day.from, day.to)
            .unwrap()
            .unwrap();
        let latest = quarters.latest.clone();
        prop_assert_eq!(&latest, &days.latest);
        prop_assert_eq!(&latest, &hotline_record::list_latest_states(&db).unwrap());
        let (quarters, days) = (quarters.rows, days.rows);
        let now = day.to;
        for region in [None, Some("luoyang")] {
            let wanted = |c: &AgentStateChange| region.is_none_or(|r| c.region.as_deref() == Some(r));
            let by_changes = Staffing::Changes { changes: &states, wanted: &wanted };
            let by_seat_time = Staffing::SeatTime { quarters: &quarters, latest: &latest, region };
            for minutes in [15, 60] {
                assert_close(
                    &hotline_report::intervals(&[], &by_changes, day, minutes, region, now),
                    &hotline_report::intervals(&[], &by_seat_time, day, minutes, region, now),
                );
            }
        }
        let all = |_: &str| true;
        assert_close(
            &hotline_report::agents(&[], &SeatSource::Changes(&states), &[], day, &[], all, day.to),
            &hotline_report::agents(
                &[],
                &SeatSource::SeatDays { days: &days, latest: &latest },
                &[],
                day,
                &[],
                all,
                day.to,
            ),
        );
    }
}
