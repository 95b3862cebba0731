//! Spot checks of recordings (抽检): each office reviews at least 20% of its answered,
//! recorded calls every week; the inspection department at least 10% of the month's calls
//! across all offices. Here are the rules, the fair draw, the coverage figures and the audit
//! chain's checks, all pure: the seed, the clock and the hash function are arguments.

pub mod chain;
pub mod draw;
pub mod status;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use hotline_record::CallRecord;

pub use hotline_record::qa::Scope;

use crate::period::{beijing, Period, PeriodError};

/// A sampling rate, exact in basis points (1 = 0.01%), so that "20% of 15 calls" is 3 and
/// never 4 by a floating-point hair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rate(u32);

impl Rate {
    /// The offices' weekly rule: at least 20%.
    pub const OFFICE_WEEKLY: Rate = Rate(2000);
    /// The inspection department's monthly rule: at least 10%.
    pub const CENTRAL_MONTHLY: Rate = Rate(1000);

    /// A rate from basis points, 1 to 10,000.
    pub fn from_basis_points(bp: u32) -> Option<Rate> {
        (1..=10_000).contains(&bp).then_some(Rate(bp))
    }

    /// The rate in basis points.
    pub fn basis_points(self) -> u32 {
        self.0
    }

    /// How many of `n` calls the rate asks for, rounded up.
    pub fn of(self, n: usize) -> usize {
        let n = n as u128;
        let k = (n * u128::from(self.0)).div_ceil(10_000);
        usize::try_from(k).unwrap_or(usize::MAX)
    }
}

/// Why a rate is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a rate: write 0.2 or 20% (more than 0, at most 1, to 0.01%)")]
pub struct RateError(pub String);

impl FromStr for Rate {
    type Err = RateError;

    /// `0.2`, `.25`, `1`, `20%`, `12.5%`.
    fn from_str(text: &str) -> Result<Rate, RateError> {
        let bad = || RateError(text.to_string());
        let t = text.trim();
        let (number, scale_digits) = match t.strip_suffix('%') {
            Some(p) => (p.trim(), 2),
            None => (t, 4),
        };
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
            return Err(bad());
        }
        let frac = frac.trim_end_matches('0');
        if frac.len() > scale_digits || int.len() > 6 {
            return Err(bad());
        }
        let int: u32 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| bad())?
        };
        let padded = format!("{frac:0<scale_digits$}");
        let frac: u32 = if padded.is_empty() {
            0
        } else {
            padded.parse().map_err(|_| bad())?
        };
        let unit = 10u32.pow(u32::try_from(scale_digits).unwrap_or(4));
        // In hundredths of a percent either way: 0.2 → 2000, 20% → 2000.
        let bp = int
            .checked_mul(unit)
            .and_then(|i| i.checked_add(frac))
            .ok_or_else(bad)?;
        Rate::from_basis_points(bp).ok_or_else(bad)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, part) = (self.0 / 100, self.0 % 100);
        if part == 0 {
            write!(f, "{whole}%")
        } else {
            let part = format!("{part:02}");
            write!(f, "{whole}.{}%", part.trim_end_matches('0'))
        }
    }
}

/// The period a spot check covers, as stored and typed: an ISO week (`2026-W49`) for an
/// office, a month (`2026-12`) for the inspection department; both in Beijing time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PeriodKey {
    /// An ISO week.
    Week {
        /// ISO year.
        year: i32,
        /// 1 to 53.
        week: u32,
    },
    /// A calendar month.
    Month {
        /// Year.
        year: i32,
        /// 1 to 12.
        month: u32,
    },
}

impl PeriodKey {
    /// An ISO week, `2026-W49` (also `2026-W9`).
    pub fn week(text: &str) -> Result<PeriodKey, PeriodError> {
        let bad = || PeriodError::Week(text.to_string());
        let (year, week) = text.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(bad)?;
        Ok(PeriodKey::Week { year, week })
    }

    /// A month, `2026-12`.
    pub fn month(text: &str) -> Result<PeriodKey, PeriodError> {
        let bad = || PeriodError::Month(text.to_string());
        let first = NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
            .map_err(|_| bad())?;
        Ok(PeriodKey::Month {
            year: first.year(),
            month: first.month(),
        })
    }

    /// Either form, as stored.
    pub fn parse(text: &str) -> Result<PeriodKey, PeriodError> {
        if text.contains("-W") {
            PeriodKey::week(text)
        } else {
            PeriodKey::month(text)
        }
    }

