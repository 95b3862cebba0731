//! A call's life and the races of its history, played against the call machine alone in
//! virtual time (see `kit`): what each phone received, what the store was asked to write,
//! what the media was told.

mod kit;

use std::time::Duration;

use hotline_b2bua::MediaCommand;
use hotline_record::{HungUpBy, Outcome};
use hotline_sip::message::{Message, SipMessage};
use hotline_sip::HeaderName;
use kit::{dialplan, distinct, requests, response, statuses, Kit, Phone};

/// A Luoyang landline calls and agent 1003 (static seat on 5070) is rung.
fn rung() -> (Kit, Phone, Phone, hotline_sip::Request) {
    let mut kit = Kit::new(&dialplan(&[("1003", "luoyang", 5070)], 15));
    let caller = Phone::new("037961234567", 6000);
    let agent = Phone::new("1003", 5070);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let to_agent = kit.take_sent_to(agent.addr);
    let invite = requests(&to_agent, "INVITE")
        .first()
        .map(|r| (*r).clone())
        .expect("the agent's phone is rung");
    (kit, caller, agent, invite)
}

/// As [`rung`], and the agent answered: the caller's 200 (ACKed) is returned.
fn talking() -> (Kit, Phone, Phone, hotline_sip::Response) {
    let (mut kit, caller, agent, invite) = rung();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.take_sent_to(agent.addr);
    (kit, caller, agent, ok)
}

#[test]
fn a_call_is_rung_answered_bridged_and_ended_by_the_caller() {
    let (mut kit, caller, agent, invite) = rung();
    assert_eq!(
        invite
            .party_from()
            .and_then(|f| f.sip_uri())
            .and_then(|u| u.user)
            .as_deref(),
        Some("037961234567"),
        "the agent sees the caller's number"
    );
    kit.deliver_message(agent.addr, &agent.answer(&invite, 180));
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let to_agent = kit.take_sent_to(agent.addr);
    assert_eq!(
        requests(&to_agent, "ACK").len(),
        1,
        "the agent's 200 is ACKed"
    );
    let to_caller = kit.take_sent_to(caller.addr);
    let ok = response(&to_caller, "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    let bridged = kit.media.iter().any(|(_, c)| {
        matches!(
            c,
            MediaCommand::Start {
                agent: Some(_),
                recording: Some(_),
                ..
            }
        )
    });
    assert!(
        bridged,
        "caller and agent bridged and recorded: {:?}",
        kit.media
    );

    kit.advance(Duration::from_secs(40));
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(statuses(&kit.take_sent_to(caller.addr), "BYE"), vec![200]);
    assert_eq!(requests(&kit.take_sent_to(agent.addr), "BYE").len(), 1);
    let records = kit.records();
    let [record] = records.as_slice() else {
        panic!("one call: {records:?}")
    };
    assert_eq!(record.outcome, Outcome::Answered);
    assert_eq!(record.hung_up_by, Some(HungUpBy::Caller));
    assert_eq!(record.agent.as_deref(), Some("1003"));
    assert_eq!(
        record.ended_at,
        Some(kit.wall()),
        "ended at the machine's wall clock"
    );
    assert!(
        matches!(kit.media.last(), Some((_, MediaCommand::Stop))),
        "the media stopped before the final record"
    );
    kit.assert_idle_after_all();
}

#[test]
fn a_cancel_crossing_the_agents_answer_acks_and_hangs_up_the_agent() {
    let (mut kit, caller, agent, invite) = rung();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 180));
    // The caller gives up just as the agent picks up: the CANCEL arrives first.
    kit.deliver(caller.addr, &caller.cancel("z9hG4bK-c1"));
    let to_caller = kit.take_sent_to(caller.addr);
    assert_eq!(statuses(&to_caller, "CANCEL"), vec![200]);
    assert!(statuses(&to_caller, "INVITE").contains(&487));
    let to_agent = kit.take_sent_to(agent.addr);
    assert_eq!(
        requests(&to_agent, "CANCEL").len(),
        1,
        "the agent's ringing is withdrawn"
    );
    // ...and the agent's 200 crosses it: the agent is ACKed and hung up, not left talking.
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let to_agent = kit.take_sent_to(agent.addr);
    assert_eq!(requests(&to_agent, "ACK").len(), 1);
    assert_eq!(requests(&to_agent, "BYE").len(), 1);
    assert!(
        kit.take_sent_to(caller.addr).is_empty(),
        "the caller hears nothing more"
    );
    let records = kit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Abandoned);
    assert!(records[0].ended_at.is_some());
    kit.assert_idle_after_all();
}

