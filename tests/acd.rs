//! The ACD end to end: agents' states from desk phones (feature codes) and from the
//! operator's CLI, distribution (a paused agent is skipped, ring-all), calls out through a
//! carrier trunk (回访) with their toll-fraud refusals, and a city cut back to its old system
//! by a reload (割接). The real switch on 127.0.0.1; SIPp and hand-driven phones are the
//! peers. Assertions are on what the peers saw on the wire and what landed on disk (call
//! records, the `agent_states` and `legs` tables, recordings).

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::audio::{dominant, read_wav, tone_pcap};
use common::phone::Phone;
use common::rtp_phone::{RtpPhone, Sound};
use common::sipp::{Sipp, Traced};
use common::switch::{any_port, dialplan, find_prompt, prompt_pcm, wrap_up, Switch};
use hotline_media::Codec;
use hotline_sip::message::SipMessage;
use hotline_sip::{HeaderName, Message, Request, Response};

const LUOYANG_MOBILE: &str = "13903790000";
/// The taxpayer an agent calls back.
const TAXPAYER: &str = "13903790123";

/// Tones: callers and agents' desk phones speak 440 Hz (PCMU), the far ends (agents' phones
/// when rung, trunks) 1000 Hz (PCMA).
fn tones(dir: &Path) -> (PathBuf, PathBuf) {
    let near = dir.join("near-440.pcap");
    let far = dir.join("far-1000.pcap");
    tone_pcap(&near, 440.0, Codec::Pcmu, 8);
    tone_pcap(&far, 1000.0, Codec::Pcma, 8);
    (near, far)
}

/// Adds `lines` to the `[[region]]` with this id.
fn region_keys(plan: &str, region: &str, lines: &str) -> String {
    let anchor = format!("id = \"{region}\"\n");
    assert!(plan.contains(&anchor), "no region {region}");
    plan.replacen(&anchor, &format!("{anchor}{lines}\n"), 1)
}

/// Adds `lines` to the `[[agent]]` with this id.
fn agent_keys(plan: &str, agent: &str, lines: &str) -> String {
    let anchor = format!("id = \"{agent}\"\n");
    assert!(plan.contains(&anchor), "no agent {agent}");
    plan.replacen(&anchor, &format!("{anchor}{lines}\n"), 1)
}

/// A voice menu that queues every caller at once: for `filing` in service hours, for
/// `invoices` out of them (`--hours closed`), so one switch can ask for either skill
/// without a key press. Callers still hear the agent's number before the agent.
fn skill_menu() -> String {
    let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts");
    format!(
        r#"
[ivr]
start = "filing"
closed = "invoices"
prompts = "{prompts}"
position_every_secs = 0
survey = false

[[ivr.node]]
id = "filing"
queue = "filing"

[[ivr.node]]
id = "invoices"
queue = "invoices"
"#
    )
}

/// Adds `lines` to `[switch]`.
fn switch_keys(plan: &str, lines: &str) -> String {
    plan.replacen(
        "default_area_code = \"0371\"\n",
        &format!("default_area_code = \"0371\"\n{lines}\n"),
        1,
    )
}

/// A carrier trunk on 127.0.0.1:`port` for calls out to mobiles and landlines.
fn trunk(name: &str, port: u16, extra: &str) -> String {
    format!(
        "\n[[trunk]]\nname = \"{name}\"\naddress = \"127.0.0.1:{port}\"\n\
allow = [\"1[3-9]XXXXXXXXX\", \"0ZXXXXXXXX.\"]\n{extra}\n"
    )
}

/// An agent's desk phone as SIPp: dials `dialled` on the switch as `agent` (From user),
/// from their static seat's port on 127.0.0.1 (so the seat is trusted by its address and
/// port), or any quiet port for a phone that registers. Keys: agent, caller (both the
/// agent), pcap; `-d talk_ms`.
#[allow(clippy::too_many_arguments)]
fn desk_sipp(
    name: &str,
    dir: &Path,
    scenario: &str,
    switch: &Switch,
    agent: &str,
    dialled: &str,
    pcap: &Path,
    talk_ms: u64,
    extra: &[&str],
) -> Sipp {
    let port = switch.seat(agent).unwrap_or_else(common::quiet_port_block);
    sipp_phone(
        name,
        dir,
        scenario,
        (switch.port, port),
        agent,
        dialled,
        pcap,
        talk_ms,
        extra,
    )
}

/// A SIPp phone on 127.0.0.1:`ports.1` dialling `dialled` on the switch at `ports.0` as
/// `user`.
#[allow(clippy::too_many_arguments)]
fn sipp_phone(
    name: &str,
    dir: &Path,
    scenario: &str,
    (switch_port, port): (u16, u16),
    agent: &str,
    dialled: &str,
    pcap: &Path,
    talk_ms: u64,
    extra: &[&str],
) -> Sipp {
    let media = common::quiet_port_block();
    let mut args: Vec<String> = vec![
        format!("127.0.0.1:{switch_port}"),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port.to_string(),
        "-mp".into(),
        media.to_string(),
        "-s".into(),
        dialled.into(),
        "-m".into(),
        "1".into(),
        "-key".into(),
        "agent".into(),
        agent.into(),
        "-key".into(),
        "caller".into(),
        agent.into(),
        "-key".into(),
        "pcap".into(),
        pcap.display().to_string(),
        "-d".into(),
        talk_ms.to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Sipp::start(name, dir, scenario, &args)
}

/// The trunk's digest credentials the carrier scenarios expect.
const CREDENTIALS: &str = "username = \"hotline-out\"\npassword = \"trunk-secret\"";

/// A switch with agent 1003 at a static seat and a trunk `carrier` played by SIPp.
struct CallOut {
    switch: Switch,
    carrier: Sipp,
    trunk_port: u16,
}

/// [`CallOut`] with `trunk_extra` settings on the trunk and the carrier running `scenario`
/// with `pcap`, ready for 1003 to dial out.
fn call_out(work: &Path, trunk_extra: &str, scenario: &str, pcap: &Path) -> CallOut {
    let trunk_port = common::quiet_port_block();
    let plan = dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60)
        + &trunk("carrier", trunk_port, trunk_extra);
    let switch = Switch::start(&plan);
    let carrier = Sipp::agent("carrier", work, scenario, trunk_port, pcap, 1);
    std::thread::sleep(Duration::from_millis(300));
    CallOut {
        switch,
        carrier,
        trunk_port,
    }
}

/// Agent 1003's desk phone (SIPp, a static seat) calling the taxpayer back: `9` + TAXPAYER.
fn dials_taxpayer(
    name: &str,
    dir: &Path,
    scenario: &str,
    switch: &Switch,
    pcap: &Path,
    talk_ms: u64,
) -> Sipp {
    let dialled = format!("9{TAXPAYER}");
    desk_sipp(
        name,
        dir,
        scenario,
        switch,
        "1003",
        &dialled,
        pcap,
        talk_ms,
        &[],
    )
}

/// A taxpayer calling 12366, as [`Sipp::caller_with`] but on quiet ports.
#[allow(clippy::too_many_arguments)]
fn taxpayer_with(
    name: &str,
    dir: &Path,
    scenario: &str,
    switch_port: u16,
    number: &str,
    pcap: &Path,
    talk_ms: u64,
    extra: &[&str],
) -> Sipp {
    sipp_phone(
        name,
        dir,
        scenario,
        (switch_port, common::quiet_port_block()),
        number,
        "12366",
        pcap,
        talk_ms,
        extra,
    )
}

/// A taxpayer calling 12366 who talks `talk_ms` and hangs up (caller.xml).
fn taxpayer(
    name: &str,
    dir: &Path,
    switch_port: u16,
    number: &str,
    pcap: &Path,
    talk_ms: u64,
) -> Sipp {
    taxpayer_with(
        name,
        dir,
        "caller.xml",
        switch_port,
        number,
        pcap,
        talk_ms,
        &[],
    )
}

/// Requests of `method` a SIPp peer received.
fn received(traced: &[Traced], method: &str) -> Vec<Traced> {
    traced
        .iter()
        .filter(|t| t.received && t.is_request(method))
        .cloned()
        .collect()
}

/// `hotline ARGS --control PATH`: (exit success, stdout, stderr).
fn cli(args: &[&str], switch: &Switch) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(args)
        .arg("--control")
        .arg(switch.control())
        .output()
        .expect("run hotline");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (from, to, reason) as `agent_states` rows read back.
fn row(from: &str, to: &str, reason: Option<&str>) -> (String, String, Option<String>) {
    (from.into(), to.into(), reason.map(str::to_string))
}

/// Whether `heard` holds the whole of prompt `name`, not just its opening: 操作成功 and
/// 操作失败 begin alike, so the first 100 ms [`find_prompt`] probes cannot tell them apart.
fn heard_whole(heard: &[i16], name: &str) -> bool {
    let prompt = prompt_pcm(name);
    let Some(at) = find_prompt(heard, &prompt) else {
        return false;
    };
    (at.saturating_sub(4)..at + 4).any(|at| {
        let Some(window) = heard.get(at..at + prompt.len()) else {
            return false;
        };
        let dot: f64 = window
            .iter()
            .zip(&prompt)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        let e = |v: &[i16]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (e(window) * e(&prompt)).max(1.0) > 0.9
    })
}

fn state_of(switch: &Switch, agent: &str, state: &str) -> serde_json::Value {
    let line = switch.agent_when(agent, |a| a["state"] == state);
    assert_eq!(line["state"], state, "{agent}: {line}");
    line
}

// ---------------------------------------------------------------------------------------
// A hand-driven desk phone.
// ---------------------------------------------------------------------------------------

/// An agent's desk phone driven by hand: dials feature codes and numbers from its own UDP
/// port, answers the switch's digest challenge when it has a secret, and keeps what it
/// heard (decoded RTP).
struct Desk {
    sip: Phone,
    rtp: RtpPhone,
    user: String,
    secret: Option<String>,
    calls: u32,
}

/// One call a desk phone placed.
struct Placed {
    /// The final status it got (after answering a challenge, if any).
    status: u16,
    /// The switch's `WWW-Authenticate` values, when it challenged the first INVITE.
    challenge: Vec<String>,
    target: String,
    call_id: String,
    /// The final response's To (with the switch's tag).
    to: String,
    cseq: u32,
    /// When the final response arrived.
    at: Instant,
    /// How much had been heard before this call.
    heard_before: usize,
}

