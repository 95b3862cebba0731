//! What the call's media does with each packet, tick and command, without sockets or clock:
//! the caller's audio into the recording, a voicemail and the key detectors; prompts out to
//! the caller; once an agent is connected, the relay both ways as [`crate::Bridge`] did; and
//! while a supervisor is attached, the mixes each party hears.
//!
//! Supervision leaves the relay as it is wherever it can: the supervisor's own feed is always
//! a mix built on the 20 ms tick, but caller→agent becomes a mix only while the supervisor
//! whispers or barges, and agent→caller only while they barge. The other direction, and every
//! call without a supervisor, stays a packet relay with no decoding.
//!
//! Times are samples since the answer, given by the task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_record::Recording;
use tokio::sync::mpsc::UnboundedSender;

use super::player::{Player, FRAME};
use super::stream::OutStream;
use super::voicemail::Voicemail;
use super::MediaEvent;
use crate::detect::{EventDeduper, ToneDetector};
use crate::key_pace::KeyPace;
use crate::prompt::PromptSet;
use crate::relay::leg::LegState;
use crate::relay::{BridgeStats, FlowStats, Leg, PeerMedia};
use crate::rtp::FIXED_HEADER_LEN;

#[path = "core_keys.rs"]
mod keys;
#[path = "core_packets.rs"]
mod packets;
use packets::scratch;
#[path = "core_supervise.rs"]
mod supervise;
#[path = "core_tick.rs"]
mod tick;
use keys::KeyFrom;
use supervise::Supervision;

/// What to do with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Send the rewritten datagram there, from the other leg's port.
    Send(SocketAddr),
    /// Used here (keys, recording, voicemail); nothing to send.
    Consumed,
    /// Not wanted: RTCP, unknown payload types, strangers, malformed, nowhere to go.
    Drop,
}

/// The parties the switch sends frames of its own to, each from that party's port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Party {
    Caller,
    Agent,
    Supervisor,
}

/// Where the frames one tick built go; see [`CallCore::frame`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sends {
    pub(crate) caller: Option<SocketAddr>,
    pub(crate) agent: Option<SocketAddr>,
    pub(crate) supervisor: Option<SocketAddr>,
}

/// A 20 ms G.711 frame the switch sends, header included.
type Frame = [u8; FIXED_HEADER_LEN + FRAME];

/// What the frame to the caller carries, for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeardFrom {
    /// A prompt or music (possibly with a barging supervisor over it).
    Player,
    /// The agent and a barging supervisor.
    Mix,
}

/// The media state of one call.
pub(crate) struct CallCore {
    caller: LegState,
    agent: Option<LegState>,
    supervision: Option<Box<Supervision>>,
    /// Random state for the SSRCs and origins of streams started after the answer.
    random: u64,
    heard_from: HeardFrom,
    out: OutStream,
    player: Option<Player>,
    /// Recording position of the next played frame.
    heard_at: u64,
    recording: Option<Recording>,
    voicemail: Option<Voicemail>,
    tones: ToneDetector,
    deduper: EventDeduper,
    /// The last key reported, when and how, to drop the same press heard the other way.
    last_key: Option<(char, u64, KeyFrom)>,
    /// The pace the caller's keys may come at.
    key_pace: KeyPace,
    /// Once the caller's phone sends RFC 4733 events, its audio is not searched for tones:
    /// such phones often leave a remnant of the tone in the audio as well.
    caller_sends_events: bool,
    prompts: Arc<PromptSet>,
    events: UnboundedSender<MediaEvent>,
    /// Scratch for one packet's decoded audio, as long as the longest packet heard (160
    /// samples for the usual 20 ms): thousands of calls each hold one.
    pcm: Vec<i16>,
    frame_pcm: [i16; FRAME],
    frame: [u8; FIXED_HEADER_LEN + FRAME],
    stats: BridgeStats,
}

impl CallCore {
    /// The call's media from the answer; `seed` gives the random SSRC, sequence and
    /// timestamp origin of the switch's stream to the caller.
    pub(crate) fn new(
        caller: PeerMedia,
        agent: Option<PeerMedia>,
        recording: Option<Recording>,
        prompts: Arc<PromptSet>,
        events: UnboundedSender<MediaEvent>,
        seed: u64,
    ) -> CallCore {
        CallCore {
            caller: LegState::new(caller),
            agent: agent.map(LegState::new),
            supervision: None,
            random: seed,
            heard_from: HeardFrom::Player,
            out: OutStream::new(seed as u32, (seed >> 32) as u16, (seed >> 40) as u32),
            player: None,
            heard_at: 0,
            recording,
            voicemail: None,
            tones: ToneDetector::new(),
            deduper: EventDeduper::new(),
            last_key: None,
            key_pace: KeyPace::default(),
            caller_sends_events: false,
            prompts,
            events,
            pcm: Vec::new(),
            frame_pcm: [0; FRAME],
            frame: [0; FIXED_HEADER_LEN + FRAME],
            stats: BridgeStats::default(),
        }
    }

