//! Opening the store for a table written outside the switch's writer thread (console users,
//! call summaries, hand-on cases): created by the first write, possibly before the switch
//! ever ran; read as empty until then.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use crate::RecordError;

/// The error of an SQLite call on `db`.
pub(super) fn sqlite(db: &Path) -> impl Fn(rusqlite::Error) -> RecordError + '_ {
    move |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    }
}

/// Opens `db` to write, creating the file and `schema`'s table if need be, waiting up to
/// 10 s for the switch's batch to commit.
pub(super) fn open_creating(db: &Path, schema: &str) -> Result<Connection, RecordError> {
    let conn = Connection::open(db).map_err(sqlite(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(sqlite(db))?;
    conn.execute_batch(schema).map_err(sqlite(db))?;
    Ok(conn)
}

/// Opens `db` to read `table`; `None` while the file or the table does not exist yet.
pub(super) fn open_if_table(db: &Path, table: &str) -> Result<Option<Connection>, RecordError> {
    if !db.exists() {
        return Ok(None);
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags).map_err(sqlite(db))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(sqlite(db))?;
    let exists = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite(db))?
        .is_some();
    Ok(exists.then_some(conn))
}
