//! Automatic call distribution for hotline, as a pure state machine.
//!
//! The switch tells the [`Acd`] what happened (a phone registered or lapsed, an agent logged
//! in or set themselves not ready, a call arrived, a phone answered, rang out or was busy, a
//! caller hung up) together with the current time; the ACD answers with [`Action`]s (ring
//! this agent, stop ringing that one, the call overflowed, this agent's state changed) and
//! says when it next needs the clock ([`Acd::poll_timeout`]). No IO and no clock of its own,
//! so ring-no-answer, wrap-up and overflow are tested in virtual time.
//!
//! # Agent states
//!
//! An agent is [`LoggedOut`](AgentStatus::LoggedOut), [`Available`](AgentStatus::Available),
//! [`Ringing`](AgentStatus::Ringing) with an offer or
//! [`RingingDirectly`](AgentStatus::RingingDirectly) for a transfer or consultation to them
//! by number, [`Talking`](AgentStatus::Talking), in
//! [`WrapUp`](AgentStatus::WrapUp) or [`NotReady`](AgentStatus::NotReady) with a reason
//! ([`NotReady`]: break, lunch, training, meeting, paperwork — feature codes `*241`…`*245` —
//! or no-answer, which only the ACD sets). Only available agents whose phone is reachable
//! are offered calls.
//!
//! Presence and session are separate: [`Acd::phone_reachable`] says whether the phone can be
//! rung (registered, or a static contact). A phone becoming reachable logs the agent in; a
//! lapse logs them out (after the call if talking); a registration refresh only ends a
//! no-answer pause. [`Acd::login`], [`Acd::logout`], [`Acd::ready`] and [`Acd::pause`] are
//! the agent's and operator's commands and say why they were refused ([`StateError`]). A
//! pause or logout asked for during a call applies when the call ends.
//!
//! Every change of an agent's state or not-ready reason is reported as
//! [`Action::AgentChanged`], for the `agent_states` table; [`Acd::agents`] lists every agent
//! with the time their state began.
//!
//! # Wrap-up
//!
//! When a call ends the agent has their queue's [`QueueConfig::wrap_up`] (话后小结, 20 s by
//! default, zero for none) for after-call work, then is available by themselves, or earlier
//! with [`Acd::ready`]. No call is offered during wrap-up.
//!
//! # Distribution
//!
//! One queue per region. Among the queue's free agents with the call's skill, the best skill
//! level goes first (only the queue's first levels until the call has waited its widening
//! time); the queue's [`Strategy`] chooses among them (longest idle by default). The chosen
//! agent rings for the queue's ring timeout ("three rings"); an agent who lets the queue's
//! number of calls in a row ring out is set not ready (no-answer). A call overflows to the
//! centre's agents as well when nobody of its region is logged in, or after the region's
//! overflow time.
//!
//! With [`Strategy::RingAll`] every free agent of the best level rings at once (one
//! [`Action::Offer`] each); agents of that level or better who become free while the call
//! rings join in. The first to answer takes the call and the others are stopped with
//! [`StopReason::AnsweredElsewhere`], with no miss counted; on the ring timeout every agent
//! still ringing counts a miss. With every other strategy at most one agent rings per call,
//! and no agent ever rings for two calls.

// Everything here handles what came from the network, a file or the CLI: nothing may panic.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod agent;
mod call;
mod engine;
mod strategy;
#[cfg(test)]
mod testkit;

use std::time::{Duration, Instant};

pub use agent::{AgentId, AgentState, AgentStatus, NotReady, UnknownReason};
pub use call::{CallRef, QueueId};
pub use engine::{
    Acd, Action, AgentBusy, AgentView, OfferOutcome, QueueConfig, StaleOffer, StateError,
    StopReason,
};
pub use strategy::Strategy;

/// `at + d`, saturating far in the future instead of overflowing on absurd durations.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(Duration::from_secs(86_400 * 365)))
        .unwrap_or(at)
}
