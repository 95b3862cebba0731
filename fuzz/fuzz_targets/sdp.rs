//! An SDP offer or answer from a phone into the parser; when it is usable, the switch's
//! answer to it must parse back to the same address family, codec and telephone-event.
#![no_main]

use hotline_media::g711::Codec;
use hotline_media::sdp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The switch parses a body only when it is UTF-8.
    let Ok(body) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(offer) = sdp::parse(body) else {
        return;
    };
    let _ = offer.is_hold();
    let local = "127.0.0.1:40000".parse().expect("a literal address");
    let Ok(answer) = sdp::answer(local, &offer, &[Codec::Pcmu, Codec::Pcma], 1, 1) else {
        return;
    };
    let back = sdp::parse(&answer.body).expect("our own answer parses");
    assert_eq!(back.addr, local);
    assert_eq!(back.codecs.first(), Some(&answer.codec));
    assert_eq!(back.telephone_event, offer.telephone_event);
    assert_eq!(back.direction, offer.direction.answered());
});
