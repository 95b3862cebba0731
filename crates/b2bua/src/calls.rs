//! The live calls, and the part of the owner indexes that follows from them. A call's
//! legs (its INVITE transactions) and dialogs are indexed from the call itself after each
//! step of the machine ([`Core::reindex`]), never by hand in the handlers: any handler that
//! could change a call borrows it through [`Calls::get_mut`], which marks it for reindexing.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;

use hotline_acd::CallRef;
use hotline_sip::transaction::TxId;

use crate::call::Call;
use crate::core::{Core, Side};
use crate::owners::{DialogOwner, TxOwner};

/// The live calls by reference, with the ones changed since the last reindex.
#[derive(Default)]
pub(crate) struct Calls {
    map: HashMap<CallRef, Call>,
    changed: HashSet<CallRef>,
    /// What each call was last indexed under, to take it out again.
    indexed: HashMap<CallRef, Indexed>,
}

/// The index keys of one call.
#[derive(Default)]
struct Indexed {
    legs: Vec<(TxId, Side)>,
    dialogs: Vec<(String, Side)>,
}

impl Deref for Calls {
    type Target = HashMap<CallRef, Call>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl Calls {
    /// A call, to change (it is reindexed after this step).
    pub fn get_mut(&mut self, call: &CallRef) -> Option<&mut Call> {
        let c = self.map.get_mut(call)?;
        self.changed.insert(*call);
        Some(c)
    }

    /// A new call.
    pub fn insert(&mut self, call: CallRef, c: Call) {
        self.changed.insert(call);
        self.map.insert(call, c);
    }

    /// A call taken out (it ended, or was merged into another).
    pub fn remove(&mut self, call: &CallRef) -> Option<Call> {
        self.changed.insert(*call);
        self.map.remove(call)
    }
}

/// The index keys a call's state gives: its caller's INVITE and dialog, each ringing leg's,
/// and the connected party's.
fn keys_of(c: &Call) -> Indexed {
    let mut k = Indexed::default();
    k.legs.push((c.caller.tx, Side::Caller));
    k.dialogs.push((c.caller.sip_call_id.clone(), Side::Caller));
    for leg in &c.ringing {
        k.legs.push((leg.tx, Side::Agent));
        k.dialogs.push((leg.sip_call_id.clone(), Side::Agent));
    }
    if let Some(t) = c.talking() {
        k.legs.push((t.agent_tx, Side::Agent));
        k.dialogs.push((t.agent_sip_call_id.clone(), Side::Agent));
    }
    k
}

impl Core {
    /// Brings the owner indexes in line with every call changed since the last time: what
    /// a call no longer has leaves the index, what it has now enters it.
    pub(crate) fn reindex(&mut self) {
        if self.calls.changed.is_empty() {
            return;
        }
        let changed: Vec<CallRef> = self.calls.changed.drain().collect();
        // Out first, for all: a dialog moved from one call to another (an attended
        // transfer) must end up with the call that has it now.
        for call in &changed {
            let Some(old) = self.calls.indexed.remove(call) else {
                continue;
            };
            for (tx, side) in old.legs {
                if self.owners.leg(tx) == Some((*call, side)) {
                    self.owners.remove_leg(tx);
                }
            }
            for (id, side) in old.dialogs {
                if self.dialogs.call(&id) == Some((*call, side)) {
                    self.dialogs.remove_call(&id);
                }
            }
        }
        for call in changed {
            let Some(c) = self.calls.map.get(&call) else {
                continue;
            };
            let keys = keys_of(c);
            for (tx, side) in &keys.legs {
                self.owners.insert(*tx, TxOwner::Leg(call, *side));
            }
            for (id, side) in &keys.dialogs {
                self.dialogs
                    .insert(id.clone(), DialogOwner::Call(call, *side));
            }
            self.calls.indexed.insert(call, keys);
        }
    }
}
