//! The periods reports and spot checks are about, as the centres say them (a Beijing day,
//! an ISO week, a month, an explicit range) and as the rows store time (UTC instants).

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

/// Beijing time (UTC+8, no daylight saving): the hotline's days, weeks and months.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

use chrono::Offset;

/// A half-open stretch of time `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first instant in it.
    pub from: DateTime<Utc>,
    /// The first instant after it.
    pub to: DateTime<Utc>,
}

/// Why a period the operator typed is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not `YYYY-MM-DD`.
    #[error("`{0}` is not a date (YYYY-MM-DD)")]
    Date(String),
    /// Not `YYYY-Www`.
    #[error("`{0}` is not an ISO week (YYYY-Www, e.g. 2026-W49)")]
    Week(String),
    /// Not `YYYY-MM`.
    #[error("`{0}` is not a month (YYYY-MM)")]
    Month(String),
    /// Not an RFC 3339 time.
    #[error("`{0}` is not a time (RFC 3339, e.g. 2026-12-05T08:00:00+08:00)")]
    Time(String),
    /// `to` is not after `from`.
    #[error("the period ends before it begins")]
    Backwards,
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    let local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    beijing()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

impl Period {
    /// `[from, to)`, or an error when it is empty or backwards.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Period, PeriodError> {
        if to <= from {
            return Err(PeriodError::Backwards);
        }
        Ok(Period { from, to })
    }

    /// A Beijing day, `2026-12-05`.
    pub fn day(text: &str) -> Result<Period, PeriodError> {
        let date = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| PeriodError::Date(text.to_string()))?;
        Ok(Period::of_days(date, 1))
    }

    /// An ISO week in Beijing time, Monday to Sunday, `2026-W49`.
    pub fn week(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::Week(text.to_string());
        let (year, week) = text.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        let monday =
            NaiveDate::from_isoywd_opt(year, week, chrono::Weekday::Mon).ok_or_else(bad)?;
        Ok(Period::of_days(monday, 7))
    }

    /// A Beijing calendar month, `2026-12`.
    pub fn month(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError::Month(text.to_string());
        let first = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .map_err(|_| bad())?;
        let next = if first.month() == 12 {
            NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
        }
        .ok_or_else(bad)?;
        Ok(Period {
            from: midnight(first),
            to: midnight(next),
        })
    }

    /// An explicit range of RFC 3339 times.
    pub fn range(from: &str, to: &str) -> Result<Period, PeriodError> {
        let time = |t: &str| {
            DateTime::parse_from_rfc3339(t.trim())
                .map(|d| d.with_timezone(&Utc))
                .map_err(|_| PeriodError::Time(t.to_string()))
        };
        Period::new(time(from)?, time(to)?)
    }

    /// `days` Beijing days from `first`.
    pub fn of_days(first: NaiveDate, days: i64) -> Period {
        let from = midnight(first);
        Period {
            from,
            to: from + Duration::days(days),
        }
    }

    /// Whether `t` falls in it.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }

    /// The period cut into wall-clock aligned slices of `minutes` (08:45–09:00 in Beijing
    /// time); the first and last may be partial when the period is not aligned.
    pub fn intervals(&self, minutes: u32) -> Vec<Period> {
        let step = Duration::minutes(i64::from(minutes.max(1)));
        let offset = Duration::seconds(i64::from(beijing().local_minus_utc()));
        let since_epoch = (self.from + offset).timestamp();
        let step_secs = step.num_seconds().max(1);
        let aligned = since_epoch - since_epoch.rem_euclid(step_secs);
        let mut start = Utc
            .timestamp_opt(aligned, 0)
            .single()
            .map(|t| t - offset)
            .unwrap_or(self.from);
        let mut out = Vec::new();
        while start < self.to {
            let end = start + step;
            out.push(Period {
                from: start.max(self.from),
                to: end.min(self.to),
            });
            start = end;
        }
        out
    }

    /// How long it lasts.
    pub fn length(&self) -> Duration {
        self.to - self.from
    }

    /// As a centre writes it, in Beijing time: `2026-12-05 08:45–09:00` within a day (the
    /// day's last slice ends at `24:00`), `2026-12-01 00:00–2027-01-01 00:00` otherwise.
    pub fn label(&self) -> String {
        let (f, t) = (
            self.from.with_timezone(&beijing()),
            self.to.with_timezone(&beijing()),
        );
        let start = f.format("%Y-%m-%d %H:%M");
        let midnight_after = t.date_naive() == f.date_naive() + Duration::days(1)
            && t.format("%H:%M:%S").to_string() == "00:00:00";
        if t.date_naive() == f.date_naive() {
            format!("{start}–{}", t.format("%H:%M"))
        } else if midnight_after {
            format!("{start}–24:00")
        } else {
            format!("{start}–{}", t.format("%Y-%m-%d %H:%M"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_beijing_day_starts_at_midnight_beijing_time() {
        let d = Period::day("2026-12-05").unwrap();
        assert_eq!(d.from, at("2026-12-04T16:00:00Z"));
        assert_eq!(d.to, at("2026-12-05T16:00:00Z"));
        assert!(Period::day("2026-13-05").is_err());
    }

    #[test]
    fn weeks_are_iso_weeks_and_months_run_to_the_next_first() {
        let w = Period::week("2026-W49").unwrap();
        assert_eq!(
            w.from,
            at("2026-11-30T00:00:00+08:00"),
            "Monday 30 November"
        );
        assert_eq!(w.length(), Duration::days(7));
        let m = Period::month("2026-12").unwrap();
        assert_eq!(m.from, at("2026-12-01T00:00:00+08:00"));
        assert_eq!(m.to, at("2027-01-01T00:00:00+08:00"));
        assert!(Period::week("2026-49").is_err());
        assert!(Period::month("2026-00").is_err());
    }

    #[test]
    fn intervals_are_aligned_to_the_beijing_wall_clock() {
        let p = Period::range("2026-12-05T08:50:00+08:00", "2026-12-05T09:20:00+08:00").unwrap();
        let slices = p.intervals(15);
        let labels: Vec<String> = slices.iter().map(Period::label).collect();
        assert_eq!(
            labels,
            [
                "2026-12-05 08:50–09:00",
                "2026-12-05 09:00–09:15",
                "2026-12-05 09:15–09:20"
            ]
        );
        assert_eq!(Period::day("2026-12-05").unwrap().intervals(15).len(), 96);
        let last = Period::day("2026-12-05")
            .unwrap()
            .intervals(15)
            .pop()
            .unwrap();
        assert_eq!(last.label(), "2026-12-05 23:45–24:00");
        assert_eq!(
            Period::day("2026-12-05").unwrap().label(),
            "2026-12-05 00:00–24:00"
        );
        assert_eq!(
            Period::month("2026-12").unwrap().label(),
            "2026-12-01 00:00–2027-01-01 00:00"
        );
        assert!(Period::range("2026-12-05T09:00:00+08:00", "2026-12-05T08:00:00+08:00").is_err());
    }
}
