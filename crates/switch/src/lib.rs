//! The async edge of hotline: SIP sockets, the control socket, media ports and tasks, the
//! call store and recorder, timers and signals, around the call machine
//! (`hotline-b2bua`), which decides everything. This crate only moves bytes and time
//! between the machine and the world.

// Everything here handles what came from the network, a file or the CLI: nothing may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod control;
mod edge;
mod edge_media;
mod files;
mod media_lag;
mod notes;
pub mod plan;
mod priority;
mod prompt_takes;
pub mod transport;
mod udp_reader;

/// The operator's commands, typed end to end (clap → the control socket → the machine).
pub use hotline_b2bua::command;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use hotline_record::{CallStore, Recorder};
use hotline_sip::transaction::TimerConfig;
use thiserror::Error;
use tokio::sync::mpsc;

pub use crate::edge::Control;
use crate::plan::PlanError;
use crate::transport::SipTransport;
pub use hotline_b2bua::AgentCommand;
use hotline_b2bua::{Core, CoreParts, Local};

/// How to run the switch.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The dialplan file.
    pub dialplan: PathBuf,
    /// SIP listen address (UDP and TCP).
    pub listen: SocketAddr,
    /// The address peers should use for SIP and RTP; needed when listening on 0.0.0.0.
    pub advertise: Option<IpAddr>,
    /// Root directory of recordings.
    pub recordings: PathBuf,
    /// SQLite file of call records.
    pub db: PathBuf,
    /// The control socket for `hotline reload`.
    pub control: PathBuf,
    /// SIP transaction timers.
    pub timers: TimerConfig,
    /// Service hours forced from the start (`--hours open|closed|auto`).
    pub hours: hotline_ivr::Hours,
    /// How often connected calls' legs are asked (OPTIONS) whether they are still there.
    pub keepalive: std::time::Duration,
    /// Run on a non-loopback address even with demo or short phone secrets.
    pub allow_weak_secrets: bool,
    /// Free bytes the recordings' disk must keep: below it new calls go unrecorded.
    pub min_free_disk: u64,
    /// Where the web console listens (`None`: no console).
    pub http: Option<SocketAddr>,
}

/// Why the switch could not start.
#[derive(Debug, Error)]
pub enum ServeError {
    /// The dialplan was refused.
    #[error("dialplan refused:\n{0}")]
    Plan(#[from] PlanError),
    /// A socket or file could not be opened.
    #[error("{what}: {source}")]
    Io {
        /// What was being opened.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The control socket could not be put in place.
    #[error("control socket: {0}")]
    Control(#[from] control::SocketError),
    /// The call record database could not be opened.
    #[error("call records: {0}")]
    Store(#[from] hotline_record::RecordError),
    /// Listening on all addresses without saying which one to advertise.
    #[error(
        "listening on {0} needs --advertise IP: the address phones should send SIP and RTP to"
    )]
    NeedAdvertise(SocketAddr),
    /// Listening beyond loopback while phones register with guessable secrets.
    #[error(
        "refusing to listen on {listen}, beyond this machine: {users} register with a demo \
         or short secret (demo-…, or under {min} characters) that anyone who can reach the \
         switch could guess; give them real secrets in the dialplan, or pass \
         --allow-weak-secrets",
        min = hotline_routing::MIN_SECRET_CHARS
    )]
    WeakSecrets {
        /// The SIP listen address.
        listen: SocketAddr,
        /// The agents and supervisors concerned (`agents 1001, 1002 and supervisor 1950`).
        users: String,
    },
}

/// Refuses a plan whose phones register with guessable secrets when the switch listens
/// beyond loopback (`exposed`) and the operator has not allowed it; on loopback only this
/// machine's users can register, so demo secrets are fine there.
pub(crate) fn secrets_fit(
    plan: &hotline_routing::Dialplan,
    exposed: Option<SocketAddr>,
) -> Result<(), ServeError> {
    let Some(listen) = exposed else {
        return Ok(());
    };
    let weak = plan.weak_secrets();
    if weak.is_empty() {
        return Ok(());
    }
    let users = hotline_routing::WeakUsers(&weak).to_string();
    Err(ServeError::WeakSecrets { listen, users })
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServeError {
    let what = what.into();
    move |source| ServeError::Io { what, source }
}

/// Asks the core to stop cleanly on SIGTERM (systemd, docker, `kill`) or SIGINT (Ctrl-C).
fn stop_on_signals(core: mpsc::Sender<Control>) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal = which, "asked to stop");
        let _ = core.send(Control::Shutdown).await;
    });
    Ok(())
}

