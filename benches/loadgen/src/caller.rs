//! The taxpayers: one UAC call per caller id to 12366. INVITE (resent on timer A), 100/180,
//! then 200 (ACK, RTP from the call's own socket to the switch's answer for the talk time,
//! then BYE resent on timer E until its 200) or a final refusal (ACK; 503 counted as
//! refused, not retried).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::rtp::{self, Stream, Tone};
use crate::run::Phase;
use crate::sdp;
use crate::sip::{self, Hdr, Msg, Start};
use crate::stats::{Failure, Side, Times};
use crate::timer::{Due, Retransmit};
use crate::uac::{Dialog, Leg, Wire};

/// What every caller shares.
#[derive(Debug, Clone)]
pub struct Config {
    /// The switch's SIP address.
    pub switch: SocketAddr,
    /// The number dialled.
    pub service: String,
    /// How long each caller talks after the answer.
    pub talk: Duration,
    /// How long a ringing or queued call waits for the answer before it is cancelled.
    pub setup_limit: Duration,
    /// Tells this run's Call-IDs from any other's.
    pub run_tag: u32,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered, talked, hung up, BYE answered.
    Completed,
    /// 503: the switch is full or stopping.
    Refused,
    /// Anything else.
    Failed(Failure),
}

#[derive(Debug)]
enum State {
    Inviting {
        tx: Retransmit,
        ringing: bool,
    },
    Talking {
        until: Instant,
        dialog: Dialog,
    },
    Hanging {
        tx: Retransmit,
        since: Instant,
        dialog: Dialog,
    },
    Done(Outcome),
}

/// One caller's call.
#[derive(Debug)]
pub struct Call {
    /// The caller id in From.
    pub caller_id: String,
    /// The call's Call-ID.
    pub call_id: String,
    invited_at: Instant,
    state: State,
    rtp: Option<Stream>,
    /// INVITE→200, once answered, as this program read the 200.
    pub setup: Option<Duration>,
    /// INVITE→200 on the wire: until the 200 reached the caller's socket.
    pub setup_wire: Option<Duration>,
    /// BYE→200, once hung up.
    pub hangup: Option<Duration>,
    /// RTP packets sent and received.
    pub rtp_counts: (u64, u64),
    /// Where the answer told us to send audio.
    pub media_to: Option<std::net::SocketAddr>,
    /// Set when the call went wrong after the answer (it is still hung up properly).
    spoiled: Option<Failure>,
}

impl Call {
    /// How it ended, or `None` while it is up.
    pub fn outcome(&self) -> Option<Outcome> {
        match self.state {
            State::Done(o) => Some(o),
            _ => None,
        }
    }
}

/// Every caller of a run, and what they counted.
pub struct Callers {
    cfg: Config,
    wire: Wire,
    calls: Vec<Call>,
    active: Vec<usize>,
    /// Counts of this side.
    pub stats: Side,
    /// INVITE→200 times.
    pub setup: Times,
    /// BYE→200 times.
    pub hangup: Times,
    tone: Tone,
}

fn leg(call: &Call, idx: usize) -> Leg<'_> {
    Leg {
        idx,
        caller_id: &call.caller_id,
        call_id: &call.call_id,
    }
}

/// Load.sh's Luoyang caller ids: mobile, +86 mobile, landline with the 0379 area code.
pub fn caller_id(i: u64) -> String {
    match i % 3 {
        0 => format!("1390379{:04}", i % 10_000),
        1 => format!("+861390379{:04}", i % 10_000),
        _ => format!("0379{:08}", 60_000_000 + i),
    }
}

impl Callers {
    /// Callers sending from `socket` (bound, not blocking).
    pub fn new(cfg: Config, socket: UdpSocket) -> io::Result<Callers> {
        Ok(Callers {
            wire: Wire::new(socket, cfg.switch, &cfg.service, cfg.run_tag)?,
            cfg,
            calls: Vec::new(),
            active: Vec::new(),
            stats: Side::default(),
            setup: Times::default(),
            hangup: Times::default(),
            tone: Tone::caller(),
        })
    }

    /// The SIP socket, for the run loop to wait on and read.
    pub fn socket(&self) -> &UdpSocket {
        self.wire.socket()
    }

    /// Calls not yet over.
    pub fn open(&self) -> usize {
        self.active.len()
    }

    /// Every call started, in order.
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// Starts call number `i`: binds its RTP socket and sends the INVITE.
    pub fn start(&mut self, now: Instant, i: u64) {
        let idx = self.calls.len();
        let call_id = self.wire.call_id(idx);
        let mut call = Call {
            caller_id: caller_id(i),
            call_id,
            invited_at: now,
            state: State::Inviting {
                tx: Retransmit::invite(now),
                ringing: false,
            },
            rtp: None,
            setup: None,
            setup_wire: None,
            hangup: None,
            rtp_counts: (0, 0),
            media_to: None,
            spoiled: None,
        };
        self.stats.invites += 1;
        let stream = rtp::bind(self.wire.local().ip())
            .map(|socket| Stream::new(socket, 0x4C47_0000 ^ idx as u32));
        match stream.as_ref().map(|s| s.local()) {
            Ok(Ok(rtp)) => {
                call.rtp = stream.ok();
                self.wire.invite(leg(&call, idx), rtp);
                self.calls.push(call);
                self.active.push(idx);
            }
            _ => {
                call.state = State::Done(Outcome::Failed(Failure::NoRtpSocket));
                self.stats.fail(Failure::NoRtpSocket);
                self.calls.push(call);
            }
        }
    }

