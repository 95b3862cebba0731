//! The world of the interleavings property: callers' softphones, agents' desk phones, a
//! supervisor's and a carrier trunk, each answering what the switch sends them the way a
//! real one would, and the ops that make things happen among them.

use std::time::Duration;

use hotline_sip::message::{Message, Method, SipMessage};
use hotline_sip::{Request, Response};

use crate::kit::{self, dialplan, Kit, Phone};

pub const CALLERS: usize = 3;

/// One thing that happens.
#[derive(Debug, Clone)]
pub enum Op {
    /// Caller `i` dials 12366 (if not on a call already).
    Call(usize),
    /// Caller `i` gives up: CANCEL before an answer, BYE after.
    HangUp(usize),
    /// An agent's phone that is ringing picks up (the newest INVITE it has).
    Pick(usize),
    /// An agent's phone that is ringing refuses (busy).
    Refuse(usize),
    /// An agent hangs up the newest call they answered.
    AgentHangUp(usize),
    /// The oldest message in flight arrives (`fate` 0: lost; 1: arrives twice).
    Deliver(u8),
    /// Everything in flight arrives, and what it answers, until the network is quiet (so
    /// calls get far enough to be transferred and supervised).
    Settle,
    /// Time passes.
    Wait(u64),
    /// Every prompt playing is heard to its end (menu calls).
    Heard,
    /// Every caller in a menu presses this key.
    Press(char),
    /// An agent hands the newest call they answered to the other agent (blind REFER).
    Transfer(usize),
    /// The supervisor asks, from the CLI, to listen in on an agent's call.
    Monitor(usize),
    /// An agent calls a taxpayer back through the carrier's trunk (9 + the number).
    CallOut(usize),
    /// An agent hangs up the call they placed.
    EndCallOut(usize),
    /// An agent dials the other agent from their desk phone, to consult them.
    Consult(usize),
    /// As [`Op::Consult`], and the colleague picks up once it rings (the network settling
    /// between): the way most consultations go, made likely.
    ConsultAnswered(usize),
    /// An agent hands the newest call they answered to the colleague they consulted
    /// (REFER with Replaces naming the consultation): an attended transfer.
    Complete(usize),
}

/// The ops of calls through the voice menu: those of [`op`], prompts heard, keys.
/// A caller's softphone: its INVITE's branch, and the 200 once answered.
struct Caller {
    phone: Phone,
    calls: u32,
    branch: Option<String>,
    ok: Option<Response>,
    seq: u32,
}

/// An agent's desk phone (or the carrier's trunk): the INVITEs it has (by Call-ID), and
/// whether each is over; the ones it answered, until hung up; the call it placed.
struct Desk {
    phone: Phone,
    invites: Vec<(Request, bool)>,
    answered: Vec<Request>,
    seq: u32,
    /// The call it placed (out through the trunk, or to a colleague).
    placed: Option<Placed>,
    calls_out: u32,
}

/// A call a desk phone placed: its Call-ID, the number dialled, and the switch's 200 once
/// answered.
struct Placed {
    call_id: String,
    to: String,
    ok: Option<Response>,
}

impl Placed {
    /// The phone as it placed this call.
    fn phone(&self, desk: &Phone) -> Phone {
        let mut phone = Phone::new(&desk.user, desk.addr.port());
        phone.call_id = self.call_id.clone();
        phone
    }
}

pub struct World {
    pub kit: Kit,
    callers: Vec<Caller>,
    desks: Vec<Desk>,
}