#[test]
fn an_agents_retransmitted_200_is_acked_again() {
    let (mut kit, caller, agent, invite) = rung();
    let ok = agent.answer(&invite, 200);
    kit.deliver_message(agent.addr, &ok);
    assert_eq!(requests(&kit.take_sent_to(agent.addr), "ACK").len(), 1);
    // The ACK was lost: the phone sends its 200 again, and again.
    kit.advance(Duration::from_millis(500));
    kit.deliver_message(agent.addr, &ok);
    kit.advance(Duration::from_secs(1));
    kit.deliver_message(agent.addr, &ok);
    let to_agent = kit.take_sent_to(agent.addr);
    assert_eq!(requests(&to_agent, "ACK").len(), 2, "each 200 ACKed");
    assert!(requests(&to_agent, "BYE").is_empty(), "the call goes on");
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    assert_eq!(ok.status, 200);
}

#[test]
fn a_ringing_phone_nobody_answers_is_given_up_after_the_ring_timeout() {
    let (mut kit, _caller, agent, invite) = rung();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 180));
    kit.advance(Duration::from_secs(16));
    let to_agent = kit.take_sent_to(agent.addr);
    let cancels = requests(&to_agent, "CANCEL");
    let first = cancels
        .first()
        .expect("rang for the plan's 15 s, then withdrawn");
    assert!(
        cancels
            .iter()
            .all(|c| c.headers.get(&HeaderName::Via) == first.headers.get(&HeaderName::Via)),
        "one CANCEL, retransmitted until answered"
    );
    // The phone answers the CANCEL and ends its INVITE with 487, which the switch ACKs.
    kit.deliver_message(agent.addr, &agent.answer(first, 200));
    kit.deliver_message(agent.addr, &agent.answer(&invite, 487));
    let to_agent: Vec<Message> = kit.take_sent_to(agent.addr);
    assert_eq!(requests(&to_agent, "ACK").len(), 1);
    kit.advance(Duration::from_secs(10));
    assert!(
        requests(&kit.take_sent_to(agent.addr), "CANCEL").is_empty(),
        "an answered CANCEL is not sent again"
    );
}

#[test]
fn a_call_whose_agent_phone_stops_answering_keepalives_is_ended_with_byes() {
    let (mut kit, caller, agent, _ok) = talking();
    // 30 s on, both legs are asked whether they are still there; only the caller answers.
    kit.advance(Duration::from_secs(31));
    let to_caller = kit.take_sent_to(caller.addr);
    let options = requests(&to_caller, "OPTIONS");
    let ask = options.first().expect("the caller is asked");
    let answer = caller.answer(ask, 200);
    kit.deliver_message(caller.addr, &answer);
    assert!(!requests(&kit.take_sent_to(agent.addr), "OPTIONS").is_empty());
    kit.advance(Duration::from_secs(40));
    let to_caller = kit.take_sent_to(caller.addr);
    assert_eq!(
        distinct(&to_caller, "BYE").len(),
        1,
        "the caller is hung up"
    );
    let records = kit.records();
    assert_eq!(records.len(), 1);
    assert!(records[0].ended_at.is_some(), "{:?}", records[0]);
    assert_eq!(records[0].hung_up_by, Some(HungUpBy::Switch));
    kit.assert_idle_after_all();
}

#[test]
fn a_reload_mid_call_keeps_the_call_and_its_agent() {
    let (mut kit, caller, agent, ok) = talking();
    let again = kit::plan(&dialplan(
        &[("1003", "luoyang", 5070), ("1004", "luoyang", 5071)],
        15,
    ));
    let reply = hotline_b2bua::ReplyTo(1);
    kit.input(hotline_b2bua::Input::PlanLoaded {
        reply,
        loaded: Ok(again),
    });
    assert!(
        matches!(kit.replies.as_slice(), [(r, Ok(_))] if *r == reply),
        "{:?}",
        kit.replies
    );
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(statuses(&kit.take_sent_to(caller.addr), "BYE"), vec![200]);
    assert_eq!(requests(&kit.take_sent_to(agent.addr), "BYE").len(), 1);
    let records = kit.records();
    assert_eq!(records[0].outcome, Outcome::Answered);
    assert_eq!(records[0].agent.as_deref(), Some("1003"));
    kit.assert_idle_after_all();
}

