//! What the ACD's bookkeeping must always agree on (tests).

use super::Acd;
use crate::agent::{AfterCall, AgentStatus};
use crate::strategy::Strategy;

impl Acd {
    /// The ACD's own bookkeeping agrees with itself: every ringing set matches the agents'
    /// statuses, only ring-all rings several agents, and only a talking agent (logging out
    /// after the call) may have an unreachable phone without being logged out.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) -> Result<(), String> {
        for (id, c) in &self.calls {
            let ring_all = self
                .queues
                .get(&c.queue)
                .is_some_and(|q| q.strategy == Strategy::RingAll);
            if c.ringing.len() > 1 && !ring_all {
                return Err(format!("{id:?} rings {:?}", c.ringing.keys()));
            }
            for agent in c.ringing.keys() {
                if !self.status_is(agent, &AgentStatus::Ringing(*id)) {
                    return Err(format!(
                        "{id:?} rings {agent}, who is {:?}",
                        self.agent_status(agent)
                    ));
                }
            }
        }
        for (id, a) in self.agents.iter() {
            if let AgentStatus::Ringing(call) = a.status {
                if !self
                    .calls
                    .get(&call)
                    .is_some_and(|c| c.ringing.contains_key(id))
                {
                    return Err(format!("{id} rings for {call:?}, which does not ring them"));
                }
            }
            if let AgentStatus::RingingDirectly(call) = a.status {
                if a.rings_directly != Some(call) || a.busy_with != Some(call) {
                    return Err(format!("{id} rings directly for {call:?} unrecorded"));
                }
            }
            if a.status == AgentStatus::Available && a.rings_directly.is_some() {
                return Err(format!("{id} is listed available while their phone rings"));
            }
            let unreachable_ok = match a.status {
                AgentStatus::LoggedOut => true,
                AgentStatus::Talking(_) => a.after_call == Some(AfterCall::LogOut),
                _ => false,
            };
            if !a.reachable && !unreachable_ok {
                return Err(format!("{id} is {:?} with an unreachable phone", a.status));
            }
        }
        self.agents.check()
    }
}
