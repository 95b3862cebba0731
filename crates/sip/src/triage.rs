//! Sorting what arrives before it is parsed: what keeps calls already up alive (responses,
//! ACK, BYE, anything inside a dialog) goes ahead of what would start new work (a new
//! INVITE, a REGISTER, an OPTIONS ping), so a flood of new calls delays and sheds only new
//! calls. A CANCEL waits with the new work: it must not overtake the INVITE it cancels,
//! which may still be waiting there (it is never shed all the same). It reads the first
//! line and the To header's tag, nothing more: a few hundred bytes scanned per datagram, on
//! the socket reader's thread.

use crate::stats::{first_line, FirstLine, METHODS};

/// Which queue a message waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Responses and in-dialog requests: handled first, never shed.
    Dialog,
    /// Requests that would start something (and anything unreadable): handled when the
    /// dialog lane is empty, and shed when the switch is behind.
    New,
}

/// Methods that only ever belong to a dialog already there (or, for ACK, to an INVITE
/// already answered).
const DIALOG_ONLY: [&str; 5] = ["ACK", "BYE", "INFO", "PRACK", "UPDATE"];

/// The lane `data` belongs to.
pub fn lane_of(data: &[u8]) -> Lane {
    match first_line(data) {
        FirstLine::Response(..) => Lane::Dialog,
        // An extension method the counters do not know (`X-FOO`, `Ext2`) is still a request
        // the core will handle; what the datagram says of its dialog decides as for any.
        FirstLine::Garbage => {
            if to_has_tag(data) {
                Lane::Dialog
            } else {
                Lane::New
            }
        }
        FirstLine::Request(method) => {
            let name = method.and_then(|i| METHODS.get(i)).copied().unwrap_or("");
            if name == "CANCEL" {
                Lane::New
            } else if DIALOG_ONLY.contains(&name) || to_has_tag(data) {
                Lane::Dialog
            } else {
                Lane::New
            }
        }
    }
}

/// Whether the To header (`To:` or compact `t:`, folded or not) carries a tag: a request
/// inside a dialog.
fn to_has_tag(data: &[u8]) -> bool {
    // Headers end at the first empty line; the body is not looked at.
    let head_end = find(data, b"\r\n\r\n").unwrap_or(data.len());
    let head = data.get(..head_end).unwrap_or(data);
    let mut in_to = false;
    for line in head.split(|&b| b == b'\n').skip(1) {
        if line.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
            // A folded line goes on with the header above it.
            if in_to && has_tag_param(line) {
                return true;
            }
            continue;
        }
        in_to = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        in_to = is_word(name, "to") || is_word(name, "t");
        if in_to && has_tag_param(value) {
            return true;
        }
    }
    false
}

/// Whether a header value has a `tag=` parameter, read as the parser reads a name-addr: after
/// the `>` closing its first `<` every `;`-separated part is a parameter; without `<`, the
/// parameters follow the URI's first `;`.
fn has_tag_param(value: &[u8]) -> bool {
    let params = match value.iter().position(|&b| b == b'<') {
        Some(lt) => {
            let rest = value.get(lt..).unwrap_or_default();
            match rest.iter().position(|&b| b == b'>') {
                Some(gt) => rest.get(gt + 1..).unwrap_or_default(),
                None => return false,
            }
        }
        None => match value.iter().position(|&b| b == b';') {
            Some(semi) => value.get(semi..).unwrap_or_default(),
            None => return false,
        },
    };
    params.split(|&b| b == b';').any(|p| {
        let mut kv = p.splitn(2, |&b| b == b'=');
        let key = kv.next().unwrap_or_default();
        kv.next().is_some() && is_word(key, "tag")
    })
}

