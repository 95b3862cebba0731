//! `[overload]`: how much the switch takes on before it refuses new calls with 503, and the
//! longest a call may last. Every key is optional; the defaults suit one 2-core machine.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Problem;

/// The section exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOverload {
    pub max_calls: Option<Spanned<u32>>,
    pub new_requests_per_source: Option<Spanned<u32>>,
    pub max_lag_ms: Option<Spanned<u64>>,
    pub max_media_lag_ms: Option<Spanned<u64>>,
    pub max_call_secs: Option<Spanned<u64>>,
    pub max_menu_secs: Option<Spanned<u64>>,
}

/// The brakes on new work: calls in progress, new requests per source, the core's lag; and
/// the longest call and menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverloadConfig {
    /// Calls in progress at most (the process's file limit may lower it further).
    pub max_calls: u32,
    /// New INVITEs and REGISTERs a second from one address (a /64 for IPv6), with a burst
    /// of twice that; trunks are exempt. 0 turns the limit off.
    pub new_requests_per_source: u32,
    /// A new call that waited longer than this between its datagram's arrival and its
    /// handling is refused: the switch is behind.
    pub max_lag: Duration,
    /// New calls are refused while the media tasks run this late (their 20 ms timers fire
    /// this long after they were due): the relay and the recorder are short of CPU.
    pub max_media_lag: Duration,
    /// A call lasting longer than this (from its INVITE) is ended by the switch.
    pub max_call: Duration,
    /// A caller still choosing in the voice menu after this long is ended by the switch.
    pub max_menu: Duration,
}

impl Default for OverloadConfig {
    fn default() -> OverloadConfig {
        OverloadConfig {
            max_calls: 5_000,
            new_requests_per_source: 30,
            max_lag: Duration::from_millis(250),
            max_media_lag: Duration::from_millis(100),
            max_call: Duration::from_secs(2 * 3600),
            max_menu: Duration::from_secs(600),
        }
    }
}

/// Checks `[overload]`, reporting values out of range through `report`.
pub(crate) fn check(
    raw: Option<RawOverload>,
    report: &mut dyn FnMut(&Range<usize>, Problem),
) -> OverloadConfig {
    let d = OverloadConfig::default();
    let Some(raw) = raw else {
        return d;
    };
    let mut within = |v: Option<Spanned<u64>>, key: &'static str, range: (u64, u64), words| {
        let v = v?;
        if *v.get_ref() < range.0 || *v.get_ref() > range.1 {
            report(&v.span(), Problem::OutOfRange { key, range: words });
            return None;
        }
        Some(v.into_inner())
    };
    let wide = |v: Option<Spanned<u32>>| v.map(|v| Spanned::new(v.span(), u64::from(*v.get_ref())));
    let max_calls = within(
        wide(raw.max_calls),
        "max_calls",
        (1, 100_000),
        "1 to 100000",
    );
    let per_source = within(
        wide(raw.new_requests_per_source),
        "new_requests_per_source",
        (0, 100_000),
        "0 (off) to 100000",
    );
    let lag = within(raw.max_lag_ms, "max_lag_ms", (10, 10_000), "10 to 10000");
    let media_lag = within(
        raw.max_media_lag_ms,
        "max_media_lag_ms",
        (10, 10_000),
        "10 to 10000",
    );
    let call = within(
        raw.max_call_secs,
        "max_call_secs",
        (60, 86_400),
        "60 to 86400 (a day)",
    );
    let menu = within(
        raw.max_menu_secs,
        "max_menu_secs",
        (30, 7_200),
        "30 to 7200",
    );
    OverloadConfig {
        max_calls: max_calls.map_or(d.max_calls, |v| v as u32),
        new_requests_per_source: per_source.map_or(d.new_requests_per_source, |v| v as u32),
        max_lag: lag.map_or(d.max_lag, Duration::from_millis),
        max_media_lag: media_lag.map_or(d.max_media_lag, Duration::from_millis),
        max_call: call.map_or(d.max_call, Duration::from_secs),
        max_menu: menu.map_or(d.max_menu, Duration::from_secs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(text: &str) -> (OverloadConfig, Vec<String>) {
        let raw: RawOverload = toml::from_str(text).unwrap();
        let mut problems = Vec::new();
        let config = check(Some(raw), &mut |_, p| problems.push(p.to_string()));
        (config, problems)
    }

    #[test]
    fn absent_keys_keep_their_defaults() {
        assert_eq!(checked("").0, OverloadConfig::default());
        let (c, problems) = checked("max_calls = 40\nmax_call_secs = 600");
        assert!(problems.is_empty());
        assert_eq!(c.max_calls, 40);
        assert_eq!(c.max_call, Duration::from_secs(600));
        assert_eq!(c.max_lag, OverloadConfig::default().max_lag);
    }

    #[test]
    fn values_out_of_range_are_reported_and_not_taken() {
        let (c, problems) = checked("max_calls = 0\nmax_lag_ms = 5\nmax_menu_secs = 1");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert_eq!(c, OverloadConfig::default());
        assert!(problems[0].contains("max_calls must be 1 to 100000"));
    }

    #[test]
    fn the_per_source_limit_can_be_turned_off() {
        assert_eq!(
            checked("new_requests_per_source = 0")
                .0
                .new_requests_per_source,
            0
        );
    }
}
