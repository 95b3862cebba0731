//! The recording writer thread: owns every open WAV file, appends the frames each call
//! mixed, and keeps headers valid every second so a killed process leaves playable files.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::disk::DiskWatch;
use super::wav_file::WavFile;
use super::RecorderCounters;
use crate::fsmode;

/// How often open files get a valid header: at most this much audio is unplayable after a
/// crash.
const HEADER_EVERY: Duration = Duration::from_secs(1);
/// How long the writer naps between rounds while audio comes: 10 ms, a few hundred blocks
/// at 5,000 calls, well inside the queue.
const NAP: Duration = Duration::from_millis(10);
/// Frames of silence written per block when a recording is padded to its call's length.
const PAD_BLOCK: u64 = 1_600;

/// What call tasks send to the writer thread.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    /// Create the file of recording `id`.
    Open { id: u64, path: PathBuf },
    /// The recording's next frames, interleaved (caller, heard, caller, …), shipped by the
    /// call at `shipped`.
    Frames {
        id: u64,
        frames: Vec<i16>,
        shipped: Instant,
    },
    /// The recording's next `frames` frames are silence.
    Silence { id: u64, frames: u64 },
    /// Close the file, padded with silence to `total_frames`.
    Finish { id: u64, total_frames: u64 },
    /// Write everything, make every header valid, then answer.
    Sync(SyncSender<()>),
}

/// One open recording on the writer thread.
struct OpenFile {
    path: PathBuf,
    wav: WavFile,
}

/// The writer thread's state.
struct Writer {
    files: HashMap<u64, OpenFile>,
    counters: Arc<RecorderCounters>,
    last_dir: Option<PathBuf>,
    /// The bytes of the block being written: one buffer for every file.
    scratch: Vec<u8>,
}

