//! Each datagram from the caller's or the agent's phone: checked against the party the
//! signalling named, relayed (transcoded when the two codecs differ), and decoded only where
//! the recording, a voicemail, the key detectors or a supervisor's mix need its audio.

use std::net::SocketAddr;

use hotline_record::Channel;

use super::{CallCore, KeyFrom, Supervision, Verdict};
use crate::call::stream::Stamp;
use crate::g711::transcode_in_place;
use crate::relay::leg::{is_rtcp, LegState, MAX_PACKET_SAMPLES};
use crate::relay::Leg;
use crate::rtp::RtpPacket;

impl CallCore {
    /// Handles a datagram that arrived on `from`'s port from `src`, rewriting it in place.
    pub(crate) fn on_packet(
        &mut self,
        from: Leg,
        src: SocketAddr,
        datagram: &mut [u8],
        now: u64,
    ) -> Verdict {
        let verdict = if is_rtcp(datagram) {
            Verdict::Drop // RFC 5761 demultiplexing: RTCP is accepted and not relayed.
        } else {
            match (from, RtpPacket::parse(&mut *datagram)) {
                (Leg::Caller, Ok(packet)) => self.caller_packet(src, packet, now),
                (Leg::Agent, Ok(packet)) => self.agent_packet(src, packet, now),
                (_, Err(_)) => Verdict::Drop,
            }
        };
        match verdict {
            Verdict::Send(_) => {
                let flow = self.flow(from);
                flow.packets += 1;
                flow.bytes += datagram.len() as u64;
            }
            Verdict::Drop => self.stats.dropped += 1,
            Verdict::Consumed => {}
        }
        verdict
    }

    fn caller_packet(
        &mut self,
        src: SocketAddr,
        mut packet: RtpPacket<&mut [u8]>,
        now: u64,
    ) -> Verdict {
        if !self.caller.accept_source(src, now) {
            return Verdict::Drop;
        }
        self.stats.lost += self.caller.heard_seq(packet.sequence());
        let pt = packet.payload_type();
        let codec = self.caller.peer.codec;
        // While the supervisor whispers or barges, the agent hears the tick's mix of caller
        // and supervisor instead of the caller's packets.
        let mixed = self.agent.is_some()
            && self
                .supervision
                .as_deref()
                .is_some_and(Supervision::heard_by_agent);
        if pt == codec.payload_type() {
            self.take_caller_audio(&packet, now);
            let Some(agent) = &self.agent else {
                return Verdict::Consumed;
            };
            if mixed {
                return Verdict::Consumed;
            }
            let to = agent.peer.codec;
            if to != codec {
                transcode_in_place(codec, to, packet.payload_mut());
                packet.set_payload_type(to.payload_type());
            }
        } else if Some(pt) == self.caller.peer.telephone_event {
            let Some(agent) = &self.agent else {
                self.take_caller_event(&packet, now);
                return Verdict::Consumed;
            };
            let Some(te) = agent.peer.telephone_event else {
                return Verdict::Drop;
            };
            packet.set_payload_type(te);
            if let Some(sup) = self.supervision.as_deref_mut().filter(|_| mixed) {
                // Keys still reach the agent, on the stream the agent now hears.
                let stamp = sup.to_agent.event(packet.timestamp());
                restamp(&mut packet, stamp, sup.to_agent.ssrc());
            }
        } else {
            return Verdict::Drop; // comfort noise, video, anything not negotiated
        }
        match self.agent.as_ref().and_then(LegState::destination) {
            Some(dest) => Verdict::Send(dest),
            None => Verdict::Drop,
        }
    }

    /// The caller's voice: recording (left), voicemail, a supervisor's mixes and, before an
    /// agent, the keys.
    fn take_caller_audio(&mut self, packet: &RtpPacket<&mut [u8]>, now: u64) {
        let detect = self.agent.is_none() && !self.caller_sends_events;
        if self.recording.is_none()
            && self.voicemail.is_none()
            && self.supervision.is_none()
            && !detect
        {
            return;
        }
        let n = self
            .caller
            .peer
            .codec
            .decode_into(packet.payload(), scratch(&mut self.pcm, packet.payload()));
        let pcm = self.pcm.get(..n).unwrap_or_default();
        let at = self
            .caller
            .clock
            .place(packet.ssrc(), packet.timestamp(), n as u64, now);
        if let Some(recording) = &mut self.recording {
            recording.push(Channel::Caller, at, pcm);
        }
        if let Some(voicemail) = &mut self.voicemail {
            voicemail.push(at, pcm);
        }
        if let Some(sup) = &mut self.supervision {
            sup.caller.push(pcm);
        }
        if !detect {
            return;
        }
        let mut key = self.tones.feed(pcm);
        while let Some(k) = key {
            self.digit(k, now, KeyFrom::Tone);
            key = self.tones.feed(&[]);
        }
    }

