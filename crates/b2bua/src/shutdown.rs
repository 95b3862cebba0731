//! Stopping cleanly (SIGTERM, SIGINT): new calls and registrations get 503 with a
//! Retry-After, every call in progress is ended as if the switch hung up (BYE to both
//! legs, CANCEL to ringing phones, 503 to callers not yet answered, recordings closed,
//! callers who were waiting put on the callback list), and once their BYEs are answered
//! (or after [`DRAIN`]) every record still open is closed before the switch exits.

use std::time::{Duration, Instant};

use crate::notes::{note, About};
use hotline_acd::CallRef;
use hotline_record::HungUpBy;
use hotline_sip::message::reason_phrase;
use hotline_sip::transaction::TxId;
use hotline_sip::{HeaderName, Request, Response};

use crate::call::Ending;
use crate::core::Core;

/// How long a stopping switch waits for the answers to its BYEs and CANCELs.
const DRAIN: Duration = Duration::from_secs(5);
/// What a refused caller or phone is told to wait before trying again (a restart).
const RETRY_AFTER_SECS: u32 = 30;

impl Core {
    /// Starts stopping: refuses what is held by the brakes and ends every call and session.
    pub(crate) fn begin_shutdown(&mut self, now: Instant) {
        if self.stopping.is_some() {
            return;
        }
        note!(
            self.notes,
            Info,
            About::Switch,
            "stopping: new calls get 503; ending the calls in progress calls={} sessions={}",
            self.calls.len(),
            self.sessions.len()
        );
        self.stopping = Some(now + DRAIN);
        for (tx, req) in self.held.take_all() {
            self.refuse_stopping(now, tx, &req);
        }
        let calls: Vec<CallRef> = self.calls.keys().copied().collect();
        for call in calls {
            self.end(now, call, Ending::By(HungUpBy::Switch));
        }
        let sessions: Vec<CallRef> = self.sessions.keys().copied().collect();
        for session in sessions {
            self.end_session(now, session, true);
        }
        let ringing: Vec<TxId> = self.owners.ringing_phones().map(|(tx, _)| tx).collect();
        for tx in ringing {
            self.withdraw_ringing_phone(now, tx);
        }
        self.drain(now);
    }

    /// Whether a stopping switch is done: nothing left to end and every request it sent
    /// answered, or out of time.
    pub fn is_stopped(&self, now: Instant) -> bool {
        let Some(deadline) = self.stopping else {
            return false;
        };
        let idle = self.calls.is_empty()
            && self.sessions.is_empty()
            && self.endpoint.unanswered_requests() == 0;
        idle || now >= deadline
    }

    /// 503 with a Retry-After to a request that arrives while the switch stops.
    pub(crate) fn refuse_stopping(&mut self, now: Instant, tx: TxId, req: &Request) {
        let mut r =
            Response::to_request(req, 503, reason_phrase(503)).with_to_tag(&self.local.token());
        r.headers.push(
            HeaderName::Other("Retry-After".into()),
            RETRY_AFTER_SECS.to_string(),
        );
        self.endpoint.respond(now, tx, r);
    }
}
