//! Supervision end to end (班长监听/耳语/强插): the real switch, with a taxpayer, an agent
//! and a supervisor as hand-driven SIP phones on 127.0.0.1 that send tones and keep every
//! RTP packet they receive. The caller talks at 440 Hz, the agent at 1000 Hz, the
//! supervisor at 1800 Hz; who heard whom is read off the spectrum of what each phone
//! received on the wire. The recording and the `monitoring` audit table are read from disk.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::audio::read_wav;
use common::rtp_phone::{RtpPhone, Sound};
use common::switch::{dialplan, test_menu, Switch};
use hotline_sip::digest::Challenge;
use hotline_sip::message::SipMessage;
use hotline_sip::{parse_message, HeaderName, Message, Method, Request, Response};

const CALLER_HZ: f64 = 440.0;
const AGENT_HZ: f64 = 1000.0;
const SUPERVISOR_HZ: f64 = 1800.0;
const LUOYANG_MOBILE: &str = "13903790000";
/// What arrives this soon after a change still belongs to it (jitter buffers, packets in
/// flight): skipped before analysing a step.
const SETTLE: usize = 8000 * 4 / 10;

// ---------------------------------------------------------------------------------------
// Audio analysis
// ---------------------------------------------------------------------------------------

/// 100 ms blocks: 10 Hz bins, so 440, 1000 and 1800 Hz all sit on a bin.
const BLOCK: usize = 800;

/// The amplitude of `freq` in each 100 ms block of `samples` (Hann-windowed Goertzel,
/// scaled so a sine of amplitude A reads A). The window keeps one tone from leaking into
/// another's bin, even across the phase jumps where a mix starts or stops.
fn block_levels(samples: &[i16], freq: f64) -> Vec<f64> {
    let w = 2.0 * std::f64::consts::PI * freq / 8000.0;
    let k = 2.0 * w.cos();
    samples
        .chunks_exact(BLOCK)
        .map(|block| {
            let (mut s1, mut s2) = (0.0f64, 0.0f64);
            for (n, &x) in block.iter().enumerate() {
                let hann = 0.5
                    - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / (BLOCK as f64 - 1.0)).cos();
                let s0 = f64::from(x) * hann + k * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            let power = s1 * s1 + s2 * s2 - k * s1 * s2;
            4.0 * power.max(0.0).sqrt() / BLOCK as f64
        })
        .collect()
}

/// A tone at 8000 is heard clearly above this in a block.
const HEARD: f64 = 2000.0;
/// A tone nobody should hear stays below this in every block (the tones are sent at 8000:
/// 38 dB below; μ-law's distortion products of the others stay far lower).
const SILENT: f64 = 100.0;

/// Whether `freq` is heard in `samples` (at least 1 s of them): in nine blocks of ten.
fn hears(samples: &[i16], freq: f64) -> bool {
    let levels = block_levels(samples, freq);
    let loud = levels.iter().filter(|l| **l > HEARD).count();
    levels.len() >= 10 && loud * 10 >= levels.len() * 9
}

/// Whether `freq` is absent from every block of `samples` (at least 1 s of them).
fn never_hears(samples: &[i16], freq: f64) -> bool {
    let levels = block_levels(samples, freq);
    levels.len() >= 10 && levels.iter().all(|l| *l < SILENT)
}

/// Blocks in which `freq` is heard.
fn blocks_hearing(samples: &[i16], freq: f64) -> usize {
    block_levels(samples, freq)
        .iter()
        .filter(|l| **l > HEARD)
        .count()
}

/// A readable summary for failure messages: median and max per tone.
fn describe(samples: &[i16]) -> String {
    let mut out = format!("{:.1} s:", samples.len() as f64 / 8000.0);
    for f in [CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ] {
        let mut l = block_levels(samples, f);
        l.sort_by(|a, b| a.total_cmp(b));
        let med = l.get(l.len() / 2).copied().unwrap_or(0.0);
        let max = l.last().copied().unwrap_or(0.0);
        out.push_str(&format!(" {f} Hz median {med:.0} max {max:.0};"));
    }
    out
}

// ---------------------------------------------------------------------------------------
// A SIP phone with a reader thread
// ---------------------------------------------------------------------------------------

/// A SIP phone on its own UDP socket. A thread reads everything: it answers OPTIONS, INFO,
/// NOTIFY and BYE with 200 at once (so the switch's keep-alives never end a call while the
/// test sleeps) and queues every message but OPTIONS for the test.
struct Ua {
    sock: UdpSocket,
    switch: SocketAddr,
    rx: Receiver<Message>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
}

impl Ua {
    fn new() -> Ua {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind sip");
        let reader_sock = sock.try_clone().expect("clone socket");
        reader_sock
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let (tx, rx) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65535];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((n, src)) = reader_sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(msg) = parse_message(&buf[..n]) else {
                    continue;
                };
                if let Message::Request(r) = &msg {
                    if matches!(
                        r.method,
                        Method::Options | Method::Info | Method::Notify | Method::Bye
                    ) {
                        let ok = Response::to_request(r, 200, "OK").with_to_tag("ua");
                        let _ = reader_sock.send_to(&ok.to_bytes(), src);
                    }
                    if r.method == Method::Options {
                        continue;
                    }
                }
                if tx.send(msg).is_err() {
                    return;
                }
            }
        });
        Ua {
            sock,
            switch: SocketAddr::from(([127, 0, 0, 1], 0)),
            rx,
            stop,
            reader: Some(reader),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().expect("local addr")
    }

    fn send(&self, bytes: &[u8]) {
        self.sock.send_to(bytes, self.switch).expect("send");
    }

    /// The next message within `limit`.
    fn next(&self, limit: Duration) -> Option<Message> {
        match self.rx.recv_timeout(limit) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("phone reader stopped"),
        }
    }

    /// The final response to the request with this CSeq, skipping everything else.
    fn final_response(&self, cseq: u32, limit: Duration) -> Response {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left) {
                Some(Message::Response(r))
                    if r.status >= 200 && r.cseq().is_some_and(|c| c.seq == cseq) =>
                {
                    return r
                }
                Some(_) => {}
                None => panic!("no final response to CSeq {cseq} within {limit:?}"),
            }
        }
    }

    /// The next request of `method` within `limit`, skipping everything else.
    fn request(&self, method: &str, limit: Duration) -> Option<Request> {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next(left)? {
                Message::Request(r) if r.method.as_str() == method => return Some(r),
                _ => {}
            }
        }
    }
}

