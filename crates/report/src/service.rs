//! `report service`: per Beijing day and region, the five 100 %s (五个100%) as measured
//! figures, and the connection rate 接通率.
//!
//! - **Accepted** (受理): offered calls the switch took (menu or queue), not refused.
//! - **Agent number announced** (报工号): answered calls through the menu whose caller heard
//!   the agent's number, of those answered through the menu (without a menu there is none).
//! - **Recorded** (录音): answered calls with a recording, of those answered.
//! - **Answered or followed up** (办结): answered calls plus callers on the callback list who
//!   have been called back, of answered calls plus everyone on the callback list.
//! - **Connection rate** (接通率): answered / asked for an agent.

use std::collections::BTreeMap;

use hotline_record::{CallSummary, Callback, Outcome};

use crate::abandoned::FollowUps;
use crate::facts::Facts;
use crate::period::beijing;
use crate::table::{Column, Report, Row, Value};

const COLUMNS: [Column; 9] = [
    Column {
        key: "day",
        heading: "日期",
    },
    Column {
        key: "region",
        heading: "地区",
    },
    Column {
        key: "offered",
        heading: "进线",
    },
    Column {
        key: "accepted",
        heading: "受理率",
    },
    Column {
        key: "announced",
        heading: "报工号率",
    },
    Column {
        key: "recorded",
        heading: "录音率",
    },
    Column {
        key: "answered_or_followed_up",
        heading: "办结率",
    },
    Column {
        key: "connection_rate",
        heading: "接通率",
    },
    Column {
        key: "to_follow_up",
        heading: "待回访",
    },
];

/// The report over `calls` (and the callback list), one row per day and region.
pub fn service(calls: &[CallSummary], callbacks: &[Callback], region: Option<&str>) -> Report {
    // Keyed by date and a borrowed region: a year is a million calls, formatted per row.
    let mut groups: BTreeMap<(chrono::NaiveDate, &str), Vec<Facts<'_>>> = BTreeMap::new();
    for c in calls {
        let f = Facts::of(c);
        let r = c.region.as_deref().unwrap_or_default();
        if !f.inbound || region.is_some_and(|want| want != r) {
            continue;
        }
        let day = c.offered_at.with_timezone(&beijing()).date_naive();
        groups.entry((day, r)).or_default().push(f);
    }
    let follow = FollowUps::new(callbacks, calls);
    let rows = groups
        .into_iter()
        .map(|((day, r), facts)| {
            let day = day.format("%Y-%m-%d").to_string();
            row(day, r.to_string(), &facts, &follow)
        })
        .collect();
    Report {
        title: "五个100% service".to_string(),
        columns: COLUMNS.to_vec(),
        rows,
    }
}

fn row(day: String, region: String, facts: &[Facts<'_>], follow: &FollowUps<'_>) -> Row {
    let count = |f: &dyn Fn(&Facts<'_>) -> bool| facts.iter().filter(|x| f(x)).count() as u64;
    let offered = facts.len() as u64;
    let accepted = count(&|x| x.call.outcome != Outcome::Failed || x.asked_for_agent);
    let answered = count(&|x| x.answered);
    let through_menu = count(&|x| x.answered && x.ivr_visit);
    let announced = count(&|x| x.answered && x.ivr_visit && x.call.agent_announced);
    let recorded = count(&|x| x.answered && x.call.recorded);
    let asked = count(&|x| x.asked_for_agent);
    // Everyone of these calls on the callback list, and who of them was called back.
    let listed: Vec<&Facts<'_>> = facts.iter().filter(|x| follow.listed(x.call)).collect();
    let followed = listed.iter().filter(|x| follow.called_back(x.call)).count() as u64;
    let listed = listed.len() as u64;
    Row {
        values: vec![
            Value::Text(day),
            Value::Text(region),
            Value::Count(offered),
            Value::share(accepted, offered),
            Value::share(announced, through_menu),
            Value::share(recorded, answered),
            Value::share(answered + followed, answered + listed),
            Value::share(answered, asked),
            Value::Count(listed - followed),
        ],
        calls: facts.iter().map(|x| x.call.call_id.to_string()).collect(),
    }
}
