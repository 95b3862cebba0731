//! What the reports read of a call: [`CallSummary`], the fields they count, kept for every
//! finished call in a narrow `call_summaries` table beside `calls`.
//!
//! A year of a province is a million calls; the `calls` row is about 450 bytes of text
//! (recording path, RFC 3339 times), and reading and decoding that whole width was most of
//! a year-long report's time. The summary row keeps times as integer milliseconds and
//! drops what no report counts, and is clustered by offer time, so a year is one short
//! sequential read. It is kept by SQLite triggers on `calls`, in the same transaction as
//! each write, so no write path of the switch can forget it; calls still open (no
//! `ended_at`) are read from `calls` through a small partial index.

use std::path::Path;

use chrono::{DateTime, Utc};
use compact_str::CompactString;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::record::{AbandonStage, CallRecord, Direction, Outcome};
use super::sql::{select_open_between, time_text};
use crate::{CallId, RecordError};

/// One call as the reports count it. Its text is kept inline (numbers, cities, agents and
/// menu nodes are short), so a year of them is read without a heap allocation per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSummary {
    /// The call's id.
    pub call_id: CallId,
    /// The caller number exactly as the carrier sent it (for calls out: the agent).
    pub caller_raw: CompactString,
    /// The caller number after normalisation.
    pub caller_normalized: Option<CompactString>,
    /// The region (city) the call was routed to.
    pub region: Option<CompactString>,
    /// The agent who answered.
    pub agent: Option<CompactString>,
    /// When the call reached the switch.
    pub offered_at: DateTime<Utc>,
    /// When the caller asked for an agent.
    pub queued_at: Option<DateTime<Utc>>,
    /// When an agent answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When the call ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// How it ended.
    pub outcome: Outcome,
    /// Where a caller who gave up was.
    pub abandoned_in: Option<AbandonStage>,
    /// Which way the call went.
    pub direction: Direction,
    /// It overflowed to another queue or the centre.
    pub overflowed: bool,
    /// The agent's number was announced (报工号).
    pub agent_announced: bool,
    /// It has its recording (a path, and the recording did not fail).
    pub recorded: bool,
    /// How long the answering phone rang, in milliseconds.
    pub ring_ms: Option<u64>,
    /// The menu node the caller was last in.
    pub ivr_node: Option<CompactString>,
    /// The skill (queue) asked for.
    pub skill: Option<CompactString>,
    /// The satisfaction survey's score.
    pub survey_score: Option<u8>,
    /// For calls out: the number dialled.
    pub dialled: Option<CompactString>,
    /// Where the caller is from, as routed.
    pub origin: Option<CompactString>,
}

impl From<&CallRecord> for CallSummary {
    fn from(r: &CallRecord) -> CallSummary {
        CallSummary {
            call_id: r.call_id.clone(),
            caller_raw: CompactString::new(&r.caller_raw),
            caller_normalized: r.caller_normalized.as_deref().map(CompactString::new),
            region: r.region.as_deref().map(CompactString::new),
            agent: r.agent.as_deref().map(CompactString::new),
            offered_at: r.offered_at,
            queued_at: r.queued_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            outcome: r.outcome,
            abandoned_in: r.abandoned_in,
            direction: r.direction,
            overflowed: r.overflowed,
            agent_announced: r.agent_announced,
            recorded: r.recording_path.is_some() && !r.recording_failed,
            ring_ms: r.ring_ms,
            ivr_node: r.ivr_node.as_deref().map(CompactString::new),
            skill: r.skill.as_deref().map(CompactString::new),
            survey_score: r.survey_score,
            dialled: r.dialled.as_deref().map(CompactString::new),
            origin: r.origin.as_deref().map(CompactString::new),
        }
    }
}

/// Milliseconds since 1970 of a stored time, in SQL (NULL stays NULL).
macro_rules! ms {
    ($t:literal) => {
        concat!(
            "CAST(round((julianday(",
            $t,
            ") - 2440587.5) * 86400000.0) AS INTEGER)"
        )
    };
}

/// The summary row of `NEW` (a finished call), for the triggers.
macro_rules! summary_of_new {
    () => {
        concat!(
            "INSERT INTO call_summaries (offered_ms, call_id, caller_raw, caller_normalized,
                 region, agent, queued_ms, answered_ms, ended_ms, outcome, abandoned_in,
                 direction, marks, ring_ms, ivr_node, skill, survey_score, dialled, origin)
             SELECT ",
            ms!("NEW.offered_at"),
            ", NEW.call_id, NEW.caller_raw, NEW.caller_normalized, NEW.region, NEW.agent, ",
            ms!("NEW.queued_at"),
            ", ",
            ms!("NEW.answered_at"),
            ", ",
            ms!("NEW.ended_at"),
            ", NEW.outcome, NEW.abandoned_in, NEW.direction,
               (NEW.overflowed != 0) + 2 * (NEW.agent_announced != 0)
                 + 4 * (NEW.recording_path IS NOT NULL AND NEW.recording_failed = 0),
               NEW.ring_ms, NEW.ivr_node, NEW.skill, NEW.survey_score, NEW.dialled, NEW.origin
             WHERE NEW.ended_at IS NOT NULL;"
        )
    };
}

