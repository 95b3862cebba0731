//! The media of every call, summed as each call's media stops: for `/metrics` (RTP relayed,
//! played, dropped as hostile or useless, lost on the way). Relaxed atomics, shared by the
//! tasks that stop calls and the console's scrapes.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::relay::BridgeStats;

/// Sums of [`BridgeStats`] over the calls whose media has stopped.
#[derive(Debug, Default)]
pub struct MediaTotals {
    relayed: AtomicU64,
    played: AtomicU64,
    dropped: AtomicU64,
    lost: AtomicU64,
}

impl MediaTotals {
    /// Adds one call's media.
    pub fn add(&self, s: &BridgeStats) {
        let relayed = s.caller_to_agent.packets + s.agent_to_caller.packets + s.supervisor.packets;
        self.relayed.fetch_add(relayed, Ordering::Relaxed);
        self.played.fetch_add(s.played.packets, Ordering::Relaxed);
        self.dropped.fetch_add(s.dropped, Ordering::Relaxed);
        self.lost.fetch_add(s.lost, Ordering::Relaxed);
    }

    /// RTP packets sent between the parties (and to supervisors).
    pub fn relayed(&self) -> u64 {
        self.relayed.load(Ordering::Relaxed)
    }

    /// RTP packets of prompts and music the switch sent.
    pub fn played(&self) -> u64 {
        self.played.load(Ordering::Relaxed)
    }

    /// Datagrams not relayed: RTCP, strangers, malformed, unknown payloads.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// RTP packets lost before they reached the switch.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }
}
