//! The switch as it meets the open network: a new user's phone on the bundled plan, and
//! what a scanner, a password guesser or an RTP sprayer gets out of it (issue 9).

mod common;

use std::time::{Duration, Instant};

use common::switch::Switch;
use hotline_sip::message::SipMessage;

/// A real softphone registers as the bundled plan's demo agent 1003 with the plan's own
/// `[switch]` settings, exactly as the README tells a new user to: no digest edit needed.
#[test]
fn baresip_registers_against_the_bundled_plan_as_it_ships() {
    let work = tempfile::tempdir().unwrap();
    let mic = work.path().join("silence.wav");
    common::audio::tone_wav(&mic, 0.0, 5);
    let switch = Switch::start_bundled(&["--hours", "open"]);
    let phone = common::baresip::Baresip::start(
        work.path(),
        &format!(
            "<sip:1003@127.0.0.1:{}>;auth_pass=demo-1003;regint=60",
            switch.port
        ),
        &mic,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !phone.log().contains("200 OK () [1 binding]") {
        assert!(
            Instant::now() < deadline,
            "baresip did not register on the bundled plan:\n{}",
            phone.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!phone.log().contains("Function not implemented"));
    let agent = switch.agent_when("1003", |a| a["state"] == "available");
    assert_eq!(agent["state"], "available", "{agent}");
}

/// The bundled plan with test-sized brakes: slowed from the 3rd wrong password, blocked at
/// the 10th for two minutes.
fn bundled_with_brakes() -> Switch {
    let plan = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../dialplans/henan.toml"
    ))
    .unwrap();
    let plan = format!(
        "{plan}\n[security]\nauth_slow_after = 3\nauth_block_after = 10\nauth_block_secs = 120\n"
    );
    Switch::start_with_prompts(&plan, &["--hours", "open"])
}