impl Drop for Ua {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
    }
}

static BRANCH: AtomicU32 = AtomicU32::new(1);

fn branch() -> String {
    format!("z9hG4bKsup{}", BRANCH.fetch_add(1, Ordering::Relaxed))
}

/// The `<...>` URI of a Contact, From or To value.
fn uri_of(value: &str) -> String {
    match (value.find('<'), value.find('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].to_string(),
        _ => value.split(';').next().unwrap_or(value).trim().to_string(),
    }
}

/// The media address of an SDP body.
fn sdp_media(body: &[u8]) -> SocketAddr {
    let text = String::from_utf8_lossy(body);
    let ip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| panic!("no c= line in {text}"));
    let port: u16 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no m=audio in {text}"));
    SocketAddr::new(ip.parse().expect("ip"), port)
}

fn sdp_for(rtp: SocketAddr, version: u32) -> String {
    format!(
        "v=0\r\no=test 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\na=sendrecv\r\n",
        rtp.port()
    )
}

/// One side of a dialog, as the test phone sees it.
struct Dialog {
    call_id: String,
    /// Our From (with our tag) for requests we send.
    local: String,
    /// Their party (with their tag) for the To of requests we send.
    remote: String,
    /// Where our in-dialog requests go (their Contact).
    target: String,
    cseq: u32,
}

/// A person on the phone: SIP, and audio that talks a tone and keeps what it hears.
struct Party {
    ua: Ua,
    rtp: RtpPhone,
    user: String,
    hz: f64,
    dialog: Option<Dialog>,
    /// The switch's media address for this phone.
    media: Option<SocketAddr>,
    /// An INVITE sent and not yet answered: (Call-ID, From, Via branch, CSeq, Request-URI).
    pending: Option<(String, String, String, u32, String)>,
}

impl Party {
    /// A phone for `user`; [`Party::on`] tells it where the switch is.
    fn new(user: &str, hz: f64) -> Party {
        Party {
            ua: Ua::new(),
            rtp: RtpPhone::new(),
            user: user.to_string(),
            hz,
            dialog: None,
            media: None,
            pending: None,
        }
    }

    /// Talks to the switch on `port` from now on.
    fn on(mut self, switch: &Switch) -> Party {
        self.ua.switch = SocketAddr::from(([127, 0, 0, 1], switch.port));
        self
    }

    /// The phone's SIP port (its static contact in the dialplan).
    fn port(&self) -> u16 {
        self.ua.addr().port()
    }

    /// Sends an INVITE to `target` (the user part) with an SDP offer; `extra` headers.
    fn dial(&mut self, target: &str, extra: &str) {
        let me = self.ua.addr();
        let sw = self.ua.switch;
        let (call_id, from) = match &self.pending {
            Some((c, f, ..)) => (c.clone(), f.clone()),
            None => (
                format!("sup-{}-{}@test", self.user, me.port()),
                format!("<sip:{}@{me}>;tag=t{}", self.user, me.port()),
            ),
        };
        let cseq = self.pending.as_ref().map_or(1, |p| p.3 + 1);
        let uri = format!("sip:{target}@{sw}");
        let b = branch();
        let sdp = sdp_for(self.rtp.addr, 1);
        let text = format!(
            "INVITE {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={b}\r\nMax-Forwards: 70\r\n\
From: {from}\r\nTo: <sip:{target}@{sw}>\r\nCall-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\n\
Contact: <sip:{}@{me}>\r\n{extra}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            self.user,
            sdp.len()
        );
        self.ua.send(text.as_bytes());
        self.pending = Some((call_id, from, b, cseq, uri));
    }

    /// Waits for the final response to the INVITE sent; a 200 is ACKed and the phone starts
    /// talking its tone to the switch; anything else is ACKed and returned as well.
    fn answered(&mut self, limit: Duration) -> Response {
        let (call_id, from, b, cseq, uri) = self.pending.clone().expect("an INVITE sent");
        let r = self.ua.final_response(cseq, limit);
        let me = self.ua.addr();
        let to = r
            .headers
            .get(&HeaderName::To)
            .unwrap_or_default()
            .to_string();
        if r.status == 200 {
            let target = r
                .headers
                .get(&HeaderName::Contact)
                .map(uri_of)
                .unwrap_or_else(|| uri.clone());
            let ack = format!(
                "ACK {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={}\r\nMax-Forwards: 70\r\n\
From: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n",
                branch()
            );
            self.ua.send(ack.as_bytes());
            let media = sdp_media(&r.body);
            self.media = Some(media);
            self.rtp.talk_to(media, Sound::Tone(self.hz));
            self.dialog = Some(Dialog {
                call_id,
                local: from,
                remote: to,
                target,
                cseq,
            });
            self.pending = None;
        } else {
            // RFC 3261 17.1.1.3: the ACK of a failure shares the INVITE's branch.
            let ack = format!(
                "ACK {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={b}\r\nMax-Forwards: 70\r\n\
From: {from}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n"
            );
            self.ua.send(ack.as_bytes());
        }
        r
    }

