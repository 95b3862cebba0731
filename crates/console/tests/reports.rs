//! The reports in the console: built as `hotline report` builds them, for a region of the
//! user's scope only, as a table and as CSV.

mod site;

use axum::http::{header, StatusCode};
use chrono::{Duration, Utc};
use hotline_record::{CallId, CallRecord, CallStore, Outcome};
use hotline_routing::SecurityConfig;
use site::{get, send, session, site};

#[tokio::test]
async fn a_supervisor_reads_their_citys_reports_as_tables_and_csv() {
    let site = site(SecurityConfig::default());
    let at = Utc::now() - Duration::minutes(2);
    let mut r = CallRecord::new(CallId::generate(at, 11), "13903790000", at);
    r.region = Some("luoyang".into());
    r.agent = Some("1003".into());
    r.queued_at = Some(at);
    r.answered_at = Some(at + Duration::seconds(6));
    r.ended_at = Some(at + Duration::seconds(70));
    r.outcome = Outcome::Answered;
    let store = CallStore::open(&site.dir.path().join("calls.db")).unwrap();
    store.save(&r).unwrap();
    store.sync().unwrap();

    let (wang, _) = session(&site, "wang").await;
    let service = send(&site, get("/api/reports/service", &wang)).await;
    assert_eq!(service.status, StatusCode::OK, "{}", service.body);
    let table: serde_json::Value = serde_json::from_str(&service.body).unwrap();
    assert!(!table["rows"].as_array().unwrap().is_empty(), "{table}");
    assert!(table["headings"].as_array().unwrap().len() > 3, "{table}");
    let theirs = send(&site, get("/api/reports/service?region=zhengzhou", &wang)).await;
    assert_eq!(theirs.status, StatusCode::FORBIDDEN);
    let csv = send(&site, get("/api/reports/intervals/csv", &wang)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.body.lines().count() > 1, "{}", csv.body);
    assert_eq!(
        send(&site, get("/api/reports/nonsense", &wang))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let (chen, _) = session(&site, "chen").await;
    let province = send(&site, get("/api/reports/origins?region=zhengzhou", &chen)).await;
    assert_eq!(province.status, StatusCode::OK, "{}", province.body);
}

#[tokio::test]
async fn a_report_covers_a_range_of_days_and_intervals_of_the_length_asked() {
    let site = site(SecurityConfig::default());
    let store = CallStore::open(&site.dir.path().join("calls.db")).unwrap();
    let beijing = hotline_report::beijing();
    let today = Utc::now().with_timezone(&beijing).date_naive();
    // A Luoyang call at 10:00 Beijing today and three days ago.
    for (n, days) in [(1, 0), (2, 3)] {
        let day = today - chrono::Days::new(days);
        let at = day
            .and_hms_opt(10, 0, 0)
            .unwrap()
            .and_local_timezone(beijing)
            .unwrap()
            .with_timezone(&Utc);
        let mut r = CallRecord::new(CallId::generate(at, n), "13903790000", at);
        r.region = Some("luoyang".into());
        r.ended_at = Some(at + Duration::seconds(30));
        r.outcome = Outcome::Ivr;
        store.save(&r).unwrap();
    }
    store.sync().unwrap();
    let (wang, _) = session(&site, "wang").await;
    let from = today - chrono::Days::new(3);
    let ask = |q: String| get(&format!("/api/reports/service?{q}"), &wang);
    let rows = |body: &str| -> Vec<String> {
        let t: serde_json::Value = serde_json::from_str(body).unwrap();
        t["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[0].as_str().unwrap().to_string())
            .collect()
    };
    let range = send(&site, ask(format!("from={from}&to={today}"))).await;
    assert_eq!(range.status, StatusCode::OK, "{}", range.body);
    assert_eq!(rows(&range.body), [from.to_string(), today.to_string()]);
    let one_day = send(&site, ask(format!("date={today}"))).await;
    assert_eq!(rows(&one_day.body), [today.to_string()]);
    for bad in [
        format!("from={today}&to={from}"),
        format!("from={from}"),
        format!("from={}&to={today}", today - chrono::Days::new(400)),
        "from=yesterday&to=today".to_string(),
    ] {
        assert_eq!(
            send(&site, ask(bad.clone())).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let hourly = send(
        &site,
        get(
            &format!("/api/reports/intervals?date={today}&minutes=60"),
            &wang,
        ),
    )
    .await;
    assert_eq!(hourly.status, StatusCode::OK, "{}", hourly.body);
    assert!(
        rows(&hourly.body).iter().any(|r| r.contains("10:00")),
        "{}",
        hourly.body
    );
}
