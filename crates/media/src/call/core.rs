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

use hotline_record::{Channel, Recording};
use tokio::sync::mpsc::UnboundedSender;

use super::mix::{mix_into, Jitter};
use super::player::{Player, FRAME};
use super::stream::{OutStream, Stamp};
use super::voicemail::Voicemail;
use super::{MediaEvent, Monitor};
use crate::detect::{EventDeduper, ToneDetector};
use crate::dtmf::TelephoneEvent;
use crate::g711::{transcode_in_place, Codec};
use crate::key_pace::KeyPace;
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

/// A supervisor attached to the call, and what mixing for them needs. Boxed in the core so
/// the thousands of unsupervised calls do not carry its buffers.
struct Supervision {
    leg: LegState,
    mode: Monitor,
    /// The switch's stream to the supervisor, a mix from the start.
    out: OutStream,
    /// The switch's stream to the agent while the supervisor whispers or barges. Its own
    /// SSRC: the mix has no one packet of the caller's to take the numbering from.
    to_agent: OutStream,
    caller: Jitter,
    agent: Jitter,
    /// The supervisor's own voice.
    voice: Jitter,
    frame: Frame,
    agent_frame: Frame,
}

impl Supervision {
    fn new(peer: PeerMedia, mode: Monitor, seeds: [u64; 2]) -> Supervision {
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
    fn heard_by_agent(&self) -> bool {
        self.mode != Monitor::Listen
    }

    /// Whether the caller hears the supervisor (given an agent is connected).
    fn heard_by_caller(&self) -> bool {
        self.mode == Monitor::Barge
    }
}

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
        // The media clock is 8 kHz samples.
        if !self.key_pace.take(now / 8) {
            if self.key_pace.dropped == 1 {
                tracing::warn!("caller sends keys faster than anyone presses them: dropped");
            }
            self.stats.keys_dropped = self.key_pace.dropped;
            return;
        }
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
        let pt = packet.payload_type();
        let from = agent.peer.codec;
        let audio = pt == from.payload_type();
        let mut decoded = None;
        let mut barge = false;
        if let Some(sup) = self.supervision.as_deref_mut() {
            if audio {
                let n = from.decode_into(packet.payload(), &mut self.pcm[..]);
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
                    None => from.decode_into(packet.payload(), &mut self.pcm[..]),
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
                        let n = codec.decode_into(packet.payload(), &mut self.pcm[..]);
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

    /// The 20 ms tick, while playing or supervised: builds the frames of the moment (see
    /// [`CallCore::frame`]) and says where they go. At the end of a play, sends
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
    fn next_played_frame(&mut self) -> bool {
        let Some(player) = self.player.as_mut() else {
            return false;
        };
        if player.next_frame(&mut self.frame_pcm) {
            return true;
        }
        let (id, looped) = (player.id(), player.looped());
        self.player = None;
        self.out.pause();
        if !looped {
            let _ = self.events.send(MediaEvent::PlayFinished(id));
        }
        false
    }

    /// Sends [`CallCore::frame_pcm`] to the caller on the caller's stream and records it as
    /// heard; the address, unless the caller is on hold.
    fn send_heard(&mut self, now: u64, from: HeardFrom) -> Option<SocketAddr> {
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
    fn end_mix_to_caller(&mut self) {
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

/// Moves a relayed packet onto a stream the switch generates.
fn restamp(packet: &mut RtpPacket<&mut [u8]>, stamp: Stamp, ssrc: u32) {
    packet.set_sequence(stamp.seq);
    packet.set_timestamp(stamp.timestamp);
    packet.set_ssrc(ssrc);
}

/// Counts one frame the switch sent.
fn count(flow: &mut FlowStats, frame: &[u8]) {
    flow.packets += 1;
    flow.bytes += frame.len() as u64;
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
