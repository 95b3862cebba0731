//! What the relay does with one packet, without sockets or clock: classify, latch, map
//! payload types, transcode in place, and feed the recording.

use std::net::SocketAddr;

use hotline_record::{Channel, Recording};

use super::placement::StreamClock;
use super::{BridgeStats, Leg, PeerMedia};
use crate::g711::transcode_in_place;
use crate::rtp::RtpPacket;

/// A latched source is kept while it sends; after this long silent another may take over
/// (a phone whose NAT binding changed): one second in samples.
const RELATCH_AFTER: u64 = 8_000;
/// The most samples one packet may carry into the recording (a 1500-byte G.711 packet).
pub(crate) const MAX_PACKET_SAMPLES: usize = 1_500;

/// Where a leg's packets come from, once it has sent one.
#[derive(Debug, Clone, Copy)]
struct Latch {
    addr: SocketAddr,
    last_seen: u64,
}

/// One side of the call.
#[derive(Debug)]
struct LegState {
    peer: PeerMedia,
    latch: Option<Latch>,
    clock: StreamClock,
}

impl LegState {
    fn new(peer: PeerMedia) -> LegState {
        LegState {
            peer,
            latch: None,
            clock: StreamClock::default(),
        }
    }

    /// Symmetric RTP: send where the phone sends from, else where its SDP said; nothing
    /// to a phone that asked for none (`0.0.0.0` hold).
    fn destination(&self) -> Option<SocketAddr> {
        if self.peer.addr.ip().is_unspecified() || self.peer.addr.port() == 0 {
            return None;
        }
        Some(self.latch.map_or(self.peer.addr, |l| l.addr))
    }

    /// Accepts `src` as this leg's source, latching it; false for a stranger while the
    /// latched source is still sending.
    fn accept_source(&mut self, src: SocketAddr, now: u64) -> bool {
        match &mut self.latch {
            Some(l) if l.addr == src => l.last_seen = now,
            Some(l) if now.saturating_sub(l.last_seen) < RELATCH_AFTER => return false,
            _ => {
                tracing::debug!(%src, "media source latched");
                self.latch = Some(Latch {
                    addr: src,
                    last_seen: now,
                });
            }
        }
        true
    }
}

/// The relay's state for one call.
pub(crate) struct RelayCore {
    legs: [LegState; 2],
    recording: Option<Recording>,
    pcm: Box<[i16; MAX_PACKET_SAMPLES]>,
    stats: BridgeStats,
}

impl RelayCore {
    pub(crate) fn new(
        caller: PeerMedia,
        agent: PeerMedia,
        recording: Option<Recording>,
    ) -> RelayCore {
        RelayCore {
            legs: [LegState::new(caller), LegState::new(agent)],
            recording,
            pcm: Box::new([0; MAX_PACKET_SAMPLES]),
            stats: BridgeStats::default(),
        }
    }

    /// Handles a datagram that arrived on `from`'s port from `src`, `now` samples after the
    /// answer; rewrites it in place and returns where to send it, or `None` to drop it.
    pub(crate) fn on_packet(
        &mut self,
        from: Leg,
        src: SocketAddr,
        datagram: &mut [u8],
        now: u64,
    ) -> Option<SocketAddr> {
        let verdict = self.relay(from, src, datagram, now);
        if verdict.is_none() {
            self.stats.dropped += 1;
        }
        verdict
    }

    fn relay(
        &mut self,
        from: Leg,
        src: SocketAddr,
        datagram: &mut [u8],
        now: u64,
    ) -> Option<SocketAddr> {
        if is_rtcp(datagram) {
            return None; // RFC 5761 demultiplexing: RTCP is accepted and not relayed.
        }
        let mut packet = RtpPacket::parse(datagram).ok()?;
        let [caller, agent] = &mut self.legs;
        let (inbound, outbound) = match from {
            Leg::Caller => (caller, &*agent),
            Leg::Agent => (agent, &*caller),
        };
        if !inbound.accept_source(src, now) {
            return None;
        }
        let pt = packet.payload_type();
        if pt == inbound.peer.codec.payload_type() {
            if let Some(recording) = &mut self.recording {
                let n = inbound
                    .peer
                    .codec
                    .decode_into(packet.payload(), &mut self.pcm[..]);
                let at = inbound
                    .clock
                    .place(packet.ssrc(), packet.timestamp(), n as u64, now);
                recording.push(channel_of(from), at, self.pcm.get(..n).unwrap_or_default());
            }
            let to = outbound.peer.codec;
            if to != inbound.peer.codec {
                transcode_in_place(inbound.peer.codec, to, packet.payload_mut());
                packet.set_payload_type(to.payload_type());
            }
        } else if Some(pt) == inbound.peer.telephone_event {
            packet.set_payload_type(outbound.peer.telephone_event?);
        } else {
            return None; // comfort noise, video, anything not negotiated
        }
        let dest = outbound.destination()?;
        let flow = match from {
            Leg::Caller => &mut self.stats.caller_to_agent,
            Leg::Agent => &mut self.stats.agent_to_caller,
        };
        flow.packets += 1;
        flow.bytes += packet.as_bytes().len() as u64;
        Some(dest)
    }

