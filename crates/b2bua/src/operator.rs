//! The operator's commands (`crate::command::Command`) as the core carries them out: the
//! dialplan reload, service hours, the agents and brakes listings, agents' states and
//! supervision (the switch rings the supervisor's phone); and the stop on a signal.

use std::sync::Arc;
use std::time::Instant;

use hotline_acd::NotReady;

use crate::agents::AgentCommand;
use crate::command::{AgentAction, AgentLine, Command, Reply};
use crate::core::Core;
use crate::notes::{note, About};
use crate::plan::Plan;

impl Core {
    /// Carries out one operator command; the reply is made into text at the socket.
    pub(crate) fn command(&mut self, now: Instant, command: Command) -> Result<Reply, String> {
        match command {
            // The control socket loads the plan off this task and sends `Control::Reload`.
            Command::Reload => Err("a reload comes with its plan loaded".to_string()),
            Command::Hours { hours } => {
                self.hours = hours.hours();
                let state = self.hours_now();
                note!(
                    self.notes,
                    Info,
                    About::Switch,
                    "service hours set by the operator force={:?} state={:?}",
                    self.hours,
                    state
                );
                Ok(Reply::Done(format!(
                    "hours: {:?} (now {state:?})",
                    self.hours
                )))
            }
            Command::Agents => Ok(Reply::Agents(self.agent_lines(now))),
            Command::Security => Ok(Reply::Security(self.security_view(now))),
            Command::Agent { id, action } => {
                let (verb, command) = match action {
                    AgentAction::Login => ("login", AgentCommand::Login),
                    AgentAction::Logout => ("logout", AgentCommand::Logout),
                    AgentAction::Ready => ("ready", AgentCommand::Ready),
                    AgentAction::Pause {
                        reason: NotReady::NoAnswer,
                    } => {
                        return Err(format!(
                            "no-answer is set by the switch; use {}",
                            crate::command::reasons()
                        ))
                    }
                    AgentAction::Pause { reason } => ("pause", AgentCommand::Pause(reason)),
                };
                self.agent_command(now, &id, command)
                    .map(|()| Reply::Done(format!("agent {id}: {verb} done")))
                    .map_err(|e| format!("agent {id}: {e}"))
            }
            Command::StopMonitoring { supervisor } => {
                if self.end_monitoring_by(now, &supervisor) {
                    Ok(Reply::Done(format!("{supervisor}: monitoring ended")))
                } else {
                    Err(format!("{supervisor} is monitoring nobody"))
                }
            }
            Command::Monitor {
                supervisor,
                agent,
                mode,
            } => self
                .monitor_from_cli(now, &supervisor, &agent, mode.media())
                .map(Reply::Done),
            Command::RecordPrompt { prompt, phone } => self
                .record_prompt_from(now, &prompt, &phone)
                .map(Reply::Done),
        }
    }

    /// Swaps in a plan loaded again from the dialplan file; the running plan stays if it
    /// was refused.
    pub(crate) fn reload(
        &mut self,
        now: Instant,
        loaded: Result<Arc<Plan>, String>,
    ) -> Result<String, String> {
        match loaded {
            Ok(plan) => {
                let previous: Vec<String> = self
                    .plan
                    .dialplan
                    .agents
                    .iter()
                    .map(|a| a.id.as_str().to_string())
                    .collect();
                let summary = format!(
                    "{}: loaded ({} regions, {} agents)",
                    self.dialplan_path.display(),
                    plan.dialplan.regions.len(),
                    plan.dialplan.agents.len()
                );
                self.apply_plan(now, plan, &previous);
                note!(self.notes, Info, About::Switch, "{summary}");
                Ok(summary)
            }
            Err(e) => {
                note!(
                    self.notes,
                    Warn,
                    About::Switch,
                    "reload refused; the running dialplan stays:\n{e}"
                );
                Err(e)
            }
        }
    }

    fn agent_lines(&self, now: Instant) -> Vec<AgentLine> {
        let wall = self.wall;
        self.acd
            .agents()
            .into_iter()
            .map(|v| {
                let ago = chrono::Duration::from_std(now.saturating_duration_since(v.since))
                    .unwrap_or_default();
                let plan = self.plan.dialplan.agent(&v.id.0);
                AgentLine {
                    name: plan.and_then(|a| a.name.clone()),
                    region: v.queue.0.clone(),
                    state: v.status.state().as_str(),
                    reason: v.status.reason().map(NotReady::as_str),
                    since: (wall - ago).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    calls_today: v.calls_today,
                    talk_today_secs: v.talk_today.as_secs(),
                    phone: if v.reachable {
                        "registered"
                    } else {
                        "unreachable"
                    },
                    id: v.id.0,
                }
            })
            .collect()
    }
}
