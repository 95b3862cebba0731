//! The spot checks of recordings (抽检): draws and their samples, reviews, and the audit of
//! every look at a recording, chained by hash. The `hotline qa` tools write these straight
//! into the call database, in short transactions beside the switch's writer thread.
//!
//! Every table here is append-only (triggers refuse UPDATE and DELETE): a redraw or a second
//! review adds a row, so the first one stays for the inspectors. The hash of an audit row is
//! computed by the caller (`seal`), so this crate stores the chain without choosing its hash.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use super::journal::{open_read_only, time};
use super::sql::time_text;
use crate::{CallId, RecordError};

/// The tables, created with the others (and by the `qa` tools on an older database).
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS qa_draws (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    scope     TEXT NOT NULL,
    office    TEXT NOT NULL,
    period    TEXT NOT NULL,
    rate_bp   INTEGER NOT NULL,
    seed      TEXT NOT NULL,
    calls     INTEGER NOT NULL,
    drawn_at  TEXT NOT NULL,
    drawn_by  TEXT NOT NULL,
    redraw_of INTEGER,
    reason    TEXT
);
CREATE INDEX IF NOT EXISTS qa_draws_period ON qa_draws (scope, office, period);
CREATE TABLE IF NOT EXISTS qa_samples (
    draw_id INTEGER NOT NULL,
    call_id TEXT NOT NULL,
    agent   TEXT NOT NULL,
    PRIMARY KEY (draw_id, call_id)
);
CREATE INDEX IF NOT EXISTS qa_samples_call ON qa_samples (call_id);
CREATE TABLE IF NOT EXISTS qa_reviews (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id     TEXT NOT NULL,
    score       INTEGER NOT NULL,
    note        TEXT NOT NULL,
    reviewer    TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS qa_reviews_call ON qa_reviews (call_id);
CREATE TABLE IF NOT EXISTS qa_audit (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    call_id   TEXT,
    subject   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS qa_draws_append_only_u BEFORE UPDATE ON qa_draws
    BEGIN SELECT RAISE(ABORT, 'qa_draws is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_draws_append_only_d BEFORE DELETE ON qa_draws
    BEGIN SELECT RAISE(ABORT, 'qa_draws is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_samples_append_only_u BEFORE UPDATE ON qa_samples
    BEGIN SELECT RAISE(ABORT, 'qa_samples is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_samples_append_only_d BEFORE DELETE ON qa_samples
    BEGIN SELECT RAISE(ABORT, 'qa_samples is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_reviews_append_only_u BEFORE UPDATE ON qa_reviews
    BEGIN SELECT RAISE(ABORT, 'qa_reviews is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_reviews_append_only_d BEFORE DELETE ON qa_reviews
    BEGIN SELECT RAISE(ABORT, 'qa_reviews is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_audit_append_only_u BEFORE UPDATE ON qa_audit
    BEGIN SELECT RAISE(ABORT, 'qa_audit is append-only'); END;
CREATE TRIGGER IF NOT EXISTS qa_audit_append_only_d BEFORE DELETE ON qa_audit
    BEGIN SELECT RAISE(ABORT, 'qa_audit is append-only'); END;
";

/// The `prev_hash` of the first audit row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Whose spot check a draw is: an office's weekly one, or the inspection department's
/// monthly one across all offices.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// One office (a region of the dialplan: a city, or the provincial centre).
    Office(String),
    /// The inspection department, across every office.
    Central,
}

impl Scope {
    /// The word stored in `scope`.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Office(_) => "office",
            Scope::Central => "central",
        }
    }

    /// The office stored in `office` (empty for the central scope).
    pub fn office(&self) -> &str {
        match self {
            Scope::Office(o) => o,
            Scope::Central => "",
        }
    }

    fn from_columns(kind: &str, office: &str) -> Option<Scope> {
        match kind {
            "office" if !office.is_empty() => Some(Scope::Office(office.to_string())),
            "central" => Some(Scope::Central),
            _ => None,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Office(o) => f.write_str(o),
            Scope::Central => f.write_str("central"),
        }
    }
}

/// One draw of a period's sample, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draw {
    /// Row id; a later draw of the same period replaces it for the checks, never in the table.
    pub id: i64,
    /// Whose check.
    pub scope: Scope,
    /// `2026-W49` or `2026-12`, as the `report` crate writes it.
    pub period: String,
    /// The rate drawn at, in basis points (2000 = 20%).
    pub rate_bp: u32,
    /// The seed the sample follows from.
    pub seed: u64,
    /// Calls it was drawn from.
    pub calls: u64,
    /// When.
    pub drawn_at: DateTime<Utc>,
    /// Who drew it.
    pub drawn_by: String,
    /// The draw it replaced, for a redraw.
    pub redraw_of: Option<i64>,
    /// Why it was drawn again, for a redraw.
    pub reason: Option<String>,
}

/// One call drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sample {
    /// The draw.
    pub draw_id: i64,
    /// The call.
    pub call_id: CallId,
    /// The agent who answered it (the stratum it was drawn from).
    pub agent: String,
}

/// One review of a sampled call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    /// Row id.
    pub id: i64,
    /// The call reviewed.
    pub call_id: CallId,
    /// 0 to 100.
    pub score: u8,
    /// What the reviewer found.
    pub note: String,
    /// Who reviewed it.
    pub reviewer: String,
    /// When.
    pub reviewed_at: DateTime<Utc>,
}

/// What an audit row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A period's first draw.
    Draw,
    /// A period drawn again, with a reason.
    Redraw,
    /// A review of a sampled call.
    Review,
    /// A recording opened for review (`qa play`).
    Play,
    /// A confidential caller's number shown unmasked to a reader with clearance.
    Unmask,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 5] = [
        Action::Draw,
        Action::Redraw,
        Action::Review,
        Action::Play,
        Action::Unmask,
    ];

    /// The word stored in `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Draw => "draw",
            Action::Redraw => "redraw",
            Action::Review => "review",
            Action::Play => "play",
            Action::Unmask => "unmask",
        }
    }
}

