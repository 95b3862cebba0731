//! Calls the ACD does not distribute: an agent calling a taxpayer back through a carrier
//! trunk (回访), an agent calling another agent (a consultation before an attended
//! transfer), and a legacy region's taxpayer calls forwarded to the city's old system (割接).
//! The far leg is rung directly; if it fails, the call fails with its status.

use std::time::{Duration, Instant};

use crate::notes::{note, About};
use hotline_acd::CallRef;
use hotline_record::{CallRecord, Direction, Outcome};
use hotline_sip::message::SipMessage;
use hotline_sip::transaction::{Peer, Transport, TxId};
use hotline_sip::{HeaderName, Request, Response};

use super::{start_recorded_bridge, CallKind, Party};
use crate::core::Core;
use crate::media;

/// How long a consulted colleague's phone rings before the consultation fails.
const CONSULT_RING: Duration = Duration::from_secs(30);

impl Core {
    /// An agent dialled the outbound prefix and a number: checked against toll fraud,
    /// then rung.
    pub(crate) fn call_out(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Request,
        from: Peer,
        agent: &str,
        number: &str,
    ) {
        let trunk = match self.may_call_out(now, agent, number) {
            Ok(trunk) => trunk,
            Err(why) => {
                note!(
                    self.notes,
                    Warn,
                    About::Switch,
                    "call out refused agent={} number={} why={}",
                    agent,
                    number,
                    why
                );
                self.refuse(now, tx, &req, 403);
                return;
            }
        };
        let Some(call) = self.direct_call(now, tx, req, from, agent) else {
            return;
        };
        // Counted once the call is placed: a call refused for its SDP (488) is no call out.
        self.count_call_out(now, agent);
        if let Some(c) = self.calls.get_mut(&call) {
            c.record.direction = Direction::Outbound;
            c.record.dialled = Some(number.to_string());
            c.record.agent = Some(agent.to_string());
            c.kind = CallKind::PlacedBy(agent.to_string());
            self.out.record(&c.record);
        }
        self.acd_outbound(now, agent, call);
        self.ring_trunk(now, call, &trunk, number);
    }

    /// An agent dialled another agent's number (a consultation): the other phone rings.
    pub(crate) fn call_agent(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Request,
        from: Peer,
        agent: &str,
        other: &str,
    ) {
        let Some(call) = self.direct_call(now, tx, req, from, agent) else {
            return;
        };
        if let Some(c) = self.calls.get_mut(&call) {
            c.record.agent = Some(agent.to_string());
            c.record.dialled = Some(other.to_string());
            c.kind = CallKind::PlacedBy(agent.to_string());
        }
        self.acd_outbound(now, agent, call);
        self.ring_direct_agent(now, call, other);
    }

    /// The caller leg and record of a call placed from a phone, not yet rung anywhere.
    fn direct_call(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Request,
        from: Peer,
        agent: &str,
    ) -> Option<CallRef> {
        let caller_media = match self.caller_media(&req, from) {
            Ok(m) => m,
            Err(status) => {
                self.refuse(now, tx, &req, status);
                return None;
            }
        };
        let mut record = CallRecord::new(self.new_call_id(), agent, self.wall);
        // A call out says so when it is placed; until then it is one agent calling another.
        record.direction = Direction::Internal;
        record.region = self
            .plan
            .dialplan
            .agent(agent)
            .map(|a| a.region.as_str().to_string());
        record.outcome = Outcome::Ringing;
        Some(self.add_call(
            now,
            (tx, req, from),
            agent.to_string(),
            caller_media,
            record,
        ))
    }

    /// Marks the agent busy on their call out, so the ACD offers them nothing meanwhile.
    fn acd_outbound(&mut self, now: Instant, agent: &str, call: CallRef) {
        let id = hotline_acd::AgentId(agent.to_string());
        if let Err(e) = self.acd.on_call(now, &id, call) {
            note!(
                self.notes,
                Warn,
                About::Switch,
                "agent not marked busy on their call out agent={} error={}",
                agent,
                e
            );
        }
    }

    /// The agent's part in `call` is over: ends their ACD call (wrap-up) if the ACD has
    /// them busy with this call, and not if with another (a consultation's caller).
    pub(crate) fn end_agent_call(&mut self, now: Instant, agent: &str, call: CallRef) {
        let id = hotline_acd::AgentId(agent.to_string());
        if self.acd.busy_with(&id) == Some(call) {
            self.acd.call_ended(now, &id);
        }
    }

