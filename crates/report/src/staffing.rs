//! Staffing per interval: how many agents were in each state on average, from the
//! `agent_states` rows (each agent's state at the start of the period, then every change),
//! as the Hangzhou table counts them: 接听 talking, 空闲 available, 小结 wrap-up, and not
//! ready by reason: 培训 training, 会议 meeting, 文书 paperwork, 休息 break, 午餐 lunch.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hotline_record::{AgentStateChange, SeatState};

use crate::period::Period;

/// The states a staffing row has a column for, in order, with their headings.
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
    let key = match (state, reason) {
        (SeatState::LoggedOut, _) => return None,
        (SeatState::NotReady, Some(r)) if STATES.iter().any(|(k, _)| *k == r) => r,
        (s, _) => s.as_str(),
    };
    STATES.iter().position(|(k, _)| *k == key)
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

/// Hands `visit` the agents' state stretches from their changes, up to `end`; logged-out
/// time is none. Visited one by one: a year is millions of them.
pub fn stretches<'a>(
    changes: &'a [AgentStateChange],
    end: DateTime<Utc>,
    wanted: impl Fn(&str) -> bool,
    mut visit: impl FnMut(Stretch<'a>),
) {
    let mut current: HashMap<&str, (DateTime<Utc>, Option<usize>)> = HashMap::new();
    for c in changes {
        let (since, col) = match current.get_mut(c.agent.as_str()) {
            Some(now) => now,
            None if wanted(&c.agent) => current.entry(&c.agent).or_insert((c.at, None)),
            None => continue,
        };
        if let Some(prev) = *col {
            visit(Stretch {
                agent: &c.agent,
                from: *since,
                to: c.at,
                column: prev,
            });
        }
        *since = c.at;
        *col = column(c.to, c.reason.as_deref());
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

/// Average agents per state (in [`STATES`] order) over each of `intervals`, for the agents
/// `wanted` keeps (a region's, or all).
pub fn staffing(
    changes: &[AgentStateChange],
    intervals: &[Period],
    wanted: impl Fn(&str) -> bool,
) -> Vec<[f64; STATES.len()]> {
    let mut out = vec![[0.0; STATES.len()]; intervals.len()];
    let Some(end) = intervals.last().map(|p| p.to) else {
        return out;
    };
    // Each stretch visits only the intervals it overlaps, found by a binary search: a year
    // of quarter hours and millions of state changes stay linear. In milliseconds, since
    // this is the inner loop of a year.
    let bounds: Vec<(i64, i64)> = intervals
        .iter()
        .map(|p| (p.from.timestamp_millis(), p.to.timestamp_millis()))
        .collect();
    stretches(changes, end, wanted, |s| {
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
    });
    out
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
        let rows = staffing(&changes, &slices, |_| true);
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
        let only_1004 = staffing(&changes, &slices, |a| a == "1004");
        assert!(near(only_1004[0][col("talking")], 0.0));
    }
}
