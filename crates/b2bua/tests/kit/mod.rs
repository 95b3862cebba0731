//! A test kit for the call machine: a virtual clock, the machine's outputs caught and
//! parsed, and scripted peers (a caller's softphone, an agent's desk phone) that write SIP
//! by hand. No socket, no thread, no sleep: a call's life runs in microseconds.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use hotline_b2bua::command::Reply;
use hotline_b2bua::{
    Core, CoreParts, Inbound, Input, Local, MediaCommand, MediaId, Output, Plan, ReplyTo,
};
use hotline_record::{CallRecord, StoreWrite};
use hotline_sip::message::{Message, SipMessage};
use hotline_sip::parse::parse_message;
use hotline_sip::transaction::{Peer, TimerConfig, Transport};
use hotline_sip::{HeaderName, Request, Response};

/// The switch's SIP address in every test.
pub const SWITCH: &str = "127.0.0.1:5060";

/// A dialplan with one city (Luoyang) and the centre, and agents at static seats on
/// 127.0.0.1 (`(id, region, port)`).
pub fn dialplan(agents: &[(&str, &str, u16)], ring_timeout: u64) -> String {
    let mut s = format!(
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
ring_timeout_secs = {ring_timeout}
overflow_after_secs = 60
wrap_up_secs = 0

[[region]]
id = "centre"
name = "省局联络中心"
ring_timeout_secs = {ring_timeout}
wrap_up_secs = 0
"#
    );
    for (id, region, port) in agents {
        s.push_str(&format!(
            "\n[[agent]]\nid = \"{id}\"\nregion = \"{region}\"\ncontact = \"sip:{id}@127.0.0.1:{port}\"\ntrust_address = true\n"
        ));
    }
    s
}

/// A voice menu on the repo's prompts: welcome, then 1 filing, 4 complaints (centre),
/// 0 any agent; ten seconds without a key also reaches an agent.
pub fn menu() -> String {
    let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts");
    format!(
        r#"
[ivr]
start = "welcome"
closed = "welcome"
prompts = "{prompts}"
position_every_secs = 0

[[ivr.node]]
id = "welcome"
play = ["goodbye"]
next = "main"

[[ivr.node]]
id = "main"
play = ["invalid"]
keys = {{ "1" = "filing", "4" = "complaints", "0" = "agent" }}
timeout_secs = 10
retries = 3
fallback = "agent"

[[ivr.node]]
id = "filing"
queue = "filing"

[[ivr.node]]
id = "complaints"
queue = "complaints"
region = "centre"

[[ivr.node]]
id = "agent"
queue = ""
"#
    )
}

/// The plan of `dialplan`, as the edge would load it (without prompts).
pub fn plan(dialplan: &str) -> Arc<Plan> {
    let dialplan =
        hotline_routing::Dialplan::parse(dialplan, Path::new("test.toml")).expect("dialplan");
    let segments = hotline_routing::SegmentTable::embedded().expect("segments");
    let router = hotline_routing::Router::new(&dialplan, segments);
    Arc::new(Plan {
        dialplan,
        router,
        prompts: Arc::new(hotline_media::prompt::PromptSet::empty()),
    })
}

/// A message the machine sent, and to whom.
#[derive(Debug, Clone)]
pub struct Sent {
    pub to: SocketAddr,
    pub message: Message,
}

/// The machine, its clocks, and everything it has asked of the world so far.
pub struct Kit {
    pub core: Core,
    /// The monotonic clock, moved only by the test.
    pub now: Instant,
    start: Instant,
    wall0: DateTime<Utc>,
    /// Messages sent, not yet taken by a peer.
    pub sent: Vec<Sent>,
    /// Media commands, in order.
    pub media: Vec<(MediaId, MediaCommand)>,
    /// Store writes, in order (final records included, after their media stopped).
    pub writes: Vec<StoreWrite>,
    /// Replies to operators' commands.
    pub replies: Vec<(ReplyTo, Result<Reply, String>)>,
    /// Media ports the kit will still grant; `None`: as many as asked.
    pub port_budget: Option<usize>,
    /// Plays not yet heard to their end: (media task, play id).
    playing: Vec<(MediaId, u32)>,
    /// Which call each media task with events belongs to.
    media_calls: Vec<(MediaId, hotline_acd::CallRef)>,
    next_port: u16,
}

