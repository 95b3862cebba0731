//! Transaction behaviour in virtual time: retransmissions, timeouts, CANCEL, RFC 6026.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::header::HeaderName;
use crate::parse::parse_message;
use crate::Message;

fn peer(t: Transport) -> Peer {
    Peer {
        addr: "127.0.0.1:5070".parse::<SocketAddr>().unwrap(),
        transport: t,
    }
}

fn invite(branch: &str) -> Request {
    let s = format!(
        "INVITE sip:12366@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\n\
From: <sip:13903790000@127.0.0.1>;tag=a\r\nTo: <sip:12366@127.0.0.1>\r\nCall-ID: call-1\r\n\
CSeq: 1 INVITE\r\nContact: <sip:139@127.0.0.1:5070>\r\nMax-Forwards: 70\r\n\r\n"
    );
    match parse_message(s.as_bytes()).unwrap() {
        Message::Request(r) => r,
        _ => unreachable!(),
    }
}

fn request(method: &str, branch: &str) -> Request {
    let mut r = invite(branch);
    r.method = Method::from_token(method);
    r.headers.set(HeaderName::CSeq, format!("1 {method}"));
    r
}

fn drain(ep: &mut Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        let first = String::from_utf8_lossy(&t.data)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        out.push(first);
    }
    out
}

fn events(ep: &mut Endpoint) -> Vec<TxEvent> {
    std::iter::from_fn(|| ep.poll_event()).collect()
}

/// Runs the clock forward in 10 ms steps, collecting what was sent and when.
fn run_until(ep: &mut Endpoint, start: Instant, until: Duration) -> Vec<(Duration, String)> {
    let mut sent = Vec::new();
    let mut now = start;
    while now - start <= until {
        ep.handle_timeout(now);
        for s in drain(ep) {
            sent.push((now - start, s));
        }
        now += Duration::from_millis(10);
    }
    sent
}

#[test]
fn invite_gets_100_trying_at_once_and_retransmission_repeats_it() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    ep.handle_request(t0, invite("z9hG4bK1"), peer(Transport::Udp));
    assert_eq!(drain(&mut ep), ["SIP/2.0 100 Trying"]);
    assert!(matches!(
        events(&mut ep).as_slice(),
        [TxEvent::Request { .. }]
    ));
    ep.handle_request(t0, invite("z9hG4bK1"), peer(Transport::Udp));
    assert_eq!(drain(&mut ep), ["SIP/2.0 100 Trying"]);
    assert!(
        events(&mut ep).is_empty(),
        "a retransmission is not a new call"
    );
}

#[test]
fn busy_is_retransmitted_with_timer_g_until_ack_then_absorbed() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK2");
    ep.handle_request(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    drain(&mut ep);
    ep.respond(
        t0,
        tx,
        Response::to_request(&inv, 486, "Busy Here").with_to_tag("x"),
    );
    let sent = run_until(&mut ep, t0, Duration::from_millis(3600));
    let times: Vec<u128> = sent.iter().map(|(d, _)| d.as_millis()).collect();
    assert_eq!(times, [0, 500, 1500, 3500], "G doubles from T1");
    let mut ack = request("ACK", "z9hG4bK2");
    ack.headers.set(HeaderName::CSeq, "1 ACK");
    ep.handle_request(t0 + Duration::from_secs(4), ack, peer(Transport::Udp));
    assert!(
        events(&mut ep).is_empty(),
        "ACK to a non-2xx stays in the transaction"
    );
    let later = run_until(
        &mut ep,
        t0 + Duration::from_secs(4),
        Duration::from_secs(10),
    );
    assert!(later.is_empty());
    assert!(ep.is_empty(), "timer I ended it");
}