/// Whether `bytes`, trimmed as the parser trims (any Unicode white space, a vertical tab
/// too, however much), is `word` in any case. Bytes that are not UTF-8 are never the word
/// for the parser either: it reads them as U+FFFD.
fn is_word(bytes: &[u8], word: &str) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.trim().eq_ignore_ascii_case(word))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, to: &str) -> Vec<u8> {
        format!(
            "{method} sip:12366@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK1\r\nFrom: <sip:1390379@127.0.0.1>;tag=a\r\n{to}\r\nCall-ID: c1\r\nCSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn responses_and_dialog_methods_go_ahead() {
        assert_eq!(lane_of(b"SIP/2.0 200 OK\r\n\r\n"), Lane::Dialog);
        for m in ["ACK", "BYE", "INFO", "PRACK", "UPDATE"] {
            assert_eq!(
                lane_of(&request(m, "To: <sip:12366@h>")),
                Lane::Dialog,
                "{m}"
            );
        }
    }

    #[test]
    fn a_cancel_keeps_its_place_behind_the_invite_it_cancels() {
        assert_eq!(lane_of(&request("CANCEL", "To: <sip:12366@h>")), Lane::New);
    }

    #[test]
    fn a_new_invite_or_register_waits_in_the_new_lane() {
        for m in ["INVITE", "REGISTER", "OPTIONS", "SUBSCRIBE", "MESSAGE"] {
            assert_eq!(lane_of(&request(m, "To: <sip:12366@h>")), Lane::New, "{m}");
        }
    }

    #[test]
    fn a_request_with_a_to_tag_is_in_a_dialog_in_any_spelling() {
        for to in [
            "To: <sip:12366@h>;tag=x",
            "to:<sip:12366@h> ; TAG = x",
            "t: sip:12366@h;tag=x",
            "TO : \"12366\" <sip:12366@h;transport=udp>;tag=x",
        ] {
            assert_eq!(lane_of(&request("INVITE", to)), Lane::Dialog, "{to}");
        }
    }

    #[test]
    fn a_tag_in_the_uri_or_another_header_is_not_the_to_tag() {
        for to in ["To: <sip:12366@h;tag=x>", "Tox: <sip:a@h>;tag=x"] {
            assert_eq!(lane_of(&request("INVITE", to)), Lane::New, "{to}");
        }
        let mut body = request("INVITE", "To: <sip:12366@h>");
        body.extend_from_slice(b"To: <sip:x@h>;tag=in-the-body\r\n");
        assert_eq!(lane_of(&body), Lane::New);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_sorted_without_a_panic(data in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = lane_of(&data);
        }

        #[test]
        fn a_tagged_to_puts_any_request_in_the_dialog_lane(
            method in "(INVITE|REGISTER|OPTIONS|MESSAGE|SUBSCRIBE|NOTIFY|REFER)",
            tag in "[a-zA-Z0-9.-]{1,20}",
        ) {
            let to = format!("To: <sip:12366@h>;tag={tag}");
            proptest::prop_assert_eq!(lane_of(&request(&method, &to)), Lane::Dialog);
        }
    }

    #[test]
    fn an_extension_method_inside_a_dialog_goes_ahead_too() {
        // Found by fuzz/sip_triage: the parser takes any token as a method.
        let data = request("CA111NCEL", "To: <sip:12366@127.0.0.1:5060>;tag=s9");
        assert_eq!(lane_of(&data), Lane::Dialog);
        assert_eq!(lane_of(&request("x-Ping", "To: <sip:a@h>")), Lane::New);
    }

    #[test]
    fn a_folded_to_header_is_read_to_its_end() {
        let data = request("INVITE", "To: <sip:12366@h>\r\n ;tag=x");
        assert_eq!(lane_of(&data), Lane::Dialog);
    }

    #[test]
    fn the_to_parameters_are_read_as_the_parser_reads_them() {
        // Found by fuzz/sip_triage: every part after the first '>' is a parameter.
        for (to, lane) in [
            ("To: <sip:12366@h>tag=x", Lane::Dialog),
            ("To: <sip:12366@h>;a=1>;tag=x", Lane::Dialog),
            ("To: <sip:12366@h;tag=x>;a>", Lane::New),
            ("To: <sip:12366@h>;tag", Lane::New),
        ] {
            assert_eq!(lane_of(&request("INVITE", to)), lane, "{to}");
            let parsed = crate::parse_message(&request("INVITE", to)).unwrap();
            use crate::message::SipMessage as _;
            let crate::Message::Request(req) = parsed else {
                panic!("a request")
            };
            let tagged = req.party_to().and_then(|t| t.tag().map(str::to_string));
            assert_eq!(
                tagged.is_some(),
                lane == Lane::Dialog,
                "the parser agrees: {to}"
            );
        }
    }

    #[test]
    fn white_space_around_a_name_is_trimmed_as_the_parser_trims_it() {
        // Found by fuzz/sip_triage: a vertical tab before '=' (ASCII trimming keeps it).
        let tabs = format!("To: <sip:12366@h>;tag{}=x", "\t".repeat(80));
        for to in [
            "To: <sip:12366@h>;tag\x0b=x",
            "To\x0b: <sip:12366@h>;tag=x",
            &tabs,
        ] {
            assert_eq!(lane_of(&request("OPTIONS", to)), Lane::Dialog, "{to:?}");
            let Ok(crate::Message::Request(req)) = crate::parse_message(&request("OPTIONS", to))
            else {
                panic!("a request: {to:?}")
            };
            use crate::message::SipMessage as _;
            let tag = req.party_to().and_then(|t| t.tag().map(str::to_string));
            assert_eq!(tag.as_deref(), Some("x"), "the parser agrees: {to:?}");
        }
    }

    #[test]
    fn garbage_waits_with_the_new() {
        assert_eq!(lane_of(b""), Lane::New);
        assert_eq!(lane_of(b"\xff\xfe"), Lane::New);
        assert_eq!(lane_of(b"INVITE"), Lane::New);
    }
}
