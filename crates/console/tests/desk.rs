//! The agent's desk: their own state only, and summaries only of calls they answered.

mod site;

use axum::http::StatusCode;
use chrono::{Duration, Utc};
use hotline_acd::NotReady;
use hotline_b2bua::command::{AgentAction, Command};
use hotline_record::{CallId, CallRecord, CallStore, Outcome};
use hotline_routing::SecurityConfig;
use site::{post, send, session, sign_in, site, site_with, Site};

fn answered_by(site: &Site, agent: &str, random: u32) -> CallId {
    answered_in(site, agent, "luoyang", random)
}

fn answered_in(site: &Site, agent: &str, region: &str, random: u32) -> CallId {
    let at = Utc::now() - Duration::minutes(3);
    let id = CallId::generate(at, random);
    let mut r = CallRecord::new(id.clone(), "13903790000", at);
    r.region = Some(region.into());
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

#[tokio::test]
async fn a_case_is_handed_on_due_in_two_working_days_chased_and_closed_in_its_region() {
    let site = site(SecurityConfig::default());
    let (zhao, csrf) = desk(&site).await;
    let luoyang = answered_by(&site, "1003", 3);
    let zhengzhou = answered_in(&site, "1003", "zhengzhou", 4);
    let hand_on = |call: &CallId| {
        format!(
            "csrf={csrf}&call={call}&department=%E5%BE%81%E7%AE%A1%E7%A7%91&question=red+invoice"
        )
    };
    for call in [&luoyang, &zhengzhou] {
        let opened = send(&site, post("/api/desk/case", &zhao, &hand_on(call))).await;
        assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    }
    let opened: serde_json::Value = serde_json::from_str(
        &send(&site, post("/api/desk/case", &zhao, &hand_on(&luoyang)))
            .await
            .body,
    )
    .unwrap();
    let due: chrono::NaiveDate = opened["due"].as_str().unwrap().parse().unwrap();
    let today = Utc::now()
        .with_timezone(&hotline_report::beijing())
        .date_naive();
    let expected = hotline_ivr::Schedule::default().working_days_after(today, 2);
    assert_eq!(due, expected, "two working days (Mon-Fri) from today");

    let (wang, wang_csrf) = session(&site, "wang").await;
    let listed: serde_json::Value =
        serde_json::from_str(&send(&site, site::get("/api/cases", &wang)).await.body).unwrap();
    let cases = listed["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "the two Luoyang cases only: {listed}");
    assert!(cases.iter().all(|c| c["region"] == "luoyang"));
    let id = cases[0]["id"].as_i64().unwrap();
    let chase = send(
        &site,
        post(
            &format!("/api/cases/{id}/chase"),
            &wang,
            &format!("csrf={wang_csrf}"),
        ),
    )
    .await;
    assert_eq!(chase.status, StatusCode::OK, "{}", chase.body);
    let close = send(
        &site,
        post(
            &format!("/api/cases/{id}/close"),
            &wang,
            &format!("csrf={wang_csrf}&answer=called+back"),
        ),
    )
    .await;
    assert_eq!(close.status, StatusCode::OK, "{}", close.body);
    let all = hotline_record::list_cases(&site.dir.path().join("calls.db")).unwrap();
    let closed = all.iter().find(|c| c.id == id).unwrap();
    assert_eq!(
        (closed.chases, closed.closed_by.as_deref()),
        (1, Some("wang"))
    );
    let zz = all.iter().find(|c| c.region == "zhengzhou").unwrap().id;
    let refused = send(
        &site,
        post(
            &format!("/api/cases/{zz}/chase"),
            &wang,
            &format!("csrf={wang_csrf}"),
        ),
    )
    .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "not wang's region");

    // The agent's own list: all three, the open ones first, the answered one last.
    let own: serde_json::Value =
        serde_json::from_str(&send(&site, site::get("/api/desk/cases", &zhao)).await.body).unwrap();
    let own = own.as_array().unwrap();
    assert_eq!(own.len(), 3, "{own:?}");
    assert!(own[..2].iter().all(|c| c["closed_at"].is_null()));
    assert_eq!(own[2]["id"].as_i64(), Some(id));
    let not_an_agent = send(&site, site::get("/api/desk/cases", &wang)).await;
    assert_eq!(not_an_agent.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_desk_offers_the_plans_own_categories_and_departments() {
    let lists = (vec!["发票".to_string()], vec!["一分局".to_string()]);
    let site = site_with(SecurityConfig::default(), Some(lists));
    let (zhao, csrf) = desk(&site).await;
    let call = answered_by(&site, "1003", 5);
    let summary = |category: &str| format!("csrf={csrf}&call={call}&category={category}&note=n");
    let default = send(
        &site,
        post("/api/desk/summary", &zhao, &summary("%E5%85%B6%E4%BB%96")),
    )
    .await;
    assert_eq!(
        default.status,
        StatusCode::BAD_REQUEST,
        "其他 is not in this plan's list"
    );
    let own = send(
        &site,
        post("/api/desk/summary", &zhao, &summary("%E5%8F%91%E7%A5%A8")),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let case = format!("csrf={csrf}&call={call}&department=%E4%B8%80%E5%88%86%E5%B1%80&question=q");
    let handed = send(&site, post("/api/desk/case", &zhao, &case)).await;
    assert_eq!(handed.status, StatusCode::OK, "{}", handed.body);
}