    /// Dials and waits for the answer.
    fn call(&mut self, target: &str) -> Response {
        self.dial(target, "");
        self.answered(Duration::from_secs(10))
    }

    /// Dials, answers the digest challenge with `password`, and returns (challenge, final).
    fn call_with_digest(&mut self, target: &str, password: &str) -> (Response, Response) {
        self.dial(target, "");
        let challenge = self.answered(Duration::from_secs(10));
        if challenge.status != 401 {
            return (challenge.clone(), challenge);
        }
        let chal = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .into_iter()
            .find(|c| c.contains("algorithm=MD5"))
            .unwrap_or_else(|| panic!("no MD5 challenge in {challenge:?}"))
            .to_string();
        let uri = format!("sip:{target}@{}", self.ua.switch);
        let auth = Challenge::parse(&chal)
            .and_then(|c| c.answer("INVITE", &uri, &self.user, password, "5up3rv1s"))
            .expect("a digest answer");
        let auth = format!("Authorization: {auth}\r\n");
        self.dial(target, &auth);
        let last = self.answered(Duration::from_secs(10));
        (challenge, last)
    }

    /// Waits for the switch's INVITE, answers it with PCMU at the phone's RTP address and
    /// starts talking; returns the INVITE.
    fn take_call(&mut self, limit: Duration) -> Request {
        let invite = self
            .ua
            .request("INVITE", limit)
            .unwrap_or_else(|| panic!("{}'s phone did not ring within {limit:?}", self.user));
        let tag = format!("a{}", self.port());
        let me = self.ua.addr();
        let sdp = sdp_for(self.rtp.addr, 1);
        let mut ok = Response::to_request(&invite, 200, "OK").with_to_tag(&tag);
        ok.headers
            .push(HeaderName::Contact, format!("<sip:{}@{me}>", self.user));
        ok.headers.push(HeaderName::ContentType, "application/sdp");
        ok.body = sdp.into_bytes();
        self.ua.send(&ok.to_bytes());
        let media = sdp_media(&invite.body);
        self.media = Some(media);
        self.rtp.talk_to(media, Sound::Tone(self.hz));
        let h = |n: HeaderName| invite.headers.get(&n).unwrap_or_default().to_string();
        self.dialog = Some(Dialog {
            call_id: h(HeaderName::CallId),
            local: format!("{};tag={tag}", h(HeaderName::To)),
            remote: h(HeaderName::From),
            target: uri_of(&h(HeaderName::Contact)),
            cseq: 100,
        });
        assert!(
            self.ua.request("ACK", Duration::from_secs(5)).is_some(),
            "the switch ACKs {}'s answer",
            self.user
        );
        invite
    }

    /// Sends an in-dialog request and waits for its final response.
    fn in_dialog(&mut self, method: &str, content: Option<&str>) -> Response {
        let me = self.ua.addr();
        let d = self.dialog.as_mut().expect("in a call");
        d.cseq += 1;
        let (ct, body) = match content {
            Some(b) => (
                "Content-Type: application/sdp\r\n".to_string(),
                b.to_string(),
            ),
            None => (String::new(), String::new()),
        };
        let text = format!(
            "{method} {} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={}\r\nMax-Forwards: 70\r\n\
From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {} {method}\r\nContact: <sip:{}@{me}>\r\n\
{ct}Content-Length: {}\r\n\r\n{body}",
            d.target,
            branch(),
            d.local,
            d.remote,
            d.call_id,
            d.cseq,
            self.user,
            body.len()
        );
        let cseq = d.cseq;
        self.ua.send(text.as_bytes());
        self.ua.final_response(cseq, Duration::from_secs(5))
    }

    /// Hangs up (BYE) and checks the switch agreed.
    fn hang_up(&mut self) {
        let r = self.in_dialog("BYE", None);
        assert_eq!(r.status, 200, "{}'s BYE: {r:?}", self.user);
        self.rtp.talk_to(self.media.expect("media"), Sound::Silence);
        self.dialog = None;
    }

    /// The switch's BYE within `limit` (the reader has already answered it), if any.
    fn bye(&self, limit: Duration) -> Option<Request> {
        self.ua.request("BYE", limit)
    }

    /// How many samples the phone has heard so far: a mark in its audio.
    fn mark(&self) -> usize {
        self.rtp.heard().len()
    }

    /// What it heard from `from` (a mark) on, less the first [`SETTLE`] samples.
    fn heard_since(&self, from: usize) -> Vec<i16> {
        let h = self.rtp.heard();
        h.get(from + SETTLE..)
            .map(<[i16]>::to_vec)
            .unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// Dialplans and set-up
// ---------------------------------------------------------------------------------------

/// How a supervisor's phone is reached in the dialplan.
enum Reach {
    /// A static contact on 127.0.0.1 at this port, trusted by its address for monitoring
    /// (`trust_address`; the digest a static seat otherwise needs is tested in exposed.rs).
    Static(u16),
    /// Registers (and authenticates calls) with this secret.
    Secret(&'static str),
}

/// The test dialplan with `agents` and supervisors (id, scope, reach) appended.
fn plan_with(agents: &[(&str, &str, u16)], supervisors: &[(&str, &str, Reach)]) -> String {
    let mut s = dialplan(agents, 15, 60);
    for (id, scope, reach) in supervisors {
        let how = match reach {
            Reach::Static(port) => {
                format!("contact = \"sip:{id}@127.0.0.1:{port}\"\ntrust_address = true")
            }
            Reach::Secret(secret) => format!("secret = \"{secret}\""),
        };
        s.push_str(&format!(
            "\n[[supervisor]]\nid = \"{id}\"\nname = \"班长{id}\"\n{how}\nscope = \"{scope}\"\n"
        ));
    }
    s
}

/// Luoyang's agent 1003 talking to a taxpayer, and Luoyang's supervisor 1950 at a static
/// seat, not dialled in yet: (switch, caller, agent, supervisor).
fn supervised_call() -> (Switch, Party, Party, Party) {
    let agent = Party::new("1003", AGENT_HZ);
    let sup = Party::new("1950", SUPERVISOR_HZ);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent.port())],
        &[("1950", "luoyang", Reach::Static(sup.port()))],
    ));
    let (mut agent, sup) = (agent.on(&switch), sup.on(&switch));
    let caller = connected_call(&switch, &mut agent);
    (switch, caller, agent, sup)
}

