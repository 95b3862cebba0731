//! Agents' sessions: the phone's presence, log in and out, ready and not ready, and the
//! listing for `hotline agents`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use thiserror::Error;

use super::{Acd, StopReason};
use crate::agent::{AfterCall, Agent, AgentId, AgentStatus, NotReady};
use crate::call::{CallRef, QueueId};

/// Why an agent command (log in, log out, ready, not ready) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StateError {
    /// No agent with this number in the dialplan.
    #[error("no such agent")]
    UnknownAgent,
    /// The phone is neither registered nor a static contact, so it could not be rung.
    #[error("the agent's phone is not registered")]
    PhoneNotReachable,
    /// Ready and not ready need a logged-in agent (a logout pending after the call counts
    /// as logged out).
    #[error("the agent is not logged in")]
    NotLoggedIn,
}

/// The agent's phone already rings or is on a call: it is not rung for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the agent is busy")]
pub struct AgentBusy;

/// One agent as `hotline agents` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentView {
    /// The agent's number.
    pub id: AgentId,
    /// Their queue (region).
    pub queue: QueueId,
    /// What they are doing.
    pub status: AgentStatus,
    /// When the current state (or not-ready reason) began.
    pub since: Instant,
    /// Calls answered today.
    pub calls_today: u32,
    /// Talk time of today's finished calls (the current call is not counted yet).
    pub talk_today: Duration,
    /// Whether the phone is registered or a static contact.
    pub reachable: bool,
}

impl Acd {
    /// Makes an agent known (logged out, phone not reachable), or moves a known one to
    /// another queue.
    pub fn add_agent(&mut self, now: Instant, id: AgentId, queue: QueueId) {
        match self.agents.get_mut(&id) {
            Some(a) => a.queue = queue,
            None => self.agents.insert(id, Agent::new(now, queue)),
        }
    }

    /// Forgets an agent removed from the dialplan (a ringing offer is withdrawn); recorded
    /// as a change to logged out, even mid-call.
    pub fn remove_agent(&mut self, now: Instant, id: &AgentId) {
        self.withdraw_offer(id, StopReason::AgentLoggedOut);
        self.set_status(now, id, AgentStatus::LoggedOut);
        self.agents.remove(id);
        self.dispatch(now);
    }

    /// Gives an agent their skills with levels (1 best … 5) and their place for the linear
    /// strategy; an agent with no skills takes any call at level 1.
    pub fn set_agent_skills(&mut self, id: &AgentId, skills: &[(String, u8)], order: usize) {
        if let Some(a) = self.agents.get_mut(id) {
            a.skills = skills
                .iter()
                .map(|(s, l)| (s.clone(), (*l).clamp(1, 5)))
                .collect::<HashMap<_, _>>();
            a.order = order;
        }
    }

    /// Lets a no-answer pause end by itself after `after` (for static contacts, which never
    /// re-register); `None` keeps it until the agent is ready again.
    pub fn set_auto_resume(&mut self, id: &AgentId, after: Option<Duration>) {
        if let Some(a) = self.agents.get_mut(id) {
            a.auto_resume = after;
        }
    }

    /// Starts a new day for the per-day counters (fewest calls, least talk time).
    pub fn new_day(&mut self) {
        self.agents.update_all(|a| {
            a.calls_today = 0;
            a.talk_today = Duration::ZERO;
        });
    }