impl FromStr for Action {
    type Err = super::UnknownWord;
    fn from_str(s: &str) -> Result<Action, super::UnknownWord> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| super::UnknownWord(s.to_owned()))
    }
}

/// An audit row exactly as stored: text, not parsed, so that the chain is checked over what
/// is really in the table, an edited row included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// Position in the chain, 1, 2, 3 ... with no gaps.
    pub seq: i64,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// Who: the reviewer, or the operator who drew.
    pub actor: String,
    /// An [`Action`] word.
    pub action: String,
    /// The call concerned, if one.
    pub call_id: Option<String>,
    /// What else it concerns: `draw 3`, `review 7`.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// What was done, for the cross-checks (a draw's seed and samples, a review's score).
    pub detail: String,
    /// The hash of the row before (the [`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// This row's hash, over its fields and `prev_hash`.
    pub hash: String,
}

/// An audit row to append; its `seq`, `prev_hash` and `hash` are filled in when written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAudit {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What.
    pub action: Action,
    /// The call concerned.
    pub call_id: Option<CallId>,
    /// What else it concerns.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// What was done.
    pub detail: String,
}

/// A draw to store, with its samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDraw {
    /// Whose check.
    pub scope: Scope,
    /// The period's text (`2026-W49`, `2026-12`).
    pub period: String,
    /// Basis points.
    pub rate_bp: u32,
    /// The seed.
    pub seed: u64,
    /// Calls it was drawn from.
    pub calls: u64,
    /// When.
    pub drawn_at: DateTime<Utc>,
    /// Who.
    pub drawn_by: String,
    /// `Some` to draw the period again: why (refused without an earlier draw).
    pub redraw_reason: Option<String>,
    /// The calls drawn, with their agents.
    pub samples: Vec<(CallId, String)>,
    /// The audit row's detail (the `report` crate's summary of seed and samples).
    pub detail: String,
}

/// A review to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReview {
    /// The call; it must be in a draw.
    pub call_id: CallId,
    /// 0 to 100.
    pub score: u8,
    /// What the reviewer found.
    pub note: String,
    /// Who.
    pub reviewer: String,
    /// When.
    pub reviewed_at: DateTime<Utc>,
    /// The audit row's detail (the `report` crate's summary of score and note).
    pub detail: String,
}

/// Computes an audit row's hash from the row (its `hash` still empty).
pub type Seal<'a> = &'a dyn Fn(&AuditRow) -> String;

