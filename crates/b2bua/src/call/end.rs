//! One end for every call, whatever its stage and whoever ends it: the stage's own duties
//! (who is told what, what the record says), then what every ending shares (ringing phones
//! withdrawn, the ACD told, supervisors let go, legs closed, the media stopped and only
//! then the final record written).

use std::time::Instant;

use crate::notes::note;
use hotline_acd::CallRef;
use hotline_record::{AbandonStage, Callback, CallbackKind, HungUpBy, Outcome, StoreWrite};
use hotline_sip::message::Method;

use super::menu::{callback_of, number_known, MenuSession};
use super::{Call, Parked, Stage, Talking};
use crate::core::Core;
use crate::media_ctl::MediaHandle;

/// How a call ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Hung up by this side of the switch's legs (the switch: keep-alive loss, a failed
    /// move, the menu's end, a stop). Before an answer, the caller giving up.
    By(HungUpBy),
    /// A direct call's far leg said no with this status, which the caller hears.
    Refused(u16),
}

impl Core {
    /// Ends `call`, whatever its stage: every path of a call's end comes here.
    pub(crate) fn end(&mut self, now: Instant, call: CallRef, ending: Ending) {
        let Some(mut c) = self.remove_call(call) else {
            return;
        };
        let stage = std::mem::replace(&mut c.stage, Stage::Waiting { early: None });
        let by = match ending {
            Ending::By(by) => by,
            Ending::Refused(_) => HungUpBy::Switch,
        };
        let media = match stage {
            Stage::Waiting { early } => {
                match ending {
                    Ending::By(_) => self.waiting_ends(now, call, &mut c),
                    Ending::Refused(status) => self.direct_call_refused(now, call, &mut c, status),
                }
                early
            }
            Stage::Menu { menu, talking } => {
                self.menu_call_ends(now, call, &mut c, menu, talking, by)
            }
            Stage::Talking(t) => self.talk_ends(now, call, &mut c, t, by),
            Stage::Parked(p) => self.parked_call_ends(now, call, &mut c, p, by),
        };
        // What every ending shares; each is nothing more to do if the stage did it.
        for leg in std::mem::take(&mut c.ringing) {
            self.cancel_leg(now, call, leg);
        }
        self.acd.abandoned(now, call);
        self.end_monitors_of(now, call);
        self.close_legs(&mut c.legs);
        c.record.ended_at.get_or_insert(self.wall);
        note!(
            self.notes,
            Info,
            c.about(),
            "call ended outcome={} hung_up_by={:?}",
            c.record.outcome,
            c.record.hung_up_by
        );
        self.out.final_record(media, &c.record);
    }

    /// A direct call's far leg said no with `status`: a transfer's next party goes back to
    /// the queue; any other direct call ends with the caller hearing the same.
    pub(crate) fn fail_direct(&mut self, now: Instant, call: CallRef, status: u16) {
        if self
            .calls
            .get(&call)
            .is_some_and(|c| c.rung == super::Rung::ForTransfer)
        {
            self.transfer_failed(now, call, status);
            return;
        }
        self.end(now, call, Ending::Refused(status));
    }

    /// The caller gave up before anyone answered (CANCEL, or BYE on the early dialog), or
    /// the switch stopped: 487 (503 when stopping), the ringing phones stopped, an abandoned
    /// record, and the caller put on the callback list.
    fn waiting_ends(&mut self, now: Instant, call: CallRef, c: &mut Call) {
        if self.stopping.is_some() {
            // Not the caller's doing: the switch stops, and says so.
            self.refuse_stopping(now, c.caller.tx, &c.caller.invite);
        } else {
            let resp = self.local.response(&c.caller.invite, 487, &c.caller.tag);
            self.endpoint.respond(now, c.caller.tx, resp);
        }
        let rang = !c.ringing.is_empty();
        for leg in std::mem::take(&mut c.ringing) {
            self.cancel_leg(now, call, leg);
        }
        let waited = self.acd.abandoned(now, call);
        note!(
            self.notes,
            Info,
            c.about(),
            "caller abandoned waited_ms={:?}",
            waited.map(|w| w.as_millis())
        );
        // On a call an agent placed, the switch's caller is that agent.
        let placed = c.kind.placed_by().is_some();
        if self.stopping.is_none() && !c.kind.is_direct() {
            c.record.abandoned_in = Some(if rang {
                AbandonStage::Ringing
            } else {
                AbandonStage::Queue
            });
        }
        (c.record.outcome, c.record.hung_up_by) = match (self.stopping, placed) {
            (Some(_), _) => (Outcome::Failed, Some(HungUpBy::Switch)),
            (None, true) => (Outcome::Abandoned, Some(HungUpBy::Agent)),
            (None, false) => (Outcome::Abandoned, Some(HungUpBy::Caller)),
        };
        c.record.waited_ms = Some(
            waited
                .map(|w| w.as_millis() as u64)
                .unwrap_or_else(|| super::offer::waited_since(&c.record, self.wall)),
        );
        if c.kind.is_direct() {
            // A call out or a consultation given up by the agent, or a legacy city's caller
            // (whose old system does its own follow-up): nobody to call back here.
            if let Some(agent) = c.kind.placed_by().map(str::to_string) {
                self.end_agent_call(now, &agent, call);
            }
            return;
        }
        // 100% answered or followed up: whoever gave up waiting is called back.
        let cb = Callback {
            id: 0,
            call_id: c.record.call_id.clone(),
            caller: c.record.caller_raw.clone(),
            number: c.record.caller_normalized.clone(),
            region: c.record.region.clone(),
            created_at: self.wall,
            kind: CallbackKind::Abandoned,
            voicemail_path: None,
            state: "open".to_string(),
        };
        self.out.write(StoreWrite::Callback(Box::new(cb)));
    }

