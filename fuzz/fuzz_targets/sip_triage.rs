//! The socket reader's triage (`hotline_sip::triage::lane_of`): any datagram is sorted without
//! a panic, and a request the parser accepts as inside a dialog (a To tag) is never put behind
//! new work, so a flood of new calls can never delay a BYE.

#![no_main]

use hotline_sip::message::{Method, SipMessage};
use hotline_sip::triage::{lane_of, Lane};
use hotline_sip::{parse_message, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lane = lane_of(data);
    if let Ok(Message::Request(req)) = parse_message(data) {
        let tagged = req.party_to().and_then(|t| t.tag().map(str::to_string)).is_some();
        let cancel = req.method == Method::Cancel;
        if tagged && !cancel {
            assert_eq!(lane, Lane::Dialog, "an in-dialog {} waits with new work", req.method);
        }
    }
});