impl Desk {
    /// `user`'s desk phone: at their static seat's port, or anywhere for a phone that
    /// registers (`secret`) or whose seat is trusted from any port.
    fn new(switch: &Switch, user: &str, secret: Option<&str>) -> Desk {
        let sip = match switch.seat(user) {
            Some(port) => Phone::at(port, switch.port),
            None => Phone::new(switch.port),
        };
        Desk {
            sip,
            rtp: RtpPhone::new(),
            user: user.into(),
            secret: secret.map(str::to_string),
            calls: 0,
        }
    }

    fn invite(&self, target: &str, call_id: &str, cseq: u32, branch: &str, extra: &str) -> String {
        let (me, sw) = (self.sip.addr(), self.sip.switch);
        let sdp = format!(
            "v=0\r\no=desk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
            self.rtp.addr.port()
        );
        format!(
            "INVITE sip:{target}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch}\r\n\
From: <sip:{user}@{me}>;tag=desk{n}\r\nTo: <sip:{target}@{sw}>\r\nCall-ID: {call_id}\r\n\
CSeq: {cseq} INVITE\r\nContact: <sip:{user}@{me}>\r\nMax-Forwards: 70\r\n{extra}\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len(),
            user = self.user,
            n = self.calls,
        )
    }

    fn in_dialog(&self, method: &str, p: &Placed, cseq: u32, branch: &str) -> String {
        let (me, sw) = (self.sip.addr(), self.sip.switch);
        format!(
            "{method} sip:{t}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={branch}\r\n\
From: <sip:{user}@{me}>;tag=desk{n}\r\nTo: {to}\r\nCall-ID: {cid}\r\nCSeq: {cseq} {method}\r\n\
Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            t = p.target,
            user = self.user,
            n = self.calls,
            to = p.to,
            cid = p.call_id,
        )
    }

    /// The next final response on `call_id`.
    fn final_response(&self, call_id: &str) -> Response {
        loop {
            match self.sip.recv() {
                Message::Response(r) if r.status >= 200 && r.call_id() == Some(call_id) => {
                    return r
                }
                Message::Request(r) => self.sip.reply(&r, 200),
                _ => {}
            }
        }
    }

    /// Dials `target`: INVITE, the digest challenge answered once if the phone has a
    /// secret, the final response ACKed, RTP started towards the switch on a 2xx.
    fn dial(&mut self, target: &str) -> Placed {
        self.calls += 1;
        let port = self.sip.addr().port();
        let n = self.calls;
        let call_id = format!("desk-{}-{port}-{n}@test", self.user);
        let branch = |i: u32| format!("z9hG4bKdesk{port}x{n}x{i}");
        let heard_before = self.rtp.heard().len();
        self.sip
            .send(&self.invite(target, &call_id, 1, &branch(1), ""));
        let mut r = self.final_response(&call_id);
        let mut cseq = 1;
        let mut challenge = Vec::new();
        if r.status == 401 {
            challenge = r
                .headers
                .get_all(&HeaderName::WwwAuthenticate)
                .into_iter()
                .map(str::to_string)
                .collect();
            let mut p = self.placed(&r, target, &call_id, cseq, heard_before);
            self.sip.send(&self.ack(&p, &branch(1)));
            if let Some(secret) = self.secret.clone() {
                let md5 = challenge
                    .iter()
                    .find(|c| c.contains("MD5"))
                    .unwrap_or_else(|| panic!("no MD5 challenge: {challenge:?}"));
                let uri = format!("sip:{target}@{}", self.sip.switch);
                let auth = hotline_sip::digest::Challenge::parse(md5)
                    .expect("a digest challenge")
                    .answer("INVITE", &uri, &self.user, &secret, "0a4f113b")
                    .expect("MD5 answer");
                cseq = 2;
                self.sip.send(&self.invite(
                    target,
                    &call_id,
                    2,
                    &branch(2),
                    &format!("Authorization: {auth}\r\n"),
                ));
                r = self.final_response(&call_id);
            } else {
                p.challenge = challenge;
                return p;
            }
        }
        let mut p = self.placed(&r, target, &call_id, cseq, heard_before);
        p.challenge = challenge;
        if (200..300).contains(&r.status) {
            self.sip.send(&self.ack(&p, &branch(9)));
            let body = String::from_utf8_lossy(&r.body).to_string();
            let media: u16 = body
                .lines()
                .find_map(|l| l.strip_prefix("m=audio "))
                .and_then(|l| l.split_whitespace().next())
                .and_then(|p| p.parse().ok())
                .expect("switch media port in its answer");
            self.rtp
                .talk_to(SocketAddr::from(([127, 0, 0, 1], media)), Sound::Silence);
        } else {
            self.sip.send(&self.ack(&p, &branch(cseq)));
        }
        p
    }

    fn placed(&self, r: &Response, target: &str, call_id: &str, cseq: u32, heard: usize) -> Placed {
        Placed {
            status: r.status,
            challenge: Vec::new(),
            target: target.into(),
            call_id: call_id.into(),
            to: r
                .headers
                .get(&HeaderName::To)
                .unwrap_or_default()
                .to_string(),
            cseq,
            at: Instant::now(),
            heard_before: heard,
        }
    }

    fn ack(&self, p: &Placed, branch: &str) -> String {
        self.in_dialog("ACK", p, p.cseq, branch)
    }

    /// Waits for the switch's BYE on `p` (answering 200); how long after the answer it came.
    fn expect_bye(&self, p: &Placed, limit: Duration) -> Duration {
        let deadline = Instant::now() + limit;
        let mut buf = vec![0u8; 65535];
        while Instant::now() < deadline {
            let Ok((n, _)) = self.sip.sock.recv_from(&mut buf) else {
                continue;
            };
            if let Ok(Message::Request(r)) = hotline_sip::parse_message(&buf[..n]) {
                self.sip.reply(&r, 200);
                if r.method.as_str() == "BYE" && r.call_id() == Some(p.call_id.as_str()) {
                    return p.at.elapsed();
                }
            }
        }
        panic!("no BYE from the switch within {limit:?}");
    }

    /// Hangs up `p` first; the switch must answer 200.
    fn hang_up(&self, p: &Placed) {
        self.sip.send(&self.in_dialog(
            "BYE",
            p,
            p.cseq + 1,
            &format!("z9hG4bKbye{}", p.call_id.len() + self.calls as usize),
        ));
        let r = self.final_response(&p.call_id);
        assert_eq!(r.status, 200, "BYE answered");
    }

    /// What the phone heard during `p` so far.
    fn heard(&self, p: &Placed) -> Vec<i16> {
        self.rtp.heard()[p.heard_before..].to_vec()
    }
}

/// Dials a feature code, asserts it was answered, and hangs up at once (the state changes
/// before the answer).
fn quick_feature(desk: &mut Desk, code: &str) {
    let p = desk.dial(code);
    assert_eq!(p.status, 200, "{code} answered");
    desk.hang_up(&p);
}

// ---------------------------------------------------------------------------------------
// Feature codes.
// ---------------------------------------------------------------------------------------

#[test]
fn a_feature_code_is_confirmed_by_voice_then_the_switch_hangs_up() {
    let plan = dialplan(
        &[
            ("1003", "luoyang", common::quiet_port_block()),
            ("1019", "luoyang", common::quiet_port_block()),
        ],
        15,
        60,
    );
    let switch = Switch::start_with_prompts(&plan, &[]);
    state_of(&switch, "1003", "available");
    let mut desk = Desk::new(&switch, "1003", None);

    // *243: not ready for training. A static seat is trusted by its address: no challenge.
    let p = desk.dial("*243");
    assert_eq!(p.status, 200);
    assert!(p.challenge.is_empty(), "a static seat is not challenged");
    let after = desk.expect_bye(&p, Duration::from_secs(8));
    assert!(
        (Duration::from_millis(1500)..Duration::from_secs(6)).contains(&after),
        "BYE after the ~2.3 s confirmation: {after:?}"
    );
    let heard = desk.heard(&p);
    assert!(
        heard_whole(&heard, "feature-ok"),
        "heard 操作成功 ({} samples)",
        heard.len()
    );
    assert!(!heard_whole(&heard, "feature-failed"));
    let a = state_of(&switch, "1003", "not-ready");
    assert_eq!(a["reason"], "training");

    // Another phone at the seat's address (an office shares one) cannot act as 1003: it is
    // challenged, and has no password to answer with.
    let mut impostor = Desk {
        sip: Phone::new(switch.port),
        ..Desk::new(&switch, "1019", None)
    };
    impostor.user = "1003".into();
    assert_eq!(impostor.dial("*23").status, 401, "not from the seat's port");
    state_of(&switch, "1003", "not-ready");

    // An unknown code is not a number the switch routes; a supervisor's code from an agent
    // is refused.
    assert_eq!(desk.dial("*249").status, 404);
    assert_eq!(desk.dial("*99").status, 404);
    assert_eq!(desk.dial("*311019").status, 403, "agents may not monitor");

    // *22 then *23: ready needs a logged-in agent, so the phone hears the failure.
    quick_feature(&mut desk, "*22");
    state_of(&switch, "1003", "logged-out");
    let p = desk.dial("*23");
    assert_eq!(p.status, 200, "answered, to say it failed");
    let after = desk.expect_bye(&p, Duration::from_secs(8));
    assert!(after >= Duration::from_millis(1500), "{after:?}");
    let heard = desk.heard(&p);
    assert!(heard_whole(&heard, "feature-failed"), "heard 操作失败");
    assert!(!heard_whole(&heard, "feature-ok"));
    state_of(&switch, "1003", "logged-out");
    assert!(switch.calls().is_empty(), "feature codes are not calls");
}