    /// The stretch of time it covers.
    pub fn period(&self) -> Period {
        match *self {
            PeriodKey::Week { year, week } => {
                let monday =
                    NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).unwrap_or(NaiveDate::MIN);
                Period::of_days(monday, 7)
            }
            PeriodKey::Month { year, month } => {
                let first = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN);
                let next = first
                    .checked_add_months(chrono::Months::new(1))
                    .unwrap_or(first);
                Period::of_days(first, (next - first).num_days())
            }
        }
    }

    /// When its reviews are due: the end of the period after it (the next week, the next
    /// month). A check not finished by then is overdue.
    pub fn deadline(&self) -> DateTime<Utc> {
        let p = self.period();
        match self {
            PeriodKey::Week { .. } => p.to + Duration::days(7),
            PeriodKey::Month { .. } => {
                let next = PeriodKey::containing_month(p.to);
                next.period().to
            }
        }
    }

    /// The ISO week that `t` falls in, in Beijing time.
    pub fn containing_week(t: DateTime<Utc>) -> PeriodKey {
        let iso = t.with_timezone(&beijing()).date_naive().iso_week();
        PeriodKey::Week {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// The month that `t` falls in, in Beijing time.
    pub fn containing_month(t: DateTime<Utc>) -> PeriodKey {
        let d = t.with_timezone(&beijing()).date_naive();
        PeriodKey::Month {
            year: d.year(),
            month: d.month(),
        }
    }

    /// Every week (`weeks`) or month that overlaps `range`, oldest first.
    pub fn overlapping(range: &Period, weeks: bool) -> Vec<PeriodKey> {
        let mut key = if weeks {
            PeriodKey::containing_week(range.from)
        } else {
            PeriodKey::containing_month(range.from)
        };
        let mut out = Vec::new();
        // Bounded, so a range typed by mistake as centuries long cannot run away.
        while key.period().from < range.to && out.len() < 10_000 {
            out.push(key);
            let next = if weeks {
                PeriodKey::containing_week(key.period().to)
            } else {
                PeriodKey::containing_month(key.period().to)
            };
            if next == key {
                break;
            }
            key = next;
        }
        out
    }

    /// Whether it is a week (an office's period) rather than a month.
    pub fn is_week(&self) -> bool {
        matches!(self, PeriodKey::Week { .. })
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodKey::Week { year, week } => write!(f, "{year}-W{week:02}"),
            PeriodKey::Month { year, month } => write!(f, "{year}-{month:02}"),
        }
    }
}

/// The rule a scope's checks follow: its period and its least rate.
pub fn rule(scope: &Scope) -> (Rate, &'static str) {
    match scope {
        Scope::Office(_) => (Rate::OFFICE_WEEKLY, "week"),
        Scope::Central => (Rate::CENTRAL_MONTHLY, "month"),
    }
}

/// Why a draw cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DrawRefused {
    /// An office draws weeks, the inspection department months.
    #[error("{scope} draws by the {wants}, not {period}")]
    WrongPeriod {
        /// Whose check.
        scope: Scope,
        /// `week` or `month`.
        wants: &'static str,
        /// What was asked.
        period: PeriodKey,
    },
    /// Below the rule's least rate.
    #[error("{rate} is below the rule for {scope}: at least {least}")]
    BelowRule {
        /// Whose check.
        scope: Scope,
        /// What was asked.
        rate: Rate,
        /// The rule.
        least: Rate,
    },
    /// The period has not ended: a draw now would leave out its last calls.
    #[error("{period} is not over until {ends} (Beijing time): a draw now would leave out its last calls")]
    NotOver {
        /// The period.
        period: PeriodKey,
        /// When it ends, Beijing wall clock.
        ends: String,
    },
}

/// Checks that `scope` may draw `period` at `rate` at time `now`.
pub fn check_draw(
    scope: &Scope,
    period: PeriodKey,
    rate: Rate,
    now: DateTime<Utc>,
) -> Result<(), DrawRefused> {
    let (least, wants) = rule(scope);
    if period.is_week() != (wants == "week") {
        return Err(DrawRefused::WrongPeriod {
            scope: scope.clone(),
            wants,
            period,
        });
    }
    if rate < least {
        return Err(DrawRefused::BelowRule {
            scope: scope.clone(),
            rate,
            least,
        });
    }
    let ends = period.period().to;
    if now < ends {
        return Err(DrawRefused::NotOver {
            period,
            ends: ends
                .with_timezone(&beijing())
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        });
    }
    Ok(())
}