#[test]
fn ok_is_retransmitted_until_the_ack_with_its_own_branch() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK3");
    ep.handle_request(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    drain(&mut ep);
    ep.respond(
        t0,
        tx,
        Response::to_request(&inv, 200, "OK").with_to_tag("x"),
    );
    let sent = run_until(&mut ep, t0, Duration::from_millis(1600));
    assert_eq!(sent.len(), 3, "200 at 0, 0.5 s and 1.5 s: {sent:?}");
    // An ACK with the call's Call-ID and CSeq but not its dialog's tags is no ACK.
    let at = t0 + Duration::from_millis(1600);
    let ack = |branch: &str, from_tag: &str, to_tag: &str| {
        let mut a = request("ACK", branch);
        a.headers.set(HeaderName::CSeq, "1 ACK");
        a.headers.set(
            HeaderName::From,
            format!("<sip:13903790000@127.0.0.1>;tag={from_tag}"),
        );
        a.headers.set(
            HeaderName::To,
            format!("<sip:12366@127.0.0.1>;tag={to_tag}"),
        );
        a
    };
    ep.handle_request(
        at,
        ack("z9hG4bK-forged", "a", "guess"),
        peer(Transport::Udp),
    );
    assert!(events(&mut ep).is_empty(), "a forged ACK reaches no dialog");
    ep.handle_request(at, ack("z9hG4bK-forged2", "b", "x"), peer(Transport::Udp));
    assert!(
        events(&mut ep).is_empty(),
        "our To tag with another From tag is no ACK either"
    );
    ep.handle_request(at, ack("z9hG4bK-other", "a", "x"), peer(Transport::Udp));
    assert!(matches!(events(&mut ep).as_slice(), [TxEvent::Ack { .. }]));
    let later = run_until(
        &mut ep,
        t0 + Duration::from_millis(1600),
        Duration::from_secs(40),
    );
    assert!(later.is_empty(), "no 200 after the ACK: {later:?}");
    assert!(ep.is_empty(), "timer L ended the transaction");
}

#[test]
fn ok_never_acked_times_out_so_the_call_can_be_hung_up() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK4");
    ep.handle_request(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    ep.respond(
        t0,
        tx,
        Response::to_request(&inv, 200, "OK").with_to_tag("x"),
    );
    run_until(&mut ep, t0, Duration::from_secs(33));
    assert_eq!(events(&mut ep), [TxEvent::Timeout { tx }]);
    assert!(ep.is_empty());
}

#[test]
fn cancel_of_a_ringing_invite_gets_200_and_tells_the_user() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    ep.handle_request(t0, invite("z9hG4bK5"), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    drain(&mut ep);
    ep.handle_request(t0, request("CANCEL", "z9hG4bK5"), peer(Transport::Udp));
    assert_eq!(drain(&mut ep), ["SIP/2.0 200 OK"]);
    assert_eq!(events(&mut ep), [TxEvent::Cancelled { invite: tx }]);
    assert!(ep.is_pending(tx));
}

#[test]
fn cancel_for_nothing_gets_481() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    ep.handle_request(t0, request("CANCEL", "z9hG4bK6"), peer(Transport::Udp));
    assert_eq!(
        drain(&mut ep),
        ["SIP/2.0 481 Call/Transaction Does Not Exist"]
    );
    assert!(events(&mut ep).is_empty());
}

#[test]
fn client_invite_retransmits_with_timer_a_and_gives_up_at_b() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let tx = ep
        .send_request(t0, invite("z9hG4bK7"), peer(Transport::Udp))
        .unwrap();
    let sent = run_until(&mut ep, t0, Duration::from_secs(33));
    let times: Vec<u128> = sent.iter().map(|(d, _)| d.as_millis()).collect();
    assert_eq!(times, [0, 500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(events(&mut ep), [TxEvent::Timeout { tx }]);
}

#[test]
fn client_invite_stops_retransmitting_on_ringing_and_acks_a_busy() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK8");
    let tx = ep
        .send_request(t0, inv.clone(), peer(Transport::Udp))
        .unwrap();
    drain(&mut ep);
    ep.handle_response(
        t0,
        Response::to_request(&inv, 180, "Ringing").with_to_tag("p"),
    );
    assert!(run_until(&mut ep, t0, Duration::from_secs(40)).is_empty());
    let busy = Response::to_request(&inv, 486, "Busy Here").with_to_tag("p");
    let t1 = t0 + Duration::from_secs(40);
    ep.handle_response(t1, busy.clone());
    assert_eq!(drain(&mut ep), ["ACK sip:12366@127.0.0.1 SIP/2.0"]);
    ep.handle_response(t1, busy);
    assert_eq!(
        drain(&mut ep),
        ["ACK sip:12366@127.0.0.1 SIP/2.0"],
        "re-ACK"
    );
    let evs = events(&mut ep);
    assert_eq!(evs.len(), 2, "ringing and busy go up once each: {evs:?}");
    assert!(
        matches!(&evs[1], TxEvent::Response { tx: t, response } if *t == tx && response.status == 486)
    );
}

