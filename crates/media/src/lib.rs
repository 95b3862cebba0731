//! Media for hotline: G.711, RTP and RFC 4733 views, SDP, and the per-call RTP relay that
//! also feeds the call's recording.
//!
//! Everything but [`relay`] is pure (no tokio, no clock), so it is tested without sockets.

#![warn(missing_docs)]

pub mod detect;
pub mod dtmf;
pub mod g711;
pub mod prompt;
pub mod relay;
pub mod rtp;
pub mod sdp;

pub use g711::Codec;
pub use relay::{
    Bridge, BridgeHandle, BridgeStats, FlowStats, Leg, MediaPort, PeerMedia, PortRange,
};
