//! Spot checks (抽检) in the console: the sampled calls of the draws in force with their
//! latest review, a score and note stored for each (in the audit chain, as `hotline qa
//! review` stores it), and the coverage of each office's week and the province's month
//! against the 20% and 10% rules. Inspectors see every office; an office supervisor their
//! own offices' weeks. Draws stay with `hotline qa draw` (a period is drawn once it is over).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{DateTime, Duration, Utc};
use hotline_record::qa::{self, NewReview, Scope as QaScope};
use hotline_record::{CallId, CallRecord, Role};
use hotline_report::qa::caller_shown;
use hotline_report::qa::status::{coverage, current_draws, Coverage, Inputs};
use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::auth::{same_token, SignedIn};
use crate::sessions::{Scope, Session};
use crate::Console;

/// How far back the coverage looks: the last five weeks and their months.
const LOOK_BACK: i64 = 35;

/// One sampled call as the page lists it.
#[derive(Debug, Serialize)]
pub struct SampleView {
    /// The draw it is in.
    draw: i64,
    /// `luoyang` or `central`.
    office: String,
    /// The period (`2026-W48`).
    period: String,
    /// The call.
    call_id: String,
    /// When it was offered.
    offered_at: Option<DateTime<Utc>>,
    /// Who answered.
    agent: String,
    /// The caller, masked when confidential.
    caller: Option<String>,
    /// The latest review's score.
    score: Option<u8>,
    /// Its reviewer.
    reviewer: Option<String>,
    /// Its note.
    note: Option<String>,
}

/// The QA page's data.
#[derive(Debug, Serialize)]
pub struct QaView {
    /// The sampled calls the user reviews.
    samples: Vec<SampleView>,
    /// The checks of their offices (and the province's months for inspectors).
    coverage: Vec<Coverage>,
}

/// Whether the role takes part in the spot checks.
fn reviews(session: &Session) -> bool {
    matches!(
        session.role,
        Role::Supervisor | Role::Inspector | Role::Admin
    )
}

/// Whether `session` sees the check of `scope`.
fn sees(session: &Session, scope: &QaScope) -> bool {
    match scope {
        QaScope::Central => session.scope == Scope::All,
        QaScope::Office(office) => session.scope.sees(office),
    }
}

/// The spot checks' rows, read off the async threads.
struct Read {
    calls: Vec<CallRecord>,
    draws: Vec<qa::Draw>,
    samples: Vec<qa::Sample>,
    reviews: Vec<qa::Review>,
}

impl Console {
    async fn read_qa(&self, since: DateTime<Utc>) -> Option<Read> {
        let db = self.db.clone();
        let read =
            tokio::task::spawn_blocking(move || -> Result<Read, hotline_record::RecordError> {
                Ok(Read {
                    calls: hotline_record::list_calls(&db, Some(since))?,
                    draws: qa::list_draws(&db)?,
                    samples: qa::list_samples(&db)?,
                    reviews: qa::list_reviews(&db)?,
                })
            })
            .await;
        match read {
            Ok(Ok(r)) => Some(r),
            _ => None,
        }
    }

    /// The office of a call for the checks: the answering agent's region on the board, or
    /// the call's own region.
    fn office_of(&self) -> impl Fn(&CallRecord, &str) -> String {
        let board = self.board.borrow();
        let seats: HashMap<String, String> = board
            .regions
            .iter()
            .flat_map(|r| r.seats.iter().map(|s| (s.id.clone(), r.region.clone())))
            .collect();
        move |call: &CallRecord, agent: &str| {
            seats
                .get(agent)
                .cloned()
                .or_else(|| call.region.clone())
                .unwrap_or_else(|| "-".to_string())
        }
    }
}

