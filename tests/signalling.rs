//! The switch's signalling towards phones and strangers: refusals of anything that is not a
//! 12366 call, malformed input, dialplan reload, and the races of a call's dialogs.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::phone::{invite_text, Phone};
use common::switch::{dialplan, hotline, Switch};
use hotline_sip::message::SipMessage;
use hotline_sip::HeaderName;

#[test]
fn options_is_answered_and_unknown_dialogs_get_481() {
    let switch = Switch::start(&dialplan(&[], 15, 60));
    let phone = Phone::new(switch.port);
    let me = phone.addr();
    phone.send(&format!(
        "OPTIONS sip:{sw} SIP/2.0\r\nv: SIP/2.0/UDP {me};branch=z9hG4bKo1\r\nf: <sip:x@{me}>;tag=1\r\n\
t: <sip:{sw}>\r\ni: opt1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n",
        sw = phone.switch
    ));
    let r = phone.final_response();
    assert_eq!(r.status, 200);
    assert!(r
        .headers
        .get(&HeaderName::Allow)
        .is_some_and(|a| a.contains("INVITE")));
    phone.send(&format!(
        "BYE sip:{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKb1\r\nFrom: <sip:x@{me}>;tag=1\r\n\
To: <sip:{sw}>;tag=2\r\nCall-ID: nosuchcall\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n",
        sw = phone.switch
    ));
    assert_eq!(phone.final_response().status, 481);
}

#[test]
fn malformed_requests_get_400_and_garbage_is_dropped_without_harm() {
    let switch = Switch::start_with(&dialplan(&[], 15, 60), &["--http", "127.0.0.1:0"]);
    let console = switch.console_url();
    let phone = Phone::new(switch.port);
    let me = phone.addr();
    // No Call-ID.
    phone.send(&format!(
        "INVITE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKm1\r\n\
From: <sip:1@{me}>;tag=1\r\nTo: <sip:12366@{sw}>\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        sw = phone.switch
    ));
    assert_eq!(phone.final_response().status, 400);
    // Content-Length larger than the body.
    phone.send(&format!(
        "OPTIONS sip:{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKm2\r\nFrom: <sip:1@{me}>;tag=1\r\n\
To: <sip:{sw}>\r\nCall-ID: m2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 900\r\n\r\nshort",
        sw = phone.switch
    ));
    assert_eq!(phone.final_response().status, 400);
    for junk in [
        &b"\x00\x01\x02garbage"[..],
        b"INVITE\r\n\r\n",
        b"SIP/2.0 999\r\n\r\n",
        &[0xff; 1400],
    ] {
        phone.sock.send_to(junk, phone.switch).unwrap();
    }
    // Still alive and answering.
    phone.send(&format!(
        "OPTIONS sip:{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKm3\r\nFrom: <sip:1@{me}>;tag=1\r\n\
To: <sip:{sw}>\r\nCall-ID: m3\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        sw = phone.switch
    ));
    assert_eq!(phone.final_response().status, 200);
    // Each counted by its fate: the two answered 400, the four junk datagrams dropped.
    let malformed = "hotline_sip_malformed_total{kind=";
    common::metric_becomes(&console, &format!("{malformed}\"answered-400\"}}"), 2);
    common::metric_becomes(&console, &format!("{malformed}\"dropped\"}}"), 4);
}

#[test]
fn a_bad_dialplan_is_refused_on_reload_and_the_running_one_stays() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let good = std::fs::read_to_string(switch.dialplan_path()).unwrap();
    std::fs::write(
        switch.dialplan_path(),
        format!("{good}\n[[agent]]\nid = \"1004\"\nregion = \"atlantis\"\nsecret = \"x\"\n"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["reload", "--control"])
        .arg(switch.control())
        .output()
        .unwrap();
    assert!(!out.status.success(), "reload must be refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dialplan.toml:") && err.contains("atlantis"),
        "file:line: reason: {err}"
    );
    // The running plan still has 1003 with its secret.
    let phone = Phone::new(switch.port);
    assert_eq!(phone.register("1003", "pw-1003", "MD5", 60).status, 200);

    // A good edit is taken, and the registered agent stays registered.
    std::fs::write(
        switch.dialplan_path(),
        format!("{good}\n[[agent]]\nid = \"1019\"\nregion = \"luoyang\"\nsecret = \"pw-1019\"\n"),
    )
    .unwrap();
    let out = hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");
    let other = Phone::new(switch.port);
    assert_eq!(
        other.register("1019", "pw-1019", "MD5", 60).status,
        200,
        "new agent known"
    );
    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKr1"));
    // 1003 has been idle longest and is still registered after the reload.
    let invite = phone.expect_request("INVITE");
    assert!(
        invite.uri.contains(&phone.addr().to_string()),
        "rung at 1003's phone"
    );
}

