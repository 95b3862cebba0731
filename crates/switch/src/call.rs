//! The back-to-back user agent: each call is a caller leg and (once an agent is rung) an
//! agent leg, two separate dialogs joined by a media bridge. These are the core's handlers
//! for everything that happens to a call.

use std::net::SocketAddr;
use std::time::Instant;

use chrono::Utc;
use hotline_acd::{AgentId as AcdAgent, CallRef, OfferOutcome, QueueId};
use hotline_record::{CallId, CallRecord, HungUpBy, Outcome};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{cancel_for, Peer, TxId};
use hotline_sip::{Request, Response, SipUri};
use rand::Rng;
use tracing::{info, info_span, warn, Span};

use crate::core::{Core, Side};
use crate::media::{self, BridgeHandle, MediaPort, PeerMedia};
use crate::sipbuild::token;

/// One call from the switch's side.
pub(crate) struct Call {
    pub id: CallId,
    pub span: Span,
    pub caller: CallerLeg,
    pub agent: Option<AgentLeg>,
    pub talking: Option<Talking>,
    pub record: CallRecord,
}

/// The taxpayer's leg: their INVITE, our answer, and our media port for them.
pub(crate) struct CallerLeg {
    pub tx: TxId,
    pub invite: Request,
    pub peer: Peer,
    pub tag: String,
    pub sip_call_id: String,
    pub number: String,
    pub media: Option<MediaPort>,
    pub local_media: SocketAddr,
    pub answer_sdp: String,
    pub peer_media: PeerMedia,
}

/// An agent's phone being rung for this call.
pub(crate) struct AgentLeg {
    pub agent: String,
    pub invite: Request,
    pub tx: TxId,
    pub peer: Peer,
    pub sip_call_id: String,
    pub media: MediaPort,
    pub local_media: SocketAddr,
}

/// A connected call: both dialogs and the bridge between them.
pub(crate) struct Talking {
    pub agent: String,
    pub agent_peer: Peer,
    pub agent_local_media: SocketAddr,
    pub agent_sip_call_id: String,
    pub caller_dialog: Dialog,
    pub agent_dialog: Dialog,
    pub bridge: BridgeHandle,
}

/// An agent INVITE we withdrew: a late 200 must still be ACKed and hung up.
pub(crate) struct OrphanLeg {
    pub invite: Request,
    pub peer: Peer,
}

fn now_utc() -> chrono::DateTime<Utc> {
    Utc::now()
}

impl Core {
    fn save(&self, record: &CallRecord) {
        if let Err(e) = self.store.save(record) {
            warn!(call = %record.call_id, error = %e, "call record not queued");
        }
    }