/// Why a spot-check write was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum QaError {
    /// The database could not be opened, read or written.
    #[error(transparent)]
    Store(#[from] RecordError),
    /// The period has a draw; only `--redraw --reason` draws it again.
    #[error("{scope} {period} was drawn already (draw {id} at {drawn_at}); drawing it again needs --redraw --reason TEXT")]
    AlreadyDrawn {
        /// Whose check.
        scope: Scope,
        /// The period.
        period: String,
        /// The draw in force.
        id: i64,
        /// When it was drawn.
        drawn_at: String,
    },
    /// A redraw of a period never drawn.
    #[error("{scope} {period} has never been drawn: draw it without --redraw")]
    NothingToRedraw {
        /// Whose check.
        scope: Scope,
        /// The period.
        period: String,
    },
    /// A review of a call that is in no draw.
    #[error("call {0} is in no spot-check draw: only sampled calls are reviewed")]
    NotSampled(CallId),
}

fn sqlite(db: &Path) -> impl Fn(rusqlite::Error) -> RecordError + '_ {
    move |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    }
}

/// Opens an existing call database for the `qa` writes, beside a running switch: WAL lets
/// both write, the busy timeout waits for the switch's batch to commit.
fn open_read_write(db: &Path) -> Result<Connection, RecordError> {
    let conn =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(sqlite(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite(db))?;
    conn.execute_batch(SCHEMA).map_err(sqlite(db))?;
    Ok(conn)
}

/// Stores a draw and its samples, with its audit row, in one transaction: refused when the
/// period is drawn already and no redraw reason is given.
pub fn record_draw(db: &Path, new: &NewDraw, seal: Seal<'_>) -> Result<Draw, QaError> {
    let mut conn = open_read_write(db)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite(db))?;
    let earlier: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, drawn_at FROM qa_draws WHERE scope = ?1 AND office = ?2 AND period = ?3
             ORDER BY id DESC LIMIT 1",
            params![new.scope.kind(), new.scope.office(), new.period],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(sqlite(db))?;
    let redraw_of = match (&earlier, &new.redraw_reason) {
        (Some((id, drawn_at)), None) => {
            return Err(QaError::AlreadyDrawn {
                scope: new.scope.clone(),
                period: new.period.clone(),
                id: *id,
                drawn_at: drawn_at.clone(),
            })
        }
        (None, Some(_)) => {
            return Err(QaError::NothingToRedraw {
                scope: new.scope.clone(),
                period: new.period.clone(),
            })
        }
        (earlier, _) => earlier.as_ref().map(|(id, _)| *id),
    };
    tx.execute(
        "INSERT INTO qa_draws (scope, office, period, rate_bp, seed, calls, drawn_at, drawn_by,
                               redraw_of, reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            new.scope.kind(),
            new.scope.office(),
            new.period,
            new.rate_bp,
            format!("{:016x}", new.seed),
            i64::try_from(new.calls).unwrap_or(i64::MAX),
            time_text(new.drawn_at),
            new.drawn_by,
            redraw_of,
            new.redraw_reason,
        ],
    )
    .map_err(sqlite(db))?;
    let id = tx.last_insert_rowid();
    {
        let mut stmt = tx
            .prepare("INSERT INTO qa_samples (draw_id, call_id, agent) VALUES (?1, ?2, ?3)")
            .map_err(sqlite(db))?;
        for (call_id, agent) in &new.samples {
            stmt.execute(params![id, call_id.as_str(), agent])
                .map_err(sqlite(db))?;
        }
    }
    let (action, reason) = match &new.redraw_reason {
        Some(reason) => (Action::Redraw, reason.clone()),
        None => (Action::Draw, format!("{} spot check", new.scope)),
    };
    let audit = NewAudit {
        at: new.drawn_at,
        actor: new.drawn_by.clone(),
        action,
        call_id: None,
        subject: format!("draw {id}"),
        reason,
        detail: new.detail.clone(),
    };
    append(&tx, &audit, seal).map_err(sqlite(db))?;
    tx.commit().map_err(sqlite(db))?;
    Ok(Draw {
        id,
        scope: new.scope.clone(),
        period: new.period.clone(),
        rate_bp: new.rate_bp,
        seed: new.seed,
        calls: new.calls,
        drawn_at: new.drawn_at,
        drawn_by: new.drawn_by.clone(),
        redraw_of,
        reason: new.redraw_reason.clone(),
    })
}

