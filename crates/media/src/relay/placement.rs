//! Where a packet's audio goes in the recording: by its RTP timestamp, anchored to the time
//! its stream started, so network jitter does not smear the recording.
//!
//! The anchor is the first packet's arrival. It moves earlier only for a packet that arrives
//! more than [`EARLY_TOLERANCE`] before its placement (audio cannot arrive before it was
//! spoken, so the first packet was that late), and is reset when the stream restarts (new
//! SSRC) or falls more than [`MAX_BEHIND`] behind the clock (timestamp jump, sender clock
//! drift). Every move is a seam in the recording, so scheduling jitter alone never makes one.

/// How far behind real time a stream may be placed before it is re-anchored: one second.
pub(crate) const MAX_BEHIND: i64 = 8_000;

/// How much earlier than its placement a packet may arrive and still keep the stream where
/// it is: 60 ms, a jitter buffer's worth. A steady lag that small between the two channels
/// is inaudible; a seam for every late first packet is a click.
pub(crate) const EARLY_TOLERANCE: i64 = 480;

/// Maps one stream's RTP timestamps to sample indices since the call was answered.
#[derive(Debug, Default, Clone)]
pub(crate) struct StreamClock {
    anchor: Option<Anchor>,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    ssrc: u32,
    timestamp: u32,
    at: i64,
}

impl StreamClock {
    /// The sample index of a packet of `len` samples with `timestamp`, arriving `now`
    /// samples after the answer.
    pub(crate) fn place(&mut self, ssrc: u32, timestamp: u32, len: u64, now: u64) -> u64 {
        let now = i64::try_from(now).unwrap_or(i64::MAX);
        let len = i64::try_from(len).unwrap_or(0);
        let just_spoken = (now - len).max(0);
        let placed = match self.anchor {
            Some(a) if a.ssrc == ssrc => {
                let offset = i64::from(timestamp.wrapping_sub(a.timestamp) as i32);
                Some(a.at + offset)
            }
            _ => None,
        };
        let at = match placed {
            Some(at)
                if at >= 0
                    && at <= just_spoken.saturating_add(EARLY_TOLERANCE)
                    && just_spoken - at <= MAX_BEHIND =>
            {
                return at as u64
            }
            // Far earlier than the anchor said (the first packet was slow), far behind, or a
            // new stream: anchor here.
            _ => just_spoken,
        };
        self.anchor = Some(Anchor {
            ssrc,
            timestamp,
            at,
        });
        at as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_does_not_move_packets() {
        let mut c = StreamClock::default();
        assert_eq!(c.place(1, 1000, 160, 160), 0);
        // Second packet 30 ms late, third on time: both land where their timestamps say.
        assert_eq!(c.place(1, 1160, 160, 320 + 240), 160);
        assert_eq!(c.place(1, 1320, 160, 480), 320);
    }

    #[test]
    fn a_slightly_faster_packet_keeps_the_stream_seamless() {
        let mut c = StreamClock::default();
        assert_eq!(c.place(1, 0, 160, 400), 240); // first packet was 30 ms slow
        assert_eq!(c.place(1, 160, 160, 320), 400);
        assert_eq!(c.place(1, 320, 160, 480), 560);
    }

    #[test]
    fn a_much_faster_packet_pulls_the_anchor_earlier() {
        let mut c = StreamClock::default();
        assert_eq!(c.place(1, 0, 160, 1_000), 840); // first packet was 105 ms slow
        assert_eq!(c.place(1, 160, 160, 320), 160);
        assert_eq!(c.place(1, 320, 160, 480), 320);
    }

    #[test]
    fn timestamp_wraps() {
        let mut c = StreamClock::default();
        assert_eq!(c.place(1, u32::MAX - 79, 160, 160), 0);
        assert_eq!(c.place(1, 80, 160, 320), 160);
    }

    #[test]
    fn new_ssrc_or_a_big_jump_back_reanchors() {
        let mut c = StreamClock::default();
        c.place(1, 0, 160, 160);
        assert_eq!(c.place(2, 999_999, 160, 16_160), 16_000);
        assert_eq!(c.place(2, 999_999 - 20_000, 160, 16_320), 16_160);
    }

    #[test]
    fn silence_suppression_keeps_the_gap() {
        let mut c = StreamClock::default();
        c.place(1, 0, 160, 160);
        // The phone sent nothing for 2 s of silence; timestamps kept counting.
        assert_eq!(c.place(1, 16_160, 160, 16_320), 16_160);
    }
}
