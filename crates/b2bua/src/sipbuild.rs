//! Building the switch's own SIP messages: tags, branches, Via, the agent-leg INVITE and the
//! answers to the caller. The switch always speaks for itself (its Contact, its SDP), so
//! neither party learns the other's address.

use std::net::SocketAddr;

use hotline_sip::message::{reason_phrase, Method};
use hotline_sip::transaction::Transport;
use hotline_sip::{HeaderName, Request, Response};
use rand::{Rng, SeedableRng};

/// What the switch calls itself on the wire, and where its tags, branches and Call-IDs
/// come from. Not `Clone`: a copy would hand out the same tokens again.
#[derive(Debug)]
pub struct Local {
    /// The advertised SIP address (what peers should send to).
    pub sip: SocketAddr,
    /// The user part of our Contact: the service number.
    pub user: String,
    /// Tokens come from a generator seeded by whoever builds the switch (the OS at start,
    /// a fixed seed in tests), so a run can be replayed; ChaCha, because a guessable tag
    /// would let a stranger forge a BYE.
    tokens: std::cell::RefCell<rand::rngs::StdRng>,
}

/// The methods the switch accepts, for Allow headers.
pub const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REGISTER, REFER, NOTIFY";

impl Local {
    /// Our identity, with tokens drawn from `seed`.
    pub fn new(sip: SocketAddr, user: String, seed: u64) -> Local {
        Local {
            sip,
            user,
            tokens: std::cell::RefCell::new(rand::rngs::StdRng::seed_from_u64(seed)),
        }
    }

    /// A fresh 64-bit draw, for tags, branches and Call-IDs (as hex) and SDP sessions.
    pub fn draw(&self) -> u64 {
        self.tokens.borrow_mut().gen()
    }

    /// A fresh token for a tag, a branch or a Call-ID.
    pub fn token(&self) -> String {
        format!("{:016x}", self.draw())
    }

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
            self.token()
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
                self.token()
            ),
        );
        h.push(HeaderName::To, format!("<sip:{agent}@{}>", self.hostport()));
        h.push(HeaderName::CallId, format!("{}@hotline", self.token()));
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
