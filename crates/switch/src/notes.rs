//! The machine's notes as log lines, each in the span of the call or phone it is about, so
//! every line of a call carries its id (`call{id=…}`) as the machine's own lines once did.

use hotline_b2bua::{About, Level, Note};
use tracing::{debug, info, info_span, warn, Span};

/// The lowest level of note the installed logger writes for the machine, so the machine
/// formats no note that would be thrown away.
pub(crate) fn wanted() -> Level {
    if tracing::enabled!(target: "hotline::call", tracing::Level::DEBUG) {
        Level::Debug
    } else if tracing::enabled!(target: "hotline::call", tracing::Level::INFO) {
        Level::Info
    } else {
        Level::Warn
    }
}

/// Writes one note.
pub(crate) fn log(note: Note) {
    let span = match &note.about {
        About::Switch => Span::none(),
        About::Call(id) => info_span!(target: "hotline::call", "call", %id),
        About::Phone { user, session } => {
            info_span!(target: "hotline::call", "phone", %user, session)
        }
    };
    let _entered = span.enter();
    let text = note.text;
    match note.level {
        Level::Debug => debug!(target: "hotline::call", "{text}"),
        Level::Info => info!(target: "hotline::call", "{text}"),
        Level::Warn => warn!(target: "hotline::call", "{text}"),
    }
}
