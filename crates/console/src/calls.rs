//! Calls and recordings: the search (`/api/calls`, cut to the user's scope), one call with
//! its legs (`/api/calls/{id}`), and its recording played in the browser
//! (`/recordings/{id}`): served with HTTP range requests so that a long call seeks, refused
//! outside the user's scope, and every play written to the spot checks' audit chain.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use hotline_record::qa::{Action, NewAudit};
use hotline_record::{CallId, CallLeg, CallRecord, Role};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

use crate::auth::SignedIn;
use crate::sessions::Session;
use crate::Console;

/// Calls listed at most per search.
const MAX_LISTED: usize = 500;

/// What the search asks for; every field narrows it.
#[derive(Debug, Default, Deserialize)]
pub struct Search {
    /// Part of the caller's number.
    number: Option<String>,
    /// The answering agent.
    agent: Option<String>,
    /// The region.
    region: Option<String>,
    /// The outcome (`answered`, `abandoned`, …).
    outcome: Option<String>,
    /// The Beijing day (`2026-12-05`); today when absent.
    date: Option<String>,
    /// Offered at or after this Beijing time of the day (`09:30`).
    from: Option<String>,
    /// Offered before this Beijing time of the day (`11:00`).
    to: Option<String>,
}

/// One call as the console shows it.
#[derive(Debug, Serialize)]
pub struct CallView {
    /// The record, with the caller's number masked when confidential.
    #[serde(flatten)]
    record: CallRecord,
    /// Whether the caller's number is masked.
    masked: bool,
    /// Whether there is a recording to play.
    playable: bool,
}

/// One call with its legs.
#[derive(Debug, Serialize)]
pub struct CallDetail {
    /// The call.
    call: CallView,
    /// Everyone who answered it, in order.
    legs: Vec<CallLeg>,
    /// Its agent's states from [`AROUND`] before it was offered to as long after it ended:
    /// their state when the window opens, then each change.
    agent_states: Vec<hotline_record::AgentStateChange>,
}

/// How far before and after a call its agent's states are shown.
const AROUND: Duration = Duration::minutes(10);

/// Whether the role searches calls.
fn reads_calls(session: &Session) -> bool {
    matches!(
        session.role,
        Role::Supervisor | Role::Inspector | Role::Admin
    )
}

/// Whether `session` may see `call`: its region is in their scope.
fn in_scope(session: &Session, call: &CallRecord) -> bool {
    reads_calls(session)
        && session
            .scope
            .sees(call.region.as_deref().unwrap_or_default())
}

fn view(record: CallRecord) -> CallView {
    view_as(record, false)
}

/// The call for the page; a confidential caller's number masked unless `unmasked`.
fn view_as(mut record: CallRecord, unmasked: bool) -> CallView {
    let masked = confidential(&record) && !unmasked;
    if masked {
        record.caller_raw = hotline_report::mask_number(&record.caller_raw);
        record.caller_normalized = record
            .caller_normalized
            .as_deref()
            .map(hotline_report::mask_number);
    }
    let playable = record.recording_path.is_some();
    // The path on the switch's disk is nobody's business in a browser.
    record.recording_path = None;
    CallView {
        record,
        masked,
        playable,
    }
}

/// The Beijing day `[start, end)` of `date`, or of today.
fn day(date: Option<&str>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let beijing = hotline_report::beijing();
    let day = match date.filter(|d| !d.is_empty()) {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
        None => Utc::now().with_timezone(&beijing).date_naive(),
    };
    let start = beijing
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()?
        .with_timezone(&Utc);
    Some((start, start + Duration::days(1)))
}

/// The time `hhmm` (Beijing) of the day starting at `midnight`; `or` when not given.
fn at_time(
    midnight: DateTime<Utc>,
    hhmm: Option<&str>,
    or: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match hhmm.filter(|t| !t.is_empty()) {
        None => Some(or),
        Some(t) => {
            let time = chrono::NaiveTime::parse_from_str(t, "%H:%M").ok()?;
            Some(midnight + (time - chrono::NaiveTime::MIN))
        }
    }
}

