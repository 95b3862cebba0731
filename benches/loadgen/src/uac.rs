//! The callers' messages on the wire: the INVITE and what follows it in its transaction
//! (ACK of a refusal, CANCEL), the dialog's ACK and BYE, and replies to the switch's
//! requests, written into one reused buffer and sent from the callers' SIP socket.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use crate::sdp;
use crate::sip::{self, Msg, Reply, Request};

/// Which call a message belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Leg<'a> {
    /// The call's number in the run (its From tag and branches).
    pub idx: usize,
    /// The caller id, the user part of From and Contact.
    pub caller_id: &'a str,
    /// The call's Call-ID.
    pub call_id: &'a str,
}

/// The far end of an answered call, for ACK and BYE.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// The 200's To (with the switch's tag).
    pub to: String,
    /// The 200's Contact: where in-dialog requests are addressed.
    pub target: String,
}

/// The callers' socket and how their messages are addressed.
pub struct Wire {
    socket: UdpSocket,
    local: SocketAddr,
    switch: SocketAddr,
    service: String,
    run_tag: u32,
    buf: Vec<u8>,
}

impl Wire {
    /// Messages from `socket` (bound, not blocking) to the switch's `service` number.
    pub fn new(
        socket: UdpSocket,
        switch: SocketAddr,
        service: &str,
        run_tag: u32,
    ) -> io::Result<Wire> {
        Ok(Wire {
            local: socket.local_addr()?,
            socket,
            switch,
            service: service.to_owned(),
            run_tag,
            buf: Vec::with_capacity(2048),
        })
    }

    /// The SIP socket.
    pub fn socket(&self) -> &UdpSocket {
        &self.socket
    }

    /// Our SIP address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// The Call-ID of call `idx` of this run.
    pub fn call_id(&self, idx: usize) -> String {
        format!("{idx}-{:08x}@hotline-loadgen", self.run_tag)
    }

    /// The service's URI at the switch: the INVITE's Request-URI and To.
    pub fn service_uri(&self) -> String {
        format!("sip:{}@{}", self.service, self.switch)
    }

    /// The dialog of a 200: its To, and its Contact (else the service URI) as target.
    pub fn dialog(&self, to: &str, contact: Option<&str>) -> Dialog {
        Dialog {
            to: to.to_owned(),
            target: contact.map_or_else(|| self.service_uri(), |c| sip::uri_of(c).to_owned()),
        }
    }

    fn from(&self, leg: Leg<'_>) -> String {
        format!("<sip:{}@{}>;tag=lg{}", leg.caller_id, self.local, leg.idx)
    }

    fn branch(&self, leg: Leg<'_>, n: u8) -> String {
        format!("z9hG4bK-{:08x}-{}-{n}", self.run_tag, leg.idx)
    }

    /// The INVITE (the same bytes when resent), offering PCMU at `rtp`.
    pub fn invite(&mut self, leg: Leg<'_>, rtp: SocketAddr) {
        let (uri, from, branch) = (self.service_uri(), self.from(leg), self.branch(leg, 1));
        let to = format!("<{uri}>");
        let contact = format!("sip:{}@{}", leg.caller_id, self.local);
        let offer = sdp::caller_offer(rtp);
        let req = Request {
            method: "INVITE",
            uri: &uri,
            via: self.local,
            branch: &branch,
            from: &from,
            to: &to,
            call_id: leg.call_id,
            cseq: 1,
            contact: Some(&contact),
            sdp: Some(&offer),
        };
        sip::write_request(&mut self.buf, &req);
        self.transmit();
    }

    /// The ACK of a non-2xx final response: the INVITE's branch and URI, the response's To
    /// (RFC 3261 17.1.1.3).
    pub fn failure_ack(&mut self, leg: Leg<'_>, to: &str) {
        self.in_invite_tx(leg, "ACK", to);
    }

    /// CANCEL of an INVITE that rang too long.
    pub fn cancel(&mut self, leg: Leg<'_>) {
        let to = format!("<{}>", self.service_uri());
        self.in_invite_tx(leg, "CANCEL", &to);
    }

    fn in_invite_tx(&mut self, leg: Leg<'_>, method: &str, to: &str) {
        let (uri, from, branch) = (self.service_uri(), self.from(leg), self.branch(leg, 1));
        let req = Request {
            method,
            uri: &uri,
            via: self.local,
            branch: &branch,
            from: &from,
            to,
            call_id: leg.call_id,
            cseq: 1,
            contact: None,
            sdp: None,
        };
        sip::write_request(&mut self.buf, &req);
        self.transmit();
    }

    /// The ACK of a 200 (its own transaction, RFC 3261 13.2.2.4).
    pub fn ack(&mut self, leg: Leg<'_>, dialog: &Dialog) {
        self.in_dialog(leg, "ACK", 1, 2, dialog);
    }

    /// The BYE (the same bytes when resent).
    pub fn bye(&mut self, leg: Leg<'_>, dialog: &Dialog) {
        self.in_dialog(leg, "BYE", 2, 3, dialog);
    }

    fn in_dialog(&mut self, leg: Leg<'_>, method: &str, cseq: u32, n: u8, dialog: &Dialog) {
        let (from, branch) = (self.from(leg), self.branch(leg, n));
        let req = Request {
            method,
            uri: &dialog.target,
            via: self.local,
            branch: &branch,
            from: &from,
            to: &dialog.to,
            call_id: leg.call_id,
            cseq,
            contact: None,
            sdp: None,
        };
        sip::write_request(&mut self.buf, &req);
        self.transmit();
    }

    /// A response to one of the switch's requests, sent where it came from.
    pub fn reply(&mut self, req: &Msg<'_>, status: u16, reason: &str, to: SocketAddr) {
        let reply = Reply {
            status,
            reason,
            to_tag: None,
            contact: None,
            sdp: None,
        };
        sip::write_response(&mut self.buf, req, &reply);
        // A full socket buffer loses the message as the network would; timers recover.
        let _ = self.socket.send_to(&self.buf, to);
    }

    fn transmit(&mut self) {
        let _ = self.socket.send_to(&self.buf, self.switch);
    }
}
