//! Signing in and out: the login form with its CSRF token (a double-submit cookie, since
//! there is no session yet), the password checked against its argon2 hash, the same brakes
//! on guessing as the SIP registrar's (counted per source and per user name, slowed then
//! blocked, each brake logged and stored), and the session cookie. [`SignedIn`] is the
//! extractor every other page and API goes through.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use hotline_b2bua::brakes::{Attempt, BrakeEvent, Verdict};
use hotline_record::SecurityEvent;
use serde::Deserialize;

use crate::pages;
use crate::sessions::{self, Session};
use crate::Console;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hotline_session";
/// The login form's CSRF cookie.
const LOGIN_COOKIE: &str = "hotline_login";
/// The longest user name and password looked at: longer ones are refused unchecked.
const MAX_USER: usize = 64;
const MAX_PASSWORD: usize = 1024;

/// The value of cookie `name` in the request's headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A cookie the browser keeps from scripts and sends to this site only.
fn set_cookie(name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let age = max_age.map_or(String::new(), |s| format!("; Max-Age={s}"));
    let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{age}");
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Compares two tokens in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// `GET /login`: the form, with a fresh CSRF token in it and in a cookie.
pub async fn login_form() -> Response {
    let csrf = sessions::token();
    let mut response = pages::login(&csrf, None, StatusCode::OK);
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, &csrf, None));
    response
}

/// What the login form sends.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    user: String,
    password: String,
    csrf: String,
}

/// `POST /login`: a session for the right password; the same refusal for an unknown user
/// and a wrong password; held back or refused by the brakes past their thresholds.
pub async fn login(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(expected, &form.csrf) {
        tracing::warn!(from = %peer, "login refused: missing or wrong CSRF token");
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    if form.user.len() > MAX_USER || form.password.len() > MAX_PASSWORD {
        return pages::login(
            &form.csrf,
            Some(pages::Refusal::Wrong),
            StatusCode::UNAUTHORIZED,
        );
    }
    // Sign-ins waiting for the brakes or for a password check: a flood is refused, so that
    // guesses in parallel neither outrun the brakes nor take the switch's memory.
    let Ok(_waiting) = console.sign_ins.waiting.try_acquire() else {
        tracing::warn!(from = %peer, "web login refused: too many sign-ins at once");
        return pages::login(
            &form.csrf,
            Some(pages::Refusal::Blocked),
            StatusCode::TOO_MANY_REQUESTS,
        );
    };
    let user = console.user(&form.user).await;
    let attempt = Attempt {
        source: peer.ip(),
        user: &form.user,
        known: user.is_some(),
        at_home: false,
    };
    let verdict = console.brakes().verdict(Instant::now(), attempt);
    match verdict {
        Verdict::Check => {}
        Verdict::Hold(until) => tokio::time::sleep_until(until.into()).await,
        Verdict::Blocked => {
            tracing::warn!(user = ?form.user, from = %peer, "web login refused unchecked: blocked");
            return pages::login(
                &form.csrf,
                Some(pages::Refusal::Blocked),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
    }
    let stored = user
        .as_ref()
        .map_or(crate::password::decoy(), |u| u.hash.as_str())
        .to_string();
    let password = form.password.clone();
    // A few checks at once (each takes tens of MiB): the others wait their turn.
    let Ok(_checking) = console.sign_ins.checking.acquire().await else {
        return pages::login(
            &form.csrf,
            Some(pages::Refusal::Blocked),
            StatusCode::TOO_MANY_REQUESTS,
        );
    };
    let right = tokio::task::spawn_blocking(move || crate::password::verify(&password, &stored))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| right) else {
        let events = console.brakes().failed(Instant::now(), attempt);
        console.note_brakes(events);
        tracing::info!(user = ?form.user, from = %peer, "web login refused: wrong user or password");
        return pages::login(
            &form.csrf,
            Some(pages::Refusal::Wrong),
            StatusCode::UNAUTHORIZED,
        );
    };
    console.brakes().succeeded(&user.id);
    let token = console.sessions.open(Instant::now(), &user);
    tracing::info!(user = %user.id, role = user.role.as_str(), from = %peer, "signed in to the console");
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token, None));
    headers.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", Some(0)));
    response
}

