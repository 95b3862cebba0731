//! Who each of the switch's transactions and dialogs belongs to: one index of owners for
//! each, so a transaction or dialog has exactly one, and an event on it goes to that owner by
//! one lookup rather than by probing a map per kind in some order.
//!
//! A call's own entries (its legs' INVITEs, its dialogs) follow from the call and are put in
//! and taken out by the machine after each step (`Core::reindex`). What lives only in the
//! index is added and removed where it begins and ends: a withdrawn INVITE, a keep-alive, a
//! re-INVITE moving a consulted party, a supervisor's phone being rung, a phone's session.

use std::collections::HashMap;

use hotline_acd::CallRef;
use hotline_sip::transaction::TxId;

use crate::call::OrphanLeg;
use crate::call::RingingPhone;
use crate::core::Side;

/// The owner of one transaction.
pub(crate) enum TxOwner {
    /// A leg of a call: the caller's INVITE, or an INVITE ringing an agent or a trunk.
    Leg(CallRef, Side),
    /// An agent's INVITE withdrawn from its call (CANCELled), still waiting for its end.
    Orphan(OrphanLeg),
    /// An in-dialog OPTIONS asking whether a leg's phone is still there; the dialog's
    /// Call-ID, since after a transfer the same side is someone else.
    Keepalive(CallRef, Side, String),
    /// The re-INVITE moving a consulted party onto a call (attended transfer).
    Reinvite(CallRef),
    /// A desk phone the switch rings for itself (monitoring, a prompt recording).
    RingingPhone(RingingPhone),
}

/// The index of transactions' owners.
#[derive(Default)]
pub(crate) struct TxOwners {
    by_tx: HashMap<TxId, TxOwner>,
}

impl TxOwners {
    /// `tx` belongs to `owner` from now on.
    pub(crate) fn insert(&mut self, tx: TxId, owner: TxOwner) {
        self.by_tx.insert(tx, owner);
    }

    /// The owner of `tx`.
    pub(crate) fn get(&self, tx: TxId) -> Option<&TxOwner> {
        self.by_tx.get(&tx)
    }

    /// The call and side `tx` is a leg of.
    pub(crate) fn leg(&self, tx: TxId) -> Option<(CallRef, Side)> {
        match self.by_tx.get(&tx) {
            Some(TxOwner::Leg(call, side)) => Some((*call, *side)),
            _ => None,
        }
    }

    /// Forgets `tx` if it is a call's leg.
    pub(crate) fn remove_leg(&mut self, tx: TxId) -> Option<(CallRef, Side)> {
        let leg = self.leg(tx)?;
        self.by_tx.remove(&tx);
        Some(leg)
    }

    /// The withdrawn INVITE `tx` is.
    pub(crate) fn orphan_mut(&mut self, tx: TxId) -> Option<&mut OrphanLeg> {
        match self.by_tx.get_mut(&tx) {
            Some(TxOwner::Orphan(o)) => Some(o),
            _ => None,
        }
    }

    /// Forgets `tx` if it is a withdrawn INVITE.
    pub(crate) fn remove_orphan(&mut self, tx: TxId) -> Option<OrphanLeg> {
        match self.by_tx.remove(&tx) {
            Some(TxOwner::Orphan(o)) => Some(o),
            Some(other) => {
                self.by_tx.insert(tx, other);
                None
            }
            None => None,
        }
    }

    /// The withdrawn INVITEs, for collecting the old ones.
    pub(crate) fn orphans(&self) -> impl Iterator<Item = (TxId, &OrphanLeg)> {
        self.by_tx.iter().filter_map(|(tx, o)| match o {
            TxOwner::Orphan(o) => Some((*tx, o)),
            _ => None,
        })
    }

    /// Forgets `tx` if it is a keep-alive: its call, side and dialog.
    pub(crate) fn remove_keepalive(&mut self, tx: TxId) -> Option<(CallRef, Side, String)> {
        match self.by_tx.remove(&tx) {
            Some(TxOwner::Keepalive(call, side, dialog)) => Some((call, side, dialog)),
            Some(other) => {
                self.by_tx.insert(tx, other);
                None
            }
            None => None,
        }
    }

    /// Forgets the keep-alives and re-INVITEs of a call or session that has ended: their
    /// answers, if any come, find no owner and are dropped, as they would be by the call.
    pub(crate) fn forget(&mut self, call: CallRef) {
        self.by_tx.retain(|_, o| match o {
            TxOwner::Keepalive(c, _, _) | TxOwner::Reinvite(c) => *c != call,
            _ => true,
        });
    }

    /// The call `tx` moves a consulted party onto.
    pub(crate) fn reinvite(&self, tx: TxId) -> Option<CallRef> {
        match self.by_tx.get(&tx) {
            Some(TxOwner::Reinvite(call)) => Some(*call),
            _ => None,
        }
    }

    /// Forgets `tx` if it is a re-INVITE moving a consulted party.
    pub(crate) fn remove_reinvite(&mut self, tx: TxId) -> Option<CallRef> {
        let call = self.reinvite(tx)?;
        self.by_tx.remove(&tx);
        Some(call)
    }

    /// The desk phone `tx` rings for the switch.
    pub(crate) fn ringing_phone_mut(&mut self, tx: TxId) -> Option<&mut RingingPhone> {
        match self.by_tx.get_mut(&tx) {
            Some(TxOwner::RingingPhone(p)) => Some(p),
            _ => None,
        }
    }

