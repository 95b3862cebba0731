//! The voice menu in virtual time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::check::check_menu;
use crate::hours::HoursState;
use crate::menu::Menu;
use crate::raw::RawIvr;

pub(super) const MENU: &str = r#"
start = "welcome"
closed = "closed"

[[node]]
id = "welcome"
play = ["welcome"]
next = "main"

[[node]]
id = "main"
play = ["main-menu"]
keys = { "1" = "filing", "4" = "complaints", "9" = "info", "0" = "agent" }
invalid = "invalid"
fallback = "agent"
timeout_secs = 5
retries = 3

[[node]]
id = "filing"
queue = "filing"
max_wait_secs = 300
next = "callback"

[[node]]
id = "complaints"
queue = "complaints"
region = "centre"
position_every_secs = 60

[[node]]
id = "agent"
queue = ""

[[node]]
id = "info"
play = ["self-service"]
next = "main"

[[node]]
id = "closed"
play = ["closed", "closed-menu"]
keys = { "1" = "voicemail", "2" = "callback" }
fallback = "bye"
retries = 1

[[node]]
id = "voicemail"
play = ["voicemail"]
voicemail_secs = 120
next = "vm-thanks"

[[node]]
id = "vm-thanks"
play = ["voicemail-thanks"]
hangup = true

[[node]]
id = "callback"
play = ["callback-enter"]
callback = true
next = "cb-thanks"

[[node]]
id = "cb-thanks"
play = ["callback-thanks"]
hangup = true

[[node]]
id = "bye"
play = ["goodbye"]
hangup = true
"#;

pub(crate) fn menu() -> Arc<Menu> {
    menu_of(MENU)
}

/// A checked menu from `[ivr]` text.
pub(super) fn menu_of(text: &str) -> Arc<Menu> {
    let raw: RawIvr = toml::from_str(text).unwrap();
    Arc::new(check_menu(&raw, 0..0, &|_| true, &|r| r == "centre").unwrap())
}

pub(super) fn p(names: &[&str]) -> Vec<PromptId> {
    names.iter().map(|n| PromptId::new(n)).collect()
}

/// The prompts of the plays among `actions`, and the id of the last play.
pub(super) fn plays(actions: &[Action]) -> (Vec<PromptId>, u32) {
    let mut all = Vec::new();
    let mut last = 0;
    for a in actions {
        if let Action::Play { id, prompts, .. } = a {
            all.extend(prompts.iter().cloned());
            last = *id;
        }
    }
    (all, last)
}

pub(super) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(super) struct Run {
    pub(super) call: IvrCall,
    pub(super) now: Instant,
    pub(super) last_play: u32,
}

impl Run {
    pub(super) fn start(hours: HoursState) -> (Run, Vec<Action>) {
        Run::start_on(menu(), hours)
    }
    pub(super) fn start_on(menu: Arc<Menu>, hours: HoursState) -> (Run, Vec<Action>) {
        let now = Instant::now();
        let (call, actions) = IvrCall::start(menu, hours, now);
        let last_play = plays(&actions).1;
        (
            Run {
                call,
                now,
                last_play,
            },
            actions,
        )
    }
    pub(super) fn ev(&mut self, e: Event) -> Vec<Action> {
        let a = self.call.handle(e, self.now);
        let (_, id) = plays(&a);
        if id != 0 {
            self.last_play = id;
        }
        a
    }
    pub(super) fn finish_prompts(&mut self) -> Vec<Action> {
        let id = self.last_play;
        self.ev(Event::PromptsFinished(id))
    }
    pub(super) fn wait(&mut self, d: Duration) -> Vec<Action> {
        self.now += d;
        self.ev(Event::Timeout)
    }
}

#[test]
fn a_caller_hears_the_welcome_then_the_menu_and_key_1_queues_for_filing() {
    let (mut r, a) = Run::start(HoursState::Open);
    assert_eq!(plays(&a).0, p(&["welcome"]));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["main-menu"]));
    r.finish_prompts();
    let a = r.ev(Event::Digit('1'));
    assert!(
        a.contains(&Action::Queue {
            skill: Some("filing".into()),
            region: None
        }),
        "{a:?}"
    );
    assert!(a.contains(&Action::Entered(NodeId(Arc::from("filing")))));
    assert!(a.iter().any(
        |x| matches!(x, Action::Play { looped: true, prompts, .. } if prompts == &p(&["moh"]))
    ));
}

