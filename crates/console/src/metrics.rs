//! `/metrics` in the Prometheus text format (with the `prometheus-client` crate): the live
//! board (callers waiting and the longest wait per region, agents by state per region),
//! today's calls per region as the reports count them, the call store's failed saves, and
//! the process's memory and open files. Figures only, no numbers or names, but of every
//! region: open to scrapers on this machine (loopback) without a session, to others only
//! with a session that sees the whole province.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::auth::{cookie, SESSION_COOKIE};
use crate::Console;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Region {
    region: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RegionState {
    region: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RegionCount {
    region: String,
    count: String,
}

/// The process's resident memory and open files, from `/proc/self`.
fn process() -> (i64, i64) {
    let rss_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|kib| kib.parse::<i64>().ok())
        })
        .unwrap_or(0);
    let files = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as i64);
    (rss_kib * 1024, files)
}

/// `GET /metrics`.
pub async fn metrics(
    State(console): State<Arc<Console>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    // Beyond this machine, only for someone who sees the whole province anyway.
    let province = match cookie(&headers, SESSION_COOKIE) {
        Some(token) => console.session(token).await.is_some_and(|s| {
            s.scope == crate::sessions::Scope::All && s.role != hotline_record::Role::Agent
        }),
        None => false,
    };
    if !peer.ip().is_loopback() && !province {
        return (
            StatusCode::FORBIDDEN,
            "metrics are for this machine's scrapers",
        )
            .into_response();
    }
    let mut registry = Registry::with_prefix("hotline");
    let waiting = Family::<Region, Gauge>::default();
    let longest = Family::<Region, Gauge>::default();
    let agents = Family::<RegionState, Gauge>::default();
    let today = Family::<RegionCount, Gauge>::default();
    let board = Arc::clone(&console.board.borrow());
    let now = chrono::Utc::now();
    for r in &board.regions {
        let region = Region {
            region: r.region.clone(),
        };
        waiting.get_or_create(&region).set(i64::from(r.waiting));
        let wait = r.oldest_since.map_or(0, |s| (now - s).num_seconds().max(0));
        longest.get_or_create(&region).set(wait);
        for (state, n) in &r.agents {
            let labels = RegionState {
                region: r.region.clone(),
                state: (*state).to_string(),
            };
            agents.get_or_create(&labels).set(i64::from(*n));
        }
    }
    let counts = console.today.get(&console.db).await;
    for (region, day) in counts.iter() {
        let t = &day.total;
        for (count, n) in [
            ("offered", t.offered),
            ("asked", t.asked),
            ("answered", t.answered),
            ("abandoned", t.abandoned),
            ("overflowed", t.overflowed),
        ] {
            let labels = RegionCount {
                region: region.clone(),
                count: count.to_string(),
            };
            today.get_or_create(&labels).set(i64::from(n));
        }
    }
    registry.register(
        "callers_waiting",
        "Callers waiting for an agent (ringing ones too)",
        waiting,
    );
    registry.register(
        "longest_wait_seconds",
        "How long the longest-waiting caller has waited",
        longest,
    );
    registry.register("agents", "Agents by state", agents);
    registry.register(
        "calls_today",
        "Today's calls (Beijing day) as the reports count them",
        today,
    );
    let failed = Gauge::<i64>::default();
    failed.set(
        console
            .store
            .as_ref()
            .map_or(0, |s| s.failed_saves() as i64),
    );
    registry.register(
        "store_failed_saves",
        "Call store writes that failed since the start",
        failed,
    );
    let (rss, files) = process();
    let memory = Gauge::<i64>::default();
    memory.set(rss);
    registry.register(
        "process_resident_memory_bytes",
        "Resident memory of the switch",
        memory,
    );
    let open = Gauge::<i64>::default();
    open.set(files);
    registry.register(
        "process_open_fds",
        "Open files and sockets of the switch",
        open,
    );
    crate::switch_gauges::register(
        &mut registry,
        console.gauges.as_ref(),
        &board,
        console.store.as_ref(),
    );
    let mut text = String::new();
    if encode(&mut text, &registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let kind = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(kind))],
        text,
    )
        .into_response()
}
