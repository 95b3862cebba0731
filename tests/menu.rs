//! The voice menu end to end: a test caller with real RTP (RFC 4733, in-band and SIP INFO
//! keys) against the real switch, agents as SIPp phones. Assertions are on what the caller
//! heard, what the agent saw, and what landed on disk.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::audio::{dominant, pure_tone, read_wav, tone_pcap, tone_wav};
use common::caller::{heard_until, Caller};
use common::rtp_phone::Sound;
use common::sipp::Sipp;
use common::switch::{dialplan, find_prompt, prompt_pcm, test_menu, Switch};
use hotline_media::Codec;

fn menu_plan(agents: &[(&str, &str, u16)]) -> String {
    format!("{}\n{}", dialplan(agents, 15, 60), test_menu())
}

/// Out of hours: dials, presses 1 for voicemail and, once its prompt is over, speaks (a
/// 440 Hz tone) for `talk`; still speaking when returned.
fn speak_a_message(switch: &Switch, number: &str, talk: Duration) -> Caller {
    let mut caller = Caller::dial(switch.port, number);
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    caller.key(Sound::Event('1'));
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("digit-1")).is_some()
    });
    std::thread::sleep(Duration::from_millis(800));
    caller.rtp.talk_to(caller.media, Sound::Tone(440.0));
    std::thread::sleep(talk);
    caller
}

/// `hotline callbacks --json`, parsed, once `pred` holds (rows are written asynchronously)
/// or 10 s have passed.
fn callbacks_when(
    switch: &Switch,
    pred: impl Fn(&[serde_json::Value]) -> bool,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
        let rows: Vec<serde_json::Value> = out
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if pred(&rows) || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The one callback row, a voicemail left by `number`: the path of its WAV.
fn the_voicemail_of(switch: &Switch, number: &str) -> PathBuf {
    let rows = callbacks_when(switch, |rows| !rows.is_empty());
    assert_eq!(rows.len(), 1, "one caller to call back: {rows:?}");
    assert_eq!(rows[0]["kind"], "voicemail");
    assert_eq!(rows[0]["number"], number);
    let path = rows[0]["voicemail_path"].as_str();
    PathBuf::from(path.unwrap_or_else(|| panic!("no WAV on the row: {rows:?}")))
}

/// The samples of the WAV at `path` once its length has stopped changing (the file is
/// closed just after the message ends), within 10 s.
fn settled_wav(path: &Path) -> Vec<i16> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut before: Option<usize> = None;
    loop {
        let samples: Vec<i16> = hound::WavReader::open(path)
            .map(|mut r| r.samples::<i16>().map_while(Result::ok).collect())
            .unwrap_or_default();
        if !samples.is_empty() && before == Some(samples.len()) {
            return samples;
        }
        assert!(
            Instant::now() < deadline,
            "{} never settled",
            path.display()
        );
        before = Some(samples.len());
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// About two seconds of the caller's 440 Hz, and no more.
fn assert_is_the_message(samples: &[i16]) {
    let secs = samples.len() as f64 / 8000.0;
    assert!(
        (1.5..4.0).contains(&secs),
        "the message, not more: {secs} s"
    );
    let mid = samples.len() / 2;
    assert!(dominant(&samples[mid - 2000..mid + 2000], 440.0, 1000.0));
}

#[test]
fn the_caller_hears_the_welcome_and_the_agent_number_before_the_agent() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let port = common::free_port();
    let switch = Switch::start_with(
        &menu_plan(&[("1003", "luoyang", port)]),
        &["--hours", "open"],
    );
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", port, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Caller::dial(switch.port, "13903790000");
    let main_menu = prompt_pcm("invalid");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &main_menu).is_some()
    });
    caller.key(Sound::Event('1'));
    let heard = heard_until(&caller, Duration::from_secs(20), |h| {
        h.len() > 8000 && pure_tone(&h[h.len() - 4000..], 1000.0)
    });
    caller.hang_up();
    agent.expect_success(Duration::from_secs(10));

    let welcome = find_prompt(&heard, &prompt_pcm("goodbye")).expect("heard the welcome");
    let menu = find_prompt(&heard, &main_menu).expect("heard the menu");
    let announce = find_prompt(&heard, &prompt_pcm("agent-before")).expect("heard 工号");
    let served = find_prompt(&heard, &prompt_pcm("agent-after")).expect("heard 为您服务");
    let agent_tone = (0..heard.len() / 800)
        .map(|i| i * 800)
        .find(|&at| at + 800 <= heard.len() && pure_tone(&heard[at..at + 800], 1000.0))
        .expect("heard the agent");
    assert!(welcome < menu && menu < announce && announce < served && served < agent_tone,
        "order: welcome {welcome}, menu {menu}, 工号 {announce}, 为您服务 {served}, agent {agent_tone}");
    for d in ["digit-1", "digit-0", "digit-3"] {
        assert!(
            find_prompt(&heard[announce..agent_tone], &prompt_pcm(d)).is_some(),
            "{d} of 1003 read out"
        );
    }

    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["agent"], "1003");
    assert_eq!(call["skill"], "filing");
    assert_eq!(call["ivr_node"], "filing");
    assert_eq!(call["agent_announced"], true);
    let wav = read_wav(&PathBuf::from(call["recording_path"].as_str().unwrap()));
    assert!(
        find_prompt(&wav.right, &prompt_pcm("goodbye")).is_some(),
        "the recording starts at the switch's answer"
    );
}

