//! Staffing per interval: how many agents were in each state on average, as the Hangzhou
//! table counts them: 接听 talking, 空闲 available, 小结 wrap-up, and not ready by reason:
//! 培训 training, 会议 meeting, 文书 paperwork, 休息 break, 午餐 lunch. Worked out from the
//! `agent_states` rows (each agent's state at the start of the period, then every change)
//! or, for periods of whole quarter hours, from the seat time the store sums per quarter and
//! region as the changes arrive; both give the same figures.

use foldhash::HashMap;

use chrono::{DateTime, Utc};
use hotline_record::{AgentStateChange, SeatColumn, SeatQuarter, SeatState};

use crate::period::Period;

/// The columns a staffing row has, in [`SeatColumn::ALL`] order, with their headings.
pub const STATES: [(&str, &str); 10] = [
    ("talking", "接听"),
    ("ringing", "振铃"),
    ("available", "空闲"),
    ("wrap-up", "小结"),
    ("training", "培训"),
    ("meeting", "会议"),
    ("paperwork", "文书"),
    ("break", "休息"),
    ("lunch", "午餐"),
    ("not-ready", "其他未就绪"),
];

/// The column a state row counts under: not-ready by its reason, an unlisted reason under
/// the other not-ready column; logged-out counts nowhere.
pub fn column(state: SeatState, reason: Option<&str>) -> Option<usize> {
    SeatColumn::of(state, reason).map(SeatColumn::index)
}

/// One agent in one state (a [`STATES`] column) from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stretch<'a> {
    /// The agent.
    pub agent: &'a str,
    /// When it began.
    pub from: DateTime<Utc>,
    /// When it ended (the end of the period for the state each agent is still in).
    pub to: DateTime<Utc>,
    /// The state's column in [`STATES`].
    pub column: usize,
}

/// Where staffing is worked out from.
pub enum Staffing<'a> {
    /// Each agent's state at the period's start and every change in it, with the agents
    /// counted (by the change: its region, or the plan's).
    Changes {
        /// The rows, oldest first.
        changes: &'a [AgentStateChange],
        /// Whether an agent's row counts (asked at their first row).
        wanted: &'a dyn Fn(&AgentStateChange) -> bool,
    },
    /// The store's seat time per quarter hour and region, and each agent's latest change
    /// (the stretch they are in now); only for intervals of whole quarter hours.
    SeatTime {
        /// The quarters of the period.
        quarters: &'a [SeatQuarter],
        /// Each agent's latest change.
        latest: &'a [AgentStateChange],
        /// Only this region's agents, or all.
        region: Option<&'a str>,
    },
}

/// Whether every one of `intervals` is whole quarter hours, as [`Staffing::SeatTime`] needs.
pub fn whole_quarters(intervals: &[Period]) -> bool {
    let quarter = hotline_record::SEAT_QUARTER_MS;
    intervals
        .iter()
        .all(|p| p.from.timestamp_millis() % quarter == 0 && p.to.timestamp_millis() % quarter == 0)
}

/// Average agents per state (in [`STATES`] order) over each of `intervals`, as of `now`:
/// the state each agent is in counts until then (or the last interval's end), not into
/// quarters still to come.
pub fn staffing(
    source: &Staffing<'_>,
    intervals: &[Period],
    now: DateTime<Utc>,
) -> Vec<[f64; STATES.len()]> {
    let mut out = vec![[0.0; STATES.len()]; intervals.len()];
    let Some(end) = intervals.last().map(|p| p.to.min(now)) else {
        return out;
    };
    let bounds: Vec<(i64, i64)> = intervals
        .iter()
        .map(|p| (p.from.timestamp_millis(), p.to.timestamp_millis()))
        .collect();
    match source {
        Staffing::Changes { changes, wanted } => {
            stretches(changes, end, wanted, |s| add(&mut out, &bounds, &s));
        }
        Staffing::SeatTime {
            quarters,
            latest,
            region,
        } => {
            for q in quarters
                .iter()
                .filter(|q| region.is_none_or(|r| q.region == r))
            {
                let at = q.quarter.timestamp_millis();
                let slot = bounds.partition_point(|(_, b)| *b <= at);
                if let (Some(row), Some((a, b))) = (out.get_mut(slot), bounds.get(slot)) {
                    if *a <= at && b > a {
                        for (cell, ms) in row.iter_mut().zip(q.ms) {
                            *cell += ms as f64 / (b - a) as f64;
                        }
                    }
                }
            }
            // The stretch each agent is in now is not summed yet: as the changes count it.
            for c in latest
                .iter()
                .filter(|c| region.is_none_or(|r| c.region.as_deref() == Some(r)))
            {
                if let Some(column) = column(c.to, c.reason.as_deref()) {
                    let s = Stretch {
                        agent: &c.agent,
                        from: c.at,
                        to: end.max(c.at),
                        column,
                    };
                    add(&mut out, &bounds, &s);
                }
            }
        }
    }
    out
}