/// Stores a review of a sampled call, with its audit row; a call in no draw is refused.
pub fn record_review(db: &Path, new: &NewReview, seal: Seal<'_>) -> Result<Review, QaError> {
    let mut conn = open_read_write(db)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite(db))?;
    let sampled: i64 = tx
        .query_row(
            "SELECT count(*) FROM qa_samples WHERE call_id = ?1",
            [new.call_id.as_str()],
            |r| r.get(0),
        )
        .map_err(sqlite(db))?;
    if sampled == 0 {
        return Err(QaError::NotSampled(new.call_id.clone()));
    }
    tx.execute(
        "INSERT INTO qa_reviews (call_id, score, note, reviewer, reviewed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            new.call_id.as_str(),
            new.score,
            new.note,
            new.reviewer,
            time_text(new.reviewed_at)
        ],
    )
    .map_err(sqlite(db))?;
    let id = tx.last_insert_rowid();
    let audit = NewAudit {
        at: new.reviewed_at,
        actor: new.reviewer.clone(),
        action: Action::Review,
        call_id: Some(new.call_id.clone()),
        subject: format!("review {id}"),
        reason: "spot check".to_string(),
        detail: new.detail.clone(),
    };
    append(&tx, &audit, seal).map_err(sqlite(db))?;
    tx.commit().map_err(sqlite(db))?;
    Ok(Review {
        id,
        call_id: new.call_id.clone(),
        score: new.score,
        note: new.note.clone(),
        reviewer: new.reviewer.clone(),
        reviewed_at: new.reviewed_at,
    })
}

/// Appends one audit row (a recording opened, a number unmasked) in its own transaction,
/// and returns it as stored.
pub fn record_audit(db: &Path, new: &NewAudit, seal: Seal<'_>) -> Result<AuditRow, QaError> {
    let mut conn = open_read_write(db)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sqlite(db))?;
    let row = append(&tx, new, seal).map_err(sqlite(db))?;
    tx.commit().map_err(sqlite(db))?;
    Ok(row)
}

/// Links `new` after the last row; the caller's IMMEDIATE transaction holds the write lock,
/// so no other writer can take the same place in the chain.
fn append(conn: &Connection, new: &NewAudit, seal: Seal<'_>) -> rusqlite::Result<AuditRow> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM qa_audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = match last {
        Some((seq, hash)) => (seq.saturating_add(1), hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut row = AuditRow {
        seq,
        at: time_text(new.at),
        actor: new.actor.clone(),
        action: new.action.as_str().to_string(),
        call_id: new.call_id.as_ref().map(|c| c.as_str().to_string()),
        subject: new.subject.clone(),
        reason: new.reason.clone(),
        detail: new.detail.clone(),
        prev_hash,
        hash: String::new(),
    };
    row.hash = seal(&row);
    conn.execute(
        "INSERT INTO qa_audit (seq, at, actor, action, call_id, subject, reason, detail,
                               prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.call_id,
            row.subject,
            row.reason,
            row.detail,
            row.prev_hash,
            row.hash
        ],
    )?;
    Ok(row)
}

/// Opens for reading, or `None` when the database predates the spot checks (no tables yet:
/// nothing was ever drawn).
fn open_for_reading(db: &Path) -> Result<Option<Connection>, RecordError> {
    let conn = open_read_only(db)?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'qa_audit'",
            [],
            |r| r.get(0),
        )
        .map_err(sqlite(db))?;
    Ok((tables > 0).then_some(conn))
}

fn bad(table: &str, id: i64, column: &'static str, value: &str) -> RecordError {
    RecordError::BadRow {
        call_id: format!("{table} {id}"),
        column,
        value: value.to_string(),
    }
}

fn parse_time(
    table: &str,
    id: i64,
    column: &'static str,
    text: &str,
) -> Result<DateTime<Utc>, RecordError> {
    time(text).ok_or_else(|| bad(table, id, column, text))
}

fn parse_call(table: &str, id: i64, text: &str) -> Result<CallId, RecordError> {
    text.parse().map_err(|_| bad(table, id, "call_id", text))
}

