//! The ACD in virtual time.

use super::*;

fn q(s: &str) -> QueueId {
    QueueId(s.into())
}
fn ag(s: &str) -> AgentId {
    AgentId(s.into())
}

/// Luoyang with two agents, the centre with one; 15 s rings, 60 s overflow.
fn henan(t0: Instant) -> Acd {
    let mut acd = Acd::new();
    acd.set_queue(
        q("luoyang"),
        QueueConfig {
            overflow_to: Some(q("centre")),
            ..QueueConfig::default()
        },
    );
    acd.set_queue(q("centre"), QueueConfig::default());
    acd.add_agent(t0, ag("1003"), q("luoyang"));
    acd.add_agent(t0, ag("1020"), q("luoyang"));
    acd.add_agent(t0, ag("1900"), q("centre"));
    acd
}

fn actions(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action()).collect()
}

fn offer(call: u64, agent: &str) -> Action {
    Action::Offer {
        call: CallRef(call),
        agent: ag(agent),
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Advances to each deadline the ACD asks for, up to `until`.
fn run_to(acd: &mut Acd, until: Instant) {
    while let Some(t) = acd.poll_timeout() {
        if t > until {
            break;
        }
        acd.handle_timeout(t);
    }
}

#[test]
fn caller_from_luoyang_rings_the_longest_idle_luoyang_agent() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1020"));
    acd.login(t0 + secs(5), &ag("1003"));
    acd.call_arrived(t0 + secs(10), CallRef(1), q("luoyang"));
    assert_eq!(actions(&mut acd), [offer(1, "1020")]);
    assert_eq!(
        acd.agent_status(&ag("1020")),
        Some(&AgentStatus::Ringing(CallRef(1)))
    );
    acd.answered(t0 + secs(12), CallRef(1), &ag("1020"))
        .unwrap();
    assert_eq!(
        acd.agent_status(&ag("1020")),
        Some(&AgentStatus::Talking(CallRef(1)))
    );
    assert_eq!(acd.waiting(&q("luoyang")), 0);
}

#[test]
fn an_agent_who_lets_it_ring_out_is_paused_and_the_next_agent_rings() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.login(t0 + secs(1), &ag("1020"));
    acd.call_arrived(t0 + secs(2), CallRef(1), q("luoyang"));
    assert_eq!(actions(&mut acd), [offer(1, "1003")]);
    assert_eq!(acd.poll_timeout(), Some(t0 + secs(17)), "three rings: 15 s");
    run_to(&mut acd, t0 + secs(17));
    assert_eq!(
        actions(&mut acd),
        [
            Action::StopRinging {
                call: CallRef(1),
                agent: ag("1003"),
                reason: StopReason::RingTimeout
            },
            offer(1, "1020")
        ]
    );
    assert_eq!(
        acd.agent_status(&ag("1003")),
        Some(&AgentStatus::Paused(PauseReason::NoAnswer))
    );
    // The paused agent is back when they register again.
    acd.login(t0 + secs(20), &ag("1003"));
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::Available));
}

#[test]
fn a_static_seat_that_rang_out_is_back_after_its_auto_resume_time() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.set_auto_resume(&ag("1003"), Some(secs(60)));
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(15));
    assert_eq!(
        acd.agent_status(&ag("1003")),
        Some(&AgentStatus::Paused(PauseReason::NoAnswer))
    );
    acd.abandoned(t0 + secs(20), CallRef(1));
    assert_eq!(acd.poll_timeout(), Some(t0 + secs(75)));
    run_to(&mut acd, t0 + secs(75));
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::Available));
}

#[test]
fn a_call_that_rang_out_everywhere_does_not_ask_for_the_clock_in_the_past() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(40));
    // 1003 is paused, nobody else is free: the only deadline left is the overflow.
    let next = acd.poll_timeout().unwrap();
    assert!(next > t0 + secs(40), "deadline {next:?} must lie ahead");
    assert_eq!(next, t0 + secs(60));
}