/// Waits (up to 10 s) until `party` has heard 1.1 s past `mark` and [`SETTLE`]: the fixed
/// waits of a step are enough on an idle machine, not always on a loaded one.
fn until_heard(party: &Party, mark: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while party.mark() < mark + SETTLE + 8_800 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Luoyang taxpayer connected to agent 1003: (caller, agent), both talking.
fn connected_call(switch: &Switch, agent: &mut Party) -> Party {
    let mut caller = Party::new(LUOYANG_MOBILE, CALLER_HZ).on(switch);
    caller.dial("12366", "");
    agent.take_call(Duration::from_secs(10));
    let ok = caller.answered(Duration::from_secs(10));
    assert_eq!(ok.status, 200, "the call is answered: {ok:?}");
    // Both hear each other before anyone supervises.
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&caller, 0);
    until_heard(agent, 0);
    assert!(
        hears(&caller.heard_since(0), AGENT_HZ),
        "caller hears the agent: {}",
        describe(&caller.heard_since(0))
    );
    assert!(
        hears(&agent.heard_since(0), CALLER_HZ),
        "agent hears the caller: {}",
        describe(&agent.heard_since(0))
    );
    caller
}

/// The `monitoring` audit rows, waiting until there are `n` (writes are asynchronous).
fn monitoring_rows(switch: &Switch, n: usize) -> Vec<hotline_record::MonitorUse> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = hotline_record::list_monitoring(&switch.db()).unwrap_or_default();
        if rows.len() >= n || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The only call's record, once ended, and its recording.
fn ended_call(switch: &Switch) -> (serde_json::Value, common::audio::Wav) {
    let calls = switch.ended_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    let call = calls[0].clone();
    assert!(call["ended_at"].is_string(), "{call:?}");
    let path = PathBuf::from(call["recording_path"].as_str().expect("recording path"));
    // The recording is closed by the media task after the record: wait for a readable file.
    let deadline = Instant::now() + Duration::from_secs(5);
    while hound::WavReader::open(&path).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let wav = read_wav(&path);
    (call, wav)
}

