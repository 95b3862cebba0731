//! A recording's file: a canonical 44-byte WAV header (PCM, 2 channels, 8 kHz, 16-bit) and
//! the frames after it, appended as the call goes.
//!
//! Written by hand rather than with hound's `WavWriter`, which keeps a sample buffer in
//! every open writer (the largest block written to it: about 5 KB a recording, 24 MB at
//! 5,000 calls). Here every file is written from one scratch buffer that the writer thread
//! owns, one `write` per block. The files are read back with hound in the tests.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;

use super::SAMPLE_RATE;

const CHANNELS: u16 = 2;
const BYTES_PER_SAMPLE: u16 = 2;
const BLOCK_ALIGN: u16 = CHANNELS * BYTES_PER_SAMPLE;
const HEADER_LEN: u64 = 44;
/// Where the RIFF chunk's size and the data chunk's size are in the header.
const RIFF_SIZE_AT: u64 = 4;
const DATA_SIZE_AT: u64 = 40;
/// A WAV data chunk holds at most 4 GiB: about 37 hours of 8 kHz stereo.
const MAX_FRAMES: u64 = (u32::MAX as u64 - HEADER_LEN) / BLOCK_ALIGN as u64;

/// An open recording file and how many frames it holds.
#[derive(Debug)]
pub(crate) struct WavFile {
    file: File,
    frames: u64,
    /// Frames the header on disk counts: the header is rewritten only when this lags.
    counted: u64,
}

impl WavFile {
    /// Writes the header of an empty recording to `file` (new and empty).
    pub(crate) fn start(mut file: File) -> io::Result<WavFile> {
        file.write_all(&header(0))?;
        Ok(WavFile {
            file,
            frames: 0,
            counted: 0,
        })
    }

    /// Frames written so far.
    pub(crate) fn frames(&self) -> u64 {
        self.frames
    }

    /// Appends interleaved frames (left, right, left, …), through `scratch`; frames past
    /// [`MAX_FRAMES`] are not written, and their count is returned.
    pub(crate) fn append(&mut self, interleaved: &[i16], scratch: &mut Vec<u8>) -> io::Result<u64> {
        let offered = (interleaved.len() / 2) as u64;
        let room = MAX_FRAMES.saturating_sub(self.frames);
        let take = offered.min(room);
        let samples = interleaved.get(..(take * 2) as usize).unwrap_or_default();
        scratch.clear();
        scratch.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        self.file.write_all(scratch)?;
        self.frames += take;
        Ok(offered - take)
    }

    /// Appends `frames` frames of silence, through `scratch`, in blocks of `block` frames.
    pub(crate) fn pad(&mut self, frames: u64, block: u64, scratch: &mut Vec<u8>) -> io::Result<()> {
        let mut left = frames.min(MAX_FRAMES.saturating_sub(self.frames));
        let zeros = vec![0i16; (block.min(left) * 2) as usize];
        while left > 0 {
            let n = block.min(left);
            self.append(zeros.get(..(n * 2) as usize).unwrap_or_default(), scratch)?;
            left -= n;
        }
        Ok(())
    }

    /// Whether the header on disk counts fewer frames than the file holds.
    pub(crate) fn header_lags(&self) -> bool {
        self.counted != self.frames
    }

    /// Makes the header count every frame written, so the file plays as it stands.
    pub(crate) fn update_header(&mut self) -> io::Result<()> {
        let data = u32::try_from(self.frames * u64::from(BLOCK_ALIGN)).unwrap_or(u32::MAX);
        let riff = data.saturating_add(HEADER_LEN as u32 - 8);
        self.file.write_all_at(&riff.to_le_bytes(), RIFF_SIZE_AT)?;
        self.file.write_all_at(&data.to_le_bytes(), DATA_SIZE_AT)?;
        self.counted = self.frames;
        Ok(())
    }
}

/// The 44-byte header of a recording holding `frames` frames.
fn header(frames: u64) -> [u8; HEADER_LEN as usize] {
    let data = u32::try_from(frames * u64::from(BLOCK_ALIGN)).unwrap_or(u32::MAX);
    let mut h = [0u8; HEADER_LEN as usize];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &data.saturating_add(HEADER_LEN as u32 - 8).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(), // the fmt chunk's size
        &1u16.to_le_bytes(),  // PCM
        &CHANNELS.to_le_bytes(),
        &SAMPLE_RATE.to_le_bytes(),
        &(SAMPLE_RATE * u32::from(BLOCK_ALIGN)).to_le_bytes(),
        &BLOCK_ALIGN.to_le_bytes(),
        &(BYTES_PER_SAMPLE * 8).to_le_bytes(),
        b"data",
        &data.to_le_bytes(),
        &[],
    ];
    let mut at = 0;
    for field in fields {
        if let Some(slot) = h.get_mut(at..at + field.len()) {
            slot.copy_from_slice(field);
        }
        at += field.len();
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new file in a scratch directory that goes when the guard drops.
    fn scratch_file() -> (tempfile::TempDir, std::path::PathBuf, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.wav");
        let file = File::create_new(&path).unwrap();
        (dir, path, file)
    }

    #[test]
    fn the_header_is_hounds_own_for_the_same_spec() {
        let (_dir, path, _) = scratch_file();
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in [1i16, -2, 3, -4] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let theirs = std::fs::read(&path).unwrap();
        assert_eq!(&theirs[..44], &header(2)[..]);
    }

    #[test]
    fn appended_frames_and_silence_read_back_once_the_header_is_updated() {
        let (_dir, path, file) = scratch_file();
        let mut wav = WavFile::start(file).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 0);
        wav.append(&[1, -1, 2, -2], &mut scratch).unwrap();
        wav.pad(3, 2, &mut scratch).unwrap();
        wav.append(&[7, 8], &mut scratch).unwrap();
        assert!(wav.header_lags());
        wav.update_header().unwrap();
        assert!(!wav.header_lags());
        let samples: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i16>()
            .map(Result::unwrap)
            .collect();
        assert_eq!(samples, [1, -1, 2, -2, 0, 0, 0, 0, 0, 0, 7, 8]);
        assert_eq!(wav.frames(), 6);
    }

    #[test]
    fn nothing_is_written_past_the_size_a_wav_can_hold() {
        let (_dir, _, file) = scratch_file();
        let mut wav = WavFile::start(file).unwrap();
        wav.frames = MAX_FRAMES - 1;
        let mut scratch = Vec::new();
        assert_eq!(wav.append(&[1, 1, 2, 2, 3, 3], &mut scratch).unwrap(), 2);
        assert_eq!(wav.frames(), MAX_FRAMES);
    }
}
