//! Service hours: a weekly schedule in Beijing time, public holidays (closed), adjusted
//! working days (调休, a weekend day worked on the weekday schedule), and a noon rota
//! (午间值班) that keeps some queues open between the morning and afternoon sessions.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::Arc;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use serde::Deserialize;
use toml::Spanned;

/// Whether the hotline takes calls now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoursState {
    /// In service hours.
    Open,
    /// Outside service hours: the closed message, voicemail, callback.
    Closed,
    /// The noon rota: only queues whose skill or region is listed are open.
    Rota(Arc<[String]>),
}

impl HoursState {
    /// Whether callers start at the closed node.
    pub fn is_closed(&self) -> bool {
        matches!(self, HoursState::Closed)
    }

    /// Whether a queue of this skill and region takes calls now.
    pub fn queue_open(&self, skill: Option<&str>, region: Option<&str>) -> bool {
        match self {
            HoursState::Open => true,
            HoursState::Closed => false,
            HoursState::Rota(open) => open
                .iter()
                .any(|q| Some(q.as_str()) == skill || Some(q.as_str()) == region),
        }
    }
}

/// The operator's override (`hotline hours open|closed|auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hours {
    /// Follow the schedule.
    #[default]
    Auto,
    /// Open whatever the schedule says (filing-season peak).
    Open,
    /// Closed whatever the schedule says (system incident).
    Closed,
}

type Span = Range<NaiveTime>;

/// The weekly schedule with its dated exceptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Open spans per weekday, Monday first.
    pub weekly: [Vec<Span>; 7],
    /// Days closed whatever the weekday (public holidays).
    pub holidays: HashSet<NaiveDate>,
    /// Weekend days worked on Monday's schedule (调休).
    pub workdays: HashSet<NaiveDate>,
    /// The noon rota: when, and which queues stay open.
    pub noon: Option<(Span, Arc<[String]>)>,
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

impl Default for Schedule {
    /// Mon–Fri 8:30–12:00 and 14:00–18:00, no rota (Chengdu's published hours).
    fn default() -> Schedule {
        let day = vec![t(8, 30)..t(12, 0), t(14, 0)..t(18, 0)];
        Schedule {
            weekly: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day,
                Vec::new(),
                Vec::new(),
            ],
            holidays: HashSet::new(),
            workdays: HashSet::new(),
            noon: None,
        }
    }
}

/// China's time zone; there has been no daylight saving since 1991.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or(Utc.fix())
}

use chrono::Offset;

impl Schedule {
    /// Whether `date` is a working day: a weekday the schedule opens on, or a 调休 day worked,
    /// and no public holiday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.holidays.contains(&date) {
            return false;
        }
        if self.workdays.contains(&date) {
            return true;
        }
        let day = date.weekday().num_days_from_monday() as usize;
        self.weekly.get(day).is_some_and(|spans| !spans.is_empty())
    }

    /// The `n`th working day after `date` (a hand-on case's deadline: "within two working
    /// days"), counting holidays out and 调休 days in; `date` itself after a year of none.
    pub fn working_days_after(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut left = n;
        let mut day = date;
        for _ in 0..366 {
            if left == 0 {
                return day;
            }
            day = day.succ_opt().unwrap_or(day);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        date
    }

    /// The state at a Beijing local time.
    pub fn state_at_local(&self, at: NaiveDateTime) -> HoursState {
        let date = at.date();
        let time = at.time();
        if self.holidays.contains(&date) {
            return HoursState::Closed;
        }
        // An adjusted working day (调休) follows Monday's schedule.
        let day = if self.workdays.contains(&date) {
            0
        } else {
            date.weekday().num_days_from_monday() as usize
        };
        let spans: &[_] = self.weekly.get(day).map_or(&[], |s| s.as_slice());
        if spans.iter().any(|s| s.contains(&time)) {
            return HoursState::Open;
        }
        let working_day = !spans.is_empty();
        match &self.noon {
            Some((span, open)) if working_day && span.contains(&time) => {
                HoursState::Rota(open.clone())
            }
            _ => HoursState::Closed,
        }
    }

    /// The state at an instant, with the operator's override applied.
    pub fn state_at(&self, now: DateTime<Utc>, force: Hours) -> HoursState {
        match force {
            Hours::Open => HoursState::Open,
            Hours::Closed => HoursState::Closed,
            Hours::Auto => self.state_at_local(now.with_timezone(&beijing()).naive_local()),
        }
    }
}

