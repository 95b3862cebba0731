//! Calls through the voice menu, against the call machine alone in virtual time: the
//! kit plays the media's part (prompts heard to their end, keys pressed).

mod kit;

use std::time::Duration;

use hotline_b2bua::MediaCommand;
use hotline_record::{HungUpBy, Outcome};
use hotline_sip::{Request, Response};
use kit::{dialplan, distinct, menu, requests, response, statuses, Kit, Phone};

/// Agents 1003 (5070) and 1004 (5072) in Luoyang, behind the menu.
fn with_menu() -> Kit {
    let plan = dialplan(&[("1003", "luoyang", 5070), ("1004", "luoyang", 5072)], 15) + &menu();
    Kit::new(&plan)
}

/// The caller reaches the menu, which answers, and asks for an agent (0): the desk that
/// rings and its INVITE.
fn queued_for_an_agent(
    kit: &mut Kit,
    caller: &Phone,
    desks: &[Phone],
) -> (usize, Request, Response) {
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.finish_plays();
    kit.press('0');
    for (i, desk) in desks.iter().enumerate() {
        let sent = kit.take_sent_to(desk.addr);
        if let Some(invite) = requests(&sent, "INVITE").first() {
            return (i, (*invite).clone(), ok);
        }
    }
    panic!("no desk rang: {:#?}", kit.sent)
}

fn connects(kit: &Kit) -> usize {
    kit.media
        .iter()
        .filter(|(_, c)| matches!(c, MediaCommand::ConnectAgent(..)))
        .count()
}

#[test]
fn an_agent_transferring_during_their_number_announcement_is_never_connected() {
    let mut kit = with_menu();
    let caller = Phone::new("037961234567", 6000);
    let desks = [Phone::new("1003", 5070), Phone::new("1004", 5072)];
    let (first, invite, ok) = queued_for_an_agent(&mut kit, &caller, &desks);
    let other = 1 - first;
    kit.deliver_message(desks[first].addr, &desks[first].answer(&invite, 200));
    assert_eq!(
        requests(&kit.take_sent_to(desks[first].addr), "ACK").len(),
        1
    );
    // The caller is hearing "agent 1003 will serve you" when the agent hands the call on.
    let announcement = kit.playing();
    assert_eq!(
        announcement.len(),
        1,
        "the agent's number is being announced"
    );
    let refer_to = format!("Refer-To: <sip:{}@{}>\r\n", desks[other].user, kit::SWITCH);
    let refer = desks[first].request_as_answerer("REFER", &invite, 2, &refer_to);
    kit.deliver(desks[first].addr, &refer);
    let to_first = kit.take_sent_to(desks[first].addr);
    assert_eq!(statuses(&to_first, "REFER"), vec![202], "{to_first:#?}");
    // The transferor's leg is over: the switch tells them (NOTIFY) and hangs it up, and
    // gives back the port their audio came to, not holding it while the next phone rings.
    assert_eq!(distinct(&to_first, "BYE").len(), 1, "{to_first:#?}");
    let body = String::from_utf8_lossy(&invite.body).to_string();
    let agent_port: u64 = body
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("the agent was offered a media port");
    assert!(
        kit.released.contains(&agent_port),
        "port {agent_port} given back: {:?}",
        kit.released
    );
    // The announcement's end, already on its way, arrives after the REFER: the transferor's
    // media must not be connected.
    for (media, play) in announcement {
        kit.finish_play(media, play);
    }
    kit.finish_plays();
    assert_eq!(connects(&kit), 0, "{:#?}", kit.media);
    // The next agent rings, answers, is announced and connected: once.
    let sent = kit.take_sent_to(desks[other].addr);
    let next = requests(&sent, "INVITE")
        .first()
        .map(|r| (*r).clone())
        .expect("the transfer target rings");
    kit.deliver_message(desks[other].addr, &desks[other].answer(&next, 200));
    kit.finish_plays();
    assert_eq!(connects(&kit), 1, "{:#?}", kit.media);
    let census = kit.core.census();
    assert!(census.faults.is_empty(), "{census:#?}");
    // The caller talks with the next agent, then hangs up.
    kit.advance(Duration::from_secs(20));
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(statuses(&kit.take_sent_to(caller.addr), "BYE"), vec![200]);
    let records = kit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Answered);
    assert_eq!(records[0].hung_up_by, Some(HungUpBy::Caller));
    kit.assert_idle_after_all();
}

