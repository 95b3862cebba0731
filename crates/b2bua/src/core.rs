//! The signalling core: one task owning the transaction layer, the registrar, the ACD and
//! every call's B2BUA state. Sockets feed it messages; it feeds the pure machines the
//! current time and turns their outputs into datagrams, media bridges and call records.
//! Media and disk writes run elsewhere (bridge tasks, writer threads), so this task only
//! ever does signalling work and never blocks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::notes::{note, About};
use chrono::Utc;
use hotline_acd::{Acd, Action, AgentId as AcdAgent, CallRef, QueueConfig, QueueId};
use hotline_routing::AgentReach;
use hotline_sip::message::reason_phrase;
use hotline_sip::transaction::{Endpoint, Peer, TimerConfig, TxId};
use hotline_sip::{Request, Response};

use crate::plan::Plan;
use crate::registrar::Registrar;
use crate::sipbuild::Local;

/// Which side of a call a message belongs to: the caller's leg or the agent's.
pub use hotline_media::Leg as Side;

/// A seat with a static contact never re-registers, so a pause for letting a call ring out
/// ends by itself after this long.
const STATIC_SEAT_RESUME: Duration = Duration::from_secs(60);

/// The ACD strategy a dialplan names. The dialplan check admits only the names of
/// [`hotline_routing::STRATEGIES`], which a test holds to the ACD's own list.
fn strategy(name: &str, notes: &crate::notes::Notes) -> hotline_acd::Strategy {
    hotline_acd::Strategy::named(name).unwrap_or_else(|| {
        note!(
            notes,
            Warn,
            About::Switch,
            "unknown strategy: longest-idle name={}",
            name
        );
        hotline_acd::Strategy::LongestIdle
    })
}

/// Everything the core owns.
pub struct Core {
    pub(crate) plan: Arc<Plan>,
    pub(crate) dialplan_path: std::path::PathBuf,
    pub(crate) endpoint: Endpoint,
    pub(crate) registrar: Registrar,
    pub(crate) acd: Acd,
    /// What this step asks of the world, for the edge to carry out.
    pub(crate) out: crate::out::Outputs,
    /// Where the machine's notes go (among the outputs).
    pub(crate) notes: crate::notes::Notes,
    /// The wall-clock time of this step (records, Beijing days, service hours).
    pub(crate) wall: chrono::DateTime<Utc>,
    /// The monotonic and wall-clock times at the start, to show monotonic times as dates.
    pub(crate) epoch: (Instant, chrono::DateTime<Utc>),
    pub(crate) local: Local,
    pub(crate) media_ip: std::net::IpAddr,
    /// Where recordings go, and whether the disk has room.
    pub(crate) recordings: crate::media_ctl::Recordings,
    /// Media ports the edge has bound for calls to come.
    pub(crate) ports: crate::media_ctl::PortStock,
    /// Numbers for media tasks.
    pub(crate) media_ids: crate::media_ctl::MediaIds,
    pub(crate) calls: crate::calls::Calls,
    /// Who each dialog belongs to (by SIP Call-ID): a side of a call, or a session.
    pub(crate) dialogs: crate::owners::DialogOwners,
    /// Who each transaction belongs to: a call's leg, a withdrawn INVITE, a keep-alive, a
    /// re-INVITE moving a consulted party, a supervisor's phone being rung.
    pub(crate) owners: crate::owners::TxOwners,
    /// The operator's override of the service hours.
    pub(crate) hours: hotline_ivr::Hours,
    /// The prompts of the plan in force.
    pub(crate) prompts: Arc<hotline_media::prompt::PromptSet>,
    /// Menu deadlines, earliest first; stale entries are skipped.
    pub(crate) ivr_timers: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, CallRef)>>,
    next_call: u64,
    id_seq: u32,
    id_salt: u32,
    /// The Beijing date the ACD's "today" counters (calls, talk time) belong to.
    pub(crate) day: chrono::NaiveDate,
    /// When the once-a-second round is next due.
    pub(crate) next_tick: Instant,
    pub(crate) keepalive_every: Duration,
    /// Calls from phones the switch answers itself (feature codes, monitoring).
    pub(crate) sessions: HashMap<CallRef, crate::call::session::Session>,
    /// Voice prompts being recorded from phones, until their files are closed.
    pub(crate) takes: crate::call::Takes,
    /// Calls out per agent in the last hour (toll-fraud limit).
    pub(crate) calls_out: crate::call::CallsOut,
    /// ACKs of re-INVITE and monitoring 2xx answers, sent again if the 2xx is retransmitted.
    pub(crate) sent_acks: crate::acks::SentAcks,
    /// Log lines for malformed messages from anyone: a flood is counted, not written out.
    pub(crate) garbage_lines: crate::log_budget::LogBudget,
    /// The brakes on password guessing.
    pub(crate) brakes: crate::brakes::Brakes,
    /// Requests refused unchecked by the brakes (blocked, or their queue full) so far.
    pub(crate) refused_by_brakes: u64,
    /// Messages refused as malformed, for the board and `/metrics`.
    pub(crate) malformed: crate::board::Malformed,
    /// The brakes on new work: calls in progress, per-source rate, the core's lag.
    pub(crate) admission: crate::admission::Admission,
    /// How long the message being handled waited between its arrival and now.
    pub(crate) lag: Duration,
    /// How late the media tasks' timers fire, as the edge last measured it.
    pub(crate) media_lag: Duration,
    /// A budget for the lines about refused work: a flood must not become one of lines.
    pub(crate) shed_lines: crate::log_budget::LogBudget,
    /// Requests the brakes hold back.
    pub(crate) held: crate::sign_in::HeldRequests,
    /// The OS user on the control socket whose command is being carried out, for the
    /// monitoring audit row; `None` for everything a phone asks.
    pub(crate) operator_user: Option<String>,
    /// Set once the switch is stopping: until when it waits for the last answers.
    pub(crate) stopping: Option<Instant>,
}

