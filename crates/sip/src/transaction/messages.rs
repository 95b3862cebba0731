//! The messages the transaction layer writes itself rather than the transaction user: the
//! received stamp on a request's top Via, and the CANCEL of an INVITE we sent.

use super::Peer;
use crate::header::HeaderName;
use crate::message::{Method, Request, SipMessage};

/// RFC 3261 18.2.1 and RFC 3581: the top Via learns where the request really came from,
/// so every response copying it tells the peer its public address.
pub(super) fn stamp_received(request: &mut Request, from: Peer) {
    let Some(pos) = request
        .headers
        .0
        .iter()
        .position(|h| h.name == HeaderName::Via)
    else {
        return;
    };
    let Some(header) = request.headers.0.get(pos) else {
        return;
    };
    let items = crate::message::split_list(&header.value);
    let Some(top) = items.first() else { return };
    let Some(via) = crate::header::Via::parse(top) else {
        return;
    };
    let ip = from.addr.ip().to_string();
    let mut stamped = top.to_string();
    if via.has_rport() {
        let mut params = String::new();
        for (k, v) in &via.params {
            match (k.as_str(), v) {
                ("rport", _) | ("received", _) => {}
                (k, Some(v)) => params.push_str(&format!(";{k}={v}")),
                (k, None) => params.push_str(&format!(";{k}")),
            }
        }
        let base = top.split(';').next().unwrap_or(top).trim();
        stamped = format!("{base}{params};received={ip};rport={}", from.addr.port());
    } else if via.host.trim_start_matches('[').trim_end_matches(']') != ip {
        stamped.push_str(&format!(";received={ip}"));
    }
    let rest: Vec<&str> = items.iter().skip(1).copied().collect();
    let value = if rest.is_empty() {
        stamped
    } else {
        format!("{stamped}, {}", rest.join(", "))
    };
    if let Some(header) = request.headers.0.get_mut(pos) {
        header.value = value;
    }
}

/// Builds a CANCEL for a pending INVITE we sent (RFC 3261 9.1): same branch, Route, CSeq number.
pub fn cancel_for(invite: &Request) -> Request {
    let mut cancel = Request::new(Method::Cancel, invite.uri.clone());
    for h in &invite.headers.0 {
        match h.name {
            HeaderName::From | HeaderName::To | HeaderName::CallId | HeaderName::Route => {
                cancel.headers.0.push(h.clone());
            }
            HeaderName::Via if cancel.headers.get(&HeaderName::Via).is_none() => {
                let top = crate::message::split_list(&h.value)
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                cancel.headers.push(HeaderName::Via, top);
            }
            _ => {}
        }
    }
    let seq = invite.cseq().map(|c| c.seq).unwrap_or(1);
    cancel
        .headers
        .push(HeaderName::CSeq, format!("{seq} CANCEL"));
    cancel.headers.push(HeaderName::MaxForwards, "70");
    cancel
}
