//! What arrives from the network, sorted: a datagram parsed (400 to what is malformed),
//! the transaction layer's events, and each request handed to the dialog, registrar or
//! call logic it belongs to (503 to anything new while the switch stops).

use std::time::Instant;

use crate::notes::{note, About};
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::parse::{parse_ignoring_length, validate_request, validate_response};
use hotline_sip::transaction::{Peer, TxEvent, TxId};
use hotline_sip::{parse_message, HeaderName, Message, Request, Response};

use crate::admission::NewWork;
use crate::core::Core;
use crate::owners::TxOwner;
use crate::sipbuild::ALLOW;
use crate::step::Inbound;

impl Core {
    pub(crate) fn on_inbound(&mut self, now: Instant, inbound: Inbound) {
        let from = inbound.from;
        self.lag = now.saturating_duration_since(inbound.received);
        match parse_message(&inbound.data) {
            Ok(Message::Request(req)) => match validate_request(&req) {
                Ok(()) => self.endpoint.handle_request(now, req, from),
                Err(why) => self.reject_malformed(now, &req, from, why),
            },
            Ok(Message::Response(resp)) => match validate_response(&resp) {
                Ok(_) => self.endpoint.handle_response(now, resp),
                Err(why) => {
                    self.malformed.dropped += 1;
                    if let Some(held_back) = self.garbage_lines.allow(now) {
                        note!(
                            self.notes,
                            Warn,
                            About::Switch,
                            "malformed response dropped why={} from={} held_back={}",
                            why,
                            from.addr,
                            held_back
                        );
                    }
                }
            },
            Err(e) => {
                // A framing error can still leave enough headers to answer 400.
                if let Ok(Message::Request(req)) = parse_ignoring_length(&inbound.data) {
                    self.reject_malformed(now, &req, from, "bad Content-Length");
                    return;
                }
                self.malformed.dropped += 1;
                if let Some(held_back) = self.garbage_lines.allow(now) {
                    note!(
                        self.notes,
                        Warn,
                        About::Switch,
                        "unparseable message dropped error={} from={} len={} held_back={}",
                        e,
                        from.addr,
                        inbound.data.len(),
                        held_back
                    );
                }
            }
        }
    }

    /// Answers a malformed request with 400 when a response can be formed at all.
    fn reject_malformed(&mut self, now: Instant, req: &Request, from: Peer, why: &str) {
        if let Some(held_back) = self.garbage_lines.allow(now) {
            note!(
                self.notes,
                Warn,
                About::Switch,
                "malformed request why={} method={} from={} held_back={}",
                why,
                req.method,
                from.addr,
                held_back
            );
        }
        if req.method == Method::Ack || req.top_via().is_none() {
            self.malformed.dropped += 1;
            return;
        }
        self.malformed.answered_400 += 1;
        let r = Response::to_request(req, 400, &format!("Bad Request ({why})"));
        self.endpoint.send_stateless(from, r.to_bytes());
    }

