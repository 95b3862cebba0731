//! Today's counts per region for the wallboard, from the call store, counted as the reports
//! count them (`hotline_report::facts`), and kept for a moment so that every open wallboard
//! does not read the store on every change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hotline_record::CallSummary;
use hotline_report::facts::Facts;
use serde::Serialize;

/// How long counts read from the store are shown before they are read again.
const FRESH: Duration = Duration::from_secs(2);

/// One region's calls today (Beijing day), or the total of several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Today {
    /// Taxpayers' calls that reached the switch (进线).
    pub offered: u32,
    /// Calls that asked for an agent (转人工).
    pub asked: u32,
    /// Answered by an agent, through the announcement (接听).
    pub answered: u32,
    /// Gave up after asking for an agent (放弃), short abandons included.
    pub abandoned: u32,
    /// Gave up within 5 s: usually a misdial, left out of the service level.
    pub short_abandons: u32,
    /// Overflowed to the provincial centre.
    pub overflowed: u32,
    /// Answered within 20 s of asking.
    pub within_service_level: u32,
}

impl Today {
    /// Service level (服务水平): answered within 20 s, of those that asked (short abandons
    /// left out); `None` before anyone asked.
    pub fn service_level(&self) -> Option<f64> {
        let base = self.asked.saturating_sub(self.short_abandons);
        (base > 0).then(|| f64::from(self.within_service_level) / f64::from(base))
    }

    /// Connection rate (接通率): answered of those that asked.
    pub fn connection_rate(&self) -> Option<f64> {
        (self.asked > 0).then(|| f64::from(self.answered) / f64::from(self.asked))
    }

    /// Adds another region's counts.
    pub fn add(&mut self, o: &Today) {
        self.offered += o.offered;
        self.asked += o.asked;
        self.answered += o.answered;
        self.abandoned += o.abandoned;
        self.short_abandons += o.short_abandons;
        self.overflowed += o.overflowed;
        self.within_service_level += o.within_service_level;
    }
}

/// One region's day: its counts, and each quarter hour's (by the quarter's number in the
/// Beijing day, 0 = 00:00–00:15).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Day {
    /// The whole day so far.
    pub total: Today,
    /// Per quarter hour, by the quarter the call was offered in.
    pub quarters: std::collections::BTreeMap<u32, Today>,
}

/// The quarter hour of the Beijing day `at` falls in.
pub fn quarter_of(at: DateTime<Utc>) -> u32 {
    let since = at - beijing_midnight(at);
    u32::try_from(since.num_minutes().clamp(0, 24 * 60 - 1) / 15).unwrap_or(0)
}

/// Counts `calls` by region, for the day and each quarter hour.
pub fn count(calls: &[CallSummary]) -> HashMap<String, Day> {
    let mut by_region: HashMap<String, Day> = HashMap::new();
    for call in calls {
        let f = Facts::of(call);
        if !f.inbound {
            continue;
        }
        let region = call.region.as_deref().unwrap_or_default().to_string();
        let day = by_region.entry(region).or_default();
        let mut one = Today::default();
        let t = &mut one;
        t.offered += 1;
        t.asked += u32::from(f.asked_for_agent);
        t.answered += u32::from(f.answered);
        t.abandoned += u32::from(f.abandoned.is_some());
        t.short_abandons += u32::from(f.short_abandon);
        t.overflowed += u32::from(call.overflowed);
        t.within_service_level += u32::from(f.within_service_level());
        day.total.add(&one);
        day.quarters
            .entry(quarter_of(call.offered_at))
            .or_default()
            .add(&one);
    }
    by_region
}

/// The start of `wall`'s Beijing day.
pub fn beijing_midnight(wall: DateTime<Utc>) -> DateTime<Utc> {
    let beijing = hotline_report::beijing();
    let local = wall.with_timezone(&beijing).date_naive();
    local
        .and_hms_opt(0, 0, 0)
        .and_then(|m| beijing.from_local_datetime(&m).single())
        .map_or(wall, |m| m.with_timezone(&Utc))
}

type Counts = Arc<HashMap<String, Day>>;

/// The last counts read, and when.
#[derive(Debug, Default)]
pub struct TodayCache {
    last: Mutex<Option<(Instant, Counts)>>,
}

impl TodayCache {
    /// Today's counts by region, read again from `db` if the last read is stale.
    pub async fn get(&self, db: &Path) -> Counts {
        let now = Instant::now();
        if let Some((at, counts)) = self.lock().as_ref() {
            if now.saturating_duration_since(*at) < FRESH {
                return Arc::clone(counts);
            }
        }
        let db = db.to_path_buf();
        let read = tokio::task::spawn_blocking(move || {
            let wall = Utc::now();
            hotline_record::list_summaries_between(&db, beijing_midnight(wall), wall)
        })
        .await;
        let counts = match read {
            Ok(Ok(calls)) => Arc::new(count(&calls)),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "today's counts not read");
                Counts::default()
            }
            Err(e) => {
                tracing::warn!(error = %e, "today's counts not read");
                Counts::default()
            }
        };
        *self.lock() = Some((now, Arc::clone(&counts)));
        counts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Instant, Counts)>> {
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_beijing_day_starts_at_16_utc() {
        let wall = Utc.with_ymd_and_hms(2026, 12, 5, 23, 40, 0).unwrap();
        assert_eq!(
            beijing_midnight(wall),
            Utc.with_ymd_and_hms(2026, 12, 5, 16, 0, 0).unwrap()
        );
        let morning = Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, 0).unwrap();
        assert_eq!(
            beijing_midnight(morning),
            Utc.with_ymd_and_hms(2026, 12, 4, 16, 0, 0).unwrap()
        );
    }

    #[test]
    fn quarters_are_counted_in_the_beijing_day() {
        // 08:50 Beijing is 00:50 UTC: the day's 35th quarter (08:45–09:00).
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 0, 50, 0).unwrap();
        assert_eq!(quarter_of(at), 35);
        assert_eq!(
            quarter_of(Utc.with_ymd_and_hms(2026, 12, 5, 16, 0, 0).unwrap()),
            0
        );
    }

    #[test]
    fn rates_are_none_before_anyone_asked() {
        let mut t = Today::default();
        assert_eq!((t.service_level(), t.connection_rate()), (None, None));
        t.asked = 4;
        t.answered = 3;
        t.within_service_level = 2;
        t.short_abandons = 0;
        assert_eq!(t.connection_rate(), Some(0.75));
        assert_eq!(t.service_level(), Some(0.5));
    }
}
