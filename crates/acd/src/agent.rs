//! Agents (坐席) and what state they are in.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::call::{CallRef, QueueId};
use crate::later;

/// An agent's number (工号), which is also their SIP user name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub String);

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why an agent is logged in but not taking calls (示忙原因).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotReady {
    /// A short break (小休).
    Break,
    /// Lunch (午餐).
    Lunch,
    /// Training (培训).
    Training,
    /// A meeting (会议).
    Meeting,
    /// Writing up tickets, call-backs and other paperwork (事务处理).
    Paperwork,
    /// Let calls ring out (未接): set by the ACD, ended by the agent, a registration
    /// refresh or the seat's auto-resume time.
    NoAnswer,
}

impl NotReady {
    /// Every reason, in feature-code order.
    pub const ALL: [NotReady; 6] = [
        NotReady::Break,
        NotReady::Lunch,
        NotReady::Training,
        NotReady::Meeting,
        NotReady::Paperwork,
        NotReady::NoAnswer,
    ];

    /// The digit N of the feature code `*24N` that pauses with this reason; `None` for
    /// [`NotReady::NoAnswer`], which only the ACD sets.
    pub fn code(self) -> Option<u8> {
        match self {
            NotReady::Break => Some(1),
            NotReady::Lunch => Some(2),
            NotReady::Training => Some(3),
            NotReady::Meeting => Some(4),
            NotReady::Paperwork => Some(5),
            NotReady::NoAnswer => None,
        }
    }

    /// The reason dialled as `*24N`, if N is one.
    pub fn from_code(n: u8) -> Option<NotReady> {
        NotReady::ALL.into_iter().find(|r| r.code() == Some(n))
    }

    /// The reason's name in records, the CLI and the control socket.
    pub fn as_str(self) -> &'static str {
        match self {
            NotReady::Break => "break",
            NotReady::Lunch => "lunch",
            NotReady::Training => "training",
            NotReady::Meeting => "meeting",
            NotReady::Paperwork => "paperwork",
            NotReady::NoAnswer => "no-answer",
        }
    }
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A not-ready reason name that is none of [`NotReady::as_str`]'s.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown not-ready reason {0:?} (break, lunch, training, meeting, paperwork, no-answer)")]
pub struct UnknownReason(pub String);

impl FromStr for NotReady {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<NotReady, UnknownReason> {
        NotReady::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_string()))
    }
}

/// What an agent is doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentStatus {
    /// Not logged in (or the phone is not reachable).
    LoggedOut,
    /// Free for a call.
    Available,
    /// Their phone is ringing with this call, offered by the ACD.
    Ringing(CallRef),
    /// Their phone is ringing with this call, rung by number outside the ACD (a transfer
    /// or consultation to them): listed and recorded as ringing, but no offer of the ACD's.
    RingingDirectly(CallRef),
    /// On this call.
    Talking(CallRef),
    /// After-call work (话后小结) until `until`, then available by themselves.
    WrapUp {
        /// When the wrap-up time is over.
        until: Instant,
    },
    /// Logged in, not taking calls, for this reason.
    NotReady(NotReady),
}

/// An agent's state without its data, for records and listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentState {
    /// Not logged in.
    LoggedOut,
    /// Free for a call.
    Available,
    /// Their phone is ringing.
    Ringing,
    /// On a call.
    Talking,
    /// After-call work.
    WrapUp,
    /// Logged in, not taking calls.
    NotReady,
}

impl AgentState {
    /// The state's name in the `agent_states` table and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentState::LoggedOut => "logged-out",
            AgentState::Available => "available",
            AgentState::Ringing => "ringing",
            AgentState::Talking => "talking",
            AgentState::WrapUp => "wrap-up",
            AgentState::NotReady => "not-ready",
        }
    }
}

