//! The wallboard's data: the switch's live board (callers waiting, agents by state) with
//! today's counts, cut to what the signed-in user may see, as JSON (`/api/board`) and
//! pushed as server-sent events on every change (`/api/live`): one stream per open page,
//! fed by the switch's board channel, so pages never poll.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use hotline_b2bua::{Board, RegionBoard};
use hotline_record::Role;
use serde::Serialize;
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::SignedIn;
use crate::live_views::Detail;
use crate::sessions::Session;
use crate::today::{Day, Today};
use crate::Console;

/// How often an open wallboard gets today's counts even when nothing live changed (calls
/// that ended are counted from the store).
const RECOUNT: Duration = Duration::from_secs(5);

/// One region as the wallboard shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionView {
    /// Live: waiting, agents by state.
    #[serde(flatten)]
    pub live: RegionBoard,
    /// Counted from the store.
    pub today: TodayView,
}

/// Today's counts with their rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TodayView {
    /// The counts.
    #[serde(flatten)]
    pub counts: Today,
    /// Service level, 0–1.
    pub service_level: Option<f64>,
    /// Connection rate, 0–1.
    pub connection_rate: Option<f64>,
    /// The five 100%s, 0–1: accepted, announced, recorded, answered or followed up, late
    /// cases chased.
    pub hundreds: [Option<f64>; 5],
}

impl From<Today> for TodayView {
    fn from(counts: Today) -> TodayView {
        TodayView {
            service_level: counts.service_level(),
            connection_rate: counts.connection_rate(),
            hundreds: counts.hundreds(),
            counts,
        }
    }
}

/// The whole wallboard for one user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardView {
    /// The server's time, so that the page counts waits on the server's clock.
    pub at: DateTime<Utc>,
    /// The regions the user sees.
    pub regions: Vec<RegionView>,
    /// Their total: the province, or the supervisor's own regions.
    pub total: TodayView,
    /// Callers waiting in all of them.
    pub waiting: u32,
    /// Today's quarter hours so far in all of them, for the chart.
    pub quarters: Vec<QuarterView>,
    /// Whether the user sees the whole province (the reports offer it as one region).
    pub province: bool,
    /// The switch's load, for who sees the whole province: callers it refused are in no
    /// region's counts.
    pub switch: Option<SwitchLoad>,
}

/// How full the switch is and how many callers it turned away, since it started.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SwitchLoad {
    /// Calls in progress now, as the ceiling counts them.
    pub calls: u32,
    /// Calls in progress at most.
    pub ceiling: u32,
    /// New calls refused with 503 because the switch was full or behind (not those over a
    /// source's rate: a scanner's flood is no crowd of callers).
    pub refused: u64,
}

/// One quarter hour of today in the chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuarterView {
    /// The quarter's number in the Beijing day (0 = 00:00–00:15).
    pub quarter: u32,
    /// Calls offered in it.
    pub offered: u32,
    /// Answered.
    pub answered: u32,
    /// Abandoned.
    pub abandoned: u32,
}

/// A region's board with the numbers of confidential callers (举报/投诉) on agents' phones
/// masked: nobody in the console is cleared for them.
fn masked(r: &RegionBoard) -> RegionBoard {
    let mut r = r.clone();
    for call in r.seats.iter_mut().filter_map(|s| s.call.as_mut()) {
        if crate::confidential(call.skill.as_deref()) {
            call.caller = hotline_report::mask_number(&call.caller);
        }
    }
    r
}

/// Whether the role has a wallboard.
fn watches(session: &Session) -> bool {
    matches!(
        session.role,
        Role::Supervisor | Role::Inspector | Role::Admin
    )
}

/// `board` as `session` may see it, with today's counts.
pub fn view(
    session: &Session,
    board: &Board,
    today: &std::collections::HashMap<String, Day>,
) -> BoardView {
    let regions: Vec<RegionView> = board
        .regions
        .iter()
        .filter(|r| session.scope.sees(&r.region))
        .map(|r| RegionView {
            live: masked(r),
            today: today
                .get(&r.region)
                .map(|d| d.total)
                .unwrap_or_default()
                .into(),
        })
        .collect();
    let mut total = Today::default();
    let mut quarters: std::collections::BTreeMap<u32, Today> = Default::default();
    for r in &regions {
        total.add(&r.today.counts);
        let day = today.get(&r.live.region).map(|d| &d.quarters);
        for (q, t) in day.into_iter().flatten() {
            quarters.entry(*q).or_default().add(t);
        }
    }
    let quarters = quarters
        .into_iter()
        .map(|(quarter, t)| QuarterView {
            quarter,
            offered: t.offered,
            answered: t.answered,
            abandoned: t.abandoned,
        })
        .collect();
    let province = matches!(session.scope, crate::sessions::Scope::All);
    BoardView {
        at: Utc::now(),
        waiting: regions.iter().map(|r| r.live.waiting).sum(),
        regions,
        total: total.into(),
        quarters,
        province,
        switch: province.then(|| SwitchLoad {
            calls: board.in_progress,
            ceiling: board.ceiling,
            refused: board.shed.ceiling + board.shed.lag,
        }),
    }
}

