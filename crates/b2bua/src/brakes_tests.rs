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

fn from<'a>(source: &str, user: &'a str) -> Attempt<'a> {
    Attempt {
        source: ip(source),
        user,
        known: user.starts_with("10") || user.starts_with("19"),
        at_home: false,
    }
}

/// The hold of a verdict, from `now`.
fn held(v: Verdict, now: Instant) -> Option<Duration> {
    match v {
        Verdict::Hold(until) => Some(until - now),
        _ => None,
    }
}

#[test]
fn a_guesser_is_slowed_then_blocked_and_the_block_runs_out() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    let guess = from("203.0.113.9", "1003");
    let mut events = Vec::new();
    for n in 1..=3 {
        assert_eq!(b.verdict(t0, guess), Verdict::Check, "{n}");
        events.extend(b.failed(t0, guess));
    }
    assert_eq!(
        events.len(),
        2,
        "slowed from the third failure on: {events:?}"
    );
    assert_eq!(held(b.verdict(t0, guess), t0), Some(SLOW_STEP));
    events.extend(b.failed(t0, guess));
    // Held after the one before: the second hold starts where the first ends.
    assert_eq!(held(b.verdict(t0, guess), t0), Some(SLOW_STEP * 3));
    for _ in 5..=6 {
        events.extend(b.failed(t0, guess));
    }
    assert_eq!(b.verdict(t0, guess), Verdict::Blocked);
    assert_eq!(
        b.verdict(t0, from("203.0.113.9", "1900")),
        Verdict::Blocked,
        "the address is blocked for every user"
    );
    assert_eq!(
        b.verdict(t0, from("198.51.100.1", "1003")),
        Verdict::Blocked,
        "and the user from every address"
    );
    let kinds: Vec<(bool, Subject)> = events
        .iter()
        .map(|e| match e {
            BrakeEvent::Slowed { subject, .. } => (false, subject.clone()),
            BrakeEvent::Blocked { subject, .. } => (true, subject.clone()),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (false, Subject::Source(ip("203.0.113.9"))),
            (false, Subject::User("1003".into())),
            (true, Subject::Source(ip("203.0.113.9"))),
            (true, Subject::User("1003".into())),
        ]
    );
    assert_eq!(b.blocks(t0).len(), 2);
    let later = t0 + Duration::from_secs(61);
    assert_eq!(b.expire(later).len(), 2);
    assert_eq!(b.verdict(later, guess), Verdict::Check);
    assert!(b.blocks(later).is_empty());
}

#[test]
fn parallel_guesses_are_released_one_after_another() {
    let t0 = Instant::now();
    let mut b = Brakes::new(SecurityConfig {
        auth_block_after: 10_000,
        ..config()
    });
    let guess = from("203.0.113.9", "1003");
    for _ in 0..3 {
        b.failed(t0, guess);
    }
    let releases: Vec<Duration> = (0..5)
        .filter_map(|_| held(b.verdict(t0, guess), t0))
        .collect();
    assert_eq!(
        releases,
        [1, 2, 3, 4, 5].map(|n| SLOW_STEP * n),
        "five at once wait in line"
    );
}

#[test]
fn a_phone_at_home_is_spared_a_user_block_but_not_a_block_of_its_address() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    for _ in 0..6 {
        b.failed(t0, from("203.0.113.9", "1003"));
    }
    let home = Attempt {
        at_home: true,
        ..from("10.8.0.21", "1003")
    };
    assert_eq!(b.verdict(t0, from("10.8.0.21", "1003")), Verdict::Blocked);
    assert!(
        held(b.verdict(t0, home), t0).is_some(),
        "slowed, not blocked"
    );
    // A guesser behind the phone's own NAT blocks that address: home or not, it is blocked.
    let mut c = Brakes::new(config());
    for _ in 0..6 {
        c.failed(t0, from("10.8.0.21", "1003"));
    }
    assert_eq!(c.verdict(t0, home), Verdict::Blocked);
}

#[test]
fn failures_are_forgotten_and_a_right_answer_clears_the_users_count() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    let office = from("10.8.0.1", "1003");
    for _ in 0..4 {
        b.failed(t0, office);
    }
    b.succeeded("1003");
    assert_eq!(
        held(b.verdict(t0, office), t0),
        Some(SLOW_STEP * 2),
        "the address keeps its count"
    );
    assert_eq!(b.verdict(t0, from("10.8.0.2", "1003")), Verdict::Check);
    let much_later = t0 + Duration::from_secs(601);
    assert_eq!(b.verdict(much_later, office), Verdict::Check);
    b.expire(much_later);
    assert!(b.known.is_empty() && b.others.is_empty());
}

#[test]
fn a_flood_of_made_up_names_and_addresses_cannot_wipe_an_agents_count() {
    let t0 = Instant::now();
    let mut b = Brakes::new(SecurityConfig {
        auth_block_after: 20,
        ..config()
    });
    for _ in 0..19 {
        b.failed(t0, from("203.0.113.9", "1003"));
    }
    for n in 0..(MAX_TRACKED as u32 + 500) {
        let source = format!("198.51.{}.{}", (n >> 8) & 0xff, n & 0xff);
        b.failed(t0, from(&source, &format!("x{n}")));
    }
    assert!(b.others.len() <= MAX_TRACKED);
    b.failed(t0, from("192.0.2.1", "1003"));
    assert_eq!(
        b.verdict(t0, from("192.0.2.2", "1003")),
        Verdict::Blocked,
        "the 20th failure for 1003 still blocks it"
    );
    // A source the full table cannot count is slowed the most.
    assert_eq!(
        held(b.verdict(t0, from("192.0.2.77", "2222")), t0),
        Some(SLOW_MAX)
    );
}

#[test]
fn an_ipv6_guesser_counts_as_one_per_64() {
    let t0 = Instant::now();
    let mut b = Brakes::new(config());
    for n in 1..=6 {
        b.failed(t0, from(&format!("2001:db8:1:2::{n}"), &format!("u{n}")));
    }
    assert_eq!(
        b.verdict(t0, from("2001:db8:1:2::ff", "u9")),
        Verdict::Blocked
    );
    assert_eq!(b.verdict(t0, from("2001:db8:1:3::1", "u9")), Verdict::Check);
}

#[test]
fn the_hold_grows_per_failure_up_to_its_ceiling() {
    let t0 = Instant::now();
    let mut b = Brakes::new(SecurityConfig {
        auth_block_after: 10_000,
        ..config()
    });
    for _ in 0..100 {
        b.failed(t0, from("203.0.113.9", "1003"));
    }
    assert_eq!(
        held(b.verdict(t0, from("203.0.113.9", "x")), t0),
        Some(SLOW_MAX)
    );
}
