//! Signed-in users: a random token per session (the cookie's value), the user's role and
//! scope, a CSRF token for their forms, and an idle timeout.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hotline_record::{Role, User};
use rand::RngCore;

/// A session unused this long is over.
pub const IDLE: Duration = Duration::from_secs(8 * 3600);
/// A session is over this long after sign-in, used or not.
pub const LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How often a session's user is looked up again (removed, or changed by `user add`).
pub const RECHECK: Duration = Duration::from_secs(5);
/// Sessions kept at most: the oldest are dropped past it.
const MAX_SESSIONS: usize = 10_000;

/// Which regions a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every region (the province, inspectors, admins).
    All,
    /// These regions only (an office supervisor); none for an agent.
    Regions(BTreeSet<String>),
}

impl Scope {
    /// The scope of `user`'s role.
    pub fn of(user: &User) -> Scope {
        match user.role {
            Role::Admin | Role::Inspector => Scope::All,
            Role::Supervisor if user.scope.iter().any(|s| s == "province") => Scope::All,
            Role::Supervisor => Scope::Regions(user.scope.iter().cloned().collect()),
            Role::Agent => Scope::Regions(BTreeSet::new()),
        }
    }

    /// Whether `region` is in it.
    pub fn sees(&self, region: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Regions(r) => r.contains(region),
        }
    }
}

/// One signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The login name.
    pub user: String,
    /// Their role.
    pub role: Role,
    /// The agent they are, for an agent.
    pub agent: Option<String>,
    /// What they see.
    pub scope: Scope,
    /// Cleared to see confidential callers' numbers (on a call's own page, audited).
    pub cleared: bool,
    /// The token their forms carry.
    pub csrf: String,
    /// The session's own token (the cookie's value).
    pub token: String,
    /// When the user's row was written (`user add`): a new one ends the session.
    pub stamp: chrono::DateTime<chrono::Utc>,
    /// When the user was last looked up again.
    pub checked: Instant,
    opened: Instant,
    last_seen: Instant,
}

/// Every session, by token.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

/// A fresh unguessable token: 32 random bytes from the OS, in hex.
pub fn token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        // Nothing panics while holding it; a map of values stays whole if something did.
        self.by_token.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session for `user`: its token.
    pub fn open(&self, now: Instant, user: &User) -> String {
        let token = token();
        let session = Session {
            user: user.id.clone(),
            role: user.role,
            agent: user.agent.clone(),
            scope: Scope::of(user),
            cleared: user.cleared,
            csrf: self::token(),
            token: token.clone(),
            stamp: user.created_at,
            checked: now,
            opened: now,
            last_seen: now,
        };
        let mut map = self.map();
        map.retain(|_, s| s.live(now));
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.last_seen)
                .map(|(t, _)| t.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(token.clone(), session);
        token
    }

    /// The session of `token` if it is live, marked used now.
    pub fn get(&self, now: Instant, token: &str) -> Option<Session> {
        let mut map = self.map();
        let live = map.get(token).is_some_and(|s| s.live(now));
        if !live {
            map.remove(token);
            return None;
        }
        let s = map.get_mut(token)?;
        s.last_seen = now;
        Some(s.clone())
    }

    /// Notes that the user of `token` was looked up again at `now` and is unchanged.
    pub fn checked(&self, now: Instant, token: &str) {
        if let Some(s) = self.map().get_mut(token) {
            s.checked = now;
        }
    }

    /// Ends the session of `token`.
    pub fn close(&self, token: &str) {
        self.map().remove(token);
    }

    /// Ends every session of `user` (removed, or their password changed).
    pub fn close_user(&self, user: &str) {
        self.map().retain(|_, s| s.user != user);
    }
}

impl Session {
    /// Neither idle too long nor too old.
    fn live(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last_seen) < IDLE
            && now.saturating_duration_since(self.opened) < LIFETIME
    }
}

/// A session for unit tests of other modules.
#[cfg(test)]
pub fn tests_session(role: Role) -> Session {
    Session {
        user: "test".into(),
        role,
        agent: None,
        scope: Scope::All,
        cleared: false,
        csrf: token(),
        token: token(),
        stamp: chrono::Utc::now(),
        checked: Instant::now(),
        opened: Instant::now(),
        last_seen: Instant::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role, scope: &[&str]) -> User {
        User {
            id: "wang".into(),
            role,
            agent: None,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            hash: String::new(),
            created_at: chrono::Utc::now(),
            cleared: false,
        }
    }

    #[test]
    fn a_session_lives_while_used_and_ends_when_idle_or_closed() {
        let sessions = Sessions::default();
        let t0 = Instant::now();
        let token = sessions.open(t0, &user(Role::Supervisor, &["luoyang"]));
        assert_eq!(token.len(), 64);
        let s = sessions.get(t0 + IDLE / 2, &token).unwrap();
        assert!(s.scope.sees("luoyang") && !s.scope.sees("zhengzhou"));
        assert!(sessions.get(t0 + IDLE, &token).is_some(), "used at IDLE/2");
        assert!(
            sessions.get(t0 + IDLE * 3, &token).is_none(),
            "idle too long"
        );
        let busy = sessions.open(t0, &user(Role::Inspector, &[]));
        let mut t = t0;
        while t + IDLE / 2 < t0 + LIFETIME {
            t += IDLE / 2;
            assert!(sessions.get(t, &busy).is_some(), "used all along");
        }
        assert!(
            sessions.get(t0 + LIFETIME, &busy).is_none(),
            "over at its lifetime"
        );
        let again = sessions.open(t0, &user(Role::Admin, &[]));
        sessions.close(&again);
        assert!(sessions.get(t0, &again).is_none());
        assert!(sessions.get(t0, "forged").is_none());
    }

    #[test]
    fn scopes_follow_roles() {
        assert_eq!(
            Scope::of(&user(Role::Supervisor, &["province"])),
            Scope::All
        );
        assert_eq!(Scope::of(&user(Role::Inspector, &[])), Scope::All);
        assert!(!Scope::of(&user(Role::Agent, &[])).sees("luoyang"));
    }
}
