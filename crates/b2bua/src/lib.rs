//! hotline's call machine: the back-to-back user agent that owns every call, from the
//! taxpayer's INVITE through the menu, the queue, the agent's phone ringing, the talk,
//! transfers and supervision, to the hang-up and the call's record.
//!
//! Sans-IO, in the shape of quinn-proto and str0m: [`Core::handle`] takes one [`Input`]
//! (a SIP message, a media event, an operator's command, ports granted) with the
//! monotonic and the wall-clock time, [`Core::handle_timeout`] fires what is due,
//! [`Core::poll_timeout`] says when, and [`Core::poll_output`] hands over each
//! [`Output`] (datagrams, media commands, store writes, replies). No sockets, files,
//! clocks or OS randomness: tags and branches come from a seeded generator
//! ([`Local::new`]). So every race of a call can be played in a test, in virtual time,
//! in milliseconds; `hotline-switch` is the async edge that carries the outputs out.
//!
//! Written by hand because no crate is a call-centre B2BUA; it composes the pure
//! machines of `hotline-sip` (transactions, dialogs), `hotline-acd` (the queue) and
//! `hotline-ivr` (the menu). It has no logger: what it has to say comes out as
//! [`Note`]s, which the edge logs in the span of the call they are about. It uses only the data types of
//! `hotline-media` (SDP, media peers, prompts) and `hotline-record` (records, writes).

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

mod acks;
pub mod admission;
mod agents;
pub mod board;
pub mod brakes;
mod call;
mod calls;
mod census;
pub mod command;
mod core;
mod dispatch;
mod dtmf_info;
mod keepalive;
mod log_budget;
mod media;
pub mod media_ctl;
pub mod notes;
mod operator;
pub mod out;
mod owners;
pub mod plan;
pub mod registrar;
mod shedding;
mod shutdown;
mod sign_in;
mod sipbuild;
mod step;

pub use crate::agents::AgentCommand;
pub use crate::board::{Board, Malformed, RegionBoard, Seat, SeatCall};
pub use crate::census::Census;
pub use crate::core::{Core, CoreParts};
pub use crate::media_ctl::{MediaCommand, MediaId, PortId, RecordingAt};
pub use crate::notes::{About, Level, Note};
pub use crate::out::Output;
pub use crate::plan::Plan;
pub use crate::sipbuild::Local;
pub use crate::step::{Inbound, Input, ReplyTo};