/// What a form of a signed-in page sends with it.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /logout`: the session ends.
pub async fn logout(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !same_token(&session.csrf, &form.csrf) {
        return (StatusCode::FORBIDDEN, "CSRF token missing or wrong").into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        console.sessions.close(token);
    }
    tracing::info!(user = %session.user, "signed out of the console");
    let mut response = Redirect::to("/login").into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0)));
    response
}

/// The signed-in user of a request. Without a live session a page redirects to the login
/// form and an API answers 401.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Session);

impl FromRequestParts<Arc<Console>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        console: &Arc<Console>,
    ) -> Result<Self, Response> {
        let session = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(token) => console.session(token).await,
            None => None,
        };
        match session {
            Some(s) => Ok(SignedIn(s)),
            None if parts.uri.path().starts_with("/api/") => {
                Err((StatusCode::UNAUTHORIZED, "sign in first").into_response())
            }
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// The sign-ins in progress: at most [`WAITING`] waiting (for the brakes or a check), and
/// [`CHECKING`] password checks at once.
#[derive(Debug)]
pub struct SignIns {
    waiting: tokio::sync::Semaphore,
    checking: tokio::sync::Semaphore,
}

/// Sign-ins that may wait at once.
const WAITING: usize = 64;
/// Password checks at once.
const CHECKING: usize = 4;

impl Default for SignIns {
    fn default() -> SignIns {
        SignIns {
            waiting: tokio::sync::Semaphore::new(WAITING),
            checking: tokio::sync::Semaphore::new(CHECKING),
        }
    }
}

impl Console {
    /// The live session of `token`; its user is looked up again every few seconds, and a
    /// user removed or changed (`hotline user add`/`remove`) ends all their sessions.
    pub async fn session(&self, token: &str) -> Option<Session> {
        let now = Instant::now();
        let session = self.sessions.get(now, token)?;
        if now.saturating_duration_since(session.checked) < sessions::RECHECK {
            return Some(session);
        }
        let same = self.user(&session.user).await.is_some_and(|u| {
            u.created_at == session.stamp
                && u.role == session.role
                && sessions::Scope::of(&u) == session.scope
        });
        if !same {
            tracing::info!(user = %session.user, "console sessions ended: the user was removed or changed");
            self.sessions.close_user(&session.user);
            return None;
        }
        self.sessions.checked(now, token);
        Some(session)
    }

    /// Ends the blocks that ran out and forgets old failures, logging and storing each end
    /// (run once a second).
    pub fn expire_brakes(&self) {
        let ended = {
            let mut brakes = self.brakes();
            // A reload's `[security]` applies from the next second; blocks in force stay.
            brakes.set_config(self.plan.get().security.clone());
            brakes.expire(Instant::now())
        };
        for subject in ended {
            tracing::info!(%subject, "console sign-in block ended");
            self.store_event(
                "web-auth-unblocked",
                &subject.to_string(),
                0,
                "console sign-ins allowed again".into(),
            );
        }
    }

    fn store_event(&self, kind: &str, subject: &str, failures: u32, detail: String) {
        if let Some(store) = &self.store {
            let row = SecurityEvent {
                at: chrono::Utc::now(),
                kind: kind.to_string(),
                subject: subject.to_string(),
                failures,
                detail,
            };
            if let Err(e) = store.save_security_event(&row) {
                tracing::warn!(error = %e, "security event not stored");
            }
        }
    }

    /// Logs the brakes set off and stores them with the SIP registrar's.
    fn note_brakes(&self, events: Vec<BrakeEvent>) {
        for event in events {
            let (kind, subject, failures, detail) = match &event {
                BrakeEvent::Slowed { subject, failures } => {
                    tracing::warn!(%subject, failures, "wrong console passwords: answers are slowed down");
                    (
                        "web-auth-slowed",
                        subject,
                        *failures,
                        "console sign-ins held back".to_string(),
                    )
                }
                BrakeEvent::Blocked {
                    subject,
                    failures,
                    lasts,
                } => {
                    tracing::warn!(%subject, failures, secs = lasts.as_secs(), "wrong console passwords: blocked");
                    let detail = format!("console sign-ins refused for {} s", lasts.as_secs());
                    ("web-auth-blocked", subject, *failures, detail)
                }
            };
            self.store_event(kind, &subject.to_string(), failures, detail);
        }
    }
}
