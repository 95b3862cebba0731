//! Calls waiting in queues.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Instant;

use crate::agent::AgentId;

/// A queue's name: in the spine, the region id (`luoyang`, `centre`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QueueId(pub String);

impl fmt::Display for QueueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The switch's handle for a call in the ACD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallRef(pub u64);

/// A call waiting for an agent.
#[derive(Debug, Clone)]
pub(crate) struct WaitingCall {
    pub queue: QueueId,
    pub arrived: Instant,
    /// Set once the call may also go to the centre's agents.
    pub overflowed: bool,
    /// The agents ringing now, each until when: at most one, except with ring-all.
    pub ringing: BTreeMap<AgentId, Instant>,
    /// Agents already tried, and when: not rung again for this call until a ring timeout has passed.
    pub tried: HashMap<AgentId, Instant>,
    /// The business skill the caller asked for.
    pub skill: Option<String>,
    /// Set once agents of every skill level may take the call.
    pub widened: bool,
}
