//! hotline's web console, served by the switch's own process (`hotline serve --http`):
//! supervisors, inspectors and agents sign in with the passwords `hotline user add` set
//! (argon2 hashes beside the call records). Supervisors watch their regions live on the
//! wallboard and the agents' page (pushed by server-sent events from the switch's board)
//! and act on them with the CLI's commands; calls are searched and their recordings played
//! (audited); inspectors score the spot checks; agents work their calls at the desk
//! (screen-pop, summary, hand-on cases); admins keep the voice prompts (upload, record from
//! their phone, restore); the reports and `/metrics` (the board's figures and the switch's
//! counters of SIP, RTP, recordings and the store) are served too.
//!
//! Built on axum; the pages, scripts and style sheet are embedded, with no build step of
//! their own. Every page and API needs a session (an HttpOnly, SameSite=Strict cookie);
//! every form carries a CSRF token; sign-ins are braked like the SIP registrar's; every
//! response forbids framing and scripts from elsewhere.

// Everything here handles what came from the network or a file: nothing may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod audit;
pub mod auth;
pub mod calls;
pub mod cases;
pub mod desk;
pub mod live;
pub mod live_views;
pub mod metrics;
pub mod operate;
pub mod pages;
pub mod password;
pub mod plan;
pub mod qa;
pub mod reports;
pub mod serve;
pub mod sessions;
pub mod switch_gauges;
pub mod today;
pub mod voice;

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use hotline_b2bua::brakes::Brakes;
use hotline_b2bua::Board;
use hotline_record::{CallStore, Role, User};
use hotline_routing::SecurityConfig;
use tokio::sync::watch;

use crate::auth::SignedIn;

/// The queues whose callers are confidential (举报/投诉): their numbers are masked in the
/// console, where nobody is cleared for them.
pub(crate) const CONFIDENTIAL_SKILLS: [&str; 1] = ["complaints"];

/// Whether a call of `skill` is confidential.
pub(crate) fn confidential(skill: Option<&str>) -> bool {
    skill.is_some_and(|s| CONFIDENTIAL_SKILLS.contains(&s))
}

/// Everything the console's handlers share.
pub struct Console {
    /// The call store's file, read for users and today's counts.
    db: PathBuf,
    /// Where security events are written (the switch's store), if anywhere.
    store: Option<CallStore>,
    /// The switch's live board, newest first.
    board: watch::Receiver<Arc<Board>>,
    /// Who is signed in.
    pub sessions: sessions::Sessions,
    brakes: Mutex<Brakes>,
    sign_ins: auth::SignIns,
    listening: calls::Listening,
    today: today::TodayCache,
    live_views: live_views::LiveViews,
    /// Where supervisors' commands go (the switch), if anywhere.
    orders: Option<operate::Orders>,
    /// What the console takes from the plan in force.
    plan: plan::PlanHandle,
    /// The switch's counters, for `/metrics`.
    gauges: Option<switch_gauges::SwitchGauges>,
}

impl Console {
    /// A console over the store at `db`, watching `board`, braking sign-ins per `security`.
    pub fn new(
        db: PathBuf,
        store: Option<CallStore>,
        board: watch::Receiver<Arc<Board>>,
        security: SecurityConfig,
    ) -> Console {
        Console {
            db,
            store,
            board,
            sessions: Default::default(),
            brakes: Mutex::new(Brakes::new(security.clone())),
            sign_ins: Default::default(),
            listening: Default::default(),
            today: Default::default(),
            live_views: Default::default(),
            orders: None,
            gauges: None,
            plan: {
                let plan = plan::PlanHandle::default();
                plan.change(|p| p.security = security);
                plan
            },
        }
    }

    /// Counts the reports with the plan's agents (their regions) and centre.
    pub fn with_report_plan(self, plan: reports::PlanFacts) -> Console {
        self.plan.change(|p| p.report_plan = plan);
        self
    }

    /// Offers the plan's summary categories and hand-on departments at the desk.
    pub fn with_desk_lists(self, categories: Vec<String>, departments: Vec<String>) -> Console {
        self.plan
            .change(|p| (p.categories, p.departments) = (categories, departments));
        self
    }

    /// Counts hand-on cases' deadlines in the working days of `schedule` (the plan's).
    pub fn with_schedule(self, schedule: hotline_ivr::Schedule) -> Console {
        self.plan.change(|p| p.schedule = schedule);
        self
    }

    /// Sends supervisors' commands (pause an agent, monitor a call, force the hours) to
    /// `orders`: the switch's control channel.
    pub fn with_orders(mut self, orders: operate::Orders) -> Console {
        self.orders = Some(orders);
        self
    }

    /// Serves the switch's counters (SIP, RTP, recordings) on `/metrics`.
    pub fn with_gauges(mut self, gauges: switch_gauges::SwitchGauges) -> Console {
        self.gauges = Some(gauges);
        self
    }

    /// Lets admins maintain the plan's prompts in `library` (the voice content page).
    pub fn with_voice(self, library: voice::PromptLibrary) -> Console {
        self.plan.change(|p| p.voice = Some(library));
        self
    }

    /// Takes what it uses of the plan from `plan`, which the switch sets at each reload.
    pub fn with_plan(mut self, plan: plan::PlanHandle) -> Console {
        self.plan = plan;
        self
    }

    fn brakes(&self) -> MutexGuard<'_, Brakes> {
        // Nothing panics while holding it; counts of failures stay whole if something did.
        self.brakes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The user `id`, read from the store (off the async threads).
    async fn user(&self, id: &str) -> Option<User> {
        let (db, id) = (self.db.clone(), id.to_string());
        let found = tokio::task::spawn_blocking(move || hotline_record::find_user(&db, &id)).await;
        match found {
            Ok(Ok(user)) => user,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "console users not read");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "console users not read");
                None
            }
        }
    }
}

