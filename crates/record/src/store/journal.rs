//! The rows beside the call records: agents' state changes (staffing reports), the legs of a
//! call (every agent who spoke on it) and supervisors' monitoring (audit).

use std::path::Path;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use rusqlite::{params, Connection, OpenFlags};
use serde::Serialize;

use super::record::UnknownWord;
use super::sql::time_text;
use crate::{CallId, RecordError};

/// Tables created with the store; times are RFC 3339 text so text order is time order.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agent_states (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    agent  TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS agent_states_at ON agent_states (at);
CREATE INDEX IF NOT EXISTS agent_states_agent_at ON agent_states (agent, at);
CREATE TABLE IF NOT EXISTS legs (
    call_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    party      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    PRIMARY KEY (call_id, seq)
);
CREATE TABLE IF NOT EXISTS monitoring (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    supervisor TEXT NOT NULL,
    agent      TEXT NOT NULL,
    call_id    TEXT,
    mode       TEXT NOT NULL,
    allowed    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS monitoring_at ON monitoring (at);
";

/// Columns added to `monitoring` after its first schema: added to older files on open.
pub(super) const MONITORING_ADDED_COLUMNS: [(&str, &str); 1] = [("os_user", "TEXT")];

/// One change of an agent's state (`agent_states`), for staffing per 15 minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentStateChange {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The agent's number (inline: a year is millions of rows).
    pub agent: CompactString,
    /// The state left; `None` for a row that is the agent's state at the start of a period
    /// read, not a change.
    pub from: Option<SeatState>,
    /// The state entered.
    pub to: SeatState,
    /// Why, for `not-ready` (`break`, `lunch`, `training`, ...).
    pub reason: Option<CompactString>,
}

/// An agent's state as `agent_states` stores it: the ACD's states, by their words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SeatState {
    /// Not logged in.
    LoggedOut,
    /// Free for a call.
    Available,
    /// Their phone is ringing.
    Ringing,
    /// On a call.
    Talking,
    /// After-call work (话后小结).
    WrapUp,
    /// Logged in, not taking calls (the row's reason says why).
    NotReady,
}

impl SeatState {
    /// Every state.
    pub const ALL: [SeatState; 6] = [
        SeatState::LoggedOut,
        SeatState::Available,
        SeatState::Ringing,
        SeatState::Talking,
        SeatState::WrapUp,
        SeatState::NotReady,
    ];

    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            SeatState::LoggedOut => "logged-out",
            SeatState::Available => "available",
            SeatState::Ringing => "ringing",
            SeatState::Talking => "talking",
            SeatState::WrapUp => "wrap-up",
            SeatState::NotReady => "not-ready",
        }
    }
}

impl std::str::FromStr for SeatState {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<SeatState, UnknownWord> {
        SeatState::ALL
            .into_iter()
            .find(|w| w.as_str() == s)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

impl std::fmt::Display for SeatState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who was on one stretch of a call: the agents one after another (转办), a trunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallLeg {
    /// The call.
    pub call_id: CallId,
    /// 1 for the first party to answer, then 2, 3, ... in the order they joined.
    pub seq: u32,
    /// Agent number, or trunk name.
    pub party: String,
    /// `agent`, `transfer` (joined by a transfer), `trunk`, `legacy`.
    pub kind: String,
    /// When they joined.
    pub started_at: DateTime<Utc>,
    /// When they left; `None` while on the call.
    pub ended_at: Option<DateTime<Utc>>,
}

/// One use, or refused attempt, of supervision (audit: callers' details are confidential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonitorUse {
    /// When.
    pub at: DateTime<Utc>,
    /// The supervisor's id.
    pub supervisor: String,
    /// The agent monitored.
    pub agent: String,
    /// The agent's call at the time, if any.
    pub call_id: Option<CallId>,
    /// `listen`, `whisper`, `barge`.
    pub mode: String,
    /// False when refused (out of scope, agent not on a call).
    pub allowed: bool,
    /// The OS user who ran `hotline monitor` (user name, or `uid N`); `None` when the
    /// supervisor dialled from their phone.
    pub os_user: Option<String>,
}

pub(super) fn insert_state(conn: &Connection, s: &AgentStateChange) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO agent_states (at, agent, from_state, to_state, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        time_text(s.at),
        s.agent.as_str(),
        s.from.map_or("", SeatState::as_str),
        s.to.as_str(),
        s.reason.as_deref()
    ])?;
    Ok(())
}

