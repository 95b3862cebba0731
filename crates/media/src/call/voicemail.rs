//! A voicemail: the caller's voice alone as a mono 8 kHz 16-bit WAV, written by a thread of
//! its own so the call's task never waits on the disk.
//!
//! Audio is placed by the caller's RTP timestamps (gaps become silence) and shipped to the
//! writer a second at a time; the file lasts exactly from the start to the stop (or `max`).
//! The header is brought up to date with every second written, so a switch that dies
//! mid-message still leaves a playable file of what was said until then.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufWriter};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use hound::{SampleFormat, WavSpec, WavWriter};
use tokio::sync::mpsc::UnboundedSender;

use super::MediaEvent;

/// Voicemails hold a taxpayer's words: owner writes, the supervisors' group reads (严格保密).
const FILE_MODE: u32 = 0o640;
/// Mode of directories created for voicemails.
const DIR_MODE: u32 = 0o750;
/// Samples shipped to the writer at once: one second.
const BATCH: usize = 8_000;
/// Samples kept back before shipping, so a packet arriving up to 100 ms late still lands.
const HOLD: usize = 800;
/// The longest voicemail taken, whatever `max` says: a day, far below the 4 GiB WAV limit.
const MAX_LENGTH: Duration = Duration::from_secs(86_400);

/// What the call's task sends to a voicemail's writer.
#[derive(Debug)]
enum Msg {
    /// The next samples of the file.
    Audio(Vec<i16>),
    /// Pad or cut to this many samples, close, report.
    Finish(u64),
}

/// A voicemail being recorded, owned by the call's task.
#[derive(Debug)]
pub(crate) struct Voicemail {
    path: PathBuf,
    start_at: u64,
    max: u64,
    /// Samples already shipped: `buf` holds the file from here on.
    shipped: u64,
    buf: Vec<i16>,
    /// The writer; an unbounded channel because the voicemail's own `max` bounds what it
    /// can ever hold, and the task must never block.
    tx: Option<Sender<Msg>>,
    events: UnboundedSender<MediaEvent>,
}

impl Voicemail {
    /// Starts recording to `path`, `now` samples after the answer, for at most `max`.
    pub(crate) fn start(
        path: PathBuf,
        now: u64,
        max: Duration,
        events: UnboundedSender<MediaEvent>,
    ) -> Voicemail {
        let (tx, rx) = mpsc::channel();
        let thread_path = path.clone();
        let thread_events = events.clone();
        let spawned = thread::Builder::new()
            .name("hotline-voicemail".into())
            .spawn(move || write(&thread_path, rx, &thread_events));
        let tx = match spawned {
            Ok(_) => Some(tx),
            Err(error) => {
                tracing::error!(path = %path.display(), %error, "voicemail not recorded: cannot spawn its writer");
                None
            }
        };
        let max_samples = u64::try_from(max.min(MAX_LENGTH).as_millis())
            .unwrap_or(u64::MAX)
            .saturating_mul(8);
        tracing::debug!(path = %path.display(), ?max, "voicemail started");
        Voicemail {
            path,
            start_at: now,
            max: max_samples,
            shipped: 0,
            buf: Vec::with_capacity(BATCH + HOLD + 1_600),
            tx,
            events,
        }
    }

    /// When `max` is reached, in samples since the answer.
    pub(crate) fn deadline(&self) -> u64 {
        self.start_at.saturating_add(self.max)
    }

