//! An agent's desk phone driven by the test, for what scripted peers cannot do in one
//! scenario: take a call, place a consultation call, press transfer (REFER, with Replaces
//! for attended transfer), follow a re-INVITE that moves its audio. SIP on one UDP socket,
//! audio through an [`RtpPhone`] that sends a tone and keeps what it heard.

use std::net::SocketAddr;

use hotline_sip::message::SipMessage;
use hotline_sip::{HeaderName, Message, Request, Response};

use super::phone::Phone;
use super::rtp_phone::{RtpPhone, Sound};

/// One side of a dialog as this phone sees it.
#[derive(Debug, Clone)]
pub struct Dialog {
    pub call_id: String,
    /// This phone's tag.
    pub local_tag: String,
    /// The switch's tag.
    pub remote_tag: String,
    /// Where in-dialog requests go (the switch's Contact).
    pub remote_target: String,
    /// The From/To URIs as this phone writes them (local, remote).
    pub local_uri: String,
    pub remote_uri: String,
    /// This phone's next CSeq.
    pub cseq: u32,
}

/// A desk phone of agent `id`.
pub struct DeskPhone {
    pub id: String,
    pub sip: Phone,
    pub rtp: RtpPhone,
    tone: f64,
}

/// The audio address in an SDP body.
pub fn sdp_addr(body: &[u8]) -> SocketAddr {
    let text = std::str::from_utf8(body).expect("utf-8 sdp");
    hotline_media::sdp::parse(text).expect("sdp").addr
}

impl DeskPhone {
    /// A phone for agent `id` talking `tone` Hz, registered nowhere: give it a static
    /// contact `sip:ID@127.0.0.1:PORT` with [`DeskPhone::port`].
    pub fn new(id: &str, switch_port: u16, tone: f64) -> DeskPhone {
        DeskPhone {
            id: id.to_string(),
            sip: Phone::new(switch_port),
            rtp: RtpPhone::new(),
            tone,
        }
    }

    /// Points the phone at the switch (its port is known once the switch runs).
    pub fn connect(&mut self, switch_port: u16) {
        self.sip.switch = SocketAddr::from(([127, 0, 0, 1], switch_port));
    }

    /// The SIP port for the dialplan's static contact.
    pub fn port(&self) -> u16 {
        self.sip.addr().port()
    }

    fn sdp(&self) -> String {
        format!(
            "v=0\r\no={id} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
            self.rtp.addr.port(),
            id = self.id
        )
    }

    /// Waits for the switch to ring this phone, answers, waits for the ACK and starts
    /// talking to the switch's media address.
    pub fn take_call(&self) -> Dialog {
        self.take_call_after(std::time::Duration::ZERO)
    }

