//! The audio part of SDP offers and answers (RFC 4566, RFC 3264): just what a G.711 switch
//! needs to know about a phone, and the bodies it sends back.

mod build;
mod parse;

use std::net::SocketAddr;

use crate::g711::Codec;

pub use build::{answer, offer, offer_with_direction, Answer};
pub use parse::parse;

/// Which way media flows, from the point of view of the SDP's author.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Both ways (the default).
    SendRecv,
    /// The author only sends: it put the other side on hold.
    SendOnly,
    /// The author only receives.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    /// The attribute name, as in `a=sendrecv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes to this offer's (RFC 3264 §6.1).
    pub fn answered(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    fn from_attribute(attr: &str) -> Option<Direction> {
        match attr {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }
}

/// What a phone's SDP says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionMedia {
    /// Where the phone wants RTP; an unspecified IP (`c=0.0.0.0`) is the old way of holding.
    pub addr: SocketAddr,
    /// The G.711 codecs offered, in the phone's order of preference.
    pub codecs: Vec<Codec>,
    /// The dynamic payload type of `telephone-event/8000`, if the phone sends RFC 4733 DTMF.
    pub telephone_event: Option<u8>,
    /// The media direction of the audio stream.
    pub direction: Direction,
}

impl SessionMedia {
    /// Whether this SDP puts the other side on hold (`c=0.0.0.0`, sendonly or inactive).
    pub fn is_hold(&self) -> bool {
        self.addr.ip().is_unspecified()
            || matches!(self.direction, Direction::SendOnly | Direction::Inactive)
    }
}

/// Why an SDP body cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// A line is not `x=value`.
    #[error("line {line}: not an SDP line")]
    BadLine {
        /// 1-based line number.
        line: usize,
    },
    /// The body does not start with `v=0`.
    #[error("SDP must start with v=0")]
    MissingVersion,
    /// A `c=` line is not `IN IP4|IP6 <address>`.
    #[error("line {line}: bad connection line")]
    BadConnection {
        /// 1-based line number.
        line: usize,
    },
    /// An `m=` line is malformed.
    #[error("line {line}: bad media line")]
    BadMedia {
        /// 1-based line number.
        line: usize,
    },
    /// An `a=rtpmap` line is malformed.
    #[error("line {line}: bad rtpmap")]
    BadRtpmap {
        /// 1-based line number.
        line: usize,
    },
    /// The audio stream uses a transport other than plain RTP (e.g. SRTP).
    #[error("line {line}: unsupported transport {proto:?}")]
    UnsupportedTransport {
        /// 1-based line number.
        line: usize,
        /// The transport given.
        proto: String,
    },
    /// There is no `m=audio` line.
    #[error("no audio stream")]
    NoAudio,
    /// The audio stream has port 0: declined or disabled.
    #[error("audio stream declined (port 0)")]
    AudioDeclined,
    /// No `c=` line applies to the audio stream.
    #[error("no connection address for the audio stream")]
    NoConnection,
    /// None of the offered codecs is one we accept.
    #[error("no common codec")]
    NoCommonCodec,
}
