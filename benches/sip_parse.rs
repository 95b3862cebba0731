//! SIP message parsing and serialisation: what the switch does for every datagram it
//! receives (`parse_message` + `validate_request`) and every message it sends (`to_bytes`).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench -p hotline-sip --bench sip_parse`

use std::time::Duration;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use hotline_sip::parse::validate_request;
use hotline_sip::{parse_message, Message};

/// An INVITE as a carrier's SBC sends it to 12366: two Vias, Record-Route, display name,
/// P-Asserted-Identity, the usual capability headers and a PCMA/PCMU/telephone-event offer.
const INVITE: &str = "INVITE sip:12366@10.20.30.40:5060;user=phone SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.1.1.10:5060;branch=z9hG4bK-524287-1---5f0ad3a1c1b3d2e7;rport\r\n\
Via: SIP/2.0/UDP 10.1.1.20:5060;received=10.1.1.20;branch=z9hG4bK1c3e5a7f9b2d4f60\r\n\
Record-Route: <sip:10.1.1.10:5060;lr;ftag=as5f3d2e1c>\r\n\
Max-Forwards: 68\r\n\
From: \"13903790000\" <sip:13903790000@10.1.1.10;user=phone>;tag=as5f3d2e1c\r\n\
To: <sip:12366@10.20.30.40;user=phone>\r\n\
Call-ID: 4f1e2d3c5b6a79881f2e3d4c5b6a7988@10.1.1.10\r\n\
CSeq: 102 INVITE\r\n\
Contact: <sip:13903790000@10.1.1.10:5060;transport=udp>\r\n\
P-Asserted-Identity: <sip:+8613903790000@ims.ha.chinamobile.com;user=phone>\r\n\
Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, SUBSCRIBE, NOTIFY, INFO, PRACK, UPDATE\r\n\
Supported: replaces, timer, 100rel\r\n\
Session-Expires: 1800;refresher=uac\r\n\
Min-SE: 90\r\n\
User-Agent: Huawei SoftX3000 V300R010\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 286\r\n\
\r\n\
v=0\r\n\
o=- 1700000000 1700000000 IN IP4 10.1.1.10\r\n\
s=SBC call\r\n\
c=IN IP4 10.1.1.10\r\n\
t=0 0\r\n\
m=audio 31000 RTP/AVP 8 0 18 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:18 G729/8000\r\n\
a=fmtp:18 annexb=no\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=ptime:20\r\n\
a=sendrecv\r\n";

/// The same kind of call from a phone that uses RFC 3261 compact header names, folds a
/// header and puts whitespace before colons.
const COMPACT: &str = "INVITE sip:12366@127.0.0.1 SIP/2.0\r\n\
v: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-compact-1;rport\r\n\
f: \"Taxpayer\" <sip:13903790000@127.0.0.1>;tag=8a7b6c\r\n\
t: <sip:12366@127.0.0.1>\r\n\
i: 9f8e7d6c5b4a@127.0.0.1\r\n\
CSeq : 1 INVITE\r\n\
m: <sip:13903790000@127.0.0.1:5062>\r\n\
k: timer, replaces\r\n\
Subject: a question about\r\n\tthe individual income tax\r\n\
Max-Forwards: 70\r\n\
c: application/sdp\r\n\
l: 153\r\n\
\r\n\
v=0\r\n\
o=caller 1 1 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0 101\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n";

/// An agent phone's 200 OK answering the switch's INVITE.
const OK: &str = "SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK3f2a1b0c9d8e7f60;rport=5060\r\n\
From: \"13903790000\" <sip:13903790000@127.0.0.1:5060>;tag=7e6d5c4b3a291807\r\n\
To: <sip:1003@127.0.0.1:5060>;tag=17253SIPpTag011\r\n\
Call-ID: 0a1b2c3d4e5f6a7b@hotline\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:127.0.0.1:7010;transport=UDP>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 164\r\n\
\r\n\
v=0\r\n\
o=agent 1 1 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 7020 RTP/AVP 8 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=sendrecv\r\n";

/// The body as written after the empty line, to check each fixture's Content-Length.
fn body_of(text: &str) -> &[u8] {
    let at = text.find("\r\n\r\n").expect("fixture has a body") + 4;
    &text.as_bytes()[at..]
}

fn check_fixtures() {
    // A fixture the parser refuses would benchmark the error path: fail loudly instead.
    for (name, text) in [("INVITE", INVITE), ("compact INVITE", COMPACT)] {
        match parse_message(text.as_bytes()) {
            Ok(Message::Request(r)) => {
                assert!(validate_request(&r).is_ok(), "{name} does not validate");
                assert_eq!(r.body, body_of(text), "{name}: Content-Length is wrong");
            }
            other => panic!("{name} did not parse as a request: {other:?}"),
        }
    }
    match parse_message(OK.as_bytes()) {
        Ok(Message::Response(r)) => {
            assert_eq!(r.status, 200);
            assert_eq!(r.body, body_of(OK), "200 OK: Content-Length is wrong");
        }
        other => panic!("200 OK did not parse: {other:?}"),
    }
}

fn parse(c: &mut Criterion) {
    check_fixtures();
    let mut g = c.benchmark_group("sip_parse");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    for (name, text) in [
        ("invite_sdp", INVITE),
        ("invite_compact", COMPACT),
        ("ok_200_sdp", OK),
    ] {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| parse_message(black_box(text.as_bytes())))
        });
    }
    // What the switch really does per received request: parse, then validate (top Via,
    // From/To name-addrs, Call-ID, CSeq are parsed on demand).
    g.throughput(Throughput::Bytes(INVITE.len() as u64));
    g.bench_function("invite_sdp_parse_validate", |b| {
        b.iter(|| match parse_message(black_box(INVITE.as_bytes())) {
            Ok(Message::Request(r)) => validate_request(&r).is_ok(),
            _ => false,
        })
    });
    g.finish();
}

fn serialise(c: &mut Criterion) {
    let Ok(Message::Request(invite)) = parse_message(INVITE.as_bytes()) else {
        panic!("fixture")
    };
    let Ok(Message::Response(ok)) = parse_message(OK.as_bytes()) else {
        panic!("fixture")
    };
    let mut g = c.benchmark_group("sip_to_bytes");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    g.throughput(Throughput::Bytes(invite.to_bytes().len() as u64));
    g.bench_function("request_invite_sdp", |b| {
        b.iter(|| black_box(&invite).to_bytes())
    });
    g.throughput(Throughput::Bytes(ok.to_bytes().len() as u64));
    g.bench_function("response_200_sdp", |b| b.iter(|| black_box(&ok).to_bytes()));
    g.finish();
}

criterion_group!(benches, parse, serialise);
criterion_main!(benches);