/// `hotline monitor ...` against the switch's control socket: (success, stdout + stderr).
fn monitor_cli(switch: &Switch, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("monitor")
        .args(args)
        .arg("--control")
        .arg(switch.control())
        .output()
        .expect("run hotline monitor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

impl Party {
    /// ACKs the 2xx of an in-dialog re-INVITE.
    fn ack(&self, cseq: u32) {
        let me = self.ua.addr();
        let d = self.dialog.as_ref().expect("in a call");
        let text = format!(
            "ACK {} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={}\r\nMax-Forwards: 70\r\n\
From: {}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} ACK\r\nContent-Length: 0\r\n\r\n",
            d.target,
            branch(),
            d.local,
            d.remote,
            d.call_id
        );
        self.ua.send(text.as_bytes());
    }

    /// Registers the phone's address for its user, answering the digest challenge.
    fn register(&mut self, password: &str) -> Response {
        let me = self.ua.addr();
        let sw = self.ua.switch;
        let user = self.user.clone();
        let text = |cseq: u32, auth: &str| {
            format!(
                "REGISTER sip:{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={}\r\nMax-Forwards: 70\r\n\
From: <sip:{user}@{sw}>;tag=r{}\r\nTo: <sip:{user}@{sw}>\r\nCall-ID: reg-{user}-{}@test\r\n\
CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{me}>\r\nExpires: 300\r\n{auth}Content-Length: 0\r\n\r\n",
                branch(),
                me.port(),
                me.port()
            )
        };
        self.ua.send(text(1, "").as_bytes());
        let challenge = self.ua.final_response(1, Duration::from_secs(5));
        if challenge.status != 401 {
            return challenge;
        }
        let chal = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .into_iter()
            .find(|c| c.contains("algorithm=MD5"))
            .unwrap_or_else(|| panic!("no MD5 challenge in {challenge:?}"))
            .to_string();
        let auth = Challenge::parse(&chal)
            .and_then(|c| {
                c.answer(
                    "REGISTER",
                    &format!("sip:{sw}"),
                    &user,
                    password,
                    "r3g1st3r",
                )
            })
            .expect("a digest answer");
        let auth = format!("Authorization: {auth}\r\n");
        self.ua.send(text(2, &auth).as_bytes());
        self.ua.final_response(2, Duration::from_secs(5))
    }
}

/// Checks a step of a call: who heard which tones in it, with what everyone heard in the
/// failure message.
#[track_caller]
fn expect(who: &str, heard: &[i16], hears_hz: &[f64], not_hz: &[f64]) {
    eprintln!("{who}: {}", describe(heard));
    for f in hears_hz {
        assert!(
            hears(heard, *f),
            "{who} should hear {f} Hz: {}",
            describe(heard)
        );
    }
    for f in not_hz {
        assert!(
            never_hears(heard, *f),
            "{who} should not hear {f} Hz: {}",
            describe(heard)
        );
    }
}

const STEP: Duration = Duration::from_millis(2500);

#[test]
fn a_supervisor_listening_hears_caller_and_agent_and_nobody_hears_the_supervisor() {
    let (switch, mut caller, agent, mut sup) = supervised_call();

    let ok = sup.call("*311003");
    assert_eq!(ok.status, 200, "listening is answered: {ok:?}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the listening supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );

    // The supervisor leaves; the call carries on as before.
    sup.hang_up();
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&caller, c);
    until_heard(&agent, a);
    expect(
        "the caller after",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent after",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );
    assert!(
        sup.bye(Duration::from_millis(200)).is_none(),
        "no BYE after the supervisor's own"
    );

    caller.hang_up();
    assert!(
        agent.bye(Duration::from_secs(5)).is_some(),
        "the agent is hung up"
    );
    let (call, wav) = ended_call(&switch);
    assert_eq!(call["hung_up_by"], "caller");
    assert!(
        never_hears(&wav.right, SUPERVISOR_HZ),
        "right: {}",
        describe(&wav.right)
    );
    let rows = monitoring_rows(&switch, 1);
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(
        (r.supervisor.as_str(), r.agent.as_str(), r.mode.as_str()),
        ("1950", "1003", "listen")
    );
    assert!(r.allowed);
    assert_eq!(
        r.call_id.as_ref().map(|c| c.as_str().to_string()),
        call["call_id"].as_str().map(str::to_string),
        "the audit names the call"
    );
}

#[test]
fn a_whisper_reaches_the_agent_only_and_is_not_recorded() {
    let (switch, mut caller, agent, mut sup) = supervised_call();

    let ok = sup.call("*321003");
    assert_eq!(ok.status, 200, "whispering is answered: {ok:?}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the whispering supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent",
        &agent.heard_since(a),
        &[CALLER_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    sup.hang_up();
    let a = agent.mark();
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&agent, a);
    expect(
        "the agent after",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );

    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let (_, wav) = ended_call(&switch);
    assert!(
        never_hears(&wav.right, SUPERVISOR_HZ),
        "the whisper is not recorded: right {}",
        describe(&wav.right)
    );
    assert!(
        never_hears(&wav.left, SUPERVISOR_HZ),
        "left: {}",
        describe(&wav.left)
    );
    assert!(
        blocks_hearing(&wav.right, AGENT_HZ) >= 40,
        "right: {}",
        describe(&wav.right)
    );
    let rows = monitoring_rows(&switch, 1);
    assert_eq!(rows[0].mode, "whisper");
    assert!(rows[0].allowed);
}

#[test]
fn a_barge_is_heard_by_caller_and_agent_and_recorded() {
    let (switch, mut caller, agent, mut sup) = supervised_call();

    let ok = sup.call("*331003");
    assert_eq!(ok.status, 200, "barging is answered: {ok:?}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the barging supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the agent",
        &agent.heard_since(a),
        &[CALLER_HZ, SUPERVISOR_HZ],
        &[],
    );
    sup.hang_up();
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&caller, c);
    until_heard(&agent, a);
    expect(
        "the caller after",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent after",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );

    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let (_, wav) = ended_call(&switch);
    let barged = blocks_hearing(&wav.right, SUPERVISOR_HZ);
    assert!(
        barged >= 15,
        "the barge is in the recording's right channel ({barged} blocks): {}",
        describe(&wav.right)
    );
    assert!(
        never_hears(&wav.left, SUPERVISOR_HZ),
        "left is the caller alone: {}",
        describe(&wav.left)
    );
    let rows = monitoring_rows(&switch, 1);
    assert_eq!(rows[0].mode, "barge");
}

#[test]
fn monitoring_is_refused_outside_the_scope_or_without_a_call_and_every_attempt_is_audited() {
    let agent = Party::new("1003", AGENT_HZ);
    let luoyang = Party::new("1950", SUPERVISOR_HZ);
    let zhengzhou = Party::new("1951", SUPERVISOR_HZ);
    let province = Party::new("1952", SUPERVISOR_HZ);
    let idle = Party::new("1001", AGENT_HZ);
    let switch = Switch::start(&plan_with(
        &[
            ("1003", "luoyang", agent.port()),
            ("1001", "zhengzhou", idle.port()),
        ],
        &[
            ("1950", "luoyang", Reach::Static(luoyang.port())),
            ("1951", "zhengzhou", Reach::Static(zhengzhou.port())),
            ("1952", "province", Reach::Static(province.port())),
        ],
    ));
    let mut agent = agent.on(&switch);
    let (mut luoyang, mut zhengzhou, mut province) = (
        luoyang.on(&switch),
        zhengzhou.on(&switch),
        province.on(&switch),
    );
    let mut caller = connected_call(&switch, &mut agent);

    // Zhengzhou's supervisor may not listen to a Luoyang agent.
    let r = zhengzhou.call("*311003");
    assert_eq!(r.status, 403, "out of scope: {r:?}");
    // The province's supervisor may, but agent 1001 is on no call.
    let r = province.call("*321001");
    assert_eq!(r.status, 404, "no call to monitor: {r:?}");
    // An agent is no supervisor, even from a trusted seat (1001's own).
    let mut colleague = idle.on(&switch);
    let r = colleague.call("*311003");
    assert_eq!(r.status, 403, "agents do not monitor: {r:?}");
    // Another phone at 1003's address is not 1003's seat: challenged, never trusted.
    let mut impostor = Party::new("1003", AGENT_HZ).on(&switch);
    let r = impostor.call("*311003");
    assert_eq!(r.status, 401, "not from the seat's port: {r:?}");
    // Luoyang's supervisor may.
    let r = luoyang.call("*311003");
    assert_eq!(r.status, 200, "in scope: {r:?}");
    let c = caller.mark();
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&luoyang, 0);
    until_heard(&caller, c);
    expect(
        "the allowed supervisor",
        &luoyang.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    assert!(
        zhengzhou.rtp.heard().is_empty() && province.rtp.heard().is_empty(),
        "refused supervisors get no audio"
    );
    luoyang.hang_up();
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let calls = switch.ended_calls();
    let call_id = calls[0]["call_id"].as_str().expect("call id").to_string();

    let rows = monitoring_rows(&switch, 3);
    let got: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.supervisor.as_str(),
                r.agent.as_str(),
                r.mode.as_str(),
                r.allowed,
                r.call_id.as_ref().map(|c| c.as_str().to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("1951", "1003", "listen", false, Some(call_id.clone())),
            ("1952", "1001", "whisper", false, None),
            ("1950", "1003", "listen", true, Some(call_id.clone())),
        ],
        "one row per supervisor's attempt, refused or allowed"
    );
}

#[test]
fn a_supervisor_who_authenticates_with_digest_may_monitor() {
    let agent = Party::new("1003", AGENT_HZ);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent.port())],
        &[("1953", "province", Reach::Secret("s3cret-1953"))],
    ));
    let mut agent = agent.on(&switch);
    let mut caller = connected_call(&switch, &mut agent);

    let mut intruder = Party::new("1953", SUPERVISOR_HZ).on(&switch);
    let (challenge, last) = intruder.call_with_digest("*331003", "guessed");
    assert_eq!(
        challenge.status, 401,
        "a supervisor without a static seat is challenged"
    );
    assert_eq!(last.status, 403, "a wrong password is refused: {last:?}");

    let mut sup = Party::new("1953", SUPERVISOR_HZ).on(&switch);
    let (challenge, last) = sup.call_with_digest("*331003", "s3cret-1953");
    assert_eq!(challenge.status, 401);
    assert_eq!(last.status, 200, "the right password is let in: {last:?}");
    let c = caller.mark();
    std::thread::sleep(Duration::from_millis(2000));
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    sup.hang_up();
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let rows = monitoring_rows(&switch, 1);
    assert_eq!(
        rows.len(),
        1,
        "the wrong password never got as far as an attempt: {rows:?}"
    );
    assert!(rows[0].allowed);
    assert_eq!(rows[0].supervisor, "1953");
}

