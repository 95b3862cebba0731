//! What a supervisor does from the console, sent to the switch as the CLI's typed commands:
//! an agent logged in or out, made ready or paused with a reason; an agent's call listened
//! to, whispered into or barged (the switch rings the supervisor's own phone, as
//! `hotline monitor` does, checks the plan's scope and audits it); the service hours forced.
//! Each only within the user's regions and with the page's CSRF token.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use hotline_b2bua::command::{AgentAction, Command, HoursSetting, MonitorMode, Reply};
use hotline_record::Role;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::auth::{same_token, SignedIn};
use crate::sessions::{Scope, Session};
use crate::Console;

/// How long a command waits for the switch's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(10);

/// A command for the switch from a console user, with where its answer goes.
#[derive(Debug)]
pub struct Order {
    /// What to do.
    pub command: Command,
    /// Who asked (the console user), for the switch's audit.
    pub actor: String,
    /// The switch's answer.
    pub reply: oneshot::Sender<Result<Reply, String>>,
}

/// Where the console's orders go: the switch's control channel.
pub type Orders = mpsc::Sender<Order>;

/// The answer a page shows.
#[derive(Debug, Serialize)]
pub struct Outcome {
    /// Whether the switch did it.
    pub ok: bool,
    /// The switch's words.
    pub message: String,
}

/// An agent's state change.
#[derive(Debug, Deserialize)]
pub struct StateForm {
    csrf: String,
    /// `login`, `logout`, `ready` or `pause`.
    action: String,
    /// Why, for `pause`.
    reason: Option<String>,
}

/// A monitoring request.
#[derive(Debug, Deserialize)]
pub struct MonitorForm {
    csrf: String,
    /// `listen`, `whisper` or `barge`.
    mode: String,
}

/// Forced service hours.
#[derive(Debug, Deserialize)]
pub struct HoursForm {
    csrf: String,
    /// `open`, `closed` or `auto`.
    hours: String,
}

pub(crate) fn refuse(status: StatusCode, message: &str) -> Response {
    let body = Outcome {
        ok: false,
        message: message.to_string(),
    };
    (status, Json(body)).into_response()
}

/// Whether the role operates the centre.
fn operates(session: &Session) -> bool {
    matches!(session.role, Role::Supervisor | Role::Admin)
}

impl Console {
    /// The region of agent `id` on the switch's board.
    fn region_of(&self, id: &str) -> Option<String> {
        let board = self.board.borrow();
        board
            .regions
            .iter()
            .find(|r| r.seats.iter().any(|s| s.id == id))
            .map(|r| r.region.clone())
    }

    /// Sends `command` to the switch as `session`'s user and waits for its answer.
    pub(crate) async fn order(&self, session: &Session, command: Command) -> Response {
        match self.ask_switch(session, command).await {
            Ok(message) => Json(Outcome { ok: true, message }).into_response(),
            Err((status, why)) => refuse(status, &why),
        }
    }

    /// The switch's answer to `command` from `session`'s user, or the status and words of
    /// its refusal.
    pub(crate) async fn ask_switch(
        &self,
        session: &Session,
        command: Command,
    ) -> Result<String, (StatusCode, String)> {
        let unavailable = |why: &str| (StatusCode::SERVICE_UNAVAILABLE, why.to_string());
        let Some(orders) = &self.orders else {
            return Err(unavailable("no switch to send it to"));
        };
        let (reply, answer) = oneshot::channel();
        let order = Order {
            command,
            actor: session.user.clone(),
            reply,
        };
        if orders.send(order).await.is_err() {
            return Err(unavailable("the switch is stopping"));
        }
        match tokio::time::timeout(ANSWER_WITHIN, answer).await {
            Ok(Ok(Ok(reply))) => Ok(reply.text()),
            Ok(Ok(Err(why))) => Err((StatusCode::CONFLICT, why)),
            _ => Err((
                StatusCode::GATEWAY_TIMEOUT,
                "the switch did not answer".to_string(),
            )),
        }
    }

    /// Checks the token and that `session` operates agent `id`'s region.
    fn may_operate(&self, session: &Session, csrf: &str, id: &str) -> Result<(), Response> {
        if !same_token(&session.csrf, csrf) {
            return Err(refuse(StatusCode::FORBIDDEN, "CSRF token missing or wrong"));
        }
        if !operates(session) {
            return Err(refuse(StatusCode::FORBIDDEN, "supervisors only"));
        }
        match self.region_of(id) {
            Some(region) if session.scope.sees(&region) => Ok(()),
            // Not theirs, or no such agent: the same answer.
            _ => Err(refuse(
                StatusCode::NOT_FOUND,
                "no such agent in your regions",
            )),
        }
    }
}

/// `POST /api/agents/{id}/state`.
pub async fn agent_state(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    if let Err(refused) = console.may_operate(&session, &form.csrf, &id) {
        return refused;
    }
    let action = match form.action.as_str() {
        "login" => AgentAction::Login,
        "logout" => AgentAction::Logout,
        "ready" => AgentAction::Ready,
        "pause" => match form.reason.as_deref().unwrap_or("break").parse() {
            Ok(reason) => AgentAction::Pause { reason },
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "unknown reason"),
        },
        _ => return refuse(StatusCode::BAD_REQUEST, "login, logout, ready or pause"),
    };
    tracing::info!(user = %session.user, agent = %id, ?action, "agent state changed from the console");
    console.order(&session, Command::Agent { id, action }).await
}

/// `POST /api/agents/{id}/monitor`: rings the user's own phone into the agent's call.
pub async fn monitor(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    Form(form): Form<MonitorForm>,
) -> Response {
    if let Err(refused) = console.may_operate(&session, &form.csrf, &id) {
        return refused;
    }
    let mode = match form.mode.as_str() {
        "listen" => MonitorMode::Listen,
        "whisper" => MonitorMode::Whisper,
        "barge" => MonitorMode::Barge,
        _ => return refuse(StatusCode::BAD_REQUEST, "listen, whisper or barge"),
    };
    let Some(supervisor) = session.agent.clone() else {
        return refuse(
            StatusCode::CONFLICT,
            "your user has no phone of the plan: hotline user add … --agent SUPERVISOR-NUMBER",
        );
    };
    let command = Command::Monitor {
        supervisor,
        agent: id,
        mode,
    };
    console.order(&session, command).await
}

/// `POST /api/hours`: the province's supervisors and admins force the hours.
pub async fn hours(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Form(form): Form<HoursForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return refuse(StatusCode::FORBIDDEN, "CSRF token missing or wrong");
    }
    if !operates(&session) || session.scope != Scope::All {
        return refuse(StatusCode::FORBIDDEN, "the province's supervisors only");
    }
    let hours = match form.hours.as_str() {
        "open" => HoursSetting::Open,
        "closed" => HoursSetting::Closed,
        "auto" => HoursSetting::Auto,
        _ => return refuse(StatusCode::BAD_REQUEST, "open, closed or auto"),
    };
    tracing::info!(user = %session.user, ?hours, "service hours forced from the console");
    console.order(&session, Command::Hours { hours }).await
}
