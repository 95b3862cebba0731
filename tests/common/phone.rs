//! A hand-driven SIP phone on a UDP socket, for the cases a scripted peer cannot do:
//! registering with a chosen digest algorithm, sending malformed or hostile requests.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hotline_sip::message::SipMessage;
use hotline_sip::{parse_message, HeaderName, Message, Request, Response};

/// One UDP phone.
pub struct Phone {
    /// Its socket on 127.0.0.1.
    pub sock: UdpSocket,
    /// The switch.
    pub switch: SocketAddr,
}

impl Phone {
    /// A phone talking to the switch on `port`.
    pub fn new(port: u16) -> Phone {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind phone");
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Phone {
            sock,
            switch: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// A phone sending from 127.0.0.1:`local` (a static seat's port) to the switch on `port`.
    pub fn at(local: u16, port: u16) -> Phone {
        let sock = UdpSocket::bind(("127.0.0.1", local)).expect("bind the seat's port");
        sock.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Phone {
            sock,
            switch: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// The phone's own address.
    pub fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("local addr")
    }

    /// Sends raw text (lines joined with CRLF by the caller).
    pub fn send(&self, text: &str) {
        self.sock
            .send_to(text.as_bytes(), self.switch)
            .expect("send");
    }

    /// The next message, parsed; panics after the read timeout.
    pub fn recv(&self) -> Message {
        let mut buf = vec![0u8; 65535];
        let (n, _) = self
            .sock
            .recv_from(&mut buf)
            .expect("a message from the switch");
        parse_message(&buf[..n]).expect("switch sent a parseable message")
    }

    /// The next response, skipping 100 Trying.
    pub fn final_response(&self) -> Response {
        loop {
            match self.recv() {
                Message::Response(r) if r.status > 100 => return r,
                _ => {}
            }
        }
    }

    /// The next request.
    pub fn request(&self) -> Request {
        loop {
            if let Message::Request(r) = self.recv() {
                return r;
            }
        }
    }

    /// A REGISTER for `user` with `extra` header lines.
    pub fn register_text(&self, user: &str, cseq: u32, extra: &str) -> String {
        static BRANCH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let b = BRANCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let me = self.addr();
        format!(
            "REGISTER sip:{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKreg{b}x{cseq}\r\n\
From: <sip:{user}@{sw}>;tag=r1\r\nTo: <sip:{user}@{sw}>\r\nCall-ID: reg-{user}@{me}\r\n\
CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{me}>\r\nMax-Forwards: 70\r\n{extra}Content-Length: 0\r\n\r\n",
            sw = self.switch
        )
    }

    /// Registers `user` answering the challenge of algorithm `alg` (`MD5` or `SHA-256`).
    pub fn register(&self, user: &str, password: &str, alg: &str, expires: u32) -> Response {
        self.send(&self.register_text(user, 1, &format!("Expires: {expires}\r\n")));
        let challenge = self.final_response();
        assert_eq!(challenge.status, 401, "first REGISTER is challenged");
        let chal = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .into_iter()
            .find(|c| c.contains(&format!("algorithm={alg}")))
            .unwrap_or_else(|| panic!("no {alg} challenge in {challenge:?}"))
            .to_string();
        let auth = hotline_sip::digest::Challenge::parse(&chal)
            .and_then(|c| {
                c.answer(
                    "REGISTER",
                    &format!("sip:{}", self.switch),
                    user,
                    password,
                    "0a4f113b",
                )
            })
            .expect("a digest answer");
        let auth = format!("Authorization: {auth}\r\nExpires: {expires}\r\n");
        self.send(&self.register_text(user, 2, &auth));
        self.final_response()
    }

    /// Answers an INVITE with 200 OK and a PCMU answer at `media`.
    pub fn answer(&self, invite: &Request, media: SocketAddr) {
        let sdp = format!(
            "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            media.port()
        );
        let mut r = Response::to_request(invite, 200, "OK").with_to_tag("phone");
        r.headers
            .push(HeaderName::Contact, format!("<sip:phone@{}>", self.addr()));
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = sdp.into_bytes();
        self.sock
            .send_to(&r.to_bytes(), self.switch)
            .expect("send 200");
    }

    /// Answers any request with `status`.
    pub fn reply(&self, req: &Request, status: u16) {
        let r = Response::to_request(req, status, "OK").with_to_tag("phone");
        self.sock.send_to(&r.to_bytes(), self.switch).expect("send");
    }

    /// Waits for a request of `method`, answering 200 to anything else in between.
    pub fn expect_request(&self, method: &str) -> Request {
        loop {
            let r = self.request();
            if r.method.as_str() == method {
                return r;
            }
            let _ = r.call_id();
        }
    }
}

/// An INVITE with an offer whose media port (20000) lies below the OS's ephemeral range, so
/// it can never be one of the switch's own media ports (an offer pointing there is refused).
pub fn invite_text(phone: &Phone, to_user: &str, from_user: &str, branch: &str) -> String {
    let me = phone.addr();
    let sdp = "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:{to_user}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch}\r\n\
From: <sip:{from_user}@{me}>;tag=f1\r\nTo: <sip:{to_user}@{sw}>\r\nCall-ID: {branch}@test\r\n\
CSeq: 1 INVITE\r\nContact: <sip:{from_user}@{me}>\r\nMax-Forwards: 70\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len(),
        sw = phone.switch
    )
}