#[test]
fn a_caller_who_presses_0_during_the_welcome_reaches_an_agent_without_hearing_the_menu() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let port = common::free_port();
    let switch = Switch::start_with(
        &menu_plan(&[("1003", "luoyang", port)]),
        &["--hours", "open"],
    );
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", port, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Caller::dial(switch.port, "13903790000");
    let welcome = prompt_pcm("goodbye");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &welcome).is_some()
    });
    // An experienced taxpayer: 0 at once, in the first second of the welcome.
    caller.key(Sound::Event('0'));
    // Until the agent is heard: find_prompt knows 为您服务 by its first 100 ms, and a caller
    // who hangs up during the announcement is rightly recorded as not announced to.
    let heard = heard_until(&caller, Duration::from_secs(20), |h| {
        h.len() > 8000 && pure_tone(&h[h.len() - 4000..], 1000.0)
    });
    caller.hang_up();
    agent.expect_success(Duration::from_secs(10));

    let began = find_prompt(&heard, &welcome).expect("heard the welcome");
    let ended = began + welcome.len();
    let announce = find_prompt(&heard, &prompt_pcm("agent-before")).expect("heard 工号");
    assert!(
        find_prompt(&heard, &prompt_pcm("invalid")).is_none(),
        "the main menu's prompt never played"
    );
    assert!(
        ended - 400 <= announce && announce < ended + 3 * 8000,
        "the welcome in full, then the agent's number within 3 s: welcome {began}..{ended}, 工号 {announce}"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["ivr_node"], "agent", "{calls:?}");
    assert_eq!(calls[0]["agent"], "1003");
    assert_eq!(calls[0]["agent_announced"], true);
}

#[test]
fn keys_by_sip_info_and_in_band_tones_reach_the_right_queue() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let (luoyang, centre) = (common::free_port(), common::free_port());
    let switch = Switch::start_with(
        &menu_plan(&[("1003", "luoyang", luoyang), ("1900", "centre", centre)]),
        &["--hours", "open"],
    );
    let mut centre_phone = Sipp::agent("centre", work.path(), "agent.xml", centre, &agent_pcap, 1);
    let mut luoyang_phone =
        Sipp::agent("luoyang", work.path(), "agent.xml", luoyang, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));

    // A complaint (key 4) by SIP INFO goes to the provincial centre, not the city.
    let mut c1 = Caller::dial(switch.port, "13903790000");
    heard_until(&c1, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("invalid")).is_some()
    });
    c1.info_key('4');
    heard_until(&c1, Duration::from_secs(20), |h| {
        h.len() > 8000 && pure_tone(&h[h.len() - 4000..], 1000.0)
    });
    c1.hang_up();
    centre_phone.expect_success(Duration::from_secs(10));

    // Filing (key 1) as an in-band tone goes to Luoyang.
    let mut c2 = Caller::dial(switch.port, "037961234567");
    heard_until(&c2, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("invalid")).is_some()
    });
    c2.key(Sound::Inband('1'));
    c2.rtp.talk_to(c2.media, Sound::Silence);
    heard_until(&c2, Duration::from_secs(20), |h| {
        h.len() > 8000 && pure_tone(&h[h.len() - 4000..], 1000.0)
    });
    c2.hang_up();
    luoyang_phone.expect_success(Duration::from_secs(10));

    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    let by_agent = |a: &str| {
        calls
            .iter()
            .find(|c| c["agent"] == a)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_agent("1900")["skill"], "complaints");
    assert_eq!(
        by_agent("1900")["region"],
        "luoyang",
        "the caller is still from Luoyang"
    );
    assert_eq!(by_agent("1003")["skill"], "filing");
}

