//! The agents' desk phones: one UAS on one UDP port for every agent of the load dialplan.
//! Each INVITE gets 180, then (at once, or after `answer_after`) 200 with PCMA, resent until
//! the ACK; then 1000 Hz A-law every 20 ms from the call's own socket until the switch's BYE.
//! CANCEL before the answer gets 200 and the INVITE 487; INVITE retransmissions get the last
//! response again; OPTIONS (the switch's keep-alive) get 200.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::legs::{self, AgentLeg, AgentLegs};
use crate::rtp::{self, Stream, Tone};
use crate::run::Phase;
use crate::sdp;
use crate::sip::{self, Hdr, Msg, Reply};
use crate::stats::{Failure, Side};
use crate::timer::{Due, Retransmit};

/// How long an ended call's last response is kept for a retransmitted BYE (64·T1).
const LINGER: Duration = Duration::from_secs(32);

#[derive(Debug)]
enum State {
    /// 180 sent, answering at the given time; the INVITE is kept to build the 200.
    Ringing { answer_at: Instant, invite: Vec<u8> },
    /// 200 sent, resent until the ACK.
    Answered { tx: Retransmit },
    /// ACK received: media flows until the BYE.
    Talking,
    /// CANCEL arrived before the answer: 487 sent, resent until its ACK.
    Cancelled { tx: Retransmit },
}

#[derive(Debug)]
struct Call {
    /// Where the switch sends from: responses go back there.
    peer: SocketAddr,
    tag: String,
    state: State,
    rtp: Stream,
    /// Where the switch wants the agent's audio (its offer).
    media: SocketAddr,
    /// The last response to the INVITE, sent again on a retransmitted INVITE or a timer.
    last: Vec<u8>,
    /// The caller's number (from the INVITE's From), to match this leg to the caller's.
    caller: String,
    /// Which phase of the tick serves this call.
    phase: usize,
    /// The payload type answered (PCMA, or PCMU through a proxy).
    codec: u8,
    /// When the INVITE reached the phone's socket.
    invited_at: Instant,
    /// From the INVITE's arrival to the 200 sent: this phone's own part of the setup.
    answer_delay: Option<Duration>,
}

/// What the phones share: the socket, the calls up, and what they counted.
pub struct Agents {
    socket: UdpSocket,
    local: SocketAddr,
    answer_after: Duration,
    max_calls: usize,
    calls: HashMap<String, Call>,
    /// Calls ended lately (a BYE for one is a retransmission), and when to forget them.
    ended: HashSet<String>,
    forget: VecDeque<(Instant, String)>,
    next_tag: u64,
    /// Counts of this side.
    pub stats: Side,
    /// How each ended leg went, by caller key.
    pub legs: AgentLegs,
    /// The agent's tone in A-law and μ-law, as the call's answer chose.
    tones: [Tone; 2],
    buf: Vec<u8>,
}

impl Agents {
    /// Phones answering on `socket` (bound, not blocking), at most `max_calls` up at once.
    pub fn new(socket: UdpSocket, answer_after: Duration, max_calls: usize) -> io::Result<Agents> {
        Ok(Agents {
            local: socket.local_addr()?,
            socket,
            answer_after,
            max_calls,
            calls: HashMap::new(),
            ended: HashSet::new(),
            forget: VecDeque::new(),
            next_tag: 0,
            stats: Side::default(),
            legs: AgentLegs::new(),
            tones: [Tone::agent(), Tone::agent_ulaw()],
            buf: Vec::with_capacity(2048),
        })
    }

    /// The SIP socket, for the run loop to wait on and read.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Calls up (ringing, answered or talking).
    pub fn open(&self) -> usize {
        self.calls.len()
    }

    /// Handles one datagram from the switch, read at `now`, that reached the socket at
    /// `arrived`.
    pub fn on_datagram(&mut self, now: Instant, arrived: Instant, data: &[u8], from: SocketAddr) {
        let Ok(msg) = sip::parse(data) else {
            self.stats.strays += 1;
            return;
        };
        let (Some(method), Some(call_id)) = (msg.method(), msg.call_id()) else {
            // We send no requests, so no response is for us.
            self.stats.strays += 1;
            return;
        };
        match method {
            "INVITE" => self.on_invite(now, arrived, &msg, data, call_id, from),
            "ACK" => self.on_ack(now, call_id),
            "CANCEL" => self.on_cancel(now, &msg, call_id, from),
            "BYE" => self.on_bye(now, &msg, call_id, from),
            "OPTIONS" => {
                let in_dialog = msg.header(Hdr::To).and_then(sip::tag).is_some();
                if in_dialog && !self.calls.contains_key(call_id) {
                    self.reply(
                        &msg,
                        481,
                        "Call/Transaction Does Not Exist",
                        None,
                        None,
                        from,
                    );
                } else {
                    self.stats.options_answered += 1;
                    self.reply(&msg, 200, "OK", None, None, from);
                }
            }
            _ => self.reply(&msg, 501, "Not Implemented", None, None, from),
        }
    }

