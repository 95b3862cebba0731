//! `hand_on_cases` (转办单): a question an agent could not answer, handed on to a department
//! with a deadline (two working days by default); chased (催办) by the centre when overdue,
//! closed with the answer given to the taxpayer. "First contact owns it" (首问负责制): the
//! case keeps the call and the agent who took it.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::params;
use serde::Serialize;

use super::journal::time;
use super::side_table::{open_creating, open_if_table, sqlite};
use super::sql::time_text;
use crate::{CallId, RecordError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS hand_on_cases (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    call_id    TEXT NOT NULL,
    agent      TEXT NOT NULL,
    region     TEXT NOT NULL,
    department TEXT NOT NULL,
    question   TEXT NOT NULL,
    due        TEXT NOT NULL,
    opened_at  TEXT NOT NULL,
    chased_at  TEXT,
    chases     INTEGER NOT NULL DEFAULT 0,
    answer     TEXT,
    closed_at  TEXT,
    closed_by  TEXT
);
";

/// A case to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCase {
    /// The call it came from.
    pub call_id: CallId,
    /// The agent who took the call and handed it on.
    pub agent: String,
    /// The call's region (whose supervisors chase it).
    pub region: String,
    /// The department it is handed to.
    pub department: String,
    /// What the taxpayer asked.
    pub question: String,
    /// The Beijing date it must be answered by.
    pub due: NaiveDate,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
}

/// A case as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    /// Its number.
    pub id: i64,
    /// The call.
    pub call_id: String,
    /// Who took the call.
    pub agent: String,
    /// The call's region.
    pub region: String,
    /// Handed to.
    pub department: String,
    /// The question.
    pub question: String,
    /// Answer by.
    pub due: NaiveDate,
    /// Opened.
    pub opened_at: DateTime<Utc>,
    /// Last chased.
    pub chased_at: Option<DateTime<Utc>>,
    /// How many times chased.
    pub chases: u32,
    /// The answer given to the taxpayer, once closed.
    pub answer: Option<String>,
    /// Closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Closed by.
    pub closed_by: Option<String>,
}

/// Opens a case: its number.
pub fn open_case(db: &Path, c: &NewCase) -> Result<i64, RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    conn.execute(
        "INSERT INTO hand_on_cases (call_id, agent, region, department, question, due, opened_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            c.call_id.as_str(),
            c.agent,
            c.region,
            c.department,
            c.question,
            c.due.to_string(),
            time_text(c.opened_at)
        ],
    )
    .map_err(sqlite(db))?;
    Ok(conn.last_insert_rowid())
}

/// Notes a chase of open case `id`: whether there was such an open case.
pub fn chase_case(db: &Path, id: i64, at: DateTime<Utc>) -> Result<bool, RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    let n = conn
        .execute(
            "UPDATE hand_on_cases SET chased_at = ?2, chases = chases + 1
             WHERE id = ?1 AND closed_at IS NULL",
            params![id, time_text(at)],
        )
        .map_err(sqlite(db))?;
    Ok(n > 0)
}

/// Closes open case `id` with the answer given: whether there was such an open case.
pub fn close_case(
    db: &Path,
    id: i64,
    answer: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<bool, RecordError> {
    let conn = open_creating(db, SCHEMA)?;
    let n = conn
        .execute(
            "UPDATE hand_on_cases SET answer = ?2, closed_by = ?3, closed_at = ?4
             WHERE id = ?1 AND closed_at IS NULL",
            params![id, answer, by, time_text(at)],
        )
        .map_err(sqlite(db))?;
    Ok(n > 0)
}

type Row = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    u32,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Every case, newest first; none before the first was opened.
pub fn list_cases(db: &Path) -> Result<Vec<Case>, RecordError> {
    let Some(conn) = open_if_table(db, "hand_on_cases")? else {
        return Ok(Vec::new());
    };
    let mut stmt = conn
        .prepare(
            "SELECT id, call_id, agent, region, department, question, due, opened_at, chased_at,
                    chases, answer, closed_at, closed_by FROM hand_on_cases ORDER BY id DESC",
        )
        .map_err(sqlite(db))?;
    let rows = stmt
        .query_map([], |r| -> rusqlite::Result<Row> {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
            ))
        })
        .map_err(sqlite(db))?;
    let mut out = Vec::new();
    for row in rows {
        let (
            id,
            call_id,
            agent,
            region,
            department,
            question,
            due,
            opened,
            chased,
            chases,
            answer,
            closed,
            closed_by,
        ) = row.map_err(sqlite(db))?;
        let bad = |column: &'static str, value: &str| RecordError::BadRow {
            call_id: call_id.clone(),
            column,
            value: value.to_string(),
        };
        let due = due.parse::<NaiveDate>().map_err(|_| bad("due", &due))?;
        let opened_at = time(&opened).ok_or_else(|| bad("opened_at", &opened))?;
        out.push(Case {
            id,
            agent,
            region,
            department,
            question,
            due,
            opened_at,
            chased_at: chased.as_deref().and_then(time),
            chases,
            answer,
            closed_at: closed.as_deref().and_then(time),
            closed_by,
            call_id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_is_opened_chased_and_closed_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("calls.db");
        assert_eq!(list_cases(&db).unwrap(), vec![]);
        let at = Utc::now();
        let id = open_case(
            &db,
            &NewCase {
                call_id: CallId::generate(at, 9),
                agent: "1003".into(),
                region: "luoyang".into(),
                department: "征管科".into(),
                question: "专票红冲".into(),
                due: NaiveDate::from_ymd_opt(2026, 12, 8).unwrap(),
                opened_at: at,
            },
        )
        .unwrap();
        assert!(chase_case(&db, id, at).unwrap());
        assert!(close_case(&db, id, "已答复", "wang", at).unwrap());
        assert!(
            !close_case(&db, id, "again", "wang", at).unwrap(),
            "closed once"
        );
        assert!(
            !chase_case(&db, id, at).unwrap(),
            "a closed case is not chased"
        );
        let cases = list_cases(&db).unwrap();
        assert_eq!(
            (cases[0].chases, cases[0].answer.as_deref()),
            (1, Some("已答复"))
        );
    }
}
