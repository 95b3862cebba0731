//! SIP as the load generator needs it: a borrowed view of one datagram (start line, header
//! lookup, body) that allocates nothing, and the responses both sides write.
//!
//! Deliberately not the switch's own parser (`hotline-sip`): a generator that shared the
//! switch's reading of SIP could not catch a message the switch writes wrongly and reads back
//! just as wrongly. Folded (multi-line) headers are not supported; the switch never folds.

use std::io::Write;

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<'a> {
    /// A request: its method and Request-URI.
    Request {
        /// The method token, e.g. `INVITE`.
        method: &'a str,
        /// The Request-URI.
        uri: &'a str,
    },
    /// A response and its status code.
    Response {
        /// The status code, 100..=699.
        status: u16,
    },
}

/// Why a datagram is not a SIP message we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The head is not UTF-8.
    NotUtf8,
    /// No empty line ends the headers.
    NoHeaderEnd,
    /// The start line is neither `METHOD URI SIP/2.0` nor `SIP/2.0 CODE REASON`.
    BadStartLine,
}

/// The headers the generator reads, with their compact forms (RFC 3261 7.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hdr {
    /// `Via` / `v`.
    Via,
    /// `From` / `f`.
    From,
    /// `To` / `t`.
    To,
    /// `Call-ID` / `i`.
    CallId,
    /// `CSeq`.
    CSeq,
    /// `Contact` / `m`.
    Contact,
    /// `Content-Length` / `l`.
    ContentLength,
    /// `Retry-After`.
    RetryAfter,
    /// `Record-Route`: the proxies that stay on the dialog's path.
    RecordRoute,
}

impl Hdr {
    fn names(self) -> (&'static str, Option<&'static str>) {
        match self {
            Hdr::Via => ("via", Some("v")),
            Hdr::From => ("from", Some("f")),
            Hdr::To => ("to", Some("t")),
            Hdr::CallId => ("call-id", Some("i")),
            Hdr::CSeq => ("cseq", None),
            Hdr::Contact => ("contact", Some("m")),
            Hdr::ContentLength => ("content-length", Some("l")),
            Hdr::RetryAfter => ("retry-after", None),
            Hdr::RecordRoute => ("record-route", None),
        }
    }

    fn matches(self, name: &str) -> bool {
        let (long, short) = self.names();
        name.eq_ignore_ascii_case(long) || short.is_some_and(|s| name.eq_ignore_ascii_case(s))
    }
}

/// One SIP message, borrowed from the datagram it came in.
#[derive(Debug, Clone, Copy)]
pub struct Msg<'a> {
    /// Request or response line.
    pub start: Start<'a>,
    head: &'a str,
    /// The body (as long as Content-Length says, at most what arrived).
    pub body: &'a [u8],
}

/// Reads one datagram.
pub fn parse(data: &[u8]) -> Result<Msg<'_>, ParseError> {
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or(ParseError::NoHeaderEnd)?;
    let text = std::str::from_utf8(&data[..end]).map_err(|_| ParseError::NotUtf8)?;
    let (first, head) = text.split_once("\r\n").unwrap_or((text, ""));
    let start = start_line(first)?;
    let rest = &data[end + 4..];
    let mut msg = Msg {
        start,
        head,
        body: rest,
    };
    if let Some(len) = msg
        .header(Hdr::ContentLength)
        .and_then(|v| v.parse::<usize>().ok())
    {
        msg.body = &rest[..len.min(rest.len())];
    }
    Ok(msg)
}

fn start_line(line: &str) -> Result<Start<'_>, ParseError> {
    let mut parts = line.splitn(3, ' ');
    let a = parts.next().unwrap_or("");
    let b = parts.next().ok_or(ParseError::BadStartLine)?;
    let c = parts.next().ok_or(ParseError::BadStartLine)?;
    if a == "SIP/2.0" {
        let status = b.parse::<u16>().map_err(|_| ParseError::BadStartLine)?;
        if !(100..=699).contains(&status) {
            return Err(ParseError::BadStartLine);
        }
        Ok(Start::Response { status })
    } else if c == "SIP/2.0" && !a.is_empty() {
        Ok(Start::Request { method: a, uri: b })
    } else {
        Err(ParseError::BadStartLine)
    }
}

impl<'a> Msg<'a> {
    /// Every value of a header, in order (one per header line, lists not split).
    pub fn headers(&self, hdr: Hdr) -> impl Iterator<Item = &'a str> + '_ {
        self.head.split("\r\n").filter_map(move |line| {
            let (name, value) = line.split_once(':')?;
            hdr.matches(name.trim()).then(|| value.trim())
        })
    }

    /// The first value of a header.
    pub fn header(&self, hdr: Hdr) -> Option<&'a str> {
        self.headers(hdr).next()
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Option<&'a str> {
        self.header(Hdr::CallId)
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Option<(u32, &'a str)> {
        let (n, method) = self.header(Hdr::CSeq)?.split_once(' ')?;
        Some((n.trim().parse().ok()?, method.trim()))
    }