#[test]
fn an_answered_client_transaction_lets_its_request_go_and_still_re_acks() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let (busy_inv, ok_inv) = (invite("z9hG4bKb1"), invite("z9hG4bKb2"));
    let busy_tx = ep
        .send_request(t0, busy_inv.clone(), peer(Transport::Udp))
        .unwrap();
    let ok_tx = ep
        .send_request(t0, ok_inv.clone(), peer(Transport::Udp))
        .unwrap();
    let bye_tx = ep
        .send_request(t0, request("BYE", "z9hG4bKb3"), peer(Transport::Udp))
        .unwrap();
    let held = |ep: &Endpoint, tx| ep.clients.get(&tx).is_some_and(|c| c.holds_request());
    assert!(held(&ep, busy_tx) && held(&ep, ok_tx) && held(&ep, bye_tx));
    drain(&mut ep);
    let busy = Response::to_request(&busy_inv, 486, "Busy Here").with_to_tag("p");
    ep.handle_response(t0, busy.clone());
    ep.handle_response(
        t0,
        Response::to_request(&ok_inv, 200, "OK").with_to_tag("q"),
    );
    ep.handle_response(
        t0,
        Response::to_request(&request("BYE", "z9hG4bKb3"), 200, "OK"),
    );
    assert!(!held(&ep, busy_tx) && !held(&ep, ok_tx) && !held(&ep, bye_tx));
    assert_eq!(drain(&mut ep), ["ACK sip:12366@127.0.0.1 SIP/2.0"]);
    ep.handle_response(t0, busy);
    let re_ack = ep.poll_transmit().expect("the busy is ACKed again");
    let text = String::from_utf8_lossy(&re_ack.data);
    for header in [
        "Call-ID: call-1",
        "CSeq: 1 ACK",
        "branch=z9hG4bKb1",
        "tag=a",
        "tag=p",
    ] {
        assert!(text.contains(header), "{header} in {text}");
    }
}

#[test]
fn client_invite_passes_2xx_retransmissions_up_for_re_ack() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK9");
    ep.send_request(t0, inv.clone(), peer(Transport::Udp))
        .unwrap();
    let ok = Response::to_request(&inv, 200, "OK").with_to_tag("p");
    ep.handle_response(t0, ok.clone());
    ep.handle_response(t0, ok);
    assert_eq!(events(&mut ep).len(), 2);
    run_until(&mut ep, t0, Duration::from_secs(33));
    assert!(ep.is_empty(), "timer M ended it");
}

#[test]
fn client_non_invite_caps_retransmissions_at_t2_and_times_out_at_f() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let tx = ep
        .send_request(t0, request("BYE", "z9hG4bKa"), peer(Transport::Udp))
        .unwrap();
    let sent = run_until(&mut ep, t0, Duration::from_secs(33));
    let times: Vec<u128> = sent.iter().map(|(d, _)| d.as_millis()).collect();
    assert_eq!(
        times,
        [0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]
    );
    assert_eq!(events(&mut ep), [TxEvent::Timeout { tx }]);
}

