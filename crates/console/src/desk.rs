//! The agent's desk (`/desk`): their own state with buttons (ready, not ready with a reason,
//! log out: the feature codes' transitions), and when their phone rings the screen-pop:
//! the caller's number (masked for a confidential queue), city, menu path and what they
//! asked for, with the caller's previous calls (date, agent, outcome, the agents'
//! summaries). After the call, its summary (来电小结): a category and a note, stored with
//! the call. Pushed as server-sent events; only the agent's own seat.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use hotline_b2bua::command::{AgentAction, Command};
use hotline_b2bua::Seat;
use hotline_record::{CallId, CallNote, Role};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::{same_token, SignedIn};
use crate::sessions::Session;
use crate::Console;

/// How far back a caller's history goes.
const HISTORY_DAYS: i64 = 180;
/// Previous calls shown at most.
const HISTORY_CALLS: u32 = 10;

/// One earlier call of the caller.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Earlier {
    /// The call.
    call_id: String,
    /// When.
    offered_at: DateTime<Utc>,
    /// Who answered.
    agent: Option<String>,
    /// How it ended.
    outcome: String,
    /// The agents' summaries of it.
    notes: Vec<CallNote>,
}

/// A request of the caller's to be called back that nobody has answered yet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OpenCallback {
    /// When it was left.
    created_at: DateTime<Utc>,
    /// `voicemail`, `callback` (a number left in the menu) or `abandoned`.
    kind: &'static str,
    /// The number to call.
    number: Option<String>,
}

/// What the desk shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeskView {
    /// The server's time.
    at: DateTime<Utc>,
    /// The agent's seat now (state, and the call on the phone).
    seat: Option<Seat>,
    /// The caller's earlier calls, newest first, while a call is on the phone.
    history: Vec<Earlier>,
    /// The caller's open callbacks, while a call is on the phone.
    callbacks: Vec<OpenCallback>,
    /// The name of the caller's city as the centres say it (`洛阳`).
    city: Option<String>,
    /// The categories of a summary.
    categories: Vec<String>,
    /// The departments a case is handed on to.
    departments: Vec<String>,
}

/// The agent number of an agent's session.
fn own_agent(session: &Session) -> Option<&str> {
    match session.role {
        Role::Agent => session.agent.as_deref(),
        _ => None,
    }
}

impl Console {
    /// The seat of agent `id` on the board.
    fn seat_of(&self, id: &str) -> Option<Seat> {
        let board = self.board.borrow();
        board
            .regions
            .iter()
            .flat_map(|r| r.seats.iter())
            .find(|s| s.id == id)
            .cloned()
    }

    /// The name of the region of the call on `seat`'s phone.
    fn city_of(&self, seat: Option<&Seat>) -> Option<String> {
        let region = seat?.call.as_ref()?.region.clone()?;
        let board = self.board.borrow();
        let r = board.regions.iter().find(|r| r.region == region)?;
        Some(r.name.clone())
    }

    /// The earlier calls of `number`, with their summaries (not `current`), and its open
    /// callbacks.
    async fn past(&self, number: &str, current: &str) -> (Vec<Earlier>, Vec<OpenCallback>) {
        let (db, number, current) = (self.db.clone(), number.to_string(), current.to_string());
        let read = tokio::task::spawn_blocking(move || {
            let since = Utc::now() - chrono::Duration::days(HISTORY_DAYS);
            let calls = hotline_record::list_calls_of_caller(&db, &number, since, HISTORY_CALLS)?;
            let calls: Vec<_> = calls
                .into_iter()
                .filter(|c| c.call_id.as_str() != current)
                .collect();
            let ids: Vec<CallId> = calls.iter().map(|c| c.call_id.clone()).collect();
            let notes = hotline_record::list_call_notes(&db, &ids)?;
            let earlier = calls
                .into_iter()
                .map(|c| Earlier {
                    notes: notes
                        .iter()
                        .filter(|n| n.call_id == c.call_id)
                        .cloned()
                        .collect(),
                    call_id: c.call_id.to_string(),
                    offered_at: c.offered_at,
                    agent: c.agent.map(|a| a.to_string()),
                    outcome: c.outcome.as_str().to_string(),
                })
                .collect();
            let callbacks = hotline_record::list_callbacks(&db)?
                .into_iter()
                .filter(|cb| cb.state == "open")
                .filter(|cb| cb.caller == number || cb.number.as_deref() == Some(number.as_str()))
                .map(|cb| OpenCallback {
                    created_at: cb.created_at,
                    kind: cb.kind.as_str(),
                    number: cb.number,
                })
                .collect();
            Ok::<_, hotline_record::RecordError>((earlier, callbacks))
        })
        .await;
        match read {
            Ok(Ok(past)) => past,
            _ => Default::default(),
        }
    }

