//! The operator's commands about agents and supervision, as they arrive on the control
//! socket: `agents` (a JSON list), `agent login|logout|ready ID`, `agent pause ID REASON`,
//! `monitor SUPERVISOR AGENT listen|whisper|barge` (the switch rings the supervisor's phone)
//! and `monitor SUPERVISOR stop`; and the other requests of the control socket (reload,
//! hours, stop) as the core carries them out.

use std::time::Instant;

use chrono::Utc;
use hotline_acd::NotReady;
use serde::Serialize;

use crate::agents::AgentCommand;
use crate::core::{Control, Core};
use crate::plan::Plan;
use tracing::{info, warn};

/// One agent in `hotline agents --json`.
#[derive(Debug, Serialize)]
struct AgentLine {
    id: String,
    name: Option<String>,
    region: String,
    state: &'static str,
    reason: Option<&'static str>,
    since: String,
    calls_today: u32,
    talk_today_secs: u64,
    phone: &'static str,
}

impl Core {
    /// Carries out one request from the control socket or the signal handler.
    pub(crate) fn on_control(&mut self, c: Control) {
        match c {
            Control::Reload(reply) => {
                // A reload may not bring in what `serve` would have refused to start with.
                let loaded = Plan::load(&self.dialplan_path)
                    .map_err(|e| e.to_string())
                    .and_then(|plan| {
                        crate::secrets_fit(&plan.dialplan, self.exposed)
                            .map(|()| plan)
                            .map_err(|e| e.to_string())
                    });
                let result = match loaded {
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
                        self.apply_plan(Instant::now(), plan, &previous);
                        info!("{summary}");
                        Ok(summary)
                    }
                    Err(e) => {
                        warn!("reload refused; the running dialplan stays:\n{e}");
                        Err(e)
                    }
                };
                let _ = reply.send(result);
            }
            Control::Operator {
                line,
                os_user,
                reply,
            } => {
                self.operator_user = os_user;
                let result = self.operator(Instant::now(), &line);
                self.operator_user = None;
                let _ = reply.send(result);
            }
            Control::Shutdown => self.begin_shutdown(Instant::now()),
            Control::Hours(force, reply) => {
                self.hours = force;
                let state = self.hours_now();
                info!(?force, ?state, "service hours set by the operator");
                let _ = reply.send(Ok(format!("hours: {force:?} (now {state:?})")));
            }
        }
    }

    /// Carries out one operator command line; the text is what the CLI prints.
    pub(crate) fn operator(&mut self, now: Instant, line: &str) -> Result<String, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["agents"] => Ok(self.agents_json(now)),
            ["security"] => Ok(self.security_json(now)),
            ["agent", verb, id, rest @ ..] => {
                let command = match (*verb, rest) {
                    ("login", []) => AgentCommand::Login,
                    ("logout", []) => AgentCommand::Logout,
                    ("ready", []) => AgentCommand::Ready,
                    ("pause", [reason]) => AgentCommand::Pause(
                        reason
                            .parse::<NotReady>()
                            .map_err(|_| format!("unknown reason {reason:?}; use {}", reasons()))?,
                    ),
                    ("pause", []) => AgentCommand::Pause(NotReady::Break),
                    _ => return Err(usage()),
                };
                if let AgentCommand::Pause(NotReady::NoAnswer) = command {
                    return Err(format!("no-answer is set by the switch; use {}", reasons()));
                }
                self.agent_command(now, id, command)
                    .map(|()| format!("agent {id}: {verb} done"))
                    .map_err(|e| format!("agent {id}: {e}"))
            }
            ["monitor", supervisor, "stop"] => {
                let ended = self.end_monitoring_by(now, supervisor);
                if ended {
                    Ok(format!("{supervisor}: monitoring ended"))
                } else {
                    Err(format!("{supervisor} is monitoring nobody"))
                }
            }
            ["monitor", supervisor, agent, mode] => {
                let Some(mode) = crate::call::monitor_named(mode) else {
                    return Err(format!("mode {mode:?}: use listen, whisper or barge"));
                };
                self.monitor_from_cli(now, supervisor, agent, mode)
            }
            _ => Err(usage()),
        }
    }

    fn agents_json(&self, now: Instant) -> String {
        let wall = Utc::now();
        let lines: Vec<AgentLine> = self
            .acd
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
            .collect();
        lines
            .iter()
            .filter_map(|l| serde_json::to_string(l).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn reasons() -> String {
    NotReady::ALL
        .iter()
        .filter(|r| **r != NotReady::NoAnswer)
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn usage() -> String {
    format!(
        "commands: agents | security | agent login|logout|ready ID | agent pause ID [{}] | monitor SUPERVISOR AGENT listen|whisper|barge | monitor SUPERVISOR stop",
        reasons()
    )
}
