//! The switch's use of the media crate: which codecs it offers and accepts, and SDP
//! bodies for each leg. The switch anchors media: each leg talks to the switch's own port.

use std::net::{IpAddr, SocketAddr};

use hotline_media::sdp::{self, SessionMedia};
use hotline_media::{Codec, MediaSource};

use crate::notes::{note, About};
pub use hotline_media::{MediaPort, PeerMedia};

/// What the switch speaks, in order of preference (China's networks use A-law and μ-law).
const CODECS: [Codec; 2] = [Codec::Pcma, Codec::Pcmu];
/// The payload type the switch uses for RFC 4733 telephone-events in its offers.
const TELEPHONE_EVENT: u8 = 101;

/// One leg's SDP origin: a session id fixed for the call, a version bumped for every new
/// body (RFC 3264 8), so phones accept a re-INVITE answer as a change of the same session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdpVersion {
    session: u64,
    version: u64,
}

impl SdpVersion {
    /// A new session, version 1, its id taken from `draw` (any 64-bit value).
    pub fn new(draw: u64) -> SdpVersion {
        SdpVersion {
            session: 1 + draw % (u64::from(u32::MAX) - 1),
            version: 1,
        }
    }

    /// Moves to the next version and returns it.
    pub fn next(&mut self) -> SdpVersion {
        self.version += 1;
        *self
    }
}

/// Parses an SDP body; `None` if it is absent, not UTF-8 or offers no usable audio.
pub fn parse_sdp(body: &[u8]) -> Option<SessionMedia> {
    let text = std::str::from_utf8(body).ok()?;
    sdp::parse(text).ok()
}

/// Where the switch lets SDP send its RTP, and how it locks each leg to the party the
/// signalling named (so nobody else can take a call's audio over).
#[derive(Debug, Clone)]
pub struct MediaPolicy {
    /// The address the switch's media ports are bound to.
    pub media_ip: IpAddr,
    /// The switch's own SIP address (RTP sent there would flood its signalling).
    pub sip: SocketAddr,
    /// Where a refusal is noted.
    pub(crate) notes: crate::notes::Notes,
}

impl MediaPolicy {
    /// Whether SDP may point the switch's RTP at `addr`: never at multicast, broadcast,
    /// unspecified or port 0, never at the switch itself (its SIP port, its media ports:
    /// audio sent into another call; beyond loopback its address at all), and at loopback
    /// only when the switch itself is on loopback (two softphones on one machine).
    pub fn admits(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip();
        let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
        let local = self.media_ip.is_loopback();
        let loopback_ok = !ip.is_loopback() || local;
        let ours = (ip == self.media_ip && !local) || addr == self.sip || MediaPort::is_own(addr);
        !ip.is_unspecified()
            && !ip.is_multicast()
            && !broadcast
            && addr.port() != 0
            && loopback_ok
            && !ours
    }

    /// What the relay must know of a phone whose SDP named `addr` and whose SIP came from
    /// `signalled`: the same IP means no NAT between, so the exact address; another IP
    /// means the port is learnt from the first packet of the signalling's address.
    fn peer(&self, addr: SocketAddr, codec: Codec, te: Option<u8>, signalled: IpAddr) -> PeerMedia {
        let source = if addr.ip() == signalled {
            MediaSource::Exact
        } else {
            MediaSource::LearnPortFrom(signalled)
        };
        PeerMedia {
            addr,
            codec,
            telephone_event: te,
            source,
        }
    }
}

/// Our answer to a phone's offer, and what the relay must send that phone; `None` when
/// the offer has no usable audio or points media where the policy does not admit.
pub fn answer(
    offer: &SessionMedia,
    local: SocketAddr,
    v: SdpVersion,
    signalled: IpAddr,
    policy: &MediaPolicy,
) -> Option<(String, PeerMedia)> {
    if !policy.admits(offer.addr) {
        note!(
            policy.notes,
            Warn,
            About::Switch,
            "offer refused: media address not admitted media={} signalled={}",
            offer.addr,
            signalled
        );
        return None;
    }
    let a = sdp::answer(local, offer, &CODECS, v.session, v.version).ok()?;
    let peer = policy.peer(offer.addr, a.codec, a.telephone_event, signalled);
    Some((a.body, peer))
}

