//! A supervisor joining a call from the CLI (`hotline monitor`): the switch rings the
//! supervisor's phone ([`super::ringing_phone`]), joins it to the call's media once it
//! answers.

use std::time::Instant;

use hotline_media::Monitor;
use hotline_sip::transaction::TxId;

use super::ringing_phone::RingingFor;
use super::session::SessionKind;
use crate::core::Core;

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
        let purpose = RingingFor::Monitor {
            target,
            agent: agent.to_string(),
            mode,
        };
        self.ring_phone(now, supervisor, agent, purpose)?;
        Ok(format!(
            "ringing {supervisor}'s phone to {} on {agent}",
            super::phone::monitor_word(mode)
        ))
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
            .ringing_phones()
            .filter(|(_, p)| p.user == supervisor && p.purpose.monitored_call().is_some())
            .map(|(tx, _)| tx)
            .collect();
        let was_ringing = !ringing.is_empty();
        for tx in ringing {
            self.withdraw_ringing_phone(now, tx);
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
