//! The agents, with the indexes the distribution asks at every step: who can be rung now in
//! each queue, who belongs to each queue, and who comes back by themselves when (the end of
//! wrap-up, an auto-resumed pause). Scanning every agent on every event cost the call
//! machine most of its time with thousands of agents (BENCHMARKS.md, "The ACD with thousands
//! of agents"); with the indexes an event costs what the agents it touches cost.
//!
//! Every change to an agent goes through [`Roster::get_mut`], which notes the agent as
//! changed; the indexes are brought up to date before any question is answered, so they
//! can never be asked while stale.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::agent::{Agent, AgentId};
use crate::call::QueueId;

/// Where an agent is filed in the indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filing {
    queue: QueueId,
    ringable: bool,
    back_at: Option<Instant>,
}

impl Filing {
    fn of(a: &Agent) -> Filing {
        Filing {
            queue: a.queue.clone(),
            ringable: a.can_ring(),
            back_at: a.back_by_itself_at(),
        }
    }
}

/// Every agent by number, and the indexes over them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roster {
    agents: BTreeMap<AgentId, (Agent, Filing)>,
    /// Agents handed out for change since the indexes were last brought up to date.
    changed: Vec<AgentId>,
    /// Agents who may be offered a call now, by queue.
    ringable: BTreeMap<QueueId, BTreeSet<AgentId>>,
    ringable_count: usize,
    /// Every agent, by queue.
    members: BTreeMap<QueueId, BTreeSet<AgentId>>,
    /// When agents come back to available by themselves.
    comebacks: BTreeSet<(Instant, AgentId)>,
}

