//! The voice prompts on disk: `DIR/NAME.wav` is what the switch plays, `DIR/texts.tsv` what
//! each says, and `DIR/history/NAME/VERSION.wav` the versions it replaced, newest last, so
//! a change is always undone by restoring the one before. A new version goes in with an
//! atomic rename, so a reload never reads half a file.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Versions kept per prompt; older ones are deleted.
pub const KEPT_VERSIONS: usize = 20;

/// The prompts a dialplan plays, in its prompt directory.
#[derive(Debug, Clone)]
pub struct PromptLibrary {
    dir: PathBuf,
    names: Vec<String>,
}

/// One prompt, as the voice content page lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptEntry {
    /// Its name (the file's stem).
    pub name: String,
    /// What it says, from `texts.tsv`.
    pub text: Option<String>,
    /// Its length now; `None` if the file is missing or unreadable.
    pub seconds: Option<f64>,
    /// The versions it replaced, oldest first.
    pub versions: Vec<PromptVersion>,
}

/// A version a prompt had before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PromptVersion {
    /// When it was replaced, as its file's stem (`20261206T021500123Z`).
    pub id: String,
    /// Its length.
    pub seconds: Option<f64>,
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The version the old prompt was kept as, if there was one.
    pub kept_as: Option<String>,
    /// The new prompt's length in 8 kHz samples.
    pub samples: u64,
}

impl PromptLibrary {
    /// The prompts `names` in `dir`.
    pub fn new(dir: PathBuf, names: Vec<String>) -> PromptLibrary {
        PromptLibrary { dir, names }
    }

    /// Whether the dialplan plays a prompt of this name (the only ones that may be changed,
    /// which also keeps any other path out of reach).
    pub fn knows(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Every prompt with its text, length and earlier versions, in the order of
    /// `texts.tsv` (the order the menu is heard in), then the rest by name.
    pub fn list(&self) -> Vec<PromptEntry> {
        let texts = self.texts();
        let mut names: Vec<&String> = self.names.iter().collect();
        let place = |n: &str| texts.iter().position(|(t, _)| t == n).unwrap_or(usize::MAX);
        names.sort_by(|a, b| place(a).cmp(&place(b)).then_with(|| a.cmp(b)));
        names
            .into_iter()
            .map(|name| PromptEntry {
                name: name.clone(),
                text: texts
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, t)| t.clone()),
                seconds: seconds_of(&self.current(name)),
                versions: self
                    .version_ids(name)
                    .into_iter()
                    .map(|id| PromptVersion {
                        seconds: seconds_of(&self.history(name).join(format!("{id}.wav"))),
                        id,
                    })
                    .collect(),
            })
            .collect()
    }

    /// The file the switch plays for `name`.
    pub fn current(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.wav"))
    }

    /// The file of an earlier version, if `id` is one of `name`'s.
    pub fn version(&self, name: &str, id: &str) -> Option<PathBuf> {
        self.version_ids(name)
            .iter()
            .any(|v| v == id)
            .then(|| self.history(name).join(format!("{id}.wav")))
    }

    /// Makes `pcm` (8 kHz mono) the prompt `name`, keeping the one it replaces.
    pub fn install(&self, name: &str, pcm: &[i16], now: DateTime<Utc>) -> io::Result<Change> {
        let staged = self.dir.join(format!(".{name}.wav.new"));
        write_wav(&staged, pcm)?;
        let kept_as = self.keep_current(name, now)?;
        fs::rename(&staged, self.current(name))?;
        self.prune(name);
        Ok(Change {
            kept_as,
            samples: pcm.len() as u64,
        })
    }

    /// Makes version `id` the prompt `name` again; the one it replaces is kept.
    pub fn restore(&self, name: &str, id: &str, now: DateTime<Utc>) -> io::Result<Change> {
        let Some(old) = self.version(name, id) else {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such version"));
        };
        let pcm = read_wav(&old)?;
        let change = self.install(name, &pcm, now)?;
        // The restored version is current now; one copy of it is enough.
        fs::remove_file(&old)?;
        Ok(change)
    }

    /// The samples of a WAV the switch could play (8 kHz mono 16-bit), e.g. one recorded
    /// from a phone.
    pub fn read(path: &Path) -> io::Result<Vec<i16>> {
        read_wav(path)
    }

    fn history(&self, name: &str) -> PathBuf {
        self.dir.join("history").join(name)
    }

    /// A hard link of the current file in the history, so it stays whole whatever happens
    /// next; `None` when there is no current file.
    fn keep_current(&self, name: &str, now: DateTime<Utc>) -> io::Result<Option<String>> {
        let current = self.current(name);
        if !current.exists() {
            return Ok(None);
        }
        let history = self.history(name);
        fs::create_dir_all(&history)?;
        let stamp = now.format("%Y%m%dT%H%M%S%3fZ").to_string();
        let mut id = stamp.clone();
        let mut n = 1;
        while history.join(format!("{id}.wav")).exists() {
            id = format!("{stamp}-{n}");
            n += 1;
        }
        fs::hard_link(&current, history.join(format!("{id}.wav")))?;
        Ok(Some(id))
    }

    /// `name`'s earlier versions, oldest first.
    fn version_ids(&self, name: &str) -> Vec<String> {
        let Ok(dir) = fs::read_dir(self.history(name)) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let file = e.file_name().into_string().ok()?;
                let id = file.strip_suffix(".wav")?;
                version_id(id).then(|| id.to_string())
            })
            .collect();
        ids.sort();
        ids
    }

    fn prune(&self, name: &str) {
        let ids = self.version_ids(name);
        let extra = ids.len().saturating_sub(KEPT_VERSIONS);
        for id in ids.iter().take(extra) {
            if let Err(e) = fs::remove_file(self.history(name).join(format!("{id}.wav"))) {
                tracing::warn!(prompt = name, version = %id, error = %e, "old prompt version not deleted");
            }
        }
    }

    /// `texts.tsv`: a name and its text per line, `#` comments.
    fn texts(&self) -> Vec<(String, String)> {
        let Ok(text) = fs::read_to_string(self.dir.join("texts.tsv")) else {
            return Vec::new();
        };
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(name, text)| (name.trim().to_string(), text.trim().to_string()))
            .collect()
    }
}