impl fmt::Display for AgentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AgentStatus {
    /// The state without its data.
    pub fn state(&self) -> AgentState {
        match self {
            AgentStatus::LoggedOut => AgentState::LoggedOut,
            AgentStatus::Available => AgentState::Available,
            AgentStatus::Ringing(_) | AgentStatus::RingingDirectly(_) => AgentState::Ringing,
            AgentStatus::Talking(_) => AgentState::Talking,
            AgentStatus::WrapUp { .. } => AgentState::WrapUp,
            AgentStatus::NotReady(_) => AgentState::NotReady,
        }
    }

    /// Why the agent is not ready, if they are not.
    pub fn reason(&self) -> Option<NotReady> {
        match self {
            AgentStatus::NotReady(r) => Some(*r),
            _ => None,
        }
    }
}

/// What happens to an agent when their current call ends, instead of wrap-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterCall {
    /// Logged out (by command or because the phone's registration lapsed) during the call.
    LogOut,
    /// Paused during the call.
    NotReady(NotReady),
}

/// One agent as the ACD sees them.
#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub queue: QueueId,
    pub status: AgentStatus,
    /// When the current state (or not-ready reason) began.
    pub since: Instant,
    /// Whether the phone can be rung (registered, or a static contact).
    pub reachable: bool,
    /// Since when the agent has been free; the longest idle is rung first.
    pub idle_since: Instant,
    /// A logout or pause asked for while talking: applied when the call ends.
    pub after_call: Option<AfterCall>,
    /// A call the ACD did not offer, taken while not ready (a callback during paperwork):
    /// the agent is offered nothing until it ends, even if their pause ends first.
    pub busy_with: Option<CallRef>,
    /// The call their phone rings for outside the ACD (a transfer or consultation to them):
    /// while it rings, an agent who becomes free is ringing, not available.
    pub rings_directly: Option<CallRef>,
    /// For phones that never re-register (static contacts): a no-answer pause ends by
    /// itself after this long.
    pub auto_resume: Option<Duration>,
    /// Skill → level (1 best … 5). An agent with none takes any call at level 1.
    pub skills: HashMap<String, u8>,
    /// Position in the dialplan, for the linear strategy.
    pub order: usize,
    /// Calls answered today.
    pub calls_today: u32,
    /// Talk time of today's finished calls.
    pub talk_today: Duration,
    /// When the current call was answered.
    pub talk_started: Option<Instant>,
    /// Offers let ring out in a row; reset by an answer and by the no-answer pause.
    pub missed_in_row: u32,
}

impl Agent {
    /// A known agent, logged out, whose phone is not reachable yet.
    pub fn new(now: Instant, queue: QueueId) -> Agent {
        Agent {
            queue,
            status: AgentStatus::LoggedOut,
            since: now,
            reachable: false,
            idle_since: now,
            after_call: None,
            busy_with: None,
            rings_directly: None,
            auto_resume: None,
            skills: HashMap::new(),
            order: 0,
            calls_today: 0,
            talk_today: Duration::ZERO,
            talk_started: None,
            missed_in_row: 0,
        }
    }

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

    /// Logged in as far as commands and overflow are concerned: a logout pending at the
    /// end of the call already counts as logged out.
    pub fn is_logged_in(&self) -> bool {
        self.status != AgentStatus::LoggedOut && self.after_call != Some(AfterCall::LogOut)
    }

    /// When the agent becomes available without anyone doing anything: the end of their
    /// wrap-up, or of a no-answer pause on a seat with an auto-resume time.
    pub fn back_by_itself_at(&self) -> Option<Instant> {
        match self.status {
            AgentStatus::WrapUp { until } => Some(until),
            AgentStatus::NotReady(NotReady::NoAnswer) => {
                self.auto_resume.map(|after| later(self.since, after))
            }
            _ => None,
        }
    }

    /// Free, reachable and on no other call: may be offered a call.
    pub fn can_ring(&self) -> bool {
        self.reachable && self.status == AgentStatus::Available && self.busy_with.is_none()
    }
}
