//! INVITEs from agents' and supervisors' phones (anything but the service number): who is
//! calling (digest with their secret, or a static seat's address), then what they dialled —
//! a feature code, a supervisor's monitoring code, a taxpayer's number behind the outbound
//! prefix, or another agent's number (a consultation before an attended transfer).

use hotline_record::StoreWrite;
use std::time::Instant;

use crate::notes::{note, About};
use hotline_acd::NotReady;
use hotline_media::Monitor;
use hotline_record::MonitorUse;
use hotline_routing::AgentReach;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::{Request, SipUri};

use super::session::{Session, SessionKind};
use crate::agents::AgentCommand;
use crate::core::Core;

/// What a phone dialled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Dialled {
    /// `*21` … `*24N`.
    Feature(AgentCommand),
    /// `*31`/`*32`/`*33` + the agent's number.
    Monitor(Monitor, String),
    /// The outbound prefix and a number.
    Outbound(String),
    /// Another agent's number.
    Agent(String),
}

/// Reads a dialled string; `None` for anything the switch does not route from phones.
pub(crate) fn dialled(
    user: &str,
    outbound_prefix: &str,
    is_agent: impl Fn(&str) -> bool,
) -> Option<Dialled> {
    let feature = |c: AgentCommand| Some(Dialled::Feature(c));
    match user {
        "*21" => return feature(AgentCommand::Login),
        "*22" => return feature(AgentCommand::Logout),
        "*23" => return feature(AgentCommand::Ready),
        _ => {}
    }
    if let Some(n) = user.strip_prefix("*24") {
        let reason = n.parse::<u8>().ok().and_then(NotReady::from_code)?;
        return feature(AgentCommand::Pause(reason));
    }
    for (code, mode) in [
        ("*31", Monitor::Listen),
        ("*32", Monitor::Whisper),
        ("*33", Monitor::Barge),
    ] {
        if let Some(agent) = user.strip_prefix(code) {
            return is_agent(agent).then(|| Dialled::Monitor(mode, agent.to_string()));
        }
    }
    if is_agent(user) {
        return Some(Dialled::Agent(user.to_string()));
    }
    if !outbound_prefix.is_empty() {
        if let Some(number) = user.strip_prefix(outbound_prefix) {
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
                return Some(Dialled::Outbound(number.to_string()));
            }
        }
    }
    None
}

impl Core {
    /// An INVITE to something other than the service number: only agents' and
    /// supervisors' phones may place such calls, so the caller is known (challenged)
    /// before the number is even looked at: a stranger gets the same challenge whether
    /// or not the number exists (Asterisk's `alwaysauthreject`).
    pub(crate) fn on_phone_invite(&mut self, now: Instant, tx: TxId, req: Request, from: Peer) {
        if !self.braked(now, tx, &req, from) {
            self.phone_invite_now(now, tx, req, from);
        }
    }

