//! The `calls` table: schema, the upsert, reading rows back, and closing the ones left open.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, Row};

use super::record::{AbandonStage, CallRecord, Direction, HungUpBy, Outcome};
use crate::{CallId, RecordError};

/// Creates the table; `offered_at` is indexed because reports select by time.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS calls (
    call_id           TEXT PRIMARY KEY NOT NULL,
    caller_raw        TEXT NOT NULL,
    caller_normalized TEXT,
    caller_kind       TEXT,
    region            TEXT,
    agent             TEXT,
    offered_at        TEXT NOT NULL,
    answered_at       TEXT,
    ended_at          TEXT,
    outcome           TEXT NOT NULL,
    hung_up_by        TEXT,
    waited_ms         INTEGER,
    recording_path    TEXT,
    overflowed        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS calls_offered_at ON calls (offered_at);
CREATE TABLE IF NOT EXISTS callbacks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id        TEXT NOT NULL,
    caller         TEXT NOT NULL,
    number         TEXT,
    region         TEXT,
    created_at     TEXT NOT NULL,
    kind           TEXT NOT NULL,
    voicemail_path TEXT,
    state          TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX IF NOT EXISTS callbacks_created_at ON callbacks (created_at);
";

/// Columns added after the first schema, with their types: added to older files on open.
pub(super) const ADDED_COLUMNS: [(&str, &str); 12] = [
    ("ivr_node", "TEXT"),
    ("skill", "TEXT"),
    ("agent_announced", "INTEGER NOT NULL DEFAULT 0"),
    ("survey_score", "INTEGER"),
    ("direction", "TEXT NOT NULL DEFAULT 'inbound'"),
    ("dialled", "TEXT"),
    ("recording_failed", "INTEGER NOT NULL DEFAULT 0"),
    ("queued_at", "TEXT"),
    ("ring_ms", "INTEGER"),
    ("abandoned_in", "TEXT"),
    ("origin", "TEXT"),
    ("ivr_path", "TEXT"),
];

/// Adds the columns an older database lacks, to `calls` and the tables beside it.
pub(super) fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    add_columns(conn, "calls", &ADDED_COLUMNS)?;
    add_columns(
        conn,
        "monitoring",
        &super::journal::MONITORING_ADDED_COLUMNS,
    )?;
    add_columns(conn, "agent_states", &super::states::ADDED_COLUMNS)?;
    super::summary::migrate(conn)?;
    super::seat_time::migrate(conn)
}

/// Adds to `table` the `columns` it lacks.
fn add_columns(conn: &Connection, table: &str, columns: &[(&str, &str)]) -> rusqlite::Result<()> {
    let mut have = Vec::new();
    {
        let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            have.push(row.get::<_, String>(1)?);
        }
    }
    for (name, ty) in columns {
        if !have.iter().any(|h| h == name) {
            conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {name} {ty}"))?;
        }
    }
    Ok(())
}

/// WAL lets `hotline calls` read while the switch writes; NORMAL sync keeps every committed
/// transaction across a process kill (only a power cut may lose the last ones).
pub(super) const PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA busy_timeout = 5000;
";

const UPSERT: &str = "
INSERT INTO calls (call_id, caller_raw, caller_normalized, caller_kind, region, agent,
                   offered_at, answered_at, ended_at, outcome, hung_up_by, waited_ms,
                   recording_path, overflowed, ivr_node, skill, agent_announced, survey_score,
                   direction, dialled, recording_failed, queued_at, ring_ms, abandoned_in, origin,
                   ivr_path)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
        ?21, ?22, ?23, ?24, ?25, ?26)
ON CONFLICT (call_id) DO UPDATE SET
    caller_raw = excluded.caller_raw,
    caller_normalized = excluded.caller_normalized,
    caller_kind = excluded.caller_kind,
    region = excluded.region,
    agent = excluded.agent,
    offered_at = excluded.offered_at,
    answered_at = excluded.answered_at,
    ended_at = excluded.ended_at,
    outcome = excluded.outcome,
    hung_up_by = excluded.hung_up_by,
    waited_ms = excluded.waited_ms,
    recording_path = excluded.recording_path,
    overflowed = excluded.overflowed,
    ivr_node = excluded.ivr_node,
    skill = excluded.skill,
    agent_announced = excluded.agent_announced,
    survey_score = excluded.survey_score,
    direction = excluded.direction,
    dialled = excluded.dialled,
    recording_failed = excluded.recording_failed,
    queued_at = excluded.queued_at,
    ring_ms = excluded.ring_ms,
    abandoned_in = excluded.abandoned_in,
    origin = excluded.origin,
    ivr_path = excluded.ivr_path
";

const SELECT: &str = "
SELECT call_id, caller_raw, caller_normalized, caller_kind, region, agent, offered_at,
       answered_at, ended_at, outcome, hung_up_by, waited_ms, recording_path, overflowed,
       ivr_node, skill, agent_announced, survey_score, direction, dialled, recording_failed,
       queued_at, ring_ms, abandoned_in, origin, ivr_path
