//! `hotline`: the 12366 tax hotline switch.
//!
//! One binary: `serve` runs the switch; `check`, `route`, `calls` and `reload` are the
//! operator's tools around it.

mod cmd_agents;
mod cmd_calls;
mod cmd_check;
mod cmd_qa;
mod cmd_qa_draw;
mod cmd_qa_list;
mod cmd_report;
mod cmd_route;
mod cmd_security;
mod cmd_serve;
mod cmd_user;
mod sheet;
mod size;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hotline_switch::command::{AgentAction as TypedAction, Command as Typed};

/// The 12366 tax hotline switch: SIP B2BUA, voice menu, queues, recording.
#[derive(Parser, Debug)]
#[command(name = "hotline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the running switch listens for `hotline reload`, unless told otherwise.
const DEFAULT_CONTROL: &str = "hotline.sock";
/// The free space `serve` keeps on the recordings' disk unless told otherwise: the
/// recorder's own default, as an operator writes it.
const DEFAULT_MIN_FREE_DISK: &str = "1GiB";

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the switch.
    Serve {
        /// The dialplan TOML file.
        #[arg(long, default_value = "dialplans/henan.toml")]
        dialplan: PathBuf,
        /// SIP listen address, UDP and TCP (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:5060")]
        listen: SocketAddr,
        /// Address phones should send SIP and RTP to (required when listening on 0.0.0.0).
        #[arg(long)]
        advertise: Option<IpAddr>,
        /// Where recordings are written (YYYY/MM/DD/<call-id>.wav below it).
        #[arg(long, default_value = "recordings")]
        recordings: PathBuf,
        /// The SQLite file of call records.
        #[arg(long, default_value = "hotline.db")]
        db: PathBuf,
        /// The control socket `hotline reload` talks to.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
        /// Service hours from the start: follow the schedule, or force open or closed.
        #[arg(long, value_enum, default_value_t = HoursArg::Auto)]
        hours: HoursArg,
        /// Seconds between in-dialog OPTIONS to each leg of a call, to end calls whose BYE
        /// was lost.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
        keepalive_secs: u64,
        /// Listen beyond loopback even though phones register with demo (`demo-…`) or short
        /// (under 12 characters) secrets.
        #[arg(long)]
        allow_weak_secrets: bool,
        /// Free space the recordings' disk keeps: below it new calls are not recorded (marked
        /// recording_failed) until space is back (e.g. 1GiB, 500MiB; 0 turns the brake off).
        #[arg(long, default_value = DEFAULT_MIN_FREE_DISK, value_parser = size::parse_size)]
        min_free_disk: u64,
        /// Where the web console listens (HTTP), or `off`.
        #[arg(long, default_value = "127.0.0.1:8366", value_parser = parse_http)]
        http: HttpArg,
    },
    /// Force the running switch's service hours open or closed (incident, filing-season
    /// peak), or back to the dialplan's schedule.
    Hours {
        /// open, closed or auto.
        #[arg(value_enum)]
        state: HoursArg,
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
    },
    /// List the callers waiting to be called back (voicemails, callback numbers, abandoned calls).
    Callbacks {
        /// The SQLite file of call records.
        #[arg(long, default_value = "hotline.db")]
        db: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Tell the running switch to load its dialplan again (refused if it does not check).
    Reload {
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
    },
    /// List call records.
    Calls {
        /// The SQLite file of call records.
        #[arg(long, default_value = "hotline.db")]
        db: PathBuf,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// Only calls offered at or after this time (RFC 3339, e.g. 2026-11-23T08:00:00+08:00).
        #[arg(long)]
        since: Option<String>,
    },
    /// Show every agent's state, reason, since when and calls today (from the running switch).
    Agents {
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
    },
    /// The centre's reports from the call store: intervals (per 15 minutes), abandoned
    /// callers, caller origins, the five 100%s (service), agents, topics.
    Report(cmd_report::Ask),
    /// Show the brakes: sources and users blocked now for password guessing, the overload
    /// brakes' figures, and the latest security events (slowed, blocked, unblocked).
    Security {
        /// One JSON object (`blocked`, `overload`, `events`) instead of a table.
        #[arg(long)]
        json: bool,
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
        /// The SQLite file of call records (with `security_events`).
        #[arg(long, default_value = "hotline.db")]
        db: PathBuf,
    },
    /// Change an agent's state as their supervisor or the operator: log in, log out, ready,
    /// or not ready with a reason (break, lunch, training, meeting, paperwork).
    Agent {
        /// login, logout, ready or pause.
        #[arg(value_enum)]
        action: AgentAction,
        /// The agent's number (工号).
        id: String,
        /// Why, for pause.
        #[arg(long, default_value = "break")]
        reason: String,
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
    },
    /// Let a supervisor listen to, whisper to or barge into an agent's call: the switch
    /// rings the supervisor's phone (within their scope only; every use is audited).
    Monitor {
        /// The supervisor's number.
        supervisor: String,
        /// The agent's number; omit with --stop.
        agent: Option<String>,
        /// listen (silent), whisper (the agent alone hears the supervisor) or barge.
        #[arg(long, value_enum, default_value_t = MonitorArg::Listen)]
        mode: MonitorArg,
        /// End the supervisor's monitoring.
        #[arg(long)]
        stop: bool,
        /// The running switch's control socket.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: PathBuf,
    },
    /// Spot checks of recordings (抽检): draw a week's or a month's sample, list, review,
    /// play (audited), coverage against the 20% and 10% rules, and the audit trail.
    Qa {
        #[command(subcommand)]
        action: cmd_qa::QaCommand,
    },
    /// Who may sign in to the web console: add (password on standard input), list, remove.
    User {
        #[command(subcommand)]
        action: cmd_user::UserCommand,
    },
    /// Validate a dialplan: prints `file:line:col: reason` per problem, exit 1 if any.
    Check {
        /// The dialplan TOML file.
        file: PathBuf,
    },
    /// Show which region each caller number routes to.
    Route {
        /// The dialplan TOML file.
        #[arg(long, default_value = "dialplans/henan.toml")]
        dialplan: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// Caller numbers, in any form a caller id arrives in.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

/// What `hotline agent` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum AgentAction {
    /// Log in (as `*21`).
    Login,
    /// Log out (as `*22`).
    Logout,
    /// Ready for calls, ending wrap-up or a pause (as `*23`).
    Ready,
    /// Not ready, with --reason (as `*24N`).
    Pause,
}

/// Service hours as the operator says them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum HoursArg {
    /// Follow the dialplan's schedule.
    Auto,
    /// Open whatever the schedule says.
    Open,
    /// Closed whatever the schedule says.
    Closed,
}