/// Whether `id` is a version's name as [`PromptLibrary::install`] makes them: digits, `T`,
/// `Z` and `-`, nothing that could leave the history directory.
pub fn version_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'T' || b == b'Z' || b == b'-')
}

fn seconds_of(path: &Path) -> Option<f64> {
    let r = hound::WavReader::open(path).ok()?;
    let rate = r.spec().sample_rate;
    (rate > 0).then(|| f64::from(r.duration()) / f64::from(rate))
}

fn write_wav(path: &Path, pcm: &[i16]) -> io::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: super::convert::PROMPT_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).map_err(io::Error::other)?;
    for &s in pcm {
        w.write_sample(s).map_err(io::Error::other)?;
    }
    w.finalize().map_err(io::Error::other)?;
    fs::File::open(path)?.sync_all()
}

fn read_wav(path: &Path) -> io::Result<Vec<i16>> {
    let r = hound::WavReader::open(path).map_err(io::Error::other)?;
    let s = r.spec();
    if s.sample_rate != super::convert::PROMPT_RATE
        || s.channels != 1
        || s.bits_per_sample != 16
        || s.sample_format != hound::SampleFormat::Int
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not 8 kHz mono 16-bit",
        ));
    }
    r.into_samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 2, minute, 0).unwrap()
    }

    fn library() -> (tempfile::TempDir, PromptLibrary) {
        let dir = tempfile::tempdir().unwrap();
        let lib = PromptLibrary::new(
            dir.path().to_path_buf(),
            vec!["goodbye".into(), "welcome".into()],
        );
        write_wav(&lib.current("welcome"), &[1; 800]).unwrap();
        fs::write(
            dir.path().join("texts.tsv"),
            "# name\ttext\nwelcome\t您好，欢迎致电12366。\n",
        )
        .unwrap();
        (dir, lib)
    }

    #[test]
    fn the_list_has_each_prompt_of_the_plan_with_its_text_and_length() {
        let (_dir, lib) = library();
        let list = lib.list();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "welcome");
        assert_eq!(list[0].text.as_deref(), Some("您好，欢迎致电12366。"));
        assert_eq!(list[0].seconds, Some(0.1));
        assert_eq!(list[1].seconds, None, "goodbye has no file");
        assert!(list[0].versions.is_empty());
    }

    #[test]
    fn a_new_version_keeps_the_old_one_and_restoring_brings_it_back() {
        let (_dir, lib) = library();
        let change = lib.install("welcome", &[2; 1600], at(1)).unwrap();
        assert_eq!(change.kept_as.as_deref(), Some("20261206T020100000Z"));
        assert_eq!(read_wav(&lib.current("welcome")).unwrap(), vec![2; 1600]);
        let list = lib.list();
        assert_eq!(list[0].seconds, Some(0.2));
        assert_eq!(list[0].versions.len(), 1);
        assert_eq!(list[0].versions[0].seconds, Some(0.1));

        let back = lib
            .restore("welcome", "20261206T020100000Z", at(2))
            .unwrap();
        assert_eq!(back.kept_as.as_deref(), Some("20261206T020200000Z"));
        assert_eq!(read_wav(&lib.current("welcome")).unwrap(), vec![1; 800]);
        let versions = &lib.list()[0].versions;
        assert_eq!(
            versions.len(),
            1,
            "the restored one is current, not also kept"
        );
        assert_eq!(versions[0].seconds, Some(0.2));
    }

    #[test]
    fn a_prompt_without_a_file_gets_its_first_version() {
        let (_dir, lib) = library();
        let change = lib.install("goodbye", &[3; 80], at(1)).unwrap();
        assert_eq!(change.kept_as, None);
        assert_eq!(lib.list()[1].seconds, Some(0.01));
    }

    #[test]
    fn two_changes_in_the_same_millisecond_keep_both_versions() {
        let (_dir, lib) = library();
        lib.install("welcome", &[2; 80], at(1)).unwrap();
        lib.install("welcome", &[3; 80], at(1)).unwrap();
        assert_eq!(lib.list()[0].versions.len(), 2);
    }

    #[test]
    fn only_the_newest_versions_are_kept() {
        let (_dir, lib) = library();
        for i in 0..(KEPT_VERSIONS as u32 + 5) {
            lib.install("welcome", &[i as i16; 80], at(i)).unwrap();
        }
        let versions = &lib.list()[0].versions;
        assert_eq!(versions.len(), KEPT_VERSIONS);
        assert_eq!(versions[0].id, "20261206T020500000Z");
    }

    #[test]
    fn nothing_outside_the_plan_and_its_history_can_be_named() {
        let (_dir, lib) = library();
        lib.install("welcome", &[2; 80], at(1)).unwrap();
        assert!(!lib.knows("../users"));
        assert!(!lib.knows("texts"));
        assert_eq!(lib.version("welcome", "../../welcome"), None);
        assert_eq!(lib.version("welcome", "20261206T020100000Z/../x"), None);
        assert!(lib.version("welcome", "20261206T020100000Z").is_some());
        assert!(lib
            .restore("welcome", "20990101T000000000Z", at(2))
            .is_err());
        assert!(!version_id("../x") && !version_id("") && version_id("20261206T020100000Z-1"));
    }
}
