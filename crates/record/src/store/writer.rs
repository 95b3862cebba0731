//! The call store's writer thread: one SQLite connection fed by the handles' channel,
//! writing what has queued up in one transaction at a time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;

use rusqlite::Connection;

use super::{callbacks_sql, journal, seat_time, security, sql, states, StoreMsg, StoreWrite};

/// Messages written in one transaction at most: under load one commit (one WAL sync) covers
/// many state changes, while a quiet switch still commits each change at once.
const BATCH: usize = 256;

/// The writer thread: whatever has queued up (at most [`BATCH`]) is written in one committed
/// transaction, until every handle is dropped; `sync` is answered after its commit.
/// What the writer counts for the handles.
pub(super) struct Counters {
    /// Writes that failed.
    pub failed: Arc<AtomicU64>,
    /// Writes queued and not yet written.
    pub queued: Arc<AtomicU64>,
}

pub(super) fn run(conn: Connection, rx: Receiver<StoreMsg>, counters: Counters, path: PathBuf) {
    let failed = &counters.failed;
    let mut clock = seat_time::SeatClock::default();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(msg) => batch.push(msg),
                Err(_) => break,
            }
        }
        let in_transaction = conn.execute_batch("BEGIN").is_ok();
        let mut synced = Vec::new();
        let mut finished = Vec::new();
        let mut written = 0;
        for msg in batch {
            match msg {
                StoreMsg::Sync(done) => synced.push(done),
                StoreMsg::FinishUnfinished(at, done) => {
                    let closed = sql::finish_unfinished(&conn, at).unwrap_or_else(|error| {
                        tracing::error!(db = %path.display(), %error, "open call records not closed");
                        0
                    });
                    finished.push((done, closed));
                }
                StoreMsg::Write(w) => {
                    if write(&conn, w, &mut clock, failed, &path) {
                        written += 1;
                    }
                    counters.queued.fetch_sub(1, Ordering::Relaxed);
                }
            }
        }
        // The batch's seat time, summed over its state changes, in the same transaction: if
        // it cannot be added, the batch is not committed, so the seat time never disagrees
        // with the state rows.
        let flushed = clock.flush(&conn);
        if let Err(error) = &flushed {
            tracing::error!(db = %path.display(), %error, "seat time not added");
        }
        if in_transaction {
            let committed = flushed.and_then(|()| conn.execute_batch("COMMIT"));
            if let Err(error) = committed {
                let _ = conn.execute_batch("ROLLBACK");
                clock.forget();
                failed.fetch_add(written as u64, Ordering::Relaxed);
                tracing::error!(db = %path.display(), %error, written, "call records not committed");
            }
        }
        for done in synced {
            let _ = done.send(());
        }
        for (done, closed) in finished {
            let _ = done.send(closed);
        }
    }
}

/// One write's statement; false (counted in `failed`, logged) if SQLite refused it.
fn write(
    conn: &Connection,
    msg: StoreWrite,
    clock: &mut seat_time::SeatClock,
    failed: &AtomicU64,
    path: &Path,
) -> bool {
    let mut msg = msg;
    let result = match &mut msg {
        StoreWrite::Record(record) => sql::upsert(conn, record),
        StoreWrite::Callback(cb) => callbacks_sql::insert_callback(conn, cb),
        StoreWrite::CalledBack(number) => callbacks_sql::mark_called(conn, number),
        StoreWrite::VoicemailWithoutAudio(path) => {
            callbacks_sql::voicemail_without_audio(conn, path)
        }
        // Seat time first: it closes the agent's last stretch, found by their latest row;
        // it counts only once the row is in.
        StoreWrite::AgentState(s) => {
            let written = clock
                .stage(conn, s)
                .and_then(|()| states::insert_state(conn, s));
            match written {
                Ok(()) => clock.confirm(conn.last_insert_rowid()),
                Err(_) => clock.discard(),
            }
            written
        }
        StoreWrite::Leg(l) => journal::upsert_leg(conn, l),
        StoreWrite::Monitor(m) => journal::insert_monitor(conn, m),
        StoreWrite::Security(e) => security::insert(conn, e),
    };
    if let Err(error) = result {
        failed.fetch_add(1, Ordering::Relaxed);
        let what = match &msg {
            StoreWrite::Record(r) => format!("call record {}", r.call_id),
            StoreWrite::Callback(c) => format!("callback of {}", c.call_id),
            StoreWrite::CalledBack(n) => format!("callback to {n}"),
            StoreWrite::VoicemailWithoutAudio(p) => format!("empty voicemail {}", p.display()),
            StoreWrite::AgentState(s) => format!("state change of agent {}", s.agent),
            StoreWrite::Leg(l) => format!("leg of {}", l.call_id),
            StoreWrite::Monitor(m) => format!("monitoring by {}", m.supervisor),
            StoreWrite::Security(e) => format!("security event {} {}", e.kind, e.subject),
        };
        tracing::error!(db = %path.display(), %error, "{what} not saved");
        return false;
    }
    true
}
