//! Scripted phones for the kit: a caller's softphone or an agent's desk phone that writes
//! SIP by hand, and helpers to read what the machine sent them.

use std::net::SocketAddr;

use hotline_sip::message::{Message, SipMessage};
use hotline_sip::{HeaderName, Request, Response};

use super::SWITCH;

/// A phone on 127.0.0.1 that writes SIP by hand.
pub struct Phone {
    pub addr: SocketAddr,
    pub user: String,
    pub tag: String,
    pub call_id: String,
}

impl Phone {
    /// A phone of `user` at `port`.
    pub fn new(user: &str, port: u16) -> Phone {
        Phone {
            addr: SocketAddr::new([127, 0, 0, 1].into(), port),
            user: user.to_string(),
            tag: format!("tag-{user}"),
            call_id: format!("call-{user}@test"),
        }
    }

    /// An audio offer or answer from this phone (PCMU, RTP at port + 1000).
    pub fn sdp(&self) -> String {
        let port = self.addr.port() + 1000;
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        )
    }

    /// This phone calls 12366.
    pub fn invite(&self, branch: &str) -> String {
        self.invite_to("12366", branch)
    }

    /// This phone dials `number` through the switch (a desk phone's call to a colleague).
    pub fn invite_to(&self, number: &str, branch: &str) -> String {
        let sdp = self.sdp();
        format!(
            "INVITE sip:{number}@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: <sip:{number}@{SWITCH}>\r\nCall-ID: {c}\r\nCSeq: 1 INVITE\r\nContact: <sip:{u}@{a}>\r\nContent-Type: application/sdp\r\nContent-Length: {len}\r\n\r\n{sdp}",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
            len = sdp.len()
        )
    }

    /// CANCEL of the INVITE to 12366 sent with `branch`.
    pub fn cancel(&self, branch: &str) -> String {
        self.cancel_to("12366", branch)
    }

    /// CANCEL of the INVITE to `number` sent with `branch`.
    pub fn cancel_to(&self, number: &str, branch: &str) -> String {
        format!(
            "CANCEL sip:{number}@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: <sip:{number}@{SWITCH}>\r\nCall-ID: {c}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
        )
    }

    /// A request in the dialog a 2xx from the switch set up (ACK, BYE), with `seq`.
    pub fn in_dialog(&self, method: &str, ok: &Response, seq: u32, branch: &str) -> String {
        let to = ok.headers.get(&HeaderName::To).unwrap();
        format!(
            "{method} sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{u}@{a}>;tag={t}\r\nTo: {to}\r\nCall-ID: {c}\r\nCSeq: {seq} {method}\r\nContent-Length: 0\r\n\r\n",
            a = self.addr,
            u = self.user,
            t = self.tag,
            c = self.call_id,
        )
    }

    /// A BYE from this phone in the dialog of `invite`, which the switch sent and this
    /// phone answered (an agent hanging up).
    pub fn bye_as_answerer(&self, invite: &Request, seq: u32) -> String {
        self.request_as_answerer("BYE", invite, seq, "")
    }

    /// A request from this phone in the dialog of `invite`, which the switch sent and this
    /// phone answered, with `extra` header lines (each ending in CRLF).
    pub fn request_as_answerer(
        &self,
        method: &str,
        invite: &Request,
        seq: u32,
        extra: &str,
    ) -> String {
        let from = invite.headers.get(&HeaderName::From).unwrap_or_default();
        let to = invite.headers.get(&HeaderName::To).unwrap_or_default();
        let call_id = invite.call_id().unwrap_or_default();
        format!(
            "{method} sip:12366@{SWITCH} SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bK-{method}-{seq}-{call_id}\r\nMax-Forwards: 70\r\nFrom: {to};tag={t}\r\nTo: {from}\r\nCall-ID: {call_id}\r\nCSeq: {seq} {method}\r\nContact: <sip:{u}@{a}>\r\n{extra}Content-Length: 0\r\n\r\n",
            a = self.addr,
            t = self.tag,
            u = self.user,
        )
    }

    /// This phone's answer to a request from the switch (`status`, with SDP for a 200
    /// to an INVITE).
    pub fn answer(&self, req: &Request, status: u16) -> Message {
        let mut r = Response::to_request(req, status, hotline_sip::message::reason_phrase(status))
            .with_to_tag(&self.tag);
        if status == 200 && req.method == hotline_sip::message::Method::Invite {
            r.headers.push(
                HeaderName::Contact,
                format!("<sip:{}@{}>", self.user, self.addr),
            );
            r.headers.push(HeaderName::ContentType, "application/sdp");
            r.body = self.sdp().into_bytes();
        }
        Message::Response(r)
    }
}

/// The requests among `messages` with this method.
pub fn requests<'a>(messages: &'a [Message], method: &str) -> Vec<&'a Request> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Request(r) if r.method.as_str() == method => Some(r),
            _ => None,
        })
        .collect()
}

/// The statuses of the responses among `messages` to requests with this CSeq method.
pub fn statuses(messages: &[Message], method: &str) -> Vec<u16> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::Response(r) if r.cseq().is_some_and(|c| c.method.as_str() == method) => {
                Some(r.status)
            }
            _ => None,
        })
        .collect()
}

/// The final response with this status to a request with this CSeq method.
pub fn response(messages: &[Message], method: &str, status: u16) -> Response {
    messages
        .iter()
        .find_map(|m| match m {
            Message::Response(r)
                if r.status == status && r.cseq().is_some_and(|c| c.method.as_str() == method) =>
            {
                Some(r.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no {status} to {method} in {messages:#?}"))
}

/// The requests among `messages` with this method, a retransmission counted once.
pub fn distinct<'a>(messages: &'a [Message], method: &str) -> Vec<&'a Request> {
    let mut seen: Vec<&Request> = Vec::new();
    for r in requests(messages, method) {
        let via = r.headers.get(&HeaderName::Via);
        if !seen.iter().any(|s| s.headers.get(&HeaderName::Via) == via) {
            seen.push(r);
        }
    }
    seen
}
