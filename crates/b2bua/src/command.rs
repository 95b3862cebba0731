//! The operator's commands to a running switch and the switch's replies, typed from the
//! CLI to the core. `hotline` sends a command as one line of JSON on the control socket; a
//! person at the socket may type the same command as words (`agent pause 1003 lunch`),
//! parsed here, at the edge. Replies are made into text or JSON lines at the socket too.

use hotline_acd::NotReady;
use serde::{Deserialize, Serialize};

/// One command of the control socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    /// Load the dialplan file again.
    Reload,
    /// Force service hours open or closed, or back to the schedule.
    Hours {
        /// What to force.
        hours: HoursSetting,
    },
    /// Every agent's state (`hotline agents`).
    Agents,
    /// The password brakes in force (`hotline security`).
    Security,
    /// Log an agent in or out, make them ready, or pause them.
    Agent {
        /// The agent's number.
        id: String,
        /// What to do.
        action: AgentAction,
    },
    /// Ring a supervisor's phone into an agent's call (班长监听/耳语/强插).
    Monitor {
        /// The supervisor's number.
        supervisor: String,
        /// The agent whose call they join.
        agent: String,
        /// How they take part.
        mode: MonitorMode,
    },
    /// End what a supervisor is monitoring.
    StopMonitoring {
        /// The supervisor's number.
        supervisor: String,
    },
    /// Ring a phone of the plan and record a new version of a voice prompt from it (the
    /// voice content page's "record from my phone").
    RecordPrompt {
        /// The prompt's name (`welcome`).
        prompt: String,
        /// The number of the phone to ring: an agent's or a supervisor's.
        phone: String,
    },
}

/// The operator's override of the service hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HoursSetting {
    /// Follow the schedule.
    Auto,
    /// Open whatever the schedule says.
    Open,
    /// Closed whatever the schedule says.
    Closed,
}

impl HoursSetting {
    /// The IVR's override.
    pub fn hours(self) -> hotline_ivr::Hours {
        match self {
            HoursSetting::Auto => hotline_ivr::Hours::Auto,
            HoursSetting::Open => hotline_ivr::Hours::Open,
            HoursSetting::Closed => hotline_ivr::Hours::Closed,
        }
    }
}

/// What to do with an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum AgentAction {
    /// Log in (`*21`).
    Login,
    /// Log out (`*22`).
    Logout,
    /// Ready: end wrap-up or a pause (`*23`).
    Ready,
    /// Not ready, for a reason (`*24N`).
    Pause {
        /// Why.
        #[serde(with = "reason_word")]
        reason: NotReady,
    },
}

/// How a supervisor takes part in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MonitorMode {
    /// 监听: hears both, heard by none.
    Listen,
    /// 耳语: heard by the agent only.
    Whisper,
    /// 强插: heard by both.
    Barge,
}

impl MonitorMode {
    /// The media engine's mode.
    pub fn media(self) -> hotline_media::call::Monitor {
        match self {
            MonitorMode::Listen => hotline_media::call::Monitor::Listen,
            MonitorMode::Whisper => hotline_media::call::Monitor::Whisper,
            MonitorMode::Barge => hotline_media::call::Monitor::Barge,
        }
    }
}

