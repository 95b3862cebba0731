//! Keys typed ahead, in virtual time: pressed while a node only plays, taken by the next menu.

use std::sync::Arc;

use super::tests::{menu_of, p, plays, secs, Run, MENU};
use super::*;
use crate::check::check_menu;
use crate::hours::HoursState;
use crate::raw::RawIvr;

fn entered(actions: &[Action], node: &str) -> bool {
    actions.contains(&Action::Entered(NodeId(Arc::from(node))))
}

fn queued_for_any_agent(actions: &[Action]) -> bool {
    actions.contains(&Action::Queue {
        skill: None,
        region: None,
    })
}

/// The test menu with `barge_in = true` on the welcome.
fn welcome_with_barge_in() -> String {
    MENU.replacen(
        "play = [\"welcome\"]\nnext = \"main\"",
        "play = [\"welcome\"]\nnext = \"main\"\nbarge_in = true",
        1,
    )
}

/// The test menu with the information node leading to `node` instead of back to the menu.
fn information_then(node: &str) -> String {
    MENU.replacen(
        "play = [\"self-service\"]\nnext = \"main\"",
        &format!("play = [\"self-service\"]\nnext = \"{node}\""),
        1,
    )
}

#[test]
fn a_caller_who_presses_0_during_the_welcome_is_queued_for_an_agent_as_it_ends() {
    let (mut r, _) = Run::start(HoursState::Open);
    let a = r.ev(Event::Digit('0'));
    assert!(a.is_empty(), "the welcome plays to its end: {a:?}");
    let a = r.finish_prompts();
    assert!(entered(&a, "main") && entered(&a, "agent"), "{a:?}");
    assert!(queued_for_any_agent(&a), "{a:?}");
    assert_eq!(plays(&a).0, p(&["moh"]), "no main menu prompt: {a:?}");
}

#[test]
fn a_welcome_with_barge_in_ends_at_the_key_and_the_caller_is_queued_at_once() {
    let (mut r, _) = Run::start_on(menu_of(&welcome_with_barge_in()), HoursState::Open);
    let a = r.ev(Event::Digit('0'));
    assert_eq!(a.first(), Some(&Action::StopPlaying), "{a:?}");
    assert!(queued_for_any_agent(&a), "{a:?}");
    assert_eq!(plays(&a).0, p(&["moh"]));
}

#[test]
fn an_invalid_key_during_the_welcome_is_answered_as_in_the_menu() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.ev(Event::Digit('7'));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["invalid", "main-menu"]));
    r.finish_prompts();
    let a = r.ev(Event::Digit('1'));
    assert!(
        entered(&a, "filing"),
        "the menu takes keys as before: {a:?}"
    );
}

#[test]
fn keys_typed_ahead_are_taken_in_the_order_pressed() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.ev(Event::Digit('7'));
    r.ev(Event::Digit('4'));
    let a = r.finish_prompts();
    assert!(
        a.contains(&Action::Queue {
            skill: Some("complaints".into()),
            region: Some("centre".into())
        }),
        "7 is invalid, 4 answers the menu's retry: {a:?}"
    );
    assert_eq!(plays(&a).0, p(&["moh"]), "nothing left to hear: {a:?}");
}

#[test]
fn a_key_during_information_carries_into_the_menu_it_returns_to() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    let a = r.ev(Event::Digit('9'));
    assert_eq!(plays(&a).0, p(&["self-service"]));
    assert!(r.ev(Event::Digit('1')).is_empty());
    let a = r.finish_prompts();
    assert!(entered(&a, "filing"), "{a:?}");
    assert!(!plays(&a).0.contains(&PromptId::new("main-menu")));
}

#[test]
fn the_key_that_chose_in_a_menu_is_not_taken_again_by_the_next_menu() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('9'));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["main-menu"]), "back to the menu: {a:?}");
    assert!(!entered(&a, "info"), "9 counted once: {a:?}");
}

#[test]
fn a_barge_in_node_is_skipped_by_a_key_typed_ahead_before_it() {
    let text = MENU
        .replacen(
            "play = [\"welcome\"]\nnext = \"main\"",
            "play = [\"welcome\"]\nnext = \"info\"",
            1,
        )
        .replacen(
            "play = [\"self-service\"]\nnext = \"main\"",
            "play = [\"self-service\"]\nnext = \"main\"\nbarge_in = true",
            1,
        );
    let (mut r, _) = Run::start_on(menu_of(&text), HoursState::Open);
    r.ev(Event::Digit('0'));
    let a = r.finish_prompts();
    assert!(entered(&a, "info") && queued_for_any_agent(&a), "{a:?}");
    assert_eq!(plays(&a).0, p(&["moh"]), "information skipped: {a:?}");
}

#[test]
fn a_key_typed_ahead_is_not_the_first_digit_of_a_callback_number() {
    let (mut r, _) = Run::start_on(menu_of(&information_then("callback")), HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('9'));
    r.ev(Event::Digit('5'));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["callback-enter"]));
    for d in "139#".chars() {
        r.ev(Event::Digit(d));
    }
    let a = r.ev(Event::Digit('1'));
    assert!(a.contains(&Action::SaveCallback("139".into())), "{a:?}");
}

#[test]
fn a_hash_typed_ahead_does_not_end_the_voicemail_before_it_starts() {
    let (mut r, _) = Run::start_on(menu_of(&information_then("voicemail")), HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('9'));
    r.ev(Event::Digit('#'));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["voicemail"]));
    let a = r.finish_prompts();
    assert!(
        matches!(a.as_slice(), [Action::RecordVoicemail { .. }]),
        "{a:?}"
    );
    assert!(!r.call.is_done() && !r.call.is_before_the_message());
}

#[test]
fn keys_past_the_buffer_are_dropped() {
    let (mut r, _) = Run::start(HoursState::Open);
    // Four 9s fill the buffer: information four times over; the 1 after them is dropped.
    for k in "99991".chars() {
        r.ev(Event::Digit(k));
    }
    for _ in 0..4 {
        let a = r.finish_prompts();
        assert_eq!(plays(&a).0, p(&["self-service"]), "{a:?}");
    }
    let a = r.finish_prompts();
    assert_eq!(
        plays(&a).0,
        p(&["main-menu"]),
        "the 1 did not choose filing: {a:?}"
    );
}

#[test]
fn barge_in_on_a_node_that_is_not_a_play_node_is_reported() {
    let text = MENU.replacen("retries = 3\n", "retries = 3\nbarge_in = true\n", 1);
    let raw: RawIvr = toml::from_str(&text).unwrap();
    let err = check_menu(&raw, 0..0, &|_| true, &|r| r == "centre").unwrap_err();
    assert!(
        err.iter().any(|e| e.message.contains("barge_in")),
        "{err:?}"
    );
}

#[test]
fn a_key_typed_ahead_of_a_queue_is_forgotten_there() {
    // Information leads to the filing queue, whose longest wait leads back to the menu.
    let text = information_then("filing").replacen(
        "max_wait_secs = 300\nnext = \"callback\"",
        "max_wait_secs = 300\nnext = \"main\"",
        1,
    );
    let (mut r, _) = Run::start_on(menu_of(&text), HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('9'));
    r.ev(Event::Digit('4'));
    let a = r.finish_prompts();
    assert!(entered(&a, "filing"), "{a:?}");
    let a = r.wait(secs(300));
    assert!(a.contains(&Action::LeaveQueue), "{a:?}");
    assert_eq!(
        plays(&a).0,
        p(&["main-menu"]),
        "the 4 pressed minutes ago does not choose complaints: {a:?}"
    );
}
