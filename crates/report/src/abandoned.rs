//! `report abandoned`: every caller who asked for an agent and gave up, with the number to
//! call back, when they asked, the menu node and queue they waited for (转人工结点), how
//! long they waited, where they gave up, and whether anyone has called them back since.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use hotline_record::{CallSummary, Callback, Direction};

use crate::facts::{secs, Facts};
use crate::mask::mask_number;
use crate::period::beijing;
use crate::table::{Column, Report, Row, Value};

const COLUMNS: [Column; 9] = [
    Column {
        key: "caller",
        heading: "来电号码",
    },
    Column {
        key: "asked_at",
        heading: "转人工时间",
    },
    Column {
        key: "node",
        heading: "转人工结点",
    },
    Column {
        key: "queue",
        heading: "队列",
    },
    Column {
        key: "region",
        heading: "地区",
    },
    Column {
        key: "waited_secs",
        heading: "等待秒",
    },
    Column {
        key: "gave_up",
        heading: "放弃环节",
    },
    Column {
        key: "short",
        heading: "短时放弃",
    },
    Column {
        key: "called_back",
        heading: "已回访",
    },
];

/// Who was called back, and who is on the callback list: built once per report so each
/// call is looked up, not searched for.
pub struct FollowUps<'a> {
    /// Calls with a callback row, and whether one of its rows is marked `called`.
    listed: HashMap<&'a str, bool>,
    /// Numbers reached by agents' calls out, with when.
    reached: HashMap<&'a str, Vec<DateTime<Utc>>>,
}

impl<'a> FollowUps<'a> {
    /// The follow-ups recorded in `callbacks` and in the calls out among `calls`.
    pub fn new(callbacks: &'a [Callback], calls: &'a [CallSummary]) -> FollowUps<'a> {
        let mut listed: HashMap<&str, bool> = HashMap::new();
        for cb in callbacks {
            *listed.entry(cb.call_id.as_str()).or_default() |= cb.state == "called";
        }
        let mut reached: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
        for c in calls {
            if let (Direction::Outbound, Some(_), Some(n)) =
                (c.direction, c.answered_at, c.dialled.as_deref())
            {
                reached.entry(n).or_default().push(c.offered_at);
            }
        }
        FollowUps { listed, reached }
    }

    /// Whether `call` is on the callback list.
    pub fn listed(&self, call: &CallSummary) -> bool {
        self.listed.contains_key(call.call_id.as_str())
    }

    /// Whether the caller of `call` was called back after it: a callback row of the call
    /// marked `called`, or a later call out that reached their number.
    pub fn called_back(&self, call: &CallSummary) -> bool {
        let by_row = self
            .listed
            .get(call.call_id.as_str())
            .copied()
            .unwrap_or(false);
        let number = call.caller_normalized.as_deref().unwrap_or_default();
        let by_call = !number.is_empty()
            && self
                .reached
                .get(number)
                .is_some_and(|times| times.iter().any(|t| *t > call.offered_at));
        by_row || by_call
    }
}

/// The abandoned callers among `calls` (of `region`, or all), oldest first; numbers of
/// calls `confidential` says are confidential are masked.
pub fn abandoned(
    calls: &[CallSummary],
    callbacks: &[Callback],
    region: Option<&str>,
    confidential: impl Fn(&CallSummary) -> bool,
) -> Report {
    let follow = FollowUps::new(callbacks, calls);
    let rows = calls
        .iter()
        .filter(|c| region.is_none_or(|r| c.region.as_deref() == Some(r)))
        .filter_map(|c| {
            let f = Facts::of(c);
            let stage = f.abandoned?;
            let number = c
                .caller_normalized
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(&c.caller_raw);
            let shown = if confidential(c) {
                mask_number(number)
            } else {
                number.to_string()
            };
            let text = |o: &Option<CompactString>| {
                Value::Text(o.as_deref().unwrap_or_default().to_string())
            };
            let asked = c
                .queued_at
                .map(|t| {
                    t.with_timezone(&beijing())
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string()
                })
                .unwrap_or_default();
            let yes_no = |b: bool| Value::Text(if b { "是" } else { "否" }.to_string());
            Some(Row {
                values: vec![
                    Value::Text(shown),
                    Value::Text(asked),
                    text(&c.ivr_node),
                    text(&c.skill),
                    text(&c.region),
                    f.wait.map_or(Value::Empty, |w| Value::Number(secs(w))),
                    Value::Text(stage.as_str().to_string()),
                    yes_no(f.short_abandon),
                    yes_no(follow.called_back(c)),
                ],
                calls: vec![c.call_id.to_string()],
            })
        })
        .collect();
    Report {
        title: "放弃来电 abandoned callers".to_string(),
        columns: COLUMNS.to_vec(),
        rows,
    }
}
