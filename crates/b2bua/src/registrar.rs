//! The registrar: agents' desk phones REGISTER with digest auth; bindings expire.
//!
//! Pure: takes the request, the time and the agents' secrets, returns the response and who
//! logged in or out. An unknown user is answered exactly like a known one with a wrong
//! password, so the registrar cannot be used to find out which agent numbers exist.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hotline_sip::digest::{challenge, Algorithm, Credentials, NonceCheck, NonceSource};
use hotline_sip::message::{reason_phrase, SipMessage};
use hotline_sip::transaction::Peer;

use crate::notes::{note, About};
use hotline_sip::{HeaderName, NameAddr, Request, Response, SipUri};

/// One contact of an agent's phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI the phone gave.
    pub contact: String,
    /// Where the REGISTER came from: requests to the phone go here (NAT-safe).
    pub source: Peer,
    /// When the binding lapses unless refreshed.
    pub expires_at: Instant,
    /// When it was last refreshed; the freshest binding is rung.
    pub refreshed_at: Instant,
}

/// A change of who can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    /// The agent's first binding appeared.
    LoggedIn(String),
    /// The agent's last binding went away.
    LoggedOut(String),
}

/// How a REGISTER's credentials fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// None given, or not usable (stale, used or forged nonce, a malformed request):
    /// challenged or refused, nothing for the brakes.
    Challenged,
    /// A wrong answer: the brakes count it.
    Wrong,
    /// Right: the bindings were updated, with who became reachable or not.
    Passed(Option<Presence>),
}

/// The user a REGISTER is for (its To).
pub fn registering_user(req: &Request) -> Option<String> {
    req.party_to()
        .and_then(|t| t.sip_uri())
        .and_then(|u| u.user)
}

/// Registration bindings of every agent.
#[derive(Debug)]
pub struct Registrar {
    realm: String,
    nonces: NonceSource,
    nonce_max_age: u64,
    bindings: HashMap<String, Vec<Binding>>,
    /// Nonces already answered, and when: each serves one attempt.
    used_nonces: HashMap<String, Instant>,
    /// The challenges offered, in order.
    algorithms: Vec<Algorithm>,
    /// Where its notes go.
    notes: crate::notes::Notes,
}

/// Why a request's credentials were not accepted, and what to answer.
#[derive(Debug)]
pub struct Refusal {
    /// The 401 challenge or the 403 to send.
    pub response: Response,
    /// True for a wrong answer (wrong password, unknown user, another request's digest):
    /// what the brakes count. False for a challenge (none given, stale or used nonce).
    pub wrong: bool,
}

/// The secret an unknown user's digest is checked against, so that refusing an unknown
/// user costs the same work as refusing a wrong password.
const UNKNOWN_USER_SECRET: &str = "\u{0}no such user\u{0}";

/// The user a request's digest credentials name, if it carries any.
pub fn credentials(req: &Request) -> Option<Credentials> {
    req.headers
        .get_all(&HeaderName::Authorization)
        .into_iter()
        .find_map(Credentials::parse)
}

/// Used nonces remembered at most (each is kept until it would be stale anyway).
const MAX_USED_NONCES: usize = 100_000;

const DEFAULT_EXPIRES: u64 = 3600;
const MIN_EXPIRES: u64 = 30;
const MAX_EXPIRES: u64 = 7200;

impl Registrar {
    /// A registrar for `realm`, signing nonces with `secret` (random per process).
    pub fn new(realm: impl Into<String>, secret: impl Into<String>) -> Registrar {
        Registrar {
            realm: realm.into(),
            nonces: NonceSource::new(secret),
            nonce_max_age: 300,
            bindings: HashMap::new(),
            used_nonces: HashMap::new(),
            algorithms: vec![Algorithm::Md5],
            notes: Default::default(),
        }
    }

    /// Sends its notes among a core's outputs (alone, as in tests, they go nowhere).
    pub(crate) fn with_notes(mut self, notes: crate::notes::Notes) -> Registrar {
        self.notes = notes;
        self
    }

    /// Sets the digest algorithms offered, in order (from the dialplan).
    pub fn set_algorithms(&mut self, algorithms: Vec<Algorithm>) {
        if !algorithms.is_empty() {
            self.algorithms = algorithms;
        }
    }

