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

/// What the switch must do on the wire, leaving out the state-change records.
fn actions(acd: &mut Acd) -> Vec<Action> {
    std::iter::from_fn(|| acd.poll_action())
        .filter(|a| !matches!(a, Action::AgentChanged { .. }))
        .collect()
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
    acd.phone_reachable(t0, &ag("1020"), true);
    acd.phone_reachable(t0 + secs(5), &ag("1003"), true);
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
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.phone_reachable(t0 + secs(1), &ag("1020"), true);
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
        Some(&AgentStatus::NotReady(NotReady::NoAnswer))
    );
    // The paused agent is back when their phone refreshes its registration.
    acd.phone_reachable(t0 + secs(20), &ag("1003"), true);
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::Available));
}

#[test]
fn a_static_seat_that_rang_out_is_back_after_its_auto_resume_time() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.set_auto_resume(&ag("1003"), Some(secs(60)));
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(15));
    assert_eq!(
        acd.agent_status(&ag("1003")),
        Some(&AgentStatus::NotReady(NotReady::NoAnswer))
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
    acd.phone_reachable(t0, &ag("1003"), true);
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
    acd.phone_reachable(t0, &ag("1003"), true);
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
    acd.phone_reachable(t0, &ag("1900"), true);
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
fn nobody_of_the_region_with_the_skill_sends_the_call_to_the_centre_at_once() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.set_agent_skills(&ag("1003"), &[("filing".into(), 1)], 0);
    acd.set_agent_skills(&ag("1020"), &[("filing".into(), 2)], 1);
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.phone_reachable(t0, &ag("1020"), true);
    acd.phone_reachable(t0, &ag("1900"), true);
    actions(&mut acd);
    acd.call_arrived_for(t0, CallRef(8), q("luoyang"), Some("invoices".into()));
    let a: Vec<Action> = actions(&mut acd)
        .into_iter()
        .filter(|a| !matches!(a, Action::AgentChanged { .. }))
        .collect();
    assert_eq!(
        a,
        [
            Action::Overflowed {
                call: CallRef(8),
                to: q("centre")
            },
            offer(8, "1900")
        ]
    );
    // A filing call stays in Luoyang, with the best level first.
    acd.call_arrived_for(t0, CallRef(9), q("luoyang"), Some("filing".into()));
    assert!(actions(&mut acd).contains(&offer(9, "1003")));
}

#[test]
fn a_call_waiting_past_the_overflow_time_goes_to_the_centre_as_well() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.phone_reachable(t0, &ag("1900"), true);
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
    acd.phone_reachable(t0, &ag("1003"), true);
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
    acd.phone_reachable(t0, &ag("1003"), true);
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
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    run_to(&mut acd, t0 + secs(15));
    actions(&mut acd);
    assert_eq!(
        acd.answered(t0 + secs(15), CallRef(1), &ag("1003")),
        Err(StaleOffer)
    );
}

#[test]
fn an_agent_freed_by_a_hang_up_takes_the_next_waiting_call_after_wrap_up() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.call_arrived(t0, CallRef(2), q("luoyang"));
    actions(&mut acd);
    acd.answered(t0 + secs(1), CallRef(1), &ag("1003")).unwrap();
    acd.call_ended(t0 + secs(30), &ag("1003"));
    assert!(actions(&mut acd).is_empty(), "wrap-up first");
    run_to(&mut acd, t0 + secs(50));
    assert_eq!(actions(&mut acd), [offer(2, "1003")]);
}

#[test]
fn logging_out_while_talking_takes_effect_after_the_call() {
    let t0 = Instant::now();
    let mut acd = henan(t0);
    acd.phone_reachable(t0, &ag("1003"), true);
    acd.call_arrived(t0, CallRef(1), q("luoyang"));
    acd.answered(t0, CallRef(1), &ag("1003")).unwrap();
    acd.logout(t0 + secs(1), &ag("1003")).unwrap();
    assert_eq!(
        acd.agent_status(&ag("1003")),
        Some(&AgentStatus::Talking(CallRef(1)))
    );
    acd.call_ended(t0 + secs(2), &ag("1003"));
    assert_eq!(acd.agent_status(&ag("1003")), Some(&AgentStatus::LoggedOut));
}