    fn agent_packet(
        &mut self,
        src: SocketAddr,
        mut packet: RtpPacket<&mut [u8]>,
        now: u64,
    ) -> Verdict {
        let Some(agent) = &mut self.agent else {
            return Verdict::Drop; // a late packet to a port already closed
        };
        if !agent.accept_source(src, now) {
            return Verdict::Drop;
        }
        self.stats.lost += agent.heard_seq(packet.sequence());
        let pt = packet.payload_type();
        let from = agent.peer.codec;
        let audio = pt == from.payload_type();
        let mut decoded = None;
        let mut barge = false;
        if let Some(sup) = self.supervision.as_deref_mut() {
            if audio {
                let n =
                    from.decode_into(packet.payload(), scratch(&mut self.pcm, packet.payload()));
                sup.agent.push(self.pcm.get(..n).unwrap_or_default());
                decoded = Some(n);
            }
            barge = sup.heard_by_caller();
        }
        if self.player.is_some() {
            // A prompt is playing to the caller; it has the stream until it ends.
            return Verdict::Consumed;
        }
        let len;
        if audio {
            if barge {
                // The caller hears the tick's mix, which is recorded as it is sent.
                return Verdict::Consumed;
            }
            // G.711: one byte per sample.
            let n = packet.payload().len();
            if let Some(recording) = &mut self.recording {
                let n = match decoded {
                    Some(n) => n,
                    None => {
                        from.decode_into(packet.payload(), scratch(&mut self.pcm, packet.payload()))
                    }
                };
                let at = agent
                    .clock
                    .place(packet.ssrc(), packet.timestamp(), n as u64, now);
                recording.push(Channel::Heard, at, self.pcm.get(..n).unwrap_or_default());
                // What the switch plays next goes after the agent's last words, not over them.
                self.heard_at = self.heard_at.max(at + n as u64);
            }
            let to = self.caller.peer.codec;
            if to != from {
                transcode_in_place(from, to, packet.payload_mut());
                packet.set_payload_type(to.payload_type());
            }
            len = n as u64;
        } else if Some(pt) == agent.peer.telephone_event {
            let Some(te) = self.caller.peer.telephone_event else {
                return Verdict::Drop;
            };
            packet.set_payload_type(te);
            if barge {
                // The caller's stream is the tick's mix: the event goes on in its numbering.
                let Some(dest) = self.caller.destination() else {
                    return Verdict::Drop;
                };
                let stamp = self.out.event(packet.timestamp());
                restamp(&mut packet, stamp, self.out.ssrc());
                return Verdict::Send(dest);
            }
            len = 0;
        } else {
            return Verdict::Drop;
        }
        let Some(dest) = self.caller.destination() else {
            return Verdict::Drop;
        };
        if !self.out.follow(&mut packet, len, now) {
            return Verdict::Drop;
        }
        Verdict::Send(dest)
    }
}

/// Moves a relayed packet onto a stream the switch generates.
fn restamp(packet: &mut RtpPacket<&mut [u8]>, stamp: Stamp, ssrc: u32) {
    packet.set_sequence(stamp.seq);
    packet.set_timestamp(stamp.timestamp);
    packet.set_ssrc(ssrc);
}

/// `pcm` made as long as `payload` decodes to (G.711: a sample a byte, at most
/// [`MAX_PACKET_SAMPLES`]); it grows only when a longer packet comes than any before.
pub(super) fn scratch<'p>(pcm: &'p mut Vec<i16>, payload: &[u8]) -> &'p mut [i16] {
    pcm.resize(payload.len().min(MAX_PACKET_SAMPLES), 0);
    pcm
}
