//! Building the switch's own SIP messages: tags, branches, Via, the agent-leg INVITE and the
//! answers to the caller. The switch always speaks for itself (its Contact, its SDP), so
//! neither party learns the other's address.

use std::net::SocketAddr;

use hotline_sip::message::{reason_phrase, Method};
use hotline_sip::transaction::Transport;
use hotline_sip::{HeaderName, Request, Response};
use rand::Rng;

/// What the switch calls itself on the wire.
#[derive(Debug, Clone)]
pub struct Local {
    /// The advertised SIP address (what peers should send to).
    pub sip: SocketAddr,
    /// The user part of our Contact: the service number.
    pub user: String,
}

/// The methods the switch accepts, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, REFER, NOTIFY";

/// A random token for tags and Call-IDs.
pub fn token() -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

impl Local {
    /// `host:port` as written in URIs.
    pub fn hostport(&self) -> String {
        self.sip.to_string()
    }

    /// Our Contact URI.
    pub fn contact(&self) -> String {
        format!("sip:{}@{}", self.user, self.hostport())
    }

    /// A top Via with a fresh RFC 3261 branch.
    pub fn via(&self, transport: Transport) -> String {
        format!(
            "SIP/2.0/{} {};branch=z9hG4bK{};rport",
            transport.via_token(),
            self.hostport(),
            token()
        )
    }

    /// The INVITE that rings an agent: the caller's number in From, our Contact and SDP.
    pub fn agent_invite(
        &self,
        contact: &str,
        agent: &str,
        caller_number: &str,
        transport: Transport,
        sdp: &str,
    ) -> Request {
        let mut r = Request::new(Method::Invite, contact);
        let h = &mut r.headers;
        h.push(HeaderName::Via, self.via(transport));
        h.push(HeaderName::MaxForwards, "70");
        h.push(
            HeaderName::From,
            format!(
                "\"{caller_number}\" <sip:{caller_number}@{}>;tag={}",
                self.hostport(),
                token()
            ),
        );
        h.push(HeaderName::To, format!("<sip:{agent}@{}>", self.hostport()));
        h.push(HeaderName::CallId, format!("{}@hotline", token()));
        h.push(HeaderName::CSeq, "1 INVITE");
        h.push(HeaderName::Contact, format!("<{}>", self.contact()));
        h.push(HeaderName::Allow, ALLOW);
        h.push(HeaderName::UserAgent, "hotline");
        h.push(HeaderName::ContentType, "application/sdp");
        r.body = sdp.as_bytes().to_vec();
        r
    }

    /// A response from the switch to `req`, with our To tag; a response that creates a
    /// dialog (18x, 2xx to INVITE) also carries our Contact and the request's Record-Route
    /// (RFC 3261 12.1.1), so proxies on the caller's path stay on it.
    pub fn response(&self, req: &Request, status: u16, tag: &str) -> Response {
        let mut r = Response::to_request(req, status, reason_phrase(status));
        if status > 100 {
            r = r.with_to_tag(tag);
        }
        if (101..300).contains(&status) && req.method == Method::Invite {
            for rr in req.headers.get_all(&HeaderName::RecordRoute) {
                r.headers.push(HeaderName::RecordRoute, rr);
            }
            r.headers
                .push(HeaderName::Contact, format!("<{}>", self.contact()));
            r.headers.push(HeaderName::Allow, ALLOW);
        }
        r.headers.push(HeaderName::Server, "hotline");
        r
    }

    /// A 2xx carrying our SDP.
    pub fn answer_with_sdp(&self, req: &Request, tag: &str, sdp: &str) -> Response {
        let mut r = self.response(req, 200, tag);
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = sdp.as_bytes().to_vec();
        r
    }
}
