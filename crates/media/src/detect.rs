//! Key detection for the voice menu, without IO: in-band DTMF tones in decoded audio
//! (Goertzel) and RFC 4733 telephone-events, each reported once per keypress.
//!
//! The tone detector follows the usual receiver rules (ITU-T Q.24, and what Asterisk and
//! spandsp do): 102-sample blocks (12.75 ms) tested for one row and one column tone with
//! enough level, most of the block's energy, a limited twist, no rival tone in either group
//! and no strong second harmonic; a key starts after two hit blocks in a row (≈ 25–40 ms of
//! tone) and ends after three missed blocks (≈ 40 ms of gap).

use crate::dtmf::TelephoneEvent;

/// Samples per analysis block: 12.75 ms, the classic size that still separates the rows
/// (73 Hz apart) while keeping the timing rules fine-grained.
const BLOCK: usize = 102;
/// Row (low group) frequencies in Hz.
const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// Column (high group) frequencies in Hz.
const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
/// Keys by row, then column.
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];
/// Consecutive hit blocks before a key counts: at least one full block plus most of
/// another, so tones under ~20 ms are rejected and 40 ms tones always pass.
const HITS_TO_BEGIN: u8 = 2;
/// Consecutive missed blocks that end a key, so the same key can count again: ≈ 40 ms.
const MISSES_TO_END: u8 = 3;
/// Weakest tone accepted, per frequency, as Goertzel power of normalised samples: a sine of
/// amplitude 0.0069 (about −40 dBm0) gives (0.0069 × 51)² ≈ 0.125.
const MIN_POWER: f32 = 0.125;
/// The low (row) tone may be up to 8 dB louder than the high one ("normal" twist, the
/// line's high-frequency loss) ...
const NORMAL_TWIST: f32 = 6.31;
/// ... and the high (column) tone up to 4 dB louder than the low one ("reverse" twist).
const REVERSE_TWIST: f32 = 2.51;
/// A rival frequency of the same group within 8 dB of the strongest means speech or music.
const RELATIVE_PEAK: f32 = 6.31;
/// Share of the block's energy the two tones must hold: a dual tone has nearly all of it,
/// speech and half-covered blocks (tone edges) much less.
const TONE_SHARE: f32 = 0.8;
/// The second harmonic of the row tone must be this far below it (3 dB): real rows leak
/// into 2·f from the nearby column tone, voiced speech has it strong.
const ROW_HARMONIC: f32 = 2.0;
/// The second harmonic of the column tone must be this far below it (12 dB): nothing of a
/// dual tone is up there.
const COL_HARMONIC: f32 = 15.85;
/// Keys that may wait to be returned when one chunk holds the starts of several.
const PENDING_MAX: usize = 8;

/// In-band DTMF detector for one caller's decoded 8 kHz audio.
#[derive(Debug, Clone)]
pub struct ToneDetector {
    coeffs: Coeffs,
    block: [f32; BLOCK],
    filled: usize,
    /// The key reported last and not yet ended by a gap.
    current: Option<char>,
    /// A key hit in the last block(s) that has not started yet.
    candidate: Option<char>,
    hits: u8,
    misses: u8,
    pending: [char; PENDING_MAX],
    pending_len: usize,
}

/// Goertzel coefficients `2·cos(2πf/8000)` of the eight tones and their second harmonics.
#[derive(Debug, Clone, Copy)]
struct Coeffs {
    rows: [f32; 4],
    cols: [f32; 4],
    rows2: [f32; 4],
    cols2: [f32; 4],
}

impl Coeffs {
    fn new() -> Coeffs {
        let c = |f: f32| 2.0 * (2.0 * std::f32::consts::PI * f / 8_000.0).cos();
        Coeffs {
            rows: ROWS.map(c),
            cols: COLS.map(c),
            rows2: ROWS.map(|f| c(2.0 * f)),
            cols2: COLS.map(|f| c(2.0 * f)),
        }
    }
}

impl Default for ToneDetector {
    fn default() -> Self {
        ToneDetector::new()
    }
}

impl ToneDetector {
    /// A detector with no key in progress.
    pub fn new() -> Self {
        ToneDetector {
            coeffs: Coeffs::new(),
            block: [0.0; BLOCK],
            filled: 0,
            current: None,
            candidate: None,
            hits: 0,
            misses: 0,
            pending: ['\0'; PENDING_MAX],
            pending_len: 0,
        }
    }

    /// Feeds decoded audio in any chunk size; returns a key at its start. Should one chunk
    /// hold the starts of two keys, the next call (an empty slice will do) returns the second.
    pub fn feed(&mut self, samples: &[i16]) -> Option<char> {
        let mut rest = samples;
        while !rest.is_empty() {
            let room = BLOCK - self.filled;
            let (now, later) = rest.split_at(room.min(rest.len()));
            let free = self.block.get_mut(self.filled..).unwrap_or_default();
            for (slot, &s) in free.iter_mut().zip(now) {
                *slot = f32::from(s) / 32_768.0;
            }
            self.filled += now.len();
            rest = later;
            if self.filled == BLOCK {
                self.filled = 0;
                let hit = self.analyse();
                if let Some(key) = self.step(hit) {
                    self.push_pending(key);
                }
            }
        }
        self.pop_pending()
    }

