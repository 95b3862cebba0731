//! Calls from agents' and supervisors' desk phones that the switch answers itself: a
//! feature code (`*21` log in … `*24N` not ready) gets a short spoken confirmation and is
//! hung up; a supervisor's monitoring call (`*31`/`*32`/`*33` + agent number) is joined to
//! the agent's call media as a listener, a whisperer or a third party.

use std::sync::Arc;
use std::time::Instant;

use hotline_acd::CallRef;
use hotline_media::call::MediaEvent;
use hotline_media::Monitor;
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;
use tracing::{info, Span};

use crate::core::Core;
use crate::media::{self, PeerMedia, SdpVersion};
use crate::media_ctl::{MediaHandle, PortGrant, StartMedia};
use crate::owners::{DialogOwner, TxOwner};

/// A phone call the switch answered for itself.
pub(crate) struct Session {
    /// The agent or supervisor whose phone called.
    pub user: String,
    pub peer: Peer,
    pub dialog: Dialog,
    pub span: Span,
    pub kind: SessionKind,
    /// The switch's media address for this phone, for the answers to its re-INVITEs.
    pub local_media: std::net::SocketAddr,
    /// The SDP origin of the switch's side of this dialog.
    pub sdp: SdpVersion,
    /// The phone's ACK of our 200 arrived (or the switch placed the call): a BYE may go.
    pub acked: bool,
    /// The switch wants to hang up but waits for the ACK (RFC 3261 15), since when.
    pub bye_pending: Option<Instant>,
    /// When the phone was last asked (OPTIONS) whether it is still there.
    pub alive_checked: Instant,
}

/// How long a session's BYE waits for an ACK that got lost.
const ACK_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long `hotline monitor` rings a supervisor's phone.
const MONITOR_RING: std::time::Duration = std::time::Duration::from_secs(30);

/// What the session is for.
pub(crate) enum SessionKind {
    /// A feature code's confirmation playing; hung up when it ends.
    Feature(Option<MediaHandle>),
    /// A supervisor attached to a call's media.
    Monitor {
        /// The monitored call.
        call: CallRef,
        /// The agent monitored.
        agent: String,
        /// How.
        mode: Monitor,
    },
}

/// A phone's INVITE answered by the switch: its dialog and the media port for it.
pub(crate) struct Answered {
    pub dialog: Dialog,
    pub port: PortGrant,
    pub peer_media: PeerMedia,
    /// The SDP origin of the switch's offer or answer in this dialog.
    pub sdp: SdpVersion,
    /// Whether the 2xx was ACKed already (true when the switch placed the call).
    pub acked: bool,
}

impl Core {
    /// Answers a phone's INVITE with the switch's own media port (200 with SDP).
    pub(crate) fn answer_phone(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        m: super::CallerMedia,
    ) -> Option<Answered> {
        let tag = self.local.token();
        let Some(dialog) = Dialog::as_uas(req, &tag, &self.local.contact()) else {
            self.refuse(now, tx, req, 400);
            return None;
        };
        let answer = self.local.answer_with_sdp(req, &tag, &m.answer_sdp);
        self.endpoint.respond(now, tx, answer);
        Some(Answered {
            dialog,
            port: m.port,
            peer_media: m.peer,
            sdp: m.sdp,
            acked: false,
        })
    }

    /// Plays `ok`'s confirmation on an answered feature-code call, then hangs up.
    pub(crate) fn start_feature_session(
        &mut self,
        now: Instant,
        from: Peer,
        user: &str,
        ok: bool,
        a: Answered,
    ) {
        let call = self.alloc_call();
        let span = tracing::info_span!("phone", user = %user, session = call.0);
        let local_media = a.port.local_addr();
        let start = StartMedia {
            call,
            call_id: format!("phone-{}", call.0),
            caller: (a.port, a.peer_media),
            agent: None,
            recording: None,
            prompts: Arc::clone(&self.prompts),
            events: true,
        };
        let media = MediaHandle::start(self.media_ids.fresh(), &self.out, start);
        let prompt = if ok { "feature-ok" } else { "feature-failed" };
        media.play(1, vec![prompt.to_string()], false);
        self.add_session(
            call,
            Session {
                user: user.to_string(),
                peer: from,
                dialog: a.dialog,
                span,
                kind: SessionKind::Feature(Some(media)),
                local_media,
                sdp: a.sdp,
                acked: false,
                bye_pending: None,
                alive_checked: now,
            },
        );
    }