    fn on_invite(
        &mut self,
        now: Instant,
        arrived: Instant,
        msg: &Msg<'_>,
        raw: &[u8],
        call_id: &str,
        from: SocketAddr,
    ) {
        if let Some(call) = self.calls.get(call_id) {
            self.stats.retransmissions_received += 1;
            let _ = self.socket.send_to(&call.last, call.peer);
            return;
        }
        if self.ended.contains(call_id) {
            self.stats.retransmissions_received += 1;
            return;
        }
        self.stats.invites += 1;
        if self.calls.len() >= self.max_calls {
            self.reply(msg, 503, "Service Unavailable", None, None, from);
            return;
        }
        let offer = sdp::parse_media(msg.body);
        let codec = offer
            .as_ref()
            .ok()
            .and_then(|m| sdp::agent_codec(&m.payload_types));
        let (media, codec) = match (offer, codec) {
            (Ok(m), Some(pt)) => (m.addr, pt),
            _ => {
                self.stats.fail(Failure::BadSdp);
                self.reply(msg, 488, "Not Acceptable Here", None, None, from);
                return;
            }
        };
        let Ok(socket) = rtp::bind(self.local.ip()) else {
            self.stats.fail(Failure::NoRtpSocket);
            self.reply(msg, 503, "Service Unavailable", None, None, from);
            return;
        };
        self.next_tag += 1;
        let tag = format!("ag{}", self.next_tag);
        let ssrc = 0x4147_0000 ^ self.next_tag as u32;
        self.reply(msg, 180, "Ringing", Some(&tag), None, from);
        let mut call = Call {
            peer: from,
            tag,
            state: State::Answered {
                tx: Retransmit::answer(now),
            },
            rtp: Stream::new(socket, ssrc),
            media,
            last: self.buf.clone(),
            caller: legs::caller_key(legs::from_user(msg.header(Hdr::From).unwrap_or(""))),
            phase: self.next_tag as usize,
            codec,
            invited_at: arrived,
            answer_delay: None,
        };
        if self.answer_after.is_zero() {
            self.answer(now, msg, &mut call);
        } else {
            call.state = State::Ringing {
                answer_at: now + self.answer_after,
                invite: raw.to_vec(),
            };
        }
        self.calls.insert(call_id.to_owned(), call);
    }

    fn answer(&mut self, now: Instant, invite: &Msg<'_>, call: &mut Call) {
        let Ok(local) = call.rtp.local() else {
            return;
        };
        let body = sdp::agent_answer(local, call.codec);
        let contact = format!("sip:agent@{}", self.local);
        self.reply(
            invite,
            200,
            "OK",
            Some(&call.tag),
            Some((&contact, &body)),
            call.peer,
        );
        call.last.clone_from(&self.buf);
        call.answer_delay = Some(Instant::now().saturating_duration_since(call.invited_at));
        call.state = State::Answered {
            tx: Retransmit::answer(now),
        };
    }

    fn on_ack(&mut self, now: Instant, call_id: &str) {
        let Some(call) = self.calls.get_mut(call_id) else {
            self.stats.retransmissions_received += u64::from(self.ended.contains(call_id));
            return;
        };
        match call.state {
            State::Answered { .. } => {
                self.stats.answered += 1;
                call.rtp.start(call.media);
                call.state = State::Talking;
            }
            State::Cancelled { .. } => self.end(now, call_id, None),
            State::Talking => self.stats.retransmissions_received += 1,
            State::Ringing { .. } => {}
        }
    }

    fn on_cancel(&mut self, now: Instant, msg: &Msg<'_>, call_id: &str, from: SocketAddr) {
        let Some(call) = self.calls.get_mut(call_id) else {
            self.reply(
                msg,
                481,
                "Call/Transaction Does Not Exist",
                None,
                None,
                from,
            );
            return;
        };
        self.stats.cancels += 1;
        let tag = call.tag.clone();
        let ringing = match &call.state {
            State::Ringing { invite, .. } => Some(invite.clone()),
            _ => None,
        };
        self.reply(msg, 200, "OK", Some(&tag), None, from);
        // Answered already: the 200 stands, the switch ACKs it and hangs up with a BYE.
        let Some(invite) = ringing else {
            return;
        };
        let Ok(invite) = sip::parse(&invite) else {
            return;
        };
        self.reply(&invite, 487, "Request Terminated", Some(&tag), None, from);
        if let Some(call) = self.calls.get_mut(call_id) {
            call.last.clone_from(&self.buf);
            call.state = State::Cancelled {
                tx: Retransmit::answer(now),
            };
        }
    }

