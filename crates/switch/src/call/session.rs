//! Calls from agents' and supervisors' desk phones that the switch answers itself: a
//! feature code (`*21` log in … `*24N` not ready) gets a short spoken confirmation and is
//! hung up; a supervisor's monitoring call (`*31`/`*32`/`*33` + agent number) is joined to
//! the agent's call media as a listener, a whisperer or a third party.

use std::sync::Arc;
use std::time::Instant;

use hotline_acd::CallRef;
use hotline_media::call::{CallMedia, CallMediaHandle, MediaEvent};
use hotline_media::Monitor;
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;
use tracing::{info, Span};

use crate::core::Core;
use crate::media::{self, MediaPort, PeerMedia, SdpVersion};
use crate::sipbuild::token;

/// A phone call the switch answered for itself.
pub(crate) struct Session {
    /// The agent or supervisor whose phone called.
    pub user: String,
    pub peer: Peer,
    pub sip_call_id: String,
    pub dialog: Dialog,
    pub span: Span,
    pub kind: SessionKind,
}

/// What the session is for.
pub(crate) enum SessionKind {
    /// A feature code's confirmation playing; hung up when it ends.
    Feature(Option<CallMediaHandle>),
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
    pub port: MediaPort,
    pub peer_media: PeerMedia,
}

impl Core {
    /// Answers a phone's INVITE with the switch's own media port (200 with SDP).
    pub(crate) fn answer_phone(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
    ) -> Option<Answered> {
        let offer = media::parse_sdp(&req.body);
        let port = MediaPort::bind(self.media_ip).ok();
        let (Some(offer), Some(port)) = (offer, port) else {
            self.refuse(now, tx, req, 488);
            return None;
        };
        let Some((sdp, peer_media)) = media::answer(&offer, port.local_addr(), SdpVersion::new())
        else {
            self.refuse(now, tx, req, 488);
            return None;
        };
        let tag = token();
        let Some(dialog) = Dialog::as_uas(req, &tag, &self.local.contact()) else {
            self.refuse(now, tx, req, 400);
            return None;
        };
        let answer = self.local.answer_with_sdp(req, &tag, &sdp);
        self.endpoint.respond(now, tx, answer);
        Some(Answered {
            dialog,
            port,
            peer_media,
        })
    }

    /// Answers a feature-code call and plays `ok`'s confirmation, then hangs up.
    pub(crate) fn start_feature_session(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        from: Peer,
        user: &str,
        ok: bool,
    ) {
        let Some(a) = self.answer_phone(now, tx, req) else {
            return;
        };
        let call = self.alloc_call();
        let span = tracing::info_span!("phone", user = %user, session = call.0);
        let (media, mut events) = CallMedia::start(
            format!("phone-{}", call.0),
            (a.port, a.peer_media),
            None,
            Arc::clone(&self.prompts),
        );
        let prompt = if ok { "feature-ok" } else { "feature-failed" };
        media.play(1, vec![prompt.to_string()], false);
        let forward = self.media_events.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if forward.send((call, ev)).is_err() {
                    break;
                }
            }
        });
        self.add_session(
            call,
            Session {
                user: user.to_string(),
                peer: from,
                sip_call_id: a.dialog.call_id.clone(),
                dialog: a.dialog,
                span,
                kind: SessionKind::Feature(Some(media)),
            },
        );
    }

    pub(crate) fn add_session(&mut self, call: CallRef, session: Session) {
        self.session_dialogs
            .insert(session.sip_call_id.clone(), call);
        self.sessions.insert(call, session);
    }

    /// What a session's media reported: a finished confirmation ends the call.
    pub(crate) fn on_session_media(&mut self, now: Instant, call: CallRef, event: MediaEvent) {
        if let MediaEvent::PlayFinished(_) = event {
            self.end_session(now, call, true);
        }
    }

    /// A request inside a session's dialog.
    pub(crate) fn on_session_request(&mut self, now: Instant, call: CallRef, tx: TxId, req: Request) {
        let Some(s) = self.sessions.get(&call) else {
            return;
        };
        let tag = s.dialog.local_tag.clone();
        let matches = req.party_to().and_then(|t| t.tag().map(str::to_string)).as_deref()
            == Some(tag.as_str());
        if !matches {
            self.reply(now, tx, &req, 481, &tag);
            return;
        }
        match req.method {
            Method::Bye => {
                self.reply(now, tx, &req, 200, &tag);
                self.end_session(now, call, false);
            }
            // Hold and codec changes on a short session: accepted, nothing to change.
            Method::Invite | Method::Info | Method::Options | Method::Notify => {
                self.reply(now, tx, &req, 200, &tag)
            }
            _ => self.reply(now, tx, &req, 405, &tag),
        }
    }

    /// Ends a session; `send_bye` when the switch hangs up.
    pub(crate) fn end_session(&mut self, now: Instant, call: CallRef, send_bye: bool) {
        let Some(mut s) = self.sessions.remove(&call) else {
            return;
        };
        self.session_dialogs.remove(&s.sip_call_id);
        if send_bye {
            let bye = s.dialog.request(Method::Bye, &self.local.via(s.peer.transport));
            self.endpoint.send_request(now, bye, s.peer);
        }
        match s.kind {
            SessionKind::Feature(media) => {
                if let Some(m) = media {
                    tokio::spawn(async move {
                        m.stop().await;
                    });
                }
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
