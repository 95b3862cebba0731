//! The tokio edge of the relay: one task per call owning both sockets, woken by readiness,
//! reading into one preallocated buffer and sending without awaiting.

use std::future::poll_fn;
use std::io;
use std::task::Poll;

use hotline_record::Recording;
use tokio::sync::mpsc::{self, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::Instrument;

use super::core::RelayCore;
use super::port::MediaPort;
use super::{BridgeStats, Leg, PeerMedia};

/// Largest datagram read; G.711 packets are far smaller.
const DATAGRAM_MAX: usize = 2_048;
/// Packets read from one socket before looking at the other, so neither side starves.
const BURST: usize = 32;

/// What the call's signalling tells its bridge.
#[derive(Debug)]
enum Control {
    Update(Leg, PeerMedia),
    Stop,
}

/// Starts bridges; see [`Bridge::start`].
#[derive(Debug)]
pub struct Bridge;

/// The call's handle on its running bridge. Dropping it stops the bridge like
/// [`BridgeHandle::stop`] does, without waiting.
#[derive(Debug)]
pub struct BridgeHandle {
    control: UnboundedSender<Control>,
    task: JoinHandle<BridgeStats>,
}

impl Bridge {
    /// Spawns the task relaying between `caller` and `agent`, recording into `recording`
    /// (left = caller, right = agent) from now on. Must run inside a tokio runtime.
    pub fn start(
        call_id: String,
        caller: (MediaPort, PeerMedia),
        agent: (MediaPort, PeerMedia),
        recording: Option<Recording>,
    ) -> BridgeHandle {
        let (control, rx) = mpsc::unbounded_channel();
        let core = RelayCore::new(caller.1, agent.1, recording);
        let span = tracing::info_span!("media", call = %call_id);
        let task = tokio::spawn(run([caller.0, agent.0], core, rx).instrument(span));
        BridgeHandle { control, task }
    }
}

impl BridgeHandle {
    /// Applies a re-INVITE (hold, new address, new codec) to one leg.
    pub fn update(&self, leg: Leg, peer: PeerMedia) {
        // If the task has ended the call is over and the update has nothing to change.
        let _ = self.control.send(Control::Update(leg, peer));
    }

    /// Stops relaying, finishes the recording at the bridge's duration, and returns the
    /// counts.
    pub async fn stop(self) -> BridgeStats {
        let _ = self.control.send(Control::Stop);
        match self.task.await {
            Ok(stats) => stats,
            Err(error) => {
                tracing::error!(%error, "media task failed");
                BridgeStats::default()
            }
        }
    }
}

/// Which way the task was woken.
enum Wake {
    Control(Option<Control>),
    Readable(Leg),
}

async fn run(
    ports: [MediaPort; 2],
    mut core: RelayCore,
    mut control: UnboundedReceiver<Control>,
) -> BridgeStats {
    let start = Instant::now();
    let mut buf = [0u8; DATAGRAM_MAX];
    let mut agent_first = false;
    loop {
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
            for leg in order {
                // An error also wakes us: the read below reports it.
                if ports[leg.index()].socket().poll_recv_ready(cx).is_ready() {
                    return Poll::Ready(Wake::Readable(leg));
                }
            }
            Poll::Pending
        })
        .await;
        match wake {
            Wake::Control(Some(Control::Update(leg, peer))) => core.update(leg, peer),
            Wake::Control(Some(Control::Stop) | None) => break,
            Wake::Readable(leg) => drain(&ports, leg, &mut core, &mut buf, start),
        }
    }
    let stats = core.finish(samples_since(start));
    tracing::debug!(?stats, "media bridge stopped");
    stats
}

/// Reads up to [`BURST`] datagrams from `from`'s socket and relays each.
fn drain(
    ports: &[MediaPort; 2],
    from: Leg,
    core: &mut RelayCore,
    buf: &mut [u8; DATAGRAM_MAX],
    start: Instant,
) {
    let (inbound, outbound) = match from {
        Leg::Caller => (&ports[0], &ports[1]),
        Leg::Agent => (&ports[1], &ports[0]),
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
        let Some(dest) = core.on_packet(from, src, datagram, samples_since(start)) else {
            continue;
        };
        if let Err(error) = outbound.socket().try_send_to(datagram, dest) {
            // A full send buffer or an unreachable phone: RTP is loss-tolerant, never wait.
            tracing::trace!(%error, %dest, "RTP send failed");
            core.unsent(from, len);
        }
    }
}

/// 8 kHz samples elapsed since `start`, by the tokio clock.
fn samples_since(start: Instant) -> u64 {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    micros.saturating_mul(8) / 1_000
}