#[test]
fn a_sequence_of_feature_codes_leaves_one_agent_states_row_per_change() {
    let plan = dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60);
    let switch = Switch::start_with_prompts(&plan, &[]);
    state_of(&switch, "1003", "available");
    let mut desk = Desk::new(&switch, "1003", None);
    for code in [
        "*243", "*23", "*22", "*23", "*21", "*241", "*245", "*23", "*23",
    ] {
        quick_feature(&mut desk, code);
    }
    let expected = vec![
        row("logged-out", "available", None),
        row("available", "not-ready", Some("training")),
        row("not-ready", "available", None),
        row("available", "logged-out", None),
        // *23 while logged out: refused, no row.
        row("logged-out", "available", None),
        row("available", "not-ready", Some("break")),
        // A new reason is a change of its own.
        row("not-ready", "not-ready", Some("paperwork")),
        row("not-ready", "available", None),
        // *23 when already available: nothing changed, no row.
    ];
    let rows = switch.agent_states_when("1003", |r| r.len() >= expected.len());
    std::thread::sleep(Duration::from_millis(300));
    let rows_later = switch.agent_states_when("1003", |_| true);
    assert_eq!(rows, expected);
    assert_eq!(rows_later, expected, "no extra rows");
    let a = state_of(&switch, "1003", "available");
    assert!(a["reason"].is_null());
}

#[test]
fn a_registered_agent_answers_the_digest_challenge_before_a_feature_code_counts() {
    let work = tempfile::tempdir().unwrap();
    let (near, _) = tones(work.path());
    // 1019 has a secret (port 0): it registers, and its calls are challenged.
    let plan = dialplan(
        &[
            ("1003", "luoyang", common::quiet_port_block()),
            ("1019", "luoyang", 0),
        ],
        15,
        60,
    );
    let switch = Switch::start_with_prompts(&plan, &[]);
    let a = state_of(&switch, "1019", "logged-out");
    assert_eq!(a["phone"], "unreachable");
    let reg = Phone::new(switch.port);
    assert_eq!(reg.register("1019", "pw-1019", "MD5", 120).status, 200);
    let a = state_of(&switch, "1019", "available");
    assert_eq!(a["phone"], "registered");

    // SIPp: 401, ACK, INVITE again with [authentication], CSeq 2; answered, BYE. SIPp's
    // digest names the switch without the dialled code unless told, as no desk phone does.
    let auth_uri = format!("*242@127.0.0.1:{}", switch.port);
    let mut sipp = desk_sipp(
        "desk",
        work.path(),
        "acd_feature_auth.xml",
        &switch,
        "1019",
        "*242",
        &near,
        0,
        &["-au", "1019", "-ap", "pw-1019", "-auth_uri", &auth_uri],
    );
    sipp.expect_success(Duration::from_secs(15));
    let traced = sipp.traced();
    let challenge = traced
        .iter()
        .find(|t| t.received && t.is_response(401))
        .expect("challenged");
    let www = challenge.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        www.contains("realm=\"hotline\"") && www.contains("qop=\"auth\""),
        "{www}"
    );
    let invites: Vec<_> = traced
        .iter()
        .filter(|t| !t.received && t.is_request("INVITE"))
        .collect();
    assert_eq!(invites.len(), 2, "the INVITE, then again with credentials");
    assert!(invites[1].header("Authorization").is_some());
    let ok = traced
        .iter()
        .find(|t| t.received && t.is_response(200))
        .expect("answered");
    let bye = traced
        .iter()
        .find(|t| t.received && t.is_request("BYE"))
        .expect("the switch hung up");
    let confirm = (bye.at - ok.at).num_milliseconds();
    assert!(
        (1500..6000).contains(&confirm),
        "BYE after the confirmation: {confirm} ms"
    );
    let a = state_of(&switch, "1019", "not-ready");
    assert_eq!(a["reason"], "lunch");

    // A wrong password, or none, changes nothing.
    let mut wrong = Desk::new(&switch, "1019", Some("not-the-password"));
    let p = wrong.dial("*23");
    assert!(!p.challenge.is_empty(), "challenged first");
    assert_eq!(p.status, 403);
    let mut none = Desk::new(&switch, "1019", None);
    assert_eq!(none.dial("*23").status, 401);
    let a = state_of(&switch, "1019", "not-ready");
    assert_eq!(a["reason"], "lunch");

    // The right password: ready again; the challenge is the switch's realm with qop=auth.
    let mut right = Desk::new(&switch, "1019", Some("pw-1019"));
    let p = right.dial("*23");
    assert_eq!(p.status, 200);
    assert!(p
        .challenge
        .iter()
        .any(|c| c.contains("realm=\"hotline\"") && c.contains("qop=\"auth\"")));
    right.hang_up(&p);
    state_of(&switch, "1019", "available");
    let rows = switch.agent_states_when("1019", |r| r.len() >= 3);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "not-ready", Some("lunch")),
            row("not-ready", "available", None),
        ]
    );
}

// ---------------------------------------------------------------------------------------
// The operator's CLI.
// ---------------------------------------------------------------------------------------

#[test]
fn the_operator_sets_agent_states_from_the_cli_and_agents_lists_them() {
    let plan = dialplan(
        &[
            ("1003", "luoyang", common::quiet_port_block()),
            ("1019", "luoyang", 0),
        ],
        15,
        60,
    )
    .replacen(
        "id = \"1003\"\nregion = \"luoyang\"\n",
        "id = \"1003\"\nregion = \"luoyang\"\nname = \"张伟\"\n",
        1,
    );
    let switch = Switch::start(&plan);
    let agents = switch.agents();
    assert_eq!(agents.len(), 2, "{agents:?}");
    let a = state_of(&switch, "1003", "available");
    assert_eq!(a["name"], "张伟");
    assert_eq!(a["region"], "luoyang");
    assert!(a["reason"].is_null());
    assert_eq!(
        a["phone"], "registered",
        "a static seat counts as reachable"
    );
    assert_eq!(a["calls_today"], 0);
    assert_eq!(a["talk_today_secs"], 0);
    let since = a["since"].as_str().expect("since");
    chrono::DateTime::parse_from_rfc3339(since).unwrap_or_else(|e| panic!("{since}: {e}"));
    let b = state_of(&switch, "1019", "logged-out");
    assert_eq!(b["phone"], "unreachable");
    assert!(b["name"].is_null());

    let (ok, out, err) = cli(&["agent", "pause", "1003", "--reason", "lunch"], &switch);
    assert!(ok, "{out}{err}");
    let a = state_of(&switch, "1003", "not-ready");
    assert_eq!(a["reason"], "lunch");
    // Without --reason, a pause is a break.
    assert!(cli(&["agent", "pause", "1003"], &switch).0);
    assert_eq!(state_of(&switch, "1003", "not-ready")["reason"], "break");
    assert!(cli(&["agent", "ready", "1003"], &switch).0);
    assert!(state_of(&switch, "1003", "available")["reason"].is_null());
    assert!(cli(&["agent", "logout", "1003"], &switch).0);
    state_of(&switch, "1003", "logged-out");
    // Ready needs a logged-in agent.
    let (ok, _, err) = cli(&["agent", "ready", "1003"], &switch);
    assert!(!ok, "ready while logged out is refused");
    assert!(err.contains("not logged in"), "{err}");
    assert!(cli(&["agent", "login", "1003"], &switch).0);
    state_of(&switch, "1003", "available");

    // Refusals: an unknown reason, the switch's own no-answer, a phone that is not
    // registered, an unknown agent.
    let (ok, _, err) = cli(&["agent", "pause", "1003", "--reason", "nap"], &switch);
    assert!(!ok && err.contains("lunch"), "names the reasons: {err}");
    let (ok, _, err) = cli(
        &["agent", "pause", "1003", "--reason", "no-answer"],
        &switch,
    );
    assert!(!ok, "no-answer is the switch's: {err}");
    let (ok, _, err) = cli(&["agent", "login", "1019"], &switch);
    assert!(!ok && err.contains("not registered"), "{err}");
    let (ok, _, err) = cli(&["agent", "ready", "9999"], &switch);
    assert!(!ok && err.contains("no such agent"), "{err}");
    state_of(&switch, "1003", "available");
    state_of(&switch, "1019", "logged-out");

    let rows = switch.agent_states_when("1003", |r| r.len() >= 7);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "not-ready", Some("lunch")),
            row("not-ready", "not-ready", Some("break")),
            row("not-ready", "available", None),
            row("available", "logged-out", None),
            row("logged-out", "available", None),
        ]
    );
    assert!(switch.agent_states_when("1019", |_| true).is_empty());
}

// ---------------------------------------------------------------------------------------
// Distribution.
// ---------------------------------------------------------------------------------------

#[test]
fn a_paused_agent_is_skipped_and_takes_calls_again_once_ready() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // Equal idle time: without the pause the lower number, 1003, would ring first.
    // 1003's phone answers on the seat's port while another SIPp dials as 1003.
    let switch = Switch::start_with_prompts(
        &any_port(
            &dialplan(&[("1003", "luoyang", pa), ("1019", "luoyang", pb)], 15, 60),
            "1003",
        ),
        &[],
    );
    let mut a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));

    let mut pause = desk_sipp(
        "pause",
        work.path(),
        "acd_feature.xml",
        &switch,
        "1003",
        "*243",
        &near,
        0,
        &[],
    );
    pause.expect_success(Duration::from_secs(15));
    assert_eq!(state_of(&switch, "1003", "not-ready")["reason"], "training");

    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1500,
    );
    caller.expect_success(Duration::from_secs(30));
    b.expect_success(Duration::from_secs(10));
    assert!(a.running(), "the paused agent's phone must not ring");
    assert!(received(&a.traced(), "INVITE").is_empty());
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1019", "{calls:?}");
    let b_line = switch.agent_when("1019", |l| l["calls_today"] == 1);
    assert_eq!(b_line["calls_today"], 1, "{b_line}");
    assert!(b_line["talk_today_secs"].as_u64().unwrap() >= 1, "{b_line}");

    let mut ready = desk_sipp(
        "ready",
        work.path(),
        "acd_feature.xml",
        &switch,
        "1003",
        "*23",
        &near,
        0,
        &[],
    );
    ready.expect_success(Duration::from_secs(15));
    let a_line = state_of(&switch, "1003", "available");
    assert!(a_line["reason"].is_null());

    // Back in the line: the next caller reaches 1003 (1019 has just had a call).
    let mut caller2 = taxpayer(
        "caller2",
        work.path(),
        switch.port,
        "13903790001",
        &near,
        1000,
    );
    caller2.expect_success(Duration::from_secs(30));
    a.expect_success(Duration::from_secs(10));
    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    assert_eq!(calls[1]["agent"], "1003", "{calls:?}");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 6);
    assert_eq!(
        rows[..3],
        [
            row("logged-out", "available", None),
            row("available", "not-ready", Some("training")),
            row("not-ready", "available", None),
        ],
        "{rows:?}"
    );
    assert_eq!(rows[3], row("available", "ringing", None), "{rows:?}");
}

