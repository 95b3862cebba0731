//! What a run counted: per side, the calls' fates, retransmissions, RTP, and the setup and
//! hang-up times; printed as lines for people and as one JSON object for `load.sh`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

/// The `q` quantile (0..=1) of sorted values, nearest rank: the smallest value with at
/// least `q` of the values at or below it. `None` when there are none.
pub fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Durations of one kind (ms), summarised by percentiles.
#[derive(Debug, Default, Clone)]
pub struct Times(Vec<f64>);

impl Times {
    /// Adds one duration.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    /// p50, p95, p99 and max in ms (and how many), as JSON.
    pub fn summary(&self) -> Value {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        let p = |q| percentile(&v, q).map(|x| (x * 100.0).round() / 100.0);
        json!({"n": v.len(), "p50": p(0.5), "p95": p(0.95), "p99": p(0.99), "max": p(1.0)})
    }

    /// `p50 / p95 / p99 / max` for a human.
    pub fn line(&self) -> String {
        let s = self.summary();
        let f = |k: &str| match s[k].as_f64() {
            Some(x) => format!("{x:.1}"),
            None => "-".into(),
        };
        format!(
            "p50 {} / p95 {} / p99 {} / max {} ms (n {})",
            f("p50"),
            f("p95"),
            f("p99"),
            f("max"),
            s["n"]
        )
    }
}

/// How a call ended that was not a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Failure {
    /// A final response other than 2xx and 503 (its status).
    Status(u16),
    /// No final response to the INVITE within timer B (no provisional either).
    InviteTimeout,
    /// Ringing or queued, but no answer within the setup limit.
    NoAnswer,
    /// The 200's SDP gave no usable audio address, or no codec we send.
    BadSdp,
    /// The far end hung up (BYE) before we did.
    HungUpEarly,
    /// Our BYE got no final response within timer F.
    ByeTimeout,
    /// Our BYE got a final response that is not 2xx.
    ByeRefused,
    /// Our 200 was never acknowledged (64·T1).
    NoAck,
    /// The call was still up when the run ended.
    StillUpAtEnd,
    /// A socket could not be bound for the call's RTP.
    NoRtpSocket,
}

impl Failure {
    /// A short name for summaries.
    pub fn name(self) -> String {
        match self {
            Failure::Status(s) => format!("status_{s}"),
            Failure::InviteTimeout => "invite_timeout".into(),
            Failure::NoAnswer => "no_answer".into(),
            Failure::BadSdp => "bad_sdp".into(),
            Failure::HungUpEarly => "hung_up_early".into(),
            Failure::ByeTimeout => "bye_timeout".into(),
            Failure::ByeRefused => "bye_refused".into(),
            Failure::NoAck => "no_ack".into(),
            Failure::StillUpAtEnd => "still_up_at_end".into(),
            Failure::NoRtpSocket => "no_rtp_socket".into(),
        }
    }
}

/// What one side (callers or agents' phones) counted.
#[derive(Debug, Default, Clone)]
pub struct Side {
    /// INVITEs sent (callers) or new INVITEs received (agents).
    pub invites: u64,
    /// Calls answered (200 received, or 200 sent and acknowledged).
    pub answered: u64,
    /// Calls that ran to their end: our BYE answered (callers), the switch's BYE (agents).
    pub completed: u64,
    /// Calls refused with 503 (callers).
    pub refused: u64,
    /// Calls refused with 503 that carried Retry-After.
    pub refused_with_retry_after: u64,
    /// Failed calls, by reason.
    pub failures: BTreeMap<Failure, u64>,
    /// Requests or responses we sent again on a timer.
    pub retransmissions_sent: u64,
    /// Requests or responses received again (duplicates of ones already handled).
    pub retransmissions_received: u64,
    /// RTP packets sent.
    pub rtp_sent: u64,
    /// RTP packets received.
    pub rtp_received: u64,
    /// Answered calls that received no RTP at all.
    pub calls_without_rtp: u64,
    /// BYEs received and answered with 200.
    pub byes_answered: u64,
    /// OPTIONS received and answered with 200.
    pub options_answered: u64,
    /// CANCELs received (agents).
    pub cancels: u64,
    /// Datagrams that were not SIP we could read, or for no call we know.
    pub strays: u64,
}

impl Side {
    /// Counts a failed call.
    pub fn fail(&mut self, why: Failure) {
        *self.failures.entry(why).or_default() += 1;
    }

    /// Failed calls, all reasons.
    pub fn failed(&self) -> u64 {
        self.failures.values().sum()
    }

    /// This side as JSON.
    pub fn json(&self) -> Value {
        let failures: BTreeMap<String, u64> =
            self.failures.iter().map(|(k, v)| (k.name(), *v)).collect();
        json!({
            "invites": self.invites, "answered": self.answered, "completed": self.completed,
            "refused": self.refused, "refused_with_retry_after": self.refused_with_retry_after,
            "failed": self.failed(), "failures": failures,
            "retransmissions_sent": self.retransmissions_sent,
            "retransmissions_received": self.retransmissions_received,
            "rtp_sent": self.rtp_sent, "rtp_received": self.rtp_received,
            "calls_without_rtp": self.calls_without_rtp, "byes_answered": self.byes_answered,
            "options_answered": self.options_answered, "cancels": self.cancels,
            "strays": self.strays,
        })
    }

    /// Human-readable lines for this side.
    pub fn lines(&self, name: &str) -> Vec<String> {
        let failures: Vec<String> = self
            .failures
            .iter()
            .map(|(k, v)| format!("{} {v}", k.name()))
            .collect();
        vec![
            format!(
                "{name:<8} {} INVITEs, {} answered, {} completed, {} refused (503), {} failed{}",
                self.invites,
                self.answered,
                self.completed,
                self.refused,
                self.failed(),
                if failures.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", failures.join(", "))
                }
            ),
            format!(
                "{name:<8} retransmissions {} sent / {} received, RTP {} sent / {} received, \
                 {} answered calls without RTP",
                self.retransmissions_sent,
                self.retransmissions_received,
                self.rtp_sent,
                self.rtp_received,
                self.calls_without_rtp
            ),
            format!(
                "{name:<8} {} BYEs, {} OPTIONS, {} CANCELs answered, {} stray datagrams",
                self.byes_answered, self.options_answered, self.cancels, self.strays
            ),
        ]
    }
}

/// The process's own CPU time so far (user, system), from `getrusage`.
pub fn own_cpu() -> (Duration, Duration) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    if rc != 0 {
        return (Duration::ZERO, Duration::ZERO);
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(50.0));
        assert_eq!(percentile(&v, 0.95), Some(95.0));
        assert_eq!(percentile(&v, 0.99), Some(99.0));
        assert_eq!(percentile(&v, 1.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 0.99), Some(7.0));
        assert_eq!(percentile(&[], 0.5), None);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 0.5), Some(2.0));
    }

    #[test]
    fn times_summarise_unsorted_input() {
        let mut t = Times::default();
        for ms in [30, 10, 20] {
            t.push(Duration::from_millis(ms));
        }
        let s = t.summary();
        assert_eq!(s["p50"], 20.0);
        assert_eq!(s["max"], 30.0);
        assert_eq!(s["n"], 3);
        assert!(Times::default().line().contains("p50 -"));
    }

    #[test]
    fn failures_are_counted_by_reason() {
        let mut side = Side::default();
        side.fail(Failure::Status(486));
        side.fail(Failure::Status(486));
        side.fail(Failure::NoAck);
        assert_eq!(side.failed(), 3);
        assert_eq!(side.json()["failures"]["status_486"], 2);
    }
}