/// Runs one of SIPVicious's tools (`svwar`, `svcrack`) against the switch from a quiet
/// port of 127.0.0.1; its output (it reports on stderr).
fn sipvicious(tool: &str, switch: &Switch, args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let local = common::quiet_port_block().to_string();
    let port = switch.port.to_string();
    let out = std::process::Command::new(tool)
        .args(args)
        .args(["-b", "127.0.0.1", "-P", &local, "-p", &port, "127.0.0.1"])
        .env("HOME", home.path())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{tool} (Debian's sipvicious) is needed: {e}"));
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What an attacker runs first: `svwar` lists the numbers a switch gives away. It finds
/// none of the bundled plan's agents or supervisors, by INVITE or by REGISTER, even when
/// forced past the switch's challenge-everything answer.
#[test]
fn svwar_finds_no_agent_or_supervisor_number() {
    let switch = Switch::start_bundled(&["--hours", "open"]);
    for args in [
        &["-e1000-1020,1900-1901,5000", "-m", "INVITE", "--force"][..],
        &["-e1000-1020,1900-1901,5000", "-m", "REGISTER", "--force"][..],
        &["-e1000-1020,1900-1901"][..],
    ] {
        let out = sipvicious("svwar", &switch, args);
        assert!(out.contains("found nothing"), "{args:?}:\n{out}");
        for id in ["1003", "1900", "1018"] {
            assert!(
                !out.contains(&format!("| {id}")),
                "{args:?} found {id}:\n{out}"
            );
        }
    }
    assert!(switch.calls().is_empty(), "scans are not calls");
}

/// 50 passwords guessed for agent 1003 by `svcrack`, the right one last: from the 3rd
/// wrong one every answer is held back, at the 10th the address and the user are blocked,
/// so the right password is refused unchecked and never found. The operator sees both
/// blocks in `hotline security --json` and the brakes in `security_events`.
#[test]
fn fifty_guessed_passwords_meet_the_brakes_and_the_right_one_is_never_found() {
    let switch = bundled_with_brakes();
    let work = tempfile::tempdir().unwrap();
    let dict = work.path().join("guesses.txt");
    let mut words: Vec<String> = (1..50).map(|n| format!("guess{n}")).collect();
    words.push("demo-1003".into());
    std::fs::write(&dict, words.join("\n") + "\n").unwrap();
    let out = sipvicious(
        "svcrack",
        &switch,
        &["-u1003", "-d", dict.to_str().unwrap()],
    );
    assert!(out.contains("found nothing"), "{out}");
    assert!(!out.contains("demo-1003"), "{out}");

    // The right password from the blocked address is refused too.
    let phone = common::phone::Phone::new(switch.port);
    let r = phone.register("1003", "demo-1003", "MD5", 60);
    assert_eq!(r.status, 403, "blocked even for the right password");
    let agent = switch.agent_when("1003", |a| a["phone"] == "registered");
    assert_eq!(agent["phone"], "unreachable", "{agent}");

    let v = switch.security_json();
    let security = v.to_string();
    let blocked: Vec<(String, String)> = v["blocked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["kind"].as_str().unwrap().into(),
                b["subject"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        blocked.contains(&("source".into(), "127.0.0.1".into())),
        "{security}"
    );
    assert!(
        blocked.contains(&("user".into(), "1003".into())),
        "{security}"
    );
    let kinds: Vec<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"auth-slowed") && kinds.contains(&"auth-blocked"),
        "{security}"
    );
}

/// Past the slow-down threshold an answer is held back, the right password's as long as a
/// wrong one's, so timing tells a guesser nothing; below it answers come at once.
#[test]
fn once_slowed_a_right_password_waits_as_long_as_a_wrong_one() {
    let switch = bundled_with_brakes();
    let phone = common::phone::Phone::new(switch.port);
    for _ in 0..3 {
        assert_eq!(phone.register("1004", "wrong", "MD5", 60).status, 403);
    }
    // Three failures counted for the address: the next answers are held 200 ms or more.
    for (password, status) in [("wrong", 403), ("demo-1004", 200)] {
        let start = Instant::now();
        let r = phone.register("1004", password, "MD5", 60);
        assert_eq!(r.status, status);
        assert!(
            start.elapsed() >= Duration::from_millis(200),
            "{password}: answered after {:?}",
            start.elapsed()
        );
    }
}

/// The attacker's 2500 Hz tone is in no whole second of `samples`, where `own` (the
/// party's real tone) is. A second counts as hearing the attacker when 2500 Hz stands out
/// above its neighbour 3000 Hz (a click or a seam spreads over both; a tone does not) and
/// is more than a hundredth of the real tone's strongest second.
fn sprayer_unheard(samples: &[i16], own: f64, what: &str) {
    use common::audio::tone_power;
    let mine = samples
        .chunks_exact(8000)
        .map(|s| tone_power(s, own))
        .fold(0.0, f64::max);
    assert!(mine > 1.0, "{what}: the real party's {own} Hz is there");
    for (n, second) in samples.chunks_exact(8000).enumerate() {
        let (theirs, control) = (tone_power(second, 2500.0), tone_power(second, 3000.0));
        assert!(
            theirs < mine / 100.0 || theirs < 10.0 * control,
            "{what}: the sprayer's 2500 Hz was heard in second {n} ({theirs:.1} against {mine:.1})"
        );
    }
}

/// While an agent's phone rings and then while the call talks, an attacker sprays RTP at
/// every UDP port the switch holds. Each leg takes media only from the address its
/// signalling named: the attacker receives nothing, and its tone is in neither channel of
/// the recording nor in what the caller or the agent heard.
#[test]
fn an_rtp_sprayer_hears_nothing_and_is_heard_by_nobody() {
    use common::desk::DeskPhone;
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let plan = common::switch::dialplan(&[("1003", "luoyang", agent.port())], 15, 60);
    let switch = Switch::start(&plan);
    agent.connect(switch.port);
    let sprayer = common::sprayer::Sprayer::start(switch.pid(), 2500.0);

    let mut caller = common::taxpayer::Taxpayer::dial(switch.port, "13903790000");
    // Two seconds of ringing under fire, then the agent answers.
    let _dialog = agent.take_call_after(Duration::from_secs(2));
    let ok = caller.answered(440.0);
    assert_eq!(ok.status, 200, "{ok:?}");
    std::thread::sleep(Duration::from_secs(4));
    caller.hang_up();
    assert_eq!(caller.final_response().status, 200);
    let sprayed = sprayer.stop();
    assert!(
        sprayed.ports.len() >= 3,
        "SIP and both legs' media: {sprayed:?}"
    );
    assert!(sprayed.sent > 200, "{sprayed:?}");
    assert_eq!(sprayed.received, 0, "the switch sent the attacker nothing");

    let calls = switch.ended_calls();
    let wav = common::audio::read_wav(std::path::Path::new(
        calls[0]["recording_path"].as_str().expect("recorded"),
    ));
    sprayer_unheard(&wav.left, 440.0, "the recording's caller channel");
    sprayer_unheard(&wav.right, 1000.0, "the recording's agent channel");
    sprayer_unheard(&caller.rtp.heard(), 1000.0, "what the caller heard");
    sprayer_unheard(&agent.rtp.heard(), 440.0, "what the agent heard");
}

/// An INVITE from `phone` as `user` to `target` with an SDP offer, `extra` headers, CSeq
/// `cseq`; the final response.
fn seat_invite(
    phone: &common::phone::Phone,
    user: &str,
    target: &str,
    cseq: u32,
    extra: &str,
) -> hotline_sip::Response {
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (me, sw) = (phone.addr(), phone.switch);
    let sdp = "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    phone.send(&format!(
        "INVITE sip:{target}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKseat{n}x{cseq}\r\n\
From: <sip:{user}@{sw}>;tag=seat\r\nTo: <sip:{target}@{sw}>\r\nCall-ID: seat-{target}-{}@test\r\n\
CSeq: {cseq} INVITE\r\nContact: <sip:{user}@{me}>\r\nMax-Forwards: 70\r\n{extra}\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        me.port(),
        sdp.len()
    ));
    loop {
        let r = phone.final_response();
        if r.status >= 200 {
            return r;
        }
    }
}

