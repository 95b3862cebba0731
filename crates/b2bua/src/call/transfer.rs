//! Transfer (转办): an agent hands a call on with the phone's transfer key (REFER, RFC 3515).
//!
//! Blind: `Refer-To` names an agent, a region's queue or an outside number behind the
//! outbound prefix; the switch takes the agent out, plays the caller hold music and rings
//! the new party (or queues the call). Attended: the agent first called a colleague through
//! the switch (a consultation), then sends `Refer-To: <colleague?Replaces=consultation>`;
//! the switch moves the colleague onto the caller's call with a re-INVITE to the port the
//! first agent used, so the caller's media, recording and call id never change. Either way
//! the transferor gets NOTIFY (sipfrag 200) and BYE, and the `legs` table lists everyone.

use std::time::Instant;

use crate::notes::{note, About};
use hotline_acd::{CallRef, QueueId};
use hotline_record::Outcome;
use hotline_routing::pattern::is_domestic;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::TxId;
use hotline_sip::{HeaderName, NameAddr, Request, SipUri};

use super::close_legs;
use crate::core::{Core, Side};

/// The prompt a transferred caller of a plan without a menu hears while waiting.
const MUSIC_ON_HOLD: &str = "moh";

/// Where a blind transfer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TransferTarget {
    /// One agent, rung directly.
    Agent(String),
    /// A region's queue (the experts, another city, the centre).
    Queue(String),
    /// An outside number through a trunk.
    Outside { trunk: String, number: String },
    /// A legacy city's old system (割接), over its trunk.
    Legacy { trunk: String, number: String },
}

/// The dialog an attended transfer replaces (RFC 3891).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replaces {
    pub call_id: String,
    /// The dialog's two tags, when given (`to-tag`, `from-tag`), in either orientation.
    pub tags: Vec<String>,
}

/// `Refer-To`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReferTo {
    pub user: String,
    pub replaces: Option<Replaces>,
}

/// Parses a `Refer-To` value: `<sip:user@host?Replaces=...>` (or without brackets).
pub(crate) fn parse_refer_to(value: &str) -> Option<ReferTo> {
    let refer_to = NameAddr::parse(value)?;
    let (uri, headers) = refer_to.uri.split_once('?').unwrap_or((&refer_to.uri, ""));
    let user = SipUri::parse(uri)?.user?;
    let replaces = headers.split('&').find_map(|h| {
        let (name, value) = h.split_once('=')?;
        name.eq_ignore_ascii_case("replaces").then_some(value)
    });
    // A Replaces that does not read is refused, not taken for a blind transfer.
    let replaces = match replaces {
        Some(value) => Some(parse_replaces(value)?),
        None => None,
    };
    (!user.is_empty()).then_some(ReferTo { user, replaces })
}

/// A percent-encoded Replaces value: `call-id;to-tag=..;from-tag=..`.
fn parse_replaces(value: &str) -> Option<Replaces> {
    let decoded = percent_decode(value)?;
    let mut parts = decoded.split(';');
    let call_id = parts.next()?.trim().to_string();
    let tags = parts
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            let k = k.trim().to_ascii_lowercase();
            (k == "to-tag" || k == "from-tag").then(|| v.trim().to_string())
        })
        .collect();
    (!call_id.is_empty()).then_some(Replaces { call_id, tags })
}