    /// Connects the agent: no more prompts or key detection, relay both ways. An agent
    /// already connected is replaced in one step (attended transfer): the caller's stream,
    /// the recording and a supervisor carry on.
    pub(crate) fn connect_agent(&mut self, peer: PeerMedia) {
        self.stop_playing();
        if self.agent.replace(LegState::new(peer)).is_some() {
            // The new phone's first packet starts a talk spurt, whatever its numbering.
            self.out.pause();
        }
        self.tones.reset();
        self.agent_changed();
    }

    /// The agent left: the caller can hear prompts and press keys again.
    pub(crate) fn disconnect_agent(&mut self) {
        if self.agent.take().is_some() {
            self.out.pause();
        }
        self.tones.reset();
        self.agent_changed();
    }

    /// Nothing of the previous agent is mixed for the next, and the stream to the agent
    /// starts a new talk spurt.
    fn agent_changed(&mut self) {
        if let Some(sup) = self.supervision.as_deref_mut() {
            sup.agent.clear();
            sup.to_agent.pause();
        }
    }

    /// The next value of a splitmix64 sequence started from the call's seed.
    fn next_random(&mut self) -> u64 {
        self.random = self.random.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Starts a voicemail (finishing one in progress).
    pub(crate) fn start_voicemail(&mut self, path: PathBuf, max: Duration, now: u64) {
        self.stop_voicemail(now);
        self.voicemail = Some(Voicemail::start(path, now, max, self.events.clone()));
    }

    /// Ends the voicemail in progress, if any, at `now`.
    pub(crate) fn stop_voicemail(&mut self, now: u64) {
        if let Some(voicemail) = self.voicemail.take() {
            voicemail.finish(now);
        }
    }

    /// When the voicemail in progress reaches its `max`, in samples since the answer.
    pub(crate) fn voicemail_deadline(&self) -> Option<u64> {
        self.voicemail.as_ref().map(Voicemail::deadline)
    }

    /// Ends a voicemail whose deadline has come (within the timer's millisecond), at
    /// exactly its `max`.
    pub(crate) fn on_timeout(&mut self, now: u64) {
        if let Some(due) = self.voicemail_deadline() {
            if due <= now + 8 {
                self.stop_voicemail(now.max(due));
            }
        }
    }

    /// Applies a re-INVITE to one leg at `now` (ignored for an agent not connected).
    pub(crate) fn update(&mut self, leg: Leg, peer: PeerMedia, now: u64) {
        match (leg, &mut self.agent) {
            (Leg::Caller, _) => self.caller.update(peer, now),
            (Leg::Agent, Some(agent)) => agent.update(peer, now),
            (Leg::Agent, None) => tracing::debug!("re-INVITE for an agent not connected"),
        }
    }

    /// Counts a packet that was relayed but could not be sent (socket buffer full).
    pub(crate) fn unsent(&mut self, from: Leg, bytes: usize) {
        let flow = self.flow(from);
        flow.packets = flow.packets.saturating_sub(1);
        flow.bytes = flow.bytes.saturating_sub(bytes as u64);
        self.stats.dropped += 1;
    }

    /// Counts datagrams that were still queued at the hang-up but too old to be placed in
    /// the recording (see `task::drain_before_stop`).
    pub(crate) fn too_late(&mut self, datagrams: u64) {
        self.stats.dropped += datagrams;
    }

    /// Counts a frame of [`CallCore::tick`] that could not be sent to `to`.
    pub(crate) fn unsent_frame(&mut self, to: Party) {
        let bytes = self.frame(to).len() as u64;
        let flow = match to {
            Party::Caller if self.heard_from == HeardFrom::Player => &mut self.stats.played,
            Party::Caller => &mut self.stats.agent_to_caller,
            Party::Agent => &mut self.stats.caller_to_agent,
            Party::Supervisor => &mut self.stats.supervisor,
        };
        flow.packets = flow.packets.saturating_sub(1);
        flow.bytes = flow.bytes.saturating_sub(bytes);
        self.stats.dropped += 1;
    }

    fn flow(&mut self, from: Leg) -> &mut FlowStats {
        match from {
            Leg::Caller => &mut self.stats.caller_to_agent,
            Leg::Agent => &mut self.stats.agent_to_caller,
        }
    }

    /// Ends the call at `now`: the voicemail and the recording are closed at that length
    /// (audio placed up to [`EARLY_TOLERANCE`](crate::relay::placement::EARLY_TOLERANCE)
    /// ahead of the clock loses that last bit).
    pub(crate) fn finish(mut self, now: u64) -> BridgeStats {
        self.stop_voicemail(now);
        if let Some(recording) = self.recording.take() {
            recording.finish(now);
        }
        self.stats.duration_samples = now;
        self.stats
    }
}

/// Counts one frame the switch sent.
fn count(flow: &mut FlowStats, frame: &[u8]) {
    flow.packets += 1;
    flow.bytes += frame.len() as u64;
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