FROM calls WHERE offered_at >= ?1 AND offered_at < ?2 ORDER BY offered_at
";

/// [`SELECT`] reading the table in storage order: for long periods (a month and more) one
/// sequential pass beats a lookup per row through the time index.
const SELECT_SCAN: &str = "
SELECT call_id, caller_raw, caller_normalized, caller_kind, region, agent, offered_at,
       answered_at, ended_at, outcome, hung_up_by, waited_ms, recording_path, overflowed,
       ivr_node, skill, agent_announced, survey_score, direction, dialled, recording_failed,
       queued_at, ring_ms, abandoned_in, origin, ivr_path
FROM calls NOT INDEXED WHERE offered_at >= ?1 AND offered_at < ?2
";

/// [`SELECT`] of the calls not yet finished, through the partial index `calls_open`.
const SELECT_OPEN: &str = "
SELECT call_id, caller_raw, caller_normalized, caller_kind, region, agent, offered_at,
       answered_at, ended_at, outcome, hung_up_by, waited_ms, recording_path, overflowed,
       ivr_node, skill, agent_announced, survey_score, direction, dialled, recording_failed,
       queued_at, ring_ms, abandoned_in, origin, ivr_path
FROM calls WHERE ended_at IS NULL AND offered_at >= ?1 AND offered_at < ?2
ORDER BY offered_at, call_id
";

/// The calls offered in `[from, to)` (stored time text) that have not ended, in order.
pub(super) fn select_open_between(
    conn: &Connection,
    from: &str,
    to: &str,
    path: &Path,
) -> Result<Vec<CallRecord>, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut stmt = conn.prepare(SELECT_OPEN).map_err(sqlite)?;
    let mut rows = stmt.query([from, to]).map_err(sqlite)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        out.push(from_row(row).map_err(|e| match e {
            RowError::Sql(source) => sqlite(source),
            RowError::Bad(bad) => bad,
        })?);
    }
    Ok(out)
}

/// Periods at least this long are read by [`SELECT_SCAN`].
const SCAN_FROM: chrono::Duration = chrono::Duration::days(28);

/// Times are stored as fixed-width RFC 3339 UTC text, so text order is time order.
pub(super) fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time read back: the fixed form [`time_text`] writes
/// (`2026-12-05T08:45:00.123Z`) by hand, since a year of reports reads millions of them,
/// anything else by the general RFC 3339 parser.
pub(super) fn stored_time(text: &str) -> Option<DateTime<Utc>> {
    let fast = || -> Option<DateTime<Utc>> {
        let b = text.as_bytes();
        if b.len() != 24 || b.get(23) != Some(&b'Z') || b.get(19) != Some(&b'.') {
            return None;
        }
        let num = |from: usize, to: usize| -> Option<u32> { text.get(from..to)?.parse().ok() };
        let date = chrono::NaiveDate::from_ymd_opt(
            i32::try_from(num(0, 4)?).ok()?,
            num(5, 7)?,
            num(8, 10)?,
        )?;
        let time = chrono::NaiveTime::from_hms_milli_opt(
            num(11, 13)?,
            num(14, 16)?,
            num(17, 19)?,
            num(20, 23)?,
        )?;
        Some(chrono::NaiveDateTime::new(date, time).and_utc())
    };
    fast().or_else(|| {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    })
}

/// Writes the whole row of `r`; one statement, so its own committed transaction.
pub(super) fn upsert(conn: &Connection, r: &CallRecord) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(UPSERT)?;
    stmt.execute(params![
        r.call_id.as_str(),
        r.caller_raw,
        r.caller_normalized,
        r.caller_kind,
        r.region,
        r.agent,
        time_text(r.offered_at),
        r.answered_at.map(time_text),
        r.ended_at.map(time_text),
        r.outcome.as_str(),
        r.hung_up_by.map(HungUpBy::as_str),
        r.waited_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        r.recording_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
        r.overflowed,
        r.ivr_node,
        r.skill,
        r.agent_announced,
        r.survey_score,
        r.direction.as_str(),
        r.dialled,
        r.recording_failed,
        r.queued_at.map(time_text),
        r.ring_ms.map(|ms| i64::try_from(ms).unwrap_or(i64::MAX)),
        r.abandoned_in.map(AbandonStage::as_str),
        r.origin,
        r.ivr_path,
    ])?;
    Ok(())
}

/// Reads the calls offered at or after `since`, oldest first.
pub(super) fn select_since(
    conn: &Connection,
    since: Option<DateTime<Utc>>,
    path: &std::path::Path,
) -> Result<Vec<CallRecord>, RecordError> {
    select_between(conn, since, None, path)
}

