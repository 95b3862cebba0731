//! Agent states in virtual time: wrap-up and not-ready reasons, with the helpers the other
//! state tests share (the listing and the long day are `day_tests.rs`).

use super::*;
use crate::{AgentState, NotReady, StateError};

pub(super) fn q(s: &str) -> QueueId {
    QueueId(s.into())
}
pub(super) fn ag(s: &str) -> AgentId {
    AgentId(s.into())
}
pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Luoyang with `cfg` and the agents registering one second apart in the given order (so
/// the first is the longest idle); the registration's actions are drained.
pub(super) fn luoyang(t0: Instant, cfg: QueueConfig, agents: &[&str]) -> Acd {
    let mut acd = Acd::new();
    acd.set_queue(q("luoyang"), cfg);
    for (i, a) in agents.iter().enumerate() {
        acd.add_agent(t0, ag(a), q("luoyang"));
        acd.phone_reachable(t0 + secs(i as u64), &ag(a), true);
    }
    all(&mut acd);
    acd
}

pub(super) fn ring_all() -> QueueConfig {
    QueueConfig {
        strategy: Strategy::RingAll,
        ..QueueConfig::default()
    }
}

pub(super) fn all(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action()).collect()
}

/// Drains the actions; returns those for the switch's wire, leaving out the state records.
pub(super) fn wire(acd: &mut Acd) -> Vec<Action> {
    all(acd)
        .into_iter()
        .filter(|a| !matches!(a, Action::AgentChanged { .. }))
        .collect()
}

/// Drains the actions; returns only the state records.
pub(super) fn changes(acd: &mut Acd) -> Vec<Action> {
    all(acd)
        .into_iter()
        .filter(|a| matches!(a, Action::AgentChanged { .. }))
        .collect()
}

pub(super) fn changed(
    agent: &str,
    from: AgentState,
    to: AgentState,
    reason: Option<NotReady>,
) -> Action {
    Action::AgentChanged {
        agent: ag(agent),
        from,
        to,
        reason,
    }
}

pub(super) fn offer(call: u64, agent: &str) -> Action {
    Action::Offer {
        call: CallRef(call),
        agent: ag(agent),
    }
}

pub(super) fn stop(call: u64, agent: &str, reason: StopReason) -> Action {
    Action::StopRinging {
        call: CallRef(call),
        agent: ag(agent),
        reason,
    }
}

pub(super) fn status(acd: &Acd, agent: &str) -> AgentStatus {
    acd.agent_status(&ag(agent))
        .cloned()
        .expect("a known agent")
}

/// Advances to each deadline the ACD asks for, up to `until`.
pub(super) fn run_to(acd: &mut Acd, until: Instant) {
    while let Some(t) = acd.poll_timeout() {
        if t > until {
            break;
        }
        acd.handle_timeout(t);
    }
}

/// Rings `agent` with a new call and has them answer at `now`.
pub(super) fn talking(acd: &mut Acd, now: Instant, call: u64, agent: &str) {
    acd.call_arrived(now, CallRef(call), q("luoyang"));
    acd.answered(now, CallRef(call), &ag(agent))
        .expect("the agent was ringing");
    all(acd);
}

// ---- wrap-up ----

#[test]
fn wrap_up_lasts_twenty_seconds_by_default_and_ends_by_itself() {
    let t0 = Instant::now();
    assert_eq!(QueueConfig::default().wrap_up, secs(20));
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0 + secs(10), 1, "1003");
    acd.call_ended(t0 + secs(70), &ag("1003"));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::WrapUp {
            until: t0 + secs(90)
        }
    );
    assert_eq!(
        changes(&mut acd),
        [changed(
            "1003",
            AgentState::Talking,
            AgentState::WrapUp,
            None
        )]
    );
    acd.call_arrived(t0 + secs(75), CallRef(2), q("luoyang"));
    assert!(wire(&mut acd).is_empty(), "no call during wrap-up");
    assert_eq!(
        acd.poll_timeout(),
        Some(t0 + secs(90)),
        "the ACD wakes to end it"
    );
    run_to(&mut acd, t0 + secs(90));
    assert_eq!(
        all(&mut acd),
        [
            changed("1003", AgentState::WrapUp, AgentState::Available, None),
            changed("1003", AgentState::Available, AgentState::Ringing, None),
            offer(2, "1003"),
        ]
    );
}

#[test]
fn ready_ends_wrap_up_early() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.call_ended(t0 + secs(30), &ag("1003"));
    acd.call_arrived(t0 + secs(31), CallRef(2), q("luoyang"));
    assert!(wire(&mut acd).is_empty());
    assert_eq!(acd.ready(t0 + secs(35), &ag("1003")), Ok(()));
    assert_eq!(wire(&mut acd), [offer(2, "1003")]);
}