impl World {
    pub fn new(with_menu: bool) -> World {
        let mut plan = dialplan(&[("1003", "luoyang", 5070), ("1004", "luoyang", 5072)], 5)
            + "\n[[supervisor]]\nid = \"1950\"\nname = \"班长\"\ncontact = \"sip:1950@127.0.0.1:5090\"\ntrust_address = true\nscope = \"luoyang\"\n"
            + "\n[[trunk]]\nname = \"carrier\"\naddress = \"127.0.0.1:7000\"\nallow = [\"1[3-9]XXXXXXXXX\"]\n";
        if with_menu {
            plan += &kit::menu();
        }
        World {
            kit: Kit::new(&plan),
            callers: (0..CALLERS)
                .map(|i| Caller {
                    phone: Phone::new(&format!("03796123456{i}"), 6000 + 2 * i as u16),
                    calls: 0,
                    branch: None,
                    ok: None,
                    seq: 1,
                })
                .collect(),
            desks: [
                ("1003", 5070),
                ("1004", 5072),
                ("1950", 5090),
                ("carrier", 7000),
            ]
            .iter()
            .map(|(id, port)| Desk {
                phone: Phone::new(id, *port),
                invites: Vec::new(),
                answered: Vec::new(),
                seq: 1,
                placed: None,
                calls_out: 0,
            })
            .collect(),
        }
    }

    pub fn apply(&mut self, op: &Op) {
        match *op {
            Op::Call(i) => {
                let c = &mut self.callers[i];
                if c.branch.is_some() {
                    return;
                }
                c.calls += 1;
                // Each call of a phone is a new dialog.
                c.phone.call_id = format!("call-{}-{}@test", c.phone.user, c.calls);
                c.phone.tag = format!("tag-{}-{}", c.phone.user, c.calls);
                let branch = format!("z9hG4bK-{}-{}", c.phone.user, c.calls);
                let text = c.phone.invite(&branch);
                c.branch = Some(branch);
                c.ok = None;
                c.seq = 1;
                let from = c.phone.addr;
                self.kit.deliver(from, &text);
            }
            Op::HangUp(i) => self.hang_up(i),
            Op::Pick(d) => {
                let desk = &mut self.desks[d];
                let Some((invite, over)) = desk.invites.iter_mut().rev().find(|(_, o)| !*o) else {
                    return;
                };
                *over = true;
                let answer = desk.phone.answer(invite, 200);
                desk.answered.push(invite.clone());
                let from = desk.phone.addr;
                self.kit.deliver_message(from, &answer);
            }
            Op::Refuse(d) => {
                let desk = &mut self.desks[d];
                let Some((invite, over)) = desk.invites.iter_mut().rev().find(|(_, o)| !*o) else {
                    return;
                };
                *over = true;
                let busy = desk.phone.answer(invite, 486);
                let from = desk.phone.addr;
                self.kit.deliver_message(from, &busy);
            }
            Op::AgentHangUp(d) => {
                let desk = &mut self.desks[d];
                let Some(invite) = desk.answered.pop() else {
                    return;
                };
                desk.seq += 1;
                let bye = desk.phone.bye_as_answerer(&invite, desk.seq);
                let from = desk.phone.addr;
                self.kit.deliver(from, &bye);
            }
            Op::Transfer(d) => {
                let other = self.desks[1 - d].phone.user.clone();
                let desk = &mut self.desks[d];
                let Some(invite) = desk.answered.last().cloned() else {
                    return;
                };
                desk.seq += 1;
                let refer_to = format!("Refer-To: <sip:{other}@{}>\r\n", kit::SWITCH);
                let refer = desk
                    .phone
                    .request_as_answerer("REFER", &invite, desk.seq, &refer_to);
                let from = desk.phone.addr;
                self.kit.deliver(from, &refer);
            }
            Op::Monitor(d) => {
                let agent = self.desks[d].phone.user.clone();
                self.kit.input(hotline_b2bua::Input::Command {
                    reply: hotline_b2bua::ReplyTo(1),
                    command: hotline_b2bua::command::Command::Monitor {
                        supervisor: "1950".into(),
                        agent,
                        mode: hotline_b2bua::command::MonitorMode::Listen,
                    },
                    os_user: None,
                });
            }
            Op::CallOut(d) => self.place(d, "913903790000".to_string()),
            Op::Consult(d) => {
                let other = self.desks[1 - d].phone.user.clone();
                self.place(d, other);
            }
            Op::ConsultAnswered(d) => {
                for op in [Op::Consult(d), Op::Settle, Op::Pick(1 - d), Op::Settle] {
                    self.apply(&op);
                }
            }
            Op::EndCallOut(d) => {
                let desk = &mut self.desks[d];
                let Some(placed) = desk.placed.take() else {
                    return;
                };
                let phone = placed.phone(&desk.phone);
                let call_id = &placed.call_id;
                // Answered: BYE; still ringing: the agent gives up (CANCEL).
                let text = match placed.ok {
                    Some(ok) => phone.in_dialog("BYE", &ok, 2, &format!("z9hG4bK-bye-{call_id}")),
                    None => phone.cancel_to(&placed.to, &format!("z9hG4bK-{call_id}")),
                };
                let from = desk.phone.addr;
                self.kit.deliver(from, &text);
            }
            Op::Complete(d) => {
                let other = self.desks[1 - d].phone.user.clone();
                let desk = &mut self.desks[d];
                let Some(invite) = desk.answered.last().cloned() else {
                    return;
                };
                let Some(placed) = desk.placed.as_ref().filter(|p| p.to == other) else {
                    return;
                };
                let Some(switch_tag) = placed
                    .ok
                    .as_ref()
                    .and_then(|ok| ok.party_to())
                    .and_then(|t| t.tag().map(str::to_string))
                else {
                    return;
                };
                let replaces = format!(
                    "{}%3Bto-tag%3D{switch_tag}%3Bfrom-tag%3D{}",
                    placed.call_id.replace('@', "%40"),
                    placed.phone(&desk.phone).tag
                );
                let refer_to = format!(
                    "Refer-To: <sip:{other}@{}?Replaces={replaces}>\r\n",
                    kit::SWITCH
                );
                desk.seq += 1;
                let refer = desk
                    .phone
                    .request_as_answerer("REFER", &invite, desk.seq, &refer_to);
                let from = desk.phone.addr;
                self.kit.deliver(from, &refer);
            }
            Op::Deliver(fate) => {
                if self.kit.sent.is_empty() {
                    return;
                }
                let sent = self.kit.sent.remove(0);
                if fate == 0 {
                    return;
                }
                let replies = self.react(sent.to, &sent.message);
                for (from, m) in replies {
                    self.kit.deliver_message(from, &m);
                    if fate == 1 {
                        self.kit.deliver_message(from, &m);
                    }
                }
            }
            Op::Settle => {
                for _ in 0..60 {
                    if self.kit.sent.is_empty() {
                        break;
                    }
                    self.apply(&Op::Deliver(5));
                }
            }
            Op::Wait(ms) => self.kit.advance(Duration::from_millis(ms)),
            Op::Heard => self.kit.finish_plays(),
            Op::Press(key) => self.kit.press_all(key),
        }
    }

