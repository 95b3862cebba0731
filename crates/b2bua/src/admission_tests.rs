use super::*;

fn config() -> OverloadConfig {
    OverloadConfig {
        max_calls: 3,
        new_requests_per_source: 5,
        max_lag: Duration::from_millis(100),
        ..OverloadConfig::default()
    }
}

fn call_from(source: &str, calls: usize) -> Asking {
    Asking {
        work: NewWork::Call,
        source: source.parse().unwrap(),
        trunk: false,
        lag: Duration::ZERO,
        media_lag: Duration::ZERO,
        calls,
    }
}

#[test]
fn calls_are_taken_up_to_the_ceiling_and_refused_at_it() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    assert_eq!(a.admit(t0, call_from("192.0.2.1", 2)), Ok(()));
    assert_eq!(a.admit(t0, call_from("192.0.2.2", 3)), Err(Shed::Ceiling));
    assert_eq!(a.shed.ceiling, 1);
}

#[test]
fn the_file_limit_lowers_the_plans_ceiling_but_never_raises_it() {
    let mut a = Admission::new(config());
    a.limit_by_files(2);
    assert_eq!(a.ceiling(), 2);
    a.limit_by_files(1_000);
    assert_eq!(a.ceiling(), 3);
}

#[test]
fn a_source_gets_a_burst_of_twice_its_rate_then_its_rate() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let taken = (0..50)
        .filter(|_| a.admit(t0, call_from("192.0.2.1", 0)).is_ok())
        .count();
    assert_eq!(taken, 10, "a burst of twice 5 a second");
    assert_eq!(a.shed.source_rate, 40);
    // Another source is not held back by the first one's flood.
    assert_eq!(a.admit(t0, call_from("192.0.2.9", 0)), Ok(()));
    // A second later, five more.
    let t1 = t0 + Duration::from_secs(1);
    let taken = (0..50)
        .filter(|_| a.admit(t1, call_from("192.0.2.1", 0)).is_ok())
        .count();
    assert_eq!(taken, 5);
}

#[test]
fn trunks_are_exempt_from_the_per_source_rate_but_not_from_the_ceiling() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let trunk = Asking {
        trunk: true,
        ..call_from("192.0.2.1", 0)
    };
    assert!((0..100).all(|_| a.admit(t0, trunk).is_ok()));
    let full = Asking { calls: 3, ..trunk };
    assert_eq!(a.admit(t0, full), Err(Shed::Ceiling));
}

#[test]
fn an_ipv6_slash_64_is_one_source() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let taken = (0..20u32)
        .filter(|i| {
            let ip = format!("2001:db8:1:2::{:x}", i + 1);
            a.admit(t0, call_from(&ip, 0)).is_ok()
        })
        .count();
    assert_eq!(taken, 10);
    assert_eq!(a.sources(), 1);
}

#[test]
fn a_call_that_waited_past_the_lag_limit_is_refused() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let late = Asking {
        lag: Duration::from_millis(101),
        ..call_from("192.0.2.1", 0)
    };
    assert_eq!(a.admit(t0, late), Err(Shed::Lag));
    let in_time = Asking {
        lag: Duration::from_millis(100),
        ..late
    };
    assert_eq!(a.admit(t0, in_time), Ok(()));
    assert_eq!(
        a.shed,
        ShedCounts {
            lag: 1,
            ..ShedCounts::default()
        }
    );
}

#[test]
fn a_call_is_refused_while_the_media_runs_late() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let late_media = Asking {
        media_lag: OverloadConfig::default().max_media_lag + Duration::from_millis(1),
        ..call_from("192.0.2.1", 0)
    };
    assert_eq!(a.admit(t0, late_media), Err(Shed::Lag));
    let on_time = Asking {
        media_lag: OverloadConfig::default().max_media_lag,
        ..late_media
    };
    assert_eq!(a.admit(t0, on_time), Ok(()));
}

#[test]
fn registrations_are_rate_limited_but_never_shed_for_load() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    let register = Asking {
        work: NewWork::Register,
        lag: Duration::from_secs(5),
        calls: 1_000,
        ..call_from("192.0.2.1", 0)
    };
    let taken = (0..20).filter(|_| a.admit(t0, register).is_ok()).count();
    assert_eq!(taken, 10);
}

#[test]
fn spoofed_sources_share_one_bucket_past_the_limit_and_are_forgotten() {
    let mut a = Admission::new(config());
    let t0 = Instant::now();
    for i in 0..MAX_SOURCES as u32 + 100 {
        let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        let _ = a.admit(t0, call_from(&ip.to_string(), 0));
    }
    assert_eq!(a.sources(), MAX_SOURCES);
    // The hundred past the limit shared ten tokens.
    assert_eq!(a.shed.source_rate, 90);
    a.expire(t0 + FORGET_AFTER);
    assert_eq!(a.sources(), 0);
}

#[test]
fn the_limit_off_takes_any_rate() {
    let mut a = Admission::new(OverloadConfig {
        new_requests_per_source: 0,
        ..config()
    });
    let t0 = Instant::now();
    assert!((0..1_000).all(|_| a.admit(t0, call_from("192.0.2.1", 0)).is_ok()));
}
