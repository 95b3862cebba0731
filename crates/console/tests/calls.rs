//! Calls and recordings in the console: the search cut to a supervisor's regions, a call of
//! another city neither found nor played (403), recordings served in ranges so a long call
//! seeks, and every play (not every seek) in the spot checks' audit chain.

mod site;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{Duration, Utc};
use hotline_record::{CallId, CallRecord, CallStore, Outcome};
use hotline_routing::SecurityConfig;
use site::{get, send, session, sign_in, site, Site};

/// Stores an answered call of `region` from `caller`, with a recording of `bytes` bytes.
fn answered(site: &Site, region: &str, caller: &str, skill: Option<&str>, bytes: usize) -> CallId {
    let now = Utc::now() - Duration::minutes(5);
    let id = CallId::generate(now, rand_id(caller));
    let wav = site.dir.path().join(format!("{id}.wav"));
    std::fs::write(
        &wav,
        (0..bytes).map(|i| (i % 251) as u8).collect::<Vec<u8>>(),
    )
    .unwrap();
    let mut r = CallRecord::new(id.clone(), caller, now);
    r.region = Some(region.into());
    r.agent = Some("1003".into());
    r.queued_at = Some(now);
    r.answered_at = Some(now + Duration::seconds(5));
    r.ended_at = Some(now + Duration::seconds(65));
    r.outcome = Outcome::Answered;
    r.skill = skill.map(str::to_string);
    r.recording_path = Some(wav);
    let store = CallStore::open(&site.dir.path().join("calls.db")).unwrap();
    store.save(&r).unwrap();
    store.sync().unwrap();
    id
}

fn rand_id(caller: &str) -> u32 {
    caller
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
}

fn plays(site: &Site) -> Vec<hotline_record::qa::AuditRow> {
    hotline_record::qa::list_audit(&site.dir.path().join("calls.db"))
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "play")
        .collect()
}

