//! The distribution engine: events and the time in, actions out.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::agent::{AfterCall, AgentId, AgentState, AgentStatus, NotReady};
use crate::call::{CallRef, QueueId, WaitingCall};
use crate::later;
use crate::strategy::{Memory, Strategy};

mod agents;
mod distribution;
#[cfg(test)]
mod invariants;
mod roster;

pub use agents::{AgentBusy, AgentView, StateError};

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
    /// Calls an agent may let ring out in a row before being set not ready (no-answer).
    pub missed_before_pause: u32,
    /// After-call work time (话后小结) of this queue's agents; zero for none.
    pub wrap_up: Duration,
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
            wrap_up: Duration::from_secs(20),
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
    /// An agent's state (or not-ready reason) changed: a row for the `agent_states` table.
    AgentChanged {
        /// The agent.
        agent: AgentId,
        /// The state they left.
        from: AgentState,
        /// The state they are in now.
        to: AgentState,
        /// Why they are not ready, when `to` is [`AgentState::NotReady`].
        reason: Option<NotReady>,
    },
}

/// Why a ringing phone is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Rang for the whole ring timeout.
    RingTimeout,
    /// The caller hung up.
    CallerGone,
    /// The agent logged out (or their registration lapsed, or they were removed) while ringing.
    AgentLoggedOut,
    /// The agent set themselves not ready while ringing; the call goes to the next agent.
    AgentPaused,
    /// Ring-all: another agent answered the call first.
    AnsweredElsewhere,
    /// The agent took another call while this one rang (a call out, a colleague's call).
    AgentBusy,
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
    agents: roster::Roster,
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

    /// Creates or reconfigures a queue (dialplan load and reload).
    pub fn set_queue(&mut self, id: QueueId, config: QueueConfig) {
        self.queues.insert(id, config);
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
                ringing: BTreeMap::new(),
                tried: HashMap::new(),
                skill,
                widened: false,
            },
        );
        self.dispatch(now);
    }

    /// A ringing agent answered; with ring-all, every other agent ringing for the call is
    /// stopped.
    pub fn answered(
        &mut self,
        now: Instant,
        call: CallRef,
        agent: &AgentId,
    ) -> Result<(), StaleOffer> {
        let a = self.agents.get(agent).ok_or(StaleOffer)?;
        if a.status != AgentStatus::Ringing(call) {
            return Err(StaleOffer);
        }
        let others: Vec<AgentId> = self
            .calls
            .remove(&call)
            .map(|c| c.ringing.into_keys().filter(|o| o != agent).collect())
            .unwrap_or_default();
        self.set_status(now, agent, AgentStatus::Talking(call));
        if let Some(a) = self.agents.get_mut(agent) {
            a.calls_today += 1;
            a.talk_started = Some(now);
            a.missed_in_row = 0;
        }
        for other in others {
            self.actions.push_back(Action::StopRinging {
                call,
                agent: other.clone(),
                reason: StopReason::AnsweredElsewhere,
            });
            // Not their fault: back to the line where they were, no miss counted.
            if self.status_is(&other, &AgentStatus::Ringing(call)) {
                self.set_status(now, &other, AgentStatus::Available);
            }
        }
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
        if !self.status_is(agent, &AgentStatus::Ringing(call)) {
            return;
        }
        match outcome {
            OfferOutcome::NoAnswer => self.missed(now, call, agent),
            OfferOutcome::Busy | OfferOutcome::Failed => {
                self.set_status(now, agent, AgentStatus::Available);
                // A phone on do-not-disturb answers busy at once: to the back of the line.
                if let Some(a) = self.agents.get_mut(agent) {
                    a.idle_since = now;
                }
            }
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.ringing.remove(agent);
            c.tried.insert(agent.clone(), now);
        }
        self.dispatch(now);
    }

    /// The agent let `call` ring out: not ready (no-answer) once they have done so the
    /// queue's number of times in a row, else back at the end of the line.
    fn missed(&mut self, now: Instant, call: CallRef, agent: &AgentId) {
        let limit = self
            .calls
            .get(&call)
            .and_then(|c| self.queues.get(&c.queue))
            .map_or(1, |q| q.missed_before_pause.max(1));
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        a.missed_in_row += 1;
        if a.missed_in_row >= limit {
            // The count starts again after the pause, so one more miss does not re-pause.
            a.missed_in_row = 0;
            self.set_status(now, agent, AgentStatus::NotReady(NotReady::NoAnswer));
        } else {
            self.set_status(now, agent, AgentStatus::Available);
            if let Some(a) = self.agents.get_mut(agent) {
                a.idle_since = now;
            }
        }
    }

    /// The agent's call is over: wrap-up for their queue's wrap-up time, unless a logout or
    /// pause was asked for during the call.
    pub fn call_ended(&mut self, now: Instant, agent: &AgentId) {
        let default_wrap_up = QueueConfig::default().wrap_up;
        if let Some(a) = self.agents.get_mut(agent) {
            a.busy_with = None;
            a.rings_directly = None;
            // Talk time counts for every call, also one taken while not ready.
            if let Some(t) = a.talk_started.take() {
                a.talk_today += now.saturating_duration_since(t);
            }
            if matches!(a.status, AgentStatus::RingingDirectly(_)) {
                // The switch ended a call that only rang them: no call to wrap up.
                self.set_status(now, agent, AgentStatus::Available);
            } else if matches!(a.status, AgentStatus::Talking(_)) {
                let wrap_up = self
                    .queues
                    .get(&a.queue)
                    .map_or(default_wrap_up, |q| q.wrap_up);
                let next = match a.after_call.take() {
                    _ if !a.reachable => AgentStatus::LoggedOut,
                    Some(AfterCall::LogOut) => AgentStatus::LoggedOut,
                    Some(AfterCall::NotReady(r)) => AgentStatus::NotReady(r),
                    None if wrap_up.is_zero() => AgentStatus::Available,
                    None => AgentStatus::WrapUp {
                        until: later(now, wrap_up),
                    },
                };
                self.set_status(now, agent, next);
            }
        }
        self.dispatch(now);
    }

    /// The caller hung up before an agent answered; returns how long they waited.
    pub fn abandoned(&mut self, now: Instant, call: CallRef) -> Option<Duration> {
        let c = self.calls.remove(&call)?;
        for agent in c.ringing.into_keys() {
            self.actions.push_back(Action::StopRinging {
                call,
                agent: agent.clone(),
                reason: StopReason::CallerGone,
            });
            if self.status_is(&agent, &AgentStatus::Ringing(call)) {
                self.set_status(now, &agent, AgentStatus::Available);
            }
        }
        self.dispatch(now);
        Some(now.saturating_duration_since(c.arrived))
    }

    /// Fires ring timeouts, ends of wrap-up, auto-resumes and overflows due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let rung_out: Vec<(CallRef, AgentId)> = self
            .calls
            .iter()
            .flat_map(|(id, c)| {
                c.ringing
                    .iter()
                    .filter(|(_, until)| **until <= now)
                    .map(|(agent, _)| (*id, agent.clone()))
            })
            .collect();
        for (call, agent) in rung_out {
            self.actions.push_back(Action::StopRinging {
                call,
                agent: agent.clone(),
                reason: StopReason::RingTimeout,
            });
            self.missed(now, call, &agent);
            if let Some(c) = self.calls.get_mut(&call) {
                c.ringing.remove(&agent);
                c.tried.insert(agent, now);
            }
        }
        for id in self.agents.comebacks_due(now) {
            self.set_status(now, &id, AgentStatus::Available);
        }
        self.dispatch(now);
    }

    /// When [`Acd::handle_timeout`] must next run.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let agents = self.agents.next_comeback();
        let calls = self.calls.values().filter_map(|c| {
            let cfg = self.queues.get(&c.queue)?;
            let mut next: Option<Instant> = None;
            let mut consider = |t: Instant| next = Some(next.map_or(t, |n| n.min(t)));
            for until in c.ringing.values() {
                consider(*until);
            }
            // A tried agent may be rung again once its ring timeout has passed, if the call
            // can take another agent then.
            if c.ringing.is_empty() || cfg.strategy == Strategy::RingAll {
                for at in c.tried.values() {
                    consider(later(*at, cfg.ring_timeout));
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
        calls.chain(agents).min()
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

    /// Every call waiting for an agent (also while a phone rings for it): its queue and
    /// when it arrived there, oldest first within each queue's order of arrival.
    pub fn waiting_calls(&self) -> impl Iterator<Item = (CallRef, &QueueId, Instant)> + '_ {
        self.calls.iter().map(|(id, c)| (*id, &c.queue, c.arrived))
    }

    /// How many calls wait in `queue` (not counting overflow shared from other queues).
    pub fn waiting(&self, queue: &QueueId) -> usize {
        self.calls.values().filter(|c| &c.queue == queue).count()
    }

    fn status_is(&self, id: &AgentId, status: &AgentStatus) -> bool {
        self.agents.get(id).is_some_and(|a| &a.status == status)
    }

    /// The one place an agent's status changes, so that every change of state or reason is
    /// recorded (`AgentChanged`) and starts the state's clock.
    fn set_status(&mut self, now: Instant, id: &AgentId, to: AgentStatus) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        // Free again while their phone still rings for a transfer: ringing, so that the
        // listing never shows a ringing phone as free.
        let to = match (to, a.rings_directly) {
            (AgentStatus::Available, Some(call)) => AgentStatus::RingingDirectly(call),
            (to, _) => to,
        };
        let from = std::mem::replace(&mut a.status, to);
        let to = &a.status;
        if (from.state(), from.reason()) == (to.state(), to.reason()) {
            return;
        }
        a.since = now;
        // An offer that was withdrawn through no fault of the agent keeps their place in
        // the line; every other return to available starts a new idle time.
        if to == &AgentStatus::Available
            && !matches!(
                from,
                AgentStatus::Ringing(_) | AgentStatus::RingingDirectly(_)
            )
        {
            a.idle_since = now;
        }
        self.actions.push_back(Action::AgentChanged {
            agent: id.clone(),
            from: from.state(),
            to: to.state(),
            reason: to.reason(),
        });
    }

    /// Stops the agent's phone if it rings, taking them out of the call's ringing set; the
    /// caller sets the agent's new status.
    fn withdraw_offer(&mut self, id: &AgentId, reason: StopReason) {
        let Some(AgentStatus::Ringing(call)) = self.agent_status(id).cloned() else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&call) {
            c.ringing.remove(id);
        }
        self.actions.push_back(Action::StopRinging {
            call,
            agent: id.clone(),
            reason,
        });
    }
}

#[cfg(test)]
#[path = "engine/tests.rs"]
mod tests;

#[cfg(test)]
mod state_tests;

#[cfg(test)]
mod direct_tests;

#[cfg(test)]
mod phone_tests;

#[cfg(test)]
mod ring_all_tests;

#[cfg(test)]
mod day_tests;
