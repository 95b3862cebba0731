//! The core's side of media: ports the edge has bound and granted ([`PortGrant`]) and
//! handles on media tasks the edge runs ([`MediaHandle`]). Both are plain ids; what is
//! done with them becomes [`MediaCommand`] outputs, in order with everything else the core
//! asks. Dropping a grant gives the port back and dropping a handle stops its task, so a
//! path that forgets a call's media cannot leak a socket or an open recording.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_acd::CallRef;
use hotline_media::prompt::PromptSet;
use hotline_media::{Leg, Monitor, PeerMedia};
use hotline_record::CallId;

use crate::out::{Output, Outputs};

/// Ports the core keeps granted ahead, so answering a call never waits for a bind.
const PORTS_AHEAD: usize = 32;
/// After the edge could not bind all it was asked for, how long before asking again.
const PORTS_RETRY: Duration = Duration::from_secs(1);

/// A media port the edge has bound, by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortId(pub u64);

/// A media task the edge runs, by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaId(pub u64);

/// What the recording of a call is: the edge opens `<root>/YYYY/MM/DD/<call>.wav` by
/// the Beijing date of `at`, where the core has already noted it in the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingAt {
    /// The call.
    pub call: CallId,
    /// When its recording starts.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// What the core asks of a media task.
#[derive(Debug)]
pub enum MediaCommand {
    /// Start the task: the caller's port and media, an agent's already connected (a
    /// bridge) or not yet (a menu), the recording, and where its events go (`None`: the
    /// task has nothing to say, as a bridge plays no menu).
    Start {
        /// The call (or phone session) it belongs to.
        call: CallRef,
        /// The call's id, for the task's logs.
        call_id: String,
        /// The caller's port and media.
        caller: (PortId, PeerMedia),
        /// The far party's, for a bridge.
        agent: Option<(PortId, PeerMedia)>,
        /// The recording to open, if the call is recorded.
        recording: Option<RecordingAt>,
        /// The prompts it may play.
        prompts: Arc<PromptSet>,
        /// Whether its events (keys, prompts heard, voicemails) go to the core.
        events: bool,
    },
    /// Play these prompts (see `CallMediaHandle::play`).
    Play {
        /// Reported back when heard to the end.
        id: u32,
        /// The prompts, by name.
        prompts: Vec<String>,
        /// Over and over.
        looped: bool,
    },
    /// Stop what plays.
    StopPlaying,
    /// Connect an agent (or trunk) leg.
    ConnectAgent(PortId, PeerMedia),
    /// Disconnect the agent leg.
    DisconnectAgent,
    /// Let a supervisor in.
    Supervise(PortId, PeerMedia, Monitor),
    /// Change how the supervisor takes part.
    SetMonitor(Monitor),
    /// Let the supervisor out.
    EndSupervision,
    /// The supervisor's phone moved its media.
    UpdateSupervisor(PeerMedia),
    /// Record a voicemail to this file, at most this long.
    StartVoicemail(PathBuf, Duration),
    /// End the voicemail.
    StopVoicemail,
    /// A leg's re-INVITE moved its media.
    Update(Leg, PeerMedia),
    /// End the task (the recording is closed).
    Stop,
}

/// A port the edge has bound for the core. Dropping it gives it back.
#[derive(Debug)]
pub struct PortGrant {
    id: PortId,
    local: SocketAddr,
    /// Where the release goes; `None` once the port is handed to a media task.
    out: Option<Outputs>,
}

impl PortGrant {
    /// The address the port is bound to, for SDP.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The port's number, now handed to a media task (no longer given back on drop).
    fn into_id(mut self) -> PortId {
        self.out = None;
        self.id
    }
}

impl Drop for PortGrant {
    fn drop(&mut self) {
        if let Some(out) = &self.out {
            out.push(Output::ReleasePort(self.id));
        }
    }
}

/// The ports granted and not yet used.
#[derive(Debug, Default)]
pub struct PortStock {
    ready: VecDeque<(PortId, SocketAddr)>,
    asked: usize,
    /// Set when a grant fell short (the OS is out of ports): no asking before then.
    retry_at: Option<Instant>,
}

impl PortStock {
    /// A granted port, if any is left.
    pub fn take(&mut self, out: &Outputs) -> Option<PortGrant> {
        let (id, local) = self.ready.pop_front()?;
        Some(PortGrant {
            id,
            local,
            out: Some(out.clone()),
        })
    }

    /// Ports the edge has bound at `now`, of `asked`.
    pub fn granted(&mut self, now: Instant, ports: Vec<(PortId, SocketAddr)>, asked: usize) {
        self.asked = self.asked.saturating_sub(asked);
        if ports.len() < asked {
            self.retry_at = Some(now + PORTS_RETRY);
        }
        self.ready.extend(ports);
    }

    /// How many more to ask for at `now`, counted as asked.
    pub fn ask_for(&mut self, now: Instant) -> usize {
        if self.retry_at.is_some_and(|at| now < at) {
            return 0;
        }
        let want = PORTS_AHEAD.saturating_sub(self.ready.len() + self.asked);
        self.asked += want;
        want
    }
}

