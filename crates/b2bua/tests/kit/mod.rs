//! A test kit for the call machine: a virtual clock, the machine's outputs caught and
//! parsed, and scripted peers (a caller's softphone, an agent's desk phone) that write SIP
//! by hand. No socket, no thread, no sleep: a call's life runs in microseconds.

#![allow(dead_code)]

mod phone;

// Not every test file uses every helper.
#[allow(unused_imports)]
pub use phone::{distinct, requests, response, statuses, Phone};

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
use hotline_sip::message::Message;
use hotline_sip::parse::parse_message;
use hotline_sip::transaction::{Peer, TimerConfig, Transport};

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
    /// Media ports given back, by number (a kit port's number is its UDP port).
    pub released: Vec<u64>,
    /// Every note the machine made, in order.
    pub notes: Vec<hotline_b2bua::Note>,
    /// Replies to operators' commands.
    pub replies: Vec<(ReplyTo, Result<Reply, String>)>,
    /// Prompts recorded from phones: (prompt, take's file, samples, phone, asked by).
    pub takes: Vec<(String, std::path::PathBuf, u64, String, Option<String>)>,
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
        Kit::build(dialplan, ports, hotline_b2bua::Level::Debug)
    }

    /// As [`Kit::with_ports`], asking for notes from `notes_from` up.
    pub fn build(dialplan: &str, ports: Option<usize>, notes_from: hotline_b2bua::Level) -> Kit {
        Kit::on_plan(plan(dialplan), ports, notes_from)
    }

    /// As [`Kit::build`], on a plan made by the test (with prompts, say).
    pub fn on_plan(plan: Arc<Plan>, ports: Option<usize>, notes_from: hotline_b2bua::Level) -> Kit {
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
            notes_from,
        });
        let mut kit = Kit {
            core,
            now,
            start: now,
            wall0,
            sent: Vec::new(),
            media: Vec::new(),
            writes: Vec::new(),
            notes: Vec::new(),
            released: Vec::new(),
            replies: Vec::new(),
            takes: Vec::new(),
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
        self.deliver_late(from, text, Duration::ZERO);
    }

    /// `text` arrived over UDP from `from` and waited `waited` before the core took it.
    pub fn deliver_late(&mut self, from: SocketAddr, text: &str, waited: Duration) {
        let inbound = Inbound {
            data: text.as_bytes().to_vec(),
            from: Peer {
                addr: from,
                transport: Transport::Udp,
            },
            received: self.now.checked_sub(waited).unwrap_or(self.now),
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
                Output::Note(n) => self.notes.push(n),
                Output::PromptRecorded {
                    prompt,
                    path,
                    samples,
                    phone,
                    asked_by,
                } => self.takes.push((prompt, path, samples, phone, asked_by)),
                Output::ReleasePort(port) => self.released.push(port.0),
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
