//! Call recordings: 8 kHz 16-bit stereo WAV files, left = caller, right = what the caller
//! heard, written by one thread so no call task ever waits on the disk.

mod disk;
mod mixer;
mod recording;
mod wav_file;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::{io, thread};

use chrono::{DateTime, Utc};

use crate::call_id::{china, CallId};
use crate::fsmode;
use crate::RecordError;

pub use disk::DEFAULT_MIN_FREE_DISK;
use disk::{DiskState, DiskWatch};
pub use recording::Recording;
use writer::WriterMsg;

/// Samples per second of every recording: G.711's rate, so audio is stored as heard.
pub const SAMPLE_RATE: u32 = 8_000;

/// Messages the writer queue holds: about 330 ms of audio from 5,000 calls, in 100 ms blocks.
const QUEUE_DEPTH: usize = 16_384;
/// The writer thread's nice value: ahead of the media workers (0), so that under load the
/// recordings keep up with the calls instead of queueing seconds of audio in memory
/// (measured at 5,000 calls on 2 cores: 369 MB instead of 1,044 MB at the peak), behind
/// the signalling threads (-10).
const RECORDER_NICE: i32 = -5;
/// The folder under the recordings root that voicemails go to.
pub const VOICEMAIL_DIR: &str = "voicemail";

/// The two sides of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Left: the taxpayer's voice, as it came from the caller's phone.
    Caller,
    /// Right: what the taxpayer heard (the agent, or prompts and music).
    Heard,
}

impl Channel {
    /// This channel's element of a per-channel pair (left first, as in the WAV frame).
    pub(crate) fn of<T>(self, pair: &mut [T; 2]) -> &mut T {
        let [caller, heard] = pair;
        match self {
            Channel::Caller => caller,
            Channel::Heard => heard,
        }
    }
}

/// Counters shared by the handles and the writer thread, read for health checks.
#[derive(Debug, Default)]
pub(crate) struct RecorderCounters {
    /// Recordings whose file could not be created or written (disk full, permissions).
    pub(crate) failed: AtomicU64,
    /// Samples dropped because the writer fell too far behind or they came too late, each
    /// channel's counted (a stereo frame lost is two).
    pub(crate) dropped_samples: AtomicU64,
    /// Blocks of audio handed to the writer and not yet written.
    pub(crate) queued: AtomicU64,
    /// How long the last chunk written waited for the writer, in microseconds.
    pub(crate) lag_micros: AtomicU64,
}

/// Where under the recordings' root the recording of `call` answered at `answered_at` is:
/// `YYYY/MM/DD/<call-id>.wav` by the Beijing date.
pub fn recording_file(call: &CallId, answered_at: DateTime<Utc>) -> PathBuf {
    let day = answered_at
        .with_timezone(&china())
        .format("%Y/%m/%d")
        .to_string();
    PathBuf::from(day).join(format!("{call}.wav"))
}

/// Handle to the recording writer thread; clone it freely.
#[derive(Debug, Clone)]
pub struct Recorder {
    root: Arc<PathBuf>,
    tx: SyncSender<WriterMsg>,
    next_id: Arc<AtomicU64>,
    counters: Arc<RecorderCounters>,
    disk: Arc<DiskState>,
    floor: u64,
}

impl Recorder {
    /// Like [`Recorder::start_with_floor`] with no free-space floor (tests, tools).
    pub fn start(root: PathBuf) -> io::Result<Recorder> {
        Recorder::start_with_floor(root, 0)
    }

    /// Makes `root` and `root/voicemail` mode 0750 (creating them if needed) and starts the
    /// writer thread; while the disk has less than `min_free` bytes free, no new recording
    /// starts ([`RecordError::DiskBelowFloor`]).
    pub fn start_with_floor(root: PathBuf, min_free: u64) -> io::Result<Recorder> {
        let voicemail = root.join(VOICEMAIL_DIR);
        fsmode::create_private_dir_all(&voicemail)?;
        // Folders made before, or under a loose umask, are closed up too.
        for dir in [&root, &voicemail] {
            fsmode::set_mode(dir, fsmode::DIR_MODE)?;
        }
        let counters = Arc::new(RecorderCounters::default());
        let disk = Arc::new(DiskState::default());
        let watch =
            (min_free > 0).then(|| DiskWatch::start(root.clone(), min_free, Arc::clone(&disk)));
        let (tx, rx) = mpsc::sync_channel(QUEUE_DEPTH);
        let thread_counters = Arc::clone(&counters);
        thread::Builder::new()
            .name("hotline-recorder".into())
            .spawn(move || {
                crate::thread_nice::favour_this_thread("recorder", RECORDER_NICE);
                writer::run(rx, thread_counters, watch)
            })?;
        Ok(Recorder {
            root: Arc::new(root),
            tx,
            next_id: Arc::new(AtomicU64::new(1)),
            counters,
            disk,
            floor: min_free,
        })
    }

    /// Starts the recording of `call`, answered at `answered_at`, in
    /// `root/YYYY/MM/DD/<call-id>.wav` (Beijing date); the file is created on the writer
    /// thread. Refused while the disk is below its free-space floor.
    pub fn open(
        &self,
        call: &CallId,
        answered_at: DateTime<Utc>,
    ) -> Result<Recording, RecordError> {
        if let Some(free) = self.disk.low() {
            return Err(RecordError::DiskBelowFloor {
                path: self.root.to_path_buf(),
                free,
                floor: self.floor,
            });
        }
        let path = self.path_for(call, answered_at);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let open = WriterMsg::Open {
            id,
            path: path.clone(),
        };
        Recording::new(id, path, self.tx.clone(), Arc::clone(&self.counters), open)
    }

    /// Where the recording of `call` answered at `answered_at` is written.
    pub fn path_for(&self, call: &CallId, answered_at: DateTime<Utc>) -> PathBuf {
        self.root.join(recording_file(call, answered_at))
    }

    /// The directory recordings are written under.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Blocks until everything queued so far is written and every open file's header is
    /// valid; for tests and shutdown, never for a call task.
    pub fn sync(&self) -> Result<(), RecordError> {
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        self.tx
            .send(WriterMsg::Sync(done_tx))
            .map_err(|_| RecordError::WriterGone("recording"))?;
        done_rx
            .recv()
            .map_err(|_| RecordError::WriterGone("recording"))
    }

    /// Whether new recordings are held back because the disk is below its floor.
    pub fn disk_low(&self) -> bool {
        self.disk.low().is_some()
    }

    /// Recordings that failed (file not created, disk full) since start.
    pub fn failed_recordings(&self) -> u64 {
        self.counters.failed.load(Ordering::Relaxed)
    }

    /// Chunks of audio handed to the writer thread and not yet written.
    pub fn queued_chunks(&self) -> u64 {
        self.counters.queued.load(Ordering::Relaxed)
    }

    /// How long the last chunk of audio written waited for the writer thread: the
    /// recordings' write lag.
    pub fn write_lag(&self) -> std::time::Duration {
        std::time::Duration::from_micros(self.counters.lag_micros.load(Ordering::Relaxed))
    }

    /// Samples lost since start because the writer was too far behind or they came late,
    /// each channel's counted.
    pub fn dropped_samples(&self) -> u64 {
        self.counters.dropped_samples.load(Ordering::Relaxed)
    }
}
