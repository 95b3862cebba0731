//! Keys sent as SIP INFO (`application/dtmf-relay` and `application/dtmf`), the form some
//! trunks and desk phones use instead of RFC 4733.

use hotline_sip::{HeaderName, Request};

/// The key an INFO carries, if it is a DTMF INFO with a valid key.
pub fn digit(req: &Request) -> Option<char> {
    let ctype = req
        .headers
        .get(&HeaderName::ContentType)?
        .to_ascii_lowercase();
    let body = std::str::from_utf8(&req.body).ok()?;
    let raw = if ctype.starts_with("application/dtmf-relay") {
        body.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim())
        })?
    } else if ctype.starts_with("application/dtmf") {
        body.trim()
    } else {
        return None;
    };
    let mut chars = raw.chars();
    let c = chars.next()?.to_ascii_uppercase();
    if chars.next().is_some() {
        // Some phones send the event number: 10 is *, 11 is #.
        return match raw {
            "10" => Some('*'),
            "11" => Some('#'),
            _ => None,
        };
    }
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_sip::message::Method;

    fn info(ctype: &str, body: &str) -> Request {
        let mut r = Request::new(Method::Info, "sip:12366@h");
        r.headers.push(HeaderName::ContentType, ctype);
        r.body = body.as_bytes().to_vec();
        r
    }

    #[test]
    fn dtmf_relay_and_plain_dtmf_bodies_give_their_key() {
        assert_eq!(
            digit(&info(
                "application/dtmf-relay",
                "Signal=5\r\nDuration=160\r\n"
            )),
            Some('5')
        );
        assert_eq!(
            digit(&info("Application/DTMF-Relay", "signal= #\r\nDuration=100")),
            Some('#')
        );
        assert_eq!(digit(&info("application/dtmf", "7")), Some('7'));
        assert_eq!(digit(&info("application/dtmf", "11")), Some('#'));
    }

    #[test]
    fn other_infos_and_garbage_give_nothing() {
        assert_eq!(digit(&info("application/media_control+xml", "<x/>")), None);
        assert_eq!(digit(&info("application/dtmf-relay", "Duration=160")), None);
        assert_eq!(digit(&info("application/dtmf", "X")), None);
        assert_eq!(digit(&info("application/dtmf", "")), None);
    }
}