#[test]
fn ring_all_rings_every_free_agent_at_once_and_cancels_the_others_on_the_answer() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    let plan = region_keys(
        &dialplan(&[("1003", "luoyang", pa), ("1019", "luoyang", pb)], 15, 60),
        "luoyang",
        "strategy = \"ring-all\"",
    );
    let switch = Switch::start(&plan);
    // 1003 picks up after ringing 1 s; 1019 never does.
    let mut slow = Sipp::agent("slow", work.path(), "acd_agent_slow.xml", pa, &far, 1);
    let mut ringing = Sipp::agent("ringing", work.path(), "agent_noanswer.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1500,
    );
    caller.expect_success(Duration::from_secs(30));
    slow.expect_success(Duration::from_secs(10));
    ringing.expect_success(Duration::from_secs(10));

    let (s, r) = (slow.traced(), ringing.traced());
    let invite_a = received(&s, "INVITE").first().cloned().expect("1003 rang");
    let invite_b = received(&r, "INVITE").first().cloned().expect("1019 rang");
    let apart = (invite_a.at - invite_b.at).num_milliseconds().abs();
    assert!(apart < 500, "both phones rang at once: {apart} ms apart");
    let answer = s
        .iter()
        .find(|t| !t.received && t.is_response(200))
        .expect("1003 answered");
    let cancel = received(&r, "CANCEL")
        .first()
        .cloned()
        .expect("1019 got CANCEL");
    assert!(
        cancel.follows(answer),
        "CANCEL only after the answer: {} vs {}",
        cancel.at,
        answer.at
    );
    assert_eq!(received(&r, "ACK").len(), 1, "the 487 was ACKed");
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1003", "{calls:?}");
    assert_eq!(calls[0]["outcome"], "answered");
    // The one left ringing is not punished: it rang, then is available again.
    let rows = switch.agent_states_when("1019", |r| r.len() >= 3);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "ringing", None),
            row("ringing", "available", None),
        ]
    );
    state_of(&switch, "1019", "available");
}

#[test]
fn an_agent_who_lets_calls_ring_out_is_paused_for_no_answer_until_ready() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // 2 s of ringing per agent; one miss pauses (the default missed_before_pause = 1).
    let switch = Switch::start(&dialplan(
        &[("1003", "luoyang", pa), ("1019", "luoyang", pb)],
        2,
        60,
    ));
    let mut a = Sipp::agent("a", work.path(), "agent_noanswer.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1000,
    );
    caller.expect_success(Duration::from_secs(30));
    a.expect_success(Duration::from_secs(10));
    b.expect_success(Duration::from_secs(10));
    assert_eq!(switch.ended_calls()[0]["agent"], "1019");
    assert_eq!(
        state_of(&switch, "1003", "not-ready")["reason"],
        "no-answer"
    );
    let (ok, out, err) = cli(&["agent", "ready", "1003"], &switch);
    assert!(ok, "{out}{err}");
    state_of(&switch, "1003", "available");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 5);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "ringing", None),
            row("ringing", "not-ready", Some("no-answer")),
            row("not-ready", "available", None),
        ]
    );
}

#[test]
fn linear_always_offers_the_first_agent_in_the_file_first() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // 1019 comes first in the file: it takes both calls although 1003 has idled longer.
    let plan = region_keys(
        &dialplan(&[("1019", "luoyang", pb), ("1003", "luoyang", pa)], 15, 60),
        "luoyang",
        "strategy = \"linear\"",
    );
    let switch = Switch::start(&plan);
    let a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 2);
    std::thread::sleep(Duration::from_millis(300));
    for (n, number) in ["13903790001", "13903790002"].iter().enumerate() {
        let mut c = taxpayer(
            &format!("c{n}"),
            work.path(),
            switch.port,
            number,
            &near,
            1000,
        );
        c.expect_success(Duration::from_secs(20));
    }
    b.expect_success(Duration::from_secs(10));
    assert!(received(&a.traced(), "INVITE").is_empty());
    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    assert!(calls.iter().all(|c| c["agent"] == "1019"), "{calls:?}");
}

#[test]
fn no_call_is_offered_during_wrap_up_and_ready_ends_it_early() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let pa = common::quiet_port_block();
    let plan = wrap_up(&dialplan(&[("1003", "luoyang", pa)], 15, 60), "luoyang", 3);
    let switch = Switch::start(&plan);
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", pa, &far, 2);
    std::thread::sleep(Duration::from_millis(300));
    let mut first = taxpayer(
        "first",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1000,
    );
    first.expect_success(Duration::from_secs(20));
    let a = state_of(&switch, "1003", "wrap-up");
    assert_eq!(a["calls_today"], 1);
    // A second caller right away waits for the end of 1003's wrap-up.
    let mut second = taxpayer(
        "second",
        work.path(),
        switch.port,
        "13903790001",
        &near,
        1000,
    );
    second.expect_success(Duration::from_secs(20));
    agent.expect_success(Duration::from_secs(10));
    let bye = first
        .traced()
        .into_iter()
        .find(|t| !t.received && t.is_request("BYE"))
        .expect("the first caller hung up");
    let invites = received(&agent.traced(), "INVITE");
    assert_eq!(invites.len(), 2);
    let gap = (invites[1].at - bye.at).num_milliseconds();
    assert!(
        (2800..6000).contains(&gap),
        "rang again after the 3 s wrap-up: {gap} ms"
    );
    // After the second call, ready ends the wrap-up at once.
    state_of(&switch, "1003", "wrap-up");
    assert!(cli(&["agent", "ready", "1003"], &switch).0);
    state_of(&switch, "1003", "available");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 9);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "ringing", None),
            row("ringing", "talking", None),
            row("talking", "wrap-up", None),
            row("wrap-up", "available", None),
            row("available", "ringing", None),
            row("ringing", "talking", None),
            row("talking", "wrap-up", None),
            row("wrap-up", "available", None),
        ]
    );
}

#[test]
fn a_registration_refresh_does_not_undo_a_logout_but_star_21_does() {
    let plan = dialplan(&[("1019", "luoyang", 0)], 15, 60);
    let switch = Switch::start_with_prompts(&plan, &[]);
    let phone = Phone::new(switch.port);
    assert_eq!(phone.register("1019", "pw-1019", "MD5", 120).status, 200);
    state_of(&switch, "1019", "available");
    let mut desk = Desk::new(&switch, "1019", Some("pw-1019"));
    quick_feature(&mut desk, "*22");
    state_of(&switch, "1019", "logged-out");
    assert_eq!(phone.register("1019", "pw-1019", "MD5", 120).status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let a = state_of(&switch, "1019", "logged-out");
    assert_eq!(a["phone"], "registered", "registered, yet logged out");
    quick_feature(&mut desk, "*21");
    state_of(&switch, "1019", "available");
}

#[test]
fn an_agent_pausing_while_their_phone_rings_sends_the_call_on_at_once() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // 15 s of ringing: only the pause can move the call on quickly.
    // 1003's phone answers on the seat's port while another SIPp dials as 1003.
    let switch = Switch::start_with_prompts(
        &any_port(
            &dialplan(&[("1003", "luoyang", pa), ("1019", "luoyang", pb)], 15, 60),
            "1003",
        ),
        &[],
    );
    let mut a = Sipp::agent("a", work.path(), "agent_noanswer.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1000,
    );
    state_of(&switch, "1003", "ringing");
    let mut desk = Desk::new(&switch, "1003", None);
    quick_feature(&mut desk, "*242");
    caller.expect_success(Duration::from_secs(10));
    a.expect_success(Duration::from_secs(5));
    b.expect_success(Duration::from_secs(5));
    assert_eq!(received(&a.traced(), "CANCEL").len(), 1);
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1019", "{calls:?}");
    let waited = calls[0]["waited_ms"].as_u64().unwrap();
    assert!(
        waited < 8000,
        "moved on at the pause, not after 15 s of ringing: {waited} ms"
    );
    assert_eq!(state_of(&switch, "1003", "not-ready")["reason"], "lunch");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 3);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "ringing", None),
            row("ringing", "not-ready", Some("lunch")),
        ]
    );
}

#[test]
fn a_reload_moves_agents_between_regions_and_logs_out_those_removed() {
    let plan = dialplan(
        &[
            ("1003", "luoyang", common::quiet_port_block()),
            ("1019", "luoyang", common::quiet_port_block()),
        ],
        15,
        60,
    );
    let switch = Switch::start(&plan);
    state_of(&switch, "1003", "available");
    state_of(&switch, "1019", "available");
    assert!(cli(&["agent", "pause", "1003", "--reason", "training"], &switch).0);
    let contact_1003 = plan
        .lines()
        .find(|l| l.starts_with("contact = \"sip:1003@"))
        .unwrap()
        .to_string();
    let moved = dialplan(&[], 15, 60)
        + &format!("\n[[agent]]\nid = \"1003\"\nregion = \"zhengzhou\"\n{contact_1003}\n");
    std::fs::write(switch.dialplan_path(), moved).unwrap();
    let out = common::switch::hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");
    let agents = switch.agents();
    assert_eq!(agents.len(), 1, "1019 is gone: {agents:?}");
    assert_eq!(agents[0]["region"], "zhengzhou");
    // A reload keeps the agent's state.
    assert_eq!(agents[0]["state"], "not-ready");
    assert_eq!(agents[0]["reason"], "training");
    let rows = switch.agent_states_when("1019", |r| r.len() >= 2);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "logged-out", None),
        ]
    );
    assert_eq!(
        switch.agent_states_when("1003", |r| r.len() >= 3).len(),
        2,
        "no row for the move"
    );
}