/// `[hours]` as written in the dialplan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHours {
    /// Spans for Monday to Friday, e.g. `["08:30-12:00", "14:00-18:00"]`.
    pub weekdays: Option<Vec<Spanned<String>>>,
    /// Spans for Saturday (default none).
    pub saturday: Option<Vec<Spanned<String>>>,
    /// Spans for Sunday (default none).
    pub sunday: Option<Vec<Spanned<String>>>,
    /// Public holidays, `YYYY-MM-DD`.
    #[serde(default)]
    pub holidays: Vec<Spanned<String>>,
    /// Adjusted working days (调休), `YYYY-MM-DD`.
    #[serde(default)]
    pub workdays: Vec<Spanned<String>>,
    /// The noon rota span, e.g. `"12:00-14:00"`.
    pub noon: Option<Spanned<String>>,
    /// Skills or regions open during the noon rota.
    #[serde(default)]
    pub noon_queues: Vec<String>,
}

fn span_of(s: &Spanned<String>) -> Result<Span, (Range<usize>, String)> {
    let bad = || {
        (
            s.span(),
            format!("{:?} is not a span like \"08:30-12:00\"", s.get_ref()),
        )
    };
    let (a, b) = s.get_ref().split_once('-').ok_or_else(bad)?;
    let a = NaiveTime::parse_from_str(a.trim(), "%H:%M").map_err(|_| bad())?;
    let b = NaiveTime::parse_from_str(b.trim(), "%H:%M").map_err(|_| bad())?;
    if a >= b {
        return Err(bad());
    }
    Ok(a..b)
}

fn date_of(s: &Spanned<String>) -> Result<NaiveDate, (Range<usize>, String)> {
    NaiveDate::parse_from_str(s.get_ref(), "%Y-%m-%d").map_err(|_| {
        (
            s.span(),
            format!("{:?} is not a date like \"2026-10-01\"", s.get_ref()),
        )
    })
}

