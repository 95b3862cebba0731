//! The per-call RTP relay: one tokio task per call moves packets between the caller's and
//! the agent's ports and feeds the recording.
//!
//! This is the crate's only async code; per-packet decisions live in the pure `core`.

mod core;
mod placement;
mod port;
mod task;

use std::net::SocketAddr;

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

impl Leg {
    pub(crate) fn index(self) -> usize {
        match self {
            Leg::Caller => 0,
            Leg::Agent => 1,
        }
    }
}

/// What the relay needs to know about one phone, from its SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerMedia {
    /// Where the SDP asked for RTP; an unspecified IP or port 0 means send it nothing (hold).
    pub addr: SocketAddr,
    /// The codec negotiated with this phone.
    pub codec: Codec,
    /// The telephone-event payload type this phone uses, if it negotiated RFC 4733.
    pub telephone_event: Option<u8>,
}

/// Packets and bytes relayed one way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Packets sent on.
    pub packets: u64,
    /// Bytes of those packets (RTP header included).
    pub bytes: u64,
}

/// What a bridge did over the call, returned by [`BridgeHandle::stop`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BridgeStats {
    /// From the caller's phone to the agent's.
    pub caller_to_agent: FlowStats,
    /// From the agent's phone to the caller's.
    pub agent_to_caller: FlowStats,
    /// Datagrams not relayed: RTCP, unknown payload types, strangers, malformed, unsendable.
    pub dropped: u64,
    /// Length of the bridge (and of its recording) in 8 kHz samples.
    pub duration_samples: u64,
}
