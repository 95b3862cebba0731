//! Calls from agents' and supervisors' desk phones that the switch answers itself: a
//! feature code (`*21` log in … `*24N` not ready) gets a short spoken confirmation and is
//! hung up; a supervisor's monitoring call (`*31`/`*32`/`*33` + agent number) is joined to
//! the agent's call media as a listener, a whisperer or a third party; an admin's phone
//! rung to record a voice prompt.

use std::sync::Arc;
use std::time::Instant;

use crate::notes::{note, About};
use hotline_acd::CallRef;
use hotline_media::call::MediaEvent;
use hotline_media::Monitor;
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;

use crate::core::Core;
use crate::media::{self, PeerMedia, SdpVersion};
use crate::media_ctl::{MediaHandle, PortGrant, StartMedia};
use crate::owners::DialogOwner;

/// A phone call the switch answered for itself.
pub(crate) struct Session {
    /// The agent or supervisor whose phone called.
    pub user: String,
    pub peer: Peer,
    pub dialog: Dialog,
    /// Whom its notes are about: this phone, this session.
    pub about: About,
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

/// What the session is for.
pub(crate) enum SessionKind {
    /// A feature code's confirmation playing; hung up when it ends.
    Feature(Option<MediaHandle>),
    /// A voice prompt being recorded from the phone ([`super::prompt_take`]).
    PromptTake(MediaHandle),
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
        let about = About::Phone {
            user: user.to_string(),
            session: call.0,
        };
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
                about,
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
            (SessionKind::Feature(Some(m)) | SessionKind::PromptTake(m), Some(peer)) => {
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
            SessionKind::PromptTake(media) => self.take_hung_up(call, media),
            SessionKind::Monitor { call: target, .. } => {
                if let Some(m) = self.calls.get(&target).and_then(|c| c.media()) {
                    m.end_supervision();
                }
                note!(
                    self.notes,
                    Info,
                    s.about.clone(),
                    "supervisor left the call"
                );
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
