//! The distribution engine: events and the time in, actions out.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::agent::{Agent, AgentId, AgentStatus, PauseReason};
use crate::call::{CallRef, QueueId, WaitingCall};
use crate::strategy::{Candidate, Memory, Strategy};

/// How one queue distributes its calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long one agent's phone rings before the next agent is tried.
    pub ring_timeout: Duration,
    /// After this wait the call is offered to the overflow queue's agents as well.
    pub overflow_after: Duration,
    /// The queue that takes this queue's overflow (the provincial centre); `None` for the centre.
    pub overflow_to: Option<QueueId>,
    /// How the queue chooses among equally skilled available agents.
    pub strategy: Strategy,
    /// Skill levels (1 best … 5) offered a call at first; 5 offers every level at once.
    pub first_levels: u8,
    /// After this wait, agents of every skill level may take the call.
    pub widen_after: Duration,
    /// Calls an agent may let ring out in a row before being paused (no-answer).
    pub missed_before_pause: u32,
}

impl Default for QueueConfig {
    fn default() -> QueueConfig {
        QueueConfig {
            ring_timeout: Duration::from_secs(15),
            overflow_after: Duration::from_secs(60),
            overflow_to: None,
            strategy: Strategy::LongestIdle,
            first_levels: 5,
            widen_after: Duration::from_secs(30),
            missed_before_pause: 1,
        }
    }
}

/// What the switch must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Ring this agent's phone with this call.
    Offer {
        /// The call.
        call: CallRef,
        /// The agent to ring.
        agent: AgentId,
    },
    /// Stop ringing (CANCEL the agent's INVITE).
    StopRinging {
        /// The call.
        call: CallRef,
        /// The agent whose phone rings.
        agent: AgentId,
        /// Why.
        reason: StopReason,
    },
    /// The call may now also go to another queue's agents.
    Overflowed {
        /// The call.
        call: CallRef,
        /// The queue that now shares it.
        to: QueueId,
    },
}

/// Why a ringing phone is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Rang for the whole ring timeout.
    RingTimeout,
    /// The caller hung up.
    CallerGone,
    /// The agent logged out while ringing.
    AgentLoggedOut,
}

/// How an offer ended without an answer, as the phone said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferOutcome {
    /// The phone gave up ringing itself (408/480): counts as the agent letting it ring out.
    NoAnswer,
    /// The phone said busy (486/600/603).
    Busy,
    /// Unreachable or an error response.
    Failed,
}

/// An answer that arrived for an offer the ACD had already withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the offer was already withdrawn")]
pub struct StaleOffer;

/// Every queue, agent and waiting call of the switch.
#[derive(Debug, Default)]
pub struct Acd {
    queues: HashMap<QueueId, QueueConfig>,
    agents: BTreeMap<AgentId, Agent>,
    calls: BTreeMap<CallRef, WaitingCall>,
    actions: VecDeque<Action>,
    memory: Memory,
}

impl Acd {
    /// An ACD with no queues and no agents.
    pub fn new() -> Acd {
        Acd::with_seed(0x2366_2366)
    }

    /// An ACD whose random strategies follow `seed` (tests pin it).
    pub fn with_seed(seed: u64) -> Acd {
        Acd {
            memory: Memory::seeded(seed),
            ..Acd::default()
        }
    }

    /// Gives an agent their skills with levels (1 best … 5) and their place for the linear
    /// strategy; an agent with no skills takes any call at level 1.
    pub fn set_agent_skills(&mut self, id: &AgentId, skills: &[(String, u8)], order: usize) {
        if let Some(a) = self.agents.get_mut(id) {
            a.skills = skills
                .iter()
                .map(|(s, l)| (s.clone(), (*l).clamp(1, 5)))
                .collect();
            a.order = order;
        }
    }

    /// Starts a new day for the per-day counters (fewest calls, least talk time).
    pub fn new_day(&mut self) {
        for a in self.agents.values_mut() {
            a.calls_today = 0;
            a.talk_today = Duration::ZERO;
        }
    }

    /// Creates or reconfigures a queue (dialplan load and reload).
    pub fn set_queue(&mut self, id: QueueId, config: QueueConfig) {
        self.queues.insert(id, config);
    }

