//! A taxpayer calling 12366 on a switch without a menu (answered only when an agent is):
//! SIP by hand on a [`Phone`], audio by [`RtpPhone`]; what the lifecycle, report and
//! exposure tests share.

use hotline_sip::{HeaderName, Response};

use super::desk::sdp_addr;
use super::phone::Phone;
use super::rtp_phone::{RtpPhone, Sound};

/// One taxpayer's call.
pub struct Taxpayer {
    /// The SIP side.
    pub sip: Phone,
    /// The audio side: what they send and everything they heard.
    pub rtp: RtpPhone,
    number: String,
    /// The switch's To (with its tag) once answered.
    to: Option<String>,
    cseq: u32,
}

impl Taxpayer {
    /// `number` dials 12366 on the switch at `port` (the INVITE is sent; see
    /// [`Taxpayer::final_response`]).
    pub fn dial(port: u16, number: &str) -> Taxpayer {
        let t = Taxpayer {
            sip: Phone::new(port),
            rtp: RtpPhone::new(),
            number: number.to_string(),
            to: None,
            cseq: 1,
        };
        let sdp = format!(
            "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            t.rtp.addr.port()
        );
        t.sip.send(&format!(
            "{}Contact: <sip:{}@{}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            t.head("INVITE", 1, "z9hG4bKtax"),
            t.number,
            t.sip.addr(),
            sdp.len()
        ));
        t
    }

    /// The request line and dialog headers of a request of ours.
    fn head(&self, method: &str, cseq: u32, branch: &str) -> String {
        let (me, sw) = (self.sip.addr(), self.sip.switch);
        let to = self
            .to
            .clone()
            .filter(|_| method != "CANCEL" && method != "INVITE")
            .unwrap_or_else(|| format!("<sip:12366@{sw}>"));
        format!(
            "{method} sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch}{}\r\n\
From: <sip:{n}@{me}>;tag=t{}\r\nTo: {to}\r\nCall-ID: tax-{}@test\r\nCSeq: {cseq} {method}\r\n\
Max-Forwards: 70\r\n",
            me.port(),
            me.port(),
            me.port(),
            n = self.number
        )
    }

    /// The next final response, provisional ones skipped.
    pub fn final_response(&self) -> Response {
        loop {
            let r = self.sip.final_response();
            if r.status >= 200 {
                return r;
            }
        }
    }

    /// Waits for the answer: a 200 is ACKed and the caller starts talking `hz`.
    pub fn answered(&mut self, hz: f64) -> Response {
        let ok = self.final_response();
        if ok.status == 200 {
            self.to = ok.headers.get(&HeaderName::To).map(str::to_string);
            let ack = format!(
                "{}Content-Length: 0\r\n\r\n",
                self.head("ACK", 1, "z9hG4bKtaxack")
            );
            self.sip.send(&ack);
            self.rtp.talk_to(sdp_addr(&ok.body), Sound::Tone(hz));
        }
        ok
    }

    /// Gives up before the answer (CANCEL of the INVITE, same branch).
    pub fn cancel(&self) {
        let cancel = format!(
            "{}Content-Length: 0\r\n\r\n",
            self.head("CANCEL", 1, "z9hG4bKtax")
        );
        self.sip.send(&cancel);
    }

    /// Sends BYE; the caller reads the answer with [`Taxpayer::final_response`].
    pub fn hang_up(&mut self) {
        self.cseq += 1;
        let branch = format!("z9hG4bKtaxbye{}", self.cseq);
        let bye = format!(
            "{}Content-Length: 0\r\n\r\n",
            self.head("BYE", self.cseq, &branch)
        );
        self.sip.send(&bye);
    }
}