fn ranged(path: &str, cookie: &str, range: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .header(header::RANGE, range)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn a_supervisor_finds_and_plays_their_citys_calls_only() {
    let site = site(SecurityConfig::default());
    let luoyang = answered(&site, "luoyang", "13903790000", None, 64_000);
    let zhengzhou = answered(&site, "zhengzhou", "037122345678", None, 64_000);
    let (wang, _) = session(&site, "wang").await;

    let found = send(&site, get("/api/calls", &wang)).await;
    assert_eq!(found.status, StatusCode::OK);
    let calls: Vec<serde_json::Value> = serde_json::from_str(&found.body).unwrap();
    let ids: Vec<&str> = calls
        .iter()
        .map(|c| c["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [luoyang.as_str()], "{}", found.body);
    assert!(
        calls[0]["recording_path"].is_null(),
        "no server path in the browser"
    );
    assert_eq!(calls[0]["playable"], true);
    let none = send(&site, get("/api/calls?number=0371", &wang)).await;
    assert_eq!(none.body, "[]");

    // Zhengzhou's call: not found, and its recording refused.
    let detail = send(&site, get(&format!("/api/calls/{zhengzhou}"), &wang)).await;
    assert_eq!(detail.status, StatusCode::NOT_FOUND);
    let refused = send(&site, get(&format!("/recordings/{zhengzhou}"), &wang)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(plays(&site).is_empty(), "nothing refused is played");

    // Luoyang's. A first request is audited whatever its range (asking from byte 1 fetches
    // nearly all of it); later ones within the half hour are seeks, unless from the start.
    let path = format!("/recordings/{luoyang}");
    let sly = send(&site, ranged(&path, &wang, "bytes=1-")).await;
    assert_eq!(sly.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        plays(&site).len(),
        1,
        "a first request from byte 1 is audited"
    );
    let first = send(&site, ranged(&path, &wang, "bytes=0-99")).await;
    assert_eq!(first.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(first.headers[header::CONTENT_RANGE], "bytes 0-99/64000");
    assert_eq!(first.headers[header::CONTENT_TYPE], "audio/wav");
    assert_eq!(first.body.len(), 100);
    let seek = send(&site, ranged(&path, &wang, "bytes=32000-32099")).await;
    assert_eq!(seek.status, StatusCode::PARTIAL_CONTENT);
    let audited = plays(&site);
    assert_eq!(
        audited.len(),
        2,
        "the play from the start, not the seek: {audited:?}"
    );
    assert_eq!(audited[1].actor, "wang");
    assert_eq!(audited[1].call_id.as_deref(), Some(luoyang.as_str()));
    let whole = send(&site, get(&path, &wang)).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(plays(&site).len(), 3, "played again from the start");

    let detail = send(&site, get(&format!("/api/calls/{luoyang}"), &wang)).await;
    let detail: serde_json::Value = serde_json::from_str(&detail.body).unwrap();
    assert_eq!(detail["call"]["agent"], "1003");
}

#[tokio::test]
async fn a_complaint_callers_number_is_masked_and_agents_search_nothing() {
    let site = site(SecurityConfig::default());
    answered(&site, "luoyang", "13903790000", Some("complaints"), 1_000);
    let (wang, _) = session(&site, "wang").await;
    let found = send(&site, get("/api/calls", &wang)).await;
    let calls: Vec<serde_json::Value> = serde_json::from_str(&found.body).unwrap();
    assert_eq!(calls[0]["caller_raw"], "139****0000");
    assert_eq!(calls[0]["masked"], true);
    let by_number = send(&site, get("/api/calls?number=0379", &wang)).await;
    assert_eq!(
        by_number.body, "[]",
        "a confidential caller is not found digit by digit"
    );
    let zhao = sign_in(&site, "zhao", "s3cret-pass").await;
    let zhao = format!(
        "hotline_session={}",
        zhao.cookie("hotline_session").unwrap()
    );
    assert_eq!(
        send(&site, get("/api/calls", &zhao)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_cleared_inspector_sees_a_complaint_callers_number_on_its_page_audited() {
    let site = site(SecurityConfig::default());
    let call = answered(&site, "luoyang", "13903790000", Some("complaints"), 1_000);
    let unmasks = |site: &Site| {
        hotline_record::qa::list_audit(&site.dir.path().join("calls.db"))
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.action == "unmask")
            .collect::<Vec<_>>()
    };
    let (wang, _) = session(&site, "wang").await;
    let page = send(&site, get(&format!("/api/calls/{call}"), &wang)).await;
    let page: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert_eq!(
        page["call"]["caller_raw"], "139****0000",
        "wang is not cleared"
    );
    assert!(unmasks(&site).is_empty());

    let (auditor, _) = session(&site, "auditor").await;
    let listed = send(&site, get("/api/calls", &auditor)).await;
    assert!(
        listed.body.contains("139****0000"),
        "lists stay masked: {}",
        listed.body
    );
    for _ in 0..2 {
        let page = send(&site, get(&format!("/api/calls/{call}"), &auditor)).await;
        let page: serde_json::Value = serde_json::from_str(&page.body).unwrap();
        assert_eq!(page["call"]["caller_raw"], "13903790000");
        assert_eq!(page["call"]["masked"], false);
    }
    let rows = unmasks(&site);
    assert_eq!(
        rows.len(),
        1,
        "one row per user and call, not per view: {rows:?}"
    );
    assert_eq!(
        (rows[0].actor.as_str(), rows[0].call_id.as_deref()),
        ("auditor", Some(call.as_str()))
    );
}

#[tokio::test]
async fn calls_are_searched_by_the_time_of_day_in_beijing() {
    let site = site(SecurityConfig::default());
    // 10:15 Beijing on 1 December is 02:15 UTC.
    let at = "2026-12-01T02:15:00Z"
        .parse::<chrono::DateTime<Utc>>()
        .unwrap();
    let mut r = CallRecord::new(CallId::generate(at, 5), "13903790000", at);
    r.region = Some("luoyang".into());
    r.ended_at = Some(at + Duration::seconds(40));
    r.outcome = Outcome::Ivr;
    let store = CallStore::open(&site.dir.path().join("calls.db")).unwrap();
    store.save(&r).unwrap();
    store.sync().unwrap();
    let (wang, _) = session(&site, "wang").await;
    let found = |q: &'static str| {
        let site = &site;
        let wang = wang.clone();
        async move {
            let got = send(site, get(&format!("/api/calls?date=2026-12-01&{q}"), &wang)).await;
            (got.status, got.body.matches("\"call_id\"").count())
        }
    };
    assert_eq!(found("from=10:00&to=10:30").await, (StatusCode::OK, 1));
    assert_eq!(found("from=10:16").await, (StatusCode::OK, 0));
    assert_eq!(
        found("to=10:15").await,
        (StatusCode::OK, 0),
        "to is not included"
    );
    assert_eq!(found("from=25:99").await.0, StatusCode::BAD_REQUEST);
}