    /// [`Core::on_phone_invite`] once past the brakes.
    pub(crate) fn phone_invite_now(&mut self, now: Instant, tx: TxId, req: Request, from: Peer) {
        let target = SipUri::parse(&req.uri)
            .and_then(|u| u.user)
            .unwrap_or_default();
        let plan = self.plan.clone();
        let what = dialled(&target, &plan.dialplan.switch.outbound_prefix, |a| {
            plan.dialplan.agent(a).is_some()
        });
        // Listening in and calls out cost the most when abused: a static seat's address
        // alone does not open them.
        let weighty = matches!(what, Some(Dialled::Monitor(..) | Dialled::Outbound(_)));
        let Some(user) = self.authenticate_phone(now, tx, &req, from, weighty) else {
            return;
        };
        let Some(what) = what else {
            note!(
                self.notes,
                Warn,
                About::Switch,
                "call to a number that is not a service number refused user={} uri={} from={}",
                user,
                req.uri,
                from.addr
            );
            self.refuse(now, tx, &req, 404);
            return;
        };
        let is_agent = plan.dialplan.agent(&user).is_some();
        note!(
            self.notes,
            Info,
            About::Switch,
            "call from a phone user={} dialled={}",
            user,
            target
        );
        match what {
            Dialled::Feature(command) if is_agent => {
                // A call the switch cannot answer (no usable offer, no port) changes nothing.
                let m = match self.caller_media(&req, from) {
                    Ok(m) => m,
                    Err(status) => return self.refuse(now, tx, &req, status),
                };
                let ok = self.agent_command(now, &user, command).is_ok();
                if let Some(a) = self.answer_phone(now, tx, &req, m) {
                    self.start_feature_session(now, from, &user, ok, a);
                }
            }
            Dialled::Monitor(mode, agent) if plan.dialplan.supervisor(&user).is_some() => {
                self.phone_monitor(now, tx, &req, from, &user, &agent, mode);
            }
            Dialled::Outbound(number) if is_agent => {
                self.call_out(now, tx, req, from, &user, &number);
            }
            Dialled::Agent(agent) if is_agent && agent != user => {
                self.call_agent(now, tx, req, from, &user, &agent);
            }
            _ => self.refuse(now, tx, &req, 403),
        }
    }

    /// Who placed the call: by digest with their secret, or a static seat by its address
    /// (and port) for what is not `weighty` (monitoring, calls out), or for anything when
    /// the plan trusts the seat's address. `None` once the challenge or refusal has been
    /// sent.
    fn authenticate_phone(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        from: Peer,
        weighty: bool,
    ) -> Option<String> {
        let user = req
            .party_from()
            .and_then(|f| f.sip_uri())
            .and_then(|u| u.user)
            .unwrap_or_default();
        let reach = self.plan.dialplan.phone(&user).cloned();
        let secret = match reach {
            Some(AgentReach::Registers { secret }) => Some(secret),
            Some(AgentReach::Static {
                contact,
                any_port,
                secret,
                trust_address,
            }) => {
                let at_seat = static_seat_sent(&contact, any_port, from);
                if at_seat && (trust_address || !weighty) {
                    return Some(user);
                }
                if at_seat && secret.is_none() {
                    note!(self.notes, Warn, About::Switch, "a static seat without a secret cannot monitor or call out: give it a `secret`, or `trust_address = true` user={}", user);
                }
                secret
            }
            None => None,
        };
        let now_secs = self.wall.timestamp().max(0) as u64;
        match self
            .registrar
            .authenticate(req, &user, now, now_secs, |_| secret.clone())
        {
            Ok(()) => {
                self.brakes.succeeded(&user);
                Some(user)
            }
            Err(refusal) => {
                self.endpoint.respond(now, tx, refusal.response);
                if refusal.wrong {
                    self.sign_in_failed(now, from, &user);
                }
                None
            }
        }
    }

    /// A supervisor's monitoring call: refused (and audited) outside their scope or when
    /// the agent is on no call; else answered and joined to the agent's call media.
    #[allow(clippy::too_many_arguments)]
    fn phone_monitor(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        from: Peer,
        supervisor: &str,
        agent: &str,
        mode: Monitor,
    ) {
        let target = match self.monitor_target(supervisor, agent, mode, false) {
            Ok(call) => call,
            Err(status) => {
                self.refuse(now, tx, req, status);
                return;
            }
        };
        let m = match self.caller_media(req, from) {
            Ok(m) => m,
            Err(status) => return self.refuse(now, tx, req, status),
        };
        let Some(a) = self.answer_phone(now, tx, req, m) else {
            return;
        };
        let ask = MonitorAsk {
            target,
            supervisor,
            agent,
            mode,
        };
        self.join_monitor(now, ask, from, a);
    }