pub(super) fn upsert_leg(conn: &Connection, l: &CallLeg) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO legs (call_id, seq, party, kind, started_at, ended_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (call_id, seq) DO UPDATE SET party = excluded.party, kind = excluded.kind,
             started_at = excluded.started_at, ended_at = excluded.ended_at",
    )?
    .execute(params![
        l.call_id.as_str(),
        l.seq,
        l.party,
        l.kind,
        time_text(l.started_at),
        l.ended_at.map(time_text),
    ])?;
    Ok(())
}

pub(super) fn insert_monitor(conn: &Connection, m: &MonitorUse) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO monitoring (at, supervisor, agent, call_id, mode, allowed, os_user)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        time_text(m.at),
        m.supervisor,
        m.agent,
        m.call_id.as_ref().map(CallId::as_str),
        m.mode,
        m.allowed,
        m.os_user,
    ])?;
    Ok(())
}

/// Brings a store written by an older switch up to the columns this one reads (only ever
/// adding columns), so the operator's tools read it before the new switch has run on it.
/// A store that cannot be written (read-only copy) is left as it is.
fn upgrade(db: &Path) {
    if !db.exists() {
        return;
    }
    if let Ok(conn) = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE) {
        let _ = conn.busy_timeout(std::time::Duration::from_secs(5));
        if let Err(error) = super::sql::migrate(&conn) {
            tracing::debug!(db = %db.display(), %error, "call store not upgraded");
        }
    }
}

/// Opens the store for reading beside a running switch (WAL lets it read while the switch
/// writes), waiting up to 5 s for a lock.
pub(crate) fn open_read_only(db: &Path) -> Result<Connection, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    upgrade(db);
    // One thread uses the connection: SQLite's own locking of every call is not needed.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags).map_err(sqlite)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sqlite)?;
    // Reports read a year at once: mapping the file spares copying every page through
    // read(); a failure only costs speed.
    let _ = conn.execute_batch("PRAGMA mmap_size = 4294967296; PRAGMA cache_size = -65536;");
    Ok(conn)
}

pub(super) fn time(text: &str) -> Option<DateTime<Utc>> {
    super::sql::stored_time(text)
}

/// Every agent state change at or after `since`, oldest first.
pub fn list_agent_states(
    db: &Path,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<AgentStateChange>, RecordError> {
    let conn = open_read_only(db)?;
    let since = since.map(time_text).unwrap_or_default();
    read_changes(
        &conn,
        db,
        "SELECT at, agent, from_state, to_state, reason FROM agent_states
         WHERE at >= ?1 ORDER BY at, id",
        &[&since],
    )
}

/// The agent-state rows `sql` selects with `args`.
fn read_changes(
    conn: &Connection,
    db: &Path,
    sql: &str,
    args: &[&str],
) -> Result<Vec<AgentStateChange>, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn.prepare(sql).map_err(sqlite)?;
    let mut rows = stmt
        .query(rusqlite::params_from_iter(args))
        .map_err(sqlite)?;
    let mut out = Vec::new();
    // Words are matched in place: a year is millions of rows, and two fewer strings each.
    let text = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<Option<CompactString>> {
        Ok(r.get_ref(i)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?
            .map(CompactString::new))
    };
    while let Some(r) = rows.next().map_err(sqlite)? {
        let word = |i: usize| -> rusqlite::Result<&str> {
            r.get_ref(i)?.as_str().map_err(rusqlite::Error::from)
        };
        let at = word(0).map_err(sqlite)?;
        let Some(at) = time(at) else {
            continue;
        };
        let (from, to) = (word(2).map_err(sqlite)?, word(3).map_err(sqlite)?);
        let bad = |column: &'static str, value: &str| RecordError::BadRow {
            call_id: String::new(),
            column,
            value: value.to_owned(),
        };
        let from = match from {
            "" => None,
            w => Some(w.parse().map_err(|_| bad("from_state", w))?),
        };
        let to = to.parse().map_err(|_| bad("to_state", to))?;
        out.push(AgentStateChange {
            at,
            agent: CompactString::new(word(1).map_err(sqlite)?),
            from,
            to,
            reason: text(r, 4).map_err(sqlite)?,
        });
    }
    Ok(out)
}

