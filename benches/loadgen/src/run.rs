//! The run loop: one thread, `poll(2)` on the two SIP sockets, a 20 ms tick that serves
//! every call (RTP out and in, retransmission timers, hang-ups), new calls on the pacer's
//! schedule, and a hard deadline. The tick may be split into phases (`--tick-phases 4`: a
//! quarter of the calls every 5 ms, so packets leave evenly rather than in one burst every
//! 20 ms); on a saturated 2-core machine that did worse than one burst (BENCHMARKS.md), so
//! the default is one phase.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::agent::Agents;
use crate::caller::Callers;
use crate::pacing::Pacer;
use crate::rtp::DRAIN_EVERY;

/// One RTP packetisation interval.
pub const TICK: Duration = Duration::from_millis(20);
/// Most phases a tick may be split into (one per ms at 20).
pub const MAX_PHASES: usize = 20;
/// Most packets a late tick sends per call to catch up (200 ms of audio); a loop further
/// behind skips the rest, which the recordings show as silence.
const CATCH_UP: u32 = 10;
/// Datagrams read from one SIP socket before the loop looks at its clock again.
const READ_BATCH: usize = 256;
/// Parts each turn is served in, back to back, with SIP read and due calls started between
/// them: on a busy machine a turn over thousands of calls takes a good part of a second,
/// and new calls started only between turns went out in bursts of 130–220 INVITEs every
/// 250–400 ms (BENCHMARKS.md, set J), which no crowd of callers does.
const PARTS: usize = 8;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Makes SIGINT and SIGTERM end the run early (with its summary) instead of the process.
pub fn stop_on_signals() {
    let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}

/// One phase's turn: which calls it serves and what each of them does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Phase {
    /// This phase's number, `0..of`.
    pub index: usize,
    /// How many phases the tick has: call `n` is served in phase `n % of`.
    pub of: usize,
    /// How many 20 ms packets each talking call sends (more than one when the phase is
    /// catching up after the loop was kept from running).
    pub packets: u32,
    /// Read each call's RTP socket empty (now and then), rather than a tick's share.
    pub drain: bool,
}

impl Phase {
    /// How many datagrams to read from each call's RTP socket this turn: one per interval
    /// it covers, or a second's worth now and then.
    pub fn reads(self) -> usize {
        let share = self.packets as usize;
        if self.drain {
            crate::rtp::DRAIN.max(share)
        } else {
            share
        }
    }

    /// Whether the call numbered `n` (any number that spreads calls evenly) is this phase's.
    pub fn serves(self, n: usize) -> bool {
        n % self.of == self.index
    }

    /// This phase's calls in `k` parts, each served as a phase of its own with the same
    /// packets to send and read.
    pub fn parts(self, k: usize) -> impl Iterator<Item = Phase> {
        let k = k.max(1);
        (0..k).map(move |j| Phase {
            index: self.index + self.of * j,
            of: self.of * k,
            ..self
        })
    }
}

/// When each phase is due next, and how often each has run.
#[derive(Debug)]
struct Phases {
    due: Vec<Instant>,
    runs: Vec<u64>,
}

impl Phases {
    /// `n` phases (1 to `MAX_PHASES`), `TICK / n` apart, the first at `start`.
    fn new(start: Instant, n: usize) -> Phases {
        let n = n.clamp(1, MAX_PHASES);
        let step = TICK / n as u32;
        Phases {
            due: (0..n).map(|p| start + step * p as u32).collect(),
            runs: vec![0; n],
        }
    }

    /// The earliest phase due at `now`, with what it owes: a phase kept from running sends
    /// what it owes (up to `CATCH_UP` packets), as a phone's RTP stack would, so the
    /// switch's recordings are not cut by our stall; further behind, it skips (the count of
    /// skipped packet intervals comes back too).
    fn take(&mut self, now: Instant) -> Option<(Phase, u64)> {
        let index = (0..self.due.len())
            .filter(|&p| self.due[p] <= now)
            .min_by_key(|&p| self.due[p])?;
        let behind = (now - self.due[index]).as_nanos() / TICK.as_nanos();
        let packets = (behind.min(u128::from(CATCH_UP) - 1) + 1) as u32;
        let drain = self.runs[index].is_multiple_of(DRAIN_EVERY);
        self.runs[index] += 1;
        self.due[index] += TICK * packets;
        let mut skipped = 0;
        if now >= self.due[index] + TICK {
            skipped = ((now - self.due[index]).as_nanos() / TICK.as_nanos()) as u64;
            self.due[index] = now + TICK;
        }
        let phase = Phase {
            index,
            of: self.due.len(),
            packets,
            drain,
        };
        Some((phase, skipped))
    }