#[test]
fn the_cli_rings_the_supervisor_changes_the_mode_and_stops_while_the_call_goes_on() {
    let (switch, mut caller, agent, mut sup) = supervised_call();

    let (ok, out) = monitor_cli(&switch, &["1950", "1003", "--mode", "listen"]);
    assert!(ok, "hotline monitor: {out}");
    let invite = sup.take_call(Duration::from_secs(5));
    let to = invite.headers.get(&HeaderName::To).unwrap_or_default();
    assert!(
        to.contains("sip:1950@"),
        "the supervisor's phone is rung: {to}"
    );
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the supervisor (listen)",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the caller (listen)",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent (listen)",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );

    let (ok, out) = monitor_cli(&switch, &["1950", "1003", "--mode", "whisper"]);
    assert!(ok, "hotline monitor --mode whisper: {out}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the agent (whisper)",
        &agent.heard_since(a),
        &[CALLER_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the caller (whisper)",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );

    let (ok, out) = monitor_cli(&switch, &["1950", "1003", "--mode", "barge"]);
    assert!(ok, "hotline monitor --mode barge: {out}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the caller (barge)",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the agent (barge)",
        &agent.heard_since(a),
        &[CALLER_HZ, SUPERVISOR_HZ],
        &[],
    );
    assert!(
        sup.ua
            .request("INVITE", Duration::from_millis(100))
            .is_none(),
        "a mode change rings nobody"
    );

    let (ok, out) = monitor_cli(&switch, &["1950", "--stop"]);
    assert!(ok, "hotline monitor --stop: {out}");
    assert!(
        sup.bye(Duration::from_secs(5)).is_some(),
        "--stop hangs up the supervisor"
    );
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(Duration::from_millis(1500));
    until_heard(&caller, c);
    until_heard(&agent, a);
    expect(
        "the caller after --stop",
        &caller.heard_since(c),
        &[AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the agent after --stop",
        &agent.heard_since(a),
        &[CALLER_HZ],
        &[SUPERVISOR_HZ],
    );
    assert!(
        agent.bye(Duration::from_millis(100)).is_none(),
        "the call goes on"
    );
    let (ok, out) = monitor_cli(&switch, &["1950", "--stop"]);
    assert!(!ok, "nothing left to stop: {out}");

    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let (call, wav) = ended_call(&switch);
    assert!(
        blocks_hearing(&wav.right, SUPERVISOR_HZ) >= 10,
        "the barge is recorded: {}",
        describe(&wav.right)
    );
    let rows = monitoring_rows(&switch, 3);
    let modes: Vec<_> = rows.iter().map(|r| (r.mode.as_str(), r.allowed)).collect();
    assert_eq!(
        modes,
        vec![("listen", true), ("whisper", true), ("barge", true)]
    );
    assert!(rows
        .iter()
        .all(|r| r.call_id.as_ref().map(|c| c.as_str()) == call["call_id"].as_str()));
}

#[test]
fn the_cli_refuses_a_supervisor_outside_their_scope_and_rings_nobody() {
    let agent = Party::new("1003", AGENT_HZ);
    let sup = Party::new("1951", SUPERVISOR_HZ);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent.port())],
        &[("1951", "zhengzhou", Reach::Static(sup.port()))],
    ));
    let (mut agent, sup) = (agent.on(&switch), sup.on(&switch));
    let mut caller = connected_call(&switch, &mut agent);
    let (ok, out) = monitor_cli(&switch, &["1951", "1003", "--mode", "listen"]);
    assert!(!ok, "refused: {out}");
    assert!(
        sup.ua.request("INVITE", Duration::from_secs(1)).is_none(),
        "the phone does not ring"
    );
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let rows = monitoring_rows(&switch, 1);
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(!rows[0].allowed);
}

