//! Overload control against the call machine alone, in virtual time: new calls past the
//! ceiling, over their source's rate or arriving late are refused with 503 and a
//! Retry-After before anything is taken for them; calls already up are never refused; and
//! calls or menus lasting past their limits are ended by the switch.

mod kit;

use std::time::Duration;

use hotline_b2bua::MediaCommand;
use hotline_record::{HungUpBy, Outcome};
use hotline_sip::message::{Message, SipMessage as _};
use hotline_sip::HeaderName;
use kit::{dialplan, distinct, menu, requests, response, statuses, Kit, Phone};

/// Luoyang with agents at static seats 5070.. and `[overload]` as given.
fn plan_with(agents: usize, overload: &str) -> String {
    let ids: Vec<(String, u16)> = (0..agents)
        .map(|i| (format!("{}", 1001 + i), 5070 + i as u16))
        .collect();
    let seats: Vec<(&str, &str, u16)> = ids
        .iter()
        .map(|(id, port)| (id.as_str(), "luoyang", *port))
        .collect();
    format!("{}\n[overload]\n{overload}\n", dialplan(&seats, 15))
}

/// A Luoyang caller, the `n`th, on its own port.
fn caller(n: u16) -> Phone {
    Phone::new(&format!("03796123{:04}", n), 6000 + n)
}

fn retry_after(m: &Message) -> Option<String> {
    match m {
        Message::Response(r) => r
            .headers
            .get(&HeaderName::parse("Retry-After"))
            .map(str::to_string),
        Message::Request(_) => None,
    }
}

/// The final answers the caller got to its INVITE, with their Retry-After.
fn finals(kit: &mut Kit, phone: &Phone) -> Vec<(u16, Option<String>)> {
    kit.take_sent_to(phone.addr)
        .iter()
        .filter_map(|m| match m {
            Message::Response(r)
                if r.status >= 200 && r.cseq().is_some_and(|c| c.method.as_str() == "INVITE") =>
            {
                Some((r.status, retry_after(m)))
            }
            _ => None,
        })
        .collect()
}

