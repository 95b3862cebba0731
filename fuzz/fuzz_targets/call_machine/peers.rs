//! The phones around the switch in the call machine target, and the SIP they write: the
//! fields come from the fuzzer, the shape is always that of a real phone's message, so
//! that the machine gets past its parser and validation and into its calls.

use std::net::SocketAddr;

use arbitrary::Arbitrary;
use hotline_sip::digest::Challenge;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::{HeaderName, Request, Response};

/// The switch's address in the plan.
pub const SWITCH: &str = "127.0.0.1:5060";

/// Every phone: three callers' softphones, the agents' desk phones (1005 registers with a
/// secret), the supervisor's, and the carrier's trunk.
pub const PEERS: [(&str, u16); 8] = [
    ("037961234560", 6000),
    ("13903790000", 6002),
    ("anonymous", 6004),
    ("1003", 5070),
    ("1004", 5072),
    ("1005", 5074),
    ("1950", 5090),
    ("carrier", 7000),
];

/// 1005's password; the others have none and guess wrongly.
pub const SECRET_1005: &str = "fuzz-1005-a-long-secret";

/// The plan: Luoyang with two static agents and one that registers, the centre, a
/// supervisor and a carrier trunk, optionally with the voice menu.
pub fn dialplan(with_menu: bool) -> String {
    let mut plan = format!(
        r#"[switch]
service_numbers = ["12366"]
province = "河南"
centre = "centre"
default_area_code = "0371"

[[region]]
id = "luoyang"
name = "洛阳"
cities = ["洛阳"]
area_codes = ["0379"]
ring_timeout_secs = 5
overflow_after_secs = 60
wrap_up_secs = 2

[[region]]
id = "centre"
name = "省局联络中心"
ring_timeout_secs = 5
wrap_up_secs = 0

[[agent]]
id = "1003"
region = "luoyang"
contact = "sip:1003@127.0.0.1:5070"
trust_address = true

[[agent]]
id = "1004"
region = "centre"
contact = "sip:1004@127.0.0.1:5072"
trust_address = true

[[agent]]
id = "1005"
region = "luoyang"
secret = "{SECRET_1005}"

[[supervisor]]
id = "1950"
name = "班长"
contact = "sip:1950@127.0.0.1:5090"
trust_address = true
scope = "luoyang"

[[trunk]]
name = "carrier"
address = "127.0.0.1:7000"
allow = ["1[3-9]XXXXXXXXX"]
"#
    );
    if with_menu {
        plan += &format!(
            r#"
[ivr]
start = "welcome"
closed = "closed"
prompts = "{}/../prompts"
position_every_secs = 20

[[ivr.node]]
id = "welcome"
play = ["goodbye"]
next = "main"

[[ivr.node]]
id = "main"
play = ["invalid"]
keys = {{ "1" = "filing", "4" = "complaints", "0" = "agent", "2" = "message", "3" = "callback" }}
timeout_secs = 10
retries = 2
fallback = "agent"

[[ivr.node]]
id = "filing"
queue = "filing"
max_wait_secs = 30
next = "message"

[[ivr.node]]
id = "complaints"
queue = "complaints"
region = "centre"

[[ivr.node]]
id = "agent"
queue = ""

[[ivr.node]]
id = "closed"
play = ["goodbye"]
next = "message"

[[ivr.node]]
id = "message"
voicemail_secs = 30
next = "bye"

[[ivr.node]]
id = "callback"
callback = true
next = "bye"

[[ivr.node]]
id = "bye"
hangup = true
"#,
            env!("CARGO_MANIFEST_DIR")
        );
    }
    plan
}

/// A request method, as phones send them.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Verb {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Refer,
    Update,
    Prack,
    Notify,
    Subscribe,
    Message,
}

impl Verb {
    pub fn token(self) -> &'static str {
        match self {
            Verb::Invite => "INVITE",
            Verb::Ack => "ACK",
            Verb::Bye => "BYE",
            Verb::Cancel => "CANCEL",
            Verb::Register => "REGISTER",
            Verb::Options => "OPTIONS",
            Verb::Info => "INFO",
            Verb::Refer => "REFER",
            Verb::Update => "UPDATE",
            Verb::Prack => "PRACK",
            Verb::Notify => "NOTIFY",
            Verb::Subscribe => "SUBSCRIBE",
            Verb::Message => "MESSAGE",
        }
    }
}

