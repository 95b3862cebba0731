//! The reports a 12366 centre runs on, and the spot checks of recordings its rules ask
//! for: pure functions over the rows the switch stores (call records, legs, agent states,
//! callbacks), in Beijing time, with no clock of their own (the period is an argument) and
//! no IO (the CLI, and later the web console, read the rows and print what comes back).

// Reports read what the switch stored and what the operator typed: nothing may panic.
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

pub mod abandoned;
pub mod agents;
pub mod build;
pub mod erlang;
pub mod facts;
pub mod intervals;
pub mod mask;
pub mod origins;
pub mod period;
pub mod qa;
pub mod service;
pub mod staffing;
pub mod table;
pub mod topics;

pub use abandoned::abandoned;
pub use agents::{agents, SeatSource};
pub use intervals::intervals;
pub use mask::mask_number;
pub use origins::origins;
pub use period::{beijing, Period, PeriodError};
pub use service::service;
pub use staffing::Staffing;
pub use table::{Column, Report, Row, Value};
pub use topics::topics;

#[cfg(test)]
mod reports_tests;
