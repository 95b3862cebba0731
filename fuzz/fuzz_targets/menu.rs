//! A voice menu (`[ivr]`, and `[hours]`) through its checks, then one caller through every
//! menu that passed: keys, prompts finishing, timeouts, the queue and agents, as bytes after
//! a NUL. The checker promises that no accepted menu loops without waiting for the caller.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_ivr::raw::RawIvr;
use hotline_ivr::{check_hours, check_menu, Action, Event, HoursState, IvrCall, RawHours};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

/// The two sections of a dialplan the menu crate reads.
#[derive(Deserialize)]
struct Sections {
    ivr: toml::Spanned<RawIvr>,
    hours: Option<RawHours>,
}

/// Prompts the fuzzer may name: a few exist, the rest do not.
fn prompt_exists(name: &str) -> bool {
    !name.contains("missing")
}

fn region_exists(id: &str) -> bool {
    matches!(id, "luoyang" | "centre")
}

fuzz_target!(|data: &[u8]| {
    let (text, events) = match data.iter().position(|b| *b == 0) {
        Some(nul) => (&data[..nul], &data[nul + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(sections) = toml::from_str::<Sections>(text) else {
        return;
    };
    if let Some(hours) = &sections.hours {
        let _ = check_hours(hours);
    }
    let whole = sections.ivr.span();
    let Ok(menu) = check_menu(
        sections.ivr.get_ref(),
        whole,
        &prompt_exists,
        &region_exists,
    ) else {
        return;
    };
    let menu = Arc::new(menu);
    let mut now = Instant::now();
    let hours = match events.first() {
        Some(b) if b % 3 == 1 => HoursState::Closed,
        Some(b) if b % 3 == 2 => HoursState::Rota(Arc::from(vec!["filing".to_string()])),
        _ => HoursState::Open,
    };
    let (mut call, actions) = IvrCall::start(menu, hours, now);
    let mut last_play = last_play_of(&actions, 0);
    for &b in events.iter().skip(1) {
        let event = match b >> 4 {
            0..=5 => Event::Digit(char::from(b"0123456789*#ABCD"[usize::from(b & 15)])),
            6 | 7 => Event::PromptsFinished(last_play.wrapping_add(u32::from(b & 1))),
            8 => Event::RecordingFinished,
            9 | 10 => {
                now += Duration::from_millis(u64::from(b & 15) * 700);
                match call.poll_timeout() {
                    Some(due) if due <= now => Event::Timeout,
                    _ => continue,
                }
            }
            11 => Event::Position(usize::from(b & 15)),
            12 => Event::AgentAnswered(format!("10{:02}", b & 15)),
            13 => Event::AgentHungUp,
            14 => Event::PartyAnswered,
            _ => match b & 3 {
                0 => Event::TransferToQueue(None),
                1 => Event::TransferToQueue(Some("centre".into())),
                _ => Event::TransferToParty,
            },
        };
        let actions = call.handle(event, now);
        assert!(
            actions.len() < 1_000,
            "one event, {} actions",
            actions.len()
        );
        last_play = last_play_of(&actions, last_play);
        let _ = (
            call.is_done(),
            call.is_connected(),
            call.is_before_the_message(),
        );
    }
});

/// The id of the latest play among `actions`, or `before`.
fn last_play_of(actions: &[Action], before: u32) -> u32 {
    actions
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::Play { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap_or(before)
}
