//! The core's interface in the shape of quinn-proto and str0m: [`Core::handle`] takes one
//! input with the time it arrived, [`Core::handle_timeout`] fires what is due,
//! [`Core::poll_timeout`] says when that next is, and [`Core::poll_output`] hands over what
//! the step asks of the world. The caller (the edge's run loop, or a test) owns every
//! clock, socket and file.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::notes::{note, About};
use chrono::{DateTime, Utc};
use hotline_acd::{AgentId as AcdAgent, CallRef};

use crate::command::{Command, Reply};
use crate::core::Core;
use crate::media_ctl::PortId;
use crate::out::Output;
use crate::plan::Plan;
use hotline_sip::transaction::Peer;

/// How often the core looks after what has no timer of its own (keep-alives, lapsed
/// registrations, the new day, stale entries).
const TICK: Duration = Duration::from_secs(1);

/// Which command a reply answers: the edge numbers commands and keeps their reply channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReplyTo(pub u64);

/// Bytes that arrived from a peer, to be parsed by the core.
#[derive(Debug)]
pub struct Inbound {
    /// One whole message (a datagram, or one Content-Length frame of a stream).
    pub data: Vec<u8>,
    /// Who sent it, over what.
    pub from: Peer,
    /// When it arrived (read off the socket): the core's lag is measured from here.
    pub received: Instant,
}

/// One thing that happened outside the core.
#[derive(Debug)]
pub enum Input {
    /// A SIP message arrived.
    Sip(Inbound),
    /// A call's media task reported a key, a prompt heard or a voicemail closed.
    Media(CallRef, hotline_media::call::MediaEvent),
    /// An operator's command, from `os_user` (SO_PEERCRED) when it came over the socket.
    Command {
        /// Where the reply goes.
        reply: ReplyTo,
        /// What to do.
        command: Command,
        /// Who asked, for the monitoring audit.
        os_user: Option<String>,
    },
    /// A reload's plan, loaded off the core (or why it could not be).
    PlanLoaded {
        /// Where the reply goes.
        reply: ReplyTo,
        /// The plan, or the refusal.
        loaded: Result<Arc<Plan>, String>,
    },
    /// Media ports the edge bound when asked ([`Output::WantPorts`]): fewer than `asked`
    /// if it could not bind them all.
    Ports {
        /// The ports, by number and address.
        granted: Vec<(PortId, SocketAddr)>,
        /// How many it was asked for.
        asked: usize,
    },
    /// The recordings' disk went below its free-space floor (`low`), or back above it.
    Disk {
        /// Below the floor: new calls go unrecorded.
        low: bool,
    },
    /// How late the media tasks' timers fire now (the edge's probe): past `max_media_lag`
    /// new calls are refused.
    MediaLag(Duration),
    /// The recording of this call could not be opened after all.
    RecordingNotOpened(CallRef),
    /// Stop: take no new calls, end the calls in progress.
    Shutdown,
}

impl Core {
    /// Takes one input that arrived at `now` (monotonic) and `wall` (the calendar).
    pub fn handle(&mut self, now: Instant, wall: DateTime<Utc>, input: Input) {
        self.wall = wall;
        match input {
            Input::Sip(m) => self.on_inbound(now, m),
            Input::Media(call, ev) => self.on_media_event(now, call, ev),
            Input::Command {
                reply,
                command,
                os_user,
            } => {
                self.operator_user = os_user;
                let result = self.command(now, command);
                self.operator_user = None;
                self.out.reply(reply, result);
            }
            Input::PlanLoaded { reply, .. } if self.stopping.is_some() => {
                self.out
                    .reply(reply, Err("the switch is stopping".to_string()));
            }
            Input::PlanLoaded { reply, loaded } => {
                let result = self.reload(now, loaded).map(Reply::Done);
                self.out.reply(reply, result);
            }
            Input::Ports { granted, asked } => self.ports.granted(now, granted, asked),
            Input::Disk { low } => self.recordings.disk_low = low,
            Input::MediaLag(late) => self.media_lag = late,
            Input::RecordingNotOpened(call) => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.record.recording_path = None;
                    c.record.recording_failed = true;
                    self.out.record(&c.record);
                }
            }
            Input::Shutdown => self.begin_shutdown(now),
        }
        self.settle(now);
    }

    /// Fires every timer due at `now`: transactions, ring timeouts, menus, held requests,
    /// and the once-a-second round.
    pub fn handle_timeout(&mut self, now: Instant, wall: DateTime<Utc>) {
        self.wall = wall;
        if now >= self.next_tick {
            self.next_tick = now + TICK;
            self.on_tick(now);
        }
        self.settle(now);
    }

    /// When [`Core::handle_timeout`] should next be called.
    pub fn poll_timeout(&mut self) -> Instant {
        let ivr = self.ivr_timers.peek().map(|r| r.0 .0);
        [
            self.endpoint.poll_timeout(),
            self.acd.poll_timeout(),
            ivr,
            self.held.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .fold(self.next_tick, Instant::min)
    }

    /// The next thing the core asks of the world, oldest first.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop()
    }

    /// Runs the pure machines' timers and follows their events until nothing is left.
    fn settle(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        // Answers that arrived this step are taken before ring timeouts are fired.
        self.drain(now);
        self.acd.handle_timeout(now);
        self.drain(now);
        self.on_ivr_timers(now);
        self.drain(now);
        self.release_held(now);
        self.drain(now);
        let want = self.ports.ask_for(now);
        if want > 0 {
            self.out.push(Output::WantPorts(want));
        }
    }

    fn on_tick(&mut self, now: Instant) {
        let today = beijing_day(self.wall);
        if today != self.day {
            // Fewest calls and least talk time balance the day, and `hotline agents` shows it.
            note!(
                self.notes,
                Info,
                About::Switch,
                "a new day: agents' calls and talk time today start from zero today={}",
                today
            );
            self.day = today;
            self.acd.new_day();
        }
        self.collect_orphans(now);
        self.ring_timeouts(now);
        self.ringing_phone_timeouts(now);
        self.sent_acks.prune(now);
        self.unacked_sessions(now);
        self.keepalive_round(now);
        self.expire_brakes(now);
        self.admission.expire(now);
        self.overdue_calls(now);
        for agent in self.registrar.expire(now) {
            note!(
                self.notes,
                Info,
                About::Switch,
                "registration lapsed: agent logged out agent={}",
                agent
            );
            self.acd.phone_reachable(now, &AcdAgent(agent), false);
        }
    }
}

/// The date in Beijing, where the hotline's days begin and end, at `wall`.
pub(crate) fn beijing_day(wall: DateTime<Utc>) -> chrono::NaiveDate {
    wall.with_timezone(&hotline_ivr::hours::beijing())
        .date_naive()
}