#[test]
fn a_re_invite_for_hold_is_answered_by_the_switch_and_bye_reaches_the_other_leg() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKh1"));
    let invite = agent.expect_request("INVITE");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    agent.answer(&invite, media.local_addr().unwrap());
    let ok = caller.final_response();
    assert_eq!(ok.status, 200);
    let to = ok.headers.get(&HeaderName::To).unwrap().to_string();
    let (me, sw) = (caller.addr(), caller.switch);
    caller.send(&format!(
        "ACK sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKh2\r\n\
From: <sip:13903790000@{me}>;tag=f1\r\nTo: {to}\r\nCall-ID: z9hG4bKh1@test\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    ));
    let hold = "v=0\r\no=t 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n";
    caller.send(&format!(
        "INVITE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKh3\r\n\
From: <sip:13903790000@{me}>;tag=f1\r\nTo: {to}\r\nCall-ID: z9hG4bKh1@test\r\nCSeq: 2 INVITE\r\n\
Contact: <sip:13903790000@{me}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{hold}",
        hold.len()
    ));
    let held = caller.final_response();
    assert_eq!(held.status, 200);
    let body = String::from_utf8_lossy(&held.body).to_string();
    assert!(
        body.contains("a=recvonly"),
        "hold answered with recvonly: {body}"
    );
    // The agent's leg is not disturbed by the caller's hold.
    agent
        .sock
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = [0u8; 4096];
    while let Ok((n, _)) = agent.sock.recv_from(&mut buf) {
        let text = String::from_utf8_lossy(&buf[..n]);
        assert!(
            !text.starts_with("INVITE"),
            "no re-INVITE towards the agent: {text}"
        );
    }
    caller.send(&format!(
        "BYE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKh4\r\n\
From: <sip:13903790000@{me}>;tag=f1\r\nTo: {to}\r\nCall-ID: z9hG4bKh1@test\r\nCSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n"
    ));
    assert_eq!(caller.final_response().status, 200);
    agent
        .sock
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let bye = agent.expect_request("BYE");
    assert_eq!(
        bye.call_id(),
        invite.call_id(),
        "BYE on the agent's own dialog"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["hung_up_by"], "caller");
}

#[test]
fn check_reports_file_line_and_reason_and_route_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let plan = dialplan(&[("1003", "luoyang", 0), ("1003", "atlantis", 0)], 15, 60);
    std::fs::write(&bad, plan).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("check")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("bad.toml:")).collect();
    assert!(lines.len() >= 2, "both problems reported: {err}");
    assert!(
        lines.iter().all(|l| l
            .split(':')
            .nth(1)
            .is_some_and(|n| n.parse::<u32>().is_ok())),
        "{err}"
    );

    let henan = concat!(env!("CARGO_MANIFEST_DIR"), "/../../dialplans/henan.toml");
    let ok = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["check", henan])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = hotline(
        &[
            "route",
            "--dialplan",
            henan,
            "--json",
            "+8613903790000",
            "037122345678",
            "+12125550100",
            "anonymous",
        ],
        None,
    );
    let rows: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[0]["region"].as_str(), rows[0]["kind"].as_str()),
        (Some("luoyang"), Some("mobile"))
    );
    assert_eq!(rows[0]["normalized"], "13903790000");
    assert_eq!(
        rows[1]["region"], "kaifeng",
        "Kaifeng's 0371 2xxxxxxx landlines"
    );
    assert_eq!(rows[2]["region"], "centre");
    assert_eq!(rows[2]["kind"], "international");
    assert_eq!(rows[3]["kind"], "anonymous");
}

/// A caller phone's INVITE answered through the switch by `agent`, ACKed; returns the
/// caller's To header (with the switch's tag) and the agent's INVITE.
fn connected_call(caller: &Phone, agent: &Phone, branch: &str) -> (String, hotline_sip::Request) {
    caller.send(&invite_text(caller, "12366", "13903790000", branch));
    let invite = agent.expect_request("INVITE");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    agent.answer(&invite, media.local_addr().unwrap());
    let ok = caller.final_response();
    assert_eq!(ok.status, 200);
    let to = ok.headers.get(&HeaderName::To).unwrap().to_string();
    let (me, sw) = (caller.addr(), caller.switch);
    caller.send(&format!(
        "ACK sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch}ack\r\n\
From: <sip:13903790000@{me}>;tag=f1\r\nTo: {to}\r\nCall-ID: {branch}@test\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
    ));
    (to, invite)
}

