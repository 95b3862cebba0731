//! Interleaves the two channels of a recording by sample index, with no IO, so the alignment
//! rules can be tested on their own.
//!
//! Each call mixes its own recording with one of these, packet by packet.
//!
//! The rules: a gap is silence, a later write over the same samples wins, frames are emitted
//! once both channels are [`REORDER_HOLD`] past them (so a packet that came out of order
//! still lands), or with silence on the lagging side once the other is more than
//! [`MAX_LAG`] ahead (a phone that sends nothing must not hold the file back).

use super::Channel;

/// How far one channel may run ahead of the other before the lagging one is written as
/// silence: one second at 8 kHz.
pub(crate) const MAX_LAG: u64 = 8_000;

/// Audio kept unwritten behind the slower channel, so packets that come out of order (or a
/// phone's burst after a stall) can still land: 60 ms, three packets.
pub(crate) const REORDER_HOLD: u64 = 480;

/// Samples of one channel not yet emitted: `buf[head..]`, so emitting is a cursor move and
/// the buffer is compacted only now and then.
#[derive(Debug, Default)]
struct Track {
    buf: Vec<i16>,
    head: usize,
}

/// Compact a track once this many emitted samples sit at its front: 50 ms, so in practice
/// at every block shipped (100 ms) and a track's buffer stays near its pending audio (each
/// call has two, and thousands of calls run; moving the 60 ms held back costs less than
/// keeping emitted audio around).
const COMPACT_AFTER: usize = 400;
/// Room a track's buffer is given beyond what a packet needs when it must grow: 40 ms.
/// Growth is by this much rather than by doubling, so a track holding 170 ms does not sit
/// in a buffer of 2,048 samples.
const SLACK: usize = 320;
/// A track's buffer holding more than this many samples of room beyond what it holds is
/// given the room back (after one channel ran far ahead of the other).
const SPARE_KEPT: usize = 4_096;

impl Track {
    fn len(&self) -> usize {
        self.buf.len() - self.head
    }

    fn pending(&self) -> &[i16] {
        self.buf.get(self.head..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.head += n.min(self.len());
        if self.head == self.buf.len() {
            self.buf.clear();
            self.head = 0;
        } else if self.head >= COMPACT_AFTER {
            self.buf.drain(..self.head);
            self.head = 0;
        }
        if self.buf.capacity() - self.buf.len() > SPARE_KEPT {
            self.buf.shrink_to(self.buf.len() + SLACK);
        }
    }

    /// Writes `samples` at `at` (from `buf`'s start), growing the buffer by [`SLACK`] beyond
    /// the need when it must grow.
    fn place(&mut self, at: usize, samples: &[i16]) {
        let end = at.saturating_add(samples.len()).max(self.buf.len());
        if end > self.buf.capacity() {
            self.buf.reserve_exact(end - self.buf.len() + SLACK);
        }
        overwrite_or_extend(&mut self.buf, at, samples);
    }
}

/// Pending samples of both channels, starting at frame `written`.
#[derive(Debug, Default)]
pub(crate) struct StereoMixer {
    written: u64,
    tracks: [Track; 2],
}

impl StereoMixer {
    /// Frames already emitted.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Frames of the longer channel not yet emitted.
    pub(crate) fn pending_max(&self) -> u64 {
        self.tracks
            .iter()
            .map(|t| t.len() as u64)
            .max()
            .unwrap_or(0)
    }

    /// Frames to emit before a chunk at `start` of `len` samples is placed, so that pending
    /// audio stays within about a second whatever index the chunk carries.
    pub(crate) fn advance_before(&self, start: u64, len: u64) -> u64 {
        let end = start.saturating_add(len);
        let too_far = end.saturating_sub(self.written).saturating_sub(MAX_LAG);
        too_far.min(start.saturating_sub(self.written))
    }

    /// Places `samples` at frame `start` of `channel`, dropping any part already emitted.
    ///
    /// Returns how many samples arrived too late to be written.
    pub(crate) fn place(&mut self, channel: Channel, start: u64, samples: &[i16]) -> u64 {
        let late = self.written.saturating_sub(start);
        let late_len = usize::try_from(late)
            .unwrap_or(usize::MAX)
            .min(samples.len());
        let Some(fresh) = samples.get(late_len..) else {
            return samples.len() as u64;
        };
        if fresh.is_empty() {
            return late_len as u64;
        }
        let offset =
            usize::try_from(start.saturating_add(late) - self.written).unwrap_or(usize::MAX);
        let track = channel.of(&mut self.tracks);
        let at = track.head.saturating_add(offset);
        track.place(at, fresh);
        late_len as u64
    }

