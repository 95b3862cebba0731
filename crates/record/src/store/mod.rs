//! Call records in SQLite, written by one thread fed by a bounded channel so a call task
//! never waits on the database.

mod call_notes;
mod callbacks_sql;
mod cases;
mod journal;
pub mod qa;
mod record;
mod seat_column;
mod seat_reads;
mod seat_time;
mod security;
mod side_table;
mod sql;
mod states;
mod summary;
mod users;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::{fsmode, RecordError};

pub use call_notes::{list_call_notes, save_call_note, CallNote};
pub use cases::{chase_case, close_case, list_cases, open_case, Case, NewCase};
pub use journal::{
    list_handed_on_legs_between, list_legs, list_legs_between, list_monitoring, CallLeg, MonitorUse,
};
pub use record::{
    AbandonStage, CallRecord, Callback, CallbackKind, Direction, HungUpBy, Outcome, UnknownWord,
};
pub use seat_time::{SeatColumn, SeatDay, SeatMillis, SeatQuarter, QUARTER_MS as SEAT_QUARTER_MS};
pub use security::{list_security_events, SecurityEvent};
pub use states::{
    list_agent_states, list_agent_states_between, list_latest_states, AgentStateChange, SeatState,
};
pub use summary::CallSummary;
pub use users::{find_user, list_users, remove_user, save_user, Role, User};

/// Saves the queue holds before `save` has to wait: minutes of state changes at full load.
const QUEUE_DEPTH: usize = 8_192;

/// One write the switch asks of the call store, as a value: the call machine decides what
/// to write and the switch's edge hands it to [`CallStore::write`].
#[derive(Debug, Clone, PartialEq)]
pub enum StoreWrite {
    /// Upsert of a call's whole row ([`CallStore::save`]).
    Record(Box<CallRecord>),
    /// Upsert of one leg of a call ([`CallStore::save_leg`]).
    Leg(Box<CallLeg>),
    /// A callback request ([`CallStore::save_callback`]).
    Callback(Box<Callback>),
    /// The open callbacks of this number were called back ([`CallStore::called_back`]).
    CalledBack(String),
    /// The voicemail at this path ended with no audio ([`CallStore::voicemail_without_audio`]).
    VoicemailWithoutAudio(PathBuf),
    /// One agent state change ([`CallStore::save_agent_state`]).
    AgentState(Box<AgentStateChange>),
    /// One supervision use or refusal ([`CallStore::save_monitor`]).
    Monitor(Box<MonitorUse>),
    /// One security event ([`CallStore::save_security_event`]).
    Security(Box<SecurityEvent>),
}

impl StoreWrite {
    /// What it writes, for the log line when it cannot be queued.
    pub fn what(&self) -> &'static str {
        match self {
            StoreWrite::Record(_) => "call record",
            StoreWrite::Leg(_) => "call leg",
            StoreWrite::Callback(_) => "callback",
            StoreWrite::CalledBack(_) => "called-back mark",
            StoreWrite::VoicemailWithoutAudio(_) => "voicemail without audio",
            StoreWrite::AgentState(_) => "agent state change",
            StoreWrite::Monitor(_) => "monitoring row",
            StoreWrite::Security(_) => "security event",
        }
    }
}

/// What the handles send to the store thread: a write, or a request to answer once every
/// write queued before it is in.
enum StoreMsg {
    Write(StoreWrite),
    /// Close what is still open (shutdown): after every save queued before it.
    FinishUnfinished(DateTime<Utc>, SyncSender<usize>),
    Sync(SyncSender<()>),
}

/// Handle to the call store's writer thread; clone it freely.
#[derive(Clone)]
pub struct CallStore {
    path: Arc<PathBuf>,
    tx: SyncSender<StoreMsg>,
    failed: Arc<AtomicU64>,
    /// Writes queued for the writer thread and not yet written.
    queued: Arc<AtomicU64>,
}

impl std::fmt::Debug for CallStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallStore")
            .field("path", &self.path)
            .finish()
    }
}

