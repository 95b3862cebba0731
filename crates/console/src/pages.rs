//! The pages and their assets, embedded in the binary (so `hotline serve` needs no files
//! beside it): HTML made from templates with the few values a page needs filled in, and
//! the scripts and style sheet they load. Simplified Chinese first; `console.js` shows
//! the English of every marked text when the user picks it.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::sessions::Session;

const LOGIN: &str = include_str!("../assets/login.html");
const WALLBOARD: &str = include_str!("../assets/wallboard.html");
const CALLS: &str = include_str!("../assets/calls.html");
const CALL: &str = include_str!("../assets/call.html");
const CALLS_JS: &str = include_str!("../assets/calls.js");
const CALL_JS: &str = include_str!("../assets/call.js");
const SUPERVISOR: &str = include_str!("../assets/supervisor.html");
const SUPERVISOR_JS: &str = include_str!("../assets/supervisor.js");
const QA: &str = include_str!("../assets/qa.html");
const QA_JS: &str = include_str!("../assets/qa.js");
const DESK: &str = include_str!("../assets/desk.html");
const DESK_JS: &str = include_str!("../assets/desk.js");
const CASES: &str = include_str!("../assets/cases.html");
const CASES_JS: &str = include_str!("../assets/cases.js");
const REPORTS: &str = include_str!("../assets/reports.html");
const REPORTS_JS: &str = include_str!("../assets/reports.js");
const VOICE: &str = include_str!("../assets/voice.html");
const VOICE_JS: &str = include_str!("../assets/voice.js");
const CSS: &str = include_str!("../assets/console.css");
const CONSOLE_JS: &str = include_str!("../assets/console.js");
const WALLBOARD_JS: &str = include_str!("../assets/wallboard.js");

/// Why the login form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong user or password (the same words for both).
    Wrong,
    /// Too many failures from here or for this user: blocked for a while.
    Blocked,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The login form with `csrf` in it and, after a refusal, why.
pub fn login(csrf: &str, refusal: Option<Refusal>, status: StatusCode) -> Response {
    let message = match refusal {
        None => String::new(),
        Some(Refusal::Wrong) => {
            r#"<p class="refused" data-en="Wrong user name or password.">用户名或密码错误。</p>"#
                .to_string()
        }
        Some(Refusal::Blocked) => r#"<p class="refused" data-en="Too many failed sign-ins: try again later.">登录失败次数过多，请稍后再试。</p>"#
            .to_string(),
    };
    let page = LOGIN
        .replace("{{csrf}}", &escape(csrf))
        .replace("{{message}}", &message);
    (status, Html(page)).into_response()
}

/// The wallboard page for `session`.
pub fn wallboard(session: &Session) -> Response {
    let page = WALLBOARD
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// The supervisor's page.
pub fn supervisor(session: &Session) -> Response {
    let page = SUPERVISOR
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// An agent's desk.
pub fn desk(session: &Session) -> Response {
    let page = DESK
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user))
        .replace(
            "{{agent}}",
            &escape(session.agent.as_deref().unwrap_or_default()),
        );
    Html(page).into_response()
}

/// The reports' page.
pub fn reports(session: &Session) -> Response {
    let page = REPORTS
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// The hand-on cases' page.
pub fn cases(session: &Session) -> Response {
    let page = CASES
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// The spot checks' page.
pub fn qa(session: &Session) -> Response {
    let page = QA
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// The voice content page.
pub fn voice(session: &Session) -> Response {
    let page = VOICE
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// The calls search page.
pub fn calls(session: &Session) -> Response {
    let page = CALLS
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user));
    Html(page).into_response()
}

/// One call's page.
pub fn call(session: &Session, id: &hotline_record::CallId) -> Response {
    let page = CALL
        .replace("{{csrf}}", &escape(&session.csrf))
        .replace("{{user}}", &escape(&session.user))
        .replace("{{call}}", &escape(id.as_str()));
    Html(page).into_response()
}

/// An embedded asset by name.
pub fn asset(name: &str) -> Response {
    let (body, kind) = match name {
        "console.css" => (CSS, "text/css; charset=utf-8"),
        "console.js" => (CONSOLE_JS, "text/javascript; charset=utf-8"),
        "wallboard.js" => (WALLBOARD_JS, "text/javascript; charset=utf-8"),
        "calls.js" => (CALLS_JS, "text/javascript; charset=utf-8"),
        "qa.js" => (QA_JS, "text/javascript; charset=utf-8"),
        "desk.js" => (DESK_JS, "text/javascript; charset=utf-8"),
        "cases.js" => (CASES_JS, "text/javascript; charset=utf-8"),
        "reports.js" => (REPORTS_JS, "text/javascript; charset=utf-8"),
        "supervisor.js" => (SUPERVISOR_JS, "text/javascript; charset=utf-8"),
        "call.js" => (CALL_JS, "text/javascript; charset=utf-8"),
        "voice.js" => (VOICE_JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