    /// Adds the caller's `samples` placed at `at` samples since the answer.
    pub(crate) fn push(&mut self, at: u64, samples: &[i16]) {
        // Cut what lies before the start, in audio already shipped, or past `max`.
        let from = at.max(self.start_at + self.shipped);
        let skip = usize::try_from(from - at).unwrap_or(usize::MAX);
        let rel = from - self.start_at;
        let room = usize::try_from(self.max.saturating_sub(rel)).unwrap_or(usize::MAX);
        let Some(samples) = samples.get(skip..) else {
            return;
        };
        let samples = samples.get(..room.min(samples.len())).unwrap_or_default();
        if samples.is_empty() {
            return;
        }
        // A gap (lost packets, silence suppression) is silence in the file.
        while self.shipped + (self.buf.len() as u64) < rel {
            let missing = rel - self.shipped - self.buf.len() as u64;
            let n = usize::try_from(missing).unwrap_or(BATCH).min(BATCH);
            self.buf.resize(self.buf.len() + n, 0);
            self.ship_ready();
        }
        let offset = usize::try_from(rel - self.shipped).unwrap_or(usize::MAX);
        let overlap = self.buf.len().saturating_sub(offset).min(samples.len());
        if let Some(dst) = self.buf.get_mut(offset..offset + overlap) {
            dst.copy_from_slice(samples.get(..overlap).unwrap_or_default());
        }
        self.buf
            .extend_from_slice(samples.get(overlap..).unwrap_or_default());
        self.ship_ready();
    }

    /// Stops at `now` (or at `max` if that came first); the writer closes the file and sends
    /// `VoicemailDone`.
    pub(crate) fn finish(mut self, now: u64) {
        let total = now.saturating_sub(self.start_at).min(self.max);
        let keep = usize::try_from(total.saturating_sub(self.shipped)).unwrap_or(usize::MAX);
        self.buf.truncate(keep);
        let last = std::mem::take(&mut self.buf);
        let sent = match self.tx.take() {
            Some(tx) => tx.send(Msg::Audio(last)).is_ok() && tx.send(Msg::Finish(total)).is_ok(),
            None => false,
        };
        if !sent {
            let _ = self.events.send(MediaEvent::VoicemailDone {
                path: std::mem::take(&mut self.path),
                samples: 0,
            });
        }
    }

    /// Ships whole seconds, keeping [`HOLD`] back for late packets.
    fn ship_ready(&mut self) {
        while self.buf.len() >= BATCH + HOLD {
            let chunk: Vec<i16> = self.buf.drain(..BATCH).collect();
            self.shipped += BATCH as u64;
            if let Some(tx) = &self.tx {
                if tx.send(Msg::Audio(chunk)).is_err() {
                    self.tx = None;
                }
            }
        }
    }
}

/// The writer thread: creates the file, appends audio, closes it at `Finish` (or when the
/// task vanished) and reports the samples in the file (0 if it could not be written).
fn write(path: &Path, rx: Receiver<Msg>, events: &UnboundedSender<MediaEvent>) {
    let samples = match write_file(path, &rx) {
        Ok(samples) => {
            tracing::debug!(path = %path.display(), samples, "voicemail written");
            samples
        }
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "voicemail not written");
            // Wait for the end anyway, so the switch hears of it when the caller stopped.
            while let Ok(msg) = rx.recv() {
                if matches!(msg, Msg::Finish(_)) {
                    break;
                }
            }
            0
        }
    };
    let _ = events.send(MediaEvent::VoicemailDone {
        path: path.to_path_buf(),
        samples,
    });
}

fn write_file(path: &Path, rx: &Receiver<Msg>) -> Result<u64, hound::Error> {
    let mut wav = WavWriter::new(BufWriter::new(create(path)?), spec())?;
    let mut written = 0u64;
    let mut total = None;
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Audio(samples) => {
                for s in samples {
                    wav.write_sample(s)?;
                }
                // The caller is on the callback list from the first word: keep the file
                // readable should the process be killed before `Finish`.
                wav.flush()?;
                written = u64::from(wav.len());
            }
            Msg::Finish(n) => {
                total = Some(n);
                break;
            }
        }
    }
    // A task that vanished without `Finish` leaves the file at the audio it sent.
    let total = total.unwrap_or(written);
    while written < total {
        wav.write_sample(0i16)?;
        written += 1;
    }
    let samples = u64::from(wav.len());
    wav.finalize()?;
    Ok(samples)
}

fn spec() -> WavSpec {
    WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: SampleFormat::Int,
    }
}

/// Creates the parent directories (0750) and a new file (0640); an existing file is an
/// error, so no voicemail is ever overwritten.
fn create(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(DIR_MODE)
            .create(dir)?;
    }
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    // The umask may have cleared the group's read bit.
    fs::set_permissions(path, Permissions::from_mode(FILE_MODE))?;
    Ok(file)
}