    /// Makes an agent known (logged out), or moves a known one to another queue.
    pub fn add_agent(&mut self, now: Instant, id: AgentId, queue: QueueId) {
        self.agents
            .entry(id)
            .and_modify(|a| a.queue = queue.clone())
            .or_insert(Agent {
                queue,
                status: AgentStatus::LoggedOut,
                idle_since: now,
                logout_pending: false,
                paused_at: now,
                auto_resume: None,
                skills: HashMap::new(),
                order: 0,
                calls_today: 0,
                talk_today: Duration::ZERO,
                talk_started: None,
                missed_in_row: 0,
            });
    }

    /// Lets a no-answer pause end by itself after `after` (for static contacts, which never
    /// re-register); `None` keeps it until the agent logs in again.
    pub fn set_auto_resume(&mut self, id: &AgentId, after: Option<Duration>) {
        if let Some(a) = self.agents.get_mut(id) {
            a.auto_resume = after;
        }
    }

    /// Forgets an agent removed from the dialplan (a ringing offer is withdrawn).
    pub fn remove_agent(&mut self, now: Instant, id: &AgentId) {
        self.logout(now, id);
        self.agents.remove(id);
    }

    /// The agent registered (or has a static contact): available unless on a call.
    pub fn login(&mut self, now: Instant, id: &AgentId) {
        if let Some(a) = self.agents.get_mut(id) {
            a.logout_pending = false;
            if matches!(a.status, AgentStatus::LoggedOut | AgentStatus::Paused(_)) {
                a.status = AgentStatus::Available;
                a.idle_since = now;
            }
        }
        self.dispatch(now);
    }

