//! From the caller's INVITE until an agent answers: routing, ringing agents one after
//! another, CANCELs, abandonment and refusals.

use std::time::{Duration, Instant};

use crate::notes::{note, About};
use hotline_acd::{AgentId as AcdAgent, CallRef, OfferOutcome, QueueId};
use hotline_record::{CallRecord, HungUpBy, Outcome};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{cancel_for, Peer, TxId};
use hotline_sip::{HeaderName, Request, Response, SipUri};

use super::{AgentLeg, Call, OrphanLeg, Party};
use crate::call::Ending;
use crate::core::{Core, Side};
use crate::media::{self, SdpVersion};
use crate::owners::TxOwner;

/// How long a withdrawn agent INVITE is waited for before it is forgotten (64·T1).
const ORPHAN_LIFETIME: Duration = Duration::from_secs(32);

impl Core {
    /// A new INVITE from outside: route it, or refuse it (404 for anything but 12366).
    pub(crate) fn on_new_invite(&mut self, now: Instant, tx: TxId, req: Request, from: Peer) {
        let user = SipUri::parse(&req.uri).and_then(|u| u.user);
        let allowed = user
            .as_deref()
            .is_some_and(|u| self.plan.dialplan.is_service_number(u));
        if !allowed {
            self.on_phone_invite(now, tx, req, from);
            return;
        }
        let caller_media = match self.caller_media(&req, from) {
            Ok(m) => m,
            Err(status) => {
                note!(
                    self.notes,
                    Warn,
                    About::Switch,
                    "INVITE refused: no usable audio offer or no port from={} status={}",
                    from.addr,
                    status
                );
                self.refuse_recorded(now, tx, &req, status);
                return;
            }
        };
        let raw = caller_of(&req);
        let trunk_region = self
            .plan
            .dialplan
            .trunk_from(from.addr)
            .and_then(|t| t.region.clone());
        let route = self.plan.router.route(&raw, trunk_region.as_ref());
        let id = self.new_call_id();
        note!(
            self.notes,
            Info,
            About::Call(id.clone()),
            "call offered caller={} normalized={} kind={} region={} origin={}",
            raw,
            route.normalized,
            route.kind.as_str(),
            route.region,
            route.origin.as_str()
        );
        let legacy = self
            .plan
            .dialplan
            .region(&route.region)
            .and_then(|r| r.legacy_trunk())
            .map(str::to_string);
        let mut record = CallRecord::new(id, raw, self.wall);
        record.caller_normalized = Some(route.normalized.clone());
        record.caller_kind = Some(route.kind.as_str().to_string());
        record.region = Some(route.region.as_str().to_string());
        record.origin = Some(route.origin.as_str().to_string());
        record.outcome = Outcome::Queued;
        if legacy.is_none() && self.plan.dialplan.menu.is_none() {
            // Without a menu the caller asks for an agent by calling.
            record.queued_at = Some(record.offered_at);
        }
        self.save(&record);
        let number = if route.normalized.is_empty() {
            "anonymous".to_string()
        } else {
            route.normalized.clone()
        };
        let call = self.add_call(now, (tx, req, from), number, caller_media, record);
        if let Some(trunk) = legacy {
            // 割接: this city is still on its old system; the call passes through, recorded.
            let dialled = user.unwrap_or_default();
            if let Some(c) = self.calls.get_mut(&call) {
                note!(
                    self.notes,
                    Info,
                    c.about(),
                    "region is legacy: forwarding to its old system trunk={}",
                    trunk
                );
                c.kind = super::CallKind::Legacy;
            }
            self.ring_trunk(now, call, &trunk, &dialled);
        } else if self.plan.dialplan.menu.is_some() {
            self.start_menu_call(now, call);
        } else {
            self.acd
                .call_arrived(now, call, QueueId(route.region.as_str().to_string()));
        }
    }

    /// Refuses a call to the service number and keeps a `failed` record of it: every call
    /// that reached 12366 is on record, accepted or not.
    fn refuse_recorded(&mut self, now: Instant, tx: TxId, req: &Request, status: u16) {
        let raw = caller_of(req);
        let id = self.new_call_id();
        let mut record = CallRecord::new(id, raw.clone(), self.wall);
        let route = self.plan.router.route(&raw, None);
        record.caller_normalized = Some(route.normalized);
        record.caller_kind = Some(route.kind.as_str().to_string());
        record.region = Some(route.region.as_str().to_string());
        record.outcome = Outcome::Failed;
        record.hung_up_by = Some(HungUpBy::Switch);
        record.ended_at = Some(self.wall);
        self.save(&record);
        self.refuse(now, tx, req, status);
    }

