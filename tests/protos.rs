//! The PROTOS c07-sip suite (University of Oulu, 4,527 malformed INVITEs, each followed by its
//! CANCEL and ACK) against the real binary, sent by the suite's own Java sender
//! (`tests/protos/c07-sip-r2.jar`, GPL-2.0, see `tests/protos/README.md`).
//!
//! The cases go to 12366 with the per-source rate limit off, so each reaches the parser and
//! the call machine; an agent's desk phone rings for every call the switch routes to the
//! agent, so the mutated caller data also travels to the agent's leg. Between batches the switch must
//! still answer OPTIONS; at the end no call is left in progress, every request the desk phone
//! got parses, and a taxpayer's ordinary call is answered, bridged, recorded and ended.

mod common;

use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::phone::Phone;
use common::switch::{dialplan, Switch};
use common::taxpayer::Taxpayer;
use hotline_sip::message::SipMessage;
use hotline_sip::{parse_message, Message, Request, Response};

/// The suite's test cases are numbered 0 (the valid INVITE) to 4526.
const LAST_CASE: u32 = 4526;
/// Cases per run of the sender, with a liveness check after each.
const BATCH: u32 = 1000;

/// What the agent's desk phone saw from the switch.
#[derive(Default)]
struct SeatLog {
    invites: usize,
    cancels: usize,
    /// Datagrams from the switch that did not parse as SIP.
    unparsed: Vec<String>,
}

/// Agent 1003's desk phone: rings (180) for every call, ends a cancelled one with 487, and
/// answers (200 with an SDP answer; it sends no audio) once `answering` is set.
struct Seat {
    port: u16,
    answering: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<SeatLog>>,
    thread: Option<JoinHandle<()>>,
}

impl Seat {
    fn new() -> Seat {
        let phone = Phone::new(0);
        let port = phone.addr().port();
        Seat {
            port,
            answering: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
            log: Arc::new(Mutex::new(SeatLog::default())),
            thread: None,
        }
        .run(phone)
    }

    fn run(mut self, mut phone: Phone) -> Seat {
        let (answering, stop, log) = (self.answering.clone(), self.stop.clone(), self.log.clone());
        let media = UdpSocket::bind("127.0.0.1:0").expect("media socket");
        self.thread = Some(std::thread::spawn(move || {
            phone
                .sock
                .set_read_timeout(Some(Duration::from_millis(100)))
                .expect("timeout");
            let mut ringing: HashMap<String, Request> = HashMap::new();
            let mut buf = vec![0u8; 65_535];
            while !stop.load(Ordering::Relaxed) {
                let Ok((n, from)) = phone.sock.recv_from(&mut buf) else {
                    continue;
                };
                phone.switch = from;
                let req = match parse_message(&buf[..n]) {
                    Ok(Message::Request(req)) => req,
                    Ok(Message::Response(_)) => continue,
                    Err(e) => {
                        let head = String::from_utf8_lossy(&buf[..n.min(200)]).into_owned();
                        log.lock().unwrap().unparsed.push(format!("{e}: {head}"));
                        continue;
                    }
                };
                let call_id = req.call_id().unwrap_or_default().to_string();
                match req.method.as_str() {
                    "INVITE" if answering.load(Ordering::Relaxed) => {
                        log.lock().unwrap().invites += 1;
                        phone.answer(&req, media.local_addr().expect("media addr"));
                    }
                    "INVITE" => {
                        log.lock().unwrap().invites += 1;
                        send(&phone, &req, 180, "Ringing");
                        ringing.insert(call_id, req);
                    }
                    "CANCEL" => {
                        log.lock().unwrap().cancels += 1;
                        send(&phone, &req, 200, "OK");
                        if let Some(invite) = ringing.remove(&call_id) {
                            send(&phone, &invite, 487, "Request Terminated");
                        }
                    }
                    "ACK" => {}
                    _ => send(&phone, &req, 200, "OK"),
                }
            }
        }));
        self
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn send(phone: &Phone, req: &Request, status: u16, reason: &str) {
    let r = Response::to_request(req, status, reason).with_to_tag("seat");
    phone
        .sock
        .send_to(&r.to_bytes(), phone.switch)
        .expect("send");
}

/// The sender, installed by the README's test command (Debian's `default-jre-headless`).
fn java() -> &'static str {
    let found = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "java is missing: the PROTOS suite's sender needs it (apt-get install default-jre-headless)"
    );
    "java"
}

