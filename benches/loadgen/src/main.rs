//! `hotline-loadgen`: the load bench's callers and agents' phones in one lean process.
//!
//! Why it exists: `benches/load.sh` drove the switch with two SIPp processes, and at 200 to
//! 300 calls/s SIPp took a large share of the machine's two cores, the same cores the switch
//! is measured on. This generator plays both sides in one single-threaded process: a
//! `poll(2)` loop over two SIP sockets, one 20 ms tick that sends and reads every call's RTP
//! (no task or thread per call), a socket per call's RTP (the switch latches media to the
//! address it was told), and cheap borrowed SIP parsing.
//!
//! One invocation plays both sides (`--switch` for the callers, `--agents` for the phones);
//! either alone works too (`--agents` only: phones until `--deadline-s` or SIGTERM).
//! Everything is on loopback, bounded in calls and time; the summary is printed as lines
//! and one JSON object, and the exit status is 1 when a call that was not refused failed.

mod agent;
mod caller;
mod legs;
mod pacing;
mod rtp;
mod run;
mod sdp;
mod sip;
mod stamp;
mod stats;
mod timer;
mod uac;

use std::io::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use serde_json::json;

use crate::agent::Agents;
use crate::caller::{Callers, Outcome};
use crate::pacing::Pacer;
use crate::run::{CallerPlan, LoopReport};

/// Most calls a run may make.
const MAX_CALLS: u64 = 100_000;
/// Highest rate accepted.
const MAX_RATE: f64 = 1000.0;
/// Longest run accepted.
const MAX_DEADLINE_S: u64 = 3600;

/// Taxpayers calling 12366 and the agents' phones answering, for the switch's load bench.
#[derive(Parser, Debug)]
#[command(name = "hotline-loadgen", version)]
struct Args {
    /// The switch's SIP address: play the callers.
    #[arg(long)]
    switch: Option<SocketAddr>,
    /// Answer as every agent's phone on this address (the dialplan's contacts).
    #[arg(long)]
    agents: Option<SocketAddr>,
    /// The callers' SIP address.
    #[arg(long, default_value = "127.0.0.1:0")]
    callers: SocketAddr,
    /// New calls per second.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// How long calls keep arriving; calls = rate × seconds unless --calls.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// How many calls to make.
    #[arg(long)]
    calls: Option<u64>,
    /// How long each caller talks after the answer.
    #[arg(long, default_value_t = 3000)]
    talk_ms: u64,
    /// Most calls up at once [default: rate × (talk rounded up to s + 2)].
    #[arg(long)]
    limit: Option<usize>,
    /// The number dialled.
    #[arg(long, default_value = "12366")]
    service: String,
    /// How long the phones ring before they answer (0: 180 and 200 at once).
    #[arg(long, default_value_t = 0)]
    answer_after_ms: u64,
    /// Most calls the phones hold at once (more get 503).
    #[arg(long, default_value_t = 5000)]
    max_agent_calls: usize,
    /// How long a ringing or queued call waits for its answer before it is cancelled.
    #[arg(long, default_value_t = 60)]
    setup_limit_s: u64,
    /// Serve the 20 ms tick in this many phases (a share of the calls each, evenly spaced);
    /// 1 sends every call's packet in one burst.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=run::MAX_PHASES as u64))]
    tick_phases: u64,
    /// After the last caller hung up, how long the phones wait for their BYEs.
    #[arg(long, default_value_t = 5)]
    linger_s: u64,
    /// Hard stop, from the start [default: seconds + talk + 60 s].
    #[arg(long)]
    deadline_s: Option<u64>,
    /// Also write the JSON summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write one CSV line per caller's call here (outcome, setup and hang-up times, RTP).
    #[arg(long)]
    calls_csv: Option<PathBuf>,
}

