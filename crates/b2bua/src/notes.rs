//! What the machine has to say, as outputs: the edge turns each [`Note`] into a log line in
//! the span of the call or phone it is about, so the machine needs no logger and a test can
//! read what an operator would (every brake, every refusal) without capturing logs.

use hotline_record::CallId;

use crate::out::{Output, Outputs};

/// How much a note matters, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// For someone tracing one message through the switch.
    Debug,
    /// What happened to a call, a phone or the plan.
    Info,
    /// Something refused, lost, held back or misconfigured: the operator should look.
    Warn,
}

/// Whom a note is about, which the edge makes the log line's span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum About {
    /// The switch as a whole (the plan, registrations, the brakes, malformed messages).
    Switch,
    /// One call, by the id of its record and recording.
    Call(CallId),
    /// A call an agent's or supervisor's phone made to the switch itself.
    Phone {
        /// The phone's user.
        user: String,
        /// The session's number.
        session: u64,
    },
}

/// One thing worth a log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// How much it matters.
    pub level: Level,
    /// Whom it is about.
    pub about: About,
    /// The line, with its details as `name=value` after the words.
    pub text: String,
}

/// Where the machine's notes go, and the lowest level wanted: below it a note is not even
/// formatted, so debug notes cost nothing on a switch logging at info.
#[derive(Debug, Clone)]
pub(crate) struct Notes {
    out: Outputs,
    from: Level,
}

impl Default for Notes {
    /// Warnings only, into a queue of their own: for a part used alone, as in its tests.
    fn default() -> Notes {
        Notes::new(Outputs::default(), Level::Warn)
    }
}

impl Notes {
    /// Notes from `from` up, queued among `out`.
    pub(crate) fn new(out: Outputs, from: Level) -> Notes {
        Notes { out, from }
    }

    /// Whether a note of this level is wanted.
    pub(crate) fn wants(&self, level: Level) -> bool {
        level >= self.from
    }

    /// Queues a note.
    pub(crate) fn push(&self, level: Level, about: About, text: String) {
        self.out.push(Output::Note(Note { level, about, text }));
    }
}

/// Queues a note if its level is wanted, formatting it only then:
/// `note!(self.notes, Info, About::Switch, "agent registered agent={}", agent)`.
macro_rules! note {
    ($notes:expr, $level:ident, $about:expr, $($text:tt)+) => {{
        let notes: &$crate::notes::Notes = &$notes;
        if notes.wants($crate::notes::Level::$level) {
            notes.push($crate::notes::Level::$level, $about, format!($($text)+));
        }
    }};
}
pub(crate) use note;
