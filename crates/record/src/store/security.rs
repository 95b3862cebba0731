//! `security_events`: every brake the switch put on (password guessing slowed or blocked,
//! and later overload refusals), so the operator sees what was stopped and why.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::journal::{open_read_only, time};
use super::sql::time_text;
use crate::RecordError;

/// The table, created with the others.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS security_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    subject  TEXT NOT NULL,
    failures INTEGER NOT NULL,
    detail   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS security_events_at ON security_events (at);
";

/// One brake put on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// What happened: `auth-slowed`, `auth-blocked`, `auth-unblocked`.
    pub kind: String,
    /// Who it applies to: `source 203.0.113.9` or `user 1003`.
    pub subject: String,
    /// Failed attempts counted when it happened.
    pub failures: u32,
    /// A sentence for the operator (how long a block lasts).
    pub detail: String,
}

pub(super) fn insert(conn: &Connection, e: &SecurityEvent) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO security_events (at, kind, subject, failures, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        time_text(e.at),
        e.kind,
        e.subject,
        e.failures,
        e.detail
    ])?;
    Ok(())
}

/// The latest `limit` security events, oldest first (`hotline security`).
pub fn list_security_events(db: &Path, limit: usize) -> Result<Vec<SecurityEvent>, RecordError> {
    let conn = open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    let mut stmt = conn
        .prepare(
            "SELECT at, kind, subject, failures, detail FROM security_events \
             ORDER BY id DESC LIMIT ?1",
        )
        .map_err(sqlite)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map([limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, u32>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        let (at, kind, subject, failures, detail) = row.map_err(sqlite)?;
        if let Some(at) = time(&at) {
            out.push(SecurityEvent {
                at,
                kind,
                subject,
                failures,
                detail,
            });
        }
    }
    out.reverse();
    Ok(out)
}