    pub(crate) fn add_session(&mut self, call: CallRef, session: Session) {
        self.dialogs
            .insert(session.dialog.call_id.clone(), DialogOwner::Session(call));
        self.sessions.insert(call, session);
    }

    /// What a session's media reported: a finished confirmation ends the call.
    pub(crate) fn on_session_media(&mut self, now: Instant, call: CallRef, event: MediaEvent) {
        if let MediaEvent::PlayFinished(_) = event {
            match self.sessions.get_mut(&call) {
                Some(s) if !s.acked => s.bye_pending = Some(now),
                Some(_) => self.end_session(now, call, true),
                None => {}
            }
        }
    }

    /// The phone ACKed the switch's answer of a session: a BYE held for it goes now. The
    /// ACK must carry the dialog's tags, not just its Call-ID.
    pub(crate) fn on_session_ack(&mut self, now: Instant, ack: &Request) {
        let Some(call) = ack.call_id().and_then(|id| self.dialogs.session(id)) else {
            return;
        };
        let pending = self.sessions.get_mut(&call).is_some_and(|s| {
            let ours = s.dialog.matches(ack);
            s.acked |= ours;
            ours && s.bye_pending.is_some()
        });
        if pending {
            self.end_session(now, call, true);
        }
    }

    /// Sessions whose ACK never came are hung up anyway once it is clearly lost.
    pub(crate) fn unacked_sessions(&mut self, now: Instant) {
        let stale: Vec<CallRef> = self
            .sessions
            .iter()
            .filter(|(_, s)| {
                s.bye_pending
                    .is_some_and(|at| now.saturating_duration_since(at) >= ACK_WAIT)
            })
            .map(|(id, _)| *id)
            .collect();
        for call in stale {
            self.end_session(now, call, true);
        }
    }

    /// Supervisors' phones rung by `hotline monitor` that did not answer are CANCELled.
    pub(crate) fn monitor_invite_timeouts(&mut self, now: Instant) {
        let stale: Vec<TxId> = self
            .owners
            .monitors()
            .filter(|(_, p)| now.saturating_duration_since(p.since) >= MONITOR_RING)
            .map(|(tx, _)| tx)
            .collect();
        for tx in stale {
            self.withdraw_monitor_invite(now, tx);
        }
    }

    /// CANCELs a supervisor's ringing phone; a late answer is ACKed and hung up.
    pub(crate) fn withdraw_monitor_invite(&mut self, now: Instant, tx: TxId) {
        let Some(p) = self.owners.remove_monitor(tx) else {
            return;
        };
        self.withdraw_invite(now, tx, p.invite, p.peer, p.provisional);
    }

    /// A request inside a session's dialog.
    pub(crate) fn on_session_request(
        &mut self,
        now: Instant,
        call: CallRef,
        tx: TxId,
        req: Request,
    ) {
        let Some(s) = self.sessions.get(&call) else {
            return;
        };
        let tag = s.dialog.local_tag.clone();
        if !s.dialog.matches(&req) {
            self.reply(now, tx, &req, 481, &tag);
            return;
        }
        match req.method {
            Method::Bye => {
                self.reply(now, tx, &req, 200, &tag);
                self.end_session(now, call, false);
            }
            Method::Invite => self.on_session_reinvite(now, call, tx, &req, &tag),
            Method::Info | Method::Options | Method::Notify => self.reply(now, tx, &req, 200, &tag),
            _ => self.reply(now, tx, &req, 405, &tag),
        }
    }

