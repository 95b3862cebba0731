//! Whether a prompt file can be played: the switch plays 8 kHz mono 16-bit PCM WAVs, and a
//! missing or unreadable prompt must stop the dialplan at `hotline check`, not go silent
//! in a call.

use std::path::Path;

/// The one WAV format the switch plays.
pub fn usable(path: &Path) -> bool {
    match hound::WavReader::open(path) {
        Ok(r) => {
            let s = r.spec();
            s.sample_rate == 8000
                && s.channels == 1
                && s.bits_per_sample == 16
                && s.sample_format == hound::SampleFormat::Int
                && r.duration() > 0
        }
        Err(_) => false,
    }
}