    /// The call a supervisor may monitor, audited either way; `Err` is the status to refuse
    /// with (403 out of scope, 404 the agent is on no call, 486 the call already has a
    /// supervisor: its media has one supervisor's seat, and a second one would silently
    /// take the first one's audio away). `changing` is a mode change of the supervisor's
    /// own monitoring, which holds the seat already.
    pub(crate) fn monitor_target(
        &mut self,
        supervisor: &str,
        agent: &str,
        mode: Monitor,
        changing: bool,
    ) -> Result<hotline_acd::CallRef, u16> {
        let in_scope = match (
            self.plan.dialplan.supervisor(supervisor),
            self.plan.dialplan.agent(agent),
        ) {
            (Some(s), Some(a)) => s.may_monitor(a),
            _ => false,
        };
        let call = self
            .calls
            .iter()
            .find(|(_, c)| {
                c.talking().is_some_and(|t| t.party.is_agent(agent)) && c.media().is_some()
            })
            .map(|(id, c)| (*id, c.id.clone()));
        let taken = !changing
            && call
                .as_ref()
                .is_some_and(|(id, _)| self.monitor_seat_taken(*id));
        let allowed = in_scope && call.is_some() && !taken;
        let audit = MonitorUse {
            at: self.wall,
            supervisor: supervisor.to_string(),
            agent: agent.to_string(),
            call_id: call.as_ref().map(|(_, id)| id.clone()),
            mode: monitor_word(mode).to_string(),
            allowed,
            os_user: self.operator_user.clone(),
        };
        self.out.write(StoreWrite::Monitor(Box::new(audit)));
        note!(
            self.notes,
            Info,
            About::Switch,
            "monitoring asked for supervisor={} agent={} mode={} in_scope={} on_call={} taken={}",
            supervisor,
            agent,
            monitor_word(mode),
            in_scope,
            call.is_some(),
            taken
        );
        match call {
            _ if !in_scope => Err(403),
            Some(_) if taken => Err(486),
            Some((id, _)) => Ok(id),
            None => Err(404),
        }
    }

    /// Whether a supervisor is on `call` already, or being rung for it from the CLI.
    fn monitor_seat_taken(&self, call: hotline_acd::CallRef) -> bool {
        self.sessions
            .values()
            .any(|s| matches!(s.kind, SessionKind::Monitor { call: c, .. } if c == call))
            || self
                .owners
                .ringing_phones()
                .any(|(_, p)| p.purpose.monitored_call() == Some(call))
    }

    /// Joins an answered supervisor leg to the call's media.
    pub(crate) fn join_monitor(
        &mut self,
        now: std::time::Instant,
        ask: MonitorAsk<'_>,
        peer: Peer,
        a: super::session::Answered,
    ) {
        let MonitorAsk {
            target,
            supervisor,
            agent,
            mode,
        } = ask;
        let Some(media) = self.calls.get(&target).and_then(|c| c.media()) else {
            // The call ended (or lost its media) meanwhile: the answered supervisor is
            // hung up rather than left in a dialog nobody keeps.
            let mut dialog = a.dialog;
            let bye = dialog.request(Method::Bye, &self.local.via(peer.transport));
            self.endpoint.send_request(now, bye, peer);
            return;
        };
        let Some(c) = self.calls.get(&target) else {
            return;
        };
        let local_media = a.port.local_addr();
        media.supervise((a.port, a.peer_media), mode);
        let about = c.about();
        note!(
            self.notes,
            Info,
            about.clone(),
            "supervisor joined supervisor={} agent={} mode={}",
            supervisor,
            agent,
            monitor_word(mode)
        );
        let session = self.alloc_call();
        self.add_session(
            session,
            Session {
                user: supervisor.to_string(),
                peer,
                dialog: a.dialog,
                about,
                kind: SessionKind::Monitor {
                    call: target,
                    agent: agent.to_string(),
                    mode,
                },
                local_media,
                sdp: a.sdp,
                acked: a.acked,
                bye_pending: None,
                alive_checked: now,
            },
        );
    }
}

