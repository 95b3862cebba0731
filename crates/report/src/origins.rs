//! `report origins`: per region and Beijing month, where callers were from (Hangzhou's
//! 异地来电 table): the region's own city, another city of the province, another province,
//! abroad, anonymous or unknown. A call is counted under the region whose agents took it:
//! its caller's own region, or the provincial centre when it overflowed there; a caller of
//! the province counts as from "another city" wherever that is not their own region.

use std::collections::BTreeMap;

use chrono::Datelike;
use hotline_record::{CallSummary, Direction};

use crate::period::beijing;
use crate::table::{Column, Report, Row, Value};

/// A Beijing month: (year, month).
type Month = (i32, u32);
/// Callers per origin column, and the calls counted.
type Tally = ([u64; 5], Vec<String>);

const COLUMNS: [Column; 8] = [
    Column {
        key: "month",
        heading: "月份",
    },
    Column {
        key: "region",
        heading: "地区",
    },
    Column {
        key: "calls",
        heading: "来电",
    },
    Column {
        key: "own_city",
        heading: "本市",
    },
    Column {
        key: "other_city",
        heading: "省内异地",
    },
    Column {
        key: "other_province",
        heading: "外省",
    },
    Column {
        key: "abroad",
        heading: "境外",
    },
    Column {
        key: "anonymous_or_unknown",
        heading: "匿名/未知",
    },
];

/// The report over `calls`; `centre` is the provincial centre's region id.
pub fn origins(calls: &[CallSummary], centre: &str, region: Option<&str>) -> Report {
    let mut groups: BTreeMap<(Month, String), Tally> = BTreeMap::new();
    for c in calls.iter().filter(|c| c.direction == Direction::Inbound) {
        let home = c.region.as_deref().unwrap_or_default().to_string();
        let taker = if c.overflowed {
            centre.to_string()
        } else {
            home.clone()
        };
        if region.is_some_and(|r| r != taker) {
            continue;
        }
        let slot = match c.origin.as_deref() {
            Some("in_province") if taker == home && home != centre => 0,
            Some("in_province") => 1,
            Some("out_of_province") => 2,
            Some("international") => 3,
            _ => 4,
        };
        let local = c.offered_at.with_timezone(&beijing());
        let month = (local.year(), local.month());
        let (counts, ids) = groups.entry((month, taker)).or_default();
        if let Some(n) = counts.get_mut(slot) {
            *n += 1;
        }
        ids.push(c.call_id.to_string());
    }
    let rows = groups
        .into_iter()
        .map(|((month, r), (counts, calls))| {
            let mut values = vec![
                Value::Text(format!("{}-{:02}", month.0, month.1)),
                Value::Text(r),
                Value::Count(counts.iter().sum()),
            ];
            values.extend(counts.iter().map(|n| Value::Count(*n)));
            Row { values, calls }
        })
        .collect();
    Report {
        title: "来电地区 origins".to_string(),
        columns: COLUMNS.to_vec(),
        rows,
    }
}