/// [`seat_invite`] answering the switch's challenge with `password`: (challenge, final).
fn seat_invite_with_digest(
    phone: &common::phone::Phone,
    user: &str,
    target: &str,
    password: &str,
) -> (u16, hotline_sip::Response) {
    let first = seat_invite(phone, user, target, 1, "");
    if first.status != 401 {
        return (first.status, first);
    }
    let chal = first
        .headers
        .get(&hotline_sip::HeaderName::WwwAuthenticate)
        .unwrap()
        .to_string();
    let uri = format!("sip:{target}@{}", phone.switch);
    let auth = hotline_sip::digest::Challenge::parse(&chal)
        .and_then(|c| c.answer("INVITE", &uri, user, password, "5eat"))
        .unwrap();
    let last = seat_invite(
        phone,
        user,
        target,
        2,
        &format!("Authorization: {auth}\r\n"),
    );
    (401, last)
}

/// A supervisor's and an agent's static seats: listening in and calling out from the seat's
/// own address and port are still challenged for the seat's secret; with it they pass. A
/// seat the plan trusts by address (`trust_address`) needs none.
#[test]
fn a_static_seat_needs_its_secret_to_listen_in_or_call_out() {
    let (sup_port, trusted_port, agent_port) = (
        common::quiet_port_block(),
        common::quiet_port_block(),
        common::quiet_port_block(),
    );
    let carrier = common::phone::Phone::new(0);
    let mut plan = common::switch::dialplan(&[], 15, 60);
    plan.push_str(&format!(
        "\n[[agent]]\nid = \"1003\"\nregion = \"luoyang\"\ncontact = \"sip:1003@127.0.0.1:{agent_port}\"\nsecret = \"seat-secret-1003\"\n\
\n[[supervisor]]\nid = \"1950\"\ncontact = \"sip:1950@127.0.0.1:{sup_port}\"\nsecret = \"seat-secret-1950\"\nscope = \"luoyang\"\n\
\n[[supervisor]]\nid = \"1951\"\ncontact = \"sip:1951@127.0.0.1:{trusted_port}\"\ntrust_address = true\nscope = \"luoyang\"\n\
\n[[trunk]]\nname = \"carrier\"\naddress = \"{}\"\nallow = [\"1[3-9]XXXXXXXXX\"]\n",
        carrier.addr()
    ));
    let switch = Switch::start(&plan);
    let sup = common::phone::Phone::at(sup_port, switch.port);
    let agent = common::phone::Phone::at(agent_port, switch.port);

    // From the seat itself, without the secret: challenged, and a wrong secret refused.
    assert_eq!(seat_invite(&sup, "1950", "*311003", 1, "").status, 401);
    assert_eq!(
        seat_invite_with_digest(&sup, "1950", "*311003", "guess")
            .1
            .status,
        403
    );
    assert_eq!(
        seat_invite(&agent, "1003", "913903790000", 1, "").status,
        401
    );
    // With it, the request is looked at: 1003 is on no call (404); the call out goes to
    // the carrier.
    let (challenged, r) = seat_invite_with_digest(&sup, "1950", "*311003", "seat-secret-1950");
    assert_eq!((challenged, r.status), (401, 404), "{r:?}");
    let first = seat_invite(&agent, "1003", "913903790000", 5, "");
    let chal = first
        .headers
        .get(&hotline_sip::HeaderName::WwwAuthenticate)
        .unwrap()
        .to_string();
    let uri = format!("sip:913903790000@{}", agent.switch);
    let auth = hotline_sip::digest::Challenge::parse(&chal)
        .and_then(|c| c.answer("INVITE", &uri, "1003", "seat-secret-1003", "5eat"))
        .unwrap();
    let (me, sw) = (agent.addr(), agent.switch);
    let sdp = "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    agent.send(&format!(
        "INVITE sip:913903790000@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKout6\r\n\
From: <sip:1003@{sw}>;tag=seat\r\nTo: <sip:913903790000@{sw}>\r\nCall-ID: out@test\r\n\
CSeq: 6 INVITE\r\nContact: <sip:1003@{me}>\r\nMax-Forwards: 70\r\nAuthorization: {auth}\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    ));
    let out = carrier.expect_request("INVITE");
    assert!(out.uri.contains("13903790000"), "{out:?}");
    // Feature codes stay open to the seat's address.
    assert_eq!(seat_invite(&agent, "1003", "*23", 3, "").status, 200);

    // The trusted seat is let through on its address alone.
    let trusted = common::phone::Phone::at(trusted_port, switch.port);
    assert_eq!(seat_invite(&trusted, "1951", "*311003", 1, "").status, 404);
}

