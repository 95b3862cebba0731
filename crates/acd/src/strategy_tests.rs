//! The strategies' tests: who rings for a call, by skill level, by strategy, by time.

use std::time::{Duration, Instant};

use crate::{
    Acd, Action, AgentId, AgentStatus, CallRef, NotReady, OfferOutcome, QueueConfig, QueueId,
    Strategy,
};

fn q(s: &str) -> QueueId {
    QueueId(s.into())
}
fn ag(s: &str) -> AgentId {
    AgentId(s.into())
}
fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// One queue, agents with (id, skills) registering one second apart in the given order.
fn queue(t0: Instant, cfg: QueueConfig, agents: &[(&str, &[(&str, u8)])]) -> Acd {
    let mut acd = Acd::with_seed(7);
    acd.set_queue(q("luoyang"), cfg);
    for (i, (id, skills)) in agents.iter().enumerate() {
        acd.add_agent(t0, ag(id), q("luoyang"));
        let skills: Vec<(String, u8)> = skills.iter().map(|(s, l)| (s.to_string(), *l)).collect();
        acd.set_agent_skills(&ag(id), &skills, i);
        acd.phone_reachable(t0 + secs(i as u64), &ag(id), true);
    }
    acd
}

fn offered(acd: &mut Acd) -> Vec<String> {
    std::iter::from_fn(|| acd.poll_action())
        .filter_map(|a| match a {
            Action::Offer { agent, .. } => Some(agent.0),
            _ => None,
        })
        .collect()
}

/// Offers a call, has the agent answer, hang up after `talk` and skip wrap-up; returns
/// who took it.
fn serve(acd: &mut Acd, now: &mut Instant, n: u64, skill: Option<&str>, talk: Duration) -> String {
    acd.call_arrived_for(*now, CallRef(n), q("luoyang"), skill.map(str::to_string));
    let who = offered(acd).pop().expect("an offer");
    acd.answered(*now, CallRef(n), &ag(&who)).unwrap();
    *now += talk;
    acd.call_ended(*now, &ag(&who));
    acd.ready(*now, &ag(&who)).unwrap();
    *now += secs(1);
    who
}

#[test]
fn a_skilled_call_goes_only_to_agents_with_the_skill_or_generalists() {
    let t0 = Instant::now();
    let mut acd = queue(
        t0,
        QueueConfig::default(),
        &[("1001", &[("filing", 1)]), ("1002", &[("invoices", 1)])],
    );
    acd.call_arrived_for(
        t0 + secs(5),
        CallRef(1),
        q("luoyang"),
        Some("invoices".into()),
    );
    assert_eq!(offered(&mut acd), ["1002"]);
    let mut acd = queue(
        t0,
        QueueConfig::default(),
        &[("1001", &[("filing", 1)]), ("1003", &[])],
    );
    acd.call_arrived_for(
        t0 + secs(5),
        CallRef(1),
        q("luoyang"),
        Some("invoices".into()),
    );
    assert_eq!(
        offered(&mut acd),
        ["1003"],
        "an agent with no skills takes anything"
    );
}

#[test]
fn the_best_level_rings_first_even_if_a_lower_level_waited_longer() {
    let t0 = Instant::now();
    let mut acd = queue(
        t0,
        QueueConfig::default(),
        &[("1001", &[("tax", 3)]), ("1002", &[("tax", 1)])],
    );
    acd.call_arrived_for(t0 + secs(5), CallRef(1), q("luoyang"), Some("tax".into()));
    assert_eq!(offered(&mut acd), ["1002"]);
}

#[test]
fn with_no_one_at_level_1_the_longest_idle_of_the_best_level_rings() {
    let t0 = Instant::now();
    let mut acd = queue(
        t0,
        QueueConfig::default(),
        &[
            ("1001", &[("tax", 3)]),
            ("1003", &[("tax", 2)]),
            ("1002", &[("tax", 2)]),
            ("1004", &[("vat", 1)]),
        ],
    );
    acd.call_arrived_for(t0 + secs(9), CallRef(1), q("luoyang"), Some("tax".into()));
    assert_eq!(
        offered(&mut acd),
        ["1003"],
        "free since t0 + 1 s, before 1002"
    );
}