/// Whom a new call is for.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Dest {
    Hotline,
    Agent1003,
    Agent1005,
    Supervisor,
    OutsideViaTrunk,
    Nobody,
}

impl Dest {
    pub fn number(self) -> &'static str {
        match self {
            Dest::Hotline => "12366",
            Dest::Agent1003 => "1003",
            Dest::Agent1005 => "1005",
            Dest::Supervisor => "1950",
            Dest::OutsideViaTrunk => "913903790000",
            Dest::Nobody => "8888",
        }
    }
}

/// One header line more than the basics.
#[derive(Debug, Clone, Arbitrary)]
pub enum Extra {
    None,
    Expires(u16),
    ReferTo(Dest),
    /// Refer-To with Replaces naming a dialog the harness knows (an attended transfer).
    ReferReplaces(u8),
    Require100rel,
    MaxForwards(u8),
    /// An Authorization answering the last challenge the switch sent this phone.
    Authorization {
        right_password: bool,
    },
    Line(String),
}

/// A message body.
#[derive(Debug, Clone, Arbitrary)]
pub enum Body {
    None,
    Sdp {
        port: u16,
        alaw: bool,
        events: bool,
        hold: bool,
    },
    Dtmf(u8),
    Bytes(Vec<u8>),
}

impl Body {
    /// `(Content-Type line, body)`.
    fn render(&self, addr: SocketAddr) -> (String, Vec<u8>) {
        match self {
            Body::None => (String::new(), Vec::new()),
            Body::Sdp {
                port,
                alaw,
                events,
                hold,
            } => {
                let ip = if *hold {
                    "0.0.0.0".to_string()
                } else {
                    addr.ip().to_string()
                };
                let pt = if *alaw { 8 } else { 0 };
                let (te, map) = if *events {
                    (" 101", "a=rtpmap:101 telephone-event/8000\r\n")
                } else {
                    ("", "")
                };
                let dir = if *hold { "sendonly" } else { "sendrecv" };
                let sdp = format!(
                    "v=0\r\no=- 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pt}{te}\r\n{map}a={dir}\r\n"
                );
                ("Content-Type: application/sdp\r\n".into(), sdp.into_bytes())
            }
            Body::Dtmf(d) => {
                let key = char::from(b"0123456789*#ABCD"[usize::from(d % 16)]);
                (
                    "Content-Type: application/dtmf-relay\r\n".into(),
                    format!("Signal={key}\r\nDuration=160\r\n").into_bytes(),
                )
            }
            Body::Bytes(b) => ("Content-Type: application/sdp\r\n".into(), b.clone()),
        }
    }
}

/// A dialog a phone is in with the switch: what it puts in From and To, and where.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub peer: SocketAddr,
    pub user: String,
    /// The phone's own side, with its tag.
    pub local: String,
    /// The switch's side, with its tag.
    pub remote: String,
    pub call_id: String,
    pub remote_target: String,
    pub seq: u32,
}

impl Dialog {
    /// The dialog of a response the switch sent to a phone's request.
    pub fn of_response(peer: SocketAddr, user: &str, resp: &Response) -> Option<Dialog> {
        let remote = resp.headers.get(&HeaderName::To)?;
        resp.party_to()?.tag()?;
        Some(Dialog {
            peer,
            user: user.to_string(),
            local: resp.headers.get(&HeaderName::From)?.to_string(),
            remote: remote.to_string(),
            call_id: resp.call_id()?.to_string(),
            remote_target: contact_uri(resp.headers.get(&HeaderName::Contact)),
            seq: 100,
        })
    }

    /// The dialog a phone enters by answering the switch's INVITE with `tag`.
    pub fn of_request(peer: SocketAddr, user: &str, req: &Request, tag: &str) -> Option<Dialog> {
        Some(Dialog {
            peer,
            user: user.to_string(),
            local: format!("{};tag={tag}", req.headers.get(&HeaderName::To)?),
            remote: req.headers.get(&HeaderName::From)?.to_string(),
            call_id: req.call_id()?.to_string(),
            remote_target: contact_uri(req.headers.get(&HeaderName::Contact)),
            seq: 100,
        })
    }
}

fn contact_uri(contact: Option<&str>) -> String {
    contact
        .and_then(hotline_sip::NameAddr::parse)
        .map_or_else(|| format!("sip:12366@{SWITCH}"), |c| c.uri)
}

