//! The one id a call carries everywhere: tracing span, call record, recording file name.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Offset, Utc};
use compact_str::{format_compact, CompactString};

/// China has one time zone and no daylight saving, so a fixed offset is exact.
const CHINA_OFFSET_SECS: i32 = 8 * 3600;
/// `YYYYMMDDTHHMMSS`, the time part of an id.
const TIME_FORMAT: &str = "%Y%m%dT%H%M%S";
/// Length of `20261123T131500-7f3a9c`.
const ID_LEN: usize = 22;

/// Beijing time (UTC+8), the time zone of every date a person reads in hotline.
pub(crate) fn china() -> FixedOffset {
    // 8 hours is always in range, so `east_opt` cannot fail; fall back to UTC to stay total.
    FixedOffset::east_opt(CHINA_OFFSET_SECS).unwrap_or_else(|| Utc.fix())
}

/// A call's id, e.g. `20261123T131500-7f3a9c`: Beijing time of the call, then 24 random bits.
///
/// Sorting ids sorts calls by time, and the fixed form makes the id safe as a file name.
/// Its 22 bytes are kept inline, not on the heap: a year's report reads a million of them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct CallId(CompactString);

/// Why a string is not a [`CallId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallIdError {
    /// The string is not 22 characters long.
    #[error("call id must be {ID_LEN} characters, got {0}")]
    Length(usize),
    /// The string does not have the `YYYYMMDDTHHMMSS-xxxxxx` shape.
    #[error("call id must look like 20261123T131500-7f3a9c")]
    Shape,
    /// The time part is not a real date and time.
    #[error("call id has an impossible time")]
    Time,
}

impl CallId {
    /// Builds the id of a call that arrived at `now`; `random` supplies the low 24 bits.
    pub fn generate(now: DateTime<Utc>, random: u32) -> CallId {
        let local = now.with_timezone(&china());
        CallId(format_compact!(
            "{}-{:06x}",
            local.format(TIME_FORMAT),
            random & 0x00ff_ffff
        ))
    }

    /// When the call arrived, as its id says (to the second).
    pub fn made_at(&self) -> Option<DateTime<Utc>> {
        let stamp = self.0.get(..15)?;
        let local = chrono::NaiveDateTime::parse_from_str(stamp, TIME_FORMAT).ok()?;
        local
            .and_local_timezone(china())
            .single()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CallId {
    type Err = CallIdError;

    fn from_str(s: &str) -> Result<CallId, CallIdError> {
        let bytes = s.as_bytes();
        if bytes.len() != ID_LEN {
            return Err(CallIdError::Length(bytes.len()));
        }
        let shape_ok = bytes.iter().enumerate().all(|(i, b)| match i {
            8 => *b == b'T',
            15 => *b == b'-',
            16.. => b.is_ascii_digit() || (b'a'..=b'f').contains(b),
            _ => b.is_ascii_digit(),
        });
        if !shape_ok {
            return Err(CallIdError::Shape);
        }
        // The digits are checked above; a real date and time is checked by hand, not by a
        // format parser, since a year of reports reads a million ids.
        let num = |from: usize, to: usize| -> u32 {
            bytes
                .get(from..to)
                .unwrap_or_default()
                .iter()
                .fold(0, |n, d| n * 10 + u32::from(d - b'0'))
        };
        let date =
            NaiveDate::from_ymd_opt(i32::try_from(num(0, 4)).unwrap_or(0), num(4, 6), num(6, 8));
        let time = NaiveTime::from_hms_opt(num(9, 11), num(11, 13), num(13, 15));
        if date.is_none() || time.is_none() {
            return Err(CallIdError::Time);
        }
        Ok(CallId(CompactString::new(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn id_shows_beijing_time_and_six_hex_digits() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 5, 15, 0).unwrap();
        let id = CallId::generate(now, 0xab7f_3a9c);
        assert_eq!(id.as_str(), "20261123T131500-7f3a9c");
        assert_eq!(id.to_string(), "20261123T131500-7f3a9c");
    }

    #[test]
    fn evening_utc_is_next_day_in_beijing() {
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 20, 0, 1).unwrap();
        assert_eq!(CallId::generate(now, 1).as_str(), "20270101T040001-000001");
    }

    #[test]
    fn an_id_tells_when_its_call_arrived_to_the_second() {
        let at = Utc.with_ymd_and_hms(2026, 12, 5, 23, 40, 7).unwrap();
        assert_eq!(CallId::generate(at, 5).made_at(), Some(at));
    }

    #[test]
    fn id_round_trips_through_text() {
        let now = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let id = CallId::generate(now, 0x00c0ffee);
        assert_eq!(id.as_str().parse::<CallId>().unwrap(), id);
    }

    #[test]
    fn path_like_and_malformed_ids_are_rejected() {
        for bad in [
            "../../../etc/passwd",
            "20261123T131500/7f3a9c",
            "20261123T131500-7f3a9/",
            "20261123T131500-..3a9c",
            "20261123T131500-7F3A9C",
            "20261123T131500-7f3a9c0",
            "20261123X131500-7f3a9c",
            "",
        ] {
            assert!(bad.parse::<CallId>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn impossible_times_are_rejected() {
        assert_eq!(
            "20261332T131500-7f3a9c".parse::<CallId>(),
            Err(CallIdError::Time)
        );
    }

    #[test]
    fn ids_sort_by_time() {
        let a = CallId::generate(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(), 0xffffff);
        let b = CallId::generate(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 6).unwrap(), 0);
        assert!(a < b);
    }

    proptest::proptest! {
        #[test]
        fn any_time_and_random_round_trip(secs in 0i64..4_102_444_800, random: u32) {
            let now = DateTime::from_timestamp(secs, 0).unwrap();
            let id = CallId::generate(now, random);
            proptest::prop_assert_eq!(id.as_str().len(), ID_LEN);
            proptest::prop_assert_eq!(id.as_str().parse::<CallId>().unwrap(), id);
        }

        #[test]
        fn parsing_any_text_never_panics(text in ".{0,40}") {
            if let Ok(id) = text.parse::<CallId>() {
                proptest::prop_assert!(!id.as_str().contains(['/', '.', '\\']));
            }
        }
    }
}
