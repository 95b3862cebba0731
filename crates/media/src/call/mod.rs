//! The caller's media from the switch's answer to the hang-up: one tokio task per call that
//! plays prompts and music, hears keys, records a voicemail, records the call, and later
//! relays between the caller and an agent.
//!
//! The switch drives it through [`CallMediaHandle`] and hears back through [`MediaEvent`]s.
//! Per-packet decisions live in the sans-IO `core`; `task` only moves bytes and wakes timers.

mod core;
mod player;
mod stream;
mod task;
mod voicemail;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hotline_record::Recording;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tracing::Instrument;

use self::core::CallCore;
use crate::prompt::PromptSet;
use crate::relay::{BridgeStats, Leg, MediaPort, PeerMedia};

/// What the call's media tells the switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The caller pressed a key (RFC 4733 event or in-band tone), once per press.
    Digit(char),
    /// The play with this id has been heard to its end (never sent for looped or cut plays).
    PlayFinished(u32),
    /// The voicemail file is complete and closed; `samples` at 8 kHz, 0 if it could not be
    /// written (the reason is logged).
    VoicemailDone {
        /// The file, as given to [`CallMediaHandle::start_voicemail`].
        path: PathBuf,
        /// Its length in 8 kHz samples.
        samples: u64,
    },
}

/// What the switch tells the call's media task.
#[derive(Debug)]
enum Control {
    Play {
        id: u32,
        prompts: Vec<String>,
        looped: bool,
    },
    StopPlaying,
    ConnectAgent(MediaPort, PeerMedia),
    DisconnectAgent,
    StartVoicemail(PathBuf, Duration),
    StopVoicemail,
    Update(Leg, PeerMedia),
    Stop,
}

/// Starts a call's media; see [`CallMedia::start`].
#[derive(Debug)]
pub struct CallMedia;

/// The switch's handle on a call's media task. Dropping it ends the task like
/// [`CallMediaHandle::stop`] does, without waiting.
#[derive(Debug)]
pub struct CallMediaHandle {
    control: UnboundedSender<Control>,
    task: JoinHandle<BridgeStats>,
}

impl CallMedia {
    /// Starts the caller's media at the switch's answer; `recording` (left = caller, right =
    /// everything the caller heard) starts now. Must run inside a tokio runtime.
    pub fn start(
        call_id: String,
        caller: (MediaPort, PeerMedia),
        recording: Option<Recording>,
        prompts: Arc<PromptSet>,
    ) -> (CallMediaHandle, UnboundedReceiver<MediaEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        let handle = spawn(call_id, caller, None, recording, prompts, events);
        (handle, rx)
    }
}

/// Spawns the task, with an agent already connected for [`crate::Bridge`].
pub(crate) fn spawn(
    call_id: String,
    caller: (MediaPort, PeerMedia),
    agent: Option<(MediaPort, PeerMedia)>,
    recording: Option<Recording>,
    prompts: Arc<PromptSet>,
    events: UnboundedSender<MediaEvent>,
) -> CallMediaHandle {
    let seed = random_seed(&call_id);
    let (agent_port, agent_peer) = match agent {
        Some((port, peer)) => (Some(port), Some(peer)),
        None => (None, None),
    };
    let core = CallCore::new(caller.1, agent_peer, recording, prompts, events, seed);
    let (control, rx) = mpsc::unbounded_channel();
    let span = tracing::info_span!("media", call = %call_id);
    let task = tokio::spawn(task::run(caller.0, agent_port, core, rx).instrument(span));
    CallMediaHandle { control, task }
}

impl CallMediaHandle {
    /// Plays `prompts` in order, replacing what plays; unknown names are skipped (logged),
    /// an empty list finishes at once. `PlayFinished(id)` follows, unless `looped` or cut.
    pub fn play(&self, id: u32, prompts: Vec<String>, looped: bool) {
        self.send(Control::Play {
            id,
            prompts,
            looped,
        });
    }

    /// Stops what plays, without `PlayFinished`.
    pub fn stop_playing(&self) {
        self.send(Control::StopPlaying);
    }

    /// Stops playing and relays caller↔agent both ways (latching, transcoding, RFC 4733
    /// payload types mapped, RTCP dropped); keys are no longer detected.
    pub fn connect_agent(&self, agent: (MediaPort, PeerMedia)) {
        self.send(Control::ConnectAgent(agent.0, agent.1));
    }

    /// The agent hung up: its port is closed; prompts play and keys count again (the survey).
    pub fn disconnect_agent(&self) {
        self.send(Control::DisconnectAgent);
    }

    /// Records the caller alone to `path` (mono 8 kHz 16-bit WAV, 0640, parents 0750) until
    /// [`CallMediaHandle::stop_voicemail`] or `max`; then `VoicemailDone`.
    pub fn start_voicemail(&self, path: PathBuf, max: Duration) {
        self.send(Control::StartVoicemail(path, max));
    }

    /// Ends the voicemail in progress; `VoicemailDone` follows once the file is closed.
    pub fn stop_voicemail(&self) {
        self.send(Control::StopVoicemail);
    }

    /// Applies a re-INVITE (hold, new address, new codec) to one leg.
    pub fn update(&self, leg: Leg, peer: PeerMedia) {
        self.send(Control::Update(leg, peer));
    }

    /// Ends the call's media: the recording is finished at the answer→hang-up length, a
    /// voicemail in progress is finished too; returns the counts.
    pub async fn stop(self) -> BridgeStats {
        self.send(Control::Stop);
        match self.task.await {
            Ok(stats) => stats,
            Err(error) => {
                tracing::error!(%error, "media task failed");
                BridgeStats::default()
            }
        }
    }

    fn send(&self, control: Control) {
        // If the task has ended the call is over and there is nothing left to change.
        let _ = self.control.send(control);
    }
}

/// A fresh random value per call for the switch's SSRC, first sequence number and
/// timestamp origin (RFC 3550 wants them unpredictable), without a dependency for it.
fn random_seed(call_id: &str) -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write(call_id.as_bytes());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}
