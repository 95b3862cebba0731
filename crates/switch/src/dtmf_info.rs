//! Keys sent as SIP INFO (`application/dtmf-relay` and `application/dtmf`), the form some
//! trunks and desk phones use instead of RFC 4733.

use hotline_sip::{HeaderName, Request};

/// The key an INFO carries, if it is a DTMF INFO with a valid key.
pub fn digit(req: &Request) -> Option<char> {
    let ctype = req
        .headers
        .get(&HeaderName::ContentType)?
        .to_ascii_lowercase();
    let body = std::str::from_utf8(&req.body).ok()?;
    let raw = if ctype.starts_with("application/dtmf-relay") {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim())
        })?
    } else if ctype.starts_with("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    let mut chars = raw.chars();
    let c = chars.next()?.to_ascii_uppercase();
    if chars.next().is_some() {
        // Some phones send the event number: 10 is *, 11 is #.
        return match raw {
            "10" => Some('*'),
            "11" => Some('#'),
            _ => None,
        };
    }
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}

/// Keys a caller may send by INFO in a burst, and how many a second after it: as the media
/// task holds RFC 4733 and in-band keys to a person's pace.
const BURST: u32 = 20;
/// See [`BURST`].
const PER_SECOND: u32 = 10;

/// A token bucket of keys by INFO, per call.
#[derive(Debug, Clone)]
pub(crate) struct KeyPace {
    tokens: u32,
    filled: Option<std::time::Instant>,
    /// Keys dropped so far.
    pub dropped: u64,
}

impl Default for KeyPace {
    fn default() -> KeyPace {
        KeyPace {
            tokens: BURST,
            filled: None,
            dropped: 0,
        }
    }
}

impl KeyPace {
    /// Whether a key arriving at `now` is passed on; a key beyond the pace is counted and
    /// dropped.
    pub(crate) fn take(&mut self, now: std::time::Instant) -> bool {
        let step = std::time::Duration::from_secs(1) / PER_SECOND;
        let filled = self.filled.unwrap_or(now);
        let earned = now.saturating_duration_since(filled).as_millis() / step.as_millis().max(1);
        let earned = u32::try_from(earned).unwrap_or(u32::MAX);
        if self.tokens.saturating_add(earned) >= BURST {
            // Full: it fills from now on.
            self.tokens = BURST;
            self.filled = Some(now);
        } else {
            self.tokens += earned;
            self.filled = Some(filled + step * earned);
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
    fn keys_by_info_pass_at_a_persons_pace() {
        let mut pace = KeyPace::default();
        let t0 = std::time::Instant::now();
        let passed = (0..40u32)
            .filter(|i| pace.take(t0 + std::time::Duration::from_millis(u64::from(*i) * 10)))
            .count();
        assert_eq!(passed, 23, "a burst of twenty, and three earned in 0.39 s");
        assert_eq!(pace.dropped, 17);
        assert!(
            pace.take(t0 + std::time::Duration::from_secs(5)),
            "later, keys pass again"
        );
    }
    use hotline_sip::message::Method;

    fn info(ctype: &str, body: &str) -> Request {
        let mut r = Request::new(Method::Info, "sip:12366@h");
        r.headers.push(HeaderName::ContentType, ctype);
        r.body = body.as_bytes().to_vec();
        r
    }

    #[test]
    fn dtmf_relay_and_plain_dtmf_bodies_give_their_key() {
        assert_eq!(
            digit(&info(
                "application/dtmf-relay",
                "Signal=5\r\nDuration=160\r\n"
            )),
            Some('5')
        );
        assert_eq!(
            digit(&info("Application/DTMF-Relay", "signal= #\r\nDuration=100")),
            Some('#')
        );
        assert_eq!(digit(&info("application/dtmf", "7")), Some('7'));
        assert_eq!(digit(&info("application/dtmf", "11")), Some('#'));
    }

    #[test]
    fn other_infos_and_garbage_give_nothing() {
        assert_eq!(digit(&info("application/media_control+xml", "<x/>")), None);
        assert_eq!(digit(&info("application/dtmf-relay", "Duration=160")), None);
        assert_eq!(digit(&info("application/dtmf", "X")), None);
        assert_eq!(digit(&info("application/dtmf", "")), None);
    }
}
