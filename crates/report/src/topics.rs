//! `report topics`: calls per menu branch (业务分类: the queue a caller asked for, or the
//! menu node they ended in when they asked for none) per interval, day or month: the hot
//! topics of the filing season.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use hotline_record::CallSummary;

use crate::facts::Facts;
use crate::period::{beijing, Period};
use crate::table::{Column, Report, Row, Value};

/// How finely to count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    /// Per wall-clock interval of so many minutes.
    Interval(u32),
    /// Per Beijing day.
    Day,
    /// Per Beijing month.
    Month,
}

const COLUMNS: [Column; 5] = [
    Column {
        key: "period",
        heading: "时段",
    },
    Column {
        key: "topic",
        heading: "业务分类",
    },
    Column {
        key: "calls",
        heading: "来电",
    },
    Column {
        key: "answered",
        heading: "人工接听",
    },
    Column {
        key: "abandoned",
        heading: "放弃",
    },
];

/// The report over `period`.
pub fn topics(calls: &[CallSummary], period: Period, by: By, region: Option<&str>) -> Report {
    let slices = match by {
        By::Interval(minutes) => period.intervals(minutes),
        By::Day | By::Month => Vec::new(),
    };
    // Grouped by a number for the day, month or interval and a borrowed topic; labelled
    // once per row, not formatted once per call.
    type Tally = ([u64; 3], Vec<String>);
    let mut groups: BTreeMap<(i64, &str), Tally> = BTreeMap::new();
    for c in calls {
        let f = Facts::of(c);
        if !f.inbound || !period.contains(c.offered_at) {
            continue;
        }
        if region.is_some_and(|r| c.region.as_deref() != Some(r)) {
            continue;
        }
        let local = c.offered_at.with_timezone(&beijing()).date_naive();
        let when = match by {
            By::Day => i64::from(local.num_days_from_ce()),
            By::Month => i64::from(local.year()) * 12 + i64::from(local.month0()),
            By::Interval(_) => {
                let slot = slices.partition_point(|p| p.to <= c.offered_at);
                i64::try_from(slot).unwrap_or(i64::MAX)
            }
        };
        let topic = c.skill.as_deref().or(c.ivr_node.as_deref()).unwrap_or("-");
        let (n, ids) = groups.entry((when, topic)).or_default();
        n[0] += 1;
        n[1] += u64::from(f.answered);
        n[2] += u64::from(f.abandoned.is_some());
        ids.push(c.call_id.to_string());
    }
    let label = |when: i64| -> String {
        match by {
            By::Day => i32::try_from(when)
                .ok()
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            By::Month => format!("{:04}-{:02}", when.div_euclid(12), when.rem_euclid(12) + 1),
            By::Interval(_) => usize::try_from(when)
                .ok()
                .and_then(|i| slices.get(i))
                .map(Period::label)
                .unwrap_or_default(),
        }
    };
    let rows = groups
        .into_iter()
        .map(|((when, topic), (n, calls))| Row {
            values: vec![
                Value::Text(label(when)),
                Value::Text(topic.to_string()),
                Value::Count(n[0]),
                Value::Count(n[1]),
                Value::Count(n[2]),
            ],
            calls,
        })
        .collect();
    Report {
        title: format!("业务分类 topics {}", period.label()),
        columns: COLUMNS.to_vec(),
        rows,
    }
}