    /// The phone registered, refreshed its registration, or lapsed (unregistered, expired).
    /// Coming reachable logs the agent in; a refresh only ends a no-answer pause (the phone
    /// is evidently back) and never undoes an explicit logout or another reason; a lapse
    /// logs the agent out (after the call, if talking).
    pub fn phone_reachable(&mut self, now: Instant, id: &AgentId, reachable: bool) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        let was = std::mem::replace(&mut a.reachable, reachable);
        match (was, reachable) {
            (_, false) => self.log_out(now, id),
            // Registering logs in, as a login would (a lapse left them logged out).
            (false, true) => self.log_in(now, id, false),
            (true, true) => {
                if a.status == AgentStatus::NotReady(NotReady::NoAnswer) {
                    self.set_status(now, id, AgentStatus::Available);
                }
            }
        }
        self.dispatch(now);
    }

    /// Logs the agent in (`*21`, the CLI): available if logged out or not ready; on a call,
    /// ringing or in wrap-up nothing changes except that a logout pending after the call is
    /// cancelled.
    pub fn login(&mut self, now: Instant, id: &AgentId) -> Result<(), StateError> {
        let a = self.agents.get_mut(id).ok_or(StateError::UnknownAgent)?;
        if !a.reachable {
            return Err(StateError::PhoneNotReachable);
        }
        self.log_in(now, id, true);
        self.dispatch(now);
        Ok(())
    }

    /// Cancels a logout pending after the call, and makes a logged-out agent available
    /// (also a not-ready one when `ends_pause`: `*21` means "I am here to take calls").
    fn log_in(&mut self, now: Instant, id: &AgentId, ends_pause: bool) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if a.after_call == Some(AfterCall::LogOut) {
            a.after_call = None;
        }
        let free = match a.status {
            AgentStatus::LoggedOut => true,
            AgentStatus::NotReady(_) => ends_pause,
            _ => false,
        };
        if free {
            self.set_status(now, id, AgentStatus::Available);
        }
    }

    /// Logs the agent out (`*22`, the CLI): a ringing offer is withdrawn; on a call, the
    /// logout takes effect when it ends. Already logged out is not an error.
    pub fn logout(&mut self, now: Instant, id: &AgentId) -> Result<(), StateError> {
        if !self.agents.contains_key(id) {
            return Err(StateError::UnknownAgent);
        }
        self.log_out(now, id);
        self.dispatch(now);
        Ok(())
    }

    /// Ends the agent's wrap-up early or their not-ready pause (`*23`); on a call, cancels a
    /// pause pending after it. Ringing or available: nothing to do.
    pub fn ready(&mut self, now: Instant, id: &AgentId) -> Result<(), StateError> {
        let a = self.logged_in_agent(id)?;
        match a.status {
            AgentStatus::WrapUp { .. } | AgentStatus::NotReady(_) => {
                self.set_status(now, id, AgentStatus::Available);
            }
            AgentStatus::Talking(_) => a.after_call = None,
            AgentStatus::LoggedOut
            | AgentStatus::Available
            | AgentStatus::Ringing(_)
            | AgentStatus::RingingDirectly(_) => {}
        }
        self.dispatch(now);
        Ok(())
    }

    /// Sets the agent not ready for `reason` (`*24N`): at once if free, in wrap-up or
    /// already not ready; while ringing, the offer is withdrawn and the call goes to the
    /// next agent; on a call, instead of wrap-up when it ends.
    pub fn pause(
        &mut self,
        now: Instant,
        id: &AgentId,
        reason: NotReady,
    ) -> Result<(), StateError> {
        let a = self.logged_in_agent(id)?;
        match a.status {
            AgentStatus::Talking(_) => a.after_call = Some(AfterCall::NotReady(reason)),
            AgentStatus::Ringing(_) => {
                self.withdraw_offer(id, StopReason::AgentPaused);
                self.set_status(now, id, AgentStatus::NotReady(reason));
            }
            AgentStatus::LoggedOut
            | AgentStatus::Available
            | AgentStatus::RingingDirectly(_)
            | AgentStatus::WrapUp { .. }
            | AgentStatus::NotReady(_) => {
                self.set_status(now, id, AgentStatus::NotReady(reason));
            }
        }
        self.dispatch(now);
        Ok(())
    }

    /// The agent is on `call`, which the ACD did not offer (a call out, a consultation, a
    /// transfer that reached them): no call is offered meanwhile, and `call_ended` ends it
    /// like any call. A not-ready agent (callbacks during paperwork) stays not ready, and is
    /// offered nothing until the call ends even if the pause ends first; an agent already
    /// talking keeps the call they are on; a ringing offer is withdrawn for the next agent.
    pub fn on_call(&mut self, now: Instant, id: &AgentId, call: CallRef) -> Result<(), StateError> {
        // Answered: it no longer rings, also for an agent who logged out while it rang.
        if let Some(a) = self.agents.get_mut(id) {
            if a.rings_directly == Some(call) {
                a.rings_directly = None;
            }
        }
        let a = self.logged_in_agent(id)?;
        match a.status {
            AgentStatus::NotReady(_) => {
                // The call this agent is on is the one the ACD follows now: a ring for
                // another call still pending is forgotten, or the pause's end would turn
                // it into a ring for a call the agent is not busy with.
                if a.rings_directly.is_some_and(|r| r != call) {
                    a.rings_directly = None;
                }
                a.busy_with = Some(call);
                a.talk_started = Some(now);
                return Ok(());
            }
            AgentStatus::Talking(_) => return Ok(()),
            AgentStatus::Ringing(_) => {
                self.withdraw_offer(id, StopReason::AgentBusy);
            }
            AgentStatus::Available
            | AgentStatus::RingingDirectly(_)
            | AgentStatus::WrapUp { .. } => {}
            AgentStatus::LoggedOut => return Err(StateError::NotLoggedIn),
        }
        if let Some(a) = self.agents.get_mut(id) {
            a.talk_started = Some(now);
        }
        self.set_status(now, id, AgentStatus::Talking(call));
        self.dispatch(now);
        Ok(())
    }

    /// The agent's phone is rung for `call` outside the ACD (a transfer or consultation
    /// to them by number): nothing is offered to them while it rings, and a free agent is
    /// ringing (an agent in wrap-up or not ready keeps that state). Refused when the phone
    /// already rings with an offer or the agent is on another call, so that no phone rings
    /// for two calls; an agent not in the dialplan is not the ACD's to track.
    pub fn ring_directly(
        &mut self,
        now: Instant,
        id: &AgentId,
        call: CallRef,
    ) -> Result<(), AgentBusy> {
        let Some(a) = self.agents.get_mut(id) else {
            return Ok(());
        };
        let busy = match a.status {
            AgentStatus::Ringing(c) | AgentStatus::Talking(c) => c != call,
            _ => a.busy_with.is_some_and(|c| c != call),
        };
        if busy {
            return Err(AgentBusy);
        }
        a.busy_with = Some(call);
        a.rings_directly = Some(call);
        // Wrap-up and not ready stay; they turn ringing when they end (`set_status`).
        if a.status == AgentStatus::Available {
            self.set_status(now, id, AgentStatus::RingingDirectly(call));
        }
        Ok(())
    }

    /// The agent's phone stopped ringing for `call` unanswered (rang out, the caller gone,
    /// the INVITE failed): they may be offered calls again, keeping their place in the
    /// line. Anything else is left as it is.
    pub fn direct_ring_ended(&mut self, now: Instant, id: &AgentId, call: CallRef) {
        self.end_direct_ring(now, id, call, false);
    }

    /// As [`Acd::direct_ring_ended`], for a phone that turned the ring down (busy, declined,
    /// do-not-disturb): like an offer refused so, the agent goes to the back of the line,
    /// so a transfer they declined that goes back to the queue is not offered to them first.
    pub fn direct_ring_declined(&mut self, now: Instant, id: &AgentId, call: CallRef) {
        self.end_direct_ring(now, id, call, true);
    }

    fn end_direct_ring(&mut self, now: Instant, id: &AgentId, call: CallRef, declined: bool) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if a.rings_directly == Some(call) {
            a.rings_directly = None;
            if declined {
                a.idle_since = now;
            }
        }
        if a.busy_with == Some(call) && a.status != AgentStatus::Talking(call) {
            a.busy_with = None;
            if a.status == AgentStatus::RingingDirectly(call) {
                self.set_status(now, id, AgentStatus::Available);
            }
            self.dispatch(now);
        }
    }

    /// The agent's call `from` carries on as `to` (an attended transfer joined the consulted
    /// agent to the caller's call): its end is the end of `to` now.
    pub fn call_moved(&mut self, id: &AgentId, from: CallRef, to: CallRef) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if a.busy_with == Some(from) {
            a.busy_with = Some(to);
        }
        if a.status == AgentStatus::Talking(from) {
            // The same state on another call: no change to record.
            a.status = AgentStatus::Talking(to);
        }
    }

    /// The call the ACD did not offer that keeps this agent busy, if any: the one it is
    /// talking on, or the one taken while not ready.
    pub fn busy_with(&self, id: &AgentId) -> Option<CallRef> {
        let a = self.agents.get(id)?;
        match a.status {
            AgentStatus::Talking(call) => Some(call),
            _ => a.busy_with,
        }
    }

    /// Every agent, by number.
    pub fn agents(&self) -> Vec<AgentView> {
        self.agents
            .iter()
            .map(|(id, a)| AgentView {
                id: id.clone(),
                queue: a.queue.clone(),
                status: a.status.clone(),
                since: a.since,
                calls_today: a.calls_today,
                talk_today: a.talk_today,
                reachable: a.reachable,
            })
            .collect()
    }

    /// The agent, if known and logged in, for commands that need a session.
    fn logged_in_agent(&mut self, id: &AgentId) -> Result<&mut Agent, StateError> {
        let a = self.agents.get_mut(id).ok_or(StateError::UnknownAgent)?;
        if a.is_logged_in() {
            Ok(a)
        } else {
            Err(StateError::NotLoggedIn)
        }
    }

    /// Logged out now, or after the call if talking; a ringing offer is withdrawn. The
    /// caller dispatches.
    fn log_out(&mut self, now: Instant, id: &AgentId) {
        let Some(a) = self.agents.get_mut(id) else {
            return;
        };
        if matches!(a.status, AgentStatus::Talking(_)) {
            // Still on the phone: logged out once the call ends.
            a.after_call = Some(AfterCall::LogOut);
            return;
        }
        self.withdraw_offer(id, StopReason::AgentLoggedOut);
        self.set_status(now, id, AgentStatus::LoggedOut);
    }
}