    /// The ACD chose an agent: ring their phone.
    pub(crate) fn ring_agent(&mut self, now: Instant, call: CallRef, agent: AcdAgent) {
        let Some(number) = self.calls.get(&call).map(|c| c.caller.number.clone()) else {
            // The call is gone (it ended while queued): out of the ACD, the agent freed.
            self.acd.abandoned(now, call);
            return;
        };
        let Some((contact, peer)) = self.agent_target(&agent.0) else {
            self.acd
                .offer_failed(now, call, &agent, OfferOutcome::Failed);
            return;
        };
        if !self.send_leg(
            now,
            call,
            Party::Agent(agent.0.clone()),
            &contact,
            &number,
            peer,
        ) {
            self.acd
                .offer_failed(now, call, &agent, OfferOutcome::Failed);
        }
    }

    /// Rings `party` at `ruri` for `call` from a fresh media port, with `from_number` as
    /// the caller: the leg joins the call's ringing legs. False if the INVITE could not
    /// even be sent (no media port, no transport).
    pub(crate) fn send_leg(
        &mut self,
        now: Instant,
        call: CallRef,
        party: Party,
        ruri: &str,
        from_number: &str,
        peer: Peer,
    ) -> bool {
        let Some(media) = self.ports.take(&self.out) else {
            note!(
                self.notes,
                Warn,
                self.about_call(call),
                "no media port for the far leg party={}",
                party
            );
            return false;
        };
        let local_media = media.local_addr();
        let sdp_version = SdpVersion::new(self.local.draw());
        let sdp = media::offer(local_media, sdp_version);
        let to_user = match &party {
            Party::Agent(id) => id.clone(),
            Party::Trunk(_) => SipUri::parse(ruri).and_then(|u| u.user).unwrap_or_default(),
        };
        let mut invite = self
            .local
            .agent_invite(ruri, &to_user, from_number, peer.transport, &sdp);
        if matches!(party, Party::Trunk(_)) {
            // A carrier expects To to name the number at its own address, as the R-URI does.
            invite.headers.set(HeaderName::To, format!("<{ruri}>"));
        }
        let sip_call_id = invite.call_id().unwrap_or_default().to_string();
        let Some(tx) = self.endpoint.send_request(now, invite.clone(), peer) else {
            return false;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return true;
        };
        note!(
            self.notes,
            Info,
            c.about(),
            "ringing party={} to={}",
            party,
            peer.addr
        );
        c.ringing.push(AgentLeg {
            party,
            invite,
            tx,
            peer,
            sip_call_id,
            media: Some(media),
            local_media,
            sdp: sdp_version,
            provisional: false,
            since: now,
            auth_tried: false,
        });
        true
    }

