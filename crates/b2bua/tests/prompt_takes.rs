//! A voice prompt recorded from a desk phone, against the call machine alone in virtual
//! time: the phone is rung, the beep plays, the voice is written from the beep to `#` (or
//! the hang-up), and the closed take goes out to become the prompt.

mod kit;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use hotline_b2bua::command::Command;
use hotline_b2bua::{Input, MediaCommand, Plan, ReplyTo};
use hotline_media::call::MediaEvent;
use kit::{dialplan, requests, Kit, Phone};

/// Supervisor 1950 (static phone on 5090) on a plan that plays `welcome`.
fn kit() -> (Kit, Phone) {
    let text = dialplan(&[("1003", "luoyang", 5070)], 15)
        + "\n[[supervisor]]\nid = \"1950\"\nname = \"班长\"\ncontact = \"sip:1950@127.0.0.1:5090\"\ntrust_address = true\nscope = \"luoyang\"\n";
    let dialplan = hotline_routing::Dialplan::parse(&text, Path::new("/plans/test.toml")).unwrap();
    let mut prompts = hotline_media::prompt::PromptSet::empty();
    prompts.insert("welcome", Arc::from(vec![0i16; 800]));
    let plan = Arc::new(Plan {
        router: hotline_routing::Router::new(
            &dialplan,
            hotline_routing::SegmentTable::embedded().unwrap(),
        ),
        dialplan,
        prompts: Arc::new(prompts),
    });
    let kit = Kit::on_plan(plan, None, hotline_b2bua::Level::Debug);
    (kit, Phone::new("1950", 5090))
}

fn record(kit: &mut Kit, prompt: &str, phone: &str) {
    kit.input(Input::Command {
        reply: ReplyTo(1),
        command: Command::RecordPrompt {
            prompt: prompt.into(),
            phone: phone.into(),
        },
        os_user: Some("web:director".into()),
    });
}

/// Rings 1950 to record `welcome` and answers: returns the take's session and the INVITE.
fn answered(kit: &mut Kit, phone: &Phone) -> (hotline_acd::CallRef, hotline_sip::Request) {
    record(kit, "welcome", "1950");
    assert!(
        matches!(kit.replies.as_slice(), [(_, Ok(_))]),
        "{:?}",
        kit.replies
    );
    let ring = requests(&kit.take_sent_to(phone.addr), "INVITE")[0].clone();
    kit.deliver_message(phone.addr, &phone.answer(&ring, 200));
    assert_eq!(requests(&kit.take_sent_to(phone.addr), "ACK").len(), 1);
    let started = kit.media.iter().find_map(|(_, c)| match c {
        MediaCommand::Start { call, .. } => Some(*call),
        _ => None,
    });
    (started.expect("the take has media"), ring)
}

fn voicemail_started(kit: &Kit) -> Option<std::path::PathBuf> {
    kit.media.iter().find_map(|(_, c)| match c {
        MediaCommand::StartVoicemail(path, _) => Some(path.clone()),
        _ => None,
    })
}

#[test]
fn a_prompt_is_recorded_from_the_beep_to_the_hash_key_and_goes_out_as_a_take() {
    let (mut kit, phone) = kit();
    let (call, _) = answered(&mut kit, &phone);
    assert!(kit
        .media
        .iter()
        .any(|(_, c)| matches!(c, MediaCommand::Play { prompts, .. } if prompts == &["beep"])));
    assert_eq!(
        voicemail_started(&kit),
        None,
        "nothing is written during the beep"
    );

    kit.finish_plays();
    let path = voicemail_started(&kit).expect("recording after the beep");
    assert!(path.starts_with("/plans/../prompts/.takes"), "{path:?}");
    kit.press('5');
    assert!(!kit
        .media
        .iter()
        .any(|(_, c)| matches!(c, MediaCommand::StopVoicemail)));
    kit.press('#');
    assert!(kit
        .media
        .iter()
        .any(|(_, c)| matches!(c, MediaCommand::StopVoicemail)));

    kit.input(Input::Media(
        call,
        MediaEvent::VoicemailDone {
            path: path.clone(),
            samples: 16_000,
        },
    ));
    assert_eq!(
        kit.takes,
        [(
            "welcome".to_string(),
            path,
            16_000,
            "1950".to_string(),
            Some("web:director".to_string())
        )]
    );
    assert_eq!(
        requests(&kit.take_sent_to(phone.addr), "BYE").len(),
        1,
        "hung up when done"
    );
    kit.assert_idle_after_all();
}

#[test]
fn a_phone_hung_up_mid_take_still_gives_its_take_once_the_file_closes() {
    let (mut kit, phone) = kit();
    let (call, ring) = answered(&mut kit, &phone);
    kit.finish_plays();
    let path = voicemail_started(&kit).unwrap();
    kit.deliver(phone.addr, &phone.bye_as_answerer(&ring, 2));
    assert!(
        kit.media
            .iter()
            .any(|(_, c)| matches!(c, MediaCommand::StopVoicemail)),
        "the take is closed at the hang-up"
    );
    assert!(kit.takes.is_empty(), "not before its file is closed");
    kit.input(Input::Media(
        call,
        MediaEvent::VoicemailDone {
            path,
            samples: 8_000,
        },
    ));
    assert_eq!(kit.takes.len(), 1);
    assert!(
        requests(&kit.take_sent_to(phone.addr), "BYE").is_empty(),
        "it hung up itself"
    );
    kit.assert_idle_after_all();
}

#[test]
fn a_phone_hung_up_during_the_beep_records_nothing_and_leaves_nothing() {
    let (mut kit, phone) = kit();
    let (_, ring) = answered(&mut kit, &phone);
    kit.deliver(phone.addr, &phone.bye_as_answerer(&ring, 2));
    assert_eq!(voicemail_started(&kit), None);
    assert!(kit.takes.is_empty());
    kit.assert_idle_after_all();
}

#[test]
fn only_the_plans_prompts_and_phones_can_be_recorded_and_one_take_at_a_time() {
    let (mut kit, phone) = kit();
    for (prompt, who) in [
        ("nosuch", "1950"),
        ("../users", "1950"),
        ("welcome", "9999"),
    ] {
        kit.replies.clear();
        record(&mut kit, prompt, who);
        assert!(
            matches!(kit.replies.as_slice(), [(_, Err(_))]),
            "{prompt} {who}: {:?}",
            kit.replies
        );
    }
    assert!(kit.take_sent_to(phone.addr).is_empty(), "nobody rung");
    kit.replies.clear();
    record(&mut kit, "welcome", "1950");
    record(&mut kit, "welcome", "1950");
    assert!(
        matches!(kit.replies.as_slice(), [(_, Ok(_)), (_, Err(_))]),
        "{:?}",
        kit.replies
    );
    // Unanswered: given up after the ring time.
    kit.advance(Duration::from_secs(31));
    assert_eq!(
        requests(&kit.take_sent_to(phone.addr), "CANCEL").len(),
        0,
        "no 1xx: no CANCEL"
    );
    kit.assert_idle_after_all();
}