/// `GET /api/qa`.
pub async fn overview(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
) -> Response {
    if !reviews(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let now = Utc::now();
    // Weeks start before the range does, and samples may be older: read further back.
    let since = now - Duration::days(LOOK_BACK + 40);
    let Some(read) = console.read_qa(since).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the call store could not be read",
        )
            .into_response();
    };
    let calls: HashMap<&CallId, &CallRecord> = read.calls.iter().map(|c| (&c.call_id, c)).collect();
    let latest: HashMap<&CallId, &qa::Review> =
        read.reviews.iter().map(|r| (&r.call_id, r)).collect();
    let confidential: Vec<String> = crate::CONFIDENTIAL_SKILLS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut samples = Vec::new();
    for ((scope, period), draw) in current_draws(&read.draws) {
        if !sees(&session, &scope) {
            continue;
        }
        for s in read.samples.iter().filter(|s| s.draw_id == draw.id) {
            let call = calls.get(&s.call_id);
            let review = latest.get(&s.call_id);
            samples.push(SampleView {
                draw: draw.id,
                office: match &scope {
                    QaScope::Central => "central".to_string(),
                    QaScope::Office(o) => o.clone(),
                },
                period: period.clone(),
                call_id: s.call_id.to_string(),
                offered_at: call.map(|c| c.offered_at),
                agent: s.agent.clone(),
                caller: call.map(|c| caller_shown(c, &confidential, false)),
                score: review.map(|r| r.score),
                reviewer: review.map(|r| r.reviewer.clone()),
                note: review.map(|r| r.note.clone()),
            });
        }
    }
    let office_of = console.office_of();
    let range = hotline_report::Period::new(now - Duration::days(LOOK_BACK), now);
    let coverage = match range {
        Ok(range) => {
            let inputs = Inputs {
                calls: &read.calls,
                draws: &read.draws,
                samples: &read.samples,
                reviews: &read.reviews,
            };
            coverage(inputs, &office_of, &range, None, now)
                .into_iter()
                .filter(|c| sees(&session, &c.scope))
                .collect()
        }
        Err(_) => Vec::new(),
    };
    Json(QaView { samples, coverage }).into_response()
}

/// A review from the page.
#[derive(Debug, Deserialize)]
pub struct ReviewForm {
    csrf: String,
    /// The sampled call.
    call: String,
    /// 0 to 100.
    score: u8,
    /// What the reviewer found.
    note: String,
}

/// `POST /api/qa/reviews`: stores a review of a call sampled in a check the user sees.
pub async fn review(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Form(form): Form<ReviewForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    if !reviews(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let note = form.note.trim().to_string();
    if note.is_empty() || form.score > 100 {
        return (StatusCode::BAD_REQUEST, "a score of 0 to 100 and a note").into_response();
    }
    let Ok(id) = form.call.parse::<CallId>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(read) = console.read_qa(Utc::now() - Duration::days(1)).await else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the call store could not be read",
        )
            .into_response();
    };
    let in_view = current_draws(&read.draws).iter().any(|((scope, _), d)| {
        sees(&session, scope)
            && read
                .samples
                .iter()
                .any(|s| s.draw_id == d.id && s.call_id == id)
    });
    if !in_view {
        return (StatusCode::NOT_FOUND, "no such sampled call in your checks").into_response();
    }
    let sha256 = |bytes: &[u8]| -> [u8; 32] { sha2::Sha256::digest(bytes).into() };
    let new = NewReview {
        call_id: id.clone(),
        score: form.score,
        detail: hotline_report::qa::chain::review_detail(id.as_str(), form.score, &note, sha256),
        note,
        reviewer: session.user.clone(),
        reviewed_at: Utc::now(),
    };
    let db = console.db.clone();
    let stored =
        tokio::task::spawn_blocking(move || qa::record_review(&db, &new, &crate::audit::seal))
            .await;
    match stored {
        Ok(Ok(r)) => {
            tracing::info!(user = %session.user, call = %id, score = r.score, "spot check reviewed in the console");
            Json(serde_json::json!({ "ok": true, "review": r.id })).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the review could not be stored",
        )
            .into_response(),
    }
}
