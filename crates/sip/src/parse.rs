//! Parsing SIP messages from bytes, accepting what RFC 3261 allows on the wire: compact
//! header names, folded lines, whitespace around the colon, any case in header names.

use thiserror::Error;

use crate::header::{CSeq, HeaderName, NameAddr, Via};
use crate::message::{Header, Headers, Message, Method, Request, Response, SipMessage};

/// Why a datagram or stream chunk is not a SIP message.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ParseError {
    /// The header section never ends with an empty line.
    #[error("message has no end of headers")]
    Incomplete,
    /// The start line is neither a request line nor a status line.
    #[error("bad start line")]
    BadStartLine,
    /// A header line has no colon or an empty name.
    #[error("bad header line {0}")]
    BadHeader(usize),
    /// The header section is not UTF-8.
    #[error("header section is not UTF-8")]
    NotUtf8,
    /// Content-Length is not a number, or larger than the body received.
    #[error("bad Content-Length")]
    BadContentLength,
}

/// Parses one whole message (a UDP datagram); the body is cut to Content-Length.
pub fn parse_message(data: &[u8]) -> Result<Message, ParseError> {
    parse_inner(data, true)
}

/// Parses a message ignoring Content-Length: only to answer a framing error with a 400.
pub fn parse_ignoring_length(data: &[u8]) -> Result<Message, ParseError> {
    parse_inner(data, false)
}

fn parse_inner(data: &[u8], honour_length: bool) -> Result<Message, ParseError> {
    // RFC 5626 keep-alives and stray CRLFs before a message are skipped.
    let start = data
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .ok_or(ParseError::Incomplete)?;
    let data = data.get(start..).ok_or(ParseError::Incomplete)?;
    let (head_len, body_start) = find_header_end(data).ok_or(ParseError::Incomplete)?;
    let head_bytes = data.get(..head_len).ok_or(ParseError::Incomplete)?;
    let head = std::str::from_utf8(head_bytes).map_err(|_| ParseError::NotUtf8)?;
    let mut lines = unfold(head).into_iter();
    let start_line = lines.next().ok_or(ParseError::BadStartLine)?;
    let mut headers = Headers::default();
    for (i, line) in lines.enumerate() {
        let (name, value) = line.split_once(':').ok_or(ParseError::BadHeader(i + 1))?;
        let name = name.trim();
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(ParseError::BadHeader(i + 1));
        }
        headers.0.push(Header {
            name: HeaderName::parse(name),
            value: value.trim().to_string(),
        });
    }
    let rest = data.get(body_start..).unwrap_or(&[]);
    let body = match headers
        .get(&HeaderName::ContentLength)
        .filter(|_| honour_length)
    {
        Some(v) => {
            let len: usize = v.trim().parse().map_err(|_| ParseError::BadContentLength)?;
            rest.get(..len)
                .ok_or(ParseError::BadContentLength)?
                .to_vec()
        }
        None => rest.to_vec(),
    };
    parse_start_line(&start_line, headers, body)
}

fn parse_start_line(line: &str, headers: Headers, body: Vec<u8>) -> Result<Message, ParseError> {
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let rest = rest.trim_start();
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status: u16 = code.parse().map_err(|_| ParseError::BadStartLine)?;
        if !(100..=699).contains(&status) {
            return Err(ParseError::BadStartLine);
        }
        return Ok(Message::Response(Response {
            status,
            reason: reason.trim().to_string(),
            headers,
            body,
        }));
    }
    let mut parts = line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::BadStartLine);
    };
    let token_ok = method
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if version != "SIP/2.0" || !token_ok || !uri.contains(':') {
        return Err(ParseError::BadStartLine);
    }
    Ok(Message::Request(Request {
        method: Method::from_token(method),
        uri: uri.to_string(),
        headers,
        body,
    }))
}