    /// Handles one REGISTER; `secret_of` gives an agent's password (None: unknown user).
    pub fn handle(
        &mut self,
        req: &Request,
        from: Peer,
        now: Instant,
        now_secs: u64,
        secret_of: impl Fn(&str) -> Option<String>,
    ) -> (Response, Checked) {
        let Some(user) = registering_user(req) else {
            let r = Response::to_request(req, 400, "Bad Request (To)");
            return (r, Checked::Challenged);
        };
        match self.authenticate(req, &user, now, now_secs, secret_of) {
            Err(Refusal { response, wrong }) => {
                let attempt = if wrong {
                    Checked::Wrong
                } else {
                    Checked::Challenged
                };
                (response, attempt)
            }
            Ok(()) => {
                let (r, presence) = self.update_bindings(req, from, now, &user);
                (r, Checked::Passed(presence))
            }
        }
    }

    /// Checks a request's digest credentials for `user` (REGISTER, and calls placed from
    /// agents' and supervisors' phones): `Err` carries the challenge or refusal to send.
    pub fn authenticate(
        &mut self,
        req: &Request,
        user: &str,
        now: Instant,
        now_secs: u64,
        secret_of: impl Fn(&str) -> Option<String>,
    ) -> Result<(), Refusal> {
        let method = req.method.to_string();
        let challenge = |reg: &Registrar, stale| Refusal {
            response: reg.challenge(req, now_secs, stale),
            wrong: false,
        };
        let Some(creds) = credentials(req) else {
            return Err(challenge(self, false));
        };
        match self
            .nonces
            .check(&creds.nonce, now_secs, self.nonce_max_age)
        {
            NonceCheck::Fresh => {}
            NonceCheck::Stale => return Err(challenge(self, true)),
            NonceCheck::Forged => return Err(challenge(self, false)),
        }
        // We asked for qop=auth, so a count is required.
        let counted = creds
            .nc
            .as_deref()
            .is_some_and(|n| u32::from_str_radix(n, 16).is_ok())
            && creds.qop.as_deref() == Some("auth");
        if !counted {
            return Err(challenge(self, false));
        }
        // One nonce serves one attempt, right or wrong: a replay, or a guesser retrying a
        // nonce, is sent a new one (stale, so a phone reusing its nonce just signs again).
        if self.used_nonces.contains_key(&creds.nonce) {
            return Err(challenge(self, true));
        }
        if self.used_nonces.len() >= MAX_USED_NONCES {
            // A flood of attempts: keep the last minute's nonces; older ones are near the
            // end of their life anyway, and an attempt with one is a guess like any other.
            self.used_nonces
                .retain(|_, at| now.saturating_duration_since(*at) < Duration::from_secs(60));
            if self.used_nonces.len() >= MAX_USED_NONCES / 2 {
                self.used_nonces.clear();
            }
            note!(
                self.notes,
                Warn,
                About::Switch,
                "too many used nonces remembered: the oldest forgotten kept={}",
                self.used_nonces.len()
            );
        }
        self.used_nonces.insert(creds.nonce.clone(), now);
        // Same answer, and the same work, for unknown user, wrong user and wrong password.
        // The digest names the request it signs (RFC 3261 22.4): credentials lifted from
        // another request are void.
        let secret = secret_of(user);
        let verified = creds.verify(&method, secret.as_deref().unwrap_or(UNKNOWN_USER_SECRET));
        let ok = secret.is_some()
            && verified
            && creds.username == user
            && creds.realm == self.realm
            && same_target(&creds.uri, &req.uri);
        if !ok {
            return Err(Refusal {
                response: Response::to_request(req, 403, reason_phrase(403)).with_to_tag("reg"),
                wrong: true,
            });
        }
        Ok(())
    }

    fn challenge(&self, req: &Request, now_secs: u64, stale: bool) -> Response {
        let nonce = self.nonces.issue(now_secs);
        let mut r = Response::to_request(req, 401, reason_phrase(401)).with_to_tag("reg");
        // The dialplan's order (default MD5 alone; SHA-256 of RFC 8760 is an opt-in, since
        // some MD5-only phones, baresip 1.0, give up when any SHA-256 challenge is present).
        for alg in self.algorithms.clone() {
            r.headers.push(
                HeaderName::WwwAuthenticate,
                challenge(&self.realm, &nonce, alg, stale),
            );
        }
        r
    }

