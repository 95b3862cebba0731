//! The RFC 3261 transaction layer (`hotline_sip::transaction::Endpoint`) per call, as the
//! switch's caller leg sees it: an INVITE arrives (the endpoint answers 100 Trying itself),
//! the switch sends 180 Ringing and a 200 OK with SDP, and the caller's ACK arrives (own
//! branch; RFC 6026 keeps the transaction Accepted until timer L, 32 s). One iteration = one
//! call on one long-lived endpoint whose virtual clock advances 10 ms per call: 100 calls/s,
//! so about 3,200 transactions are alive at any time and timer G/L entries pile up and
//! expire in the heap as they do in the running switch at that rate.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-bench cargo bench -p hotline-sip --bench sip_transaction`

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use hotline_sip::message::SipMessage;
use hotline_sip::transaction::{Endpoint, Peer, TimerConfig, Transport, TxEvent};
use hotline_sip::{parse_message, HeaderName, Message, Request, Response};

/// Virtual time between two calls: 100 calls/s.
const CALL_INTERVAL: Duration = Duration::from_millis(10);

const SDP: &str = "v=0\r\no=hotline 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n\
t=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

fn invite_bytes(n: u64) -> Vec<u8> {
    let sdp = "v=0\r\no=caller 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
    format!(
        "INVITE sip:12366@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-inv-{n}\r\n\
From: <sip:13903790000@127.0.0.1:5070>;tag={n}SIPpTag00\r\n\
To: <sip:12366@127.0.0.1:5060>\r\n\
Call-ID: {n}-bench@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:13903790000@127.0.0.1:5070>\r\n\
Max-Forwards: 70\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

fn ack_bytes(n: u64) -> Vec<u8> {
    format!(
        "ACK sip:12366@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-ack-{n}\r\n\
From: <sip:13903790000@127.0.0.1:5070>;tag={n}SIPpTag00\r\n\
To: <sip:12366@127.0.0.1:5060>;tag=hotline-{n}\r\n\
Call-ID: {n}-bench@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn request(bytes: &[u8]) -> Request {
    match parse_message(bytes) {
        Ok(Message::Request(r)) => r,
        other => panic!("fixture is not a request: {other:?}"),
    }
}

/// One call's caller-side transaction work. Returns what was sent, so nothing is optimised away.
fn one_call(ep: &mut Endpoint, now: Instant, peer: Peer, invite: Request, ack: Request) -> usize {
    ep.handle_request(now, invite, peer);
    let Some(TxEvent::Request { tx, request, .. }) = ep.poll_event() else {
        panic!("the INVITE did not open a server transaction")
    };
    let tag = format!("hotline-{}", request.call_id().unwrap_or_default());
    let ringing = Response::to_request(&request, 180, "Ringing").with_to_tag(&tag);
    ep.respond(now, tx, ringing);
    let mut ok = Response::to_request(&request, 200, "OK").with_to_tag(&tag);
    ok.headers
        .push(HeaderName::Contact, "<sip:12366@127.0.0.1:5060>");
    ok.headers.push(HeaderName::ContentType, "application/sdp");
    ok.body = SDP.as_bytes().to_vec();
    ep.respond(now, tx, ok);
    ep.handle_request(now, ack, peer);
    let mut sent = 0;
    while let Some(t) = ep.poll_transmit() {
        sent += t.data.len();
    }
    while ep.poll_event().is_some() {}
    // What the switch's loop does every turn: fire due timers, find the next deadline.
    ep.handle_timeout(now);
    black_box(ep.poll_timeout());
    sent
}

fn transactions(c: &mut Criterion) {
    let peer = Peer {
        addr: "127.0.0.1:5070".parse::<SocketAddr>().expect("addr"),
        transport: Transport::Udp,
    };
    // Sanity: a call really sends 100, 180 and 200, and once timer L has run (RFC 6026: the
    // server INVITE transaction stays Accepted for 64·T1 after the 2xx) nothing is left.
    {
        let mut ep = Endpoint::new(TimerConfig::default());
        let now = Instant::now();
        let sent = one_call(
            &mut ep,
            now,
            peer,
            request(&invite_bytes(0)),
            request(&ack_bytes(0)),
        );
        assert!(sent > 0);
        ep.handle_timeout(now + Duration::from_secs(33));
        assert!(
            ep.is_empty(),
            "timer L must end the INVITE server transaction"
        );
    }

    let mut g = c.benchmark_group("sip_transaction");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .throughput(Throughput::Elements(1));

    // Transaction layer only: requests are parsed in the (untimed) setup.
    let mut ep = Endpoint::new(TimerConfig::default());
    let mut now = Instant::now();
    let mut n = 1u64;
    g.bench_function("invite_180_200_ack_per_call", |b| {
        b.iter_batched(
            || {
                n += 1;
                (request(&invite_bytes(n)), request(&ack_bytes(n)))
            },
            |(invite, ack)| {
                now += CALL_INTERVAL;
                one_call(&mut ep, now, peer, invite, ack)
            },
            BatchSize::SmallInput,
        )
    });

    // The same with the wire work the switch adds: parsing both datagrams from bytes.
    let mut ep = Endpoint::new(TimerConfig::default());
    let mut now = Instant::now();
    let mut n = 1u64;
    g.bench_function("invite_180_200_ack_per_call_with_parsing", |b| {
        b.iter_batched(
            || {
                n += 1;
                (invite_bytes(n), ack_bytes(n))
            },
            |(invite, ack)| {
                now += CALL_INTERVAL;
                one_call(&mut ep, now, peer, request(&invite), request(&ack))
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, transactions);
criterion_main!(benches);
