//! G.711 (ITU-T G.711) μ-law and A-law: what every desk phone and carrier trunk speaks.
//!
//! Decoding and μ-law↔A-law transcoding are 256-entry tables built at compile time, so the
//! relay's per-packet work is one table lookup per byte.

// Every index here is a u8 into a 256-entry table or a counter below 8 in a const fn: it
// cannot miss, and the per-sample hot path must stay a plain table lookup.
#![allow(clippy::indexing_slicing)]

/// The two G.711 codecs hotline relays and records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// μ-law, static RTP payload type 0.
    Pcmu,
    /// A-law, static RTP payload type 8: what Chinese carriers use.
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551).
    pub const fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The codec with static payload type `pt`, if it is one of ours.
    pub const fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The encoding name used in SDP `a=rtpmap`.
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The byte that decodes to silence, for filling.
    pub const fn silence(self) -> u8 {
        match self {
            Codec::Pcmu => 0xFF,
            Codec::Pcma => 0xD5,
        }
    }

    /// Decodes one byte to 16-bit linear PCM.
    #[inline]
    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ULAW_DECODE[byte as usize],
            Codec::Pcma => ALAW_DECODE[byte as usize],
        }
    }

    /// Encodes one 16-bit linear PCM sample.
    #[inline]
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => ulaw_encode(sample),
            Codec::Pcma => alaw_encode(sample),
        }
    }

    /// Decodes `payload` into `out`, returning how many samples were written (the shorter
    /// of the two lengths).
    pub fn decode_into(self, payload: &[u8], out: &mut [i16]) -> usize {
        let table = match self {
            Codec::Pcmu => &ULAW_DECODE,
            Codec::Pcma => &ALAW_DECODE,
        };
        let n = payload.len().min(out.len());
        for (o, &b) in out.iter_mut().zip(payload) {
            *o = table[b as usize];
        }
        n
    }

    /// Encodes `samples` into `out`, returning how many bytes were written.
    pub fn encode_into(self, samples: &[i16], out: &mut [u8]) -> usize {
        let n = samples.len().min(out.len());
        for (o, &s) in out.iter_mut().zip(samples) {
            *o = self.encode(s);
        }
        n
    }
}

/// Rewrites `payload` in place from codec `from` to codec `to` (a no-op if they are equal).
#[inline]
pub fn transcode_in_place(from: Codec, to: Codec, payload: &mut [u8]) {
    let table = match (from, to) {
        (Codec::Pcmu, Codec::Pcma) => &ULAW_TO_ALAW,
        (Codec::Pcma, Codec::Pcmu) => &ALAW_TO_ULAW,
        _ => return,
    };
    for b in payload {
        *b = table[*b as usize];
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
const ULAW_SEG_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const ALAW_SEG_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// The first segment whose end is at least `value`, or 8 if none.
const fn segment(value: i32, ends: &[i32; 8]) -> i32 {
    let mut i = 0;
    while i < 8 {
        if value <= ends[i] {
            return i as i32;
        }
        i += 1;
    }
    8
}

/// μ-law encoding of a 16-bit sample (the G.711 reference algorithm on 14 bits).
pub const fn ulaw_encode(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 2;
    let mask = if pcm < 0 {
        pcm = -pcm;
        0x7F
    } else {
        0xFF
    };
    if pcm > ULAW_CLIP {
        pcm = ULAW_CLIP;
    }
    pcm += ULAW_BIAS >> 2;
    let seg = segment(pcm, &ULAW_SEG_END);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let uval = (seg << 4) | ((pcm >> (seg + 1)) & 0xF);
    (uval ^ mask) as u8
}

/// A-law encoding of a 16-bit sample (the G.711 reference algorithm on 13 bits).
pub const fn alaw_encode(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3;
    let mask = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    let seg = segment(pcm, &ALAW_SEG_END);
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let quant = if seg < 2 {
        (pcm >> 1) & 0xF
    } else {
        (pcm >> seg) & 0xF
    };
    (((seg << 4) | quant) ^ mask) as u8
}

const fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte as i32;
    let t = (((u & 0xF) << 3) + ULAW_BIAS) << ((u & 0x70) >> 4);
    if u & 0x80 != 0 {
        (ULAW_BIAS - t) as i16
    } else {
        (t - ULAW_BIAS) as i16
    }
}

const fn alaw_decode(byte: u8) -> i16 {
    let a = (byte ^ 0x55) as i32;
    let mut t = (a & 0xF) << 4;
    let seg = (a & 0x70) >> 4;
    t += match seg {
        0 => 8,
        _ => 0x108,
    };
    if seg > 1 {
        t <<= seg - 1;
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn build_decode(law: Codec) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match law {
            Codec::Pcmu => ulaw_decode(i as u8),
            Codec::Pcma => alaw_decode(i as u8),
        };
        i += 1;
    }
    table
}

const fn build_transcode(from: Codec) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match from {
            Codec::Pcmu => alaw_encode(ulaw_decode(i as u8)),
            Codec::Pcma => ulaw_encode(alaw_decode(i as u8)),
        };
        i += 1;
    }
    table
}

