//! Agents (坐席) and what state they are in.

use std::fmt;
use std::time::Instant;

use crate::call::{CallRef, QueueId};

/// An agent's number (工号), which is also their SIP user name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub String);

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an agent is logged in but not taking calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    /// Let a call ring out: back on answering a call or logging in again.
    NoAnswer,
}

/// What an agent is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentStatus {
    /// Not registered and no static contact.
    LoggedOut,
    /// Free for a call.
    Available,
    /// Their phone is ringing with this call.
    Ringing(CallRef),
    /// On this call.
    Talking(CallRef),
    /// Logged in, not taking calls.
    Paused(PauseReason),
}

/// One agent as the ACD sees them.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub queue: QueueId,
    pub status: AgentStatus,
    /// Since when the agent has been free; the longest idle is rung first.
    pub idle_since: Instant,
    /// Logged out while talking: takes effect when the call ends.
    pub logout_pending: bool,
    /// When the current pause began.
    pub paused_at: Instant,
    /// For phones that never re-register (static contacts): a no-answer pause ends by
    /// itself after this long.
    pub auto_resume: Option<std::time::Duration>,
    /// Skill → level (1 best … 5). An agent with none takes any call at level 1.
    pub skills: std::collections::HashMap<String, u8>,
    /// Position in the dialplan, for the linear strategy.
    pub order: usize,
    /// Calls answered today.
    pub calls_today: u32,
    /// Talk time of today's finished calls.
    pub talk_today: std::time::Duration,
    /// When the current call was answered.
    pub talk_started: Option<Instant>,
    /// Offers let ring out in a row; reset by an answer.
    pub missed_in_row: u32,
}

impl Agent {
    /// The level at which the agent takes a call of `skill`, if at all.
    pub fn level_for(&self, skill: Option<&str>) -> Option<u8> {
        if self.skills.is_empty() {
            return Some(1);
        }
        match skill {
            Some(s) => self.skills.get(s).copied(),
            // A call with no skill asked for goes to anyone, at their best level.
            None => self.skills.values().copied().min(),
        }
    }
}

impl Agent {
    pub fn is_logged_in(&self) -> bool {
        self.status != AgentStatus::LoggedOut
    }
}