/// A supervisor listening in whose phone vanished (it answers the switch's keep-alive with
/// 481, as a rebooted phone does) is taken off the call, so the call's supervisor seat is
/// free again: the same supervisor dialling back in is joined instead of refused as a
/// second supervisor (486).
#[test]
fn a_vanished_supervisor_phone_frees_the_calls_supervisor_seat() {
    use common::desk::DeskPhone;
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let sup_port = common::quiet_port_block();
    let mut plan = common::switch::dialplan(&[("1003", "luoyang", agent.port())], 15, 60);
    plan.push_str(&format!(
        "\n[[supervisor]]\nid = \"1950\"\ncontact = \"sip:1950@127.0.0.1:{sup_port}\"\ntrust_address = true\nscope = \"luoyang\"\n"
    ));
    let switch = Switch::start_with(&plan, &["--keepalive-secs", "1"]);
    agent.connect(switch.port);
    let mut caller = common::taxpayer::Taxpayer::dial(switch.port, "13903790000");
    let _dialog = agent.take_call();
    assert_eq!(caller.answered(440.0).status, 200);
    let sw = caller.sip.switch;

    let sup = common::phone::Phone::at(sup_port, switch.port);
    let joined = seat_invite(&sup, "1950", "*311003", 1, "");
    assert_eq!(joined.status, 200, "{joined:?}");
    let to = joined
        .headers
        .get(&hotline_sip::HeaderName::To)
        .unwrap()
        .to_string();
    let me = sup.addr();
    sup.send(&format!(
        "ACK sip:*311003@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKsupack\r\n\
From: <sip:1950@{sw}>;tag=seat\r\nTo: {to}\r\nCall-ID: seat-*311003-{}@test\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        me.port()
    ));
    // The switch asks whether the supervisor's phone is still there; it knows no such call.
    let options = sup.expect_request("OPTIONS");
    sup.reply(&options, 481);
    std::thread::sleep(Duration::from_millis(500));
    let again = seat_invite(&sup, "1950", "*311003", 2, "");
    assert_eq!(again.status, 200, "the seat was freed: {again:?}");
}

/// A phone call held by the brakes that its phone cancels meanwhile gets its 487 and is
/// never carried out: here a `*21` (log in) signed with the right password.
#[test]
fn a_held_call_cancelled_by_its_phone_is_never_carried_out() {
    let switch = bundled_with_brakes();
    let phone = common::phone::Phone::new(switch.port);
    for _ in 0..3 {
        let (_, r) = seat_invite_with_digest(&phone, "1003", "*21", "wrong");
        assert_eq!(r.status, 403);
    }
    let first = seat_invite(&phone, "1003", "*21", 1, "");
    assert_eq!(first.status, 401);
    let chal = first
        .headers
        .get(&hotline_sip::HeaderName::WwwAuthenticate)
        .unwrap()
        .to_string();
    let uri = format!("sip:*21@{}", phone.switch);
    let auth = hotline_sip::digest::Challenge::parse(&chal)
        .and_then(|c| c.answer("INVITE", &uri, "1003", "demo-1003", "5eat"))
        .unwrap();
    let (me, sw) = (phone.addr(), phone.switch);
    let sdp = "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let head = |method: &str| {
        format!(
            "{method} sip:*21@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKheld\r\n\
From: <sip:1003@{sw}>;tag=held\r\nTo: <sip:*21@{sw}>\r\nCall-ID: held@test\r\n\
CSeq: 1 {method}\r\nMax-Forwards: 70\r\n"
        )
    };
    phone.send(&format!(
        "{}Contact: <sip:1003@{me}>\r\nAuthorization: {auth}\r\nContent-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{sdp}",
        head("INVITE"),
        sdp.len()
    ));
    phone.send(&format!("{}Content-Length: 0\r\n\r\n", head("CANCEL")));
    let mut finals = Vec::new();
    while finals.len() < 2 {
        let r = phone.final_response();
        if r.status >= 200 {
            finals.push((r.status, r.cseq().unwrap().method.as_str().to_string()));
        }
    }
    finals.sort();
    assert_eq!(
        finals,
        [(200, "CANCEL".to_string()), (487, "INVITE".to_string())]
    );
    std::thread::sleep(Duration::from_secs(4));
    let agent = switch.agent_when("1003", |a| a["state"] != "logged-out");
    assert_eq!(
        agent["state"], "logged-out",
        "the *21 was never carried out"
    );
}