/// How long a handler may take to answer (a recording or a live feed may stream longer).
const HANDLER_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// Every route of the console.
pub fn app(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/wallboard", get(wallboard))
        .route("/api/board", get(live::board))
        .route("/api/live", get(live::live))
        .route("/calls", get(calls_page))
        .route("/calls/{id}", get(call_page))
        .route("/api/calls", get(calls::search))
        .route("/api/calls/{id}", get(calls::detail))
        .route("/recordings/{id}", get(calls::recording))
        .route("/supervisor", get(supervisor_page))
        .route("/api/agents/{id}/state", post(operate::agent_state))
        .route("/api/agents/{id}/monitor", post(operate::monitor))
        .route("/api/hours", post(operate::hours))
        .route("/metrics", get(metrics::metrics))
        .route("/desk", get(desk_page))
        .route("/api/desk/live", get(desk::live))
        .route("/api/desk/state", post(desk::state))
        .route("/api/desk/summary", post(desk::summary))
        .route("/api/desk/case", post(cases::open))
        .route("/api/desk/cases", get(cases::own))
        .route("/cases", get(cases_page))
        .route("/reports", get(reports_page))
        .route("/api/reports/{name}", get(reports::table))
        .route("/api/reports/{name}/csv", get(reports::csv))
        .route("/api/cases", get(cases::list))
        .route("/api/cases/{id}/chase", post(cases::chase))
        .route("/api/cases/{id}/close", post(cases::close))
        .route("/qa", get(qa_page))
        .route("/api/qa", get(qa::overview))
        .route("/api/qa/reviews", post(qa::review))
        .route("/voice", get(voice_page))
        .route("/api/voice", get(voice::list))
        .route("/api/voice/{name}/audio", get(voice::audio))
        .route(
            "/api/voice/{name}",
            post(voice::upload).layer(axum::extract::DefaultBodyLimit::max(voice::MAX_UPLOAD)),
        )
        .route("/api/voice/{name}/restore", post(voice::restore))
        .route("/api/voice/{name}/record", post(voice::record))
        .route("/assets/{name}", get(asset))
        // A handler's answer (not a stream's body) within this, or 503.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            HANDLER_DEADLINE,
        ))
        .layer(axum::middleware::map_response(guard_headers))
        .layer(axum::middleware::from_fn(secure_cookies_over_tls))
        .with_state(console)
}

/// Serves the console on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, console: Arc<Console>) {
    let expiring = Arc::clone(&console);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            every.tick().await;
            expiring.expire_brakes();
        }
    });
    serve::run(listener, app(console)).await;
}

/// Cookies are `Secure` when the browser reached the console over TLS: through a proxy on
/// this machine that terminates it and says so (`X-Forwarded-Proto: https`). The header is
/// believed from loopback only, where nobody else can send it.
async fn secure_cookies_over_tls(
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let tls = peer.ip().is_loopback()
        && request
            .headers()
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    let mut response = next.run(request).await;
    if tls {
        let cookies: Vec<HeaderValue> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        response.headers_mut().remove(header::SET_COOKIE);
        for cookie in cookies {
            let secure = [cookie.as_bytes(), b"; Secure"].concat();
            if let Ok(v) = HeaderValue::from_bytes(&secure) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
        }
    }
    response
}

/// Headers on every response: no framing (clickjacking), scripts and styles from this site
/// only, no MIME guessing, no referrer to other sites, nothing cached.
async fn guard_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    let set = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// `GET /`: each role's first page.
async fn home(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Admin => Redirect::to("/wallboard").into_response(),
        Role::Inspector => Redirect::to("/qa").into_response(),
        Role::Agent => Redirect::to("/desk").into_response(),
    }
}

/// `GET /wallboard`.
async fn wallboard(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Inspector | Role::Admin => pages::wallboard(&session),
        Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /supervisor`: the agents of the user's regions, with what a supervisor does.
async fn supervisor_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Admin => pages::supervisor(&session),
        Role::Inspector | Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /desk`: an agent's own desk.
async fn desk_page(SignedIn(session): SignedIn) -> Response {
    match (session.role, &session.agent) {
        (Role::Agent, Some(_)) => pages::desk(&session),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /reports`: the centre's reports.
async fn reports_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Inspector | Role::Admin => pages::reports(&session),
        Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /cases`: the hand-on cases of the user's regions.
async fn cases_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Inspector | Role::Admin => pages::cases(&session),
        Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /qa`: the spot checks.
async fn qa_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Inspector | Role::Admin => pages::qa(&session),
        Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /voice`: the voice content page (admins).
async fn voice_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Admin => pages::voice(&session),
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /calls`: the search page.
async fn calls_page(SignedIn(session): SignedIn) -> Response {
    match session.role {
        Role::Supervisor | Role::Inspector | Role::Admin => pages::calls(&session),
        Role::Agent => StatusCode::FORBIDDEN.into_response(),
    }
}

/// `GET /calls/ID`: one call's page (its data comes from `/api/calls/ID`, in scope).
async fn call_page(SignedIn(session): SignedIn, Path(id): Path<String>) -> Response {
    match (session.role, id.parse::<hotline_record::CallId>()) {
        (Role::Agent, _) => StatusCode::FORBIDDEN.into_response(),
        (_, Ok(id)) => pages::call(&session, &id),
        (_, Err(_)) => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `GET /assets/NAME`: the style sheet and scripts (public: the login form needs them).
async fn asset(State(_): State<Arc<Console>>, Path(name): Path<String>) -> Response {
    pages::asset(&name)
}