    fn index_of(&self, call_id: &str) -> Option<usize> {
        let idx: usize = call_id.split_once('-')?.0.parse().ok()?;
        (self.calls.get(idx)?.call_id == call_id).then_some(idx)
    }

    /// Handles one datagram from the switch, read at `now`, that reached the socket at
    /// `arrived`.
    pub fn on_datagram(&mut self, now: Instant, arrived: Instant, data: &[u8], from: SocketAddr) {
        let Ok(msg) = sip::parse(data) else {
            self.stats.strays += 1;
            return;
        };
        let Some(idx) = msg.call_id().and_then(|c| self.index_of(c)) else {
            self.stats.strays += 1;
            if matches!(msg.method(), Some(m) if m != "ACK") {
                self.wire
                    .reply(&msg, 481, "Call/Transaction Does Not Exist", from);
            }
            return;
        };
        match msg.start {
            Start::Response { status } => match msg.cseq() {
                Some((_, "INVITE")) => self.on_invite_response(now, arrived, idx, &msg, status),
                Some((_, "BYE")) => self.on_bye_response(now, idx, status),
                _ => {}
            },
            Start::Request { method, .. } => self.on_request(idx, &msg, method, from),
        }
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        arrived: Instant,
        idx: usize,
        msg: &Msg<'_>,
        status: u16,
    ) {
        let limit = self.cfg.setup_limit;
        let call = &mut self.calls[idx];
        let to = msg.header(Hdr::To).unwrap_or("").to_owned();
        match (&mut call.state, status) {
            (State::Inviting { tx, ringing }, 100..=199) => {
                tx.provisional(now);
                if !*ringing {
                    *ringing = true;
                    tx.give_up_at(call.invited_at + limit);
                }
            }
            (State::Inviting { .. }, 200..=299) => {
                let setup = now.saturating_duration_since(call.invited_at);
                call.setup = Some(setup);
                call.setup_wire = Some(arrived.saturating_duration_since(call.invited_at));
                self.setup.push(setup);
                self.stats.answered += 1;
                let dialog =
                    self.wire
                        .dialog(&to, msg.header(Hdr::Contact), msg.headers(Hdr::RecordRoute));
                let media = sdp::parse_media(msg.body);
                let call = &mut self.calls[idx];
                match (media, call.rtp.as_mut()) {
                    (Ok(m), Some(stream)) if m.payload_types.contains(&sdp::PCMU) => {
                        call.media_to = Some(m.addr);
                        stream.start(m.addr)
                    }
                    _ => call.spoiled = Some(Failure::BadSdp),
                }
                self.wire.ack(leg(call, idx), &dialog);
                call.state = State::Talking {
                    until: now + self.cfg.talk,
                    dialog,
                };
            }
            (State::Talking { dialog, .. } | State::Hanging { dialog, .. }, 200..=299) => {
                // The switch resends its 200 until our ACK arrives.
                self.stats.retransmissions_received += 1;
                let dialog = dialog.clone();
                self.wire.ack(leg(call, idx), &dialog);
            }
            (State::Inviting { .. }, 300..) => {
                self.wire.failure_ack(leg(call, idx), &to);
                let outcome = if status == 503 {
                    self.stats.refused += 1;
                    if msg.header(Hdr::RetryAfter).is_some() {
                        self.stats.refused_with_retry_after += 1;
                    }
                    Outcome::Refused
                } else {
                    self.stats.fail(Failure::Status(status));
                    Outcome::Failed(Failure::Status(status))
                };
                self.finish(idx, outcome);
            }
            (State::Done(Outcome::Failed(Failure::NoAnswer)), 487) => {
                // The answer to our CANCEL: acknowledged, expected.
                self.wire.failure_ack(leg(call, idx), &to);
            }
            (State::Done(_), 300..) => {
                self.stats.retransmissions_received += 1;
                self.wire.failure_ack(leg(call, idx), &to);
            }
            (State::Done(_), 200..=299) => {
                // Answered after we gave up: acknowledge and hang up at once, unchecked.
                let dialog =
                    self.wire
                        .dialog(&to, msg.header(Hdr::Contact), msg.headers(Hdr::RecordRoute));
                self.wire.ack(leg(call, idx), &dialog);
                self.wire.bye(leg(call, idx), &dialog);
            }
            _ => {}
        }
    }

