//! The agent's desk in a real browser (headless Chromium over WebDriver) against the real
//! switch, with SIPp placing the calls: the caller pops up while the phone rings, the
//! summary is filed, a question is handed on (and listed among the agent's own cases), the
//! next call of the same taxpayer shows the summary and their open callback, the agent goes
//! to lunch, and a category added to the plan by a reload is offered at once.

mod common;

use std::time::{Duration, Instant};

use common::audio::tone_pcap;
use common::browser::Browser;
use common::sipp::Sipp;
use common::switch::{dialplan, Switch};
use hotline_media::Codec;

const LUOYANG_MOBILE: &str = "13903790000";

#[test]
fn an_agent_sees_the_callers_history_pop_up_and_files_a_summary() {
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = (work.path().join("440.pcap"), work.path().join("1000.pcap"));
    tone_pcap(&caller_pcap, 440.0, Codec::Pcmu, 4);
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 4);
    let port = common::free_port();
    let switch = Switch::start_with(
        &dialplan(&[("1003", "luoyang", port)], 15, 60),
        &["--http", "127.0.0.1:0"],
    );
    let console = switch.console_url();
    switch.add_user(
        "zhao",
        &["--role", "agent", "--agent", "1003"],
        "desk-1003-pass",
    );
    let browser = Browser::start();
    browser.goto(&format!("{console}/login"));
    browser.fill("#user", "zhao");
    browser.fill("#password", "desk-1003-pass");
    browser.click("#sign-in");
    browser.wait_text("#state", Duration::from_secs(10), |t| t == "空闲");
    assert!(browser.url().ends_with("/desk"), "{}", browser.url());

    // Two calls from the same taxpayer; 1003's phone rings 3 s before each answer.
    let ring = ["-d".to_string(), "3000".to_string()];
    let mut agent = Sipp::agent_with(
        "desk",
        work.path(),
        "acd_agent_slow.xml",
        port,
        &agent_pcap,
        2,
        &ring,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut first = Sipp::caller(
        "first",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
    );
    browser.wait_text("#caller", Duration::from_secs(5), |t| {
        t.contains(LUOYANG_MOBILE) && t.contains("洛阳")
    });
    assert_eq!(
        browser.text("#state").as_deref(),
        Some("振铃"),
        "popped while it rings"
    );
    first.expect_success(Duration::from_secs(30));
    browser.wait_text("#state", Duration::from_secs(10), |t| t == "空闲");
    browser.run("document.getElementById('category').value = '增值税发票'; return true;");
    browser.fill("#note", "专票领购流程已告知");
    browser.click("#save-summary");
    browser.wait_text("#said", Duration::from_secs(5), |t| t == "已保存。");
    // A question for the tax office: handed on, due in two working days.
    browser.fill("#question", "专票红冲需主管税务机关确认");
    browser.click("#hand-on");
    browser.wait_text("#said", Duration::from_secs(5), |t| {
        t.starts_with("已转办，办结期限 ")
    });
    let cases = hotline_record::list_cases(&switch.db()).expect("the cases");
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(
        (cases[0].agent.as_str(), cases[0].region.as_str()),
        ("1003", "luoyang")
    );
    browser.wait_text("#my-cases", Duration::from_secs(5), |t| {
        t.contains("专票红冲需主管税务机关确认") && t.contains("办理中")
    });
    // Meanwhile the taxpayer left a message last night, still to be called back.
    let store = hotline_record::CallStore::open(&switch.db()).expect("the store");
    let night = chrono::Utc::now() - chrono::Duration::hours(10);
    store
        .save_callback(&hotline_record::Callback {
            id: 0,
            call_id: hotline_record::CallId::generate(night, 7),
            caller: LUOYANG_MOBILE.into(),
            number: Some(LUOYANG_MOBILE.into()),
            region: Some("luoyang".into()),
            created_at: night,
            kind: hotline_record::CallbackKind::Voicemail,
            voicemail_path: None,
            state: "open".into(),
        })
        .expect("saved");
    store.sync().expect("synced");

    let mut second = Sipp::caller(
        "second",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        1000,
    );
    browser.wait_text("#history", Duration::from_secs(8), |t| {
        t.contains("增值税发票：专票领购流程已告知")
    });
    browser.wait_text("#callbacks", Duration::from_secs(2), |t| {
        t.contains("留言") && t.contains(LUOYANG_MOBILE)
    });
    browser.screenshot("desk");
    second.expect_success(Duration::from_secs(30));
    agent.expect_success(Duration::from_secs(10));

    // The agent goes to lunch from the desk.
    browser.wait_text("#state", Duration::from_secs(10), |t| t == "空闲");
    browser.run("document.getElementById('reason').value = 'lunch'; return true;");
    browser.click("button[data-state='pause']");
    browser.wait_text("#state", Duration::from_secs(5), |t| t == "示忙");

    // The office adds a category to the plan and reloads: the desk offers it at once.
    let plan = std::fs::read_to_string(switch.dialplan_path()).expect("the plan");
    let plan = plan.replacen(
        "[switch]\n",
        "[switch]\nsummary_categories = [\"出口退税\", \"其他\"]\n",
        1,
    );
    std::fs::write(switch.dialplan_path(), plan).expect("the plan written");
    let out = common::switch::hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");
    browser.goto(&format!("{console}/desk"));
    let offered = Instant::now();
    loop {
        // (The summary form stays hidden until a call: its options are read, not seen.)
        let options = browser.run(
            "return Array.from(document.querySelectorAll('#category option')).map(o => o.value).join(',');",
        );
        if options == serde_json::json!("出口退税,其他") {
            break;
        }
        assert!(offered.elapsed() < Duration::from_secs(5), "{options}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
