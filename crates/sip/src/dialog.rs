//! Dialogs (RFC 3261 section 12): the state shared by the two ends of a call leg, and the
//! in-dialog requests (ACK, BYE, re-INVITE) built from it.

use crate::header::{HeaderName, NameAddr};
use crate::message::{Method, Request, Response, SipMessage};
use crate::uri::SipUri;

/// One dialog, seen from the switch's side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID shared by both ends.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// The peer's tag.
    pub remote_tag: String,
    /// Our address-of-record as written in From of our requests (without tag).
    pub local_uri: String,
    /// The peer's address-of-record (without tag).
    pub remote_uri: String,
    /// Where in-dialog requests go: the peer's Contact.
    pub remote_target: String,
    /// Record-Route set, in the order our requests must carry it.
    pub route_set: Vec<String>,
    /// Our last CSeq number.
    pub local_seq: u32,
    /// The peer's last CSeq number, for ordering its requests.
    pub remote_seq: Option<u32>,
    /// Our Contact, sent on every request that needs one.
    pub local_contact: String,
}

fn contact_uri(headers: &crate::message::Headers) -> Option<String> {
    let first = headers.get_all(&HeaderName::Contact).into_iter().next()?;
    Some(NameAddr::parse(first)?.uri)
}

impl Dialog {
    /// The dialog a UAS creates when it answers `invite` with `local_tag`.
    pub fn as_uas(invite: &Request, local_tag: &str, local_contact: &str) -> Option<Dialog> {
        let from = invite.party_from()?;
        let to = invite.party_to()?;
        Some(Dialog {
            call_id: invite.call_id()?.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: from.tag().unwrap_or_default().to_string(),
            local_uri: to.uri,
            remote_uri: from.uri,
            remote_target: contact_uri(&invite.headers)?,
            route_set: invite
                .headers
                .get_all(&HeaderName::RecordRoute)
                .into_iter()
                .map(str::to_string)
                .collect(),
            local_seq: 0,
            remote_seq: invite.cseq().map(|c| c.seq),
            local_contact: local_contact.to_string(),
        })
    }

    /// The dialog a UAC creates from its `invite` and a 1xx-with-tag or 2xx `response`.
    pub fn as_uac(invite: &Request, response: &Response, local_contact: &str) -> Option<Dialog> {
        let from = invite.party_from()?;
        let to = response.party_to()?;
        let mut route_set: Vec<String> = response
            .headers
            .get_all(&HeaderName::RecordRoute)
            .into_iter()
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Some(Dialog {
            call_id: invite.call_id()?.to_string(),
            local_tag: from.tag()?.to_string(),
            remote_tag: to.tag()?.to_string(),
            local_uri: from.uri,
            remote_uri: to.uri,
            remote_target: contact_uri(&response.headers).unwrap_or_else(|| invite.uri.clone()),
            route_set,
            local_seq: invite.cseq().map(|c| c.seq).unwrap_or(1),
            remote_seq: None,
            local_contact: local_contact.to_string(),
        })
    }

    /// Whether `req` belongs to this dialog (Call-ID and both tags, RFC 3261 12.2.2).
    pub fn matches(&self, req: &Request) -> bool {
        req.call_id() == Some(self.call_id.as_str())
            && req
                .party_to()
                .and_then(|t| t.tag().map(str::to_string))
                .as_deref()
                == Some(self.local_tag.as_str())
            && req
                .party_from()
                .and_then(|f| f.tag().map(str::to_string))
                .as_deref()
                == Some(self.remote_tag.as_str())
    }

    /// The URI our requests are physically sent to: the first route, else the remote target.
    pub fn next_hop(&self) -> Option<SipUri> {
        match self.route_set.first() {
            Some(r) => NameAddr::parse(r)?.sip_uri(),
            None => SipUri::parse(&self.remote_target),
        }
    }

    /// A new in-dialog request (BYE, re-INVITE, INFO) with the next CSeq and `via` on top.
    pub fn request(&mut self, method: Method, via: &str) -> Request {
        self.local_seq += 1;
        let seq = self.local_seq;
        self.build(method, via, seq)
    }

    /// The ACK for a 2xx to the INVITE numbered `invite_seq` (its own transaction-less request).
    pub fn ack(&self, invite_seq: u32, via: &str) -> Request {
        self.build(Method::Ack, via, invite_seq)
    }

    fn build(&self, method: Method, via: &str, seq: u32) -> Request {
        let mut req = Request::new(method.clone(), self.remote_target.clone());
        let h = &mut req.headers;
        h.push(HeaderName::Via, via);
        h.push(HeaderName::MaxForwards, "70");
        h.push(
            HeaderName::From,
            format!("<{}>;tag={}", self.local_uri, self.local_tag),
        );
        h.push(
            HeaderName::To,
            format!("<{}>;tag={}", self.remote_uri, self.remote_tag),
        );
        h.push(HeaderName::CallId, self.call_id.clone());
        h.push(HeaderName::CSeq, format!("{seq} {method}"));
        for r in &self.route_set {
            h.push(HeaderName::Route, r.clone());
        }
        if matches!(method, Method::Invite | Method::Update) {
            h.push(HeaderName::Contact, format!("<{}>", self.local_contact));
        }
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_message;
    use crate::Message;

    fn req(s: &str) -> Request {
        match parse_message(s.as_bytes()).unwrap() {
            Message::Request(r) => r,
            _ => panic!(),
        }
    }

    #[test]
    fn uas_dialog_builds_bye_towards_contact_with_route_set() {
        let invite = req(
            "INVITE sip:12366@sw SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
From: <sip:139@a>;tag=ct\r\nTo: <sip:12366@sw>\r\nCall-ID: c1\r\nCSeq: 7 INVITE\r\n\
Contact: <sip:139@10.0.0.9:5070>\r\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\r\n\r\n",
        );
        let mut d = Dialog::as_uas(&invite, "st", "sip:12366@sw:5060").unwrap();
        assert_eq!(d.remote_seq, Some(7));
        let bye = d.request(Method::Bye, "SIP/2.0/UDP sw;branch=z9hG4bKb");
        assert_eq!(bye.uri, "sip:139@10.0.0.9:5070");
        assert_eq!(
            bye.headers.get_all(&HeaderName::Route),
            ["<sip:p1;lr>", "<sip:p2;lr>"]
        );
        assert_eq!(bye.party_to().unwrap().tag(), Some("ct"));
        assert_eq!(bye.party_from().unwrap().tag(), Some("st"));
        assert_eq!(d.next_hop().unwrap().host, "p1");
        let mut bye_from_peer = req(
            "BYE sip:12366@sw SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK2\r\n\
From: <sip:139@a>;tag=ct\r\nTo: <sip:12366@sw>;tag=st\r\nCall-ID: c1\r\nCSeq: 8 BYE\r\n\r\n",
        );
        assert!(d.matches(&bye_from_peer));
        bye_from_peer.headers.set(HeaderName::CallId, "other");
        assert!(!d.matches(&bye_from_peer));
    }
}
