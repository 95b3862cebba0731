//! `users`: who may sign in to the web console, in what role, what they may see, and their
//! password's hash. Kept beside the call records rather than in the dialplan: a dialplan is
//! shared, reviewed and versioned; password hashes are not.

use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::journal::time;
use super::side_table::{open_creating, open_if_table, sqlite};
use super::sql::time_text;
use crate::RecordError;

/// The table. Created by whoever writes first: `hotline user add` may run before the switch
/// ever has.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    id         TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    agent      TEXT,
    scope      TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    cleared    INTEGER NOT NULL DEFAULT 0
);
";

/// Stores made before clearance was kept lack its column.
const ADD_CLEARED: &str = "ALTER TABLE users ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0";

/// What a console user does, which decides what they see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An agent: their own desktop (linked to an agent id).
    Agent,
    /// An office or provincial supervisor: the wallboard, calls and recordings of their
    /// scope.
    Supervisor,
    /// A quality inspector: the spot checks of every office.
    Inspector,
    /// The operator: everything, users and voice content included.
    Admin,
}

impl Role {
    /// Every role, in the order the CLI lists them.
    pub const ALL: [Role; 4] = [Role::Agent, Role::Supervisor, Role::Inspector, Role::Admin];

    /// The role's name in the table and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Inspector => "inspector",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn named(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// One console user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The login name.
    pub id: String,
    /// What they do.
    pub role: Role,
    /// The agent (工号) an `agent` user is.
    pub agent: Option<String>,
    /// The regions a supervisor sees (`province` for all of them); empty for other roles.
    pub scope: Vec<String>,
    /// The password's argon2 hash, as a PHC string.
    #[serde(skip)]
    pub hash: String,
    /// When the user was added (or their password last set).
    pub created_at: DateTime<Utc>,
    /// Cleared to see the numbers of confidential callers (举报/投诉) unmasked, each
    /// showing audited.
    pub cleared: bool,
}

/// Adds `user`, or replaces the user of that id (a new password, role or scope): whether
/// one was replaced.
pub fn save_user(db: &Path, user: &User) -> Result<bool, RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    if !has_cleared(&conn).map_err(sqlite(db))? {
        conn.execute_batch(ADD_CLEARED).map_err(sqlite(db))?;
    }
    let existed = conn
        .query_row(
            "SELECT 1 FROM users WHERE id = ?1",
            params![user.id],
            |_| Ok(()),
        )
        .optional()
        .map_err(sqlite(db))?
        .is_some();
    conn.execute(
        "INSERT OR REPLACE INTO users (id, role, agent, scope, hash, created_at, cleared)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            user.id,
            user.role.as_str(),
            user.agent,
            user.scope.join(","),
            user.hash,
            time_text(user.created_at),
            user.cleared
        ],
    )
    .map_err(sqlite(db))?;
    Ok(existed)
}

/// Removes the user `id`: whether there was one.
pub fn remove_user(db: &Path, id: &str) -> Result<bool, RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    let n = conn
        .execute("DELETE FROM users WHERE id = ?1", params![id])
        .map_err(sqlite(db))?;
    Ok(n > 0)
}

/// Every user, by id; none when the store has no users yet (or does not exist).
pub fn list_users(db: &Path) -> Result<Vec<User>, RecordError> {
    read(db, "ORDER BY id", None)
}

/// The user `id`, if there is one.
pub fn find_user(db: &Path, id: &str) -> Result<Option<User>, RecordError> {
    Ok(read(db, "WHERE id = ?1", Some(id))?.into_iter().next())
}

/// Whether the table has the `cleared` column yet.
fn has_cleared(conn: &rusqlite::Connection) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('users')")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    for name in names {
        if name? == "cleared" {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The users selected by `tail` (`WHERE …`, `ORDER BY …`).
fn read(db: &Path, tail: &str, id: Option<&str>) -> Result<Vec<User>, RecordError> {
    let Some(conn) = open_if_table(db, "users")? else {
        return Ok(Vec::new());
    };
    let cleared = if has_cleared(&conn).map_err(sqlite(db))? {
        "cleared"
    } else {
        "0"
    };
    let sql =
        format!("SELECT id, role, agent, scope, hash, created_at, {cleared} FROM users {tail}");
    let mut stmt = conn.prepare(&sql).map_err(sqlite(db))?;
    type Row = (String, String, Option<String>, String, String, String, bool);
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Row> {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    };
    let rows = match id {
        Some(id) => stmt.query_map(params![id], row),
        None => stmt.query_map([], row),
    }
    .map_err(sqlite(db))?;
    let mut users = Vec::new();
    for r in rows {
        let (id, role, agent, scope, hash, created_at, cleared) = r.map_err(sqlite(db))?;
        let bad = |column: &'static str, value: &str| RecordError::BadRow {
            call_id: id.clone(),
            column,
            value: value.to_string(),
        };
        let role = Role::named(&role).ok_or_else(|| bad("role", &role))?;
        let created_at = time(&created_at).ok_or_else(|| bad("created_at", &created_at))?;
        users.push(User {
            scope: scope
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            id,
            role,
            agent,
            hash,
            created_at,
            cleared,
        });
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str, role: Role, scope: &[&str]) -> User {
        User {
            id: id.to_string(),
            role,
            agent: None,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            hash: format!("$argon2id$fake-{id}"),
            created_at: DateTime::parse_from_rfc3339("2026-12-05T08:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            cleared: false,
        }
    }

    #[test]
    fn users_are_added_replaced_listed_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.db");
        assert_eq!(list_users(&db).unwrap(), vec![], "no store yet: no users");
        let wang = user("wang", Role::Supervisor, &["luoyang", "kaifeng"]);
        assert!(!save_user(&db, &wang).unwrap());
        assert!(!save_user(&db, &user("li", Role::Inspector, &[])).unwrap());
        assert_eq!(find_user(&db, "wang").unwrap(), Some(wang.clone()));
        let mut moved = wang.clone();
        moved.scope = vec!["province".into()];
        assert!(save_user(&db, &moved).unwrap(), "replaced");
        let ids: Vec<String> = list_users(&db).unwrap().into_iter().map(|u| u.id).collect();
        assert_eq!(ids, ["li", "wang"]);
        assert_eq!(find_user(&db, "wang").unwrap().unwrap().scope, ["province"]);
        assert!(remove_user(&db, "li").unwrap());
        assert!(!remove_user(&db, "li").unwrap());
        assert_eq!(find_user(&db, "li").unwrap(), None);
    }

    #[test]
    fn clearance_is_kept_and_a_table_from_before_it_is_read_then_brought_up_to_date() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.db");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id TEXT PRIMARY KEY, role TEXT NOT NULL, agent TEXT,
             scope TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL);
             INSERT INTO users VALUES ('li', 'inspector', NULL, '', 'h', '2026-12-05T08:00:00Z');",
        )
        .unwrap();
        drop(conn);
        let li = find_user(&db, "li")
            .unwrap()
            .expect("read without the column");
        assert!(!li.cleared);
        let mut auditor = user("auditor", Role::Inspector, &[]);
        auditor.cleared = true;
        save_user(&db, &auditor).unwrap();
        assert_eq!(find_user(&db, "auditor").unwrap(), Some(auditor));
        assert!(!find_user(&db, "li").unwrap().unwrap().cleared);
    }
}
