//! The agents, with the indexes the distribution asks at every step: who can be rung now in
//! each queue, who belongs to each queue, and who comes back by themselves when (the end of
//! wrap-up, an auto-resumed pause). Scanning every agent on every event cost the call
//! machine most of its time with thousands of agents (BENCHMARKS.md, "The ACD with thousands
//! of agents"); with the indexes an event costs what the agents it touches cost.
//!
//! The ringable agents are also indexed by how long they have been free, so that the usual
//! strategy (longest idle) finds its agent without looking at every free one.
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
struct Filing {
    queue: QueueId,
    ringable: bool,
    idle_since: Instant,
    back_at: Option<Instant>,
}

impl Filing {
    /// Where `a` belongs in the indexes as the agent is now.
    fn of(a: &Agent) -> Filing {
        Filing {
            queue: a.queue.clone(),
            ringable: a.can_ring(),
            idle_since: a.idle_since,
            back_at: a.back_by_itself_at(),
        }
    }
}

/// Every agent by number, and the indexes over them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Roster {
    /// The agents, each in a slot that stays theirs while they are known, so that the
    /// indexes reach them without a search by number.
    slots: Vec<Option<Slot>>,
    /// Slots no agent holds.
    free_slots: Vec<usize>,
    /// Each agent's slot, by number.
    by_id: BTreeMap<AgentId, usize>,
    /// Slots handed out for change since the indexes were last brought up to date.
    changed: Vec<usize>,
    /// Agents who may be offered a call now, by queue, by number.
    ringable: BTreeMap<QueueId, BTreeMap<AgentId, usize>>,
    /// Agents in `ringable`, over every queue.
    ringable_count: usize,
    /// The same agents by queue, longest free first (then by number).
    ringable_by_idle: BTreeMap<QueueId, BTreeSet<(Instant, AgentId, usize)>>,
    /// Every agent, by queue.
    members: BTreeMap<QueueId, BTreeMap<AgentId, usize>>,
    /// When agents come back to available by themselves.
    comebacks: BTreeSet<(Instant, AgentId)>,
}

/// One known agent and where they are filed.
#[derive(Debug, Clone)]
struct Slot {
    id: AgentId,
    agent: Agent,
    filed: Filing,
}

impl Roster {
    /// The agent, to read.
    pub fn get(&self, id: &AgentId) -> Option<&Agent> {
        self.slot(*self.by_id.get(id)?).map(|s| &s.agent)
    }

    /// Whether the agent is known.
    pub fn contains_key(&self, id: &AgentId) -> bool {
        self.by_id.contains_key(id)
    }

    /// The agent, to change: refiled before the next question.
    pub fn get_mut(&mut self, id: &AgentId) -> Option<&mut Agent> {
        let at = *self.by_id.get(id)?;
        self.changed.push(at);
        self.slots
            .get_mut(at)
            .and_then(Option::as_mut)
            .map(|s| &mut s.agent)
    }

