//! Media for hotline: G.711, RTP and RFC 4733 views, SDP, key detection, prompts, and the
//! per-call media task that plays to the caller, records, relays to the agent (one after
//! another across transfers) and mixes for a supervisor who listens, whispers or barges.
//!
//! Everything but [`call`] and [`relay`] is pure (no tokio, no clock), so it is tested
//! without sockets; file IO happens only at the edges ([`prompt`] at load, voicemail and
//! recording writers on their own threads).

// Everything here handles what came from the network, a file or the CLI: nothing may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![warn(missing_docs)]

pub mod call;
pub mod detect;
pub mod dtmf;
pub mod g711;
pub mod key_pace;
pub mod prompt;
pub mod relay;
pub mod rtp;
pub mod sdp;
pub mod totals;

pub use call::{CallMedia, CallMediaHandle, MediaEvent, Monitor};
pub use detect::{EventDeduper, ToneDetector};
pub use g711::Codec;
pub use prompt::PromptSet;
pub use relay::{
    Bridge, BridgeHandle, BridgeStats, FlowStats, Leg, MediaPort, MediaSource, PeerMedia, PortRange,
};