    /// Forgets any key in progress and any partial block (the caller's audio was cut, e.g.
    /// while an agent was connected).
    pub fn reset(&mut self) {
        *self = ToneDetector {
            coeffs: self.coeffs,
            ..ToneDetector::new()
        };
    }

    /// Advances the start/end rules by one block; returns a key that just started.
    fn step(&mut self, hit: Option<char>) -> Option<char> {
        match hit {
            Some(key) if Some(key) == self.current => {
                self.misses = 0;
                None
            }
            Some(key) => {
                if self.candidate == Some(key) {
                    self.hits = self.hits.saturating_add(1);
                } else {
                    self.candidate = Some(key);
                    self.hits = 1;
                }
                self.miss();
                if self.hits >= HITS_TO_BEGIN {
                    self.current = Some(key);
                    self.candidate = None;
                    self.misses = 0;
                    return Some(key);
                }
                None
            }
            None => {
                self.candidate = None;
                self.hits = 0;
                self.miss();
                None
            }
        }
    }

    /// One block without the current key.
    fn miss(&mut self) {
        if self.current.is_some() {
            self.misses = self.misses.saturating_add(1);
            if self.misses >= MISSES_TO_END {
                self.current = None;
                self.misses = 0;
            }
        }
    }

    /// The key whose dual tone fills the current block, if any.
    fn analyse(&self) -> Option<char> {
        let block = &self.block;
        let rows = self.coeffs.rows.map(|c| goertzel(block, c));
        let cols = self.coeffs.cols.map(|c| goertzel(block, c));
        let (r, row) = strongest(&rows)?;
        let (c, col) = strongest(&cols)?;
        if row < MIN_POWER || col < MIN_POWER {
            return None;
        }
        if row > col * NORMAL_TWIST || col > row * REVERSE_TWIST {
            return None;
        }
        let rival = |powers: &[f32; 4], best: usize, peak: f32| {
            powers
                .iter()
                .enumerate()
                .any(|(i, &p)| i != best && p * RELATIVE_PEAK > peak)
        };
        if rival(&rows, r, row) || rival(&cols, c, col) {
            return None;
        }
        let energy: f32 = block.iter().map(|x| x * x).sum();
        if row + col < TONE_SHARE * (BLOCK as f32 / 2.0) * energy {
            return None;
        }
        let row2 = goertzel(block, *self.coeffs.rows2.get(r)?);
        let col2 = goertzel(block, *self.coeffs.cols2.get(c)?);
        if row2 * ROW_HARMONIC > row || col2 * COL_HARMONIC > col {
            return None;
        }
        KEYS.get(r)?.get(c).copied()
    }

    fn push_pending(&mut self, key: char) {
        if let Some(slot) = self.pending.get_mut(self.pending_len) {
            *slot = key;
            self.pending_len += 1;
        }
    }

    fn pop_pending(&mut self) -> Option<char> {
        if self.pending_len == 0 {
            return None;
        }
        let key = self.pending[0];
        self.pending.copy_within(1.., 0);
        self.pending_len -= 1;
        Some(key)
    }
}

/// Goertzel power of `block` at the frequency whose coefficient is `coeff`: about
/// (amplitude × len / 2)² for a sine there.
fn goertzel(block: &[f32], coeff: f32) -> f32 {
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in block {
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

/// Index and power of the strongest of four.
fn strongest(powers: &[f32; 4]) -> Option<(usize, f32)> {
    powers
        .iter()
        .copied()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Reports each RFC 4733 keypress once, whatever mix of start, continuation and (three)
/// end packets carries it.
#[derive(Debug, Clone, Default)]
pub struct EventDeduper {
    /// The event reported last: its source, timestamp (one per event) and code.
    last: Option<(u32, u32, u8)>,
}

impl EventDeduper {
    /// A deduper that has seen no event.
    pub fn new() -> Self {
        EventDeduper::default()
    }

    /// The key of `event` if it is a DTMF event not reported yet. Packets of an event share
    /// its RTP timestamp; a late packet of an older event of the same source is ignored.
    pub fn on_event(&mut self, ssrc: u32, timestamp: u32, event: &TelephoneEvent) -> Option<char> {
        let key = event.digit()?;
        if let Some((last_ssrc, last_ts, last_code)) = self.last {
            if last_ssrc == ssrc {
                let age = timestamp.wrapping_sub(last_ts) as i32;
                if age < 0 || (age == 0 && last_code == event.event) {
                    return None;
                }
            }
        }
        self.last = Some((ssrc, timestamp, event.event));
        Some(key)
    }
}

#[cfg(test)]
#[path = "detect_tests.rs"]
mod tests;
