//! The voice prompts, read once from `<dir>/<name>.wav` at start and on reload, so a call
//! never touches the disk to play one and a bad file is found before any caller hears it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use hound::{SampleFormat, WavReader};

/// The only format played: what G.711 carries, so no resampling happens per call.
const RATE: u32 = 8_000;

/// Prompts by name, as 8 kHz mono 16-bit PCM shared by every call playing them.
#[derive(Debug, Clone, Default)]
pub struct PromptSet {
    prompts: HashMap<String, Arc<[i16]>>,
}

impl PromptSet {
    /// Loads `<dir>/<name>.wav` for each name; every file that is missing, unreadable, empty
    /// or not 8 kHz mono 16-bit PCM is listed as (name, why), so a check reports them all.
    pub fn load(dir: &Path, names: &[String]) -> Result<PromptSet, Vec<(String, String)>> {
        let mut prompts = HashMap::with_capacity(names.len());
        let mut errors = Vec::new();
        for name in names {
            if prompts.contains_key(name) {
                continue;
            }
            match load_one(dir, name) {
                Ok(samples) => {
                    prompts.insert(name.clone(), samples);
                }
                Err(why) => errors.push((name.clone(), why)),
            }
        }
        if errors.is_empty() {
            Ok(PromptSet { prompts })
        } else {
            Err(errors)
        }
    }

    /// No prompts: for switches without a voice menu, and for tests.
    pub fn empty() -> PromptSet {
        PromptSet::default()
    }

    /// The samples of prompt `name`, shared, if it was loaded.
    pub fn get(&self, name: &str) -> Option<Arc<[i16]>> {
        self.prompts.get(name).cloned()
    }

    /// Adds (or replaces) a prompt already in memory: a generated tone, or a test's audio.
    pub fn insert(&mut self, name: impl Into<String>, samples: Arc<[i16]>) {
        self.prompts.insert(name.into(), samples);
    }

    /// Whether no prompt is loaded.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// How many prompts are loaded.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }
}

fn load_one(dir: &Path, name: &str) -> Result<Arc<[i16]>, String> {
    // A name is a file stem from the dialplan; anything else could read outside `dir`.
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        return Err("not a plain prompt name".to_string());
    }
    let path = dir.join(format!("{name}.wav"));
    let reader = WavReader::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    if spec.sample_rate != RATE
        || spec.channels != 1
        || spec.bits_per_sample != 16
        || spec.sample_format != SampleFormat::Int
    {
        return Err(format!(
            "{}: {} Hz, {} channel(s), {}-bit {:?}; need 8000 Hz mono 16-bit PCM",
            path.display(),
            spec.sample_rate,
            spec.channels,
            spec.bits_per_sample,
            spec.sample_format
        ));
    }
    let samples = reader
        .into_samples::<i16>()
        .collect::<Result<Vec<i16>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if samples.is_empty() {
        return Err(format!("{}: holds no audio", path.display()));
    }
    Ok(samples.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn repo_prompts() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts")
    }

    fn write_wav(path: &Path, rate: u32, channels: u16, bits: u16, samples: usize) {
        let spec = hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..samples * usize::from(channels) {
            if bits == 16 {
                w.write_sample(i as i16).unwrap();
            } else {
                w.write_sample(i as i8).unwrap();
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn the_bundled_prompts_load() {
        let names: Vec<String> = ["welcome", "main-menu", "moh", "digit-7"]
            .map(String::from)
            .to_vec();
        let set = PromptSet::load(&repo_prompts(), &names).unwrap();
        assert_eq!(set.len(), 4);
        let welcome = set.get("welcome").unwrap();
        assert!(welcome.len() > 8_000, "over a second of speech");
        assert!(set.get("survey").is_none(), "only what was asked for");
        assert!(PromptSet::empty().is_empty());
    }

    #[test]
    fn every_bad_file_is_reported_with_its_reason() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        write_wav(&dir.join("good.wav"), 8_000, 1, 16, 800);
        write_wav(&dir.join("wideband.wav"), 16_000, 1, 16, 800);
        write_wav(&dir.join("stereo.wav"), 8_000, 2, 16, 800);
        write_wav(&dir.join("eight-bit.wav"), 8_000, 1, 8, 800);
        write_wav(&dir.join("empty.wav"), 8_000, 1, 16, 0);
        std::fs::write(dir.join("garbage.wav"), b"RIFF nonsense").unwrap();
        let names: Vec<String> = [
            "good",
            "wideband",
            "stereo",
            "eight-bit",
            "empty",
            "garbage",
            "missing",
            "../prompts/good",
        ]
        .map(String::from)
        .to_vec();
        let errors = PromptSet::load(dir, &names).unwrap_err();
        let failed: Vec<&str> = errors.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            failed,
            [
                "wideband",
                "stereo",
                "eight-bit",
                "empty",
                "garbage",
                "missing",
                "../prompts/good"
            ]
        );
        let why = |name: &str| &errors.iter().find(|(n, _)| n == name).unwrap().1;
        assert!(why("wideband").contains("16000 Hz"), "{}", why("wideband"));
        assert!(why("stereo").contains("2 channel"), "{}", why("stereo"));
        assert!(why("empty").contains("no audio"));
        assert!(why("missing").contains("missing.wav"));
        let ok = PromptSet::load(dir, &["good".to_string(), "good".to_string()]).unwrap();
        assert_eq!(ok.get("good").unwrap().len(), 800);
    }
}