    pub(crate) fn on_tx_event(&mut self, now: Instant, ev: TxEvent) {
        match ev {
            TxEvent::Request { tx, request, from } => self.on_request(now, tx, request, from),
            TxEvent::Cancelled { invite } => self.on_caller_cancel(now, invite),
            TxEvent::Ack { request, .. } => {
                note!(
                    self.notes,
                    Debug,
                    About::Switch,
                    "ACK call_id={:?}",
                    request.call_id()
                );
                self.on_session_ack(now, &request);
            }
            TxEvent::Response { tx, response } => {
                if let (200..=299, Some((peer, ack))) = (response.status, self.sent_acks.again(tx))
                {
                    // A retransmitted 2xx: our ACK was lost, send it again.
                    let ack = ack.to_vec();
                    self.endpoint.send_stateless(peer, ack);
                    return;
                }
                // One lookup: the transaction's owner takes the response.
                match self.owners.get(tx) {
                    Some(TxOwner::Keepalive(..)) => {
                        self.on_keepalive_response(now, tx, &response);
                    }
                    Some(TxOwner::RingingPhone(_)) => {
                        self.on_ringing_phone_response(now, tx, &response);
                    }
                    Some(TxOwner::Reinvite(_)) => {
                        self.on_reinvite_response(now, tx, &response);
                    }
                    Some(TxOwner::Leg(..) | TxOwner::Orphan(_)) => {
                        self.on_response(now, tx, response)
                    }
                    None => note!(
                        self.notes,
                        Debug,
                        About::Switch,
                        "response for no one status={}",
                        response.status
                    ),
                }
            }
            TxEvent::Timeout { tx } => match self.owners.get(tx) {
                Some(TxOwner::Reinvite(_)) => {
                    self.on_reinvite_timeout(now, tx);
                }
                Some(TxOwner::RingingPhone(_)) => {
                    self.owners.remove_ringing_phone(tx);
                    note!(
                        self.notes,
                        Debug,
                        About::Switch,
                        "supervisor's phone did not answer"
                    );
                }
                Some(TxOwner::Keepalive(..)) => {
                    self.on_keepalive_timeout(now, tx);
                }
                Some(TxOwner::Leg(..) | TxOwner::Orphan(_)) | None => self.on_timeout(now, tx),
            },
        }
    }

    fn on_request(&mut self, now: Instant, tx: TxId, req: Request, from: Peer) {
        // In-dialog requests carry a To tag and a Call-ID we know.
        let in_dialog = req
            .party_to()
            .and_then(|t| t.tag().map(str::to_string))
            .is_some();
        if self.stopping.is_some() && !in_dialog && req.method != Method::Options {
            // Stopping: nothing new is taken; in-dialog requests still end the calls.
            return self.refuse_stopping(now, tx, &req);
        }
        if let Some(session) = req.call_id().and_then(|c| self.dialogs.session(c)) {
            if in_dialog {
                self.on_session_request(now, session, tx, req);
            } else {
                let r = self.local.response(&req, 482, &self.local.token());
                self.endpoint.respond(now, tx, r);
            }
            return;
        }
        if let Some((call, side)) = req.call_id().and_then(|c| self.dialogs.call(c)) {
            if req.method == Method::Invite && !in_dialog {
                // The same INVITE again under a new branch (RFC 3261 8.2.2.2): a merged request.
                let r = self.local.response(&req, 482, &self.local.token());
                self.endpoint.respond(now, tx, r);
                return;
            }
            if self.tags_match(call, side, &req) {
                self.on_dialog_request(now, call, side, tx, req);
            } else {
                let r = self.local.response(&req, 481, &self.local.token());
                self.endpoint.respond(now, tx, r);
            }
            return;
        }
        let new_work = match req.method {
            Method::Register => Some(NewWork::Register),
            Method::Invite if !in_dialog => Some(NewWork::Call),
            _ => None,
        };
        if let Some(work) = new_work {
            if !self.admitted(now, tx, &req, from, work) {
                return;
            }
        }
        match req.method {
            Method::Register => self.on_register(now, tx, &req, from),
            Method::Options => {
                let mut r = self.local.response(&req, 200, &self.local.token());
                r.headers.push(HeaderName::Allow, ALLOW);
                r.headers
                    .push(HeaderName::Other("Accept".into()), "application/sdp");
                self.endpoint.respond(now, tx, r);
            }
            Method::Invite if !in_dialog => self.on_new_invite(now, tx, req, from),
            Method::Refer | Method::Notify if in_dialog => {
                let r = self.local.response(&req, 481, &self.local.token());
                self.endpoint.respond(now, tx, r);
            }
            Method::Invite | Method::Bye | Method::Info | Method::Update | Method::Prack => {
                let r = self.local.response(&req, 481, &self.local.token());
                self.endpoint.respond(now, tx, r);
            }
            _ => {
                let mut r = self.local.response(&req, 405, &self.local.token());
                r.headers.push(HeaderName::Allow, ALLOW);
                self.endpoint.respond(now, tx, r);
            }
        }
    }
}
