//! Helpers shared by the transfer tests: the plan with two Luoyang agents in a fixed order,
//! what the caller heard of each agent, and the call's legs.

use crate::common::audio::{pure_tone, read_wav};
use std::path::PathBuf;

use crate::common::switch::{dialplan, Switch};

/// Luoyang's agents in a fixed order (linear): `first` is always rung first.
pub fn plan(first: (&str, u16), second: (&str, u16)) -> String {
    dialplan(
        &[
            (first.0, "luoyang", first.1),
            (second.0, "luoyang", second.1),
        ],
        15,
        60,
    )
    .replacen(
        "area_codes = [\"0379\"]",
        "area_codes = [\"0379\"]\nstrategy = \"linear\"",
        1,
    )
}

/// Whether each whole second of `samples` is a `freq` Hz tone (speech never is).
pub fn seconds_with(samples: &[i16], freq: f64) -> Vec<bool> {
    samples
        .chunks(8000)
        .map(|s| s.len() == 8000 && pure_tone(s, freq))
        .collect()
}

/// The seconds of what the caller heard (a recording's right channel) that carry the first
/// agent's tone and the second's; the first and last of the first agent's and the first of
/// the second's (panicking with both maps when one is missing).
pub struct AgentsHeard {
    pub first_a: usize,
    pub last_a: usize,
    pub first_b: usize,
    /// Both maps, for failure messages.
    pub maps: String,
}

pub fn agents_heard(right: &[i16], a: f64, b: f64) -> AgentsHeard {
    let (with_a, with_b) = (seconds_with(right, a), seconds_with(right, b));
    let maps = format!("{with_a:?} {with_b:?}");
    let missing = |who: &str| -> usize { panic!("{who} not in the recording: {maps}") };
    let first_a = with_a
        .iter()
        .position(|x| *x)
        .unwrap_or_else(|| missing("the first agent"));
    let first_b = with_b
        .iter()
        .position(|x| *x)
        .unwrap_or_else(|| missing("the second agent"));
    AgentsHeard {
        first_a,
        last_a: with_a.iter().rposition(|x| *x).unwrap_or(first_a),
        first_b,
        maps,
    }
}

/// The call's legs, in order: (party, kind, ended).
pub fn legs(db: &std::path::Path, call_id: &str) -> Vec<(String, String, bool)> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("db");
    let mut stmt = conn
        .prepare(
            "SELECT party, kind, ended_at IS NOT NULL FROM legs WHERE call_id = ?1 ORDER BY seq",
        )
        .expect("legs");
    stmt.query_map([call_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

/// The one ended call's record, its recording, and the second in which `a` stops and `b`
/// starts being heard by the caller.
pub fn assert_both_agents_recorded(switch: &Switch, a: f64, b: f64) -> serde_json::Value {
    let calls = switch.ended_calls();
    let call = calls[0].clone();
    let wav = read_wav(&PathBuf::from(
        call["recording_path"].as_str().expect("recording"),
    ));
    let h = agents_heard(&wav.right, a, b);
    assert!(
        h.first_a < h.first_b,
        "first agent, then second: {}",
        h.maps
    );
    assert!(
        h.last_a <= h.first_b,
        "the first agent is gone once the second speaks: {}",
        h.maps
    );
    assert!(
        seconds_with(&wav.left, 440.0)
            .iter()
            .filter(|x| **x)
            .count()
            >= 5,
        "the caller's side runs through the whole call"
    );
    call
}