/// Checks `[hours]`, returning the schedule or every problem with its span.
pub fn check_hours(raw: &RawHours) -> Result<Schedule, Vec<(Range<usize>, String)>> {
    let mut problems = Vec::new();
    let mut spans = |list: &Option<Vec<Spanned<String>>>, default: Vec<Span>| match list {
        None => default,
        Some(l) => l
            .iter()
            .filter_map(|s| span_of(s).map_err(|e| problems.push(e)).ok())
            .collect(),
    };
    let base = Schedule::default();
    let weekday = spans(&raw.weekdays, base.weekly[0].clone());
    let saturday = spans(&raw.saturday, Vec::new());
    let sunday = spans(&raw.sunday, Vec::new());
    let mut dates = |l: &[Spanned<String>]| -> HashSet<NaiveDate> {
        l.iter()
            .filter_map(|s| date_of(s).map_err(|e| problems.push(e)).ok())
            .collect()
    };
    let holidays = dates(&raw.holidays);
    let workdays = dates(&raw.workdays);
    let noon = match &raw.noon {
        Some(s) => match span_of(s) {
            Ok(span) => Some((span, Arc::from(raw.noon_queues.clone()))),
            Err(e) => {
                problems.push(e);
                None
            }
        },
        None => None,
    };
    for (d, s) in raw
        .workdays
        .iter()
        .filter_map(|s| date_of(s).ok().map(|d| (d, s)))
    {
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            problems.push((s.span(), format!("{d} is not a weekend day: an adjusted working day (调休) is a Saturday or Sunday worked")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Schedule {
        weekly: [
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday.clone(),
            weekday,
            saturday,
            sunday,
        ],
        holidays,
        workdays,
        noon,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn henan() -> Schedule {
        let raw: RawHours = toml::from_str(
            r#"
            holidays = ["2026-10-01", "2026-10-02"]
            workdays = ["2026-10-10"]
            noon = "12:00-14:00"
            noon_queues = ["tax"]
            "#,
        )
        .unwrap();
        check_hours(&raw).unwrap()
    }

    #[test]
    fn weekday_mornings_and_afternoons_are_open_evenings_and_weekends_closed() {
        let s = henan();
        assert_eq!(
            s.state_at_local(at("2026-11-23 08:30")),
            HoursState::Open,
            "Monday 8:30"
        );
        assert_eq!(s.state_at_local(at("2026-11-23 08:29")), HoursState::Closed);
        assert_eq!(s.state_at_local(at("2026-11-23 17:59")), HoursState::Open);
        assert_eq!(s.state_at_local(at("2026-11-23 18:00")), HoursState::Closed);
        assert_eq!(
            s.state_at_local(at("2026-11-28 10:00")),
            HoursState::Closed,
            "Saturday"
        );
    }

    #[test]
    fn a_public_holiday_is_closed_and_an_adjusted_saturday_is_open() {
        let s = henan();
        assert_eq!(
            s.state_at_local(at("2026-10-01 10:00")),
            HoursState::Closed,
            "National Day"
        );
        assert_eq!(
            s.state_at_local(at("2026-10-10 10:00")),
            HoursState::Open,
            "调休 Saturday"
        );
        assert_eq!(
            s.state_at_local(at("2026-10-11 10:00")),
            HoursState::Closed,
            "plain Sunday"
        );
    }

    #[test]
    fn the_noon_rota_keeps_only_its_queues_open_on_working_days() {
        let s = henan();
        let noon = s.state_at_local(at("2026-11-23 12:30"));
        assert!(!noon.is_closed());
        assert!(noon.queue_open(Some("tax"), Some("luoyang")));
        assert!(!noon.queue_open(Some("invoice"), Some("luoyang")));
        assert_eq!(
            s.state_at_local(at("2026-11-28 12:30")),
            HoursState::Closed,
            "no rota on Saturday"
        );
    }

    #[test]
    fn the_operator_override_wins_and_utc_is_read_in_beijing_time() {
        let s = henan();
        // 2026-11-23 02:00 UTC is 10:00 in Beijing, a Monday.
        let t = DateTime::parse_from_rfc3339("2026-11-23T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(s.state_at(t, Hours::Auto), HoursState::Open);
        assert_eq!(s.state_at(t, Hours::Closed), HoursState::Closed);
        let night = DateTime::parse_from_rfc3339("2026-11-23T14:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(s.state_at(night, Hours::Open), HoursState::Open);
        assert_eq!(s.state_at(night, Hours::Auto), HoursState::Closed);
    }

    #[test]
    fn deadlines_count_working_days_with_holidays_out_and_adjusted_days_in() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut s = Schedule::default();
        // Thursday + 2 working days: Monday, over the weekend.
        assert_eq!(s.working_days_after(d("2026-12-03"), 2), d("2026-12-07"));
        // National Day week: the 1st to the 7th off, Saturday the 10th worked (调休).
        s.holidays = (1..=7).map(|day| d(&format!("2026-10-{day:02}"))).collect();
        s.workdays = [d("2026-10-10")].into_iter().collect();
        assert!(!s.is_working_day(d("2026-10-05")));
        assert!(s.is_working_day(d("2026-10-10")));
        assert_eq!(s.working_days_after(d("2026-09-30"), 2), d("2026-10-09"));
        assert_eq!(s.working_days_after(d("2026-10-08"), 2), d("2026-10-10"));
    }

    #[test]
    fn bad_spans_dates_and_workdays_are_reported_with_their_place() {
        let text =
            "weekdays = [\"9-5\"]\nholidays = [\"2026-13-01\"]\nworkdays = [\"2026-11-23\"]\n";
        let raw: RawHours = toml::from_str(text).unwrap();
        let problems = check_hours(&raw).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|(span, _)| span.start > 0));
    }
}
