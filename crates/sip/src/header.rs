//! Header names (with RFC 3261 compact forms) and the structured headers the switch reads.

use std::fmt;

use crate::message::Method;
use crate::uri::SipUri;

/// A header name; known names are variants so comparisons are cheap and case-free.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeaderName {
    /// `Via` / `v`.
    Via,
    /// `From` / `f`.
    From,
    /// `To` / `t`.
    To,
    /// `Call-ID` / `i`.
    CallId,
    /// `CSeq`.
    CSeq,
    /// `Contact` / `m`.
    Contact,
    /// `Content-Length` / `l`.
    ContentLength,
    /// `Content-Type` / `c`.
    ContentType,
    /// `Max-Forwards`.
    MaxForwards,
    /// `Route`.
    Route,
    /// `Record-Route`.
    RecordRoute,
    /// `Expires`.
    Expires,
    /// `Authorization`.
    Authorization,
    /// `WWW-Authenticate`.
    WwwAuthenticate,
    /// `User-Agent`.
    UserAgent,
    /// `Server`.
    Server,
    /// `Allow`.
    Allow,
    /// `Supported` / `k`.
    Supported,
    /// `Require`.
    Require,
    /// `Subject` / `s`.
    Subject,
    /// `Event` / `o`.
    Event,
    /// `Refer-To` / `r`.
    ReferTo,
    /// `Content-Encoding` / `e`.
    ContentEncoding,
    /// `Unsupported`.
    Unsupported,
    /// Any other header, stored lowercase for matching; printed as stored.
    Other(String),
}

impl HeaderName {
    /// Maps a name as received (any case, compact or long) to its canonical form.
    pub fn parse(raw: &str) -> HeaderName {
        let lower = raw.to_ascii_lowercase();
        match lower.as_str() {
            "via" | "v" => HeaderName::Via,
            "from" | "f" => HeaderName::From,
            "to" | "t" => HeaderName::To,
            "call-id" | "i" => HeaderName::CallId,
            "cseq" => HeaderName::CSeq,
            "contact" | "m" => HeaderName::Contact,
            "content-length" | "l" => HeaderName::ContentLength,
            "content-type" | "c" => HeaderName::ContentType,
            "max-forwards" => HeaderName::MaxForwards,
            "route" => HeaderName::Route,
            "record-route" => HeaderName::RecordRoute,
            "expires" => HeaderName::Expires,
            "authorization" => HeaderName::Authorization,
            "www-authenticate" => HeaderName::WwwAuthenticate,
            "user-agent" => HeaderName::UserAgent,
            "server" => HeaderName::Server,
            "allow" => HeaderName::Allow,
            "supported" | "k" => HeaderName::Supported,
            "require" => HeaderName::Require,
            "subject" | "s" => HeaderName::Subject,
            "event" | "o" => HeaderName::Event,
            "refer-to" | "r" => HeaderName::ReferTo,
            "content-encoding" | "e" => HeaderName::ContentEncoding,
            "unsupported" => HeaderName::Unsupported,
            _ => HeaderName::Other(lower),
        }
    }

    /// Whether the header is a comma-separated list that may also be split over lines
    /// (RFC 3261 7.3.1); credentials and challenges are not.
    pub fn is_list(&self) -> bool {
        match self {
            HeaderName::Via
            | HeaderName::Contact
            | HeaderName::Route
            | HeaderName::RecordRoute
            | HeaderName::Allow
            | HeaderName::Supported
            | HeaderName::Require
            | HeaderName::Unsupported
            | HeaderName::ContentEncoding => true,
            HeaderName::Other(name) => matches!(
                name.as_str(),
                "accept" | "accept-encoding" | "accept-language" | "proxy-require" | "allow-events"
            ),
            _ => false,
        }
    }

    /// The long form written on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            HeaderName::Via => "Via",
            HeaderName::From => "From",
            HeaderName::To => "To",
            HeaderName::CallId => "Call-ID",
            HeaderName::CSeq => "CSeq",
            HeaderName::Contact => "Contact",
            HeaderName::ContentLength => "Content-Length",
            HeaderName::ContentType => "Content-Type",
            HeaderName::MaxForwards => "Max-Forwards",
            HeaderName::Route => "Route",
            HeaderName::RecordRoute => "Record-Route",
            HeaderName::Expires => "Expires",
            HeaderName::Authorization => "Authorization",
            HeaderName::WwwAuthenticate => "WWW-Authenticate",
            HeaderName::UserAgent => "User-Agent",
            HeaderName::Server => "Server",
            HeaderName::Allow => "Allow",
            HeaderName::Supported => "Supported",
            HeaderName::Require => "Require",
            HeaderName::Subject => "Subject",
            HeaderName::Event => "Event",
            HeaderName::ReferTo => "Refer-To",
            HeaderName::ContentEncoding => "Content-Encoding",
            HeaderName::Unsupported => "Unsupported",
            HeaderName::Other(s) => s,
        }
    }
}

impl PartialEq<HeaderName> for &HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        *self == other
    }
}

/// Splits `;name=value` parameters, returning (name lowercase, value without quotes).
pub fn parse_params(s: &str) -> Vec<(String, Option<String>)> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_lowercase(),
                Some(v.trim().trim_matches('"').to_string()),
            ),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

