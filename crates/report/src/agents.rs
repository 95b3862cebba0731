//! `report agents`: per agent over the period, what the Hangzhou and Guangzhou centres
//! judge a seat by: calls offered (their phone rang), answered, let ring out, answer time
//! and the share within three rings, talk, wrap-up and handling time, not-ready time by
//! reason, logged-in time, occupancy (busy with calls over logged in and not paused),
//! transfers handed on, calls out, the satisfaction survey, and 报工号.

use foldhash::HashMap;

use chrono::Duration;
use hotline_record::{AgentStateChange, CallLeg, CallSummary, Direction, SeatDay, SeatState};

use crate::facts::{secs, Facts};
use crate::period::Period;
use crate::staffing::{column, stretches, STATES};
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

/// Where an agent's time and phone counts come from.
pub enum SeatSource<'a> {
    /// Each agent's state at the period's start and every change in it.
    Changes(&'a [AgentStateChange]),
    /// The store's seat time per Beijing day and agent, and each agent's latest change (the
    /// stretch they are in now); only for periods of whole Beijing days.
    SeatDays {
        /// The days of the period.
        days: &'a [SeatDay],
        /// Each agent's latest change.
        latest: &'a [AgentStateChange],
    },
}

/// Whether `period` is whole Beijing days, as [`SeatSource::SeatDays`] needs.
pub fn whole_days(period: &Period) -> bool {
    let midnight = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&crate::period::beijing()).time() == chrono::NaiveTime::MIN
    };
    midnight(period.from) && midnight(period.to)
}

/// The report over `period` as of `now` (the state each agent is in counts until then): one
/// row per agent `wanted` keeps who appears in it (or is listed in `roster`, the plan's
/// agents, so an idle agent shows as idle).
pub fn agents(
    calls: &[CallSummary],
    source: &SeatSource<'_>,
    legs: &[CallLeg],
    period: Period,
    roster: &[String],
    wanted: impl Fn(&str) -> bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Report {
    let until = period.to.min(now).max(period.from);
    // One seat per agent, filled by one pass over each kind of row: a year of a province is
    // millions of rows, so each costs one lookup in a fast hash map, ordered once at the end.
    let mut seats: Seats<'_> = HashMap::default();
    for agent in roster {
        seats.entry(agent).or_default();
    }
    let add_time = |seats: &mut Seats<'_>, agent: &str, column: usize, overlap: Duration| {
        if overlap.num_milliseconds() > 0 {
            if let Some(cell) = seats
                .get_mut(agent)
                .and_then(|seat| seat.time.get_mut(column))
            {
                *cell += secs(overlap);
            }
        }
    };
    match source {
        SeatSource::Changes(states) => {
            for s in states.iter() {
                let seat = seats.entry(&s.agent).or_default();
                // A row with no state left is the agent's state at the period's start.
                if s.from.is_some() && s.to == SeatState::Ringing {
                    seat.offered += 1;
                }
                if s.from == Some(SeatState::Ringing)
                    && !matches!(s.to, SeatState::Talking | SeatState::LoggedOut)
                {
                    seat.rang_out += 1;
                }
            }
            let chosen = |c: &AgentStateChange| wanted(&c.agent);
            stretches(states, until, chosen, |s| {
                let overlap = s.to.min(until) - s.from.max(period.from);
                add_time(&mut seats, s.agent, s.column, overlap);
            });
        }
        SeatSource::SeatDays { days, latest } => {
            for d in days.iter() {
                let seat = seats.entry(&d.agent).or_default();
                seat.offered += d.offered;
                seat.rang_out += d.rang_out;
                for (cell, ms) in seat.time.iter_mut().zip(d.ms) {
                    *cell += ms as f64 / 1000.0;
                }
            }
            // The stretch each agent is in now is not summed yet: as the changes count it.
            // An agent first seen after the period is none of its agents.
            for c in latest.iter().filter(|c| c.at < period.to) {
                seats.entry(&c.agent).or_default();
                if let Some(column) = column(c.to, c.reason.as_deref()) {
                    let overlap = until - c.at.max(period.from);
                    add_time(&mut seats, &c.agent, column, overlap);
                }
            }
        }
    }
    for c in calls {
        let f = Facts::of(c);
        match (c.direction, c.agent.as_deref()) {
            (Direction::Outbound, _) => seats.entry(&c.caller_raw).or_default().calls_out += 1,
            (Direction::Inbound, Some(a)) if f.answered => {
                seats.entry(a).or_default().answered.push(f)
            }
            (_, Some(a)) => {
                seats.entry(a).or_default();
            }
            _ => {}
        }
    }
    // A leg followed by another was handed on (转办) by its party.
    let mut last_seq: HashMap<&str, u32> = HashMap::default();
    for l in legs {
        let seq = last_seq.entry(l.call_id.as_str()).or_default();
        *seq = (*seq).max(l.seq);
    }
    for l in legs {
        if last_seq
            .get(l.call_id.as_str())
            .is_some_and(|last| *last > l.seq)
        {
            seats.entry(&l.party).or_default().transfers += 1;
        }
    }
    let mut seats: Vec<(&str, Seat<'_>)> = seats.into_iter().filter(|(a, _)| wanted(a)).collect();
    seats.sort_unstable_by(|a, b| a.0.cmp(b.0));
    Report {
        title: format!("坐席绩效 agents {}", period.label()),
        columns: COLUMNS.to_vec(),
        rows: seats.iter().map(|(agent, seat)| row(agent, seat)).collect(),
    }
}

/// Every agent's seat, by number.
type Seats<'a> = HashMap<&'a str, Seat<'a>>;

/// Seconds in state `key` of a seat's times.
fn spent(t: &[f64; STATES.len()], key: &str) -> f64 {
    STATES
        .iter()
        .position(|(k, _)| *k == key)
        .and_then(|i| t.get(i))
        .copied()
        .unwrap_or(0.0)
}

/// One agent's figures, gathered.
#[derive(Default)]
struct Seat<'a> {
    /// Their phone rang (a change to ringing).
    offered: u64,
    /// It stopped ringing without their answering.
    rang_out: u64,
    /// The calls they answered.
    answered: Vec<Facts<'a>>,
    /// Calls they handed on.
    transfers: u64,
    /// Their calls out.
    calls_out: u64,
    /// Seconds in each [`STATES`] column within the period.
    time: [f64; STATES.len()],
}

fn row(agent: &str, seat: &Seat<'_>) -> Row {
    let (answered, t) = (&seat.answered, seat.time);
    let (offered, rang_out) = (seat.offered, seat.rang_out);
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