/// The table, its triggers, and the index of calls still open.
const SCHEMA: &str = concat!(
    "CREATE TABLE IF NOT EXISTS call_summaries (
        offered_ms        INTEGER NOT NULL,
        call_id           TEXT NOT NULL,
        caller_raw        TEXT NOT NULL,
        caller_normalized TEXT,
        region            TEXT,
        agent             TEXT,
        queued_ms         INTEGER,
        answered_ms       INTEGER,
        ended_ms          INTEGER,
        outcome           TEXT NOT NULL,
        abandoned_in      TEXT,
        direction         TEXT NOT NULL,
        marks             INTEGER NOT NULL,
        ring_ms           INTEGER,
        ivr_node          TEXT,
        skill             TEXT,
        survey_score      INTEGER,
        dialled           TEXT,
        origin            TEXT,
        PRIMARY KEY (offered_ms, call_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS calls_open ON calls (offered_at) WHERE ended_at IS NULL;
    CREATE TRIGGER IF NOT EXISTS call_summaries_insert AFTER INSERT ON calls BEGIN ",
    summary_of_new!(),
    " END;
    CREATE TRIGGER IF NOT EXISTS call_summaries_update AFTER UPDATE ON calls BEGIN
        DELETE FROM call_summaries WHERE offered_ms = ",
    ms!("OLD.offered_at"),
    " AND call_id = OLD.call_id; ",
    summary_of_new!(),
    " END;
    CREATE TRIGGER IF NOT EXISTS call_summaries_delete AFTER DELETE ON calls BEGIN
        DELETE FROM call_summaries WHERE offered_ms = ",
    ms!("OLD.offered_at"),
    " AND call_id = OLD.call_id;
    END;"
);

/// The bit of `marks` for each flag.
const OVERFLOWED: i64 = 1;
const ANNOUNCED: i64 = 2;
const RECORDED: i64 = 4;

/// Creates `call_summaries` and its triggers when the store lacks them, and fills it from
/// the finished calls already stored (once, when an older store is first opened).
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    if has_summaries(conn)? {
        return Ok(());
    }
    // Immediate, and asked again inside: two openers at once fill it in once.
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    if has_summaries(&tx)? {
        return Ok(());
    }
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(concat!(
        "INSERT OR IGNORE INTO call_summaries SELECT ",
        ms!("offered_at"),
        ", call_id, caller_raw, caller_normalized, region, agent, ",
        ms!("queued_at"),
        ", ",
        ms!("answered_at"),
        ", ",
        ms!("ended_at"),
        ", outcome, abandoned_in, direction,
           (overflowed != 0) + 2 * (agent_announced != 0)
             + 4 * (recording_path IS NOT NULL AND recording_failed = 0),
           ring_ms, ivr_node, skill, survey_score, dialled, origin
         FROM calls WHERE ended_at IS NOT NULL"
    ))?;
    tx.commit()
}

/// The store has the summaries (a store only ever read, never opened by a switch of this
/// version nor writable, has not).
fn has_summaries(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'call_summaries'",
        [],
        |_| Ok(()),
    )
    .optional()
    .map(|found| found.is_some())
}

const SELECT: &str = "
SELECT call_id, caller_raw, caller_normalized, region, agent, offered_ms, queued_ms,
       answered_ms, ended_ms, outcome, abandoned_in, direction, marks, ring_ms, ivr_node,
       skill, survey_score, dialled, origin
FROM call_summaries WHERE offered_ms >= ?1 AND offered_ms < ?2 ORDER BY offered_ms, call_id
";

/// A caller's finished calls, newest first: the agent's screen-pop history.
const SELECT_OF_CALLER: &str = "
SELECT call_id, caller_raw, caller_normalized, region, agent, offered_ms, queued_ms,
       answered_ms, ended_ms, outcome, abandoned_in, direction, marks, ring_ms, ivr_node,
       skill, survey_score, dialled, origin
FROM call_summaries WHERE offered_ms >= ?1 AND (caller_normalized = ?2 OR caller_raw = ?2)
ORDER BY offered_ms DESC LIMIT ?3
";

/// The latest `limit` finished calls from `number` offered since `since`, newest first.
pub(super) fn select_of_caller(
    conn: &Connection,
    number: &str,
    since: DateTime<Utc>,
    limit: u32,
    db: &Path,
) -> Result<Vec<CallSummary>, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    if !has_summaries(conn).map_err(sqlite)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(SELECT_OF_CALLER).map_err(sqlite)?;
    let mut rows = stmt
        .query(params![since.timestamp_millis(), number, limit])
        .map_err(sqlite)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        out.push(from_row(row).map_err(|e| match e {
            RowError::Sql(source) => sqlite(source),
            RowError::Bad(bad) => bad,
        })?);
    }
    Ok(out)
}