    /// The desk of agent `id` now; the history read again only when the call changed.
    async fn desk(&self, id: &str, last: Option<&DeskView>) -> DeskView {
        let mut seat = self.seat_of(id);
        let (mut history, mut callbacks) = (Vec::new(), Vec::new());
        if let Some(call) = seat.as_mut().and_then(|s| s.call.as_mut()) {
            let same = last
                .and_then(|l| l.seat.as_ref())
                .and_then(|s| s.call.as_ref())
                .is_some_and(|c| c.call_id == call.call_id);
            (history, callbacks) = match (same, last) {
                (true, Some(l)) => (l.history.clone(), l.callbacks.clone()),
                _ => self.past(&call.caller, &call.call_id).await,
            };
            let confidential = crate::confidential(call.skill.as_deref());
            if confidential {
                call.caller = hotline_report::mask_number(&call.caller);
                history.clear();
                callbacks.clear();
            }
        }
        DeskView {
            at: Utc::now(),
            city: self.city_of(seat.as_ref()),
            seat,
            history,
            callbacks,
            categories: self.plan.get().categories.clone(),
            departments: self.plan.get().departments.clone(),
        }
    }
}

/// `GET /api/desk/live`: the agent's desk as server-sent events, on every change.
pub async fn live(State(console): State<Arc<Console>>, SignedIn(session): SignedIn) -> Response {
    let Some(agent) = own_agent(&session).map(str::to_string) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(4);
    let mut changes = console.board.clone();
    tokio::spawn(async move {
        let mut last: Option<DeskView> = None;
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            if console.session(&session.token).await.is_none() {
                return;
            }
            let view = console.desk(&agent, last.as_ref()).await;
            let changed = last
                .as_ref()
                .is_none_or(|l| (&l.seat, &l.history) != (&view.seat, &view.history));
            if changed {
                let data = serde_json::to_string(&view).unwrap_or_default();
                if tx
                    .send(Ok(Event::default().event("desk").data(data)))
                    .await
                    .is_err()
                {
                    return;
                }
                last = Some(view);
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = tick.tick() => {}
                _ = tx.closed() => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// The agent's own state change.
#[derive(Debug, Deserialize)]
pub struct StateForm {
    csrf: String,
    /// `ready`, `pause` or `logout`.
    action: String,
    /// Why, for `pause`.
    reason: Option<String>,
}

/// `POST /api/desk/state`: the agent changes their own state, as `*23`/`*24N`/`*22` do.
pub async fn state(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Form(form): Form<StateForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    let Some(id) = own_agent(&session).map(str::to_string) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let action = match form.action.as_str() {
        "login" => AgentAction::Login,
        "ready" => AgentAction::Ready,
        "logout" => AgentAction::Logout,
        "pause" => match form.reason.as_deref().unwrap_or("break").parse() {
            Ok(reason) => AgentAction::Pause { reason },
            Err(_) => return (StatusCode::BAD_REQUEST, "unknown reason").into_response(),
        },
        _ => return (StatusCode::BAD_REQUEST, "login, ready, pause or logout").into_response(),
    };
    console.order(&session, Command::Agent { id, action }).await
}

/// A call's summary from the desk.
#[derive(Debug, Deserialize)]
pub struct SummaryForm {
    csrf: String,
    /// The call.
    call: String,
    /// One of the plan's summary categories.
    category: String,
    /// What was asked and answered.
    note: String,
}

/// `POST /api/desk/summary`: the agent files the summary of a call they answered.
pub async fn summary(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Form(form): Form<SummaryForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    let Some(agent) = own_agent(&session).map(str::to_string) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let note = form.note.trim().to_string();
    if !console.plan.get().categories.contains(&form.category)
        || note.is_empty()
        || note.len() > 4000
    {
        return (StatusCode::BAD_REQUEST, "a category of the list and a note").into_response();
    }
    let Ok(call_id) = form.call.parse::<CallId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Only a call this agent answered.
    let Some(call) = crate::calls::find(&console.db, &call_id).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if call.agent.as_deref() != Some(agent.as_str()) {
        return (StatusCode::NOT_FOUND, "not a call you answered").into_response();
    }
    let row = CallNote {
        call_id,
        agent,
        category: form.category,
        note,
        at: Utc::now(),
    };
    let db = console.db.clone();
    let saved =
        tokio::task::spawn_blocking(move || hotline_record::save_call_note(&db, &row)).await;
    match saved {
        Ok(Ok(())) => Json(serde_json::json!({ "ok": true })).into_response(),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the summary could not be stored",
        )
            .into_response(),
    }
}