/// What the core needs to start.
pub struct CoreParts {
    /// The plan in force.
    pub plan: Arc<Plan>,
    /// Where it was loaded from (reload reads it again).
    pub dialplan_path: std::path::PathBuf,
    /// The monotonic time at start.
    pub now: Instant,
    /// The wall-clock time at start.
    pub wall: chrono::DateTime<Utc>,
    /// Our advertised identity.
    pub local: Local,
    /// Address media sockets bind to and SDP advertises.
    pub media_ip: std::net::IpAddr,
    /// The recordings' root directory.
    pub recordings: std::path::PathBuf,
    /// Transaction timers (RFC defaults in production).
    pub timers: TimerConfig,
    /// Service hours forced at start (`--hours`).
    pub hours: hotline_ivr::Hours,
    /// Dialog keep-alive interval.
    pub keepalive: Duration,
    /// The lowest level of note wanted (what the edge's logger would write).
    pub notes_from: crate::notes::Level,
}

impl Core {
    /// A core with the plan's agents and queues loaded and static-contact agents logged in.
    pub fn new(parts: CoreParts) -> Core {
        let out = crate::out::Outputs::default();
        let notes = crate::notes::Notes::new(out.clone(), parts.notes_from);
        let registrar = Registrar::new("hotline", parts.local.token()).with_notes(notes.clone());
        let id_salt = parts.local.draw() as u32;
        let mut core = Core {
            plan: parts.plan.clone(),
            dialplan_path: parts.dialplan_path,
            endpoint: Endpoint::new(parts.timers),
            registrar,
            acd: Acd::new(),
            out,
            notes,
            wall: parts.wall,
            epoch: (parts.now, parts.wall),
            local: parts.local,
            media_ip: parts.media_ip,
            recordings: crate::media_ctl::Recordings {
                root: parts.recordings,
                disk_low: false,
            },
            ports: Default::default(),
            media_ids: Default::default(),
            calls: Default::default(),
            dialogs: Default::default(),
            owners: Default::default(),
            hours: parts.hours,
            prompts: Arc::clone(&parts.plan.prompts),
            ivr_timers: std::collections::BinaryHeap::new(),
            next_call: 1,
            id_seq: 0,
            id_salt,
            day: crate::step::beijing_day(parts.wall),
            next_tick: parts.now,
            keepalive_every: parts.keepalive,
            sessions: HashMap::new(),
            takes: HashMap::new(),
            calls_out: HashMap::new(),
            sent_acks: Default::default(),
            garbage_lines: Default::default(),
            brakes: crate::brakes::Brakes::new(parts.plan.dialplan.security.clone()),
            refused_by_brakes: 0,
            malformed: Default::default(),
            admission: crate::admission::Admission::new(parts.plan.dialplan.overload.clone()),
            lag: Duration::ZERO,
            media_lag: Duration::ZERO,
            shed_lines: Default::default(),
            held: Default::default(),
            operator_user: None,
            stopping: None,
        };
        core.apply_plan(parts.now, parts.plan, &[]);
        core
    }