/// What a request needs besides its method.
pub struct Parts<'a> {
    pub peer: SocketAddr,
    pub user: &'a str,
    pub uri: String,
    pub from: String,
    pub to: String,
    pub call_id: String,
    pub seq: u32,
    pub branch: String,
    pub extra: String,
    pub body: &'a Body,
}

/// A request as a phone writes it.
pub fn request(verb: Verb, p: &Parts) -> Vec<u8> {
    let method = verb.token();
    let (content_type, body) = p.body.render(p.peer);
    let mut text = format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};branch={branch};rport\r\nMax-Forwards: 70\r\nFrom: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContact: <sip:{user}@{peer}>\r\n{extra}{content_type}Content-Length: {len}\r\n\r\n",
        uri = p.uri,
        peer = p.peer,
        branch = p.branch,
        from = p.from,
        to = p.to,
        call_id = p.call_id,
        seq = p.seq,
        user = p.user,
        extra = p.extra,
        len = body.len(),
    )
    .into_bytes();
    text.extend_from_slice(&body);
    text
}

/// The header line of `extra`; `dialogs` and `challenge` feed the two that refer to state.
pub fn extra_line(
    extra: &Extra,
    dialogs: &[Dialog],
    challenge: Option<&Challenge>,
    method: &str,
    uri: &str,
    user: &str,
) -> String {
    match extra {
        Extra::None => String::new(),
        Extra::Expires(s) => format!("Expires: {}\r\n", s % 4000),
        Extra::ReferTo(d) => format!("Refer-To: <sip:{}@{SWITCH}>\r\n", d.number()),
        Extra::ReferReplaces(n) => match pick(dialogs, *n) {
            Some(d) => {
                let tag = |s: &str| {
                    hotline_sip::NameAddr::parse(s)
                        .and_then(|n| n.tag().map(str::to_string))
                        .unwrap_or_default()
                };
                format!(
                    "Refer-To: <sip:{}@{SWITCH}?Replaces={}%3Bto-tag%3D{}%3Bfrom-tag%3D{}>\r\n",
                    d.user,
                    d.call_id.replace('@', "%40"),
                    tag(&d.remote),
                    tag(&d.local)
                )
            }
            None => String::new(),
        },
        Extra::Require100rel => "Require: 100rel\r\nRSeq: 1\r\n".into(),
        Extra::MaxForwards(n) => format!("Max-Forwards: {n}\r\n"),
        Extra::Authorization { right_password } => {
            let Some(c) = challenge else {
                return String::new();
            };
            let password = if *right_password {
                SECRET_1005
            } else {
                "wrong"
            };
            c.answer(method, uri, user, password, "c0ffee")
                .map(|v| format!("Authorization: {v}\r\n"))
                .unwrap_or_default()
        }
        Extra::Line(l) => {
            let l: String = l.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            format!("{l}\r\n")
        }
    }
}

/// A phone's response to a request the switch sent it, with `tag` on To.
pub fn response(
    req: &Request,
    status: u16,
    tag: &str,
    peer: SocketAddr,
    user: &str,
    body: &Body,
) -> Vec<u8> {
    let mut r = Response::to_request(req, status, hotline_sip::message::reason_phrase(status));
    if status > 100 {
        r = r.with_to_tag(tag);
    }
    if (200..300).contains(&status) || status == 183 || status == 180 {
        r.headers
            .push(HeaderName::Contact, format!("<sip:{user}@{peer}>"));
    }
    if (300..400).contains(&status) {
        r.headers
            .push(HeaderName::Contact, format!("<sip:1004@{SWITCH}>"));
    }
    if status == 401 || status == 407 {
        r.headers.push(
            HeaderName::WwwAuthenticate,
            "Digest realm=\"carrier\", nonce=\"n0nce\", qop=\"auth\"",
        );
    }
    let (content_type, bytes) = body.render(peer);
    if let Some(ct) = content_type.strip_prefix("Content-Type: ") {
        r.headers.push(HeaderName::ContentType, ct.trim_end());
    }
    r.body = bytes;
    if req.method == Method::Ack {
        // Nobody answers an ACK; send it back as a stray response all the same.
        r.status = 200;
    }
    r.to_bytes()
}

/// The `n`-th newest of `items`, wrapping.
pub fn pick<T>(items: &[T], n: u8) -> Option<&T> {
    if items.is_empty() {
        return None;
    }
    items.get(items.len() - 1 - usize::from(n) % items.len())
}