#[test]
fn no_wrap_up_time_means_available_at_once() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        wrap_up: Duration::ZERO,
        ..QueueConfig::default()
    };
    let mut acd = luoyang(t0, cfg, &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.call_arrived(t0 + secs(1), CallRef(2), q("luoyang"));
    acd.call_ended(t0 + secs(30), &ag("1003"));
    assert_eq!(
        all(&mut acd),
        [
            changed("1003", AgentState::Talking, AgentState::Available, None),
            changed("1003", AgentState::Available, AgentState::Ringing, None),
            offer(2, "1003"),
        ]
    );
}

#[test]
fn an_overflow_call_ends_in_the_wrap_up_of_the_agents_own_queue() {
    let t0 = Instant::now();
    let mut acd = Acd::new();
    acd.set_queue(
        q("luoyang"),
        QueueConfig {
            overflow_to: Some(q("centre")),
            wrap_up: Duration::ZERO,
            ..QueueConfig::default()
        },
    );
    acd.set_queue(
        q("centre"),
        QueueConfig {
            wrap_up: secs(45),
            ..QueueConfig::default()
        },
    );
    acd.add_agent(t0, ag("1900"), q("centre"));
    acd.phone_reachable(t0, &ag("1900"), true);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.answered(t0 + secs(2), CallRef(1), &ag("1900")).unwrap();
    acd.call_ended(t0 + secs(10), &ag("1900"));
    assert_eq!(
        status(&acd, "1900"),
        AgentStatus::WrapUp {
            until: t0 + secs(55)
        }
    );
}

// ---- not ready ----

#[test]
fn each_reason_pauses_the_agent_who_is_then_skipped_until_ready() {
    let t0 = Instant::now();
    for (n, reason) in NotReady::ALL.into_iter().enumerate() {
        let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1020"]);
        assert_eq!(acd.pause(t0 + secs(5), &ag("1003"), reason), Ok(()));
        assert_eq!(status(&acd, "1003"), AgentStatus::NotReady(reason));
        assert_eq!(
            changes(&mut acd),
            [changed(
                "1003",
                AgentState::Available,
                AgentState::NotReady,
                Some(reason)
            )]
        );
        let call = n as u64 + 1;
        acd.call_arrived(t0 + secs(6), CallRef(call), q("luoyang"));
        assert_eq!(
            wire(&mut acd),
            [offer(call, "1020")],
            "{reason}: the longer idle 1003 is skipped"
        );
        assert_eq!(acd.ready(t0 + secs(7), &ag("1003")), Ok(()));
        assert_eq!(status(&acd, "1003"), AgentStatus::Available);
    }
}

#[test]
fn a_new_reason_is_a_change_and_the_same_reason_is_not() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    acd.pause(t0, &ag("1003"), NotReady::Meeting).unwrap();
    acd.pause(t0 + secs(1), &ag("1003"), NotReady::Meeting)
        .unwrap();
    acd.pause(t0 + secs(2), &ag("1003"), NotReady::Lunch)
        .unwrap();
    assert_eq!(
        changes(&mut acd),
        [
            changed(
                "1003",
                AgentState::Available,
                AgentState::NotReady,
                Some(NotReady::Meeting)
            ),
            changed(
                "1003",
                AgentState::NotReady,
                AgentState::NotReady,
                Some(NotReady::Lunch)
            ),
        ]
    );
    assert_eq!(acd.agents()[0].since, t0 + secs(2), "lunch began at +2 s");
}

#[test]
fn pausing_while_ringing_offers_the_call_to_the_next_agent() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003", "1020"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    assert_eq!(wire(&mut acd), [offer(1, "1003")]);
    acd.pause(t0 + secs(7), &ag("1003"), NotReady::Break)
        .unwrap();
    assert_eq!(
        wire(&mut acd),
        [stop(1, "1003", StopReason::AgentPaused), offer(1, "1020")]
    );
    assert_eq!(status(&acd, "1003"), AgentStatus::NotReady(NotReady::Break));
    assert_eq!(
        acd.answered(t0 + secs(8), CallRef(1), &ag("1003")),
        Err(StaleOffer)
    );
}

#[test]
fn pausing_while_talking_applies_at_hang_up_instead_of_wrap_up() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.pause(t0 + secs(10), &ag("1003"), NotReady::Paperwork)
        .unwrap();
    assert_eq!(status(&acd, "1003"), AgentStatus::Talking(CallRef(1)));
    assert!(changes(&mut acd).is_empty(), "nothing changes yet");
    acd.call_ended(t0 + secs(60), &ag("1003"));
    assert_eq!(
        changes(&mut acd),
        [changed(
            "1003",
            AgentState::Talking,
            AgentState::NotReady,
            Some(NotReady::Paperwork)
        )]
    );
    assert_eq!(acd.poll_timeout(), None, "no wrap-up to end");
}