impl Kit {
    /// A machine on `dialplan`, at 10:00 Beijing time on a Tuesday, seeded with 7.
    pub fn new(dialplan: &str) -> Kit {
        Kit::with_ports(dialplan, None)
    }

    /// As [`Kit::new`], with at most `ports` media ports ever granted (`None`: no limit).
    pub fn with_ports(dialplan: &str, ports: Option<usize>) -> Kit {
        let plan = plan(dialplan);
        let now = Instant::now();
        let wall0 = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
        let core = Core::new(CoreParts {
            plan,
            dialplan_path: "test.toml".into(),
            now,
            wall: wall0,
            local: Local::new(SWITCH.parse().unwrap(), "12366".into(), 7),
            media_ip: "127.0.0.1".parse().unwrap(),
            recordings: "/recordings".into(),
            timers: TimerConfig::default(),
            hours: hotline_ivr::Hours::Open,
            keepalive: Duration::from_secs(30),
        });
        let mut kit = Kit {
            core,
            now,
            start: now,
            wall0,
            sent: Vec::new(),
            media: Vec::new(),
            writes: Vec::new(),
            replies: Vec::new(),
            port_budget: None,
            playing: Vec::new(),
            media_calls: Vec::new(),
            next_port: 40_000,
        };
        kit.port_budget = ports;
        kit.core.handle_timeout(now, wall0);
        kit.pump();
        kit
    }

    /// The calendar time matching the monotonic clock.
    pub fn wall(&self) -> DateTime<Utc> {
        self.wall0 + chrono::Duration::from_std(self.now - self.start).unwrap()
    }

    /// Something other than SIP happens now (a command, a plan loaded, a media event).
    pub fn input(&mut self, input: Input) {
        let wall = self.wall();
        self.core.handle(self.now, wall, input);
        self.pump();
    }

    /// Every prompt playing is heard to its end (the media tells the machine), and so on
    /// for what plays next, until nothing plays.
    pub fn finish_plays(&mut self) {
        for _ in 0..20 {
            let playing = std::mem::take(&mut self.playing);
            if playing.is_empty() {
                return;
            }
            for (media, play) in playing {
                if let Some(call) = self.call_of(media) {
                    self.input(Input::Media(
                        call,
                        hotline_media::call::MediaEvent::PlayFinished(play),
                    ));
                }
            }
        }
    }

    /// The plays going on now: (media task, play id).
    pub fn playing(&self) -> Vec<(MediaId, u32)> {
        self.playing.clone()
    }

    /// The media reports play `play` of task `media` heard to its end, whatever the machine
    /// said since (a report already on its way when the play was stopped).
    pub fn finish_play(&mut self, media: MediaId, play: u32) {
        self.playing.retain(|p| *p != (media, play));
        if let Some(call) = self.call_of(media) {
            self.input(Input::Media(
                call,
                hotline_media::call::MediaEvent::PlayFinished(play),
            ));
        }
    }

    /// The caller of the first call with a menu presses `key`.
    pub fn press(&mut self, key: char) {
        if let Some((_, call)) = self.media_calls.first().copied() {
            self.input(Input::Media(
                call,
                hotline_media::call::MediaEvent::Digit(key),
            ));
        }
    }

    /// Every caller with a menu presses `key`.
    pub fn press_all(&mut self, key: char) {
        let calls: Vec<hotline_acd::CallRef> = self.media_calls.iter().map(|(_, c)| *c).collect();
        for call in calls {
            self.input(Input::Media(
                call,
                hotline_media::call::MediaEvent::Digit(key),
            ));
        }
    }

    fn call_of(&self, media: MediaId) -> Option<hotline_acd::CallRef> {
        self.media_calls
            .iter()
            .find(|(m, _)| *m == media)
            .map(|(_, c)| *c)
    }

    /// `text` arrives over UDP from `from`.
    pub fn deliver(&mut self, from: SocketAddr, text: &str) {
        let inbound = Inbound {
            data: text.as_bytes().to_vec(),
            from: Peer {
                addr: from,
                transport: Transport::Udp,
            },
        };
        let wall = self.wall();
        self.core.handle(self.now, wall, Input::Sip(inbound));
        self.pump();
    }

