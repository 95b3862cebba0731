//! Dialog keep-alive: every so often the switch sends OPTIONS inside each leg's dialog of a
//! connected call, and of each phone call it answered itself (a supervisor listening in, a
//! feature code). A peer that answers 481 (it knows no such call: its BYE was lost) or
//! does not answer at all has gone, and the call is ended, so no call, agent, recording or
//! supervisor's seat on a call stays taken for ever.

use std::time::{Duration, Instant};

use crate::notes::note;
use hotline_acd::CallRef;
use hotline_record::HungUpBy;
use hotline_sip::message::Method;
use hotline_sip::transaction::TxId;
use hotline_sip::Response;

use crate::call::Ending;
use crate::core::{Core, Side};
use crate::owners::TxOwner;

impl Core {
    /// Sends one OPTIONS per leg of every call last asked an interval ago.
    pub(crate) fn keepalive_round(&mut self, now: Instant) {
        let every: Duration = self.keepalive_every;
        let due: Vec<CallRef> = self
            .calls
            .iter()
            .filter(|(_, c)| now.saturating_duration_since(c.alive_checked) >= every)
            .map(|(id, _)| *id)
            .collect();
        for call in due {
            if let Some(c) = self.calls.get_mut(&call) {
                c.alive_checked = now;
            }
            for side in [Side::Caller, Side::Agent] {
                self.ping(now, call, side);
            }
        }
        let due: Vec<CallRef> = self
            .sessions
            .iter()
            .filter(|(_, s)| now.saturating_duration_since(s.alive_checked) >= every)
            .map(|(id, _)| *id)
            .collect();
        for session in due {
            self.ping_session(now, session);
        }
    }

    fn ping_session(&mut self, now: Instant, session: CallRef) {
        let Some(s) = self.sessions.get_mut(&session) else {
            return;
        };
        s.alive_checked = now;
        let req = s
            .dialog
            .request(Method::Options, &self.local.via(s.peer.transport));
        let dialog_id = s.dialog.call_id.clone();
        if let Some(tx) = self.endpoint.send_request(now, req, s.peer) {
            self.owners
                .insert(tx, TxOwner::Keepalive(session, Side::Caller, dialog_id));
        }
    }

    fn ping(&mut self, now: Instant, call: CallRef, side: Side) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        use crate::call::Stage;
        let (dialog, peer) = match (side, &mut c.stage) {
            (Side::Agent, Stage::Talking(t))
            | (
                Side::Agent,
                Stage::Menu {
                    talking: Some(t), ..
                },
            ) => (&mut t.agent_dialog, t.agent_peer),
            (Side::Caller, Stage::Talking(t)) => (&mut t.caller_dialog, c.caller.peer),
            (Side::Caller, Stage::Menu { menu, .. }) => (&mut menu.caller_dialog, c.caller.peer),
            (Side::Caller, Stage::Parked(p)) => (&mut p.caller_dialog, c.caller.peer),
            _ => return,
        };
        let req = dialog.request(Method::Options, &self.local.via(peer.transport));
        // Keyed by the dialog too: after a transfer the same side is someone else.
        let dialog_id = dialog.call_id.clone();
        if let Some(tx) = self.endpoint.send_request(now, req, peer) {
            self.owners
                .insert(tx, TxOwner::Keepalive(call, side, dialog_id));
        }
    }

    /// A keep-alive got its answer; returns false if `tx` was no keep-alive.
    pub(crate) fn on_keepalive_response(
        &mut self,
        now: Instant,
        tx: TxId,
        resp: &Response,
    ) -> bool {
        if !matches!(self.owners.get(tx), Some(TxOwner::Keepalive(..))) {
            return false;
        }
        if resp.status < 200 {
            return true;
        }
        if let Some((call, side, dialog)) = self.owners.remove_keepalive(tx) {
            if matches!(resp.status, 481 | 408) {
                self.peer_gone(now, call, side, &dialog);
            }
        }
        true
    }

    /// A keep-alive got no answer at all; returns false if `tx` was no keep-alive.
    pub(crate) fn on_keepalive_timeout(&mut self, now: Instant, tx: TxId) -> bool {
        let Some((call, side, dialog)) = self.owners.remove_keepalive(tx) else {
            return false;
        };
        self.peer_gone(now, call, side, &dialog);
        true
    }

    fn peer_gone(&mut self, now: Instant, call: CallRef, side: Side, dialog: &str) {
        if let Some(s) = self.sessions.get(&call) {
            if s.dialog.call_id == dialog {
                note!(
                    self.notes,
                    Info,
                    s.about.clone(),
                    "the phone of this session is gone; ending it"
                );
                self.end_session(now, call, false);
            }
            return;
        }
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let current = match side {
            Side::Caller => Some(c.caller.sip_call_id.as_str()),
            Side::Agent => c.talking().map(|t| t.agent_sip_call_id.as_str()),
        };
        if current != Some(dialog) {
            // The leg asked about has left (a transfer): nothing to end.
            return;
        }
        note!(
            self.notes,
            Info,
            c.about(),
            "the other end of this leg is gone; ending the call side={:?}",
            side
        );
        match (c.menu().is_some(), side) {
            (true, Side::Agent) => self.menu_agent_hung_up(now, call),
            _ => self.end(now, call, Ending::By(HungUpBy::Switch)),
        }
    }
}
