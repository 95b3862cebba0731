//! Admission control: whether a new call or registration is taken on at all. Refused work
//! gets 503 with a Retry-After before any port, file or record is taken for it, so a flood
//! (a SIP scanner, a misrouted trunk, a filing-deadline peak) costs a parse and a reply,
//! and the calls already up keep their share of the machine.
//!
//! Three brakes, as Kamailio's pike and a load-shedding proxy would apply them: a ceiling on
//! calls in progress (the plan's `[overload] max_calls`, lowered to what the process's file
//! limit allows), a per-source rate of new INVITEs and REGISTERs (token buckets; trunks are
//! exempt), and the core's own lag (a new call that waited too long between its datagram's
//! arrival and its handling finds the switch behind).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use hotline_routing::OverloadConfig;

use crate::brakes::{source_of, Subject};

/// Sources tracked at most: spoofed addresses must not grow the map without end; past this
/// every new source shares one bucket.
const MAX_SOURCES: usize = 65_536;
/// A source silent this long is forgotten (its bucket is full again by then).
const FORGET_AFTER: Duration = Duration::from_secs(10);
/// Retry-After for a call refused because the switch is full or behind: long enough for the
/// peak to pass, short enough that a redialling caller is not kept out for long.
pub(crate) const RETRY_BUSY: u32 = 10;
/// Retry-After for a source over its rate.
pub(crate) const RETRY_RATE: u32 = 60;

/// What kind of new work asks to be taken on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewWork {
    /// An INVITE outside any dialog: a new call.
    Call,
    /// A REGISTER: a desk phone signing in.
    Register,
}

/// Why new work was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// Calls in progress are at the ceiling.
    Ceiling,
    /// Its source sent more new requests than its rate allows.
    SourceRate,
    /// The switch is behind: the request waited too long to be handled, or the media
    /// tasks run late.
    Lag,
}

impl Shed {
    /// The word logs and `/metrics` use.
    pub fn word(self) -> &'static str {
        match self {
            Shed::Ceiling => "ceiling",
            Shed::SourceRate => "source-rate",
            Shed::Lag => "lag",
        }
    }

    /// The Retry-After the refusal carries, in seconds.
    pub(crate) fn retry_after(self) -> u32 {
        match self {
            Shed::Ceiling | Shed::Lag => RETRY_BUSY,
            Shed::SourceRate => RETRY_RATE,
        }
    }
}

/// New work refused so far, by reason (`/metrics`, the live board).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ShedCounts {
    /// Refused at the ceiling of calls in progress.
    pub ceiling: u64,
    /// Refused over their source's rate.
    pub source_rate: u64,
    /// Refused because the switch was behind.
    pub lag: u64,
}

impl ShedCounts {
    fn count(&mut self, why: Shed) {
        let n = match why {
            Shed::Ceiling => &mut self.ceiling,
            Shed::SourceRate => &mut self.source_rate,
            Shed::Lag => &mut self.lag,
        };
        *n += 1;
    }

    /// Every refusal.
    pub fn total(&self) -> u64 {
        self.ceiling + self.source_rate + self.lag
    }
}

/// One source's tokens: refilled at the rate, at most a burst of twice the rate.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// What one new request brings to the brakes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asking {
    /// What it asks for.
    pub work: NewWork,
    /// Where it came from.
    pub source: IpAddr,
    /// Whether the source is a trunk of the plan (exempt from the per-source rate).
    pub trunk: bool,
    /// How long it waited between arriving and being handled.
    pub lag: Duration,
    /// How late the media tasks' timers fire now.
    pub media_lag: Duration,
    /// Calls in progress now.
    pub calls: usize,
}

/// The brakes on new work.
#[derive(Debug)]
pub(crate) struct Admission {
    config: OverloadConfig,
    /// What the process's file limit allows, if the edge said.
    files_allow: Option<usize>,
    buckets: HashMap<Subject, Bucket>,
    /// The bucket shared by sources beyond [`MAX_SOURCES`].
    crowd: Option<Bucket>,
    /// Refusals so far.
    pub shed: ShedCounts,
}

impl Admission {
    /// Brakes as `config` sets them.
    pub(crate) fn new(config: OverloadConfig) -> Admission {
        Admission {
            config,
            files_allow: None,
            buckets: HashMap::new(),
            crowd: None,
            shed: ShedCounts::default(),
        }
    }

    /// The plan's settings after a reload (sources' buckets are kept).
    pub(crate) fn set_config(&mut self, config: OverloadConfig) {
        self.config = config;
    }

    /// The settings in force.
    pub(crate) fn config(&self) -> &OverloadConfig {
        &self.config
    }

    /// Calls in progress at most, as the process's file limit allows.
    pub(crate) fn limit_by_files(&mut self, calls: usize) {
        self.files_allow = Some(calls);
    }

    /// Calls in progress at most, from the plan and the file limit.
    pub(crate) fn ceiling(&self) -> usize {
        let plan = self.config.max_calls as usize;
        self.files_allow.map_or(plan, |f| f.min(plan))
    }

    /// Whether to take on `a`; a refusal is counted.
    pub(crate) fn admit(&mut self, now: Instant, a: Asking) -> Result<(), Shed> {
        let verdict = self.verdict(now, a);
        if let Err(why) = verdict {
            self.shed.count(why);
        }
        verdict
    }

    fn verdict(&mut self, now: Instant, a: Asking) -> Result<(), Shed> {
        // The cheapest and least arbitrary first: a flood from one source is that source's.
        if !a.trunk && !self.take_token(now, a.source) {
            return Err(Shed::SourceRate);
        }
        if a.work == NewWork::Register {
            // A desk phone's registration is never shed for load: losing it logs an agent out.
            return Ok(());
        }
        if a.calls >= self.ceiling() {
            return Err(Shed::Ceiling);
        }
        if a.lag > self.config.max_lag || a.media_lag > self.config.max_media_lag {
            return Err(Shed::Lag);
        }
        Ok(())
    }

    /// Takes one token from the source's bucket; false when it has none.
    fn take_token(&mut self, now: Instant, source: IpAddr) -> bool {
        let rate = f64::from(self.config.new_requests_per_source);
        if rate == 0.0 {
            return true;
        }
        let burst = 2.0 * rate;
        let subject = source_of(source);
        let bucket = if let Some(b) = self.buckets.get_mut(&subject) {
            b
        } else if self.buckets.len() < MAX_SOURCES {
            self.buckets.entry(subject).or_insert(Bucket {
                tokens: burst,
                at: now,
            })
        } else {
            self.crowd.get_or_insert(Bucket {
                tokens: burst,
                at: now,
            })
        };
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Forgets sources silent for a while (their buckets would be full again).
    pub(crate) fn expire(&mut self, now: Instant) {
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.at) < FORGET_AFTER);
        if self
            .crowd
            .is_some_and(|b| now.saturating_duration_since(b.at) >= FORGET_AFTER)
        {
            self.crowd = None;
        }
    }

    /// Sources tracked now.
    #[cfg(test)]
    pub(crate) fn sources(&self) -> usize {
        self.buckets.len()
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
