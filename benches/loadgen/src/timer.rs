//! Retransmission over UDP, RFC 3261 17.1.1.2, 17.1.2.2 and 13.3.1.4: when to send a
//! request (or a 2xx) again and when to give up. Pure: the caller passes the time in.

use std::time::{Duration, Instant};

/// RTT estimate, the first retransmission interval.
pub const T1: Duration = Duration::from_millis(500);
/// The longest interval for non-INVITE requests and 2xx responses.
pub const T2: Duration = Duration::from_secs(4);

/// What a retransmission timer asks for at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet.
    Wait,
    /// Send the message again (its retransmission number, from 1).
    Resend(u32),
    /// The transaction timed out (timer B, F or H).
    GiveUp,
}

/// One message's retransmission schedule.
#[derive(Debug, Clone)]
pub struct Retransmit {
    /// When to resend next; `None` once a provisional response stopped an INVITE's resends.
    next: Option<Instant>,
    interval: Duration,
    /// Intervals double up to this (T2), or without bound for an INVITE (timer A).
    cap: Option<Duration>,
    gives_up: Instant,
    sent: u32,
}

impl Retransmit {
    /// An INVITE client transaction: timer A from T1, doubling; timer B at 64·T1.
    pub fn invite(now: Instant) -> Retransmit {
        Retransmit::new(now, None)
    }

    /// A non-INVITE client transaction (BYE): timer E from T1, doubling up to T2; timer F at
    /// 64·T1.
    pub fn non_invite(now: Instant) -> Retransmit {
        Retransmit::new(now, Some(T2))
    }

    /// A UAS's 2xx to an INVITE, until the ACK: from T1, doubling up to T2; given up at
    /// 64·T1 (timer H's span).
    pub fn answer(now: Instant) -> Retransmit {
        Retransmit::new(now, Some(T2))
    }

    fn new(now: Instant, cap: Option<Duration>) -> Retransmit {
        Retransmit {
            next: Some(now + T1),
            interval: T1,
            cap,
            gives_up: now + 64 * T1,
            sent: 0,
        }
    }

    /// A provisional response arrived: an INVITE stops resending (the give-up time stays,
    /// the caller decides what a long wait means); a non-INVITE resends every T2.
    pub fn provisional(&mut self, now: Instant) {
        match self.cap {
            None => self.next = None,
            Some(cap) => {
                self.interval = cap;
                self.next = Some(now + cap);
            }
        }
    }

    /// Moves the give-up time (an INVITE that is ringing waits longer than timer B).
    pub fn give_up_at(&mut self, at: Instant) {
        self.gives_up = at;
    }

    /// What is due at `now`; a resend schedules the next one.
    pub fn poll(&mut self, now: Instant) -> Due {
        if now >= self.gives_up {
            return Due::GiveUp;
        }
        match self.next {
            Some(at) if now >= at => {
                self.interval = match self.cap {
                    Some(cap) => (self.interval * 2).min(cap),
                    None => self.interval * 2,
                };
                self.next = Some(at + self.interval);
                self.sent += 1;
                Due::Resend(self.sent)
            }
            _ => Due::Wait,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Steps virtual time by 10 ms and returns the times (ms after the start) of resends and
    /// of giving up.
    fn run(mut r: Retransmit, t0: Instant, until_ms: u64) -> (Vec<u64>, Option<u64>) {
        let mut resends = Vec::new();
        for ms in (0..=until_ms).step_by(10) {
            match r.poll(t0 + Duration::from_millis(ms)) {
                Due::Wait => {}
                Due::Resend(_) => resends.push(ms),
                Due::GiveUp => return (resends, Some(ms)),
            }
        }
        (resends, None)
    }

    #[test]
    fn an_invite_is_resent_with_doubling_intervals_until_timer_b() {
        let t0 = Instant::now();
        let (resends, gave_up) = run(Retransmit::invite(t0), t0, 40_000);
        assert_eq!(resends, vec![500, 1500, 3500, 7500, 15_500, 31_500]);
        assert_eq!(gave_up, Some(32_000));
    }

    #[test]
    fn a_bye_is_resent_up_to_t2_until_timer_f() {
        let t0 = Instant::now();
        let (resends, gave_up) = run(Retransmit::non_invite(t0), t0, 40_000);
        assert_eq!(
            resends,
            vec![500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
        );
        assert_eq!(gave_up, Some(32_000));
    }

    #[test]
    fn a_ringing_invite_is_not_resent() {
        let t0 = Instant::now();
        let mut r = Retransmit::invite(t0);
        r.provisional(t0 + Duration::from_millis(100));
        r.give_up_at(t0 + Duration::from_secs(60));
        let (resends, gave_up) = run(r, t0, 70_000);
        assert!(resends.is_empty());
        assert_eq!(gave_up, Some(60_000));
    }

    #[test]
    fn a_bye_that_got_a_provisional_is_resent_every_t2() {
        let t0 = Instant::now();
        let mut r = Retransmit::non_invite(t0);
        r.provisional(t0 + Duration::from_millis(200));
        let (resends, _) = run(r, t0, 13_000);
        assert_eq!(resends, vec![4200, 8200, 12_200]);
    }
}