fn main() -> ExitCode {
    match try_main() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("hotline-loadgen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn loopback_socket(addr: SocketAddr, what: &str) -> Result<UdpSocket> {
    if !addr.ip().is_loopback() {
        bail!("{what} {addr} is not a loopback address: this generator only talks to itself and a switch on this machine");
    }
    let socket = UdpSocket::bind(addr).with_context(|| format!("binding {what} {addr}"))?;
    socket.set_nonblocking(true)?;
    run::grow_buffers(&socket, 4 << 20);
    stamp::enable(&socket).with_context(|| format!("stamping {what}'s datagrams"))?;
    Ok(socket)
}

fn try_main() -> Result<bool> {
    let args = Args::parse();
    if args.switch.is_none() && args.agents.is_none() {
        bail!("nothing to do: give --switch (callers), --agents (phones) or both");
    }
    if !(args.rate > 0.0 && args.rate <= MAX_RATE) {
        bail!("--rate must be above 0 and at most {MAX_RATE}");
    }
    let calls = args
        .calls
        .unwrap_or((args.rate * args.seconds).round() as u64);
    if calls > MAX_CALLS {
        bail!("{calls} calls: at most {MAX_CALLS} per run");
    }
    let talk = Duration::from_millis(args.talk_ms);
    let deadline_s = args
        .deadline_s
        .unwrap_or((calls as f64 / args.rate).ceil() as u64 + args.talk_ms.div_ceil(1000) + 60);
    if deadline_s > MAX_DEADLINE_S {
        bail!("--deadline-s {deadline_s}: at most {MAX_DEADLINE_S}");
    }
    let limit = args
        .limit
        .unwrap_or(((args.rate * (args.talk_ms.div_ceil(1000) + 2) as f64).ceil() as usize).max(1));
    run::stop_on_signals();

    let mut agents = match args.agents {
        Some(addr) => {
            let socket = loopback_socket(addr, "--agents")?;
            Some(Agents::new(
                socket,
                Duration::from_millis(args.answer_after_ms),
                args.max_agent_calls,
            )?)
        }
        None => None,
    };
    let start = Instant::now();
    let mut plan = match args.switch {
        Some(switch) => {
            if !switch.ip().is_loopback() {
                bail!("--switch {switch} is not a loopback address");
            }
            let socket = loopback_socket(args.callers, "--callers")?;
            let cfg = caller::Config {
                switch,
                service: args.service.clone(),
                talk,
                setup_limit: Duration::from_secs(args.setup_limit_s),
                run_tag: std::process::id(),
            };
            Some(CallerPlan {
                callers: Callers::new(cfg, socket)?,
                pacer: Pacer::new(start, args.rate, calls),
                limit,
            })
        }
        None => None,
    };
    let deadline = start + Duration::from_secs(deadline_s);
    let report = run::run(
        plan.as_mut(),
        agents.as_mut(),
        deadline,
        Duration::from_secs(args.linger_s),
        args.tick_phases as usize,
    );
    if let Some(p) = plan.as_mut() {
        p.callers.close();
    }
    if let Some(a) = agents.as_mut() {
        a.close(Instant::now());
    }
    let legs = agents.as_ref().map(|a| &a.legs);
    if let (Some(path), Some(p)) = (&args.calls_csv, &plan) {
        write_csv(path, &p.callers, legs).with_context(|| format!("writing {}", path.display()))?;
    }
    let (summary, ok) = summary(&args, calls, limit, plan.as_ref(), agents.as_ref(), &report);
    for line in human(plan.as_ref(), agents.as_ref(), &summary) {
        println!("{line}");
    }
    let text = serde_json::to_string(&summary)?;
    println!("{text}");
    if let Some(path) = &args.json {
        std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ok)
}

fn summary(
    args: &Args,
    calls: u64,
    limit: usize,
    plan: Option<&CallerPlan>,
    agents: Option<&Agents>,
    report: &LoopReport,
) -> (serde_json::Value, bool) {
    let (user, system) = stats::own_cpu();
    let cpu = (user + system).as_secs_f64();
    let wall = report.wall.as_secs_f64();
    let callers_failed = plan.map_or(0, |p| p.callers.stats.failed());
    let agents_failed = agents.map_or(0, |a| a.stats.failed());
    let ok = callers_failed == 0 && agents_failed == 0 && report.stopped != run::Stopped::Signal;
    let c = plan.map(|p| &p.callers);
    let (media, unrelayed) = match (c, agents) {
        (Some(c), Some(a)) => {
            let (media, unrelayed) = count_completed_media(c, &a.legs);
            (Some(media), Some(unrelayed))
        }
        _ => (None, None),
    };
    let v = json!({
        "generator": "hotline-loadgen",
        "rate": args.rate, "calls": calls, "talk_ms": args.talk_ms, "limit": limit,
        "offered": c.map_or(0, |c| c.stats.invites),
        "answered": c.map_or(0, |c| c.stats.answered),
        "completed": c.map_or(0, |c| c.stats.completed),
        "completed_media": media,
        "unrelayed": unrelayed,
        "refused": c.map_or(0, |c| c.stats.refused),
        "failed": callers_failed,
        "setup_ms": c.map(|c| c.setup.summary()),
        "setup_wire_ms": c.map(|c| wire_times(c, None).0.summary()),
        "system_setup_ms": match (c, agents) {
            (Some(c), Some(a)) => Some(wire_times(c, Some(&a.legs)).0.summary()),
            _ => None,
        },
        "system_setup_unmatched": match (c, agents) {
            (Some(c), Some(a)) => Some(wire_times(c, Some(&a.legs)).1),
            _ => None,
        },
        "unstamped_sip": stamp::unstamped(),
        "bye_ms": c.map(|c| c.hangup.summary()),
        "callers": c.map(|c| c.stats.json()),
        "agents": agents.map(|a| a.stats.json()),
        "cpu": {
            "user_s": round3(user.as_secs_f64()), "system_s": round3(system.as_secs_f64()),
            "wall_s": round3(wall),
            "pct_of_one_core": if wall > 0.0 { (1000.0 * cpu / wall).round() / 10.0 } else { 0.0 },
        },
        "ticks": report.ticks, "late_ticks": report.late, "skipped_packets": report.skipped,
        "stopped": report.stopped.name(),
        "ok": ok,
    });
    (v, ok)
}

/// The callers' setup times on the wire (INVITE sent → 200 reached the caller's socket);
/// with the agents' `legs`, less each agent phone's own delay in answering: the system's
/// own part of the setup. Calls whose agent leg is not known are left out, and so are those
/// whose phone took longer than the whole setup: a leg of another call (caller numbers
/// repeat past 10,000 calls), counted in the second value.
fn wire_times(callers: &Callers, legs: Option<&legs::AgentLegs>) -> (stats::Times, u64) {
    let (mut times, mut unmatched) = (stats::Times::default(), 0);
    for call in callers.calls() {
        let Some(wire) = call.setup_wire else {
            continue;
        };
        match legs {
            None => times.push(wire),
            Some(legs) => {
                let answer = legs::leg_of(legs, &call.caller_id).and_then(|l| l.answer_delay);
                match answer.map(|a| wire.checked_sub(a)) {
                    Some(Some(own)) => times.push(own),
                    Some(None) => unmatched += 1,
                    None => {}
                }
            }
        }
    }
    (times, unmatched)
}

/// Callers' calls completed with audio received on both sides through the system, and the
/// calls whose audio went straight between the phones (see `legs`).
fn count_completed_media(callers: &Callers, legs: &legs::AgentLegs) -> (u64, u64) {
    let (mut media, mut unrelayed) = (0, 0);
    for call in callers.calls() {
        let caller = caller_leg(call);
        let agent = legs::leg_of(legs, &call.caller_id);
        media += u64::from(legs::completed_media(&caller, agent));
        unrelayed += u64::from(caller.completed && legs::unrelayed(&caller, agent));
    }
    (media, unrelayed)
}

/// What the caller's side of `call` saw, for matching with its agent's leg.
fn caller_leg(call: &caller::Call) -> legs::CallerLeg {
    legs::CallerLeg {
        completed: call.outcome() == Some(Outcome::Completed),
        rtp_received: call.rtp_counts.1,
        media_to: call.media_to,
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn human(plan: Option<&CallerPlan>, agents: Option<&Agents>, s: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(p) = plan {
        out.extend(p.callers.stats.lines("callers"));
        out.push(format!(
            "callers  setup INVITE→200  {}",
            p.callers.setup.line()
        ));
        out.push(format!(
            "callers  setup on the wire {}",
            wire_times(&p.callers, None).0.line()
        ));
        if let Some(a) = agents {
            out.push(format!(
                "system   its own part of setup (on the wire, less the agent phone's answering) {}",
                wire_times(&p.callers, Some(&a.legs)).0.line()
            ));
        }
        out.push(format!(
            "callers  hang-up BYE→200   {}",
            p.callers.hangup.line()
        ));
    }
    if let Some(a) = agents {
        out.extend(a.stats.lines("agents"));
    }
    if let Some(n) = s["completed_media"].as_u64() {
        out.push(format!(
            "both     completed media calls (answered, hung up normally, RTP received by caller and agent through the system) {n}"
        ));
    }
    if let Some(n) = s["unrelayed"].as_u64().filter(|&n| n > 0) {
        out.push(format!(
            "both     calls whose audio went straight between the phones, past the system (not counted) {n}"
        ));
    }
    out.push(format!(
        "loadgen  CPU {} s user + {} s system in {} s wall ({} % of one core), {} ticks ({} late, caught up; {} packet intervals skipped), stopped: {}",
        s["cpu"]["user_s"],
        s["cpu"]["system_s"],
        s["cpu"]["wall_s"],
        s["cpu"]["pct_of_one_core"],
        s["ticks"],
        s["late_ticks"],
        s["skipped_packets"],
        s["stopped"].as_str().unwrap_or("?"),
    ));
    out
}

fn write_csv(
    path: &std::path::Path,
    callers: &Callers,
    legs: Option<&legs::AgentLegs>,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        f,
        "index,caller_id,call_id,outcome,setup_ms,bye_ms,rtp_sent,rtp_received,agent_completed,agent_rtp_sent,agent_rtp_received,completed_media,setup_wire_ms,agent_answer_ms"
    )?;
    let ms = |d: Option<Duration>| {
        d.map_or(String::new(), |d| {
            format!("{:.3}", d.as_secs_f64() * 1000.0)
        })
    };
    for (i, call) in callers.calls().iter().enumerate() {
        let outcome = match call.outcome() {
            Some(Outcome::Completed) => "completed".to_owned(),
            Some(Outcome::Refused) => "refused".to_owned(),
            Some(Outcome::Failed(why)) => why.name(),
            None => "up".to_owned(),
        };
        let leg = legs.and_then(|l| legs::leg_of(l, &call.caller_id));
        let media = legs::completed_media(&caller_leg(call), leg);
        writeln!(
            f,
            "{i},{},{},{outcome},{},{},{},{},{},{},{},{media},{},{}",
            call.caller_id,
            call.call_id,
            ms(call.setup),
            ms(call.hangup),
            call.rtp_counts.0,
            call.rtp_counts.1,
            leg.map_or(String::new(), |l| l.completed.to_string()),
            leg.map_or(String::new(), |l| l.rtp_sent.to_string()),
            leg.map_or(String::new(), |l| l.rtp_received.to_string()),
            ms(call.setup_wire),
            ms(leg.and_then(|l| l.answer_delay)),
        )?;
    }
    f.flush()
}
