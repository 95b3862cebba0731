//! What the machine says for the log, as notes: each about the call it concerns (by the id
//! of the call's record and recording), brakes always said, floods said in few lines.

mod kit;

use std::time::Duration;

use hotline_b2bua::{About, Level};
use kit::{dialplan, requests, response, Kit, Phone};

fn texts(kit: &Kit, about: &About) -> Vec<String> {
    kit.notes
        .iter()
        .filter(|n| &n.about == about)
        .map(|n| n.text.clone())
        .collect()
}

#[test]
fn a_calls_notes_carry_its_id_from_the_offer_to_the_end() {
    let mut kit = Kit::new(&dialplan(&[("1003", "luoyang", 5070)], 15));
    let caller = Phone::new("037961234567", 6000);
    let agent = Phone::new("1003", 5070);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let invite = requests(&kit.take_sent_to(agent.addr), "INVITE")[0].clone();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.advance(Duration::from_secs(5));
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));

    let records = kit.records();
    let id = records[0].call_id.clone();
    let said = texts(&kit, &About::Call(id));
    let first = said.first().expect("notes about the call");
    assert!(
        first.starts_with("call offered caller=037961234567"),
        "{said:?}"
    );
    for step in [
        "ringing party=1003",
        "agent answered; call bridged",
        "call ended",
    ] {
        assert!(said.iter().any(|t| t.contains(step)), "{step}: {said:?}");
    }
    assert!(
        said.last().is_some_and(|t| t.starts_with("call ended")),
        "{said:?}"
    );
    kit.assert_idle_after_all();
}

#[test]
fn a_flood_of_garbage_is_said_in_ten_lines_a_second_and_the_rest_counted() {
    let mut kit = Kit::new(&dialplan(&[("1003", "luoyang", 5070)], 15));
    let stranger = Phone::new("0", 6666);
    for _ in 0..500 {
        kit.deliver(stranger.addr, "\u{1}\u{2}garbage\r\n\r\n");
    }
    let dropped = |kit: &Kit| -> Vec<String> {
        kit.notes
            .iter()
            .filter(|n| n.level == Level::Warn && n.text.starts_with("unparseable message dropped"))
            .map(|n| n.text.clone())
            .collect()
    };
    assert_eq!(dropped(&kit).len(), 10, "{:?}", dropped(&kit));
    kit.advance(Duration::from_secs(1));
    kit.deliver(stranger.addr, "\u{1}\u{2}garbage\r\n\r\n");
    let said = dropped(&kit);
    assert!(
        said.last().is_some_and(|t| t.ends_with("held_back=490")),
        "the next line counts what was held back: {said:?}"
    );
    let malformed = kit.core.board().malformed;
    assert_eq!((malformed.dropped, malformed.answered_400), (501, 0));
}

#[test]
fn notes_below_the_wanted_level_are_not_made() {
    let mut kit = Kit::build(
        &dialplan(&[("1003", "luoyang", 5070)], 15),
        None,
        Level::Warn,
    );
    let caller = Phone::new("037961234567", 6000);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    kit.deliver(caller.addr, &caller.cancel("z9hG4bK-c1"));
    kit.deliver(caller.addr, "\u{1}garbage\r\n\r\n");
    assert!(
        kit.notes.iter().all(|n| n.level == Level::Warn),
        "{:?}",
        kit.notes
    );
    assert_eq!(
        kit.notes.len(),
        1,
        "the garbage is still said: {:?}",
        kit.notes
    );
}
