//! A UDP datagram into the SIP parser, then every accessor the switch uses on what came out.
//! The parser must never panic, and whatever it accepts must survive being written out and
//! read back (the switch forwards and answers messages it parsed).
#![no_main]

use hotline_sip::message::SipMessage;
use hotline_sip::parse::{
    parse_ignoring_length, parse_message, validate_request, validate_response,
};
use hotline_sip::{HeaderName, Message, NameAddr, SipUri, Via};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_ignoring_length(data);
    let Ok(message) = parse_message(data) else {
        return;
    };
    match &message {
        Message::Request(req) => {
            let _ = validate_request(req);
            let _ = SipUri::parse(&req.uri).map(|u| (u.transport(), u.is_loose_router()));
            touch(req);
        }
        Message::Response(resp) => {
            let _ = validate_response(resp);
            touch(resp);
        }
    }
    for h in &message.headers().0 {
        let _ = h.name.is_list();
        let _ = hotline_sip::message::split_list(&h.value);
        let _ = hotline_sip::header::parse_params(&h.value);
        let _ = NameAddr::parse(&h.value).map(|n| n.sip_uri());
        let _ = Via::parse(&h.value).map(|v| (v.sent_by(), v.has_rport()));
    }
    let again = parse_message(&message.to_bytes());
    assert!(
        again.is_ok(),
        "{message:?} written out does not parse: {again:?}"
    );
});

/// The structured headers, as the transaction and dialog layers read them.
fn touch(m: &impl SipMessage) {
    let _ = m.call_id();
    let _ = m.cseq();
    let _ = m.top_via().map(|v| (v.branch().map(str::len), v.sent_by()));
    for party in [m.party_from(), m.party_to()].into_iter().flatten() {
        let _ = (party.tag(), party.param("transport"), party.sip_uri());
    }
    let _ = m.headers().get_all(&HeaderName::Route);
}
