//! Agents' state changes (`agent_states`): what staffing and the agents report are made
//! from, typed as the ACD's states.

use std::path::Path;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use rusqlite::{params, Connection};
use serde::Serialize;

use super::journal::{open_read_only, time};
use super::record::UnknownWord;
use super::sql::time_text;
use crate::RecordError;

/// Columns added to `agent_states` after its first schema: added to older files on open.
pub(super) const ADDED_COLUMNS: [(&str, &str); 1] = [("region", "TEXT")];

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
    /// The agent's region (office) when it happened, by the plan then: staffing per region
    /// counts the agent where they sat, even after the plan moves them.
    pub region: Option<CompactString>,
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

pub(super) fn insert_state(conn: &Connection, s: &AgentStateChange) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO agent_states (at, agent, from_state, to_state, reason, region)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        time_text(s.at),
        s.agent.as_str(),
        s.from.map_or("", SeatState::as_str),
        s.to.as_str(),
        s.reason.as_deref(),
        s.region.as_deref()
    ])?;
    Ok(())
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
        "SELECT at, agent, from_state, to_state, reason, region FROM agent_states
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
            region: text(r, 5).map_err(sqlite)?,
        });
    }
    Ok(out)
}

/// Each agent's last change before `before` (stored time text), by agent: found through the
/// (agent, at) index, the agents by a skip-scan, then one index probe each, never a scan of
/// the years before.
fn last_changes_before(
    conn: &Connection,
    db: &Path,
    before: &str,
) -> Result<Vec<AgentStateChange>, RecordError> {
    read_changes(
        conn,
        db,
        "WITH RECURSIVE agents(agent) AS (
             SELECT min(agent) FROM agent_states
             UNION ALL
             SELECT (SELECT min(agent) FROM agent_states WHERE agent > agents.agent)
             FROM agents WHERE agents.agent IS NOT NULL
         )
         SELECT s.at, s.agent, s.from_state, s.to_state, s.reason, s.region
         FROM agents JOIN agent_states s ON s.id = (
             SELECT id FROM agent_states
             WHERE agent = agents.agent AND at < ?1 ORDER BY at DESC, id DESC LIMIT 1
         )
         ORDER BY s.agent",
        &[before],
    )
}

/// Each agent's latest change, by agent: the state they are in now, whose stretch the seat
/// time of [`crate::SeatQuarter`] and [`crate::SeatDay`] does not hold yet.
pub fn list_latest_states(db: &Path) -> Result<Vec<AgentStateChange>, RecordError> {
    let conn = open_read_only(db)?;
    latest_changes(&conn, db)
}

/// Each agent's latest change, on `conn` (inside the caller's read transaction).
pub(super) fn latest_changes(
    conn: &Connection,
    db: &Path,
) -> Result<Vec<AgentStateChange>, RecordError> {
    // Past every stored time: the text of a time always starts with a digit.
    last_changes_before(conn, db, "~")
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
    let mut out = last_changes_before(&conn, db, &time_text(from))?;
    for s in &mut out {
        s.at = from;
        s.from = None;
    }
    // A month and more is read in one pass over the table (stored as the changes happen,
    // so in time order already) rather than by a lookup per row through the time index,
    // in slices on parallel threads.
    let long = to - from >= chrono::Duration::days(28);
    let sql = if long {
        "SELECT at, agent, from_state, to_state, reason, region FROM agent_states NOT INDEXED
         WHERE at >= ?1 AND at < ?2"
    } else {
        "SELECT at, agent, from_state, to_state, reason, region FROM agent_states
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