/// Finds the empty line ending the headers: returns (header length, body offset).
pub fn find_header_end(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        if b == b'\n' {
            // "\n\n" or "\n\r\n" ends the headers.
            match data.get(i + 1) {
                Some(b'\n') => return Some((i, i + 2)),
                Some(b'\r') if data.get(i + 2) == Some(&b'\n') => return Some((i, i + 3)),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Splits the header section into logical lines, joining folded continuations.
fn unfold(head: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.starts_with([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.push(' ');
                last.push_str(raw.trim());
                continue;
            }
        }
        if !raw.is_empty() {
            lines.push(raw.to_string());
        }
    }
    lines
}

/// Why a parsed request cannot be processed; the switch answers it with 400.
pub fn validate_request(req: &Request) -> Result<(), &'static str> {
    let via = req.top_via().ok_or("missing or bad Via")?;
    if via.branch().is_none() {
        return Err("Via without branch");
    }
    req.party_from().ok_or("missing or bad From")?;
    req.party_to().ok_or("missing or bad To")?;
    req.call_id()
        .filter(|c| !c.is_empty())
        .ok_or("missing Call-ID")?;
    let cseq = req.cseq().ok_or("missing or bad CSeq")?;
    if cseq.method != req.method {
        return Err("CSeq method does not match");
    }
    if req.method == Method::Invite && req.headers.get(&HeaderName::Contact).is_none() {
        return Err("INVITE without Contact");
    }
    Ok(())
}

/// Whether a response has what is needed to match it to a transaction.
pub fn validate_response(resp: &Response) -> Result<(Via, CSeq), &'static str> {
    let via = resp.top_via().ok_or("missing or bad Via")?;
    let cseq = resp.cseq().ok_or("missing or bad CSeq")?;
    resp.headers
        .get(&HeaderName::From)
        .and_then(NameAddr::parse)
        .ok_or("missing From")?;
    Ok((via, cseq))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:12366@127.0.0.1 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1\r\n\
f: <sip:13903790000@127.0.0.1>;tag=1\r\n\
t: <sip:12366@127.0.0.1>\r\n\
i: abc@127.0.0.1\r\n\
CSeq : 1 INVITE\r\n\
Subject: a folded\r\n  subject line\r\n\
m: <sip:13903790000@127.0.0.1:5062>\r\n\
c: application/sdp\r\n\
l: 4\r\n\r\nv=0\r\nGARBAGE";

    #[test]
    fn compact_names_folding_and_space_before_colon() {
        let Message::Request(req) = parse_message(INVITE.as_bytes()).unwrap() else {
            panic!("not a request")
        };
        assert_eq!(req.method, Method::Invite);
        assert_eq!(req.call_id(), Some("abc@127.0.0.1"));
        assert_eq!(req.cseq().unwrap().seq, 1);
        assert_eq!(
            req.headers.get(&HeaderName::Subject),
            Some("a folded subject line")
        );
        assert_eq!(req.body, b"v=0\r");
        assert!(validate_request(&req).is_ok());
    }

    #[test]
    fn content_length_past_the_end_is_an_error() {
        let msg = INVITE.replace("l: 4", "l: 400");
        assert_eq!(
            parse_message(msg.as_bytes()),
            Err(ParseError::BadContentLength)
        );
    }

    #[test]
    fn response_line() {
        let m = parse_message(b"SIP/2.0 180 Ringing\r\nCall-ID: x\r\n\r\n").unwrap();
        assert!(matches!(m, Message::Response(r) if r.status == 180));
        assert!(parse_message(b"SIP/2.0 1800 Ringing\r\n\r\n").is_err());
    }

    #[test]
    fn missing_headers_fail_validation() {
        let msg = INVITE.replace("i: abc@127.0.0.1\r\n", "");
        let Message::Request(req) = parse_message(msg.as_bytes()).unwrap() else {
            panic!()
        };
        assert_eq!(validate_request(&req), Err("missing Call-ID"));
    }
}