/// Where recordings go, and whether the disk has room for new ones.
#[derive(Debug, Clone)]
pub struct Recordings {
    /// The recordings' root directory.
    pub root: PathBuf,
    /// The disk is below its free-space floor: new calls go unrecorded.
    pub disk_low: bool,
}

impl Recordings {
    /// The file a recording goes to.
    pub fn path_of(&self, r: &RecordingAt) -> PathBuf {
        self.root
            .join(hotline_record::recording_file(&r.call, r.at))
    }
}

/// Numbers for new media tasks.
#[derive(Debug, Default)]
pub struct MediaIds(u64);

impl MediaIds {
    /// A number not used before.
    pub fn fresh(&mut self) -> MediaId {
        self.0 += 1;
        MediaId(self.0)
    }
}

/// A media task to start (see [`MediaCommand::Start`]), with the ports it takes over.
#[derive(Debug)]
pub struct StartMedia {
    /// The call (or phone session) it belongs to.
    pub call: CallRef,
    /// The call's id, for the task's logs.
    pub call_id: String,
    /// The caller's port and media.
    pub caller: (PortGrant, PeerMedia),
    /// The far party's, for a bridge.
    pub agent: Option<(PortGrant, PeerMedia)>,
    /// The recording to open, if the call is recorded.
    pub recording: Option<RecordingAt>,
    /// The prompts it may play.
    pub prompts: Arc<PromptSet>,
    /// Whether the task's events (keys, prompts heard, voicemails) go to the core.
    pub events: bool,
}

/// The core's handle on a media task. Dropping it stops the task.
#[derive(Debug)]
pub struct MediaHandle {
    id: MediaId,
    /// Where its commands go; `None` once the task is handed on.
    out: Option<Outputs>,
}

impl MediaHandle {
    /// Starts media task `id`.
    pub fn start(id: MediaId, out: &Outputs, start: StartMedia) -> MediaHandle {
        let command = MediaCommand::Start {
            call_id: start.call_id,
            caller: (start.caller.0.into_id(), start.caller.1),
            agent: start.agent.map(|(p, m)| (p.into_id(), m)),
            call: start.call,
            recording: start.recording,
            prompts: start.prompts,
            events: start.events,
        };
        out.push(Output::Media(id, command));
        MediaHandle {
            id,
            out: Some(out.clone()),
        }
    }

    fn send(&self, command: MediaCommand) {
        if let Some(out) = &self.out {
            out.push(Output::Media(self.id, command));
        }
    }

    /// Plays `prompts` in order; `PlayFinished(id)` follows unless `looped` or cut.
    pub fn play(&self, id: u32, prompts: Vec<String>, looped: bool) {
        self.send(MediaCommand::Play {
            id,
            prompts,
            looped,
        });
    }

    /// Stops what plays.
    pub fn stop_playing(&self) {
        self.send(MediaCommand::StopPlaying);
    }

    /// Connects the agent's (or trunk's) leg to the caller.
    pub fn connect_agent(&self, agent: (PortGrant, PeerMedia)) {
        self.send(MediaCommand::ConnectAgent(agent.0.into_id(), agent.1));
    }

    /// Disconnects the agent's leg (the caller hears music or the menu again).
    pub fn disconnect_agent(&self) {
        self.send(MediaCommand::DisconnectAgent);
    }

    /// Lets a supervisor in, as `mode` says.
    pub fn supervise(&self, supervisor: (PortGrant, PeerMedia), mode: Monitor) {
        self.send(MediaCommand::Supervise(
            supervisor.0.into_id(),
            supervisor.1,
            mode,
        ));
    }

    /// Changes how the supervisor takes part.
    pub fn set_monitor(&self, mode: Monitor) {
        self.send(MediaCommand::SetMonitor(mode));
    }

    /// Lets the supervisor out.
    pub fn end_supervision(&self) {
        self.send(MediaCommand::EndSupervision);
    }

    /// The supervisor's phone moved its media.
    pub fn update_supervisor(&self, peer: PeerMedia) {
        self.send(MediaCommand::UpdateSupervisor(peer));
    }

    /// Records a voicemail to `path`, at most `max` long.
    pub fn start_voicemail(&self, path: PathBuf, max: Duration) {
        self.send(MediaCommand::StartVoicemail(path, max));
    }

    /// Ends the voicemail.
    pub fn stop_voicemail(&self) {
        self.send(MediaCommand::StopVoicemail);
    }

    /// A leg's re-INVITE moved its media.
    pub fn update(&self, leg: Leg, peer: PeerMedia) {
        self.send(MediaCommand::Update(leg, peer));
    }

    /// The handle itself (a bridge's media is its call media).
    pub fn media(&self) -> &MediaHandle {
        self
    }

    /// The task's number, now handed on (no longer stopped on drop).
    pub fn into_id(mut self) -> MediaId {
        self.out = None;
        self.id
    }
}

impl Drop for MediaHandle {
    fn drop(&mut self) {
        self.send(MediaCommand::Stop);
    }
}
