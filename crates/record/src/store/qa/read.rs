//! The spot checks' rows read back, without disturbing a running switch (read-only).

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::super::journal::{open_read_only, time};
use super::{sqlite, AuditRow, Draw, Review, Sample, Scope};
use crate::{CallId, RecordError};

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
