//! Signing in: REGISTERs from desk phones, and the brakes on every request that carries
//! digest credentials (REGISTER, and calls placed from phones). A request from a slowed
//! source or user is held before it is looked at, so a right password is not answered
//! sooner than a wrong one; a blocked one is refused unchecked.

use hotline_record::StoreWrite;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use crate::notes::{note, About};
use hotline_acd::AgentId as AcdAgent;
use hotline_record::SecurityEvent;
use hotline_routing::AgentReach;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;

use crate::brakes::{Attempt, BrakeEvent, Verdict};
use crate::core::Core;
use crate::registrar::{credentials, registering_user, Checked, Presence};

/// Requests held by the brakes at most; past that a slowed request is refused at once.
const MAX_HELD: usize = 1_024;
/// Requests held from one source address at most: one guesser cannot fill the queue.
const MAX_HELD_PER_SOURCE: usize = 32;
/// How often a refusal for a full queue is logged at most.
const FULL_LOG_EVERY: Duration = Duration::from_secs(10);

/// A request held back by the brakes until its time.
#[derive(Debug)]
pub(crate) struct Held {
    tx: TxId,
    req: Request,
    from: Peer,
}

/// Held requests, earliest release first.
#[derive(Debug, Default)]
pub(crate) struct HeldRequests {
    queue: std::collections::BinaryHeap<Reverse<(Instant, u64)>>,
    held: HashMap<u64, Held>,
    per_source: HashMap<IpAddr, usize>,
    seq: u64,
    /// When a refusal for a full queue was last logged.
    full_logged: Option<Instant>,
}

impl HeldRequests {
    /// Every held request, taken out (the switch is stopping).
    pub(crate) fn take_all(&mut self) -> Vec<(TxId, Request)> {
        self.queue.clear();
        self.per_source.clear();
        self.held.drain().map(|(_, h)| (h.tx, h.req)).collect()
    }

    /// When the next held request is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.queue.peek().map(|r| r.0 .0)
    }

    /// Takes out the held request of server transaction `tx` (its caller cancelled it).
    pub(crate) fn take(&mut self, tx: TxId) -> Option<Request> {
        let seq = self
            .held
            .iter()
            .find(|(_, h)| h.tx == tx)
            .map(|(s, _)| *s)?;
        self.remove(seq).map(|h| h.req)
    }

    fn full_for(&self, ip: IpAddr) -> bool {
        self.held.len() >= MAX_HELD
            || self.per_source.get(&ip).copied().unwrap_or(0) >= MAX_HELD_PER_SOURCE
    }

    fn push(&mut self, until: Instant, held: Held) {
        self.seq += 1;
        *self.per_source.entry(held.from.addr.ip()).or_default() += 1;
        self.queue.push(Reverse((until, self.seq)));
        self.held.insert(self.seq, held);
    }

    fn remove(&mut self, seq: u64) -> Option<Held> {
        let h = self.held.remove(&seq)?;
        let ip = h.from.addr.ip();
        if let Some(n) = self.per_source.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&ip);
            }
        }
        Some(h)
    }
}

/// The user a request with credentials signs in as: a REGISTER's To, a call's From.
fn signing_in_as(req: &Request) -> Option<String> {
    if req.method == Method::Register {
        registering_user(req)
    } else {
        req.party_from()
            .and_then(|f| f.sip_uri())
            .and_then(|u| u.user)
    }
}

