//! Framing SIP messages on a byte stream (TCP) by Content-Length (RFC 3261 18.3).

use crate::parse::{find_header_end, ParseError};

/// Largest message accepted on a stream; a peer sending more is cut off.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// What the start of a stream buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// A whole message of this many bytes (after `skip` leading CRLF keep-alive bytes).
    Message {
        /// Keep-alive bytes before the message.
        skip: usize,
        /// The message's length.
        len: usize,
    },
    /// Only keep-alive CRLFs: drop this many bytes.
    KeepAlive(usize),
    /// Not enough bytes yet.
    NeedMore,
}

/// Finds the first message in `buf`; on a stream Content-Length is mandatory, absent means 0.
pub fn next_frame(buf: &[u8]) -> Result<Frame, ParseError> {
    let skip = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    if skip == buf.len() {
        return Ok(if skip == 0 {
            Frame::NeedMore
        } else {
            Frame::KeepAlive(skip)
        });
    }
    let data = buf.get(skip..).unwrap_or_default();
    let Some((head_len, body_start)) = find_header_end(data) else {
        return if data.len() > MAX_MESSAGE {
            Err(ParseError::Incomplete)
        } else {
            Ok(Frame::NeedMore)
        };
    };
    let head_bytes = data.get(..head_len).ok_or(ParseError::Incomplete)?;
    let head = std::str::from_utf8(head_bytes).map_err(|_| ParseError::NotUtf8)?;
    let mut body_len = 0usize;
    for line in head.split('\n') {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            body_len = value
                .trim()
                .parse()
                .map_err(|_| ParseError::BadContentLength)?;
        }
    }
    let len = body_start
        .checked_add(body_len)
        .filter(|l| *l <= MAX_MESSAGE)
        .ok_or(ParseError::BadContentLength)?;
    if data.len() < len {
        return Ok(Frame::NeedMore);
    }
    Ok(Frame::Message { skip, len })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_messages_back_to_back_and_a_partial_third() {
        let one = b"OPTIONS sip:x@h SIP/2.0\r\nl: 3\r\n\r\nabc";
        let mut buf = b"\r\n\r\n".to_vec();
        buf.extend_from_slice(one);
        buf.extend_from_slice(one);
        buf.extend_from_slice(&one[..10]);
        let Frame::Message { skip, len } = next_frame(&buf).unwrap() else {
            panic!()
        };
        assert_eq!((skip, len), (4, one.len()));
        let rest = &buf[skip + len..];
        assert_eq!(
            next_frame(rest).unwrap(),
            Frame::Message {
                skip: 0,
                len: one.len()
            }
        );
        assert_eq!(next_frame(&rest[one.len()..]).unwrap(), Frame::NeedMore);
    }
}
