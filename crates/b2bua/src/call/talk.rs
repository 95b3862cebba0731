//! From the agent's answer to the hang-up: bridging, in-dialog requests, re-INVITEs, BYE.

use hotline_record::StoreWrite;
use std::time::Instant;

use crate::notes::note;
use hotline_acd::{AgentId as AcdAgent, CallRef, OfferOutcome};
use hotline_record::{HungUpBy, Outcome};
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::TxId;
use hotline_sip::{Request, Response};

use super::{start_recorded_bridge, Party, Talking};
use crate::call::Ending;
use crate::core::{Core, Side};
use crate::media;

impl Core {
    /// The agent's phone answered: check its answer, connect the caller, start recording.
    pub(crate) fn agent_answered(&mut self, now: Instant, call: CallRef, tx: TxId, resp: Response) {
        let policy = self.media_policy();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.talking().is_some_and(|t| t.agent_tx != tx) {
            // Ring-all: a second phone answered as the first did; it is hung up.
            if let Some(leg) = c.take_leg(tx) {
                self.ack_and_bye(now, &leg.invite, &resp, leg.peer);
            }
            return;
        }
        if let Some(t) = c.talking() {
            // A retransmitted 200: our ACK was lost, send it again, for the INVITE the 200
            // answers (after an attended transfer the dialog's last INVITE is the move).
            let seq = resp.cseq().map_or(t.agent_invite_seq, |c| c.seq);
            let ack = t
                .agent_dialog
                .ack(seq, &self.local.via(t.agent_peer.transport));
            self.endpoint.send_stateless(t.agent_peer, ack.to_bytes());
            return;
        }
        let Some(leg) = c.take_leg(tx) else { return };
        // The ACD's agent; a trunk (a call out, a legacy city) is nobody the ACD knows.
        let agent = leg.party.agent().map(|id| AcdAgent(id.to_string()));
        let contact = self.local.contact();
        // Everything is checked before the ACD hears of the answer, so a broken answer only
        // costs this agent the offer and the caller stays queued.
        let checked = Dialog::as_uac(&leg.invite, &resp, &contact).and_then(|agent_dialog| {
            let agent_media = media::peer_of_answer_body(&resp.body, leg.peer.addr.ip(), &policy)?;
            let caller_dialog = Dialog::as_uas(&c.caller.invite, &c.caller.tag, &contact)?;
            Some((agent_dialog, agent_media, caller_dialog))
        });
        let direct = c.rings_directly();
        let Some((agent_dialog, agent_media, caller_dialog)) = checked else {
            note!(
                self.notes,
                Warn,
                c.about(),
                "agent answered without a usable To tag or SDP; trying another agent agent={}",
                leg.party
            );
            self.ack_and_bye(now, &leg.invite, &resp, leg.peer);
            if direct {
                self.direct_ring_ended(now, call, &leg.party, false);
                self.fail_direct(now, call, 502);
            } else if let Some(agent) = &agent {
                self.acd
                    .offer_failed(now, call, agent, OfferOutcome::Failed);
            }
            return;
        };
        let offer_stale = |acd: &mut hotline_acd::Acd| {
            agent
                .as_ref()
                .is_none_or(|a| acd.answered(now, call, a).is_err())
        };
        if !direct && offer_stale(&mut self.acd) {
            self.ack_and_bye(now, &leg.invite, &resp, leg.peer);
            return;
        }
        let invite_seq = leg.invite.cseq().map_or(1, |c| c.seq);
        let ack = agent_dialog.ack(invite_seq, &self.local.via(leg.peer.transport));
        self.endpoint.send_stateless(leg.peer, ack.to_bytes());
        if let (true, Some(agent)) = (direct, &agent) {
            // The consulted or transferred-to agent is busy on this call now.
            let _ = self.acd.on_call(now, agent, call);
        }
        if let Some(c) = self.calls.get_mut(&call) {
            c.rung = super::Rung::AsUsual;
        }
        self.leg_joined(call, &leg.party);
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        if c.record.ring_ms.is_none() {
            // How long the phone that took the call rang ("within three rings").
            c.record.ring_ms = Some(now.saturating_duration_since(leg.since).as_millis() as u64);
        }
        let early = c.take_early();
        // The leg's port, unless early media already put it in the call's bridge.
        let agent_port = match (leg.media, &early) {
            (Some(port), _) => Some(port),
            (None, Some(_)) => None,
            (None, None) => return,
        };
        let mut talking = Talking {
            party: leg.party,
            agent_tx: tx,
            agent_peer: leg.peer,
            agent_local_media: leg.local_media,
            agent_sip_call_id: leg.sip_call_id,
            agent_sdp: leg.sdp,
            agent_invite_seq: invite_seq,
            caller_dialog,
            agent_dialog,
            bridge: None,
        };
        if c.menu().is_some() {
            let Some(agent_port) = agent_port else { return };
            note!(
                self.notes,
                Info,
                c.about(),
                "agent answered; announcing their number agent={}",
                talking.party
            );
            self.menu_agent_answered(now, call, talking, (agent_port, agent_media));
            return;
        }
        if c.is_parked() {
            // A transferred call without a menu: the caller's media goes on, now with the
            // new party (same recording, same call id, same caller dialog).
            let (Some(parked), Some(agent_port)) = (c.take_parked(), agent_port) else {
                return;
            };
            parked
                .bridge
                .media()
                .connect_agent((agent_port, agent_media));
            note!(
                self.notes,
                Info,
                c.about(),
                "transferred call connected agent={}",
                talking.party
            );
            // The caller's dialog goes on from where the parked call left it (its CSeq).
            talking.caller_dialog = parked.caller_dialog;
            talking.bridge = Some(parked.bridge);
            c.connect(talking);
            c.record.outcome = Outcome::Answered;
            self.out.record(&c.record);
            return;
        }
        let answer =
            self.local
                .answer_with_sdp(&c.caller.invite, &c.caller.tag, &c.caller.answer_sdp);
        self.endpoint.respond(now, c.caller.tx, answer);
        let answered_at = self.wall;
        let bridge = match early {
            Some(bridge) => {
                // Early media already flows and records; the answer may move the far end.
                bridge.update(Side::Agent, agent_media);
                bridge
            }
            None => {
                let (Some(caller_port), Some(agent_port)) = (c.caller.media.take(), agent_port)
                else {
                    return;
                };
                let caller = (caller_port, c.caller.peer_media);
                let agent = (agent_port, agent_media);
                let ctx = super::Bridging {
                    notes: &self.notes,
                    recordings: &self.recordings,
                    media_ids: &mut self.media_ids,
                    out: &self.out,
                    wall: self.wall,
                    prompts: &self.prompts,
                };
                start_recorded_bridge(ctx, call, c, caller, agent)
            }
        };
        note!(
            self.notes,
            Info,
            c.about(),
            "agent answered; call bridged and recording agent={}",
            talking.party
        );
        match &c.kind {
            super::CallKind::Taxpayer => c.record.agent = talking.party.agent().map(str::to_string),
            // A legacy city's call: the old system answered; the platform has no agent on it.
            super::CallKind::Legacy => c.record.outcome = Outcome::Forwarded,
            super::CallKind::PlacedBy(_) => {}
        }
        c.record.answered_at = Some(answered_at);
        if c.record.outcome != Outcome::Forwarded {
            c.record.outcome = Outcome::Answered;
        }
        if c.record.direction == hotline_record::Direction::Outbound {
            // The taxpayer was reached: their open callbacks are done (100% followed up).
            if let Some(number) = &c.record.dialled {
                self.out.write(StoreWrite::CalledBack(number.clone()));
            }
        }
        c.record.waited_ms = Some(
            (answered_at - c.record.offered_at)
                .num_milliseconds()
                .max(0) as u64,
        );
        talking.bridge = Some(bridge);
        c.connect(talking);
        self.out.record(&c.record);
    }