/// Every agent's state at `from` (their last change before it, dated `from`, with no `from`
/// state: it is no change) followed by the changes in `[from, to)`, oldest first:
/// what a staffing report over that period needs.
pub fn list_agent_states_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<AgentStateChange>, RecordError> {
    let conn = open_read_only(db)?;
    // Each agent's last change before `from`, found through the (agent, at) index: the
    // agents by a skip-scan, then one index probe each, never a scan of the years before.
    let mut out = read_changes(
        &conn,
        db,
        "WITH RECURSIVE agents(agent) AS (
             SELECT min(agent) FROM agent_states
             UNION ALL
             SELECT (SELECT min(agent) FROM agent_states WHERE agent > agents.agent)
             FROM agents WHERE agents.agent IS NOT NULL
         )
         SELECT s.at, s.agent, s.from_state, s.to_state, s.reason
         FROM agents JOIN agent_states s ON s.id = (
             SELECT id FROM agent_states
             WHERE agent = agents.agent AND at < ?1 ORDER BY at DESC, id DESC LIMIT 1
         )
         ORDER BY s.agent",
        &[&time_text(from)],
    )?;
    for s in &mut out {
        s.at = from;
        s.from = None;
    }
    // A month and more is read in one pass over the table (stored as the changes happen,
    // so in time order already) rather than by a lookup per row through the time index,
    // in slices on parallel threads.
    let long = to - from >= chrono::Duration::days(28);
    let sql = if long {
        "SELECT at, agent, from_state, to_state, reason FROM agent_states NOT INDEXED
         WHERE at >= ?1 AND at < ?2"
    } else {
        "SELECT at, agent, from_state, to_state, reason FROM agent_states
         WHERE at >= ?1 AND at < ?2 ORDER BY at, id"
    };
    let changes = super::in_slices(from, to, |f, t| {
        let conn = open_read_only(db)?;
        let mut part = read_changes(&conn, db, sql, &[&time_text(f), &time_text(t)])?;
        if !part.windows(2).all(|w| matches!(w, [a, b] if a.at <= b.at)) {
            // Stable: changes of one instant keep the order they were written in.
            part.sort_by_key(|s| s.at);
        }
        Ok(part)
    })?;
    out.extend(changes);
    Ok(out)
}

/// The legs of one call, in order.
pub fn list_legs(db: &Path, call: &CallId) -> Result<Vec<CallLeg>, RecordError> {
    let conn = open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT seq, party, kind, started_at, ended_at FROM legs WHERE call_id = ?1 ORDER BY seq",
        )
        .map_err(sqlite)?;
    let rows = stmt
        .query_map([call.as_str()], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        let (seq, party, kind, started, ended) = row.map_err(sqlite)?;
        if let Some(started_at) = time(&started) {
            out.push(CallLeg {
                call_id: call.clone(),
                seq,
                party,
                kind,
                started_at,
                ended_at: ended.as_deref().and_then(time),
            });
        }
    }
    Ok(out)
}

/// Every leg started in `[from, to)`, by call then order (reports: who took or handed on
/// which call).
pub fn list_legs_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallLeg>, RecordError> {
    let conn = open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT call_id, seq, party, kind, started_at, ended_at FROM legs
             WHERE started_at >= ?1 AND started_at < ?2 ORDER BY call_id, seq",
        )
        .map_err(sqlite)?;
    let rows = stmt
        .query_map([time_text(from), time_text(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        let (call, seq, party, kind, started, ended) = row.map_err(sqlite)?;
        if let (Ok(call_id), Some(started_at)) = (call.parse::<CallId>(), time(&started)) {
            out.push(CallLeg {
                call_id,
                seq,
                party,
                kind,
                started_at,
                ended_at: ended.as_deref().and_then(time),
            });
        }
    }
    Ok(out)
}

/// Every supervision use and refusal, oldest first (the audit trail).
pub fn list_monitoring(db: &Path) -> Result<Vec<MonitorUse>, RecordError> {
    let conn = open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT at, supervisor, agent, call_id, mode, allowed, os_user FROM monitoring
             ORDER BY at, id",
        )
        .map_err(sqlite)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        let (at, supervisor, agent, call, mode, allowed, os_user) = row.map_err(sqlite)?;
        if let Some(at) = time(&at) {
            out.push(MonitorUse {
                at,
                supervisor,
                agent,
                call_id: call.and_then(|c| c.parse().ok()),
                mode,
                allowed,
                os_user,
            });
        }
    }
    Ok(out)
}