#[test]
fn when_the_caller_hangs_up_the_supervisor_gets_a_bye() {
    let (_switch, mut caller, agent, mut sup) = supervised_call();
    assert_eq!(sup.call("*311003").status, 200);
    std::thread::sleep(Duration::from_millis(1000));
    caller.hang_up();
    assert!(
        agent.bye(Duration::from_secs(5)).is_some(),
        "the agent is hung up"
    );
    let bye = sup
        .bye(Duration::from_secs(5))
        .expect("the supervisor is hung up");
    assert_eq!(
        bye.call_id(),
        sup.dialog.as_ref().map(|d| d.call_id.as_str()),
        "in the supervisor's own dialog"
    );
}

#[test]
fn when_the_agent_hangs_up_the_supervisor_and_the_caller_get_a_bye() {
    let (switch, caller, mut agent, mut sup) = supervised_call();
    assert_eq!(sup.call("*321003").status, 200);
    std::thread::sleep(Duration::from_millis(1000));
    agent.hang_up();
    assert!(
        caller.bye(Duration::from_secs(5)).is_some(),
        "the caller is hung up"
    );
    assert!(
        sup.bye(Duration::from_secs(5)).is_some(),
        "the supervisor is hung up"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["hung_up_by"], "agent");
}

#[test]
fn a_supervisor_who_moves_their_media_with_a_reinvite_keeps_hearing_the_call() {
    let (_switch, mut caller, agent, mut sup) = supervised_call();
    assert_eq!(sup.call("*331003").status, 200);
    std::thread::sleep(Duration::from_millis(1000));
    // The phone moves its audio to another port (a softphone switching devices).
    let moved = RtpPhone::new();
    let r = sup.in_dialog("INVITE", Some(&sdp_for(moved.addr, 2)));
    assert_eq!(r.status, 200, "{r:?}");
    let cseq = r.cseq().map_or(0, |c| c.seq);
    sup.ack(cseq);
    assert!(
        !r.body.is_empty(),
        "a 200 to a re-INVITE with an offer carries the answer (RFC 3264): {r:?}"
    );
    let media = sdp_media(&r.body);
    moved.talk_to(media, Sound::Tone(SUPERVISOR_HZ));
    sup.rtp.talk_to(media, Sound::Silence);
    let c = caller.mark();
    std::thread::sleep(STEP);
    let heard = moved.heard();
    expect(
        "the supervisor's new port",
        &heard[SETTLE.min(heard.len())..],
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    sup.hang_up();
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
}

#[test]
fn a_supervisor_who_registers_is_rung_there_by_the_cli() {
    let agent = Party::new("1003", AGENT_HZ);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent.port())],
        &[("1953", "province", Reach::Secret("s3cret-1953"))],
    ));
    let mut agent = agent.on(&switch);
    let mut sup = Party::new("1953", SUPERVISOR_HZ).on(&switch);
    let r = sup.register("s3cret-1953");
    assert_eq!(
        r.status, 200,
        "a supervisor's phone registers like an agent's: {r:?}"
    );
    let mut caller = connected_call(&switch, &mut agent);
    let (ok, out) = monitor_cli(&switch, &["1953", "1003", "--mode", "listen"]);
    assert!(ok, "hotline monitor: {out}");
    sup.take_call(Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(2000));
    expect(
        "the supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    assert!(
        sup.bye(Duration::from_secs(5)).is_some(),
        "the supervisor is hung up with the call"
    );
}