    /// Every agent, by number.
    pub fn iter(&self) -> impl Iterator<Item = (&AgentId, &Agent)> + '_ {
        self.by_id
            .values()
            .filter_map(|at| self.slot(*at).map(|s| (&s.id, &s.agent)))
    }

    /// Changes every agent with `f` (the day's counters) and refiles them all.
    pub fn update_all(&mut self, mut f: impl FnMut(&mut Agent)) {
        for (at, slot) in self.slots.iter_mut().enumerate() {
            if let Some(s) = slot {
                f(&mut s.agent);
                self.changed.push(at);
            }
        }
    }

    /// Makes `agent` known as `id`, replacing one of that number.
    pub fn insert(&mut self, id: AgentId, agent: Agent) {
        self.remove(&id);
        let filed = Filing::of(&agent);
        let at = match self.free_slots.pop() {
            Some(at) => at,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        self.file(&id, at, &filed);
        self.by_id.insert(id.clone(), at);
        if let Some(slot) = self.slots.get_mut(at) {
            *slot = Some(Slot { id, agent, filed });
        }
    }

    /// Forgets the agent.
    pub fn remove(&mut self, id: &AgentId) {
        self.settle();
        let Some(at) = self.by_id.remove(id) else {
            return;
        };
        if let Some(s) = self.slots.get_mut(at).and_then(Option::take) {
            self.unfile(&s.id, &s.filed);
            self.free_slots.push(at);
        }
    }

    /// The agent held in slot `at`.
    fn slot(&self, at: usize) -> Option<&Slot> {
        self.slots.get(at).and_then(Option::as_ref)
    }

    /// How many agents may be offered a call now, in every queue.
    pub fn ringable_count(&mut self) -> usize {
        self.settle();
        self.ringable_count
    }

    /// The agents of `queue` who may be offered a call now, by number.
    pub fn ringable_in(&mut self, queue: &QueueId) -> impl Iterator<Item = (&AgentId, &Agent)> {
        self.settle();
        listed(&self.slots, self.ringable.get(queue))
    }

    /// The agents of `queue` who may be offered a call now, longest free first, then by
    /// number.
    pub fn ringable_by_idle_in(
        &mut self,
        queue: &QueueId,
    ) -> impl Iterator<Item = (&AgentId, &Agent)> {
        self.settle();
        let slots = &self.slots;
        self.ringable_by_idle
            .get(queue)
            .into_iter()
            .flatten()
            .filter_map(move |(_, _, at)| slots.get(*at)?.as_ref().map(|s| (&s.id, &s.agent)))
    }

    /// Every agent of `queue`.
    pub fn members_of(&mut self, queue: &QueueId) -> impl Iterator<Item = &Agent> {
        self.settle();
        listed(&self.slots, self.members.get(queue)).map(|(_, a)| a)
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
        #[cfg(test)]
        let had_changes = !self.changed.is_empty();
        while let Some(at) = self.changed.pop() {
            let Some(s) = self.slots.get_mut(at).and_then(Option::as_mut) else {
                continue;
            };
            let fresh = Filing::of(&s.agent);
            if fresh == s.filed {
                continue;
            }
            let was = std::mem::replace(&mut s.filed, fresh.clone());
            let id = s.id.clone();
            self.unfile(&id, &was);
            self.file(&id, at, &fresh);
        }
        // Every question settles first: in tests, each one also proves the indexes exact.
        #[cfg(test)]
        if had_changes {
            if let Err(e) = self.agrees_with_agents() {
                panic!("roster indexes out of step: {e}");
            }
        }
    }

    /// Enters the agent held in slot `at` in the indexes `f` names.
    fn file(&mut self, id: &AgentId, at: usize, f: &Filing) {
        self.members
            .entry(f.queue.clone())
            .or_default()
            .insert(id.clone(), at);
        if f.ringable {
            let before = self
                .ringable
                .entry(f.queue.clone())
                .or_default()
                .insert(id.clone(), at);
            if before.is_none() {
                self.ringable_count += 1;
            }
            self.ringable_by_idle
                .entry(f.queue.clone())
                .or_default()
                .insert((f.idle_since, id.clone(), at));
        }
        if let Some(back) = f.back_at {
            self.comebacks.insert((back, id.clone()));
        }
    }

    /// Takes the agent out of the indexes `f` names.
    fn unfile(&mut self, id: &AgentId, f: &Filing) {
        if let Some(m) = self.members.get_mut(&f.queue) {
            m.remove(id);
        }
        if f.ringable {
            if let Some(r) = self.ringable.get_mut(&f.queue) {
                if let Some(at) = r.remove(id) {
                    self.ringable_count = self.ringable_count.saturating_sub(1);
                    if let Some(by_idle) = self.ringable_by_idle.get_mut(&f.queue) {
                        by_idle.remove(&(f.idle_since, id.clone(), at));
                    }
                }
            }
        }
        if let Some(back) = f.back_at {
            self.comebacks.remove(&(back, id.clone()));
        }
    }

    /// The indexes agree with the agents as they are now (tests).
    #[cfg(test)]
    pub fn check(&self) -> Result<(), String> {
        let mut settled = self.clone();
        settled.settle();
        settled.agrees_with_agents()
    }

    /// The indexes are exactly what the agents, as filed, call for (tests).
    #[cfg(test)]
    fn agrees_with_agents(&self) -> Result<(), String> {
        let mut fresh = Roster::default();
        for (id, a) in self.iter() {
            fresh.insert(id.clone(), a.clone());
        }
        // Slots may differ between the two; who is filed where may not.
        let nonempty = |m: &BTreeMap<QueueId, BTreeMap<AgentId, usize>>| {
            m.iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(q, s)| (q.clone(), s.keys().cloned().collect::<Vec<_>>()))
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
        let by_idle = |r: &Roster| {
            r.ringable_by_idle
                .iter()
                .filter(|(_, s)| !s.is_empty())
                .map(|(q, s)| {
                    (
                        q.clone(),
                        s.iter().map(|(t, id, _)| (*t, id.clone())).collect(),
                    )
                })
                .collect::<Vec<(QueueId, Vec<(Instant, AgentId)>)>>()
        };
        if by_idle(self) != by_idle(&fresh) {
            return Err(format!(
                "idle index {:?}, agents say {:?}",
                self.ringable_by_idle, fresh.ringable_by_idle
            ));
        }
        if nonempty(&self.members) != nonempty(&fresh.members) {
            return Err(format!(
                "members index {:?}, agents say {:?}",
                self.members, fresh.members
            ));
        }
        for (id, at) in self
            .ringable
            .values()
            .chain(self.members.values())
            .flatten()
        {
            if self.by_id.get(id) != Some(at) {
                return Err(format!(
                    "{id} is filed at slot {at}, held in {:?}",
                    self.by_id.get(id)
                ));
            }
        }
        for s in self.slots.iter().flatten() {
            let pending = self
                .by_id
                .get(&s.id)
                .is_some_and(|at| self.changed.contains(at));
            if s.filed != Filing::of(&s.agent) && !pending {
                return Err(format!(
                    "{} is filed as {:?}, not as it is now",
                    s.id, s.filed
                ));
            }
        }
        for (id, at) in &self.by_id {
            if self.slot(*at).is_none_or(|s| &s.id != id) {
                return Err(format!("{id} is not in slot {at}"));
            }
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

/// The agents an index lists (by number), read from their slots.
fn listed<'a>(
    slots: &'a [Option<Slot>],
    index: Option<&'a BTreeMap<AgentId, usize>>,
) -> impl Iterator<Item = (&'a AgentId, &'a Agent)> {
    index
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(move |at| slots.get(*at)?.as_ref().map(|s| (&s.id, &s.agent)))
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