    /// The agent unregistered or their registration expired.
    pub fn logout(&mut self, now: Instant, id: &AgentId) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        let was = std::mem::replace(&mut a.status, AgentStatus::LoggedOut);
        if let AgentStatus::Ringing(call) = was {
            if let Some(c) = self.calls.get_mut(&call) {
                c.offer = None;
            }
            self.actions.push_back(Action::StopRinging {
                call,
                agent: id.clone(),
                reason: StopReason::AgentLoggedOut,
            });
        }
        if let AgentStatus::Talking(call) = was {
            // Still on the phone: logged out once the call ends.
            a.status = AgentStatus::Talking(call);
            a.logout_pending = true;
        }
        self.dispatch(now);
    }

    /// A caller asks for an agent of `queue`.
    pub fn call_arrived(&mut self, now: Instant, call: CallRef, queue: QueueId) {
        self.call_arrived_for(now, call, queue, None);
    }

    /// A caller asks for an agent of `queue` with `skill` (the voice menu's choice).
    pub fn call_arrived_for(
        &mut self,
        now: Instant,
        call: CallRef,
        queue: QueueId,
        skill: Option<String>,
    ) {
        self.calls.insert(
            call,
            WaitingCall {
                queue,
                arrived: now,
                overflowed: false,
                offer: None,
                tried: HashMap::new(),
                skill,
                widened: false,
            },
        );
        self.dispatch(now);
    }

    /// The ringing agent answered.
    pub fn answered(
        &mut self,
        now: Instant,
        call: CallRef,
        agent: &AgentId,
    ) -> Result<(), StaleOffer> {
        let a = self.agents.get_mut(agent).ok_or(StaleOffer)?;
        if a.status != AgentStatus::Ringing(call) {
            return Err(StaleOffer);
        }
        a.status = AgentStatus::Talking(call);
        a.calls_today += 1;
        a.talk_started = Some(now);
        a.missed_in_row = 0;
        self.calls.remove(&call);
        self.dispatch(now);
        Ok(())
    }

    /// The ringing phone said no.
    pub fn offer_failed(
        &mut self,
        now: Instant,
        call: CallRef,
        agent: &AgentId,
        outcome: OfferOutcome,
    ) {
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        if a.status != AgentStatus::Ringing(call) {
            return;
        }
        match outcome {
            OfferOutcome::NoAnswer => {
                self.missed(now, call, agent);
            }
            OfferOutcome::Busy | OfferOutcome::Failed => {
                // A phone on do-not-disturb answers busy at once: to the back of the line.
                a.idle_since = now;
                a.status = AgentStatus::Available;
            }
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.offer = None;
            c.tried.insert(agent.clone(), now);
        }
        self.dispatch(now);
    }

    /// The agent let `call` ring out: paused once they have done so the queue's number of
    /// times in a row, else back at the end of the line.
    fn missed(&mut self, now: Instant, call: CallRef, agent: &AgentId) {
        let limit = self
            .calls
            .get(&call)
            .and_then(|c| self.queues.get(&c.queue))
            .map_or(1, |q| q.missed_before_pause.max(1));
        if let Some(a) = self.agents.get_mut(agent) {
            a.missed_in_row += 1;
            if a.missed_in_row >= limit {
                a.status = AgentStatus::Paused(PauseReason::NoAnswer);
                a.paused_at = now;
            } else {
                a.status = AgentStatus::Available;
                a.idle_since = now;
            }
        }
    }

    /// The agent's call is over: free again, idle from now.
    pub fn call_ended(&mut self, now: Instant, agent: &AgentId) {
        if let Some(a) = self.agents.get_mut(agent) {
            if matches!(a.status, AgentStatus::Talking(_)) {
                if let Some(t) = a.talk_started.take() {
                    a.talk_today += now.saturating_duration_since(t);
                }
                a.status = if a.logout_pending {
                    AgentStatus::LoggedOut
                } else {
                    AgentStatus::Available
                };
                a.logout_pending = false;
                a.idle_since = now;
            }
        }
        self.dispatch(now);
    }

    /// The caller hung up before an agent answered; returns how long they waited.
    pub fn abandoned(&mut self, now: Instant, call: CallRef) -> Option<Duration> {
        let c = self.calls.remove(&call)?;
        if let Some((agent, _)) = c.offer {
            if let Some(a) = self.agents.get_mut(&agent) {
                a.status = AgentStatus::Available;
            }
            self.actions.push_back(Action::StopRinging {
                call,
                agent,
                reason: StopReason::CallerGone,
            });
        }
        self.dispatch(now);
        Some(now.saturating_duration_since(c.arrived))
    }

    /// Fires ring timeouts and overflows due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let rung_out: Vec<(CallRef, AgentId)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| match &c.offer {
                Some((agent, until)) if *until <= now => Some((*id, agent.clone())),
                _ => None,
            })
            .collect();
        for (call, agent) in rung_out {
            self.missed(now, call, &agent);
            if let Some(c) = self.calls.get_mut(&call) {
                c.offer = None;
                c.tried.insert(agent.clone(), now);
            }
            self.actions.push_back(Action::StopRinging {
                call,
                agent,
                reason: StopReason::RingTimeout,
            });
        }
        for a in self.agents.values_mut() {
            if let (AgentStatus::Paused(PauseReason::NoAnswer), Some(after)) =
                (&a.status, a.auto_resume)
            {
                if now >= later(a.paused_at, after) {
                    a.status = AgentStatus::Available;
                    a.idle_since = now;
                }
            }
        }
        self.dispatch(now);
    }

    /// When [`Acd::handle_timeout`] must next run.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let resumes = self
            .agents
            .values()
            .filter_map(|a| match (&a.status, a.auto_resume) {
                (AgentStatus::Paused(PauseReason::NoAnswer), Some(after)) => {
                    Some(a.paused_at + after)
                }
                _ => None,
            });
        let calls = self.calls.values().filter_map(|c| {
            let cfg = self.queues.get(&c.queue)?;
            let mut next: Option<Instant> = None;
            let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
            match &c.offer {
                Some((_, until)) => consider(*until),
                None => {
                    for at in c.tried.values() {
                        consider(later(*at, cfg.ring_timeout));
                    }
                }
            }
            if !c.overflowed && cfg.overflow_to.is_some() {
                consider(later(c.arrived, cfg.overflow_after));
            }
            if !c.widened && cfg.first_levels < 5 {
                consider(later(c.arrived, cfg.widen_after));
            }
            next
        });
        calls.chain(resumes).min()
    }

    /// The next thing the switch must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// An agent's state, for `hotline agents` and tests.
    pub fn agent_status(&self, id: &AgentId) -> Option<&AgentStatus> {
        self.agents.get(id).map(|a| &a.status)
    }

    /// How many callers are ahead of `call` in its queue ("您前面还有 N 位"): calls of the
    /// same queue that arrived earlier and are still waiting.
    pub fn position(&self, call: CallRef) -> Option<usize> {
        let me = self.calls.get(&call)?;
        Some(
            self.calls
                .iter()
                .filter(|(id, c)| c.queue == me.queue && (c.arrived, **id) < (me.arrived, call))
                .count(),
        )
    }

    /// How many calls wait in `queue` (not counting overflow shared from other queues).
    pub fn waiting(&self, queue: &QueueId) -> usize {
        self.calls.values().filter(|c| &c.queue == queue).count()
    }

    fn queue_has_logged_in_agent(&self, queue: &QueueId) -> bool {
        self.agents
            .values()
            .any(|a| &a.queue == queue && a.is_logged_in())
    }

    /// Offers every waiting call that can be offered, oldest first.
    fn dispatch(&mut self, now: Instant) {
        // A tried agent may be rung again for the same call after one ring timeout; forget
        // the older tries so their deadlines never lie in the past.
        for c in self.calls.values_mut() {
            if let Some(cfg) = self.queues.get(&c.queue) {
                c.tried.retain(|_, at| now < later(*at, cfg.ring_timeout));
                if now >= later(c.arrived, cfg.widen_after) {
                    c.widened = true;
                }
            }
        }
        let ids: Vec<CallRef> = self.calls.keys().copied().collect();
        for id in ids {
            self.check_overflow(now, id);
            let Some(call) = self.calls.get(&id) else {
                continue;
            };
            if call.offer.is_some() {
                continue;
            }
            let Some(ring_timeout) = self.queues.get(&call.queue).map(|q| q.ring_timeout) else {
                continue;
            };
            let Some(agent) = self.pick_agent(now, id) else {
                continue;
            };
            let until = later(now, ring_timeout);
            if let Some(a) = self.agents.get_mut(&agent) {
                a.status = AgentStatus::Ringing(id);
            }
            if let Some(c) = self.calls.get_mut(&id) {
                c.offer = Some((agent.clone(), until));
            }
            self.actions.push_back(Action::Offer { call: id, agent });
        }
    }

    fn check_overflow(&mut self, now: Instant, id: CallRef) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.overflowed {
            return;
        }
        let Some(to) = self.queues.get(&call.queue).and_then(|q| {
            let due = now >= later(call.arrived, q.overflow_after);
            q.overflow_to.clone().filter(|_| due)
        }) else {
            if let Some(to) = self
                .queues
                .get(&call.queue)
                .and_then(|q| q.overflow_to.clone())
            {
                if !self.queue_has_logged_in_agent(&call.queue) {
                    self.mark_overflowed(id, to);
                }
            }
            return;
        };
        self.mark_overflowed(id, to);
    }

    fn mark_overflowed(&mut self, id: CallRef, to: QueueId) {
        if let Some(c) = self.calls.get_mut(&id) {
            c.overflowed = true;
            self.actions.push_back(Action::Overflowed { call: id, to });
        }
    }

    /// The agent to ring for a call: among the available agents of its queue (failing
    /// that, of the overflow queue) who have the call's skill, the best level first (only the
    /// queue's first levels until the call has waited `widen_after`), then the strategy.
    fn pick_agent(&mut self, now: Instant, id: CallRef) -> Option<AgentId> {
        let call = self.calls.get(&id)?;
        let cfg = self.queues.get(&call.queue)?;
        let max_level = if call.widened {
            5
        } else {
            cfg.first_levels.clamp(1, 5)
        };
        let eligible = |queue: &QueueId| -> Vec<Candidate> {
            self.agents
                .iter()
                .filter(|(aid, a)| {
                    &a.queue == queue
                        && a.status == AgentStatus::Available
                        && call
                            .tried
                            .get(*aid)
                            .is_none_or(|at| now >= later(*at, cfg.ring_timeout))
                })
                .filter_map(|(aid, a)| {
                    let level = a.level_for(call.skill.as_deref())?;
                    (level <= max_level).then_some(Candidate {
                        id: aid,
                        agent: a,
                        level,
                    })
                })
                .collect()
        };
        let mut candidates = eligible(&call.queue);
        if candidates.is_empty() && call.overflowed {
            if let Some(to) = &cfg.overflow_to {
                candidates = eligible(to);
            }
        }
        let (strategy, queue) = (cfg.strategy, call.queue.clone());
        self.memory.choose(strategy, &queue, now, &candidates)
    }
}

#[cfg(test)]
#[path = "engine/tests.rs"]
mod tests;

/// `at + d`, saturating far in the future instead of overflowing on absurd durations.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(at)
}
