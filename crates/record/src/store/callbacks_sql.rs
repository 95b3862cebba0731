//! The `callbacks` table (the 100%-followed-up list): requests added, marked called back,
//! voicemails without audio dropped, and read back.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

use super::record::{Callback, CallbackKind};
use super::sql::time_text;
use crate::CallId;

const INSERT_CALLBACK: &str = "
INSERT INTO callbacks (call_id, caller, number, region, created_at, kind, voicemail_path, state)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open')
";

/// Every open callback to `number` has been answered by an agent's call out.
pub(super) fn mark_called(conn: &Connection, number: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE callbacks SET state = 'called' WHERE state = 'open' AND number = ?1",
    )?
    .execute([number])?;
    Ok(())
}

/// The voicemail at `path` holds no audio: its row loses the path, and goes altogether when
/// it has no number to call either (an anonymous caller who said nothing).
pub(super) fn voicemail_without_audio(conn: &Connection, path: &Path) -> rusqlite::Result<()> {
    let path = path.to_string_lossy();
    conn.prepare_cached(
        "DELETE FROM callbacks WHERE kind = 'voicemail' AND voicemail_path = ?1
         AND (number IS NULL OR number = '')",
    )?
    .execute([&path])?;
    conn.prepare_cached(
        "UPDATE callbacks SET voicemail_path = NULL WHERE kind = 'voicemail' AND voicemail_path = ?1",
    )?
    .execute([&path])?;
    Ok(())
}

/// Adds a request for a callback.
pub(super) fn insert_callback(conn: &Connection, c: &Callback) -> rusqlite::Result<()> {
    conn.prepare_cached(INSERT_CALLBACK)?.execute(params![
        c.call_id.as_str(),
        c.caller,
        c.number,
        c.region,
        time_text(c.created_at),
        c.kind.as_str(),
        c.voicemail_path
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned()),
    ])?;
    Ok(())
}

/// Every callback request, oldest first.
pub(super) fn select_callbacks(conn: &Connection) -> rusqlite::Result<Vec<Callback>> {
    let mut stmt = conn.prepare(
        "SELECT call_id, caller, number, region, created_at, kind, voicemail_path, state, id
         FROM callbacks ORDER BY created_at, id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let id_text: String = row.get(0)?;
        let Ok(call_id) = id_text.parse::<CallId>() else {
            continue;
        };
        let created: String = row.get(4)?;
        let Ok(created_at) = DateTime::parse_from_rfc3339(&created) else {
            continue;
        };
        let kind: String = row.get(5)?;
        let Some(kind) = CallbackKind::parse(&kind) else {
            continue;
        };
        out.push(Callback {
            id: row.get(8)?,
            call_id,
            caller: row.get(1)?,
            number: row.get(2)?,
            region: row.get(3)?,
            created_at: created_at.with_timezone(&Utc),
            kind,
            voicemail_path: row.get::<_, Option<String>>(6)?.map(PathBuf::from),
            state: row.get(7)?,
        });
    }
    Ok(out)
}
