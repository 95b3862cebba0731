//! The voice content page in a real browser (headless Chromium over WebDriver) against the
//! real switch: the director (an admin whose phone is agent 1003's desk phone) hears the
//! menu's prompts with their texts, uploads a 44.1 kHz stereo WAV that becomes the
//! `goodbye` prompt at 8 kHz, and a taxpayer who calls next hears it; then records it anew
//! from the desk phone the switch rings (a scripted phone talking a tone, hanging up to
//! finish), and restores the original. Every change is in the audit chain, which verifies.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::audio::dominant;
use common::browser::Browser;
use common::caller::{heard_until, Caller};
use common::desk::DeskPhone;
use common::switch::{dialplan, find_prompt, test_menu, Switch};

/// A copy of the repo's prompts the test may change.
fn prompts_copy(to: &Path) -> PathBuf {
    let from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts"));
    let dir = to.join("prompts");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(&from).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "wav" || e == "tsv") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// `seconds` of `freq` Hz at 44.1 kHz in two channels, as a recording studio sends it.
fn studio_wav(path: &Path, freq: f64, seconds: f64) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..(44_100.0 * seconds) as usize {
        let s = (2.0 * std::f64::consts::PI * freq * i as f64 / 44_100.0).sin();
        w.write_sample((s * 12_000.0) as i16).unwrap();
        w.write_sample((s * 12_000.0) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// A prompt file as the switch plays it.
struct Prompt {
    rate: u32,
    channels: u16,
    samples: Vec<i16>,
}

fn read_prompt(path: &Path) -> Prompt {
    let bytes = std::fs::read(path).unwrap();
    let spec = hound::WavReader::new(std::io::Cursor::new(&bytes))
        .unwrap()
        .spec();
    Prompt {
        rate: spec.sample_rate,
        channels: spec.channels,
        samples: hound_samples(&bytes),
    }
}

/// A prompt's samples as a caller hears them through μ-law.
fn as_heard(path: &Path) -> Vec<i16> {
    read_prompt(path)
        .samples
        .iter()
        .map(|&s| hotline_media::Codec::Pcmu.decode(hotline_media::Codec::Pcmu.encode(s)))
        .collect()
}

/// The row of prompt `name` on the page.
fn row(name: &str) -> String {
    format!("#prompts tr[data-prompt='{name}']")
}

#[test]
fn the_director_replaces_a_prompt_by_upload_and_from_their_phone_and_restores_it() {
    let work = tempfile::tempdir().unwrap();
    let prompts = prompts_copy(work.path());
    let original = std::fs::read(prompts.join("goodbye.wav")).unwrap();
    let mut desk = DeskPhone::new("1003", 0, 1_000.0);
    let repo_prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts");
    let plan = format!(
        "{}\n{}",
        dialplan(&[("1003", "luoyang", desk.port())], 15, 60),
        test_menu().replace(repo_prompts, prompts.to_str().unwrap())
    );
    let switch = Switch::start_with(&plan, &["--http", "127.0.0.1:0", "--hours", "open"]);
    desk.connect(switch.port);
    let console = switch.console_url();
    switch.add_user(
        "director",
        &["--role", "admin", "--agent", "1003"],
        "voice-of-12366",
    );

    let browser = Browser::start();
    browser.goto(&format!("{console}/login"));
    browser.fill("#user", "director");
    browser.fill("#password", "voice-of-12366");
    browser.click("#sign-in");
    browser.wait_away_from("/login", Duration::from_secs(10));
    browser.goto(&format!("{console}/voice"));
    let goodbye = browser.wait_text(&row("goodbye"), Duration::from_secs(10), |t| {
        t.contains("感谢您的来电，再见。")
    });
    assert!(goodbye.contains(" s"), "its length is shown: {goodbye}");
    let played = browser.run(&format!(
        "return document.querySelector(\"{} audio\").src;",
        row("goodbye")
    ));
    assert!(
        played
            .as_str()
            .unwrap_or_default()
            .contains("/api/voice/goodbye/audio"),
        "{played}"
    );

    // An upload from the studio: 44.1 kHz stereo, converted to what the switch plays.
    let studio = work.path().join("studio.wav");
    studio_wav(&studio, 700.0, 2.0);
    browser.fill(
        &format!("{} input[type=file]", row("goodbye")),
        studio.to_str().unwrap(),
    );
    browser.click(&format!("{} button[data-action=upload]", row("goodbye")));
    browser.wait_text("#said", Duration::from_secs(20), |t| {
        t.contains("previous kept as") && t.contains("loaded (")
    });
    browser.wait_text(&row("goodbye"), Duration::from_secs(5), |t| {
        t.contains("2.0 s")
    });
    browser.screenshot("voice");
    let installed = read_prompt(&prompts.join("goodbye.wav"));
    assert_eq!((installed.rate, installed.channels), (8_000, 1));
    assert_eq!(installed.samples.len(), 16_000);
    assert!(dominant(&installed.samples, 700.0, 1_000.0));
    let history: Vec<PathBuf> = std::fs::read_dir(prompts.join("history/goodbye"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(history.len(), 1);
    assert_eq!(
        std::fs::read(&history[0]).unwrap(),
        original,
        "the old one is kept"
    );

    // Live: the next caller's menu opens with the new prompt.
    let caller = Caller::dial(switch.port, "13903790000");
    let new_prompt = as_heard(&prompts.join("goodbye.wav"));
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &new_prompt).is_some()
    });
    drop(caller);

    // From the desk phone: the switch rings it, the phone talks 1 kHz and hangs up.
    browser.click(&format!("{} button[data-action=record]", row("goodbye")));
    let take = desk.take_call();
    std::thread::sleep(Duration::from_millis(2_500));
    desk.send_in_dialog(&take, "BYE", 2, "", "");
    browser.wait_text("#said", Duration::from_secs(20), |t| t.contains("录制完成"));
    let recorded = read_prompt(&prompts.join("goodbye.wav"));
    assert!(recorded.samples.len() > 8_000, "{}", recorded.samples.len());
    assert!(
        dominant(&recorded.samples, 1_000.0, 700.0),
        "the phone's voice"
    );

    // Back to the original: the oldest version is restored.
    browser.wait_text(&row("goodbye"), Duration::from_secs(5), |t| {
        t.matches("恢复").count() == 2
    });
    browser.click(&format!(
        "{} div.version:last-child button[data-action=restore]",
        row("goodbye")
    ));
    browser.wait_text("#said", Duration::from_secs(20), |t| t.contains("restored"));
    assert_eq!(
        read_prompt(&prompts.join("goodbye.wav")).samples,
        hound_samples(&original),
        "the original is back"
    );

    let audit = hotline_record::qa::list_audit(&switch.db()).expect("the audit");
    let changes: Vec<_> = audit.iter().filter(|r| r.action == "voice").collect();
    assert_eq!(changes.len(), 3, "{changes:#?}");
    assert!(changes
        .iter()
        .all(|r| r.actor == "director" && r.subject == "prompt goodbye"));
    assert!(
        changes[1].detail.contains("recorded from phone 1003"),
        "{changes:#?}"
    );
    switch.assert_audit_verifies();
}

fn hound_samples(wav: &[u8]) -> Vec<i16> {
    hound::WavReader::new(std::io::Cursor::new(wav))
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .collect()
}
