//! The socket reader's triage (`hotline_sip::triage::lane_of`): any datagram is sorted without
//! a panic, and a request the parser accepts as inside a dialog (a To tag) is never put behind
//! new work, so a flood of new calls can never delay a BYE. The second holds for one To header
//! with plain CRLF line ends and no quoted display name: the triage reads lines as a phone
//! writes them, and a stranger message the parser still accepts only loses its priority (it
//! is never refused for it).

#![no_main]

use hotline_sip::message::{Method, SipMessage};
use hotline_sip::triage::{lane_of, Lane};
use hotline_sip::{parse_message, Message};
use libfuzzer_sys::fuzz_target;

/// Whether every line of the header section ends in CRLF and holds no NUL.
fn plain_lines(data: &[u8]) -> bool {
    let head = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(data, |end| &data[..end + 2]);
    let mut previous = 0u8;
    for &b in head {
        let bad = b == 0 || (b == b'\n' && previous != b'\r') || (previous == b'\r' && b != b'\n');
        if bad {
            return false;
        }
        previous = b;
    }
    true
}

/// How many header lines name To (or t) before the first empty line.
fn to_headers(data: &[u8]) -> usize {
    data.split(|&b| b == b'\n')
        .skip(1)
        .take_while(|l| *l != b"\r" && !l.is_empty())
        .filter(|l| {
            // Trimmed as the parser trims a header's name (any white space).
            let name = String::from_utf8_lossy(l.split(|&b| b == b':').next().unwrap_or_default());
            let name = name.trim();
            l.contains(&b':') && (name.eq_ignore_ascii_case("to") || name.eq_ignore_ascii_case("t"))
        })
        .count()
}

fuzz_target!(|data: &[u8]| {
    let lane = lane_of(data);
    if !plain_lines(data) || data.contains(&b'"') || to_headers(data) != 1 {
        return;
    }
    if let Ok(Message::Request(req)) = parse_message(data) {
        let tagged = req
            .party_to()
            .and_then(|t| t.tag().map(str::to_string))
            .is_some();
        let cancel = req.method == Method::Cancel;
        if tagged && !cancel {
            assert_eq!(
                lane,
                Lane::Dialog,
                "an in-dialog {} waits with new work",
                req.method
            );
        }
    }
});
