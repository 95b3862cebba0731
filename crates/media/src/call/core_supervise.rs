//! A supervisor on the call (监听/耳语/强插): their leg, the streams and jitter buffers the
//! tick's mixes need, and how the core takes them on, changes their mode and lets them go.

use std::net::SocketAddr;

use super::{scratch, CallCore, Frame, Verdict};
use crate::call::mix::Jitter;
use crate::call::player::FRAME;
use crate::call::stream::OutStream;
use crate::call::Monitor;
use crate::relay::leg::{is_rtcp, LegState};
use crate::relay::PeerMedia;
use crate::rtp::{RtpPacket, FIXED_HEADER_LEN};

/// A supervisor attached to the call, and what mixing for them needs. Boxed in the core so
/// the thousands of unsupervised calls do not carry its buffers.
pub(super) struct Supervision {
    pub(super) leg: LegState,
    pub(super) mode: Monitor,
    /// The switch's stream to the supervisor, a mix from the start.
    pub(super) out: OutStream,
    /// The switch's stream to the agent while the supervisor whispers or barges. Its own
    /// SSRC: the mix has no one packet of the caller's to take the numbering from.
    pub(super) to_agent: OutStream,
    pub(super) caller: Jitter,
    pub(super) agent: Jitter,
    /// The supervisor's own voice.
    pub(super) voice: Jitter,
    pub(super) frame: Frame,
    pub(super) agent_frame: Frame,
}

impl Supervision {
    pub(super) fn new(peer: PeerMedia, mode: Monitor, seeds: [u64; 2]) -> Supervision {
        let stream =
            |seed: u64| OutStream::new(seed as u32, (seed >> 32) as u16, (seed >> 40) as u32);
        Supervision {
            leg: LegState::new(peer),
            mode,
            out: stream(seeds[0]),
            to_agent: stream(seeds[1]),
            caller: Jitter::default(),
            agent: Jitter::default(),
            voice: Jitter::default(),
            frame: [0; FIXED_HEADER_LEN + FRAME],
            agent_frame: [0; FIXED_HEADER_LEN + FRAME],
        }
    }

    /// Whether the agent hears the supervisor (given an agent is connected).
    pub(super) fn heard_by_agent(&self) -> bool {
        self.mode != Monitor::Listen
    }

    /// Whether the caller hears the supervisor (given an agent is connected).
    pub(super) fn heard_by_caller(&self) -> bool {
        self.mode == Monitor::Barge
    }
}

impl CallCore {
    /// Handles a datagram from the supervisor's phone: their voice waits for the tick's mixes;
    /// nothing of theirs is relayed as it is (their keys included).
    pub(crate) fn on_supervisor_packet(
        &mut self,
        src: SocketAddr,
        datagram: &[u8],
        now: u64,
    ) -> Verdict {
        let verdict = match self.supervision.as_deref_mut() {
            Some(sup) if !is_rtcp(datagram) => match RtpPacket::parse(datagram) {
                Ok(packet) if sup.leg.accept_source(src, now) => {
                    let codec = sup.leg.peer.codec;
                    if packet.payload_type() == codec.payload_type() {
                        let pcm = scratch(&mut self.pcm, packet.payload());
                        let n = codec.decode_into(packet.payload(), pcm);
                        sup.voice.push(self.pcm.get(..n).unwrap_or_default());
                        Verdict::Consumed
                    } else {
                        Verdict::Drop
                    }
                }
                _ => Verdict::Drop,
            },
            _ => Verdict::Drop, // RTCP, or a late packet to a port already closed
        };
        if verdict == Verdict::Drop {
            self.stats.dropped += 1;
        }
        verdict
    }

    /// Attaches a supervisor in `mode`, replacing one already attached.
    pub(crate) fn supervise(&mut self, peer: PeerMedia, mode: Monitor) {
        self.end_supervision();
        let seeds = [self.next_random(), self.next_random()];
        self.supervision = Some(Box::new(Supervision::new(peer, mode, seeds)));
    }

    /// Changes the attached supervisor's mode; the relay takes over again for each
    /// direction that no longer needs a mix.
    pub(crate) fn set_monitor(&mut self, mode: Monitor) {
        let Some(sup) = self.supervision.as_deref_mut() else {
            tracing::debug!(?mode, "monitor mode for a call not supervised");
            return;
        };
        let was_barging = sup.heard_by_caller();
        sup.mode = mode;
        if !sup.heard_by_agent() {
            // A later whisper starts a new spurt, timestamped with the time that passed.
            sup.to_agent.pause();
        }
        if was_barging && !sup.heard_by_caller() {
            self.end_mix_to_caller();
        }
    }

    /// Detaches the supervisor; caller and agent go back to the plain relay.
    pub(crate) fn end_supervision(&mut self) {
        if let Some(sup) = self.supervision.take() {
            if sup.heard_by_caller() {
                self.end_mix_to_caller();
            }
        }
    }

    /// The caller's stream stops carrying the barge mix: the agent's packets or the next
    /// play start a new talk spurt (a play in progress just goes on).
    pub(super) fn end_mix_to_caller(&mut self) {
        if self.player.is_none() {
            self.out.pause();
        }
    }

    /// Applies a re-INVITE to the supervisor's leg at `now`.
    pub(crate) fn update_supervisor(&mut self, peer: PeerMedia, now: u64) {
        match self.supervision.as_deref_mut() {
            Some(sup) => sup.leg.update(peer, now),
            None => tracing::debug!("re-INVITE for a supervisor not attached"),
        }
    }
}

#[cfg(test)]
#[path = "core_supervise_tests.rs"]
mod tests;
