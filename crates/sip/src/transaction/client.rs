//! Client transactions (RFC 3261 17.1): INVITE (figure 5, with RFC 6026 Accepted) and
//! non-INVITE (figure 6).

use std::time::{Duration, Instant};

use super::timer::{Deadlines, Timer, TimerConfig};
use super::{Output, Peer, Transmit};
use crate::header::HeaderName;
use crate::message::{split_list, Method, Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// INVITE sent, nothing heard.
    Calling,
    /// Non-INVITE sent, nothing heard.
    Trying,
    /// A provisional response arrived.
    Proceeding,
    /// A final response arrived (non-2xx for INVITE); absorbing retransmissions.
    Completed,
    /// INVITE: a 2xx arrived; later 2xx copies go up for re-ACK.
    Accepted,
    /// Done.
    Terminated,
}

/// One client transaction. The request and its bytes are let go once its final response
/// is in: an INVITE's transaction outlives that by 32 s (timers D and M), with nothing left
/// to resend but an ACK.
#[derive(Debug)]
pub(super) struct ClientTx {
    /// The request, until its final response: its non-2xx ACK is built from it.
    request: Option<Request>,
    /// The request's bytes, resent until a response arrives; empty after the final one.
    data: Vec<u8>,
    /// (branch, method): how responses find this transaction.
    key: (String, Method),
    peer: Peer,
    state: State,
    interval: Duration,
    deadlines: Deadlines,
    ack: Option<Vec<u8>>,
}

impl ClientTx {
    pub fn start(
        request: Request,
        peer: Peer,
        now: Instant,
        cfg: &TimerConfig,
    ) -> (ClientTx, Output) {
        let data = request.to_bytes();
        let invite = request.method == Method::Invite;
        let branch = request
            .top_via()
            .and_then(|v| v.branch().map(str::to_string))
            .unwrap_or_default();
        let key = (branch, request.method.clone());
        let mut tx = ClientTx {
            request: Some(request),
            data: data.clone(),
            key,
            peer,
            state: if invite {
                State::Calling
            } else {
                State::Trying
            },
            interval: cfg.t1,
            deadlines: Deadlines::default(),
            ack: None,
        };
        let mut out = Output::default();
        out.transmits.push(Transmit { to: peer, data });
        let unreliable = !peer.transport.is_reliable();
        if invite {
            if unreliable {
                tx.arm(&mut out, Timer::A, now + cfg.t1);
            }
            tx.arm(&mut out, Timer::B, now + cfg.t1 * 64);
        } else {
            if unreliable {
                tx.arm(&mut out, Timer::E, now + cfg.t1);
            }
            tx.arm(&mut out, Timer::F, now + cfg.t1 * 64);
        }
        (tx, out)
    }

