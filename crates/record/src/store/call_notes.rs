//! `call_notes`: the agent's summary of a call (来电小结): a business category and a note,
//! written after the call from the console, and shown to the next agent the same caller
//! reaches, so a taxpayer who rings three times about one invoice explains it once.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::params;
use serde::Serialize;

use super::journal::time;
use super::side_table::{open_creating, open_if_table, sqlite};
use super::sql::time_text;
use crate::{CallId, RecordError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS call_notes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id  TEXT NOT NULL,
    agent    TEXT NOT NULL,
    category TEXT NOT NULL,
    note     TEXT NOT NULL,
    at       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_notes_call ON call_notes (call_id);
";

/// One summary of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallNote {
    /// The call.
    pub call_id: CallId,
    /// The agent who wrote it.
    pub agent: String,
    /// The business category (`增值税专用发票 → 领购`).
    pub category: String,
    /// What was asked and answered.
    pub note: String,
    /// When it was written.
    pub at: DateTime<Utc>,
}

/// Stores a summary (a later one of the same call is kept beside the earlier).
pub fn save_call_note(db: &Path, n: &CallNote) -> Result<(), RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    conn.execute(
        "INSERT INTO call_notes (call_id, agent, category, note, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            n.call_id.as_str(),
            n.agent,
            n.category,
            n.note,
            time_text(n.at)
        ],
    )
    .map_err(sqlite(db))?;
    Ok(())
}

/// The summaries of `calls`, oldest first; none before any was written.
pub fn list_call_notes(db: &Path, calls: &[CallId]) -> Result<Vec<CallNote>, RecordError> {
    if calls.is_empty() {
        return Ok(Vec::new());
    }
    let Some(conn) = open_if_table(db, "call_notes")? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT call_id, agent, category, note, at FROM call_notes WHERE call_id = ?1 ORDER BY id",
        )
        .map_err(sqlite(db))?;
    let mut out = Vec::new();
    for call in calls {
        let rows = stmt
            .query_map(params![call.as_str()], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(sqlite(db))?;
        for row in rows {
            let (agent, category, note, at) = row.map_err(sqlite(db))?;
            let at = time(&at).ok_or_else(|| RecordError::BadRow {
                call_id: call.to_string(),
                column: "at",
                value: at.clone(),
            })?;
            out.push(CallNote {
                call_id: call.clone(),
                agent,
                category,
                note,
                at,
            });
        }
    }
    out.sort_by_key(|n| n.at);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_stored_and_read_by_call() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.db");
        let at = Utc::now();
        let id = CallId::generate(at, 1);
        let other = CallId::generate(at, 2);
        assert_eq!(
            list_call_notes(&db, std::slice::from_ref(&id)).unwrap(),
            vec![]
        );
        let n = CallNote {
            call_id: id.clone(),
            agent: "1003".into(),
            category: "发票".into(),
            note: "专票领购".into(),
            at,
        };
        save_call_note(&db, &n).unwrap();
        let read = list_call_notes(&db, &[id.clone(), other]).unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(
            (read[0].agent.as_str(), read[0].note.as_str()),
            ("1003", "专票领购")
        );
    }
}
