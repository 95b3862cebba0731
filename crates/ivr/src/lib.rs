//! The voice menu (IVR) of the 12366 hotline, pure: no IO, no clock of its own.
//!
//! [`menu`] is the menu tree as the dialplan describes it and [`check`] validates it;
//! [`machine`] runs one caller through it: events in (answered, digit, prompts finished,
//! timeout, agent answered, agent hung up), actions out (play, queue, record, hang up);
//! [`hours`] says whether the hotline is open at a given local time.

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

pub mod check;
pub mod hours;
pub mod machine;
pub mod menu;
pub mod raw;

pub use check::{check_menu, MenuProblem};
pub use hours::{check_hours, Hours, HoursState, RawHours, Schedule};
pub use machine::{Action, Event, IvrCall};
pub use menu::{Menu, Node, NodeId, NodeKind, PromptId};