#[test]
fn a_legacy_citys_trunk_that_cannot_be_rung_sends_the_caller_to_the_centre_without_recursing() {
    // A Zhengzhou caller is in the menu when a reload moves Zhengzhou back to its old system
    // (割接); its trunk needs a media port to be rung, and there is none left.
    let zhengzhou = "\n[[region]]\nid = \"zhengzhou\"\nname = \"郑州\"\ncities = [\"郑州\"]\narea_codes = [\"0371\"]\nring_timeout_secs = 15\n";
    let trunk = "\n[[trunk]]\nname = \"zhengzhou-old\"\naddress = \"127.0.0.1:7000\"\n";
    let before = dialplan(&[("1003", "centre", 5070)], 15) + zhengzhou + trunk + &menu();
    let legacy = before.replace(
        "area_codes = [\"0371\"]",
        "area_codes = [\"0371\"]\nmode = \"legacy\"\nlegacy_trunk = \"zhengzhou-old\"",
    );
    let mut kit = Kit::with_ports(&before, Some(1));
    let caller = Phone::new("037161234567", 6000);
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-c1"));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    kit.input(hotline_b2bua::Input::PlanLoaded {
        reply: hotline_b2bua::ReplyTo(1),
        loaded: Ok(kit::plan(&legacy)),
    });
    kit.finish_plays();
    // The caller's own queue is now the old system's: its trunk fails at once, the fallback
    // would ring it again, and so on. Instead the caller is queued for the centre.
    kit.press('0');
    let trunk: std::net::SocketAddr = "127.0.0.1:7000".parse().unwrap();
    assert!(
        kit.take_sent_to(trunk).is_empty(),
        "the trunk could not be rung"
    );
    let census = kit.core.census();
    assert_eq!(census.calls, 1, "the caller waits: {census:#?}");
    assert!(census.faults.is_empty(), "{census:#?}");
    let records = kit.records();
    assert_eq!(records[0].outcome, Outcome::Queued, "{records:#?}");
    kit.deliver(caller.addr, &caller.in_dialog("BYE", &ok, 2, "z9hG4bK-b1"));
    assert_eq!(kit.records()[0].outcome, Outcome::Abandoned);
    kit.assert_idle_after_all();
}

#[test]
fn after_the_agent_hangs_up_the_caller_rates_the_service_and_the_score_is_recorded() {
    let plan = (dialplan(&[("1003", "luoyang", 5070)], 15) + &menu()).replace(
        "position_every_secs = 0",
        "position_every_secs = 0\nsurvey = true",
    );
    let mut kit = Kit::new(&plan);
    let caller = Phone::new("037961234567", 6000);
    let desk = Phone::new("1003", 5070);
    let (_, invite, ok) = queued_for_an_agent(&mut kit, &caller, std::slice::from_ref(&desk));
    kit.deliver_message(desk.addr, &desk.answer(&invite, 200));
    kit.finish_plays();
    assert_eq!(connects(&kit), 1);
    // The agent hangs up; the caller hears the survey and presses 1.
    let bye = desk.bye_as_answerer(&invite, 2);
    kit.deliver(desk.addr, &bye);
    assert_eq!(statuses(&kit.take_sent_to(desk.addr), "BYE"), vec![200]);
    // The agent's phone did not hear the 200 and sends its BYE again, during the survey.
    kit.advance(Duration::from_millis(500));
    kit.deliver(desk.addr, &bye);
    assert_eq!(statuses(&kit.take_sent_to(desk.addr), "BYE"), vec![200]);
    assert!(
        kit.take_sent_to(caller.addr).is_empty(),
        "the caller stays on for the survey"
    );
    kit.press('1');
    kit.finish_plays();
    let to_caller = kit.take_sent_to(caller.addr);
    assert_eq!(distinct(&to_caller, "BYE").len(), 1, "thanked and hung up");
    let records = kit.records();
    assert_eq!(records[0].survey_score, Some(1), "{records:#?}");
    assert_eq!(records[0].hung_up_by, Some(HungUpBy::Agent));
    assert_eq!(records[0].outcome, Outcome::Answered);
    assert_eq!(
        records[0].ivr_path.as_deref(),
        Some("welcome > main > agent"),
        "the menu path, each node once"
    );
    // The caller's phone answers the switch's BYE; nothing is left.
    let bye = distinct(&to_caller, "BYE")[0].clone();
    kit.deliver_message(caller.addr, &caller.answer(&bye, 200));
    let _ = ok;
    kit.assert_idle_after_all();
}
