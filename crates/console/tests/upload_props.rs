//! Property tests of the uploaded-prompt decoder (a parser of whatever an admin's browser
//! sends): no input panics it; a WAV of any rate and channel count comes out at 8 kHz, as
//! long as it went in; a damaged file is refused or read in part, never more.

use hotline_console::voice::convert::{to_prompt, ConvertError, COMMON_RATES, PROMPT_RATE};
use proptest::prelude::*;

fn wav(rate: u32, channels: u16, frames: usize, seed: i16) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut bytes = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
    for i in 0..frames * channels as usize {
        w.write_sample((i as i16).wrapping_mul(seed)).unwrap();
    }
    w.finalize().unwrap();
    bytes.into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_bytes_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = to_prompt(bytes);
    }

    #[test]
    fn a_damaged_wav_is_refused_or_read_in_part(
        rate in prop::sample::select(vec![8_000u32, 11_025, 16_000, 22_050, 44_100, 48_000]),
        flips in prop::collection::vec((0usize..4096, any::<u8>()), 1..16),
        cut in 0usize..4096,
    ) {
        let mut bytes = wav(rate, 2, 1_000, 7);
        for (at, x) in flips {
            let n = bytes.len();
            bytes[at % n] ^= x;
        }
        bytes.truncate(cut.max(1).min(bytes.len()));
        if let Ok(pcm) = to_prompt(bytes) {
            // Never more than the file could hold at 8 kHz, plus the resampler's rounding.
            prop_assert!(pcm.len() <= 4_096 * PROMPT_RATE as usize / 8_000 + 1);
        }
    }

    #[test]
    fn an_uncommon_rate_is_refused(rate in 4_000u32..200_000) {
        prop_assume!(!COMMON_RATES.contains(&rate));
        prop_assert_eq!(to_prompt(wav(rate, 1, 100, 3)), Err(ConvertError::Rate));
    }

    #[test]
    fn any_common_rate_and_channels_come_out_at_8_khz_as_long_as_they_went_in(
        rate in prop::sample::select(COMMON_RATES.to_vec()),
        channels in 1u16..=6,
        frames in 1usize..6_000,
    ) {
        let pcm = to_prompt(wav(rate, channels, frames, 13)).unwrap();
        let expected = (frames as u64 * 8_000).div_ceil(u64::from(rate)) as usize;
        prop_assert_eq!(pcm.len(), expected);
    }
}
