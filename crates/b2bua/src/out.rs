//! What the call logic asks of the world, as values: datagrams to send, store writes,
//! replies to the operator and notes for the log.
//! The logic only queues them; the edge (the run loop) carries them out after each step,
//! so the logic never touches a socket or the database and can be driven in tests alone.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use hotline_record::{CallLeg, CallRecord, StoreWrite};
use hotline_sip::transaction::Transmit;

use crate::command::Reply;
use crate::media_ctl::{MediaCommand, MediaHandle, MediaId, PortId};
use crate::step::ReplyTo;

/// One thing for the edge to do.
#[derive(Debug)]
pub enum Output {
    /// A SIP message to send.
    Transmit(Transmit),
    /// A write to the call store.
    Store(StoreWrite),
    /// A call has ended: its media (if it has any still running) is stopped, so its
    /// recording is closed, and then its final record is written.
    FinalRecord {
        /// The call's media task.
        media: Option<MediaId>,
        /// The record as it ends.
        record: Box<CallRecord>,
    },
    /// A command to a media task.
    Media(MediaId, MediaCommand),
    /// A granted port the core no longer needs: close it.
    ReleasePort(PortId),
    /// Bind this many more media ports and grant them ([`crate::step::Input::Ports`]).
    WantPorts(usize),
    /// The answer to an operator's command.
    Reply(ReplyTo, Result<Reply, String>),
    /// Something worth a log line.
    Note(crate::notes::Note),
    /// A voice prompt recorded from a phone, closed at `path` (8 kHz mono WAV): to become
    /// the prompt, audited, and live with a reload.
    PromptRecorded {
        /// The prompt's name.
        prompt: String,
        /// The take.
        path: std::path::PathBuf,
        /// Its length in 8 kHz samples.
        samples: u64,
        /// The phone it was recorded from.
        phone: String,
        /// Who asked for it.
        asked_by: Option<String>,
    },
}

/// The outputs of the step in progress, in the order they were made. Shared with the
/// core's media handles and port grants, whose commands and releases fall in line.
#[derive(Debug, Default, Clone)]
pub struct Outputs(Arc<Mutex<VecDeque<Output>>>);

impl Outputs {
    /// Queues one output.
    pub fn push(&self, output: Output) {
        self.queue().push_back(output);
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Output>> {
        // Nothing panics while holding it, and a queue of values stays whole if one did.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a store write.
    pub fn write(&self, write: StoreWrite) {
        self.push(Output::Store(write));
    }

    /// Queues an upsert of the call's row as it is now.
    pub fn record(&self, record: &CallRecord) {
        self.write(StoreWrite::Record(Box::new(record.clone())));
    }

    /// Queues an upsert of one leg as it is now.
    pub fn leg(&self, leg: &CallLeg) {
        self.write(StoreWrite::Leg(Box::new(leg.clone())));
    }

    /// Queues a datagram.
    pub fn transmit(&self, t: Transmit) {
        self.push(Output::Transmit(t));
    }

    /// Queues the end of a call: its media stopped, then its final record written.
    pub fn final_record(&self, media: Option<MediaHandle>, record: &CallRecord) {
        self.push(Output::FinalRecord {
            media: media.map(MediaHandle::into_id),
            record: Box::new(record.clone()),
        });
    }

    /// Queues the answer to an operator's command.
    pub fn reply(&self, to: ReplyTo, result: Result<Reply, String>) {
        self.push(Output::Reply(to, result));
    }

    /// The oldest output not yet taken.
    pub fn pop(&self) -> Option<Output> {
        self.queue().pop_front()
    }
}
