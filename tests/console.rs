//! The web console in a real browser (headless Chromium over WebDriver) against the real
//! switch, with SIPp placing the calls: a supervisor signs in through the form and watches
//! their city's wallboard show a waiting caller within 2 s, then the agent talking, then
//! the answered call in today's counts; nothing of another city is on it. Then they find
//! the call on the calls page and play its recording in the browser (in the audit chain,
//! which still verifies), while a Zhengzhou recording is refused; the switch's figures are
//! scraped. An inspector scores a sampled call on the QA page. Screenshots go to
//! `target/tmp/screenshots/` for a person to look at (the desk's and the voice page's
//! tests are `console_desk.rs` and `console_voice.rs`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::audio::tone_pcap;
use common::browser::Browser;
use common::sipp::Sipp;
use common::switch::{dialplan, Switch};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";
const ZHENGZHOU_LANDLINE: &str = "037161234567";

/// A cell of a region's row on the wallboard (1-based column).
fn cell(region: &str, column: u32) -> String {
    format!("#regions tr[data-region='{region}'] td:nth-child({column})")
}

const WAITING: u32 = 2;
const TALKING: u32 = 4;
const ANSWERED: u32 = 9;

#[test]
fn a_supervisor_watches_a_caller_wait_and_be_answered_on_the_wallboard() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = (work.path().join("440.pcap"), work.path().join("1000.pcap"));
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 4);
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 4);
    let (luoyang_port, zhengzhou_port) = (common::free_port(), common::free_port());
    let switch = Switch::start_with(
        &dialplan(
            &[
                ("1003", "luoyang", luoyang_port),
                ("1001", "zhengzhou", zhengzhou_port),
            ],
            15,
            60,
        ),
        &["--http", "127.0.0.1:0"],
    );
    let console = switch.console_url();
    switch.add_user(
        "wang",
        &["--role", "supervisor", "--scope", "luoyang"],
        "luoyang-duty-1",
    );

    let browser = Browser::start();
    // Not signed in: the wallboard sends the browser to the login form.
    browser.goto(&format!("{console}/wallboard"));
    assert!(browser.url().ends_with("/login"), "{}", browser.url());
    browser.fill("#user", "wang");
    browser.fill("#password", "not-the-password");
    browser.click("#sign-in");
    browser.wait_text(".refused", Duration::from_secs(10), |t| {
        t.contains("用户名或密码错误")
    });
    browser.screenshot("login-refused");
    browser.fill("#user", "wang");
    browser.fill("#password", "luoyang-duty-1");
    browser.click("#sign-in");
    browser.wait_text("#feed", Duration::from_secs(10), |t| t == "实时");
    assert!(browser.url().ends_with("/wallboard"), "{}", browser.url());
    let table = browser.text("#regions").unwrap_or_default();
    assert!(table.contains("洛阳"), "{table}");
    assert!(
        !table.contains("郑州"),
        "a Luoyang supervisor sees no Zhengzhou row: {table}"
    );
    assert_eq!(
        browser.text(&cell("luoyang", WAITING)).as_deref(),
        Some("0")
    );

    // The Luoyang agent's phone rings 4 s before it is picked up.
    let ring = ["-d".to_string(), "4000".to_string()];
    let mut agent = Sipp::agent_with(
        "luoyang",
        work.path(),
        "acd_agent_slow.xml",
        luoyang_port,
        &agent_pcap,
        1,
        &ring,
    );
    std::thread::sleep(Duration::from_millis(300));
    let called = Instant::now();
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        2000,
    );
    browser.wait_text(&cell("luoyang", WAITING), Duration::from_secs(2), |t| {
        t == "1"
    });
    let shown_after = called.elapsed();
    assert!(
        shown_after < Duration::from_secs(2),
        "shown after {shown_after:?}"
    );
    browser.screenshot("wallboard-waiting");
    browser.wait_text(&cell("luoyang", TALKING), Duration::from_secs(10), |t| {
        t == "1"
    });
    assert_eq!(
        browser.text(&cell("luoyang", WAITING)).as_deref(),
        Some("0")
    );
    browser.screenshot("wallboard-talking");
    caller.expect_success(Duration::from_secs(30));
    agent.expect_success(Duration::from_secs(10));
    browser.wait_text(&cell("luoyang", ANSWERED), Duration::from_secs(10), |t| {
        t == "1"
    });
    browser.wait_text("#total-answered", Duration::from_secs(2), |t| t == "1");
    browser.wait_text("#total-cr", Duration::from_secs(2), |t| t == "100%");
    // The five 100%s: accepted, recorded and answered; no menu, so no number to announce.
    // (Waited for: a push may redraw the table between two reads.)
    let hundreds = browser.wait_text(
        "#hundreds tr[data-region='luoyang']",
        Duration::from_secs(3),
        |t| t.starts_with("洛阳"),
    );
    assert_eq!(
        hundreds.split_whitespace().collect::<Vec<_>>(),
        ["洛阳", "100%", "–", "100%", "100%", "–"],
        "{hundreds}"
    );
    // Up to eight hours of today's quarter hours (fewer just after midnight).
    let bars = browser.run("return document.querySelectorAll('#chart rect.bar.answered').length;");
    let bars = bars.as_u64().unwrap_or(0);
    assert!((1..=32).contains(&bars), "{bars} quarter-hour bars");
    let heights = browser.run(
        "return Array.from(document.querySelectorAll('#chart rect.bar.answered')).some(r => Number(r.getAttribute('height')) > 0);",
    );
    assert_eq!(
        heights,
        serde_json::json!(true),
        "this quarter's answered call is drawn"
    );
    browser.screenshot("wallboard-answered");

    // A Zhengzhou taxpayer's call, answered at once by the Zhengzhou agent.
    let mut zz_agent = Sipp::agent(
        "zhengzhou",
        work.path(),
        "agent.xml",
        zhengzhou_port,
        &agent_pcap,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut zz_caller = Sipp::caller(
        "zz-caller",
        work.path(),
        switch.port,
        ZHENGZHOU_LANDLINE,
        &caller_pcap,
        1000,
    );
    zz_caller.expect_success(Duration::from_secs(30));
    zz_agent.expect_success(Duration::from_secs(10));
    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    let id_of = |region: &str| {
        calls
            .iter()
            .find(|c| c["region"] == region)
            .and_then(|c| c["call_id"].as_str())
            .unwrap_or_else(|| panic!("no {region} call: {calls:?}"))
            .to_string()
    };
    let (luoyang_call, zhengzhou_call) = (id_of("luoyang"), id_of("zhengzhou"));

    // The calls page lists the Luoyang call only; its page plays the recording.
    browser.goto(&format!("{console}/calls"));
    browser.wait_text("#count", Duration::from_secs(10), |t| t == "共 1 通");
    let listed = browser.text("#calls").unwrap_or_default();
    assert!(
        listed.contains("13903790000") && !listed.contains(ZHENGZHOU_LANDLINE),
        "{listed}"
    );
    browser.screenshot("calls");
    browser.click(&format!("tr[data-call='{luoyang_call}'] a"));
    browser.wait_text("#facts", Duration::from_secs(10), |t| t.contains("1003"));
    browser.run("document.getElementById('player').play(); return true;");
    let played = Instant::now();
    loop {
        let done = browser.run(
            "const p = document.getElementById('player'); return p.currentTime > 0.5 || p.ended;",
        );
        if done == serde_json::Value::Bool(true) {
            break;
        }
        assert!(
            played.elapsed() < Duration::from_secs(10),
            "the recording did not play"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    browser.wait_text("#agent-states", Duration::from_secs(5), |t| {
        t.contains("振铃") && t.contains("通话")
    });
    browser.screenshot("call");
    let audit = hotline_record::qa::list_audit(&switch.db()).expect("the audit");
    assert!(
        audit.iter().any(|r| r.action == "play"
            && r.actor == "wang"
            && r.call_id.as_deref() == Some(luoyang_call.as_str())),
        "the play is in the audit: {audit:?}"
    );
    switch.assert_audit_verifies();

    // On the agents page the supervisor sends 1003 to lunch; the switch's state follows.
    browser.goto(&format!("{console}/supervisor"));
    browser.wait_text(
        "tr[data-agent='1003'] td.state",
        Duration::from_secs(10),
        |t| t == "空闲",
    );
    let seats = browser.text("#seats").unwrap_or_default();
    assert!(
        !seats.contains("1001"),
        "no Zhengzhou agent on wang's page: {seats}"
    );
    browser.run(
        "document.querySelector(\"select[data-reason='1003']\").value = 'lunch'; return true;",
    );
    browser.click("tr[data-agent='1003'] button[data-action='pause']");
    browser.wait_text(
        "tr[data-agent='1003'] td.state",
        Duration::from_secs(5),
        |t| t == "示忙 · 就餐",
    );
    browser.screenshot("supervisor");

    // The reports: today's five 100%s for Luoyang, with its chart, and the CSV link.
    browser.goto(&format!("{console}/reports"));
    browser.wait_text("#report", Duration::from_secs(10), |t| t.contains("接通率"));
    let csv = browser.run("return document.getElementById('csv').getAttribute('href');");
    assert_eq!(
        csv,
        serde_json::json!("/api/reports/service/csv?region=luoyang&minutes=15"),
        "{csv}"
    );
    let regions = browser.text("#region").unwrap_or_default();
    assert_eq!(regions.trim(), "洛阳", "only their own city to pick");
    browser.screenshot("reports");

    // Zhengzhou's recording is not theirs.
    browser.goto(&format!("{console}/recordings/{zhengzhou_call}"));
    let refused = browser.text("body").unwrap_or_default();
    assert!(refused.contains("outside your regions"), "{refused}");
    assert!(
        !hotline_record::qa::list_audit(&switch.db())
            .expect("the audit")
            .iter()
            .any(|r| r.call_id.as_deref() == Some(zhengzhou_call.as_str())),
        "nothing refused is in the audit as played"
    );

    // The scrape of this machine: the switch's own figures after two calls relayed.
    // (Fetched by the page: Chromium downloads the OpenMetrics type instead of showing it.)
    browser.goto(&format!("{console}/wallboard"));
    let metrics = browser.run("return fetch('/metrics').then((r) => r.text());");
    let metrics = metrics.as_str().unwrap_or_default();
    let figure = |name: &str| -> f64 {
        let line = metrics.lines().find(|l| l.starts_with(&format!("{name} ")));
        line.and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing:\n{metrics}"))
    };
    assert!(figure("hotline_sip_requests_total{direction=\"in\",method=\"INVITE\"}") >= 2.0);
    assert!(figure("hotline_sip_responses_total{direction=\"out\",class=\"2xx\"}") >= 2.0);
    assert!(figure("hotline_rtp_packets_total{kind=\"relayed\"}") > 100.0);
    assert_eq!(figure("hotline_calls_in_progress{stage=\"talking\"}"), 0.0);
    assert_eq!(figure("hotline_refused_total{kind=\"overload-503\"}"), 0.0);
    assert!(figure("hotline_recording_write_lag_seconds") < 5.0);
    assert_eq!(figure("hotline_store_queued_writes"), 0.0);
}

/// Stores a call Luoyang's agent 1003 answered a week ago, with its recording.
fn last_weeks_call(switch: &Switch) -> hotline_record::CallId {
    use chrono::{Duration as Days, Utc};
    let at = Utc::now() - Days::days(7);
    let id = hotline_record::CallId::generate(at, 0x5eed);
    let wav = switch.dir.path().join(format!("{id}.wav"));
    let pcm = vec![0u8; 16_000];
    std::fs::write(&wav, pcm).expect("a recording");
    let mut r = hotline_record::CallRecord::new(id.clone(), LUOYANG_MOBILE, at);
    r.region = Some("luoyang".into());
    r.agent = Some("1003".into());
    r.queued_at = Some(at);
    r.answered_at = Some(at + Days::seconds(4));
    r.ended_at = Some(at + Days::seconds(94));
    r.outcome = hotline_record::Outcome::Answered;
    r.recording_path = Some(wav);
    let store = hotline_record::CallStore::open(&switch.db()).expect("the store");
    store.save(&r).expect("saved");
    store.sync().expect("synced");
    id
}

#[test]
fn an_inspector_scores_a_sampled_call_on_the_qa_page() {
    let switch = Switch::start_with(
        &dialplan(&[("1003", "luoyang", common::free_port())], 15, 60),
        &["--http", "127.0.0.1:0"],
    );
    let console = switch.console_url();
    let call = last_weeks_call(&switch);
    // Last week's check for Luoyang, drawn as the office does with the CLI.
    let week = {
        use chrono::{Datelike, Duration as Days, Utc};
        let beijing = hotline_report::beijing();
        let w = (Utc::now().with_timezone(&beijing) - Days::days(7)).iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    };
    let drawn = Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args([
            "qa", "draw", "--office", "luoyang", "--week", &week, "--by", "li", "--db",
        ])
        .arg(switch.db())
        .arg("--dialplan")
        .arg(switch.dialplan_path())
        .output()
        .expect("hotline qa draw");
    assert!(
        drawn.status.success(),
        "{}",
        String::from_utf8_lossy(&drawn.stderr)
    );
    switch.add_user("li", &["--role", "inspector"], "inspect-all-day");

    let browser = Browser::start();
    browser.goto(&format!("{console}/login"));
    browser.fill("#user", "li");
    browser.fill("#password", "inspect-all-day");
    browser.click("#sign-in");
    let row = format!("#samples tr[data-call='{call}']");
    browser.wait_text(&row, Duration::from_secs(10), |t| t.contains("1003"));
    let coverage = browser.text("#coverage").unwrap_or_default();
    assert!(
        coverage.contains(&week) && coverage.contains("luoyang"),
        "{coverage}"
    );
    browser.fill(&format!("{row} input[name='score']"), "90");
    browser.fill(&format!("{row} input[name='note']"), "报工号清楚，答复准确");
    browser.click(&format!("{row} button[data-action='review']"));
    browser.wait_text(
        &format!("{row} td:nth-child(6)"),
        Duration::from_secs(10),
        |t| t == "90",
    );
    browser.screenshot("qa");
    let reviews = hotline_record::qa::list_reviews(&switch.db()).expect("reviews");
    assert!(
        reviews
            .iter()
            .any(|r| r.call_id == call && r.score == 90 && r.reviewer == "li"),
        "{reviews:?}"
    );
    switch.assert_audit_verifies();
}