#[test]
fn a_key_during_the_menu_prompt_cuts_it_off() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    let a = r.ev(Event::Digit('4'));
    assert_eq!(a[0], Action::StopPlaying);
    assert!(a.contains(&Action::Queue {
        skill: Some("complaints".into()),
        region: Some("centre".into())
    }));
}

#[test]
fn an_invalid_key_replays_the_menu_three_times_then_goes_to_an_agent() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.finish_prompts();
    for _ in 0..3 {
        let a = r.ev(Event::Digit('7'));
        assert_eq!(plays(&a).0, p(&["invalid", "main-menu"]));
        r.finish_prompts();
    }
    let a = r.ev(Event::Digit('7'));
    assert!(
        a.contains(&Action::Queue {
            skill: None,
            region: None
        }),
        "{a:?}"
    );
}

#[test]
fn silence_replays_the_menu_three_times_then_goes_to_an_agent() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.finish_prompts();
    assert_eq!(r.call.poll_timeout(), Some(r.now + secs(5)));
    for _ in 0..3 {
        let a = r.wait(secs(5));
        assert_eq!(
            plays(&a).0,
            p(&["main-menu"]),
            "no invalid-key prompt for silence"
        );
        r.finish_prompts();
    }
    let a = r.wait(secs(5));
    assert!(a.contains(&Action::Queue {
        skill: None,
        region: None
    }));
}

#[test]
fn a_stale_prompts_finished_is_ignored() {
    let (mut r, _) = Run::start(HoursState::Open);
    let old = r.last_play;
    r.finish_prompts();
    assert!(r.ev(Event::PromptsFinished(old)).is_empty());
}

#[test]
fn self_service_information_returns_to_the_menu() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    let a = r.ev(Event::Digit('9'));
    assert_eq!(plays(&a).0, p(&["self-service"]));
    let a = r.finish_prompts();
    assert_eq!(plays(&a).0, p(&["main-menu"]));
}

#[test]
fn a_waiting_caller_hears_music_and_their_position_every_30_s() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('0'));
    assert_eq!(r.call.poll_timeout(), Some(r.now + secs(30)));
    let a = r.wait(secs(30));
    assert_eq!(a, [Action::QueryPosition]);
    let a = r.ev(Event::Position(12));
    assert_eq!(
        plays(&a).0,
        p(&["position-before", "digit-1", "digit-2", "position-after"])
    );
    let a = r.finish_prompts();
    assert!(matches!(&a[..], [Action::Play { looped: true, .. }]));
    assert_eq!(r.call.poll_timeout(), Some(r.now + secs(30)));
}

#[test]
fn a_queue_may_announce_positions_at_its_own_interval() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('4'));
    assert_eq!(
        r.call.poll_timeout(),
        Some(r.now + secs(60)),
        "complaints: every 60 s"
    );
}

#[test]
fn the_agent_number_is_announced_before_the_agent_is_connected() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('0'));
    let a = r.ev(Event::AgentAnswered("1023".into()));
    assert_eq!(
        plays(&a).0,
        p(&[
            "agent-before",
            "digit-1",
            "digit-0",
            "digit-2",
            "digit-3",
            "agent-after"
        ])
    );
    assert!(!a.contains(&Action::Connect));
    let a = r.finish_prompts();
    assert_eq!(a, [Action::Connect]);
    assert!(r.call.is_connected());
}

#[test]
fn after_the_agent_hangs_up_the_caller_rates_the_service() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('0'));
    r.ev(Event::AgentAnswered("1023".into()));
    r.finish_prompts();
    let a = r.ev(Event::AgentHungUp);
    assert_eq!(plays(&a).0, p(&["survey"]));
    let a = r.ev(Event::Digit('2'));
    assert!(a.contains(&Action::SurveyScore(2)));
    assert_eq!(plays(&a).0, p(&["survey-thanks"]));
    assert_eq!(r.finish_prompts(), [Action::Hangup]);
}

