//! End to end: the spot checks of recordings (抽检) through the real `hotline qa` binary, over
//! a call database written with the real store and recordings made for the test (no switch
//! needed). Weeks are taken relative to today, so the test does not age.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};
use hotline_record::qa::Scope;
use hotline_record::{CallId, CallRecord, CallStore, HungUpBy, Outcome};
use hotline_report::qa::draw::{candidates, draw, Seed};
use hotline_report::qa::{PeriodKey, Rate};
use serde_json::Value;

/// A scratch folder with a dialplan, a call database and recordings.
struct Centre {
    dir: tempfile::TempDir,
}

impl Centre {
    fn new() -> Centre {
        let dir = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let plan = std::fs::read_to_string(repo.join("dialplans/henan.toml")).unwrap();
        let prompts = repo.join("prompts").canonicalize().unwrap();
        let mut plan = plan.replace(
            "prompts = \"../prompts\"",
            &format!("prompts = {:?}", prompts.display().to_string()),
        );
        // Luoyang gets five agents, so that a fair draw has several strata to cover.
        for (id, name) in [("1020", "孙丽"), ("1021", "周强"), ("1022", "吴敏")] {
            plan.push_str(&format!(
                "\n[[agent]]\nid = \"{id}\"\nregion = \"luoyang\"\nname = \"{name}\"\nsecret = \"demo-{id}\"\n"
            ));
        }
        std::fs::write(dir.path().join("plan.toml"), plan).unwrap();
        Centre { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("hotline.db")
    }

    /// Stores `calls` and makes a one-second WAV for each one that has a recording.
    fn store(&self, calls: &[CallRecord]) {
        let store = CallStore::open(&self.db()).unwrap();
        for c in calls {
            if let Some(path) = &c.recording_path {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                let spec = hound::WavSpec {
                    channels: 2,
                    sample_rate: 8000,
                    bits_per_sample: 16,
                    sample_format: hound::SampleFormat::Int,
                };
                let mut w = hound::WavWriter::create(path, spec).unwrap();
                for i in 0..16_000 {
                    w.write_sample((i % 200) as i16).unwrap();
                }
                w.finalize().unwrap();
            }
            store.save(c).unwrap();
        }
        store.sync().unwrap();
    }

    /// `hotline qa ARGS --db ... [--dialplan ...]`.
    fn qa(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hotline"));
        cmd.arg("qa").args(args).arg("--db").arg(self.db());
        if matches!(args.first(), Some(&"draw") | Some(&"status")) {
            cmd.arg("--dialplan").arg(self.dir.path().join("plan.toml"));
        }
        cmd.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.qa(args);
        assert!(
            out.status.success(),
            "qa {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut args = args.to_vec();
        args.extend(["--format", "json"]);
        self.ok(&args)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// An answered, recorded call of `agent` from `caller`, `n` minutes into `monday`'s
    /// service day.
    fn answered(&self, monday: DateTime<Utc>, n: u32, agent: &str, caller: &str) -> CallRecord {
        let at = monday + Duration::hours(i64::from(n % 5)) + Duration::days(i64::from(n % 5));
        let at = at + Duration::minutes(i64::from(n));
        let id = CallId::generate(at, n);
        let mut c = CallRecord::new(id.clone(), caller, at);
        c.caller_normalized = Some(caller.to_string());
        c.region = Some("luoyang".into());
        c.agent = Some(agent.into());
        c.outcome = Outcome::Answered;
        c.answered_at = Some(at + Duration::seconds(8));
        c.ended_at = Some(at + Duration::seconds(190));
        c.hung_up_by = Some(HungUpBy::Caller);
        c.skill = Some("filing".into());
        let day = at.format("%Y/%m/%d").to_string();
        c.recording_path = Some(
            self.dir
                .path()
                .join("recordings")
                .join(day)
                .join(format!("{id}.wav")),
        );
        c
    }
}

/// 09:00 Beijing on the Monday of the week `weeks_ago` weeks before this one.
fn monday(weeks_ago: i64) -> DateTime<Utc> {
    let today = Utc::now()
        .with_timezone(&hotline_report::beijing())
        .date_naive();
    let this_monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let day = this_monday - Duration::weeks(weeks_ago);
    hotline_report::beijing()
        .from_local_datetime(&day.and_hms_opt(9, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn week_of(t: DateTime<Utc>) -> String {
    let iso = t.with_timezone(&hotline_report::beijing()).iso_week();
    format!("{}-W{:02}", iso.year(), iso.week())
}

/// Luoyang's week: agents 1003 ×9, 1019 ×6, 1020 ×4, 1021 ×1, 1022 ×3 (23 calls), plus
/// calls that are not Luoyang's to check or cannot be checked at all.
fn luoyang_week(c: &Centre, monday: DateTime<Utc>) -> Vec<CallRecord> {
    let mut calls = Vec::new();
    let mut n = 0;
    for (agent, count) in [
        ("1003", 9),
        ("1019", 6),
        ("1020", 4),
        ("1021", 1),
        ("1022", 3),
    ] {
        for _ in 0..count {
            n += 1;
            calls.push(c.answered(monday, n, agent, "13903790000"));
        }
    }
    // A Luoyang caller answered at the provincial centre: the centre's to check.
    calls.push(c.answered(monday, 100, "1900", "13903791111"));
    let mut abandoned = c.answered(monday, 101, "1003", "13903792222");
    (
        abandoned.agent,
        abandoned.answered_at,
        abandoned.recording_path,
    ) = (None, None, None);
    abandoned.outcome = Outcome::Abandoned;
    let mut unrecorded = c.answered(monday, 102, "1003", "13903793333");
    unrecorded.recording_path = None;
    unrecorded.recording_failed = true;
    calls.extend([abandoned, unrecorded]);
    calls
}

#[test]
fn an_office_week_is_drawn_fairly_reviewed_played_and_audited() {
    let c = Centre::new();
    let monday = monday(1);
    let week = week_of(monday);
    c.store(&luoyang_week(&c, monday));

    let out = c.qa(&[
        "draw", "--office", "luoyang", "--week", &week, "--rate", "0.2", "--format", "json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Anyone with the seed redraws the same calls from the same records.
    let summary = String::from_utf8(out.stderr).unwrap();
    let seed = summary
        .split("seed ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let again = redraw_from(&c.db(), monday, seed.parse().unwrap());
    let ids: Vec<&str> = drawn.iter().map(|s| s["call"].as_str().unwrap()).collect();
    assert_eq!(again, ids, "the stored seed reproduces the draw");
    let agents: std::collections::BTreeSet<&str> =
        drawn.iter().map(|s| s["agent"].as_str().unwrap()).collect();
    assert_eq!(
        agents,
        ["1003", "1019", "1020", "1021", "1022"].into(),
        "no agent escapes"
    );
    assert!(
        drawn.len() >= 5,
        "at least ceil(20% of 23) = 5, got {}",
        drawn.len()
    );
    assert_eq!(
        drawn.len(),
        2 + 2 + 1 + 1 + 1,
        "each agent's own 20%, rounded up"
    );
    assert!(
        drawn.iter().all(|s| s["caller"] == "13903790000"),
        "no 1900, abandoned or unrecorded call"
    );

    let again = c.qa(&["draw", "--office", "luoyang", "--week", &week]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--redraw --reason"));
    let no_reason = c.qa(&["draw", "--office", "luoyang", "--week", &week, "--redraw"]);
    assert!(!no_reason.status.success(), "--redraw alone is refused");
    c.ok(&[
        "draw",
        "--office",
        "luoyang",
        "--week",
        &week,
        "--redraw",
        "--reason",
        "坐席名单有误",
    ]);
    let all = c.json(&["list", "--office", "luoyang", "--week", &week, "--all"]);
    let draws: std::collections::BTreeSet<i64> =
        all.iter().map(|s| s["draw"].as_i64().unwrap()).collect();
    assert_eq!(draws.len(), 2, "the first draw is kept beside the redraw");

    let current = c.json(&["list", "--office", "luoyang", "--week", &week]);
    let call = current[0]["call"].as_str().unwrap().to_string();
    let note = "礼貌，答复准确, 未报工号";
    c.ok(&[
        "review",
        &call,
        "--score",
        "85",
        "--note",
        note,
        "--reviewer",
        "qc-07",
    ]);
    let outsider = c
        .answered(monday, 100, "1900", "13903791111")
        .call_id
        .to_string();
    let refused = c.qa(&[
        "review",
        &outsider,
        "--score",
        "90",
        "--note",
        "x",
        "--reviewer",
        "qc-07",
    ]);
    assert!(
        !refused.status.success(),
        "a call in no draw is not reviewed"
    );
    assert!(!c
        .qa(&[
            "review",
            &call,
            "--score",
            "101",
            "--note",
            "x",
            "--reviewer",
            "qc-07"
        ])
        .status
        .success());

    let pending = c.json(&["list", "--office", "luoyang", "--week", &week, "--pending"]);
    assert_eq!(pending.len(), current.len() - 1);
    let table = c.ok(&["list", "--office", "luoyang", "--week", &week]);
    assert!(table.contains(note), "{table}");
    let csv = c.ok(&[
        "list", "--office", "luoyang", "--week", &week, "--format", "csv",
    ]);
    assert!(
        csv.contains(&format!("\"{note}\"")),
        "a note with a comma is quoted: {csv}"
    );

    let path = c.ok(&["play", &call, "--reviewer", "qc-07"]);
    let recording = c.json(&["list", "--office", "luoyang", "--week", &week]);
    assert!(
        Path::new(path.trim()).ends_with(format!("{call}.wav")),
        "{path}"
    );
    let copies = c.dir.path().join("copies");
    std::fs::create_dir(&copies).unwrap();
    let copied = c.ok(&[
        "play",
        &call,
        "--reviewer",
        "qc-08",
        "--copy-to",
        copies.to_str().unwrap(),
    ]);
    let copied = PathBuf::from(copied.trim());
    assert_eq!(
        std::fs::read(&copied).unwrap(),
        std::fs::read(path.trim()).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&copied).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !c.qa(&["play", &outsider, "--reviewer", "qc-07"])
            .status
            .success(),
        "why?"
    );
    c.ok(&[
        "play",
        &outsider,
        "--reviewer",
        "qc-07",
        "--reason",
        "投诉复核",
    ]);
    assert_eq!(recording.len(), current.len());

    let audit = c.json(&["audit"]);
    let plays: Vec<(&str, &str, &str)> = audit
        .iter()
        .filter(|r| r["action"] == "play")
        .map(|r| {
            (
                r["actor"].as_str().unwrap(),
                r["call"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(plays.len(), 3, "{audit:?}");
    assert_eq!(plays[0].0, "qc-07");
    assert_eq!(plays[0].1, call);
    assert!(plays[0].2.starts_with("spot check luoyang"), "{plays:?}");
    assert_eq!(plays[2].2, "投诉复核");
    let actions: Vec<&str> = audit
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["draw", "redraw", "review", "play", "play", "play"]
    );

    let status = c.json(&[
        "status",
        "--office",
        "luoyang",
        "--since",
        &local_day(monday),
    ]);
    let row = status
        .iter()
        .find(|r| r["period"] == week.as_str())
        .unwrap();
    assert_eq!(
        (row["calls"].as_u64(), row["needed"].as_u64()),
        (Some(23), Some(5))
    );
    assert_eq!(
        (row["sampled"].as_u64(), row["reviewed"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(row["state"], "reviewing");
    assert_eq!(row["overdue"], Value::Null, "due at the end of this week");

    let verified = c.ok(&["audit", "--verify"]);
    assert!(verified.contains("intact: 6 rows"), "{verified}");
}

/// The draw of Luoyang's week recomputed from the stored calls and `seed`.
fn redraw_from(db: &Path, monday: DateTime<Utc>, seed: Seed) -> Vec<String> {
    let calls = hotline_record::list_calls(db, None).unwrap();
    let week = PeriodKey::containing_week(monday).period();
    let luoyang = |_: &CallRecord, agent: &str| {
        if agent.starts_with("19") {
            "centre"
        } else {
            "luoyang"
        }
        .to_string()
    };
    let pool = candidates(&calls, &week, &Scope::Office("luoyang".into()), &luoyang);
    draw(&pool, Rate::OFFICE_WEEKLY, seed)
        .samples
        .iter()
        .map(|s| s.call_id.to_string())
        .collect()
}

fn local_day(t: DateTime<Utc>) -> String {
    t.with_timezone(&hotline_report::beijing())
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn an_edited_audit_row_or_a_removed_sample_fails_the_verify() {
    let c = Centre::new();
    let monday = monday(1);
    let week = week_of(monday);
    c.store(&luoyang_week(&c, monday));
    let drawn = c.json(&["draw", "--office", "luoyang", "--week", &week]);
    let call = drawn[0]["call"].as_str().unwrap();
    c.ok(&["play", call, "--reviewer", "qc-07"]);
    c.ok(&["play", call, "--reviewer", "qc-07"]);
    let verified = c.ok(&["audit", "--verify"]);
    let head = verified
        .split_whitespace()
        .find(|w| w.starts_with("3:"))
        .unwrap()
        .to_string();

    let conn = rusqlite::Connection::open(c.db()).unwrap();
    assert!(
        conn.execute("UPDATE qa_audit SET reason = 'curiosity' WHERE seq = 2", [])
            .is_err(),
        "the table refuses edits"
    );
    // Someone with the file and sqlite3 drops the guard and edits who listened, and why.
    conn.execute_batch(
        "DROP TRIGGER qa_audit_append_only_u;
         UPDATE qa_audit SET actor = 'nobody', reason = 'curiosity' WHERE seq = 2;",
    )
    .unwrap();
    let broken = c.qa(&["audit", "--verify"]);
    assert!(!broken.status.success());
    let text = String::from_utf8_lossy(&broken.stdout);
    assert!(text.contains("audit row 2 was edited"), "{text}");

    // Rows cut off the end leave a valid-looking chain: the head written down catches it.
    let c2 = Centre::new();
    c2.store(&luoyang_week(&c2, monday));
    let drawn = c2.json(&["draw", "--office", "luoyang", "--week", &week]);
    let call = drawn[0]["call"].as_str().unwrap();
    c2.ok(&["play", call, "--reviewer", "qc-07"]);
    c2.ok(&["play", call, "--reviewer", "qc-07"]);
    let verified = c2.ok(&["audit", "--verify"]);
    let head2 = verified
        .split_whitespace()
        .find(|w| w.starts_with("3:"))
        .unwrap()
        .to_string();
    assert_ne!(head, head2);
    let conn = rusqlite::Connection::open(c2.db()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER qa_audit_append_only_d; DELETE FROM qa_audit WHERE seq = 3;
         DROP TRIGGER qa_samples_append_only_d;
         DELETE FROM qa_samples WHERE rowid = (SELECT min(rowid) FROM qa_samples);",
    )
    .unwrap();
    let cut = c2.qa(&["audit", "--verify", "--head", &head2]);
    assert!(!cut.status.success());
    let text = String::from_utf8_lossy(&cut.stdout);
    assert!(
        text.contains("the head written down (row 3) is not in the chain"),
        "{text}"
    );
    assert!(text.contains("draw 1 differs from its audit row"), "{text}");
}

#[test]
fn complaints_callers_are_masked_unless_the_reader_has_clearance() {
    let c = Centre::new();
    let monday = monday(1);
    let week = week_of(monday);
    // Complaints (举报/投诉) go to the provincial centre's agents.
    let mut calls = Vec::new();
    for n in 0..6 {
        let agent = if n % 2 == 0 { "1900" } else { "1901" };
        let mut call = c.answered(monday, n, agent, "13903790000");
        call.skill = Some("complaints".into());
        calls.push(call);
    }
    let mut filing = c.answered(monday, 50, "1900", "13903795555");
    filing.skill = Some("filing".into());
    calls.push(filing);
    c.store(&calls);

    let drawn = c.ok(&[
        "draw", "--office", "centre", "--week", &week, "--rate", "100%", "--by", "qc-lead",
    ]);
    assert!(!drawn.contains("13903790000"), "{drawn}");
    assert!(drawn.contains("139****0000"), "{drawn}");
    assert!(
        drawn.contains("13903795555"),
        "a filing caller is not masked: {drawn}"
    );
    for format in ["table", "csv", "json"] {
        let listed = c.ok(&["list", "--format", format]);
        assert!(!listed.contains("13903790000"), "{format}: {listed}");
        assert!(listed.contains("139****0000"), "{format}: {listed}");
    }
    let no_reader = c.qa(&["list", "--clearance"]);
    assert!(!no_reader.status.success(), "clearance names its reader");
    let cleared = c.ok(&["list", "--clearance", "--reviewer", "inspector-1"]);
    assert!(cleared.contains("13903790000"), "{cleared}");
    let unmasked: Vec<Value> = c
        .json(&["audit"])
        .into_iter()
        .filter(|r| r["action"] == "unmask")
        .collect();
    assert_eq!(
        unmasked.len(),
        6,
        "one audit row per confidential number shown"
    );
    assert!(unmasked.iter().all(|r| r["actor"] == "inspector-1"));
    let other_skill = c.ok(&["list", "--confidential-skill", "filing"]);
    assert!(other_skill.contains("13903790000") && other_skill.contains("139****5555"));
    c.ok(&["audit", "--verify"]);
}

#[test]
fn a_month_is_drawn_centrally_and_an_old_week_never_drawn_is_overdue() {
    let c = Centre::new();
    let old = monday(10);
    c.store(&luoyang_week(&c, old));
    let month = old
        .with_timezone(&hotline_report::beijing())
        .format("%Y-%m")
        .to_string();
    let refused = c.qa(&["draw", "--central", "--month", &month, "--rate", "0.05"]);
    assert!(!refused.status.success(), "below the 10% rule");
    let this_week = week_of(Utc::now());
    let early = c.qa(&["draw", "--office", "luoyang", "--week", &this_week]);
    assert!(String::from_utf8_lossy(&early.stderr).contains("is not over"));

    let drawn = c.json(&["draw", "--central", "--month", &month]);
    let agents: std::collections::BTreeSet<&str> =
        drawn.iter().map(|s| s["agent"].as_str().unwrap()).collect();
    assert_eq!(
        agents.len(),
        6,
        "every agent of every office, the centre's 1900 too"
    );

    let status = c.json(&["status", "--since", &local_day(old)]);
    let luoyang = status
        .iter()
        .find(|r| r["office"] == "luoyang" && r["period"] == week_of(old).as_str())
        .unwrap();
    assert_eq!(luoyang["state"], "not drawn");
    assert_eq!(luoyang["overdue"], "OVERDUE");
    assert_eq!(luoyang["name"], "洛阳");
    let central = status.iter().find(|r| r["office"] == "central").unwrap();
    assert_eq!(central["period"], month.as_str());
    assert_eq!(central["rule"], "10%/month");
    assert_eq!(central["sampled"].as_u64(), Some(6));
    let table = c.ok(&["status", "--since", &local_day(old)]);
    assert!(
        table.contains("OVERDUE") && table.contains("洛阳"),
        "{table}"
    );
}
