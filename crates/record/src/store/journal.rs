//! The rows beside the call records: agents' state changes (staffing reports), the legs of a
//! call (every agent who spoke on it) and supervisors' monitoring (audit).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OpenFlags};
use serde::Serialize;

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
    read_legs(
        db,
        "SELECT call_id, seq, party, kind, started_at, ended_at FROM legs
         WHERE started_at >= ?1 AND started_at < ?2 ORDER BY call_id, seq",
        from,
        to,
    )
}

/// The legs started in `[from, to)` of the calls handed on (转办: a call with a second leg),
/// by call then order: who handed on which call, without reading every answered call's leg.
pub fn list_handed_on_legs_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallLeg>, RecordError> {
    read_legs(
        db,
        "SELECT call_id, seq, party, kind, started_at, ended_at FROM legs
         WHERE started_at >= ?1 AND started_at < ?2
           AND call_id IN (SELECT call_id FROM legs WHERE seq > 1)
         ORDER BY call_id, seq",
        from,
        to,
    )
}

/// The legs `sql` selects between two stored times.
fn read_legs(
    db: &Path,
    sql: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallLeg>, RecordError> {
    let conn = open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn.prepare(sql).map_err(sqlite)?;
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