impl Roster {
    /// The agent, to read.
    pub fn get(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id).map(|(a, _)| a)
    }

    /// Whether the agent is known.
    pub fn contains_key(&self, id: &AgentId) -> bool {
        self.agents.contains_key(id)
    }

    /// The agent, to change: refiled before the next question.
    pub fn get_mut(&mut self, id: &AgentId) -> Option<&mut Agent> {
        let (a, _) = self.agents.get_mut(id)?;
        self.changed.push(id.clone());
        Some(a)
    }

    /// Every agent, by number.
    pub fn iter(&self) -> impl Iterator<Item = (&AgentId, &Agent)> + '_ {
        self.agents.iter().map(|(id, (a, _))| (id, a))
    }

    /// Changes every agent with `f` (the day's counters) and refiles them all.
    pub fn update_all(&mut self, mut f: impl FnMut(&mut Agent)) {
        for (id, (a, _)) in self.agents.iter_mut() {
            f(a);
            self.changed.push(id.clone());
        }
    }

    /// Makes `agent` known as `id`, replacing one of that number.
    pub fn insert(&mut self, id: AgentId, agent: Agent) {
        self.remove(&id);
        let filing = Filing::of(&agent);
        self.file(&id, &filing);
        self.agents.insert(id, (agent, filing));
    }

    /// Forgets the agent.
    pub fn remove(&mut self, id: &AgentId) {
        self.settle();
        if let Some((_, filing)) = self.agents.remove(id) {
            self.unfile(id, &filing);
        }
    }

    /// How many agents may be offered a call now, in every queue.
    pub fn ringable_count(&mut self) -> usize {
        self.settle();
        self.ringable_count
    }

    /// The agents of `queue` who may be offered a call now, by number.
    pub fn ringable_in(&mut self, queue: &QueueId) -> impl Iterator<Item = (&AgentId, &Agent)> {
        self.settle();
        let agents = &self.agents;
        self.ringable
            .get(queue)
            .into_iter()
            .flatten()
            .filter_map(move |id| agents.get_key_value(id).map(|(id, (a, _))| (id, a)))
    }

    /// Every agent of `queue`.
    pub fn members_of(&mut self, queue: &QueueId) -> impl Iterator<Item = &Agent> {
        self.settle();
        let agents = &self.agents;
        self.members
            .get(queue)
            .into_iter()
            .flatten()
            .filter_map(move |id| agents.get(id).map(|(a, _)| a))
    }

    /// When an agent next comes back by themselves.
    pub fn next_comeback(&mut self) -> Option<Instant> {
        self.settle();
        self.comebacks.first().map(|(at, _)| *at)
    }

    /// The agents who come back by themselves at `now` or before, by number.
    pub fn comebacks_due(&mut self, now: Instant) -> Vec<AgentId> {
        self.settle();
        let mut due: Vec<AgentId> = self
            .comebacks
            .iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(_, id)| id.clone())
            .collect();
        due.sort();
        due
    }

    /// Refiles every agent changed since the last question.
    fn settle(&mut self) {
        while let Some(id) = self.changed.pop() {
            let Some((a, filed)) = self.agents.get_mut(&id) else {
                continue;
            };
            let now = Filing::of(a);
            if now == *filed {
                continue;
            }
            let was = std::mem::replace(filed, now.clone());
            self.unfile(&id, &was);
            self.file(&id, &now);
        }
    }

    fn file(&mut self, id: &AgentId, f: &Filing) {
        self.members
            .entry(f.queue.clone())
            .or_default()
            .insert(id.clone());
        if f.ringable {
            self.ringable
                .entry(f.queue.clone())
                .or_default()
                .insert(id.clone());
            self.ringable_count += 1;
        }
        if let Some(at) = f.back_at {
            self.comebacks.insert((at, id.clone()));
        }
    }

    fn unfile(&mut self, id: &AgentId, f: &Filing) {
        if let Some(m) = self.members.get_mut(&f.queue) {
            m.remove(id);
        }
        if f.ringable {
            if let Some(r) = self.ringable.get_mut(&f.queue) {
                if r.remove(id) {
                    self.ringable_count = self.ringable_count.saturating_sub(1);
                }
            }
        }
        if let Some(at) = f.back_at {
            self.comebacks.remove(&(at, id.clone()));
        }
    }

    /// The indexes agree with the agents as they are now (tests).
    #[cfg(test)]
    pub fn check(&self) -> Result<(), String> {
        let mut settled = self.clone();
        settled.settle();
        settled.agrees_with_agents()
    }

    #[cfg(test)]
    fn agrees_with_agents(&self) -> Result<(), String> {
        let mut fresh = Roster::default();
        for (id, (a, _)) in &self.agents {
            fresh.insert(id.clone(), a.clone());
        }
        let nonempty = |m: &BTreeMap<QueueId, BTreeSet<AgentId>>| {
            m.iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(q, s)| (q.clone(), s.clone()))
                .collect::<Vec<_>>()
        };
        if nonempty(&self.ringable) != nonempty(&fresh.ringable)
            || self.ringable_count != fresh.ringable_count
        {
            return Err(format!(
                "ringable index {:?} ({}), agents say {:?}",
                self.ringable, self.ringable_count, fresh.ringable
            ));
        }
        if nonempty(&self.members) != nonempty(&fresh.members) {
            return Err(format!("members index {:?}, agents say {:?}", self.members, fresh.members));
        }
        if self.comebacks != fresh.comebacks {
            return Err(format!(
                "comebacks index {:?}, agents say {:?}",
                self.comebacks, fresh.comebacks
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::agent::AgentStatus;

    fn q(name: &str) -> QueueId {
        QueueId(name.into())
    }

    #[test]
    fn a_changed_agent_is_refiled_before_the_next_question() {
        let t0 = Instant::now();
        let mut r = Roster::default();
        let id = AgentId("1001".into());
        r.insert(id.clone(), Agent::new(t0, q("luoyang")));
        assert_eq!(r.ringable_count(), 0, "logged out, unreachable");
        if let Some(a) = r.get_mut(&id) {
            a.reachable = true;
            a.status = AgentStatus::Available;
        }
        assert_eq!(r.ringable_in(&q("luoyang")).count(), 1);
        assert_eq!(r.ringable_count(), 1);
        let until = t0 + Duration::from_secs(20);
        if let Some(a) = r.get_mut(&id) {
            a.status = AgentStatus::WrapUp { until };
        }
        assert_eq!(r.ringable_count(), 0);
        assert_eq!(r.next_comeback(), Some(until));
        assert!(r.comebacks_due(t0).is_empty());
        assert_eq!(r.comebacks_due(until), vec![id.clone()]);
        if let Some(a) = r.get_mut(&id) {
            a.queue = q("centre");
        }
        assert_eq!(r.members_of(&q("luoyang")).count(), 0);
        assert_eq!(r.members_of(&q("centre")).count(), 1);
        r.check().unwrap();
        r.remove(&id);
        assert_eq!(r.next_comeback(), None);
        assert_eq!(r.members_of(&q("centre")).count(), 0);
        r.check().unwrap();
    }
}
