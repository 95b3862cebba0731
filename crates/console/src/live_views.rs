//! The live feeds' views, made once per change and shared: every open wallboard of the same
//! scope gets the same serialised JSON, instead of each page's task cloning and serialising
//! the whole board (a province's wallboards would otherwise cost the switch's cores more
//! than its calls). A view is made again only when the switch's board or today's counts
//! changed (their `Arc`s are new).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};

use crate::sessions::{Scope, Session};
use crate::Console;

/// What a feed shows: the wallboard needs no seats, the agents' page does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Detail {
    /// Regions, counts and the chart.
    Wallboard,
    /// As the wallboard, with every agent's seat.
    Seats,
}

/// One shared view.
#[derive(Debug, Clone)]
pub struct SharedView {
    /// Of the board and counts with these addresses.
    made_from: (usize, usize),
    /// Changes when anything but the server's time changed.
    pub news: u64,
    /// The view as JSON.
    pub data: Arc<str>,
}

/// The views made so far, by scope and detail.
#[derive(Debug, Default)]
pub struct LiveViews {
    views: Mutex<HashMap<(String, Detail), SharedView>>,
}

fn scope_key(scope: &Scope) -> String {
    match scope {
        Scope::All => "*".to_string(),
        Scope::Regions(rs) => rs.iter().cloned().collect::<Vec<_>>().join(","),
    }
}

impl Console {
    /// `session`'s view now, made at most once per change for everyone of its scope.
    pub(crate) async fn shared_view(&self, session: &Session, detail: Detail) -> SharedView {
        let board = Arc::clone(&self.board.borrow());
        let today = self.today.get(&self.db).await;
        let made_from = (
            Arc::as_ptr(&board) as usize,
            Arc::as_ptr(&today) as *const u8 as usize,
        );
        let key = (scope_key(&session.scope), detail);
        let views = &self.live_views.views;
        if let Some(v) = lock(views).get(&key).filter(|v| v.made_from == made_from) {
            return v.clone();
        }
        let mut view = crate::live::view(session, &board, &today);
        if detail == Detail::Wallboard {
            for r in &mut view.regions {
                r.live.seats.clear();
            }
        }
        let mut hasher = DefaultHasher::new();
        // The time alone changing is no news.
        serde_json::to_string(&(&view.regions, &view.total, &view.switch))
            .unwrap_or_default()
            .hash(&mut hasher);
        let shared = SharedView {
            made_from,
            news: hasher.finish(),
            data: serde_json::to_string(&view).unwrap_or_default().into(),
        };
        lock(views).insert(key, shared.clone());
        shared
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing panics while holding it; a map of views stays whole if something did.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_b2bua::{Board, RegionBoard, Seat};
    use hotline_record::Role;

    fn board(waiting: u32) -> Arc<Board> {
        Arc::new(Board {
            regions: vec![RegionBoard {
                region: "luoyang".into(),
                name: "洛阳".into(),
                waiting,
                oldest_since: None,
                agents: Default::default(),
                not_ready: Default::default(),
                seats: vec![Seat {
                    id: "1003".into(),
                    name: None,
                    state: "available",
                    reason: None,
                    since: chrono::Utc::now(),
                    calls_today: 0,
                    reachable: true,
                    call: None,
                }],
            }],
            ..Default::default()
        })
    }

    #[tokio::test]
    async fn every_feed_of_a_scope_shares_one_view_per_change() {
        let dir = tempfile::tempdir().unwrap();
        let (tx, rx) = tokio::sync::watch::channel(board(0));
        let console = Console::new(dir.path().join("calls.db"), None, rx, Default::default());
        let session = crate::sessions::tests_session(Role::Supervisor);
        let a = console.shared_view(&session, Detail::Wallboard).await;
        let b = console.shared_view(&session, Detail::Wallboard).await;
        assert!(Arc::ptr_eq(&a.data, &b.data), "made once, shared");
        assert!(
            !a.data.contains("1003"),
            "the wallboard has no seats: {}",
            a.data
        );
        let seats = console.shared_view(&session, Detail::Seats).await;
        assert!(seats.data.contains("1003"));

        tx.send_replace(board(0));
        let same = console.shared_view(&session, Detail::Wallboard).await;
        assert_eq!(
            same.news, a.news,
            "a new board that shows the same is no news"
        );
        tx.send_replace(board(2));
        let waiting = console.shared_view(&session, Detail::Wallboard).await;
        assert_ne!(waiting.news, a.news);
    }
}