/// `caller` calls, `agent` answers and the caller ACKs: the caller's 200 is returned.
fn answered(kit: &mut Kit, caller: &Phone, agent: &Phone) -> hotline_sip::Response {
    kit.deliver(caller.addr, &caller.invite("z9hG4bK-a"));
    let invite = requests(&kit.take_sent_to(agent.addr), "INVITE")
        .first()
        .map(|r| (*r).clone())
        .expect("the agent is rung");
    kit.deliver_message(agent.addr, &agent.answer(&invite, 200));
    let ok = response(&kit.take_sent_to(caller.addr), "INVITE", 200);
    kit.deliver(caller.addr, &caller.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    ok
}

fn started_media(kit: &Kit) -> usize {
    kit.media
        .iter()
        .filter(|(_, c)| matches!(c, MediaCommand::Start { .. }))
        .count()
}

#[test]
fn calls_past_the_ceiling_get_503_with_retry_after_and_nothing_is_taken_for_them() {
    let mut kit = Kit::new(&plan_with(1, "max_calls = 2"));
    let (a, b, c) = (caller(1), caller(2), caller(3));
    kit.deliver(a.addr, &a.invite("z9hG4bK-a"));
    kit.deliver(b.addr, &b.invite("z9hG4bK-b"));
    let records_before = kit.records().len();
    let media_before = started_media(&kit);
    kit.deliver(c.addr, &c.invite("z9hG4bK-c"));
    assert_eq!(finals(&mut kit, &c), vec![(503, Some("10".into()))]);
    assert_eq!(
        kit.records().len(),
        records_before,
        "no record for a refused call"
    );
    assert_eq!(records_before, 2);
    assert_eq!(
        started_media(&kit),
        media_before,
        "no media for a refused call"
    );
    let board = kit.core.board();
    assert_eq!(board.shed.ceiling, 1);
    assert_eq!(board.ceiling, 2);

    // The refused caller ACKs the 503 and the machine forgets it; once a call ends, a new
    // one is taken again.
    kit.deliver(b.addr, &b.cancel("z9hG4bK-b"));
    kit.take_sent_to(b.addr);
    let d = caller(4);
    kit.deliver(d.addr, &d.invite("z9hG4bK-d"));
    assert!(
        finals(&mut kit, &d).is_empty(),
        "the fourth caller is queued"
    );
    assert_eq!(kit.records().len(), 3);
}

#[test]
fn the_file_limit_lowers_the_ceiling() {
    let mut kit = Kit::new(&plan_with(1, "max_calls = 100"));
    kit.core.limit_calls_by_files(1);
    assert_eq!(kit.core.call_ceiling(), 1);
    let (a, b) = (caller(1), caller(2));
    kit.deliver(a.addr, &a.invite("z9hG4bK-a"));
    kit.deliver(b.addr, &b.invite("z9hG4bK-b"));
    assert_eq!(finals(&mut kit, &b), vec![(503, Some("10".into()))]);
}

#[test]
fn a_source_flooding_new_calls_is_held_to_its_rate_while_a_trunk_is_not() {
    let trunk = "\n[[trunk]]\nname = \"carrier\"\naddress = \"127.0.0.2\"\n";
    let mut kit = Kit::new(&(plan_with(1, "new_requests_per_source = 2") + trunk));
    // Six callers on one address at once: a burst of four is taken, two are refused.
    let phones: Vec<Phone> = (1..=6).map(caller).collect();
    for (i, p) in phones.iter().enumerate() {
        kit.deliver(p.addr, &p.invite(&format!("z9hG4bK-{i}")));
    }
    let refused: Vec<_> = phones
        .iter()
        .flat_map(|p| finals(&mut kit, p))
        .filter(|(s, _)| *s == 503)
        .collect();
    assert_eq!(refused, vec![(503, Some("60".into())); 2]);
    assert_eq!(kit.core.board().shed.source_rate, 2);

    // A trunk sends as many as it likes.
    for n in 10..20u16 {
        let mut p = caller(n);
        p.addr.set_ip([127, 0, 0, 2].into());
        kit.deliver(p.addr, &p.invite(&format!("z9hG4bK-t{n}")));
        assert!(finals(&mut kit, &p).is_empty(), "trunk call {n} is taken");
    }

    // Two seconds later the flooding address has four more.
    kit.advance(Duration::from_secs(2));
    let later: Vec<Phone> = (30..36).map(caller).collect();
    for (i, p) in later.iter().enumerate() {
        kit.deliver(p.addr, &p.invite(&format!("z9hG4bK-l{i}")));
    }
    let refused = later
        .iter()
        .flat_map(|p| finals(&mut kit, p))
        .filter(|(s, _)| *s == 503)
        .count();
    assert_eq!(refused, 2);
}

#[test]
fn a_new_call_that_waited_too_long_is_shed_but_a_bye_that_waited_as_long_is_not() {
    let mut kit = Kit::new(&plan_with(1, "max_lag_ms = 100"));
    let (a, b) = (caller(1), caller(2));
    let agent = Phone::new("1001", 5070);
    let ok = answered(&mut kit, &a, &agent);

    let late = Duration::from_millis(300);
    kit.deliver_late(b.addr, &b.invite("z9hG4bK-b"), late);
    assert_eq!(finals(&mut kit, &b), vec![(503, Some("10".into()))]);
    assert_eq!(kit.core.board().shed.lag, 1);

    kit.deliver_late(a.addr, &a.in_dialog("BYE", &ok, 2, "z9hG4bK-a2"), late);
    assert_eq!(statuses(&kit.take_sent_to(a.addr), "BYE"), vec![200]);
    let record = kit
        .records()
        .into_iter()
        .find(|r| r.outcome == Outcome::Answered);
    assert!(record.is_some_and(|r| r.hung_up_by == Some(HungUpBy::Caller)));
}

#[test]
fn a_call_past_its_longest_is_ended_by_the_switch_on_both_legs() {
    let mut kit = Kit::new(&plan_with(1, "max_call_secs = 60"));
    let a = caller(1);
    let agent = Phone::new("1001", 5070);
    answered(&mut kit, &a, &agent);
    kit.take_sent_to(agent.addr);

    kit.advance(Duration::from_secs(50));
    assert!(requests(&kit.take_sent_to(a.addr), "BYE").is_empty());
    kit.advance(Duration::from_secs(11));
    assert_eq!(distinct(&kit.take_sent_to(a.addr), "BYE").len(), 1);
    assert_eq!(distinct(&kit.take_sent_to(agent.addr), "BYE").len(), 1);
    let record = kit.records().into_iter().next().expect("a record");
    assert_eq!(record.outcome, Outcome::Answered);
    assert_eq!(record.hung_up_by, Some(HungUpBy::Switch));
    assert!(record.ended_at.is_some());
}

#[test]
fn a_caller_still_in_the_menu_past_its_limit_is_ended() {
    let mut kit = Kit::new(&(plan_with(1, "max_menu_secs = 30") + &menu()));
    let a = caller(1);
    kit.deliver(a.addr, &a.invite("z9hG4bK-a"));
    let ok = response(&kit.take_sent_to(a.addr), "INVITE", 200);
    kit.deliver(a.addr, &a.in_dialog("ACK", &ok, 1, "z9hG4bK-a1"));
    // The welcome never finishes playing: the caller is held in the menu.
    kit.advance(Duration::from_secs(29));
    assert!(requests(&kit.take_sent_to(a.addr), "BYE").is_empty());
    kit.advance(Duration::from_secs(2));
    assert_eq!(distinct(&kit.take_sent_to(a.addr), "BYE").len(), 1);
    let record = kit.records().into_iter().next().expect("a record");
    assert_eq!(record.hung_up_by, Some(HungUpBy::Switch));
}

#[test]
fn registrations_are_rate_limited_per_source() {
    let mut kit = Kit::new(&plan_with(1, "new_requests_per_source = 1"));
    let phone = Phone::new("1001", 5070);
    let register = |i: u32| {
        format!(
            "REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {a};branch=z9hG4bK-r{i}\r\nMax-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=r{i}\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: reg-{i}@test\r\nCSeq: {i} REGISTER\r\nContact: <sip:1001@{a}>\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n",
            a = phone.addr
        )
    };
    for i in 1..=3 {
        kit.deliver(phone.addr, &register(i));
    }
    let answers: Vec<u16> = kit
        .take_sent_to(phone.addr)
        .iter()
        .filter_map(|m| match m {
            Message::Response(r) => Some(r.status),
            Message::Request(_) => None,
        })
        .collect();
    assert_eq!(answers.len(), 3);
    assert_eq!(
        answers.iter().filter(|s| **s == 503).count(),
        1,
        "{answers:?}"
    );
    assert_eq!(kit.core.board().shed.source_rate, 1);
}
