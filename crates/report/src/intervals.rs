//! `report intervals`: per wall-clock interval (08:45–09:00), the Hangzhou table: menu
//! visits, calls asking for an agent, answered, abandoned by stage, overflowed, service
//! level, three rings, waits and handling time; the staffing by state; and the agents an
//! Erlang C model says the interval needed for 80 % of calls answered within 20 s.

use chrono::{DateTime, Utc};
use hotline_record::{AbandonStage, CallSummary};

use crate::erlang::agents_needed;
use crate::facts::{secs, Facts, SERVICE_LEVEL_WAIT};
use crate::period::Period;
use crate::staffing::{staffing, Staffing, STATES};
use crate::table::{Column, Report, Row, Value};

/// The service level staffing is planned for: 80 % ...
const PLANNED_SHARE: f64 = 0.8;

/// The call columns, before the staffing ones.
const CALL_COLUMNS: [Column; 15] = [
    Column {
        key: "interval",
        heading: "时段",
    },
    Column {
        key: "ivr_visits",
        heading: "语音导航",
    },
    Column {
        key: "asked_for_agent",
        heading: "转人工",
    },
    Column {
        key: "answered",
        heading: "人工接听",
    },
    Column {
        key: "abandoned_in_queue",
        heading: "排队放弃",
    },
    Column {
        key: "abandoned_ringing",
        heading: "振铃放弃",
    },
    Column {
        key: "abandoned_announcement",
        heading: "报工号放弃",
    },
    Column {
        key: "short_abandons",
        heading: "短时放弃",
    },
    Column {
        key: "overflowed",
        heading: "溢出",
    },
    Column {
        key: "service_level_20s",
        heading: "20秒接通率",
    },
    Column {
        key: "within_three_rings",
        heading: "三声接听率",
    },
    Column {
        key: "asa_secs",
        heading: "平均等待秒",
    },
    Column {
        key: "longest_wait_secs",
        heading: "最长等待秒",
    },
    Column {
        key: "aht_secs",
        heading: "平均处理秒",
    },
    Column {
        key: "connection_rate",
        heading: "接通率",
    },
];

/// The report over `period` in slices of `minutes`, for the calls of `region` (all when
/// `None`), with the staffing worked out from `staff` (its agents already chosen) as of `now`.
pub fn intervals(
    calls: &[CallSummary],
    staff: &Staffing<'_>,
    period: Period,
    minutes: u32,
    region: Option<&str>,
    now: DateTime<Utc>,
) -> Report {
    let slices = period.intervals(minutes);
    let mut buckets: Vec<Vec<Facts<'_>>> = vec![Vec::new(); slices.len()];
    for call in calls {
        if region.is_some_and(|r| call.region.as_deref() != Some(r)) {
            continue;
        }
        let facts = Facts::of(call);
        if !facts.inbound {
            continue;
        }
        let at = call.offered_at;
        let slot = slices.partition_point(|p| p.to <= at);
        if let (Some(bucket), Some(p)) = (buckets.get_mut(slot), slices.get(slot)) {
            if p.contains(at) {
                bucket.push(facts);
            }
        }
    }
    let staff = staffing(staff, &slices, now);
    let mut columns = CALL_COLUMNS.to_vec();
    columns.extend(STATES.iter().map(|(key, heading)| Column { key, heading }));
    columns.push(Column {
        key: "agents_needed",
        heading: "建议坐席",
    });
    let rows = slices
        .iter()
        .zip(&buckets)
        .zip(&staff)
        .map(|((p, facts), staff)| row(p, facts, staff))
        .collect();
    Report {
        title: format!("时段报表 intervals {}", period.label()),
        columns,
        rows,
    }
}

fn row(p: &Period, facts: &[Facts<'_>], staff: &[f64]) -> Row {
    let count = |f: &dyn Fn(&Facts<'_>) -> bool| facts.iter().filter(|x| f(x)).count() as u64;
    let stage = |s: AbandonStage| count(&|x| x.abandoned == Some(s));
    let asked = count(&|x| x.asked_for_agent);
    let answered = count(&|x| x.answered);
    let short = count(&|x| x.short_abandon);
    let waits: Vec<f64> = facts
        .iter()
        .filter(|x| x.answered)
        .filter_map(|x| x.wait.map(secs))
        .collect();
    let longest = facts
        .iter()
        .filter(|x| x.asked_for_agent)
        .filter_map(|x| x.wait.map(secs))
        .fold(None, |m: Option<f64>, w| Some(m.map_or(w, |m| m.max(w))));
    let handling: Vec<f64> = facts.iter().filter_map(|x| x.handling.map(secs)).collect();
    let aht = if handling.is_empty() {
        0.0
    } else {
        handling.iter().sum::<f64>() / handling.len() as f64
    };
    let interval_secs = secs(p.length());
    let needed = agents_needed(
        asked,
        aht,
        interval_secs,
        PLANNED_SHARE,
        secs(SERVICE_LEVEL_WAIT),
    );
    let mut values = vec![
        Value::Text(p.label()),
        Value::Count(count(&|x| x.ivr_visit)),
        Value::Count(asked),
        Value::Count(answered),
        Value::Count(stage(AbandonStage::Queue)),
        Value::Count(stage(AbandonStage::Ringing)),
        Value::Count(stage(AbandonStage::Announcement)),
        Value::Count(short),
        Value::Count(count(&|x| x.call.overflowed)),
        Value::share(
            count(&|x| x.within_service_level()),
            asked.saturating_sub(short),
        ),
        Value::share(count(&|x| x.within_three_rings()), answered),
        Value::mean(&waits),
        longest.map_or(Value::Empty, Value::Number),
        Value::mean(&handling),
        Value::share(answered, asked),
    ];
    values.extend(staff.iter().map(|x| Value::Number(*x)));
    values.push(Value::Count(u64::from(needed)));
    Row {
        values,
        calls: facts.iter().map(|x| x.call.call_id.to_string()).collect(),
    }
}
