//! The console's HTTP rules, request by request against the router: nothing without a
//! session, CSRF tokens on every form, the same refusal for unknown users and wrong
//! passwords, the brakes on guessing, and each user's scope.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use hotline_b2bua::{Board, RegionBoard};
use hotline_console::{app, password, Console};
use hotline_record::{save_user, Role, User};
use hotline_routing::SecurityConfig;
use http_body_util::BodyExt;
use tower::ServiceExt;

struct Site {
    router: Router,
    _dir: tempfile::TempDir,
    _board: tokio::sync::watch::Sender<Arc<Board>>,
}

fn region(id: &str, waiting: u32) -> RegionBoard {
    RegionBoard {
        region: id.into(),
        name: id.into(),
        waiting,
        oldest_since: None,
        agents: Default::default(),
        not_ready: Default::default(),
    }
}

fn site(security: SecurityConfig) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.db");
    let add = |id: &str, role: Role, scope: &[&str]| {
        save_user(
            &db,
            &User {
                id: id.into(),
                role,
                agent: None,
                scope: scope.iter().map(|s| s.to_string()).collect(),
                hash: password::hash("s3cret-pass").unwrap(),
                created_at: Utc::now(),
            },
        )
        .unwrap();
    };
    add("wang", Role::Supervisor, &["luoyang"]);
    add("zhao", Role::Agent, &[]);
    let board = Board {
        regions: vec![region("luoyang", 1), region("zhengzhou", 4)],
    };
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(board));
    let console = Console::new(db, None, rx, security);
    Site {
        router: app(Arc::new(console)),
        _dir: dir,
        _board: tx,
    }
}

/// A response's status, headers and body text.
struct Got {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Got {
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.strip_prefix(&format!("{name}="))
                    .map(|rest| rest.split(';').next().unwrap_or("").to_string())
            })
    }
}

async fn send(site: &Site, req: Request<Body>) -> Got {
    let mut req = req;
    let from: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(from));
    let res = site.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let body =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).to_string();
    Got {
        status,
        headers,
        body,
    }
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// The login form's CSRF token and cookie.
async fn login_token(site: &Site) -> (String, String) {
    let form = send(site, get("/login", "")).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.cookie("hotline_login").expect("a CSRF cookie");
    assert!(form.body.contains(&csrf), "the token is in the form");
    (csrf.clone(), format!("hotline_login={csrf}"))
}

async fn sign_in(site: &Site, user: &str, pass: &str) -> Got {
    let (csrf, cookie) = login_token(site).await;
    send(
        site,
        post(
            "/login",
            &cookie,
            &format!("user={user}&password={pass}&csrf={csrf}"),
        ),
    )
    .await
}

/// Signs in and returns the session cookie and the page's CSRF token.
async fn session(site: &Site, user: &str) -> (String, String) {
    let got = sign_in(site, user, "s3cret-pass").await;
    assert_eq!(got.status, StatusCode::SEE_OTHER, "{}", got.body);
    let token = got.cookie("hotline_session").expect("a session cookie");
    let set = got
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        set.iter().any(|c| c.starts_with("hotline_session=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Strict")),
        "{set:?}"
    );
    let cookie = format!("hotline_session={token}");
    let page = send(site, get("/wallboard", &cookie)).await;
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn nothing_is_served_without_a_session() {
    let site = site(SecurityConfig::default());
    for path in ["/", "/wallboard"] {
        let got = send(&site, get(path, "")).await;
        assert_eq!(got.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(got.headers.get(header::LOCATION).unwrap(), "/login");
    }
    for path in ["/api/board", "/api/live"] {
        let got = send(&site, get(path, "hotline_session=forged")).await;
        assert_eq!(got.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let got = send(&site, get("/login", "")).await;
    assert_eq!(got.headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    assert!(got.headers.get(header::CONTENT_SECURITY_POLICY).is_some());
}

#[tokio::test]
async fn forms_without_their_csrf_token_are_refused() {
    let site = site(SecurityConfig::default());
    let no_cookie = send(
        &site,
        post("/login", "", "user=wang&password=s3cret-pass&csrf=x"),
    )
    .await;
    assert_eq!(no_cookie.status, StatusCode::FORBIDDEN);
    let (_, cookie) = login_token(&site).await;
    let wrong = send(
        &site,
        post(
            "/login",
            &cookie,
            "user=wang&password=s3cret-pass&csrf=other",
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let (session, csrf) = session(&site, "wang").await;
    let logout = send(&site, post("/logout", &session, "csrf=forged")).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);
    assert_eq!(
        send(&site, get("/api/board", &session)).await.status,
        StatusCode::OK,
        "still signed in"
    );
    let logout = send(&site, post("/logout", &session, &format!("csrf={csrf}"))).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(
        send(&site, get("/api/board", &session)).await.status,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_get_the_same_answer_and_guessing_is_blocked() {
    let security = SecurityConfig {
        auth_slow_after: 100,
        auth_block_after: 4,
        auth_block: Duration::from_secs(900),
        auth_forget: Duration::from_secs(600),
    };
    let site = site(security);
    let wrong = sign_in(&site, "wang", "guess-one").await;
    let unknown = sign_in(&site, "nobody", "guess-one").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码错误"));
    assert_eq!(
        wrong.body.len(),
        unknown.body.len(),
        "nothing tells the two apart"
    );
    sign_in(&site, "wang", "guess-two").await;
    sign_in(&site, "wang", "guess-three").await;
    // Four failures from this address: blocked, even with the right password.
    let blocked = sign_in(&site, "wang", "s3cret-pass").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("登录失败次数过多"));
}

#[tokio::test]
async fn a_supervisor_sees_their_regions_and_an_agent_no_wallboard() {
    let site = site(SecurityConfig::default());
    let (wang, _) = session(&site, "wang").await;
    let got = send(&site, get("/api/board", &wang)).await;
    assert_eq!(got.status, StatusCode::OK);
    let board: serde_json::Value = serde_json::from_str(&got.body).unwrap();
    let regions: Vec<&str> = board["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["luoyang"], "{board}");
    assert_eq!(board["waiting"], 1);
    let zhao = sign_in(&site, "zhao", "s3cret-pass").await;
    let cookie = format!(
        "hotline_session={}",
        zhao.cookie("hotline_session").unwrap()
    );
    assert_eq!(
        send(&site, get("/api/board", &cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        send(&site, get("/wallboard", &cookie)).await.status,
        StatusCode::FORBIDDEN
    );
}
