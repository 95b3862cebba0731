//! SIP requests and responses as ordered header lists plus a body, and their wire form.

use std::fmt;

use crate::header::{CSeq, HeaderName, NameAddr, Via};

/// A SIP method; unknown extension methods are kept by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// Starts a call.
    Invite,
    /// Acknowledges a final response to INVITE.
    Ack,
    /// Ends a call.
    Bye,
    /// Stops a pending INVITE.
    Cancel,
    /// Capability query, used as a keep-alive.
    Options,
    /// Binds a phone's contact to an agent.
    Register,
    /// Mid-call information (DTMF relay).
    Info,
    /// Transfer.
    Refer,
    /// Event notification.
    Notify,
    /// Event subscription.
    Subscribe,
    /// Instant message.
    Message,
    /// Session update before answer.
    Update,
    /// Reliable provisional acknowledgement.
    Prack,
    /// Any other token.
    Other(String),
}

impl Method {
    /// Parses a method token (case-sensitive, as RFC 3261 says).
    pub fn from_token(token: &str) -> Method {
        match token {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "OPTIONS" => Method::Options,
            "REGISTER" => Method::Register,
            "INFO" => Method::Info,
            "REFER" => Method::Refer,
            "NOTIFY" => Method::Notify,
            "SUBSCRIBE" => Method::Subscribe,
            "MESSAGE" => Method::Message,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            other => Method::Other(other.to_string()),
        }
    }

    /// The method's token as written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Options => "OPTIONS",
            Method::Register => "REGISTER",
            Method::Info => "INFO",
            Method::Refer => "REFER",
            Method::Notify => "NOTIFY",
            Method::Subscribe => "SUBSCRIBE",
            Method::Message => "MESSAGE",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header line: its canonical name and its raw (unfolded, trimmed) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header's name, compact forms expanded.
    pub name: HeaderName,
    /// The value with folding undone and surrounding whitespace trimmed.
    pub value: String,
}

/// The headers of a message, in wire order (order matters for Via and Route).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    /// The first value of `name`, if present.
    pub fn get(&self, name: &HeaderName) -> Option<&str> {
        self.0
            .iter()
            .find(|h| &h.name == name)
            .map(|h| h.value.as_str())
    }

    /// Every value of `name`; list headers (Via, Contact, Route ...) are split into their
    /// elements, others (WWW-Authenticate, whose value has commas of its own) are not.
    pub fn get_all(&self, name: &HeaderName) -> Vec<&str> {
        let lines = self.0.iter().filter(|h| &h.name == name);
        if name.is_list() {
            lines.flat_map(|h| split_list(&h.value)).collect()
        } else {
            lines.map(|h| h.value.as_str()).collect()
        }
    }

    /// Appends a header line.
    pub fn push(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.push(Header {
            name,
            value: value.into(),
        });
    }

    /// Inserts a header line before all others (a new top Via).
    pub fn push_front(&mut self, name: HeaderName, value: impl Into<String>) {
        self.0.insert(
            0,
            Header {
                name,
                value: value.into(),
            },
        );
    }

    /// Replaces every line of `name` with one line holding `value`.
    pub fn set(&mut self, name: HeaderName, value: impl Into<String>) {
        self.remove(&name);
        self.push(name, value);
    }

    /// Removes every line of `name`.
    pub fn remove(&mut self, name: &HeaderName) {
        self.0.retain(|h| &h.name != name);
    }

    /// Removes the first element of a possibly comma-separated header (the top Via).
    pub fn remove_first(&mut self, name: &HeaderName) {
        let Some(pos) = self.0.iter().position(|h| &h.name == name) else {
            return;
        };
        let Some(header) = self.0.get(pos) else {
            return;
        };
        let items = split_list(&header.value);
        if items.len() <= 1 {
            self.0.remove(pos);
        } else {
            let rest = items.get(1..).unwrap_or_default().join(", ");
            if let Some(header) = self.0.get_mut(pos) {
                header.value = rest;
            }
        }
    }
}

