//! An uploaded prompt brought to what the switch plays: any common WAV (8 to 32-bit
//! integer, float, A-law, μ-law; any rate, any channels) or MP3, decoded by symphonia,
//! mixed down to mono and resampled to 8 kHz by rubato (an FFT resampler, whose low-pass
//! keeps a 44.1 kHz recording from folding its highs into the telephone band).

use std::io::Cursor;

use rubato::{FftFixedIn, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as DecodeError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// The rate the switch plays.
pub const PROMPT_RATE: u32 = 8_000;
/// The longest prompt taken: music on hold is the longest there is, and five minutes of
/// it is plenty; it also bounds what a small MP3 can unpack to.
pub const MAX_SECONDS: u64 = 300;
/// Input frames the resampler takes at a time.
const CHUNK: usize = 1_024;
/// The rates taken: those of telephones, broadcast, CDs and studios. An odd rate would make
/// the FFT resampler's blocks as long as the rate itself (a cost an upload must not choose).
pub const COMMON_RATES: [u32; 11] = [
    8_000, 11_025, 12_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000,
];

/// Why an upload is not a prompt.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConvertError {
    /// Not a WAV or MP3 the decoder knows.
    #[error("not a WAV or MP3 file this console can read")]
    Unreadable,
    /// No sound in it.
    #[error("the file holds no sound")]
    Empty,
    /// Longer than [`MAX_SECONDS`].
    #[error("longer than {MAX_SECONDS} seconds")]
    TooLong,
    /// Not one of the [`COMMON_RATES`].
    #[error("its sample rate is not a common one (8, 11.025, 12, 16, 22.05, 24, 32, 44.1, 48, 88.2 or 96 kHz)")]
    Rate,
}

/// The upload as 8 kHz mono 16-bit samples.
pub fn to_prompt(bytes: Vec<u8>) -> Result<Vec<i16>, ConvertError> {
    let (mono, rate) = decode(bytes)?;
    if mono.is_empty() {
        return Err(ConvertError::Empty);
    }
    let resampled = resample(&mono, rate)?;
    Ok(resampled.into_iter().map(to_i16).collect())
}

fn to_i16(s: f32) -> i16 {
    // Saturating: a clipped peak stays a peak instead of wrapping to its opposite.
    (s * 32_767.0).round().clamp(-32_768.0, 32_767.0) as i16
}

/// Decodes the file's first audio track to mono samples in [-1, 1], with their rate.
fn decode(bytes: Vec<u8>) -> Result<(Vec<f32>, u32), ConvertError> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let probed = symphonia::default::get_probe()
        .format(
            &Hint::new(),
            source,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|_| ConvertError::Unreadable)?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or(ConvertError::Unreadable)?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|_| ConvertError::Unreadable)?;
    let mut mono = Vec::new();
    let mut rate = track.codec_params.sample_rate;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            // The end of the stream is told by an end-of-file error.
            Err(DecodeError::IoError(_)) | Err(DecodeError::ResetRequired) => break,
            Err(_) => return Err(ConvertError::Unreadable),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged frame of an MP3 is skipped, as players do.
            Err(DecodeError::DecodeError(_)) => continue,
            Err(_) => return Err(ConvertError::Unreadable),
        };
        let spec = *decoded.spec();
        let packet_rate = *rate.get_or_insert(spec.rate);
        if packet_rate != spec.rate || spec.rate == 0 {
            return Err(ConvertError::Unreadable);
        }
        let channels = spec.channels.count().max(1);
        let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buf.copy_interleaved_ref(decoded);
        for frame in buf.samples().chunks(channels) {
            mono.push(frame.iter().sum::<f32>() / channels as f32);
        }
        if mono.len() as u64 > MAX_SECONDS * u64::from(packet_rate) {
            return Err(ConvertError::TooLong);
        }
    }
    Ok((mono, rate.unwrap_or(PROMPT_RATE)))
}

