//! Erlang C: how many agents an interval needed for its service level, given its calls and
//! handling time (科学排班, staffing planned from data).

/// The service level `agents` give for `traffic` erlangs (calls × handling time / interval)
/// when calls last `aht` seconds on average: the share answered within `target` seconds.
pub fn service_level(agents: u32, traffic: f64, aht: f64, target: f64) -> f64 {
    let n = f64::from(agents);
    if traffic <= 0.0 {
        return 1.0;
    }
    if n <= traffic || aht <= 0.0 {
        return 0.0;
    }
    // Erlang B by its recurrence (stable for large n), then Erlang C from it.
    let mut b = 1.0;
    for k in 1..=agents {
        b = traffic * b / (f64::from(k) + traffic * b);
    }
    let c = n * b / (n - traffic * (1.0 - b));
    (1.0 - c * (-(n - traffic) * target / aht).exp()).clamp(0.0, 1.0)
}

/// The fewest agents that answer `share` of the calls within `target` seconds; 0 when no
/// call came. Capped at 10,000 (no province has more agents).
pub fn agents_needed(calls: u64, aht: f64, interval_secs: f64, share: f64, target: f64) -> u32 {
    if calls == 0 || aht <= 0.0 || interval_secs <= 0.0 {
        return 0;
    }
    let traffic = calls as f64 * aht / interval_secs;
    let mut n = traffic.floor().max(0.0) as u32 + 1;
    while n < 10_000 && service_level(n, traffic, aht, target) < share {
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_textbook_case() {
        // The classic worked example: 100 calls in 30 min, AHT 180 s, 10 erlangs. Erlang C
        // gives 39.0 % within 20 s with 11 agents, 64.0 % with 12, 79.6 % with 13 and
        // 88.8 % with 14, so 80/20 needs 14.
        let traffic = 100.0 * 180.0 / 1800.0;
        let sl: Vec<f64> = (11..=14)
            .map(|n| (service_level(n, traffic, 180.0, 20.0) * 1000.0).round() / 10.0)
            .collect();
        assert_eq!(sl, [39.0, 64.0, 79.6, 88.8]);
        assert_eq!(agents_needed(100, 180.0, 1800.0, 0.8, 20.0), 14);
    }

    #[test]
    fn no_calls_need_no_agents_and_more_agents_never_hurt() {
        assert_eq!(agents_needed(0, 180.0, 900.0, 0.8, 20.0), 0);
        let t = 5.0;
        let levels: Vec<f64> = (6..15).map(|n| service_level(n, t, 120.0, 20.0)).collect();
        assert!(levels.windows(2).all(|w| w[0] <= w[1]), "{levels:?}");
    }
}
