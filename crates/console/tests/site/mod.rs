//! The console under test: its router over a fresh store with two users (wang, a Luoyang
//! supervisor; zhao, an agent), and requests sent straight to it.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::Utc;
use hotline_b2bua::command::{Command, Reply};
use hotline_b2bua::{Board, RegionBoard, Seat};
use hotline_console::operate::Order;
use hotline_console::voice::PromptLibrary;
use hotline_console::{app, password, Console};
use hotline_record::{save_user, Role, User};
use hotline_routing::SecurityConfig;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct Site {
    pub router: Router,
    pub dir: tempfile::TempDir,
    _board: tokio::sync::watch::Sender<Arc<Board>>,
    /// The commands the console sent the switch, with who gave them; each is answered done.
    pub orders: Arc<std::sync::Mutex<Vec<(String, Command)>>>,
}

/// An agent on the board, available since a minute ago.
pub fn seat(id: &str) -> Seat {
    Seat {
        id: id.into(),
        name: None,
        state: "available",
        reason: None,
        since: Utc::now() - chrono::Duration::minutes(1),
        calls_today: 0,
        reachable: true,
        call: None,
    }
}

pub fn region(id: &str, waiting: u32) -> RegionBoard {
    RegionBoard {
        region: id.into(),
        name: id.into(),
        waiting,
        oldest_since: None,
        agents: Default::default(),
        not_ready: Default::default(),
        seats: Vec::new(),
    }
}

pub fn site(security: SecurityConfig) -> Site {
    site_with(security, None)
}

/// As [`site`], with the plan's summary categories and hand-on departments.
pub fn site_with(security: SecurityConfig, desk: Option<(Vec<String>, Vec<String>)>) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("calls.db");
    let add = |id: &str, role: Role, scope: &[&str]| {
        save_user(
            &db,
            &User {
                id: id.into(),
                role,
                agent: match id {
                    "chen" => Some("1950".to_string()),
                    "zhao" => Some("1003".to_string()),
                    "director" => Some("1950".to_string()),
                    _ => None,
                },
                scope: scope.iter().map(|s| s.to_string()).collect(),
                hash: password::hash("s3cret-pass").unwrap(),
                created_at: Utc::now(),
                cleared: id == "auditor",
            },
        )
        .unwrap();
    };
    add("wang", Role::Supervisor, &["luoyang"]);
    add("zhao", Role::Agent, &[]);
    add("chen", Role::Supervisor, &["province"]);
    add("director", Role::Admin, &[]);
    add("admin", Role::Admin, &[]);
    add("auditor", Role::Inspector, &[]);
    let mut luoyang = region("luoyang", 1);
    luoyang.seats.push(seat("1003"));
    let mut zhengzhou = region("zhengzhou", 4);
    zhengzhou.seats.push(seat("1001"));
    let board = Board {
        regions: vec![luoyang, zhengzhou],
        ..Default::default()
    };
    let (tx, rx) = tokio::sync::watch::channel(Arc::new(board));
    let (orders_tx, mut orders_rx) = tokio::sync::mpsc::channel::<Order>(4);
    let orders: Arc<std::sync::Mutex<Vec<(String, Command)>>> = Default::default();
    let seen = Arc::clone(&orders);
    tokio::spawn(async move {
        while let Some(order) = orders_rx.recv().await {
            seen.lock().unwrap().push((order.actor, order.command));
            let _ = order.reply.send(Ok(Reply::Done("done".into())));
        }
    });
    let mut console = Console::new(db, None, rx, security).with_orders(orders_tx);
    let prompts = dir.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    write_prompt(&prompts.join("welcome.wav"), &[1_000; 4_000]);
    std::fs::write(
        prompts.join("texts.tsv"),
        "welcome\t您好，欢迎致电12366。\n",
    )
    .unwrap();
    console = console.with_voice(PromptLibrary::new(
        prompts,
        vec!["welcome".to_string(), "goodbye".to_string()],
    ));
    if let Some((categories, departments)) = desk {
        console = console.with_desk_lists(categories, departments);
    }
    Site {
        router: app(Arc::new(console)),
        dir,
        _board: tx,
        orders,
    }
}

/// An 8 kHz mono 16-bit WAV of `samples`.
pub fn write_prompt(path: &std::path::Path, samples: &[i16]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// A response's status, headers and body text.
pub struct Got {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Got {
    pub fn cookie(&self, name: &str) -> Option<String> {
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

pub async fn send(site: &Site, req: Request<Body>) -> Got {
    send_from(site, req, "127.0.0.1:40000".parse().unwrap()).await
}

/// Sends `req` as if it came from `from`.
pub async fn send_from(site: &Site, req: Request<Body>, from: SocketAddr) -> Got {
    let mut req = req;
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

pub fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

pub fn post(path: &str, cookie: &str, form: &str) -> Request<Body> {
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .unwrap()
}

/// The login form's CSRF token and cookie.
pub async fn login_token(site: &Site) -> (String, String) {
    let form = send(site, get("/login", "")).await;
    assert_eq!(form.status, StatusCode::OK);
    let csrf = form.cookie("hotline_login").expect("a CSRF cookie");
    assert!(form.body.contains(&csrf), "the token is in the form");
    (csrf.clone(), format!("hotline_login={csrf}"))
}

pub async fn sign_in(site: &Site, user: &str, pass: &str) -> Got {
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
pub async fn session(site: &Site, user: &str) -> (String, String) {
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
    let mut page = send(site, get("/wallboard", &cookie)).await;
    if page.status == StatusCode::FORBIDDEN {
        // An agent's page is their desk.
        page = send(site, get("/desk", &cookie)).await;
    }
    let csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}