impl Core {
    /// Who is signing in with `req` from `from`, as the brakes see it.
    fn attempt<'a>(&self, user: &'a str, from: Peer) -> Attempt<'a> {
        let seat = match self.plan.dialplan.phone(user) {
            Some(AgentReach::Static {
                contact, any_port, ..
            }) => crate::call::static_seat_sent(contact, *any_port, from),
            _ => false,
        };
        Attempt {
            source: from.addr.ip(),
            user,
            known: self.plan.dialplan.phone(user).is_some(),
            at_home: seat || self.registrar.bound_at(user, from),
        }
    }

    /// Applies the brakes to a request carrying credentials; true when it was held or
    /// refused (the caller stops there). Requests without credentials pass: they are only
    /// challenged, which tells nothing.
    pub(crate) fn braked(&mut self, now: Instant, tx: TxId, req: &Request, from: Peer) -> bool {
        if credentials(req).is_none() {
            return false;
        }
        let user = signing_in_as(req).unwrap_or_default();
        let attempt = self.attempt(&user, from);
        match self.brakes.verdict(now, attempt) {
            Verdict::Check => false,
            Verdict::Blocked => {
                note!(
                    self.notes,
                    Debug,
                    About::Switch,
                    "credentials refused unchecked: blocked user={} from={}",
                    user,
                    from.addr
                );
                self.refused_by_brakes += 1;
                self.refuse(now, tx, req, 403);
                true
            }
            // A phone at home waits its turn whatever the queue holds.
            Verdict::Hold(_) if !attempt.at_home && self.held.full_for(from.addr.ip()) => {
                if self
                    .held
                    .full_logged
                    .is_none_or(|at| now.saturating_duration_since(at) >= FULL_LOG_EVERY)
                {
                    note!(
                        self.notes,
                        Warn,
                        About::Switch,
                        "requests held by the brakes: queue full, refusing user={} from={}",
                        user,
                        from.addr
                    );
                    self.held.full_logged = Some(now);
                }
                self.refused_by_brakes += 1;
                self.refuse(now, tx, req, 403);
                true
            }
            Verdict::Hold(until) => {
                note!(
                    self.notes,
                    Debug,
                    About::Switch,
                    "credentials held by the brakes user={} from={} until={:?}",
                    user,
                    from.addr,
                    until
                );
                let held = Held {
                    tx,
                    req: req.clone(),
                    from,
                };
                self.held.push(until, held);
                true
            }
        }
    }

    /// Looks at the held requests whose time has come, as if they had just arrived; one
    /// whose transaction is gone (cancelled, timed out) is dropped, one whose source or
    /// user was blocked meanwhile is refused.
    pub(crate) fn release_held(&mut self, now: Instant) {
        while let Some(Reverse((at, seq))) = self.held.queue.peek().copied() {
            if at > now {
                break;
            }
            self.held.queue.pop();
            let Some(Held { tx, req, from }) = self.held.remove(seq) else {
                continue;
            };
            if !self.endpoint.is_pending(tx) {
                continue;
            }
            if self.stopping.is_some() {
                self.refuse_stopping(now, tx, &req);
                continue;
            }
            let user = signing_in_as(&req).unwrap_or_default();
            let attempt = self.attempt(&user, from);
            if self.brakes.verdict(now, attempt) == Verdict::Blocked {
                self.refuse(now, tx, &req, 403);
                continue;
            }
            if req.method == Method::Register {
                self.register_now(now, tx, &req, from);
            } else if req
                .call_id()
                .is_some_and(|id| self.dialogs.get(id).is_some())
            {
                // Held while a dialog of its Call-ID began: the same INVITE merged (RFC 3261
                // 8.2.2.2), never a second owner of that dialog.
                self.refuse(now, tx, &req, 482);
            } else {
                self.phone_invite_now(now, tx, req, from);
            }
        }
    }

    /// A held INVITE its phone cancelled: 487, and it is never looked at.
    pub(crate) fn cancel_held(&mut self, now: Instant, tx: TxId) -> bool {
        let Some(req) = self.held.take(tx) else {
            return false;
        };
        self.refuse(now, tx, &req, 487);
        true
    }

    /// A wrong answer from `from` for `user`: counted, and any brake it sets off logged
    /// and saved in `security_events`.
    pub(crate) fn sign_in_failed(&mut self, now: Instant, from: Peer, user: &str) {
        let attempt = self.attempt(user, from);
        for event in self.brakes.failed(now, attempt) {
            let (kind, subject, failures, detail) = match event {
                BrakeEvent::Slowed { subject, failures } => {
                    note!(
                        self.notes,
                        Warn,
                        About::Switch,
                        "wrong passwords: answers are slowed down subject={} failures={}",
                        subject,
                        failures
                    );
                    let detail = "every further answer is held back a little longer".to_string();
                    ("auth-slowed", subject, failures, detail)
                }
                BrakeEvent::Blocked {
                    subject,
                    failures,
                    lasts,
                } => {
                    note!(
                        self.notes,
                        Warn,
                        About::Switch,
                        "wrong passwords: blocked subject={} failures={} secs={}",
                        subject,
                        failures,
                        lasts.as_secs()
                    );
                    let detail = format!("blocked for {} s", lasts.as_secs());
                    ("auth-blocked", subject, failures, detail)
                }
            };
            self.security_event(kind, subject.to_string(), failures, detail);
        }
    }

    /// Saves one row of `security_events`.
    pub(crate) fn security_event(
        &mut self,
        kind: &str,
        subject: String,
        failures: u32,
        detail: String,
    ) {
        let event = SecurityEvent {
            at: self.wall,
            kind: kind.to_string(),
            subject,
            failures,
            detail,
        };
        self.out.write(StoreWrite::Security(Box::new(event)));
    }

    /// Blocks that ran out are lifted (logged and saved).
    pub(crate) fn expire_brakes(&mut self, now: Instant) {
        for subject in self.brakes.expire(now) {
            note!(
                self.notes,
                Info,
                About::Switch,
                "block ended subject={}",
                subject
            );
            self.security_event("auth-unblocked", subject.to_string(), 0, String::new());
        }
    }

    /// A REGISTER, through the brakes.
    pub(crate) fn on_register(&mut self, now: Instant, tx: TxId, req: &Request, from: Peer) {
        if !self.braked(now, tx, req, from) {
            self.register_now(now, tx, req, from);
        }
    }

    fn register_now(&mut self, now: Instant, tx: TxId, req: &Request, from: Peer) {
        let plan = self.plan.clone();
        let secret_of = |user: &str| match plan.dialplan.phone(user) {
            Some(AgentReach::Registers { secret }) => Some(secret.clone()),
            _ => None,
        };
        let now_secs = self.wall.timestamp().max(0) as u64;
        let (resp, attempt) = self.registrar.handle(req, from, now, now_secs, secret_of);
        self.endpoint.respond(now, tx, resp);
        let user = registering_user(req).unwrap_or_default();
        match attempt {
            Checked::Challenged => {}
            Checked::Wrong => self.sign_in_failed(now, from, &user),
            Checked::Passed(presence) => {
                self.brakes.succeeded(&user);
                self.presence_changed(now, &user, from, presence);
            }
        }
    }

    fn presence_changed(&mut self, now: Instant, user: &str, from: Peer, p: Option<Presence>) {
        match p {
            Some(Presence::LoggedIn(agent)) => {
                note!(
                    self.notes,
                    Info,
                    About::Switch,
                    "agent registered agent={} from={}",
                    agent,
                    from.addr
                );
                self.acd.phone_reachable(now, &AcdAgent(agent), true);
            }
            Some(Presence::LoggedOut(agent)) => {
                note!(
                    self.notes,
                    Info,
                    About::Switch,
                    "agent unregistered agent={}",
                    agent
                );
                self.acd.phone_reachable(now, &AcdAgent(agent), false);
            }
            None => {
                // A refresh by a paused agent (rang out) makes them available again.
                if self.registrar.is_registered(user) {
                    self.acd
                        .phone_reachable(now, &AcdAgent(user.to_string()), true);
                }
            }
        }
    }

    /// The sign-in blocks in force, for `hotline security`.
    pub(crate) fn block_lines(&self, now: Instant) -> Vec<crate::command::BlockLine> {
        self.brakes
            .blocks(now)
            .into_iter()
            .map(|b| crate::command::BlockLine {
                kind: match b.subject {
                    crate::brakes::Subject::Source(_) => "source",
                    crate::brakes::Subject::User(_) => "user",
                },
                subject: match &b.subject {
                    crate::brakes::Subject::Source(std::net::IpAddr::V6(ip)) => format!("{ip}/64"),
                    crate::brakes::Subject::Source(ip) => ip.to_string(),
                    crate::brakes::Subject::User(u) => u.clone(),
                },
                failures: b.failures,
                left_secs: b.left.as_secs().max(1),
            })
            .collect()
    }
}
