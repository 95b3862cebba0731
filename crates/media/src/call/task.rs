//! The tokio edge of a call's media: one task owning the caller's port and, while one is
//! connected, the agent's; woken by readiness, the 20 ms play tick (only while playing), the
//! voicemail's deadline and the switch's commands. Reads go into one preallocated buffer and
//! sends never await.

use std::future::{poll_fn, Future};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::{self, Instant, Interval, MissedTickBehavior};

use super::core::{CallCore, Verdict};
use super::Control;
use crate::relay::{BridgeStats, Leg, MediaPort};

/// Largest datagram read; G.711 packets are far smaller.
const DATAGRAM_MAX: usize = 2_048;
/// Packets read from one socket before looking at anything else, so nothing starves.
const BURST: usize = 32;
/// The play tick: one 20 ms frame each.
const FRAME_PERIOD: Duration = Duration::from_millis(20);

/// Why the task woke.
enum Wake {
    Control(Option<Control>),
    Tick,
    Deadline,
    Readable(Leg),
}

/// The call's two sockets; the agent's only while one is connected.
struct Ports {
    caller: MediaPort,
    agent: Option<MediaPort>,
}

impl Ports {
    fn of(&self, leg: Leg) -> Option<&MediaPort> {
        match leg {
            Leg::Caller => Some(&self.caller),
            Leg::Agent => self.agent.as_ref(),
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
    let mut ports = Ports { caller, agent };
    let mut buf = [0u8; DATAGRAM_MAX];
    let mut ticker: Option<Interval> = None;
    let mut deadline = pin!(time::sleep_until(start));
    let mut armed: Option<u64> = None;
    let mut agent_first = false;
    loop {
        // The tick exists only while something plays: an idle call costs no timer.
        match (core.is_playing(), &ticker) {
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
        agent_first = !agent_first;
        let order = if agent_first {
            [Leg::Agent, Leg::Caller]
        } else {
            [Leg::Caller, Leg::Agent]
        };
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
            for leg in order {
                // An error also wakes us: the read below reports it.
                if let Some(port) = ports.of(leg) {
                    if port.socket().poll_recv_ready(cx).is_ready() {
                        return Poll::Ready(Wake::Readable(leg));
                    }
                }
            }
            Poll::Pending
        })
        .await;
        let now = samples_since(start);
        match wake {
            Wake::Control(Some(Control::Stop) | None) => break,
            Wake::Control(Some(msg)) => command(msg, &mut core, &mut ports, now),
            Wake::Tick => {
                if let Some(dest) = core.tick(now) {
                    if let Err(error) = ports.caller.socket().try_send_to(core.frame(), dest) {
                        tracing::trace!(%error, %dest, "RTP send failed");
                        core.unsent_frame();
                    }
                }
            }
            Wake::Deadline => {
                core.on_timeout(now);
                armed = None;
            }
            Wake::Readable(leg) => drain(&ports, leg, &mut core, &mut buf, start),
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
            ports.agent = Some(port);
            core.connect_agent(peer);
        }
        Control::DisconnectAgent => {
            ports.agent = None;
            core.disconnect_agent();
        }
        Control::StartVoicemail(path, max) => core.start_voicemail(path, max, now),
        Control::StopVoicemail => core.stop_voicemail(now),
        Control::Update(leg, peer) => core.update(leg, peer),
        Control::Stop => {}
    }
}

/// Reads up to [`BURST`] datagrams from `from`'s socket and handles each.
fn drain(
    ports: &Ports,
    from: Leg,
    core: &mut CallCore,
    buf: &mut [u8; DATAGRAM_MAX],
    start: Instant,
) {
    let Some(inbound) = ports.of(from) else {
        return;
    };
    let to = match from {
        Leg::Caller => Leg::Agent,
        Leg::Agent => Leg::Caller,
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
        let Some(datagram) = buf.get_mut(..len) else {
            continue;
        };
        let Verdict::Send(dest) = core.on_packet(from, src, datagram, samples_since(start)) else {
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
}

/// 8 kHz samples elapsed since `start`, by the tokio clock.
fn samples_since(start: Instant) -> u64 {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    micros.saturating_mul(8) / 1_000
}

fn samples_to_duration(samples: u64) -> Duration {
    Duration::from_micros(samples.saturating_mul(125))
}
