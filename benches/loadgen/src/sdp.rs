//! SDP: the caller's offer (PCMU 0 + telephone-event 101, as `load_caller.xml`), the agent
//! phone's answer (PCMA 8 + 101, as `load_agent.xml`), and where the other side wants media.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

/// G.711 μ-law, what the callers offer and send.
pub const PCMU: u8 = 0;
/// G.711 A-law, what the agents' phones answer with and send.
pub const PCMA: u8 = 8;

/// Where and how the far end wants its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Address for our RTP (connection address and the audio port).
    pub addr: SocketAddr,
    /// Payload types of the audio line, in order of preference.
    pub payload_types: Vec<u8>,
}

/// Why a body gave no usable audio destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpError {
    /// No `m=audio` line.
    NoAudio,
    /// No `c=` line at session or audio level.
    NoConnection,
    /// A number or address that does not read.
    Malformed,
    /// Port 0: the stream was refused.
    Refused,
}

/// The caller's offer: audio at `rtp`, PCMU and telephone-event.
pub fn caller_offer(rtp: SocketAddr) -> String {
    body(rtp, "caller", PCMU, "PCMU", "a=fmtp:101 0-15\r\n")
}

/// The agent phone's answer: audio at `rtp`, the codec chosen (PCMA, or PCMU when only that
/// was offered, as through a proxy that passes the caller's offer on) and telephone-event.
pub fn agent_answer(rtp: SocketAddr, pt: u8) -> String {
    let codec = if pt == PCMU { "PCMU" } else { "PCMA" };
    body(rtp, "agent", pt, codec, "")
}

/// The codec a phone answers an offer with: PCMA if offered (the switch offers it), else
/// PCMU (a caller's offer passed on by a proxy), else none.
pub fn agent_codec(offered: &[u8]) -> Option<u8> {
    [PCMA, PCMU].into_iter().find(|pt| offered.contains(pt))
}

fn body(rtp: SocketAddr, who: &str, pt: u8, codec: &str, extra: &str) -> String {
    let family = if rtp.is_ipv4() { "IP4" } else { "IP6" };
    let ip = rtp.ip();
    let mut s = String::with_capacity(240);
    // Writes to a String cannot fail.
    let _ = write!(
        s,
        "v=0\r\no={who} 1 1 IN {family} {ip}\r\ns=-\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {} RTP/AVP {pt} 101\r\na=rtpmap:{pt} {codec}/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n{extra}a=sendrecv\r\n",
        rtp.port()
    );
    s
}

/// The first audio stream of a body: its address (media-level `c=` over session-level) and
/// payload types.
pub fn parse_media(body: &[u8]) -> Result<Media, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::Malformed)?;
    let mut session_ip: Option<IpAddr> = None;
    let mut audio: Option<(u16, Vec<u8>, Option<IpAddr>)> = None;
    for line in text.lines().map(str::trim_end) {
        if let Some(c) = line.strip_prefix("c=") {
            let ip = connection(c)?;
            match audio.as_mut() {
                Some((_, _, media_ip)) => {
                    if media_ip.is_none() {
                        *media_ip = Some(ip);
                    }
                }
                None => session_ip = Some(ip),
            }
        } else if let Some(m) = line.strip_prefix("m=") {
            if audio.is_some() {
                break; // only the first audio stream counts
            }
            let mut f = m.split_ascii_whitespace();
            if f.next() != Some("audio") {
                continue;
            }
            let port = f
                .next()
                .and_then(|p| p.parse::<u16>().ok())
                .ok_or(SdpError::Malformed)?;
            let _proto = f.next().ok_or(SdpError::Malformed)?;
            let pts = f
                .map(|p| p.parse::<u8>().map_err(|_| SdpError::Malformed))
                .collect::<Result<Vec<u8>, _>>()?;
            audio = Some((port, pts, None));
        }
    }
    let (port, payload_types, media_ip) = audio.ok_or(SdpError::NoAudio)?;
    if port == 0 {
        return Err(SdpError::Refused);
    }
    let ip = media_ip.or(session_ip).ok_or(SdpError::NoConnection)?;
    Ok(Media {
        addr: SocketAddr::new(ip, port),
        payload_types,
    })
}

fn connection(c: &str) -> Result<IpAddr, SdpError> {
    let mut f = c.split_ascii_whitespace();
    let (_net, _family, addr) = (f.next(), f.next(), f.next());
    addr.and_then(|a| a.split('/').next())
        .and_then(|a| a.parse().ok())
        .ok_or(SdpError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH_ANSWER: &str = "v=0\r\no=hotline 7 1 IN IP4 127.0.0.1\r\ns=hotline\r\n\
        c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30012 RTP/AVP 0 101\r\n\
        a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n\
        a=ptime:20\r\na=sendrecv\r\n";

    #[test]
    fn the_switch_answer_gives_its_relay_port() {
        let m = parse_media(SWITCH_ANSWER.as_bytes()).unwrap();
        assert_eq!(m.addr, "127.0.0.1:30012".parse().unwrap());
        assert_eq!(m.payload_types, vec![0, 101]);
    }

    #[test]
    fn a_media_level_connection_wins_over_the_session_one() {
        let body = "v=0\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 8 0\nc=IN IP4 10.0.0.2\n";
        let m = parse_media(body.as_bytes()).unwrap();
        assert_eq!(m.addr, "10.0.0.2:4000".parse().unwrap());
        assert_eq!(m.payload_types, vec![8, 0]);
    }

    #[test]
    fn unusable_bodies_say_why() {
        let cases: [(&str, SdpError); 5] = [
            ("v=0\nc=IN IP4 1.1.1.1\n", SdpError::NoAudio),
            ("v=0\nm=audio 4000 RTP/AVP 0\n", SdpError::NoConnection),
            (
                "v=0\nc=IN IP4 1.1.1\nm=audio 4000 RTP/AVP 0\n",
                SdpError::Malformed,
            ),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio x RTP/AVP 0\n",
                SdpError::Malformed,
            ),
            (
                "v=0\nc=IN IP4 1.1.1.1\nm=audio 0 RTP/AVP 0\n",
                SdpError::Refused,
            ),
        ];
        for (body, want) in cases {
            assert_eq!(parse_media(body.as_bytes()), Err(want), "{body}");
        }
    }

    #[test]
    fn our_offer_and_answer_read_back() {
        let at: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let offer = parse_media(caller_offer(at).as_bytes()).unwrap();
        assert_eq!((offer.addr, offer.payload_types), (at, vec![PCMU, 101]));
        let answer = parse_media(agent_answer(at, PCMA).as_bytes()).unwrap();
        assert_eq!(answer.payload_types, vec![PCMA, 101]);
    }

    #[test]
    fn a_phone_takes_pcma_first_and_pcmu_from_a_proxied_caller() {
        assert_eq!(agent_codec(&[PCMU, PCMA, 101]), Some(PCMA));
        assert_eq!(agent_codec(&[PCMU, 101]), Some(PCMU));
        assert_eq!(agent_codec(&[18, 101]), None);
        let at: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let m = parse_media(agent_answer(at, PCMU).as_bytes()).unwrap();
        assert_eq!(m.payload_types, [PCMU, 101]);
    }
}
