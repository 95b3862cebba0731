//! A supervisor joining a call from the CLI (`hotline monitor`): the switch rings the
//! supervisor's phone, joins it to the call's media once it answers, and gives up on it
//! after a while.

use std::time::Instant;

use crate::notes::{note, About};
use hotline_acd::CallRef;
use hotline_media::Monitor;
use hotline_sip::dialog::Dialog;
use hotline_sip::message::{Method, SipMessage};
use hotline_sip::transaction::{Peer, TxId};
use hotline_sip::Request;

use super::session::{Answered, SessionKind};
use crate::core::Core;
use crate::media::{self, SdpVersion};
use crate::media_ctl::PortGrant;
use crate::owners::TxOwner;

/// How long `hotline monitor` rings a supervisor's phone.
const MONITOR_RING: std::time::Duration = std::time::Duration::from_secs(30);

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
            note!(
                self.notes,
                Info,
                About::Switch,
                "supervisor did not take the monitoring call supervisor={} status={}",
                p.supervisor,
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