    /// `party`'s phone stopped ringing for `call` unanswered (turned down when `declined`):
    /// if it was rung by number (a transfer, a consultation), the ACD may offer that agent
    /// calls again, at the back of the line if they declined.
    pub(crate) fn direct_ring_ended(
        &mut self,
        now: Instant,
        call: CallRef,
        party: &Party,
        declined: bool,
    ) {
        if let Party::Agent(id) = party {
            let id = hotline_acd::AgentId(id.clone());
            if declined {
                self.acd.direct_ring_declined(now, &id, call);
            } else {
                self.acd.direct_ring_ended(now, &id, call);
            }
        }
    }

    /// [`Core::end_agent_call`] for whoever the caller talked to; nothing for a trunk.
    pub(crate) fn end_party_call(&mut self, now: Instant, party: &Party, call: CallRef) {
        if let Party::Agent(id) = party {
            self.end_agent_call(now, id, call);
        }
    }

    /// Rings a trunk (a call out, or a legacy city's old system) with the trunk's caller id.
    pub(crate) fn ring_trunk(&mut self, now: Instant, call: CallRef, trunk: &str, number: &str) {
        let Some(t) = self.plan.dialplan.trunk_named(trunk).cloned() else {
            self.fail_direct(now, call, 503);
            return;
        };
        // A legacy city's old system sees the taxpayer's number (forwarded or transferred
        // there); everyone else reached through a trunk (a call out, a transfer outside) sees
        // the hotline's.
        let legacy_trunk = self.is_legacy_trunk(&t.name);
        let caller_id = match self.calls.get(&call) {
            Some(c) if legacy_trunk && c.record.direction == Direction::Inbound => {
                c.caller.number.clone()
            }
            _ => t
                .caller_id
                .clone()
                .unwrap_or_else(|| self.plan.dialplan.service_number().to_string()),
        };
        let target = t.target();
        let transport = if t.tcp {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let ruri = format!("sip:{number}@{target}");
        let peer = Peer {
            addr: target,
            transport,
        };
        self.ring_leg(now, call, Party::Trunk(t.name), ruri, &caller_id, peer);
    }

    /// Rings an agent's phone directly (consultation, transfer to an agent).
    pub(crate) fn ring_direct_agent(&mut self, now: Instant, call: CallRef, agent: &str) {
        let Some((contact, peer)) = self.agent_target(agent) else {
            self.fail_direct(now, call, 480);
            return;
        };
        // One call rings a phone at a time: the ACD offers them nothing while this rings.
        if self
            .acd
            .ring_directly(now, &hotline_acd::AgentId(agent.to_string()), call)
            .is_err()
        {
            if let Some(c) = self.calls.get(&call) {
                note!(
                    self.notes,
                    Info,
                    c.about(),
                    "busy: not rung agent={}",
                    agent
                );
            }
            self.fail_direct(now, call, 486);
            return;
        }
        let number = self
            .calls
            .get(&call)
            .map(|c| c.caller.number.clone())
            .unwrap_or_default();
        let party = Party::Agent(agent.to_string());
        self.ring_leg(now, call, party, contact, &number, peer);
    }

    /// Sends the far leg's INVITE; if it cannot even be sent, the direct call fails.
    fn ring_leg(
        &mut self,
        now: Instant,
        call: CallRef,
        party: Party,
        ruri: String,
        from_number: &str,
        peer: Peer,
    ) {
        if !self.send_leg(now, call, party.clone(), &ruri, from_number, peer) {
            if let Some(c) = self.calls.get_mut(&call) {
                c.failed_at_once = Some(now);
            }
            self.direct_ring_ended(now, call, &party, false);
            self.fail_direct(now, call, 503);
        }
    }

    /// A trunk's 183 with SDP on a call out or a legacy forward: the carrier's announcement
    /// or ringback goes through to the caller leg (183 with our SDP) before the answer, and
    /// is recorded. Returns false when the call gets a plain 180 instead.
    pub(crate) fn early_media(
        &mut self,
        now: Instant,
        call: CallRef,
        tx: TxId,
        resp: &Response,
    ) -> bool {
        let policy = self.media_policy();
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        if !c.kind.is_direct() || c.has_early() || c.menu().is_some() {
            return false;
        }
        let signalled = c.leg_mut(tx).map(|l| l.peer.addr.ip());
        let Some(far) =
            signalled.and_then(|ip| media::peer_of_answer_body(&resp.body, ip, &policy))
        else {
            return false;
        };
        let Some(leg) = c.leg_mut(tx) else {
            return false;
        };
        if !matches!(leg.party, Party::Trunk(_)) {
            return false;
        }
        let (Some(far_port), Some(caller_port)) = (leg.media.take(), c.caller.media.take()) else {
            return false;
        };
        let caller = (caller_port, c.caller.peer_media);
        let ctx = super::Bridging {
            notes: &self.notes,
            recordings: &self.recordings,
            media_ids: &mut self.media_ids,
            out: &self.out,
            wall: self.wall,
            prompts: &self.prompts,
        };
        let bridge = start_recorded_bridge(ctx, call, c, caller, (far_port, far));
        c.stage = super::Stage::Waiting {
            early: Some(bridge),
        };
        note!(
            self.notes,
            Info,
            c.about(),
            "early media from the trunk passed through"
        );
        let mut progress = self.local.response(&c.caller.invite, 183, &c.caller.tag);
        progress
            .headers
            .push(HeaderName::ContentType, "application/sdp");
        progress.body = c.caller.answer_sdp.clone().into_bytes();
        if self.endpoint.is_pending(c.caller.tx) {
            self.endpoint.respond(now, c.caller.tx, progress);
        }
        true
    }

    /// A trunk challenged the far INVITE: answered once with the trunk's credentials.
    /// Returns false when the challenge cannot be answered (the call then fails).
    pub(crate) fn answer_trunk_challenge(
        &mut self,
        now: Instant,
        call: CallRef,
        tx: TxId,
        resp: &Response,
    ) -> bool {
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        // The leg knows its trunk: a call out, a legacy forward or a transfer outside.
        let Some(leg) = c.leg_mut(tx) else {
            return false;
        };
        let Party::Trunk(name) = &leg.party else {
            return false;
        };
        let name = name.clone();
        if leg.auth_tried {
            return false;
        }
        leg.auth_tried = true;
        let Some(creds) = self
            .plan
            .dialplan
            .trunk_named(&name)
            .and_then(|t| t.credentials.clone())
        else {
            return false;
        };
        // Parsed header names of no known kind are kept in lower case.
        let (challenge_header, answer_as) = if resp.status == 407 {
            (
                HeaderName::Other("proxy-authenticate".into()),
                HeaderName::Other("Proxy-Authorization".into()),
            )
        } else {
            (HeaderName::WwwAuthenticate, HeaderName::Authorization)
        };
        // The first challenge the switch can answer (a trunk may offer several algorithms).
        let challenge = resp
            .headers
            .get_all(&challenge_header)
            .into_iter()
            .filter_map(hotline_sip::digest::Challenge::parse)
            .find(|c| {
                c.algorithm.as_deref().is_none_or(|a| {
                    a.eq_ignore_ascii_case("md5") || a.eq_ignore_ascii_case("sha-256")
                })
            });
        let Some(leg) = c.leg_mut(tx) else {
            return false;
        };
        let Some(answer) = challenge.and_then(|ch| {
            ch.answer(
                "INVITE",
                &leg.invite.uri,
                &creds.username,
                &creds.password,
                &self.local.token(),
            )
        }) else {
            return false;
        };
        let mut invite = leg.invite.clone();
        let seq = invite.cseq().map_or(1, |c| c.seq) + 1;
        invite
            .headers
            .set(HeaderName::CSeq, format!("{seq} INVITE"));
        invite
            .headers
            .set(HeaderName::Via, self.local.via(leg.peer.transport));
        invite.headers.push(answer_as, answer);
        let peer = leg.peer;
        let Some(new_tx) = self.endpoint.send_request(now, invite.clone(), peer) else {
            return false;
        };
        leg.invite = invite;
        leg.tx = new_tx;
        leg.provisional = false;
        true
    }

    /// Gives up legs the ACD does not time (a transfer's new party: the region's ring
    /// timeout, then back to the queue; a consulted colleague: 30 s); calls out ring until
    /// the agent hangs up or the far end gives up.
    pub(crate) fn ring_timeouts(&mut self, now: Instant) {
        let mut expired: Vec<(CallRef, TxId)> = Vec::new();
        for (id, c) in self.calls.iter() {
            for leg in &c.ringing {
                let limit = if c.rung == super::Rung::ForTransfer {
                    let region = c.record.region.as_deref().unwrap_or_default();
                    self.plan
                        .dialplan
                        .region_named(region)
                        .map_or(Duration::from_secs(15), |r| r.ring_timeout)
                } else if c.kind.is_direct() && matches!(leg.party, Party::Agent(_)) {
                    CONSULT_RING
                } else {
                    continue;
                };
                if now.saturating_duration_since(leg.since) >= limit {
                    expired.push((*id, leg.tx));
                }
            }
        }
        for (call, tx) in expired {
            let Some(leg) = self.calls.get_mut(&call).and_then(|c| c.take_leg(tx)) else {
                continue;
            };
            if let Some(c) = self.calls.get(&call) {
                note!(self.notes, Info, c.about(), "rang out party={}", leg.party);
            }
            self.cancel_leg(now, call, leg);
            self.fail_direct(now, call, 480);
        }
    }
}
