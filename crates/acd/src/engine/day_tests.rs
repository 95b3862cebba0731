//! Agent states over a day in virtual time: the listing of every agent, the record of state
//! changes through a long day, and the counts starting again at a new day.

use super::state_tests::*;
use super::*;
use crate::testkit::Watch;
use crate::{AgentState, AgentView, NotReady};

// ---- presence and session ----

#[test]
fn the_listing_shows_every_agent_by_number_with_the_start_of_their_state() {
    let t0 = Instant::now();
    let cfg = QueueConfig {
        wrap_up: Duration::ZERO,
        ..QueueConfig::default()
    };
    let mut acd = luoyang(t0, cfg, &["1020", "1003"]);
    acd.add_agent(t0, ag("1001"), q("luoyang"));
    talking(&mut acd, t0 + secs(10), 1, "1020");
    acd.call_ended(t0 + secs(70), &ag("1020"));
    acd.pause(t0 + secs(80), &ag("1003"), NotReady::Training)
        .unwrap();
    let list = acd.agents();
    assert_eq!(
        list,
        [
            AgentView {
                id: ag("1001"),
                queue: q("luoyang"),
                status: AgentStatus::LoggedOut,
                since: t0,
                calls_today: 0,
                talk_today: Duration::ZERO,
                reachable: false,
            },
            AgentView {
                id: ag("1003"),
                queue: q("luoyang"),
                status: AgentStatus::NotReady(NotReady::Training),
                since: t0 + secs(80),
                calls_today: 0,
                talk_today: Duration::ZERO,
                reachable: true,
            },
            AgentView {
                id: ag("1020"),
                queue: q("luoyang"),
                status: AgentStatus::Available,
                since: t0 + secs(70),
                calls_today: 1,
                talk_today: secs(60),
                reachable: true,
            },
        ]
    );
}

// ---- ring-all ----

