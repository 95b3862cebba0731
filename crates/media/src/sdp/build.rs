//! Writing the SDP bodies hotline sends: offers to agents' phones, answers to callers.

use std::fmt::Write;
use std::net::SocketAddr;

use super::{Direction, SdpError, SessionMedia};
use crate::g711::Codec;

/// An answer body and what it committed the relay to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The SDP body to send.
    pub body: String,
    /// The one codec chosen from the offer.
    pub codec: Codec,
    /// The offer's telephone-event payload type, echoed when offered.
    pub telephone_event: Option<u8>,
}

/// A sendrecv offer of `codecs` (in preference order) and, if given, telephone-event on
/// payload type `telephone_event`, with RTP expected at `local`.
pub fn offer(
    local: SocketAddr,
    codecs: &[Codec],
    telephone_event: Option<u8>,
    session_id: u64,
    version: u64,
) -> String {
    offer_with_direction(
        local,
        codecs,
        telephone_event,
        session_id,
        version,
        Direction::SendRecv,
    )
}

/// Like [`offer`] with an explicit direction, e.g. `SendOnly` to put a phone on hold.
pub fn offer_with_direction(
    local: SocketAddr,
    codecs: &[Codec],
    telephone_event: Option<u8>,
    session_id: u64,
    version: u64,
    direction: Direction,
) -> String {
    body(
        local,
        codecs,
        telephone_event,
        session_id,
        version,
        direction,
    )
}

/// Answers `offer` with the first offered codec that is in `supported`, echoing the
/// offer's telephone-event type and mirroring its direction.
pub fn answer(
    local: SocketAddr,
    offer: &SessionMedia,
    supported: &[Codec],
    session_id: u64,
    version: u64,
) -> Result<Answer, SdpError> {
    let codec = offer
        .codecs
        .iter()
        .copied()
        .find(|c| supported.contains(c))
        .ok_or(SdpError::NoCommonCodec)?;
    let direction = offer.direction.answered();
    let body = body(
        local,
        &[codec],
        offer.telephone_event,
        session_id,
        version,
        direction,
    );
    Ok(Answer {
        body,
        codec,
        telephone_event: offer.telephone_event,
    })
}

fn body(
    local: SocketAddr,
    codecs: &[Codec],
    telephone_event: Option<u8>,
    session_id: u64,
    version: u64,
    direction: Direction,
) -> String {
    let family = if local.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local.ip();
    let mut s = String::with_capacity(320);
    // Writing to a String cannot fail, so the results are ignored.
    let _ = write!(
        s,
        "v=0\r\no=hotline {session_id} {version} IN {family} {ip}\r\ns=hotline\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\nm=audio {} RTP/AVP",
        local.port()
    );
    for c in codecs {
        let _ = write!(s, " {}", c.payload_type());
    }
    if let Some(pt) = telephone_event {
        let _ = write!(s, " {pt}");
    }
    s.push_str("\r\n");
    for c in codecs {
        let _ = write!(
            s,
            "a=rtpmap:{} {}/8000\r\n",
            c.payload_type(),
            c.encoding_name()
        );
    }
    if let Some(pt) = telephone_event {
        let _ = write!(
            s,
            "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
        );
    }
    let _ = write!(s, "a=ptime:20\r\na={}\r\n", direction.as_str());
    s
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn local() -> SocketAddr {
        "10.1.2.3:30000".parse().unwrap()
    }

    #[test]
    fn offer_reads_back_as_itself() {
        let body = offer(local(), &[Codec::Pcma, Codec::Pcmu], Some(101), 7, 1);
        assert!(body.starts_with("v=0\r\no=hotline 7 1 IN IP4 10.1.2.3\r\n"));
        assert!(body.contains("m=audio 30000 RTP/AVP 8 0 101\r\n"));
        let m = parse(&body).unwrap();
        assert_eq!(m.addr, local());
        assert_eq!(m.codecs, vec![Codec::Pcma, Codec::Pcmu]);
        assert_eq!(m.telephone_event, Some(101));
        assert_eq!(m.direction, Direction::SendRecv);
    }

    #[test]
    fn answer_takes_the_callers_first_choice_we_support() {
        let offered = SessionMedia {
            addr: "192.0.2.9:4000".parse().unwrap(),
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            telephone_event: Some(96),
            direction: Direction::SendOnly,
        };
        let a = answer(local(), &offered, &[Codec::Pcma, Codec::Pcmu], 1, 1).unwrap();
        assert_eq!(a.codec, Codec::Pcmu);
        let m = parse(&a.body).unwrap();
        assert_eq!(m.codecs, vec![Codec::Pcmu]);
        assert_eq!(m.telephone_event, Some(96));
        assert_eq!(m.direction, Direction::RecvOnly);
    }

    #[test]
    fn answer_without_common_codec_fails() {
        let offered = SessionMedia {
            addr: "192.0.2.9:4000".parse().unwrap(),
            codecs: vec![Codec::Pcmu],
            telephone_event: None,
            direction: Direction::SendRecv,
        };
        assert_eq!(
            answer(local(), &offered, &[Codec::Pcma], 1, 1),
            Err(SdpError::NoCommonCodec)
        );
    }

    #[test]
    fn ipv6_offer() {
        let body = offer(
            "[2001:db8::5]:4002".parse().unwrap(),
            &[Codec::Pcmu],
            None,
            1,
            2,
        );
        assert!(body.contains("c=IN IP6 2001:db8::5\r\n"));
        assert_eq!(
            parse(&body).unwrap().addr,
            "[2001:db8::5]:4002".parse().unwrap()
        );
    }
}
