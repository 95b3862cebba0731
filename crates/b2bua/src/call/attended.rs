//! Attended transfer (咨询转): the consulted party replaces the transferor on the caller's
//! call, moved there by a re-INVITE, and what its answer (or silence) does to the call.

use std::time::Instant;

use crate::notes::note;
use hotline_acd::{AgentId as AcdAgent, CallRef};
use hotline_media::Leg;
use hotline_record::HungUpBy;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::TxId;
use hotline_sip::{HeaderName, Response};

use super::{close_legs, Party};
use crate::call::Ending;
use crate::core::Core;
use crate::media;
use crate::owners::TxOwner;

impl Core {
    /// Attended transfer: the consulted party replaces the transferor on the caller's call.
    pub(crate) fn attended_transfer(&mut self, now: Instant, call: CallRef, consult: CallRef) {
        // Both calls are checked before either is touched.
        let connected = |id: &CallRef| self.calls.get(id).is_some_and(|c| c.is_talking());
        if !connected(&call) || !connected(&consult) {
            return;
        }
        // Supervisors of the transferor (and of the consultation) leave with them.
        self.end_monitors_of(now, call);
        self.end_monitors_of(now, consult);
        let Some(mut k) = self.remove_call(consult) else {
            return;
        };
        let Some(kt) = k.take_talking() else {
            return;
        };
        let Some(t) = self.calls.get(&call).and_then(|c| c.talking()) else {
            return;
        };
        let port = t.agent_local_media;
        let transferor_dialog = t.agent_dialog.clone();
        let transferor_peer = t.agent_peer;
        let transferor = t.party.clone();
        // The consulted phone is moved onto the caller's call: a re-INVITE pointing it at the
        // port the transferor used, in its own session (same origin, next version).
        let mut agent_sdp = kt.agent_sdp;
        let version = agent_sdp.next();
        let mut agent_dialog = kt.agent_dialog;
        let via = self.local.via(kt.agent_peer.transport);
        let mut reinvite = agent_dialog.request(Method::Invite, &via);
        reinvite
            .headers
            .push(HeaderName::ContentType, "application/sdp");
        reinvite.body = media::offer(port, version).into_bytes();
        let seq = reinvite.cseq().map_or(1, |c| c.seq);
        let reinvite_tx = self.endpoint.send_request(now, reinvite, kt.agent_peer);
        // The consultation's caller side (the transferor's second line) is hung up.
        let mut consult_caller = kt.caller_dialog;
        let bye = consult_caller.request(Method::Bye, &self.local.via(k.caller.peer.transport));
        self.endpoint.send_request(now, bye, k.caller.peer);
        // The consultation's own media ends (dropping its handle stops it).
        drop(kt.bridge);
        k.record.ended_at = Some(self.wall);
        k.record.hung_up_by = Some(HungUpBy::Agent);
        self.close_legs(&mut k.legs);
        self.save(&k.record);
        let party = kt.party;
        // The transferor leaves the consultation they placed (the ACD may follow it rather
        // than the caller's call, if they placed it while the caller's call still rang them)
        // and the caller's call.
        if let Some(placer) = k.kind.placed_by() {
            self.end_agent_call(now, placer, consult);
        }
        self.end_party_call(now, &transferor, call);
        self.release_transferor(now, transferor_dialog, transferor_peer);
        if let Party::Agent(id) = &party {
            // Their consultation carries on as the caller's call: its end ends their call.
            self.acd.call_moved(&AcdAgent(id.clone()), consult, call);
        }
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        close_legs(&mut self.out, self.wall, &mut c.legs);
        // The consulted party is the call's agent from here, also for an end right below.
        if let Some(t) = c.talking_mut() {
            t.party = party.clone();
            t.agent_tx = kt.agent_tx;
            t.agent_peer = kt.agent_peer;
            t.agent_sip_call_id = kt.agent_sip_call_id;
            t.agent_sdp = agent_sdp;
            t.agent_invite_seq = seq;
            t.agent_dialog = agent_dialog;
        }
        note!(
            self.notes,
            Info,
            c.about(),
            "attended transfer from={} to={}",
            transferor,
            party
        );
        match reinvite_tx {
            Some(tx) => {
                self.owners.insert(tx, TxOwner::Reinvite(call));
            }
            None => {
                // The move could not even be sent: nobody would be on the caller's call.
                self.end(now, call, Ending::By(HungUpBy::Switch));
                return;
            }
        }
        self.leg_joined(call, &party);
    }

    /// A response to the re-INVITE that moved a consulted party onto a call; false if `tx`
    /// is not one.
    pub(crate) fn on_reinvite_response(&mut self, now: Instant, tx: TxId, resp: &Response) -> bool {
        let Some(call) = self.owners.reinvite(tx) else {
            return false;
        };
        if resp.status < 200 {
            return true;
        }
        self.owners.remove_reinvite(tx);
        let Some(c) = self.calls.get(&call) else {
            return true;
        };
        let Some(t) = c.talking() else {
            return true;
        };
        if resp.status >= 300 {
            note!(
                self.notes,
                Warn,
                c.about(),
                "the consulted phone refused to move; ending the call status={}",
                resp.status
            );
            self.end(now, call, Ending::By(HungUpBy::Switch));
            return true;
        }
        let ack = t
            .agent_dialog
            .ack(t.agent_invite_seq, &self.local.via(t.agent_peer.transport))
            .to_bytes();
        self.sent_acks.remember(now, tx, t.agent_peer, ack.clone());
        self.endpoint.send_stateless(t.agent_peer, ack);
        let policy = self.media_policy();
        match media::peer_of_answer_body(&resp.body, t.agent_peer.addr.ip(), &policy) {
            Some(peer) => {
                if let Some(m) = c.media() {
                    m.update(Leg::Agent, peer);
                }
            }
            None => {
                note!(
                    self.notes,
                    Warn,
                    c.about(),
                    "the consulted phone answered the move without SDP; ending the call"
                );
                self.end(now, call, Ending::By(HungUpBy::Switch));
            }
        }
        true
    }

    /// The re-INVITE moving a consulted party got no answer at all: the caller would hear
    /// nobody, so the call ends (with its record and recording).
    pub(crate) fn on_reinvite_timeout(&mut self, now: Instant, tx: TxId) -> bool {
        let Some(call) = self.owners.remove_reinvite(tx) else {
            return false;
        };
        note!(
            self.notes,
            Warn,
            self.about_call(call),
            "the consulted phone never answered the move; ending the call"
        );
        self.end(now, call, Ending::By(HungUpBy::Switch));
        true
    }
}
