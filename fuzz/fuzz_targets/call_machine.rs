//! The call machine (`hotline_b2bua::Core`, sans-IO) driven by a fuzzed run of events:
//! phones' requests and responses built from fuzzed fields (a few Call-IDs and branches, so
//! dialogs and transactions collide), raw datagrams, media events, operators' commands,
//! plan reloads, ports refused, and time passing. The machine must never panic, must only
//! send SIP it can parse itself, and its indexes must agree with its calls after every step.
#![no_main]

#[path = "call_machine/peers.rs"]
mod peers;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use chrono::{DateTime, TimeZone, Utc};
use hotline_acd::{CallRef, NotReady};
use hotline_b2bua::command::{AgentAction, Command, HoursSetting, MonitorMode};
use hotline_b2bua::{
    Core, CoreParts, Inbound, Input, Local, MediaCommand, MediaId, Output, Plan, PortId, ReplyTo,
};
use hotline_media::call::MediaEvent;
use hotline_sip::digest::Challenge;
use hotline_sip::message::Message;
use hotline_sip::parse::parse_message;
use hotline_sip::transaction::{Peer, TimerConfig, Transport};
use hotline_sip::{HeaderName, Request};
use libfuzzer_sys::fuzz_target;
use peers::{Body, Dest, Dialog, Extra, Parts, Verb, PEERS, SWITCH};

/// One thing that happens around the switch.
#[derive(Debug, Arbitrary)]
enum Step {
    /// A phone starts a transaction outside any dialog the harness knows.
    Request {
        peer: u8,
        verb: Verb,
        call: u8,
        branch: u8,
        seq: u8,
        dest: Dest,
        extra: Extra,
        body: Body,
    },
    /// A phone sends a request in one of its dialogs with the switch.
    InDialog {
        dialog: u8,
        verb: Verb,
        extra: Extra,
        body: Body,
    },
    /// A phone answers one of the requests the switch sent.
    Answer {
        request: u8,
        status: u16,
        body: Body,
    },
    /// Bytes from a phone, as they are.
    Raw {
        peer: u8,
        data: Vec<u8>,
    },
    /// A caller's media task reports a key, a prompt heard, or a voicemail closed.
    Key {
        call: u8,
        key: u8,
    },
    Heard {
        call: u8,
        stale: bool,
    },
    VoicemailDone {
        call: u8,
        samples: u16,
    },
    RecordingNotOpened {
        call: u8,
    },
    /// Time passes.
    Wait {
        ms: u16,
    },
    LongWait {
        secs: u8,
    },
    /// An operator's command.
    Agent {
        agent: u8,
        action: u8,
    },
    Monitor {
        agent: u8,
        mode: u8,
    },
    StopMonitoring,
    Hours(u8),
    RecordPrompt {
        phone: u8,
    },
    /// A reload brought this plan (with or without the menu), or failed.
    Reload {
        menu: Option<bool>,
    },
    /// The edge can (not) bind media ports any more.
    Ports {
        grant: bool,
    },
    Disk {
        low: bool,
    },
    Shutdown,
}

/// The two plans, built once: parsing the dialplan is not what is fuzzed here.
fn plans() -> &'static [Arc<Plan>; 2] {
    static PLANS: OnceLock<[Arc<Plan>; 2]> = OnceLock::new();
    PLANS.get_or_init(|| [plan(false), plan(true)])
}

fn plan(with_menu: bool) -> Arc<Plan> {
    let text = peers::dialplan(with_menu);
    let dialplan = hotline_routing::Dialplan::parse(&text, Path::new("fuzz.toml"))
        .unwrap_or_else(|e| panic!("the fuzz plan: {e:?}"));
    let segments = hotline_routing::SegmentTable::embedded().expect("segments");
    Arc::new(Plan {
        router: hotline_routing::Router::new(&dialplan, segments),
        dialplan,
        prompts: Arc::new(hotline_media::prompt::PromptSet::empty()),
    })
}

