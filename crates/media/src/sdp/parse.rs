//! Reading the first audio stream out of an SDP body.

use std::net::{IpAddr, SocketAddr};

use super::{Direction, SdpError, SessionMedia};
use crate::g711::Codec;

/// Which part of the body the current line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Session,
    Audio,
    Other,
}

/// The first audio m-line and the lines that belong to it.
#[derive(Default)]
struct Audio {
    port: u16,
    formats: Vec<u8>,
    conn: Option<IpAddr>,
    direction: Option<Direction>,
    rtpmaps: Vec<(u8, String, u32)>,
}

/// Parses an SDP offer or answer into what the relay needs about its first audio stream.
pub fn parse(body: &str) -> Result<SessionMedia, SdpError> {
    let mut section = Section::Session;
    let mut seen_version = false;
    let mut session_conn = None;
    let mut session_dir = None;
    let mut audio: Option<Audio> = None;
    let lines = body.split('\n').map(|l| l.trim_end_matches('\r'));
    for (index, text) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let line = index + 1;
        let (kind, value) = split_line(text).ok_or(SdpError::BadLine { line })?;
        if !seen_version {
            if (kind, value.trim()) != ('v', "0") {
                return Err(SdpError::MissingVersion);
            }
            seen_version = true;
            continue;
        }
        match kind {
            'm' => {
                let media = parse_media(value, line)?;
                section = match (&media, &audio) {
                    (Some(_), None) => Section::Audio,
                    _ => Section::Other,
                };
                if let (Some(m), None) = (media, &audio) {
                    audio = Some(m);
                }
            }
            'c' => {
                let addr = parse_connection(value).ok_or(SdpError::BadConnection { line })?;
                match (section, audio.as_mut()) {
                    (Section::Session, _) => session_conn = Some(addr),
                    (Section::Audio, Some(a)) => a.conn = Some(addr),
                    _ => {}
                }
            }
            'a' => {
                if let Some(dir) = Direction::from_attribute(value.trim()) {
                    match (section, audio.as_mut()) {
                        (Section::Session, _) => session_dir = Some(dir),
                        (Section::Audio, Some(a)) => a.direction = Some(dir),
                        _ => {}
                    }
                } else if let (Section::Audio, Some(a), Some(map)) =
                    (section, audio.as_mut(), value.strip_prefix("rtpmap:"))
                {
                    a.rtpmaps
                        .push(parse_rtpmap(map).ok_or(SdpError::BadRtpmap { line })?);
                }
            }
            _ => {}
        }
    }
    if !seen_version {
        return Err(SdpError::MissingVersion);
    }
    let audio = audio.ok_or(SdpError::NoAudio)?;
    if audio.port == 0 {
        return Err(SdpError::AudioDeclined);
    }
    let ip = audio.conn.or(session_conn).ok_or(SdpError::NoConnection)?;
    let (codecs, telephone_event) = codecs_of(&audio);
    Ok(SessionMedia {
        addr: SocketAddr::new(ip, audio.port),
        codecs,
        telephone_event,
        direction: audio
            .direction
            .or(session_dir)
            .unwrap_or(Direction::SendRecv),
    })
}

/// Splits `x=value`; the type is one letter.
fn split_line(text: &str) -> Option<(char, &str)> {
    let mut chars = text.chars();
    let kind = chars.next().filter(char::is_ascii_lowercase)?;
    let value = chars.as_str().strip_prefix('=')?;
    Some((kind, value))
}

/// Parses `m=`; `Some` for an audio stream, `None` for any other media.
fn parse_media(value: &str, line: usize) -> Result<Option<Audio>, SdpError> {
    let bad = SdpError::BadMedia { line };
    let mut fields = value.split_ascii_whitespace();
    let (Some(media), Some(port), Some(proto)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(bad);
    };
    if media != "audio" {
        return Ok(None);
    }
    let port = port
        .split('/')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or(bad.clone())?;
    if proto != "RTP/AVP" && proto != "RTP/AVPF" {
        return Err(SdpError::UnsupportedTransport {
            line,
            proto: proto.to_owned(),
        });
    }
    let formats = fields
        .map(|f| f.parse::<u8>().ok().filter(|pt| *pt < 128))
        .collect::<Option<Vec<u8>>>()
        .ok_or(bad)?;
    Ok(Some(Audio {
        port,
        formats,
        ..Audio::default()
    }))
}

/// Parses `c=IN IP4 1.2.3.4` (a multicast `/ttl` suffix is ignored).
fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut fields = value.split_ascii_whitespace();
    let (net, family, addr) = (fields.next()?, fields.next()?, fields.next()?);
    if net != "IN" {
        return None;
    }
    let ip: IpAddr = addr.split('/').next()?.parse().ok()?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(ip),
        _ => None,
    }
}

/// Parses the part after `a=rtpmap:`: `<pt> <name>/<rate>[/<channels>]`.
fn parse_rtpmap(value: &str) -> Option<(u8, String, u32)> {
    let (pt, encoding) = value.trim().split_once(' ')?;
    let pt = pt.parse::<u8>().ok().filter(|pt| *pt < 128)?;
    let mut parts = encoding.trim().split('/');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let rate = parts.next()?.parse::<u32>().ok()?;
    Some((pt, name.to_owned(), rate))
}

