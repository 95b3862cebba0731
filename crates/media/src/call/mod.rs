//! The caller's media from the switch's answer to the hang-up: one tokio task per call that
//! plays prompts and music, hears keys, records a voicemail, records the call, later relays
//! between the caller and an agent (replaced by another on a transfer), and lets a
//! supervisor listen, whisper to the agent or barge in ([`Monitor`]).
//!
//! The switch drives it through [`CallMediaHandle`] and hears back through [`MediaEvent`]s.
//! Per-packet decisions live in the sans-IO `core`; `task` only moves bytes and wakes timers.
//!
//! Supervision mixes on the task's 20 ms tick: each source's packets are decoded into a small
//! jitter buffer (`mix`), and each tick every listener gets the saturating sum of the frames
//! they should hear, encoded to their codec. Only the directions that carry the supervisor's
//! voice stop being a packet relay, and only while they do; the recording is unchanged in
//! kind (left = caller, right = what the caller heard, so a barge is in it, a whisper not).

mod core;
mod mix;
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
    /// The play with this id has sent its last frame to the caller (never sent for looped or
    /// cut plays).
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

/// How a supervisor takes part in a call (班长监听/耳语/强插). The supervisor's voice reaches
/// no one while no agent is connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Monitor {
    /// 监听: the supervisor hears caller and agent; neither hears the supervisor.
    Listen,
    /// 耳语: as `Listen`, and the agent (never the caller) hears the supervisor.
    Whisper,
    /// 强插: three-way; caller and agent both hear the supervisor, and it is recorded.
    Barge,
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
    Supervise(MediaPort, PeerMedia, Monitor),
    SetMonitor(Monitor),
    EndSupervision,
    UpdateSupervisor(PeerMedia),
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
    /// payload types mapped, RTCP dropped); keys are no longer detected. Also after a
    /// [`CallMediaHandle::disconnect_agent`], for the next agent of a transfer.
    pub fn connect_agent(&self, agent: (MediaPort, PeerMedia)) {
        self.send(Control::ConnectAgent(agent.0, agent.1));
    }

    /// Swaps the connected agent for `agent` in one step (attended transfer): the old
    /// agent's port is closed; the caller's stream, the recording and a supervisor carry on.
    pub fn replace_agent(&self, agent: (MediaPort, PeerMedia)) {
        // `ConnectAgent` over a connected agent is exactly this swap; the name says why.
        self.send(Control::ConnectAgent(agent.0, agent.1));
    }

    /// The agent hung up: its port is closed; prompts play and keys count again (the survey,
    /// or music until [`CallMediaHandle::connect_agent`] brings the next agent: a transfer).
    pub fn disconnect_agent(&self) {
        self.send(Control::DisconnectAgent);
    }

    /// Attaches a supervisor's leg (its own MediaPort + the supervisor phone's PeerMedia) in
    /// `mode`, replacing one already attached; their source address is latched like the others.
    pub fn supervise(&self, supervisor: (MediaPort, PeerMedia), mode: Monitor) {
        self.send(Control::Supervise(supervisor.0, supervisor.1, mode));
    }

    /// Changes the mode of the attached supervisor (listen → whisper → barge, or back).
    pub fn set_monitor(&self, mode: Monitor) {
        self.send(Control::SetMonitor(mode));
    }

    /// Detaches the supervisor (their port is closed); caller and agent are not disturbed.
    pub fn end_supervision(&self) {
        self.send(Control::EndSupervision);
    }

    /// Applies a re-INVITE (hold, new address, new codec) to the supervisor's leg.
    pub fn update_supervisor(&self, peer: PeerMedia) {
        self.send(Control::UpdateSupervisor(peer));
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

    /// Applies a re-INVITE (hold, new address, new codec) to one leg; the supervisor's goes
    /// to [`CallMediaHandle::update_supervisor`].
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
