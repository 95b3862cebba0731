//! Today's counts per region for the wallboard, from the call store, counted as the reports
//! count them (`hotline_report::facts`; the five 100%s as `report service` does), and kept for a moment so that every open wallboard
//! does not read the store on every change.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use hotline_record::{CallSummary, Callback, Case, Outcome};
use hotline_report::abandoned::FollowUps;
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
    /// Taken by the switch (menu or queue), not failed (受理).
    pub accepted: u32,
    /// Answered through the voice menu, where the agent's number is announced.
    pub through_menu: u32,
    /// Of those, the caller heard the agent's number (报工号).
    pub announced: u32,
    /// Answered with a recording (录音).
    pub recorded: u32,
    /// Callers of today's calls on the callback list.
    pub listed: u32,
    /// Of those, called back already.
    pub followed: u32,
    /// Hand-on cases of the region past their due date (not only today's).
    pub late_cases: u32,
    /// Of those, chased.
    pub late_cases_chased: u32,
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

    /// The five 100%s (五个100%), 0–1 each, as `hotline report service` measures them and
    /// the cases page counts the chasing: accepted, agent number announced, recorded,
    /// answered or followed up, late cases chased; `None` where nothing was to be done.
    pub fn hundreds(&self) -> [Option<f64>; 5] {
        let share = |n: u32, of: u32| (of > 0).then(|| f64::from(n) / f64::from(of));
        [
            share(self.accepted, self.offered),
            share(self.announced, self.through_menu),
            share(self.recorded, self.answered),
            share(self.answered + self.followed, self.answered + self.listed),
            share(self.late_cases_chased, self.late_cases),
        ]
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
        self.accepted += o.accepted;
        self.through_menu += o.through_menu;
        self.announced += o.announced;
        self.recorded += o.recorded;
        self.listed += o.listed;
        self.followed += o.followed;
        self.late_cases += o.late_cases;
        self.late_cases_chased += o.late_cases_chased;
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

/// Counts `calls` by region, for the day and each quarter hour, with the callback list's
/// follow-ups of them and the region's `cases` past due on `today`.
pub fn count(
    calls: &[CallSummary],
    callbacks: &[Callback],
    cases: &[Case],
    today: NaiveDate,
) -> HashMap<String, Day> {
    let follow = FollowUps::new(callbacks, calls);
    let mut by_region: HashMap<String, Day> = HashMap::new();
    for call in calls {
        let f = Facts::of(call);
        if !f.inbound {
            continue;
        }
        let region = call.region.as_deref().unwrap_or_default().to_string();
        let day = by_region.entry(region).or_default();
        let listed = follow.listed(call);
        let one = Today {
            offered: 1,
            asked: u32::from(f.asked_for_agent),
            answered: u32::from(f.answered),
            abandoned: u32::from(f.abandoned.is_some()),
            short_abandons: u32::from(f.short_abandon),
            overflowed: u32::from(call.overflowed),
            within_service_level: u32::from(f.within_service_level()),
            accepted: u32::from(call.outcome != Outcome::Failed || f.asked_for_agent),
            through_menu: u32::from(f.answered && f.ivr_visit),
            announced: u32::from(f.answered && f.ivr_visit && call.agent_announced),
            recorded: u32::from(f.answered && call.recorded),
            listed: u32::from(listed),
            followed: u32::from(listed && follow.called_back(call)),
            late_cases: 0,
            late_cases_chased: 0,
        };
        day.total.add(&one);
        day.quarters
            .entry(quarter_of(call.offered_at))
            .or_default()
            .add(&one);
    }
    for case in cases.iter().filter(|c| crate::cases::late(c, today)) {
        let t = &mut by_region.entry(case.region.clone()).or_default().total;
        t.late_cases += 1;
        t.late_cases_chased += u32::from(case.chases > 0);
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
    /// One read of the store at a time: pages that find the counts stale together wait
    /// for the one read, not make one each.
    reading: tokio::sync::Mutex<()>,
}

impl TodayCache {
    /// Today's counts by region, read again from `db` if the last read is stale.
    pub async fn get(&self, db: &Path) -> Counts {
        if let Some(counts) = self.fresh() {
            return counts;
        }
        let _reading = self.reading.lock().await;
        if let Some(counts) = self.fresh() {
            return counts;
        }
        let now = Instant::now();
        let db = db.to_path_buf();
        let read = tokio::task::spawn_blocking(move || {
            let wall = Utc::now();
            let calls = hotline_record::list_summaries_between(&db, beijing_midnight(wall), wall)?;
            let callbacks = hotline_record::list_callbacks(&db)?;
            // A store without the console's side table has no cases yet.
            let cases = hotline_record::list_cases(&db).unwrap_or_default();
            let today = wall.with_timezone(&hotline_report::beijing()).date_naive();
            Ok::<_, hotline_record::RecordError>(count(&calls, &callbacks, &cases, today))
        })
        .await;
        let counts = match read {
            Ok(Ok(counts)) => Arc::new(counts),
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

    /// The counts, if read within [`FRESH`].
    fn fresh(&self) -> Option<Counts> {
        let now = Instant::now();
        self.lock()
            .as_ref()
            .filter(|(at, _)| now.saturating_duration_since(*at) < FRESH)
            .map(|(_, counts)| Arc::clone(counts))
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

    /// A Luoyang call at 10:00 Beijing through the menu, answered by 1003 with the agent's
    /// number announced and a recording.
    fn answered(n: u32) -> hotline_record::CallRecord {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 2, 0, n).unwrap();
        let id = hotline_record::CallId::generate(at, n);
        let mut c = hotline_record::CallRecord::new(id, format!("1390379{n:04}"), at);
        c.caller_normalized = Some(format!("1390379{n:04}"));
        c.region = Some("luoyang".into());
        c.ivr_node = Some("main".into());
        c.queued_at = Some(at);
        c.answered_at = Some(at + chrono::Duration::seconds(5));
        c.ended_at = Some(at + chrono::Duration::seconds(60));
        c.agent = Some("1003".into());
        c.agent_announced = true;
        c.recording_path = Some(format!("/r/{n}.wav").into());
        c.outcome = Outcome::Answered;
        c
    }

    fn case(chases: u32, due: NaiveDate) -> Case {
        Case {
            id: 1,
            call_id: "x".into(),
            agent: "1003".into(),
            region: "luoyang".into(),
            department: "征管科".into(),
            question: "q".into(),
            due,
            opened_at: Utc::now(),
            chased_at: None,
            chases,
            answer: None,
            closed_at: None,
            closed_by: None,
        }
    }

    #[test]
    fn the_five_hundreds_are_counted_as_the_service_report_counts_them() {
        let a = answered(1);
        let mut unannounced = answered(2);
        unannounced.agent_announced = false;
        unannounced.recording_path = None;
        let mut gave_up = answered(3);
        gave_up.answered_at = None;
        gave_up.agent = None;
        gave_up.outcome = Outcome::Abandoned;
        let mut refused = answered(4);
        refused.queued_at = None;
        refused.answered_at = None;
        refused.ivr_node = None;
        refused.outcome = Outcome::Failed;
        let records = [a, unannounced, gave_up.clone(), refused];
        let calls: Vec<CallSummary> = records.iter().map(CallSummary::from).collect();
        let callback = Callback {
            id: 1,
            call_id: gave_up.call_id.clone(),
            caller: gave_up.caller_raw.to_string(),
            number: gave_up.caller_normalized.clone(),
            region: Some("luoyang".into()),
            created_at: Utc::now(),
            kind: hotline_record::CallbackKind::Abandoned,
            voicemail_path: None,
            state: "called".into(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let cases = [
            case(1, today.pred_opt().unwrap()),
            case(0, today.pred_opt().unwrap()),
            case(0, today.succ_opt().unwrap()),
        ];
        let counts = count(&calls, &[callback], &cases, today);
        let luoyang = counts["luoyang"].total;
        assert_eq!(
            luoyang.hundreds(),
            [
                Some(0.75), // accepted: all but the refused call
                Some(0.5),  // the agent's number heard on one of two answered
                Some(0.5),  // one of two answered recorded
                Some(1.0),  // two answered and the one who gave up, called back
                Some(0.5),  // two cases late, one chased
            ]
        );
        assert_eq!(Today::default().hundreds(), [None; 5]);
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