/// A not-ready reason by its word (`lunch`), as the CLI and the records say it.
mod reason_word {
    use hotline_acd::NotReady;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(r: &NotReady, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NotReady, D::Error> {
        let word = String::deserialize(d)?;
        word.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a command line was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// Not a command of the socket.
    #[error("{}", usage())]
    Unknown,
    /// A pause reason that is none of the operator's.
    #[error("unknown reason {0:?}; use {list}", list = reasons())]
    Reason(String),
    /// A monitoring mode that is none.
    #[error("mode {0:?}: use listen, whisper or barge")]
    Mode(String),
    /// Hours that are none.
    #[error("hours takes open, closed or auto")]
    Hours,
    /// A JSON command that does not parse.
    #[error("not a command: {0}")]
    Json(String),
}

impl Command {
    /// The command in a line: JSON (what `hotline` sends) or words (what a person types).
    pub fn parse(line: &str) -> Result<Command, CommandError> {
        let line = line.trim();
        if line.starts_with('{') {
            return serde_json::from_str(line).map_err(|e| CommandError::Json(e.to_string()));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let id = |w: &&str| (*w).to_string();
        Ok(match words.as_slice() {
            ["reload"] => Command::Reload,
            ["hours", h] => Command::Hours {
                hours: match *h {
                    "open" => HoursSetting::Open,
                    "closed" => HoursSetting::Closed,
                    "auto" => HoursSetting::Auto,
                    _ => return Err(CommandError::Hours),
                },
            },
            ["agents"] => Command::Agents,
            ["security"] => Command::Security,
            ["agent", verb, agent, rest @ ..] => Command::Agent {
                id: id(agent),
                action: match (*verb, rest) {
                    ("login", []) => AgentAction::Login,
                    ("logout", []) => AgentAction::Logout,
                    ("ready", []) => AgentAction::Ready,
                    ("pause", []) => AgentAction::Pause {
                        reason: NotReady::Break,
                    },
                    ("pause", [reason]) => AgentAction::Pause {
                        reason: reason
                            .parse()
                            .map_err(|_| CommandError::Reason(reason.to_string()))?,
                    },
                    _ => return Err(CommandError::Unknown),
                },
            },
            ["prompt", "record", prompt, phone] => Command::RecordPrompt {
                prompt: id(prompt),
                phone: id(phone),
            },
            ["monitor", supervisor, "stop"] => Command::StopMonitoring {
                supervisor: id(supervisor),
            },
            ["monitor", supervisor, agent, mode] => Command::Monitor {
                supervisor: id(supervisor),
                agent: id(agent),
                mode: match *mode {
                    "listen" => MonitorMode::Listen,
                    "whisper" => MonitorMode::Whisper,
                    "barge" => MonitorMode::Barge,
                    other => return Err(CommandError::Mode(other.to_string())),
                },
            },
            _ => return Err(CommandError::Unknown),
        })
    }

    /// The line `hotline` sends for it.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The command as a person types it at the socket (what [`Command::parse`] reads back),
    /// for messages.
    pub fn words(&self) -> String {
        match self {
            Command::Reload => "reload".into(),
            Command::Hours { hours } => format!(
                "hours {}",
                match hours {
                    HoursSetting::Auto => "auto",
                    HoursSetting::Open => "open",
                    HoursSetting::Closed => "closed",
                }
            ),
            Command::Agents => "agents".into(),
            Command::Security => "security".into(),
            Command::Agent { id, action } => match action {
                AgentAction::Login => format!("agent login {id}"),
                AgentAction::Logout => format!("agent logout {id}"),
                AgentAction::Ready => format!("agent ready {id}"),
                AgentAction::Pause { reason } => format!("agent pause {id} {}", reason.as_str()),
            },
            Command::Monitor {
                supervisor,
                agent,
                mode,
            } => format!(
                "monitor {supervisor} {agent} {}",
                match mode {
                    MonitorMode::Listen => "listen",
                    MonitorMode::Whisper => "whisper",
                    MonitorMode::Barge => "barge",
                }
            ),
            Command::StopMonitoring { supervisor } => format!("monitor {supervisor} stop"),
            Command::RecordPrompt { prompt, phone } => format!("prompt record {prompt} {phone}"),
        }
    }

    /// Whether it is the agents listing, which dashboards poll: not worth an info line each
    /// time.
    pub fn polled(&self) -> bool {
        matches!(self, Command::Agents)
    }
}

/// The switch's answer to a command that was carried out.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// What was done, in words.
    Done(String),
    /// Every agent, for `hotline agents`.
    Agents(Vec<AgentLine>),
    /// The brakes in force and what they refused, for `hotline security`.
    Security(SecurityView),
}

impl Reply {
    /// The answer as the socket sends it: words, or one JSON object per line.
    pub fn text(&self) -> String {
        fn lines<T: Serialize>(items: &[T]) -> String {
            items
                .iter()
                .filter_map(|i| serde_json::to_string(i).ok())
                .collect::<Vec<_>>()
                .join("\n")
        }
        match self {
            Reply::Done(words) => words.clone(),
            Reply::Agents(agents) => lines(agents),
            Reply::Security(view) => serde_json::to_string(view).unwrap_or_default(),
        }
    }
}

/// One agent in `hotline agents --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLine {
    /// The agent's number.
    pub id: String,
    /// Their name in the plan.
    pub name: Option<String>,
    /// Their region (queue).
    pub region: String,
    /// Their state's word.
    pub state: &'static str,
    /// Why not ready, if so.
    pub reason: Option<&'static str>,
    /// Since when (RFC 3339).
    pub since: String,
    /// Calls answered today.
    pub calls_today: u32,
    /// Talk time today.
    pub talk_today_secs: u64,
    /// `registered` or `unreachable`.
    pub phone: &'static str,
}

/// What `hotline security` shows of the running switch: the sign-in brakes in force and
/// the overload brakes' figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityView {
    /// Sources and users blocked now.
    pub blocked: Vec<BlockLine>,
    /// How full and how late the switch is, and what the overload brakes refused.
    pub overload: OverloadLine,
}