/// The machine and what the harness remembers of what it said.
struct World {
    core: Core,
    now: Instant,
    start: Instant,
    wall0: DateTime<Utc>,
    grant_ports: bool,
    next_port: u16,
    /// Requests the switch sent, newest last, with where to.
    sent: Vec<(SocketAddr, Request)>,
    dialogs: Vec<Dialog>,
    /// The last digest challenge each phone got.
    challenges: Vec<(SocketAddr, Challenge)>,
    /// Calls with a media task that reports events, and the play each heard last.
    media_calls: Vec<(MediaId, CallRef, u32)>,
}

const KEEP: usize = 24;

impl World {
    fn new(with_menu: bool) -> World {
        let now = Instant::now();
        let wall0 = Utc
            .with_ymd_and_hms(2026, 12, 1, 2, 0, 0)
            .single()
            .expect("a date");
        let core = Core::new(CoreParts {
            plan: plans()[usize::from(with_menu)].clone(),
            dialplan_path: "fuzz.toml".into(),
            now,
            wall: wall0,
            local: Local::new(SWITCH.parse().expect("address"), "12366".into(), 7),
            media_ip: "127.0.0.1".parse().expect("address"),
            recordings: "/recordings".into(),
            timers: TimerConfig::default(),
            hours: hotline_ivr::Hours::Open,
            keepalive: Duration::from_secs(30),
            notes_from: hotline_b2bua::Level::Debug,
        });
        let mut w = World {
            core,
            now,
            start: now,
            wall0,
            grant_ports: true,
            next_port: 40_000,
            sent: Vec::new(),
            dialogs: Vec::new(),
            challenges: Vec::new(),
            media_calls: Vec::new(),
        };
        w.core.handle_timeout(now, wall0);
        w.pump();
        w
    }

    fn wall(&self) -> DateTime<Utc> {
        self.wall0 + chrono::Duration::from_std(self.now - self.start).unwrap_or_default()
    }

    fn input(&mut self, input: Input) {
        let wall = self.wall();
        self.core.handle(self.now, wall, input);
        self.pump();
    }

    fn deliver(&mut self, from: SocketAddr, data: Vec<u8>) {
        let from = Peer {
            addr: from,
            transport: Transport::Udp,
        };
        let received = self.now;
        self.input(Input::Sip(Inbound {
            data,
            from,
            received,
        }));
    }