/// The dialplan of the skill tests: Luoyang and centre agents with `skills`, the menu
/// of [`skill_menu`].
fn skill_plan(agents: &[(&str, &str, u16, &str)], region_lines: &str) -> String {
    let list: Vec<(&str, &str, u16)> = agents.iter().map(|(a, r, p, _)| (*a, *r, *p)).collect();
    let mut plan = dialplan(&list, 15, 60);
    for (id, _, _, skills) in agents {
        plan = agent_keys(&plan, id, &format!("skills = {skills}"));
    }
    if !region_lines.is_empty() {
        plan = region_keys(&plan, "luoyang", region_lines);
    }
    plan + &skill_menu()
}

#[test]
fn the_best_skill_level_free_takes_the_call_first() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // Equal idle time: by number 1003 would ring first, but 1019 is the filing expert.
    let plan = skill_plan(
        &[
            ("1003", "luoyang", pa, r#"["filing:3"]"#),
            ("1019", "luoyang", pb, r#"["filing:1", "invoices:2"]"#),
        ],
        "",
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    let mut a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    // The menu answers at once; the agent's number is read out (~6.5 s) before the agent.
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        10000,
    );
    caller.expect_success(Duration::from_secs(30));
    b.expect_success(Duration::from_secs(10));
    assert!(
        received(&a.traced(), "INVITE").is_empty(),
        "the level-3 agent did not ring"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1019", "{calls:?}");
    assert_eq!(calls[0]["skill"], "filing");
    assert_eq!(calls[0]["overflowed"], false);
    assert!(a.running());
}

#[test]
fn a_lower_skill_level_is_offered_the_call_once_the_widening_time_has_passed() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let pa = common::quiet_port_block();
    // Level 1 only at first; every level after 2 s. The only level-1 agent is paused.
    let plan = skill_plan(
        &[
            ("1003", "luoyang", pa, r#"["filing:3"]"#),
            (
                "1019",
                "luoyang",
                common::quiet_port_block(),
                r#"["filing:1", "invoices:1"]"#,
            ),
        ],
        "first_levels = 1\nwiden_after_secs = 2",
    );
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    assert!(cli(&["agent", "pause", "1019", "--reason", "meeting"], &switch).0);
    let mut a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        11000,
    );
    caller.expect_success(Duration::from_secs(30));
    a.expect_success(Duration::from_secs(10));
    let offered = caller
        .traced()
        .into_iter()
        .find(|t| !t.received && t.is_request("INVITE"))
        .expect("the caller's INVITE");
    let rang = received(&a.traced(), "INVITE")
        .first()
        .cloned()
        .expect("1003 rang");
    let after = (rang.at - offered.at).num_milliseconds();
    assert!(
        (1800..6000).contains(&after),
        "the level-3 agent rang after the 2 s widening: {after} ms"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["agent"], "1003", "{calls:?}");
    assert_eq!(calls[0]["overflowed"], false);
}

#[test]
fn a_skill_no_logged_in_agent_of_the_region_has_overflows_to_the_centre_at_once() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pc) = (common::quiet_port_block(), common::quiet_port_block());
    let plan = skill_plan(
        &[
            ("1003", "luoyang", pa, r#"["filing:1"]"#),
            // The Luoyang invoice expert is not logged in (never registers).
            ("1019", "luoyang", 0, r#"["invoices:1"]"#),
            ("1900", "centre", pc, r#"["invoices:2", "filing:2"]"#),
        ],
        "",
    );
    // Out of hours the skill menu queues for invoices.
    let switch = Switch::start_with(&plan, &["--hours", "closed"]);
    let mut a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    let mut centre = Sipp::agent("centre", work.path(), "agent.xml", pc, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        10000,
    );
    caller.expect_success(Duration::from_secs(30));
    centre.expect_success(Duration::from_secs(10));
    assert!(
        received(&a.traced(), "INVITE").is_empty(),
        "1003 has no invoices skill"
    );
    assert!(a.running());
    let offered = caller
        .traced()
        .into_iter()
        .find(|t| !t.received && t.is_request("INVITE"))
        .expect("the caller's INVITE");
    let rang = received(&centre.traced(), "INVITE")
        .first()
        .cloned()
        .expect("the centre rang");
    let after = (rang.at - offered.at).num_milliseconds();
    assert!(
        after < 2000,
        "overflowed at once, not after 60 s: {after} ms"
    );
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["agent"], "1900", "{calls:?}");
    assert_eq!(call["region"], "luoyang");
    assert_eq!(call["skill"], "invoices");
    assert_eq!(call["overflowed"], true);
}

#[test]
fn check_refuses_an_agent_skill_that_no_menu_queue_asks_for() {
    let dir = tempfile::tempdir().unwrap();
    let plan = skill_plan(
        &[
            ("1003", "luoyang", 5070, r#"["filing:1", "payroll:2"]"#),
            ("1019", "luoyang", 5072, r#"["invoices:6"]"#),
        ],
        "",
    );
    let file = dir.path().join("skills.toml");
    std::fs::write(&file, &plan).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let line_of = |needle: &str| plan.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        err.lines().any(
            |l| l.contains(&format!("skills.toml:{}:", line_of("payroll")))
                && l.contains("payroll")
        ),
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.contains(&format!("skills.toml:{}:", line_of("invoices:6")))),
        "a level beyond 5 is refused: {err}"
    );
    // The same plan with known skills checks.
    let good = plan
        .replace(", \"payroll:2\"", "")
        .replace("invoices:6", "invoices:5");
    std::fs::write(&file, good).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------
// Calls out (回访).
// ---------------------------------------------------------------------------------------

#[test]
fn an_agent_calls_a_taxpayer_back_through_a_trunk_that_challenges() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let CallOut {
        switch,
        mut carrier,
        trunk_port,
    } = call_out(work.path(), CREDENTIALS, "trunk_auth.xml", &far);
    // The taxpayer called earlier and gave up while 1003's phone rang: on the callback list.
    let desk_port = switch.seat("1003").expect("a static seat");
    let mut ringing = Sipp::agent(
        "ringing",
        work.path(),
        "agent_noanswer.xml",
        desk_port,
        &near,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut gave_up = taxpayer_with(
        "gave-up",
        work.path(),
        "caller_cancel.xml",
        switch.port,
        TAXPAYER,
        &near,
        1000,
        &[],
    );
    gave_up.expect_success(Duration::from_secs(30));
    ringing.expect_success(Duration::from_secs(10));
    let open = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(open.contains("\"state\":\"open\""), "{open}");
    let mut desk = dials_taxpayer("desk", work.path(), "caller.xml", &switch, &near, 3000);
    desk.expect_success(Duration::from_secs(30));
    carrier.expect_success(Duration::from_secs(10));
    // Reached: the callback is done.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let list = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
        if list.contains("\"state\":\"called\"") && !list.contains("\"state\":\"open\"") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the callback was not closed: {list}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // What the carrier saw: our INVITE, challenged, then again with valid credentials
    // (the scenario checks them with verifyauth), to the taxpayer, from 12366.
    let t = carrier.traced();
    let invites = received(&t, "INVITE");
    assert_eq!(invites.len(), 2, "challenged once, answered once");
    for inv in &invites {
        assert_eq!(
            inv.first_line(),
            format!("INVITE sip:{TAXPAYER}@127.0.0.1:{trunk_port} SIP/2.0")
        );
        assert_eq!(inv.uri_user("From").as_deref(), Some("12366"), "caller id");
        assert_eq!(inv.uri_user("To").as_deref(), Some(TAXPAYER));
        assert!(
            !inv.text.contains("1003@"),
            "the agent's identity stays inside"
        );
    }
    let auth = invites[1].header("Authorization").expect("credentials");
    assert!(
        auth.contains("username=\"hotline-out\"") && auth.contains("realm=\"carrier.example\""),
        "{auth}"
    );
    assert!(!auth.contains("trunk-secret"));

    // The agent's phone was answered only when the carrier answered.
    let d = desk.traced();
    let desk_ok = d
        .iter()
        .find(|m| m.received && m.is_response(200))
        .expect("the agent was answered");
    let carrier_ok = t
        .iter()
        .find(|m| !m.received && m.is_response(200))
        .expect("the carrier answered");
    // The carrier rings 300 ms before it answers: an answer on its ringing would not follow.
    assert!(
        desk_ok.follows(carrier_ok),
        "agent answered at {}, carrier at {}",
        desk_ok.at,
        carrier_ok.at
    );

    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    assert_eq!(
        calls.len(),
        2,
        "the abandoned call and the call out: {calls:?}"
    );
    let call = &calls[1];
    assert_eq!(call["direction"], "outbound");
    assert_eq!(call["dialled"], TAXPAYER);
    assert_eq!(call["agent"], "1003");
    assert_eq!(call["caller_raw"], "1003");
    assert_eq!(call["outcome"], "answered");
    let path = PathBuf::from(call["recording_path"].as_str().expect("recorded"));
    let wav = read_wav(&path);
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        (2.5..6.0).contains(&secs),
        "recording lasts the call: {secs} s"
    );
    let mid = |v: &[i16]| v[4000..v.len() - 4000].to_vec();
    assert!(
        dominant(&mid(&wav.left), 440.0, 1000.0),
        "left = the agent's phone"
    );
    assert!(
        dominant(&mid(&wav.right), 1000.0, 440.0),
        "right = the far end"
    );

    let legs = switch.legs_when(call["call_id"].as_str().unwrap(), 1);
    assert_eq!(legs.len(), 1, "{legs:?}");
    assert_eq!(
        (legs[0].party.as_str(), legs[0].kind.as_str()),
        ("carrier", "trunk")
    );
    assert!(legs[0].ended_at.is_some());
    // The agent was busy on the call, then free again.
    let rows = switch.agent_states_when("1003", |r| {
        r.last().is_some_and(|l| l.1 == "available") && r.len() >= 3
    });
    assert!(
        rows.contains(&row("available", "talking", None)),
        "{rows:?}"
    );
    assert_eq!(rows.last().unwrap().1, "available", "{rows:?}");
}

/// A socket on the trunk's address that must receive nothing.
fn silent_trunk(port: u16) -> UdpSocket {
    let s = UdpSocket::bind(("127.0.0.1", port)).expect("bind trunk port");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

/// Answers the next INVITE that reaches `trunk` with 486 Busy Here; returns that INVITE.
fn busy_trunk(trunk: UdpSocket) -> std::thread::JoinHandle<Request> {
    trunk
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65535];
        loop {
            let (n, from) = trunk
                .recv_from(&mut buf)
                .expect("the call reaches the carrier");
            if let Ok(Message::Request(r)) = hotline_sip::parse_message(&buf[..n]) {
                if r.method.as_str() == "INVITE" {
                    let busy = Response::to_request(&r, 486, "Busy Here").with_to_tag("carrier");
                    trunk.send_to(&busy.to_bytes(), from).unwrap();
                    return r;
                }
            }
        }
    })
}

