//! `report agents`: per agent over the period, what the Hangzhou and Guangzhou centres
//! judge a seat by: calls offered (their phone rang), answered, let ring out, answer time
//! and the share within three rings, talk, wrap-up and handling time, not-ready time by
//! reason, logged-in time, occupancy (busy with calls over logged in and not paused),
//! transfers handed on, calls out, the satisfaction survey, and 报工号.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use hotline_record::{AgentStateChange, CallLeg, CallRecord, Direction};

use crate::facts::{secs, Facts};
use crate::period::Period;
use crate::staffing::{stretches, STATES};
use crate::table::{Column, Report, Row, Value};

const COLUMNS: [Column; 23] = [
    Column {
        key: "agent",
        heading: "工号",
    },
    Column {
        key: "offered",
        heading: "振铃",
    },
    Column {
        key: "answered",
        heading: "接听",
    },
    Column {
        key: "rang_out",
        heading: "未接",
    },
    Column {
        key: "answer_secs",
        heading: "平均应答秒",
    },
    Column {
        key: "within_three_rings",
        heading: "三声接听率",
    },
    Column {
        key: "talk_secs",
        heading: "通话秒",
    },
    Column {
        key: "aht_secs",
        heading: "平均处理秒",
    },
    Column {
        key: "wrap_up_secs",
        heading: "小结秒",
    },
    Column {
        key: "training_secs",
        heading: "培训秒",
    },
    Column {
        key: "meeting_secs",
        heading: "会议秒",
    },
    Column {
        key: "paperwork_secs",
        heading: "文书秒",
    },
    Column {
        key: "break_secs",
        heading: "休息秒",
    },
    Column {
        key: "lunch_secs",
        heading: "午餐秒",
    },
    Column {
        key: "other_not_ready_secs",
        heading: "其他未就绪秒",
    },
    Column {
        key: "logged_in_secs",
        heading: "登录秒",
    },
    Column {
        key: "occupancy",
        heading: "占用率",
    },
    Column {
        key: "transfers",
        heading: "转办",
    },
    Column {
        key: "calls_out",
        heading: "外呼",
    },
    Column {
        key: "survey_average",
        heading: "满意度均分",
    },
    Column {
        key: "surveys",
        heading: "评价数",
    },
    Column {
        key: "announced",
        heading: "报工号率",
    },
    Column {
        key: "calls",
        heading: "通话数",
    },
];

/// The report over `period`: one row per agent `wanted` keeps who appears in it (or is
/// listed in `roster`, the plan's agents, so an idle agent shows as idle).
pub fn agents(
    calls: &[CallRecord],
    states: &[AgentStateChange],
    legs: &[CallLeg],
    period: Period,
    roster: &[String],
    wanted: impl Fn(&str) -> bool,
) -> Report {
    // Who appears: a hash set first (millions of rows), ordered once at the end.
    let mut seen: HashSet<&str> = roster.iter().map(String::as_str).collect();
    seen.extend(states.iter().map(|s| s.agent.as_str()));
    seen.extend(calls.iter().filter_map(|c| c.agent.as_deref()));
    let ids: BTreeSet<&str> = seen.into_iter().collect();
    let time = state_time(states, period, &wanted);
    // Grouped once, so a year of a province is not searched once per agent.
    let mut answered: HashMap<&str, Vec<Facts<'_>>> = HashMap::new();
    let mut out: BTreeMap<&str, u64> = BTreeMap::new();
    for c in calls {
        let f = Facts::of(c);
        match (c.direction, c.agent.as_deref()) {
            (Direction::Outbound, _) => *out.entry(c.caller_raw.as_str()).or_default() += 1,
            (Direction::Inbound, Some(a)) if f.answered => answered.entry(a).or_default().push(f),
            _ => {}
        }
    }
    let mut changes: HashMap<&str, Vec<&AgentStateChange>> = HashMap::new();
    for s in states {
        changes.entry(s.agent.as_str()).or_default().push(s);
    }
    let mut last_seq: HashMap<&str, u32> = HashMap::new();
    for l in legs {
        let seq = last_seq.entry(l.call_id.as_str()).or_default();
        *seq = (*seq).max(l.seq);
    }
    let mut transfers: BTreeMap<&str, u64> = BTreeMap::new();
    for l in legs {
        if last_seq
            .get(l.call_id.as_str())
            .is_some_and(|last| *last > l.seq)
        {
            *transfers.entry(l.party.as_str()).or_default() += 1;
        }
    }
    let rows = ids
        .into_iter()
        .filter(|a| wanted(a))
        .map(|agent| {
            let seat = Seat {
                agent,
                changes: changes.get(agent).map(Vec::as_slice).unwrap_or_default(),
                answered: answered.get(agent).map(Vec::as_slice).unwrap_or_default(),
                transfers: transfers.get(agent).copied().unwrap_or(0),
                calls_out: out.get(agent).copied().unwrap_or(0),
                time: time.get(agent).copied().unwrap_or([0.0; STATES.len()]),
            };
            row(&seat)
        })
        .collect();
    Report {
        title: format!("坐席绩效 agents {}", period.label()),
        columns: COLUMNS.to_vec(),
        rows,
    }
}

