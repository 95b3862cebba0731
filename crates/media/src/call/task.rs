//! The tokio edge of a call's media: one task owning the caller's port and, while they are
//! attached, the agent's and the supervisor's; woken by readiness, the 20 ms tick (only
//! while playing or supervised), the voicemail's deadline and the switch's commands. Reads go
//! into one buffer per worker thread (not one per task: thousands of tasks would each hold
//! one) and sends never await.

use std::cell::RefCell;
use std::future::{poll_fn, Future};
use std::io;
use std::os::fd::AsFd;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{self, Instant, Interval, MissedTickBehavior};

use super::core::{CallCore, Party, Verdict};
use super::Control;
use crate::relay::{BridgeStats, Leg, MediaPort};

/// Largest datagram read; G.711 packets are far smaller.
const DATAGRAM_MAX: usize = 2_048;
/// Packets read from one socket before looking at anything else, so nothing starves.
const BURST: usize = 32;
/// The tick: one 20 ms frame of play or mix each.
const FRAME_PERIOD: Duration = Duration::from_millis(20);
/// Bursts read at most from each socket at the hang-up: about three seconds of audio.
const LAST_BURSTS: usize = 5;

/// Why the task woke.
enum Wake {
    Control(Option<Control>),
    Tick,
    Deadline,
    Readable(Party),
}

/// The call's sockets; the agent's and the supervisor's only while they are attached.
struct Ports {
    caller: MediaPort,
    agent: Option<MediaPort>,
    supervisor: Option<MediaPort>,
}

impl Ports {
    fn of(&self, party: Party) -> Option<&MediaPort> {
        match party {
            Party::Caller => Some(&self.caller),
            Party::Agent => self.agent.as_ref(),
            Party::Supervisor => self.supervisor.as_ref(),
        }
    }
}

/// Runs the call's media until `Stop` or the handle is dropped.
pub(super) async fn run(
    caller: MediaPort,
    agent: Option<MediaPort>,
    mut core: CallCore,
    mut control: UnboundedReceiver<Control>,
) -> BridgeStats {
    let start = Instant::now();
    let mut ports = Ports {
        caller,
        agent,
        supervisor: None,
    };
    let mut ticker: Option<Interval> = None;
    let mut deadline = pin!(time::sleep_until(start));
    let mut armed: Option<u64> = None;
    let mut order = [Party::Caller, Party::Agent, Party::Supervisor];
    loop {
        // The tick exists only while something plays or is mixed: an idle call or a plain
        // relay costs no timer.
        match (core.needs_tick(), &ticker) {
            (true, None) => {
                let mut t = time::interval(FRAME_PERIOD);
                // Late ticks catch up, so a prompt keeps its length and its timestamps.
                t.set_missed_tick_behavior(MissedTickBehavior::Burst);
                ticker = Some(t);
            }
            (false, Some(_)) => ticker = None,
            _ => {}
        }
        let due = core.voicemail_deadline();
        if due != armed {
            if let Some(at) = due {
                deadline.as_mut().reset(start + samples_to_duration(at));
            }
            armed = due;
        }
        // Each socket goes first in turn, so none starves the others.
        order.rotate_left(1);
        let wake = poll_fn(|cx| {
            if let Poll::Ready(msg) = control.poll_recv(cx) {
                return Poll::Ready(Wake::Control(msg));
            }
            if let Some(t) = &mut ticker {
                if t.poll_tick(cx).is_ready() {
                    return Poll::Ready(Wake::Tick);
                }
            }
            if armed.is_some() && deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Wake::Deadline);
            }
            for party in order {
                // An error also wakes us: the read below reports it.
                if let Some(port) = ports.of(party) {
                    if port.socket().poll_recv_ready(cx).is_ready() {
                        return Poll::Ready(Wake::Readable(party));
                    }
                }
            }
            Poll::Pending
        })
        .await;
        let now = samples_since(start);
        match wake {
            Wake::Control(Some(Control::Stop) | None) => {
                // The hang-up is handled ahead of the audio: what the phones sent before it
                // and the task has not read yet (the media runtime may run behind the
                // favoured signalling) still goes into the recording and to the other side.
                drain_before_stop(&ports, &mut core, start);
                break;
            }
            Wake::Control(Some(msg)) => command(msg, &mut core, &mut ports, now),
            Wake::Tick => {
                let sends = core.tick(now);
                for (to, dest) in [
                    (Party::Caller, sends.caller),
                    (Party::Agent, sends.agent),
                    (Party::Supervisor, sends.supervisor),
                ] {
                    let Some(dest) = dest else { continue };
                    let sent = ports
                        .of(to)
                        .map(|port| port.socket().try_send_to(core.frame(to), dest));
                    if !matches!(sent, Some(Ok(_))) {
                        tracing::trace!(?sent, %dest, "RTP send failed");
                        core.unsent_frame(to);
                    }
                }
            }
            Wake::Deadline => {
                core.on_timeout(now);
                armed = None;
            }
            Wake::Readable(leg) => {
                drain(&ports, leg, &mut core, start, Reading::Tokio);
            }
        }
    }
    let stats = core.finish(samples_since(start));
    tracing::debug!(?stats, "call media stopped");
    stats
}