impl CallStore {
    /// Opens or creates the database at `path` (mode 0640, WAL) with its schema, and starts
    /// the writer thread.
    pub fn open(path: &Path) -> Result<CallStore, RecordError> {
        let io = |source| RecordError::Io {
            path: path.to_path_buf(),
            source,
        };
        let sqlite = |source| RecordError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        if !path.exists() {
            fsmode::create_private_file(path).map_err(io)?;
        }
        fsmode::set_mode(path, fsmode::FILE_MODE).map_err(io)?;
        let conn = Connection::open(path).map_err(sqlite)?;
        conn.execute_batch(sql::PRAGMAS).map_err(sqlite)?;
        conn.execute_batch(sql::SCHEMA).map_err(sqlite)?;
        conn.execute_batch(journal::SCHEMA).map_err(sqlite)?;
        conn.execute_batch(security::SCHEMA).map_err(sqlite)?;
        conn.execute_batch(qa::SCHEMA).map_err(sqlite)?;
        sql::migrate(&conn).map_err(sqlite)?;
        // A switch that was killed left its calls open: nobody will finish them now.
        let stale = sql::finish_unfinished(&conn, Utc::now()).map_err(sqlite)?;
        if stale > 0 {
            tracing::warn!(db = %path.display(), stale, "call records left open by the last run were closed (ended now, failed unless answered)");
        }
        let failed = Arc::new(AtomicU64::new(0));
        let (tx, rx) = mpsc::sync_channel(QUEUE_DEPTH);
        let queued = Arc::new(AtomicU64::new(0));
        let counters = writer::Counters {
            failed: Arc::clone(&failed),
            queued: Arc::clone(&queued),
        };
        let thread_path = path.to_path_buf();
        thread::Builder::new()
            .name("hotline-callstore".into())
            .spawn(move || writer::run(conn, rx, counters, thread_path))
            .map_err(io)?;
        Ok(CallStore {
            path: Arc::new(path.to_path_buf()),
            tx,
            failed,
            queued,
        })
    }

    /// Queues an upsert of the whole row; call it at every state change of the call.
    ///
    /// Waits only if the database has fallen [`QUEUE_DEPTH`] saves behind, because losing
    /// a call record is worse than a late one.
    pub fn save(&self, record: &CallRecord) -> Result<(), RecordError> {
        self.write(StoreWrite::Record(Box::new(record.clone())))
    }

    /// Queues a callback request (voicemail, callback number, abandoned caller).
    pub fn save_callback(&self, callback: &Callback) -> Result<(), RecordError> {
        self.write(StoreWrite::Callback(Box::new(callback.clone())))
    }

    /// Marks the open callbacks of `number` `called`: an agent's call out reached it.
    pub fn called_back(&self, number: &str) -> Result<(), RecordError> {
        self.write(StoreWrite::CalledBack(number.to_string()))
    }

    /// The voicemail at `path` ended with no audio (the caller hung up at the beep, or the
    /// file could not be written): its row keeps the caller by number, without the file, and
    /// goes when there is no number to call either.
    pub fn voicemail_without_audio(&self, path: &Path) -> Result<(), RecordError> {
        self.write(StoreWrite::VoicemailWithoutAudio(path.to_path_buf()))
    }

    /// Queues one agent state change (`agent_states`).
    pub fn save_agent_state(&self, change: &AgentStateChange) -> Result<(), RecordError> {
        self.write(StoreWrite::AgentState(Box::new(change.clone())))
    }

    /// Queues an upsert of one leg of a call (`legs`): at its start and again at its end.
    pub fn save_leg(&self, leg: &CallLeg) -> Result<(), RecordError> {
        self.write(StoreWrite::Leg(Box::new(leg.clone())))
    }

    /// Queues one supervision use or refusal (`monitoring`).
    pub fn save_monitor(&self, use_: &MonitorUse) -> Result<(), RecordError> {
        self.write(StoreWrite::Monitor(Box::new(use_.clone())))
    }

    /// Queues one security event (`security_events`). Never waits: an attacker must not be
    /// able to stall the switch by setting off brakes; a full queue drops the row (logged).
    pub fn save_security_event(&self, event: &SecurityEvent) -> Result<(), RecordError> {
        self.write(StoreWrite::Security(Box::new(event.clone())))
    }