/// μ-law byte → linear sample.
static ULAW_DECODE: [i16; 256] = build_decode(Codec::Pcmu);
/// A-law byte → linear sample.
static ALAW_DECODE: [i16; 256] = build_decode(Codec::Pcma);
/// μ-law byte → the A-law byte nearest in sound.
static ULAW_TO_ALAW: [u8; 256] = build_transcode(Codec::Pcmu);
/// A-law byte → the μ-law byte nearest in sound.
static ALAW_TO_ULAW: [u8; 256] = build_transcode(Codec::Pcma);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_values_decode() {
        assert_eq!(Codec::Pcmu.decode(0x00), -32124);
        assert_eq!(Codec::Pcmu.decode(0x80), 32124);
        assert_eq!(Codec::Pcmu.decode(0xFF), 0);
        assert_eq!(Codec::Pcma.decode(0xD5), 8);
        assert_eq!(Codec::Pcma.decode(0x55), -8);
        assert_eq!(Codec::Pcma.decode(0xAA), 32256);
        assert_eq!(Codec::Pcma.decode(0x2A), -32256);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for b in 0..=255u8 {
            assert_eq!(alaw_encode(Codec::Pcma.decode(b)), b, "A-law {b:#x}");
            // μ-law has two zeros (0x7F and 0xFF); encoding 0 gives 0xFF.
            if b != 0x7F {
                assert_eq!(ulaw_encode(Codec::Pcmu.decode(b)), b, "μ-law {b:#x}");
            }
        }
    }

    #[test]
    fn silence_bytes_decode_to_near_zero() {
        assert!(Codec::Pcmu.decode(Codec::Pcmu.silence()).abs() <= 8);
        assert!(Codec::Pcma.decode(Codec::Pcma.silence()).abs() <= 8);
    }

    #[test]
    fn encoding_is_monotonic_in_sound() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut last = i16::MIN;
            for s in (i16::MIN..=i16::MAX).step_by(7) {
                let d = codec.decode(codec.encode(s));
                assert!(d >= last, "{codec:?} at {s}");
                last = d;
            }
        }
    }

    #[test]
    fn a_sine_keeps_over_30_db_snr_through_each_law_and_through_transcoding() {
        let sine: Vec<i16> = (0..8000)
            .map(|i| {
                (12000.0 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as i16
            })
            .collect();
        let snr = |out: &[i16]| {
            let (sig, noise) = sine.iter().zip(out).fold((0.0, 0.0), |(s, n), (&a, &b)| {
                let e = f64::from(a) - f64::from(b);
                (s + f64::from(a).powi(2), n + e * e)
            });
            10.0 * (sig / noise).log10()
        };
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let out: Vec<i16> = sine
                .iter()
                .map(|&s| codec.decode(codec.encode(s)))
                .collect();
            assert!(snr(&out) > 30.0, "{codec:?}: {}", snr(&out));
        }
        let mut bytes: Vec<u8> = sine.iter().map(|&s| ulaw_encode(s)).collect();
        transcode_in_place(Codec::Pcmu, Codec::Pcma, &mut bytes);
        let out: Vec<i16> = bytes.iter().map(|&b| Codec::Pcma.decode(b)).collect();
        assert!(snr(&out) > 30.0, "μ→A: {}", snr(&out));
    }

    #[test]
    fn transcoding_matches_decode_then_encode() {
        for b in 0..=255u8 {
            let mut one = [b];
            transcode_in_place(Codec::Pcma, Codec::Pcmu, &mut one);
            assert_eq!(one[0], ulaw_encode(alaw_decode(b)));
        }
    }

    #[test]
    fn payload_types_are_the_static_ones() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            assert_eq!(Codec::from_payload_type(codec.payload_type()), Some(codec));
        }
        assert_eq!(Codec::from_payload_type(18), None);
    }
}
