//! The toll-fraud brake on calls out (回访): logged-in agents only, domestic numbers a
//! trunk allows, at most `outbound_per_hour` per agent in any hour.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hotline_acd::AgentStatus;
use hotline_routing::pattern::is_domestic;

use crate::core::Core;

/// Calls out started per agent in the last hour, oldest first.
pub(crate) type CallsOut = std::collections::HashMap<String, VecDeque<Instant>>;

/// How far back the per-agent limit on calls out looks.
const LIMIT_WINDOW: Duration = Duration::from_secs(3600);

impl Core {
    /// Whether `agent` may call `number` out now (toll fraud: logged in, domestic, allowed
    /// by a trunk, under the hourly limit); the trunk to use, or why not.
    pub(crate) fn may_call_out(
        &mut self,
        now: Instant,
        agent: &str,
        number: &str,
    ) -> Result<String, &'static str> {
        let logged_in = !matches!(
            self.acd
                .agent_status(&hotline_acd::AgentId(agent.to_string())),
            None | Some(AgentStatus::LoggedOut)
        );
        if !logged_in {
            return Err("agent not logged in");
        }
        if !is_domestic(number) {
            return Err("not a domestic number");
        }
        let Some(trunk) = self.plan.dialplan.trunk_for(number).map(|t| t.name.clone()) else {
            return Err("no trunk allows the number");
        };
        let limit = self.plan.dialplan.switch.outbound_per_hour as usize;
        if let Some(recent) = self.calls_out.get_mut(agent) {
            while recent
                .front()
                .is_some_and(|t| now.saturating_duration_since(*t) >= LIMIT_WINDOW)
            {
                recent.pop_front();
            }
            if recent.len() >= limit {
                return Err("hourly limit of calls out reached");
            }
        } else if limit == 0 {
            return Err("hourly limit of calls out reached");
        }
        Ok(trunk)
    }

    /// Counts a call out (or a transfer outside) against the agent's hourly limit.
    pub(crate) fn count_call_out(&mut self, now: Instant, agent: &str) {
        self.calls_out
            .entry(agent.to_string())
            .or_default()
            .push_back(now);
    }
}