fn command(msg: Control, core: &mut CallCore, ports: &mut Ports, now: u64) {
    match msg {
        Control::Play {
            id,
            prompts,
            looped,
        } => core.play(id, &prompts, looped),
        Control::StopPlaying => core.stop_playing(),
        Control::ConnectAgent(port, peer) => {
            // Replacing the port closes a previous agent's.
            ports.agent = Some(port);
            core.connect_agent(peer);
        }
        Control::Supervise(port, peer, mode) => {
            ports.supervisor = Some(port);
            core.supervise(peer, mode);
        }
        Control::SetMonitor(mode) => core.set_monitor(mode),
        Control::EndSupervision => {
            ports.supervisor = None;
            core.end_supervision();
        }
        Control::UpdateSupervisor(peer) => core.update_supervisor(peer, now),
        Control::DisconnectAgent => {
            ports.agent = None;
            core.disconnect_agent();
        }
        Control::StartVoicemail(path, max) => core.start_voicemail(path, max, now),
        Control::StopVoicemail => core.stop_voicemail(now),
        Control::Update(leg, peer) => core.update(leg, peer, now),
        Control::Stop => {}
    }
}

thread_local! {
    /// The read buffer of this thread's media tasks: a read never awaits, so one serves them
    /// all, and none is zeroed per read.
    static READ_BUFFER: RefCell<[u8; DATAGRAM_MAX]> = const { RefCell::new([0; DATAGRAM_MAX]) };
}

/// Reads what every socket holds, a burst from each in turn (so no channel of the recording
/// runs far ahead of the other), up to [`LAST_BURSTS`] each.
fn drain_before_stop(ports: &Ports, core: &mut CallCore, start: Instant) {
    let parties = [Party::Caller, Party::Agent, Party::Supervisor];
    // A duplicate of each descriptor: tokio's view of which sockets hold data may be stale
    // here (its driver need not have run since the last audio came), and it skips those.
    let direct = parties.map(|p| {
        let port = ports.of(p)?;
        let fd = port.socket().as_fd().try_clone_to_owned().ok()?;
        Some(std::net::UdpSocket::from(fd))
    });
    let mut left = parties.map(|_| LAST_BURSTS);
    while left.iter().any(|n| *n > 0) {
        for ((party, n), socket) in parties.iter().zip(&mut left).zip(&direct) {
            if *n == 0 {
                continue;
            }
            let reading = Reading::Direct(socket.as_ref());
            *n = match drain(ports, *party, core, start, reading) {
                Drained::Empty => 0,
                Drained::Burst => *n - 1,
            };
        }
    }
}

/// How a socket is read.
#[derive(Clone, Copy)]
enum Reading<'a> {
    /// Through tokio, which clears its readiness when a read finds nothing.
    Tokio,
    /// From this duplicate of the socket's descriptor (non-blocking as well), whatever
    /// tokio last saw.
    Direct(Option<&'a std::net::UdpSocket>),
}

/// Whether a read left the socket empty.
enum Drained {
    /// Nothing more to read (or no socket, or an error).
    Empty,
    /// A whole burst was read; more may wait.
    Burst,
}

/// Reads up to [`BURST`] datagrams from `from`'s socket into the thread's read buffer.
fn drain(
    ports: &Ports,
    from: Party,
    core: &mut CallCore,
    start: Instant,
    reading: Reading,
) -> Drained {
    let mut into =
        |buf: &mut [u8; DATAGRAM_MAX]| drain_into(buf, ports, from, core, start, reading);
    let shared = READ_BUFFER.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => into(&mut buf),
        // Never nested, nor called while the thread ends; were it, a buffer of its own.
        Err(_) => into(&mut [0; DATAGRAM_MAX]),
    });
    shared.unwrap_or_else(|_| into(&mut [0; DATAGRAM_MAX]))
}

/// Reads up to [`BURST`] datagrams from `from`'s socket into `buf` and handles each.
fn drain_into(
    buf: &mut [u8; DATAGRAM_MAX],
    ports: &Ports,
    from: Party,
    core: &mut CallCore,
    start: Instant,
    reading: Reading,
) -> Drained {
    let Some(inbound) = ports.of(from) else {
        return Drained::Empty;
    };
    let read = |buf: &mut [u8]| match reading {
        Reading::Tokio => inbound.socket().try_recv_from(buf),
        Reading::Direct(Some(socket)) => socket.recv_from(buf),
        Reading::Direct(None) => Err(io::ErrorKind::WouldBlock.into()),
    };
    // Only caller and agent relay to each other; the supervisor's audio is only mixed.
    let (from, to) = match from {
        Party::Caller => (Some(Leg::Caller), Party::Agent),
        Party::Agent => (Some(Leg::Agent), Party::Caller),
        Party::Supervisor => (None, Party::Supervisor),
    };
    for _ in 0..BURST {
        let (len, src) = match read(buf) {
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Empty,
            Err(error) => {
                tracing::debug!(%error, ?from, "RTP receive error");
                return Drained::Empty;
            }
        };
        let Some(datagram) = buf.get_mut(..len) else {
            continue;
        };
        let now = samples_since(start);
        let Some(from) = from else {
            core.on_supervisor_packet(src, datagram, now);
            continue;
        };
        let Verdict::Send(dest) = core.on_packet(from, src, datagram, now) else {
            continue;
        };
        let sent = ports
            .of(to)
            .map(|out| out.socket().try_send_to(datagram, dest));
        if !matches!(sent, Some(Ok(_))) {
            // A full send buffer or an unreachable phone: RTP is loss-tolerant, never wait.
            tracing::trace!(?sent, %dest, "RTP send failed");
            core.unsent(from, len);
        }
    }
    Drained::Burst
}

/// 8 kHz samples elapsed since `start`, by the tokio clock.
fn samples_since(start: Instant) -> u64 {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    micros.saturating_mul(8) / 1_000
}

fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_micros(samples.saturating_mul(125))
}