    /// A message arrives: a request or response built by a peer.
    pub fn deliver_message(&mut self, from: SocketAddr, m: &Message) {
        let bytes = match m {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        };
        let text = String::from_utf8(bytes).unwrap();
        self.deliver(from, &text);
    }

    /// Moves the clock on by `d`, firing every timer due on the way, in order.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            let next = self.core.poll_timeout();
            if next > end {
                break;
            }
            self.now = next.max(self.now);
            let wall = self.wall();
            self.core.handle_timeout(self.now, wall);
            self.pump();
        }
        self.now = end;
    }

    /// Carries out the outputs the way the edge does, with ports granted at once.
    fn pump(&mut self) {
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Transmit(t) => {
                    let message = parse_message(&t.data).expect("the machine sends valid SIP");
                    self.sent.push(Sent {
                        to: t.to.addr,
                        message,
                    });
                }
                Output::Store(w) => self.writes.push(w),
                Output::Media(id, c) => {
                    match &c {
                        MediaCommand::Start {
                            call, events: true, ..
                        } => self.media_calls.push((id, *call)),
                        MediaCommand::Play {
                            id: play,
                            looped: false,
                            ..
                        } => {
                            self.playing.retain(|(m, _)| *m != id);
                            self.playing.push((id, *play));
                        }
                        MediaCommand::Play { .. }
                        | MediaCommand::StopPlaying
                        | MediaCommand::Stop => {
                            self.playing.retain(|(m, _)| *m != id);
                        }
                        _ => {}
                    }
                    self.media.push((id, c));
                }
                Output::FinalRecord { media, record } => {
                    if let Some(id) = media {
                        self.media.push((id, MediaCommand::Stop));
                    }
                    self.writes.push(StoreWrite::Record(record));
                }
                Output::Reply(to, r) => self.replies.push((to, r)),
                Output::ReleasePort(_) => {}
                Output::WantPorts(n) => {
                    let can = self.port_budget.map_or(n, |b| b.min(n));
                    if let Some(b) = self.port_budget.as_mut() {
                        *b -= can;
                    }
                    let granted = (0..can)
                        .map(|_| {
                            self.next_port += 2;
                            let addr = SocketAddr::new([127, 0, 0, 1].into(), self.next_port);
                            (hotline_b2bua::PortId(u64::from(self.next_port)), addr)
                        })
                        .collect();
                    let wall = self.wall();
                    let input = Input::Ports { granted, asked: n };
                    self.core.handle(self.now, wall, input);
                }
            }
        }
    }

    /// Lets every timer run out (five minutes on, phones silent), then checks that the
    /// machine holds nothing more: no call, no index entry, no menu deadline, no fault.
    pub fn assert_idle_after_all(&mut self) {
        self.advance(Duration::from_secs(300));
        let census = self.core.census();
        assert!(census.is_idle(), "{census:#?}");
        assert_eq!(census.transactions, 0, "{census:#?}");
        assert_eq!(census.sent_acks, 0, "{census:#?}");
    }

    /// Takes the messages sent to `to` so far.
    pub fn take_sent_to(&mut self, to: SocketAddr) -> Vec<Message> {
        let (mine, rest) = self.sent.drain(..).partition(|s| s.to == to);
        self.sent = rest;
        mine.into_iter().map(|s: Sent| s.message).collect()
    }

    /// The latest saved row of each call, by call id.
    pub fn records(&self) -> Vec<CallRecord> {
        let mut latest: Vec<CallRecord> = Vec::new();
        for w in &self.writes {
            if let StoreWrite::Record(r) = w {
                match latest.iter_mut().find(|l| l.call_id == r.call_id) {
                    Some(l) => *l = (**r).clone(),
                    None => latest.push((**r).clone()),
                }
            }
        }
        latest
    }
}

/// A phone on 127.0.0.1 that writes SIP by hand.
pub struct Phone {
    pub addr: SocketAddr,
    pub user: String,
    pub tag: String,
    pub call_id: String,
}

impl Phone {
    /// A phone of `user` at `port`.
    pub fn new(user: &str, port: u16) -> Phone {
        Phone {
            addr: SocketAddr::new([127, 0, 0, 1].into(), port),
            user: user.to_string(),
            tag: format!("tag-{user}"),
            call_id: format!("call-{user}@test"),
        }
    }