    /// A re-INVITE from a session's phone (hold, a new address or codec): a 2xx to an offer
    /// must carry the answer (RFC 3264), and the media must follow it; without an offer
    /// the switch offers its own address again.
    fn on_session_reinvite(
        &mut self,
        now: Instant,
        call: CallRef,
        tx: TxId,
        req: &Request,
        tag: &str,
    ) {
        let policy = self.media_policy();
        let Some(s) = self.sessions.get_mut(&call) else {
            return;
        };
        let signalled = s.peer.addr.ip();
        let Some((body, peer)) =
            media::reinvite_body(&req.body, s.local_media, &mut s.sdp, signalled, &policy)
        else {
            return self.reply(now, tx, req, 488, tag);
        };
        match (&s.kind, peer) {
            (SessionKind::Feature(Some(m)), Some(peer)) => {
                m.update(crate::core::Side::Caller, peer)
            }
            (SessionKind::Monitor { call: target, .. }, Some(peer)) => {
                if let Some(m) = self.calls.get(target).and_then(|c| c.media()) {
                    m.update_supervisor(peer);
                }
            }
            _ => {}
        }
        let r = self.local.answer_with_sdp(req, tag, &body);
        self.endpoint.respond(now, tx, r);
    }

    /// Ends a session; `send_bye` when the switch hangs up.
    pub(crate) fn end_session(&mut self, now: Instant, call: CallRef, send_bye: bool) {
        let Some(mut s) = self.sessions.remove(&call) else {
            return;
        };
        self.dialogs.remove_session(&s.dialog.call_id);
        self.owners.forget(call);
        if send_bye {
            let bye = s
                .dialog
                .request(Method::Bye, &self.local.via(s.peer.transport));
            self.endpoint.send_request(now, bye, s.peer);
        }
        match s.kind {
            SessionKind::Feature(media) => {
                // Dropping the handle stops the task.
                drop(media);
            }
            SessionKind::Monitor { call: target, .. } => {
                if let Some(m) = self.calls.get(&target).and_then(|c| c.media()) {
                    m.end_supervision();
                }
                s.span.in_scope(|| info!("supervisor left the call"));
            }
        }
    }

    /// Hangs up every supervisor on `call` (it ended).
    pub(crate) fn end_monitors_of(&mut self, now: Instant, call: CallRef) {
        let on_call: Vec<CallRef> = self
            .sessions
            .iter()
            .filter(|(_, s)| matches!(s.kind, SessionKind::Monitor { call: c, .. } if c == call))
            .map(|(id, _)| *id)
            .collect();
        for id in on_call {
            self.end_session(now, id, true);
        }
    }
}

/// A supervisor's phone rung from the CLI (`hotline monitor`), joined once it answers.
pub(crate) struct PendingMonitor {
    pub since: Instant,
    pub target: CallRef,
    pub supervisor: String,
    pub agent: String,
    pub mode: Monitor,
    pub invite: Request,
    pub peer: Peer,
    pub port: PortGrant,
    pub sdp: SdpVersion,
    /// A provisional response arrived: a CANCEL may be sent (RFC 3261 9.1).
    pub provisional: bool,
}

impl Core {
    /// `hotline monitor SUPERVISOR AGENT MODE`: changes the mode of the supervisor's
    /// monitoring of that agent, or rings the supervisor's phone to start it.
    pub(crate) fn monitor_from_cli(
        &mut self,
        now: Instant,
        supervisor: &str,
        agent: &str,
        mode: Monitor,
    ) -> Result<String, String> {
        if self.plan.dialplan.supervisor(supervisor).is_none() {
            return Err(format!("{supervisor} is not a supervisor of this dialplan"));
        }
        let current = self.sessions.iter().find_map(|(id, s)| match &s.kind {
            SessionKind::Monitor { call, agent: a, .. } if s.user == supervisor && a == agent => {
                Some((*id, *call))
            }
            _ => None,
        });
        if let Some((session, call)) = current {
            // Changing mode on the same call is audited like starting, and only then made.
            self.monitor_target(supervisor, agent, mode, true)
                .map_err(|s| refusal(s, agent))?;
            if let Some(SessionKind::Monitor { mode: m, .. }) =
                self.sessions.get_mut(&session).map(|s| &mut s.kind)
            {
                *m = mode;
            }
            if let Some(m) = self.calls.get(&call).and_then(|c| c.media()) {
                m.set_monitor(mode);
            }
            return Ok(format!(
                "{supervisor}: now {} on {agent}",
                super::phone::monitor_word(mode)
            ));
        }
        let target = self
            .monitor_target(supervisor, agent, mode, false)
            .map_err(|s| refusal(s, agent))?;
        let (contact, peer) = self
            .agent_target(supervisor)
            .ok_or_else(|| format!("{supervisor}'s phone is not registered"))?;
        let port = self
            .ports
            .take(&self.out)
            .ok_or_else(|| "no media port free".to_string())?;
        let version = SdpVersion::new(self.local.draw());
        let sdp = media::offer(port.local_addr(), version);
        let invite = self
            .local
            .agent_invite(&contact, supervisor, agent, peer.transport, &sdp);
        let tx = self
            .endpoint
            .send_request(now, invite.clone(), peer)
            .ok_or_else(|| "the supervisor's phone could not be called".to_string())?;
        self.owners.insert(
            tx,
            TxOwner::Monitor(PendingMonitor {
                since: now,
                target,
                supervisor: supervisor.to_string(),
                agent: agent.to_string(),
                mode,
                invite,
                peer,
                port,
                sdp: version,
                provisional: false,
            }),
        );
        Ok(format!(
            "ringing {supervisor}'s phone to {} on {agent}",
            super::phone::monitor_word(mode)
        ))
    }