    /// Queues one write, with the waiting rule of its kind: a call record waits only when
    /// the queue is full (losing a record is worse than a late one), a security event never
    /// waits (dropped, counted), the rest wait.
    pub fn write(&self, write: StoreWrite) -> Result<(), RecordError> {
        let record = matches!(write, StoreWrite::Record(_));
        // Counted before it is sent, so the writer never takes away what was not added.
        self.queued.fetch_add(1, Ordering::Relaxed);
        let sent = self.queue(write, record);
        if sent.is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        sent
    }

    fn queue(&self, write: StoreWrite, record: bool) -> Result<(), RecordError> {
        let gone = RecordError::WriterGone("call store");
        match self.tx.try_send(StoreMsg::Write(write)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Disconnected(_)) => Err(gone),
            Err(TrySendError::Full(StoreMsg::Write(StoreWrite::Security(event)))) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.queued.fetch_sub(1, Ordering::Relaxed);
                tracing::warn!(kind = %event.kind, subject = %event.subject, "call store queue full: security event not saved");
                Ok(())
            }
            Err(TrySendError::Full(msg)) => {
                if record {
                    tracing::warn!(db = %self.path.display(), "call store queue full; waiting");
                }
                self.tx.send(msg).map_err(|_| gone)
            }
        }
    }

    fn send(&self, msg: StoreMsg) -> Result<(), RecordError> {
        self.tx
            .send(msg)
            .map_err(|_| RecordError::WriterGone("call store"))
    }

    /// Closes every record and leg still open, after every save queued so far, and waits
    /// for it: the last thing a stopping switch does. Returns how many calls it closed.
    pub fn finish_unfinished(&self) -> Result<usize, RecordError> {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        self.send(StoreMsg::FinishUnfinished(Utc::now(), done_tx))?;
        done_rx
            .recv()
            .map_err(|_| RecordError::WriterGone("call store"))
    }

    /// Blocks until every save queued so far is committed; for tests and shutdown.
    pub fn sync(&self) -> Result<(), RecordError> {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        self.send(StoreMsg::Sync(done_tx))?;
        done_rx
            .recv()
            .map_err(|_| RecordError::WriterGone("call store"))
    }

    /// Saves that SQLite refused since the store was opened (each was logged).
    pub fn failed_saves(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Writes queued and not yet written (the store's queue depth).
    pub fn queued_writes(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Reads the calls offered at or after `since` (all when `None`), oldest first, without
/// disturbing a running switch: read-only, WAL lets it read while the switch writes.
pub fn list_calls(db: &Path, since: Option<DateTime<Utc>>) -> Result<Vec<CallRecord>, RecordError> {
    let conn = journal::open_read_only(db)?;
    sql::select_since(&conn, since, db)
}

/// The call `id`, read from the hour around the time its id was made; `None` if it is not
/// in the store (or the id carries no time).
pub fn find_call(db: &Path, id: &crate::CallId) -> Result<Option<CallRecord>, RecordError> {
    let Some(at) = id.made_at() else {
        return Ok(None);
    };
    let hour = chrono::Duration::hours(1);
    let calls = list_calls_between(db, at - hour, at + hour)?;
    Ok(calls.into_iter().find(|c| &c.call_id == id))
}

/// Reads the calls offered in `[from, to)`, oldest first (reports), read-only. A long
/// period is read in slices on as many threads as there are cores (up to four), each with
/// its own connection: decoding the rows, not the disk, is what a year costs.
pub fn list_calls_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallRecord>, RecordError> {
    in_slices(from, to, |f, t| {
        let conn = journal::open_read_only(db)?;
        sql::select_between(&conn, Some(f), Some(t), db)
    })
}

/// What the reports count of every call offered in `[from, to)`, oldest first (ties by id):
/// finished calls from their summaries, calls still open from their records.
pub fn list_summaries_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<CallSummary>, RecordError> {
    in_slices(from, to, |f, t| {
        let conn = journal::open_read_only(db)?;
        summary::select_between(&conn, f, t, db)
    })
}

/// The latest `limit` finished calls from caller `number` since `since`, newest first (the
/// agent's screen-pop).
pub fn list_calls_of_caller(
    db: &Path,
    number: &str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<CallSummary>, RecordError> {
    let conn = journal::open_read_only(db)?;
    summary::select_of_caller(&conn, number, since, limit, db)
}

/// The seat time of each quarter hour and region in `[from, to)`, by time, with each
/// agent's latest change, read as one snapshot: `None` when the store keeps none (it was
/// only ever read, never opened by a switch of this version).
pub fn list_seat_quarters_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<SeatTime<SeatQuarter>>, RecordError> {
    seat_time_read(db, |conn| seat_time::select_quarters(conn, from, to))
}

/// The seat time and phone counts of each agent and Beijing day in `[from, to)`, with each
/// agent's latest change, read as one snapshot: `None` when the store keeps none.
pub fn list_seat_days_between(
    db: &Path,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<SeatTime<SeatDay>>, RecordError> {
    seat_time_read(db, |conn| seat_time::select_days(conn, from, to))
}

/// Seat time over a period and each agent's latest change (the stretch they are in now,
/// which the seat time does not hold yet), from one snapshot of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatTime<T> {
    /// The quarters or days.
    pub rows: Vec<T>,
    /// Each agent's latest change, by agent.
    pub latest: Vec<AgentStateChange>,
}

fn seat_time_read<T>(
    db: &Path,
    rows: impl Fn(&Connection) -> rusqlite::Result<Vec<T>>,
) -> Result<Option<SeatTime<T>>, RecordError> {
    let conn = journal::open_read_only(db)?;
    let sqlite = |source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    };
    if !seat_time::kept(&conn).map_err(sqlite)? {
        return Ok(None);
    }
    // One snapshot: a batch committed between the two reads would count a stretch twice or
    // not at all.
    let tx = conn.unchecked_transaction().map_err(sqlite)?;
    let rows = rows(&tx).map_err(sqlite)?;
    let latest = states::latest_changes(&tx, db)?;
    tx.finish().map_err(sqlite)?;
    Ok(Some(SeatTime { rows, latest }))
}

/// Periods at least this long are read in parallel slices.
const SLICE_FROM: chrono::Duration = chrono::Duration::days(28);

/// `read` over `[from, to)`, cut into consecutive slices read at once on scoped threads for
/// a long period, the results joined in time order.
pub(crate) fn in_slices<T: Send>(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    read: impl Fn(DateTime<Utc>, DateTime<Utc>) -> Result<Vec<T>, RecordError> + Sync,
) -> Result<Vec<T>, RecordError> {
    let cores = thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if to - from < SLICE_FROM || cores < 2 {
        return read(from, to);
    }
    let step = (to - from) / i32::try_from(cores).unwrap_or(1);
    let bounds: Vec<(DateTime<Utc>, DateTime<Utc>)> = (0..cores)
        .map(|i| {
            let start = from + step * i32::try_from(i).unwrap_or(0);
            let end = if i + 1 == cores { to } else { start + step };
            (start, end)
        })
        .collect();
    let read = &read;
    let parts: Vec<Result<Vec<T>, RecordError>> = thread::scope(|s| {
        let handles: Vec<_> = bounds
            .iter()
            .map(|(f, t)| s.spawn(move || read(*f, *t)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or(Err(RecordError::WriterGone("report reader")))
            })
            .collect()
    });
    let parts = parts
        .into_iter()
        .collect::<Result<Vec<Vec<T>>, RecordError>>()?;
    // The first slice grows in place: a year's rows are moved once, not at every doubling.
    let total: usize = parts.iter().map(Vec::len).sum();
    let mut parts = parts.into_iter();
    let mut out = parts.next().unwrap_or_default();
    out.reserve(total - out.len());
    for part in parts {
        out.extend(part);
    }
    Ok(out)
}

/// Every callback request, oldest first (`hotline callbacks`).
pub fn list_callbacks(db: &Path) -> Result<Vec<Callback>, RecordError> {
    let conn = journal::open_read_only(db)?;
    callbacks_sql::select_callbacks(&conn).map_err(|source| RecordError::Sqlite {
        path: db.to_path_buf(),
        source,
    })
}
