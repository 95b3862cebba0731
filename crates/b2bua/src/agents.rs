//! Agents' states as the switch keeps them: every change the ACD reports goes to the
//! `agent_states` table (staffing per 15 minutes), and operators' and phones' commands
//! (log in, log out, ready, not ready) go to the ACD.

use hotline_record::StoreWrite;
use std::time::Instant;

use crate::notes::{note, About};
use hotline_acd::{AgentId as AcdAgent, AgentState, NotReady, StateError};
use hotline_record::{AgentStateChange, SeatState};

use crate::core::Core;

/// What an agent, or an operator on their behalf, asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentCommand {
    /// Log in (`*21`).
    Login,
    /// Log out (`*22`).
    Logout,
    /// Ready: end wrap-up or a not-ready (`*23`).
    Ready,
    /// Not ready, with the reason (`*24N`).
    Pause(NotReady),
}

impl Core {
    /// Records one state change of an agent.
    pub(crate) fn on_agent_changed(
        &mut self,
        agent: AcdAgent,
        from: AgentState,
        to: AgentState,
        reason: Option<NotReady>,
    ) {
        note!(
            self.notes,
            Info,
            About::Switch,
            "agent state agent={} from={} to={} reason={:?}",
            agent,
            from.as_str(),
            to.as_str(),
            reason.map(NotReady::as_str)
        );
        let region = self
            .plan
            .dialplan
            .agent(&agent.0)
            .map(|a| a.region.as_str().into());
        let change = AgentStateChange {
            at: self.wall,
            region,
            agent: agent.0.into(),
            from: Some(seat_state(from)),
            to: seat_state(to),
            reason: reason.map(|r| r.as_str().into()),
        };
        self.out.write(StoreWrite::AgentState(Box::new(change)));
    }

    /// Carries out an agent command.
    pub(crate) fn agent_command(
        &mut self,
        now: Instant,
        agent: &str,
        command: AgentCommand,
    ) -> Result<(), StateError> {
        let id = AcdAgent(agent.to_string());
        if self.plan.dialplan.agent(agent).is_none() {
            return Err(StateError::UnknownAgent);
        }
        let result = match command {
            AgentCommand::Login => self.acd.login(now, &id),
            AgentCommand::Logout => self.acd.logout(now, &id),
            AgentCommand::Ready => self.acd.ready(now, &id),
            AgentCommand::Pause(reason) => self.acd.pause(now, &id, reason),
        };
        note!(
            self.notes,
            Info,
            About::Switch,
            "agent command agent={} command={:?} result={:?}",
            agent,
            command,
            result
        );
        result
    }
}

/// The ACD's state as the call store words it.
fn seat_state(s: AgentState) -> SeatState {
    match s {
        AgentState::LoggedOut => SeatState::LoggedOut,
        AgentState::Available => SeatState::Available,
        AgentState::Ringing => SeatState::Ringing,
        AgentState::Talking => SeatState::Talking,
        AgentState::WrapUp => SeatState::WrapUp,
        AgentState::NotReady => SeatState::NotReady,
    }
}