impl Console {
    /// The user's board now.
    async fn board_for(&self, session: &Session) -> BoardView {
        let board = Arc::clone(&self.board.borrow());
        let today = self.today.get(&self.db).await;
        view(session, &board, &today)
    }
}

/// `GET /api/board`: the wallboard once, as JSON.
pub async fn board(State(console): State<Arc<Console>>, SignedIn(session): SignedIn) -> Response {
    if !watches(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    Json(console.board_for(&session).await).into_response()
}

/// What a live feed asks for.
#[derive(Debug, Default, serde::Deserialize)]
pub struct LiveAsk {
    /// `0` for the wallboard, which shows no agents one by one.
    seats: Option<u8>,
}

/// `GET /api/live[?seats=0]`: the wallboard (or, with seats, the agents' page) as
/// server-sent events, one `board` event at once and another on every change.
pub async fn live(
    State(console): State<Arc<Console>>,
    SignedIn(session): SignedIn,
    Query(ask): Query<LiveAsk>,
) -> Response {
    if !watches(&session) {
        return StatusCode::FORBIDDEN.into_response();
    }
    let detail = match ask.seats {
        Some(0) => Detail::Wallboard,
        _ => Detail::Seats,
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Event, Infallible>>(4);
    let mut changes = console.board.clone();
    tokio::spawn(async move {
        let mut last: Option<u64> = None;
        let mut recount = tokio::time::interval(RECOUNT);
        loop {
            // Signed out, expired or removed: the stream ends.
            if console.session(&session.token).await.is_none() {
                return;
            }
            let view = console.shared_view(&session, detail).await;
            if last != Some(view.news) {
                let event = Event::default().event("board").data(&*view.data);
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
                last = Some(view.news);
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = recount.tick() => {}
                _ = tx.closed() => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::Scope;
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    fn region(id: &str, waiting: u32) -> RegionBoard {
        RegionBoard {
            region: id.into(),
            name: id.into(),
            waiting,
            oldest_since: None,
            agents: BTreeMap::new(),
            not_ready: BTreeMap::new(),
            seats: Vec::new(),
        }
    }

    #[test]
    fn a_supervisor_sees_their_regions_and_their_total_only() {
        let board = Board {
            regions: vec![region("luoyang", 2), region("zhengzhou", 5)],
            calls: BTreeMap::from([("menu", 1), ("talking", 2)]),
            in_progress: 4,
            shed: hotline_b2bua::admission::ShedCounts {
                ceiling: 40,
                source_rate: 2,
                lag: 0,
            },
            ceiling: 4,
            ..Default::default()
        };
        let day = |answered, asked| {
            let t = Today {
                answered,
                asked,
                ..Today::default()
            };
            Day {
                total: t,
                quarters: [(36, t)].into(),
            }
        };
        let today = HashMap::from([
            ("luoyang".to_string(), day(3, 4)),
            ("zhengzhou".to_string(), day(9, 9)),
        ]);
        let mut session = crate::sessions::tests_session(Role::Supervisor);
        session.scope = Scope::Regions(BTreeSet::from(["luoyang".to_string()]));
        let v = view(&session, &board, &today);
        let ids: Vec<&str> = v.regions.iter().map(|r| r.live.region.as_str()).collect();
        assert_eq!(ids, ["luoyang"]);
        assert_eq!((v.waiting, v.total.counts.answered), (2, 3));
        assert_eq!(v.total.connection_rate, Some(0.75));
        assert_eq!(v.quarters.len(), 1);
        assert_eq!((v.quarters[0].quarter, v.quarters[0].answered), (36, 3));
        assert_eq!(v.switch, None, "the switch's load is the province's");
        session.scope = Scope::All;
        let v = view(&session, &board, &today);
        assert_eq!((v.waiting, v.total.counts.answered), (7, 12));
        assert_eq!(
            v.switch,
            Some(SwitchLoad {
                calls: 4,
                ceiling: 4,
                refused: 40
            })
        );
    }
}