fn assert_nothing_reached(trunk: &UdpSocket) {
    let mut buf = [0u8; 4096];
    if let Ok((n, _)) = trunk.recv_from(&mut buf) {
        panic!(
            "the trunk was called:\n{}",
            String::from_utf8_lossy(&buf[..n])
        );
    }
}

#[test]
fn calls_out_to_international_or_unlisted_numbers_are_refused() {
    let trunk_port = common::quiet_port_block();
    let plan = dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60)
        + &trunk("carrier", trunk_port, "caller_id = \"037112366\"");
    let switch = Switch::start(&plan);
    let trunk_sock = silent_trunk(trunk_port);
    let mut desk = Desk::new(&switch, "1003", None);
    for number in [
        "0012125550100",
        "0085223456789",
        "8613903790000",
        "110",
        "12345",
        "037961234567890",
        "23903790000",
    ] {
        let p = desk.dial(&format!("9{number}"));
        assert_eq!(p.status, 403, "9{number}");
    }
    assert_nothing_reached(&trunk_sock);
    assert!(switch.calls().is_empty(), "refused calls out are not calls");
    state_of(&switch, "1003", "available");

    // The control: a domestic landline leaves through the trunk, also while the agent is
    // not ready (callbacks during paperwork), who stays not ready.
    assert!(
        cli(
            &["agent", "pause", "1003", "--reason", "paperwork"],
            &switch
        )
        .0
    );
    let carrier = busy_trunk(trunk_sock);
    let p = desk.dial("9037961234567");
    let invite = carrier.join().unwrap();
    assert_eq!(p.status, 486, "the carrier's answer reaches the agent");
    assert!(
        invite.uri.starts_with("sip:037961234567@127.0.0.1:"),
        "{}",
        invite.uri
    );
    let from = invite
        .party_from()
        .and_then(|f| f.sip_uri())
        .and_then(|u| u.user);
    assert_eq!(from.as_deref(), Some("037112366"), "the trunk's caller_id");
    let line = state_of(&switch, "1003", "not-ready");
    assert_eq!(line["reason"], "paperwork");
}

#[test]
fn an_agent_logged_out_with_star_22_cannot_call_out() {
    let trunk_port = common::quiet_port_block();
    let plan = dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60)
        + &trunk("carrier", trunk_port, "");
    let switch = Switch::start_with_prompts(&plan, &[]);
    let trunk_sock = silent_trunk(trunk_port);
    let mut desk = Desk::new(&switch, "1003", None);
    let p = desk.dial("*22");
    assert_eq!(p.status, 200);
    desk.expect_bye(&p, Duration::from_secs(8));
    state_of(&switch, "1003", "logged-out");
    let p = desk.dial(&format!("9{TAXPAYER}"));
    assert_eq!(p.status, 403);
    assert_nothing_reached(&trunk_sock);
    assert!(switch.calls().is_empty());
    state_of(&switch, "1003", "logged-out");
}

#[test]
fn calls_out_beyond_the_hourly_limit_are_refused_per_agent() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let trunk_port = common::quiet_port_block();
    let plan = switch_keys(
        &dialplan(
            &[
                ("1003", "luoyang", common::quiet_port_block()),
                ("1019", "luoyang", common::quiet_port_block()),
            ],
            15,
            60,
        ),
        "outbound_per_hour = 1",
    ) + &trunk("carrier", trunk_port, "");
    let switch = Switch::start(&plan);
    let mut carrier = Sipp::agent(
        "carrier",
        work.path(),
        "trunk_answer.xml",
        trunk_port,
        &far,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut first = dials_taxpayer("first", work.path(), "caller.xml", &switch, &near, 1000);
    first.expect_success(Duration::from_secs(30));
    carrier.expect_success(Duration::from_secs(10));
    assert_eq!(received(&carrier.traced(), "INVITE").len(), 1);
    switch.ended_calls();

    // The carrier's SIPp is gone; a bare socket on its port must hear nothing.
    let trunk_sock = silent_trunk(trunk_port);
    let mut desk = Desk::new(&switch, "1003", None);
    assert_eq!(
        desk.dial("913903790456").status,
        403,
        "the second call out this hour"
    );
    assert_nothing_reached(&trunk_sock);

    // The limit is per agent: 1019 still gets through to the carrier.
    let mut other = Desk::new(&switch, "1019", None);
    let handle = busy_trunk(trunk_sock);
    let p = other.dial("913903790456");
    let invite = handle.join().unwrap();
    assert_eq!(p.status, 486, "the carrier's answer reaches the agent");
    assert!(invite.uri.starts_with("sip:13903790456@"), "{}", invite.uri);
    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1]["agent"], "1019");
    assert_eq!(calls[1]["outcome"], "failed");
}

#[test]
fn an_agent_who_gives_up_a_call_out_while_it_rings_cancels_the_trunk() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let CallOut {
        switch,
        mut carrier,
        ..
    } = call_out(work.path(), "", "agent_noanswer.xml", &far);
    let mut desk = dials_taxpayer(
        "desk",
        work.path(),
        "caller_cancel.xml",
        &switch,
        &near,
        1000,
    );
    desk.expect_success(Duration::from_secs(20));
    carrier.expect_success(Duration::from_secs(10));
    assert_eq!(
        received(&carrier.traced(), "CANCEL").len(),
        1,
        "the trunk's INVITE withdrawn"
    );
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["direction"], "outbound", "{calls:?}");
    assert!(calls[0]["answered_at"].is_null());
    assert!(calls[0]["recording_path"].is_null());
    let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(out.trim().is_empty(), "nobody to call back: {out}");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 3);
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "talking", None),
            row("talking", "available", None),
        ]
    );
}

#[test]
fn a_trunk_behind_a_proxy_that_answers_407_gets_proxy_authorization() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let CallOut {
        switch,
        mut carrier,
        ..
    } = call_out(work.path(), CREDENTIALS, "trunk_auth_407.xml", &far);
    let mut desk = dials_taxpayer("desk", work.path(), "caller.xml", &switch, &near, 1000);
    desk.expect_success(Duration::from_secs(20));
    carrier.expect_success(Duration::from_secs(10));
    let invites = received(&carrier.traced(), "INVITE");
    assert_eq!(invites.len(), 2);
    assert!(
        invites[1].header("Authorization").is_none(),
        "a proxy's challenge is answered in Proxy-Authorization"
    );
    let auth = invites[1]
        .header("Proxy-Authorization")
        .expect("Proxy-Authorization");
    let creds = hotline_sip::digest::Credentials::parse(&auth).expect("digest credentials");
    assert_eq!(creds.username, "hotline-out");
    assert_eq!(creds.realm, "carrier.example");
    assert!(
        creds.verify("INVITE", "trunk-secret"),
        "a correct digest: {auth}"
    );
    assert_eq!(switch.ended_calls()[0]["outcome"], "answered");
}

#[test]
fn a_trunk_that_refuses_the_credentials_is_not_asked_a_third_time() {
    let work = tempfile::tempdir().unwrap();
    let (_, far) = tones(work.path());
    let wrong = "username = \"hotline-out\"\npassword = \"wrong\"";
    let CallOut {
        switch,
        mut carrier,
        ..
    } = call_out(work.path(), wrong, "trunk_auth_reject.xml", &far);
    let mut desk = Desk::new(&switch, "1003", None);
    let p = desk.dial(&format!("9{TAXPAYER}"));
    assert_eq!(p.status, 403, "the agent hears the call out refused");
    carrier.expect_success(Duration::from_secs(10));
    assert_eq!(received(&carrier.traced(), "INVITE").len(), 2);
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["outcome"], "failed", "{calls:?}");
    state_of(&switch, "1003", "available");
}

#[test]
fn when_the_taxpayer_called_back_hangs_up_the_agent_gets_the_bye() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let CallOut {
        switch,
        mut carrier,
        ..
    } = call_out(work.path(), "", "trunk_hangup.xml", &far);
    let mut desk = dials_taxpayer(
        "desk",
        work.path(),
        "caller_wait_bye.xml",
        &switch,
        &near,
        0,
    );
    desk.expect_success(Duration::from_secs(20));
    carrier.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["direction"], "outbound");
    assert_eq!(call["outcome"], "answered");
    let wav = read_wav(&PathBuf::from(call["recording_path"].as_str().unwrap()));
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        (1.5..4.0).contains(&secs),
        "recorded until the hang-up: {secs} s"
    );
    let legs = switch.legs_when(call["call_id"].as_str().unwrap(), 1);
    assert!(legs[0].ended_at.is_some(), "{legs:?}");
    state_of(&switch, "1003", "available");
}