#[test]
fn an_agent_who_drops_during_the_announcement_puts_the_caller_back_in_the_queue() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('1'));
    r.ev(Event::AgentAnswered("1023".into()));
    let a = r.ev(Event::AgentHungUp);
    assert_eq!(a[0], Action::StopPlaying);
    assert!(
        a.contains(&Action::Queue {
            skill: Some("filing".into()),
            region: None
        }),
        "{a:?}"
    );
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Play { looped: true, .. })));
    let a = r.ev(Event::AgentAnswered("1024".into()));
    assert!(!plays(&a).0.is_empty(), "the next agent is announced");
}

#[test]
fn a_caller_who_does_not_rate_is_hung_up_without_a_score() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.ev(Event::Digit('0'));
    r.ev(Event::AgentAnswered("1".into()));
    r.finish_prompts();
    r.ev(Event::AgentHungUp);
    r.finish_prompts();
    assert_eq!(r.wait(secs(10)), [Action::Hangup]);
}

#[test]
fn out_of_hours_a_caller_leaves_a_voicemail_ended_by_hash() {
    let (mut r, a) = Run::start(HoursState::Closed);
    assert_eq!(plays(&a).0, p(&["closed", "closed-menu"]));
    r.finish_prompts();
    let a = r.ev(Event::Digit('1'));
    assert_eq!(plays(&a).0, p(&["voicemail"]));
    let a = r.finish_prompts();
    assert_eq!(a, [Action::RecordVoicemail { max: secs(120) }]);
    let a = r.ev(Event::Digit('#'));
    assert_eq!(a[0], Action::StopRecording);
    assert_eq!(plays(&a).0, p(&["voicemail-thanks"]));
    assert_eq!(r.finish_prompts(), [Action::Hangup]);
}

#[test]
fn a_voicemail_stops_at_its_maximum() {
    let (mut r, _) = Run::start(HoursState::Closed);
    r.finish_prompts();
    r.ev(Event::Digit('1'));
    r.finish_prompts();
    let a = r.ev(Event::RecordingFinished);
    assert_eq!(plays(&a).0, p(&["voicemail-thanks"]));
}

#[test]
fn out_of_hours_a_caller_leaves_a_callback_number_read_back_and_confirmed() {
    let (mut r, _) = Run::start(HoursState::Closed);
    r.finish_prompts();
    let a = r.ev(Event::Digit('2'));
    assert_eq!(plays(&a).0, p(&["callback-enter"]));
    for d in "13903790000".chars() {
        r.ev(Event::Digit(d));
    }
    let a = r.ev(Event::Digit('#'));
    let (heard, _) = plays(&a);
    assert_eq!(heard.first(), Some(&PromptId::new("callback-readback")));
    assert_eq!(heard.len(), 13, "readback + 11 digits + confirm");
    let a = r.ev(Event::Digit('1'));
    assert!(a.contains(&Action::SaveCallback("13903790000".into())));
    assert_eq!(plays(&a).0, p(&["callback-thanks"]));
}

#[test]
fn pressing_2_at_the_readback_lets_the_caller_type_the_number_again() {
    let (mut r, _) = Run::start(HoursState::Closed);
    r.finish_prompts();
    r.ev(Event::Digit('2'));
    r.ev(Event::Digit('5'));
    r.ev(Event::Digit('#'));
    let a = r.ev(Event::Digit('2'));
    assert_eq!(plays(&a).0, p(&["callback-enter"]));
    r.ev(Event::Digit('6'));
    r.ev(Event::Digit('#'));
    let a = r.ev(Event::Digit('1'));
    assert!(a.contains(&Action::SaveCallback("6".into())));
}

#[test]
fn at_noon_a_queue_off_the_rota_sends_the_caller_to_the_closed_menu() {
    let (mut r, _) = Run::start(HoursState::Rota(Arc::from(vec!["complaints".to_string()])));
    r.finish_prompts();
    r.finish_prompts();
    let a = r.ev(Event::Digit('1'));
    assert_eq!(
        plays(&a).0,
        p(&["closed", "closed-menu"]),
        "filing is off the rota"
    );
    let (mut r, _) = Run::start(HoursState::Rota(Arc::from(vec!["complaints".to_string()])));
    r.finish_prompts();
    let a = r.ev(Event::Digit('4'));
    assert!(a.iter().any(|x| matches!(x, Action::Queue { .. })));
}

