//! A budget of log lines for what anyone can send (malformed and unparseable messages): a
//! few lines a second tell the operator; a flood of garbage must not become a flood of log
//! lines. The lines held back are counted and the next line says how many.

use std::time::{Duration, Instant};

/// Lines a second.
const LINES_PER_SECOND: u32 = 10;

/// The budget of one kind of line.
#[derive(Debug, Default)]
pub(crate) struct LogBudget {
    second: Option<Instant>,
    used: u32,
    held_back: u64,
}

impl LogBudget {
    /// Whether a line may be written at `now`: `Some(lines held back since the last one)`,
    /// or `None` (this one is counted instead).
    pub(crate) fn allow(&mut self, now: Instant) -> Option<u64> {
        let fresh = self
            .second
            .is_none_or(|s| now.saturating_duration_since(s) >= Duration::from_secs(1));
        if fresh {
            self.second = Some(now);
            self.used = 0;
        }
        if self.used >= LINES_PER_SECOND {
            self.held_back += 1;
            return None;
        }
        self.used += 1;
        Some(std::mem::take(&mut self.held_back))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_writes_ten_lines_a_second_and_counts_the_rest() {
        let mut budget = LogBudget::default();
        let t0 = Instant::now();
        let written = (0..1000).filter(|_| budget.allow(t0).is_some()).count();
        assert_eq!(written, 10);
        assert_eq!(budget.allow(t0 + Duration::from_secs(1)), Some(990));
        assert_eq!(budget.allow(t0 + Duration::from_secs(1)), Some(0));
    }
}
