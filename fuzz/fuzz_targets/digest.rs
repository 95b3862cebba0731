//! Digest authentication headers as they reach the switch: a phone's `Authorization` (parsed,
//! its nonce checked, its response verified) and a carrier's `WWW-Authenticate` (parsed and
//! answered). An answer the switch writes must verify when read back with the same password.
#![no_main]

use arbitrary::Arbitrary;
use hotline_sip::digest::{Challenge, Credentials, NonceSource};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Case<'a> {
    authorization: &'a str,
    challenge: &'a str,
    method: &'a str,
    password: &'a str,
    now_secs: u64,
    max_age_secs: u16,
}

fuzz_target!(|case: Case| {
    let nonces = NonceSource::new("fuzz");
    if let Some(creds) = Credentials::parse(case.authorization) {
        let _ = nonces.check(&creds.nonce, case.now_secs, u64::from(case.max_age_secs));
        let _ = creds.verify(case.method, case.password);
    }
    let fresh = nonces.issue(case.now_secs);
    assert!(matches!(
        nonces.check(&fresh, case.now_secs, 0),
        hotline_sip::digest::NonceCheck::Fresh
    ));
    let Some(challenge) = Challenge::parse(case.challenge) else {
        return;
    };
    let Some(answer) = challenge.answer(
        "INVITE",
        "sip:12366@carrier",
        "hotline",
        case.password,
        "c0ffee",
    ) else {
        return;
    };
    // Only values that need no escaping can come back unchanged through a quoted string.
    let plain = |s: &str| !s.contains(['"', '\\', ',']) && s.trim() == s;
    let fields = [&challenge.realm, &challenge.nonce];
    if fields.iter().all(|f| plain(f))
        && challenge.opaque.as_deref().is_none_or(plain)
        && challenge.algorithm.as_deref().is_none_or(plain)
    {
        let back = Credentials::parse(&answer).expect("our own Authorization parses");
        assert!(back.verify("INVITE", case.password), "{answer}");
    }
});
