//! SIP for hotline: messages, RFC 3261 transactions and dialogs, and digest authentication.
//!
//! Everything here is pure: no sockets, no tasks, no clock. Time comes in as an argument
//! (`std::time::Instant`), bytes come in and go out as values, so the hard cases
//! (retransmissions, timer B/F/H expiry, CANCEL races) are tested in virtual time.
//!
//! The message parser is written here rather than taken from `rsip`: rsip is unmaintained and
//! does not accept everything RFC 3261 allows on the wire (compact header names, folded header
//! lines, whitespace before the colon, Content-Length framing on streams). Our parser keeps
//! headers as ordered name/value pairs and parses the few structured headers the switch needs
//! (Via, From/To/Contact name-addrs, CSeq, URIs) on demand.

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

pub mod dialog;
pub mod digest;
pub mod framing;
pub mod header;
pub mod message;
pub mod parse;
pub mod stats;
pub mod transaction;
pub mod triage;
pub mod uri;

pub use header::{CSeq, HeaderName, NameAddr, Via};
pub use message::{Headers, Message, Method, Request, Response};
pub use parse::{parse_message, ParseError};
pub use uri::SipUri;
