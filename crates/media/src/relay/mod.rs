//! The caller↔agent relay as the switch first used it ([`Bridge`]), and the types shared
//! with the per-call media task of [`crate::call`], which now does the relaying.

pub(crate) mod leg;
pub(crate) mod placement;
mod port;
mod task;

use std::net::{IpAddr, SocketAddr};

use crate::g711::Codec;

pub use port::{MediaPort, PortRange, PortRangeError};

pub use task::{Bridge, BridgeHandle};

/// The two sides of a bridged call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The taxpayer's side (trunk or softphone).
    Caller,
    /// The agent's desk phone.
    Agent,
}

/// What the relay needs to know about one phone, from its SDP and its signalling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerMedia {
    /// Where the SDP asked for RTP; an unspecified IP or port 0 means send it nothing (hold).
    pub addr: SocketAddr,
    /// The codec negotiated with this phone.
    pub codec: Codec,
    /// The telephone-event payload type this phone uses, if it negotiated RFC 4733.
    pub telephone_event: Option<u8>,
    /// Where its packets may come from.
    pub source: MediaSource,
}

/// Where a leg accepts RTP from, by what the signalling said. The first packet accepted
/// locks the leg to its address and port; nothing else is taken (no re-latching after a
/// silence, a new SSRC included) until a re-INVITE gives the phone a new address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaSource {
    /// From the SDP's address and port exactly: its IP is the one the SIP came from, so
    /// there is no NAT between the phone and the switch.
    Exact,
    /// From the SDP's address and port, or from any port of this address, the one the SIP
    /// came from: the SDP names another (a phone behind NAT writes its private address;
    /// a carrier's media gateway its own), so the port is learnt from the first packet.
    LearnPortFrom(IpAddr),
}

/// Packets and bytes relayed one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets sent on.
    pub packets: u64,
    /// Bytes of those packets (RTP header included).
    pub bytes: u64,
}

/// What a call's media did, returned by [`BridgeHandle::stop`] and
/// [`crate::call::CallMediaHandle::stop`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// From the caller's phone to the agent's: relayed, or mixed while a supervisor whispers
    /// or barges.
    pub caller_to_agent: FlowStats,
    /// From the agent's phone to the caller's: relayed, or mixed while a supervisor barges.
    pub agent_to_caller: FlowStats,
    /// Frames of prompts and music the switch itself sent to the caller.
    pub played: FlowStats,
    /// Frames the switch sent to a supervisor.
    pub supervisor: FlowStats,
    /// Datagrams not relayed: RTCP, unknown payload types, strangers, malformed, unsendable.
    pub dropped: u64,
    /// RTP packets the phones' sequence numbers show were lost before they reached the
    /// switch.
    pub lost: u64,
    /// Keys the caller sent beyond a person's pace, not passed on.
    pub keys_dropped: u64,
    /// Length of the media (answer to hang-up) and of its recording, in 8 kHz samples.
    pub duration_samples: u64,
}
