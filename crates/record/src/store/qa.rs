//! The spot checks of recordings (抽检): draws and their samples, reviews, and the audit of
//! every look at a recording, chained by hash. The `hotline qa` tools write these straight
//! into the call database, in short transactions beside the switch's writer thread.
//!
//! Every table here is append-only (triggers refuse UPDATE and DELETE): a redraw or a second
//! review adds a row, so the first one stays for the inspectors. The hash of an audit row is
//! computed by the caller (`seal`), so this crate stores the chain without choosing its hash.

mod read;
mod write;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{CallId, RecordError};

pub use read::{list_audit, list_draws, list_reviews, list_samples};
pub use write::{record_audit, record_draw, record_review};

/// The tables, created with the others (and by the `qa` tools on an older database).
pub(in crate::store) const SCHEMA: &str = "
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
    /// A voice prompt replaced or restored (the 12366 voice content).
    Voice,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 6] = [
        Action::Draw,
        Action::Redraw,
        Action::Review,
        Action::Play,
        Action::Unmask,
        Action::Voice,
    ];

    /// The word stored in `action`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Draw => "draw",
            Action::Redraw => "redraw",
            Action::Review => "review",
            Action::Play => "play",
            Action::Unmask => "unmask",
            Action::Voice => "voice",
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
    /// A review of a call that is in no draw in force.
    #[error("call {0} is in no spot-check draw in force: only sampled calls are reviewed")]
    NotSampled(CallId),
}

/// SQLite's error, with the database it came from.
fn sqlite(db: &Path) -> impl Fn(rusqlite::Error) -> RecordError + '_ {
    move |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    }
}
