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