#[test]
fn ready_during_the_call_cancels_a_pending_pause() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.pause(t0 + secs(1), &ag("1003"), NotReady::Lunch)
        .unwrap();
    acd.ready(t0 + secs(2), &ag("1003")).unwrap();
    acd.call_ended(t0 + secs(3), &ag("1003"));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::WrapUp {
            until: t0 + secs(23)
        }
    );
}

#[test]
fn commands_say_why_they_were_refused() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &[]);
    let nobody = ag("9999");
    assert_eq!(acd.login(t0, &nobody), Err(StateError::UnknownAgent));
    assert_eq!(acd.logout(t0, &nobody), Err(StateError::UnknownAgent));
    assert_eq!(acd.ready(t0, &nobody), Err(StateError::UnknownAgent));
    assert_eq!(
        acd.pause(t0, &nobody, NotReady::Break),
        Err(StateError::UnknownAgent)
    );

    acd.add_agent(t0, ag("1003"), q("luoyang"));
    assert_eq!(
        acd.login(t0, &ag("1003")),
        Err(StateError::PhoneNotReachable),
        "a phone that cannot ring cannot log in"
    );
    assert_eq!(acd.ready(t0, &ag("1003")), Err(StateError::NotLoggedIn));
    assert_eq!(
        acd.pause(t0, &ag("1003"), NotReady::Break),
        Err(StateError::NotLoggedIn)
    );
    assert_eq!(
        acd.logout(t0, &ag("1003")),
        Ok(()),
        "logged out already is fine"
    );
    assert!(changes(&mut acd).is_empty());
    assert_eq!(
        StateError::PhoneNotReachable.to_string(),
        "the agent's phone is not registered"
    );
}

#[test]
fn not_ready_feature_codes_and_names_round_trip() {
    for reason in NotReady::ALL {
        match reason.code() {
            Some(n) => assert_eq!(NotReady::from_code(n), Some(reason)),
            None => assert_eq!(reason, NotReady::NoAnswer, "only no-answer has no code"),
        }
        assert_eq!(reason.as_str().parse(), Ok(reason));
        assert_eq!(reason.to_string(), reason.as_str());
    }
    let codes: Vec<Option<NotReady>> = (0..=9).map(NotReady::from_code).collect();
    assert_eq!(
        codes,
        [
            None,
            Some(NotReady::Break),
            Some(NotReady::Lunch),
            Some(NotReady::Training),
            Some(NotReady::Meeting),
            Some(NotReady::Paperwork),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!("no-answer".parse(), Ok(NotReady::NoAnswer));
    assert!("nap".parse::<NotReady>().is_err());
    assert!("Lunch".parse::<NotReady>().is_err(), "names are lower case");
    let states = [
        AgentStatus::LoggedOut,
        AgentStatus::Available,
        AgentStatus::Ringing(CallRef(1)),
        AgentStatus::Talking(CallRef(1)),
        AgentStatus::WrapUp {
            until: Instant::now(),
        },
        AgentStatus::NotReady(NotReady::Lunch),
    ];
    let names: Vec<&str> = states.iter().map(|s| s.state().as_str()).collect();
    assert_eq!(
        names,
        [
            "logged-out",
            "available",
            "ringing",
            "talking",
            "wrap-up",
            "not-ready"
        ]
    );
    let reasons: Vec<Option<NotReady>> = states.iter().map(AgentStatus::reason).collect();
    assert_eq!(reasons[5], Some(NotReady::Lunch));
    assert!(reasons[..5].iter().all(Option::is_none));
}

#[test]
fn the_queues_number_of_missed_calls_sets_the_agent_not_ready_for_no_answer() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        missed_before_pause: 2,
        ..QueueConfig::default()
    };
    let mut acd = luoyang(t0, cfg, &["1003"]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(20));
    assert_eq!(status(&acd, "1003"), AgentStatus::Available, "one miss");
    run_to(&mut acd, t0 + secs(35));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::Ringing(CallRef(1)),
        "rung again after a ring timeout"
    );
    run_to(&mut acd, t0 + secs(50));
    assert_eq!(
        status(&acd, "1003"),
        AgentStatus::NotReady(NotReady::NoAnswer)
    );
    assert!(changes(&mut acd).contains(&changed(
        "1003",
        AgentState::Ringing,
        AgentState::NotReady,
        Some(NotReady::NoAnswer)
    )));
    // Back, the count starts again: one more miss does not set them not ready at once.
    acd.ready(t0 + secs(55), &ag("1003")).unwrap();
    run_to(&mut acd, t0 + secs(65));
    assert_eq!(status(&acd, "1003"), AgentStatus::Ringing(CallRef(1)));
    run_to(&mut acd, t0 + secs(80));
    assert_eq!(status(&acd, "1003"), AgentStatus::Available);
}