    /// Puts a plan's queues and agents into the ACD; agents gone from it are removed.
    pub(crate) fn apply_plan(&mut self, now: Instant, plan: Arc<Plan>, previous: &[String]) {
        let centre = plan.dialplan.switch.centre.clone();
        for r in &plan.dialplan.regions {
            let q = &r.queue;
            self.acd.set_queue(
                QueueId(r.id.as_str().to_string()),
                QueueConfig {
                    ring_timeout: r.ring_timeout,
                    overflow_after: r.overflow_after,
                    overflow_to: (r.id != centre).then(|| QueueId(centre.as_str().to_string())),
                    strategy: strategy(&q.strategy, &self.notes),
                    first_levels: q.first_levels,
                    widen_after: q.widen_after,
                    missed_before_pause: q.missed_before_pause,
                    wrap_up: q.wrap_up,
                },
            );
        }
        for old in previous {
            if plan.dialplan.agent(old).is_none() {
                self.acd.remove_agent(now, &AcdAgent(old.clone()));
            }
        }
        let was_reachable: HashMap<AcdAgent, bool> = self
            .acd
            .agents()
            .into_iter()
            .map(|v| (v.id, v.reachable))
            .collect();
        for (order, a) in plan.dialplan.agents.iter().enumerate() {
            let id = AcdAgent(a.id.as_str().to_string());
            self.acd
                .add_agent(now, id.clone(), QueueId(a.region.as_str().to_string()));
            self.acd.set_agent_skills(&id, &a.skills, order);
            let (reachable, resume) = match &a.reach {
                AgentReach::Static { .. } => (true, Some(STATIC_SEAT_RESUME)),
                AgentReach::Registers { .. } => (self.registrar.is_registered(a.id.as_str()), None),
            };
            self.acd.set_auto_resume(&id, resume);
            // Only a change counts: a reload must not end anybody's no-answer pause.
            if was_reachable.get(&id).copied().unwrap_or(false) != reachable {
                self.acd.phone_reachable(now, &id, reachable);
            }
        }
        let algorithms = plan
            .dialplan
            .switch
            .digest_algorithms
            .iter()
            .filter_map(|a| match a.as_str() {
                "MD5" => Some(hotline_sip::digest::Algorithm::Md5),
                "SHA-256" => Some(hotline_sip::digest::Algorithm::Sha256),
                _ => None,
            })
            .collect();
        self.registrar.set_algorithms(algorithms);
        self.brakes.set_config(plan.dialplan.security.clone());
        self.admission.set_config(plan.dialplan.overload.clone());
        self.prompts = Arc::clone(&plan.prompts);
        self.plan = plan;
    }

    /// Whether the hotline is open now, by the schedule and the operator's override.
    pub(crate) fn hours_now(&self) -> hotline_ivr::HoursState {
        self.plan.dialplan.schedule.state_at(self.wall, self.hours)
    }