#[test]
fn nothing_is_retransmitted_over_tcp() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let tx = ep
        .send_request(t0, request("OPTIONS", "z9hG4bKb"), peer(Transport::Tcp))
        .unwrap();
    let sent = run_until(&mut ep, t0, Duration::from_secs(33));
    assert_eq!(sent.len(), 1);
    assert_eq!(events(&mut ep), [TxEvent::Timeout { tx }]);
}

#[test]
fn non_invite_server_answers_retransmissions_from_its_cache() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let bye = request("BYE", "z9hG4bKc");
    ep.handle_request(t0, bye.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    ep.respond(t0, tx, Response::to_request(&bye, 200, "OK"));
    assert_eq!(drain(&mut ep), ["SIP/2.0 200 OK"]);
    ep.handle_request(t0, bye, peer(Transport::Udp));
    assert_eq!(drain(&mut ep), ["SIP/2.0 200 OK"]);
    assert!(events(&mut ep).is_empty());
    run_until(&mut ep, t0, Duration::from_secs(33));
    assert!(ep.is_empty(), "timer J ended it");
}

#[test]
fn cancel_for_copies_the_invite_branch_and_cseq_number() {
    let inv = invite("z9hG4bKd");
    let c = cancel_for(&inv);
    assert_eq!(c.method, Method::Cancel);
    assert_eq!(c.top_via().unwrap().branch(), Some("z9hG4bKd"));
    assert_eq!(c.cseq().unwrap().to_string(), "1 CANCEL");
}

#[test]
fn cancel_after_the_answer_gets_200_and_changes_nothing() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK6b");
    ep.handle_request(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    ep.respond(
        t0,
        tx,
        Response::to_request(&inv, 200, "OK").with_to_tag("x"),
    );
    drain(&mut ep);
    ep.handle_request(t0, request("CANCEL", "z9hG4bK6b"), peer(Transport::Udp));
    assert_eq!(drain(&mut ep), ["SIP/2.0 200 OK"]);
    assert!(events(&mut ep).is_empty(), "no Cancelled after the answer");
}

#[test]
fn an_invite_retransmitted_after_the_ack_is_absorbed_until_timer_l() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let inv = invite("z9hG4bK6c");
    ep.handle_request(t0, inv.clone(), peer(Transport::Udp));
    let Some(TxEvent::Request { tx, .. }) = ep.poll_event() else {
        panic!()
    };
    ep.respond(
        t0,
        tx,
        Response::to_request(&inv, 200, "OK").with_to_tag("x"),
    );
    let mut ack = request("ACK", "z9hG4bK-ack");
    ack.headers.set(HeaderName::CSeq, "1 ACK");
    ack.headers
        .set(HeaderName::To, "<sip:12366@127.0.0.1>;tag=x");
    ep.handle_request(t0, ack, peer(Transport::Udp));
    events(&mut ep);
    drain(&mut ep);
    ep.handle_request(
        t0 + Duration::from_secs(2),
        inv.clone(),
        peer(Transport::Udp),
    );
    assert!(drain(&mut ep).is_empty());
    assert!(events(&mut ep).is_empty(), "not a new call");
    run_until(&mut ep, t0, Duration::from_secs(33));
    assert!(events(&mut ep).is_empty(), "an ACKed 2xx does not time out");
    assert!(ep.is_empty());
}

#[test]
fn responses_tell_a_peer_behind_nat_where_it_really_is() {
    let mut ep = Endpoint::new(TimerConfig::default());
    let t0 = Instant::now();
    let mut inv = invite("z9hG4bK6d");
    inv.headers.set(
        HeaderName::Via,
        "SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK6d;rport",
    );
    ep.handle_request(t0, inv, peer(Transport::Udp));
    let t = ep.poll_transmit().unwrap();
    let text = String::from_utf8(t.data).unwrap();
    assert!(
        text.contains(
            "Via: SIP/2.0/UDP 10.1.1.1:5060;branch=z9hG4bK6d;received=127.0.0.1;rport=5070"
        ),
        "{text}"
    );
}