/// `%XX` decoding of a URI header value; `None` if malformed or not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Core {
    /// A REFER on the agent's side of a connected call.
    pub(crate) fn on_refer(&mut self, now: Instant, call: CallRef, tx: TxId, req: Request) {
        let Some(c) = self.calls.get(&call) else {
            return;
        };
        let Some(t) = c.talking() else {
            let tag = c.caller.tag.clone();
            self.reply(now, tx, &req, 403, &tag);
            return;
        };
        let tag = t.agent_dialog.local_tag.clone();
        // Only an agent on a taxpayer's call may hand it on: not a trunk's far end (a call
        // out, a legacy city) nor a consulted colleague.
        let transferor = match t.party.agent() {
            Some(id) if !c.kind.is_direct() && self.plan.dialplan.agent(id).is_some() => {
                id.to_string()
            }
            _ => {
                note!(
                    self.notes,
                    Warn,
                    c.about(),
                    "REFER refused: not an agent on a taxpayer's call party={}",
                    t.party
                );
                self.reply(now, tx, &req, 403, &tag);
                return;
            }
        };
        let Some(refer_to) = req
            .headers
            .get(&HeaderName::ReferTo)
            .and_then(parse_refer_to)
        else {
            self.reply(now, tx, &req, 400, &tag);
            return;
        };
        if let Some(replaces) = &refer_to.replaces {
            match self.consultation(replaces, &transferor) {
                Some(consult) => {
                    self.reply(now, tx, &req, 202, &tag);
                    self.attended_transfer(now, call, consult);
                }
                None => self.reply(now, tx, &req, 481, &tag),
            }
            return;
        }
        let Some(target) = self.blind_target(&refer_to.user, &transferor) else {
            self.reply(now, tx, &req, 404, &tag);
            return;
        };
        if let TransferTarget::Outside { number, .. } = &target {
            // A transfer outside is a call out on the agent's account: same checks, counted.
            if let Err(why) = self.may_call_out(now, &transferor, number) {
                note!(
                    self.notes,
                    Warn,
                    About::Switch,
                    "transfer outside refused transferor={} number={} why={}",
                    transferor,
                    number,
                    why
                );
                self.reply(now, tx, &req, 403, &tag);
                return;
            }
            self.count_call_out(now, &transferor);
            if let Some(c) = self.calls.get_mut(&call) {
                c.record.dialled = Some(number.clone());
            }
        }
        self.reply(now, tx, &req, 202, &tag);
        self.blind_transfer(now, call, target);
    }

    /// Where a blind transfer to `user` goes, if anywhere the dialplan allows.
    fn blind_target(&self, user: &str, transferor: &str) -> Option<TransferTarget> {
        let d = &self.plan.dialplan;
        if d.agent(user).is_some() {
            return (user != transferor).then(|| TransferTarget::Agent(user.to_string()));
        }
        if let Some(r) = d.region_named(user) {
            return Some(match r.legacy_trunk() {
                None => TransferTarget::Queue(r.id.as_str().to_string()),
                Some(trunk) => TransferTarget::Legacy {
                    trunk: trunk.to_string(),
                    number: d.service_number().to_string(),
                },
            });
        }
        let number = user.strip_prefix(d.switch.outbound_prefix.as_str())?;
        if d.switch.outbound_prefix.is_empty() || !is_domestic(number) {
            return None;
        }
        let trunk = d.trunk_for(number)?;
        Some(TransferTarget::Outside {
            trunk: trunk.name.clone(),
            number: number.to_string(),
        })
    }

    /// The transferor's connected consultation that `replaces` names (their own only): its
    /// Call-ID, and its tags when given (phones differ in which they call to and from).
    fn consultation(&self, replaces: &Replaces, transferor: &str) -> Option<CallRef> {
        let (id, side) = self.dialogs.call(&replaces.call_id)?;
        let c = self.calls.get(&id)?;
        let mine = c.kind.placed_by() == Some(transferor);
        let their_tag = c
            .caller
            .invite
            .party_from()
            .and_then(|f| f.tag().map(str::to_string))
            .unwrap_or_default();
        let tags_ok = replaces
            .tags
            .iter()
            .all(|t| *t == c.caller.tag || *t == their_tag);
        (side == Side::Caller && mine && tags_ok && c.is_talking()).then_some(id)
    }

    /// Tells the transferor the transfer happened and hangs their leg up.
    pub(super) fn release_transferor(
        &mut self,
        now: Instant,
        mut dialog: hotline_sip::dialog::Dialog,
        peer: hotline_sip::transaction::Peer,
    ) {
        let via = self.local.via(peer.transport);
        let mut notify = dialog.request(Method::Notify, &via);
        notify.headers.push(HeaderName::Event, "refer");
        notify.headers.push(
            HeaderName::Other("Subscription-State".into()),
            "terminated;reason=noresource",
        );
        notify
            .headers
            .push(HeaderName::ContentType, "message/sipfrag;version=2.0");
        notify.body = b"SIP/2.0 200 OK\r\n".to_vec();
        self.endpoint.send_request(now, notify, peer);
        let bye = dialog.request(Method::Bye, &self.local.via(peer.transport));
        self.endpoint.send_request(now, bye, peer);
    }

    /// The agent leaves the call (blind transfer): out of the indexes, their leg closed,
    /// the ACD told, NOTIFY and BYE sent, supervisors (whose scope was that agent) hung up,
    /// the caller's media disconnected from them (kept, parked, for a call without a menu).
    fn take_out_agent(&mut self, now: Instant, call: CallRef) -> bool {
        self.end_monitors_of(now, call);
        let Some(c) = self.calls.get_mut(&call) else {
            return false;
        };
        let Some(t) = c.take_talking() else {
            return false;
        };
        close_legs(&mut self.out, self.wall, &mut c.legs);
        note!(
            self.notes,
            Info,
            c.about(),
            "agent transferred the call agent={}",
            t.party
        );
        match c.menu_mut() {
            Some(m) => {
                // Also mid-announcement: the agent's media must never be connected now.
                m.agent_media = None;
                m.media.disconnect_agent();
            }
            None => {
                if let Some(bridge) = t.bridge {
                    bridge.media().disconnect_agent();
                    // Without a menu, the switch's own music on hold (`moh`), when it has
                    // one, rather than silence; the next party's answer stops it.
                    bridge
                        .media()
                        .play(0, vec![MUSIC_ON_HOLD.to_string()], true);
                    c.stage = super::Stage::Parked(super::Parked {
                        bridge,
                        caller_dialog: t.caller_dialog,
                    });
                }
            }
        }
        self.end_party_call(now, &t.party, call);
        self.release_transferor(now, t.agent_dialog, t.agent_peer);
        true
    }

    /// Blind transfer: the caller waits with music while the new party is rung or queued.
    fn blind_transfer(&mut self, now: Instant, call: CallRef, target: TransferTarget) {
        if !self.take_out_agent(now, call) {
            return;
        }
        if let Some(c) = self.calls.get(&call) {
            note!(
                self.notes,
                Info,
                c.about(),
                "blind transfer target={:?}",
                target
            );
        }
        match target {
            TransferTarget::Queue(region) => self.transfer_to_queue(now, call, Some(region)),
            TransferTarget::Agent(agent) => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.rung = super::Rung::ForTransfer;
                }
                if self.calls.get(&call).is_some_and(|c| c.menu().is_some()) {
                    self.ivr_event(now, call, hotline_ivr::Event::TransferToParty);
                }
                self.ring_direct_agent(now, call, &agent);
            }
            TransferTarget::Outside { trunk, number }
            | TransferTarget::Legacy { trunk, number } => {
                if let Some(c) = self.calls.get_mut(&call) {
                    c.rung = super::Rung::ForTransfer;
                }
                if self.calls.get(&call).is_some_and(|c| c.menu().is_some()) {
                    self.ivr_event(now, call, hotline_ivr::Event::TransferToParty);
                }
                self.ring_trunk(now, call, &trunk, &number);
            }
        }
    }

    /// Queues a transferred call (or one whose transfer target did not answer): `region`'s
    /// queue, or the caller's own.
    pub(crate) fn transfer_to_queue(
        &mut self,
        now: Instant,
        call: CallRef,
        region: Option<String>,
    ) {
        let Some(c) = self.calls.get_mut(&call) else {
            return;
        };
        c.rung = super::Rung::AsUsual;
        if c.menu().is_some() {
            self.ivr_event(now, call, hotline_ivr::Event::TransferToQueue(region));
            return;
        }
        let queue = region
            .or_else(|| c.record.region.clone())
            .unwrap_or_else(|| self.plan.dialplan.switch.centre.as_str().to_string());
        // Answered by the transferor: the call stays answered while it waits again.
        if c.record.answered_at.is_none() {
            c.record.outcome = Outcome::Queued;
        }
        let skill = c.record.skill.clone();
        self.acd.call_arrived_for(now, call, QueueId(queue), skill);
    }

    /// A transfer's new party did not answer: the caller goes back to their queue.
    pub(crate) fn transfer_failed(&mut self, now: Instant, call: CallRef, status: u16) {
        if let Some(c) = self.calls.get(&call) {
            note!(
                self.notes,
                Info,
                c.about(),
                "transfer target did not answer; back to the queue status={}",
                status
            );
        }
        self.transfer_to_queue(now, call, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_to_with_and_without_replaces() {
        let blind = parse_refer_to("<sip:1019@127.0.0.1:5060>").unwrap();
        assert_eq!(blind.user, "1019");
        assert_eq!(blind.replaces, None);
        let attended = parse_refer_to(
            "<sip:1019@127.0.0.1?Replaces=abc%40host%3Bto-tag%3D12%3Bfrom-tag%3D34>",
        )
        .unwrap();
        assert_eq!(
            attended.replaces,
            Some(Replaces {
                call_id: "abc@host".into(),
                tags: vec!["12".into(), "34".into()]
            })
        );
        assert_eq!(parse_refer_to("sip:luoyang@h").unwrap().user, "luoyang");
        // A Replaces that does not read is no blind transfer either.
        for bad in [
            "",
            "<>",
            "<sip:@h>",
            "<tel:123>",
            "<sip:1019@h?Replaces=%G1>",
        ] {
            assert!(parse_refer_to(bad).is_none(), "{bad}");
        }
    }
}
