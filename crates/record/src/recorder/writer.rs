//! The recording writer thread: owns every open WAV file, interleaves channels with the
//! mixer and keeps headers valid every second so a killed process leaves playable files.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hound::{SampleFormat, WavSpec, WavWriter};

use super::disk::DiskWatch;
use super::mixer::StereoMixer;
use super::{Channel, RecorderCounters, SAMPLE_RATE};
use crate::fsmode;

/// How often open files get a valid header: at most this much audio is unplayable after a
/// crash.
const HEADER_EVERY: Duration = Duration::from_secs(1);
/// Frames written per block, bounding the writer's scratch memory.
const BLOCK_FRAMES: u64 = 1_600;
/// A recording's write buffer: enough to gather the header's small writes. Audio comes in
/// blocks hound has already gathered (a chunk, about 4.8 KB), which pass straight through;
/// the default 8 KB, times thousands of open recordings, was a tenth of a call's memory.
const WRITE_BUFFER: usize = 256;
/// A WAV data chunk holds at most 4 GiB: about 37 hours of 8 kHz stereo.
const MAX_FRAMES: u64 = (u32::MAX as u64 - 1_024) / 4;

/// What call tasks send to the writer thread.
#[derive(Debug)]
pub(crate) enum WriterMsg {
    /// Create the file of recording `id`.
    Open { id: u64, path: PathBuf },
    /// Samples of one channel starting at frame `start`, shipped by the call at `shipped`.
    Chunk {
        id: u64,
        channel: Channel,
        start: u64,
        samples: Vec<i16>,
        shipped: Instant,
    },
    /// Close the file, padded or cut to `total_samples` frames when given.
    Finish { id: u64, total_samples: Option<u64> },
    /// Write everything, make every header valid, then answer.
    Sync(SyncSender<()>),
}

type Wav = WavWriter<BufWriter<File>>;

/// One open recording on the writer thread.
struct OpenFile {
    path: PathBuf,
    wav: Wav,
    mixer: StereoMixer,
    dirty: bool,
}

/// The writer thread's state.
struct Writer {
    files: HashMap<u64, OpenFile>,
    counters: Arc<RecorderCounters>,
    last_dir: Option<PathBuf>,
}

/// Runs until every sender (the recorder and its recordings) is gone; looks at the free
/// space now and then when there is a floor (`disk`).
pub(crate) fn run(
    rx: Receiver<WriterMsg>,
    counters: Arc<RecorderCounters>,
    mut disk: Option<DiskWatch>,
) {
    let mut writer = Writer {
        files: HashMap::new(),
        counters,
        last_dir: None,
    };
    let mut last_header = Instant::now();
    loop {
        match rx.recv_timeout(HEADER_EVERY / 4) {
            Ok(msg) => writer.handle(msg),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
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
        writer.finish(id, None);
    }
}

impl Writer {
    fn handle(&mut self, msg: WriterMsg) {
        match msg {
            WriterMsg::Open { id, path } => self.open(id, path),
            WriterMsg::Chunk {
                id,
                channel,
                start,
                samples,
                shipped,
            } => {
                self.chunk(id, channel, start, &samples);
                let lag = u64::try_from(shipped.elapsed().as_micros()).unwrap_or(u64::MAX);
                self.counters.lag_micros.store(lag, Ordering::Relaxed);
                self.counters.queued.fetch_sub(1, Ordering::Relaxed);
            }
            WriterMsg::Finish { id, total_samples } => self.finish(id, total_samples),
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
                self.files.insert(
                    id,
                    OpenFile {
                        path,
                        wav,
                        mixer: StereoMixer::default(),
                        dirty: false,
                    },
                );
            }
            Err(error) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(path = %path.display(), %error, "cannot create recording");
            }
        }
    }

    /// Creates the day directory (0750) and the file (0640) with a valid empty header.
    fn create(&mut self, path: &Path) -> Result<Wav, hound::Error> {
        if let Some(dir) = path.parent() {
            if self.last_dir.as_deref() != Some(dir) {
                fsmode::create_private_dir_all(dir)?;
                for level in dir.ancestors().take(3) {
                    fsmode::set_mode(level, fsmode::DIR_MODE)?;
                }
                self.last_dir = Some(dir.to_path_buf());
            }
        }
        let file = fsmode::create_private_file(path)?;
        let spec = WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let mut wav = WavWriter::new(BufWriter::with_capacity(WRITE_BUFFER, file), spec)?;
        wav.flush()?;
        Ok(wav)
    }

    fn chunk(&mut self, id: u64, channel: Channel, start: u64, samples: &[i16]) {
        let Some(file) = self.files.get_mut(&id) else {
            return; // its file could not be created; that was logged once
        };
        let advance = file.mixer.advance_before(start, samples.len() as u64);
        let mut result = emit(file, advance);
        let late = file.mixer.place(channel, start, samples);
        if late > 0 {
            self.counters
                .dropped_samples
                .fetch_add(late, Ordering::Relaxed);
        }
        if result.is_ok() {
            let ready = file.mixer.ready();
            result = emit(file, ready);
        }
        if let Err(error) = result {
            self.fail(id, &error);
        }
    }

    fn finish(&mut self, id: u64, total_samples: Option<u64>) {
        let Some(mut file) = self.files.remove(&id) else {
            return;
        };
        let reached = file.mixer.written() + file.mixer.pending_max();
        let total = total_samples.unwrap_or(reached);
        if total < file.mixer.written() {
            tracing::warn!(path = %file.path.display(), total, written = file.mixer.written(),
                "recording already longer than the call");
        }
        let remaining = total.saturating_sub(file.mixer.written());
        let result = emit(&mut file, remaining).and_then(|()| file.wav.finalize());
        match result {
            Ok(()) => {
                tracing::debug!(path = %file.path.display(), frames = total, "recording finished")
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
            if file.dirty {
                match file.wav.flush() {
                    Ok(()) => file.dirty = false,
                    Err(error) => failed.push((*id, error)),
                }
            }
        }
        for (id, error) in failed {
            self.fail(id, &error);
        }
    }

    /// Gives up on a recording after a write error (disk full): logged once, file closed.
    fn fail(&mut self, id: u64, error: &hound::Error) {
        if let Some(file) = self.files.remove(&id) {
            self.counters.failed.fetch_add(1, Ordering::Relaxed);
            tracing::error!(path = %file.path.display(), %error, "recording write failed; recording stopped");
        }
    }
}

/// Writes `frames` frames from the mixer into the file, in bounded blocks.
fn emit(file: &mut OpenFile, frames: u64) -> Result<(), hound::Error> {
    let room = MAX_FRAMES.saturating_sub(file.mixer.written());
    let mut left = frames.min(room);
    while left > 0 {
        let block = left.min(BLOCK_FRAMES);
        // Exactly 2 × block samples are written, as the sample writer requires.
        let mut out = file.wav.get_i16_writer(block as u32 * 2);
        file.mixer.emit(block as usize, |l, r| {
            out.write_sample(l);
            out.write_sample(r);
        });
        out.flush()?;
        file.dirty = true;
        left -= block;
    }
    let mut beyond = frames.saturating_sub(room);
    if beyond > 0 {
        tracing::warn!(path = %file.path.display(), "recording reached the WAV size limit");
    }
    while beyond > 0 {
        let block = beyond.min(BLOCK_FRAMES);
        file.mixer.emit(block as usize, |_, _| {});
        beyond -= block;
    }
    Ok(())
}
