//! The voice content page (语音内容维护): the director hears each prompt of the menu with
//! its text, replaces one by uploading a WAV or MP3 (converted to 8 kHz mono) or by
//! recording it from their own phone (the switch rings it), and restores an earlier
//! version. Every change is written to the audit chain and goes live with a reload of the
//! dialplan. Admins only.

pub mod convert;
pub mod library;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::Utc;
use hotline_b2bua::command::Command;
use hotline_record::qa::{Action, NewAudit};
use hotline_record::Role;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

use crate::auth::{same_token, SignedIn};
use crate::operate::refuse;
use crate::sessions::Session;
use crate::Console;
pub use library::PromptLibrary;

/// The largest upload taken: a five-minute 44.1 kHz stereo WAV is about 50 MB, but
/// prompts are seconds long; 16 MiB covers any prompt in any common format.
pub const MAX_UPLOAD: usize = 16 * 1024 * 1024;

/// Whether the user maintains the voice content.
fn maintains(session: &Session) -> bool {
    session.role == Role::Admin
}

/// The prompts and where they are, for the page.
#[derive(Debug, Serialize)]
pub struct VoiceView {
    /// Every prompt the plan plays.
    pub prompts: Vec<library::PromptEntry>,
    /// Whether the user has a phone of the plan to record from.
    pub phone: Option<String>,
}

/// `GET /api/voice`.
pub async fn list(State(console): State<Arc<Console>>, SignedIn(session): SignedIn) -> Response {
    let Some(lib) = console
        .plan
        .get()
        .voice
        .clone()
        .filter(|_| maintains(&session))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    match tokio::task::spawn_blocking(move || lib.list()).await {
        Ok(prompts) => Json(VoiceView {
            prompts,
            phone: session.agent.clone(),
        })
        .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Which version to play.
#[derive(Debug, Deserialize)]
pub struct VersionQuery {
    /// An earlier version's id; the current prompt without one.
    version: Option<String>,
}

/// `GET /api/voice/{name}/audio[?version=ID]`: the prompt as the switch plays it.
pub async fn audio(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
    request: Request<Body>,
) -> Response {
    let Some(lib) = console
        .plan
        .get()
        .voice
        .clone()
        .filter(|_| maintains(&session))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    if !lib.knows(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = match q.version.as_deref() {
        None => lib.current(&name),
        Some(id) => match lib.version(&name, id) {
            Some(path) => path,
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(response) => {
            let mut response = response.into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/wav"));
            response
        }
        Err(e) => match e {},
    }
}

/// The header an upload carries its CSRF token in (the body is the file).
const CSRF_HEADER: &str = "x-csrf-token";

/// `POST /api/voice/{name}`: the body is a WAV or MP3 that becomes the prompt.
pub async fn upload(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let csrf = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let lib = match console.may_change(&session, csrf, &name) {
        Ok(lib) => lib,
        Err(refused) => return refused,
    };
    let size = body.len();
    let (n, now) = (name.clone(), Utc::now());
    let changed = tokio::task::spawn_blocking(move || {
        let pcm = convert::to_prompt(body.to_vec()).map_err(|e| e.to_string())?;
        lib.install(&n, &pcm, now).map_err(|e| {
            tracing::warn!(prompt = %n, error = %e, "uploaded prompt not installed");
            "the prompt could not be written".to_string()
        })
    })
    .await;
    let change = match changed {
        Ok(Ok(change)) => change,
        Ok(Err(why)) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &why),
        Err(_) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, "conversion failed"),
    };
    let detail = format!(
        "uploaded {size} bytes, now {:.1} s; previous kept as {}",
        change.samples as f64 / 8_000.0,
        change.kept_as.as_deref().unwrap_or("(none)")
    );
    console.changed(&session, &name, detail).await
}

/// A restore.
#[derive(Debug, Deserialize)]
pub struct RestoreForm {
    csrf: String,
    /// The version to bring back.
    version: String,
}

/// `POST /api/voice/{name}/restore`.
pub async fn restore(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    Form(form): Form<RestoreForm>,
) -> Response {
    let lib = match console.may_change(&session, &form.csrf, &name) {
        Ok(lib) => lib,
        Err(refused) => return refused,
    };
    let (n, version, now) = (name.clone(), form.version.clone(), Utc::now());
    let restored = tokio::task::spawn_blocking(move || lib.restore(&n, &version, now)).await;
    let change = match restored {
        Ok(Ok(change)) => change,
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return refuse(StatusCode::NOT_FOUND, "no such version")
        }
        _ => {
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the prompt could not be written",
            )
        }
    };
    let detail = format!(
        "restored version {}; previous kept as {}",
        form.version,
        change.kept_as.as_deref().unwrap_or("(none)")
    );
    console.changed(&session, &name, detail).await
}

/// A form with only its token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    csrf: String,
}

/// `POST /api/voice/{name}/record`: the switch rings the user's phone and records the
/// prompt from it; the new version appears in the list when they finish (`#` or hang up).
pub async fn record(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    Form(form): Form<TokenForm>,
) -> Response {
    if let Err(refused) = console.may_change(&session, &form.csrf, &name) {
        return refused;
    }
    let Some(phone) = session.agent.clone() else {
        return refuse(
            StatusCode::CONFLICT,
            "your user has no phone of the plan: hotline user add … --agent NUMBER",
        );
    };
    tracing::info!(user = %session.user, prompt = %name, %phone, "prompt recording asked from the console");
    let command = Command::RecordPrompt {
        prompt: name,
        phone,
    };
    console.order(&session, command).await
}

impl Console {
    /// The library, if `session` may change prompt `name` with `csrf`.
    fn may_change(
        &self,
        session: &Session,
        csrf: &str,
        name: &str,
    ) -> Result<PromptLibrary, Response> {
        if !same_token(&session.csrf, csrf) {
            return Err(refuse(StatusCode::FORBIDDEN, "CSRF token missing or wrong"));
        }
        let Some(lib) = self.plan.get().voice.clone().filter(|_| maintains(session)) else {
            return Err(refuse(StatusCode::FORBIDDEN, "admins only"));
        };
        if !lib.knows(name) {
            return Err(refuse(StatusCode::NOT_FOUND, "no such prompt"));
        }
        Ok(lib)
    }

    /// After prompt `name` changed on disk: the audit row, then the reload that makes it
    /// live; the answer says both.
    async fn changed(&self, session: &Session, name: &str, detail: String) -> Response {
        let audit = NewAudit {
            at: Utc::now(),
            actor: session.user.clone(),
            action: Action::Voice,
            call_id: None,
            subject: format!("prompt {name}"),
            reason: "changed in the web console".to_string(),
            detail: detail.clone(),
        };
        tracing::info!(user = %session.user, prompt = name, %detail, "voice prompt changed");
        if !self.audit(audit).await {
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the prompt changed but the audit could not be written: not reloaded",
            );
        }
        match self.ask_switch(session, Command::Reload).await {
            Ok(said) => Json(crate::operate::Outcome {
                ok: true,
                message: format!("{detail}; {said}"),
            })
            .into_response(),
            Err((status, why)) => refuse(status, &format!("{detail}; not live: {why}")),
        }
    }

    /// Appends `audit` to the chain; false if it could not be written.
    pub(crate) async fn audit(&self, audit: NewAudit) -> bool {
        let db = self.db.clone();
        let written = tokio::task::spawn_blocking(move || {
            hotline_record::qa::record_audit(&db, &audit, &crate::audit::seal)
        })
        .await;
        matches!(written, Ok(Ok(_)))
    }
}