#[test]
fn absurd_durations_do_not_overflow_the_clock() {
    let t0 = Instant::now();
    let mut acd = Acd::new();
    acd.set_queue(
        q("luoyang"),
        QueueConfig {
            ring_timeout: Duration::MAX,
            overflow_after: Duration::MAX,
            overflow_to: Some(q("centre")),
            ..QueueConfig::default()
        },
    );
    acd.add_agent(t0, ag("1003"), q("luoyang"));
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    assert!(acd.poll_timeout().is_some());
}

#[test]
fn a_caller_learns_how_many_are_ahead_in_the_same_queue() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.call_arrived(t0 + secs(1), CallRef(2), q("centre"));
    acd.call_arrived(t0 + secs(2), CallRef(3), q("luoyang"));
    assert_eq!(acd.position(CallRef(1)), Some(0));
    assert_eq!(acd.position(CallRef(3)), Some(1));
    assert_eq!(acd.position(CallRef(2)), Some(0));
    acd.abandoned(t0 + secs(3), CallRef(1));
    assert_eq!(acd.position(CallRef(3)), Some(0));
    assert_eq!(acd.position(CallRef(1)), None);
}

#[test]
fn nobody_of_the_region_logged_in_sends_the_call_to_the_centre_at_once() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1900"));
    acd.call_arrived(t0, CallRef(7), q("luoyang"));
    assert_eq!(
        actions(&mut acd),
        [
            Action::Overflowed {
                call: CallRef(7),
                to: q("centre")
            },
            offer(7, "1900")
        ]
    );
}

#[test]
fn a_call_waiting_past_the_overflow_time_goes_to_the_centre_as_well() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.login(t0, &ag("1900"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.call_arrived(t0 + secs(1), CallRef(2), q("luoyang"));
    assert_eq!(actions(&mut acd), [offer(1, "1003")]);
    acd.answered(t0 + secs(3), CallRef(1), &ag("1003")).unwrap();
    run_to(&mut acd, t0 + secs(60));
    assert!(
        actions(&mut acd).is_empty(),
        "call 2 still waits for Luoyang"
    );
    run_to(&mut acd, t0 + secs(61));
    assert_eq!(
        actions(&mut acd),
        [
            Action::Overflowed {
                call: CallRef(2),
                to: q("centre")
            },
            offer(2, "1900")
        ]
    );
}

#[test]
fn a_caller_who_hangs_up_while_ringing_stops_the_phone_and_is_abandoned() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    actions(&mut acd);
    assert_eq!(acd.abandoned(t0 + secs(9), CallRef(1)), Some(secs(9)));
    assert_eq!(
        actions(&mut acd),
        [Action::StopRinging {
            call: CallRef(1),
            agent: ag("1003"),
            reason: StopReason::CallerGone
        }]
    );
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::Available));
    assert_eq!(acd.poll_timeout(), None);
}

#[test]
fn a_busy_agent_is_not_rung_again_for_the_same_call_at_once() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    actions(&mut acd);
    acd.offer_failed(t0 + secs(1), CallRef(1), &ag("1003"), OfferOutcome::Busy);
    assert!(actions(&mut acd).is_empty());
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::Available));
    run_to(&mut acd, t0 + secs(16));
    assert_eq!(
        actions(&mut acd),
        [offer(1, "1003")],
        "tried again after a ring timeout"
    );
}

#[test]
fn an_answer_after_the_offer_was_withdrawn_is_stale() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(15));
    actions(&mut acd);
    assert_eq!(
        acd.answered(t0 + secs(15), CallRef(1), &ag("1003")),
        Err(StaleOffer)
    );
}

#[test]
fn an_agent_freed_by_a_hang_up_takes_the_next_waiting_call() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.call_arrived(t0, CallRef(2), q("luoyang"));
    actions(&mut acd);
    acd.answered(t0 + secs(1), CallRef(1), &ag("1003")).unwrap();
    acd.call_ended(t0 + secs(30), &ag("1003"));
    assert_eq!(actions(&mut acd), [offer(2, "1003")]);
}

