//! Staffing per interval: how many agents were in each state on average, from the
//! `agent_states` rows (each agent's state at the start of the period, then every change),
//! as the Hangzhou table counts them: 接听 talking, 空闲 available, 小结 wrap-up, and not
//! ready by reason: 培训 training, 会议 meeting, 文书 paperwork, 休息 break, 午餐 lunch.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hotline_record::AgentStateChange;

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

/// The column a state row counts under: not-ready by its reason, anything unknown under
/// the other not-ready column; logged-out counts nowhere.
pub fn column(state: &str, reason: Option<&str>) -> Option<usize> {
    let key = match (state, reason) {
        ("logged-out", _) => return None,
        ("not-ready", Some(r)) if STATES.iter().any(|(k, _)| *k == r) => r,
        ("not-ready", _) => "not-ready",
        (s, _) => s,
    };
    STATES
        .iter()
        .position(|(k, _)| *k == key)
        .or_else(|| STATES.iter().position(|(k, _)| *k == "not-ready"))
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

/// The agents' state stretches from their changes, up to `end`; logged-out time is none.
pub fn stretches<'a>(
    changes: &'a [AgentStateChange],
    end: DateTime<Utc>,
    wanted: impl Fn(&str) -> bool,
) -> Vec<Stretch<'a>> {
    let mut current: HashMap<&str, (DateTime<Utc>, Option<usize>)> = HashMap::new();
    let mut out = Vec::new();
    for c in changes.iter().filter(|c| wanted(&c.agent)) {
        let col = column(&c.to, c.reason.as_deref());
        if let Some((since, Some(prev))) = current.insert(&c.agent, (c.at, col)) {
            out.push(Stretch {
                agent: &c.agent,
                from: since,
                to: c.at,
                column: prev,
            });
        }
    }
    for (agent, (since, col)) in current {
        if let Some(col) = col {
            out.push(Stretch {
                agent,
                from: since,
                to: end.max(since),
                column: col,
            });
        }
    }
    out
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
    // Each stretch visits only the intervals it overlaps: a year of quarter hours and
    // millions of state changes stay linear.
    for s in stretches(changes, end, wanted) {
        let first = intervals.partition_point(|p| p.to <= s.from);
        for (slot, p) in out.iter_mut().zip(intervals).skip(first) {
            if p.from >= s.to {
                break;
            }
            let length = (p.to - p.from).num_milliseconds() as f64;
            let overlap = (s.to.min(p.to) - s.from.max(p.from)).num_milliseconds();
            if overlap > 0 && length > 0.0 {
                if let Some(cell) = slot.get_mut(s.column) {
                    *cell += overlap as f64 / length;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(at: &str, agent: &str, to: &str, reason: Option<&str>) -> AgentStateChange {
        AgentStateChange {
            at: DateTime::parse_from_rfc3339(at)
                .unwrap()
                .with_timezone(&Utc),
            agent: agent.into(),
            from: String::new(),
            to: to.into(),
            reason: reason.map(str::to_string),
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