/// Who hung up a call out, as recorded. `HungUpBy::Caller` is documented as "the taxpayer
/// hung up", but on a call out the switch records the sides of the B2BUA: the agent's
/// phone is the caller leg, so the agent's hang-up is stored as `caller` and the
/// taxpayer's as `agent`, the reverse of what reports (agents hanging up on taxpayers)
/// read. Needs a change in call/talk.rs (`hang_up` or its callers).
#[test]
fn a_call_out_records_who_hung_up_as_taxpayer_or_agent() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (trunk1, trunk2) = (common::quiet_port_block(), common::quiet_port_block());
    // Mobiles leave through the first trunk, landlines through the second.
    let plan = dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60)
        + &format!("\n[[trunk]]\nname = \"carrier\"\naddress = \"127.0.0.1:{trunk1}\"\nallow = [\"1[3-9]XXXXXXXXX\"]\n")
        + &format!("\n[[trunk]]\nname = \"landlines\"\naddress = \"127.0.0.1:{trunk2}\"\nallow = [\"0ZXXXXXXXX.\"]\n");
    let switch = Switch::start(&plan);
    // The taxpayer hangs up first.
    let mut hangs_up = Sipp::agent("hangs-up", work.path(), "trunk_hangup.xml", trunk1, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut desk = dials_taxpayer(
        "desk",
        work.path(),
        "caller_wait_bye.xml",
        &switch,
        &near,
        0,
    );
    desk.expect_success(Duration::from_secs(20));
    hangs_up.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    assert_eq!(
        calls[0]["hung_up_by"], "caller",
        "the taxpayer hung up: {}",
        calls[0]
    );
    // The agent hangs up first.
    let mut stays = Sipp::agent("stays", work.path(), "trunk_answer.xml", trunk2, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut desk2 = desk_sipp(
        "desk2",
        work.path(),
        "caller.xml",
        &switch,
        "1003",
        "9037961234567",
        &near,
        1000,
        &[],
    );
    desk2.expect_success(Duration::from_secs(20));
    stays.expect_success(Duration::from_secs(10));
    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    assert_eq!(
        calls[1]["hung_up_by"], "agent",
        "the agent hung up: {}",
        calls[1]
    );
}

// ---------------------------------------------------------------------------------------
// Cutover (割接).
// ---------------------------------------------------------------------------------------

#[test]
fn a_city_put_back_on_its_old_system_by_reload_forwards_new_calls_and_keeps_calls_in_progress() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (agent_port, old_port) = (common::quiet_port_block(), common::quiet_port_block());
    let remote = dialplan(&[("1003", "luoyang", agent_port)], 15, 60)
        + "\n[[trunk]]\nname = \"luoyang-old\"\naddress = \"127.0.0.1:"
        + &old_port.to_string()
        + "\"\n";
    let switch = Switch::start(&remote);
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", agent_port, &far, 2);
    let mut old = Sipp::agent("old", work.path(), "trunk_answer.xml", old_port, &far, 1);
    std::thread::sleep(Duration::from_millis(300));

    let mut first = taxpayer(
        "first",
        work.path(),
        switch.port,
        LUOYANG_MOBILE,
        &near,
        6000,
    );
    switch.calls_when(|c| c.first().is_some_and(|c| c["outcome"] == "answered"));
    let legacy = region_keys(
        &remote,
        "luoyang",
        "mode = \"legacy\"\nlegacy_trunk = \"luoyang-old\"",
    );
    std::fs::write(switch.dialplan_path(), legacy).unwrap();
    let out = common::switch::hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");

    let mut second = taxpayer(
        "second",
        work.path(),
        switch.port,
        "+8613903790001",
        &near,
        1500,
    );
    second.expect_success(Duration::from_secs(20));
    old.expect_success(Duration::from_secs(10));
    assert!(first.running(), "the first call is still going on");
    first.expect_success(Duration::from_secs(20));

    // The old system got the taxpayer's call as it was dialled, from the caller's number.
    let invites = received(&old.traced(), "INVITE");
    assert_eq!(invites.len(), 1);
    assert!(
        invites[0]
            .first_line()
            .starts_with(&format!("INVITE sip:12366@127.0.0.1:{old_port} ")),
        "{}",
        invites[0].first_line()
    );
    assert_eq!(invites[0].uri_user("From").as_deref(), Some("13903790001"));
    assert_eq!(invites[0].uri_user("To").as_deref(), Some("12366"));
    assert_eq!(
        received(&agent.traced(), "INVITE").len(),
        1,
        "the agent rang once"
    );

    let calls = switch.calls_when(|c| c.len() == 2 && c.iter().all(|c| c["ended_at"].is_string()));
    let by = |raw: &str| {
        calls
            .iter()
            .find(|c| c["caller_raw"] == raw)
            .cloned()
            .unwrap_or_default()
    };
    let (c1, c2) = (by(LUOYANG_MOBILE), by("+8613903790001"));
    assert_eq!(c1["outcome"], "answered", "{calls:?}");
    assert_eq!(c1["agent"], "1003");
    assert_eq!(c1["hung_up_by"], "caller");
    assert_eq!(c2["outcome"], "forwarded", "{calls:?}");
    assert_eq!(c2["region"], "luoyang");
    assert!(c2["agent"].is_null(), "no agent of the platform on it");
    assert_eq!(c2["hung_up_by"], "caller");
    assert!(
        c1["ended_at"].as_str() > c2["ended_at"].as_str(),
        "the first call outlasted the second"
    );
    let wav1 = read_wav(&PathBuf::from(c1["recording_path"].as_str().unwrap()));
    assert!(
        wav1.left.len() as f64 / 8000.0 >= 5.0,
        "recorded to its end"
    );
    let wav2 = read_wav(&PathBuf::from(
        c2["recording_path"]
            .as_str()
            .expect("forwarded calls are recorded"),
    ));
    let mid = |v: &[i16]| v[2000..v.len() - 2000].to_vec();
    assert!(
        dominant(&mid(&wav2.left), 440.0, 1000.0),
        "left = the caller"
    );
    assert!(
        dominant(&mid(&wav2.right), 1000.0, 440.0),
        "right = the old system"
    );
    let legs = switch.legs_when(c2["call_id"].as_str().unwrap(), 1);
    assert_eq!(legs.len(), 1, "{legs:?}");
    assert_eq!(
        (legs[0].party.as_str(), legs[0].kind.as_str()),
        ("luoyang-old", "legacy")
    );
    let legs = switch.legs_when(c1["call_id"].as_str().unwrap(), 1);
    assert_eq!(
        (legs[0].party.as_str(), legs[0].kind.as_str()),
        ("1003", "agent")
    );

    // And back: with the region remote again, the next caller reaches the agent.
    std::fs::write(switch.dialplan_path(), &remote).unwrap();
    let out = common::switch::hotline(&["reload", "--control"], Some(&switch.control()));
    assert!(out.contains("loaded"), "{out}");
    let mut third = taxpayer(
        "third",
        work.path(),
        switch.port,
        "13903790002",
        &near,
        1000,
    );
    third.expect_success(Duration::from_secs(20));
    agent.expect_success(Duration::from_secs(10));
    let calls = switch.calls_when(|c| c.len() == 3 && c.iter().all(|c| c["ended_at"].is_string()));
    assert_eq!(calls.len(), 3, "{calls:?}");
    let c3 = calls
        .iter()
        .find(|c| c["caller_raw"] == "13903790002")
        .unwrap();
    assert_eq!(
        (c3["agent"].as_str(), c3["outcome"].as_str()),
        (Some("1003"), Some("answered"))
    );
}

/// Luoyang on its old system from the start, behind the trunk `luoyang-old` on `port`.
fn legacy_plan(agents: &[(&str, &str, u16)], port: u16) -> String {
    let plan = dialplan(agents, 15, 60)
        + &format!("\n[[trunk]]\nname = \"luoyang-old\"\naddress = \"127.0.0.1:{port}\"\n");
    region_keys(
        &plan,
        "luoyang",
        "mode = \"legacy\"\nlegacy_trunk = \"luoyang-old\"",
    )
}

#[test]
fn a_legacy_city_s_caller_bypasses_the_voice_menu_and_is_answered_by_the_old_system() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (agent_port, old_port) = (common::quiet_port_block(), common::quiet_port_block());
    let plan = legacy_plan(&[("1003", "luoyang", agent_port)], old_port);
    let plan = agent_keys(&plan, "1003", "skills = [\"filing:1\"]") + &skill_menu();
    let switch = Switch::start_with(&plan, &["--hours", "open"]);
    let mut agent = Sipp::agent("agent", work.path(), "agent.xml", agent_port, &far, 1);
    let mut old = Sipp::agent("old", work.path(), "trunk_answer.xml", old_port, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer(
        "caller",
        work.path(),
        switch.port,
        "037961234567",
        &near,
        1500,
    );
    caller.expect_success(Duration::from_secs(20));
    old.expect_success(Duration::from_secs(10));
    // Not answered by the menu: the caller's 200 is the old system's.
    let c = caller.traced();
    let answered = c
        .iter()
        .find(|t| t.received && t.is_response(200))
        .expect("answered");
    let old_answer = old
        .traced()
        .into_iter()
        .find(|t| !t.received && t.is_response(200))
        .expect("the old system answered");
    assert!(
        answered.follows(&old_answer),
        "answered by the old system, not the menu"
    );
    let ringing = c
        .iter()
        .find(|t| t.received && t.is_response(180))
        .expect("ringing relayed");
    assert!(
        answered.at >= ringing.at,
        "the menu never answered: the old system's ringing came first"
    );
    let invite = received(&old.traced(), "INVITE").remove(0);
    assert_eq!(invite.uri_user("").as_deref(), Some("12366"));
    assert_eq!(invite.uri_user("From").as_deref(), Some("037961234567"));
    assert!(
        received(&agent.traced(), "INVITE").is_empty(),
        "the ACD is bypassed"
    );
    assert!(agent.running());
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["outcome"], "forwarded", "{call}");
    assert!(
        call["ivr_node"].is_null() && call["skill"].is_null(),
        "{call}"
    );
    assert!(!call["agent_announced"].as_bool().unwrap());
    let wav = read_wav(&PathBuf::from(
        call["recording_path"].as_str().expect("recorded"),
    ));
    let mid = |v: &[i16]| v[2000..v.len() - 2000].to_vec();
    assert!(
        dominant(&mid(&wav.right), 1000.0, 440.0),
        "the old system's side, no prompts"
    );
    assert!(dominant(&mid(&wav.left), 440.0, 1000.0));
}

#[test]
fn a_legacy_city_s_caller_who_gives_up_cancels_the_old_system_and_is_not_called_back() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let old_port = common::quiet_port_block();
    let switch = Switch::start(&legacy_plan(&[], old_port));
    let mut old = Sipp::agent("old", work.path(), "agent_noanswer.xml", old_port, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mut caller = taxpayer_with(
        "caller",
        work.path(),
        "caller_cancel.xml",
        switch.port,
        LUOYANG_MOBILE,
        &near,
        1000,
        &[],
    );
    caller.expect_success(Duration::from_secs(20));
    old.expect_success(Duration::from_secs(10));
    assert_eq!(received(&old.traced(), "CANCEL").len(), 1);
    let calls = switch.ended_calls();
    assert_eq!(calls[0]["outcome"], "abandoned", "{calls:?}");
    assert_eq!(calls[0]["region"], "luoyang");
    let out = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(
        out.trim().is_empty(),
        "the old system follows its own callers up: {out}"
    );
}

