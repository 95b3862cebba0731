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
    /// The route set: the 200's Record-Routes in reverse (RFC 3261 12.1.2), sent as Route
    /// headers; empty when the switch answered without a proxy on the path.
    pub route: Vec<String>,
    /// Where in-dialog requests go: the first route (a loose router), else the switch.
    pub next_hop: SocketAddr,
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

    /// The dialog of a 200: its To, its Contact (else the service URI) as target, and its
    /// Record-Routes (each header may list several) reversed into the route set.
    pub fn dialog<'m>(
        &self,
        to: &str,
        contact: Option<&str>,
        record_routes: impl Iterator<Item = &'m str>,
    ) -> Dialog {
        let mut route: Vec<String> = record_routes
            .flat_map(sip::list_entries)
            .map(str::to_owned)
            .collect();
        route.reverse();
        let next_hop = route
            .first()
            .and_then(|hop| hop_addr(sip::uri_of(hop)))
            .unwrap_or(self.switch);
        Dialog {
            to: to.to_owned(),
            target: contact.map_or_else(|| self.service_uri(), |c| sip::uri_of(c).to_owned()),
            route,
            next_hop,
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
            route: &[],
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
            route: &[],
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
            route: &dialog.route,
            cseq,
            contact: None,
            sdp: None,
        };
        sip::write_request(&mut self.buf, &req);
        let _ = self.socket.send_to(&self.buf, dialog.next_hop);
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

/// The address of a route's URI (`sip:127.0.0.1:5060;lr`, `sip:proxy@127.0.0.1`), when
/// its host is an IP address; the port defaults to 5060. Names are not resolved: every
/// peer of this generator is on loopback.
fn hop_addr(uri: &str) -> Option<SocketAddr> {
    let rest = uri.strip_prefix("sip:")?;
    let hostport = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostport.split([';', '?']).next()?;
    if let Ok(addr) = hostport.parse::<SocketAddr>() {
        return Some(addr);
    }
    let ip: std::net::IpAddr = hostport.parse().ok()?;
    Some(SocketAddr::new(ip, 5060))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{parse, Hdr, Start};

    fn wire(switch: SocketAddr) -> Wire {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        Wire::new(socket, switch, "12366", 7).unwrap()
    }

    fn received(socket: &UdpSocket) -> Vec<u8> {
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        buf.truncate(n);
        buf
    }

    #[test]
    fn through_a_proxy_ack_and_bye_carry_the_reversed_record_route_to_the_first_hop() {
        let proxy = UdpSocket::bind("127.0.0.1:0").unwrap();
        let proxy_addr = proxy.local_addr().unwrap();
        let switch: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let mut wire = wire(switch);
        // As the 200 arrives: the proxy nearest the agent first, ours (the caller's) last.
        let far = "<sip:127.0.0.2:5070;lr>".to_owned();
        let near = format!("<sip:{proxy_addr};lr;ftag=x>");
        let rr = format!("{far}, {near}");
        let dialog = wire.dialog(
            "<sip:12366@b>;tag=ag1",
            Some("<sip:agent@127.0.0.1:5090>"),
            std::iter::once(rr.as_str()),
        );
        assert_eq!(dialog.next_hop, proxy_addr);
        let leg = Leg {
            idx: 3,
            caller_id: "13903790003",
            call_id: "3-7@hotline-loadgen",
        };
        for method in ["ACK", "BYE"] {
            if method == "ACK" {
                wire.ack(leg, &dialog);
            } else {
                wire.bye(leg, &dialog);
            }
            let data = received(&proxy);
            let msg = parse(&data).unwrap();
            assert_eq!(
                msg.start,
                Start::Request {
                    method,
                    uri: "sip:agent@127.0.0.1:5090"
                }
            );
            let text = String::from_utf8_lossy(&data);
            let routes: Vec<_> = text
                .split("\r\n")
                .filter_map(|l| l.strip_prefix("Route: "))
                .collect();
            assert_eq!(routes, [near.as_str(), far.as_str()]);
            assert!(msg.header(Hdr::To).is_some_and(|t| t.ends_with("tag=ag1")));
        }
    }

    #[test]
    fn without_a_record_route_in_dialog_requests_go_to_the_switch_with_no_route() {
        let switch = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut wire = wire(switch.local_addr().unwrap());
        let dialog = wire.dialog("<sip:12366@b>;tag=s", None, std::iter::empty());
        assert!(dialog.route.is_empty());
        let leg = Leg {
            idx: 0,
            caller_id: "1",
            call_id: "0-7@hotline-loadgen",
        };
        wire.bye(leg, &dialog);
        let data = received(&switch);
        let text = String::from_utf8_lossy(&data);
        assert!(text.starts_with(&format!("BYE {} SIP/2.0", wire.service_uri())));
        assert!(!text.contains("\r\nRoute:"));
    }

    #[test]
    fn route_uris_give_their_address() {
        assert_eq!(
            hop_addr("sip:127.0.0.1:5062;lr"),
            "127.0.0.1:5062".parse().ok()
        );
        assert_eq!(
            hop_addr("sip:kam@127.0.0.1;lr"),
            "127.0.0.1:5060".parse().ok()
        );
        assert_eq!(hop_addr("sip:proxy.example;lr"), None);
    }
}
