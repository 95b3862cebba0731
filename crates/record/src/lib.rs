//! Everything a call leaves behind: its [`CallId`], its stereo WAV recording and its row in
//! the call store.
//!
//! Blocking work (file and SQLite writes) runs on dedicated threads fed by bounded channels,
//! so the async switch never waits on a disk.
//!
//! Written by hand: the recordings' 44-byte WAV header and appends (`recorder::wav_file`),
//! since hound's `WavWriter` keeps a sample buffer in every open file (24 MB at 5,000
//! calls); hound still reads them back in the tests and writes voicemail.

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
#![warn(missing_docs)]

mod call_id;
mod error;
mod fsmode;
mod recorder;
mod store;
pub mod thread_nice;

pub use call_id::{CallId, CallIdError};
pub use error::RecordError;
pub use recorder::{
    recording_file, Channel, Recorder, Recording, DEFAULT_MIN_FREE_DISK, SAMPLE_RATE, VOICEMAIL_DIR,
};
/// Hand-on cases (转办单): opened, chased, closed.
pub use store::find_call;
/// A quarter hour in milliseconds: the seat time's bucket.
pub use store::SEAT_QUARTER_MS;
pub use store::{chase_case, close_case, list_cases, open_case, Case, NewCase};
/// The web console's users: roles, scopes and password hashes.
pub use store::{find_user, list_users, remove_user, save_user, Role, User};
pub use store::{
    list_agent_states, list_agent_states_between, list_callbacks, list_calls, list_calls_between,
    list_handed_on_legs_between, list_latest_states, list_legs, list_legs_between, list_monitoring,
    list_seat_days_between, list_seat_quarters_between, list_security_events,
    list_summaries_between, AbandonStage, AgentStateChange, CallLeg, CallRecord, CallStore,
    CallSummary, Callback, CallbackKind, Direction, HungUpBy, MonitorUse, Outcome, SeatColumn,
    SeatDay, SeatMillis, SeatQuarter, SeatState, SeatTime, SecurityEvent, StoreWrite, UnknownWord,
};
/// Agents' summaries of their calls (来电小结).
pub use store::{list_call_notes, list_calls_of_caller, save_call_note, CallNote};

/// The spot checks of recordings (抽检): draws, samples, reviews and their audit chain.
pub use store::qa;
