//! The switch's use of the media crate: which codecs it offers and accepts, and SDP
//! bodies for each leg. The switch anchors media: each leg talks to the switch's own port.

use std::net::SocketAddr;

use hotline_media::sdp::{self, SessionMedia};
use hotline_media::Codec;
pub use hotline_media::{BridgeHandle, MediaPort, PeerMedia};
use hotline_record::{CallId, Recording};
use rand::Rng;

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
    /// A new session, version 1.
    pub fn new() -> SdpVersion {
        SdpVersion {
            session: rand::thread_rng().gen_range(1..u32::MAX as u64),
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

/// Our answer to a phone's offer, and what the relay must send that phone.
pub fn answer(
    offer: &SessionMedia,
    local: SocketAddr,
    v: SdpVersion,
) -> Option<(String, PeerMedia)> {
    let a = sdp::answer(local, offer, &CODECS, v.session, v.version).ok()?;
    Some((
        a.body,
        PeerMedia {
            addr: offer.addr,
            codec: a.codec,
            telephone_event: a.telephone_event,
        },
    ))
}

/// The body of our 200 to a re-INVITE on a leg at `local`, with the version moved on
/// (RFC 3264 8): a fresh offer when the re-INVITE has none, else our answer and where the
/// phone's media now is. `None` when its offer cannot be answered (488).
pub fn reinvite_body(
    body: &[u8],
    local: SocketAddr,
    sdp: &mut SdpVersion,
) -> Option<(String, Option<PeerMedia>)> {
    let version = sdp.next();
    if body.is_empty() {
        return Some((offer(local, version), None));
    }
    let (answer, peer) = answer(&parse_sdp(body)?, local, version)?;
    Some((answer, Some(peer)))
}

/// Our offer to an agent's phone.
pub fn offer(local: SocketAddr, v: SdpVersion) -> String {
    sdp::offer(local, &CODECS, Some(TELEPHONE_EVENT), v.session, v.version)
}

/// What the relay must send a phone that answered our offer.
pub fn peer_of_answer(answer: &SessionMedia) -> Option<PeerMedia> {
    let codec = answer.codecs.iter().copied().find(|c| CODECS.contains(c))?;
    Some(PeerMedia {
        addr: answer.addr,
        codec,
        telephone_event: answer.telephone_event,
    })
}

/// Starts relaying and recording a connected call; `prompts` for music on hold later.
pub fn start_bridge(
    id: &CallId,
    caller: (MediaPort, PeerMedia),
    agent: (MediaPort, PeerMedia),
    recording: Option<Recording>,
    prompts: std::sync::Arc<hotline_media::prompt::PromptSet>,
) -> BridgeHandle {
    hotline_media::Bridge::start_with_prompts(
        id.as_str().to_string(),
        caller,
        agent,
        recording,
        prompts,
    )
}