    /// Fires every timer due within `d`, in order.
    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        for _ in 0..10_000 {
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

    /// Carries out the outputs, remembering what later steps may answer or refer to.
    fn pump(&mut self) {
        while let Some(o) = self.core.poll_output() {
            match o {
                Output::Transmit(t) => self.transmitted(t.to.addr, &t.data),
                Output::Media(
                    id,
                    MediaCommand::Start {
                        call, events: true, ..
                    },
                ) => {
                    self.media_calls.push((id, call, 0));
                    trim(&mut self.media_calls);
                }
                Output::Media(id, MediaCommand::Play { id: play, .. }) => {
                    for m in self.media_calls.iter_mut().filter(|m| m.0 == id) {
                        m.2 = play;
                    }
                }
                Output::WantPorts(n) => {
                    let can = if self.grant_ports { n.min(64) } else { 0 };
                    let granted = (0..can)
                        .map(|_| {
                            self.next_port = self.next_port.wrapping_add(2);
                            let addr = SocketAddr::new([127, 0, 0, 1].into(), self.next_port);
                            (PortId(u64::from(self.next_port)), addr)
                        })
                        .collect();
                    let wall = self.wall();
                    self.core
                        .handle(self.now, wall, Input::Ports { granted, asked: n });
                }
                _ => {}
            }
        }
    }

    fn transmitted(&mut self, to: SocketAddr, data: &[u8]) {
        let message = parse_message(data).unwrap_or_else(|e| {
            panic!(
                "the machine sent SIP it cannot parse ({e}): {}",
                String::from_utf8_lossy(data)
            )
        });
        let user = user_at(to);
        match message {
            Message::Request(req) => {
                self.sent.push((to, req));
                trim(&mut self.sent);
            }
            Message::Response(resp) => {
                if let Some(c) = resp
                    .headers
                    .get(&HeaderName::WwwAuthenticate)
                    .and_then(Challenge::parse)
                {
                    self.challenges.retain(|(a, _)| *a != to);
                    self.challenges.push((to, c));
                }
                if resp.status > 100 && resp.status < 300 {
                    if let Some(d) = Dialog::of_response(to, user, &resp) {
                        self.remember(d);
                    }
                }
            }
        }
    }

    fn remember(&mut self, d: Dialog) {
        self.dialogs
            .retain(|o| !(o.call_id == d.call_id && o.local == d.local));
        self.dialogs.push(d);
        trim(&mut self.dialogs);
    }

    fn call(&self, n: u8) -> Option<CallRef> {
        peers::pick(&self.media_calls, n).map(|m| m.1)
    }

    fn step(&mut self, step: Step) {
        match step {
            Step::Request {
                peer,
                verb,
                call,
                branch,
                seq,
                dest,
                extra,
                body,
            } => {
                let (user, port) = PEERS[usize::from(peer) % PEERS.len()];
                let addr = SocketAddr::new([127, 0, 0, 1].into(), port);
                let (uri, to) = match verb {
                    Verb::Register => (format!("sip:{SWITCH}"), format!("<sip:{user}@{SWITCH}>")),
                    _ => {
                        let uri = format!("sip:{}@{SWITCH}", dest.number());
                        (uri.clone(), format!("<{uri}>"))
                    }
                };
                let challenge = self
                    .challenges
                    .iter()
                    .find(|(a, _)| *a == addr)
                    .map(|c| &c.1);
                let extra =
                    peers::extra_line(&extra, &self.dialogs, challenge, verb.token(), &uri, user);
                let parts = Parts {
                    peer: addr,
                    user,
                    from: format!("<sip:{user}@{addr}>;tag=t{}-{}", port, call % 2),
                    to,
                    uri,
                    call_id: format!("call-{}@fuzz", call % 4),
                    seq: u32::from(seq % 8),
                    branch: format!("z9hG4bK-{}", branch % 8),
                    extra,
                    body: &body,
                };
                self.deliver(addr, peers::request(verb, &parts));
            }
            Step::InDialog {
                dialog,
                verb,
                extra,
                body,
            } => {
                let Some(d) = peers::pick(&self.dialogs, dialog).cloned() else {
                    return;
                };
                let extra = peers::extra_line(
                    &extra,
                    &self.dialogs,
                    None,
                    verb.token(),
                    &d.remote_target,
                    &d.user,
                );
                let seq = match verb {
                    Verb::Ack | Verb::Cancel => d.seq,
                    _ => d.seq + 1,
                };
                if let Some(m) = self
                    .dialogs
                    .iter_mut()
                    .find(|o| o.call_id == d.call_id && o.local == d.local)
                {
                    m.seq = seq;
                }
                let parts = Parts {
                    peer: d.peer,
                    user: &d.user,
                    uri: d.remote_target.clone(),
                    from: d.local.clone(),
                    to: d.remote.clone(),
                    call_id: d.call_id.clone(),
                    seq,
                    branch: format!("z9hG4bK-d{seq}-{}", verb.token()),
                    extra,
                    body: &body,
                };
                self.deliver(d.peer, peers::request(verb, &parts));
            }
            Step::Answer {
                request,
                status,
                body,
            } => {
                let Some((to, req)) = peers::pick(&self.sent, request).cloned() else {
                    return;
                };
                let status = 100 + status % 600;
                let user = user_at(to);
                let tag = format!("p{}", to.port());
                if status > 100
                    && status < 300
                    && req.method == hotline_sip::message::Method::Invite
                {
                    if let Some(d) = Dialog::of_request(to, user, &req, &tag) {
                        self.remember(d);
                    }
                }
                self.deliver(to, peers::response(&req, status, &tag, to, user, &body));
            }
            Step::Raw { peer, data } => {
                let port = PEERS[usize::from(peer) % PEERS.len()].1;
                self.deliver(SocketAddr::new([127, 0, 0, 1].into(), port), data);
            }
            Step::Key { call, key } => {
                if let Some(c) = self.call(call) {
                    let key = char::from(b"0123456789*#ABCD"[usize::from(key % 16)]);
                    self.input(Input::Media(c, MediaEvent::Digit(key)));
                }
            }
            Step::Heard { call, stale } => {
                if let Some(&(_, c, play)) = peers::pick(&self.media_calls, call) {
                    let play = if stale { play.wrapping_sub(1) } else { play };
                    self.input(Input::Media(c, MediaEvent::PlayFinished(play)));
                }
            }
            Step::VoicemailDone { call, samples } => {
                if let Some(c) = self.call(call) {
                    let path = "/recordings/voicemail.wav".into();
                    let event = MediaEvent::VoicemailDone {
                        path,
                        samples: u64::from(samples),
                    };
                    self.input(Input::Media(c, event));
                }
            }
            Step::RecordingNotOpened { call } => {
                if let Some(c) = self.call(call) {
                    self.input(Input::RecordingNotOpened(c));
                }
            }
            Step::Wait { ms } => self.advance(Duration::from_millis(u64::from(ms))),
            Step::LongWait { secs } => self.advance(Duration::from_secs(u64::from(secs) * 10)),
            Step::Agent { agent, action } => {
                let action = match action % 5 {
                    0 => AgentAction::Login,
                    1 => AgentAction::Logout,
                    2 => AgentAction::Ready,
                    3 => AgentAction::Pause {
                        reason: NotReady::Lunch,
                    },
                    _ => AgentAction::Pause {
                        reason: NotReady::Break,
                    },
                };
                self.command(Command::Agent {
                    id: agent_id(agent),
                    action,
                });
            }
            Step::Monitor { agent, mode } => {
                let mode = [
                    MonitorMode::Listen,
                    MonitorMode::Whisper,
                    MonitorMode::Barge,
                ][usize::from(mode % 3)];
                self.command(Command::Monitor {
                    supervisor: "1950".into(),
                    agent: agent_id(agent),
                    mode,
                });
            }
            Step::StopMonitoring => self.command(Command::StopMonitoring {
                supervisor: "1950".into(),
            }),
            Step::Hours(h) => {
                let hours = [HoursSetting::Auto, HoursSetting::Open, HoursSetting::Closed]
                    [usize::from(h % 3)];
                self.command(Command::Hours { hours });
            }
            Step::RecordPrompt { phone } => {
                self.command(Command::RecordPrompt {
                    prompt: "welcome".into(),
                    phone: agent_id(phone),
                });
            }
            Step::Reload { menu } => {
                let loaded = match menu {
                    Some(m) => Ok(plans()[usize::from(m)].clone()),
                    None => Err("fuzz.toml: refused".to_string()),
                };
                self.input(Input::PlanLoaded {
                    reply: ReplyTo(2),
                    loaded,
                });
            }
            Step::Ports { grant } => self.grant_ports = grant,
            Step::Disk { low } => self.input(Input::Disk { low }),
            Step::Shutdown => self.input(Input::Shutdown),
        }
    }

    fn command(&mut self, command: Command) {
        self.input(Input::Command {
            reply: ReplyTo(1),
            command,
            os_user: None,
        });
    }
}

fn trim<T>(items: &mut Vec<T>) {
    if items.len() > KEEP {
        items.remove(0);
    }
}

fn user_at(addr: SocketAddr) -> &'static str {
    PEERS
        .iter()
        .find(|(_, p)| *p == addr.port())
        .map_or("stranger", |(u, _)| u)
}

fn agent_id(n: u8) -> String {
    ["1003", "1004", "1005", "1950", "9999"][usize::from(n % 5)].to_string()
}

/// The plan (with or without the menu) and the steps.
#[derive(Debug, Arbitrary)]
struct Run {
    with_menu: bool,
    steps: Vec<Step>,
}

fuzz_target!(|run: Run| {
    let mut w = World::new(run.with_menu);
    for step in run.steps.into_iter().take(256) {
        w.step(step);
        let census = w.core.census();
        assert!(census.faults.is_empty(), "{census:#?}");
    }
});