    /// A new INVITE from outside: route it, or refuse it (404 for anything but 12366).
    pub(crate) fn on_new_invite(&mut self, now: Instant, tx: TxId, req: Request, from: Peer) {
        let user = SipUri::parse(&req.uri).and_then(|u| u.user);
        let allowed = user
            .as_deref()
            .is_some_and(|u| self.plan.dialplan.is_service_number(u));
        if !allowed {
            warn!(uri = %req.uri, from = %from.addr, "call to a number that is not a service number refused");
            self.refuse(now, tx, &req, 404);
            return;
        }
        let Some(offer) = media::parse_sdp(&req.body) else {
            warn!(from = %from.addr, "INVITE without a usable audio offer");
            self.refuse(now, tx, &req, 488);
            return;
        };
        let port = match MediaPort::bind(self.media_ip) {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "no media port for a new call");
                self.refuse(now, tx, &req, 503);
                return;
            }
        };
        let local_media = port.local_addr();
        let Some((answer_sdp, peer_media)) = media::answer(&offer, local_media) else {
            self.refuse(now, tx, &req, 488);
            return;
        };
        let raw = req
            .party_from()
            .and_then(|f| f.sip_uri())
            .and_then(|u| u.user)
            .unwrap_or_else(|| "anonymous".to_string());
        let trunk_region = self
            .plan
            .dialplan
            .trunk_from(from.addr)
            .and_then(|t| t.region.clone());
        let route = self.plan.router.route(&raw, trunk_region.as_ref());
        let id = CallId::generate(now_utc(), rand::thread_rng().gen());
        let span = info_span!("call", id = %id);
        span.in_scope(|| {
            info!(caller = %raw, normalized = %route.normalized, kind = route.kind.as_str(),
                  region = %route.region, origin = route.origin.as_str(), "call offered")
        });
        let mut record = CallRecord::new(id.clone(), raw, now_utc());
        record.caller_normalized = Some(route.normalized.clone());
        record.caller_kind = Some(route.kind.as_str().to_string());
        record.region = Some(route.region.as_str().to_string());
        record.outcome = Outcome::Queued;
        self.save(&record);
        let sip_call_id = req.call_id().unwrap_or_default().to_string();
        let number = if route.normalized.is_empty() {
            "anonymous".to_string()
        } else {
            route.normalized.clone()
        };
        let call = self.alloc_call();
        self.by_tx.insert(tx, (call, Side::Caller));
        self.by_dialog
            .insert(sip_call_id.clone(), (call, Side::Caller));
        self.calls.insert(
            call,
            Call {
                id,
                span,
                caller: CallerLeg {
                    tx,
                    invite: req,
                    peer: from,
                    tag: token(),
                    sip_call_id,
                    number,
                    media: Some(port),
                    local_media,
                    answer_sdp,
                    peer_media,
                },
                agent: None,
                talking: None,
                record,
            },
        );
        self.acd
            .call_arrived(now, call, QueueId(route.region.as_str().to_string()));
    }

    /// The ACD chose an agent: ring their phone.
    pub(crate) fn ring_agent(&mut self, now: Instant, call: CallRef, agent: AcdAgent) {
        let Some(number) = self.calls.get(&call).map(|c| c.caller.number.clone()) else {
            return;
        };
        let Some((contact, peer)) = self.agent_target(&agent.0) else {
            self.acd
                .offer_failed(now, call, &agent, OfferOutcome::Failed);
            return;
        };
        let media = match MediaPort::bind(self.media_ip) {
            Ok(m) => m,
            Err(e) => {
                warn!(error = %e, "no media port for the agent leg");
                self.acd
                    .offer_failed(now, call, &agent, OfferOutcome::Failed);
                return;
            }
        };
        let local_media = media.local_addr();
        let sdp = media::offer(local_media);
        let invite = self
            .local
            .agent_invite(&contact, &agent.0, &number, peer.transport, &sdp);
        let sip_call_id = invite.call_id().unwrap_or_default().to_string();
        let Some(tx) = self.endpoint.send_request(now, invite.clone(), peer) else {
            self.acd
                .offer_failed(now, call, &agent, OfferOutcome::Failed);
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.span
            .in_scope(|| info!(agent = %agent, to = %peer.addr, "ringing agent"));
        self.by_tx.insert(tx, (call, Side::Agent));
        self.by_dialog
            .insert(sip_call_id.clone(), (call, Side::Agent));
        c.agent = Some(AgentLeg {
            agent: agent.0,
            invite,
            tx,
            peer,
            sip_call_id,
            media,
            local_media,
        });
    }

    /// Withdraws the ringing agent leg (ring timeout, caller gone, agent logged out).
    pub(crate) fn stop_ringing(&mut self, now: Instant, call: CallRef) {
        let Some(leg) = self.calls.get_mut(&call).and_then(|c| c.agent.take()) else {
            return;
        };
        self.cancel_leg(now, leg);
    }

    fn cancel_leg(&mut self, now: Instant, leg: AgentLeg) {
        self.by_tx.remove(&leg.tx);
        self.by_dialog.remove(&leg.sip_call_id);
        let cancel = cancel_for(&leg.invite);
        self.endpoint.send_request(now, cancel, leg.peer);
        self.orphans.insert(
            leg.tx,
            OrphanLeg {
                invite: leg.invite,
                peer: leg.peer,
            },
        );
    }

    pub(crate) fn on_overflow(&mut self, call: CallRef, to: QueueId) {
        if let Some(c) = self.calls.get_mut(&call) {
            c.span.in_scope(|| info!(to = %to, "overflowed"));
            c.record.overflowed = true;
            let record = c.record.clone();
            self.save(&record);
        }
    }

    /// The caller hung up before an agent answered.
    pub(crate) fn on_caller_cancel(&mut self, now: Instant, invite: TxId) {
        let Some((call, Side::Caller)) = self.by_tx.get(&invite).copied() else {
            return;
        };
        let Some(mut c) = self.remove_call(call) else {
            return;
        };
        let resp = self.local.response(&c.caller.invite, 487, &c.caller.tag);
        self.endpoint.respond(now, invite, resp);
        if let Some(leg) = c.agent.take() {
            self.cancel_leg(now, leg);
        }
        let waited = self.acd.abandoned(now, call);
        c.span
            .in_scope(|| info!(waited_ms = ?waited.map(|w| w.as_millis()), "caller abandoned"));
        c.record.outcome = Outcome::Abandoned;
        c.record.hung_up_by = Some(HungUpBy::Caller);
        c.record.waited_ms = waited.map(|w| w.as_millis() as u64);
        c.record.ended_at = Some(now_utc());
        self.save(&c.record);
    }

    fn remove_call(&mut self, call: CallRef) -> Option<Call> {
        let c = self.calls.remove(&call)?;
        self.by_tx.remove(&c.caller.tx);
        self.by_dialog.remove(&c.caller.sip_call_id);
        if let Some(leg) = &c.agent {
            self.by_tx.remove(&leg.tx);
            self.by_dialog.remove(&leg.sip_call_id);
        }
        if let Some(t) = &c.talking {
            self.by_dialog.remove(&t.agent_sip_call_id);
        }
        Some(c)
    }

    /// A response on one of our client transactions.
    pub(crate) fn on_response(&mut self, now: Instant, tx: TxId, resp: Response) {
        if let Some(orphan) = self.orphans.get(&tx) {
            if (200..300).contains(&resp.status) {
                // The phone answered as we cancelled: ACK it, then hang it up.
                let (invite, peer) = (orphan.invite.clone(), orphan.peer);
                self.ack_and_bye(now, &invite, &resp, peer);
            }
            if resp.status >= 200 {
                self.orphans.remove(&tx);
            }
            return;
        }
        let Some((call, Side::Agent)) = self.by_tx.get(&tx).copied() else {
            return;
        };
        match resp.status {
            180 | 183 => self.caller_hears_ringing(now, call),
            100..=199 => {}
            200..=299 => self.agent_answered(now, call, resp),
            status => self.agent_declined(now, call, status),
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

    fn ack_and_bye(&mut self, now: Instant, invite: &Request, resp: &Response, peer: Peer) {
        let Some(mut dialog) = Dialog::as_uac(invite, resp, &self.local.contact()) else {
            return;
        };
        let ack = dialog.ack(1, &self.local.via(peer.transport));
        self.endpoint.send_stateless(peer, ack.to_bytes());
        let bye = dialog.request(Method::Bye, &self.local.via(peer.transport));
        self.endpoint.send_request(now, bye, peer);
    }

    fn agent_declined(&mut self, now: Instant, call: CallRef, status: u16) {
        let Some(leg) = self.calls.get_mut(&call).and_then(|c| c.agent.take()) else {
            return;
        };
        self.by_tx.remove(&leg.tx);
        self.by_dialog.remove(&leg.sip_call_id);
        let outcome = match status {
            408 | 480 => OfferOutcome::NoAnswer,
            486 | 600 | 603 => OfferOutcome::Busy,
            _ => OfferOutcome::Failed,
        };
        if let Some(c) = self.calls.get(&call) {
            c.span
                .in_scope(|| info!(agent = %leg.agent, status, "agent did not take the call"));
        }
        self.acd
            .offer_failed(now, call, &AcdAgent(leg.agent), outcome);
    }

    fn agent_answered(&mut self, now: Instant, call: CallRef, resp: Response) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.talking.is_some() {
            // A retransmitted 200: our ACK was lost, send it again.
            if let Some(t) = &c.talking {
                let ack = t
                    .agent_dialog
                    .ack(1, &self.local.via(t.agent_peer.transport));
                self.endpoint.send_stateless(t.agent_peer, ack.to_bytes());
            }
            return;
        }
        let Some(leg) = c.agent.take() else { return };
        self.by_tx.remove(&leg.tx);
        let agent = AcdAgent(leg.agent.clone());
        if self.acd.answered(now, call, &agent).is_err() {
            self.by_dialog.remove(&leg.sip_call_id);
            self.ack_and_bye(now, &leg.invite, &resp, leg.peer);
            return;
        }
        let Some(agent_dialog) = Dialog::as_uac(&leg.invite, &resp, &self.local.contact()) else {
            warn!("agent's 200 OK has no usable To tag");
            self.ack_and_bye(now, &leg.invite, &resp, leg.peer);
            self.acd.call_ended(now, &agent);
            self.by_dialog.remove(&leg.sip_call_id);
            return;
        };
        let ack = agent_dialog.ack(1, &self.local.via(leg.peer.transport));
        self.endpoint.send_stateless(leg.peer, ack.to_bytes());
        let Some(agent_media) =
            media::parse_sdp(&resp.body).and_then(|s| media::peer_of_answer(&s))
        else {
            warn!(agent = %leg.agent, "agent answered without usable SDP; hanging up that leg");
            let mut d = agent_dialog;
            let bye = d.request(Method::Bye, &self.local.via(leg.peer.transport));
            self.endpoint.send_request(now, bye, leg.peer);
            self.by_dialog.remove(&leg.sip_call_id);
            self.acd.call_ended(now, &agent);
            return;
        };
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        let answer =
            self.local
                .answer_with_sdp(&c.caller.invite, &c.caller.tag, &c.caller.answer_sdp);
        let Some(caller_dialog) =
            Dialog::as_uas(&c.caller.invite, &c.caller.tag, &self.local.contact())
        else {
            return;
        };
        self.endpoint.respond(now, c.caller.tx, answer);
        let answered_at = now_utc();
        let recording = match self.recorder.open(&c.id, answered_at) {
            Ok(r) => Some(r),
            Err(e) => {
                c.span
                    .in_scope(|| warn!(error = %e, "recording could not be opened"));
                None
            }
        };
        c.record.recording_path = recording.as_ref().map(|r| r.path().to_path_buf());
        let Some(caller_port) = c.caller.media.take() else {
            return;
        };
        let bridge = media::start_bridge(
            &c.id,
            (caller_port, c.caller.peer_media),
            (leg.media, agent_media),
            recording,
        );
        c.span
            .in_scope(|| info!(agent = %leg.agent, "agent answered; call bridged and recording"));
        c.record.agent = Some(leg.agent.clone());
        c.record.answered_at = Some(answered_at);
        c.record.outcome = Outcome::Answered;
        c.record.waited_ms = Some(
            (answered_at - c.record.offered_at)
                .num_milliseconds()
                .max(0) as u64,
        );
        c.talking = Some(Talking {
            agent: leg.agent,
            agent_peer: leg.peer,
            agent_local_media: leg.local_media,
            agent_sip_call_id: leg.sip_call_id,
            caller_dialog,
            agent_dialog,
            bridge,
        });
        let record = c.record.clone();
        self.save(&record);
    }

    /// A request inside one of a call's dialogs.
    pub(crate) fn on_dialog_request(
        &mut self,
        now: Instant,
        call: CallRef,
        side: Side,
        tx: TxId,
        req: Request,
    ) {
        let tag = match self.calls.get(&call) {
            Some(c) => c.caller.tag.clone(),
            None => token(),
        };
        match req.method {
            Method::Bye => {
                self.reply(now, tx, &req, 200, &tag);
                let by = match side {
                    Side::Caller => HungUpBy::Caller,
                    Side::Agent => HungUpBy::Agent,
                };
                self.hang_up(now, call, by);
            }
            Method::Invite => self.on_reinvite(now, call, side, tx, req),
            Method::Info | Method::Options | Method::Update | Method::Notify => {
                self.reply(now, tx, &req, 200, &tag)
            }
            _ => self.reply(now, tx, &req, 405, &tag),
        }
    }

    /// re-INVITE (hold, codec change): answered by the switch for its own leg; the other
    /// leg is not disturbed because the switch anchors the media.
    fn on_reinvite(&mut self, now: Instant, call: CallRef, side: Side, tx: TxId, req: Request) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(t) = &c.talking else {
            self.reply(now, tx, &req, 491, &c.caller.tag.clone());
            return;
        };
        let local = match side {
            Side::Caller => c.caller.local_media,
            Side::Agent => t.agent_local_media,
        };
        let tag = match side {
            Side::Caller => c.caller.tag.clone(),
            Side::Agent => t.agent_dialog.local_tag.clone(),
        };
        let offer = if req.body.is_empty() {
            None
        } else {
            media::parse_sdp(&req.body)
        };
        let answered = match &offer {
            Some(o) => media::answer(o, local),
            None => None,
        };
        match answered {
            Some((sdp, peer)) => {
                t.bridge.update(side, peer);
                let r = self.local.answer_with_sdp(&req, &tag, &sdp);
                self.endpoint.respond(now, tx, r);
            }
            None if req.body.is_empty() => {
                // Offerless re-INVITE: offer what we had.
                let sdp = match side {
                    Side::Caller => c.caller.answer_sdp.clone(),
                    Side::Agent => media::offer(local),
                };
                let r = self.local.answer_with_sdp(&req, &tag, &sdp);
                self.endpoint.respond(now, tx, r);
            }
            None => self.reply(now, tx, &req, 488, &tag),
        }
    }

    /// Ends a connected call: BYE to the other side, stop media, finish recording and record.
    pub(crate) fn hang_up(&mut self, now: Instant, call: CallRef, by: HungUpBy) {
        let Some(mut c) = self.remove_call(call) else {
            return;
        };
        let Some(mut t) = c.talking.take() else {
            return;
        };
        match by {
            HungUpBy::Caller => {
                let bye = t
                    .agent_dialog
                    .request(Method::Bye, &self.local.via(t.agent_peer.transport));
                self.endpoint.send_request(now, bye, t.agent_peer);
            }
            HungUpBy::Agent => {
                let bye = t
                    .caller_dialog
                    .request(Method::Bye, &self.local.via(c.caller.peer.transport));
                self.endpoint.send_request(now, bye, c.caller.peer);
            }
            HungUpBy::Switch => {
                let bye = t
                    .agent_dialog
                    .request(Method::Bye, &self.local.via(t.agent_peer.transport));
                self.endpoint.send_request(now, bye, t.agent_peer);
                let bye = t
                    .caller_dialog
                    .request(Method::Bye, &self.local.via(c.caller.peer.transport));
                self.endpoint.send_request(now, bye, c.caller.peer);
            }
        }
        self.acd.call_ended(now, &AcdAgent(t.agent.clone()));
        c.record.ended_at = Some(now_utc());
        c.record.hung_up_by = Some(by);
        let record = c.record.clone();
        let store = self.store.clone();
        let span = c.span.clone();
        tokio::spawn(async move {
            t.bridge.stop().await;
            // Saved after the recording is finished, so a record never points at a half file.
            if let Err(e) = store.save(&record) {
                span.in_scope(|| warn!(error = %e, "final call record not queued"));
            }
            span.in_scope(|| info!(by = %by, "call ended"));
        });
    }

    /// A transaction gave up.
    pub(crate) fn on_timeout(&mut self, now: Instant, tx: TxId) {
        if self.orphans.remove(&tx).is_some() {
            return;
        }
        match self.by_tx.get(&tx).copied() {
            Some((call, Side::Agent)) => self.agent_declined(now, call, 408),
            Some((call, Side::Caller)) => {
                // Our 200 was never ACKed: the caller is gone.
                let talking = self.calls.get(&call).is_some_and(|c| c.talking.is_some());
                if talking {
                    self.hang_up(now, call, HungUpBy::Switch);
                }
            }
            None => {}
        }
    }
}