    fn update_bindings(
        &mut self,
        req: &Request,
        from: Peer,
        now: Instant,
        user: &str,
    ) -> (Response, Option<Presence>) {
        let had = self.bindings.get(user).is_some_and(|b| !b.is_empty());
        let header_expires = req
            .headers
            .get(&HeaderName::Expires)
            .and_then(|e| e.trim().parse::<u64>().ok());
        let contacts = req.headers.get_all(&HeaderName::Contact);
        let list = self.bindings.entry(user.to_string()).or_default();
        if contacts.iter().any(|c| c.trim() == "*") {
            if header_expires != Some(0) || contacts.len() != 1 {
                return (
                    Response::to_request(req, 400, "Bad Request (Contact *)"),
                    None,
                );
            }
            list.clear();
        }
        for c in contacts.iter().filter(|c| c.trim() != "*") {
            let Some(na) = NameAddr::parse(c) else {
                return (
                    Response::to_request(req, 400, "Bad Request (Contact)"),
                    None,
                );
            };
            let expires = na
                .param("expires")
                .and_then(|e| e.parse::<u64>().ok())
                .or(header_expires)
                .unwrap_or(DEFAULT_EXPIRES);
            list.retain(|b| b.contact != na.uri);
            if expires > 0 {
                let secs = expires.clamp(MIN_EXPIRES, MAX_EXPIRES);
                list.push(Binding {
                    contact: na.uri.clone(),
                    source: from,
                    expires_at: now + Duration::from_secs(secs),
                    refreshed_at: now,
                });
            }
        }
        let mut resp = Response::to_request(req, 200, "OK").with_to_tag("reg");
        for b in list.iter() {
            let left = b.expires_at.saturating_duration_since(now).as_secs();
            resp.headers.push(
                HeaderName::Contact,
                format!("<{}>;expires={left}", b.contact),
            );
        }
        let has = !list.is_empty();
        let presence = match (had, has) {
            (false, true) => Some(Presence::LoggedIn(user.to_string())),
            (true, false) => Some(Presence::LoggedOut(user.to_string())),
            _ => None,
        };
        (resp, presence)
    }

    /// Drops lapsed bindings (and nonce counts of expired nonces); returns the agents left
    /// with none.
    pub fn expire(&mut self, now: Instant) -> Vec<String> {
        // A nonce older than its maximum age is refused as stale anyway.
        let keep = Duration::from_secs(self.nonce_max_age + 60);
        self.used_nonces
            .retain(|_, seen| now.saturating_duration_since(*seen) < keep);
        let mut gone = Vec::new();
        for (user, list) in self.bindings.iter_mut() {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            if before > 0 && list.is_empty() {
                gone.push(user.clone());
            }
        }
        self.bindings.retain(|_, l| !l.is_empty());
        gone
    }

    /// The freshest binding of an agent: where their phone is rung.
    pub fn lookup(&self, user: &str) -> Option<&Binding> {
        self.bindings
            .get(user)?
            .iter()
            .max_by_key(|b| b.refreshed_at)
    }

    /// Whether `user`'s phone is registered from exactly `from` (address, port and
    /// transport) right now: the brakes spare it a block of the user name.
    pub fn bound_at(&self, user: &str, from: Peer) -> bool {
        self.bindings
            .get(user)
            .is_some_and(|list| list.iter().any(|b| b.source == from))
    }

    /// Whether the agent has any live binding.
    pub fn is_registered(&self, user: &str) -> bool {
        self.bindings.get(user).is_some_and(|b| !b.is_empty())
    }
}

/// Whether a digest's `uri` names the Request-URI: the same user, host and port (hosts
/// compare without case, as RFC 3261 19.1.4 has it; parameters are not signed material).
fn same_target(digest_uri: &str, request_uri: &str) -> bool {
    match (SipUri::parse(digest_uri), SipUri::parse(request_uri)) {
        (Some(d), Some(r)) => {
            d.scheme == r.scheme
                && d.user == r.user
                && d.host.eq_ignore_ascii_case(&r.host)
                && d.port == r.port
        }
        _ => digest_uri.trim() == request_uri.trim(),
    }
}

#[cfg(test)]
#[path = "registrar_tests.rs"]
mod tests;