    /// Processes events and actions until nothing is left, then sends what was produced.
    pub(crate) fn drain(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            // Each event sees the indexes as the calls are after the one before it.
            self.reindex();
            while let Some(ev) = self.endpoint.poll_event() {
                progressed = true;
                self.on_tx_event(now, ev);
                self.reindex();
            }
            while let Some(a) = self.acd.poll_action() {
                progressed = true;
                self.on_acd_action(now, a);
                self.reindex();
            }
            if !progressed {
                break;
            }
        }
        while let Some(t) = self.endpoint.poll_transmit() {
            self.out.transmit(t);
        }
    }

    fn on_acd_action(&mut self, now: Instant, action: Action) {
        match action {
            Action::Offer { call, agent } => self.ring_agent(now, call, agent),
            Action::StopRinging {
                call,
                agent,
                reason,
            } => {
                note!(
                    self.notes,
                    Debug,
                    self.about_call(call),
                    "stop ringing call={:?} agent={} reason={:?}",
                    call,
                    agent,
                    reason
                );
                self.stop_ringing(now, call, &agent.0);
            }
            Action::Overflowed { call, to } => self.on_overflow(call, to),
            Action::AgentChanged {
                agent,
                from,
                to,
                reason,
            } => self.on_agent_changed(agent, from, to, reason),
        }
    }

    /// Where to send requests for an agent: the registration's source, or the static contact.
    pub(crate) fn agent_target(&self, agent: &str) -> Option<(String, Peer)> {
        match self.plan.dialplan.phone(agent)? {
            AgentReach::Registers { .. } => {
                let b = self.registrar.lookup(agent)?;
                Some((b.contact.clone(), b.source))
            }
            AgentReach::Static { contact, .. } => {
                let Some(peer) = static_peer(contact) else {
                    note!(self.notes, Warn, About::Switch, "static contact is not an IP address; the switch does not use DNS agent={} contact={}", agent, contact);
                    return None;
                };
                Some((contact.clone(), peer))
            }
        }
    }

    /// A call id unique within this process: the low 24 bits of a counter, scrambled by a
    /// bijection so ids do not look sequential (random ids collided at 300 calls/s).
    pub(crate) fn new_call_id(&mut self) -> hotline_record::CallId {
        self.id_seq = self.id_seq.wrapping_add(1);
        let scrambled = self.id_seq.wrapping_mul(0x9E37_79B1) ^ self.id_salt;
        hotline_record::CallId::generate(self.wall, scrambled)
    }

    pub(crate) fn alloc_call(&mut self) -> CallRef {
        let r = CallRef(self.next_call);
        self.next_call += 1;
        r
    }

    /// Sends a response to the peer of a server transaction (ignored if it is gone).
    pub(crate) fn reply(&mut self, now: Instant, tx: TxId, req: &Request, status: u16, tag: &str) {
        let r = self.local.response(req, status, tag);
        self.endpoint.respond(now, tx, r);
    }

    /// A plain status response without a tag (for out-of-dialog refusals).
    pub(crate) fn refuse(&mut self, now: Instant, tx: TxId, req: &Request, status: u16) {
        let r = Response::to_request(req, status, reason_phrase(status))
            .with_to_tag(&self.local.token());
        self.endpoint.respond(now, tx, r);
    }
}

/// Where a static contact (`sip:1003@10.8.0.21:5062;transport=tcp`) is reached: its IP
/// address (the switch uses no DNS), port (5060 if none) and transport.
pub(crate) fn static_peer(contact: &str) -> Option<Peer> {
    let uri = hotline_sip::SipUri::parse(contact)?;
    let host = uri.host.trim_start_matches('[').trim_end_matches(']');
    let ip = host.parse::<std::net::IpAddr>().ok()?;
    let transport = match uri.transport().as_deref() {
        Some("tcp") => hotline_sip::transaction::Transport::Tcp,
        _ => hotline_sip::transaction::Transport::Udp,
    };
    Some(Peer {
        addr: SocketAddr::new(ip, uri.port.unwrap_or(5060)),
        transport,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_the_dialplan_admits_is_one_the_acd_runs() {
        let acd: Vec<&str> = hotline_acd::Strategy::NAMED
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(hotline_routing::STRATEGIES.to_vec(), acd);
        for (name, s) in hotline_acd::Strategy::NAMED {
            assert_eq!(strategy(name, &Default::default()), s);
        }
    }
}
