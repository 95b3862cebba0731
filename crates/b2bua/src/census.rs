//! What the machine holds, counted and cross-checked: for tests (nothing is left once every
//! call has ended; no index entry points at a call that is gone) and, later, for metrics.

use std::collections::HashSet;

use hotline_acd::{AgentStatus, CallRef};

use crate::core::{Core, Side};
use crate::owners::{DialogOwner, TxOwner};

/// The sizes of the machine's maps and what is wrong between them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Calls alive.
    pub calls: usize,
    /// Phones' own calls to the switch alive (feature codes, monitoring).
    pub sessions: usize,
    /// Voice prompts being recorded from phones.
    pub takes: usize,
    /// SIP transactions alive.
    pub transactions: usize,
    /// Transactions with an owner.
    pub tx_owners: usize,
    /// Dialogs with an owner.
    pub dialog_owners: usize,
    /// Menu deadlines queued (stale ones included).
    pub menu_timers: usize,
    /// ACKs kept for retransmitted 2xx.
    pub sent_acks: usize,
    /// What is wrong, one line each: an index entry whose call or session is gone, a live
    /// call whose leg is not indexed, an agent the ACD has on a call that is gone.
    pub faults: Vec<String>,
}

impl Census {
    /// Whether the machine holds nothing for any call: what every map must come back to.
    pub fn is_idle(&self) -> bool {
        self.calls == 0
            && self.sessions == 0
            && self.takes == 0
            && self.tx_owners == 0
            && self.dialog_owners == 0
            && self.menu_timers == 0
            && self.faults.is_empty()
    }
}

impl Core {
    /// Counts and cross-checks what the machine holds.
    pub fn census(&self) -> Census {
        let mut faults = Vec::new();
        let call = |c: &CallRef| self.calls.contains_key(c);
        let session = |c: &CallRef| self.sessions.contains_key(c);
        for (tx, owner) in self.owners.iter() {
            let alive = match owner {
                TxOwner::Leg(c, _) | TxOwner::Reinvite(c) => call(c),
                TxOwner::Keepalive(c, _, _) => call(c) || session(c),
                TxOwner::Orphan(_) | TxOwner::RingingPhone(_) => true,
            };
            if !alive {
                faults.push(format!("transaction {tx:?} belongs to a call that is gone"));
            }
        }
        for (id, owner) in self.dialogs.iter() {
            let alive = match owner {
                DialogOwner::Call(c, _) => call(&c),
                DialogOwner::Session(s) => session(&s),
            };
            if !alive {
                faults.push(format!("dialog {id} belongs to a call that is gone"));
            }
        }
        for (r, c) in self.calls.iter() {
            let mut legs = vec![(c.caller.tx, Side::Caller)];
            legs.extend(c.ringing.iter().map(|l| (l.tx, Side::Agent)));
            legs.extend(c.talking().into_iter().map(|t| (t.agent_tx, Side::Agent)));
            for (tx, side) in legs {
                if self.owners.leg(tx) != Some((*r, side)) {
                    faults.push(format!("{}: leg {tx:?} ({side:?}) is not indexed", c.id));
                }
            }
            if self.dialogs.call(&c.caller.sip_call_id) != Some((*r, Side::Caller)) {
                faults.push(format!("{}: the caller's dialog is not indexed", c.id));
            }
        }
        let live: HashSet<CallRef> = self.calls.keys().copied().collect();
        for agent in self.acd.agents() {
            let on = match agent.status {
                AgentStatus::Ringing(c)
                | AgentStatus::RingingDirectly(c)
                | AgentStatus::Talking(c) => Some(c),
                _ => None,
            };
            if let Some(c) = on.filter(|c| !live.contains(c)) {
                faults.push(format!(
                    "agent {} is on call {c:?}, which is gone",
                    agent.id.0
                ));
            }
        }
        Census {
            calls: self.calls.len(),
            sessions: self.sessions.len(),
            takes: self.takes.len(),
            transactions: self.endpoint.len(),
            tx_owners: self.owners.len(),
            dialog_owners: self.dialogs.len(),
            menu_timers: self.ivr_timers.len(),
            sent_acks: self.sent_acks.len(),
            faults,
        }
    }
}