    /// A request inside one of a call's dialogs (tags already checked).
    pub(crate) fn on_dialog_request(
        &mut self,
        now: Instant,
        call: CallRef,
        side: Side,
        tx: TxId,
        req: Request,
    ) {
        let talking = self.calls.get(&call).is_some_and(|c| c.is_talking());
        let menu = self.calls.get(&call).is_some_and(|c| c.menu().is_some());
        let tag = match (self.calls.get(&call), side) {
            (Some(c), Side::Caller) => c.caller.tag.clone(),
            (Some(c), Side::Agent) => c
                .talking()
                .map(|t| t.agent_dialog.local_tag.clone())
                .unwrap_or_else(|| self.local.token()),
            (None, _) => self.local.token(),
        };
        match req.method {
            Method::Bye if menu => {
                self.reply(now, tx, &req, 200, &tag);
                match side {
                    Side::Caller => self.end(now, call, Ending::By(HungUpBy::Caller)),
                    Side::Agent => self.menu_agent_hung_up(now, call),
                }
            }
            Method::Info if menu && side == Side::Caller => {
                self.reply(now, tx, &req, 200, &tag);
                if let Some(d) = crate::dtmf_info::digit(&req) {
                    let paced = self
                        .calls
                        .get_mut(&call)
                        .and_then(|c| c.menu_mut())
                        .map(|m| {
                            let (start, pace) = &mut m.info_keys;
                            let ms = now.saturating_duration_since(*start).as_millis();
                            let taken = pace.take(u64::try_from(ms).unwrap_or(u64::MAX));
                            (taken, pace.dropped)
                        });
                    match paced {
                        Some((true, _)) => self.ivr_event(now, call, hotline_ivr::Event::Digit(d)),
                        Some((false, 1)) => note!(
                            self.notes,
                            Warn,
                            self.about_call(call),
                            "caller sends keys by INFO faster than anyone presses them: dropped"
                        ),
                        _ => {}
                    }
                }
            }
            Method::Bye if talking => {
                self.reply(now, tx, &req, 200, &tag);
                let by = match side {
                    Side::Caller => HungUpBy::Caller,
                    Side::Agent => HungUpBy::Agent,
                };
                self.end(now, call, Ending::By(by));
            }
            Method::Bye if self.calls.get(&call).is_some_and(|c| c.is_parked()) => {
                // The caller hung up while their transferred call waited for the next party.
                self.reply(now, tx, &req, 200, &tag);
                self.end(now, call, Ending::By(HungUpBy::Caller));
            }
            Method::Bye => {
                // BYE on the caller's early dialog (RFC 3261 15): they gave up waiting.
                self.reply(now, tx, &req, 200, &tag);
                self.end(now, call, Ending::By(HungUpBy::Caller));
            }
            Method::Refer if talking && side == Side::Agent => self.on_refer(now, call, tx, req),
            Method::Invite => self.on_reinvite(now, call, side, tx, req),
            Method::Info | Method::Options | Method::Notify => self.reply(now, tx, &req, 200, &tag),
            _ => self.reply(now, tx, &req, 405, &tag),
        }
    }