/// Whether a call was to a confidential queue (举报/投诉): its `skill` is one of
/// `confidential_skills`.
pub fn is_confidential(call: &CallRecord, confidential_skills: &[String]) -> bool {
    call.skill
        .as_deref()
        .is_some_and(|s| confidential_skills.iter().any(|c| c == s))
}

/// The caller's number as a reader may see it: masked (`139****0000`) for a confidential
/// call unless the reader has clearance.
pub fn caller_shown(call: &CallRecord, confidential_skills: &[String], clearance: bool) -> String {
    let number = call
        .caller_normalized
        .as_deref()
        .unwrap_or(&call.caller_raw);
    if is_confidential(call, confidential_skills) && !clearance {
        crate::mask_number(number)
    } else {
        number.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_as_the_inspectors_write_them() {
        for (text, bp) in [
            ("0.2", 2000),
            (".25", 2500),
            ("1", 10_000),
            ("20%", 2000),
            ("12.5%", 1250),
            ("0.1", 1000),
            ("0.0001", 1),
        ] {
            assert_eq!(text.parse::<Rate>().unwrap().basis_points(), bp, "{text}");
        }
        for bad in [
            "0", "1.5", "", ".", "-0.2", "abc", "20 %%", "0.00001", "101%",
        ] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        assert_eq!(Rate::OFFICE_WEEKLY.to_string(), "20%");
        assert_eq!("12.5%".parse::<Rate>().unwrap().to_string(), "12.5%");
    }

    #[test]
    fn twenty_percent_of_fifteen_calls_is_three_and_of_sixteen_four() {
        assert_eq!(Rate::OFFICE_WEEKLY.of(15), 3);
        assert_eq!(Rate::OFFICE_WEEKLY.of(16), 4);
        assert_eq!(Rate::CENTRAL_MONTHLY.of(1), 1);
        assert_eq!(Rate::CENTRAL_MONTHLY.of(0), 0);
    }

    #[test]
    fn weeks_and_months_round_trip_and_know_their_deadline() {
        let w = PeriodKey::week("2026-W9").unwrap();
        assert_eq!(w.to_string(), "2026-W09");
        assert_eq!(PeriodKey::parse("2026-W09").unwrap(), w);
        let m = PeriodKey::month("2026-12").unwrap();
        assert_eq!(PeriodKey::parse("2026-12").unwrap(), m);
        assert_eq!(m.period(), Period::month("2026-12").unwrap());
        assert_eq!(
            PeriodKey::week("2026-W49").unwrap().period(),
            Period::week("2026-W49").unwrap()
        );
        assert_eq!(
            m.deadline(),
            Period::month("2027-01").unwrap().to,
            "December's checks are due by the end of January"
        );
        assert!(PeriodKey::week("2026-W54").is_err());
        let dec = Period::month("2026-12").unwrap();
        let weeks = PeriodKey::overlapping(&dec, true);
        assert_eq!(weeks.first().unwrap().to_string(), "2026-W49");
        assert_eq!(weeks.last().unwrap().to_string(), "2026-W53");
        assert_eq!(PeriodKey::overlapping(&dec, false), vec![m]);
    }

    #[test]
    fn an_office_draws_a_finished_week_at_no_less_than_twenty_percent() {
        let office = Scope::Office("luoyang".into());
        let week = PeriodKey::week("2026-W48").unwrap();
        let monday = Period::week("2026-W49").unwrap().from;
        assert!(check_draw(&office, week, Rate::OFFICE_WEEKLY, monday).is_ok());
        assert!(matches!(
            check_draw(&office, week, Rate::CENTRAL_MONTHLY, monday),
            Err(DrawRefused::BelowRule { .. })
        ));
        assert!(matches!(
            check_draw(
                &office,
                week,
                Rate::OFFICE_WEEKLY,
                monday - Duration::seconds(1)
            ),
            Err(DrawRefused::NotOver { .. })
        ));
        let month = PeriodKey::month("2026-11").unwrap();
        assert!(matches!(
            check_draw(&office, month, Rate::OFFICE_WEEKLY, monday),
            Err(DrawRefused::WrongPeriod { .. })
        ));
        assert!(matches!(
            check_draw(&Scope::Central, month, Rate::CENTRAL_MONTHLY, monday),
            Err(DrawRefused::NotOver { .. })
        ));
        let december = Period::month("2026-12").unwrap().from;
        assert!(check_draw(&Scope::Central, month, Rate::CENTRAL_MONTHLY, december).is_ok());
    }
}