    /// Frames that may be emitted now: those both channels are [`REORDER_HOLD`] past, or all
    /// but the last [`MAX_LAG`] of the leading channel.
    pub(crate) fn ready(&self) -> u64 {
        let [a, b] = [self.tracks[0].len() as u64, self.tracks[1].len() as u64];
        let both = a.min(b).saturating_sub(REORDER_HOLD);
        both.max(a.max(b).saturating_sub(MAX_LAG))
    }

    /// Appends `frames` frames to `out`, interleaved (left, right, …), silence where a
    /// channel has nothing, and forgets them.
    pub(crate) fn emit(&mut self, frames: usize, out: &mut Vec<i16>) {
        let [left, right] = [self.tracks[0].pending(), self.tracks[1].pending()];
        let start = out.len();
        out.resize(start + 2 * frames, 0);
        if let Some(dst) = out.get_mut(start..) {
            // Channel by channel over whole frames: a loop the compiler vectorises.
            for (frame, &l) in dst.chunks_exact_mut(2).zip(left.iter().take(frames)) {
                if let [slot, _] = frame {
                    *slot = l;
                }
            }
            for (frame, &r) in dst.chunks_exact_mut(2).zip(right.iter().take(frames)) {
                if let [_, slot] = frame {
                    *slot = r;
                }
            }
        }
        self.pass(frames as u64);
    }