/// How long one run of the sender may take (1,000 cases take about 20 s).
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Runs cases `first..=last` of the suite at the switch; the sender's output.
fn run_cases(switch: &Switch, first: u32, last: u32) -> String {
    let jar = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/protos/c07-sip-r2.jar");
    let local_port = common::free_port();
    let out_path = switch.dir.path().join(format!("protos-{first}.txt"));
    let err_path = switch.dir.path().join(format!("protos-{first}.err"));
    let out = std::fs::File::create(&out_path).expect("sender output file");
    let err = std::fs::File::create(&err_path).expect("sender error file");
    let mut sender = Command::new(java())
        // The sender cuts a message to 65,507 characters after decoding it; Latin-1 keeps a
        // character a byte, so the cut lands inside the message and the sender does not stop.
        .arg("-Dfile.encoding=ISO-8859-1")
        .arg("-jar")
        .arg(&jar)
        .args(["-touri", "12366@127.0.0.1", "-sendto", "127.0.0.1"])
        // A Luoyang mobile, routed to agent 1003; without an address of ours the sender writes
        // the machine's host name into Via, Contact and SDP.
        .args(["-fromuri", "13903790001@127.0.0.1"])
        .args(["-dport", &switch.port.to_string()])
        .args(["-lport", &local_port.to_string()])
        .args(["-delay", "0", "-replywait", "5", "-teardown"])
        .args(["-start", &first.to_string(), "-stop", &last.to_string()])
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("run the PROTOS sender");
    let deadline = Instant::now() + RUN_LIMIT;
    let status = loop {
        if let Some(status) = sender.try_wait().expect("sender status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = sender.kill();
            let _ = sender.wait();
            panic!("the sender ran past {RUN_LIMIT:?} on cases {first}-{last}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        status.success(),
        "the sender stopped ({status}): {err}\n{}",
        tail(&text)
    );
    text
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// An OPTIONS from a fresh phone gets its 200: the switch still reads and answers.
fn still_answers(switch: &Switch) {
    let phone = Phone::new(switch.port);
    let me = phone.addr();
    phone.send(&format!(
        "OPTIONS sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK-alive-{p}\r\n\
From: <sip:probe@{me}>;tag=p\r\nTo: <sip:12366@{sw}>\r\nCall-ID: alive-{p}@test\r\n\
CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        sw = phone.switch,
        p = me.port()
    ));
    let r = phone.final_response();
    assert_eq!(r.status, 200, "OPTIONS after the cases:\n{}", switch.log());
}

#[test]
fn the_protos_sip_suite_leaves_the_switch_answering_and_nothing_unfinished() {
    let seat = Seat::new();
    let plan = format!(
        "{}\n[overload]\nnew_requests_per_source = 0\n",
        dialplan(&[("1003", "luoyang", seat.port)], 15, 600)
    );
    let mut switch = Switch::start(&plan);

    let mut sent = 0;
    let mut replies: std::collections::BTreeMap<String, usize> = Default::default();
    let mut first = 0;
    while first <= LAST_CASE {
        let last = (first + BATCH - 1).min(LAST_CASE);
        let out = run_cases(&switch, first, last);
        sent += out.matches("Sending Test-Case #").count();
        for code in out
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Received Returncode: "))
        {
            *replies.entry(code.to_string()).or_default() += 1;
        }
        assert!(
            switch.exited_within(Duration::ZERO).is_none(),
            "the switch exited during cases {first}-{last}:\n{}",
            switch.log()
        );
        still_answers(&switch);
        first = last + 1;
    }
    assert_eq!(sent, LAST_CASE as usize + 1, "every case was sent");

    // Every call the cases started has ended (cancelled, refused, or rung out), with a record.
    let calls = switch.calls_when(|c| !c.is_empty() && c.iter().all(|c| c["ended_at"].is_string()));
    let open: Vec<_> = calls
        .iter()
        .filter(|c| !c["ended_at"].is_string())
        .collect();
    assert!(open.is_empty(), "calls left unfinished: {open:?}");
    assert!(
        calls.len() > 1_000,
        "the cases reached the call machine: {} calls",
        calls.len()
    );
    // The last CANCELs to the agent may still be on their way when the records end.
    let settled = Instant::now() + Duration::from_secs(5);
    while Instant::now() < settled {
        let log = seat.log.lock().unwrap();
        if log.cancels == log.invites {
            break;
        }
        drop(log);
        std::thread::sleep(Duration::from_millis(100));
    }
    {
        let log = seat.log.lock().unwrap();
        assert!(
            log.unparsed.is_empty(),
            "the switch sent the agent: {:?}",
            log.unparsed
        );
        // How many calls reach the agent before their CANCEL depends on timing; that every
        // ring was cancelled does not.
        assert!(log.invites > 0, "the agent's phone rang");
        assert_eq!(log.cancels, log.invites, "every ring was cancelled");
        println!(
            "PROTOS c07-sip: {sent} cases, replies by status {replies:?}, {} call records, \
             the agent's phone rang {} times and was cancelled {} times",
            calls.len(),
            log.invites,
            log.cancels
        );
    }

    // A taxpayer's ordinary call after the suite: answered, recorded, ended.
    seat.answering.store(true, Ordering::Relaxed);
    let mut taxpayer = Taxpayer::dial(switch.port, "13903790000");
    assert_eq!(taxpayer.answered(440.0).status, 200, "{}", switch.log());
    std::thread::sleep(Duration::from_millis(1500));
    taxpayer.hang_up();
    let before = calls.len();
    let calls = switch.calls_when(|c| {
        c.len() > before
            && c.iter()
                .any(|c| c["outcome"] == "answered" && c["ended_at"].is_string())
    });
    let answered = calls
        .iter()
        .find(|c| c["outcome"] == "answered")
        .unwrap_or_else(|| panic!("the taxpayer's call: {:?}", calls.last()));
    let wav = common::audio::read_wav(Path::new(
        answered["recording_path"].as_str().expect("recorded"),
    ));
    assert!(wav.left.len() > 8_000, "about a second or more recorded");
    switch.kill_hard();
}
