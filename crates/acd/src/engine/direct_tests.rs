//! The agents' calls the ACD did not offer: calls out, consultations, transfers rung by
//! number, attended transfers; what they do to the agent's state and to the offers.

use super::state_tests::{
    ag, all, changed, changes, luoyang, offer, q, secs, status, talking, wire,
};
use super::*;
use crate::{AgentBusy, AgentState, NotReady};

#[test]
fn an_agent_on_a_call_the_acd_did_not_offer_gets_no_offer_and_wraps_up_after_it() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1019"]);
    // 1003 calls a taxpayer back: busy on that call.
    acd.on_call(t0 + secs(2), &ag("1003"), CallRef(90)).unwrap();
    assert_eq!(status(&acd, "1003"), AgentStatus::Talking(CallRef(90)));
    acd.call_arrived(t0 + secs(3), CallRef(1), q("luoyang"));
    assert_eq!(wire(&mut acd), [offer(1, "1019")]);
    acd.call_ended(t0 + secs(60), &ag("1003"));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::WrapUp {
            until: t0 + secs(80)
        }
    );
    // A not-ready agent may call out and stays not ready; a logged-out one may not.
    acd.pause(t0 + secs(61), &ag("1003"), NotReady::Paperwork)
        .unwrap();
    acd.on_call(t0 + secs(62), &ag("1003"), CallRef(91))
        .unwrap();
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::NotReady(NotReady::Paperwork)
    );
    // Ready again while still on that call: nothing is offered until it ends.
    acd.ready(t0 + secs(63), &ag("1003")).unwrap();
    all(&mut acd);
    acd.call_arrived(t0 + secs(63), CallRef(2), q("luoyang"));
    assert!(
        !wire(&mut acd).contains(&offer(2, "1003")),
        "busy with call 91"
    );
    assert_eq!(acd.busy_with(&ag("1003")), Some(CallRef(91)));
    acd.call_ended(t0 + secs(70), &ag("1003"));
    assert_eq!(acd.busy_with(&ag("1003")), None);
    let talk = |acd: &Acd| {
        acd.agents()
            .into_iter()
            .find(|v| v.id == ag("1003"))
            .map(|v| v.talk_today)
    };
    assert_eq!(
        talk(&acd),
        Some(secs(58 + 8)),
        "both calls out count as talk time"
    );
    acd.logout(t0 + secs(93), &ag("1003")).unwrap();
    assert_eq!(
        acd.on_call(t0 + secs(94), &ag("1003"), CallRef(92)),
        Err(StateError::NotLoggedIn)
    );
}

#[test]
fn a_not_ready_agent_who_calls_out_while_rung_by_a_colleague_is_on_their_call_out() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1019"]);
    acd.pause(t0, &ag("1003"), NotReady::Meeting).unwrap();
    acd.ring_directly(t0 + secs(1), &ag("1003"), CallRef(93))
        .unwrap();
    // While the colleague's consultation rings, 1003 calls a taxpayer back.
    acd.on_call(t0 + secs(2), &ag("1003"), CallRef(94)).unwrap();
    acd.ready(t0 + secs(3), &ag("1003")).unwrap();
    acd.check_invariants().unwrap();
    assert_ne!(
        status(&acd, "1003"),
        AgentStatus::RingingDirectly(CallRef(93)),
        "the pause's end does not turn into a ring for the colleague's call"
    );
    acd.direct_ring_ended(t0 + secs(31), &ag("1003"), CallRef(93));
    assert_eq!(acd.busy_with(&ag("1003")), Some(CallRef(94)));
    acd.call_arrived(t0 + secs(32), CallRef(5), q("luoyang"));
    assert!(
        !wire(&mut acd).contains(&offer(5, "1003")),
        "still on the call out"
    );
    acd.call_ended(t0 + secs(60), &ag("1003"));
    assert_eq!(acd.busy_with(&ag("1003")), None);
    acd.check_invariants().unwrap();
}

