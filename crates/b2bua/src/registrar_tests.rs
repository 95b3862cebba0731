use super::*;
use hotline_sip::transaction::Transport;
use hotline_sip::{parse_message, Message};

fn register(extra: &str) -> Request {
    let s = format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKr\r\n\
From: <sip:1003@127.0.0.1>;tag=1\r\nTo: <sip:1003@127.0.0.1>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n\
Contact: <sip:1003@127.0.0.1:5070>\r\n{extra}\r\n"
    );
    match parse_message(s.as_bytes()).unwrap() {
        Message::Request(r) => r,
        _ => unreachable!(),
    }
}

fn peer() -> Peer {
    Peer {
        addr: "127.0.0.1:5070".parse().unwrap(),
        transport: Transport::Udp,
    }
}

fn secrets(u: &str) -> Option<String> {
    (u == "1003").then(|| "s3cret".to_string())
}

/// A nonce from a fresh challenge.
fn nonce(reg: &Registrar, now_secs: u64) -> String {
    let first = reg.challenge(&register(""), now_secs, false);
    let chal = first.headers.get(&HeaderName::WwwAuthenticate).unwrap();
    chal.split("nonce=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

/// A REGISTER answering a challenge as a phone knowing `pw` would, with `extra` headers.
fn authorized(
    reg: &Registrar,
    user: &str,
    pw: &str,
    alg: &str,
    now_secs: u64,
    extra: &str,
) -> Request {
    let mut c = Credentials {
        username: user.into(),
        realm: "hotline".into(),
        nonce: nonce(reg, now_secs),
        uri: "sip:127.0.0.1".into(),
        response: String::new(),
        algorithm: Some(alg.into()),
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
        cnonce: Some("c".into()),
    };
    c.response = c.expected("REGISTER", pw).unwrap();
    register(&format!(
        "{extra}Authorization: Digest username=\"{}\", realm=\"hotline\", nonce=\"{}\", \
uri=\"sip:127.0.0.1\", response=\"{}\", algorithm={alg}, qop=auth, nc=00000001, cnonce=\"c\"\r\n",
        c.username, c.nonce, c.response
    ))
}

/// Answers the registrar's challenge as a phone would.
fn answer(
    reg: &mut Registrar,
    user: &str,
    pw: &str,
    alg: &str,
    now_secs: u64,
    extra: &str,
) -> Response {
    let req = authorized(reg, user, pw, alg, now_secs, extra);
    reg.handle(&req, peer(), Instant::now(), now_secs, secrets)
        .0
}

#[test]
fn a_phone_is_challenged_with_md5_alone_unless_the_plan_opts_into_sha256() {
    let mut reg = Registrar::new("hotline", "k");
    let (r, p) = reg.handle(&register(""), peer(), Instant::now(), 100, secrets);
    assert_eq!(r.status, 401);
    let chals = r.headers.get_all(&HeaderName::WwwAuthenticate);
    assert_eq!(chals.len(), 1);
    assert!(chals[0].contains("MD5"));
    assert_eq!(p, Checked::Challenged);
    reg.set_algorithms(vec![Algorithm::Md5, Algorithm::Sha256]);
    let (r, _) = reg.handle(&register(""), peer(), Instant::now(), 100, secrets);
    let chals = r.headers.get_all(&HeaderName::WwwAuthenticate);
    assert!(chals[0].contains("MD5") && chals.last().unwrap().contains("SHA-256"));
}

#[test]
fn right_password_binds_with_md5_and_sha256() {
    for alg in ["MD5", "SHA-256"] {
        let mut reg = Registrar::new("hotline", "k");
        let r = answer(&mut reg, "1003", "s3cret", alg, 100, "");
        assert_eq!(r.status, 200, "{alg}");
        assert!(reg.is_registered("1003"));
        assert_eq!(
            reg.lookup("1003").unwrap().contact,
            "sip:1003@127.0.0.1:5070"
        );
    }
}

#[test]
fn credentials_signed_for_another_request_uri_are_refused() {
    let mut reg = Registrar::new("hotline", "k");
    let mut req = authorized(&reg, "1003", "s3cret", "MD5", 1_000, "");
    req.uri = "sip:10.0.0.9".into();
    let (r, attempt) = reg.handle(&req, peer(), Instant::now(), 1_000, secrets);
    assert_eq!((r.status, attempt), (403, Checked::Wrong));
    // The same target written another way (host case) is the same request.
    let mut req = authorized(&reg, "1003", "s3cret", "MD5", 1_000, "");
    req.uri = "sip:127.0.0.1;transport=udp".into();
    assert_eq!(
        reg.handle(&req, peer(), Instant::now(), 1_000, secrets)
            .0
            .status,
        200
    );
    assert!(same_target(
        "sip:*21@HotLine.Example",
        "sip:*21@hotline.example"
    ));
    assert!(!same_target(
        "sip:*21@hotline.example",
        "sip:*22@hotline.example"
    ));
    assert!(!same_target(
        "sip:hotline.example:5060",
        "sip:hotline.example"
    ));
}

#[test]
fn unknown_user_and_wrong_password_get_the_same_answer() {
    let mut reg = Registrar::new("hotline", "k");
    let wrong = answer(&mut reg, "1003", "nope", "MD5", 100, "");
    let mut reg2 = Registrar::new("hotline", "k");
    let unknown = answer(&mut reg2, "9999", "nope", "MD5", 100, "");
    assert_eq!(
        (wrong.status, &wrong.reason),
        (unknown.status, &unknown.reason)
    );
    assert_eq!(wrong.status, 403);
    assert!(!reg.is_registered("1003"));
}

#[test]
fn expires_zero_unregisters_and_bindings_lapse() {
    let mut reg = Registrar::new("hotline", "k");
    answer(&mut reg, "1003", "s3cret", "MD5", 100, "Expires: 60\r\n");
    assert!(reg.is_registered("1003"));
    let later = Instant::now() + Duration::from_secs(61);
    assert_eq!(reg.expire(later), ["1003"]);
    answer(&mut reg, "1003", "s3cret", "MD5", 100, "");
    let r = answer(&mut reg, "1003", "s3cret", "MD5", 100, "Expires: 0\r\n");
    assert_eq!(r.status, 200);
    assert!(!reg.is_registered("1003"));
}

#[test]
fn a_replayed_register_is_challenged_again_not_bound() {
    let mut reg = Registrar::new("hotline", "k");
    let req = authorized(&reg, "1003", "s3cret", "MD5", 100, "");
    let (ok, _) = reg.handle(&req, peer(), Instant::now(), 100, secrets);
    assert_eq!(ok.status, 200);
    let attacker = Peer {
        addr: "203.0.113.9:5060".parse().unwrap(),
        transport: Transport::Udp,
    };
    let (again, _) = reg.handle(&req, attacker, Instant::now(), 110, secrets);
    assert_eq!(again.status, 401, "the same nonce count is a replay");
    assert_eq!(reg.lookup("1003").unwrap().source, peer());
}

#[test]
fn a_nonce_serves_one_attempt_right_or_wrong() {
    let mut reg = Registrar::new("hotline", "k");
    let wrong = authorized(&reg, "1003", "guess", "MD5", 100, "");
    let (r, _) = reg.handle(&wrong, peer(), Instant::now(), 100, secrets);
    assert_eq!(r.status, 403);
    // The right password signed with the nonce a wrong guess used is challenged again.
    let mut right = authorized(&reg, "1003", "s3cret", "MD5", 100, "");
    let nonce = credentials(&wrong).unwrap().nonce;
    let mut c = credentials(&right).unwrap();
    c.nonce = nonce.clone();
    c.response = c.expected("REGISTER", "s3cret").unwrap();
    right.headers.remove(&HeaderName::Authorization);
    right.headers.push(
        HeaderName::Authorization,
        format!(
            "Digest username=\"1003\", realm=\"hotline\", nonce=\"{nonce}\", \
uri=\"sip:127.0.0.1\", response=\"{}\", algorithm=MD5, qop=auth, nc=00000002, cnonce=\"c\"",
            c.response
        ),
    );
    let (r, _) = reg.handle(&right, peer(), Instant::now(), 100, secrets);
    assert_eq!(r.status, 401);
    assert!(r
        .headers
        .get(&HeaderName::WwwAuthenticate)
        .unwrap()
        .contains("stale=true"));
    assert!(!reg.is_registered("1003"));
}

#[test]
fn a_wrong_answer_is_told_apart_from_a_challenge_for_the_brakes() {
    let mut reg = Registrar::new("hotline", "k");
    let bare = register("");
    let r = reg.authenticate(&bare, "1003", Instant::now(), 100, secrets);
    assert!(matches!(r, Err(Refusal { wrong: false, .. })));
    for user in ["1003", "9999"] {
        let req = authorized(&reg, user, "nope", "MD5", 100, "");
        let r = reg.authenticate(&req, user, Instant::now(), 100, secrets);
        assert!(matches!(&r, Err(Refusal { wrong: true, response }) if response.status == 403));
    }
}

#[test]
fn an_agent_may_have_several_contacts_and_the_freshest_is_rung() {
    let mut reg = Registrar::new("hotline", "k");
    answer(&mut reg, "1003", "s3cret", "MD5", 100, "");
    let extra = "Contact: <sip:1003@127.0.0.1:5080>\r\n";
    let req = authorized(&reg, "1003", "s3cret", "MD5", 100, extra);
    let later = Instant::now() + Duration::from_secs(1);
    let (r, _) = reg.handle(&req, peer(), later, 100, secrets);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers.get_all(&HeaderName::Contact).len(),
        2,
        "both bindings listed"
    );
    assert!(reg.is_registered("1003"));
}

#[test]
fn an_old_nonce_is_stale() {
    let mut reg = Registrar::new("hotline", "k");
    let nonce = nonce(&reg, 100);
    let auth = format!("Authorization: Digest username=\"1003\", realm=\"hotline\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"00\"\r\n");
    let (r, _) = reg.handle(&register(&auth), peer(), Instant::now(), 100_000, secrets);
    assert_eq!(r.status, 401);
    assert!(r
        .headers
        .get(&HeaderName::WwwAuthenticate)
        .unwrap()
        .contains("stale=true"));
}