fn confidential(call: &CallRecord) -> bool {
    crate::confidential(call.skill.as_deref())
}

fn matches(call: &CallRecord, s: &Search) -> bool {
    let has = |want: &Option<String>, got: Option<&str>| {
        want.as_deref()
            .filter(|w| !w.is_empty())
            .is_none_or(|w| got == Some(w))
    };
    let number = s
        .number
        .as_deref()
        .filter(|n| !n.is_empty())
        // A confidential caller is never found by their number: searches would unmask it.
        .is_none_or(|n| {
            !confidential(call)
                && (call.caller_raw.contains(n)
                    || call
                        .caller_normalized
                        .as_deref()
                        .is_some_and(|c| c.contains(n)))
        });
    number
        && has(&s.agent, call.agent.as_deref())
        && has(&s.region, call.region.as_deref())
        && has(&s.outcome, Some(call.outcome.as_str()))
}

/// `GET /api/calls`: the calls of a day matching the search, newest first, in scope.
pub async fn search(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Query(s): Query<Search>,
) -> Response {
    if !reads_calls(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Some((from, to)) = day(s.date.as_deref()) else {
        return (StatusCode::BAD_REQUEST, "date: YYYY-MM-DD").into_response();
    };
    let (Some(from), Some(to)) = (
        at_time(from, s.from.as_deref(), from),
        at_time(from, s.to.as_deref(), to),
    ) else {
        return (StatusCode::BAD_REQUEST, "from, to: HH:MM").into_response();
    };
    let db = console.db.clone();
    let read =
        tokio::task::spawn_blocking(move || hotline_record::list_calls_between(&db, from, to))
            .await;
    let Ok(Ok(mut calls)) = read else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the call store could not be read",
        )
            .into_response();
    };
    calls.retain(|c| in_scope(&session, c) && matches(c, &s));
    calls.sort_by_key(|c| std::cmp::Reverse(c.offered_at));
    calls.truncate(MAX_LISTED);
    Json(calls.into_iter().map(view).collect::<Vec<_>>()).into_response()
}

/// The call `id` from the store, if it is there (read off the async threads).
pub(crate) async fn find(db: &FsPath, id: &CallId) -> Option<CallRecord> {
    let (db, id) = (db.to_path_buf(), id.clone());
    tokio::task::spawn_blocking(move || hotline_record::find_call(&db, &id).ok().flatten())
        .await
        .ok()
        .flatten()
}

/// `GET /api/calls/{id}`: one call and its legs; 404 for a call not there or not in scope,
/// so a supervisor learns nothing of other cities' calls.
pub async fn detail(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
) -> Response {
    if !reads_calls(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(id) = id.parse::<CallId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(call) = find(&console.db, &id)
        .await
        .filter(|c| in_scope(&session, c))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (db, agent) = (console.db.clone(), call.agent.clone());
    let (from, to) = (
        call.offered_at - AROUND,
        call.ended_at.unwrap_or_else(Utc::now) + AROUND,
    );
    let (legs, agent_states) = tokio::task::spawn_blocking(move || {
        let legs = hotline_record::list_legs(&db, &id).unwrap_or_default();
        let states = match agent {
            Some(agent) => hotline_record::list_agent_states_between(&db, from, to)
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.agent.as_str() == agent)
                .collect(),
            None => Vec::new(),
        };
        (legs, states)
    })
    .await
    .unwrap_or_default();
    let unmasked = session.cleared && confidential(&call) && console.unmask(&session, &call).await;
    Json(CallDetail {
        call: view_as(call, unmasked),
        legs,
        agent_states,
    })
    .into_response()
}