    /// Forgets `tx` if it rings a desk phone for the switch.
    pub(crate) fn remove_ringing_phone(&mut self, tx: TxId) -> Option<RingingPhone> {
        match self.by_tx.remove(&tx) {
            Some(TxOwner::RingingPhone(p)) => Some(p),
            Some(other) => {
                self.by_tx.insert(tx, other);
                None
            }
            None => None,
        }
    }

    /// The desk phones the switch rings for itself.
    pub(crate) fn ringing_phones(&self) -> impl Iterator<Item = (TxId, &RingingPhone)> {
        self.by_tx.iter().filter_map(|(tx, o)| match o {
            TxOwner::RingingPhone(p) => Some((*tx, p)),
            _ => None,
        })
    }

    /// How many transactions have an owner (tests: nothing is left after calls end).
    pub(crate) fn len(&self) -> usize {
        self.by_tx.len()
    }

    /// Every transaction and its owner.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (TxId, &TxOwner)> {
        self.by_tx.iter().map(|(tx, o)| (*tx, o))
    }
}

/// The owner of one dialog, by its SIP Call-ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogOwner {
    /// A side of a call.
    Call(CallRef, Side),
    /// A phone's call the switch answers itself (feature codes, monitoring).
    Session(CallRef),
}

/// The index of dialogs' owners.
#[derive(Debug, Default)]
pub(crate) struct DialogOwners {
    by_call_id: HashMap<String, DialogOwner>,
}

impl DialogOwners {
    /// The dialog `call_id` belongs to `owner` from now on.
    pub(crate) fn insert(&mut self, call_id: String, owner: DialogOwner) {
        self.by_call_id.insert(call_id, owner);
    }

    /// The owner of the dialog `call_id`.
    pub(crate) fn get(&self, call_id: &str) -> Option<DialogOwner> {
        self.by_call_id.get(call_id).copied()
    }

    /// The call and side the dialog `call_id` is.
    pub(crate) fn call(&self, call_id: &str) -> Option<(CallRef, Side)> {
        match self.get(call_id) {
            Some(DialogOwner::Call(call, side)) => Some((call, side)),
            _ => None,
        }
    }

    /// The session the dialog `call_id` is.
    pub(crate) fn session(&self, call_id: &str) -> Option<CallRef> {
        match self.get(call_id) {
            Some(DialogOwner::Session(s)) => Some(s),
            _ => None,
        }
    }

    /// Forgets the dialog `call_id` if it is a side of a call.
    pub(crate) fn remove_call(&mut self, call_id: &str) {
        if self.call(call_id).is_some() {
            self.by_call_id.remove(call_id);
        }
    }

    /// How many dialogs have an owner.
    pub(crate) fn len(&self) -> usize {
        self.by_call_id.len()
    }

    /// Every dialog and its owner.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, DialogOwner)> {
        self.by_call_id.iter().map(|(id, o)| (id.as_str(), *o))
    }

    /// Forgets the dialog `call_id` if it is a session.
    pub(crate) fn remove_session(&mut self, call_id: &str) {
        if self.session(call_id).is_some() {
            self.by_call_id.remove(call_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_has_one_owner_and_typed_removal_leaves_others_alone() {
        let mut owners = TxOwners::default();
        owners.insert(TxId(1), TxOwner::Leg(CallRef(7), Side::Agent));
        owners.insert(TxId(2), TxOwner::Reinvite(CallRef(7)));
        owners.insert(
            TxId(3),
            TxOwner::Keepalive(CallRef(7), Side::Caller, "a@b".into()),
        );
        assert_eq!(owners.leg(TxId(1)), Some((CallRef(7), Side::Agent)));
        assert_eq!(owners.leg(TxId(2)), None);
        assert!(
            owners.remove_keepalive(TxId(2)).is_none(),
            "not a keep-alive"
        );
        assert_eq!(owners.reinvite(TxId(2)), Some(CallRef(7)));
        assert_eq!(
            owners.remove_keepalive(TxId(3)),
            Some((CallRef(7), Side::Caller, "a@b".to_string()))
        );
        assert_eq!(owners.remove_leg(TxId(1)), Some((CallRef(7), Side::Agent)));
        assert_eq!(owners.remove_reinvite(TxId(2)), Some(CallRef(7)));
        assert_eq!(owners.len(), 0);
    }

    #[test]
    fn a_dialog_has_one_owner_and_typed_removal_leaves_others_alone() {
        let mut dialogs = DialogOwners::default();
        dialogs.insert("a@h".into(), DialogOwner::Call(CallRef(1), Side::Caller));
        dialogs.insert("b@h".into(), DialogOwner::Session(CallRef(2)));
        assert_eq!(dialogs.call("a@h"), Some((CallRef(1), Side::Caller)));
        assert_eq!(dialogs.session("a@h"), None);
        dialogs.remove_session("a@h");
        assert_eq!(dialogs.call("a@h"), Some((CallRef(1), Side::Caller)));
        dialogs.remove_call("b@h");
        assert_eq!(dialogs.session("b@h"), Some(CallRef(2)));
        dialogs.remove_call("a@h");
        dialogs.remove_session("b@h");
        assert_eq!(dialogs.get("a@h"), None);
        assert_eq!(dialogs.get("b@h"), None);
    }
}
