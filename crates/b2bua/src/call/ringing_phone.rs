//! A desk phone the switch rings for itself, not for a taxpayer: a supervisor's phone to
//! monitor a call (`hotline monitor`, the console's listen button), or an admin's phone to
//! record a voice prompt. Rung for a while, CANCELled if unanswered, and once answered
//! handed to what it was rung for.

use std::time::{Duration, Instant};

use crate::notes::{note, About};
use hotline_acd::CallRef;
use hotline_media::Monitor;
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;

use super::session::Answered;
use crate::core::Core;
use crate::media::{self, SdpVersion};
use crate::media_ctl::PortGrant;
use crate::owners::TxOwner;

/// How long the switch rings a desk phone for itself.
const RING_FOR: Duration = Duration::from_secs(30);

/// A desk phone the switch rings, until it answers.
pub(crate) struct RingingPhone {
    pub since: Instant,
    /// The number of the phone's user (a supervisor's, an agent's).
    pub user: String,
    pub purpose: RingingFor,
    pub invite: Request,
    pub peer: Peer,
    pub port: PortGrant,
    pub sdp: SdpVersion,
    /// A provisional response arrived: a CANCEL may be sent (RFC 3261 9.1).
    pub provisional: bool,
}

/// What the phone is rung for.
pub(crate) enum RingingFor {
    /// To join an agent's call as a supervisor.
    Monitor {
        target: CallRef,
        agent: String,
        mode: Monitor,
    },
    /// To record a new version of a voice prompt.
    PromptTake {
        prompt: String,
        /// Who asked (the console user, the OS user at the socket).
        asked_by: Option<String>,
    },
}

impl RingingFor {
    /// The call a supervisor is rung to join.
    pub(crate) fn monitored_call(&self) -> Option<CallRef> {
        match self {
            RingingFor::Monitor { target, .. } => Some(*target),
            RingingFor::PromptTake { .. } => None,
        }
    }
}

impl Core {
    /// Rings `user`'s registered phone for `purpose`, showing `shown` as the caller.
    pub(crate) fn ring_phone(
        &mut self,
        now: Instant,
        user: &str,
        shown: &str,
        purpose: RingingFor,
    ) -> Result<(), String> {
        let (contact, peer) = self
            .agent_target(user)
            .ok_or_else(|| format!("{user}'s phone is not registered"))?;
        let port = self
            .ports
            .take(&self.out)
            .ok_or_else(|| "no media port free".to_string())?;
        let version = SdpVersion::new(self.local.draw());
        let sdp = media::offer(port.local_addr(), version);
        let invite = self
            .local
            .agent_invite(&contact, user, shown, peer.transport, &sdp);
        let tx = self
            .endpoint
            .send_request(now, invite.clone(), peer)
            .ok_or_else(|| format!("{user}'s phone could not be called"))?;
        self.owners.insert(
            tx,
            TxOwner::RingingPhone(RingingPhone {
                since: now,
                user: user.to_string(),
                purpose,
                invite,
                peer,
                port,
                sdp: version,
                provisional: false,
            }),
        );
        Ok(())
    }

    /// Phones rung for the switch that did not answer in time are CANCELled.
    pub(crate) fn ringing_phone_timeouts(&mut self, now: Instant) {
        let stale: Vec<TxId> = self
            .owners
            .ringing_phones()
            .filter(|(_, p)| now.saturating_duration_since(p.since) >= RING_FOR)
            .map(|(tx, _)| tx)
            .collect();
        for tx in stale {
            self.withdraw_ringing_phone(now, tx);
        }
    }

    /// CANCELs a phone rung for the switch; a late answer is ACKed and hung up.
    pub(crate) fn withdraw_ringing_phone(&mut self, now: Instant, tx: TxId) {
        let Some(p) = self.owners.remove_ringing_phone(tx) else {
            return;
        };
        self.withdraw_invite(now, tx, p.invite, p.peer, p.provisional);
    }

    /// A response to a phone rung for the switch; false if `tx` is not one.
    pub(crate) fn on_ringing_phone_response(
        &mut self,
        now: Instant,
        tx: TxId,
        resp: &hotline_sip::Response,
    ) -> bool {
        if resp.status < 200 {
            return match self.owners.ringing_phone_mut(tx) {
                Some(p) => {
                    p.provisional = true;
                    true
                }
                None => false,
            };
        }
        let Some(p) = self.owners.remove_ringing_phone(tx) else {
            return false;
        };
        let policy = self.media_policy();
        if resp.status >= 300 {
            note!(
                self.notes,
                Info,
                About::Switch,
                "phone did not take the switch's call user={} status={}",
                p.user,
                resp.status
            );
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
        let answered = Answered {
            dialog,
            port: p.port,
            peer_media,
            sdp: p.sdp,
            acked: true,
        };
        match p.purpose {
            RingingFor::Monitor {
                target,
                agent,
                mode,
            } => {
                if !self.calls.contains_key(&target) {
                    // The call ended while the supervisor's phone rang.
                    let mut dialog = answered.dialog;
                    let bye = dialog.request(Method::Bye, &self.local.via(p.peer.transport));
                    self.endpoint.send_request(now, bye, p.peer);
                    return true;
                }
                let ask = super::phone::MonitorAsk {
                    target,
                    supervisor: &p.user,
                    agent: &agent,
                    mode,
                };
                self.join_monitor(now, ask, p.peer, answered);
            }
            RingingFor::PromptTake { prompt, asked_by } => {
                let take = super::prompt_take::TakeAsk {
                    prompt,
                    asked_by,
                    phone: p.user,
                };
                self.start_prompt_take(now, p.peer, answered, take);
            }
        }
        true
    }
}
