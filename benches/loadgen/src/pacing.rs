//! Steady pacing of new calls: call `i` is due `i / rate` seconds after the start, so a run
//! that fell behind (a busy machine, the open-calls limit) catches up rather than drifts.

use std::time::{Duration, Instant};

/// When each of a run's calls is due.
#[derive(Debug, Clone)]
pub struct Pacer {
    start: Instant,
    rate: f64,
    total: u64,
    started: u64,
}

impl Pacer {
    /// `total` calls at `rate` per second from `start` (a rate that is not positive and
    /// finite is taken as 1 per second).
    pub fn new(start: Instant, rate: f64, total: u64) -> Pacer {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        Pacer {
            start,
            rate,
            total,
            started: 0,
        }
    }

    /// When call `i` is due.
    pub fn due_at(&self, i: u64) -> Instant {
        self.start + Duration::from_secs_f64(i as f64 / self.rate)
    }

    /// When the next call is due, or `None` when every call has been started.
    pub fn next_at(&self) -> Option<Instant> {
        (self.started < self.total).then(|| self.due_at(self.started))
    }

    /// The index of the next call if it is due at `now`, counting it as started.
    pub fn take(&mut self, now: Instant) -> Option<u64> {
        let at = self.next_at()?;
        if now < at {
            return None;
        }
        self.started += 1;
        Some(self.started - 1)
    }

    /// Whether every call has been started.
    pub fn done(&self) -> bool {
        self.started >= self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_hundred_per_second_is_one_call_every_ten_ms() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 100.0, 1000);
        assert_eq!(p.take(t0), Some(0));
        assert_eq!(p.take(t0 + ms(9)), None);
        assert_eq!(p.take(t0 + ms(10)), Some(1));
        assert_eq!(p.next_at(), Some(t0 + ms(20)));
    }

    #[test]
    fn a_late_loop_catches_up_without_drifting() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 300.0, 10_000);
        let mut n = 0;
        while p.take(t0 + ms(1000)).is_some() {
            n += 1;
        }
        // Calls 0..=300 are due by t0 + 1 s (call 300 exactly at 1 s).
        assert_eq!(n, 301);
        assert_eq!(p.next_at(), Some(p.due_at(301)));
    }

    #[test]
    fn it_stops_at_the_total() {
        let t0 = Instant::now();
        let mut p = Pacer::new(t0, 1000.0, 3);
        let taken: Vec<u64> = std::iter::from_fn(|| p.take(t0 + ms(60_000))).collect();
        assert_eq!(taken, vec![0, 1, 2]);
        assert!(p.done());
        assert_eq!(p.next_at(), None);
    }

    #[test]
    fn a_nonsense_rate_is_one_per_second() {
        let t0 = Instant::now();
        let p = Pacer::new(t0, f64::NAN, 2);
        assert_eq!(p.due_at(1), t0 + ms(1000));
    }
}