/// Seconds each agent spent in each [`STATES`] column within the period.
fn state_time<'a>(
    states: &'a [AgentStateChange],
    period: Period,
    wanted: &impl Fn(&str) -> bool,
) -> BTreeMap<&'a str, [f64; STATES.len()]> {
    let mut out: BTreeMap<&str, [f64; STATES.len()]> = BTreeMap::new();
    for s in stretches(states, period.to, wanted) {
        let overlap = s.to.min(period.to) - s.from.max(period.from);
        if overlap.num_milliseconds() > 0 {
            if let Some(cell) = out.entry(s.agent).or_default().get_mut(s.column) {
                *cell += secs(overlap);
            }
        }
    }
    out
}

/// Seconds in state `key` of a row of [`state_time`].
fn spent(t: &[f64; STATES.len()], key: &str) -> f64 {
    STATES
        .iter()
        .position(|(k, _)| *k == key)
        .and_then(|i| t.get(i))
        .copied()
        .unwrap_or(0.0)
}

/// One agent's rows, grouped.
struct Seat<'s, 'a> {
    agent: &'s str,
    /// Their state at the start of the period, then their changes.
    changes: &'s [&'a AgentStateChange],
    answered: &'s [Facts<'a>],
    transfers: u64,
    calls_out: u64,
    time: [f64; STATES.len()],
}

fn row(seat: &Seat<'_, '_>) -> Row {
    let (agent, answered, t) = (seat.agent, seat.answered, seat.time);
    // A row with no state left is the agent's state at the period's start, not a change.
    let changes: Vec<&AgentStateChange> = seat
        .changes
        .iter()
        .copied()
        .filter(|s| !s.from.is_empty())
        .collect();
    let offered = changes.iter().filter(|s| s.to == "ringing").count() as u64;
    let rang_out = changes
        .iter()
        .filter(|s| s.from == "ringing" && s.to != "talking" && s.to != "logged-out")
        .count() as u64;
    let n = answered.len() as u64;
    let rings: Vec<f64> = answered.iter().filter_map(|f| f.ring.map(secs)).collect();
    let handling: Vec<f64> = answered
        .iter()
        .filter_map(|f| f.handling.map(secs))
        .collect();
    let surveys: Vec<f64> = answered
        .iter()
        .filter_map(|f| f.call.survey_score.map(f64::from))
        .collect();
    let through_menu = answered.iter().filter(|f| f.ivr_visit).count() as u64;
    let announced = answered
        .iter()
        .filter(|f| f.ivr_visit && f.call.agent_announced)
        .count() as u64;
    let (transfers, calls_out) = (seat.transfers, seat.calls_out);
    let busy = spent(&t, "talking") + spent(&t, "ringing") + spent(&t, "wrap-up");
    let available = spent(&t, "available");
    let logged_in: f64 = t.iter().sum();
    let secs_of = |key: &str| Value::Number(spent(&t, key));
    // In the order the calls were read: by time.
    let ids: Vec<String> = answered
        .iter()
        .map(|f| f.call.call_id.to_string())
        .collect();
    Row {
        values: vec![
            Value::Text(agent.to_string()),
            Value::Count(offered),
            Value::Count(n),
            Value::Count(rang_out),
            Value::mean(&rings),
            Value::share(
                answered.iter().filter(|f| f.within_three_rings()).count() as u64,
                n,
            ),
            Value::Number(handling.iter().sum()),
            Value::mean(&handling),
            secs_of("wrap-up"),
            secs_of("training"),
            secs_of("meeting"),
            secs_of("paperwork"),
            secs_of("break"),
            secs_of("lunch"),
            secs_of("not-ready"),
            Value::Number(logged_in),
            if busy + available > 0.0 {
                Value::Share(busy / (busy + available))
            } else {
                Value::Empty
            },
            Value::Count(transfers),
            Value::Count(calls_out),
            Value::mean(&surveys),
            Value::Count(surveys.len() as u64),
            Value::share(announced, through_menu),
            Value::Count(n),
        ],
        calls: ids,
    }
}