    /// A response to a supervisor's INVITE from the CLI; false if `tx` is not one.
    pub(crate) fn on_monitor_response(
        &mut self,
        now: Instant,
        tx: TxId,
        resp: &hotline_sip::Response,
    ) -> bool {
        if self.owners.monitor_mut(tx).is_none() {
            return false;
        }
        if resp.status < 200 {
            if let Some(p) = self.owners.monitor_mut(tx) {
                p.provisional = true;
            }
            return true;
        }
        let Some(p) = self.owners.remove_monitor(tx) else {
            return true;
        };
        let policy = self.media_policy();
        if resp.status >= 300 {
            info!(supervisor = %p.supervisor, status = resp.status, "supervisor did not take the monitoring call");
            return true;
        }
        let contact = self.local.contact();
        let joined = Dialog::as_uac(&p.invite, resp, &contact).and_then(|dialog| {
            let peer_media = media::peer_of_answer_body(&resp.body, p.peer.addr.ip(), &policy)?;
            Some((dialog, peer_media))
        });
        let Some((dialog, peer_media)) = joined else {
            self.ack_and_bye(now, &p.invite, resp, p.peer);
            return true;
        };
        let seq = p.invite.cseq().map_or(1, |c| c.seq);
        let ack = dialog
            .ack(seq, &self.local.via(p.peer.transport))
            .to_bytes();
        self.sent_acks.remember(now, tx, p.peer, ack.clone());
        self.endpoint.send_stateless(p.peer, ack);
        if !self.calls.contains_key(&p.target) {
            // The call ended while the supervisor's phone rang.
            let mut dialog = dialog;
            let bye = dialog.request(Method::Bye, &self.local.via(p.peer.transport));
            self.endpoint.send_request(now, bye, p.peer);
            return true;
        }
        let answered = Answered {
            dialog,
            port: p.port,
            peer_media,
            sdp: p.sdp,
            acked: true,
        };
        let ask = super::phone::MonitorAsk {
            target: p.target,
            supervisor: &p.supervisor,
            agent: &p.agent,
            mode: p.mode,
        };
        self.join_monitor(now, ask, p.peer, answered);
        true
    }

    /// Ends the supervisor's monitoring session; false if there was none.
    pub(crate) fn end_monitoring_by(&mut self, now: Instant, supervisor: &str) -> bool {
        let id = self
            .sessions
            .iter()
            .find(|(_, s)| s.user == supervisor && matches!(s.kind, SessionKind::Monitor { .. }))
            .map(|(id, _)| *id);
        let ringing: Vec<TxId> = self
            .owners
            .monitors()
            .filter(|(_, p)| p.supervisor == supervisor)
            .map(|(tx, _)| tx)
            .collect();
        let was_ringing = !ringing.is_empty();
        for tx in ringing {
            self.withdraw_monitor_invite(now, tx);
        }
        match id {
            Some(id) => {
                self.end_session(now, id, true);
                true
            }
            None => was_ringing,
        }
    }
}

fn refusal(status: u16, agent: &str) -> String {
    match status {
        403 => format!("{agent} is outside this supervisor's scope"),
        486 => format!("{agent}'s call has a supervisor already"),
        _ => format!("{agent} is on no call"),
    }
}
