//! Ring-all queues: every free agent of the best skill level rings, the first answer wins,
//! a ring-out counts a miss for everyone.

use super::state_tests::{
    ag, luoyang, offer, q, ring_all, run_to, secs, status, stop, talking, wire,
};
use super::*;
use crate::NotReady;

#[test]
fn ring_all_rings_everyone_and_the_first_answer_wins() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, ring_all(), &["1003", "1020", "1030"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    assert_eq!(
        wire(&mut acd),
        [offer(1, "1003"), offer(1, "1020"), offer(1, "1030")]
    );
    acd.answered(t0 + secs(8), CallRef(1), &ag("1020")).unwrap();
    assert_eq!(
        wire(&mut acd),
        [
            stop(1, "1003", StopReason::AnsweredElsewhere),
            stop(1, "1030", StopReason::AnsweredElsewhere),
        ]
    );
    assert_eq!(status(&acd, "1020"), AgentStatus::Talking(CallRef(1)));
    assert_eq!(
        acd.answered(t0 + secs(9), CallRef(1), &ag("1003")),
        Err(StaleOffer),
        "too late"
    );
    // No miss counted (one miss would set them not ready): both ring for the next call.
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
    assert_eq!(status(&acd, "1030"), AgentStatus::Available);
    acd.call_arrived(t0 + secs(10), CallRef(2), q("luoyang"));
    assert_eq!(wire(&mut acd), [offer(2, "1003"), offer(2, "1030")]);
}

#[test]
fn a_ring_all_call_that_rings_out_counts_a_miss_for_everyone() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, ring_all(), &["1003", "1020"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    wire(&mut acd);
    run_to(&mut acd, t0 + secs(20));
    assert_eq!(
        wire(&mut acd),
        [
            stop(1, "1003", StopReason::RingTimeout),
            stop(1, "1020", StopReason::RingTimeout),
        ]
    );
    for a in ["1003", "1020"] {
        assert_eq!(status(&acd, a), AgentStatus::NotReady(NotReady::NoAnswer));
    }
}

#[test]
fn one_busy_phone_leaves_the_others_ringing_and_a_hang_up_stops_them_all() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, ring_all(), &["1003", "1020", "1030"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    wire(&mut acd);
    acd.offer_failed(t0 + secs(6), CallRef(1), &ag("1003"), OfferOutcome::Busy);
    assert!(wire(&mut acd).is_empty(), "1003 is not rung again at once");
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
    assert_eq!(status(&acd, "1020"), AgentStatus::Ringing(CallRef(1)));
    assert_eq!(acd.abandoned(t0 + secs(9), CallRef(1)), Some(secs(4)));
    assert_eq!(
        wire(&mut acd),
        [
            stop(1, "1020", StopReason::CallerGone),
            stop(1, "1030", StopReason::CallerGone),
        ]
    );
    assert_eq!(status(&acd, "1030"), AgentStatus::Available);
}

#[test]
fn an_agent_who_becomes_free_joins_a_ringing_ring_all_call() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, ring_all(), &["1003", "1020"]);
    talking(&mut acd, t0, 1, "1003");
    wire(&mut acd);
    acd.call_arrived(t0 + secs(5), CallRef(2), q("luoyang"));
    assert_eq!(wire(&mut acd), [offer(2, "1020")]);
    acd.add_agent(t0, ag("1030"), q("luoyang"));
    acd.phone_reachable(t0 + secs(6), &ag("1030"), true);
    assert_eq!(wire(&mut acd), [offer(2, "1030")], "registered: joins");
    acd.call_ended(t0 + secs(7), &ag("1003"));
    acd.ready(t0 + secs(8), &ag("1003")).unwrap();
    assert_eq!(
        wire(&mut acd),
        [offer(2, "1003")],
        "wrap-up over: joins too"
    );
}

#[test]
fn ring_all_rings_only_the_best_skill_level_present() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, ring_all(), &["1003", "1020", "1030"]);
    let skill = |l: u8| [("tax".to_string(), l)];
    acd.set_agent_skills(&ag("1003"), &skill(2), 0);
    acd.set_agent_skills(&ag("1020"), &skill(1), 1);
    acd.set_agent_skills(&ag("1030"), &skill(1), 2);
    acd.call_arrived_for(t0 + secs(5), CallRef(1), q("luoyang"), Some("tax".into()));
    assert_eq!(wire(&mut acd), [offer(1, "1020"), offer(1, "1030")]);
    run_to(&mut acd, t0 + secs(20));
    assert_eq!(
        wire(&mut acd),
        [
            stop(1, "1020", StopReason::RingTimeout),
            stop(1, "1030", StopReason::RingTimeout),
            offer(1, "1003"),
        ],
        "level 2 once level 1 cannot take it"
    );
}

// ---- the record of state changes ----