/// Runs until every sender (the recorder and its recordings) is gone; looks at the free
/// space now and then when there is a floor (`disk`).
///
/// While audio comes it drains the queue, then naps for [`NAP`] instead of waiting on it:
/// a thread that waits must be woken by every block sent, a context switch per block and
/// a wake-up paid by the call tasks, tens of thousands a second at 5,000 calls (the
/// writer's CPU at 700 calls/s: 2.1–2.3 s with the nap, 3.3–3.7 s without). Only when a
/// round found nothing does it wait.
pub(crate) fn run(
    rx: Receiver<WriterMsg>,
    counters: Arc<RecorderCounters>,
    mut disk: Option<DiskWatch>,
) {
    let mut writer = Writer {
        files: HashMap::new(),
        counters,
        last_dir: None,
        scratch: Vec::new(),
    };
    let mut last_header = Instant::now();
    let mut busy = false;
    loop {
        let first = if busy {
            thread::sleep(NAP);
            rx.try_recv().map_err(|e| match e {
                TryRecvError::Empty => RecvTimeoutError::Timeout,
                TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
            })
        } else {
            rx.recv_timeout(HEADER_EVERY / 4)
        };
        busy = match first {
            Ok(msg) => {
                writer.handle(msg);
                writer.drain(&rx, last_header + HEADER_EVERY);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        if last_header.elapsed() >= HEADER_EVERY {
            writer.flush_headers();
            last_header = Instant::now();
        }
        if let Some(watch) = disk.as_mut() {
            watch.tick();
        }
    }
    let ids: Vec<u64> = writer.files.keys().copied().collect();
    for id in ids {
        writer.finish(id, 0);
    }
}

impl Writer {
    /// Handles what is queued until the queue is empty or `until`: a writer that has fallen
    /// behind still makes its headers valid and looks at the disk on time.
    fn drain(&mut self, rx: &Receiver<WriterMsg>, until: Instant) {
        while Instant::now() < until {
            match rx.try_recv() {
                Ok(msg) => self.handle(msg),
                Err(_) => return,
            }
        }
    }

    fn handle(&mut self, msg: WriterMsg) {
        match msg {
            WriterMsg::Open { id, path } => self.open(id, path),
            WriterMsg::Frames {
                id,
                frames,
                shipped,
            } => {
                self.frames(id, &frames);
                let lag = u64::try_from(shipped.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.counters.lag_micros.store(lag, Ordering::Relaxed);
                self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            }
            WriterMsg::Silence { id, frames } => self.silence(id, frames),
            WriterMsg::Finish { id, total_frames } => self.finish(id, total_frames),
            WriterMsg::Sync(done) => {
                self.flush_headers();
                let _ = done.send(());
            }
        }
    }

    fn open(&mut self, id: u64, path: PathBuf) {
        match self.create(&path) {
            Ok(wav) => {
                tracing::debug!(path = %path.display(), "recording started");
                self.files.insert(id, OpenFile { path, wav });
            }
            Err(error) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(path = %path.display(), %error, "cannot create recording");
            }
        }
    }

    /// Creates the day directory (0750) and the file (0640) with a valid empty header.
    fn create(&mut self, path: &Path) -> io::Result<WavFile> {
        if let Some(dir) = path.parent() {
            if self.last_dir.as_deref() != Some(dir) {
                fsmode::create_private_dir_all(dir)?;
                for level in dir.ancestors().take(3) {
                    fsmode::set_mode(level, fsmode::DIR_MODE)?;
                }
                self.last_dir = Some(dir.to_path_buf());
            }
        }
        WavFile::start(fsmode::create_private_file(path)?)
    }

    fn frames(&mut self, id: u64, frames: &[i16]) {
        let Some(file) = self.files.get_mut(&id) else {
            return; // its file could not be created; that was logged once
        };
        match file.wav.append(frames, &mut self.scratch) {
            Ok(0) => {}
            Ok(beyond) => {
                self.counters
                    .dropped_samples
                    .fetch_add(beyond * 2, Ordering::Relaxed);
                tracing::warn!(path = %file.path.display(), "recording reached the WAV size limit");
            }
            Err(error) => self.fail(id, &error),
        }
    }

    fn silence(&mut self, id: u64, frames: u64) {
        let Some(file) = self.files.get_mut(&id) else {
            return;
        };
        if let Err(error) = file.wav.pad(frames, PAD_BLOCK, &mut self.scratch) {
            self.fail(id, &error);
        }
    }

    fn finish(&mut self, id: u64, total_frames: u64) {
        let Some(mut file) = self.files.remove(&id) else {
            return;
        };
        let missing = total_frames.saturating_sub(file.wav.frames());
        let result = file
            .wav
            .pad(missing, PAD_BLOCK, &mut self.scratch)
            .and_then(|()| file.wav.update_header());
        match result {
            Ok(()) => {
                tracing::debug!(path = %file.path.display(), frames = file.wav.frames(), "recording finished")
            }
            Err(error) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(path = %file.path.display(), %error, "recording not finished");
            }
        }
    }

    fn flush_headers(&mut self) {
        let mut failed = Vec::new();
        for (id, file) in &mut self.files {
            if file.wav.header_lags() {
                if let Err(error) = file.wav.update_header() {
                    failed.push((*id, error));
                }
            }
        }
        for (id, error) in failed {
            self.fail(id, &error);
        }
    }

    /// Gives up on a recording after a write error (disk full): logged once, file closed.
    fn fail(&mut self, id: u64, error: &io::Error) {
        if let Some(mut file) = self.files.remove(&id) {
            // What was written stays playable: rewriting the header needs no new space.
            let _ = file.wav.update_header();
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(path = %file.path.display(), %error, "recording write failed; recording stopped");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn idle_writer() -> Writer {
        Writer {
            files: HashMap::new(),
            counters: Arc::default(),
            last_dir: None,
            scratch: Vec::new(),
        }
    }

    #[test]
    fn a_round_stops_at_its_deadline_though_more_is_queued() {
        let (tx, rx) = mpsc::sync_channel(16);
        let mut writer = idle_writer();
        for _ in 0..10 {
            tx.send(WriterMsg::Silence { id: 7, frames: 1 }).unwrap();
        }
        writer.drain(&rx, Instant::now());
        assert_eq!(
            rx.try_iter().count(),
            10,
            "nothing handled past the deadline"
        );
        for _ in 0..10 {
            tx.send(WriterMsg::Silence { id: 7, frames: 1 }).unwrap();
        }
        writer.drain(&rx, Instant::now() + Duration::from_secs(60));
        assert!(rx.try_recv().is_err(), "all handled before it");
    }
}
