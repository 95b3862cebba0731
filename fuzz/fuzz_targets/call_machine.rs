//! The call machine (`hotline_b2bua::Core`, sans-IO) driven by a fuzzed run of events:
//! phones' requests and responses built from fuzzed fields (a few Call-IDs and branches, so
//! dialogs and transactions collide), raw datagrams, media events, operators' commands,
//! plan reloads, ports refused, and time passing. The machine must never panic, must only
//! send SIP it can parse itself, and its indexes must agree with its calls after every step.
#![no_main]

#[path = "call_machine/peers.rs"]
mod peers;
#[path = "call_machine/steps.rs"]
mod steps;

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
use steps::Step;

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
