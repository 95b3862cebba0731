//! An agent's phone: registering logs them in, a refresh ends a no-answer pause, a lapse
//! logs them out (after the call), an unreachable phone is never offered calls.

use super::state_tests::{
    ag, all, changed, luoyang, offer, q, run_to, secs, status, stop, talking, wire,
};
use super::*;
use crate::{AgentState, NotReady, StateError};

#[test]
fn registering_logs_in_and_a_refresh_does_not_undo_an_explicit_logout() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &[]);
    acd.add_agent(t0, ag("1003"), q("luoyang"));
    assert_eq!(status(&acd, "1003"), AgentStatus::LoggedOut);
    acd.phone_reachable(t0, &ag("1003"), true);
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
    acd.logout(t0 + secs(10), &ag("1003")).unwrap();
    acd.phone_reachable(t0 + secs(20), &ag("1003"), true);
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::LoggedOut,
        "a refresh is not a login"
    );
    acd.login(t0 + secs(30), &ag("1003")).unwrap();
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
}

#[test]
fn a_refresh_ends_a_no_answer_pause_but_no_other_reason() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    acd.pause(t0, &ag("1003"), NotReady::Lunch).unwrap();
    acd.phone_reachable(t0 + secs(1), &ag("1003"), true);
    assert_eq!(status(&acd, "1003"), AgentStatus::NotReady(NotReady::Lunch));
    acd.pause(t0 + secs(2), &ag("1003"), NotReady::NoAnswer)
        .unwrap();
    acd.phone_reachable(t0 + secs(3), &ag("1003"), true);
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
}

#[test]
fn a_lapse_logs_out_and_withdraws_a_ringing_offer() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1020"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    assert_eq!(wire(&mut acd), [offer(1, "1003")]);
    acd.phone_reachable(t0 + secs(6), &ag("1003"), false);
    assert_eq!(
        wire(&mut acd),
        [
            stop(1, "1003", StopReason::AgentLoggedOut),
            offer(1, "1020")
        ]
    );
    assert_eq!(status(&acd, "1003"), AgentStatus::LoggedOut);
    assert_eq!(
        acd.login(t0 + secs(7), &ag("1003")),
        Err(StateError::PhoneNotReachable)
    );
    acd.phone_reachable(t0 + secs(8), &ag("1003"), true);
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::Available,
        "registering again logs in"
    );
}

#[test]
fn a_lapse_while_talking_logs_out_when_the_call_ends() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.phone_reachable(t0 + secs(5), &ag("1003"), false);
    assert_eq!(status(&acd, "1003"), AgentStatus::Talking(CallRef(1)));
    assert_eq!(
        acd.pause(t0 + secs(6), &ag("1003"), NotReady::Break),
        Err(StateError::NotLoggedIn),
        "logging out already"
    );
    acd.call_ended(t0 + secs(30), &ag("1003"));
    assert_eq!(status(&acd, "1003"), AgentStatus::LoggedOut, "no wrap-up");

    // Registered again before the call ends: as if nothing happened.
    talking_again(&mut acd, t0 + secs(40));
    acd.phone_reachable(t0 + secs(41), &ag("1003"), false);
    acd.phone_reachable(t0 + secs(42), &ag("1003"), true);
    acd.call_ended(t0 + secs(50), &ag("1003"));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::WrapUp {
            until: t0 + secs(70)
        }
    );

    fn talking_again(acd: &mut Acd, now: Instant) {
        acd.phone_reachable(now, &ag("1003"), true);
        talking(acd, now, 2, "1003");
    }
}

#[test]
fn an_agent_whose_phone_is_not_reachable_is_never_offered_calls() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &[]);
    acd.add_agent(t0, ag("1003"), q("luoyang"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    assert_eq!(
        acd.login(t0, &ag("1003")),
        Err(StateError::PhoneNotReachable)
    );
    assert_eq!(acd.ready(t0, &ag("1003")), Err(StateError::NotLoggedIn));
    run_to(&mut acd, t0 + secs(120));
    assert!(wire(&mut acd).is_empty());
    assert_eq!(status(&acd, "1003"), AgentStatus::LoggedOut);
}

#[test]
fn removing_a_ringing_agent_withdraws_the_offer_and_is_recorded() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1020"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    all(&mut acd);
    acd.remove_agent(t0 + secs(6), &ag("1003"));
    assert_eq!(
        all(&mut acd),
        [
            stop(1, "1003", StopReason::AgentLoggedOut),
            changed("1003", AgentState::Ringing, AgentState::LoggedOut, None),
            changed("1020", AgentState::Available, AgentState::Ringing, None),
            offer(1, "1020"),
        ]
    );
    assert_eq!(acd.agent_status(&ag("1003")), None);
}