    fn on_bye(&mut self, now: Instant, msg: &Msg<'_>, call_id: &str, from: SocketAddr) {
        if self.ended.contains(call_id) {
            self.stats.retransmissions_received += 1;
            self.reply(msg, 200, "OK", None, None, from);
            return;
        }
        let Some(call) = self.calls.get(call_id) else {
            self.reply(
                msg,
                481,
                "Call/Transaction Does Not Exist",
                None,
                None,
                from,
            );
            return;
        };
        let answered = matches!(call.state, State::Talking);
        self.reply(msg, 200, "OK", None, None, from);
        self.stats.byes_answered += 1;
        if answered {
            self.stats.completed += 1;
            self.end(now, call_id, None);
        } else {
            // Hung up before the ACK: the switch gave up on this phone.
            self.stats.fail(Failure::NoAck);
            self.end(now, call_id, Some(Failure::NoAck));
        }
    }

    /// For the calls of this `phase`: answers calls whose ring is over, resends 200s and
    /// 487s not yet acknowledged, sends and receives RTP.
    pub fn tick(&mut self, now: Instant, phase: Phase, scratch: &mut Vec<u8>, recv: &mut [u8]) {
        let mut due: Vec<(String, Option<Failure>)> = Vec::new();
        let mut to_answer: Vec<String> = Vec::new();
        for (id, call) in &mut self.calls {
            if !phase.serves(call.phase) {
                continue;
            }
            let tone = &self.tones[usize::from(call.codec == sdp::PCMU)];
            for _ in 0..phase.packets {
                call.rtp.send(tone, scratch);
            }
            call.rtp.receive(recv, phase.reads());
            match &mut call.state {
                State::Ringing { answer_at, .. } if now >= *answer_at => to_answer.push(id.clone()),
                State::Answered { tx } | State::Cancelled { tx } => match tx.poll(now) {
                    Due::Wait => {}
                    Due::Resend(_) => {
                        self.stats.retransmissions_sent += 1;
                        let _ = self.socket.send_to(&call.last, call.peer);
                    }
                    Due::GiveUp => {
                        let cancelled = matches!(call.state, State::Cancelled { .. });
                        due.push((id.clone(), (!cancelled).then_some(Failure::NoAck)));
                    }
                },
                _ => {}
            }
        }
        for id in to_answer {
            self.answer_ringing(now, &id);
        }
        for (id, why) in due {
            if let Some(why) = why {
                self.stats.fail(why);
            }
            self.end(now, &id, why);
        }
        while self.forget.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, id)) = self.forget.pop_front() {
                self.ended.remove(&id);
            }
        }
    }

    fn answer_ringing(&mut self, now: Instant, call_id: &str) {
        let Some(mut call) = self.calls.remove(call_id) else {
            return;
        };
        if let State::Ringing { invite, .. } = &call.state {
            let invite = invite.clone();
            if let Ok(msg) = sip::parse(&invite) {
                self.answer(now, &msg, &mut call);
            }
        }
        self.calls.insert(call_id.to_owned(), call);
    }

    /// Ends the run: calls still up count as failed.
    pub fn close(&mut self, now: Instant) {
        let ids: Vec<String> = self.calls.keys().cloned().collect();
        for id in ids {
            self.stats.fail(Failure::StillUpAtEnd);
            self.end(now, &id, Some(Failure::StillUpAtEnd));
        }
    }

    fn end(&mut self, now: Instant, call_id: &str, failure: Option<Failure>) {
        let Some(mut call) = self.calls.remove(call_id) else {
            return;
        };
        call.rtp.receive(&mut [0u8; 2048], crate::rtp::FINAL_DRAIN);
        self.stats.rtp_sent += call.rtp.sent;
        self.stats.rtp_received += call.rtp.received;
        let talked = matches!(call.state, State::Talking);
        if talked && call.rtp.received == 0 && failure.is_none() {
            self.stats.calls_without_rtp += 1;
        }
        let leg = AgentLeg {
            completed: talked && failure.is_none(),
            rtp_received: call.rtp.received,
            rtp_sent: call.rtp.sent,
            local_media: call.rtp.local().ok(),
            answer_delay: call.answer_delay,
        };
        // A caller rung again (after a ring timeout) keeps the leg that went furthest.
        let kept = self.legs.entry(call.caller).or_default();
        if leg.completed || !kept.completed {
            *kept = leg;
        }
        self.ended.insert(call_id.to_owned());
        self.forget.push_back((now + LINGER, call_id.to_owned()));
    }

    fn reply(
        &mut self,
        req: &Msg<'_>,
        status: u16,
        reason: &str,
        to_tag: Option<&str>,
        contact_and_sdp: Option<(&str, &str)>,
        to: SocketAddr,
    ) {
        let reply = Reply {
            status,
            reason,
            to_tag,
            contact: contact_and_sdp.map(|c| c.0),
            sdp: contact_and_sdp.map(|c| c.1),
        };
        sip::write_response(&mut self.buf, req, &reply);
        // A full socket buffer loses the message as the network would; timers recover.
        let _ = self.socket.send_to(&self.buf, to);
    }
}
