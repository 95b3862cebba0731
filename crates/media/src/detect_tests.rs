use super::*;
use crate::g711::Codec;

/// Amplitude of a 0 dBm0 sine in 16-bit G.711 terms (full scale is +3.17 dBm0).
const DBM0_AMPLITUDE: f64 = 22_700.0;

/// A small deterministic generator, so noisy tests are repeatable.
struct Noise(u64);

impl Noise {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Gaussian, by Box–Muller.
    fn gauss(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn freqs(key: char) -> (f64, f64) {
    for (r, row) in KEYS.iter().enumerate() {
        for (c, &k) in row.iter().enumerate() {
            if k == key {
                return (f64::from(ROWS[r]), f64::from(COLS[c]));
            }
        }
    }
    panic!("no key {key}");
}

/// A signal built piece by piece: tones, silence, noise over all of it, through G.711.
struct Signal {
    samples: Vec<f64>,
}

impl Signal {
    fn new() -> Signal {
        Signal {
            samples: Vec::new(),
        }
    }

    /// `ms` of `key` with the row tone at `row_dbm0` and the column tone at `col_dbm0`.
    fn key_levels(mut self, key: char, ms: usize, row_dbm0: f64, col_dbm0: f64) -> Signal {
        let (fr, fc) = freqs(key);
        let (ar, ac) = (amplitude(row_dbm0), amplitude(col_dbm0));
        for n in 0..ms * 8 {
            let t = n as f64 / 8_000.0;
            let w = 2.0 * std::f64::consts::PI * t;
            self.samples
                .push(ar * (w * fr).sin() + ac * (w * fc + 1.0).sin());
        }
        self
    }

    fn key(self, key: char, ms: usize) -> Signal {
        self.key_levels(key, ms, -10.0, -10.0)
    }

    fn silence_samples(mut self, n: usize) -> Signal {
        self.samples.extend(std::iter::repeat_n(0.0, n));
        self
    }

    fn silence(self, ms: usize) -> Signal {
        self.silence_samples(ms * 8)
    }

    /// Adds white noise `snr_db` below a −10 dBm0 dual tone's power.
    fn noise(mut self, snr_db: f64, seed: u64) -> Signal {
        let tone_power = 2.0 * amplitude(-10.0).powi(2) / 2.0;
        let sigma = (tone_power / 10f64.powf(snr_db / 10.0)).sqrt();
        let mut rng = Noise(seed);
        for s in &mut self.samples {
            *s += sigma * rng.gauss();
        }
        self
    }

    /// The samples as the caller's phone would deliver them: A-law, decoded.
    fn pcm(&self) -> Vec<i16> {
        self.samples
            .iter()
            .map(|&s| Codec::Pcma.decode(Codec::Pcma.encode(s.clamp(-32_768.0, 32_767.0) as i16)))
            .collect()
    }
}

fn amplitude(dbm0: f64) -> f64 {
    DBM0_AMPLITUDE * 10f64.powf(dbm0 / 20.0)
}

/// Every key the detector reports for `pcm`, fed in chunks of the given sizes in turn.
fn detect(pcm: &[i16], chunks: &[usize]) -> String {
    let mut d = ToneDetector::new();
    let mut keys = String::new();
    let mut rest = pcm;
    for &size in chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (now, later) = rest.split_at(size.min(rest.len()));
        keys.extend(d.feed(now));
        while let Some(key) = d.feed(&[]) {
            keys.push(key);
        }
        rest = later;
    }
    keys
}

#[test]
fn all_sixteen_keys_are_heard_through_noise() {
    for (i, key) in "0123456789*#ABCD".chars().enumerate() {
        let signal = Signal::new()
            .silence(60)
            .key(key, 70)
            .silence(60)
            .noise(15.0, 1 + i as u64);
        assert_eq!(detect(&signal.pcm(), &[160]), key.to_string(), "key {key}");
    }
}

#[test]
fn a_dialled_sequence_is_heard_in_any_chunk_sizes() {
    let keys = "0123456789*#ABCD";
    let mut signal = Signal::new().silence(30);
    for key in keys.chars() {
        signal = signal.key(key, 50).silence(45);
    }
    let pcm = signal.noise(20.0, 7).pcm();
    for chunks in [&[160][..], &[1], &[7, 33, 241, 3], &[1_500], &[101, 103]] {
        assert_eq!(detect(&pcm, chunks), keys, "chunks {chunks:?}");
    }
}

#[test]
fn short_tones_are_rejected_and_forty_ms_tones_accepted_at_any_alignment() {
    for offset in (0..BLOCK).step_by(7) {
        let short = Signal::new()
            .silence_samples(offset)
            .key('5', 20)
            .silence(60)
            .noise(25.0, offset as u64 + 1);
        assert_eq!(detect(&short.pcm(), &[160]), "", "20 ms at offset {offset}");
        let enough = Signal::new()
            .silence_samples(offset)
            .key('5', 40)
            .silence(60)
            .noise(25.0, offset as u64 + 1);
        assert_eq!(
            detect(&enough.pcm(), &[160]),
            "5",
            "40 ms at offset {offset}"
        );
    }
}

#[test]
fn twist_limits() {
    let twisted = |row: f64, col: f64| {
        let s = Signal::new()
            .silence(20)
            .key_levels('8', 80, row, col)
            .silence(20);
        detect(&s.noise(30.0, 3).pcm(), &[160])
    };
    assert_eq!(twisted(-8.0, -15.0), "8", "row 7 dB louder: normal twist");
    assert_eq!(twisted(-6.0, -16.0), "", "row 10 dB louder");
    assert_eq!(
        twisted(-13.0, -10.0),
        "8",
        "column 3 dB louder: reverse twist"
    );
    assert_eq!(twisted(-16.0, -10.0), "", "column 6 dB louder");
}

#[test]
fn a_gap_of_forty_ms_separates_presses_but_a_dropout_does_not() {
    let twice = Signal::new()
        .key('7', 60)
        .silence(45)
        .key('7', 60)
        .silence(50)
        .noise(20.0, 5);
    assert_eq!(detect(&twice.pcm(), &[160]), "77");
    let dropout = Signal::new()
        .key('7', 60)
        .silence(12)
        .key('7', 60)
        .silence(50)
        .noise(20.0, 5);
    assert_eq!(detect(&dropout.pcm(), &[160]), "7");
}

#[test]
fn quiet_tones_are_ignored_and_moderate_ones_heard() {
    let at = |dbm0: f64| {
        let s = Signal::new()
            .silence(20)
            .key_levels('#', 80, dbm0, dbm0)
            .silence(20);
        detect(&s.pcm(), &[160])
    };
    assert_eq!(at(-30.0), "#");
    assert_eq!(at(-50.0), "");
}

#[test]
fn off_frequency_tones() {
    let shifted = |factor: f64| {
        let mut d = ToneDetector::new();
        let pcm: Vec<i16> = (0..640)
            .map(|n| {
                let t = n as f64 / 8_000.0;
                let w = 2.0 * std::f64::consts::PI * t * factor;
                (amplitude(-10.0) * ((w * 852.0).sin() + (w * 1477.0).sin())) as i16
            })
            .collect();
        let mut keys = String::new();
        keys.extend(d.feed(&pcm));
        keys.extend(d.feed(&[0; 480]));
        keys
    };
    assert_eq!(shifted(1.015), "9", "+1.5% is accepted");
    assert_eq!(shifted(0.985), "9", "−1.5% is accepted");
    assert_eq!(shifted(1.05), "", "+5% is not DTMF");
}

fn prompt(name: &str) -> Vec<i16> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../prompts")
        .join(name);
    let mut reader = hound::WavReader::open(&path).unwrap();
    reader.samples::<i16>().map(|s| s.unwrap()).collect()
}

