use super::*;

fn config() -> SecurityConfig {
    SecurityConfig {
        auth_slow_after: 3,
        auth_block_after: 6,
        auth_block: Duration::from_secs(60),
        auth_forget: Duration::from_secs(600),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn a_guesser_is_slowed_then_blocked_and_the_block_runs_out() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    let guesser = ip("203.0.113.9");
    let mut events = Vec::new();
    for n in 1..=3 {
        assert_eq!(b.verdict(t0, guesser, "1003", false), Verdict::Check, "{n}");
        events.extend(b.failed(t0, guesser, "1003"));
    }
    assert_eq!(
        events.len(),
        2,
        "slowed from the third failure on: {events:?}"
    );
    assert_eq!(
        b.verdict(t0, guesser, "1003", false),
        Verdict::Hold(SLOW_STEP)
    );
    events.extend(b.failed(t0, guesser, "1003"));
    assert_eq!(
        b.verdict(t0, guesser, "1003", false),
        Verdict::Hold(SLOW_STEP * 2)
    );
    for _ in 5..=6 {
        events.extend(b.failed(t0, guesser, "1003"));
    }
    assert_eq!(b.verdict(t0, guesser, "1003", false), Verdict::Blocked);
    assert_eq!(
        b.verdict(t0, guesser, "1900", false),
        Verdict::Blocked,
        "the address is blocked for every user"
    );
    assert_eq!(
        b.verdict(t0, ip("198.51.100.1"), "1003", false),
        Verdict::Blocked,
        "and the user from every address"
    );
    let subjects: Vec<(bool, Subject)> = events
        .iter()
        .map(|e| match e {
            BrakeEvent::Slowed { subject, .. } => (false, subject.clone()),
            BrakeEvent::Blocked { subject, .. } => (true, subject.clone()),
        })
        .collect();
    assert_eq!(
        subjects,
        [
            (false, Subject::Source(guesser)),
            (false, Subject::User("1003".into())),
            (true, Subject::Source(guesser)),
            (true, Subject::User("1003".into())),
        ]
    );
    assert_eq!(b.blocks(t0).len(), 2);
    let later = t0 + Duration::from_secs(61);
    assert_eq!(
        b.verdict(later, guesser, "1003", false),
        Verdict::Hold(SLOW_STEP * 4),
        "a block that ran out still slows until expired"
    );
    assert_eq!(b.expire(later).len(), 2);
    assert_eq!(b.verdict(later, guesser, "1003", false), Verdict::Check);
    assert!(b.blocks(later).is_empty());
}

#[test]
fn a_registered_phone_is_slowed_but_never_blocked_from_its_own_address() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    for _ in 0..6 {
        b.failed(t0, ip("203.0.113.9"), "1003");
    }
    assert_eq!(
        b.verdict(t0, ip("10.8.0.21"), "1003", false),
        Verdict::Blocked
    );
    assert_eq!(
        b.verdict(t0, ip("10.8.0.21"), "1003", true),
        Verdict::Hold(SLOW_STEP * 4)
    );
}

#[test]
fn failures_are_forgotten_and_a_right_answer_clears_the_users_count() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    let office = ip("10.8.0.1");
    for _ in 0..4 {
        b.failed(t0, office, "1003");
    }
    b.succeeded("1003");
    assert_eq!(
        b.verdict(t0, office, "1003", false),
        Verdict::Hold(SLOW_STEP * 2),
        "the address keeps its count"
    );
    assert_eq!(b.verdict(t0, ip("10.8.0.2"), "1003", false), Verdict::Check);
    let much_later = t0 + Duration::from_secs(601);
    assert_eq!(b.verdict(much_later, office, "1003", false), Verdict::Check);
    b.expire(much_later);
    assert!(b.tallies.is_empty());
}

#[test]
fn unknown_and_known_users_are_braked_alike_and_the_table_stays_bounded() {
    let t0 = Instant::now();
    let mut b = Brakes::new(SecurityConfig {
        auth_block_after: 10_000,
        ..config()
    });
    for n in 0..(MAX_TRACKED as u32 + 500) {
        b.failed(
            t0 + Duration::from_millis(u64::from(n)),
            ip("203.0.113.9"),
            &format!("u{n}"),
        );
    }
    assert!(b.tallies.len() <= MAX_TRACKED);
    let mut c = Brakes::new(config());
    for _ in 0..6 {
        c.failed(t0, ip("198.51.100.7"), "no-such-agent");
    }
    assert_eq!(
        c.verdict(t0, ip("192.0.2.1"), "no-such-agent", false),
        Verdict::Blocked
    );
}

#[test]
fn the_hold_grows_per_failure_up_to_its_ceiling() {
    let t0 = Instant::now();
    let mut b = Brakes::new(SecurityConfig {
        auth_block_after: 10_000,
        ..config()
    });
    for _ in 0..100 {
        b.failed(t0, ip("203.0.113.9"), "1003");
    }
    assert_eq!(
        b.verdict(t0, ip("203.0.113.9"), "x", false),
        Verdict::Hold(SLOW_MAX)
    );
}