#[test]
fn a_phone_rung_for_a_transfer_is_offered_nothing_until_it_stops_or_is_answered() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1019"]);
    // A transfer rings 1019 by number; a taxpayer queued meanwhile waits for someone else.
    acd.ring_directly(t0, &ag("1019"), CallRef(90)).unwrap();
    assert_eq!(
        status(&acd, "1019"),
        AgentStatus::RingingDirectly(CallRef(90))
    );
    assert_eq!(
        changes(&mut acd),
        [changed(
            "1019",
            AgentState::Available,
            AgentState::Ringing,
            None
        )],
        "listed and recorded as ringing"
    );
    talking(&mut acd, t0 + secs(2), 1, "1003");
    acd.call_arrived(t0 + secs(3), CallRef(2), q("luoyang"));
    assert_eq!(wire(&mut acd), [], "1019's phone rings for the transfer");
    // It rings out: the waiting taxpayer is offered to 1019 at once.
    acd.direct_ring_ended(t0 + secs(18), &ag("1019"), CallRef(90));
    assert_eq!(wire(&mut acd), [offer(2, "1019")]);
    // A phone ringing with an offer, or on a call, is not rung for a transfer.
    assert_eq!(
        acd.ring_directly(t0 + secs(19), &ag("1019"), CallRef(91)),
        Err(AgentBusy)
    );
    assert_eq!(
        acd.ring_directly(t0 + secs(19), &ag("1003"), CallRef(91)),
        Err(AgentBusy)
    );
    // Answered: on the transfer like any call, wrap-up after it.
    acd.call_ended(t0 + secs(30), &ag("1003"));
    acd.ready(t0 + secs(31), &ag("1003")).unwrap();
    acd.ring_directly(t0 + secs(32), &ag("1003"), CallRef(91))
        .unwrap();
    assert_eq!(
        acd.ring_directly(t0 + secs(33), &ag("1003"), CallRef(92)),
        Err(AgentBusy),
        "one transfer at a time"
    );
    acd.on_call(t0 + secs(35), &ag("1003"), CallRef(91))
        .unwrap();
    assert_eq!(status(&acd, "1003"), AgentStatus::Talking(CallRef(91)));
    acd.direct_ring_ended(t0 + secs(36), &ag("1003"), CallRef(91));
    assert_eq!(
        acd.busy_with(&ag("1003")),
        Some(CallRef(91)),
        "still talking"
    );
    acd.call_ended(t0 + secs(90), &ag("1003"));
    assert!(matches!(status(&acd, "1003"), AgentStatus::WrapUp { .. }));
    // An agent not ready (a meeting) may be rung by a colleague, and stays not ready.
    acd.pause(t0 + secs(91), &ag("1003"), NotReady::Meeting)
        .unwrap();
    acd.ring_directly(t0 + secs(91), &ag("1003"), CallRef(93))
        .unwrap();
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::NotReady(NotReady::Meeting)
    );
    acd.ready(t0 + secs(92), &ag("1003")).unwrap();
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::RingingDirectly(CallRef(93)),
        "back from the meeting to a ringing phone"
    );
    acd.call_arrived(t0 + secs(92), CallRef(3), q("luoyang"));
    assert!(!wire(&mut acd).contains(&offer(3, "1003")), "still ringing");
    acd.direct_ring_ended(t0 + secs(95), &ag("1003"), CallRef(93));
    assert_eq!(wire(&mut acd), [offer(3, "1003")]);
    // Someone the dialplan does not know is not the ACD's to track.
    assert_eq!(
        acd.ring_directly(t0 + secs(96), &ag("8000"), CallRef(94)),
        Ok(())
    );
}

/// Luoyang's 1003 (the longest idle) and 1019; a transfer rings 1003 and ends unanswered,
/// turned down when `declined`; the call goes back to the queue: who it is offered to.
fn offered_after_a_transfer_to_1003(declined: bool) -> Vec<Action> {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1019"]);
    acd.ring_directly(t0 + secs(5), &ag("1003"), CallRef(90))
        .unwrap();
    if declined {
        acd.direct_ring_declined(t0 + secs(7), &ag("1003"), CallRef(90));
    } else {
        acd.direct_ring_ended(t0 + secs(7), &ag("1003"), CallRef(90));
    }
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
    acd.call_arrived(t0 + secs(8), CallRef(90), q("luoyang"));
    wire(&mut acd)
}

#[test]
fn a_transfer_that_rings_out_keeps_the_agents_place_and_one_turned_down_does_not() {
    assert_eq!(
        offered_after_a_transfer_to_1003(false),
        [offer(90, "1003")],
        "still the longest idle"
    );
    assert_eq!(
        offered_after_a_transfer_to_1003(true),
        [offer(90, "1019")],
        "the declined transfer, back in the queue, goes to the other agent"
    );
}

#[test]
fn a_call_that_only_rang_an_agent_ends_with_them_available() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1019"]);
    acd.ring_directly(t0 + secs(22), &ag("1019"), CallRef(91))
        .unwrap();
    acd.call_ended(t0 + secs(23), &ag("1019"));
    assert_eq!(status(&acd, "1019"), AgentStatus::Available);
    assert_eq!(acd.busy_with(&ag("1019")), None);
}

#[test]
fn an_attended_transfer_moves_the_consulted_agent_onto_the_callers_call() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1019"]);
    talking(&mut acd, t0, 1, "1003");
    // 1003 consults 1019 (call 90), then joins them to the caller's call 1.
    acd.ring_directly(t0, &ag("1019"), CallRef(90)).unwrap();
    acd.on_call(t0 + secs(5), &ag("1019"), CallRef(90)).unwrap();
    all(&mut acd);
    acd.call_moved(&ag("1019"), CallRef(90), CallRef(1));
    acd.call_ended(t0 + secs(20), &ag("1003"));
    assert_eq!(status(&acd, "1019"), AgentStatus::Talking(CallRef(1)));
    assert_eq!(acd.busy_with(&ag("1019")), Some(CallRef(1)));
    assert_eq!(
        changes(&mut acd).len(),
        1,
        "only 1003's wrap-up is a change"
    );
    acd.call_ended(t0 + secs(60), &ag("1019"));
    assert!(matches!(status(&acd, "1019"), AgentStatus::WrapUp { .. }));
    assert_eq!(acd.busy_with(&ag("1019")), None);
}