    /// An audio offer or answer from this phone (PCMU, RTP at port + 1000).
    pub fn sdp(&self) -> String {
        let port = self.addr.port() + 1000;
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        )
    }

    /// This phone calls 12366.
    pub fn invite(&self, branch: &str) -> String {
        let sdp = self.sdp();
        format!(
            "INVITE sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: <sip:12366@{SWITCH}>\r\nCall-ID: {c}\r\nCSeq: 1 INVITE\r\nContact: <sip:{u}@{a}>\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
            len = sdp.len()
        )
    }

    /// CANCEL of the INVITE sent with `branch`.
    pub fn cancel(&self, branch: &str) -> String {
        format!(
            "CANCEL sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: <sip:12366@{SWITCH}>\r\nCall-ID: {c}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
        )
    }

    /// A request in the dialog a 2xx from the switch set up (ACK, BYE), with `seq`.
    pub fn in_dialog(&self, method: &str, ok: &Response, seq: u32, branch: &str) -> String {
        let to = ok.headers.get(&HeaderName::To).unwrap();
        format!(
            "{method} sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: {to}\r\nCall-ID: {c}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
        )
    }

    /// A BYE from this phone in the dialog of `invite`, which the switch sent and this
    /// phone answered (an agent hanging up).
    pub fn bye_as_answerer(&self, invite: &Request, seq: u32) -> String {
        self.request_as_answerer("BYE", invite, seq, "")
    }

    /// A request from this phone in the dialog of `invite`, which the switch sent and this
    /// phone answered, with `extra` header lines (each ending in CRLF).
    pub fn request_as_answerer(
        &self,
        method: &str,
        invite: &Request,
        seq: u32,
        extra: &str,
    ) -> String {
        let from = invite.headers.get(&HeaderName::From).unwrap_or_default();
        let to = invite.headers.get(&HeaderName::To).unwrap_or_default();
        let call_id = invite.call_id().unwrap_or_default();
        format!(
            "{method} sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bK-{method}-{seq}-{call_id}\r\nMax-Forwards: 70\r\nFrom: {to};tag={t}\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContact: <sip:{u}@{a}>\r\n{extra}Content-Length: 0\r\n\r\n",
            a = self.addr,
            t = self.tag,
            u = self.user,
        )
    }

    /// This phone's answer to a request from the switch (`status`, with SDP for a 200
    /// to an INVITE).
    pub fn answer(&self, req: &Request, status: u16) -> Message {
        let mut r = Response::to_request(req, status, hotline_sip::message::reason_phrase(status))
            .with_to_tag(&self.tag);
        if status == 200 && req.method == hotline_sip::message::Method::Invite {
            r.headers.push(
                HeaderName::Contact,
                format!("<sip:{}@{}>", self.user, self.addr),
            );
            r.headers.push(HeaderName::ContentType, "application/sdp");
            r.body = self.sdp().into_bytes();
        }
        Message::Response(r)
    }
}

/// The requests among `messages` with this method.
pub fn requests<'a>(messages: &'a [Message], method: &str) -> Vec<&'a Request> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Request(r) if r.method.as_str() == method => Some(r),
            _ => None,
        })
        .collect()
}

/// The statuses of the responses among `messages` to requests with this CSeq method.
pub fn statuses(messages: &[Message], method: &str) -> Vec<u16> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Response(r) if r.cseq().is_some_and(|c| c.method.as_str() == method) => {
                Some(r.status)
            }
            _ => None,
        })
        .collect()
}

/// The final response with this status to a request with this CSeq method.
pub fn response(messages: &[Message], method: &str, status: u16) -> Response {
    messages
        .iter()
        .find_map(|m| match m {
            Message::Response(r)
                if r.status == status && r.cseq().is_some_and(|c| c.method.as_str() == method) =>
            {
                Some(r.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {status} to {method} in {messages:#?}"))
}

/// The requests among `messages` with this method, a retransmission counted once.
pub fn distinct<'a>(messages: &'a [Message], method: &str) -> Vec<&'a Request> {
    let mut seen: Vec<&Request> = Vec::new();
    for r in requests(messages, method) {
        let via = r.headers.get(&HeaderName::Via);
        if !seen.iter().any(|s| s.headers.get(&HeaderName::Via) == via) {
            seen.push(r);
        }
    }
    seen
}
