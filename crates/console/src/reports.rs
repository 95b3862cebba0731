//! The centre's reports in the browser: every report of `hotline report` (built by the same
//! code, `hotline_report::build`) for a Beijing day, month or range of days and a region of the user's
//! scope, as a table the page charts, or as CSV to download. Confidential callers' numbers
//! are masked (nobody in the console is cleared).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hotline_record::{CallSummary, Role};
use hotline_report::build::{self, By, Kind, What};
use hotline_report::{Period, Report};
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::sessions::{Scope, Session};
use crate::Console;

/// What the page asks for.
#[derive(Debug, Default, Deserialize)]
pub struct Ask {
    /// A Beijing day (`2026-12-05`); today when neither it nor `month` is given.
    date: Option<String>,
    /// A Beijing month (`2026-12`).
    month: Option<String>,
    /// The first Beijing day of a range (with `to`).
    from: Option<String>,
    /// The last Beijing day of a range, included.
    to: Option<String>,
    /// One region; a supervisor of several regions must pick one.
    region: Option<String>,
    /// Interval length for `intervals` and `topics`.
    minutes: Option<u32>,
}

/// A report as the page draws it.
#[derive(Debug, Serialize)]
pub struct Table {
    /// Its title.
    title: String,
    /// Column headings, in the centres' words.
    headings: Vec<&'static str>,
    /// Column keys.
    keys: Vec<&'static str>,
    /// Rows of cell texts.
    rows: Vec<Vec<String>>,
}

/// The plan's facts a report needs: agents' regions (staffing) and the centre.
#[derive(Debug, Clone, Default)]
pub struct PlanFacts {
    /// Each agent and their region.
    pub agents: Vec<(String, String)>,
    /// The provincial centre's region.
    pub centre: String,
}

/// The region a report is for: the one asked (in scope), everything for a province-wide
/// user, the only region of a one-city supervisor.
fn region_for(session: &Session, asked: Option<&str>) -> Result<Option<String>, Response> {
    let asked = asked.filter(|r| !r.is_empty());
    match (&session.scope, asked) {
        (_, Some(r)) if session.scope.sees(r) => Ok(Some(r.to_string())),
        (_, Some(_)) => Err((StatusCode::FORBIDDEN, "that region is not yours").into_response()),
        (Scope::All, None) => Ok(None),
        (Scope::Regions(rs), None) if rs.len() == 1 => Ok(rs.iter().next().cloned()),
        (Scope::Regions(_), None) => {
            Err((StatusCode::BAD_REQUEST, "pick one of your regions").into_response())
        }
    }
}

/// The longest range of days a report covers: a year.
const MAX_DAYS: i64 = 366;

fn period_of(ask: &Ask) -> Result<Period, Response> {
    let bad =
        |e: hotline_report::PeriodError| (StatusCode::BAD_REQUEST, e.to_string()).into_response();
    let given = |v: &Option<String>| v.clone().filter(|d| !d.is_empty());
    match (given(&ask.from), given(&ask.to)) {
        (Some(from), Some(to)) => return range(&from, &to),
        (None, None) => {}
        _ => {
            return Err((StatusCode::BAD_REQUEST, "a range needs both from and to").into_response())
        }
    }
    match (given(&ask.date), given(&ask.month)) {
        (Some(d), _) => Period::day(&d).map_err(bad),
        (None, Some(m)) => Period::month(&m).map_err(bad),
        (None, None) => {
            let today = chrono::Utc::now().with_timezone(&hotline_report::beijing());
            Ok(Period::of_days(today.date_naive(), 1))
        }
    }
}

/// The Beijing days `from` to `to`, both included.
fn range(from: &str, to: &str) -> Result<Period, Response> {
    let day = |t: &str| chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").ok();
    let refuse = |why: &str| (StatusCode::BAD_REQUEST, why.to_string()).into_response();
    let (Some(first), Some(last)) = (day(from), day(to)) else {
        return Err(refuse("days are written 2026-12-05"));
    };
    let days = (last - first).num_days() + 1;
    if days < 1 {
        return Err(refuse("the range ends before it starts"));
    }
    if days > MAX_DAYS {
        return Err(refuse("a range is at most a year"));
    }
    Ok(Period::of_days(first, days))
}

impl Console {
    /// Builds report `name` as `session` may see it.
    async fn report(&self, session: &Session, name: &str, ask: &Ask) -> Result<Report, Response> {
        if !matches!(
            session.role,
            Role::Supervisor | Role::Inspector | Role::Admin
        ) {
            return Err(StatusCode::FORBIDDEN.into_response());
        }
        let kind = Kind::named(name).ok_or_else(|| StatusCode::NOT_FOUND.into_response())?;
        let region = region_for(session, ask.region.as_deref())?;
        let period = period_of(ask)?;
        let minutes = ask.minutes.unwrap_or(15).clamp(1, 1440);
        let (db, facts) = (self.db.clone(), self.plan.get().report_plan.clone());
        let built = tokio::task::spawn_blocking(move || {
            let hidden = |c: &CallSummary| crate::confidential(c.skill.as_deref());
            let what = What {
                kind,
                period,
                region: region.as_deref(),
                minutes,
                by: By::Day,
                agents: Some(facts.agents),
                centre: facts.centre,
                hidden: &hidden,
                now: chrono::Utc::now(),
            };
            build::build(&db, &what)
        })
        .await;
        match built {
            Ok(Ok(report)) => Ok(report),
            _ => Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "the call store could not be read",
            )
                .into_response()),
        }
    }
}

/// `GET /api/reports/{name}`: the report as a table.
pub async fn table(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    Query(ask): Query<Ask>,
) -> Response {
    match console.report(&session, &name, &ask).await {
        Ok(r) => Json(Table {
            title: r.title.clone(),
            headings: r.columns.iter().map(|c| c.heading).collect(),
            keys: r.columns.iter().map(|c| c.key).collect(),
            rows: r
                .rows
                .iter()
                .map(|row| row.values.iter().map(|v| v.text()).collect())
                .collect(),
        })
        .into_response(),
        Err(refused) => refused,
    }
}

/// `GET /api/reports/{name}/csv`: the report as a CSV download.
pub async fn csv(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Path(name): Path<String>,
    Query(ask): Query<Ask>,
) -> Response {
    match console.report(&session, &name, &ask).await {
        Ok(r) => {
            let file = format!("attachment; filename=\"hotline-{name}.csv\"");
            let disposition = HeaderValue::from_str(&file)
                .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                r.to_csv(),
            )
                .into_response()
        }
        Err(refused) => refused,
    }
}
