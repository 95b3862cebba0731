//! The per-call side of a recording: mixes the two channels into stereo frames as the
//! call's packets come, and hands blocks of frames to the writer thread without ever
//! blocking the call's task.
//!
//! The mixing is done here, by each call, rather than on the writer thread: the call holds
//! only the audio a late packet may still land in, and the writer, one thread for every
//! call, only appends.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use super::mixer::StereoMixer;
use super::writer::WriterMsg;
use super::{Channel, RecorderCounters};
use crate::RecordError;

/// Frames gathered before a block goes to the writer: 100 ms, so a call costs about 10
/// messages a second.
const BLOCK_FRAMES: u64 = 800;
/// Blocks kept while the writer queue is full: about 40 s of audio.
const MAX_BACKLOG: usize = 400;

/// One call's recording in progress; dropped without [`Recording::finish`] it still closes
/// its file, at the length the audio reached.
#[derive(Debug)]
pub struct Recording {
    id: u64,
    path: PathBuf,
    tx: SyncSender<WriterMsg>,
    counters: Arc<RecorderCounters>,
    mixer: StereoMixer,
    backlog: VecDeque<WriterMsg>,
    writer_gone: bool,
    finished: bool,
    warned_backlog: bool,
}

impl Recording {
    pub(super) fn new(
        id: u64,
        path: PathBuf,
        tx: SyncSender<WriterMsg>,
        counters: Arc<RecorderCounters>,
        open: WriterMsg,
    ) -> Result<Recording, RecordError> {
        let mut recording = Recording {
            id,
            path,
            tx,
            counters,
            mixer: StereoMixer::default(),
            backlog: VecDeque::with_capacity(16),
            writer_gone: false,
            finished: false,
            warned_backlog: false,
        };
        recording.backlog.push_back(open);
        recording.drain_backlog();
        if recording.writer_gone {
            recording.finished = true;
            return Err(RecordError::WriterGone("recording"));
        }
        Ok(recording)
    }

    /// The WAV file this recording is written to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds `samples` of `channel` starting at sample index `at_sample` since the answer.
    ///
    /// Never blocks: if the writer is behind, blocks wait here and go on a later push.
    pub fn push(&mut self, channel: Channel, at_sample: u64, samples: &[i16]) {
        if samples.is_empty() || self.writer_gone {
            return;
        }
        let advance = self.mixer.advance_before(at_sample, samples.len() as u64);
        self.ship(advance);
        let late = self.mixer.place(channel, at_sample, samples);
        if late > 0 {
            self.counters
                .dropped_samples
                .fetch_add(late, Ordering::Relaxed);
        }
        let ready = self.mixer.ready();
        if ready >= BLOCK_FRAMES {
            self.ship(ready);
        }
        if !self.backlog.is_empty() {
            self.drain_backlog();
        }
    }

    /// Ends the recording; it is padded or cut to exactly `total_samples` frames so the file
    /// lasts as long as the call. Never blocks.
    pub fn finish(mut self, total_samples: u64) {
        self.close(Some(total_samples));
    }