#[test]
fn state_changes_chain_through_a_long_day() {
    let t0 = Instant::now();
    let mut acd = Acd::new();
    acd.set_queue(
        q("luoyang"),
        QueueConfig {
            overflow_to: Some(q("centre")),
            ..QueueConfig::default()
        },
    );
    acd.set_queue(q("centre"), ring_all());
    for (a, queue) in [
        ("1003", "luoyang"),
        ("1020", "luoyang"),
        ("1900", "centre"),
        ("1901", "centre"),
    ] {
        acd.add_agent(t0, ag(a), q(queue));
    }
    acd.set_auto_resume(&ag("1020"), Some(secs(120)));
    let mut watch = Watch::default();
    let mut records = Vec::new();
    let mut now = t0;
    let mut step = |acd: &mut Acd, dt: u64, what: &dyn Fn(&mut Acd, Instant)| {
        now += secs(dt);
        what(acd, now);
        let drained = watch.drain(acd, true).expect("the actions hang together");
        watch
            .agrees_with(acd)
            .expect("the actions agree with the ACD");
        records.extend(
            drained
                .actions
                .into_iter()
                .filter(|a| matches!(a, Action::AgentChanged { .. })),
        );
    };
    let log_in = |acd: &mut Acd, now: Instant| {
        for a in ["1003", "1020", "1900", "1901"] {
            acd.phone_reachable(now, &ag(a), true);
        }
    };
    step(&mut acd, 0, &log_in);
    step(&mut acd, 1, &|acd, now| {
        acd.pause(now, &ag("1003"), NotReady::Meeting).unwrap()
    });
    step(&mut acd, 1, &|acd, now| {
        acd.call_arrived(now, CallRef(1), q("luoyang"))
    });
    step(&mut acd, 20, &|acd, _| {
        let t = acd.poll_timeout().unwrap();
        acd.handle_timeout(t)
    }); // 1020 rings out: no-answer
    step(&mut acd, 1, &|acd, now| {
        acd.ready(now, &ag("1003")).unwrap()
    });
    step(&mut acd, 1, &|acd, now| {
        acd.answered(now, CallRef(1), &ag("1003")).unwrap()
    });
    step(&mut acd, 1, &|acd, now| {
        acd.call_arrived(now, CallRef(2), q("centre"))
    }); // the centre rings all
    step(&mut acd, 1, &|acd, now| {
        acd.answered(now, CallRef(2), &ag("1901")).unwrap()
    });
    step(&mut acd, 1, &|acd, now| {
        acd.phone_reachable(now, &ag("1003"), false)
    });
    step(&mut acd, 1, &|acd, now| {
        acd.pause(now, &ag("1901"), NotReady::Lunch).unwrap()
    });
    step(&mut acd, 5, &|acd, now| acd.call_ended(now, &ag("1003")));
    step(&mut acd, 5, &|acd, now| acd.call_ended(now, &ag("1901")));
    step(&mut acd, 120, &|acd, now| run_to(acd, now)); // 1020's auto-resume
    step(&mut acd, 1, &|acd, now| {
        acd.phone_reachable(now, &ag("1003"), true)
    });
    step(&mut acd, 1, &|acd, now| {
        acd.call_arrived(now, CallRef(3), q("centre"))
    });
    step(&mut acd, 1, &|acd, now| {
        acd.pause(now, &ag("1900"), NotReady::Break).unwrap()
    });
    step(&mut acd, 1, &|acd, now| acd.remove_agent(now, &ag("1020")));
    step(&mut acd, 1, &|acd, now| {
        acd.logout(now, &ag("1003")).unwrap()
    });
    step(&mut acd, 1, &|acd, now| {
        acd.abandoned(now, CallRef(3));
    });
    step(&mut acd, 30, &|acd, now| run_to(acd, now));

    let of = |agent: &str| -> Vec<(AgentState, AgentState, Option<NotReady>)> {
        records
            .iter()
            .filter_map(|r| match r {
                Action::AgentChanged {
                    agent: a,
                    from,
                    to,
                    reason,
                } if a == &ag(agent) => Some((*from, *to, *reason)),
                _ => None,
            })
            .collect()
    };
    use AgentState::{Available, LoggedOut, Ringing, Talking};
    const PAUSED: AgentState = AgentState::NotReady;
    assert_eq!(
        of("1003"),
        [
            (LoggedOut, Available, None),
            (Available, PAUSED, Some(NotReady::Meeting)),
            (PAUSED, Available, None),
            (Available, Ringing, None),
            (Ringing, Talking, None),
            (Talking, LoggedOut, None),
            (LoggedOut, Available, None),
            (Available, LoggedOut, None),
        ]
    );
    assert_eq!(
        of("1020"),
        [
            (LoggedOut, Available, None),
            (Available, Ringing, None),
            (Ringing, PAUSED, Some(NotReady::NoAnswer)),
            (PAUSED, Available, None),
            (Available, LoggedOut, None),
        ]
    );
    assert_eq!(
        of("1901"),
        [
            (LoggedOut, Available, None),
            (Available, Ringing, None),
            (Ringing, Talking, None),
            (Talking, PAUSED, Some(NotReady::Lunch)),
        ]
    );
    assert_eq!(
        of("1900"),
        [
            (LoggedOut, Available, None),
            (Available, Ringing, None),
            (Ringing, Available, None),
            (Available, Ringing, None),
            (Ringing, PAUSED, Some(NotReady::Break)),
        ]
    );
}

#[test]
fn a_new_day_starts_the_counts_of_calls_and_talk_time_again() {
    let t0 = Instant::now();
    let mut acd = luoyang(t0, QueueConfig::default(), &["1003"]);
    talking(&mut acd, t0, 1, "1003");
    acd.call_ended(t0 + secs(60), &ag("1003"));
    let today = |acd: &Acd| {
        let v = acd.agents().into_iter().next().expect("1003");
        (v.calls_today, v.talk_today)
    };
    assert_eq!(today(&acd), (1, secs(60)));
    acd.new_day();
    assert_eq!(today(&acd), (0, Duration::ZERO));
}