/// A channel for the web console's commands, forwarded to the core as the control socket's
/// are, each marked with the console user who gave it (`web:wang`) for the audit.
fn forward_orders(
    core: mpsc::Sender<Control>,
    loader: control::PlanLoader,
) -> hotline_console::operate::Orders {
    let (tx, mut rx) = mpsc::channel::<hotline_console::operate::Order>(16);
    tokio::spawn(async move {
        while let Some(order) = rx.recv().await {
            let (core, loader) = (core.clone(), loader.clone());
            // Each on its own: a reload loading its plan holds up no one's pause.
            tokio::spawn(async move {
                let os_user = Some(format!("web:{}", order.actor));
                let answer = control::carry_out(order.command, os_user, &core, &loader).await;
                let _ = order.reply.send(answer);
            });
        }
    });
    tx
}

/// Runs the web console on a thread and runtime of its own: however many pages are open
/// and whatever they ask, its tasks never wait in line with the signalling's.
fn console_thread(
    listener: std::net::TcpListener,
    console: hotline_console::Console,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("hotline-console".into())
        .spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        hotline_console::serve(listener, std::sync::Arc::new(console)).await
                    }
                    Err(e) => tracing::error!(error = %e, "web console not started"),
                }
            })
        })?;
    Ok(())
}

/// Media events (keys, prompts heard, voicemails closed) waiting for the core.
const MEDIA_EVENTS_QUEUE: usize = 4_096;
/// Responses and in-dialog requests waiting for the core: the reader waits when it is full.
const DIALOG_LANE: usize = 16_384;
/// New requests waiting for the core; past this they are dropped at the socket. The core
/// sheds new calls that waited `max_lag` long before this fills.
const NEW_LANE: usize = 4_096;