mod props {
    use super::*;
    use crate::testkit::Watch;
    use proptest::prelude::*;
    use proptest::strategy::Strategy;

    #[derive(Debug, Clone)]
    enum Ev {
        Reach(usize, bool),
        Login(usize),
        Logout(usize),
        Ready(usize),
        Pause(usize, usize),
        Remove(usize),
        Arrive,
        Answer(usize),
        Fail(usize, u8),
        End(usize),
        Abandon(u64),
        Tick(u64),
        /// A transfer or consultation rings the agent's phone by number.
        RingDirectly(usize),
        /// That phone stops ringing unanswered: rang out, or turned down.
        DirectEnded(usize, bool),
        /// That phone is answered.
        DirectAnswered(usize),
        /// A reload moves the agent to the other queue.
        Move(usize),
        /// The seat's no-answer pause ends by itself after so many seconds, or never.
        AutoResume(usize, Option<u64>),
        /// Midnight: the day's counters start again.
        NewDay,
    }

    fn ev() -> impl Strategy<Value = Ev> {
        prop_oneof![
            (0..4usize, any::<bool>()).prop_map(|(a, r)| Ev::Reach(a, r)),
            (0..4usize).prop_map(Ev::Login),
            (0..4usize).prop_map(Ev::Logout),
            (0..4usize).prop_map(Ev::Ready),
            (0..4usize, 0..6usize).prop_map(|(a, r)| Ev::Pause(a, r)),
            (0..4usize).prop_map(Ev::Remove),
            Just(Ev::Arrive),
            Just(Ev::Arrive),
            (0..4usize).prop_map(Ev::Answer),
            (0..4usize).prop_map(Ev::Answer),
            (0..4usize, 0..3u8).prop_map(|(a, o)| Ev::Fail(a, o)),
            (0..4usize).prop_map(Ev::End),
            (0..10u64).prop_map(Ev::Abandon),
            (0..40u64).prop_map(Ev::Tick),
            (0..4usize).prop_map(Ev::RingDirectly),
            (0..4usize, any::<bool>()).prop_map(|(a, d)| Ev::DirectEnded(a, d)),
            (0..4usize).prop_map(Ev::DirectAnswered),
            (0..4usize).prop_map(Ev::Move),
            // The switch sets a static seat's resume time (never zero) or none.
            (0..4usize, prop::option::of(1..30u64)).prop_map(|(a, s)| Ev::AutoResume(a, s)),
            Just(Ev::NewDay),
        ]
    }

