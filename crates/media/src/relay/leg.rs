//! One phone's side of a call as the media task sees it: what its SDP said, the address its
//! packets are locked to (the signalled party only) and the clock placing its audio in the
//! recording.

use std::net::SocketAddr;

use super::placement::StreamClock;
use super::{MediaSource, PeerMedia};

/// After a re-INVITE moves a phone, packets from its old source for this long (200 ms) are
/// still taken but do not lock it again: they were in flight.
pub(crate) const MOVED_GRACE: u64 = 1_600;
/// The most samples one packet may carry into the recording (a 1500-byte G.711 packet).
pub(crate) const MAX_PACKET_SAMPLES: usize = 1_500;

/// Where a leg's packets come from, once it has sent one.
#[derive(Debug, Clone, Copy)]
struct Latch {
    addr: SocketAddr,
    last_seen: u64,
}

/// The widest gap in a phone's sequence numbers counted as loss: 3000 packets, a minute.
const MAX_GAP: u16 = 3_000;

/// One side of the call.
#[derive(Debug)]
pub(crate) struct LegState {
    pub(crate) peer: PeerMedia,
    latch: Option<Latch>,
    /// The source locked before a re-INVITE gave a new address, and when that came.
    moved_from: Option<Latch>,
    pub(crate) clock: StreamClock,
    /// The highest sequence number heard from the phone.
    last_seq: Option<u16>,
}

impl LegState {
    pub(crate) fn new(peer: PeerMedia) -> LegState {
        LegState {
            peer,
            latch: None,
            moved_from: None,
            clock: StreamClock::default(),
            last_seq: None,
        }
    }

    /// The packets the phone's sequence numbers skipped before `seq`: lost on the way
    /// (RFC 3550 A.3). A late or repeated packet counts nothing; a jump of more than
    /// [`MAX_GAP`] is a new stream (a phone restarting it), not a loss.
    pub(crate) fn heard_seq(&mut self, seq: u16) -> u64 {
        let ahead = self.last_seq.map(|last| seq.wrapping_sub(last));
        match ahead {
            Some(0) => 0,
            Some(d) if d <= MAX_GAP => {
                self.last_seq = Some(seq);
                u64::from(d - 1)
            }
            // Behind the highest heard: late, not lost.
            Some(d) if d >= 0x8000 && 0u16.wrapping_sub(d) <= MAX_GAP => 0,
            _ => {
                self.last_seq = Some(seq);
                0
            }
        }
    }

    /// Symmetric RTP: send where the phone sends from, else where its SDP said when that
    /// is the address its SIP came from; nothing to a phone that asked for none (`0.0.0.0`
    /// hold), and nothing to an SDP address the signalling does not vouch for (NAT, or a
    /// stranger aiming the switch's audio at someone else) until the phone has sent.
    pub(crate) fn destination(&self) -> Option<SocketAddr> {
        if self.peer.addr.ip().is_unspecified() || self.peer.addr.port() == 0 {
            return None;
        }
        match (self.latch, self.peer.source) {
            (Some(l), _) => Some(l.addr),
            (None, MediaSource::Exact) => Some(self.peer.addr),
            (None, MediaSource::LearnPortFrom(_)) => None,
        }
    }

    /// Accepts `src` as this leg's source: the locked address only, once locked; before
    /// that, an address the signalling allows ([`MediaSource`]), which locks the leg.
    /// Everyone else (an RTP sprayer, a stranger guessing ports) is refused, however long
    /// the phone has been silent.
    pub(crate) fn accept_source(&mut self, src: SocketAddr, now: u64) -> bool {
        if let Some(l) = &mut self.latch {
            if l.addr == src {
                l.last_seen = now;
                return true;
            }
        }
        if self.latch.is_some() {
            return false;
        }
        let in_flight = self
            .moved_from
            .is_some_and(|m| m.addr == src && now.saturating_sub(m.last_seen) < MOVED_GRACE);
        if in_flight {
            return true;
        }
        if !self.signalled(src) {
            return false;
        }
        tracing::debug!(%src, "media source locked");
        self.latch = Some(Latch {
            addr: src,
            last_seen: now,
        });
        true
    }

    /// Whether the signalling names `src` as this phone's media source.
    fn signalled(&self, src: SocketAddr) -> bool {
        match self.peer.source {
            _ if src == self.peer.addr => true,
            MediaSource::Exact => false,
            MediaSource::LearnPortFrom(ip) => src.ip() == ip,
        }
    }