#[test]
fn a_queue_widens_to_lower_levels_after_its_wait() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        first_levels: 1,
        widen_after: secs(20),
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1001", &[("tax", 3)])]);
    acd.call_arrived_for(t0 + secs(5), CallRef(1), q("luoyang"), Some("tax".into()));
    assert!(offered(&mut acd).is_empty(), "only level 1 at first");
    assert_eq!(
        acd.poll_timeout(),
        Some(t0 + secs(25)),
        "the ACD wakes to widen"
    );
    acd.handle_timeout(t0 + secs(25));
    assert_eq!(offered(&mut acd), ["1001"], "every level after 20 s");
}

#[test]
fn round_robin_goes_on_from_the_agent_rung_last() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        strategy: Strategy::RoundRobin,
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1001", &[]), ("1002", &[]), ("1003", &[])]);
    let mut now = t0 + secs(10);
    let order: Vec<String> = (1..=4)
        .map(|n| serve(&mut acd, &mut now, n, None, secs(1)))
        .collect();
    assert_eq!(order, ["1001", "1002", "1003", "1001"]);
}

#[test]
fn fewest_calls_and_least_talk_time_balance_the_day() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        strategy: Strategy::FewestCalls,
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1001", &[]), ("1002", &[])]);
    let mut now = t0 + secs(10);
    let order: Vec<String> = (1..=4)
        .map(|n| serve(&mut acd, &mut now, n, None, secs(1)))
        .collect();
    assert_eq!(order, ["1001", "1002", "1001", "1002"]);

    let cfg = QueueConfig {
        strategy: Strategy::LeastTalkTime,
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1001", &[]), ("1002", &[])]);
    let mut now = t0 + secs(10);
    assert_eq!(serve(&mut acd, &mut now, 1, None, secs(300)), "1001");
    assert_eq!(serve(&mut acd, &mut now, 2, None, secs(10)), "1002");
    assert_eq!(
        serve(&mut acd, &mut now, 3, None, secs(10)),
        "1002",
        "1001 talked 5 minutes"
    );
}

#[test]
fn linear_always_starts_from_the_top_of_the_list() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        strategy: Strategy::Linear,
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1009", &[]), ("1001", &[])]);
    let mut now = t0 + secs(10);
    let order: Vec<String> = (1..=3)
        .map(|n| serve(&mut acd, &mut now, n, None, secs(1)))
        .collect();
    assert_eq!(order, ["1009", "1009", "1009"]);
}

#[test]
fn random_and_weighted_strategies_spread_calls() {
    let t0 = Instant::now();
    for strategy in [Strategy::Random, Strategy::WeightedByLevel] {
        let cfg = QueueConfig {
            strategy,
            ..QueueConfig::default()
        };
        let mut acd = queue(t0, cfg, &[("1001", &[("tax", 1)]), ("1002", &[("tax", 1)])]);
        let mut now = t0 + secs(10);
        let takers: std::collections::HashSet<String> = (1..=40)
            .map(|n| serve(&mut acd, &mut now, n, Some("tax"), secs(1)))
            .collect();
        assert_eq!(takers.len(), 2, "{strategy:?} spreads calls");
    }
}

#[test]
fn an_agent_is_paused_only_after_the_queues_number_of_missed_calls_in_a_row() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        missed_before_pause: 2,
        ..QueueConfig::default()
    };
    let mut acd = queue(t0, cfg, &[("1001", &[])]);
    acd.call_arrived(t0 + secs(5), CallRef(1), q("luoyang"));
    offered(&mut acd);
    acd.offer_failed(
        t0 + secs(6),
        CallRef(1),
        &ag("1001"),
        OfferOutcome::NoAnswer,
    );
    assert_eq!(
        acd.agent_status(&ag("1001")),
        Some(&AgentStatus::Available),
        "one miss"
    );
    acd.abandoned(t0 + secs(7), CallRef(1));
    acd.call_arrived(t0 + secs(8), CallRef(2), q("luoyang"));
    offered(&mut acd);
    acd.handle_timeout(t0 + secs(23));
    assert_eq!(
        acd.agent_status(&ag("1001")),
        Some(&AgentStatus::NotReady(NotReady::NoAnswer)),
        "two in a row"
    );
}

