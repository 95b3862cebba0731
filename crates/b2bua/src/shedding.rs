//! The core's side of overload control: each new call or registration goes through the
//! admission brakes before anything is taken for it (a refusal is a 503 with Retry-After),
//! and calls or menus lasting past their limits are ended by the switch.

use std::time::Instant;

use hotline_acd::CallRef;
use hotline_record::HungUpBy;
use hotline_sip::message::reason_phrase;
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::{HeaderName, Request};

use crate::admission::{Asking, NewWork};
use crate::call::{Ending, Stage};
use crate::core::Core;
use crate::notes::{note, About};

impl Core {
    /// Lowers the ceiling on calls in progress to what the process's file limit allows
    /// (the edge counts the descriptors a call needs).
    pub fn limit_calls_by_files(&mut self, calls: usize) {
        self.admission.limit_by_files(calls);
    }

    /// Calls in progress at most now.
    pub fn call_ceiling(&self) -> usize {
        self.admission.ceiling()
    }

    /// Calls in progress as the ceiling counts them: supervisors' and prompt-recording
    /// sessions too.
    pub(crate) fn in_progress(&self) -> usize {
        self.calls.len() + self.sessions.len()
    }

    /// `hotline security`'s live part: the blocks in force and the overload brakes' figures.
    pub(crate) fn security_view(&self, now: Instant) -> crate::command::SecurityView {
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        crate::command::SecurityView {
            blocked: self.block_lines(now),
            overload: crate::command::OverloadLine {
                calls: u64::try_from(self.in_progress()).unwrap_or(u64::MAX),
                ceiling: u64::try_from(self.admission.ceiling()).unwrap_or(u64::MAX),
                lag_ms: millis(self.lag),
                media_lag_ms: millis(self.media_lag),
                refused: self.admission.shed,
                refused_blocked: self.refused_by_brakes,
            },
        }
    }

    /// Whether the brakes take on `req`; if not it has been answered 503 with Retry-After.
    pub(crate) fn admitted(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        from: Peer,
        work: NewWork,
    ) -> bool {
        let calls = self.in_progress();
        let asking = Asking {
            work,
            source: from.addr.ip(),
            trunk: self.plan.dialplan.trunk_from(from.addr).is_some(),
            lag: self.lag,
            media_lag: self.media_lag,
            calls,
        };
        let Err(why) = self.admission.admit(now, asking) else {
            return true;
        };
        if let Some(held_back) = self.shed_lines.allow(now) {
            note!(
                self.notes,
                Warn,
                About::Switch,
                "refused with 503 ({}): method={} from={} calls={} ceiling={} lag_ms={} media_lag_ms={} refused_before_this={}",
                why.word(),
                req.method,
                from.addr,
                calls,
                self.admission.ceiling(),
                self.lag.as_millis(),
                self.media_lag.as_millis(),
                held_back
            );
        }
        let mut r = hotline_sip::Response::to_request(req, 503, reason_phrase(503))
            .with_to_tag(&self.local.token());
        r.headers.push(
            HeaderName::Other("Retry-After".into()),
            why.retry_after().to_string(),
        );
        self.endpoint.respond(now, tx, r);
        false
    }

    /// Ends the calls that lasted longer than `max_call` and the callers still in the
    /// voice menu after `max_menu` (once a second).
    pub(crate) fn overdue_calls(&mut self, now: Instant) {
        let limits = self.admission.config().clone();
        let overdue: Vec<(CallRef, &'static str, u64)> = self
            .calls
            .iter()
            .filter_map(|(id, c)| {
                if now.saturating_duration_since(c.since) >= limits.max_call {
                    return Some((*id, "the call", limits.max_call.as_secs()));
                }
                match &c.stage {
                    Stage::Menu {
                        menu,
                        talking: None,
                    } if menu.queued_at.is_none()
                        && now.saturating_duration_since(menu.started) >= limits.max_menu =>
                    {
                        Some((*id, "the voice menu", limits.max_menu.as_secs()))
                    }
                    _ => None,
                }
            })
            .collect();
        for (call, what, secs) in overdue {
            if let Some(c) = self.calls.get(&call) {
                note!(
                    self.notes,
                    Info,
                    c.about(),
                    "ended by the switch: {} lasted longer than allowed limit_secs={}",
                    what,
                    secs
                );
            }
            self.end(now, call, Ending::By(HungUpBy::Switch));
        }
    }
}
