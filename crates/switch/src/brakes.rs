//! The brakes on password guessing: failed digest answers are counted per source address
//! and per user name; past a first threshold every answer to them is held back a little
//! longer per failure (right password or wrong, so the delay tells a guesser nothing), past
//! a second they are blocked for a while.
//!
//! Pure: the core passes the time in and carries out the verdicts. User names are counted
//! whether or not such an agent exists, so a brake never tells a scanner which ones do.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use hotline_routing::SecurityConfig;

/// How much longer each failure past the slow-down threshold holds the next answer back.
const SLOW_STEP: Duration = Duration::from_millis(200);
/// The longest an answer is held back.
const SLOW_MAX: Duration = Duration::from_secs(3);
/// User names tracked at most: guessers choose them, so the table must not grow unbounded.
const MAX_TRACKED: usize = 10_000;

/// Who a brake applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// Everything that source address sends with credentials.
    Source(IpAddr),
    /// Every attempt to sign in as that user name (whether or not the agent exists).
    User(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Source(ip) => write!(f, "source {ip}"),
            Subject::User(u) => write!(f, "user {u}"),
        }
    }
}

/// What to do with a request carrying credentials, before looking at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the credentials now.
    Check,
    /// Hold the request this long, then check it.
    Hold(Duration),
    /// Refuse it unchecked (403): the source or user is blocked.
    Blocked,
}

/// A brake that started, for the log and the `security_events` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrakeEvent {
    /// Answers to the subject are held back from now on.
    Slowed {
        /// Who.
        subject: Subject,
        /// Failures counted.
        failures: u32,
    },
    /// The subject is blocked until `until`.
    Blocked {
        /// Who.
        subject: Subject,
        /// Failures counted.
        failures: u32,
        /// How long the block lasts.
        lasts: Duration,
    },
}

/// A subject blocked now, for `hotline security`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Who.
    pub subject: Subject,
    /// Failures counted when it began.
    pub failures: u32,
    /// How long it still lasts.
    pub left: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Tally {
    failures: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

/// Failure counts and blocks.
#[derive(Debug, Default)]
pub struct Brakes {
    config: SecurityConfig,
    tallies: HashMap<Subject, Tally>,
}

impl Brakes {
    /// Brakes tuned by the dialplan's `[security]`.
    pub fn new(config: SecurityConfig) -> Brakes {
        Brakes {
            config,
            tallies: HashMap::new(),
        }
    }

    /// Takes a reloaded plan's settings; counts and blocks in force stay.
    pub fn set_config(&mut self, config: SecurityConfig) {
        self.config = config;
    }

    /// The verdict on a request from `source` signing in as `user`. `spared` is true when
    /// `user`'s phone is registered from `source` right now: a block never stops a working
    /// phone from refreshing (a guesser elsewhere must not log an agent out), it is only
    /// slowed.
    pub fn verdict(&self, now: Instant, source: IpAddr, user: &str, spared: bool) -> Verdict {
        let source = self.live(now, &Subject::Source(source));
        let user = self.live(now, &Subject::User(user.to_string()));
        let blocked = |t: Option<Tally>| t.and_then(|t| t.blocked_until).is_some_and(|u| now < u);
        if !spared && (blocked(source) || blocked(user)) {
            return Verdict::Blocked;
        }
        let failures = [source, user]
            .into_iter()
            .flatten()
            .map(|t| t.failures)
            .max()
            .unwrap_or(0);
        match failures.checked_sub(self.config.auth_slow_after) {
            None => Verdict::Check,
            Some(over) => Verdict::Hold((SLOW_STEP * (over + 1)).min(SLOW_MAX)),
        }
    }

    /// Counts a failed answer; returns the brakes it set off.
    pub fn failed(&mut self, now: Instant, source: IpAddr, user: &str) -> Vec<BrakeEvent> {
        if self.tallies.len() >= MAX_TRACKED {
            self.forget_oldest(now);
        }
        let mut events = Vec::new();
        for subject in [Subject::Source(source), Subject::User(user.to_string())] {
            let fresh = self.live(now, &subject);
            let mut t = fresh.unwrap_or(Tally {
                failures: 0,
                last: now,
                blocked_until: None,
            });
            if t.blocked_until.is_some_and(|u| u <= now) {
                // A block that ran out starts the count again.
                t = Tally {
                    failures: 0,
                    last: now,
                    blocked_until: None,
                };
            }
            t.failures = t.failures.saturating_add(1);
            t.last = now;
            if t.failures == self.config.auth_slow_after {
                events.push(BrakeEvent::Slowed {
                    subject: subject.clone(),
                    failures: t.failures,
                });
            }
            if t.failures >= self.config.auth_block_after && t.blocked_until.is_none() {
                t.blocked_until = Some(now + self.config.auth_block);
                events.push(BrakeEvent::Blocked {
                    subject: subject.clone(),
                    failures: t.failures,
                    lasts: self.config.auth_block,
                });
            }
            self.tallies.insert(subject, t);
        }
        events
    }

    /// A right answer for `user`: their own count starts again (the source's does not, or
    /// one known password would let a guesser reset its address's count at will).
    pub fn succeeded(&mut self, user: &str) {
        let key = Subject::User(user.to_string());
        if self
            .tallies
            .get(&key)
            .is_some_and(|t| t.blocked_until.is_none())
        {
            self.tallies.remove(&key);
        }
    }

    /// The blocks in force, longest left first.
    pub fn blocks(&self, now: Instant) -> Vec<Block> {
        let mut list: Vec<Block> = self
            .tallies
            .iter()
            .filter_map(|(s, t)| {
                let until = t.blocked_until.filter(|u| now < *u)?;
                Some(Block {
                    subject: s.clone(),
                    failures: t.failures,
                    left: until - now,
                })
            })
            .collect();
        list.sort_by(|a, b| b.left.cmp(&a.left).then(a.subject.cmp(&b.subject)));
        list
    }

    /// Drops counts that are forgotten and blocks that ran out; returns the blocks that
    /// ended, for the log.
    pub fn expire(&mut self, now: Instant) -> Vec<Subject> {
        let mut ended = Vec::new();
        let forget = self.config.auth_forget;
        self.tallies.retain(|s, t| match t.blocked_until {
            Some(u) if u <= now => {
                ended.push(s.clone());
                false
            }
            Some(_) => true,
            None => now.saturating_duration_since(t.last) < forget,
        });
        ended.sort();
        ended
    }

    /// The subject's tally unless it is forgotten by now.
    fn live(&self, now: Instant, subject: &Subject) -> Option<Tally> {
        let t = *self.tallies.get(subject)?;
        let forgotten = t.blocked_until.is_none()
            && now.saturating_duration_since(t.last) >= self.config.auth_forget;
        (!forgotten).then_some(t)
    }

    /// Makes room: forgotten tallies go, then the unblocked tenth least recently failed.
    fn forget_oldest(&mut self, now: Instant) {
        self.expire(now);
        if self.tallies.len() < MAX_TRACKED {
            return;
        }
        let mut unblocked: Vec<(Instant, Subject)> = self
            .tallies
            .iter()
            .filter(|(_, t)| t.blocked_until.is_none())
            .map(|(s, t)| (t.last, s.clone()))
            .collect();
        unblocked.sort();
        for (_, s) in unblocked.into_iter().take(MAX_TRACKED / 10) {
            self.tallies.remove(&s);
        }
    }
}

#[cfg(test)]
#[path = "brakes_tests.rs"]
mod tests;
