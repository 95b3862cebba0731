//! Test support: a watcher that reads the ACD's actions the way the switch does and checks
//! them against each other and against the ACD's own view.

use std::collections::HashMap;

use crate::{Acd, Action, AgentId, AgentState, CallRef, NotReady};

/// One drain of the action queue.
#[derive(Debug, Default)]
pub(crate) struct Drained {
    /// The offers, in order.
    pub offers: Vec<(CallRef, AgentId)>,
    /// Every action, in order.
    pub actions: Vec<Action>,
}

/// What the watcher has learnt from the actions so far.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    /// Each agent's state and reason as the `AgentChanged` actions tell it.
    state: HashMap<AgentId, (AgentState, Option<NotReady>)>,
    /// Offers made and not yet stopped, answered or otherwise ended, by agent.
    open: HashMap<AgentId, CallRef>,
    /// The state each agent last went to ringing from (a phone rung by number may start
    /// ringing for an agent who logs in or ends a pause; an offer only for a free one).
    rang_from: HashMap<AgentId, AgentState>,
}

impl Watch {
    /// Drains the ACD's actions, checking that `AgentChanged` chains (each `from` is the
    /// previous `to`, nothing is reported that did not change), that offers go only to agents
    /// who just went from available to ringing, that no agent rings for two calls and, unless
    /// `ring_all`, no call rings two agents. Returns the offers and every action.
    pub fn drain(&mut self, acd: &mut Acd, ring_all: bool) -> Result<Drained, String> {
        let mut offers = Vec::new();
        let mut all = Vec::new();
        while let Some(action) = acd.poll_action() {
            all.push(action.clone());
            match action {
                Action::AgentChanged {
                    agent,
                    from,
                    to,
                    reason,
                } => {
                    let before = self
                        .state
                        .get(&agent)
                        .copied()
                        .unwrap_or((AgentState::LoggedOut, None));
                    if before.0 != from {
                        return Err(format!("{agent}: {from:?} → {to:?}, but was {before:?}"));
                    }
                    if before == (to, reason) {
                        return Err(format!("{agent}: reported a change to the same {before:?}"));
                    }
                    if reason.is_some() != (to == AgentState::NotReady) {
                        return Err(format!("{agent}: reason {reason:?} with {to:?}"));
                    }
                    if to == AgentState::Ringing {
                        self.rang_from.insert(agent.clone(), from);
                    }
                    if from == AgentState::Ringing {
                        self.open.remove(&agent);
                    }
                    self.state.insert(agent, (to, reason));
                }
                Action::Offer { call, agent } => {
                    if self.state.get(&agent).map(|s| s.0) != Some(AgentState::Ringing) {
                        return Err(format!("offer of {call:?} to {agent}, who is not ringing"));
                    }
                    let from = self.rang_from.get(&agent);
                    if from != Some(&AgentState::Available) {
                        return Err(format!("offer of {call:?} to {agent}, rung from {from:?}"));
                    }
                    if let Some(other) = self.open.get(&agent) {
                        return Err(format!("{agent} rings for {other:?} and {call:?}"));
                    }
                    if !ring_all && self.open.values().any(|c| *c == call) {
                        return Err(format!("{call:?} rings two agents"));
                    }
                    self.open.insert(agent.clone(), call);
                    offers.push((call, agent));
                }
                Action::StopRinging { call, agent, .. } => {
                    if self.open.remove(&agent) != Some(call) {
                        return Err(format!(
                            "stop of {call:?} at {agent}, who was not ringing it"
                        ));
                    }
                }
                Action::Overflowed { .. } => {}
            }
        }
        Ok(Drained {
            offers,
            actions: all,
        })
    }

    /// Checks that the watcher's picture is the ACD's: every agent's state and reason, and
    /// every open offer rings a reachable phone.
    pub fn agrees_with(&self, acd: &Acd) -> Result<(), String> {
        acd.check_invariants()?;
        let views = acd.agents();
        for v in &views {
            let seen = self
                .state
                .get(&v.id)
                .copied()
                .unwrap_or((AgentState::LoggedOut, None));
            if seen != (v.status.state(), v.status.reason()) {
                return Err(format!(
                    "{}: actions say {seen:?}, ACD {:?}",
                    v.id, v.status
                ));
            }
        }
        for (agent, call) in &self.open {
            let v = views
                .iter()
                .find(|v| &v.id == agent)
                .ok_or(format!("{agent} rings but is gone"))?;
            if v.status != crate::AgentStatus::Ringing(*call) || !v.reachable {
                return Err(format!("{agent} should ring {call:?}: {v:?}"));
            }
        }
        for (agent, state) in &self.state {
            if !views.iter().any(|v| &v.id == agent) && state.0 != AgentState::LoggedOut {
                return Err(format!(
                    "{agent} was removed without a change to logged out"
                ));
            }
        }
        Ok(())
    }
}