mod props {
    use super::{ag, q, queue, secs};
    use crate::testkit::Watch;
    use crate::{AgentStatus, CallRef, QueueConfig, Strategy as Distribution};
    use proptest::prelude::*;
    use std::time::Instant;

    fn strategy() -> impl Strategy<Value = Distribution> {
        prop::sample::select(vec![
            Distribution::LongestIdle,
            Distribution::RoundRobin,
            Distribution::FewestCalls,
            Distribution::LeastTalkTime,
            Distribution::Linear,
            Distribution::Random,
            Distribution::WeightedByLevel,
            Distribution::RingAll,
        ])
    }

    proptest! {
        /// No strategy offers a call to an agent who is not free, whose phone is not
        /// reachable or who lacks the skill; only ring-all rings several agents for a
        /// call, and no agent ever rings for two calls.
        #[test]
        fn no_strategy_offers_a_call_to_an_agent_who_cannot_take_it(
            strategy in strategy(),
            events in prop::collection::vec((0u8..7, 0usize..4, 0u64..20), 1..80),
        ) {
            let t0 = Instant::now();
            let skills: [&[(&str, u8)]; 4] = [&[("tax", 1)], &[("tax", 3), ("invoices", 1)], &[("invoices", 2)], &[]];
            let ids = ["1001", "1002", "1003", "1004"];
            let cfg = QueueConfig { strategy, first_levels: 2, widen_after: secs(10), ..QueueConfig::default() };
            let agents: Vec<(&str, &[(&str, u8)])> = ids.iter().copied().zip(skills).collect();
            let mut acd = queue(t0, cfg, &agents);
            let mut watch = Watch::default();
            let drained = watch.drain(&mut acd, strategy == Distribution::RingAll);
            prop_assert!(drained.is_ok(), "{:?}", drained);
            let mut now = t0 + secs(5);
            let mut n = 0;
            let mut skill_of = std::collections::HashMap::new();
            for (kind, who, dt) in events {
                now += secs(dt);
                match kind {
                    0 | 1 => {
                        n += 1;
                        let skill = ["tax", "invoices"][(n % 2) as usize];
                        skill_of.insert(n, skill);
                        acd.call_arrived_for(now, CallRef(n), q("luoyang"), Some(skill.into()));
                    }
                    2 => {
                        if let Some(AgentStatus::Ringing(c)) = acd.agent_status(&ag(ids[who])).cloned() {
                            let _ = acd.answered(now, c, &ag(ids[who]));
                        }
                    }
                    3 => acd.call_ended(now, &ag(ids[who])),
                    4 => acd.handle_timeout(now),
                    // A phone comes and goes: unreachable agents must never ring.
                    _ => {
                        let reachable = acd.agents().iter().any(|v| v.id == ag(ids[who]) && v.reachable);
                        acd.phone_reachable(now, &ag(ids[who]), !reachable);
                    }
                }
                let drained = watch.drain(&mut acd, strategy == Distribution::RingAll);
                prop_assert!(drained.is_ok(), "{:?}", drained);
                let Ok(drained) = drained else { continue };
                for (call, agent) in drained.offers {
                    let skill = skill_of.get(&call.0).copied().unwrap_or("tax");
                    let i = ids.iter().position(|a| *a == agent.0).unwrap();
                    let has = skills[i].is_empty() || skills[i].iter().any(|(s, _)| *s == skill);
                    prop_assert!(has, "{} lacks {}", agent.0, skill);
                }
                let agreed = watch.agrees_with(&acd);
                prop_assert!(agreed.is_ok(), "{:?}", agreed);
            }
        }
    }
}
