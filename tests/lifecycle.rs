//! Stopping the switch: SIGTERM takes no new call, ends the calls in progress cleanly and
//! leaves no record open.

mod common;

use std::time::Duration;

use common::desk::{sdp_addr, DeskPhone};
use common::phone::Phone;
use common::rtp_phone::{RtpPhone, Sound};
use common::switch::{dialplan, Switch};
use hotline_sip::{HeaderName, Response};

/// A taxpayer's INVITE to 12366 from `phone` with its audio at `rtp`.
fn call_12366(phone: &Phone, rtp: &RtpPhone, number: &str) {
    let (me, sw) = (phone.addr(), phone.switch);
    let sdp = format!(
        "v=0\r\no=t 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        rtp.addr.port()
    );
    phone.send(&format!(
        "INVITE sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKlife{}\r\n\
From: <sip:{number}@{me}>;tag=t{}\r\nTo: <sip:12366@{sw}>\r\nCall-ID: life-{}@test\r\n\
CSeq: 1 INVITE\r\nContact: <sip:{number}@{me}>\r\nMax-Forwards: 70\r\n\
Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        me.port(),
        me.port(),
        me.port(),
        sdp.len()
    ));
}

/// The next final response the phone gets.
fn final_of(phone: &Phone) -> Response {
    loop {
        let r = phone.final_response();
        if r.status >= 200 {
            return r;
        }
    }
}

/// One call talking, one caller waiting in the queue; then SIGTERM. Both legs of the call
/// get a BYE, the waiting caller a 503 (and a place on the callback list), a new caller a
/// 503 while the switch drains; the switch exits 0, the recording is whole and no record
/// is left open.
#[test]
fn sigterm_ends_every_call_cleanly_and_leaves_no_record_open() {
    let mut agent = DeskPhone::new("1003", 0, 1000.0);
    let switch_plan = dialplan(&[("1003", "luoyang", agent.port())], 15, 600);
    let mut switch = Switch::start(&switch_plan);
    agent.connect(switch.port);

    let talking = Phone::new(switch.port);
    let talking_rtp = RtpPhone::new();
    call_12366(&talking, &talking_rtp, "13903790000");
    let _dialog = agent.take_call();
    let ok = final_of(&talking);
    assert_eq!(ok.status, 200);
    let to = ok.headers.get(&HeaderName::To).unwrap().to_string();
    let (me, sw) = (talking.addr(), talking.switch);
    talking.send(&format!(
        "ACK sip:12366@{sw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKlifeack\r\n\
From: <sip:13903790000@{me}>;tag=t{}\r\nTo: {to}\r\nCall-ID: life-{}@test\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        me.port(),
        me.port()
    ));
    talking_rtp.talk_to(sdp_addr(&ok.body), Sound::Tone(440.0));

    // The only Luoyang agent is busy: the second caller waits in the queue.
    let waiting = Phone::new(switch.port);
    let waiting_rtp = RtpPhone::new();
    call_12366(&waiting, &waiting_rtp, "13903790001");
    switch.calls_when(|c| c.len() == 2 && c.iter().any(|c| c["outcome"] == "queued"));
    std::thread::sleep(Duration::from_secs(2));

    switch.terminate();
    let bye = talking.expect_request("BYE");
    let agent_bye = agent.sip.expect_request("BYE");
    assert_eq!(final_of(&waiting).status, 503, "the waiting caller is told");
    // Draining (its BYEs not answered yet): a new caller is refused, not lost.
    let late = Phone::new(switch.port);
    call_12366(&late, &RtpPhone::new(), "13903790002");
    let refused = final_of(&late);
    assert_eq!(refused.status, 503);
    assert!(refused
        .headers
        .get(&HeaderName::parse("Retry-After"))
        .is_some());
    talking.reply(&bye, 200);
    agent.sip.reply(&agent_bye, 200);
    let status = switch
        .exited_within(Duration::from_secs(10))
        .expect("the switch exits");
    assert!(status.success(), "{status:?}");

    let calls = switch.calls();
    assert_eq!(calls.len(), 2, "the refused caller is no call: {calls:?}");
    assert!(calls.iter().all(|c| c["ended_at"].is_string()), "{calls:?}");
    let answered = &calls[0];
    assert_eq!(
        (
            answered["outcome"].as_str(),
            answered["hung_up_by"].as_str()
        ),
        (Some("answered"), Some("switch"))
    );
    let cut_off = &calls[1];
    assert_eq!(
        (cut_off["outcome"].as_str(), cut_off["hung_up_by"].as_str()),
        (Some("failed"), Some("switch"))
    );
    let wav = common::audio::read_wav(std::path::Path::new(
        answered["recording_path"].as_str().expect("recorded"),
    ));
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(answered[k].as_str().unwrap()).unwrap();
    let talked = (at("ended_at") - at("answered_at")).num_milliseconds() as f64 / 1000.0;
    let secs = wav.left.len() as f64 / 8000.0;
    assert!(
        secs >= 1.5 && (secs - talked).abs() < 0.5,
        "recorded to the end: {secs} s of {talked} s"
    );
    let callbacks = common::switch::hotline(&["callbacks", "--json", "--db"], Some(&switch.db()));
    assert!(
        callbacks.contains("13903790001"),
        "the caller cut off while waiting is called back: {callbacks}"
    );
}