/// Splits a comma-separated header value, respecting quotes and angle brackets.
pub fn split_list(value: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut in_quote, mut in_angle, mut escaped) = (false, false, false);
    let mut start = 0;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quote => escaped = true,
            '"' => in_quote = !in_quote,
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            ',' if !in_quote && !in_angle => {
                let item = value[start..i].trim();
                if !item.is_empty() {
                    items.push(item);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let item = value[start..].trim();
    if !item.is_empty() {
        items.push(item);
    }
    items
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The Request-URI, as written.
    pub uri: String,
    /// Header lines.
    pub headers: Headers,
    /// The body (usually SDP).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code, 100–699.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Header lines.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
}

/// Either kind of SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Message {
    /// The message's headers.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    /// The wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

/// Accessors shared by requests and responses.
pub trait SipMessage {
    /// The message's headers.
    fn headers(&self) -> &Headers;

    /// The Call-ID.
    fn call_id(&self) -> Option<&str> {
        self.headers().get(&HeaderName::CallId)
    }
    /// The parsed CSeq.
    fn cseq(&self) -> Option<CSeq> {
        self.headers().get(&HeaderName::CSeq).and_then(CSeq::parse)
    }
    /// The topmost Via.
    fn top_via(&self) -> Option<Via> {
        self.headers()
            .get_all(&HeaderName::Via)
            .first()
            .and_then(|v| Via::parse(v))
    }
    /// The parsed From header.
    fn party_from(&self) -> Option<NameAddr> {
        self.headers()
            .get(&HeaderName::From)
            .and_then(NameAddr::parse)
    }
    /// The parsed To header.
    fn party_to(&self) -> Option<NameAddr> {
        self.headers()
            .get(&HeaderName::To)
            .and_then(NameAddr::parse)
    }
}

impl SipMessage for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl SipMessage for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

fn write_headers(out: &mut Vec<u8>, headers: &Headers, body_len: usize) {
    for h in &headers.0 {
        if h.name == HeaderName::ContentLength {
            continue;
        }
        out.extend_from_slice(h.name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {body_len}\r\n\r\n").as_bytes());
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: Method, uri: impl Into<String>) -> Request {
        Request {
            method,
            uri: uri.into(),
            headers: Headers::default(),
            body: Vec::new(),
        }
    }

    /// The wire form; Content-Length is always written from the body's real length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(format!("{} {} SIP/2.0\r\n", self.method, self.uri).as_bytes());
        write_headers(&mut out, &self.headers, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    /// The wire form; Content-Length is always written from the body's real length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.body.len());
        out.extend_from_slice(format!("SIP/2.0 {} {}\r\n", self.status, self.reason).as_bytes());
        write_headers(&mut out, &self.headers, self.body.len());
        out.extend_from_slice(&self.body);
        out
    }

    /// A response to `req` copying Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6.2).
    pub fn to_request(req: &Request, status: u16, reason: &str) -> Response {
        let mut headers = Headers::default();
        for h in &req.headers.0 {
            if matches!(
                h.name,
                HeaderName::Via
                    | HeaderName::From
                    | HeaderName::To
                    | HeaderName::CallId
                    | HeaderName::CSeq
            ) {
                headers.0.push(h.clone());
            }
        }
        if status == 100 {
            if let Some(ts) = req.headers.get(&HeaderName::Other("timestamp".into())) {
                headers.push(HeaderName::Other("Timestamp".into()), ts);
            }
        }
        Response {
            status,
            reason: reason.to_string(),
            headers,
            body: Vec::new(),
        }
    }

    /// Adds `;tag=` to the To header when it has none (a UAS's first non-100 response).
    pub fn with_to_tag(mut self, tag: &str) -> Response {
        for h in &mut self.headers.0 {
            if h.name == HeaderName::To {
                if let Some(na) = NameAddr::parse(&h.value) {
                    if na.tag().is_none() {
                        h.value = format!("{};tag={}", h.value, tag);
                    }
                }
            }
        }
        self
    }
}

/// The standard reason phrase for the codes the switch sends.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        603 => "Decline",
        _ => "Unknown",
    }
}