#[test]
fn an_agent_hanging_up_ends_the_call_for_the_caller() {
    let (mut kit, caller, agent, invite) = rung();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.take_sent_to(agent.addr);
    kit.deliver(agent.addr, &agent.bye_as_answerer(&invite, 2));
    assert_eq!(statuses(&kit.take_sent_to(agent.addr), "BYE"), vec![200]);
    assert_eq!(distinct(&kit.take_sent_to(caller.addr), "BYE").len(), 1);
    let records = kit.records();
    assert_eq!(records[0].hung_up_by, Some(HungUpBy::Agent));
    kit.assert_idle_after_all();
}

#[test]
fn a_supervisor_phone_rung_from_the_cli_has_its_retransmitted_200_acked_again() {
    let plan = dialplan(&[("1003", "luoyang", 5070)], 15)
        + "\n[[supervisor]]\nid = \"1950\"\nname = \"班长\"\ncontact = \"sip:1950@127.0.0.1:5090\"\ntrust_address = true\nscope = \"luoyang\"\n";
    let mut kit = Kit::new(&plan);
    let caller = Phone::new("037961234567", 6000);
    let agent = Phone::new("1003", 5070);
    let supervisor = Phone::new("1950", 5090);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let invite = requests(&kit.take_sent_to(agent.addr), "INVITE")[0].clone();
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.input(hotline_b2bua::Input::Command {
        reply: hotline_b2bua::ReplyTo(1),
        command: hotline_b2bua::command::Command::Monitor {
            supervisor: "1950".into(),
            agent: "1003".into(),
            mode: hotline_b2bua::command::MonitorMode::Listen,
        },
        os_user: Some("banzhang".into()),
    });
    assert!(
        matches!(kit.replies.as_slice(), [(_, Ok(_))]),
        "{:?}",
        kit.replies
    );
    let ring = requests(&kit.take_sent_to(supervisor.addr), "INVITE")[0].clone();
    let answer = supervisor.answer(&ring, 200);
    kit.deliver_message(supervisor.addr, &answer);
    assert_eq!(requests(&kit.take_sent_to(supervisor.addr), "ACK").len(), 1);
    assert!(
        kit.media
            .iter()
            .any(|(_, c)| matches!(c, MediaCommand::Supervise(..))),
        "the supervisor listens in"
    );
    // The ACK was lost: the supervisor's phone sends its 200 again, twice.
    kit.advance(Duration::from_millis(500));
    kit.deliver_message(supervisor.addr, &answer);
    kit.advance(Duration::from_secs(1));
    kit.deliver_message(supervisor.addr, &answer);
    let to_supervisor = kit.take_sent_to(supervisor.addr);
    assert_eq!(
        requests(&to_supervisor, "ACK").len(),
        2,
        "{to_supervisor:#?}"
    );
    assert!(
        requests(&to_supervisor, "BYE").is_empty(),
        "the supervisor stays on"
    );
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(
        distinct(&kit.take_sent_to(supervisor.addr), "BYE").len(),
        1,
        "the supervisor leaves with the call"
    );
    kit.assert_idle_after_all();
}

