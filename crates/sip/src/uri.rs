//! SIP URIs: `sip:user@host:port;params`, enough for routing and dialogs.

use std::fmt;

use crate::header::{parse_params, split_host_port};

/// A parsed `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    /// `sip` or `sips`.
    pub scheme: String,
    /// The user part (a phone number or agent id), if any.
    pub user: Option<String>,
    /// Host name or address (IPv6 with brackets).
    pub host: String,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (transport, lr, user=phone ...), names lowercase.
    pub params: Vec<(String, Option<String>)>,
}

impl SipUri {
    /// Parses a SIP URI; `None` for any other scheme or a malformed one.
    pub fn parse(s: &str) -> Option<SipUri> {
        let s = s.trim();
        let (scheme, rest) = s.split_once(':')?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "sip" && scheme != "sips" {
            return None;
        }
        // Headers (?...) are not used by the switch; drop them.
        let rest = rest.split('?').next().unwrap_or("");
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let user = userinfo.map(|u| u.split(':').next().unwrap_or("").to_string());
        let (hostport, params) = match hostpart.find(';') {
            Some(i) => (&hostpart[..i], &hostpart[i..]),
            None => (hostpart, ""),
        };
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '@') {
            return None;
        }
        Some(SipUri {
            scheme,
            user: user.filter(|u| !u.is_empty()),
            host: host.to_string(),
            port,
            params: parse_params(params),
        })
    }

    /// The `transport` parameter, lowercase.
    pub fn transport(&self) -> Option<String> {
        self.params
            .iter()
            .find(|(k, _)| k == "transport")
            .and_then(|(_, v)| v.as_ref().map(|v| v.to_ascii_lowercase()))
    }

    /// Whether the URI carries `;lr` (a loose router, RFC 3261 16.12).
    pub fn is_loose_router(&self) -> bool {
        self.params.iter().any(|(k, _)| k == "lr")
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_host_port_params() {
        let u = SipUri::parse("sip:12366@127.0.0.1:5070;transport=tcp").unwrap();
        assert_eq!(u.user.as_deref(), Some("12366"));
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.transport().as_deref(), Some("tcp"));
        assert_eq!(u.to_string(), "sip:12366@127.0.0.1:5070;transport=tcp");
    }

    #[test]
    fn rejects_other_schemes_and_garbage() {
        assert!(SipUri::parse("tel:+8613903710000").is_none());
        assert!(SipUri::parse("sip:").is_none());
        assert!(SipUri::parse("sip:a@b:notaport").is_none());
    }
}