mod checks {
    use super::*;

    fn problems(text: &str, prompts: &[&str]) -> Vec<String> {
        let raw: RawIvr = toml::from_str(text).unwrap();
        let known: Vec<String> = prompts.iter().map(|s| s.to_string()).collect();
        let exists = |p: &str| known.is_empty() || known.iter().any(|k| k == p);
        match check_menu(&raw, 0..0, &exists, &|r| r == "centre") {
            Ok(_) => Vec::new(),
            Err(ps) => ps.into_iter().map(|p| p.message).collect(),
        }
    }

    #[test]
    fn the_example_menu_is_valid() {
        assert!(problems(MENU, &[]).is_empty());
    }

    #[test]
    fn a_branch_to_nowhere_is_reported_at_its_place() {
        let text = MENU.replace("\"9\" = \"info\"", "\"9\" = \"nowhere\"");
        let raw: RawIvr = toml::from_str(&text).unwrap();
        let err = check_menu(&raw, 0..0, &|_| true, &|_| true).unwrap_err();
        assert!(err.iter().any(|p| p.message.contains("nowhere")), "{err:?}");
        let at = text.find("\"nowhere\"").unwrap();
        assert!(err.iter().any(|p| p.span.start == at));
    }

    #[test]
    fn an_unreachable_node_is_reported() {
        let text = format!("{MENU}\n[[node]]\nid = \"orphan\"\nhangup = true\n");
        assert!(problems(&text, &[])
            .iter()
            .any(|m| m.contains("orphan") && m.contains("reached")));
    }

    #[test]
    fn a_loop_without_input_is_reported() {
        let text = MENU
            .replace(
                "next = \"main\"\n\n[[node]]\nid = \"main\"",
                "next = \"info\"\n\n[[node]]\nid = \"main\"",
            )
            .replace(
                "play = [\"self-service\"]\nnext = \"main\"",
                "play = [\"self-service\"]\nnext = \"welcome\"",
            );
        let ps = problems(&text, &[]);
        assert!(ps.iter().any(|m| m.contains("loops back")), "{ps:?}");
    }

    #[test]
    fn a_missing_prompt_is_reported() {
        let ps = problems(MENU, &["welcome"]);
        assert!(ps.iter().any(|m| m.contains("main-menu")), "{ps:?}");
        assert!(ps.iter().any(|m| m.contains("digit-0")), "{ps:?}");
    }