    proptest! {
        /// Any sequence of sessions, commands and calls: offers go only to free, reachable
        /// agents, one agent per call except ring-all, one call per agent always (a phone
        /// rung by number for a transfer counts); the state changes chain and end where the
        /// ACD says the agents are.
        #[test]
        fn offers_and_state_changes_stay_consistent(
            ring_all in any::<bool>(),
            wrap_up in prop::sample::select(vec![0u64, 20]),
            evs in prop::collection::vec(ev(), 1..100),
        ) {
            let agents = ["1003", "1020", "1900", "1901"];
            let queue_of = |i: usize| q(if i < 2 { "luoyang" } else { "centre" });
            let t0 = Instant::now();
            let mut acd = Acd::new();
            let strategy = if ring_all { crate::Strategy::RingAll } else { crate::Strategy::LongestIdle };
            let wrap_up = secs(wrap_up);
            acd.set_queue(q("luoyang"), QueueConfig { overflow_to: Some(q("centre")), strategy, wrap_up, ..QueueConfig::default() });
            acd.set_queue(q("centre"), QueueConfig { strategy, wrap_up, ..QueueConfig::default() });
            for (i, a) in agents.iter().enumerate() {
                acd.add_agent(t0, ag(a), queue_of(i));
            }
            let mut watch = Watch::default();
            let mut now = t0;
            let mut next_call = 0;
            // Phones rung by number (transfers, consultations), by agent; their calls are
            // numbered apart from the queued ones.
            let mut direct: HashMap<usize, CallRef> = HashMap::new();
            let mut next_direct = 1_000;
            for e in evs {
                let ringing = |acd: &Acd, i: usize| match acd.agent_status(&ag(agents[i])) {
                    Some(AgentStatus::Ringing(c)) => Some(*c),
                    _ => None,
                };
                match e {
                    Ev::Reach(i, r) => {
                        acd.add_agent(now, ag(agents[i]), queue_of(i));
                        acd.phone_reachable(now, &ag(agents[i]), r);
                    }
                    Ev::Login(i) => { let _ = acd.login(now, &ag(agents[i])); }
                    Ev::Logout(i) => { let _ = acd.logout(now, &ag(agents[i])); }
                    Ev::Ready(i) => { let _ = acd.ready(now, &ag(agents[i])); }
                    Ev::Pause(i, r) => { let _ = acd.pause(now, &ag(agents[i]), NotReady::ALL[r]); }
                    Ev::Remove(i) => { direct.remove(&i); acd.remove_agent(now, &ag(agents[i])); }
                    Ev::Arrive => { next_call += 1; acd.call_arrived(now, CallRef(next_call), q(if next_call % 3 == 0 { "centre" } else { "luoyang" })); }
                    Ev::Answer(i) => { if let Some(c) = ringing(&acd, i) { prop_assert!(acd.answered(now, c, &ag(agents[i])).is_ok()); } }
                    Ev::Fail(i, o) => { if let Some(c) = ringing(&acd, i) {
                        let o = [OfferOutcome::NoAnswer, OfferOutcome::Busy, OfferOutcome::Failed][o as usize];
                        acd.offer_failed(now, c, &ag(agents[i]), o); } }
                    // Whatever the agent was on or rung for is over.
                    Ev::End(i) => { direct.remove(&i); acd.call_ended(now, &ag(agents[i])); }
                    Ev::Abandon(c) => { acd.abandoned(now, CallRef(c)); }
                    Ev::Tick(s) => { now += Duration::from_secs(s); acd.handle_timeout(now); }
                    Ev::RingDirectly(i) => {
                        next_direct += 1;
                        let call = CallRef(next_direct);
                        let busy = direct.contains_key(&i) || matches!(
                            acd.agent_status(&ag(agents[i])),
                            Some(AgentStatus::Ringing(_) | AgentStatus::Talking(_))
                        ) || acd.busy_with(&ag(agents[i])).is_some();
                        let rung = acd.ring_directly(now, &ag(agents[i]), call);
                        prop_assert_eq!(rung.is_err(), busy, "a busy phone is refused, a free one rung");
                        if rung.is_ok() && acd.agent_status(&ag(agents[i])).is_some() {
                            direct.insert(i, call);
                        }
                    }
                    Ev::DirectEnded(i, declined) => if let Some(call) = direct.remove(&i) {
                        if declined {
                            acd.direct_ring_declined(now, &ag(agents[i]), call);
                        } else {
                            acd.direct_ring_ended(now, &ag(agents[i]), call);
                        }
                    }
                    // As the switch does: answered is on the call, refused (logged out) or
                    // not, until the call ends.
                    Ev::DirectAnswered(i) => if let Some(call) = direct.remove(&i) {
                        let _ = acd.on_call(now, &ag(agents[i]), call);
                    }
                    Ev::Move(i) => {
                        let other = q(if i < 2 { "centre" } else { "luoyang" });
                        if acd.agent_status(&ag(agents[i])).is_some() {
                            acd.add_agent(now, ag(agents[i]), other);
                        }
                    }
                    // A pause already longer than the new limit ends at the next round of
                    // timers, which the switch runs after every input.
                    Ev::AutoResume(i, s) => {
                        acd.set_auto_resume(&ag(agents[i]), s.map(secs));
                        acd.handle_timeout(now);
                    }
                    Ev::NewDay => acd.new_day(),
                }
                let drained = watch.drain(&mut acd, ring_all);
                prop_assert!(drained.is_ok(), "{:?} after {:?}", drained, e);
                if let Ok(d) = &drained {
                    for (call, agent) in &d.offers {
                        let rung_directly = direct.iter().any(|(i, _)| ag(agents[*i]) == *agent);
                        prop_assert!(!rung_directly, "{:?} offered to {} while rung directly", call, agent);
                    }
                }
                let agreed = watch.agrees_with(&acd);
                prop_assert!(agreed.is_ok(), "{:?} after {:?}", agreed, e);
                prop_assert!(acd.poll_timeout().is_none_or(|t| t > now), "a deadline in the past");
            }
        }
    }
}
