//! Which of the eligible agents rings: the distribution strategies a queue can use, applied
//! after the skill rule (the best skill level among the eligible agents goes first).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::agent::{Agent, AgentId};
use crate::call::QueueId;

/// How a queue chooses among equally skilled available agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The agent free for longest (fairness; the default).
    #[default]
    LongestIdle,
    /// The next agent after the one rung last, in agent-number order (round robin with memory).
    RoundRobin,
    /// The agent who answered fewest calls today.
    FewestCalls,
    /// The agent with the least talk time today.
    LeastTalkTime,
    /// Always in the same fixed order (the dialplan's order).
    Linear,
    /// Any of them, at random.
    Random,
    /// At random over every eligible level, weighted towards the better levels.
    WeightedByLevel,
    /// Every free agent of the best level at once; the first to answer takes the call.
    /// Agents of that level (or better) who become free while it rings join in.
    RingAll,
}

impl Strategy {
    /// Every strategy, by its dialplan name.
    pub const NAMED: [(&'static str, Strategy); 8] = [
        ("longest-idle", Strategy::LongestIdle),
        ("round-robin", Strategy::RoundRobin),
        ("fewest-calls", Strategy::FewestCalls),
        ("least-talk-time", Strategy::LeastTalkTime),
        ("ring-all", Strategy::RingAll),
        ("linear", Strategy::Linear),
        ("random", Strategy::Random),
        ("weighted-by-level", Strategy::WeightedByLevel),
    ];

    /// The strategy a dialplan names; `None` for a name it does not know.
    pub fn named(name: &str) -> Option<Strategy> {
        Strategy::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }
}

/// An available agent who may take the call, and at which skill level (1 best … 5).
pub(crate) struct Candidate<'a> {
    pub id: &'a AgentId,
    pub agent: &'a Agent,
    pub level: u8,
}

/// What strategies remember between calls.
#[derive(Debug, Default)]
pub(crate) struct Memory {
    last_rung: HashMap<QueueId, AgentId>,
    rng: u64,
}

impl Memory {
    pub fn seeded(seed: u64) -> Memory {
        Memory {
            last_rung: HashMap::new(),
            rng: seed | 1,
        }
    }

    /// xorshift64: deterministic for tests, good enough to spread calls.
    fn next(&mut self) -> u64 {
        let mut x = self.rng.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    /// Chooses whom to ring for a call of `queue`: one candidate, or with ring-all every
    /// candidate of the best level.
    pub fn choose(
        &mut self,
        strategy: Strategy,
        queue: &QueueId,
        now: Instant,
        candidates: &[Candidate],
    ) -> Vec<AgentId> {
        let Some(best) = candidates.iter().map(|c| c.level).min() else {
            return Vec::new();
        };
        let top: Vec<&Candidate> = candidates.iter().filter(|c| c.level == best).collect();
        let chosen = match strategy {
            Strategy::RingAll => return top.iter().map(|c| c.id.clone()).collect(),
            Strategy::LongestIdle => top
                .iter()
                .min_by_key(|c| (c.agent.idle_since, c.id))
                .map(|c| c.id.clone()),
            Strategy::FewestCalls => top
                .iter()
                .min_by_key(|c| (c.agent.calls_today, c.agent.idle_since, c.id))
                .map(|c| c.id.clone()),
            Strategy::LeastTalkTime => top
                .iter()
                .min_by_key(|c| (talk_so_far(c.agent, now), c.agent.idle_since, c.id))
                .map(|c| c.id.clone()),
            Strategy::Linear => top
                .iter()
                .min_by_key(|c| (c.agent.order, c.id))
                .map(|c| c.id.clone()),
            Strategy::RoundRobin => {
                // The next agent by number after the one rung last, round to the first.
                let last = self.last_rung.get(queue);
                let next = top
                    .iter()
                    .map(|c| c.id)
                    .filter(|id| last.is_none_or(|l| *id > l))
                    .min()
                    .or_else(|| top.iter().map(|c| c.id).min())
                    .cloned();
                if let Some(id) = &next {
                    self.last_rung.insert(queue.clone(), id.clone());
                }
                next
            }
            Strategy::Random => {
                let n = top.len() as u64;
                let pick = (self.next() % n.max(1)) as usize;
                top.get(pick).map(|c| c.id.clone())
            }
            Strategy::WeightedByLevel => {
                // Level 1 weighs 5, level 5 weighs 1.
                let weight = |c: &Candidate| u64::from(6u8.saturating_sub(c.level).max(1));
                let total: u64 = candidates.iter().map(weight).sum();
                let mut roll = self.next() % total.max(1);
                candidates
                    .iter()
                    .find(|c| {
                        let w = weight(c);
                        if roll < w {
                            true
                        } else {
                            roll -= w;
                            false
                        }
                    })
                    .map(|c| c.id.clone())
            }
        };
        chosen.into_iter().collect()
    }
}

fn talk_so_far(agent: &Agent, now: Instant) -> Duration {
    agent.talk_today
        + agent
            .talk_started
            .map_or(Duration::ZERO, |t| now.saturating_duration_since(t))
}

#[cfg(test)]
#[path = "strategy_tests.rs"]
mod tests;
