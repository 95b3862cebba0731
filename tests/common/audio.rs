//! Test audio: tone pcaps for SIPp's play_pcap_audio, and WAV analysis of recordings.

use std::path::Path;

use hotline_media::Codec;

/// Writes `seconds` of a `freq` Hz tone as 20 ms RTP packets in a pcap SIPp can play.
pub fn tone_pcap(path: &Path, freq: f64, codec: Codec, seconds: u32) {
    let mut out = Vec::new();
    // pcap global header: magic, v2.4, tz 0, sigfigs 0, snaplen, Ethernet.
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let pt = match codec {
        Codec::Pcmu => 0u8,
        Codec::Pcma => 8u8,
    };
    let packets = seconds * 50;
    for i in 0..packets {
        let mut rtp = vec![0x80, pt];
        rtp.extend_from_slice(&(i as u16).to_be_bytes());
        rtp.extend_from_slice(&(i * 160).to_be_bytes());
        rtp.extend_from_slice(&0x1234_5678u32.to_be_bytes());
        for n in 0..160u32 {
            let t = f64::from(i * 160 + n) / 8000.0;
            let s = (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16;
            rtp.push(codec.encode(s));
        }
        let udp_len = 8 + rtp.len();
        let ip_len = 20 + udp_len;
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&[0x45, 0]);
        frame.extend_from_slice(&(ip_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1]);
        frame.extend_from_slice(&4000u16.to_be_bytes());
        frame.extend_from_slice(&4002u16.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(&rtp);
        let usec = u64::from(i) * 20_000;
        out.extend_from_slice(&((usec / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((usec % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).expect("write pcap");
}

/// Power of `freq` in `samples` (Goertzel), normalised by length.
pub fn tone_power(samples: &[i16], freq: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * freq / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = f64::from(x) + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.len().max(1) as f64).powi(2)
}

/// A recording read back: its two channels.
pub struct Wav {
    /// What the caller said.
    pub left: Vec<i16>,
    /// What the caller heard.
    pub right: Vec<i16>,
    /// Sample rate.
    pub rate: u32,
}

/// Reads a stereo 16-bit WAV.
pub fn read_wav(path: &Path) -> Wav {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(spec.channels, 2, "recording is stereo");
    assert_eq!(spec.bits_per_sample, 16);
    let all: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
    Wav {
        left: all.iter().step_by(2).copied().collect(),
        right: all.iter().skip(1).step_by(2).copied().collect(),
        rate: spec.sample_rate,
    }
}

/// Whether `samples` carry `freq` clearly above `other`.
pub fn dominant(samples: &[i16], freq: f64, other: f64) -> bool {
    let a = tone_power(samples, freq);
    let b = tone_power(samples, other);
    a > 10.0 * b && a > 1.0
}

/// Whether `samples` are (almost) nothing but a `freq` Hz tone: speech never is.
pub fn pure_tone(samples: &[i16], freq: f64) -> bool {
    let ms: f64 =
        samples.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / samples.len().max(1) as f64;
    // A pure sine puts half its mean square into the Goertzel power as normalised here.
    ms > 1000.0 && tone_power(samples, freq) / ms > 0.35
}

/// Writes `seconds` of a `freq` Hz tone as an 8 kHz mono WAV (a softphone's microphone).
pub fn tone_wav(path: &Path, freq: f64, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for i in 0..8000 * seconds {
        let t = f64::from(i) / 8000.0;
        w.write_sample((6000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16)
            .expect("write sample");
    }
    w.finalize().expect("finish wav");
}

/// The PCM of a repo prompt, as the caller hears it through μ-law.
pub fn prompt_pcm(name: &str) -> Vec<i16> {
    let path = format!("{}/../../prompts/{name}.wav", env!("CARGO_MANIFEST_DIR"));
    let mut r = hound::WavReader::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    r.samples::<i16>()
        .map(|s| s.expect("sample"))
        .map(|s| hotline_media::Codec::Pcmu.decode(hotline_media::Codec::Pcmu.encode(s)))
        .collect()
}

/// Where `prompt` starts in `heard` (searched at every sample offset in packet steps and
/// around them), if its first 100 ms correlate strongly.
pub fn find_prompt(heard: &[i16], prompt: &[i16]) -> Option<usize> {
    // Probe from where the speech starts: the leading silence of a prompt matches anything.
    let lead = prompt.iter().position(|x| x.unsigned_abs() > 500)?;
    let prompt = &prompt[lead..];
    let n = 800.min(prompt.len());
    let probe = &prompt[..n];
    let energy: f64 = probe.iter().map(|x| f64::from(*x).powi(2)).sum();
    if energy == 0.0 || heard.len() < n {
        return None;
    }
    (0..=heard.len() - n)
        .find(|&at| {
            let window = &heard[at..at + n];
            let we: f64 = window.iter().map(|x| f64::from(*x).powi(2)).sum();
            if we == 0.0 {
                return false;
            }
            let dot: f64 = window
                .iter()
                .zip(probe)
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            dot / (we.sqrt() * energy.sqrt()) > 0.9
        })
        .map(|at| at.saturating_sub(lead))
}
