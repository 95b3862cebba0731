//! The brakes on password guessing: failed digest answers are counted per source address
//! (an IPv6 /64 counts as one) and per user name; past a first threshold every request with
//! credentials from them is held back a little longer per failure, one after another (right
//! password or wrong, so the delay tells a guesser nothing, and parallel requests do not
//! multiply the rate), past a second they are blocked for a while.
//!
//! Pure: the core passes the time in and carries out the verdicts. User names are counted
//! whether or not such an agent exists, so a brake never tells a scanner which ones do; the
//! counts of the plan's own users are kept apart and never pushed out, so a flood of made-up
//! names or addresses cannot wipe the count of the agent being guessed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use hotline_routing::SecurityConfig;

/// How much longer each failure past the slow-down threshold holds the next answer back.
const SLOW_STEP: Duration = Duration::from_millis(200);
/// The longest one request is held beyond the one before it.
const SLOW_MAX: Duration = Duration::from_secs(3);
/// Sources and unknown user names tracked at most: guessers choose them, so the table must
/// not grow unbounded. When it is full, subjects it does not know are slowed the most.
const MAX_TRACKED: usize = 10_000;

/// Who a brake applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// Everything that source address (an IPv6 /64) sends with credentials.
    Source(IpAddr),
    /// Every attempt to sign in as that user name (whether or not the agent exists).
    User(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Source(IpAddr::V6(ip)) => write!(f, "source {ip}/64"),
            Subject::Source(ip) => write!(f, "source {ip}"),
            Subject::User(u) => write!(f, "user {u}"),
        }
    }
}

/// The source subject of an address: IPv4 as it is, IPv6 by its /64 (one host's share).
pub fn source_of(ip: IpAddr) -> Subject {
    match ip {
        IpAddr::V4(_) => Subject::Source(ip),
        IpAddr::V6(v6) => {
            let masked = u128::from(v6) & !((1u128 << 64) - 1);
            Subject::Source(IpAddr::V6(masked.into()))
        }
    }
}

/// Who is signing in, as the brakes see it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// The source address of the request.
    pub source: IpAddr,
    /// The user name it signs in as.
    pub user: &'a str,
    /// Whether the plan has that agent or supervisor (their counts are never pushed out).
    pub known: bool,
    /// Whether it comes from the exact address and port the user's phone is registered
    /// from, or its static seat: a block of the user name (set off by a guesser elsewhere)
    /// does not stop that phone. A block of its source address still does.
    pub at_home: bool,
}

/// What to do with a request carrying credentials, before looking at them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the credentials now.
    Check,
    /// Hold the request until then, then check it.
    Hold(Instant),
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
    /// The subject is blocked.
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
    /// When the last request held for this subject is released: the next one waits for it.
    busy_until: Instant,
}

impl Tally {
    fn new(now: Instant) -> Tally {
        Tally {
            failures: 0,
            last: now,
            blocked_until: None,
            busy_until: now,
        }
    }

    fn blocked(&self, now: Instant) -> bool {
        self.blocked_until.is_some_and(|u| now < u)
    }
}

/// Failure counts and blocks.
#[derive(Debug, Default)]
pub struct Brakes {
    config: SecurityConfig,
    /// The plan's agents and supervisors: bounded by the plan, never pushed out.
    known: HashMap<String, Tally>,
    /// Sources and unknown user names: at most [`MAX_TRACKED`].
    others: HashMap<Subject, Tally>,
}

impl Brakes {
    /// Brakes tuned by the dialplan's `[security]`.
    pub fn new(config: SecurityConfig) -> Brakes {
        Brakes {
            config,
            ..Brakes::default()
        }
    }

    /// Takes a reloaded plan's settings; counts and blocks in force stay.
    pub fn set_config(&mut self, config: SecurityConfig) {
        self.config = config;
    }