    /// (branch, method): how responses find this transaction.
    pub fn key(&self) -> &(String, Method) {
        &self.key
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// Whether a final response arrived (or the transaction is over).
    pub fn is_answered(&self) -> bool {
        matches!(
            self.state,
            State::Completed | State::Accepted | State::Terminated
        )
    }

    pub fn timer_due(&self, t: Timer) -> Option<Instant> {
        self.deadlines.get(t)
    }

    fn arm(&mut self, out: &mut Output, t: Timer, at: Instant) {
        self.deadlines.set(t, at);
        out.timers.push((t, at));
    }

    fn is_invite(&self) -> bool {
        self.key.1 == Method::Invite
    }

    /// Whether it still holds its request or the request's bytes.
    #[cfg(test)]
    pub(super) fn holds_request(&self) -> bool {
        self.request.is_some() || !self.data.is_empty()
    }

    /// The final response is in: nothing will be resent but an ACK.
    fn let_request_go(&mut self) {
        self.request = None;
        self.data = Vec::new();
    }

    pub fn on_response(&mut self, resp: Response, now: Instant, cfg: &TimerConfig) -> Output {
        let mut out = Output::default();
        let unreliable = !self.peer.transport.is_reliable();
        let status = resp.status;
        if self.is_invite() {
            match (self.state, status) {
                (State::Calling | State::Proceeding, 100..=199) => {
                    self.state = State::Proceeding;
                    self.deadlines.clear(Timer::A);
                    self.deadlines.clear(Timer::B);
                    out.response = Some(resp);
                }
                (State::Calling | State::Proceeding, 200..=299) => {
                    self.state = State::Accepted;
                    self.deadlines.clear_all();
                    self.let_request_go();
                    self.arm(&mut out, Timer::M, now + cfg.t1 * 64);
                    out.response = Some(resp);
                }
                (State::Accepted, 200..=299) => out.response = Some(resp),
                (State::Calling | State::Proceeding, _) => {
                    self.deadlines.clear_all();
                    if let Some(ack) = self.ack_for(&resp).map(|a| a.to_bytes()) {
                        out.transmits.push(Transmit {
                            to: self.peer,
                            data: ack.clone(),
                        });
                        self.ack = Some(ack);
                    }
                    self.let_request_go();
                    out.response = Some(resp);
                    if unreliable {
                        self.state = State::Completed;
                        self.arm(&mut out, Timer::D, now + Duration::from_secs(32));
                    } else {
                        self.state = State::Terminated;
                    }
                }
                (State::Completed, 300..=699) => {
                    if let Some(ack) = &self.ack {
                        out.transmits.push(Transmit {
                            to: self.peer,
                            data: ack.clone(),
                        });
                    }
                }
                _ => {}
            }
            return out;
        }
        match (self.state, status) {
            (State::Trying | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                out.response = Some(resp);
            }
            (State::Trying | State::Proceeding, _) => {
                self.deadlines.clear_all();
                self.let_request_go();
                out.response = Some(resp);
                if unreliable {
                    self.state = State::Completed;
                    self.arm(&mut out, Timer::K, now + cfg.t4);
                } else {
                    self.state = State::Terminated;
                }
            }
            _ => {}
        }
        out
    }

    pub fn on_timer(&mut self, t: Timer, now: Instant, cfg: &TimerConfig) -> Output {
        let mut out = Output::default();
        self.deadlines.clear(t);
        match t {
            Timer::A if self.state == State::Calling => {
                out.transmits.push(Transmit {
                    to: self.peer,
                    data: self.data.clone(),
                });
                self.interval *= 2;
                self.arm(&mut out, Timer::A, now + self.interval);
            }
            Timer::E if matches!(self.state, State::Trying | State::Proceeding) => {
                out.transmits.push(Transmit {
                    to: self.peer,
                    data: self.data.clone(),
                });
                self.interval = if self.state == State::Trying {
                    (self.interval * 2).min(cfg.t2)
                } else {
                    cfg.t2
                };
                self.arm(&mut out, Timer::E, now + self.interval);
            }
            Timer::B | Timer::F => {
                self.deadlines.clear_all();
                out.timed_out = matches!(
                    self.state,
                    State::Calling | State::Trying | State::Proceeding
                );
                self.state = State::Terminated;
            }
            Timer::D | Timer::K | Timer::M => {
                self.deadlines.clear_all();
                self.state = State::Terminated;
            }
            _ => {}
        }
        out
    }

    /// The ACK for a non-2xx final response (RFC 3261 17.1.1.3): part of this transaction.
    fn ack_for(&self, resp: &Response) -> Option<Request> {
        let request = self.request.as_ref()?;
        let mut ack = Request::new(Method::Ack, request.uri.clone());
        if let Some(via) = request.headers.get(&HeaderName::Via) {
            let top = split_list(via).first().map(|s| s.to_string());
            ack.headers.push(HeaderName::Via, top.unwrap_or_default());
        }
        ack.headers.push(HeaderName::MaxForwards, "70");
        for name in [HeaderName::From, HeaderName::CallId] {
            if let Some(v) = request.headers.get(&name) {
                ack.headers.push(name, v);
            }
        }
        if let Some(to) = resp.headers.get(&HeaderName::To) {
            ack.headers.push(HeaderName::To, to);
        }
        for route in request.headers.get_all(&HeaderName::Route) {
            ack.headers.push(HeaderName::Route, route);
        }
        let seq = request.cseq().map(|c| c.seq).unwrap_or(1);
        ack.headers.push(HeaderName::CSeq, format!("{seq} ACK"));
        Some(ack)
    }
}
