//! Automatic call distribution for hotline, as a pure state machine.
//!
//! The switch tells the [`Acd`] what happened (an agent logged in, a call arrived, a phone
//! answered, rang out or was busy, a caller hung up) together with the current time; the ACD
//! answers with [`Action`]s (ring this agent, stop ringing that one, the call overflowed) and
//! says when it next needs the clock ([`Acd::poll_timeout`]). No IO and no clock of its own,
//! so ring-no-answer and overflow are tested in virtual time.
//!
//! The spine's rules: one queue per region; the longest-idle available agent of the region is
//! rung for the region's ring timeout ("three rings"); an agent who lets a call ring out is
//! paused until they answer a call or log in again; a call overflows to the centre's agents as
//! well when nobody of its region is logged in, or after the region's overflow time.

mod agent;
mod call;
mod engine;
mod strategy;

pub use agent::{AgentId, AgentStatus, PauseReason};
pub use call::{CallRef, QueueId};
pub use engine::{Acd, Action, OfferOutcome, QueueConfig, StaleOffer, StopReason};
pub use strategy::Strategy;