    fn on_bye_response(&mut self, now: Instant, idx: usize, status: u16) {
        let call = &mut self.calls[idx];
        match (&mut call.state, status) {
            (State::Hanging { tx, .. }, 100..=199) => tx.provisional(now),
            (State::Hanging { since, .. }, 200..=299) => {
                let took = now.saturating_duration_since(*since);
                call.hangup = Some(took);
                self.hangup.push(took);
                let outcome = match call.spoiled {
                    Some(why) => {
                        self.stats.fail(why);
                        Outcome::Failed(why)
                    }
                    None => {
                        self.stats.completed += 1;
                        Outcome::Completed
                    }
                };
                self.finish(idx, outcome);
            }
            (State::Hanging { .. }, 300..) => {
                self.stats.fail(Failure::ByeRefused);
                self.finish(idx, Outcome::Failed(Failure::ByeRefused));
            }
            (State::Done(_), 200..) => self.stats.retransmissions_received += 1,
            _ => {}
        }
    }

    fn on_request(&mut self, idx: usize, msg: &Msg<'_>, method: &str, from: SocketAddr) {
        match method {
            "OPTIONS" => {
                self.stats.options_answered += 1;
                self.wire.reply(msg, 200, "OK", from);
            }
            "BYE" => {
                self.wire.reply(msg, 200, "OK", from);
                match self.calls[idx].state {
                    State::Done(_) => self.stats.retransmissions_received += 1,
                    State::Hanging { .. } => self.stats.byes_answered += 1,
                    _ => {
                        self.stats.byes_answered += 1;
                        self.stats.fail(Failure::HungUpEarly);
                        self.finish(idx, Outcome::Failed(Failure::HungUpEarly));
                    }
                }
            }
            "ACK" => {}
            _ => self.wire.reply(msg, 501, "Not Implemented", from),
        }
    }

    /// For the calls of this `phase`: resends what is due, sends RTP, hangs up calls whose
    /// talk time is over.
    pub fn tick(&mut self, now: Instant, phase: Phase, scratch: &mut Vec<u8>, recv: &mut [u8]) {
        for k in 0..self.active.len() {
            let idx = self.active[k];
            if !phase.serves(idx) {
                continue;
            }
            let call = &mut self.calls[idx];
            if let Some(stream) = call.rtp.as_mut() {
                for _ in 0..phase.packets {
                    stream.send(&self.tone, scratch);
                }
                stream.receive(recv, phase.reads());
            }
            match &mut call.state {
                State::Inviting { tx, ringing } => match tx.poll(now) {
                    Due::Wait => {}
                    Due::Resend(_) => {
                        self.stats.retransmissions_sent += 1;
                        if let Some(Ok(rtp)) = call.rtp.as_ref().map(Stream::local) {
                            self.wire.invite(leg(call, idx), rtp);
                        }
                    }
                    Due::GiveUp => {
                        let why = if *ringing {
                            self.wire.cancel(leg(call, idx));
                            Failure::NoAnswer
                        } else {
                            Failure::InviteTimeout
                        };
                        self.stats.fail(why);
                        self.finish(idx, Outcome::Failed(why));
                    }
                },
                State::Talking { until, dialog } if now >= *until => {
                    let dialog = dialog.clone();
                    if let Some(s) = call.rtp.as_mut() {
                        s.stop();
                    }
                    self.wire.bye(leg(call, idx), &dialog);
                    call.state = State::Hanging {
                        tx: Retransmit::non_invite(now),
                        since: now,
                        dialog,
                    };
                }
                State::Hanging { tx, dialog, .. } => match tx.poll(now) {
                    Due::Wait => {}
                    Due::Resend(_) => {
                        self.stats.retransmissions_sent += 1;
                        let dialog = dialog.clone();
                        self.wire.bye(leg(call, idx), &dialog);
                    }
                    Due::GiveUp => {
                        self.stats.fail(Failure::ByeTimeout);
                        self.finish(idx, Outcome::Failed(Failure::ByeTimeout));
                    }
                },
                _ => {}
            }
        }
        let calls = &self.calls;
        self.active
            .retain(|&i| !matches!(calls[i].state, State::Done(_)));
    }

    /// Ends the run: calls still up count as failed.
    pub fn close(&mut self) {
        for k in 0..self.active.len() {
            let idx = self.active[k];
            self.stats.fail(Failure::StillUpAtEnd);
            self.finish(idx, Outcome::Failed(Failure::StillUpAtEnd));
        }
        self.active.clear();
    }

    fn finish(&mut self, idx: usize, outcome: Outcome) {
        let call = &mut self.calls[idx];
        call.state = State::Done(outcome);
        if let Some(mut stream) = call.rtp.take() {
            stream.receive(&mut [0u8; 2048], crate::rtp::FINAL_DRAIN);
            call.rtp_counts = (stream.sent, stream.received);
            self.stats.rtp_sent += stream.sent;
            self.stats.rtp_received += stream.received;
            if call.setup.is_some() && stream.received == 0 {
                self.stats.calls_without_rtp += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_ids_are_luoyang_numbers_in_three_forms() {
        assert_eq!(caller_id(0), "13903790000");
        assert_eq!(caller_id(1), "+8613903790001");
        assert_eq!(caller_id(2), "037960000002");
        assert_eq!(caller_id(10_002), "13903790002");
    }
}
