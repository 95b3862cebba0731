//! Registration end to end: phones register with digest (MD5, SHA-256 by the plan's
//! opt-in) and receive calls, unregister, and nobody learns from the answers whether a user
//! exists.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::phone::{invite_text, Phone};
use common::switch::{dialplan, Switch};
use hotline_sip::message::SipMessage;
use hotline_sip::HeaderName;

#[test]
fn a_phone_registers_with_sha256_digest_and_receives_the_call() {
    // SHA-256 is the plan's opt-in; MD5 alone is the default.
    let plan = dialplan(&[("1003", "luoyang", 0)], 15, 60).replace(
        "default_area_code = \"0371\"",
        "default_area_code = \"0371\"\ndigest_algorithms = [\"SHA-256\", \"MD5\"]",
    );
    let switch = Switch::start(&plan);
    let agent = Phone::new(switch.port);
    let ok = agent.register("1003", "pw-1003", "SHA-256", 120);
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(ok
        .headers
        .get(&HeaderName::Contact)
        .is_some_and(|c| c.contains(&agent.addr().to_string())));

    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKc1"));
    let invite = agent.expect_request("INVITE");
    assert!(
        invite.uri.contains(&agent.addr().to_string()),
        "rung at its registered contact"
    );
    let from = invite.party_from().unwrap();
    assert_eq!(from.sip_uri().unwrap().user.as_deref(), Some("13903790000"));
    let contact = invite
        .headers
        .get(&HeaderName::Contact)
        .unwrap()
        .to_string();
    assert!(
        !contact.contains(&caller.addr().to_string()),
        "agent never sees the caller's address"
    );
    let media = UdpSocket::bind("127.0.0.1:0").unwrap();
    agent.answer(&invite, media.local_addr().unwrap());
    let answer = caller.final_response();
    assert_eq!(answer.status, 200);
    let body = String::from_utf8_lossy(&answer.body).to_string();
    assert!(
        !body.contains(&media.local_addr().unwrap().port().to_string()),
        "caller never sees the agent's media port"
    );
    assert!(!answer
        .headers
        .get(&HeaderName::Contact)
        .unwrap()
        .contains(&agent.addr().to_string()));
}

#[test]
fn a_phone_registers_with_md5_digest_and_unregisters() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let agent = Phone::new(switch.port);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 120).status, 200);
    assert_eq!(agent.register("1003", "pw-1003", "MD5", 0).status, 200);
    // Unregistered: a Luoyang call now overflows to the centre, which has nobody either,
    // so the agent's phone never rings.
    let caller = Phone::new(switch.port);
    caller.send(&invite_text(&caller, "12366", "13903790000", "z9hG4bKc2"));
    agent
        .sock
        .set_read_timeout(Some(Duration::from_millis(800)))
        .unwrap();
    let mut buf = [0u8; 2048];
    if let Ok((n, _)) = agent.sock.recv_from(&mut buf) {
        panic!(
            "an unregistered phone is not rung, got:\n{}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
}

#[test]
fn an_unknown_user_and_a_wrong_password_get_the_same_answer() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let phone = Phone::new(switch.port);
    let wrong = phone.register("1003", "not-the-password", "MD5", 60);
    let unknown = phone.register("4321", "whatever", "MD5", 60);
    assert_eq!(wrong.status, 403);
    assert_eq!(
        (wrong.status, wrong.reason.clone()),
        (unknown.status, unknown.reason.clone())
    );
}

#[test]
fn a_stranger_gets_the_same_challenge_for_every_number_but_12366() {
    let switch = Switch::start(&dialplan(&[("1003", "luoyang", 0)], 15, 60));
    let phone = Phone::new(switch.port);
    // Agents' numbers, a supervisor's, calls out and numbers that exist nowhere are all
    // for agents' phones: the switch asks who is calling before it looks at the number,
    // so a scanner cannot tell which exist (Asterisk's alwaysauthreject).
    let mut answers = Vec::new();
    for (n, target) in [
        "1003",
        "1900",
        "1000",
        "5000",
        "0012125550100",
        "913903790000",
        "110",
        "*21",
    ]
    .iter()
    .enumerate()
    {
        phone.send(&invite_text(
            &phone,
            target,
            "13903790000",
            &format!("z9hG4bKx{n}"),
        ));
        let r = phone.final_response();
        let names: Vec<String> = r
            .headers
            .0
            .iter()
            .map(|h| h.name.as_str().to_string())
            .collect();
        answers.push((target, r.status, r.reason.clone(), names));
    }
    let first = answers[0].clone();
    assert_eq!(first.1, 401);
    for a in &answers {
        assert_eq!((a.1, &a.2, &a.3), (first.1, &first.2, &first.3), "{}", a.0);
    }
    assert!(switch.calls().is_empty(), "refused calls are not calls");
}