    /// As [`DeskPhone::take_call`], ringing (180) for `ring` first.
    pub fn take_call_after(&self, ring: std::time::Duration) -> Dialog {
        let patient = std::time::Duration::from_secs(20);
        self.sip
            .sock
            .set_read_timeout(Some(patient))
            .expect("timeout");
        let invite = self.sip.expect_request("INVITE");
        self.sip
            .sock
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let local_tag = format!("{}-in", self.id);
        if !ring.is_zero() {
            let r = Response::to_request(&invite, 180, "Ringing").with_to_tag(&local_tag);
            self.sip
                .sock
                .send_to(&r.to_bytes(), self.sip.switch)
                .expect("send 180");
            std::thread::sleep(ring);
        }
        let mut r = Response::to_request(&invite, 200, "OK").with_to_tag(&local_tag);
        r.headers.push(
            HeaderName::Contact,
            format!("<sip:{}@{}>", self.id, self.sip.addr()),
        );
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = self.sdp().into_bytes();
        self.sip
            .sock
            .send_to(&r.to_bytes(), self.sip.switch)
            .expect("send 200");
        self.sip.expect_request("ACK");
        self.rtp
            .talk_to(sdp_addr(&invite.body), Sound::Tone(self.tone));
        let from = invite.party_from().expect("From");
        Dialog {
            call_id: invite.call_id().expect("Call-ID").to_string(),
            local_tag,
            remote_tag: from.tag().expect("From tag").to_string(),
            remote_target: invite
                .headers
                .get(&HeaderName::Contact)
                .map(|c| {
                    c.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
                .expect("Contact"),
            local_uri: invite.party_to().expect("To").uri,
            remote_uri: from.uri,
            cseq: 1,
        }
    }

    /// Calls `user` through the switch (a consultation); returns the dialog once answered
    /// and ACKed, talking to the answer's media address.
    pub fn call(&self, user: &str) -> Dialog {
        self.try_call(user)
            .unwrap_or_else(|r| panic!("call to {user} answered: {r:?}"))
    }

    /// As [`DeskPhone::call`], or the switch's final response when it is not a 200 (ACKed).
    pub fn try_call(&self, user: &str) -> Result<Dialog, Response> {
        let sw = self.sip.switch;
        let me = self.sip.addr();
        let call_id = format!("consult-{}-{user}@{me}", self.id);
        let local_tag = format!("{}-out", self.id);
        let text = format!(
            "INVITE sip:{user}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKc{user}1\r\n\
From: <sip:{id}@{sw}>;tag={local_tag}\r\nTo: <sip:{user}@{sw}>\r\nCall-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\nContact: <sip:{id}@{me}>\r\nMax-Forwards: 70\r\nContent-Type: application/sdp\r\n\
Content-Length: {len}\r\n\r\n{sdp}",
            id = self.id,
            len = self.sdp().len(),
            sdp = self.sdp()
        );
        self.sip.send(&text);
        let ok = loop {
            let r = self.sip.final_response();
            if r.status >= 200 {
                break r;
            }
        };
        let to = ok.party_to().expect("To");
        if ok.status != 200 {
            // A failure is ACKed in its transaction, as a phone does (RFC 3261 17.1.1.3).
            let ack = format!(
                "ACK sip:{user}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKc{user}1\r\n\
From: <sip:{id}@{sw}>;tag={local_tag}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: 1 ACK\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
                id = self.id,
                to = ok.headers.get(&HeaderName::To).unwrap_or_default(),
            );
            self.sip.send(&ack);
            return Err(ok);
        }
        let remote_target = ok
            .headers
            .get(&HeaderName::Contact)
            .map(|c| {
                c.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
            .expect("Contact");
        let d = Dialog {
            call_id,
            local_tag,
            remote_tag: to.tag().expect("To tag").to_string(),
            remote_target,
            local_uri: format!("sip:{}@{sw}", self.id),
            remote_uri: to.uri,
            cseq: 2,
        };
        self.send_in_dialog(&d, "ACK", 1, "", "");
        self.rtp.talk_to(sdp_addr(&ok.body), Sound::Tone(self.tone));
        Ok(d)
    }

    /// Sends an in-dialog request with `extra` headers and `body`.
    pub fn send_in_dialog(&self, d: &Dialog, method: &str, cseq: u32, extra: &str, body: &str) {
        let me = self.sip.addr();
        let text = format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{cseq}{tag}\r\n\
From: <{lu}>;tag={lt}\r\nTo: <{ru}>;tag={rt}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\n\
Contact: <sip:{id}@{me}>\r\nMax-Forwards: 70\r\n{extra}Content-Length: {len}\r\n\r\n{body}",
            target = d.remote_target,
            tag = d.local_tag,
            lu = d.local_uri,
            lt = d.local_tag,
            ru = d.remote_uri,
            rt = d.remote_tag,
            cid = d.call_id,
            id = self.id,
            len = body.len()
        );
        self.sip.send(&text);
    }

    /// Presses transfer: REFER in `d` to `refer_to` (a URI, with `?Replaces=` for attended);
    /// returns the switch's status.
    pub fn refer(&self, d: &mut Dialog, refer_to: &str) -> u16 {
        let extra = format!(
            "Refer-To: <{refer_to}>\r\nReferred-By: <sip:{}@{}>\r\n",
            self.id, self.sip.switch
        );
        self.send_in_dialog(d, "REFER", d.cseq, &extra, "");
        d.cseq += 1;
        loop {
            match self.sip.recv() {
                Message::Response(r) if r.status >= 200 => return r.status,
                Message::Request(req) => self.answer_request(&req),
                _ => {}
            }
        }
    }

    /// Answers an in-dialog request from the switch with 200 (NOTIFY, BYE, OPTIONS), or
    /// with 200 and our SDP for a re-INVITE (then follows its media address).
    pub fn answer_request(&self, req: &Request) {
        self.answer(req);
    }

    /// As [`DeskPhone::serve_for`], but the 200 to a re-INVITE is sent once more after its
    /// ACK, as a phone does whose ACK was lost on the way; returns the methods seen.
    pub fn serve_for_retransmitting_200(&self, secs: u64) -> Vec<String> {
        self.serve(secs, true)
    }

    /// Answers `req` (not an ACK) and returns what was sent.
    fn answer(&self, req: &Request) -> Option<Vec<u8>> {
        if req.method.as_str() == "ACK" {
            return None;
        }
        let mut r = Response::to_request(req, 200, "OK");
        if req
            .party_to()
            .and_then(|t| t.tag().map(str::to_string))
            .is_none()
        {
            r = r.with_to_tag("x");
        }
        if req.method.as_str() == "INVITE" {
            r.headers.push(
                HeaderName::Contact,
                format!("<sip:{}@{}>", self.id, self.sip.addr()),
            );
            r.headers.push(HeaderName::ContentType, "application/sdp");
            r.body = self.sdp().into_bytes();
            self.rtp
                .talk_to(sdp_addr(&req.body), Sound::Tone(self.tone));
        }
        let bytes = r.to_bytes();
        self.sip
            .sock
            .send_to(&bytes, self.sip.switch)
            .expect("send");
        Some(bytes)
    }

    /// Answers whatever the switch sends for `secs` seconds; returns the methods seen.
    pub fn serve_for(&self, secs: u64) -> Vec<String> {
        self.serve(secs, false)
    }

    /// Answers for `secs` seconds, sending the 200 to a re-INVITE again after its ACK when
    /// `resend_ok`; returns the methods seen.
    fn serve(&self, secs: u64, resend_ok: bool) -> Vec<String> {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        let mut seen = Vec::new();
        let mut ok_to_invite: Option<Vec<u8>> = None;
        self.sip
            .sock
            .set_read_timeout(Some(std::time::Duration::from_millis(100)))
            .expect("timeout");
        let mut buf = vec![0u8; 65535];
        while std::time::Instant::now() < until {
            let Ok((n, _)) = self.sip.sock.recv_from(&mut buf) else {
                continue;
            };
            if let Ok(Message::Request(req)) = hotline_sip::parse_message(&buf[..n]) {
                seen.push(req.method.as_str().to_string());
                let sent = self.answer(&req);
                if req.method.as_str() == "INVITE" && resend_ok {
                    ok_to_invite = sent;
                } else if let (Some(ok), "ACK") = (&ok_to_invite, req.method.as_str()) {
                    self.sip.sock.send_to(ok, self.sip.switch).expect("send");
                    ok_to_invite = None;
                }
            }
        }
        self.sip
            .sock
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        seen
    }
}