/// `mono` at `rate` brought to [`PROMPT_RATE`], as long as the original.
fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, ConvertError> {
    if rate == PROMPT_RATE {
        return Ok(mono.to_vec());
    }
    if !COMMON_RATES.contains(&rate) {
        return Err(ConvertError::Rate);
    }
    let mut resampler = FftFixedIn::<f32>::new(rate as usize, PROMPT_RATE as usize, CHUNK, 2, 1)
        .map_err(|_| ConvertError::Rate)?;
    let delay = resampler.output_delay();
    let wanted = (mono.len() as u64 * u64::from(PROMPT_RATE)).div_ceil(u64::from(rate)) as usize;
    let mut out = Vec::with_capacity(wanted + delay + CHUNK);
    let mut rest = mono;
    loop {
        let next = resampler.input_frames_next();
        let Some((chunk, after)) = rest.split_at_checked(next) else {
            break;
        };
        let produced = resampler
            .process(&[chunk], None)
            .map_err(|_| ConvertError::Rate)?;
        out.extend(produced.into_iter().flatten());
        rest = after;
    }
    if !rest.is_empty() {
        // (An empty slice here would mean a channel left out, not the end of the input.)
        let produced = resampler
            .process_partial(Some(&[rest]), None)
            .map_err(|_| ConvertError::Rate)?;
        out.extend(produced.into_iter().flatten());
    }
    // The filter's delay holds the last samples back: push silence through for them.
    while out.len() < wanted + delay {
        let produced = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|_| ConvertError::Rate)?;
        let before = out.len();
        out.extend(produced.into_iter().flatten());
        if out.len() == before {
            break;
        }
    }
    out.drain(..delay.min(out.len()));
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV of `seconds` of a `freq` Hz sine at `rate`, with `channels`, 16-bit.
    fn wav(rate: u32, channels: u16, freq: f32, seconds: f32) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
        let n = (rate as f32 * seconds) as usize;
        for i in 0..n {
            let s = (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin();
            for _ in 0..channels {
                w.write_sample((s * 16_000.0) as i16).unwrap();
            }
        }
        w.finalize().unwrap();
        bytes.into_inner()
    }

    /// The strength of `freq` in `pcm` at 8 kHz (Goertzel), relative to full scale.
    fn strength(pcm: &[i16], freq: f32) -> f32 {
        let k = 2.0 * (2.0 * std::f32::consts::PI * freq / 8_000.0).cos();
        let (mut s1, mut s2) = (0.0f32, 0.0f32);
        for &x in pcm {
            let s0 = x as f32 / 32_768.0 + k * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - k * s1 * s2).sqrt() / pcm.len() as f32 * 2.0
    }

    #[test]
    fn a_cd_rate_stereo_wav_becomes_8_khz_mono_of_the_same_length_and_tone() {
        let pcm = to_prompt(wav(44_100, 2, 440.0, 1.5)).unwrap();
        assert_eq!(pcm.len(), 12_000);
        assert!(strength(&pcm, 440.0) > 0.4, "{}", strength(&pcm, 440.0));
        assert!(strength(&pcm, 1_000.0) < 0.02);
    }

    #[test]
    fn the_shortest_and_the_chunk_sized_files_keep_their_length_at_every_rate() {
        for rate in COMMON_RATES {
            for frames in [1u32, 2, 7, 1_023, 1_024, 1_025, 4_097] {
                // Half a frame more, so that the float seconds truncate to `frames`.
                let seconds = (frames as f32 + 0.5) / rate as f32;
                let pcm = to_prompt(wav(rate, 1, 440.0, seconds)).unwrap();
                let expected = (u64::from(frames) * 8_000).div_ceil(u64::from(rate)) as usize;
                assert_eq!(pcm.len(), expected, "{frames} frames at {rate} Hz");
            }
        }
    }

    #[test]
    fn a_tone_above_the_telephone_band_does_not_fold_into_it() {
        // 6 kHz at 48 kHz would alias to 2 kHz without the resampler's low-pass.
        let pcm = to_prompt(wav(48_000, 1, 6_000.0, 1.0)).unwrap();
        assert!(
            strength(&pcm, 2_000.0) < 0.01,
            "{}",
            strength(&pcm, 2_000.0)
        );
    }

    #[test]
    fn an_8_khz_mono_wav_is_taken_sample_for_sample() {
        let bytes = wav(8_000, 1, 300.0, 0.5);
        let pcm = to_prompt(bytes.clone()).unwrap();
        let original: Vec<i16> = hound::WavReader::new(Cursor::new(bytes))
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(pcm, original);
    }

    #[test]
    fn an_mp3_is_decoded_and_brought_to_8_khz() {
        // One second of 440 Hz, 44.1 kHz stereo, 64 kbit/s (made once with lame).
        let mp3 = include_bytes!("../../tests/fixtures/tone-440.mp3").to_vec();
        let pcm = to_prompt(mp3).unwrap();
        // The encoder's priming and padding add a frame or two of silence.
        assert!((8_000..8_800).contains(&pcm.len()), "{}", pcm.len());
        assert!(strength(&pcm, 440.0) > 0.25, "{}", strength(&pcm, 440.0));
    }

    #[test]
    fn what_is_not_audio_is_refused() {
        assert_eq!(
            to_prompt(b"<html>not a wav</html>".to_vec()),
            Err(ConvertError::Unreadable)
        );
        assert_eq!(to_prompt(Vec::new()), Err(ConvertError::Unreadable));
        assert_eq!(
            to_prompt(wav(16_000, 1, 440.0, 0.0)),
            Err(ConvertError::Empty)
        );
    }

    #[test]
    fn a_prompt_longer_than_five_minutes_is_refused() {
        let long = wav(8_000, 1, 440.0, MAX_SECONDS as f32 + 1.0);
        assert_eq!(to_prompt(long), Err(ConvertError::TooLong));
    }

    #[test]
    fn cut_or_garbled_files_are_refused_or_read_in_part_never_a_panic() {
        let good = wav(22_050, 2, 440.0, 0.3);
        for cut in [4, 12, 44, 45, 100, good.len() - 1] {
            let _ = to_prompt(good[..cut].to_vec());
        }
        let mut garbled = good.clone();
        for (i, b) in garbled.iter_mut().enumerate().skip(20).step_by(7) {
            *b ^= i as u8;
        }
        let _ = to_prompt(garbled);
    }
}