    /// Forgets the next `frames` frames without emitting them: silence the caller of this
    /// writes some other way, once nothing is held for them.
    pub(crate) fn pass(&mut self, frames: u64) {
        let n = usize::try_from(frames).unwrap_or(usize::MAX);
        for track in &mut self.tracks {
            track.consume(n);
        }
        self.written = self.written.saturating_add(frames);
    }
}

/// Writes `samples` into `buf` at `at`, overwriting what is there and growing `buf` (with
/// silence across any gap) as needed.
fn overwrite_or_extend(buf: &mut Vec<i16>, at: usize, samples: &[i16]) {
    if at > buf.len() {
        buf.resize(at, 0);
    }
    let overlap = (buf.len() - at).min(samples.len());
    let (old, new) = samples.split_at(overlap);
    if let Some(slot) = buf.get_mut(at..at + overlap) {
        slot.copy_from_slice(old);
    }
    buf.extend_from_slice(new);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit_all(m: &mut StereoMixer, frames: u64) -> Vec<(i16, i16)> {
        let mut out = Vec::new();
        m.emit(frames as usize, &mut out);
        pairs(&out)
    }

    fn pairs(interleaved: &[i16]) -> Vec<(i16, i16)> {
        interleaved.chunks(2).map(|f| (f[0], f[1])).collect()
    }

    #[test]
    fn frames_wait_until_both_channels_are_past_them() {
        let hold = REORDER_HOLD as usize;
        let mut m = StereoMixer::default();
        m.place(Channel::Caller, 0, &vec![1; hold + 4]);
        assert_eq!(m.ready(), 0);
        m.place(Channel::Heard, 0, &vec![5; hold + 2]);
        assert_eq!(m.ready(), 2);
        assert_eq!(emit_all(&mut m, 2), vec![(1, 5), (1, 5)]);
        assert_eq!(m.written(), 2);
        assert_eq!(m.pending_max(), REORDER_HOLD + 2);
    }

    #[test]
    fn gap_is_silence_and_overlap_overwrites() {
        let mut m = StereoMixer::default();
        m.place(Channel::Caller, 0, &[1, 1]);
        m.place(Channel::Caller, 4, &[2, 2]);
        m.place(Channel::Caller, 5, &[3, 3]);
        m.place(Channel::Heard, 0, &[9; 7]);
        assert_eq!(m.pending_max(), 7);
        let left: Vec<i16> = emit_all(&mut m, 7).iter().map(|f| f.0).collect();
        assert_eq!(left, vec![1, 1, 0, 0, 2, 3, 3]);
    }

    /// A 10 s call mixed as the recording mixes it (20 ms packets, 100 ms blocks shipped):
    /// the caller alone for its first 1.5 s (the menu, the queue), then the agent too, 40 ms
    /// behind. Once both talk, each track's buffer stays near what it holds.
    #[test]
    fn a_steady_call_keeps_each_track_small() {
        let mut m = StereoMixer::default();
        let packet = 160;
        let mut most = 0;
        let ship = |m: &mut StereoMixer| {
            if m.ready() >= 800 {
                m.emit(m.ready() as usize, &mut Vec::new());
            }
        };
        for i in 0..(80_000 / packet as u64) {
            let at = i * packet as u64;
            m.place(Channel::Caller, at, &vec![1; packet]);
            ship(&mut m);
            if at >= 12_000 {
                m.place(Channel::Heard, at - 320, &vec![2; packet]);
                ship(&mut m);
            }
            if at >= 24_000 {
                most = most.max(m.tracks.iter().map(|t| t.buf.capacity()).max().unwrap_or(0));
            }
        }
        // Held back (480) + a block (800) + the agent's lag (320) + a packet (160) + slack
        // (320): about 2,100 samples, 4.2 KB a track.
        assert!(most <= 2_200, "a track's buffer reached {most} samples");
    }

    #[test]
    fn a_silent_channel_holds_back_at_most_one_second() {
        let mut m = StereoMixer::default();
        m.place(Channel::Caller, 0, &vec![7; 10_000]);
        assert_eq!(m.ready(), 2_000);
        let frames = emit_all(&mut m, 2_000);
        assert!(frames.iter().all(|&f| f == (7, 0)));
    }

    #[test]
    fn late_samples_are_dropped_not_rewritten() {
        let mut m = StereoMixer::default();
        m.place(Channel::Caller, 0, &[1; 4]);
        m.place(Channel::Heard, 0, &[1; 4]);
        emit_all(&mut m, 4);
        assert_eq!(m.place(Channel::Caller, 2, &[5; 4]), 2);
        assert_eq!(m.pending_max(), 2);
    }

    #[test]
    fn a_chunk_far_ahead_first_flushes_silence() {
        let mut m = StereoMixer::default();
        let start = 3_600 * 8_000;
        let advance = m.advance_before(start, 160);
        assert_eq!(advance, start + 160 - MAX_LAG);
        emit_all(&mut m, advance);
        m.place(Channel::Heard, start, &[3; 160]);
        assert_eq!(m.pending_max(), MAX_LAG);
    }

    #[test]
    fn a_long_chunk_is_never_clipped_by_its_own_advance() {
        let m = StereoMixer::default();
        assert_eq!(m.advance_before(100, 20_000), 100);
    }

    /// Runs chunks through the recording's steps, then finishes at `total`.
    fn run(chunks: &[(bool, u64, u16, i16)], total: u64) -> Vec<(i16, i16)> {
        let mut m = StereoMixer::default();
        let mut out = Vec::new();
        for &(left, start, len, value) in chunks {
            let channel = if left {
                Channel::Caller
            } else {
                Channel::Heard
            };
            let samples = vec![value; usize::from(len)];
            let advance = m.advance_before(start, u64::from(len));
            m.emit(advance as usize, &mut out);
            m.place(channel, start, &samples);
            let ready = m.ready();
            m.emit(ready as usize, &mut out);
            assert!(m.pending_max() <= MAX_LAG + u64::from(len));
        }
        let rest = total.saturating_sub(m.written());
        m.emit(rest as usize, &mut out);
        pairs(&out)
    }

    proptest::proptest! {
        #[test]
        fn output_is_silence_or_audio_pushed_for_that_sample(
            chunks in proptest::collection::vec(
                (proptest::bool::ANY, 0u64..40_000, 1u16..2_000, 1i16..100), 0..40),
            extra in 0u64..20_000,
        ) {
            let reached = chunks.iter().map(|c| c.1 + u64::from(c.2)).max().unwrap_or(0);
            let total = reached + extra;
            let frames = run(&chunks, total);
            proptest::prop_assert_eq!(frames.len() as u64, total);
            for (i, &(l, r)) in frames.iter().enumerate().take(total as usize) {
                let i = i as u64;
                let covers = |left: bool, v: i16| v == 0 || chunks.iter().any(|&(cl, s, n, cv)| {
                    cl == left && cv == v && (s..s + u64::from(n)).contains(&i)
                });
                proptest::prop_assert!(covers(true, l), "left {l} at {i}");
                proptest::prop_assert!(covers(false, r), "right {r} at {i}");
            }
        }
    }
}

#[cfg(test)]
mod overwrite_tests {
    use super::overwrite_or_extend;

    #[test]
    fn appends_overwrites_and_fills_gaps() {
        let mut buf = vec![1, 1];
        overwrite_or_extend(&mut buf, 2, &[2, 2]);
        overwrite_or_extend(&mut buf, 3, &[3, 3]);
        overwrite_or_extend(&mut buf, 7, &[4]);
        overwrite_or_extend(&mut buf, 0, &[5]);
        assert_eq!(buf, vec![5, 1, 2, 3, 3, 0, 0, 4]);
    }
}