    /// Applies a re-INVITE at `now`: the leg is unlocked, to be locked again by the first
    /// packet the new signalling allows (a phone resuming from hold behind a NAT that gave
    /// it a new port); a new codec or event type applies from the next packet.
    pub(crate) fn update(&mut self, peer: PeerMedia, now: u64) {
        if let Some(l) = self.latch.take() {
            self.moved_from = Some(Latch {
                addr: l.addr,
                last_seen: now,
            });
        }
        self.peer = peer;
    }
}

/// RFC 5761 §4: RTCP packet types 192–223 in the second byte, where RTP has marker + PT.
pub(crate) fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram.get(1), Some(192..=223))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Codec;

    #[test]
    fn skipped_sequence_numbers_are_lost_late_and_repeated_ones_are_not() {
        let mut leg = LegState::new(peer("10.0.0.1:4000", MediaSource::Exact));
        let lost: Vec<u64> = [65_534u16, 65_535, 2, 1, 2, 3, 20_000, 20_001]
            .into_iter()
            .map(|seq| leg.heard_seq(seq))
            .collect();
        // 0 and 1 skipped across the wrap; 1 late; 2 repeated; a jump is a new stream.
        assert_eq!(lost, [0, 0, 2, 0, 0, 0, 0, 0]);
    }

    fn peer(addr: &str, source: MediaSource) -> PeerMedia {
        PeerMedia {
            addr: addr.parse().unwrap(),
            codec: Codec::Pcma,
            telephone_event: None,
            source,
        }
    }

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_nat_only_the_sdps_exact_address_is_taken_and_never_another() {
        let mut leg = LegState::new(peer("10.0.0.1:4000", MediaSource::Exact));
        assert!(!leg.accept_source(at("10.0.0.1:4002"), 0), "another port");
        assert!(!leg.accept_source(at("10.0.0.9:4000"), 0), "another host");
        assert!(leg.accept_source(at("10.0.0.1:4000"), 10));
        // Silent for a minute: a sprayer still cannot take the leg over.
        assert!(!leg.accept_source(at("10.0.0.9:4000"), 8_000 * 60));
        assert_eq!(leg.destination(), Some(at("10.0.0.1:4000")));
    }

    #[test]
    fn behind_nat_the_port_is_learnt_from_the_signalling_address_alone_then_locked() {
        let public = "203.0.113.5".parse().unwrap();
        let mut leg = LegState::new(peer(
            "192.168.1.20:4000",
            MediaSource::LearnPortFrom(public),
        ));
        assert_eq!(
            leg.destination(),
            None,
            "nothing sent where nobody vouched for"
        );
        assert!(!leg.accept_source(at("198.51.100.7:4000"), 0), "a stranger");
        assert!(
            leg.accept_source(at("203.0.113.5:61000"), 10),
            "the NAT's port"
        );
        assert_eq!(leg.destination(), Some(at("203.0.113.5:61000")));
        assert!(
            !leg.accept_source(at("203.0.113.5:61002"), 20),
            "locked: not even another port of the same address"
        );
    }

    #[test]
    fn packets_in_flight_from_a_moved_phone_do_not_lock_it_back() {
        let (old, new) = (at("10.0.0.1:4000"), at("10.0.0.2:4000"));
        let mut leg = LegState::new(peer("10.0.0.1:4000", MediaSource::Exact));
        assert!(leg.accept_source(old, 0));
        leg.update(peer("10.0.0.2:4000", MediaSource::Exact), 100);
        assert!(leg.accept_source(old, 150), "taken, it was in flight");
        assert_eq!(leg.destination(), Some(new), "but not locked");
        assert!(leg.accept_source(new, 200));
        assert!(!leg.accept_source(old, 250), "the new source is locked");
        assert!(
            !leg.accept_source(old, 100 + MOVED_GRACE),
            "and the grace is over"
        );
        assert_eq!(leg.destination(), Some(new));
    }

    #[test]
    fn a_re_invite_to_the_same_address_unlocks_for_a_new_nat_port() {
        let public = "203.0.113.5".parse().unwrap();
        let sdp = peer("192.168.1.20:4000", MediaSource::LearnPortFrom(public));
        let mut leg = LegState::new(sdp);
        assert!(leg.accept_source(at("203.0.113.5:61000"), 0));
        // Held for minutes; the NAT forgot the mapping; the phone resumes, same SDP.
        assert!(!leg.accept_source(at("203.0.113.5:62000"), 8_000 * 120));
        leg.update(sdp, 8_000 * 121);
        assert!(leg.accept_source(at("203.0.113.5:62000"), 8_000 * 122));
        assert!(
            !leg.accept_source(at("203.0.113.5:61000"), 8_000 * 123),
            "locked anew"
        );
    }
}
