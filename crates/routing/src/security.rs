//! `[security]`: the brakes on password guessing, as the operator tunes them. Every key is
//! optional; the defaults suit a province's worth of desk phones behind office NATs.

use std::ops::Range;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Problem;

/// The section exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecurity {
    pub auth_slow_after: Option<Spanned<u32>>,
    pub auth_block_after: Option<Spanned<u32>>,
    pub auth_block_secs: Option<Spanned<u64>>,
    pub auth_forget_secs: Option<Spanned<u64>>,
}

/// How failed digest answers are braked, per source address and per user name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityConfig {
    /// Failures after which every further answer to that address or user is held back
    /// (a little longer per failure), right password or wrong.
    pub auth_slow_after: u32,
    /// Failures after which the address or user is blocked.
    pub auth_block_after: u32,
    /// How long a block lasts.
    pub auth_block: Duration,
    /// Failures older than this (since the last one) are forgotten.
    pub auth_forget: Duration,
}

impl Default for SecurityConfig {
    fn default() -> SecurityConfig {
        SecurityConfig {
            auth_slow_after: 5,
            auth_block_after: 20,
            auth_block: Duration::from_secs(900),
            auth_forget: Duration::from_secs(600),
        }
    }
}

/// Checks `[security]`, reporting values out of range through `report`.
pub(crate) fn check(
    raw: Option<RawSecurity>,
    report: &mut dyn FnMut(&Range<usize>, Problem),
) -> SecurityConfig {
    let d = SecurityConfig::default();
    let Some(raw) = raw else {
        return d;
    };
    let mut count = |v: Option<Spanned<u32>>, key: &'static str, default: u32| match v {
        Some(v) if *v.get_ref() == 0 || *v.get_ref() > 10_000 => {
            let range = "1 to 10000";
            report(&v.span(), Problem::OutOfRange { key, range });
            default
        }
        Some(v) => v.into_inner(),
        None => default,
    };
    let slow = count(raw.auth_slow_after, "auth_slow_after", d.auth_slow_after);
    let block = count(raw.auth_block_after, "auth_block_after", d.auth_block_after);
    let mut secs = |v: Option<Spanned<u64>>, key: &'static str, default: Duration| match v {
        Some(v) if *v.get_ref() == 0 || *v.get_ref() > 604_800 => {
            let range = "1 to 604800 (a week)";
            report(&v.span(), Problem::OutOfRange { key, range });
            default
        }
        Some(v) => Duration::from_secs(v.into_inner()),
        None => default,
    };
    SecurityConfig {
        auth_slow_after: slow,
        auth_block_after: block,
        auth_block: secs(raw.auth_block_secs, "auth_block_secs", d.auth_block),
        auth_forget: secs(raw.auth_forget_secs, "auth_forget_secs", d.auth_forget),
    }
}