// ---------------------------------------------------------------------------------------
// Registration lapse.
// ---------------------------------------------------------------------------------------

#[test]
fn a_phone_that_stops_refreshing_its_registration_is_logged_out() {
    let switch = Switch::start(&dialplan(&[("1019", "luoyang", 0)], 15, 60));
    let phone = Phone::new(switch.port);
    // The shortest registration the switch grants is 30 s.
    assert_eq!(phone.register("1019", "pw-1019", "MD5", 30).status, 200);
    let registered = Instant::now();
    assert_eq!(
        state_of(&switch, "1019", "available")["phone"],
        "registered"
    );
    let deadline = registered + Duration::from_secs(40);
    let rows = loop {
        let rows = switch.agent_states_when("1019", |_| true);
        if rows.len() >= 2 || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let lapsed = registered.elapsed();
    assert_eq!(
        rows,
        vec![
            row("logged-out", "available", None),
            row("available", "logged-out", None),
        ]
    );
    assert!(
        lapsed >= Duration::from_secs(29),
        "not before it expired: {lapsed:?}"
    );
    let a = state_of(&switch, "1019", "logged-out");
    assert_eq!(a["phone"], "unreachable");
}

#[test]
fn a_pause_or_logout_dialled_during_a_call_applies_when_the_call_ends() {
    let work = tempfile::tempdir().unwrap();
    let (near, far) = tones(work.path());
    let (pa, pb) = (common::quiet_port_block(), common::quiet_port_block());
    // Both phones answer on their seats' ports while a second line dials as each agent.
    let plan = dialplan(&[("1003", "luoyang", pa), ("1019", "luoyang", pb)], 15, 60);
    let plan = any_port(&any_port(&plan, "1003"), "1019");
    let switch = Switch::start_with_prompts(&plan, &[]);
    let mut a = Sipp::agent("a", work.path(), "agent.xml", pa, &far, 1);
    let mut b = Sipp::agent("b", work.path(), "agent.xml", pb, &far, 1);
    std::thread::sleep(Duration::from_millis(300));
    // Two callers at once: 1003 and 1019 each take one.
    let mut c1 = taxpayer("c1", work.path(), switch.port, LUOYANG_MOBILE, &near, 8000);
    let mut c2 = taxpayer("c2", work.path(), switch.port, "13903790001", &near, 8000);
    state_of(&switch, "1003", "talking");
    state_of(&switch, "1019", "talking");
    // On their second line: 1003 asks for lunch, 1019 logs out. Both confirmed at once.
    let mut d1003 = Desk::new(&switch, "1003", None);
    quick_feature(&mut d1003, "*242");
    let mut d1019 = Desk::new(&switch, "1019", None);
    quick_feature(&mut d1019, "*22");
    state_of(&switch, "1003", "talking");
    state_of(&switch, "1019", "talking");
    c1.expect_success(Duration::from_secs(20));
    c2.expect_success(Duration::from_secs(20));
    a.expect_success(Duration::from_secs(10));
    b.expect_success(Duration::from_secs(10));
    assert_eq!(state_of(&switch, "1003", "not-ready")["reason"], "lunch");
    state_of(&switch, "1019", "logged-out");
    let rows = switch.agent_states_when("1003", |r| r.len() >= 4);
    assert_eq!(
        rows[2..],
        [
            row("ringing", "talking", None),
            row("talking", "not-ready", Some("lunch"))
        ]
    );
    let rows = switch.agent_states_when("1019", |r| r.len() >= 4);
    assert_eq!(
        rows[2..],
        [
            row("ringing", "talking", None),
            row("talking", "logged-out", None)
        ]
    );
}

/// An INVITE without SDP (a late offer) from a desk phone.
fn late_offer(desk: &Desk, target: &str, call_id: &str) -> Response {
    let (me, sw) = (desk.sip.addr(), desk.sip.switch);
    desk.sip.send(&format!(
        "INVITE sip:{target}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}\r\n\
From: <sip:{user}@{me}>;tag=l1\r\nTo: <sip:{target}@{sw}>\r\nCall-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\nContact: <sip:{user}@{me}>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        user = desk.user
    ));
    let r = desk.final_response(call_id);
    desk.sip.send(&format!(
        "ACK sip:{target}@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}\r\n\
From: <sip:{user}@{me}>;tag=l1\r\nTo: {to}\r\nCall-ID: {call_id}\r\n\
CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        user = desk.user,
        to = r.headers.get(&HeaderName::To).unwrap_or_default()
    ));
    r
}

/// The switch needs the phone's audio offer in the INVITE; a desk phone that sends none
/// gets 488, and that refusal must not have changed anything: no state change, no call
/// out counted against the hourly limit.
#[test]
fn a_refused_phone_call_changes_no_state_and_counts_no_call_out() {
    let trunk_port = common::quiet_port_block();
    let plan = switch_keys(
        &dialplan(&[("1003", "luoyang", common::quiet_port_block())], 15, 60),
        "outbound_per_hour = 1",
    ) + &trunk("carrier", trunk_port, "");
    let switch = Switch::start_with_prompts(&plan, &[]);
    state_of(&switch, "1003", "available");
    let mut desk = Desk::new(&switch, "1003", None);
    assert_eq!(late_offer(&desk, "*243", "late1").status, 488);
    std::thread::sleep(Duration::from_millis(300));
    state_of(&switch, "1003", "available");
    assert_eq!(
        late_offer(&desk, &format!("9{TAXPAYER}"), "late2").status,
        488
    );
    let carrier = busy_trunk(silent_trunk(trunk_port));
    assert_eq!(
        desk.dial(&format!("9{TAXPAYER}")).status,
        486,
        "the one call out of the hour"
    );
    carrier.join().unwrap();
    // Only the call out that was placed shows: no not-ready from the refused *243.
    assert_eq!(
        switch.agent_states_when("1003", |r| r.len() >= 3),
        vec![
            row("logged-out", "available", None),
            row("available", "talking", None),
            row("talking", "available", None),
        ]
    );
}

/// A real softphone (baresip) as an agent's desk phone: it registers, dials `*243` (not ready,
/// training) answering the switch's digest challenge, hears the spoken confirmation, and
/// `hotline agents` shows the new state; `*23` makes it available again.
#[test]
fn a_real_softphone_dials_feature_codes_and_hotline_agents_shows_the_state() {
    let work = tempfile::tempdir().unwrap();
    let mic = work.path().join("silence.wav");
    common::audio::tone_wav(&mic, 0.0, 10);
    // The plan's default challenge (MD5 alone): baresip 1.0 gives up when a SHA-256
    // challenge is offered at all.
    let plan = dialplan(&[("1003", "luoyang", 0)], 15, 60);
    let switch = Switch::start_with_prompts(&plan, &[]);
    let phone = common::baresip::Baresip::start(
        work.path(),
        &format!(
            "<sip:1003@127.0.0.1:{}>;auth_pass=pw-1003;regint=60",
            switch.port
        ),
        &mic,
    );
    let until = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(15);
        while !ok() {
            assert!(Instant::now() < deadline, "{what}:\n{}", phone.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    until("baresip registers", &|| {
        phone.log().contains("200 OK () [1 binding]")
    });
    let state = || -> serde_json::Value {
        switch
            .agents()
            .into_iter()
            .find(|v| v["id"] == "1003")
            .unwrap_or_default()
    };
    until("1003 is available once registered", &|| {
        state()["state"] == "available"
    });
    phone.command("dial", &format!("sip:*243@127.0.0.1:{}", switch.port));
    until("*243 sets 1003 not ready", &|| {
        state()["state"] == "not-ready"
    });
    let now = state();
    assert_eq!(now["reason"], "training", "{now}");
    // baresip writes what it heard when the switch has hung up the call.
    let ok = prompt_pcm("feature-ok");
    until("the phone heard 操作成功", &|| {
        find_prompt(&phone.heard(), &ok).is_some()
    });
    phone.command("dial", &format!("sip:*23@127.0.0.1:{}", switch.port));
    until("*23 makes 1003 available", &|| {
        state()["state"] == "available"
    });
}

/// The carrier's announcement before the answer (183 with SDP) reaches the agent's phone
/// and the recording, and the call goes on after the answer.
#[test]
fn a_call_out_passes_the_carriers_early_media_to_the_agent() {
    let work = tempfile::tempdir().unwrap();
    let announcement = work.path().join("announcement-700.pcap");
    tone_pcap(&announcement, 700.0, Codec::Pcma, 3);
    let trunk_port = common::quiet_port_block();
    let mut desk = common::desk::DeskPhone::new("1003", 0, 440.0);
    let plan =
        dialplan(&[("1003", "luoyang", desk.port())], 15, 60) + &trunk("carrier", trunk_port, "");
    let switch = Switch::start(&plan);
    desk.connect(switch.port);
    let mut carrier = Sipp::agent(
        "carrier",
        work.path(),
        "trunk_early.xml",
        trunk_port,
        &announcement,
        1,
    );
    std::thread::sleep(Duration::from_millis(300));
    // Answered 2.5 s after the 183: what the phone heard 1.8 s after dialling was early.
    let (dialog, before_answer) = std::thread::scope(|scope| {
        let early = scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(1800));
            desk.rtp.heard()
        });
        let dialog = desk.call(&format!("9{TAXPAYER}"));
        (dialog, early.join().expect("listener"))
    });
    let tone_seconds = before_answer
        .chunks(8000)
        .filter(|s| s.len() == 8000 && common::audio::pure_tone(s, 700.0))
        .count();
    assert!(
        tone_seconds >= 1,
        "the agent heard the carrier before the answer ({} samples)",
        before_answer.len()
    );
    std::thread::sleep(Duration::from_secs(1));
    desk.send_in_dialog(&dialog, "BYE", 2, "", "");
    carrier.expect_success(Duration::from_secs(10));
    let calls = switch.ended_calls();
    let call = &calls[0];
    assert_eq!(call["outcome"], "answered");
    let wav = read_wav(&PathBuf::from(
        call["recording_path"].as_str().expect("recorded"),
    ));
    assert!(
        wav.right
            .chunks(8000)
            .any(|s| s.len() == 8000 && common::audio::pure_tone(s, 700.0)),
        "the announcement is in the recording"
    );
}