    #[test]
    fn a_node_with_two_kinds_and_a_bad_key_are_reported() {
        let text = MENU
            .replace("queue = \"filing\"", "queue = \"filing\"\nhangup = true")
            .replace("\"0\" = \"agent\"", "\"0\" = \"agent\", \"10\" = \"agent\"");
        let ps = problems(&text, &[]);
        assert!(ps.iter().any(|m| m.contains("one of")), "{ps:?}");
        assert!(ps.iter().any(|m| m.contains("\"10\"")), "{ps:?}");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = (Event, u64)> {
        (
            prop_oneof![
                prop::sample::select(vec!['0', '1', '2', '4', '7', '9', '#', '*'])
                    .prop_map(Event::Digit),
                (0u32..6).prop_map(Event::PromptsFinished),
                Just(Event::RecordingFinished),
                Just(Event::Timeout),
                (0usize..30).prop_map(Event::Position),
                Just(Event::AgentAnswered("1023".into())),
                Just(Event::AgentHungUp),
            ],
            0u64..40,
        )
    }

    proptest! {
        #[test]
        fn any_event_sequence_is_handled_and_a_hangup_is_final(
            closed in any::<bool>(),
            barge_in in any::<bool>(),
            events in prop::collection::vec(event(), 0..60),
        ) {
            let hours = if closed { HoursState::Closed } else { HoursState::Open };
            let menu = if barge_in {
                // Every play node ends at a key: type-ahead skips and carries.
                menu_of(&MENU.replace("\nnext = \"main\"\n", "\nnext = \"main\"\nbarge_in = true\n"))
            } else {
                menu()
            };
            let mut now = Instant::now();
            let (mut call, _) = IvrCall::start(menu, hours, now);
            for (e, dt) in events {
                now += Duration::from_secs(dt);
                let was_done = call.is_done();
                let actions = call.handle(e, now);
                if was_done {
                    prop_assert!(actions.is_empty(), "nothing happens after the hang-up");
                }
                let hangups = actions.iter().filter(|a| **a == Action::Hangup).count();
                prop_assert!(hangups <= 1);
            }
        }
    }
}

#[test]
fn after_the_longest_wait_the_caller_leaves_the_queue_for_a_callback() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.finish_prompts();
    r.ev(Event::Digit('1'));
    let start = r.now;
    let mut left = None;
    for _ in 0..40 {
        let Some(t) = r.call.poll_timeout() else {
            break;
        };
        r.now = t;
        let a = r.ev(Event::Timeout);
        if a.contains(&Action::QueryPosition) {
            r.ev(Event::Position(2));
            r.finish_prompts();
        }
        if a.contains(&Action::LeaveQueue) {
            assert!(
                a.contains(&Action::Entered(NodeId(Arc::from("callback")))),
                "{a:?}"
            );
            assert_eq!(plays(&a).0, p(&["callback-enter"]));
            left = Some(r.now);
            break;
        }
    }
    assert_eq!(left.map(|t| t - start), Some(secs(300)));
    // Out of the queue: an agent answering now is not announced.
    let a = r.ev(Event::AgentAnswered("1003".into()));
    assert!(plays(&a).0.is_empty());
}

#[test]
fn a_queue_with_next_but_no_longest_wait_is_refused() {
    let text = MENU.replacen("max_wait_secs = 300\n", "", 1);
    let raw: RawIvr = toml::from_str(&text).unwrap();
    let err = check_menu(&raw, 0..0, &|_| true, &|r| r == "centre").unwrap_err();
    assert!(
        err.iter().any(|p| p.message.contains("max_wait_secs")),
        "{err:?}"
    );
}

#[test]
fn a_transferred_caller_waits_with_music_and_hears_the_next_agent_number() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.finish_prompts();
    r.ev(Event::Digit('1'));
    r.ev(Event::AgentAnswered("1003".into()));
    let a = r.finish_prompts();
    assert!(a.contains(&Action::Connect));
    // Blind transfer to Zhengzhou's queue: same skill, music again.
    let a = r.ev(Event::TransferToQueue(Some("zhengzhou".into())));
    assert!(a.contains(&Action::Queue {
        skill: Some("filing".into()),
        region: Some("zhengzhou".into())
    }));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Play { looped: true, .. })));
    let a = r.ev(Event::AgentAnswered("1001".into()));
    assert_eq!(
        plays(&a).0,
        p(&[
            "agent-before",
            "digit-1",
            "digit-0",
            "digit-0",
            "digit-1",
            "agent-after"
        ])
    );
    assert!(r.finish_prompts().contains(&Action::Connect));
    // Transfer to one person: music, no queue.
    let a = r.ev(Event::TransferToParty);
    assert!(!a.iter().any(|x| matches!(x, Action::Queue { .. })));
    assert!(a
        .iter()
        .any(|x| matches!(x, Action::Play { looped: true, .. })));
    assert_eq!(r.call.poll_timeout(), None);
}

#[test]
fn a_party_reached_through_a_trunk_is_connected_without_an_agent_number() {
    let (mut r, _) = Run::start(HoursState::Open);
    r.finish_prompts();
    r.finish_prompts();
    r.ev(Event::Digit('1'));
    r.ev(Event::AgentAnswered("1003".into()));
    r.finish_prompts();
    r.ev(Event::TransferToParty);
    let a = r.ev(Event::PartyAnswered);
    assert!(a.contains(&Action::Connect), "{a:?}");
    assert!(plays(&a).0.is_empty(), "nothing announced: {a:?}");
}