    fn close(&mut self, total_samples: Option<u64>) {
        if self.finished {
            return;
        }
        self.finished = true;
        let written = self.mixer.written();
        let held = self.mixer.pending_max();
        let total = total_samples.unwrap_or(written + held);
        if total < written {
            tracing::warn!(path = %self.path.display(), total, written,
                "recording already longer than the call");
        }
        // What is held goes out, up to the call's end; the writer pads the rest.
        self.ship(total.saturating_sub(written).min(held));
        self.backlog.push_back(WriterMsg::Finish {
            id: self.id,
            total_frames: total,
        });
        self.drain_backlog();
        if self.backlog.is_empty() || self.writer_gone {
            return;
        }
        // The queue is full: a helper thread waits for room so the call task does not.
        let tx = self.tx.clone();
        let backlog = std::mem::take(&mut self.backlog);
        let spawned = thread::Builder::new()
            .name("hotline-rec-finish".into())
            .spawn(move || {
                for msg in backlog {
                    if tx.send(msg).is_err() {
                        break;
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(path = %self.path.display(), %error, "recording not closed: cannot spawn");
        }
    }

    /// Mixes the next `frames` frames and moves them to the backlog: what is held as one
    /// block of frames, the rest (nothing held for it: both phones silent, a hold) as a
    /// count of silent frames, so a long silence costs no memory.
    fn ship(&mut self, frames: u64) {
        let audio = frames.min(self.mixer.pending_max());
        if audio > 0 {
            if self.backlog.len() >= MAX_BACKLOG {
                self.drop_block(audio);
            } else {
                let mut block = Vec::with_capacity((audio * 2) as usize);
                self.mixer.emit(audio as usize, &mut block);
                self.backlog.push_back(WriterMsg::Frames {
                    id: self.id,
                    frames: block,
                    shipped: std::time::Instant::now(),
                });
                self.counters.queued.fetch_add(1, Ordering::Relaxed);
            }
        }
        let silence = frames - audio;
        if silence > 0 {
            self.mixer.pass(silence);
            self.queue_silence(silence);
        }
    }

    /// The writer is far behind: a block's audio is lost (both channels' samples counted),
    /// and stands in the file as silence so what follows stays in its place.
    fn drop_block(&mut self, frames: u64) {
        self.mixer.pass(frames);
        self.counters
            .dropped_samples
            .fetch_add(frames * 2, Ordering::Relaxed);
        if !self.warned_backlog {
            self.warned_backlog = true;
            tracing::warn!(path = %self.path.display(), "recording writer far behind: dropping audio");
        }
        self.queue_silence(frames);
    }

    /// Queues `frames` silent frames, added to the last message when it is silence too, so
    /// a writer that stays behind does not grow the backlog without end.
    fn queue_silence(&mut self, frames: u64) {
        if let Some(WriterMsg::Silence { frames: queued, .. }) = self.backlog.back_mut() {
            *queued += frames;
            return;
        }
        self.backlog.push_back(WriterMsg::Silence {
            id: self.id,
            frames,
        });
    }

    /// Sends as much of the backlog as the queue takes, in order.
    fn drain_backlog(&mut self) {
        while let Some(msg) = self.backlog.pop_front() {
            match self.tx.try_send(msg) {
                Ok(()) => {}
                Err(TrySendError::Full(msg)) => {
                    self.backlog.push_front(msg);
                    return;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.writer_gone = true;
                    self.backlog.clear();
                    tracing::error!(path = %self.path.display(), "recording writer thread is gone");
                    return;
                }
            }
        }
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.close(None);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A writer that reads nothing for 100 s of a call: audio is dropped and counted, the
    /// backlog stays bounded, and what reaches the writer still adds up, block after block,
    /// to the call's length.
    #[test]
    fn a_writer_far_behind_costs_audio_not_places_and_the_backlog_stays_bounded() {
        let (tx, rx) = mpsc::sync_channel(1);
        let counters = Arc::new(RecorderCounters::default());
        let path = PathBuf::from("behind.wav");
        let open = WriterMsg::Open {
            id: 1,
            path: path.clone(),
        };
        let mut rec = Recording::new(1, path, tx, Arc::clone(&counters), open).unwrap();
        let packets = 5_000u64;
        for p in 0..packets {
            rec.push(Channel::Caller, p * 160, &[1; 160]);
            rec.push(Channel::Heard, p * 160, &[2; 160]);
        }
        assert!(
            rec.backlog.len() <= MAX_BACKLOG + 1,
            "{}",
            rec.backlog.len()
        );
        assert!(counters.dropped_samples.load(Ordering::Relaxed) > 0);
        rec.finish(packets * 160);
        let (mut audio, mut silence) = (0u64, 0u64);
        for msg in rx.iter() {
            match msg {
                WriterMsg::Frames { frames, .. } => {
                    assert!(frames.chunks(2).all(|f| f == [1, 2]));
                    audio += frames.len() as u64 / 2;
                }
                WriterMsg::Silence { frames, .. } => silence += frames,
                WriterMsg::Finish { total_frames, .. } => {
                    assert_eq!(total_frames, packets * 160);
                    break;
                }
                WriterMsg::Open { .. } | WriterMsg::Sync(_) => {}
            }
        }
        assert_eq!(audio + silence, packets * 160, "every frame in its place");
        let dropped = counters.dropped_samples.load(Ordering::Relaxed);
        assert_eq!(silence * 2, dropped, "what was dropped stands as silence");
    }
}