/// How a supervisor takes part, as the operator says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum MonitorArg {
    /// Hears caller and agent, heard by neither (监听).
    Listen,
    /// Heard by the agent alone (耳语).
    Whisper,
    /// Heard by both (强插).
    Barge,
}

impl MonitorArg {
    fn typed(self) -> hotline_switch::command::MonitorMode {
        match self {
            MonitorArg::Listen => hotline_switch::command::MonitorMode::Listen,
            MonitorArg::Whisper => hotline_switch::command::MonitorMode::Whisper,
            MonitorArg::Barge => hotline_switch::command::MonitorMode::Barge,
        }
    }
}

impl HoursArg {
    fn setting(self) -> hotline_switch::command::HoursSetting {
        match self {
            HoursArg::Auto => hotline_switch::command::HoursSetting::Auto,
            HoursArg::Open => hotline_switch::command::HoursSetting::Open,
            HoursArg::Closed => hotline_switch::command::HoursSetting::Closed,
        }
    }

    fn hours(self) -> hotline_ivr::Hours {
        match self {
            HoursArg::Auto => hotline_ivr::Hours::Auto,
            HoursArg::Open => hotline_ivr::Hours::Open,
            HoursArg::Closed => hotline_ivr::Hours::Closed,
        }
    }
}

/// `--http`: an address, or `off` for no web console.
#[derive(Clone, Debug)]
struct HttpArg(Option<SocketAddr>);

fn parse_http(text: &str) -> Result<HttpArg, String> {
    match text {
        "off" => Ok(HttpArg(None)),
        addr => addr
            .parse()
            .map(|a| HttpArg(Some(a)))
            .map_err(|e| format!("{e}: an address like 127.0.0.1:8366, or off")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve {
            dialplan,
            listen,
            advertise,
            recordings,
            db,
            control,
            hours,
            keepalive_secs,
            allow_weak_secrets,
            min_free_disk,
            http,
        } => cmd_serve::run(hotline_switch::ServeConfig {
            dialplan,
            listen,
            advertise,
            recordings,
            db,
            control,
            timers: Default::default(),
            hours: hours.hours(),
            keepalive: std::time::Duration::from_secs(keepalive_secs),
            allow_weak_secrets,
            min_free_disk,
            http: http.0,
        }),
        Command::Reload { control } => cmd_serve::command(&control, &Typed::Reload),
        Command::Hours { state, control } => cmd_serve::command(
            &control,
            &Typed::Hours {
                hours: state.setting(),
            },
        ),
        Command::Callbacks { db, json } => cmd_calls::callbacks(&db, json),
        Command::Calls { db, json, since } => cmd_calls::run(&db, json, since.as_deref()),
        Command::Agents { json, control } => cmd_agents::list(&control, json),
        Command::Security { json, control, db } => cmd_security::show(&control, &db, json),
        Command::Report(ask) => cmd_report::run(&ask),
        Command::Agent {
            action,
            id,
            reason,
            control,
        } => {
            let action = match action {
                AgentAction::Login => Ok(TypedAction::Login),
                AgentAction::Logout => Ok(TypedAction::Logout),
                AgentAction::Ready => Ok(TypedAction::Ready),
                AgentAction::Pause => reason
                    .parse()
                    .map(|reason| TypedAction::Pause { reason })
                    .map_err(|_| {
                        anyhow::anyhow!(
                            "unknown reason {reason:?}; use {}",
                            hotline_switch::command::reasons()
                        )
                    }),
            };
            action.and_then(|action| cmd_serve::command(&control, &Typed::Agent { id, action }))
        }
        Command::Monitor {
            supervisor,
            agent,
            mode,
            stop,
            control,
        } => match (stop, agent) {
            (true, _) => cmd_serve::command(&control, &Typed::StopMonitoring { supervisor }),
            (false, Some(agent)) => cmd_serve::command(
                &control,
                &Typed::Monitor {
                    supervisor,
                    agent,
                    mode: mode.typed(),
                },
            ),
            (false, None) => Err(anyhow::anyhow!(
                "monitor needs the agent's number, or --stop"
            )),
        },
        Command::Qa { action } => cmd_qa::run(action),
        Command::User { action } => cmd_user::run(action),
        Command::Check { file } => cmd_check::run(&file),
        Command::Route {
            dialplan,
            json,
            numbers,
        } => cmd_route::run(&dialplan, json, &numbers),
    };
    match result {
        Ok(code) => code,
        // `hotline calls | head`: the reader went away, which is no error of ours.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("hotline: {err:#}");
            ExitCode::FAILURE
        }
    }
}