/// Whether a request from `from` comes from the static seat at `contact`. A desk phone (or
/// the city PBX a seat sits behind) sends from the port it is rung on, over UDP as over TCP
/// (where it connects from its own SIP port), so address and port must both match: seats of
/// one office share an address and must not act as each other. A seat with `any_port`
/// sends from other ports: its address alone is what there is.
pub(crate) fn static_seat_sent(contact: &str, any_port: bool, from: Peer) -> bool {
    let Some(seat) = crate::core::static_peer(contact) else {
        return false;
    };
    let port_ok = any_port || seat.addr.port() == from.addr.port();
    seat.addr.ip() == from.addr.ip() && port_ok
}

/// The modes by their audit and CLI words.
const MONITOR_WORDS: [(&str, Monitor); 3] = [
    ("listen", Monitor::Listen),
    ("whisper", Monitor::Whisper),
    ("barge", Monitor::Barge),
];

/// The audit word for a mode.
pub(crate) fn monitor_word(mode: Monitor) -> &'static str {
    MONITOR_WORDS
        .iter()
        .find(|(_, m)| *m == mode)
        .map_or("listen", |(w, _)| w)
}

/// Which call a supervisor asked to join, as whom and how.
pub(crate) struct MonitorAsk<'a> {
    pub target: hotline_acd::CallRef,
    pub supervisor: &'a str,
    pub agent: &'a str,
    pub mode: Monitor,
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::transaction::Transport;

    #[test]
    fn dialled_strings_from_phones() {
        let agent = |a: &str| a == "1003" || a == "1019";
        assert_eq!(
            dialled("*21", "9", agent),
            Some(Dialled::Feature(AgentCommand::Login))
        );
        assert_eq!(
            dialled("*243", "9", agent),
            Some(Dialled::Feature(AgentCommand::Pause(NotReady::Training)))
        );
        assert_eq!(dialled("*249", "9", agent), None);
        assert_eq!(
            dialled("*321003", "9", agent),
            Some(Dialled::Monitor(Monitor::Whisper, "1003".into()))
        );
        assert_eq!(dialled("*311234", "9", agent), None);
        assert_eq!(
            dialled("1019", "9", agent),
            Some(Dialled::Agent("1019".into()))
        );
        assert_eq!(
            dialled("913903790000", "9", agent),
            Some(Dialled::Outbound("13903790000".into()))
        );
        assert_eq!(dialled("110", "9", agent), None);
        assert_eq!(dialled("9", "9", agent), None);
    }

    #[test]
    fn a_static_seat_is_its_address_and_its_port_over_udp_and_tcp() {
        let sent = |contact: &str, any_port, addr: &str, transport| {
            let from = Peer {
                addr: addr.parse().unwrap(),
                transport,
            };
            static_seat_sent(contact, any_port, from)
        };
        let (seat, udp, tcp) = ("sip:1003@10.8.0.21:5062", Transport::Udp, Transport::Tcp);
        assert!(sent(seat, false, "10.8.0.21:5062", udp));
        // Another phone of the same office claiming to be 1003, or another office.
        assert!(!sent(seat, false, "10.8.0.21:5064", udp));
        assert!(!sent(seat, false, "10.8.0.22:5062", udp));
        assert!(
            !sent(seat, false, "10.8.0.21:40112", tcp),
            "TCP from another port"
        );
        assert!(sent(seat, false, "10.8.0.21:5062", tcp));
        assert!(sent(seat, true, "10.8.0.21:40112", tcp));
        // A phone that sends from other ports than it is rung on, trusted by address.
        assert!(sent(seat, true, "10.8.0.21:5064", udp));
        assert!(!sent(seat, true, "10.8.0.22:5062", udp));
        assert!(sent("sip:1003@10.8.0.21", false, "10.8.0.21:5060", udp));
        assert!(sent("sip:1003@[::1]:5062", false, "[::1]:5062", udp));
        assert!(!sent("not a uri", true, "10.8.0.21:5060", udp));
    }
}