#[test]
fn logging_out_while_talking_takes_effect_after_the_call() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.login(t0, &ag("1003"));
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.answered(t0, CallRef(1), &ag("1003")).unwrap();
    acd.logout(t0 + secs(1), &ag("1003"));
    assert_eq!(
        acd.agent_status(&ag("1003")),
        Some(&AgentStatus::Talking(CallRef(1)))
    );
    acd.call_ended(t0 + secs(2), &ag("1003"));
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::LoggedOut));
}

mod props {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::Strategy;

    #[derive(Debug, Clone)]
    enum Ev {
        Login(usize),
        Logout(usize),
        Arrive,
        Answer(usize),
        Fail(usize, u8),
        End(usize),
        Abandon(u64),
        Tick(u64),
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            (0..4usize).prop_map(Ev::Login),
            (0..4usize).prop_map(Ev::Logout),
            Just(Ev::Arrive),
            (0..4usize).prop_map(Ev::Answer),
            (0..4usize, 0..3u8).prop_map(|(a, o)| Ev::Fail(a, o)),
            (0..4usize).prop_map(Ev::End),
            (0..10u64).prop_map(Ev::Abandon),
            (0..40u64).prop_map(Ev::Tick),
        ]
    }

    proptest! {
        #[test]
        fn offers_go_only_to_available_agents_one_call_at_a_time(evs in prop::collection::vec(ev(), 1..80)) {
            let agents = ["1003", "1020", "1900", "1901"];
            let t0 = Instant::now();
            let mut acd = henan(t0);
            acd.add_agent(t0, ag("1901"), q("centre"));
            let mut now = t0;
            let mut next_call = 0;
            let mut ringing: HashMap<AgentId, CallRef> = HashMap::new();
            for e in evs {
                // Snapshot who is available before the event, to check the offers it causes.
                let available: Vec<AgentId> = agents.iter().map(|a| ag(a))
                    .filter(|a| acd.agent_status(a) == Some(&AgentStatus::Available)).collect();
                match e {
                    Ev::Login(i) => acd.login(now, &ag(agents[i])),
                    Ev::Logout(i) => acd.logout(now, &ag(agents[i])),
                    Ev::Arrive => { next_call += 1; acd.call_arrived(now, CallRef(next_call), q(if next_call % 3 == 0 { "centre" } else { "luoyang" })); }
                    Ev::Answer(i) => { if let Some(c) = ringing.get(&ag(agents[i])).copied() { let _ = acd.answered(now, c, &ag(agents[i])); } }
                    Ev::Fail(i, o) => { if let Some(c) = ringing.get(&ag(agents[i])).copied() {
                        let o = [OfferOutcome::NoAnswer, OfferOutcome::Busy, OfferOutcome::Failed][o as usize];
                        acd.offer_failed(now, c, &ag(agents[i]), o); } }
                    Ev::End(i) => acd.call_ended(now, &ag(agents[i])),
                    Ev::Abandon(c) => { acd.abandoned(now, CallRef(c)); }
                    Ev::Tick(s) => { now += Duration::from_secs(s); acd.handle_timeout(now); }
                }
                let mut offered_calls = Vec::new();
                for a in actions(&mut acd) {
                    if let Action::Offer { call, agent } = a {
                        prop_assert!(!offered_calls.contains(&call), "call offered twice at once");
                        offered_calls.push(call);
                        prop_assert!(available.contains(&agent) || matches!(e, Ev::Login(_) | Ev::End(_) | Ev::Fail(..) | Ev::Tick(_) | Ev::Abandon(_)),
                            "offer to an agent who was not available");
                        prop_assert_eq!(acd.agent_status(&agent), Some(&AgentStatus::Ringing(call)));
                    }
                }
                ringing.clear();
                let mut calls_ringing = Vec::new();
                for a in agents {
                    if let Some(AgentStatus::Ringing(c)) = acd.agent_status(&ag(a)) {
                        prop_assert!(!calls_ringing.contains(c), "one call rings two agents");
                        calls_ringing.push(*c);
                        ringing.insert(ag(a), *c);
                    }
                }
            }
        }
    }
}
