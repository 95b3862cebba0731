//! The agent's desk: their own state only, and summaries only of calls they answered.

mod site;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use hotline_acd::NotReady;
use hotline_b2bua::command::{AgentAction, Command};
use hotline_record::{CallId, CallRecord, CallStore, Outcome};
use hotline_routing::SecurityConfig;
use site::{post, send, session, sign_in, site, Site};

fn answered_by(site: &Site, agent: &str, random: u32) -> CallId {
    let at = Utc::now() - Duration::minutes(3);
    let id = CallId::generate(at, random);
    let mut r = CallRecord::new(id.clone(), "13903790000", at);
    r.region = Some("luoyang".into());
    r.agent = Some(agent.into());
    r.answered_at = Some(at + Duration::seconds(3));
    r.ended_at = Some(at + Duration::seconds(60));
    r.outcome = Outcome::Answered;
    let store = CallStore::open(&site.dir.path().join("calls.db")).unwrap();
    store.save(&r).unwrap();
    store.sync().unwrap();
    id
}

/// The agent's session cookie and the desk's CSRF token.
async fn desk(site: &Site) -> (String, String) {
    let got = sign_in(site, "zhao", "s3cret-pass").await;
    let cookie = format!("hotline_session={}", got.cookie("hotline_session").unwrap());
    let page = send(site, site::get("/desk", &cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page
        .body
        .split("data-csrf=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    (cookie, csrf)
}

#[tokio::test]
async fn an_agent_changes_their_own_state_and_files_summaries_of_their_own_calls() {
    let site = site(SecurityConfig::default());
    let (zhao, csrf) = desk(&site).await;
    let paused = send(
        &site,
        post(
            "/api/desk/state",
            &zhao,
            &format!("csrf={csrf}&action=pause&reason=lunch"),
        ),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert_eq!(
        site.orders.lock().unwrap().clone(),
        [(
            "zhao".to_string(),
            Command::Agent {
                id: "1003".into(),
                action: AgentAction::Pause {
                    reason: NotReady::Lunch
                }
            }
        )]
    );
    let mine = answered_by(&site, "1003", 1);
    let theirs = answered_by(&site, "1001", 2);
    let form = |call: &CallId| {
        format!("csrf={csrf}&call={call}&category=%E5%85%B6%E4%BB%96&note=asked+about+a+refund")
    };
    let refused = send(&site, post("/api/desk/summary", &zhao, &form(&theirs))).await;
    assert_eq!(
        refused.status,
        StatusCode::NOT_FOUND,
        "not a call zhao answered"
    );
    let filed = send(&site, post("/api/desk/summary", &zhao, &form(&mine))).await;
    assert_eq!(filed.status, StatusCode::OK, "{}", filed.body);
    let notes =
        hotline_record::list_call_notes(&site.dir.path().join("calls.db"), &[mine]).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].agent.as_str(), notes[0].category.as_str()),
        ("1003", "其他")
    );
    let forged = send(
        &site,
        post("/api/desk/state", &zhao, "csrf=forged&action=ready"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A supervisor has no desk.
    let (wang, wang_csrf) = session(&site, "wang").await;
    let not_theirs = send(
        &site,
        post(
            "/api/desk/state",
            &wang,
            &format!("csrf={wang_csrf}&action=ready"),
        ),
    )
    .await;
    assert_eq!(not_theirs.status, StatusCode::FORBIDDEN);
}