    /// Desk `d` dials `to` (if it has no call of its own already).
    fn place(&mut self, d: usize, to: String) {
        let desk = &mut self.desks[d];
        if desk.placed.is_some() {
            return;
        }
        desk.calls_out += 1;
        let placed = Placed {
            call_id: format!("out-{}-{}@test", desk.phone.user, desk.calls_out),
            to,
            ok: None,
        };
        let branch = format!("z9hG4bK-{}", placed.call_id);
        let invite = placed.phone(&desk.phone).invite_to(&placed.to, &branch);
        desk.placed = Some(placed);
        let from = desk.phone.addr;
        self.kit.deliver(from, &invite);
    }

    fn hang_up(&mut self, i: usize) {
        let c = &mut self.callers[i];
        let Some(branch) = c.branch.take() else {
            return;
        };
        let text = match c.ok.take() {
            Some(ok) => {
                c.seq += 1;
                c.phone
                    .in_dialog("BYE", &ok, c.seq, &format!("{branch}-bye"))
            }
            None => c.phone.cancel(&branch),
        };
        let from = c.phone.addr;
        self.kit.deliver(from, &text);
    }

    /// What the phone at `to` sends back on receiving `m`.
    fn react(
        &mut self,
        to: std::net::SocketAddr,
        m: &Message,
    ) -> Vec<(std::net::SocketAddr, Message)> {
        if let Some(desk) = self.desks.iter_mut().find(|d| d.phone.addr == to) {
            let from = desk.phone.addr;
            let req = match m {
                Message::Request(req) => req,
                Message::Response(r) => {
                    // The switch's answer to this phone's own call.
                    let Some(placed) = desk.placed.as_mut() else {
                        return Vec::new();
                    };
                    let invite = r.cseq().is_some_and(|c| c.method == Method::Invite);
                    if !invite || r.call_id() != Some(placed.call_id.as_str()) {
                        return Vec::new();
                    }
                    return match r.status {
                        200..=299 => {
                            let phone = placed.phone(&desk.phone);
                            let ack = phone.in_dialog("ACK", r, 1, "z9hG4bK-ack-out");
                            placed.ok = Some(r.clone());
                            vec![(from, parse(&ack))]
                        }
                        300.. => {
                            desk.placed = None;
                            Vec::new()
                        }
                        _ => Vec::new(),
                    };
                }
            };
            return match req.method {
                // A re-INVITE in a dialog the phone is in (a move, a hold): accepted.
                Method::Invite if req.party_to().is_some_and(|t| t.tag().is_some()) => {
                    vec![(from, desk.phone.answer(req, 200))]
                }
                Method::Bye => {
                    desk.answered.retain(|r| r.call_id() != req.call_id());
                    if desk
                        .placed
                        .as_ref()
                        .is_some_and(|p| Some(p.call_id.as_str()) == req.call_id())
                    {
                        desk.placed = None;
                    }
                    vec![(from, desk.phone.answer(req, 200))]
                }
                Method::Invite => {
                    let known = desk
                        .invites
                        .iter()
                        .any(|(r, _)| r.call_id() == req.call_id() && r.cseq() == req.cseq());
                    if !known {
                        desk.invites.push((req.clone(), false));
                    }
                    vec![(from, desk.phone.answer(req, 180))]
                }
                Method::Cancel => {
                    let mut out = vec![(from, desk.phone.answer(req, 200))];
                    let invite = desk
                        .invites
                        .iter_mut()
                        .find(|(r, over)| !*over && r.call_id() == req.call_id());
                    if let Some((invite, over)) = invite {
                        *over = true;
                        out.push((from, desk.phone.answer(invite, 487)));
                    }
                    out
                }
                Method::Ack => Vec::new(),
                _ => vec![(from, desk.phone.answer(req, 200))],
            };
        }
        let Some(c) = self.callers.iter_mut().find(|c| c.phone.addr == to) else {
            return Vec::new();
        };
        let from = c.phone.addr;
        match m {
            Message::Request(req) if req.method == Method::Ack => Vec::new(),
            Message::Request(req) => {
                if req.method == Method::Bye && req.call_id() == Some(c.phone.call_id.as_str()) {
                    c.branch = None;
                    c.ok = None;
                }
                vec![(from, c.phone.answer(req, 200))]
            }
            Message::Response(r) => {
                let invite = r.cseq().is_some_and(|s| s.method == Method::Invite);
                let ours = r.call_id() == Some(c.phone.call_id.as_str());
                if !(invite && ours && c.branch.is_some()) {
                    return Vec::new();
                }
                match r.status {
                    200..=299 => {
                        let ack = c.phone.in_dialog("ACK", r, 1, "z9hG4bK-ack");
                        if c.ok.is_none() {
                            c.ok = Some(r.clone());
                        }
                        vec![(from, parse(&ack))]
                    }
                    300.. => {
                        // The call is over for this phone (the ACK of a failure is left to
                        // the transaction's own end: a lost ACK, in effect).
                        c.branch = None;
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Everyone hangs up and the network delivers everything, until all timers have run.
    pub fn wind_down(&mut self) {
        for _ in 0..40 {
            for i in 0..CALLERS {
                self.hang_up(i);
            }
            for d in 0..2 {
                self.apply(&Op::EndCallOut(d));
            }
            while !self.kit.sent.is_empty() {
                self.apply(&Op::Deliver(5));
            }
            self.kit.advance(Duration::from_secs(10));
        }
    }
}

fn parse(text: &str) -> Message {
    hotline_sip::parse_message(text.as_bytes()).expect("a test message parses")
}
