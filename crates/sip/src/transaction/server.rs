//! Server transactions (RFC 3261 17.2): INVITE (figure 7, with RFC 6026 Accepted) and
//! non-INVITE (figure 8).

use std::time::{Duration, Instant};

use super::timer::{Deadlines, Timer, TimerConfig};
use super::{Output, Peer, ServerKey, Transmit};
use crate::message::{Method, Request, Response, SipMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Non-INVITE: nothing sent yet.
    Trying,
    /// A provisional response was sent (INVITE starts here with its 100).
    Proceeding,
    /// A final non-2xx response was sent.
    Completed,
    /// INVITE: the ACK to a non-2xx arrived.
    Confirmed,
    /// INVITE: a 2xx was sent; retransmitted until the ACK.
    Accepted,
    /// Done; the endpoint forgets it.
    Terminated,
}

/// One server transaction. It keeps only what it matches later messages with, not the
/// request: an INVITE's transaction outlives its answer by 32 s (timer L), and thousands of
/// whole requests held that long were a tenth of a call's memory at 5,000 calls.
#[derive(Debug)]
pub(super) struct ServerTx {
    invite: bool,
    /// (Call-ID, CSeq number) of an INVITE: how an ACK to our 2xx finds it.
    dialog_key: Option<(String, u32)>,
    /// The INVITE's From tag: an ACK to our 2xx must carry it.
    from_tag: Option<String>,
    peer: Peer,
    key: ServerKey,
    state: State,
    last_response: Option<Vec<u8>>,
    interval: Duration,
    deadlines: Deadlines,
    acked: bool,
    /// The To tag of our 2xx: an ACK must carry it (and the INVITE's From tag) to count.
    accepted_tag: Option<String>,
}

impl ServerTx {
    pub fn new(request: &Request, peer: Peer, key: ServerKey) -> ServerTx {
        let invite = request.method == Method::Invite;
        let state = if invite {
            State::Proceeding
        } else {
            State::Trying
        };
        let dialog_key = invite
            .then(|| Some((request.call_id()?.to_string(), request.cseq()?.seq)))
            .flatten();
        ServerTx {
            invite,
            dialog_key,
            from_tag: invite.then(|| tag_of(request.party_from())).flatten(),
            peer,
            key,
            state,
            last_response: None,
            interval: Duration::ZERO,
            deadlines: Deadlines::default(),
            acked: false,
            accepted_tag: None,
        }
    }

    pub fn key(&self) -> &ServerKey {
        &self.key
    }

    pub fn is_invite(&self) -> bool {
        self.invite
    }

    /// Whether it exists for CANCEL matching: any state but terminated.
    pub fn is_live(&self) -> bool {
        self.state != State::Terminated
    }

    pub fn is_proceeding(&self) -> bool {
        matches!(self.state, State::Trying | State::Proceeding)
    }

    pub fn is_terminated(&self) -> bool {
        self.state == State::Terminated
    }

    /// (Call-ID, CSeq number): how an ACK to our 2xx finds this transaction.
    pub fn dialog_key(&self) -> Option<(String, u32)> {
        self.dialog_key.clone()
    }

    pub fn timer_due(&self, t: Timer) -> Option<Instant> {
        self.deadlines.get(t)
    }

    fn arm(&mut self, out: &mut Output, t: Timer, at: Instant) {
        self.deadlines.set(t, at);
        out.timers.push((t, at));
    }

    fn resend(&self, out: &mut Output) {
        if let Some(data) = &self.last_response {
            out.transmits.push(Transmit {
                to: self.peer,
                data: data.clone(),
            });
        }
    }

    /// The same request again (or an ACK matching our INVITE by branch).
    pub fn on_retransmission(&mut self, req: &Request, now: Instant, cfg: &TimerConfig) -> Output {
        let mut out = Output::default();
        if req.method == Method::Ack {
            match self.state {
                State::Completed => {
                    self.deadlines.clear_all();
                    if self.peer.transport.is_reliable() {
                        self.state = State::Terminated;
                    } else {
                        self.state = State::Confirmed;
                        self.arm(&mut out, Timer::I, now + cfg.t4);
                    }
                }
                State::Accepted if self.acked_by(req) => self.acked(),
                _ => {}
            }
            return out;
        }
        let absorb = self.state == State::Accepted && self.acked;
        if !absorb
            && matches!(
                self.state,
                State::Proceeding | State::Completed | State::Accepted
            )
        {
            self.resend(&mut out);
        }
        out
    }

    /// The transaction user answers.
    pub fn on_response(&mut self, resp: Response, now: Instant, cfg: &TimerConfig) -> Output {
        let mut out = Output::default();
        if !self.is_proceeding() {
            return out;
        }
        let data = resp.to_bytes();
        out.transmits.push(Transmit {
            to: self.peer,
            data: data.clone(),
        });
        self.last_response = Some(data);
        let unreliable = !self.peer.transport.is_reliable();
        match (resp.status, self.is_invite()) {
            (100..=199, _) => self.state = State::Proceeding,
            (200..=299, true) => {
                self.accepted_tag = tag_of(resp.party_to());
                self.state = State::Accepted;
                self.interval = cfg.t1;
                if unreliable {
                    self.arm(&mut out, Timer::G, now + cfg.t1);
                }
                self.arm(&mut out, Timer::L, now + cfg.t1 * 64);
            }
            (_, true) => {
                self.state = State::Completed;
                self.interval = cfg.t1;
                if unreliable {
                    self.arm(&mut out, Timer::G, now + cfg.t1);
                }
                self.arm(&mut out, Timer::H, now + cfg.t1 * 64);
            }
            (_, false) => {
                self.state = State::Completed;
                if unreliable {
                    self.arm(&mut out, Timer::J, now + cfg.t1 * 64);
                } else {
                    self.state = State::Terminated;
                }
            }
        }
        out
    }

    /// Whether `ack` belongs to the dialog our 2xx made: the INVITE's From tag and our To
    /// tag (RFC 3261 12.2.2), not just its Call-ID and CSeq, which a stranger may guess.
    pub fn acked_by(&self, ack: &Request) -> bool {
        self.accepted_tag.is_some()
            && tag_of(ack.party_to()) == self.accepted_tag
            && tag_of(ack.party_from()) == self.from_tag
    }

    /// The ACK to our 2xx arrived: stop retransmitting it, but stay Accepted until timer L
    /// so a late retransmission of the INVITE is absorbed instead of starting a new call.
    pub fn acked(&mut self) {
        if self.state == State::Accepted {
            self.deadlines.clear(Timer::G);
            self.acked = true;
        }
    }

    pub fn on_timer(&mut self, t: Timer, now: Instant, cfg: &TimerConfig) -> Output {
        let mut out = Output::default();
        self.deadlines.clear(t);
        match t {
            Timer::G
                if self.state == State::Completed
                    || (self.state == State::Accepted && !self.acked) =>
            {
                self.resend(&mut out);
                self.interval = (self.interval * 2).min(cfg.t2);
                self.arm(&mut out, Timer::G, now + self.interval);
            }
            Timer::H | Timer::I | Timer::J => {
                self.deadlines.clear_all();
                self.state = State::Terminated;
            }
            Timer::L => {
                self.deadlines.clear_all();
                // A 2xx nobody ACKed: the dialog user must hang the call up.
                out.timed_out = self.state == State::Accepted && !self.acked;
                self.state = State::Terminated;
            }
            _ => {}
        }
        out
    }
}

/// The tag parameter of a From or To header.
fn tag_of(party: Option<crate::NameAddr>) -> Option<String> {
    party.and_then(|a| a.tag().map(str::to_string))
}
