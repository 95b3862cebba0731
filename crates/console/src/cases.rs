//! Hand-on cases (转办单) in the console: an agent hands a question they could not answer
//! to a department from their desk, due in two working days by the plan's calendar (调休
//! counted in, holidays out); the supervisors of the call's region list them, chase the
//! overdue (催办: "100% of handed-on cases chased") and close them with the answer given.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{NaiveDate, Utc};
use hotline_record::{CallId, Case, NewCase, Role};
use serde::{Deserialize, Serialize};

use crate::auth::{same_token, SignedIn};
use crate::sessions::Session;
use crate::Console;

/// Working days a department has to answer.
const DUE_IN: u32 = 2;

/// A case with whether it is overdue today.
#[derive(Debug, Serialize)]
pub struct CaseView {
    /// The case.
    #[serde(flatten)]
    case: Case,
    /// Open past its due date.
    overdue: bool,
}

/// The cases page's data.
#[derive(Debug, Serialize)]
pub struct CasesView {
    /// The cases of the user's regions, newest first.
    cases: Vec<CaseView>,
    /// Cases that went past their due date (open or answered late).
    late: usize,
    /// Of them, chased at least once.
    late_chased: usize,
}

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&hotline_report::beijing())
        .date_naive()
}

/// Whether a case ran past its due date: still open after it, or closed after it.
pub(crate) fn late(case: &Case, today: NaiveDate) -> bool {
    match case.closed_at {
        None => case.due < today,
        Some(c) => c.with_timezone(&hotline_report::beijing()).date_naive() > case.due,
    }
}

fn watches_cases(session: &Session) -> bool {
    matches!(
        session.role,
        Role::Supervisor | Role::Inspector | Role::Admin
    )
}

/// A hand-on case from the desk.
#[derive(Debug, Deserialize)]
pub struct OpenForm {
    csrf: String,
    /// The call.
    call: String,
    /// One of the plan's hand-on departments.
    department: String,
    /// What the taxpayer asked.
    question: String,
}

/// `POST /api/desk/case`: the agent hands on a question of a call they answered.
pub async fn open(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Form(form): Form<OpenForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    let Some(agent) = session
        .agent
        .clone()
        .filter(|_| session.role == Role::Agent)
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let question = form.question.trim().to_string();
    if !console.plan.get().departments.contains(&form.department)
        || question.is_empty()
        || question.len() > 4000
    {
        return (
            StatusCode::BAD_REQUEST,
            "a department of the list and the question",
        )
            .into_response();
    }
    let Ok(call_id) = form.call.parse::<CallId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(call) = crate::calls::find(&console.db, &call_id).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if call.agent.as_deref() != Some(agent.as_str()) {
        return (StatusCode::NOT_FOUND, "not a call you answered").into_response();
    }
    let due = console
        .plan
        .get()
        .schedule
        .working_days_after(today(), DUE_IN);
    let new = NewCase {
        call_id,
        agent,
        region: call.region.unwrap_or_default(),
        department: form.department,
        question,
        due,
        opened_at: Utc::now(),
    };
    let db = console.db.clone();
    match tokio::task::spawn_blocking(move || hotline_record::open_case(&db, &new)).await {
        Ok(Ok(id)) => {
            tracing::info!(user = %session.user, case = id, %due, "case handed on from the desk");
            Json(serde_json::json!({ "ok": true, "case": id, "due": due })).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the case could not be stored",
        )
            .into_response(),
    }
}

impl Console {
    async fn cases(&self) -> Option<Vec<Case>> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || hotline_record::list_cases(&db))
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// `GET /api/cases`: the cases of the user's regions.
pub async fn list(State(console): State<Arc<Console>>, SignedIn(session): SignedIn) -> Response {
    if !watches_cases(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some(cases) = console.cases().await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the cases could not be read",
        )
            .into_response();
    };
    let today = today();
    let cases: Vec<CaseView> = cases
        .into_iter()
        .filter(|c| session.scope.sees(&c.region))
        .map(|case| CaseView {
            overdue: case.closed_at.is_none() && case.due < today,
            case,
        })
        .collect();
    let late_of = |v: &&CaseView| late(&v.case, today);
    let late = cases.iter().filter(late_of).count();
    let late_chased = cases
        .iter()
        .filter(late_of)
        .filter(|v| v.case.chases > 0)
        .count();
    Json(CasesView {
        cases,
        late,
        late_chased,
    })
    .into_response()
}

/// `GET /api/desk/cases`: an agent's own hand-on cases, open ones first (soonest due
/// first), then the answered ones, newest first.
pub async fn own(State(console): State<Arc<Console>>, SignedIn(session): SignedIn) -> Response {
    let Some(agent) = session
        .agent
        .clone()
        .filter(|_| session.role == Role::Agent)
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Some(cases) = console.cases().await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the cases could not be read",
        )
            .into_response();
    };
    let today = today();
    let mut mine: Vec<CaseView> = cases
        .into_iter()
        .filter(|c| c.agent == agent)
        .map(|case| CaseView {
            overdue: case.closed_at.is_none() && case.due < today,
            case,
        })
        .collect();
    mine.sort_by(|a, b| match (a.case.closed_at, b.case.closed_at) {
        (None, None) => a.case.due.cmp(&b.case.due),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x),
    });
    Json(mine).into_response()
}

/// A chase or a close.
#[derive(Debug, Deserialize)]
pub struct CaseForm {
    csrf: String,
    /// The answer given, to close.
    answer: Option<String>,
}

/// The open case `id` if `session` may act on it.
async fn in_reach(
    console: &Console,
    session: &Session,
    csrf: &str,
    id: i64,
) -> Result<Case, Response> {
    if !same_token(&session.csrf, csrf) {
        return Err((StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response());
    }
    if !matches!(session.role, Role::Supervisor | Role::Admin) {
        return Err(StatusCode::FORBIDDEN.into_response());
    }
    let cases = console.cases().await.unwrap_or_default();
    cases
        .into_iter()
        .find(|c| c.id == id && session.scope.sees(&c.region) && c.closed_at.is_none())
        .ok_or_else(|| (StatusCode::NOT_FOUND, "no such open case in your regions").into_response())
}

/// `POST /api/cases/{id}/chase`.
pub async fn chase(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CaseForm>,
) -> Response {
    if let Err(refused) = in_reach(&console, &session, &form.csrf, id).await {
        return refused;
    }
    let db = console.db.clone();
    match tokio::task::spawn_blocking(move || hotline_record::chase_case(&db, id, Utc::now())).await
    {
        Ok(Ok(true)) => {
            tracing::info!(user = %session.user, case = id, "case chased");
            Json(serde_json::json!({ "ok": true })).into_response()
        }
        _ => (StatusCode::CONFLICT, "the case could not be chased").into_response(),
    }
}

/// `POST /api/cases/{id}/close`: closed with the answer given to the taxpayer.
pub async fn close(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<CaseForm>,
) -> Response {
    if let Err(refused) = in_reach(&console, &session, &form.csrf, id).await {
        return refused;
    }
    let answer = form.answer.unwrap_or_default().trim().to_string();
    if answer.is_empty() {
        return (StatusCode::BAD_REQUEST, "the answer given to the taxpayer").into_response();
    }
    let (db, by) = (console.db.clone(), session.user.clone());
    let closed = tokio::task::spawn_blocking(move || {
        hotline_record::close_case(&db, id, &answer, &by, Utc::now())
    })
    .await;
    match closed {
        Ok(Ok(true)) => Json(serde_json::json!({ "ok": true })).into_response(),
        _ => (StatusCode::CONFLICT, "the case could not be closed").into_response(),
    }
}
