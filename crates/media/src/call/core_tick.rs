//! What a call's media sends on its own 20 ms clock: the prompt or music playing, and the
//! mixes a supervisor needs, each framed and stamped on the switch's own streams.

use std::net::SocketAddr;

use super::{count, CallCore, Frame, HeardFrom, Party, Sends};
use crate::call::mix::mix_into;
use crate::call::player::{Player, FRAME};
use crate::call::stream::Stamp;
use crate::call::MediaEvent;
use crate::g711::Codec;
use crate::rtp::FIXED_HEADER_LEN;
use hotline_record::Channel;

impl CallCore {
    /// The 20 ms tick, while playing or supervised: builds the frames of the moment (see
    /// [`CallCore::frame`]) and says where they go. With a play's last frame, sends
    /// `PlayFinished`.
    pub(crate) fn tick(&mut self, now: u64) -> Sends {
        let mut sends = Sends::default();
        let played = self.next_played_frame();
        let Some(sup) = self.supervision.as_deref_mut() else {
            if played {
                sends.caller = self.send_heard(now, HeardFrom::Player);
            }
            return sends;
        };
        // One frame from each source per tick: a source that sent nothing is silent.
        let (mut caller, mut agent, mut voice) = ([0; FRAME], [0; FRAME], [0; FRAME]);
        sup.caller.pop(&mut caller);
        sup.agent.pop(&mut agent);
        sup.voice.pop(&mut voice);

        // The supervisor hears everyone but themself: caller, agent and what plays.
        let mut pcm = caller;
        mix_into(&mut pcm, &agent);
        if played {
            mix_into(&mut pcm, &self.frame_pcm);
        }
        let codec = sup.leg.peer.codec;
        let stamp = sup.out.play(FRAME as u64, now);
        build_frame(&mut sup.frame, stamp, sup.out.ssrc(), codec, &pcm);
        sends.supervisor = sup.leg.destination();
        if sends.supervisor.is_some() {
            count(&mut self.stats.supervisor, &sup.frame);
        }

        // Without an agent the supervisor only listens: the caller's prompts, music and
        // keys stay as they are.
        let Some(to_agent) = &self.agent else {
            if played {
                sends.caller = self.send_heard(now, HeardFrom::Player);
            }
            return sends;
        };
        if sup.heard_by_agent() {
            let mut pcm = caller;
            mix_into(&mut pcm, &voice);
            let stamp = sup.to_agent.play(FRAME as u64, now);
            build_frame(
                &mut sup.agent_frame,
                stamp,
                sup.to_agent.ssrc(),
                to_agent.peer.codec,
                &pcm,
            );
            sends.agent = to_agent.destination();
            if sends.agent.is_some() {
                count(&mut self.stats.caller_to_agent, &sup.agent_frame);
            }
        }
        if sup.heard_by_caller() {
            if !played {
                self.frame_pcm = agent;
            }
            mix_into(&mut self.frame_pcm, &voice);
            let from = if played {
                HeardFrom::Player
            } else {
                HeardFrom::Mix
            };
            sends.caller = self.send_heard(now, from);
        } else if played {
            sends.caller = self.send_heard(now, HeardFrom::Player);
        }
        sends
    }

    /// The next frame of the play into [`CallCore::frame_pcm`]; false if nothing plays (any
    /// more: the end of a play is handled here).
    pub(super) fn next_played_frame(&mut self) -> bool {
        let Some(player) = self.player.as_mut() else {
            return false;
        };
        let id = player.id();
        if player.next_frame(&mut self.frame_pcm) {
            // Told with the last frame, not a tick later: a caller who hangs up the moment
            // the agent's number ends has heard it all, and the switch must know that first.
            if player.is_exhausted() && player.tell_end() {
                let _ = self.events.send(MediaEvent::PlayFinished(id));
            }
            return true;
        }
        let tell = !player.looped() && player.tell_end();
        self.player = None;
        self.out.pause();
        if tell {
            let _ = self.events.send(MediaEvent::PlayFinished(id));
        }
        false
    }

    /// Sends [`CallCore::frame_pcm`] to the caller on the caller's stream and records it as
    /// heard; the address, unless the caller is on hold.
    pub(super) fn send_heard(&mut self, now: u64, from: HeardFrom) -> Option<SocketAddr> {
        let stamp = self.out.play(FRAME as u64, now);
        if stamp.marker {
            self.heard_at = self.heard_at.max(now);
        }
        let heard_at = self.heard_at;
        self.heard_at += FRAME as u64;
        // The caller on `0.0.0.0` hold hears nothing: the play goes on, unheard and unrecorded.
        let dest = self.caller.destination()?;
        let codec = self.caller.peer.codec;
        build_frame(
            &mut self.frame,
            stamp,
            self.out.ssrc(),
            codec,
            &self.frame_pcm,
        );
        if let Some(recording) = &mut self.recording {
            recording.push(Channel::Heard, heard_at, &self.frame_pcm);
        }
        self.heard_from = from;
        let flow = match from {
            HeardFrom::Player => &mut self.stats.played,
            HeardFrom::Mix => &mut self.stats.agent_to_caller,
        };
        count(flow, &self.frame);
        Some(dest)
    }

    /// The frame [`CallCore::tick`] just built for `to`.
    pub(crate) fn frame(&self, to: Party) -> &[u8] {
        match (to, self.supervision.as_deref()) {
            (Party::Caller, _) => &self.frame,
            (Party::Agent, Some(sup)) => &sup.agent_frame,
            (Party::Supervisor, Some(sup)) => &sup.frame,
            (_, None) => &[],
        }
    }

    /// Whether the task needs its 20 ms tick: while playing, and while supervised (the
    /// supervisor's feed is a mix).
    pub(crate) fn needs_tick(&self) -> bool {
        self.player.is_some() || self.supervision.is_some()
    }

    /// Plays `names` in order, replacing what plays (which then never finishes).
    pub(crate) fn play(&mut self, id: u32, names: &[String], looped: bool) {
        let clips = names
            .iter()
            .filter_map(|name| {
                let clip = self.prompts.get(name);
                if clip.is_none() {
                    tracing::warn!(prompt = %name, "unknown prompt skipped");
                }
                clip
            })
            .collect();
        let replaced = self.player.take().is_some();
        self.player = Player::new(id, clips, looped);
        if self.player.is_none() {
            if replaced {
                self.out.pause();
            }
            if !looped {
                let _ = self.events.send(MediaEvent::PlayFinished(id));
            }
        }
    }

    /// Stops what plays without `PlayFinished`.
    pub(crate) fn stop_playing(&mut self) {
        if self.player.take().is_some() {
            self.out.pause();
        }
    }
}

/// Writes a frame the switch sends: RTP header (version 2, no CSRC) and `pcm` encoded.
fn build_frame(frame: &mut Frame, stamp: Stamp, ssrc: u32, codec: Codec, pcm: &[i16; FRAME]) {
    let marker_pt = if stamp.marker { 0x80 } else { 0 } | codec.payload_type();
    let [s0, s1] = stamp.seq.to_be_bytes();
    let [t0, t1, t2, t3] = stamp.timestamp.to_be_bytes();
    let [c0, c1, c2, c3] = ssrc.to_be_bytes();
    let header = [0x80, marker_pt, s0, s1, t0, t1, t2, t3, c0, c1, c2, c3];
    let (head, payload) = frame.split_at_mut(FIXED_HEADER_LEN);
    head.copy_from_slice(&header);
    codec.encode_into(pcm, payload);
}