/// The overload brakes in `hotline security`, counted since the switch started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverloadLine {
    /// Calls in progress now, as the ceiling counts them.
    pub calls: u64,
    /// Calls in progress at most: the plan's `max_calls`, or less if the file limit says.
    pub ceiling: u64,
    /// How long the last SIP message handled waited between its arrival and its handling, in
    /// ms (as the lag brake measures it; on an idle switch, that of the last message).
    pub lag_ms: u64,
    /// How late the media tasks' timers fire now, in ms.
    pub media_lag_ms: u64,
    /// New calls and registrations refused with 503, by reason.
    pub refused: crate::admission::ShedCounts,
    /// Requests from blocked sources or users refused unchecked.
    pub refused_blocked: u64,
}

/// One brake in force in `hotline security`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockLine {
    /// The address (or /64) or user held back.
    pub subject: String,
    /// `source` or `user`.
    pub kind: &'static str,
    /// Failures counted.
    pub failures: u32,
    /// Seconds until it lifts.
    pub left_secs: u64,
}

/// The pause reasons an operator may give (no-answer is the switch's own).
pub fn reasons() -> String {
    NotReady::ALL
        .iter()
        .filter(|r| **r != NotReady::NoAnswer)
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the socket takes, for a line it does not.
pub fn usage() -> String {
    format!(
        "commands: reload | hours open|closed|auto | agents | security | agent login|logout|ready ID | agent pause ID [{}] | monitor SUPERVISOR AGENT listen|whisper|barge | monitor SUPERVISOR stop | prompt record PROMPT PHONE",
        reasons()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_json_give_the_same_command() {
        for (words, command) in [
            ("reload", Command::Reload),
            (
                "hours closed",
                Command::Hours {
                    hours: HoursSetting::Closed,
                },
            ),
            ("agents", Command::Agents),
            ("security", Command::Security),
            (
                "agent pause 1003 lunch",
                Command::Agent {
                    id: "1003".into(),
                    action: AgentAction::Pause {
                        reason: NotReady::Lunch,
                    },
                },
            ),
            (
                "agent pause 1003",
                Command::Agent {
                    id: "1003".into(),
                    action: AgentAction::Pause {
                        reason: NotReady::Break,
                    },
                },
            ),
            (
                "agent ready 1003",
                Command::Agent {
                    id: "1003".into(),
                    action: AgentAction::Ready,
                },
            ),
            (
                "monitor 1950 1003 whisper",
                Command::Monitor {
                    supervisor: "1950".into(),
                    agent: "1003".into(),
                    mode: MonitorMode::Whisper,
                },
            ),
            (
                "prompt record welcome 1950",
                Command::RecordPrompt {
                    prompt: "welcome".into(),
                    phone: "1950".into(),
                },
            ),
            (
                "monitor 1950 stop",
                Command::StopMonitoring {
                    supervisor: "1950".into(),
                },
            ),
        ] {
            assert_eq!(Command::parse(words), Ok(command.clone()), "{words}");
            assert_eq!(
                Command::parse(&command.words()),
                Ok(command.clone()),
                "{words}"
            );
            assert_eq!(Command::parse(&command.to_line()), Ok(command), "{words}");
        }
    }

    #[test]
    fn the_json_form_is_the_documented_one() {
        let c = Command::Agent {
            id: "1003".into(),
            action: AgentAction::Pause {
                reason: NotReady::Training,
            },
        };
        assert_eq!(
            c.to_line(),
            r#"{"command":"agent","id":"1003","action":{"action":"pause","reason":"training"}}"#
        );
    }

    #[test]
    fn lines_that_are_no_command_say_why() {
        assert_eq!(Command::parse(""), Err(CommandError::Unknown));
        assert_eq!(
            Command::parse("agent dance 1003"),
            Err(CommandError::Unknown)
        );
        assert_eq!(
            Command::parse("agent pause 1003 nap"),
            Err(CommandError::Reason("nap".into()))
        );
        assert_eq!(
            Command::parse("monitor 1950 1003 shout"),
            Err(CommandError::Mode("shout".into()))
        );
        assert_eq!(Command::parse("hours maybe"), Err(CommandError::Hours));
        assert!(matches!(
            Command::parse(r#"{"command":"agent","id":3}"#),
            Err(CommandError::Json(_))
        ));
    }
}