/// The G.711 codecs in offer order, and the telephone-event payload type.
fn codecs_of(audio: &Audio) -> (Vec<Codec>, Option<u8>) {
    let mut codecs = Vec::new();
    let mut telephone_event = None;
    for &pt in &audio.formats {
        let map = audio.rtpmaps.iter().find(|(p, _, _)| *p == pt);
        let codec = match map {
            None => Codec::from_payload_type(pt),
            Some((_, name, 8000)) if name.eq_ignore_ascii_case("telephone-event") => {
                telephone_event = telephone_event.or(Some(pt));
                None
            }
            // A static codec under its own number; G.711 on a dynamic number is not relayed.
            Some((_, name, 8000)) => Codec::from_payload_type(pt)
                .filter(|c| name.eq_ignore_ascii_case(c.encoding_name())),
            Some(_) => None,
        };
        if let Some(c) = codec.filter(|c| !codecs.contains(c)) {
            codecs.push(c);
        }
    }
    (codecs, telephone_event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const YEALINK_OFFER: &str = "v=0\r\n\
        o=- 20518 0 IN IP4 192.168.10.21\r\n\
        s=SDP data\r\n\
        c=IN IP4 192.168.10.21\r\n\
        t=0 0\r\n\
        m=audio 11780 RTP/AVP 8 0 18 101\r\n\
        a=rtpmap:8 PCMA/8000\r\n\
        a=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:18 G729/8000\r\n\
        a=fmtp:18 annexb=no\r\n\
        a=rtpmap:101 telephone-event/8000\r\n\
        a=fmtp:101 0-15\r\n\
        a=ptime:20\r\n\
        a=sendrecv\r\n";

    #[test]
    fn desk_phone_offer() {
        let m = parse(YEALINK_OFFER).unwrap();
        assert_eq!(m.addr, "192.168.10.21:11780".parse().unwrap());
        assert_eq!(m.codecs, vec![Codec::Pcma, Codec::Pcmu]);
        assert_eq!(m.telephone_event, Some(101));
        assert_eq!(m.direction, Direction::SendRecv);
        assert!(!m.is_hold());
    }

    #[test]
    fn media_level_lines_override_session_level() {
        let body = "v=0\nc=IN IP4 10.0.0.1\na=sendonly\nt=0 0\nm=audio 4000 RTP/AVP 0\n\
                    c=IN IP4 10.0.0.2\na=recvonly\n";
        let m = parse(body).unwrap();
        assert_eq!(m.addr, "10.0.0.2:4000".parse().unwrap());
        assert_eq!(m.direction, Direction::RecvOnly);
    }

    #[test]
    fn session_direction_applies_when_media_has_none() {
        let m = parse("v=0\nc=IN IP4 10.0.0.1\na=inactive\nm=audio 4000 RTP/AVP 0\n").unwrap();
        assert_eq!(m.direction, Direction::Inactive);
        assert!(m.is_hold());
    }

    #[test]
    fn zero_address_is_hold() {
        let m = parse("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 8\n").unwrap();
        assert!(m.is_hold());
        assert_eq!(m.codecs, vec![Codec::Pcma]);
    }

    #[test]
    fn static_types_need_no_rtpmap_and_other_streams_are_ignored() {
        let body = "v=0\nc=IN IP6 2001:db8::1\nm=video 5000 RTP/AVP 96\na=rtpmap:96 H264/90000\n\
                    a=sendonly\nm=audio 4000 RTP/AVP 0 8\nm=audio 6000 RTP/AVP 0\n";
        let m = parse(body).unwrap();
        assert_eq!(m.addr, "[2001:db8::1]:4000".parse().unwrap());
        assert_eq!(m.codecs, vec![Codec::Pcmu, Codec::Pcma]);
        assert_eq!(m.direction, Direction::SendRecv);
    }

    #[test]
    fn g711_on_a_dynamic_number_is_not_taken() {
        let m = parse("v=0\nc=IN IP4 1.1.1.1\nm=audio 4000 RTP/AVP 96\na=rtpmap:96 PCMU/8000\n")
            .unwrap();
        assert!(m.codecs.is_empty());
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let cases = [
            ("", SdpError::MissingVersion),
            ("o=- 1 1 IN IP4 1.1.1.1\n", SdpError::MissingVersion),
            ("v=0\nthis is not sdp\n", SdpError::BadLine { line: 2 }),
            (
                "v=0\nc=IN IP4 1.1.1\nm=audio 1 RTP/AVP 0\n",
                SdpError::BadConnection { line: 2 },
            ),
            ("v=0\nc=IN IP4 ::1\n", SdpError::BadConnection { line: 2 }),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio x RTP/AVP 0\n",
                SdpError::BadMedia { line: 3 },
            ),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio 1 RTP/AVP 300\n",
                SdpError::BadMedia { line: 3 },
            ),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio 9\n",
                SdpError::BadMedia { line: 3 },
            ),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio 1 RTP/AVP 0\na=rtpmap:0 PCMU\n",
                SdpError::BadRtpmap { line: 4 },
            ),
            ("v=0\nc=IN IP4 1.1.1.1\n", SdpError::NoAudio),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio 0 RTP/AVP 0\n",
                SdpError::AudioDeclined,
            ),
            ("v=0\nm=audio 1 RTP/AVP 0\n", SdpError::NoConnection),
        ];
        for (body, want) in cases {
            assert_eq!(parse(body), Err(want), "{body:?}");
        }
        assert!(matches!(
            parse("v=0\nc=IN IP4 1.1.1.1\nm=audio 1 RTP/SAVP 0\n"),
            Err(SdpError::UnsupportedTransport { .. })
        ));
    }
}
