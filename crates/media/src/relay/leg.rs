//! One phone's side of a call as the media task sees it: what its SDP said, where it really
//! sends from (symmetric RTP latching) and the clock placing its audio in the recording.

use std::net::SocketAddr;

use super::placement::StreamClock;
use super::PeerMedia;

/// A latched source is kept while it sends; after this long silent another may take over
/// (a phone whose NAT binding changed): one second in samples.
pub(crate) const RELATCH_AFTER: u64 = 8_000;
/// After a re-INVITE moves a phone, packets from its old source for this long (200 ms) are
/// still taken but do not latch it again: they were in flight, and latching would lock the
/// new address out for [`RELATCH_AFTER`].
pub(crate) const MOVED_GRACE: u64 = 1_600;
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
pub(crate) struct LegState {
    pub(crate) peer: PeerMedia,
    latch: Option<Latch>,
    /// The source latched before a re-INVITE gave a new address, and when that came.
    moved_from: Option<Latch>,
    pub(crate) clock: StreamClock,
}

impl LegState {
    pub(crate) fn new(peer: PeerMedia) -> LegState {
        LegState {
            peer,
            latch: None,
            moved_from: None,
            clock: StreamClock::default(),
        }
    }

    /// Symmetric RTP: send where the phone sends from, else where its SDP said; nothing
    /// to a phone that asked for none (`0.0.0.0` hold).
    pub(crate) fn destination(&self) -> Option<SocketAddr> {
        if self.peer.addr.ip().is_unspecified() || self.peer.addr.port() == 0 {
            return None;
        }
        Some(self.latch.map_or(self.peer.addr, |l| l.addr))
    }

    /// Accepts `src` as this leg's source, latching it; false for a stranger while the
    /// latched source is still sending.
    pub(crate) fn accept_source(&mut self, src: SocketAddr, now: u64) -> bool {
        match &mut self.latch {
            Some(l) if l.addr == src => l.last_seen = now,
            Some(l) if now.saturating_sub(l.last_seen) < RELATCH_AFTER => return false,
            _ if self.moved_from.is_some_and(|m| {
                m.addr == src && now.saturating_sub(m.last_seen) < MOVED_GRACE
            }) => {}
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

    /// Applies a re-INVITE at `now`: a new address forgets the latched source, a new codec
    /// or event type applies from the next packet.
    pub(crate) fn update(&mut self, peer: PeerMedia, now: u64) {
        if self.peer.addr != peer.addr {
            self.moved_from = self.latch.take().map(|l| Latch {
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

    fn peer(addr: &str) -> PeerMedia {
        PeerMedia {
            addr: addr.parse().unwrap(),
            codec: Codec::Pcma,
            telephone_event: None,
        }
    }

    #[test]
    fn packets_in_flight_from_a_moved_phone_do_not_latch_it_back() {
        let (old, new): (SocketAddr, SocketAddr) = (
            "10.0.0.1:4000".parse().unwrap(),
            "10.0.0.2:4000".parse().unwrap(),
        );
        let mut leg = LegState::new(peer("10.0.0.1:4000"));
        assert!(leg.accept_source(old, 0));
        leg.update(peer("10.0.0.2:4000"), 100);
        assert!(leg.accept_source(old, 150), "taken, it was in flight");
        assert_eq!(leg.destination(), Some(new), "but not latched");
        assert!(leg.accept_source(new, 200));
        assert!(!leg.accept_source(old, 250), "the new source is latched");
        assert_eq!(leg.destination(), Some(new));
        // A phone whose source did not change with its SDP is latched again after the grace.
        let mut nat = LegState::new(peer("10.0.0.1:4000"));
        nat.accept_source(old, 0);
        nat.update(peer("192.168.1.5:4000"), 100);
        assert!(nat.accept_source(old, 100 + MOVED_GRACE));
        assert_eq!(nat.destination(), Some(old));
    }
}