#[test]
fn mandarin_prompts_and_music_give_no_false_keys() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wav"))
        .collect();
    names.sort();
    assert!(names.len() > 20, "prompts found: {names:?}");
    let mut all = Vec::new();
    for name in &names {
        let pcm: Vec<i16> = prompt(name)
            .iter()
            .map(|&s| Codec::Pcma.decode(Codec::Pcma.encode(s)))
            .collect();
        assert_eq!(detect(&pcm, &[160]), "", "false key in {name}");
        all.extend(pcm);
    }
    // Played back to back, and music on hold looped, as callers hear them.
    assert_eq!(detect(&all, &[160]), "");
    let moh = prompt("moh.wav");
    let looped: Vec<i16> = moh.iter().cycle().take(moh.len() * 4).copied().collect();
    assert_eq!(detect(&looped, &[160]), "");
}

#[test]
fn a_key_over_music_is_still_heard() {
    let moh = prompt("moh.wav");
    let key = Signal::new().silence(500).key('3', 80).silence(500).pcm();
    let mixed: Vec<i16> = key
        .iter()
        .zip(moh.iter().cycle())
        .map(|(&k, &m)| k.saturating_add(m / 8))
        .collect();
    assert_eq!(detect(&mixed, &[160]), "3");
}

#[test]
fn reset_forgets_a_key_in_progress() {
    let pcm = Signal::new().key('1', 200).pcm();
    let mut d = ToneDetector::new();
    let mut keys = String::new();
    keys.extend(d.feed(&pcm[..800]));
    d.reset();
    keys.extend(d.feed(&pcm[800..]));
    assert_eq!(keys, "11", "the tone after the reset is a new press");
}

fn event(code: u8, end: bool, duration: u16) -> TelephoneEvent {
    TelephoneEvent {
        event: code,
        end,
        volume: 10,
        duration,
    }
}

#[test]
fn one_keypress_is_reported_once_whatever_its_packets() {
    let mut d = EventDeduper::new();
    let mut keys = String::new();
    for duration in [160, 320, 480, 640] {
        keys.extend(d.on_event(9, 16_000, &event(5, false, duration)));
    }
    for _ in 0..3 {
        keys.extend(d.on_event(9, 16_000, &event(5, true, 800)));
    }
    assert_eq!(keys, "5");
}

#[test]
fn the_same_key_again_is_a_new_press_and_late_packets_are_not() {
    let mut d = EventDeduper::new();
    assert_eq!(d.on_event(9, 16_000, &event(1, false, 160)), Some('1'));
    assert_eq!(d.on_event(9, 16_000, &event(1, true, 800)), None);
    assert_eq!(d.on_event(9, 17_600, &event(1, false, 160)), Some('1'));
    assert_eq!(
        d.on_event(9, 16_000, &event(1, true, 800)),
        None,
        "late end of the first"
    );
    assert_eq!(
        d.on_event(9, 19_200, &event(11, true, 800)),
        Some('#'),
        "end only"
    );
    assert_eq!(
        d.on_event(9, 20_800, &event(16, false, 160)),
        None,
        "flash is no key"
    );
    assert_eq!(
        d.on_event(4, 100, &event(0, false, 160)),
        Some('0'),
        "a new source"
    );
}

#[test]
fn a_timestamp_wrap_is_not_a_late_packet() {
    let mut d = EventDeduper::new();
    assert_eq!(
        d.on_event(1, u32::MAX - 100, &event(2, true, 800)),
        Some('2')
    );
    assert_eq!(d.on_event(1, 1_500, &event(2, false, 160)), Some('2'));
}
