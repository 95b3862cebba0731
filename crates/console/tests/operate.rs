//! A supervisor's commands from the console: sent to the switch as the CLI's typed
//! commands, with who gave them, only for agents of their own regions, only with the page's
//! CSRF token; monitoring rings the user's own phone; the hours are the province's.

mod site;

use axum::http::StatusCode;
use hotline_acd::NotReady;
use hotline_b2bua::command::{AgentAction, Command, HoursSetting, MonitorMode};
use hotline_routing::SecurityConfig;
use site::{post, send, session, site};

#[tokio::test]
async fn a_supervisor_pauses_their_agent_and_nobody_elses() {
    let site = site(SecurityConfig::default());
    let (wang, csrf) = session(&site, "wang").await;
    let paused = send(
        &site,
        post(
            "/api/agents/1003/state",
            &wang,
            &format!("csrf={csrf}&action=pause&reason=lunch"),
        ),
    )
    .await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert!(paused.body.contains("\"ok\":true"), "{}", paused.body);
    let other = send(
        &site,
        post(
            "/api/agents/1001/state",
            &wang,
            &format!("csrf={csrf}&action=logout"),
        ),
    )
    .await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "a Zhengzhou agent is not wang's"
    );
    let forged = send(
        &site,
        post("/api/agents/1003/state", &wang, "csrf=forged&action=ready"),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let orders = site.orders.lock().unwrap().clone();
    assert_eq!(
        orders,
        [(
            "wang".to_string(),
            Command::Agent {
                id: "1003".into(),
                action: AgentAction::Pause {
                    reason: NotReady::Lunch
                }
            }
        )]
    );
}

#[tokio::test]
async fn monitoring_rings_the_users_own_phone_and_the_hours_are_the_provinces() {
    let site = site(SecurityConfig::default());
    let (wang, wang_csrf) = session(&site, "wang").await;
    let no_phone = send(
        &site,
        post(
            "/api/agents/1003/monitor",
            &wang,
            &format!("csrf={wang_csrf}&mode=listen"),
        ),
    )
    .await;
    assert_eq!(no_phone.status, StatusCode::CONFLICT, "{}", no_phone.body);
    let hours = send(
        &site,
        post("/api/hours", &wang, &format!("csrf={wang_csrf}&hours=open")),
    )
    .await;
    assert_eq!(
        hours.status,
        StatusCode::FORBIDDEN,
        "a city's supervisor does not force the hours"
    );

    let (chen, csrf) = session(&site, "chen").await;
    let barge = send(
        &site,
        post(
            "/api/agents/1001/monitor",
            &chen,
            &format!("csrf={csrf}&mode=barge"),
        ),
    )
    .await;
    assert_eq!(barge.status, StatusCode::OK, "{}", barge.body);
    let hours = send(
        &site,
        post("/api/hours", &chen, &format!("csrf={csrf}&hours=closed")),
    )
    .await;
    assert_eq!(hours.status, StatusCode::OK, "{}", hours.body);
    let orders = site.orders.lock().unwrap().clone();
    assert_eq!(
        orders,
        [
            (
                "chen".to_string(),
                Command::Monitor {
                    supervisor: "1950".into(),
                    agent: "1001".into(),
                    mode: MonitorMode::Barge
                }
            ),
            (
                "chen".to_string(),
                Command::Hours {
                    hours: HoursSetting::Closed
                }
            ),
        ]
    );
}
