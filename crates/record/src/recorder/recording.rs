//! The per-call side of a recording: buffers samples and hands batches to the writer
//! thread without ever blocking the call's task.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;

use super::mixer::overwrite_or_extend;
use super::writer::WriterMsg;
use super::{Channel, RecorderCounters};
use crate::RecordError;

/// Samples per batch sent to the writer: 150 ms, so a call costs ~13 messages a second.
const BATCH: usize = 1_200;
/// Batches kept while the writer queue is full: about 30 s of stereo audio.
const MAX_BACKLOG: usize = 400;

/// Samples of one channel not yet sent, starting at sample index `start`.
#[derive(Debug)]
struct Batch {
    start: u64,
    samples: Vec<i16>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            start: 0,
            samples: Vec::with_capacity(BATCH + 320),
        }
    }

    fn end(&self) -> u64 {
        self.start + self.samples.len() as u64
    }

    /// Writes `samples` at `at` if that overlaps or continues this batch; false if the batch
    /// must be sent first. Gaps are never filled here: silence in a batch would overwrite
    /// audio an earlier batch holds for the same samples.
    fn try_put(&mut self, at: u64, samples: &[i16]) -> bool {
        if self.samples.is_empty() {
            self.start = at;
        } else if at < self.start || at > self.end() {
            return false;
        }
        let offset = (at - self.start) as usize;
        overwrite_or_extend(&mut self.samples, offset, samples);
        true
    }
}

/// One call's recording in progress; dropped without [`Recording::finish`] it still closes
/// its file, at the length the audio reached.
#[derive(Debug)]
pub struct Recording {
    id: u64,
    path: PathBuf,
    tx: SyncSender<WriterMsg>,
    counters: Arc<RecorderCounters>,
    batches: [Batch; 2],
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
            batches: [Batch::new(), Batch::new()],
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
    /// Never blocks: if the writer is behind, batches wait here and go on a later push.
    pub fn push(&mut self, channel: Channel, at_sample: u64, samples: &[i16]) {
        if samples.is_empty() || self.writer_gone {
            return;
        }
        if !channel.of(&mut self.batches).try_put(at_sample, samples) {
            self.ship(channel);
            channel.of(&mut self.batches).try_put(at_sample, samples);
        }
        if channel.of(&mut self.batches).samples.len() >= BATCH {
            self.ship(channel);
        }
        if !self.backlog.is_empty() {
            self.drain_backlog();
        }
    }

    /// Ends the recording; the writer pads or cuts it to exactly `total_samples` frames so
    /// the file lasts as long as the call. Never blocks.
    pub fn finish(mut self, total_samples: u64) {
        self.close(Some(total_samples));
    }

    fn close(&mut self, total_samples: Option<u64>) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.ship(Channel::Caller);
        self.ship(Channel::Heard);
        self.backlog.push_back(WriterMsg::Finish {
            id: self.id,
            total_samples,
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

    /// Moves the channel's batch to the backlog.
    fn ship(&mut self, channel: Channel) {
        let batch = channel.of(&mut self.batches);
        if batch.samples.is_empty() {
            return;
        }
        let samples = std::mem::replace(&mut batch.samples, Vec::with_capacity(BATCH + 320));
        if self.backlog.len() >= MAX_BACKLOG {
            self.counters
                .dropped_samples
                .fetch_add(samples.len() as u64, Ordering::Relaxed);
            if !self.warned_backlog {
                self.warned_backlog = true;
                tracing::warn!(path = %self.path.display(), "recording writer far behind: dropping audio");
            }
            return;
        }
        self.backlog.push_back(WriterMsg::Chunk {
            id: self.id,
            channel,
            start: batch.start,
            samples,
            shipped: std::time::Instant::now(),
        });
        self.counters.queued.fetch_add(1, Ordering::Relaxed);
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
    use super::*;

    #[test]
    fn contiguous_and_overlapping_pushes_share_a_batch() {
        let mut b = Batch::new();
        assert!(b.try_put(100, &[1; 160]));
        assert!(b.try_put(260, &[2; 160]));
        assert!(b.try_put(400, &[3; 40]));
        assert_eq!(b.start, 100);
        assert_eq!(b.samples.len(), 340);
        assert_eq!((b.samples[299], b.samples[300]), (2, 3));
    }

    #[test]
    fn gaps_and_earlier_pushes_need_a_new_batch() {
        let mut b = Batch::new();
        assert!(b.try_put(1_000, &[1; 160]));
        assert!(!b.try_put(999, &[1; 10]));
        assert!(!b.try_put(1_161, &[1; 10]));
    }
}