    /// A direct call's far leg said no: the caller hears the same (no other agent to try).
    fn direct_call_refused(&mut self, now: Instant, call: CallRef, c: &mut Call, status: u16) {
        let status = match status {
            401 | 407 => 403,
            s @ 400..=699 => s,
            _ => 503,
        };
        if self.endpoint.is_pending(c.caller.tx) {
            let r = self.local.response(&c.caller.invite, status, &c.caller.tag);
            self.endpoint.respond(now, c.caller.tx, r);
        }
        for leg in std::mem::take(&mut c.ringing) {
            self.cancel_leg(now, call, leg);
        }
        if let Some(agent) = c.kind.placed_by().map(str::to_string) {
            self.end_agent_call(now, &agent, call);
        }
        note!(
            self.notes,
            Info,
            c.about(),
            "direct call failed status={}",
            status
        );
        c.record.outcome = Outcome::Failed;
        c.record.hung_up_by = Some(HungUpBy::Switch);
    }

    /// A connected call without a menu ends: BYE to whichever side did not hang up.
    fn talk_ends(
        &mut self,
        now: Instant,
        call: CallRef,
        c: &mut Call,
        mut t: Talking,
        by: HungUpBy,
    ) -> Option<MediaHandle> {
        if by != HungUpBy::Agent {
            let bye = t
                .agent_dialog
                .request(Method::Bye, &self.local.via(t.agent_peer.transport));
            self.endpoint.send_request(now, bye, t.agent_peer);
        }
        if by != HungUpBy::Caller {
            let bye = t
                .caller_dialog
                .request(Method::Bye, &self.local.via(c.caller.peer.transport));
            self.endpoint.send_request(now, bye, c.caller.peer);
        }
        self.end_party_call(now, &t.party, call);
        if let Some(p) = c.kind.placed_by().map(str::to_string) {
            self.end_agent_call(now, &p, call);
        }
        c.record.hung_up_by = Some(super::talk::who_hung_up(c, &t.party, by));
        t.bridge.take()
    }

    /// A call without a menu ends while its transfer rang or queued: `by` the caller (they
    /// hung up) or the switch (it sends the caller BYE).
    fn parked_call_ends(
        &mut self,
        now: Instant,
        call: CallRef,
        c: &mut Call,
        mut p: Parked,
        by: HungUpBy,
    ) -> Option<MediaHandle> {
        for leg in std::mem::take(&mut c.ringing) {
            self.cancel_leg(now, call, leg);
        }
        self.acd.abandoned(now, call);
        c.record.hung_up_by = Some(by);
        if by != HungUpBy::Caller {
            let bye = p
                .caller_dialog
                .request(Method::Bye, &self.local.via(c.caller.peer.transport));
            self.endpoint.send_request(now, bye, c.caller.peer);
        }
        Some(p.bridge)
    }

    /// A menu call ends: BYE to the caller unless they hung up, to the connected party if
    /// any; where a caller who hung up gave up; callbacks for whoever is owed one.
    fn menu_call_ends(
        &mut self,
        now: Instant,
        call: CallRef,
        c: &mut Call,
        mut m: Box<MenuSession>,
        talking: Option<Talking>,
        by: HungUpBy,
    ) -> Option<MediaHandle> {
        let caller_hung_up = by == HungUpBy::Caller;
        if !caller_hung_up {
            let bye = m
                .caller_dialog
                .request(Method::Bye, &self.local.via(c.caller.peer.transport));
            self.endpoint.send_request(now, bye, c.caller.peer);
        }
        let rang = !c.ringing.is_empty();
        for leg in std::mem::take(&mut c.ringing) {
            self.cancel_leg(now, call, leg);
        }
        let in_queue = m.queued_at.is_some() && talking.is_none() && c.record.answered_at.is_none();
        // Where a caller who hung up gave up (the switch stopping is nobody giving up).
        let announcing = talking.is_some() && !c.record.agent_announced;
        if caller_hung_up && self.stopping.is_none() {
            c.record.abandoned_in = match (in_queue, announcing) {
                (true, _) if rang => Some(AbandonStage::Ringing),
                (true, _) => Some(AbandonStage::Queue),
                (false, true) => Some(AbandonStage::Announcement),
                (false, false) => c.record.abandoned_in,
            };
        }
        if let Some(mut t) = talking {
            let bye = t
                .agent_dialog
                .request(Method::Bye, &self.local.via(t.agent_peer.transport));
            self.endpoint.send_request(now, bye, t.agent_peer);
            self.end_party_call(now, &t.party, call);
        }
        // Out of the ACD whatever the stage (a transferred call waits there too; `abandoned`
        // is a no-op for a call that is not queued).
        let waited = self.acd.abandoned(now, call);
        if m.machine.is_before_the_message() && number_known(&c.record) {
            // They asked to leave a message and hung up before the beep: still to follow up.
            let cb = callback_of(self.wall, &c.record, CallbackKind::Voicemail, None, None);
            self.out.write(StoreWrite::Callback(Box::new(cb)));
        }
        if in_queue {
            // A caller cut off by the switch stopping did not give up: failed, called back.
            c.record.outcome = if self.stopping.is_some() {
                Outcome::Failed
            } else {
                Outcome::Abandoned
            };
            c.record.waited_ms = waited.map(|w| w.as_millis() as u64);
            let cb = callback_of(self.wall, &c.record, CallbackKind::Abandoned, None, None);
            self.out.write(StoreWrite::Callback(Box::new(cb)));
        }
        if c.record.hung_up_by.is_none() {
            c.record.hung_up_by = Some(if caller_hung_up {
                HungUpBy::Caller
            } else {
                HungUpBy::Switch
            });
        }
        Some(m.media)
    }
}