/// The body of our 200 to a re-INVITE on a leg at `local`, with the version moved on
/// (RFC 3264 8): a fresh offer when the re-INVITE has none, else our answer and where the
/// phone's media now is. `None` when its offer cannot be answered (488). A `0.0.0.0`
/// address is the old way to hold (RFC 2543): admitted here, it sends the phone nothing.
pub fn reinvite_body(
    body: &[u8],
    local: SocketAddr,
    sdp: &mut SdpVersion,
    signalled: IpAddr,
    policy: &MediaPolicy,
) -> Option<(String, Option<PeerMedia>)> {
    let version = sdp.next();
    if body.is_empty() {
        return Some((offer(local, version), None));
    }
    let offer = parse_sdp(body)?;
    if offer.addr.ip().is_unspecified() {
        let a = sdp::answer(local, &offer, &CODECS, version.session, version.version).ok()?;
        let peer = policy.peer(offer.addr, a.codec, a.telephone_event, signalled);
        return Some((a.body, Some(peer)));
    }
    let (answer, peer) = answer(&offer, local, version, signalled, policy)?;
    Some((answer, Some(peer)))
}

/// Our offer to an agent's phone.
pub fn offer(local: SocketAddr, v: SdpVersion) -> String {
    sdp::offer(local, &CODECS, Some(TELEPHONE_EVENT), v.session, v.version)
}

/// What the relay must send a phone that answered our offer (its SIP from `signalled`);
/// `None` without a codec of ours or with a media address the policy does not admit.
pub fn peer_of_answer(
    answer: &SessionMedia,
    signalled: IpAddr,
    policy: &MediaPolicy,
) -> Option<PeerMedia> {
    let codec = answer.codecs.iter().copied().find(|c| CODECS.contains(c))?;
    if !policy.admits(answer.addr) {
        note!(
            policy.notes,
            Warn,
            About::Switch,
            "answer refused: media address not admitted media={} signalled={}",
            answer.addr,
            signalled
        );
        return None;
    }
    Some(policy.peer(answer.addr, codec, answer.telephone_event, signalled))
}

/// The peer of an answer body, parsed (see [`peer_of_answer`]).
pub fn peer_of_answer_body(
    body: &[u8],
    signalled: IpAddr,
    policy: &MediaPolicy,
) -> Option<PeerMedia> {
    peer_of_answer(&parse_sdp(body)?, signalled, policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn sdp_may_not_point_media_at_multicast_nowhere_or_the_switch_itself() {
        let public = MediaPolicy {
            media_ip: "192.0.2.10".parse().unwrap(),
            sip: at("192.0.2.10:5060"),
            notes: Default::default(),
        };
        assert!(public.admits(at("198.51.100.7:4000")));
        for refused in [
            "192.0.2.10:4000",
            "192.0.2.10:5060",
            "224.0.0.1:4000",
            "0.0.0.0:4000",
            "255.255.255.255:4000",
            "198.51.100.7:0",
            "127.0.0.1:4000",
            "[::1]:4000",
            "[ff02::1]:4000",
        ] {
            assert!(!public.admits(at(refused)), "{refused}");
        }
        // On loopback, two softphones on one machine may talk through the switch, but
        // never to the switch's own media ports.
        let local = MediaPolicy {
            media_ip: "127.0.0.1".parse().unwrap(),
            sip: at("127.0.0.1:5060"),
            notes: Default::default(),
        };
        assert!(local.admits(at("127.0.0.1:4000")));
        assert!(
            !local.admits(at("127.0.0.1:5060")),
            "the switch's own SIP port"
        );
        let own = MediaPort::bind(local.media_ip).unwrap();
        assert!(!local.admits(own.local_addr()));
    }

    #[test]
    fn a_phone_behind_nat_learns_its_port_from_the_signalling_address_only() {
        let policy = MediaPolicy {
            media_ip: "192.0.2.10".parse().unwrap(),
            sip: at("192.0.2.10:5060"),
            notes: Default::default(),
        };
        let direct = policy.peer(
            at("198.51.100.7:4000"),
            Codec::Pcma,
            None,
            "198.51.100.7".parse().unwrap(),
        );
        assert_eq!(direct.source, MediaSource::Exact);
        let nat = policy.peer(
            at("192.168.1.20:4000"),
            Codec::Pcma,
            None,
            "203.0.113.5".parse().unwrap(),
        );
        assert_eq!(
            nat.source,
            MediaSource::LearnPortFrom("203.0.113.5".parse().unwrap())
        );
    }
}
