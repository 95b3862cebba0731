//! The voice menu end to end: a test caller with real RTP (RFC 4733, in-band and SIP INFO
//! keys) against the real switch, agents as SIPp phones. Assertions are on what the caller
//! heard, what the agent saw, and what landed on disk.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::audio::{dominant, pure_tone, read_wav, tone_pcap, tone_wav};
use common::phone::Phone;
use common::rtp_phone::{RtpPhone, Sound};
use common::sipp::Sipp;
use common::switch::{dialplan, find_prompt, prompt_pcm, test_menu, Switch};
use hotline_media::Codec;
use hotline_sip::HeaderName;

/// A taxpayer on the phone: SIP by hand, audio by [`RtpPhone`].
struct Caller {
    sip: Phone,
    rtp: RtpPhone,
    to: String,
    media: SocketAddr,
    call_id: String,
    cseq: u32,
}

impl Caller {
    fn dial(switch_port: u16, number: &str) -> Caller {
        let sip = Phone::new(switch_port);
        let rtp = RtpPhone::new();
        let me = sip.addr();
        let sw = sip.switch;
        let call_id = format!("menu-{}@test", me.port());
        let sdp = format!(
            "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
            rtp.addr.port()
        );
        sip.send(&format!(
            "INVITE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKmenu1\r\n\
From: <sip:{number}@{me}>;tag=c1\r\nTo: <sip:12366@{sw}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:{number}@{me}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ));
        let ok = sip.final_response();
        assert_eq!(ok.status, 200, "the menu answers at once: {ok:?}");
        let body = String::from_utf8_lossy(&ok.body).to_string();
        let port: u16 = body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("switch media port");
        let to = ok.headers.get(&HeaderName::To).unwrap().to_string();
        let c = Caller {
            sip,
            rtp,
            to,
            media: SocketAddr::from(([127, 0, 0, 1], port)),
            call_id,
            cseq: 1,
        };
        c.in_dialog("ACK", 1, "", "");
        c.rtp.talk_to(c.media, Sound::Silence);
        c
    }

    fn in_dialog(&self, method: &str, cseq: u32, ctype: &str, body: &str) {
        let (me, sw) = (self.sip.addr(), self.sip.switch);
        let ct = if ctype.is_empty() {
            String::new()
        } else {
            format!("Content-Type: {ctype}\r\n")
        };
        self.sip.send(&format!(
            "{method} sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{cseq}\r\n\
From: <sip:c@{me}>;tag=c1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            self.to,
            self.call_id,
            body.len()
        ));
    }

    fn key(&mut self, sound: Sound) {
        self.rtp.talk_to(self.media, sound);
        std::thread::sleep(Duration::from_millis(400));
    }

    fn info_key(&mut self, key: char) {
        self.cseq += 1;
        self.in_dialog(
            "INFO",
            self.cseq,
            "application/dtmf-relay",
            &format!("Signal={key}\r\nDuration=160\r\n"),
        );
        let r = self.sip.final_response();
        assert_eq!(r.status, 200);
    }

    fn hang_up(&mut self) {
        self.cseq += 1;
        self.in_dialog("BYE", self.cseq, "", "");
    }

    /// Waits for the switch's BYE (answering it) within `limit`.
    fn expect_bye(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let mut buf = vec![0u8; 65535];
            if let Ok((n, _)) = self.sip.sock.recv_from(&mut buf) {
                if let Ok(hotline_sip::Message::Request(r)) = hotline_sip::parse_message(&buf[..n])
                {
                    if r.method.as_str() == "BYE" {
                        self.sip.reply(&r, 200);
                        return;
                    }
                }
            }
        }
        panic!("no BYE from the switch within {limit:?}");
    }
}

fn menu_plan(agents: &[(&str, &str, u16)]) -> String {
    format!("{}\n{}", dialplan(agents, 15, 60), test_menu())
}

/// Waits until `pred` holds for the caller's heard audio, up to `limit`.
fn heard_until(c: &Caller, limit: Duration, pred: impl Fn(&[i16]) -> bool) -> Vec<i16> {
    let deadline = Instant::now() + limit;
    loop {
        let h = c.rtp.heard();
        if pred(&h) || Instant::now() > deadline {
            return h;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
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
    let mut caller = Caller::dial(switch.port, "13903790000");
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("closed-menu")).is_some()
    });
    caller.key(Sound::Event('1'));
    heard_until(&caller, Duration::from_secs(10), |h| {
        find_prompt(h, &prompt_pcm("digit-1")).is_some()
    });
    std::thread::sleep(Duration::from_millis(800));
    caller.rtp.talk_to(caller.media, Sound::Tone(440.0));
    std::thread::sleep(Duration::from_secs(2));
    caller.key(Sound::Event('#'));
    caller.expect_bye(Duration::from_secs(10));
    let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0]["kind"], "voicemail");
    assert_eq!(rows[0]["number"], "13903790000");
    let path = PathBuf::from(rows[0]["voicemail_path"].as_str().unwrap());
    let mut r = hound::WavReader::open(&path).unwrap();
    assert_eq!(r.spec().channels, 1);
    let samples: Vec<i16> = r.samples::<i16>().map(|s| s.unwrap()).collect();
    let secs = samples.len() as f64 / 8000.0;
    assert!(
        (1.5..4.0).contains(&secs),
        "the message, not more: {secs} s"
    );
    assert!(dominant(
        &samples[samples.len() / 2 - 2000..samples.len() / 2 + 2000],
        440.0,
        1000.0
    ));
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
