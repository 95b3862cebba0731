//! Linear PCM mixing for supervision: a small jitter buffer per source and saturating sums,
//! without sockets or clock.
//!
//! While a supervisor listens, whispers or barges, the call's task mixes on its own 20 ms
//! tick: each source's packets are decoded into its [`Jitter`] buffer as they arrive, and each
//! tick takes one frame from every buffer and sums the frames each listener should hear. The
//! sources' packets arrive at their own pace and phase, so a buffer rather than a single
//! "latest frame" slot: a packet landing just after a tick is played on the next one instead
//! of being overwritten, and phones sending 10 or 30 ms packets mix as well as 20 ms ones.

use super::player::FRAME;

/// Samples a source may have waiting: three frames (60 ms). A source running ahead of the
/// tick (a burst after a network stall, a fast sender clock) loses its oldest audio rather
/// than adding delay to the conversation for the rest of the call.
pub(crate) const JITTER_CAPACITY: usize = 3 * FRAME;

/// One source's audio waiting for the tick: a ring of linear PCM, oldest first.
#[derive(Debug)]
pub(crate) struct Jitter {
    ring: [i16; JITTER_CAPACITY],
    /// Index of the oldest sample.
    head: usize,
    /// Samples waiting.
    len: usize,
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter {
            ring: [0; JITTER_CAPACITY],
            head: 0,
            len: 0,
        }
    }
}

impl Jitter {
    /// Queues `samples`, dropping the oldest waiting ones if the buffer is full.
    pub(crate) fn push(&mut self, samples: &[i16]) {
        // Only the newest samples can survive a push longer than the buffer.
        let samples = samples
            .get(samples.len().saturating_sub(JITTER_CAPACITY)..)
            .unwrap_or_default();
        let overflow = (self.len + samples.len()).saturating_sub(JITTER_CAPACITY);
        self.head = (self.head + overflow) % JITTER_CAPACITY;
        self.len -= overflow;
        let mut at = (self.head + self.len) % JITTER_CAPACITY;
        for &s in samples {
            if let Some(slot) = self.ring.get_mut(at) {
                *slot = s;
            }
            at = (at + 1) % JITTER_CAPACITY;
        }
        self.len += samples.len();
    }

    /// Takes the next frame into `frame`, padding with silence when less is waiting; false if
    /// nothing was (the source is silent, late or gone).
    pub(crate) fn pop(&mut self, frame: &mut [i16; FRAME]) -> bool {
        let n = self.len.min(FRAME);
        for (k, out) in frame.iter_mut().enumerate() {
            *out = if k < n {
                self.ring
                    .get((self.head + k) % JITTER_CAPACITY)
                    .copied()
                    .unwrap_or(0)
            } else {
                0
            };
        }
        self.head = (self.head + n) % JITTER_CAPACITY;
        self.len -= n;
        n > 0
    }

    /// Forgets what waits (the source's leg was replaced or left).
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Samples waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Adds `add` into `acc` sample by sample, clipping at the 16-bit limits: two loud voices
/// then sound clipped rather than wrapping round into loud noise.
pub(crate) fn mix_into(acc: &mut [i16; FRAME], add: &[i16; FRAME]) {
    for (a, &b) in acc.iter_mut().zip(add) {
        *a = a.saturating_add(b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(value: i16) -> [i16; FRAME] {
        [value; FRAME]
    }

    #[test]
    fn sums_saturate_at_both_limits() {
        let mut acc = frame(30_000);
        mix_into(&mut acc, &frame(10_000));
        assert!(acc.iter().all(|&s| s == i16::MAX));
        let mut acc = frame(-30_000);
        mix_into(&mut acc, &frame(-10_000));
        assert!(acc.iter().all(|&s| s == i16::MIN));
        let mut acc = frame(1_234);
        mix_into(&mut acc, &frame(-234));
        assert!(acc.iter().all(|&s| s == 1_000), "exact inside the range");
        let mut acc = frame(i16::MIN);
        mix_into(&mut acc, &frame(i16::MAX));
        assert!(acc.iter().all(|&s| s == -1));
    }

    #[test]
    fn frames_come_out_in_order_and_short_ones_are_padded() {
        let mut j = Jitter::default();
        let mut f = frame(9);
        assert!(!j.pop(&mut f), "nothing waits");
        assert_eq!(f, frame(0), "silence");
        j.push(&[1; FRAME]);
        j.push(&[2; 80]); // a 10 ms packet
        assert!(j.pop(&mut f));
        assert_eq!(f, frame(1));
        assert!(j.pop(&mut f));
        assert_eq!((f[0], f[79], f[80], f[159]), (2, 2, 0, 0));
        assert_eq!(j.len(), 0);
    }

    #[test]
    fn a_full_buffer_drops_the_oldest_audio() {
        let mut j = Jitter::default();
        for v in 1..=5 {
            j.push(&[v; FRAME]);
        }
        assert_eq!(j.len(), JITTER_CAPACITY);
        let mut f = frame(0);
        for v in 3..=5 {
            assert!(j.pop(&mut f));
            assert_eq!(f, frame(v), "the newest three frames remain");
        }
        assert!(!j.pop(&mut f));
        // A push longer than the whole buffer keeps its tail, wrapping round the ring.
        j.push(&[7; 100]);
        j.pop(&mut f);
        let long: Vec<i16> = (0..1_000).map(|n| n as i16).collect();
        j.push(&long);
        assert!(j.pop(&mut f));
        assert_eq!(f[0], 520);
        j.clear();
        assert!(!j.pop(&mut f));
    }
}