    fn next(&self) -> Instant {
        self.due.iter().copied().min().unwrap_or_else(Instant::now)
    }
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every call was made and ended (and the agents' phones hung up, or the linger ran out).
    Done,
    /// The hard deadline passed.
    Deadline,
    /// SIGINT or SIGTERM.
    Signal,
}

impl Stopped {
    /// A short name for the summary.
    pub fn name(self) -> &'static str {
        match self {
            Stopped::Done => "done",
            Stopped::Deadline => "deadline",
            Stopped::Signal => "signal",
        }
    }
}

/// What the loop itself saw.
#[derive(Debug, Clone, Copy)]
pub struct LoopReport {
    /// Why it ended.
    pub stopped: Stopped,
    /// From the first tick to the end.
    pub wall: Duration,
    /// Phase turns run (four a tick).
    pub ticks: u64,
    /// Phase turns that were at least one packet late (each caught up, up to 200 ms).
    pub late: u64,
    /// Packet intervals skipped because the loop was more than 200 ms behind.
    pub skipped: u64,
}

/// The callers' part of a run.
pub struct CallerPlan {
    /// The callers.
    pub callers: Callers,
    /// When each call starts.
    pub pacer: Pacer,
    /// Most calls up at once; new calls wait for one to end.
    pub limit: usize,
}

/// Runs until every call is over, the deadline, or a signal. `linger`: how long the
/// agents' phones may still wait for their BYEs once the last caller hung up; `phases`:
/// how many parts the 20 ms tick is served in.
pub fn run(
    mut callers: Option<&mut CallerPlan>,
    mut agents: Option<&mut Agents>,
    deadline: Instant,
    linger: Duration,
    phases: usize,
) -> LoopReport {
    let start = Instant::now();
    let mut phases = Phases::new(start, phases);
    let (mut ticks, mut late, mut skipped) = (0, 0, 0);
    let mut callers_done_at: Option<Instant> = None;
    let mut recv = vec![0u8; 65_536];
    let mut scratch = Vec::with_capacity(256);
    let stopped = loop {
        let now = Instant::now();
        if STOP.load(Ordering::Relaxed) {
            break Stopped::Signal;
        }
        if now >= deadline {
            break Stopped::Deadline;
        }
        start_due(callers.as_deref_mut(), now);
        while let Some((phase, skip)) = phases.take(now) {
            for part in phase.parts(PARTS) {
                if let Some(plan) = callers.as_deref_mut() {
                    plan.callers.tick(now, part, &mut scratch, &mut recv);
                }
                if let Some(a) = agents.as_deref_mut() {
                    a.tick(now, part, &mut scratch, &mut recv);
                }
                // A turn over thousands of calls takes milliseconds: SIP is read and new
                // calls start between its parts too, so an answer waits for a part at most.
                read_sip(callers.as_deref_mut(), agents.as_deref_mut(), &mut recv);
                start_due(callers.as_deref_mut(), Instant::now());
            }
            ticks += 1;
            late += u64::from(phase.packets > 1);
            skipped += skip;
        }
        if let Some(plan) = callers.as_deref() {
            if plan.pacer.done() && plan.callers.open() == 0 {
                let done_at = *callers_done_at.get_or_insert(now);
                if agents.as_deref().is_none_or(|a| a.open() == 0) || now >= done_at + linger {
                    break Stopped::Done;
                }
            }
        }

        let mut wake = phases.next().min(deadline);
        if let Some(plan) = callers.as_deref() {
            if plan.callers.open() < plan.limit {
                if let Some(at) = plan.pacer.next_at() {
                    wake = wake.min(at);
                }
            }
        }
        let sockets: Vec<&UdpSocket> = callers
            .as_deref()
            .map(|p| p.callers.socket())
            .into_iter()
            .chain(agents.as_deref().map(|a| a.socket()))
            .collect();
        wait(&sockets, wake.saturating_duration_since(Instant::now()));

        read_sip(callers.as_deref_mut(), agents.as_deref_mut(), &mut recv);
    };
    LoopReport {
        stopped,
        wall: start.elapsed(),
        ticks,
        late,
        skipped,
    }
}

/// Starts the calls due by `now`, as many as the open-calls limit lets.
fn start_due(callers: Option<&mut CallerPlan>, now: Instant) {
    let Some(plan) = callers else { return };
    while plan.callers.open() < plan.limit {
        let Some(i) = plan.pacer.take(now) else { break };
        plan.callers.start(now, i);
    }
}