    /// Withdraws one agent's ringing leg (ring timeout, caller gone, agent logged out or
    /// paused, answered elsewhere with ring-all).
    pub(crate) fn stop_ringing(&mut self, now: Instant, call: CallRef, agent: &str) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let Some(i) = c.ringing.iter().position(|l| l.party.is_agent(agent)) else {
            return;
        };
        let leg = c.ringing.swap_remove(i);
        self.cancel_leg(now, call, leg);
    }

    /// CANCELs an agent INVITE, or arms the CANCEL for its first provisional response.
    pub(crate) fn cancel_leg(&mut self, now: Instant, call: CallRef, leg: AgentLeg) {
        self.direct_ring_ended(now, call, &leg.party, false);
        self.withdraw_invite(now, leg.tx, leg.invite, leg.peer, leg.provisional);
    }

    /// Withdraws an INVITE the switch sent: CANCEL at once if a provisional response came,
    /// else on the first one (RFC 3261 9.1); a late 200 is ACKed and hung up.
    pub(crate) fn withdraw_invite(
        &mut self,
        now: Instant,
        tx: TxId,
        invite: Request,
        peer: Peer,
        provisional: bool,
    ) {
        if provisional {
            self.endpoint.send_request(now, cancel_for(&invite), peer);
        }
        let orphan = OrphanLeg {
            invite,
            peer,
            cancel_pending: !provisional,
            since: now,
        };
        self.owners.insert(tx, TxOwner::Orphan(orphan));
    }

    /// Forgets withdrawn agent INVITEs that never got a final response.
    pub(crate) fn collect_orphans(&mut self, now: Instant) {
        let old: Vec<TxId> = self
            .owners
            .orphans()
            .filter(|(_, o)| now.saturating_duration_since(o.since) >= ORPHAN_LIFETIME)
            .map(|(tx, _)| tx)
            .collect();
        for tx in old {
            self.owners.remove_orphan(tx);
            self.endpoint.abandon(tx);
        }
    }

    pub(crate) fn on_overflow(&mut self, call: CallRef, to: QueueId) {
        if let Some(c) = self.calls.get_mut(&call) {
            note!(self.notes, Info, c.about(), "overflowed to={}", to);
            c.record.overflowed = true;
            self.out.record(&c.record);
        }
    }

    /// The caller CANCELled before an agent answered.
    pub(crate) fn on_caller_cancel(&mut self, now: Instant, invite: TxId) {
        if let Some((call, Side::Caller)) = self.owners.leg(invite) {
            self.end(now, call, Ending::By(HungUpBy::Caller));
        } else {
            self.cancel_held(now, invite);
        }
    }

    /// A response on one of our client transactions.
    pub(crate) fn on_response(&mut self, now: Instant, tx: TxId, resp: Response) {
        if self.owners.orphan_mut(tx).is_some() {
            self.on_orphan_response(now, tx, resp);
            return;
        }
        let Some((call, Side::Agent)) = self.owners.leg(tx) else {
            return;
        };
        match resp.status {
            100..=199 => {
                if let Some(leg) = self.calls.get_mut(&call).and_then(|c| c.leg_mut(tx)) {
                    leg.provisional = true;
                }
                if resp.status == 183 && self.early_media(now, call, tx, &resp) {
                    return;
                }
                if matches!(resp.status, 180 | 183) {
                    self.caller_hears_ringing(now, call);
                }
            }
            200..=299 => self.agent_answered(now, call, tx, resp),
            401 | 407 if self.answer_trunk_challenge(now, call, tx, &resp) => {}
            status => self.agent_declined(now, call, tx, status),
        }
    }

    fn on_orphan_response(&mut self, now: Instant, tx: TxId, resp: Response) {
        let Some(orphan) = self.owners.orphan_mut(tx) else {
            return;
        };
        let (invite, peer) = (orphan.invite.clone(), orphan.peer);
        match resp.status {
            100..=199 if orphan.cancel_pending => {
                orphan.cancel_pending = false;
                self.endpoint.send_request(now, cancel_for(&invite), peer);
            }
            100..=199 => {}
            200..=299 => {
                // The phone answered as we cancelled: ACK it, then hang it up.
                self.ack_and_bye(now, &invite, &resp, peer);
                self.owners.remove_orphan(tx);
            }
            _ => {
                self.owners.remove_orphan(tx);
            }
        }
    }

    fn caller_hears_ringing(&mut self, now: Instant, call: CallRef) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let (tx, invite, tag) = (c.caller.tx, c.caller.invite.clone(), c.caller.tag.clone());
        if self.endpoint.is_pending(tx) {
            self.reply(now, tx, &invite, 180, &tag);
        }
    }

    /// ACKs a 2xx on a leg the switch no longer wants, then hangs that leg up.
    pub(crate) fn ack_and_bye(
        &mut self,
        now: Instant,
        invite: &Request,
        resp: &Response,
        peer: Peer,
    ) {
        let Some(mut dialog) = Dialog::as_uac(invite, resp, &self.local.contact()) else {
            return;
        };
        let ack = dialog.ack(
            invite.cseq().map_or(1, |c| c.seq),
            &self.local.via(peer.transport),
        );
        self.endpoint.send_stateless(peer, ack.to_bytes());
        let bye = dialog.request(Method::Bye, &self.local.via(peer.transport));
        self.endpoint.send_request(now, bye, peer);
    }

    pub(crate) fn agent_declined(&mut self, now: Instant, call: CallRef, tx: TxId, status: u16) {
        let Some(leg) = self.calls.get_mut(&call).and_then(|c| c.take_leg(tx)) else {
            return;
        };
        let outcome = match status {
            408 | 480 => OfferOutcome::NoAnswer,
            486 | 600 | 603 => OfferOutcome::Busy,
            _ => OfferOutcome::Failed,
        };
        if self.calls.get(&call).is_some_and(Call::rings_directly) {
            let declined = outcome == OfferOutcome::Busy;
            self.direct_ring_ended(now, call, &leg.party, declined);
            self.fail_direct(now, call, status);
            return;
        }
        if let Some(c) = self.calls.get(&call) {
            note!(
                self.notes,
                Info,
                c.about(),
                "agent did not take the call agent={} status={}",
                leg.party,
                status
            );
        }
        if let Party::Agent(id) = leg.party {
            self.acd.offer_failed(now, call, &AcdAgent(id), outcome);
        }
    }
}

/// The caller's number as the From header's user part ("anonymous" when there is none).
fn caller_of(req: &Request) -> String {
    req.party_from()
        .and_then(|f| f.sip_uri())
        .and_then(|u| u.user)
        .unwrap_or_else(|| "anonymous".to_string())
}

/// Milliseconds since the call was offered, by its record.
pub(super) fn waited_since(record: &CallRecord, wall: chrono::DateTime<chrono::Utc>) -> u64 {
    (wall - record.offered_at).num_milliseconds().max(0) as u64
}
