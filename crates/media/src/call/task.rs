//! The tokio edge of a call's media: one task owning the caller's port and, while they are
//! attached, the agent's and the supervisor's; woken by readiness, the 20 ms tick (only
//! while playing or supervised), the voicemail's deadline and the switch's commands. Reads go
//! into one buffer per worker thread (not one per task: thousands of tasks would each hold
//! one) and sends never await.

use std::cell::RefCell;
use std::collections::VecDeque;
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
/// Datagrams read at most from each socket at the hang-up: three seconds of audio.
const LAST_READ: usize = 150;
/// Of those, the newest handled: 0.8 s, less than the second after which a stream is placed
/// anew (`relay::placement::MAX_BEHIND`), so each lands where its timestamp says.
const LAST_HANDLED: usize = 40;

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
            Wake::Readable(leg) => drain(&ports, leg, &mut core, start),
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

/// Reads what each socket still holds and handles the newest [`LAST_HANDLED`] of it.
fn drain_before_stop(ports: &Ports, core: &mut CallCore, start: Instant) {
    let mut buf = [0; DATAGRAM_MAX];
    for party in [Party::Caller, Party::Agent, Party::Supervisor] {
        let Some(port) = ports.of(party) else {
            continue;
        };
        // Read through a duplicate of the descriptor: tokio skips a socket its driver has
        // not yet seen readable, and here it may not have run since the last audio came.
        let socket = match port.socket().as_fd().try_clone_to_owned() {
            Ok(fd) => std::net::UdpSocket::from(fd),
            Err(error) => {
                tracing::debug!(%error, ?party, "RTP left unread at the hang-up");
                continue;
            }
        };
        let mut queued = VecDeque::with_capacity(LAST_HANDLED);
        let mut older = 0;
        for _ in 0..LAST_READ {
            let Ok((len, src)) = socket.recv_from(&mut buf) else {
                break;
            };
            if queued.len() == LAST_HANDLED {
                queued.pop_front();
                older += 1;
            }
            queued.push_back((buf.get(..len).unwrap_or_default().to_vec(), src));
        }
        core.too_late(older);
        for (mut datagram, src) in queued {
            handle(ports, party, core, start, &mut datagram, src);
        }
    }
}

/// Reads up to [`BURST`] datagrams from `from`'s socket into the thread's read buffer.
fn drain(ports: &Ports, from: Party, core: &mut CallCore, start: Instant) {
    let shared = READ_BUFFER.try_with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => drain_into(&mut buf, ports, from, core, start),
        // Never nested, nor called while the thread ends; were it, a buffer of its own.
        Err(_) => drain_into(&mut [0; DATAGRAM_MAX], ports, from, core, start),
    });
    if shared.is_err() {
        drain_into(&mut [0; DATAGRAM_MAX], ports, from, core, start);
    }
}

/// Reads up to [`BURST`] datagrams from `from`'s socket into `buf` and handles each.
fn drain_into(
    buf: &mut [u8; DATAGRAM_MAX],
    ports: &Ports,
    from: Party,
    core: &mut CallCore,
    start: Instant,
) {
    let Some(inbound) = ports.of(from) else {
        return;
    };
    for _ in 0..BURST {
        let (len, src) = match inbound.socket().try_recv_from(buf) {
            Ok(got) => got,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(error) => {
                tracing::debug!(%error, ?from, "RTP receive error");
                return;
            }
        };
        if let Some(datagram) = buf.get_mut(..len) {
            handle(ports, from, core, start, datagram, src);
        }
    }
}

/// One datagram from `from`: relayed to the other side (caller and agent only; the
/// supervisor's audio is only mixed), recorded, or dropped.
fn handle(
    ports: &Ports,
    from: Party,
    core: &mut CallCore,
    start: Instant,
    datagram: &mut [u8],
    src: std::net::SocketAddr,
) {
    let now = samples_since(start);
    let (leg, to) = match from {
        Party::Caller => (Leg::Caller, Party::Agent),
        Party::Agent => (Leg::Agent, Party::Caller),
        Party::Supervisor => {
            core.on_supervisor_packet(src, datagram, now);
            return;
        }
    };
    let Verdict::Send(dest) = core.on_packet(leg, src, datagram, now) else {
        return;
    };
    let sent = ports
        .of(to)
        .map(|out| out.socket().try_send_to(datagram, dest));
    if !matches!(sent, Some(Ok(_))) {
        // A full send buffer or an unreachable phone: RTP is loss-tolerant, never wait.
        tracing::trace!(?sent, %dest, "RTP send failed");
        core.unsent(leg, datagram.len());
    }
}

/// 8 kHz samples elapsed since `start`, by the tokio clock.
fn samples_since(start: Instant) -> u64 {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    micros.saturating_mul(8) / 1_000
}

fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_micros(samples.saturating_mul(125))
}
