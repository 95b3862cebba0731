//! The spot checks' writes: each in one IMMEDIATE transaction with its audit row, so a
//! draw, a review or an opening is stored with its place in the chain or not at all.

use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use super::super::sql::time_text;
use super::{
    sqlite, Action, AuditRow, Draw, NewAudit, NewDraw, NewReview, QaError, Review, Seal,
    GENESIS_HASH, SCHEMA,
};
use crate::RecordError;

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
            // Only a draw in force counts: a call of a draw a redraw replaced is not checked.
            "SELECT count(*) FROM qa_samples s JOIN qa_draws d ON d.id = s.draw_id
             WHERE s.call_id = ?1 AND d.id = (SELECT max(id) FROM qa_draws n
                 WHERE n.scope = d.scope AND n.office = d.office AND n.period = d.period)",
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