#[test]
fn a_bye_on_the_early_dialog_is_an_abandoned_call_and_stops_the_agent_phone() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKe1"));
    let invite = agent.expect_request("INVITE");
    let mut ringing =
        hotline_sip::Response::to_request(&invite, 180, "Ringing").with_to_tag("phone");
    ringing
        .headers
        .push(HeaderName::Contact, format!("<sip:p@{}>", agent.addr()));
    agent
        .sock
        .send_to(&ringing.to_bytes(), agent.switch)
        .unwrap();
    let r180 = caller.final_response();
    assert_eq!(r180.status, 180);
    let to = r180.headers.get(&HeaderName::To).unwrap().to_string();
    let (me, sw) = (caller.addr(), caller.switch);
    caller.send(&format!(
        "BYE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKe2\r\n\
From: <sip:13903790000@{me}>;tag=f1\r\nTo: {to}\r\nCall-ID: z9hG4bKe1@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    ));
    let mut statuses = vec![
        caller.final_response().status,
        caller.final_response().status,
    ];
    statuses.sort();
    assert_eq!(statuses, [200, 487], "BYE answered, INVITE terminated");
    let cancel = agent.expect_request("CANCEL");
    assert_eq!(cancel.call_id(), invite.call_id());
    let calls = switch.calls_when(|c| c.first().is_some_and(|c| c["outcome"] == "abandoned"));
    assert_eq!(calls[0]["outcome"], "abandoned");
}

#[test]
fn the_same_invite_under_a_new_branch_is_refused_as_merged_and_a_stale_bye_gets_481() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    let (to, _) = connected_call(&caller, &agent, "z9hG4bKm1");
    // The same INVITE again, as a forking proxy or a confused phone would send it.
    let again = invite_text(&caller, "12366", "13903790000", "z9hG4bKm1")
        .replace("branch=z9hG4bKm1", "branch=z9hG4bKm1b");
    caller.send(&again);
    assert_eq!(caller.final_response().status, 482);
    let (me, sw) = (caller.addr(), caller.switch);
    caller.send(&format!(
        "BYE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKm2\r\n\
From: <sip:13903790000@{me}>;tag=someone-else\r\nTo: {to}\r\nCall-ID: z9hG4bKm1@test\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
    ));
    assert_eq!(
        caller.final_response().status,
        481,
        "wrong From tag: not this dialog"
    );
    let calls = switch.calls();
    assert!(calls[0]["ended_at"].is_null(), "the call goes on");
}

#[test]
fn a_lost_ack_is_sent_again_when_the_agent_phone_repeats_its_200() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    let (_, invite) = connected_call(&caller, &agent, "z9hG4bKa1");
    let first = agent.expect_request("ACK");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    agent.answer(&invite, media.local_addr().unwrap());
    let second = agent.expect_request("ACK");
    assert_eq!(first.call_id(), second.call_id());
}

#[test]
fn an_agent_answer_without_sdp_moves_the_call_to_the_next_agent() {
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", 0), ("1019", "luoyang", 0)],
        15,
        60,
    ));
    let broken = Phone::new(switch.port);
    assert_eq!(broken.register("1003", "pw-1003", "MD5", 120).status, 200);
    std::thread::sleep(Duration::from_millis(20));
    let good = Phone::new(switch.port);
    assert_eq!(good.register("1019", "pw-1019", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKs1"));
    // 1003 registered first, so it has been idle longest and rings first.
    let invite = broken.expect_request("INVITE");
    let mut ok = hotline_sip::Response::to_request(&invite, 200, "OK").with_to_tag("phone");
    ok.headers
        .push(HeaderName::Contact, format!("<sip:p@{}>", broken.addr()));
    broken.sock.send_to(&ok.to_bytes(), broken.switch).unwrap();
    broken.expect_request("ACK");
    broken.expect_request("BYE");
    let invite = good.expect_request("INVITE");
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    good.answer(&invite, media.local_addr().unwrap());
    assert_eq!(
        caller.final_response().status,
        200,
        "the caller reaches the next agent"
    );
    let calls = switch.calls_when(|c| c.first().is_some_and(|c| c["agent"] == "1019"));
    assert_eq!(calls[0]["agent"], "1019");
}

#[test]
fn a_call_refused_for_lack_of_audio_is_still_on_record() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let caller = Phone::new(switch.port);
    let text = invite_text(&caller, "12366", "13903790000", "z9hG4bKf1");
    let no_audio = text.replace(
        "m=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        "m=audio 20000 RTP/AVP 18\r\n",
    );
    let cl = no_audio.split("\r\n\r\n").nth(1).unwrap().len();
    let no_audio = no_audio.replace(
        &format!(
            "Content-Length: {}",
            text.split("\r\n\r\n").nth(1).unwrap().len()
        ),
        &format!("Content-Length: {cl}"),
    );
    caller.send(&no_audio);
    assert_eq!(caller.final_response().status, 488);
    let calls = switch.calls_when(|c| !c.is_empty());
    assert_eq!(calls[0]["outcome"], "failed");
    assert_eq!(calls[0]["region"], "luoyang");
}

#[test]
fn a_call_whose_agent_leg_is_gone_is_ended_by_the_keepalive() {
    let switch = Switch::start_with(
        &dialplan(&[("1003", "luoyang", 0)], 15, 60),
        &["--keepalive-secs", "1"],
    );
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    let caller = Phone::new(switch.port);
    connected_call(&caller, &agent, "z9hG4bKk1");
    agent.expect_request("ACK");
    // The agent's phone lost the call (its BYE never arrived): it knows no such dialog.
    let ping = agent.expect_request("OPTIONS");
    agent.reply(&ping, 481);
    // The caller answers its own keep-alive, then gets the switch's BYE.
    loop {
        let r = caller.request();
        let method = r.method.as_str().to_string();
        caller.reply(&r, 200);
        if method == "BYE" {
            break;
        }
        assert_eq!(method, "OPTIONS");
    }
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["hung_up_by"], "switch");
}
