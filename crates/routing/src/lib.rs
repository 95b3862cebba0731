//! Which city's agents answer a 12366 call: caller-number normalisation, mobile segment and
//! area-code lookup, and the dialplan that maps them to regions.
//!
//! Pure: no async, no clock, no IO except [`Dialplan::load`] reading its file. The switch
//! loads a [`Dialplan`], builds a [`Router`] once per (re)load, and calls [`Router::route`]
//! per incoming call.

// Caller ids and dialplans come from outside: no input may panic the switch.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![warn(missing_docs)]

mod area_code;
mod check;
mod contact;
pub mod desk;
mod diagnostic;
mod dialplan;
mod ids;
mod number;
mod overload;
pub mod pattern;
pub mod prompt;
mod raw;
mod router;
mod secrets;
mod security;
mod segments;

pub use area_code::AreaCode;
pub use diagnostic::{Diagnostic, Problem};
pub use dialplan::{
    Agent, AgentReach, Credentials, Dialplan, QueueSettings, Region, RegionMode, Scope, Supervisor,
    SwitchConfig, Trunk, TrunkAddress, DEFAULT_OVERFLOW_AFTER_SECS, DEFAULT_RING_TIMEOUT_SECS,
    DEFAULT_WRAP_UP_SECS, STRATEGIES,
};
pub use ids::{AgentId, RegionId};
pub use number::{CallerKind, CallerNumber};
pub use overload::OverloadConfig;
pub use router::{Origin, Route, Router};
pub use secrets::{
    weakness, Role, WeakSecret, WeakUsers, Weakness, DEMO_SECRET_PREFIX, MIN_SECRET_CHARS,
};
pub use security::SecurityConfig;
pub use segments::{AreaPlace, Place, SegmentError, SegmentTable};