/// Reads the calls offered in `[from, to)` (open ends when `None`), oldest first.
pub(super) fn select_between(
    conn: &Connection,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    path: &std::path::Path,
) -> Result<Vec<CallRecord>, RecordError> {
    let sqlite = |source| RecordError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let long = match (from, to) {
        (Some(f), Some(t)) => t - f >= SCAN_FROM,
        _ => true,
    };
    let from = from.map(time_text).unwrap_or_default();
    // Past every stored time: the text of a time always starts with a digit.
    let to = to.map(time_text).unwrap_or_else(|| "~".to_string());
    let mut stmt = conn
        .prepare(if long { SELECT_SCAN } else { SELECT })
        .map_err(sqlite)?;
    // In the index's order (no sort of a year in SQLite); ties by id below, cheaply, since
    // the rows come almost sorted.
    let mut rows = stmt.query([from, to]).map_err(sqlite)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite)? {
        out.push(from_row(row).map_err(|e| match e {
            RowError::Sql(source) => sqlite(source),
            RowError::Bad(bad) => bad,
        })?);
    }
    // By time, then id. Calls are stored as they arrive, so the table's own order almost
    // always is that already; otherwise positions are sorted rather than records moved
    // about (a year is a million records of a few hundred bytes each).
    let in_order = out
        .windows(2)
        .all(|w| matches!(w, [a, b] if (a.offered_at, a.call_id.as_str()) <= (b.offered_at, b.call_id.as_str())));
    if in_order {
        return Ok(out);
    }
    let mut order: Vec<usize> = (0..out.len()).collect();
    let key = |i: &usize| out.get(*i).map(|r| (r.offered_at, r.call_id.as_str()));
    order.sort_by(|a, b| key(a).cmp(&key(b)));
    let mut slots: Vec<Option<CallRecord>> = out.into_iter().map(Some).collect();
    let out = order
        .into_iter()
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect();
    Ok(out)
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

fn from_row(row: &Row<'_>) -> Result<CallRecord, RowError> {
    let id_text: String = row.get(0)?;
    let bad = |column: &'static str, value: &str| {
        RowError::Bad(RecordError::BadRow {
            call_id: id_text.clone(),
            column,
            value: value.to_owned(),
        })
    };
    let call_id: CallId = id_text.parse().map_err(|_| bad("call_id", &id_text))?;
    let time = |column: &'static str, text: Option<String>| match text {
        None => Ok(None),
        Some(t) => stored_time(&t).map(Some).ok_or_else(|| bad(column, &t)),
    };
    let offered: String = row.get(6)?;
    let offered_at =
        time("offered_at", Some(offered.clone()))?.ok_or_else(|| bad("offered_at", &offered))?;
    let outcome_text: String = row.get(9)?;
    let outcome = outcome_text
        .parse::<Outcome>()
        .map_err(|_| bad("outcome", &outcome_text))?;
    let hung_up_by = match row.get::<_, Option<String>>(10)? {
        None => None,
        Some(t) => Some(t.parse::<HungUpBy>().map_err(|_| bad("hung_up_by", &t))?),
    };
    let waited_ms = row
        .get::<_, Option<i64>>(11)?
        .map(|ms| u64::try_from(ms).unwrap_or(0));
    Ok(CallRecord {
        call_id,
        caller_raw: row.get(1)?,
        caller_normalized: row.get(2)?,
        caller_kind: row.get(3)?,
        region: row.get(4)?,
        agent: row.get(5)?,
        offered_at,
        answered_at: time("answered_at", row.get(7)?)?,
        ended_at: time("ended_at", row.get(8)?)?,
        outcome,
        hung_up_by,
        waited_ms,
        recording_path: row.get::<_, Option<String>>(12)?.map(PathBuf::from),
        overflowed: row.get(13)?,
        ivr_node: row.get(14)?,
        skill: row.get(15)?,
        agent_announced: row.get(16)?,
        survey_score: row.get(17)?,
        direction: {
            let text: String = row.get(18)?;
            text.parse::<Direction>()
                .map_err(|_| bad("direction", &text))?
        },
        dialled: row.get(19)?,
        recording_failed: row.get(20)?,
        queued_at: time("queued_at", row.get(21)?)?,
        ring_ms: row
            .get::<_, Option<i64>>(22)?
            .map(|ms| u64::try_from(ms).unwrap_or(0)),
        abandoned_in: match row.get::<_, Option<String>>(23)? {
            None => None,
            Some(t) => Some(
                t.parse::<AbandonStage>()
                    .map_err(|_| bad("abandoned_in", &t))?,
            ),
        },
        origin: row.get(24)?,
        ivr_path: row.get(25)?,
    })
}

/// Closes every record and leg still open at `at`: what no call task will ever finish (the
/// switch is stopping, or a killed switch left them). A call nobody answered becomes
/// `failed`; an answered one stays `answered`; who hung up is the switch unless known.
pub(super) fn finish_unfinished(conn: &Connection, at: DateTime<Utc>) -> rusqlite::Result<usize> {
    let at = time_text(at);
    let calls = conn.execute(
        "UPDATE calls SET ended_at = ?1,
             hung_up_by = COALESCE(hung_up_by, 'switch'),
             outcome = CASE WHEN outcome IN ('ringing', 'ivr', 'queued') THEN 'failed'
                            ELSE outcome END
         WHERE ended_at IS NULL",
        params![at],
    )?;
    conn.execute(
        "UPDATE legs SET ended_at = ?1 WHERE ended_at IS NULL",
        params![at],
    )?;
    Ok(calls)
}
