//! HTTP digest authentication for REGISTER (RFC 3261 22, RFC 8760 for SHA-256), with
//! stateless nonces that carry their own issue time and expire.

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// The hash algorithm of a challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `MD5`, what most desk phones still use.
    Md5,
    /// `SHA-256` (RFC 8760).
    Sha256,
}

impl Algorithm {
    /// The token in the header.
    pub fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Makes and checks nonces: `<issued-at hex>.<serial hex>.<mac>`, so no nonce table is
/// kept; the serial makes every nonce unique, so nonce counts of two phones never collide.
#[derive(Debug)]
pub struct NonceSource {
    secret: String,
    serial: std::sync::atomic::AtomicU64,
}

/// What a nonce presented by a phone is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours and fresh.
    Fresh,
    /// Ours but too old: challenge again with `stale=true`.
    Stale,
    /// Not ours.
    Forged,
}

impl NonceSource {
    /// A nonce source keyed by `secret` (random per process).
    pub fn new(secret: impl Into<String>) -> NonceSource {
        NonceSource {
            secret: secret.into(),
            serial: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn mac(&self, issued: u64, serial: u64) -> String {
        let h = Sha256::digest(format!("{}:{issued:x}:{serial:x}", self.secret).as_bytes());
        hex(h.get(..12).unwrap_or(&h))
    }

    /// A fresh, unique nonce issued at `now_secs` (seconds since the epoch).
    pub fn issue(&self, now_secs: u64) -> String {
        let serial = self
            .serial
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{now_secs:x}.{serial:x}.{}", self.mac(now_secs, serial))
    }

    /// Checks a nonce against `now_secs` and the maximum age.
    pub fn check(&self, nonce: &str, now_secs: u64, max_age_secs: u64) -> NonceCheck {
        let mut parts = nonce.split('.');
        let (Some(ts), Some(serial), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return NonceCheck::Forged;
        };
        let (Ok(issued), Ok(serial)) =
            (u64::from_str_radix(ts, 16), u64::from_str_radix(serial, 16))
        else {
            return NonceCheck::Forged;
        };
        if !constant_time_eq(mac.as_bytes(), self.mac(issued, serial).as_bytes()) {
            return NonceCheck::Forged;
        }
        if issued > now_secs || now_secs - issued > max_age_secs {
            NonceCheck::Stale
        } else {
            NonceCheck::Fresh
        }
    }
}

/// The `WWW-Authenticate` value for a challenge.
pub fn challenge(realm: &str, nonce: &str, algorithm: Algorithm, stale: bool) -> String {
    let mut s = format!(
        "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
        algorithm.token()
    );
    if stale {
        s.push_str(", stale=true");
    }
    s
}

/// A server's `WWW-Authenticate`/`Proxy-Authenticate: Digest ...` challenge, as the switch
/// reads it when a carrier trunk challenges one of its INVITEs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    /// The realm.
    pub realm: String,
    /// The nonce.
    pub nonce: String,
    /// `MD5` (default) or `SHA-256`.
    pub algorithm: Option<String>,
    /// Whether `qop=auth` was offered.
    pub qop_auth: bool,
    /// Echoed back unchanged.
    pub opaque: Option<String>,
}

/// The `name=value` parameters of a `Digest ...` header value (names lowercase, quotes
/// taken off); `None` for another scheme.
fn digest_params(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim();
    let scheme_end = rest.find(char::is_whitespace)?;
    if !rest.get(..scheme_end)?.eq_ignore_ascii_case("digest") {
        return None;
    }
    let params = crate::message::split_list(rest.get(scheme_end..)?)
        .into_iter()
        .filter_map(|item| {
            let (k, v) = item.split_once('=')?;
            let v = v.trim().trim_matches('"').to_string();
            Some((k.trim().to_ascii_lowercase(), v))
        })
        .collect();
    Some(params)
}

impl Challenge {
    /// Parses a challenge header value; `None` if it is not a Digest challenge.
    pub fn parse(value: &str) -> Option<Challenge> {
        let mut c = Challenge::default();
        for (k, v) in digest_params(value)? {
            match k.as_str() {
                "realm" => c.realm = v,
                "nonce" => c.nonce = v,
                "algorithm" => c.algorithm = Some(v),
                "qop" => c.qop_auth = v.split(',').any(|q| q.trim() == "auth"),
                "opaque" => c.opaque = Some(v),
                _ => {}
            }
        }
        (!c.nonce.is_empty()).then_some(c)
    }

    /// The `Authorization` value answering this challenge for `method` on `uri`; `None`
    /// for an algorithm the switch does not speak.
    pub fn answer(
        &self,
        method: &str,
        uri: &str,
        username: &str,
        password: &str,
        cnonce: &str,
    ) -> Option<String> {
        let mut creds = Credentials {
            username: username.to_string(),
            realm: self.realm.clone(),
            nonce: self.nonce.clone(),
            uri: uri.to_string(),
            response: String::new(),
            algorithm: self.algorithm.clone(),
            qop: self.qop_auth.then(|| "auth".to_string()),
            nc: self.qop_auth.then(|| "00000001".to_string()),
            cnonce: self.qop_auth.then(|| cnonce.to_string()),
        };
        creds.response = creds.expected(method, password)?;
        let mut v = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\"",
            creds.username, creds.realm, creds.nonce, creds.uri, creds.response
        );
        if let Some(a) = &self.algorithm {
            v.push_str(&format!(", algorithm={a}"));
        }
        if self.qop_auth {
            v.push_str(&format!(", qop=auth, nc=00000001, cnonce=\"{cnonce}\""));
        }
        if let Some(o) = &self.opaque {
            v.push_str(&format!(", opaque=\"{o}\""));
        }
        Some(v)
    }
}