/// Reads up to [`READ_BATCH`] SIP datagrams waiting on each side's socket, each handled
/// at the time it was read and stamped with the time it arrived (see `stamp`).
fn read_sip(callers: Option<&mut CallerPlan>, agents: Option<&mut Agents>, recv: &mut [u8]) {
    if let Some(plan) = callers {
        for _ in 0..READ_BATCH {
            let Ok((n, from, arrived)) = crate::stamp::recv(plan.callers.socket(), recv) else {
                break;
            };
            let Some(data) = recv.get(..n) else { break };
            plan.callers
                .on_datagram(Instant::now(), arrived, data, from);
        }
    }
    if let Some(a) = agents {
        for _ in 0..READ_BATCH {
            let Ok((n, from, arrived)) = crate::stamp::recv(a.socket(), recv) else {
                break;
            };
            let Some(data) = recv.get(..n) else { break };
            a.on_datagram(Instant::now(), arrived, data, from);
        }
    }
}

/// Sleeps until one of `sockets` is readable or `timeout` passes (rounded up to a ms).
fn wait(sockets: &[&UdpSocket], timeout: Duration) {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_micros().div_ceil(1000).min(1000) as libc::c_int;
    // SAFETY: fds is a valid array of fds.len() pollfd structs for the call's duration.
    // Its result is not needed: the sockets are read without blocking either way.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
    }
}

/// Asks for larger socket buffers (best effort): the loop reads SIP between ticks, and a
/// tick with a thousand calls takes a few milliseconds.
pub fn grow_buffers(socket: &UdpSocket, bytes: usize) {
    let size = bytes.min(i32::MAX as usize) as libc::c_int;
    for opt in [libc::SO_RCVBUF, libc::SO_SNDBUF] {
        // SAFETY: a plain setsockopt on a valid fd with a c_int value.
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phases_parts_serve_each_of_its_calls_once_and_no_other() {
        for (index, of) in [(0, 1), (2, 4)] {
            let phase = Phase {
                index,
                of,
                packets: 3,
                drain: false,
            };
            for n in 0..200 {
                let parts = phase.parts(PARTS).filter(|p| p.serves(n)).count();
                assert_eq!(parts, usize::from(phase.serves(n)), "call {n} of {phase:?}");
            }
            assert!(phase.parts(PARTS).all(|p| p.packets == 3 && !p.drain));
        }
    }

    #[test]
    fn the_phases_come_5_ms_apart_and_each_serves_a_quarter_of_the_calls() {
        let t0 = Instant::now();
        let mut phases = Phases::new(t0, 4);
        let step = TICK / 4;
        let mut seen = Vec::new();
        for k in 0..8u32 {
            let now = t0 + step * k;
            let (phase, skipped) = phases.take(now).unwrap();
            assert_eq!((phase.packets, skipped), (1, 0));
            assert!(phases.take(now).is_none(), "one phase per 5 ms");
            seen.push(phase.index);
        }
        assert_eq!(seen, [0, 1, 2, 3, 0, 1, 2, 3]);
        let served: Vec<usize> = (0..12)
            .filter(|&n| {
                Phase {
                    index: 2,
                    of: 4,
                    packets: 1,
                    drain: false,
                }
                .serves(n)
            })
            .collect();
        assert_eq!(served, [2, 6, 10]);
    }

    #[test]
    fn after_a_stall_every_phase_catches_up_what_it_owes() {
        let t0 = Instant::now();
        let mut phases = Phases::new(t0, 4);
        let now = t0 + Duration::from_millis(61);
        let owed: Vec<u32> =
            std::iter::from_fn(|| phases.take(now).map(|(p, _)| p.packets)).collect();
        // Phase 0 was due at 0 ms (owes 0, 20, 40, 60), phase 1 at 5 ms (5, 25, 45) ...
        assert_eq!(owed, [4, 3, 3, 3]);
        assert!(phases.next() > now);
    }

    #[test]
    fn one_phase_is_the_plain_20_ms_tick() {
        let t0 = Instant::now();
        let mut phases = Phases::new(t0, 1);
        let (phase, _) = phases.take(t0).unwrap();
        assert!(phase.serves(0) && phase.serves(7));
        assert!(phases.take(t0 + Duration::from_millis(19)).is_none());
        assert_eq!(phases.take(t0 + TICK).map(|(p, _)| p.packets), Some(1));
    }
}
