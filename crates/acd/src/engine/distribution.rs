//! Distribution: which waiting call is offered to which agents, and when a call overflows to
//! the provincial centre's queue.

use std::time::Instant;

use super::roster::Roster;
use super::{Acd, Action, QueueConfig};
use crate::agent::{AgentId, AgentStatus};
use crate::call::{CallRef, QueueId, WaitingCall};
use crate::later;
use crate::strategy::{Candidate, Strategy};

impl Acd {
    /// Offers every waiting call that can be offered, oldest first.
    pub(super) fn dispatch(&mut self, now: Instant) {
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
        // With every agent busy (the queue's usual state at the peak) nobody is picked:
        // the calls only get their overflow checked.
        let mut free = self.agents.ringable_count();
        for id in ids {
            self.check_overflow(now, id);
            if free == 0 {
                continue;
            }
            let Some(call) = self.calls.get(&id) else {
                continue;
            };
            let Some(cfg) = self.queues.get(&call.queue) else {
                continue;
            };
            // Ring-all keeps adding agents who become free; the others ring one at a time.
            if cfg.strategy != Strategy::RingAll && !call.ringing.is_empty() {
                continue;
            }
            let until = later(now, cfg.ring_timeout);
            for agent in self.pick_agents(now, id) {
                free = free.saturating_sub(1);
                // Ringing before the next call is dispatched, so no agent rings for two.
                self.set_status(now, &agent, AgentStatus::Ringing(id));
                if let Some(c) = self.calls.get_mut(&id) {
                    c.ringing.insert(agent.clone(), until);
                }
                self.actions.push_back(Action::Offer { call: id, agent });
            }
        }
    }

    pub(super) fn check_overflow(&mut self, now: Instant, id: CallRef) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.overflowed {
            return;
        }
        let Some(q) = self.queues.get(&call.queue) else {
            return;
        };
        let Some(to) = q.overflow_to.clone() else {
            return;
        };
        let due = now >= later(call.arrived, q.overflow_after);
        if due || !queue_can_take(&mut self.agents, &call.queue, call.skill.as_deref()) {
            self.mark_overflowed(id, to);
        }
    }

    pub(super) fn mark_overflowed(&mut self, id: CallRef, to: QueueId) {
        if let Some(c) = self.calls.get_mut(&id) {
            c.overflowed = true;
            self.actions.push_back(Action::Overflowed { call: id, to });
        }
    }

    /// The agents to ring for a call: among the free, reachable agents of its queue (failing
    /// that, of the overflow queue) who have the call's skill, the best level first (only the
    /// queue's first levels until the call has waited `widen_after`), then the strategy.
    pub(super) fn pick_agents(&mut self, now: Instant, id: CallRef) -> Vec<AgentId> {
        let Some(call) = self.calls.get(&id) else {
            return Vec::new();
        };
        let Some(cfg) = self.queues.get(&call.queue) else {
            return Vec::new();
        };
        let max_level = if call.widened {
            5
        } else {
            cfg.first_levels.clamp(1, 5)
        };
        // Ring-all: agents joining a call that already rings do so only at the level of
        // those ringing or better, as if they had been free when it started.
        let ringing_level = call
            .ringing
            .keys()
            .filter_map(|r| self.agents.get(r)?.level_for(call.skill.as_deref()))
            .min()
            .unwrap_or(5);
        let max_level = max_level.min(ringing_level);
        if cfg.strategy == Strategy::LongestIdle {
            if let Some(first) = longest_idle(&mut self.agents, call, cfg, now, max_level) {
                #[cfg(test)]
                {
                    let (call, cfg) = (call.clone(), cfg.clone());
                    let all = eligible(&mut self.agents, &call.queue, &call, &cfg, now, max_level);
                    let slow = self.memory.choose(cfg.strategy, &call.queue, now, &all);
                    assert_eq!(
                        slow,
                        vec![first.clone()],
                        "the idle index picks as the scan"
                    );
                }
                return vec![first];
            }
        }
        let overflow = call.overflowed.then(|| cfg.overflow_to.clone()).flatten();
        let candidates = eligible(&mut self.agents, &call.queue, call, cfg, now, max_level);
        let candidates = match overflow {
            Some(to) if candidates.is_empty() => {
                eligible(&mut self.agents, &to, call, cfg, now, max_level)
            }
            _ => candidates,
        };
        let (strategy, queue) = (cfg.strategy, call.queue.clone());
        self.memory.choose(strategy, &queue, now, &candidates)
    }
}

/// Whether some logged-in agent of `queue` could ever take a call of `skill`: when none can,
/// the call goes to the overflow queue at once instead of waiting for nobody.
fn queue_can_take(roster: &mut Roster, queue: &QueueId, skill: Option<&str>) -> bool {
    roster
        .members_of(queue)
        .any(|a| a.reachable && a.is_logged_in() && a.level_for(skill).is_some())
}

/// Longest idle, the usual strategy, in one pass over the queue's free agents in the order
/// they became free: the first eligible agent seen at the best level is the one the
/// strategy picks, and one at level 1 ends the pass, as no level is better. `None` when
/// the queue has no eligible agent (the overflow queue is then looked at by the full scan).
fn longest_idle(
    roster: &mut Roster,
    call: &WaitingCall,
    cfg: &QueueConfig,
    now: Instant,
    max_level: u8,
) -> Option<AgentId> {
    let mut best: Option<(u8, &AgentId)> = None;
    for (aid, a) in roster.ringable_by_idle_in(&call.queue) {
        let tried_lately = call
            .tried
            .get(aid)
            .is_some_and(|at| now < later(*at, cfg.ring_timeout));
        let Some(level) = a.level_for(call.skill.as_deref()) else {
            continue;
        };
        if tried_lately || level > max_level {
            continue;
        }
        if best.is_none_or(|(b, _)| level < b) {
            best = Some((level, aid));
            if level == 1 {
                break;
            }
        }
    }
    best.map(|(_, id)| id.clone())
}

/// The free, reachable agents of `queue` with the call's skill at `max_level` or better who
/// were not tried for it within one ring timeout.
fn eligible<'a>(
    roster: &'a mut Roster,
    queue: &QueueId,
    call: &WaitingCall,
    cfg: &QueueConfig,
    now: Instant,
    max_level: u8,
) -> Vec<Candidate<'a>> {
    roster
        .ringable_in(queue)
        .filter(|(aid, _)| {
            // Most calls have tried nobody yet: no lookup for them.
            call.tried.is_empty()
                || call
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
}
