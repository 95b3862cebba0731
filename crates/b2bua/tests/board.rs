//! The live board the wallboard shows: callers waiting per region and since when, agents by
//! state, as the machine sees them.

mod kit;

use std::time::Duration;

use kit::{dialplan, requests, response, Kit, Phone};

#[test]
fn the_board_shows_a_waiting_caller_then_the_agent_talking() {
    let mut kit = Kit::new(&dialplan(&[("1003", "luoyang", 5070)], 15));
    let caller = Phone::new("037961234567", 6000);
    let agent = Phone::new("1003", 5070);
    let luoyang = |kit: &Kit| {
        let board = kit.core.board();
        board
            .regions
            .into_iter()
            .find(|r| r.region == "luoyang")
            .expect("luoyang is on the board")
    };
    assert_eq!(luoyang(&kit).waiting, 0);
    assert_eq!(luoyang(&kit).agents.get("available"), Some(&1));

    let arrived = kit.wall();
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    kit.advance(Duration::from_secs(3));
    let waiting = luoyang(&kit);
    assert_eq!(waiting.waiting, 1);
    assert_eq!(
        waiting.oldest_since,
        Some(arrived),
        "the wait is counted from the arrival"
    );
    assert_eq!(waiting.agents.get("ringing"), Some(&1));
    assert_eq!(kit.core.board().calls.get("waiting"), Some(&1));
    let pop = waiting.seats[0]
        .call
        .as_ref()
        .expect("the ringing call pops up");
    assert_eq!(pop.caller, "037961234567");
    assert_eq!(pop.region.as_deref(), Some("luoyang"));
    assert_eq!(
        kit.core.board(),
        kit.core.board(),
        "nothing changed: the same board"
    );

    let invite = requests(&kit.take_sent_to(agent.addr), "INVITE")[0].clone();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    let talking = luoyang(&kit);
    assert_eq!((talking.waiting, talking.oldest_since), (0, None));
    assert_eq!(talking.agents.get("talking"), Some(&1));
    let calls = kit.core.board().calls;
    assert_eq!(
        (calls.get("talking"), calls.get("waiting")),
        (Some(&1), None)
    );
    let names: Vec<String> = kit
        .core
        .board()
        .regions
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert!(names.contains(&"洛阳".to_string()), "{names:?}");
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert!(kit.core.board().calls.is_empty());
    kit.assert_idle_after_all();
}