    /// The method of a request, or `None` for a response.
    pub fn method(&self) -> Option<&'a str> {
        match self.start {
            Start::Request { method, .. } => Some(method),
            Start::Response { .. } => None,
        }
    }
}

/// The `tag` parameter of a From or To value, if any.
pub fn tag(value: &str) -> Option<&str> {
    let params = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    params.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("tag").then(|| v.trim())
    })
}

/// The URI inside a name-addr (`"x" <sip:a@b>;p` gives `sip:a@b`), or the value itself.
pub fn uri_of(value: &str) -> &str {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.split(';').next().unwrap_or(value).trim(),
    }
}

/// The entries of a header that may hold a comma-separated list (`<sip:a;lr>, <sip:b;lr>`),
/// split on commas outside angle brackets and quotes.
pub fn list_entries(value: &str) -> impl Iterator<Item = &str> {
    let mut depth_angle = false;
    let mut quoted = false;
    let mut start = 0;
    let mut cuts = Vec::new();
    for (i, c) in value.char_indices() {
        match c {
            '"' if !depth_angle => quoted = !quoted,
            '<' if !quoted => depth_angle = true,
            '>' if !quoted => depth_angle = false,
            ',' if !quoted && !depth_angle => {
                cuts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    cuts.push(&value[start..]);
    cuts.into_iter().map(str::trim).filter(|e| !e.is_empty())
}

/// What a response carries beyond the headers copied from its request.
pub struct Reply<'b> {
    /// Status code.
    pub status: u16,
    /// Reason phrase.
    pub reason: &'b str,
    /// Our tag, added to To when the request's To has none.
    pub to_tag: Option<&'b str>,
    /// Contact URI to send, if any.
    pub contact: Option<&'b str>,
    /// An SDP body, if any.
    pub sdp: Option<&'b str>,
}

/// Writes a response to `req` into `out` (cleared first): the request's Vias, From, To (with
/// our tag), Call-ID and CSeq, the Record-Routes of an INVITE in an 18x or 2xx (RFC 3261
/// 12.1.1: a proxy that asked to stay on the dialog's path learns it from them), then what
/// `reply` adds.
pub fn write_response(out: &mut Vec<u8>, req: &Msg<'_>, reply: &Reply<'_>) {
    out.clear();
    // Writes to a Vec cannot fail.
    let _ = write!(out, "SIP/2.0 {} {}\r\n", reply.status, reply.reason);
    for via in req.headers(Hdr::Via) {
        let _ = write!(out, "Via: {via}\r\n");
    }
    let _ = write!(out, "From: {}\r\n", req.header(Hdr::From).unwrap_or(""));
    let to = req.header(Hdr::To).unwrap_or("");
    match reply.to_tag {
        Some(t) if tag(to).is_none() => {
            let _ = write!(out, "To: {to};tag={t}\r\n");
        }
        _ => {
            let _ = write!(out, "To: {to}\r\n");
        }
    }
    let _ = write!(out, "Call-ID: {}\r\n", req.call_id().unwrap_or(""));
    let _ = write!(out, "CSeq: {}\r\n", req.header(Hdr::CSeq).unwrap_or(""));
    if req.method() == Some("INVITE") && (101..300).contains(&reply.status) {
        for rr in req.headers(Hdr::RecordRoute) {
            let _ = write!(out, "Record-Route: {rr}\r\n");
        }
    }
    if let Some(c) = reply.contact {
        let _ = write!(out, "Contact: <{c}>\r\n");
    }
    match reply.sdp {
        Some(sdp) => {
            let _ = write!(
                out,
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            );
        }
        None => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
    }
}

/// A request as the callers write it, inside one call's dialog.
pub struct Request<'b> {
    /// Method token.
    pub method: &'b str,
    /// Request-URI.
    pub uri: &'b str,
    /// Our SIP address, for the Via.
    pub via: std::net::SocketAddr,
    /// The Via branch (starting with the RFC 3261 magic cookie).
    pub branch: &'b str,
    /// The From value, with our tag.
    pub from: &'b str,
    /// The To value (with the far end's tag inside a dialog).
    pub to: &'b str,
    /// Call-ID.
    pub call_id: &'b str,
    /// The dialog's route set, one Route header each, in order (RFC 3261 12.2.1.1).
    pub route: &'b [String],
    /// CSeq number (the method is this request's).
    pub cseq: u32,
    /// Contact URI, if any.
    pub contact: Option<&'b str>,
    /// An SDP body, if any.
    pub sdp: Option<&'b str>,
}

/// Writes a request into `out` (cleared first).
pub fn write_request(out: &mut Vec<u8>, r: &Request<'_>) {
    out.clear();
    // Writes to a Vec cannot fail.
    let _ = write!(
        out,
        "{m} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch={b};rport\r\nMax-Forwards: 70\r\n\
         From: {from}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {n} {m}\r\n",
        m = r.method,
        uri = r.uri,
        via = r.via,
        b = r.branch,
        from = r.from,
        to = r.to,
        cid = r.call_id,
        n = r.cseq,
    );
    for hop in r.route {
        let _ = write!(out, "Route: {hop}\r\n");
    }
    if let Some(c) = r.contact {
        let _ = write!(out, "Contact: <{c}>\r\n");
    }
    match r.sdp {
        Some(sdp) => {
            let _ = write!(
                out,
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            );
        }
        None => out.extend_from_slice(b"Content-Length: 0\r\n\r\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:20001@127.0.0.1:5070 SIP/2.0\r\n\
        Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKa\r\n\
        v: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKb\r\n\
        From: \"12366\" <sip:12366@127.0.0.1>;tag=sw1\r\n\
        To: <sip:20001@127.0.0.1:5070>\r\n\
        i: abc@hotline\r\n\
        CSeq: 7 INVITE\r\n\
        l: 4\r\n\r\nv=0\nextra";

    #[test]
    fn a_switch_invite_is_read_with_compact_headers() {
        let m = parse(INVITE).unwrap();
        assert_eq!(m.method(), Some("INVITE"));
        assert_eq!(m.call_id(), Some("abc@hotline"));
        assert_eq!(m.cseq(), Some((7, "INVITE")));
        assert_eq!(m.headers(Hdr::Via).count(), 2);
        assert_eq!(m.body, b"v=0\n");
    }

    #[test]
    fn a_response_copies_vias_and_tags_the_to() {
        let m = parse(INVITE).unwrap();
        let mut out = Vec::new();
        let reply = Reply {
            status: 180,
            reason: "Ringing",
            to_tag: Some("ag9"),
            contact: None,
            sdp: None,
        };
        write_response(&mut out, &m, &reply);
        let r = parse(&out).unwrap();
        assert_eq!(r.start, Start::Response { status: 180 });
        assert_eq!(r.headers(Hdr::Via).count(), 2);
        assert_eq!(r.header(Hdr::To).and_then(tag), Some("ag9"));
        assert_eq!(r.cseq(), Some((7, "INVITE")));
    }

    #[test]
    fn an_invite_answer_keeps_the_record_route_but_a_bye_answer_does_not() {
        let invite = b"INVITE sip:a@127.0.0.1 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKp\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bKc\r\n\
            Record-Route: <sip:127.0.0.1:5060;lr>\r\n\
            Record-Route: <sip:127.0.0.2:5060;lr>\r\n\
            From: <sip:1@x>;tag=1\r\nTo: <sip:a@y>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n";
        let m = parse(invite).unwrap();
        let mut out = Vec::new();
        let ok = Reply {
            status: 200,
            reason: "OK",
            to_tag: Some("t"),
            contact: None,
            sdp: None,
        };
        write_response(&mut out, &m, &ok);
        let r = parse(&out).unwrap();
        let rrs: Vec<_> = r.headers(Hdr::RecordRoute).collect();
        assert_eq!(rrs, ["<sip:127.0.0.1:5060;lr>", "<sip:127.0.0.2:5060;lr>"]);
        assert_eq!(r.headers(Hdr::Via).count(), 2);
        let bye = String::from_utf8_lossy(invite).replace("INVITE", "BYE");
        write_response(&mut out, &parse(bye.as_bytes()).unwrap(), &ok);
        assert_eq!(parse(&out).unwrap().headers(Hdr::RecordRoute).count(), 0);
    }

    #[test]
    fn list_headers_split_outside_brackets_and_quotes() {
        let v = "<sip:a;lr>, \"x, y\" <sip:b;lr;p=1,2>,sip:c";
        let e: Vec<_> = list_entries(v).collect();
        assert_eq!(e, ["<sip:a;lr>", "\"x, y\" <sip:b;lr;p=1,2>", "sip:c"]);
    }

    #[test]
    fn tags_and_uris_come_out_of_name_addrs() {
        assert_eq!(tag("<sip:a@b;x=1>;tag=99;y"), Some("99"));
        assert_eq!(tag("sip:a@b;tag=4"), Some("4"));
        assert_eq!(tag("<sip:a@b;tag=no>"), None);
        assert_eq!(uri_of("\"A\" <sip:a@b:5>;expires=3"), "sip:a@b:5");
        assert_eq!(uri_of("sip:a@b;lr"), "sip:a@b");
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(parse(b"hello").unwrap_err(), ParseError::NoHeaderEnd);
        assert_eq!(
            parse(b"SIP/2.0 99 X\r\n\r\n").unwrap_err(),
            ParseError::BadStartLine
        );
        assert_eq!(parse(b"FOO\r\n\r\n").unwrap_err(), ParseError::BadStartLine);
        assert_eq!(
            parse(b"SIP/2.0 503 Busy\r\n\r\n").unwrap().start,
            Start::Response { status: 503 }
        );
    }
}
