//! `report topics`: calls per menu branch (业务分类: the queue a caller asked for, or the
//! menu node they ended in when they asked for none) per interval, day or month: the hot
//! topics of the filing season.

use std::collections::BTreeMap;

use hotline_record::CallRecord;

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
pub fn topics(calls: &[CallRecord], period: Period, by: By, region: Option<&str>) -> Report {
    let slices = match by {
        By::Interval(minutes) => period.intervals(minutes),
        By::Day | By::Month => Vec::new(),
    };
    let mut groups: BTreeMap<(String, String), ([u64; 3], Vec<String>)> = BTreeMap::new();
    for c in calls {
        let f = Facts::of(c);
        if !f.inbound || !period.contains(c.offered_at) {
            continue;
        }
        if region.is_some_and(|r| c.region.as_deref() != Some(r)) {
            continue;
        }
        let local = c.offered_at.with_timezone(&beijing());
        let when = match by {
            By::Day => local.format("%Y-%m-%d").to_string(),
            By::Month => local.format("%Y-%m").to_string(),
            By::Interval(_) => slices
                .iter()
                .find(|p| p.contains(c.offered_at))
                .map(Period::label)
                .unwrap_or_default(),
        };
        let topic = c
            .skill
            .clone()
            .or_else(|| c.ivr_node.clone())
            .unwrap_or_else(|| "-".to_string());
        let (n, ids) = groups.entry((when, topic)).or_default();
        n[0] += 1;
        n[1] += u64::from(f.answered);
        n[2] += u64::from(f.abandoned.is_some());
        ids.push(c.call_id.to_string());
    }
    let rows = groups
        .into_iter()
        .map(|((when, topic), (n, calls))| Row {
            values: vec![
                Value::Text(when),
                Value::Text(topic),
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