#[test]
fn a_consulted_phone_whose_ack_to_the_move_was_lost_is_acked_again() {
    let plan = dialplan(&[("1003", "luoyang", 5070), ("1004", "luoyang", 5072)], 15);
    let mut kit = Kit::new(&plan);
    let caller = Phone::new("037961234567", 6000);
    let (a, b) = (Phone::new("1003", 5070), Phone::new("1004", 5072));
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let (first, desk) = [&a, &b]
        .iter()
        .find_map(|d| {
            let sent = kit.take_sent_to(d.addr);
            requests(&sent, "INVITE")
                .first()
                .map(|r| ((*r).clone(), (*d)))
        })
        .expect("a desk rings");
    let (a, b) = if desk.user == "1003" { (a, b) } else { (b, a) };
    kit.deliver_message(a.addr, &a.answer(&first, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.take_sent_to(a.addr);
    // A consults B: A's phone dials B, B answers.
    kit.deliver(a.addr, &a.invite_to(&b.user, "z9hG4bK-k1"));
    let to_b = kit.take_sent_to(b.addr);
    let consult = requests(&to_b, "INVITE")[0].clone();
    kit.deliver_message(b.addr, &b.answer(&consult, 200));
    let to_a = kit.take_sent_to(a.addr);
    let consult_ok = response(&to_a, "INVITE", 200);
    kit.deliver(a.addr, &a.in_dialog("ACK", &consult_ok, 1, "z9hG4bK-ka"));
    kit.take_sent_to(b.addr);
    // A hands the caller to B (REFER with Replaces naming the consultation).
    let switch_tag = consult_ok
        .party_to()
        .and_then(|t| t.tag().map(str::to_string))
        .unwrap();
    let replaces = format!(
        "{}%3Bto-tag%3D{switch_tag}%3Bfrom-tag%3D{}",
        a.call_id.replace('@', "%40"),
        a.tag
    );
    let refer_to = format!(
        "Refer-To: <sip:{}@{}?Replaces={replaces}>\r\n",
        b.user,
        kit::SWITCH
    );
    kit.deliver(
        a.addr,
        &a.request_as_answerer("REFER", &first, 2, &refer_to),
    );
    assert_eq!(statuses(&kit.take_sent_to(a.addr), "REFER"), vec![202]);
    // B is moved onto the caller's call by a re-INVITE; B's 200 is not ACKed in time (lost)
    // and comes again: each is ACKed.
    let to_b = kit.take_sent_to(b.addr);
    let moving = requests(&to_b, "INVITE")
        .first()
        .map(|r| (*r).clone())
        .expect("B is moved by re-INVITE");
    let moved = b.answer(&moving, 200);
    kit.deliver_message(b.addr, &moved);
    assert_eq!(requests(&kit.take_sent_to(b.addr), "ACK").len(), 1);
    kit.advance(Duration::from_millis(500));
    kit.deliver_message(b.addr, &moved);
    kit.advance(Duration::from_secs(1));
    kit.deliver_message(b.addr, &moved);
    let to_b = kit.take_sent_to(b.addr);
    assert_eq!(requests(&to_b, "ACK").len(), 2, "{to_b:#?}");
    assert!(requests(&to_b, "BYE").is_empty(), "B stays on the call");
    let census = kit.core.census();
    assert_eq!(
        census.calls, 1,
        "the consultation is gone, the caller's call goes on"
    );
    assert!(census.faults.is_empty(), "{census:#?}");
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(distinct(&kit.take_sent_to(b.addr), "BYE").len(), 1);
    kit.assert_idle_after_all();
}

#[test]
fn a_caller_who_never_acked_their_200_is_let_go_even_while_transferred() {
    let plan = dialplan(&[("1003", "luoyang", 5070), ("1004", "luoyang", 5072)], 15);
    let mut kit = Kit::new(&plan);
    let caller = Phone::new("037961234567", 6000);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let (a, b) = (Phone::new("1003", 5070), Phone::new("1004", 5072));
    let (invite, a, b) = match requests(&kit.take_sent_to(a.addr), "INVITE").first() {
        Some(r) => ((*r).clone(), a, b),
        None => (
            requests(&kit.take_sent_to(b.addr), "INVITE")[0].clone(),
            b,
            a,
        ),
    };
    kit.deliver_message(a.addr, &a.answer(&invite, 200));
    // The caller's ACK never arrives; meanwhile the agent hands the call on to B.
    let refer_to = format!("Refer-To: <sip:{}@{}>\r\n", b.user, kit::SWITCH);
    kit.deliver(
        a.addr,
        &a.request_as_answerer("REFER", &invite, 2, &refer_to),
    );
    assert_eq!(statuses(&kit.take_sent_to(a.addr), "REFER"), vec![202]);
    kit.advance(Duration::from_secs(40));
    let records = kit.records();
    assert!(records[0].ended_at.is_some(), "the call ends: {records:#?}");
    assert_eq!(records[0].hung_up_by, Some(HungUpBy::Switch));
    kit.assert_idle_after_all();
}
