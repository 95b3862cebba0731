//! What the call's media does with each packet, tick and command, without sockets or clock:
//! the caller's audio into the recording, a voicemail and the key detectors; prompts out to
//! the caller; and, once an agent is connected, the relay both ways as [`crate::Bridge`] did.
//!
//! Times are samples since the answer, given by the task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hotline_record::{Channel, Recording};
use tokio::sync::mpsc::UnboundedSender;

use super::player::{Player, FRAME};
use super::stream::OutStream;
use super::voicemail::Voicemail;
use super::MediaEvent;
use crate::detect::{EventDeduper, ToneDetector};
use crate::dtmf::TelephoneEvent;
use crate::g711::transcode_in_place;
use crate::prompt::PromptSet;
use crate::relay::leg::{is_rtcp, LegState, MAX_PACKET_SAMPLES};
use crate::relay::{BridgeStats, FlowStats, Leg, PeerMedia};
use crate::rtp::{RtpPacket, FIXED_HEADER_LEN};

/// The same key heard in-band and by RFC 4733 this close together is one press (phones that
/// send both): 200 ms.
const SAME_PRESS: u64 = 1_600;

/// How a key reached the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFrom {
    Event,
    Tone,
}

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

/// The media state of one call.
pub(crate) struct CallCore {
    caller: LegState,
    agent: Option<LegState>,
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
    /// Once the caller's phone sends RFC 4733 events, its audio is not searched for tones:
    /// such phones often leave a remnant of the tone in the audio as well.
    caller_sends_events: bool,
    prompts: Arc<PromptSet>,
    events: UnboundedSender<MediaEvent>,
    pcm: Box<[i16; MAX_PACKET_SAMPLES]>,
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
            out: OutStream::new(seed as u32, (seed >> 32) as u16, (seed >> 40) as u32),
            player: None,
            heard_at: 0,
            recording,
            voicemail: None,
            tones: ToneDetector::new(),
            deduper: EventDeduper::new(),
            last_key: None,
            caller_sends_events: false,
            prompts,
            events,
            pcm: Box::new([0; MAX_PACKET_SAMPLES]),
            frame_pcm: [0; FRAME],
            frame: [0; FIXED_HEADER_LEN + FRAME],
            stats: BridgeStats::default(),
        }
    }

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
        let pt = packet.payload_type();
        let codec = self.caller.peer.codec;
        if pt == codec.payload_type() {
            self.take_caller_audio(&packet, now);
            let Some(agent) = &self.agent else {
                return Verdict::Consumed;
            };
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
        } else {
            return Verdict::Drop; // comfort noise, video, anything not negotiated
        }
        match self.agent.as_ref().and_then(LegState::destination) {
            Some(dest) => Verdict::Send(dest),
            None => Verdict::Drop,
        }
    }

    /// The caller's voice: recording (left), voicemail and, before an agent, the keys.
    fn take_caller_audio(&mut self, packet: &RtpPacket<&mut [u8]>, now: u64) {
        let detect = self.agent.is_none() && !self.caller_sends_events;
        if self.recording.is_none() && self.voicemail.is_none() && !detect {
            return;
        }
        let n = self
            .caller
            .peer
            .codec
            .decode_into(packet.payload(), &mut self.pcm[..]);
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
        if !detect {
            return;
        }
        let mut key = self.tones.feed(pcm);
        while let Some(k) = key {
            self.digit(k, now, KeyFrom::Tone);
            key = self.tones.feed(&[]);
        }
    }

    fn take_caller_event(&mut self, packet: &RtpPacket<&mut [u8]>, now: u64) {
        let Ok(event) = TelephoneEvent::parse(packet.payload()) else {
            return;
        };
        if !self.caller_sends_events {
            tracing::debug!("caller sends RFC 4733 events: in-band detection off");
            self.caller_sends_events = true;
        }
        if let Some(key) = self
            .deduper
            .on_event(packet.ssrc(), packet.timestamp(), &event)
        {
            self.digit(key, now, KeyFrom::Event);
        }
    }

    fn digit(&mut self, key: char, now: u64, from: KeyFrom) {
        if let Some((last, at, how)) = self.last_key {
            if last == key && how != from && now.saturating_sub(at) < SAME_PRESS {
                return;
            }
        }
        self.last_key = Some((key, now, from));
        tracing::debug!(%key, ?from, "caller pressed a key");
        let _ = self.events.send(MediaEvent::Digit(key));
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
        if self.player.is_some() {
            // A prompt is playing to the caller; it has the stream until it ends.
            return Verdict::Consumed;
        }
        let pt = packet.payload_type();
        let from = agent.peer.codec;
        let len;
        if pt == from.payload_type() {
            // G.711: one byte per sample.
            let n = packet.payload().len();
            if let Some(recording) = &mut self.recording {
                let n = from.decode_into(packet.payload(), &mut self.pcm[..]);
                let at = agent
                    .clock
                    .place(packet.ssrc(), packet.timestamp(), n as u64, now);
                recording.push(Channel::Heard, at, self.pcm.get(..n).unwrap_or_default());
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

    /// The 20 ms tick while playing: the next frame is in [`CallCore::frame`] to send to the
    /// returned address. At the end of a play, sends `PlayFinished`.
    pub(crate) fn tick(&mut self, now: u64) -> Option<SocketAddr> {
        let player = self.player.as_mut()?;
        if !player.next_frame(&mut self.frame_pcm) {
            let (id, looped) = (player.id(), player.looped());
            self.player = None;
            self.out.pause();
            if !looped {
                let _ = self.events.send(MediaEvent::PlayFinished(id));
            }
            return None;
        }
        let stamp = self.out.play(FRAME as u64, now);
        if stamp.marker {
            self.heard_at = self.heard_at.max(now);
        }
        let heard_at = self.heard_at;
        self.heard_at += FRAME as u64;
        // The caller on `0.0.0.0` hold hears nothing: the play goes on, unheard and unrecorded.
        let dest = self.caller.destination()?;
        let codec = self.caller.peer.codec;
        let marker_pt = if stamp.marker { 0x80 } else { 0 } | codec.payload_type();
        let [s0, s1] = stamp.seq.to_be_bytes();
        let [t0, t1, t2, t3] = stamp.timestamp.to_be_bytes();
        let [c0, c1, c2, c3] = self.out.ssrc().to_be_bytes();
        let header = [0x80, marker_pt, s0, s1, t0, t1, t2, t3, c0, c1, c2, c3];
        let (head, payload) = self.frame.split_at_mut(FIXED_HEADER_LEN);
        head.copy_from_slice(&header);
        codec.encode_into(&self.frame_pcm, payload);
        if let Some(recording) = &mut self.recording {
            recording.push(Channel::Heard, heard_at, &self.frame_pcm);
        }
        self.stats.played.packets += 1;
        self.stats.played.bytes += self.frame.len() as u64;
        Some(dest)
    }

    /// The frame [`CallCore::tick`] just built.
    pub(crate) fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// Whether a play is in progress, i.e. whether the task needs its 20 ms tick.
    pub(crate) fn is_playing(&self) -> bool {
        self.player.is_some()
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

    /// Connects the agent: no more prompts or key detection, relay both ways.
    pub(crate) fn connect_agent(&mut self, peer: PeerMedia) {
        self.stop_playing();
        self.agent = Some(LegState::new(peer));
        self.tones.reset();
    }

    /// The agent left: the caller can hear prompts and press keys again.
    pub(crate) fn disconnect_agent(&mut self) {
        if self.agent.take().is_some() {
            self.out.pause();
        }
        self.tones.reset();
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

    /// Applies a re-INVITE to one leg (ignored for an agent not connected).
    pub(crate) fn update(&mut self, leg: Leg, peer: PeerMedia) {
        match (leg, &mut self.agent) {
            (Leg::Caller, _) => self.caller.update(peer),
            (Leg::Agent, Some(agent)) => agent.update(peer),
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

    /// Counts a played frame that could not be sent.
    pub(crate) fn unsent_frame(&mut self) {
        let played = &mut self.stats.played;
        played.packets = played.packets.saturating_sub(1);
        played.bytes = played.bytes.saturating_sub(self.frame.len() as u64);
        self.stats.dropped += 1;
    }

    fn flow(&mut self, from: Leg) -> &mut FlowStats {
        match from {
            Leg::Caller => &mut self.stats.caller_to_agent,
            Leg::Agent => &mut self.stats.agent_to_caller,
        }
    }

    /// Ends the call at `now`: the voicemail and the recording are closed at that length.
    pub(crate) fn finish(mut self, now: u64) -> BridgeStats {
        self.stop_voicemail(now);
        if let Some(recording) = self.recording.take() {
            recording.finish(now);
        }
        self.stats.duration_samples = now;
        self.stats
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