    /// Counts a packet that was relayed but could not be sent (socket buffer full).
    pub(crate) fn unsent(&mut self, from: Leg, bytes: usize) {
        let flow = match from {
            Leg::Caller => &mut self.stats.caller_to_agent,
            Leg::Agent => &mut self.stats.agent_to_caller,
        };
        flow.packets = flow.packets.saturating_sub(1);
        flow.bytes = flow.bytes.saturating_sub(bytes as u64);
        self.stats.dropped += 1;
    }

    /// Applies a re-INVITE: a new address forgets the latched source, a new codec or
    /// event type applies from the next packet.
    pub(crate) fn update(&mut self, leg: Leg, peer: PeerMedia) {
        let state = &mut self.legs[leg.index()];
        if state.peer.addr != peer.addr {
            state.latch = None;
        }
        state.peer = peer;
    }

    /// Ends the call: closes the recording at `total_samples` and returns the counts.
    pub(crate) fn finish(mut self, total_samples: u64) -> BridgeStats {
        if let Some(recording) = self.recording.take() {
            recording.finish(total_samples);
        }
        self.stats.duration_samples = total_samples;
        self.stats
    }
}

/// RFC 5761 §4: RTCP packet types 192–223 in the second byte, where RTP has marker + PT.
fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}

fn channel_of(leg: Leg) -> Channel {
    match leg {
        Leg::Caller => Channel::Caller,
        Leg::Agent => Channel::Heard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Codec;

    fn peer(addr: &str, codec: Codec, te: Option<u8>) -> PeerMedia {
        PeerMedia {
            addr: addr.parse().unwrap(),
            codec,
            telephone_event: te,
        }
    }

    fn rtp(pt: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        p.extend_from_slice(payload);
        p
    }

    fn core() -> RelayCore {
        RelayCore::new(
            peer("10.0.0.1:4000", Codec::Pcmu, Some(101)),
            peer("10.0.0.2:5000", Codec::Pcma, Some(96)),
            None,
        )
    }

    fn src(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn audio_is_transcoded_and_sent_to_the_sdp_address_until_latched() {
        let mut c = core();
        let mut p = rtp(0, &[0xFF; 160]);
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut p, 160),
            Some(src("10.0.0.2:5000"))
        );
        assert_eq!(p[1], 8);
        assert!(
            p[12..].iter().all(|&b| b == 0xD5),
            "μ-law silence became A-law silence"
        );
        let mut back = rtp(0x80 | 8, &[0xD5; 160]);
        assert_eq!(
            c.on_packet(Leg::Agent, src("10.9.9.9:6000"), &mut back, 320),
            Some(src("10.0.0.1:4000"))
        );
        assert_eq!(back[1], 0x80, "marker kept, PT 0");
        let mut again = rtp(0, &[0xFF; 160]);
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut again, 480),
            Some(src("10.9.9.9:6000"))
        );
        assert_eq!(c.stats.caller_to_agent.packets, 2);
    }

    #[test]
    fn telephone_events_are_mapped_or_dropped() {
        let mut c = core();
        let mut ev = rtp(101, &[5, 0x80, 0, 160]);
        assert!(c
            .on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut ev, 0)
            .is_some());
        assert_eq!(ev[1], 96);
        c.update(Leg::Caller, peer("10.0.0.1:4000", Codec::Pcmu, None));
        let mut ev = rtp(96, &[5, 0x80, 0, 160]);
        assert_eq!(
            c.on_packet(Leg::Agent, src("10.0.0.2:5000"), &mut ev, 0),
            None
        );
    }

    #[test]
    fn rtcp_unknown_types_and_garbage_are_dropped() {
        let mut c = core();
        let mut sr = vec![0x80, 200, 0, 6, 0, 0, 0, 7];
        sr.resize(28, 0);
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut sr, 0),
            None
        );
        let mut cn = rtp(13, &[40]);
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut cn, 0),
            None
        );
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut [1, 2, 3], 0),
            None
        );
        assert_eq!(c.stats.dropped, 3);
    }

    #[test]
    fn a_stranger_cannot_steal_a_live_stream_but_can_take_a_dead_one() {
        let mut c = core();
        let mut p = rtp(0, &[0xFF; 160]);
        c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut p, 0);
        let mut p = rtp(0, &[0xFF; 160]);
        assert_eq!(
            c.on_packet(Leg::Caller, src("6.6.6.6:1"), &mut p, 160),
            None
        );
        let mut p = rtp(0, &[0xFF; 160]);
        assert!(c
            .on_packet(
                Leg::Caller,
                src("10.0.0.7:4000"),
                &mut p,
                160 + RELATCH_AFTER
            )
            .is_some());
        assert_eq!(c.legs[0].destination(), Some(src("10.0.0.7:4000")));
    }

    #[test]
    fn nothing_is_sent_to_a_phone_on_zero_address_hold() {
        let mut c = core();
        c.update(Leg::Agent, peer("0.0.0.0:5000", Codec::Pcma, Some(96)));
        let mut p = rtp(0, &[0xFF; 160]);
        assert_eq!(
            c.on_packet(Leg::Caller, src("10.0.0.1:4000"), &mut p, 0),
            None
        );
    }
}