/// `GET /recordings/{id}`: the call's WAV, with range requests. Refused (403, logged) for a
/// call outside the user's scope; each play (a request from the first byte) is audited.
pub async fn recording(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    request: Request<Body>,
) -> Response {
    if !reads_calls(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let Ok(id) = id.trim_end_matches(".wav").parse::<CallId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(call) = find(&console.db, &id).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !in_scope(&session, &call) {
        tracing::warn!(user = %session.user, call = %id, region = ?call.region, "recording refused: outside the user's scope");
        return (
            StatusCode::FORBIDDEN,
            "this recording is outside your regions",
        )
            .into_response();
    }
    let Some(path) = call.recording_path.clone() else {
        return (StatusCode::NOT_FOUND, "this call has no recording").into_response();
    };
    if starts_a_play(&request) || !console.listening.plays.lately(&session.user, &id) {
        let audit = NewAudit {
            at: Utc::now(),
            actor: session.user.clone(),
            action: Action::Play,
            call_id: Some(id.clone()),
            subject: "recording".to_string(),
            reason: "played in the web console".to_string(),
            detail: format!("web console, role {}", session.role.as_str()),
        };
        if !console.audit(audit).await {
            // Nothing is played that the audit does not show.
            tracing::warn!(call = %id, "recording not played: its audit row could not be written");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the audit could not be written",
            )
                .into_response();
        }
        console.listening.plays.note(&session.user, &id);
        tracing::info!(user = %session.user, call = %id, "recording played in the console");
    }
    match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(response) => {
            let mut response = response.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("audio/wav"),
            );
            response
        }
        Err(e) => match e {},
    }
}

/// How long after an audited play the same user's requests for the same recording are
/// taken as seeking within it; any other first request is audited, whatever its range.
const LISTENING: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// What each user had audited for each call, and when: within [`LISTENING`] it is not
/// audited again.
#[derive(Debug, Default)]
pub struct AuditedLately(
    std::sync::Mutex<std::collections::HashMap<(String, CallId), std::time::Instant>>,
);

impl AuditedLately {
    /// Whether `user` had `call` audited within [`LISTENING`].
    fn lately(&self, user: &str, call: &CallId) -> bool {
        let now = std::time::Instant::now();
        let mut seen = self.lock();
        seen.retain(|_, at| now.saturating_duration_since(*at) < LISTENING);
        seen.contains_key(&(user.to_string(), call.clone()))
    }

    /// Notes that `user` had `call` audited now.
    fn note(&self, user: &str, call: &CallId) {
        self.lock()
            .insert((user.to_string(), call.clone()), std::time::Instant::now());
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<(String, CallId), std::time::Instant>>
    {
        // Nothing panics while holding it; a map of times stays whole if something did.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Who had which recording, and which confidential number, audited when.
#[derive(Debug, Default)]
pub struct Listening {
    /// Recordings played.
    plays: AuditedLately,
    /// Confidential numbers shown unmasked.
    unmasked: AuditedLately,
}

impl Console {
    /// Whether a cleared user may be shown `call`'s confidential number: yes once it is in
    /// the audit (a row per user and call each [`LISTENING`]); no if it could not be written.
    async fn unmask(&self, session: &Session, call: &CallRecord) -> bool {
        if self.listening.unmasked.lately(&session.user, &call.call_id) {
            return true;
        }
        let audit = NewAudit {
            at: Utc::now(),
            actor: session.user.clone(),
            action: Action::Unmask,
            call_id: Some(call.call_id.clone()),
            subject: "caller number".to_string(),
            reason: "shown to a cleared user in the web console".to_string(),
            detail: format!("role {}", session.role.as_str()),
        };
        if !self.audit(audit).await {
            tracing::warn!(user = %session.user, call = %call.call_id, "confidential number kept masked: its audit row could not be written");
            return false;
        }
        tracing::info!(user = %session.user, call = %call.call_id, "confidential number shown to a cleared user");
        self.listening.unmasked.note(&session.user, &call.call_id);
        true
    }
}

/// Whether a request for the recording starts a play (from the first byte) rather than
/// seeking within one.
fn starts_a_play(request: &Request<Body>) -> bool {
    match request
        .headers()
        .get(header::RANGE)
        .and_then(|r| r.to_str().ok())
    {
        None => true,
        Some(range) => range.trim().starts_with("bytes=0-"),
    }
}