fn param<'a>(params: &'a [(String, Option<String>)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.as_deref())
}

/// One Via element: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport token, uppercase (`UDP`, `TCP`).
    pub transport: String,
    /// The sent-by host.
    pub host: String,
    /// The sent-by port, if given.
    pub port: Option<u16>,
    /// Parameters (branch, received, rport ...), names lowercase.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parses one Via element; `None` when it is not `SIP/2.0/<transport> sent-by`.
    pub fn parse(s: &str) -> Option<Via> {
        let s = s.trim();
        let (proto, rest) = split_protocol(s)?;
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest.trim(), ""),
        };
        let (host, port) = split_host_port(sent_by)?;
        Some(Via {
            transport: proto.to_ascii_uppercase(),
            host: host.to_string(),
            port,
            params: parse_params(params),
        })
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        param(&self.params, "branch")
    }

    /// `host:port` as used for transaction matching.
    pub fn sent_by(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{}", self.host.to_ascii_lowercase(), p),
            None => self.host.to_ascii_lowercase(),
        }
    }

    /// Whether the `rport` parameter is present (RFC 3581).
    pub fn has_rport(&self) -> bool {
        self.params.iter().any(|(k, _)| k == "rport")
    }
}

fn split_protocol(s: &str) -> Option<(&str, &str)> {
    // "SIP / 2.0 / UDP host" — whitespace may surround the slashes.
    let mut parts = s.splitn(3, '/');
    let name = parts.next()?.trim();
    let version = parts.next()?.trim();
    let rest = parts.next()?.trim_start();
    if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
        return None;
    }
    let end = rest.find(|c: char| c.is_whitespace())?;
    Some((&rest[..end], rest[end..].trim_start()))
}

/// Splits `host`, `host:port`, `[v6]` or `[v6]:port`.
pub fn split_host_port(s: &str) -> Option<(&str, Option<u16>)> {
    if s.is_empty() {
        return None;
    }
    if let Some(rest) = s.strip_prefix('[') {
        let end = rest.find(']')?;
        let host = &s[..end + 2];
        let after = &rest[end + 1..];
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.contains(':') => Some((h, Some(p.parse().ok()?))),
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// A name-addr or addr-spec with header parameters: From, To, Contact, Route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes, if any.
    pub display: Option<String>,
    /// The URI between the angle brackets (or the bare addr-spec).
    pub uri: String,
    /// Header parameters after the URI (tag, expires, q ...).
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parses `"Name" <sip:u@h>;tag=x` or `sip:u@h;tag=x`.
    pub fn parse(s: &str) -> Option<NameAddr> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Some(lt) = find_unquoted(s, '<') {
            let gt = s[lt..].find('>')? + lt;
            let display = s[..lt].trim().trim_matches('"').trim();
            return Some(NameAddr {
                display: (!display.is_empty()).then(|| display.to_string()),
                uri: s[lt + 1..gt].trim().to_string(),
                params: parse_params(&s[gt + 1..]),
            });
        }
        // addr-spec form: parameters after the URI belong to the header (RFC 3261 20.10).
        let (uri, params) = match s.find(';') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        if uri.contains(char::is_whitespace) {
            return None;
        }
        Some(NameAddr {
            display: None,
            uri: uri.to_string(),
            params: parse_params(params),
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        param(&self.params, "tag")
    }

    /// A named header parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        param(&self.params, name)
    }

    /// The URI, parsed.
    pub fn sip_uri(&self) -> Option<SipUri> {
        SipUri::parse(&self.uri)
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{}\" ", d.replace('"', ""))?;
        }
        write!(f, "<{}>", self.uri)?;
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        Ok(())
    }
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let mut in_quote = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            c if c == needle && !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// `CSeq: 42 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number.
    pub seq: u32,
    /// The method.
    pub method: Method,
}

impl CSeq {
    /// Parses a CSeq value.
    pub fn parse(s: &str) -> Option<CSeq> {
        let mut it = s.split_whitespace();
        let seq = it.next()?.parse().ok()?;
        let method = Method::from_token(it.next()?);
        if it.next().is_some() {
            return None;
        }
        Some(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_spaces_around_slashes_and_params() {
        let v = Via::parse("SIP / 2.0 / UDP 10.0.0.1:5062 ;branch=z9hG4bK77;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.sent_by(), "10.0.0.1:5062");
        assert_eq!(v.branch(), Some("z9hG4bK77"));
        assert!(v.has_rport());
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse("\"Zhang, San\" <sip:1001@h;lr>;tag=abc").unwrap();
        assert_eq!(n.display.as_deref(), Some("Zhang, San"));
        assert_eq!(n.uri, "sip:1001@h;lr");
        assert_eq!(n.tag(), Some("abc"));
        let n = NameAddr::parse("sip:1001@h;tag=xyz").unwrap();
        assert_eq!(n.uri, "sip:1001@h");
        assert_eq!(n.tag(), Some("xyz"));
    }

    #[test]
    fn ipv6_host_port() {
        assert_eq!(split_host_port("[::1]:5060"), Some(("[::1]", Some(5060))));
        assert_eq!(split_host_port("h:x"), None);
    }
}
