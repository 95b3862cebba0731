//! Property tests: no input panics the parser, and printing then parsing gives back the message.

use hotline_sip::framing::next_frame;
use hotline_sip::header::HeaderName;
use hotline_sip::{parse_message, Message, Method, Request, Response};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.!%*_+`'~-]{1,12}"
}

fn header_value() -> impl Strategy<Value = String> {
    // Printable, no CR/LF, no leading/trailing whitespace (the parser trims it).
    "[!-~]([ -~]{0,30}[!-~])?"
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop_oneof![
                Just("Via".to_string()),
                Just("From".to_string()),
                Just("To".to_string()),
                Just("Call-ID".to_string()),
                Just("CSeq".to_string()),
                Just("Contact".to_string()),
                Just("X-Custom".to_string()),
            ],
            header_value(),
        ),
        0..8,
    )
}

fn request() -> impl Strategy<Value = Request> {
    (
        prop_oneof![
            Just(Method::Invite),
            Just(Method::Bye),
            Just(Method::Register),
            token().prop_map(|t| Method::from_token(&t.to_uppercase()))
        ],
        "sip:[a-z0-9]{1,8}@[a-z0-9.]{1,12}",
        headers(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(method, uri, hs, body)| {
            let mut r = Request::new(method, uri);
            for (n, v) in hs {
                r.headers.push(HeaderName::parse(&n), v);
            }
            r.body = body;
            r
        })
}

fn response() -> impl Strategy<Value = Response> {
    (100u16..700, "[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", headers()).prop_map(|(status, reason, hs)| {
        let mut r = Response {
            status,
            reason,
            headers: Default::default(),
            body: Vec::new(),
        };
        for (n, v) in hs {
            r.headers.push(HeaderName::parse(&n), v);
        }
        r
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_parser(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_message(&data);
        let _ = next_frame(&data);
    }

    #[test]
    fn sip_like_text_never_panics_the_parser(s in "(INVITE|SIP/2.0|BYE) [ -~\r\n:;<>\"]{0,300}") {
        if let Ok(Message::Request(r)) = parse_message(s.as_bytes()) {
            let _ = hotline_sip::parse::validate_request(&r);
        }
    }

    #[test]
    fn printed_requests_parse_back_the_same(r in request()) {
        let bytes = r.to_bytes();
        let parsed = parse_message(&bytes).unwrap();
        let mut expected = r.clone();
        expected.headers.push(HeaderName::ContentLength, r.body.len().to_string());
        prop_assert_eq!(parsed, Message::Request(expected));
    }

    #[test]
    fn printed_responses_parse_back_the_same(r in response()) {
        let parsed = parse_message(&r.to_bytes()).unwrap();
        let mut expected = r.clone();
        expected.headers.push(HeaderName::ContentLength, "0");
        prop_assert_eq!(parsed, Message::Response(expected));
    }

    #[test]
    fn stream_framing_finds_each_printed_message(rs in prop::collection::vec(request(), 1..4)) {
        let mut buf = Vec::new();
        for r in &rs { buf.extend_from_slice(&r.to_bytes()); }
        let mut at = 0;
        for r in &rs {
            match next_frame(&buf[at..]).unwrap() {
                hotline_sip::framing::Frame::Message { skip, len } => {
                    prop_assert_eq!(len, r.to_bytes().len());
                    at += skip + len;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }
}