/// The calls offered in `[from, to)`, oldest first (ties by id), finished or not, as one
/// read transaction on `conn`.
pub(super) fn select_between(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    db: &Path,
) -> Result<Vec<CallSummary>, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    if !has_summaries(conn).map_err(sqlite)? {
        let wide = super::sql::select_between(conn, Some(from), Some(to), db)?;
        return Ok(wide.iter().map(CallSummary::from).collect());
    }
    // One snapshot: a call finishing between the two reads is counted once.
    let tx = conn.unchecked_transaction().map_err(sqlite)?;
    let mut finished = Vec::new();
    {
        let mut stmt = tx.prepare(SELECT).map_err(sqlite)?;
        let mut rows = stmt
            .query(params![from.timestamp_millis(), to.timestamp_millis()])
            .map_err(sqlite)?;
        while let Some(row) = rows.next().map_err(sqlite)? {
            finished.push(from_row(row).map_err(|e| match e {
                RowError::Sql(source) => sqlite(source),
                RowError::Bad(bad) => bad,
            })?);
        }
    }
    let open = select_open_between(&tx, &time_text(from), &time_text(to), db)?;
    tx.finish().map_err(sqlite)?;
    Ok(merge(
        finished,
        open.iter().map(CallSummary::from).collect(),
    ))
}

/// Two lists each in (offer time, id) order, as one.
fn merge(a: Vec<CallSummary>, b: Vec<CallSummary>) -> Vec<CallSummary> {
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut b = b.into_iter().peekable();
    for x in a {
        while let Some(y) = b.next_if(|y| (y.offered_at, &y.call_id) < (x.offered_at, &x.call_id)) {
            out.push(y);
        }
        out.push(x);
    }
    out.extend(b);
    out
}

enum RowError {
    Sql(rusqlite::Error),
    Bad(RecordError),
}

impl From<rusqlite::Error> for RowError {
    fn from(e: rusqlite::Error) -> RowError {
        RowError::Sql(e)
    }
}

fn from_row(row: &Row<'_>) -> Result<CallSummary, RowError> {
    let id_text = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
    let bad = |column: &'static str, value: &str| {
        RowError::Bad(RecordError::BadRow {
            call_id: id_text.to_owned(),
            column,
            value: value.to_owned(),
        })
    };
    let call_id: CallId = id_text.parse().map_err(|_| bad("call_id", id_text))?;
    let time = |i: usize, column: &'static str| -> Result<Option<DateTime<Utc>>, RowError> {
        match row.get::<_, Option<i64>>(i)? {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| bad(column, &ms.to_string())),
        }
    };
    let word = |i: usize| -> Result<&str, RowError> {
        Ok(row.get_ref(i)?.as_str().map_err(rusqlite::Error::from)?)
    };
    let outcome = word(9)?;
    let outcome = outcome
        .parse::<Outcome>()
        .map_err(|_| bad("outcome", outcome))?;
    let abandoned_in = match row
        .get_ref(10)?
        .as_str_or_null()
        .map_err(rusqlite::Error::from)?
    {
        None => None,
        Some(t) => Some(
            t.parse::<AbandonStage>()
                .map_err(|_| bad("abandoned_in", t))?,
        ),
    };
    let direction = word(11)?;
    let direction = direction
        .parse::<Direction>()
        .map_err(|_| bad("direction", direction))?;
    let marks: i64 = row.get(12)?;
    let text = |i: usize| -> Result<Option<CompactString>, RowError> {
        Ok(row
            .get_ref(i)?
            .as_str_or_null()
            .map_err(rusqlite::Error::from)?
            .map(CompactString::new))
    };
    Ok(CallSummary {
        call_id,
        caller_raw: CompactString::new(word(1)?),
        caller_normalized: text(2)?,
        region: text(3)?,
        agent: text(4)?,
        offered_at: time(5, "offered_at")?.ok_or_else(|| bad("offered_at", "NULL"))?,
        queued_at: time(6, "queued_at")?,
        answered_at: time(7, "answered_at")?,
        ended_at: time(8, "ended_at")?,
        outcome,
        abandoned_in,
        direction,
        overflowed: marks & OVERFLOWED != 0,
        agent_announced: marks & ANNOUNCED != 0,
        recorded: marks & RECORDED != 0,
        ring_ms: row
            .get::<_, Option<i64>>(13)?
            .map(|ms| u64::try_from(ms).unwrap_or(0)),
        ivr_node: text(14)?,
        skill: text(15)?,
        // A score out of range (a hand-edited row) is no score, not a failed report.
        survey_score: row
            .get::<_, Option<i64>>(16)?
            .and_then(|n| u8::try_from(n).ok()),
        dialled: text(17)?,
        origin: text(18)?,
    })
}
