//! The pace a caller's keys may come at: a token bucket of a burst of [`BURST`] keys, then
//! [`PER_SECOND`] a second. A person, or an auto-dialer typing a number, stays within it; a
//! stream beyond is a flood, dropped before it reaches the switch's core. One bucket for
//! every way keys come (RFC 4733, in-band tones, SIP INFO), on a clock in milliseconds.

/// Keys a caller may send at once (a number typed fast, or delivered together after a stall).
pub const BURST: u32 = 20;
/// Keys a second after the burst.
pub const PER_SECOND: u64 = 10;

/// One caller's bucket.
#[derive(Debug, Clone)]
pub struct KeyPace {
    tokens: u32,
    /// When the bucket last earned a key, in milliseconds on the caller's clock.
    filled_ms: u64,
    /// Keys dropped so far.
    pub dropped: u64,
}

impl Default for KeyPace {
    fn default() -> KeyPace {
        KeyPace {
            tokens: BURST,
            filled_ms: 0,
            dropped: 0,
        }
    }
}

impl KeyPace {
    /// Whether a key arriving at `now_ms` is passed on; one beyond the pace is counted in
    /// [`KeyPace::dropped`] and refused.
    pub fn take(&mut self, now_ms: u64) -> bool {
        const STEP_MS: u64 = 1_000 / PER_SECOND;
        // A full bucket earns nothing: a quiet caller starts again with a whole burst.
        if self.tokens >= BURST {
            self.filled_ms = now_ms;
        }
        let earned = now_ms.saturating_sub(self.filled_ms) / STEP_MS;
        if earned > 0 {
            let earned_u32 = u32::try_from(earned).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(earned_u32).min(BURST);
            self.filled_ms += earned * STEP_MS;
        }
        if self.tokens == 0 {
            self.dropped += 1;
            return false;
        }
        self.tokens -= 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_keys_come_at_ten_a_second() {
        let mut pace = KeyPace::default();
        // Forty keys 10 ms apart: twenty at once, then one each 100 ms (three in 390 ms).
        let passed = (0..40u64).filter(|i| pace.take(1_000 + i * 10)).count();
        assert_eq!(passed, 23);
        assert_eq!(pace.dropped, 17);
        assert!(pace.take(10_000), "later, keys pass again");
    }
}
