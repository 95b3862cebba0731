//! The RFC 3261 timers, named as in the RFC, and their scheduling entries.

use std::cmp::Ordering;
use std::time::{Duration, Instant};

use super::TxId;

/// T1, T2 and T4 of RFC 3261 (table 4); tests may shrink them.
#[derive(Debug, Clone, Copy)]
pub struct TimerConfig {
    /// RTT estimate (500 ms).
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses (4 s).
    pub t2: Duration,
    /// How long a message may stay in the network (5 s).
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Every timer a transaction may run; each transaction keeps one deadline per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// INVITE request retransmit (client, unreliable).
    A,
    /// INVITE transaction timeout (client).
    B,
    /// Wait for response retransmissions after a non-2xx (client INVITE).
    D,
    /// Non-INVITE request retransmit (client, unreliable).
    E,
    /// Non-INVITE transaction timeout (client).
    F,
    /// INVITE final response retransmit (server, unreliable).
    G,
    /// Wait for ACK (server INVITE).
    H,
    /// Absorb ACK retransmissions (server INVITE).
    I,
    /// Absorb request retransmissions (server non-INVITE).
    J,
    /// Absorb response retransmissions (client non-INVITE).
    K,
    /// Linger in Accepted passing 2xx retransmissions on (RFC 6026, server INVITE).
    L,
    /// Linger in Accepted passing 2xx retransmissions on (RFC 6026, client INVITE).
    M,
}

/// One armed deadline in the endpoint's heap; stale entries are skipped lazily.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Scheduled {
    pub at: Instant,
    pub tx: TxId,
    pub timer: Timer,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap and we want the earliest deadline on top.
        other
            .at
            .cmp(&self.at)
            .then_with(|| other.tx.cmp(&self.tx))
            .then_with(|| other.timer.cmp(&self.timer))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A transaction's deadlines, one slot per timer kind.
#[derive(Debug, Default, Clone)]
pub(super) struct Deadlines([Option<Instant>; 12]);

impl Deadlines {
    fn slot(t: Timer) -> usize {
        t as usize
    }
    pub fn get(&self, t: Timer) -> Option<Instant> {
        self.0.get(Self::slot(t)).copied().flatten()
    }
    pub fn set(&mut self, t: Timer, at: Instant) {
        if let Some(s) = self.0.get_mut(Self::slot(t)) {
            *s = Some(at);
        }
    }
    pub fn clear(&mut self, t: Timer) {
        if let Some(s) = self.0.get_mut(Self::slot(t)) {
            *s = None;
        }
    }
    pub fn clear_all(&mut self) {
        self.0 = [None; 12];
    }
}
