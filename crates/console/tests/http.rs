//! The console's HTTP rules, request by request against the router: nothing without a
//! session, CSRF tokens on every form, the same refusal for unknown users and wrong
//! passwords, the brakes on guessing, and each user's scope.

mod site;

use std::time::Duration;

use axum::http::{header, StatusCode};
use hotline_routing::SecurityConfig;
use site::{get, login_token, post, send, send_from, session, sign_in, site};

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

#[tokio::test]
async fn metrics_are_for_this_machines_scrapers_or_the_province() {
    let site = site(SecurityConfig::default());
    let local = send(&site, get("/metrics", "")).await;
    assert_eq!(local.status, StatusCode::OK);
    assert!(
        local
            .body
            .contains("hotline_callers_waiting{region=\"zhengzhou\"} 4"),
        "{}",
        local.body
    );
    assert!(
        local
            .body
            .contains("hotline_callers_waiting{region=\"luoyang\"} 1"),
        "{}",
        local.body
    );
    assert!(
        local.body.contains("hotline_process_open_fds"),
        "{}",
        local.body
    );
    let far = "192.0.2.7:50000".parse().unwrap();
    assert_eq!(
        send_from(&site, get("/metrics", ""), far).await.status,
        StatusCode::FORBIDDEN
    );
    let (wang, _) = session(&site, "wang").await;
    assert_eq!(
        send_from(&site, get("/metrics", &wang), far).await.status,
        StatusCode::FORBIDDEN,
        "every region's figures are not for a city's supervisor"
    );
    let (chen, _) = session(&site, "chen").await;
    assert_eq!(
        send_from(&site, get("/metrics", &chen), far).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_removed_user_is_signed_out_within_seconds() {
    let site = site(SecurityConfig::default());
    let (wang, _) = session(&site, "wang").await;
    assert_eq!(
        send(&site, get("/api/board", &wang)).await.status,
        StatusCode::OK
    );
    assert!(hotline_record::remove_user(&site.dir.path().join("calls.db"), "wang").unwrap());
    tokio::time::sleep(hotline_console::sessions::RECHECK + Duration::from_millis(200)).await;
    assert_eq!(
        send(&site, get("/api/board", &wang)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn cookies_are_secure_when_a_local_tls_proxy_says_the_browser_used_https() {
    let site = site(SecurityConfig::default());
    let form = |proto: Option<&str>| {
        let mut req = axum::http::Request::get("/login");
        if let Some(p) = proto {
            req = req.header("x-forwarded-proto", p);
        }
        req.body(axum::body::Body::empty()).unwrap()
    };
    let secure = |got: &site::Got| {
        got.headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .all(|c| c.to_str().unwrap().ends_with("; Secure"))
    };
    let proxied = send(&site, form(Some("https"))).await;
    assert!(proxied.cookie("hotline_login").is_some());
    assert!(secure(&proxied), "{:?}", proxied.headers);
    assert!(!secure(&send(&site, form(None)).await), "plain HTTP");
    let far = "192.0.2.7:50000".parse().unwrap();
    let claimed = send_from(&site, form(Some("https")), far).await;
    assert!(
        !secure(&claimed),
        "the header is believed from this machine only"
    );
}