    /// re-INVITE (hold, codec change): answered by the switch for its own leg; the other
    /// leg is not disturbed because the switch anchors the media.
    fn on_reinvite(&mut self, now: Instant, call: CallRef, side: Side, tx: TxId, req: Request) {
        let policy = self.media_policy();
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        // The caller's leg is answered once the menu, the agent or a transfer has it; the
        // agent's only while connected.
        let caller_answered = c.caller_answered();
        let leg = match (side, c.talking_mut()) {
            (Side::Caller, _) if caller_answered => Some((
                c.caller.peer.addr.ip(),
                c.caller.local_media,
                c.caller.tag.clone(),
                &mut c.caller.sdp,
            )),
            (Side::Agent, Some(t)) => Some((
                t.agent_peer.addr.ip(),
                t.agent_local_media,
                t.agent_dialog.local_tag.clone(),
                &mut t.agent_sdp,
            )),
            _ => None,
        };
        let Some((signalled, local, tag, sdp)) = leg else {
            let tag = c.caller.tag.clone();
            self.reply(now, tx, &req, 491, &tag);
            return;
        };
        let Some((body, peer)) = media::reinvite_body(&req.body, local, sdp, signalled, &policy)
        else {
            return self.reply(now, tx, &req, 488, &tag);
        };
        if let (Some(peer), Some(m)) = (peer, c.media()) {
            m.update(side, peer);
        }
        let r = self.local.answer_with_sdp(&req, &tag, &body);
        self.endpoint.respond(now, tx, r);
    }

    /// A transaction gave up.
    pub(crate) fn on_timeout(&mut self, now: Instant, tx: TxId) {
        if self.owners.remove_orphan(tx).is_some() {
            return;
        }
        match self.owners.leg(tx) {
            Some((call, Side::Agent)) => {
                let ringing = self.calls.get(&call).is_some_and(|c| !c.is_talking());
                if ringing {
                    self.agent_declined(now, call, tx, 408);
                }
            }
            Some((call, Side::Caller)) => {
                // Our 200 was never ACKed: the caller is gone, whatever the call was doing
                // meanwhile (also waiting, parked, for a transfer's next party).
                let Some(c) = self.calls.get(&call) else {
                    return;
                };
                if c.menu().is_some() {
                    self.end(now, call, Ending::By(HungUpBy::Caller));
                } else if c.caller_answered() {
                    self.end(now, call, Ending::By(HungUpBy::Switch));
                }
            }
            None => {}
        }
    }
}

/// Who ended the call in the record's terms (caller = the taxpayer) from which of the
/// switch's legs hung up: on a call placed by an agent (a call out, a consultation) the
/// switch's caller leg is the agent and its far leg the taxpayer (or a colleague).
pub(super) fn who_hung_up(c: &super::Call, far: &Party, leg: HungUpBy) -> HungUpBy {
    let placed_by_agent = c.kind.placed_by().is_some();
    if !placed_by_agent {
        return leg;
    }
    let far_is_agent = matches!(far, Party::Agent(_));
    match leg {
        HungUpBy::Caller => HungUpBy::Agent,
        HungUpBy::Agent if far_is_agent => HungUpBy::Agent,
        HungUpBy::Agent => HungUpBy::Caller,
        HungUpBy::Switch => HungUpBy::Switch,
    }
}