    /// The verdict on a request with credentials; a hold is booked, so requests from the
    /// same source or for the same user are released one after another.
    pub fn verdict(&mut self, now: Instant, a: Attempt<'_>) -> Verdict {
        let source = source_of(a.source);
        let user = Subject::User(a.user.to_string());
        let full = self.others.len() >= MAX_TRACKED;
        let (s, u) = (self.live(now, &source), self.live(now, &user));
        let user_blocked = u.is_some_and(|t| t.blocked(now)) && !a.at_home;
        if s.is_some_and(|t| t.blocked(now)) || user_blocked {
            return Verdict::Blocked;
        }
        let untracked = full && (s.is_none() || (!a.known && u.is_none()));
        let failures = [s, u].into_iter().flatten().map(|t| t.failures).max();
        let delay = match failures.and_then(|f| f.checked_sub(self.config.auth_slow_after)) {
            // The table is full: a subject it cannot count is slowed the most.
            _ if untracked => SLOW_MAX,
            Some(over) => (SLOW_STEP * (over + 1)).min(SLOW_MAX),
            None => return Verdict::Check,
        };
        let busy = [s, u].into_iter().flatten().map(|t| t.busy_until).max();
        let release = busy.unwrap_or(now).max(now) + delay;
        for subject in [source, user] {
            if let Some(t) = self.tally_mut(&subject) {
                t.busy_until = release;
            }
        }
        if a.known && !self.known.contains_key(a.user) {
            // Even with the table full, guesses at a real account queue one by one.
            let mut t = Tally::new(now);
            t.busy_until = release;
            self.known.insert(a.user.to_string(), t);
        }
        Verdict::Hold(release)
    }

    /// Counts a failed answer; returns the brakes it set off.
    pub fn failed(&mut self, now: Instant, a: Attempt<'_>) -> Vec<BrakeEvent> {
        let mut events = Vec::new();
        for subject in [source_of(a.source), Subject::User(a.user.to_string())] {
            let fresh = self.live(now, &subject);
            let mut t = fresh.unwrap_or_else(|| Tally::new(now));
            if t.blocked_until.is_some_and(|u| u <= now) {
                // A block that ran out starts the count again.
                t = Tally::new(now);
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
            self.store(subject, a.known, t);
        }
        events
    }

    /// A right answer for `user`: their own count starts again (the source's does not, or
    /// one known password would let a guesser reset its address's count at will).
    pub fn succeeded(&mut self, user: &str) {
        let key = Subject::User(user.to_string());
        let unblocked = |t: &Tally| t.blocked_until.is_none();
        if self.known.get(user).is_some_and(unblocked) {
            self.known.remove(user);
        }
        if self.others.get(&key).is_some_and(unblocked) {
            self.others.remove(&key);
        }
    }

    /// The blocks in force, longest left first.
    pub fn blocks(&self, now: Instant) -> Vec<Block> {
        let known = self
            .known
            .iter()
            .map(|(u, t)| (Subject::User(u.clone()), t));
        let others = self.others.iter().map(|(s, t)| (s.clone(), t));
        let mut list: Vec<Block> = known
            .chain(others)
            .filter_map(|(subject, t)| {
                let until = t.blocked_until.filter(|u| now < *u)?;
                Some(Block {
                    subject,
                    failures: t.failures,
                    left: until - now,
                })
            })
            .collect();
        list.sort_by(|a, b| b.left.cmp(&a.left).then(a.subject.cmp(&b.subject)));
        list
    }

    /// Drops counts that are forgotten and blocks that ran out (once a second, from the
    /// core's tick); returns the blocks that ended, for the log.
    pub fn expire(&mut self, now: Instant) -> Vec<Subject> {
        let mut ended = Vec::new();
        let forget = self.config.auth_forget;
        let mut keep = |s: Subject, t: &Tally| match t.blocked_until {
            Some(u) if u <= now => {
                ended.push(s);
                false
            }
            Some(_) => true,
            None => now.saturating_duration_since(t.last) < forget || t.busy_until > now,
        };
        self.known.retain(|u, t| keep(Subject::User(u.clone()), t));
        self.others.retain(|s, t| keep(s.clone(), t));
        ended.sort();
        ended
    }

    /// The subject's tally unless it is forgotten by now.
    fn live(&self, now: Instant, subject: &Subject) -> Option<Tally> {
        let t = *match subject {
            Subject::User(u) => self.known.get(u).or_else(|| self.others.get(subject)),
            Subject::Source(_) => self.others.get(subject),
        }?;
        let forgotten = t.blocked_until.is_none()
            && t.busy_until <= now
            && now.saturating_duration_since(t.last) >= self.config.auth_forget;
        (!forgotten).then_some(t)
    }

    fn tally_mut(&mut self, subject: &Subject) -> Option<&mut Tally> {
        match subject {
            Subject::User(u) if self.known.contains_key(u) => self.known.get_mut(u),
            _ => self.others.get_mut(subject),
        }
    }

    /// Keeps a tally: a known user's always; anything else while the table has room.
    fn store(&mut self, subject: Subject, known: bool, t: Tally) {
        match subject {
            Subject::User(u) if known => {
                self.known.insert(u, t);
            }
            s if self.others.contains_key(&s) || self.others.len() < MAX_TRACKED => {
                self.others.insert(s, t);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "brakes_tests.rs"]
mod tests;