#[test]
fn out_of_hours_a_caller_leaves_a_voicemail_that_lands_on_disk_and_in_the_callback_list() {
    let switch = Switch::start_with(&menu_plan(&[]), &["--hours", "closed"]);
    let mut caller = speak_a_message(&switch, "13903790000", Duration::from_secs(2));
    caller.key(Sound::Event('#'));
    caller.expect_bye(Duration::from_secs(10));
    let path = the_voicemail_of(&switch, "13903790000");
    assert_eq!(hound::WavReader::open(&path).unwrap().spec().channels, 1);
    assert_is_the_message(&settled_wav(&path));
}

#[test]
fn a_voicemail_ended_by_hanging_up_is_on_the_callback_list_with_its_audio() {
    let switch = Switch::start_with(&menu_plan(&[]), &["--hours", "closed"]);
    let mut caller = speak_a_message(&switch, "13903790000", Duration::from_secs(2));
    caller.hang_up();
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["hung_up_by"], "caller", "{calls:?}");
    let path = the_voicemail_of(&switch, "13903790000");
    assert_is_the_message(&settled_wav(&path));
}

#[test]
fn a_message_cut_off_by_a_crash_of_the_switch_is_on_the_callback_list_with_what_was_said() {
    let mut switch = Switch::start_with(&menu_plan(&[]), &["--hours", "closed"]);
    let _caller = speak_a_message(&switch, "13903790000", Duration::from_millis(2500));
    switch.kill_hard();
    let path = the_voicemail_of(&switch, "13903790000");
    let said = settled_wav(&path);
    assert!(
        said.len() >= 8000,
        "at least the first second: {} samples",
        said.len()
    );
    assert!(
        dominant(&said[said.len() - 4000..], 440.0, 1000.0),
        "the caller's voice"
    );
}

#[test]
fn a_caller_who_hangs_up_during_the_voicemail_prompt_is_still_on_the_callback_list() {
    // A long prompt before the beep (the 17 s closed message): the caller hangs up during it.
    let plan = menu_plan(&[]).replace(
        "play = [\"digit-1\"]\nvoicemail_secs",
        "play = [\"closed\"]\nvoicemail_secs",
    );
    assert!(plan.contains("play = [\"closed\"]"), "{plan}");
    let switch = Switch::start_with(&plan, &["--hours", "closed"]);
    let mut caller = Caller::dial(switch.port, "13903790000");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    caller.key(Sound::Event('1'));
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed")).is_some()
    });
    caller.hang_up();
    let rows = callbacks_when(&switch, |rows| !rows.is_empty());
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["kind"], "voicemail");
    assert_eq!(rows[0]["number"], "13903790000");
    assert!(rows[0]["voicemail_path"].is_null(), "no message: {rows:?}");
}

#[test]
fn out_of_hours_a_caller_leaves_a_callback_number_that_is_read_back() {
    let switch = Switch::start_with(&menu_plan(&[]), &["--hours", "closed"]);
    let mut caller = Caller::dial(switch.port, "13903790000");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    caller.key(Sound::Event('2'));
    for d in "037961234567#".chars() {
        caller.key(Sound::Event(d));
    }
    let heard = heard_until(&caller, Duration::from_secs(20), |h| {
        find_prompt(h, &prompt_pcm("callback-confirm")).is_some()
    });
    assert!(find_prompt(&heard, &prompt_pcm("callback-readback")).is_some());
    caller.key(Sound::Event('1'));
    caller.expect_bye(Duration::from_secs(10));
    let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["kind"], "callback");
    assert_eq!(rows[0]["number"], "037961234567");
}

