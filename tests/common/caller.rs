//! A taxpayer calling 12366 for the voice-menu tests: SIP written by hand, real RTP (RFC 4733
//! events, in-band tones, SIP INFO keys) from [`RtpPhone`], which keeps all it heard.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hotline_sip::HeaderName;

use super::phone::Phone;
use super::rtp_phone::{RtpPhone, Sound};

/// A taxpayer on the phone: SIP by hand, audio by [`RtpPhone`].
pub struct Caller {
    /// The SIP side.
    pub sip: Phone,
    /// The audio side: what the caller sends, and everything heard.
    pub rtp: RtpPhone,
    to: String,
    /// The switch's media address for this call.
    pub media: SocketAddr,
    call_id: String,
    cseq: u32,
}

impl Caller {
    pub fn dial(switch_port: u16, number: &str) -> Caller {
        let sip = Phone::new(switch_port);
        let rtp = RtpPhone::new();
        let me = sip.addr();
        let sw = sip.switch;
        let call_id = format!("menu-{}@test", me.port());
        let sdp = format!(
            "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n",
            rtp.addr.port()
        );
        sip.send(&format!(
            "INVITE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKmenu1\r\n\
From: <sip:{number}@{me}>;tag=c1\r\nTo: <sip:12366@{sw}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n\
Contact: <sip:{number}@{me}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ));
        let ok = sip.final_response();
        assert_eq!(ok.status, 200, "the menu answers at once: {ok:?}");
        let body = String::from_utf8_lossy(&ok.body).to_string();
        let port: u16 = body
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|p| p.parse().ok())
            .expect("switch media port");
        let to = ok.headers.get(&HeaderName::To).unwrap().to_string();
        let c = Caller {
            sip,
            rtp,
            to,
            media: SocketAddr::from(([127, 0, 0, 1], port)),
            call_id,
            cseq: 1,
        };
        c.in_dialog("ACK", 1, "", "");
        c.rtp.talk_to(c.media, Sound::Silence);
        c
    }

    pub fn in_dialog(&self, method: &str, cseq: u32, ctype: &str, body: &str) {
        let (me, sw) = (self.sip.addr(), self.sip.switch);
        let ct = if ctype.is_empty() {
            String::new()
        } else {
            format!("Content-Type: {ctype}\r\n")
        };
        self.sip.send(&format!(
            "{method} sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{method}{cseq}\r\n\
From: <sip:c@{me}>;tag=c1\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            self.to,
            self.call_id,
            body.len()
        ));
    }

    pub fn key(&mut self, sound: Sound) {
        self.rtp.talk_to(self.media, sound);
        std::thread::sleep(Duration::from_millis(400));
    }

    pub fn info_key(&mut self, key: char) {
        self.cseq += 1;
        self.in_dialog(
            "INFO",
            self.cseq,
            "application/dtmf-relay",
            &format!("Signal={key}\r\nDuration=160\r\n"),
        );
        let r = self.sip.final_response();
        assert_eq!(r.status, 200);
    }

    pub fn hang_up(&mut self) {
        self.cseq += 1;
        self.in_dialog("BYE", self.cseq, "", "");
    }

    /// Waits for the switch's BYE (answering it) within `limit`.
    pub fn expect_bye(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let mut buf = vec![0u8; 65535];
            if let Ok((n, _)) = self.sip.sock.recv_from(&mut buf) {
                if let Ok(hotline_sip::Message::Request(r)) = hotline_sip::parse_message(&buf[..n])
                {
                    if r.method.as_str() == "BYE" {
                        self.sip.reply(&r, 200);
                        return;
                    }
                }
            }
        }
        panic!("no BYE from the switch within {limit:?}");
    }
}

/// Waits until `pred` holds for the caller's heard audio, up to `limit`.
pub fn heard_until(c: &Caller, limit: Duration, pred: impl Fn(&[i16]) -> bool) -> Vec<i16> {
    let deadline = Instant::now() + limit;
    loop {
        let h = c.rtp.heard();
        if pred(&h) || Instant::now() > deadline {
            return h;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
