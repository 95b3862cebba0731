//! Overload control on the real binary: a flood of new calls is answered 503 with a
//! Retry-After, cheaply and at once, while the call already up goes on, is hung up as usual
//! and keeps its recording and record; one source's flood does not keep out another source;
//! the refusals show in `/metrics`, in `hotline security` and on the province's wallboard
//! (in a real browser).

mod common;

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::browser::Browser;
use common::desk::DeskPhone;
use common::phone::{invite_text, Phone};
use common::switch::{dialplan, Switch};
use common::taxpayer::Taxpayer;
use hotline_sip::message::SipMessage;
use hotline_sip::{parse_message, HeaderName, Message};

/// Final responses to INVITEs by Call-ID, with their Retry-After, read for `limit`.
fn finals(sock: &UdpSocket, limit: Duration) -> HashMap<String, (u16, Option<String>)> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut seen = HashMap::new();
    let end = Instant::now() + limit;
    let mut buf = vec![0u8; 65_535];
    while Instant::now() < end {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if let Ok(Message::Response(r)) = parse_message(&buf[..n]) {
            let invite = r.cseq().is_some_and(|c| c.method.as_str() == "INVITE");
            if r.status >= 200 && invite {
                let retry = r
                    .headers
                    .get(&HeaderName::parse("Retry-After"))
                    .map(str::to_string);
                let call_id = r.call_id().unwrap_or_default().to_string();
                seen.insert(call_id, (r.status, retry));
            }
        }
    }
    seen
}

/// `n` new calls from one phone, each its own Call-ID, sent at once.
fn flood(phone: &Phone, n: usize, tag: &str) {
    for i in 0..n {
        let branch = format!("z9hG4bK-{tag}-{i}");
        phone.send(&invite_text(
            phone,
            "12366",
            &format!("1390379{i:04}"),
            &branch,
        ));
    }
}

fn plan(agent_port: u16, overload: &str) -> String {
    format!(
        "{}\n[overload]\n{overload}\n",
        dialplan(&[("1003", "luoyang", agent_port)], 15, 600)
    )
}

#[test]
fn past_the_ceiling_new_calls_get_503_and_the_call_in_progress_goes_on_recorded() {
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let switch = Switch::start_with(
        &plan(agent.port(), "max_calls = 3\nnew_requests_per_source = 0"),
        &["--http", "127.0.0.1:0"],
    );
    let console = switch.console_url();
    switch.add_user(
        "zhou",
        &["--role", "supervisor", "--scope", "province"],
        "province-duty-1",
    );
    agent.connect(switch.port);
    let mut talking = Taxpayer::dial(switch.port, "13903790000");
    let dialog = agent.take_call();
    assert_eq!(talking.answered(440.0).status, 200);

    // Fifty new calls at once: two more fit under the ceiling (they wait for the busy
    // agent), the other 48 are refused at once with a Retry-After.
    let flooder = Phone::new(switch.port);
    flood(&flooder, 50, "ceiling");
    let answers = finals(&flooder.sock, Duration::from_secs(3));
    let refused: Vec<_> = answers.values().filter(|(s, _)| *s == 503).collect();
    assert_eq!(refused.len(), 48, "{answers:?}");
    assert!(refused.iter().all(|(_, r)| r.as_deref() == Some("10")));
    assert_eq!(
        answers.len(),
        48,
        "the two taken are still waiting: {answers:?}"
    );
    the_operator_sees_the_refusals(&switch, &console);

    // The call up all along is unharmed: it talks, hangs up, and is recorded whole.
    std::thread::sleep(Duration::from_secs(1));
    talking.hang_up();
    let _ = dialog;
    let calls = switch.calls_when(|c| {
        c.iter()
            .any(|c| c["outcome"] == "answered" && c["ended_at"].is_string())
    });
    assert_eq!(calls.len(), 3, "no record for a refused call: {calls:?}");
    let answered = calls
        .iter()
        .find(|c| c["outcome"] == "answered")
        .expect("the answered call");
    let wav = common::audio::read_wav(std::path::Path::new(
        answered["recording_path"].as_str().expect("recorded"),
    ));
    assert!(wav.left.len() > 8_000, "about a second or more recorded");
}

#[test]
fn one_source_flooding_is_held_to_its_rate_and_another_source_still_gets_in() {
    let agent = DeskPhone::new("1003", 0, 1000.0);
    let switch = Switch::start_with(
        &plan(agent.port(), "new_requests_per_source = 5"),
        &["--http", "127.0.0.1:0"],
    );
    let console = switch.console_url();
    let flooder = Phone::new(switch.port);
    flood(&flooder, 40, "rate");
    // Another address of this machine: its own bucket.
    let other = UdpSocket::bind("127.0.0.2:0").expect("127.0.0.2 is loopback too");
    let other_phone = Phone {
        sock: other,
        switch: SocketAddr::from(([127, 0, 0, 1], switch.port)),
    };
    other_phone.send(&invite_text(
        &other_phone,
        "12366",
        "13903799999",
        "z9hG4bK-other",
    ));

    let answers = finals(&flooder.sock, Duration::from_secs(2));
    let refused = answers.values().filter(|(s, _)| *s == 503).count();
    assert_eq!(refused, 30, "a burst of 10 taken of 40: {answers:?}");
    assert!(answers
        .values()
        .all(|(s, r)| *s == 503 && r.as_deref() == Some("60")));
    let elsewhere = finals(&other_phone.sock, Duration::from_secs(1));
    assert!(
        elsewhere.is_empty(),
        "the other source's call waits, not refused: {elsewhere:?}"
    );

    common::metric_becomes(&console, "hotline_shed_total{kind=\"source-rate\"}", 30);
}

/// With three calls up at a ceiling of three and 48 refused: `hotline security` gives the
/// overload brakes' figures, and the province's wallboard shows the load and the refusals
/// (they are in no region's counts).
fn the_operator_sees_the_refusals(switch: &Switch, console: &str) {
    let v = switch.security_json();
    let o = &v["overload"];
    assert_eq!(
        (o["calls"].as_u64(), o["ceiling"].as_u64()),
        (Some(3), Some(3)),
        "{v}"
    );
    assert_eq!(o["refused"]["ceiling"].as_u64(), Some(48), "{v}");
    assert_eq!(o["refused"]["source_rate"].as_u64(), Some(0), "{v}");
    let words = switch.security(false);
    assert!(
        words.contains("calls in progress 3 of 3 at most"),
        "{words}"
    );
    assert!(
        words.contains("refused with 503: 48 (at the ceiling 48,"),
        "{words}"
    );

    let browser = Browser::start();
    browser.goto(&format!("{console}/login"));
    browser.fill("#user", "zhou");
    browser.fill("#password", "province-duty-1");
    browser.click("#sign-in");
    browser.wait_text("#feed", Duration::from_secs(10), |t| t == "实时");
    browser.wait_text("#switch-refused", Duration::from_secs(5), |t| t == "48");
    assert_eq!(browser.text("#switch-calls").as_deref(), Some("3 / 3"));
    browser.screenshot("wallboard-refusing");
}