/// Starts the switch and runs it until it is asked to stop (SIGTERM, SIGINT), then ends
/// every call and closes every record before returning. Prints one line
/// `hotline: listening on sip:ADDR` on stdout once the sockets are open, then
/// `hotline: console on http://ADDR` when the web console is on.
pub async fn serve(cfg: ServeConfig) -> Result<(), ServeError> {
    let plan = plan::load(&cfg.dialplan)?;
    let advertise = match cfg.advertise {
        Some(ip) => ip,
        None if cfg.listen.ip().is_unspecified() => {
            return Err(ServeError::NeedAdvertise(cfg.listen))
        }
        None => cfg.listen.ip(),
    };
    let exposed = (!cfg.listen.ip().is_loopback() && !cfg.allow_weak_secrets).then_some(cfg.listen);
    secrets_fit(&plan.dialplan, exposed)?;
    let recorder = Recorder::start_with_floor(cfg.recordings.clone(), cfg.min_free_disk).map_err(
        io(format!("recordings directory {}", cfg.recordings.display())),
    )?;
    let store = CallStore::open(&cfg.db)?;
    let (dialog_tx, dialog_rx) = mpsc::channel(DIALOG_LANE);
    let (new_tx, new_rx) = mpsc::channel(NEW_LANE);
    let lanes = transport::Lanes {
        dialog: dialog_tx,
        new: new_tx,
    };
    let transport = SipTransport::start(cfg.listen, lanes)
        .await
        .map_err(io(format!("SIP listen on {}", cfg.listen)))?;
    let sip = SocketAddr::new(advertise, transport.local_addr().port());
    let service = plan.dialplan.service_number().to_string();
    let (control_tx, control_rx) = mpsc::channel(16);
    // Bounded: a call's forwarder waits when the core is behind, rather than queueing
    // without end (each call's keys are already held to a person's pace).
    let (media_tx, media_rx) = mpsc::channel(MEDIA_EVENTS_QUEUE);
    stop_on_signals(control_tx.clone()).map_err(io("signal handlers"))?;
    // What the web console takes from the plan, replaced at each accepted reload.
    let console_plan = hotline_console::plan::PlanHandle::default();
    console_plan.set(plan::console_view(&plan.dialplan));
    let loader = control::PlanLoader {
        console_plan: console_plan.clone(),
        path: cfg.dialplan.clone(),
        exposed,
        one_at_a_time: Default::default(),
    };
    let console_orders = control_tx.clone();
    let takes = prompt_takes::PromptTakes {
        db: cfg.db.clone(),
        control: control_tx.clone(),
        loader: loader.clone(),
    };
    control::start(&cfg.control, control_tx, loader.clone())?;
    let (board_tx, board_rx) = tokio::sync::watch::channel(Default::default());
    let media_totals = std::sync::Arc::new(hotline_media::totals::MediaTotals::default());
    let console = match cfg.http {
        Some(addr) => {
            let listener = std::net::TcpListener::bind(addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(io(format!("web console on {addr}")))?;
            let at = listener.local_addr().map_err(io("web console address"))?;
            let console = hotline_console::Console::new(
                cfg.db.clone(),
                Some(store.clone()),
                board_rx,
                plan.dialplan.security.clone(),
            )
            .with_orders(forward_orders(console_orders, loader.clone()))
            .with_gauges(hotline_console::switch_gauges::SwitchGauges {
                sip: transport.counters(),
                media: std::sync::Arc::clone(&media_totals),
                recorder: recorder.clone(),
            })
            .with_plan(console_plan);
            console_thread(listener, console).map_err(io("web console thread"))?;
            Some(at)
        }
        None => None,
    };
    println!("hotline: listening on sip:{sip} (udp+tcp)");
    if let Some(at) = console {
        println!("hotline: console on http://{at}");
        tracing::info!(%at, "web console started");
    }
    tracing::info!(%sip, dialplan = %cfg.dialplan.display(), "hotline started");
    let mut core = Core::new(CoreParts {
        plan,
        dialplan_path: cfg.dialplan,
        now: std::time::Instant::now(),
        wall: chrono::Utc::now(),
        local: Local::new(sip, service, rand::random()),
        media_ip: advertise,
        recordings: cfg.recordings.clone(),
        timers: cfg.timers,
        hours: cfg.hours,
        keepalive: cfg.keepalive,
        notes_from: crate::notes::wanted(),
    });
    core.limit_calls_by_files(files::calls_allowed());
    tracing::info!(
        calls = core.call_ceiling(),
        "calls in progress at most (the dialplan's [overload] max_calls, or the file limit's)"
    );
    let media = crate::edge_media::MediaTasks::new(
        advertise,
        recorder,
        media_tx,
        media_totals,
        tokio::runtime::Handle::current(),
    );
    let probe = media_lag::MediaLag::start(&tokio::runtime::Handle::current());
    let mut edge = crate::edge::Edge::new(core, transport, store, media)
        .with_prompt_takes(takes)
        .with_media_lag(probe);
    if console.is_some() {
        edge = edge.with_board(board_tx);
    }
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let run = async move {
        edge.run(dialog_rx, new_rx, control_rx, media_rx).await;
        let _ = done_tx.send(());
    };
    core_thread(run).map_err(io("the call machine's thread"))?;
    // The thread drops its end when it returns, whether it finished or failed to start.
    let _ = done_rx.await;
    Ok(())
}

/// Runs the call machine's edge on a thread and runtime of its own: a new call's setup and
/// a BYE never wait in line behind thousands of media tasks on the runtime's workers, and
/// the OS, asked to favour the thread, schedules it as soon as something arrives for it.
fn core_thread(run: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("hotline-core".into())
        .spawn(move || {
            crate::priority::favour_signalling_thread("call machine");
            runtime.block_on(run)
        })?;
    Ok(())
}