/// The parameters of an `Authorization: Digest ...` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user (the agent number).
    pub username: String,
    /// Realm echoed back.
    pub realm: String,
    /// Nonce echoed back.
    pub nonce: String,
    /// The digest-uri.
    pub uri: String,
    /// The hex response.
    pub response: String,
    /// `MD5` or `SHA-256` (absent means MD5).
    pub algorithm: Option<String>,
    /// `auth` or absent (RFC 2069 compatibility).
    pub qop: Option<String>,
    /// Nonce count, with qop.
    pub nc: Option<String>,
    /// Client nonce, with qop.
    pub cnonce: Option<String>,
}

impl Credentials {
    /// Parses an Authorization header value; `None` if it is not a usable Digest.
    pub fn parse(value: &str) -> Option<Credentials> {
        let mut c = Credentials::default();
        for (k, v) in digest_params(value)? {
            match k.as_str() {
                "username" => c.username = v,
                "realm" => c.realm = v,
                "nonce" => c.nonce = v,
                "uri" => c.uri = v,
                "response" => c.response = v,
                "algorithm" => c.algorithm = Some(v),
                "qop" => c.qop = Some(v),
                "nc" => c.nc = Some(v),
                "cnonce" => c.cnonce = Some(v),
                _ => {}
            }
        }
        (!c.username.is_empty() && !c.nonce.is_empty() && !c.response.is_empty()).then_some(c)
    }

    /// The algorithm the phone used; `None` for one we do not support.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match self.algorithm.as_deref() {
            None => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("md5") => Some(Algorithm::Md5),
            Some(a) if a.eq_ignore_ascii_case("sha-256") => Some(Algorithm::Sha256),
            _ => None,
        }
    }

    /// The response a phone knowing `password` would have sent for `method`.
    pub fn expected(&self, method: &str, password: &str) -> Option<String> {
        let alg = self.algorithm()?;
        let ha1 = alg.hash(&format!("{}:{}:{}", self.username, self.realm, password));
        let ha2 = alg.hash(&format!("{method}:{}", self.uri));
        Some(match (&self.qop, &self.nc, &self.cnonce) {
            (Some(qop), Some(nc), Some(cnonce)) if qop == "auth" => {
                alg.hash(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", self.nonce))
            }
            (None, _, _) => alg.hash(&format!("{ha1}:{}:{ha2}", self.nonce)),
            _ => return None,
        })
    }

    /// Whether the response proves knowledge of `password` (compared in constant time).
    pub fn verify(&self, method: &str, password: &str) -> bool {
        match self.expected(method, password) {
            Some(e) => {
                constant_time_eq(e.as_bytes(), self.response.to_ascii_lowercase().as_bytes())
            }
            None => false,
        }
    }
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_example_md5_with_qop() {
        // The example of RFC 2617 section 3.5.
        let c = Credentials {
            username: "Mufasa".into(),
            realm: "testrealm@host.com".into(),
            nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093".into(),
            uri: "/dir/index.html".into(),
            response: "6629fae49393a05397450978507c4ef1".into(),
            algorithm: None,
            qop: Some("auth".into()),
            nc: Some("00000001".into()),
            cnonce: Some("0a4f113b".into()),
        };
        assert!(c.verify("GET", "Circle Of Life"));
        assert!(!c.verify("GET", "wrong"));
    }

    #[test]
    fn sha256_round_trip_and_header_parse() {
        let mut c = Credentials::parse(
            "Digest username=\"1003\", realm=\"hotline\", nonce=\"n\", uri=\"sip:127.0.0.1\", \
             response=\"x\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"abc\"",
        )
        .unwrap();
        assert_eq!(c.algorithm(), Some(Algorithm::Sha256));
        c.response = c.expected("REGISTER", "pw").unwrap();
        assert_eq!(c.response.len(), 64);
        assert!(c.verify("REGISTER", "pw"));
    }

    #[test]
    fn a_challenge_is_answered_so_the_challenger_accepts_it() {
        for alg in [Algorithm::Md5, Algorithm::Sha256] {
            let header = challenge("carrier", "abc123", alg, false);
            let c = Challenge::parse(&header).unwrap();
            let answer = c
                .answer("INVITE", "sip:13903790000@192.0.2.9", "hotline", "pw", "cn")
                .unwrap();
            let creds = Credentials::parse(&answer).unwrap();
            assert!(creds.verify("INVITE", "pw"), "{answer}");
            assert!(!creds.verify("INVITE", "other"));
        }
        assert!(Challenge::parse("Basic realm=x").is_none());
    }

    #[test]
    fn nonces_expire_and_cannot_be_forged() {
        let src = NonceSource::new("k");
        let n = src.issue(1000);
        assert_eq!(src.check(&n, 1010, 300), NonceCheck::Fresh);
        assert_eq!(src.check(&n, 2000, 300), NonceCheck::Stale);
        assert_eq!(
            src.check("3e8.0.000000000000000000000000", 1010, 300),
            NonceCheck::Forged
        );
        assert_eq!(src.check("garbage", 1010, 300), NonceCheck::Forged);
        assert_ne!(src.issue(1000), src.issue(1000), "unique within a second");
    }
}