#[test]
fn after_the_agent_hangs_up_the_caller_rates_the_service() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let port = common::free_port();
    let mut plan = menu_plan(&[("1003", "luoyang", port)]);
    plan = plan.replace(
        "position_every_secs = 0",
        "position_every_secs = 0\nsurvey = true",
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    let mut agent = Sipp::agent_hanging_up("agent", work.path(), port, &agent_pcap, 10000);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Caller::dial(switch.port, "13903790000");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("invalid")).is_some()
    });
    caller.key(Sound::Event('0'));
    agent.expect_success(Duration::from_secs(30));
    heard_until(&caller, Duration::from_secs(15), |h| {
        find_prompt(h, &prompt_pcm("survey")).is_some()
    });
    caller.key(Sound::Event('1'));
    caller.expect_bye(Duration::from_secs(15));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["survey_score"], 1);
    assert_eq!(calls[0]["hung_up_by"], "agent");
}

#[test]
fn a_sipp_caller_pressing_1_with_rfc4733_reaches_the_filing_queue() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 8);
    let port = common::free_port();
    let switch = Switch::start_with(
        &menu_plan(&[("1003", "luoyang", port)]),
        &["--hours", "open"],
    );
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", port, &agent_pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller_with(
        "caller",
        work.path(),
        "caller_menu_key.xml",
        switch.port,
        "13903790000",
        &agent_pcap,
        12000,
        &[],
    );
    caller.expect_success(Duration::from_secs(40));
    agent.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["skill"], "filing", "{calls:?}");
    assert_eq!(calls[0]["agent"], "1003");
    assert_eq!(calls[0]["agent_announced"], true);
}

#[test]
fn the_operator_can_force_the_hotline_open_at_run_time() {
    let switch = Switch::start_with(&menu_plan(&[]), &["--hours", "closed"]);
    let c = Caller::dial(switch.port, "13903790000");
    heard_until(&c, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    drop(c);
    let out = common::switch::hotline(&["hours", "open", "--control"], Some(&switch.control()));
    assert!(out.contains("Open"), "{out}");
    let c = Caller::dial(switch.port, "13903790001");
    let heard = heard_until(&c, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("goodbye")).is_some()
    });
    assert!(
        find_prompt(&heard, &prompt_pcm("goodbye")).is_some(),
        "the welcome, not the closed message"
    );
}

#[test]
fn a_real_softphone_presses_1_and_hears_the_menu_the_agent_number_and_the_agent() {
    let work = tempfile::tempdir().unwrap();
    let agent_pcap = work.path().join("agent-1000.pcap");
    tone_pcap(&agent_pcap, 1000.0, Codec::Pcma, 12);
    let mic = work.path().join("caller-440.wav");
    tone_wav(&mic, 440.0, 30);
    let port = common::free_port();
    let switch = Switch::start_with(
        &menu_plan(&[("1003", "luoyang", port)]),
        &["--hours", "open"],
    );
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", port, &agent_pcap, 1);
    let phone =
        common::baresip::Baresip::start(work.path(), "<sip:13903790000@127.0.0.1>;regint=0", &mic);
    std::thread::sleep(Duration::from_millis(500));
    phone.command("dial", &format!("sip:12366@127.0.0.1:{}", switch.port));
    // The welcome (4.7 s) plays in full; the menu accepts keys.
    std::thread::sleep(Duration::from_millis(6500));
    phone.command("sndcode", "1");
    let answered = Instant::now() + Duration::from_secs(20);
    while Instant::now() < answered {
        if switch
            .calls()
            .first()
            .is_some_and(|c| c["agent_announced"] == true)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(3));
    phone.command("hangup", "");
    agent.expect_success(Duration::from_secs(15));
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["skill"], "filing", "{calls:?}\n{}", phone.log());
    assert_eq!(calls[0]["caller_normalized"], "13903790000");
    let heard = {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let h = phone.heard();
            if !h.is_empty() || Instant::now() > deadline {
                break h;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    assert!(
        !heard.is_empty(),
        "baresip wrote what it heard:\n{}",
        phone.log()
    );
    let announce = find_prompt(&heard, &prompt_pcm("agent-before"));
    let tone = (0..heard.len() / 800)
        .map(|i| i * 800)
        .find(|&at| at + 800 <= heard.len() && pure_tone(&heard[at..at + 800], 1000.0));
    assert!(
        find_prompt(&heard, &prompt_pcm("goodbye")).is_some(),
        "the softphone heard the welcome"
    );
    let (Some(announce), Some(tone)) = (announce, tone) else {
        panic!("heard 工号 {announce:?} and the agent {tone:?}");
    };
    assert!(
        announce < tone,
        "the agent's number before the agent: {announce} < {tone}"
    );
}