#[test]
fn a_call_through_the_voice_menu_can_be_barged_and_the_barge_is_recorded() {
    let agent = Party::new("1003", AGENT_HZ);
    let sup = Party::new("1950", SUPERVISOR_HZ);
    let plan = format!(
        "{}\n{}",
        plan_with(
            &[("1003", "luoyang", agent.port())],
            &[("1950", "luoyang", Reach::Static(sup.port()))],
        ),
        test_menu()
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    let (mut agent, mut sup) = (agent.on(&switch), sup.on(&switch));
    let mut caller = Party::new(LUOYANG_MOBILE, CALLER_HZ).on(&switch);
    let ok = caller.call("12366");
    assert_eq!(ok.status, 200, "the menu answers: {ok:?}");
    let media = caller.media.expect("media");
    let menu = common::switch::prompt_pcm("invalid");
    let deadline = Instant::now() + Duration::from_secs(15);
    while common::switch::find_prompt(&caller.rtp.heard(), &menu).is_none() {
        assert!(Instant::now() < deadline, "the caller never heard the menu");
        std::thread::sleep(Duration::from_millis(100));
    }
    caller.rtp.talk_to(media, Sound::Event('0'));
    std::thread::sleep(Duration::from_millis(400));
    caller.rtp.talk_to(media, Sound::Tone(CALLER_HZ));
    agent.take_call(Duration::from_secs(15));
    // The agent's number is read out to the caller first; then they talk.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let h = caller.rtp.heard();
        if h.len() > 8000 && hears(&h[h.len() - 8000..], AGENT_HZ) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the caller never heard the agent"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = sup.call("*331003");
    assert_eq!(r.status, 200, "a menu call can be monitored: {r:?}");
    let (c, a) = (caller.mark(), agent.mark());
    std::thread::sleep(STEP);
    expect(
        "the supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    expect(
        "the agent",
        &agent.heard_since(a),
        &[CALLER_HZ, SUPERVISOR_HZ],
        &[],
    );
    caller.hang_up();
    assert!(
        agent.bye(Duration::from_secs(5)).is_some(),
        "the agent is hung up"
    );
    assert!(
        sup.bye(Duration::from_secs(5)).is_some(),
        "the supervisor is hung up"
    );
    let (_, wav) = ended_call(&switch);
    assert!(
        blocks_hearing(&wav.right, SUPERVISOR_HZ) >= 15,
        "the barge is recorded: {}",
        describe(&wav.right)
    );
    assert!(
        never_hears(&wav.left, SUPERVISOR_HZ),
        "left: {}",
        describe(&wav.left)
    );
}

#[test]
fn a_second_supervisor_on_the_same_call_is_refused_and_the_first_keeps_hearing() {
    let agent = Party::new("1003", AGENT_HZ);
    let first = Party::new("1950", SUPERVISOR_HZ);
    let second = Party::new("1952", 2600.0);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent.port())],
        &[
            ("1950", "luoyang", Reach::Static(first.port())),
            ("1952", "province", Reach::Static(second.port())),
        ],
    ));
    let (mut agent, mut first, mut second) =
        (agent.on(&switch), first.on(&switch), second.on(&switch));
    let mut caller = connected_call(&switch, &mut agent);
    assert_eq!(first.call("*331003").status, 200);
    std::thread::sleep(Duration::from_millis(1000));
    // The call has one supervisor's seat: a second one is told it is busy, rather than
    // silently taking the first one's audio away (or losing theirs when the first leaves).
    let r = second.call("*311003");
    assert_eq!(r.status, 486, "a second supervisor is refused: {r:?}");
    let (f, c) = (first.mark(), caller.mark());
    std::thread::sleep(Duration::from_millis(2000));
    expect(
        "the first supervisor",
        &first.heard_since(f),
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    expect(
        "the caller",
        &caller.heard_since(c),
        &[AGENT_HZ, SUPERVISOR_HZ],
        &[],
    );
    first.hang_up();
    // Once the seat is free the second may take it.
    let r = second.call("*311003");
    assert_eq!(r.status, 200, "the seat is free again: {r:?}");
    std::thread::sleep(Duration::from_millis(2000));
    expect(
        "the second supervisor",
        &second.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[],
    );
    second.hang_up();
    caller.hang_up();
    assert!(agent.bye(Duration::from_secs(5)).is_some());
    let rows = monitoring_rows(&switch, 3);
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.supervisor.as_str(), r.mode.as_str(), r.allowed))
        .collect();
    assert_eq!(
        got,
        vec![
            ("1950", "barge", true),
            ("1952", "listen", false),
            ("1952", "listen", true)
        ]
    );
}

#[test]
fn sipp_peers_in_different_codecs_are_mixed_for_a_barging_supervisor() {
    use common::audio::tone_pcap;
    use common::sipp::Sipp;
    use hotline_media::Codec;
    let work = tempfile::tempdir().unwrap();
    let (caller_pcap, agent_pcap) = (work.path().join("c.pcap"), work.path().join("a.pcap"));
    // The caller speaks μ-law, the agent's phone A-law, the supervisor μ-law.
    tone_pcap(&caller_pcap, CALLER_HZ, Codec::Pcmu, 8);
    tone_pcap(&agent_pcap, AGENT_HZ, Codec::Pcma, 8);
    let agent_port = common::free_port();
    let sup = Party::new("1950", SUPERVISOR_HZ);
    let switch = Switch::start(&plan_with(
        &[("1003", "luoyang", agent_port)],
        &[("1950", "luoyang", Reach::Static(sup.port()))],
    ));
    let mut sup = sup.on(&switch);
    let mut agent = Sipp::agent(
        "agent",
        work.path(),
        "agent.xml",
        agent_port,
        &agent_pcap,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = Sipp::caller(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &caller_pcap,
        6000,
    );
    let calls = switch.calls_when(|c| c.first().is_some_and(|c| c["outcome"] == "answered"));
    assert_eq!(calls[0]["outcome"], "answered", "{calls:?}");
    std::thread::sleep(Duration::from_millis(500));
    let r = sup.call("*331003");
    assert_eq!(r.status, 200, "{r:?}");
    std::thread::sleep(Duration::from_millis(2500));
    expect(
        "the supervisor",
        &sup.heard_since(0),
        &[CALLER_HZ, AGENT_HZ],
        &[SUPERVISOR_HZ],
    );
    caller.expect_success(Duration::from_secs(20));
    agent.expect_success(Duration::from_secs(10));
    assert!(
        sup.bye(Duration::from_secs(5)).is_some(),
        "the supervisor is hung up with the call"
    );
    let (_, wav) = ended_call(&switch);
    assert!(
        blocks_hearing(&wav.right, SUPERVISOR_HZ) >= 15,
        "the barge reached the caller's side: {}",
        describe(&wav.right)
    );
    assert!(
        blocks_hearing(&wav.right, AGENT_HZ) >= 40,
        "{}",
        describe(&wav.right)
    );
    assert!(
        never_hears(&wav.left, SUPERVISOR_HZ),
        "left: {}",
        describe(&wav.left)
    );
}
