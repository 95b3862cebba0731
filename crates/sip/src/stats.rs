//! Counts of SIP messages by direction, method and response class, for `/metrics`. Counted
//! from each datagram's first line only (the edge counts every datagram, malformed ones
//! too, before any parsing), with relaxed atomics shared by the socket tasks and the
//! console's scrapes.

use std::sync::atomic::{AtomicU64, Ordering};

/// The methods counted by name; anything else is `other`.
pub const METHODS: [&str; 14] = [
    "INVITE",
    "ACK",
    "BYE",
    "CANCEL",
    "OPTIONS",
    "REGISTER",
    "INFO",
    "REFER",
    "NOTIFY",
    "SUBSCRIBE",
    "MESSAGE",
    "UPDATE",
    "PRACK",
    "PUBLISH",
];
/// The response classes.
pub const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"];

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by the switch.
    In,
    /// Sent by the switch.
    Out,
}

/// What a datagram's first line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLine {
    /// A request of [`METHODS`]`[i]`, or of none (`None`: `other`).
    Request(Option<usize>),
    /// A response of [`CLASSES`]`[i]`, with its code.
    Response(usize, u16),
    /// Neither.
    Garbage,
}

/// Reads the first line of a message: a method or a status code.
pub fn first_line(data: &[u8]) -> FirstLine {
    if let Some(rest) = data.strip_prefix(b"SIP/2.0 ") {
        let code = rest
            .get(..3)
            .and_then(|c| std::str::from_utf8(c).ok())
            .and_then(|c| c.parse::<u16>().ok());
        return match code {
            Some(code @ 100..=699) => FirstLine::Response(usize::from(code / 100 - 1), code),
            _ => FirstLine::Garbage,
        };
    }
    let token_end = data.iter().position(|&b| b == b' ').unwrap_or(0);
    let token = data.get(..token_end).unwrap_or_default();
    if token.is_empty() || !token.iter().all(u8::is_ascii_uppercase) {
        return FirstLine::Garbage;
    }
    FirstLine::Request(METHODS.iter().position(|m| m.as_bytes() == token))
}

/// One direction's counts.
#[derive(Debug, Default)]
pub struct Flow {
    requests: [AtomicU64; METHODS.len() + 1],
    responses: [AtomicU64; CLASSES.len()],
    garbage: AtomicU64,
}

impl Flow {
    /// Requests of `METHODS[i]`, or `other` at `METHODS.len()`.
    pub fn requests(&self, i: usize) -> u64 {
        self.requests
            .get(i)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Responses of `CLASSES[i]`.
    pub fn responses(&self, i: usize) -> u64 {
        self.responses
            .get(i)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Datagrams that were neither.
    pub fn garbage(&self) -> u64 {
        self.garbage.load(Ordering::Relaxed)
    }
}

/// Every SIP message in and out, counted.
#[derive(Debug, Default)]
pub struct SipCounters {
    /// Received.
    pub inbound: Flow,
    /// Sent.
    pub outbound: Flow,
    /// 503s sent: new requests refused while overloaded or stopping.
    refused_503: AtomicU64,
    /// New requests dropped unread because the queue of new work was full.
    dropped_new: AtomicU64,
}

impl SipCounters {
    /// Counts one message.
    pub fn count(&self, direction: Direction, data: &[u8]) {
        let flow = match direction {
            Direction::In => &self.inbound,
            Direction::Out => &self.outbound,
        };
        let counter = match first_line(data) {
            FirstLine::Request(m) => flow.requests.get(m.unwrap_or(METHODS.len())),
            FirstLine::Response(class, code) => {
                if direction == Direction::Out && code == 503 {
                    self.refused_503.fetch_add(1, Ordering::Relaxed);
                }
                flow.responses.get(class)
            }
            FirstLine::Garbage => Some(&flow.garbage),
        };
        if let Some(c) = counter {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// 503s sent since the start.
    pub fn refused_503(&self) -> u64 {
        self.refused_503.load(Ordering::Relaxed)
    }

    /// Counts a new request dropped because the queue of new work was full.
    pub fn count_dropped_new(&self) {
        self.dropped_new.fetch_add(1, Ordering::Relaxed);
    }

    /// New requests dropped unread (queue of new work full) since the start.
    pub fn dropped_new(&self) -> u64 {
        self.dropped_new.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_responses_are_told_by_their_first_line() {
        assert_eq!(
            first_line(b"INVITE sip:12366@x SIP/2.0\r\n"),
            FirstLine::Request(Some(0))
        );
        assert_eq!(
            first_line(b"PUBLISH sip:x SIP/2.0"),
            FirstLine::Request(Some(13))
        );
        assert_eq!(first_line(b"FOO sip:x SIP/2.0"), FirstLine::Request(None));
        assert_eq!(
            first_line(b"SIP/2.0 503 Service Unavailable\r\n"),
            FirstLine::Response(4, 503)
        );
        assert_eq!(
            first_line(b"SIP/2.0 180 Ringing"),
            FirstLine::Response(0, 180)
        );
        for garbage in [
            &b""[..],
            b"SIP/2.0 7",
            b"SIP/2.0 099 x",
            b"invite x",
            b"\x00\x01",
            b" INVITE",
        ] {
            assert_eq!(first_line(garbage), FirstLine::Garbage, "{garbage:?}");
        }
    }

    #[test]
    fn each_direction_is_counted_apart_and_503s_sent_are_refusals() {
        let c = SipCounters::default();
        c.count(Direction::In, b"INVITE sip:x SIP/2.0");
        c.count(Direction::In, b"FOO sip:x SIP/2.0");
        c.count(Direction::In, b"garbage");
        c.count(Direction::Out, b"SIP/2.0 503 Busy");
        c.count(Direction::In, b"SIP/2.0 503 Busy");
        assert_eq!(c.inbound.requests(0), 1);
        assert_eq!(c.inbound.requests(METHODS.len()), 1);
        assert_eq!(c.inbound.garbage(), 1);
        assert_eq!(c.outbound.responses(4), 1);
        assert_eq!(c.inbound.responses(4), 1);
        assert_eq!(c.refused_503(), 1, "only the ones the switch sent");
    }
}