/// Adds stretch `s` to the rows of the intervals it overlaps, found by a binary search: a
/// year of quarter hours and millions of stretches stay linear. In milliseconds, since this
/// is the inner loop of a year.
fn add(out: &mut [[f64; STATES.len()]], bounds: &[(i64, i64)], s: &Stretch<'_>) {
    let (from, to) = (s.from.timestamp_millis(), s.to.timestamp_millis());
    let first = bounds.partition_point(|(_, b)| *b <= from);
    let (Some(slots), Some(spans)) = (out.get_mut(first..), bounds.get(first..)) else {
        return;
    };
    for (slot, (a, b)) in slots.iter_mut().zip(spans) {
        if *a >= to {
            break;
        }
        let overlap = to.min(*b) - from.max(*a);
        if overlap > 0 && b > a {
            if let Some(cell) = slot.get_mut(s.column) {
                *cell += overlap as f64 / (b - a) as f64;
            }
        }
    }
}

/// Hands `visit` the agents' state stretches from their changes, up to `end`; logged-out
/// time is none. Visited one by one: a year is millions of them.
pub fn stretches<'a>(
    changes: &'a [AgentStateChange],
    end: DateTime<Utc>,
    wanted: impl Fn(&AgentStateChange) -> bool,
    mut visit: impl FnMut(Stretch<'a>),
) {
    // Each agent's open stretch, counted when the change that opened it is `wanted` (an
    // agent who moves region mid-period counts in each region for the time they sat there).
    let mut current: HashMap<&str, (DateTime<Utc>, Option<usize>)> = HashMap::default();
    for c in changes {
        let (since, col) = current.entry(&c.agent).or_insert((c.at, None));
        if let Some(prev) = *col {
            visit(Stretch {
                agent: &c.agent,
                from: *since,
                to: c.at,
                column: prev,
            });
        }
        *since = c.at;
        *col = column(c.to, c.reason.as_deref()).filter(|_| wanted(c));
    }
    for (agent, (since, col)) in current {
        if let Some(col) = col {
            visit(Stretch {
                agent,
                from: since,
                to: end.max(since),
                column: col,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: &str, agent: &str, to: &str, reason: Option<&str>) -> AgentStateChange {
        AgentStateChange {
            region: None,
            at: DateTime::parse_from_rfc3339(at)
                .unwrap()
                .with_timezone(&Utc),
            agent: agent.into(),
            from: None,
            to: to.parse().unwrap(),
            reason: reason.map(Into::into),
        }
    }

    #[test]
    fn agents_are_counted_for_the_share_of_the_interval_they_spent_in_each_state() {
        let p = Period::range("2026-12-05T09:00:00+08:00", "2026-12-05T09:30:00+08:00").unwrap();
        let slices = p.intervals(15);
        let changes = [
            change("2026-12-05T09:00:00+08:00", "1003", "available", None),
            change("2026-12-05T09:05:00+08:00", "1003", "talking", None),
            change(
                "2026-12-05T09:20:00+08:00",
                "1003",
                "not-ready",
                Some("training"),
            ),
            change(
                "2026-12-05T09:00:00+08:00",
                "1004",
                "not-ready",
                Some("meeting"),
            ),
            change("2026-12-05T09:15:00+08:00", "1004", "logged-out", None),
        ];
        let all = |_: &AgentStateChange| true;
        let source = Staffing::Changes {
            changes: &changes,
            wanted: &all,
        };
        let rows = staffing(&source, &slices, p.to);
        let col = |k: &str| STATES.iter().position(|(s, _)| *s == k).unwrap();
        let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(near(rows[0][col("available")], 1.0 / 3.0));
        assert!(near(rows[0][col("talking")], 2.0 / 3.0));
        assert!(near(rows[0][col("meeting")], 1.0));
        assert!(near(rows[1][col("talking")], 1.0 / 3.0));
        assert!(near(rows[1][col("training")], 2.0 / 3.0));
        assert!(
            near(rows[1][col("meeting")], 0.0),
            "logged out counts nowhere"
        );
        let only_1004 = |c: &AgentStateChange| c.agent == "1004";
        let source = Staffing::Changes {
            changes: &changes,
            wanted: &only_1004,
        };
        let only_1004 = staffing(&source, &slices, p.to);
        assert!(near(only_1004[0][col("talking")], 0.0));
    }

    #[test]
    fn the_state_an_agent_is_in_counts_until_now_not_into_the_quarters_to_come() {
        let p = Period::range("2026-12-05T09:00:00+08:00", "2026-12-05T09:30:00+08:00").unwrap();
        let slices = p.intervals(15);
        let changes = [change(
            "2026-12-05T09:00:00+08:00",
            "1003",
            "available",
            None,
        )];
        let all = |_: &AgentStateChange| true;
        let source = Staffing::Changes {
            changes: &changes,
            wanted: &all,
        };
        let now = DateTime::parse_from_rfc3339("2026-12-05T09:20:00+08:00")
            .unwrap()
            .with_timezone(&Utc);
        let rows = staffing(&source, &slices, now);
        let available = STATES.iter().position(|(k, _)| *k == "available").unwrap();
        assert_eq!(rows[0][available], 1.0);
        assert!((rows[1][available] - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn the_staffing_columns_are_the_seat_time_columns() {
        let keys: Vec<&str> = STATES.iter().map(|(k, _)| *k).collect();
        let seat: Vec<&str> = SeatColumn::ALL.iter().map(|c| c.key()).collect();
        assert_eq!(keys, seat);
    }
}