/// Every draw, oldest first (redraws after the draws they replace).
pub fn list_draws(db: &Path) -> Result<Vec<Draw>, RecordError> {
    let Some(conn) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare(
            "SELECT id, scope, office, period, rate_bp, seed, calls, drawn_at, drawn_by,
                    redraw_of, reason FROM qa_draws ORDER BY id",
        )
        .map_err(sqlite(db))?;
    let mut rows = stmt.query([]).map_err(sqlite(db))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sqlite(db))? {
        let id: i64 = r.get(0).map_err(sqlite(db))?;
        let (kind, office): (String, String) =
            (r.get(1).map_err(sqlite(db))?, r.get(2).map_err(sqlite(db))?);
        let scope = Scope::from_columns(&kind, &office)
            .ok_or_else(|| bad("qa_draws", id, "scope", &kind))?;
        let seed: String = r.get(5).map_err(sqlite(db))?;
        let drawn_at: String = r.get(7).map_err(sqlite(db))?;
        out.push(Draw {
            id,
            scope,
            period: r.get(3).map_err(sqlite(db))?,
            rate_bp: r.get(4).map_err(sqlite(db))?,
            seed: u64::from_str_radix(&seed, 16).map_err(|_| bad("qa_draws", id, "seed", &seed))?,
            calls: u64::try_from(r.get::<_, i64>(6).map_err(sqlite(db))?).unwrap_or(0),
            drawn_at: parse_time("qa_draws", id, "drawn_at", &drawn_at)?,
            drawn_by: r.get(8).map_err(sqlite(db))?,
            redraw_of: r.get(9).map_err(sqlite(db))?,
            reason: r.get(10).map_err(sqlite(db))?,
        });
    }
    Ok(out)
}

/// Every sample of every draw, by draw then call.
pub fn list_samples(db: &Path) -> Result<Vec<Sample>, RecordError> {
    let Some(conn) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare("SELECT draw_id, call_id, agent FROM qa_samples ORDER BY draw_id, call_id")
        .map_err(sqlite(db))?;
    let mut rows = stmt.query([]).map_err(sqlite(db))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sqlite(db))? {
        let draw_id: i64 = r.get(0).map_err(sqlite(db))?;
        let call: String = r.get(1).map_err(sqlite(db))?;
        out.push(Sample {
            draw_id,
            call_id: parse_call("qa_samples", draw_id, &call)?,
            agent: r.get(2).map_err(sqlite(db))?,
        });
    }
    Ok(out)
}

/// Every review, oldest first.
pub fn list_reviews(db: &Path) -> Result<Vec<Review>, RecordError> {
    let Some(conn) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare(
            "SELECT id, call_id, score, note, reviewer, reviewed_at FROM qa_reviews ORDER BY id",
        )
        .map_err(sqlite(db))?;
    let mut rows = stmt.query([]).map_err(sqlite(db))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sqlite(db))? {
        let id: i64 = r.get(0).map_err(sqlite(db))?;
        let call: String = r.get(1).map_err(sqlite(db))?;
        let score: i64 = r.get(2).map_err(sqlite(db))?;
        let at: String = r.get(5).map_err(sqlite(db))?;
        out.push(Review {
            id,
            call_id: parse_call("qa_reviews", id, &call)?,
            score: u8::try_from(score)
                .ok()
                .filter(|s| *s <= 100)
                .ok_or_else(|| bad("qa_reviews", id, "score", &score.to_string()))?,
            note: r.get(3).map_err(sqlite(db))?,
            reviewer: r.get(4).map_err(sqlite(db))?,
            reviewed_at: parse_time("qa_reviews", id, "reviewed_at", &at)?,
        });
    }
    Ok(out)
}

/// The whole audit chain, in chain order, exactly as stored.
pub fn list_audit(db: &Path) -> Result<Vec<AuditRow>, RecordError> {
    let Some(conn) = open_for_reading(db)? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare(
            "SELECT seq, at, actor, action, call_id, subject, reason, detail, prev_hash, hash
             FROM qa_audit ORDER BY seq",
        )
        .map_err(sqlite(db))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(AuditRow {
                seq: r.get(0)?,
                at: text(r, 1)?,
                actor: text(r, 2)?,
                action: text(r, 3)?,
                call_id: match r.get_ref(4)? {
                    ValueRef::Null => None,
                    _ => Some(text(r, 4)?),
                },
                subject: text(r, 5)?,
                reason: text(r, 6)?,
                detail: text(r, 7)?,
                prev_hash: text(r, 8)?,
                hash: text(r, 9)?,
            })
        })
        .map_err(sqlite(db))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite(db))
}

/// A column as text whatever was stored in it: a row edited to hold a number or a blob
/// must still be read, so that the chain check names it rather than failing to read.
fn text(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(match r.get_ref(i)? {
        ValueRef::Null => String::new(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
    })
}
