//! One caller's way through the voice menu, as a state machine.
//!
//! The switch feeds [`Event`]s with the current time and carries out the [`Action`]s: it
//! plays prompts into the caller's leg, queues the call, records, bridges, hangs up. Each
//! `Play` carries a number so that a `PromptsFinished` for a prompt that was since cut off
//! (by a key press, say) is recognised and ignored.
//!
//! Keys pressed while a node only plays are typed ahead (`typeahead`): the next menu takes
//! them as if pressed the moment it starts, without playing its prompts when a key already
//! chooses; a play node with `barge_in` ends at the key.

mod callback;
mod event;
mod queue;
mod typeahead;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use self::event::{Action, Event};
use self::typeahead::TypeAhead;
use crate::hours::HoursState;
use crate::menu::{Menu, NodeId, NodeKind, PromptId};

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A play node's prompts, then `next`; `barge_in`: a key ends them at once.
    Playing { next: NodeId, barge_in: bool },
    /// A menu: prompts playing (keys accepted) or waiting for a key until the deadline.
    Menu {
        node: NodeId,
        retries_left: u32,
        waiting: bool,
    },
    /// Voicemail prompts, then recording.
    Voicemail { next: NodeId, recording: bool },
    /// Typing a callback number.
    CallbackEntry {
        node: NodeId,
        digits: String,
        tries: u32,
    },
    /// Confirming a callback number.
    CallbackConfirm { node: NodeId, digits: String },
    /// Waiting for an agent (music, position announcements).
    Queued { announcing: bool },
    /// The agent's number is being announced.
    Announcing,
    /// Caller and agent are talking.
    Connected,
    /// The satisfaction question.
    Survey,
    /// Final prompts, then hang up.
    Ending,
    /// Over.
    Done,
}

/// One caller in the menu.
#[derive(Debug)]
pub struct IvrCall {
    menu: Arc<Menu>,
    hours: HoursState,
    state: State,
    deadline: Option<Instant>,
    play_id: u32,
    actions: Vec<Action>,
    /// The queue the caller is in, to put them back if the agent drops before connecting.
    last_queue: Option<(Option<String>, Option<String>)>,
    /// How often the caller hears their position in the queue they are in.
    position_every: Duration,
    /// When the caller stops waiting, and where they go then.
    give_up: Option<(Instant, NodeId)>,
    /// Keys pressed while a node only played, for the next menu.
    typeahead: TypeAhead,
}

/// How long a caller has to type a callback number or answer the survey.
const ENTRY_TIMEOUT: Duration = Duration::from_secs(10);

impl IvrCall {
    /// A caller entering the menu at `now`, with the hotline open or closed.
    pub fn start(menu: Arc<Menu>, hours: HoursState, now: Instant) -> (IvrCall, Vec<Action>) {
        let first = if hours.is_closed() {
            menu.closed.clone()
        } else {
            menu.start.clone()
        };
        let mut call = IvrCall {
            menu,
            hours,
            state: State::Done,
            deadline: None,
            play_id: 0,
            actions: Vec::new(),
            last_queue: None,
            give_up: None,
            position_every: Duration::ZERO,
            typeahead: TypeAhead::default(),
        };
        call.enter(first, now);
        let actions = std::mem::take(&mut call.actions);
        (call, actions)
    }

    /// When [`Event::Timeout`] is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let give_up = match self.state {
            State::Queued { .. } => self.give_up.as_ref().map(|(at, _)| *at),
            _ => None,
        };
        match (self.deadline, give_up) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the call has left the menu for good.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether caller and agent are connected.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Whether the caller chose to leave a message and still hears its prompts (the
    /// recording has not begun): a caller to follow up if they hang up now.
    pub fn is_before_the_message(&self) -> bool {
        matches!(
            self.state,
            State::Voicemail {
                recording: false,
                ..
            }
        )
    }

    /// Feeds one event; returns what to do.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        match event {
            Event::Timeout => {
                let queued = matches!(self.state, State::Queued { .. });
                let give_up_due = queued && self.give_up.as_ref().is_some_and(|(at, _)| now >= *at);
                if give_up_due {
                    self.leave_queue(now);
                } else if self.deadline.is_some_and(|d| now >= d) {
                    self.deadline = None;
                    self.on_timeout(now);
                }
            }
            Event::PromptsFinished(id) if id == self.play_id => self.on_prompts_finished(now),
            Event::PromptsFinished(_) => {}
            Event::Digit(d) => self.on_digit(d, now),
            Event::RecordingFinished => {
                if let State::Voicemail {
                    next,
                    recording: true,
                } = &self.state
                {
                    let next = next.clone();
                    self.enter(next, now);
                }
            }
            other => self.on_queue_event(other, now),
        }
        std::mem::take(&mut self.actions)
    }

    fn play(&mut self, prompts: Vec<PromptId>, looped: bool) {
        self.play_id = self.play_id.wrapping_add(1);
        self.actions.push(Action::Play {
            id: self.play_id,
            prompts,
            looped,
        });
    }

    fn finish(&mut self) {
        self.state = State::Done;
        self.deadline = None;
        self.actions.push(Action::Hangup);
    }

    fn enter(&mut self, id: NodeId, now: Instant) {
        let Some(node) = self.menu.node(&id).cloned() else {
            // A checked menu has no dangling references; hang up rather than loop.
            self.finish();
            return;
        };
        self.deadline = None;
        self.actions.push(Action::Entered(id.clone()));
        if !matches!(node.kind, NodeKind::Play { .. } | NodeKind::Menu { .. }) {
            // Typed-ahead keys are for the next menu only: a stray key must not end a
            // message, start a callback number or choose in a menu after the queue.
            self.typeahead.clear();
        }
        match node.kind {
            NodeKind::Play { next, barge_in } => {
                self.state = State::Playing {
                    next: next.clone(),
                    barge_in,
                };
                // A key typed already would cut a barge-in node off at its first word.
                if node.prompts.is_empty() || (barge_in && !self.typeahead.is_empty()) {
                    self.enter(next, now);
                } else {
                    self.play(node.prompts, false);
                }
            }
            NodeKind::Menu { retries, .. } => self.open_menu(id, retries, node.prompts, now),
            NodeKind::Queue {
                skill,
                region,
                position_every,
                max_wait,
            } => {
                self.give_up = max_wait.map(|(after, next)| (now + after, next));
                self.position_every = position_every.unwrap_or(self.menu.position_every);
                if !self.hours.queue_open(skill.as_deref(), region.as_deref()) {
                    let closed = self.menu.closed.clone();
                    if closed != id {
                        self.enter(closed, now);
                        return;
                    }
                }
                self.last_queue = Some((skill.clone(), region.clone()));
                self.actions.push(Action::Queue { skill, region });
                self.state = State::Queued { announcing: false };
                self.hold_music(now);
            }
            NodeKind::Voicemail { next, max } => {
                self.state = State::Voicemail {
                    next,
                    recording: false,
                };
                if node.prompts.is_empty() {
                    self.start_recording(max, now);
                } else {
                    self.play(node.prompts, false);
                }
            }
            NodeKind::Callback { .. } => {
                self.state = State::CallbackEntry {
                    node: id,
                    digits: String::new(),
                    tries: 0,
                };
                self.play(node.prompts, false);
                self.deadline = Some(now + ENTRY_TIMEOUT * 3);
            }
            NodeKind::Hangup => {
                if node.prompts.is_empty() {
                    self.finish();
                } else {
                    self.state = State::Ending;
                    self.play(node.prompts, false);
                }
            }
        }
    }

    /// Starts menu `node` with `prompts`; a typed-ahead key is taken at once, as if pressed
    /// at the first word, so a key that chooses skips the prompts altogether.
    fn open_menu(&mut self, node: NodeId, retries_left: u32, prompts: Vec<PromptId>, now: Instant) {
        self.state = State::Menu {
            node: node.clone(),
            retries_left,
            waiting: false,
        };
        if let Some(key) = self.typeahead.take() {
            self.menu_key(node, retries_left, key, now);
            return;
        }
        let silent = prompts.is_empty();
        self.play(prompts, false);
        if silent {
            self.on_prompts_finished(now);
        }
    }

    /// A key for menu `node`: the node it chooses, or the menu again after an invalid key.
    fn menu_key(&mut self, node: NodeId, retries_left: u32, key: char, now: Instant) {
        let target = match self.menu.node(&node).map(|n| &n.kind) {
            Some(NodeKind::Menu { keys, .. }) => keys.get(&key).cloned(),
            _ => None,
        };
        match target {
            Some(t) => self.enter(t, now),
            None => self.menu_retry(node, retries_left, true, now),
        }
    }

    fn start_recording(&mut self, max: Duration, now: Instant) {
        if let State::Voicemail { recording, .. } = &mut self.state {
            *recording = true;
        }
        self.actions.push(Action::RecordVoicemail { max });
        // A margin over `max`: the switch normally reports the end itself.
        self.deadline = Some(now + max + Duration::from_secs(2));
    }

    fn on_prompts_finished(&mut self, now: Instant) {
        match self.state.clone() {
            State::Playing { next, .. } => self.enter(next, now),
            State::Menu {
                node, retries_left, ..
            } => {
                let timeout = match self.menu.node(&node).map(|n| &n.kind) {
                    Some(NodeKind::Menu { timeout, .. }) => *timeout,
                    _ => Duration::from_secs(5),
                };
                self.state = State::Menu {
                    node,
                    retries_left,
                    waiting: true,
                };
                self.deadline = Some(now + timeout);
            }
            State::Voicemail {
                recording: false,
                next,
            } => {
                let max = self
                    .menu
                    .nodes
                    .values()
                    .find_map(|n| match &n.kind {
                        NodeKind::Voicemail { next: nx, max } if *nx == next => Some(*max),
                        _ => None,
                    })
                    .unwrap_or(Duration::from_secs(120));
                self.start_recording(max, now);
            }
            State::CallbackEntry { .. } | State::CallbackConfirm { .. } | State::Survey => {
                self.deadline = Some(now + ENTRY_TIMEOUT);
            }
            State::Queued { announcing: true } => {
                self.state = State::Queued { announcing: false };
                self.hold_music(now);
            }
            State::Announcing => {
                self.state = State::Connected;
                self.actions.push(Action::Connect);
            }
            State::Ending => self.finish(),
            _ => {}
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        match self.state.clone() {
            State::Menu {
                node, retries_left, ..
            } => self.menu_retry(node, retries_left, false, now),
            State::Voicemail {
                recording: true,
                next,
            } => {
                self.actions.push(Action::StopRecording);
                self.enter(next, now);
            }
            State::CallbackEntry { .. } | State::CallbackConfirm { .. } => {
                self.on_callback_timeout(now)
            }
            State::Queued { .. } => self.actions.push(Action::QueryPosition),
            State::Survey => self.finish(),
            _ => {}
        }
    }

    fn menu_retry(&mut self, node: NodeId, retries_left: u32, invalid_key: bool, now: Instant) {
        let Some(n) = self.menu.node(&node).cloned() else {
            self.finish();
            return;
        };
        let NodeKind::Menu {
            fallback, invalid, ..
        } = n.kind
        else {
            return;
        };
        if retries_left == 0 {
            self.enter(fallback, now);
            return;
        }
        let mut prompts = Vec::new();
        if invalid_key {
            prompts.extend(invalid);
        }
        prompts.extend(n.prompts);
        self.deadline = None;
        self.open_menu(node, retries_left - 1, prompts, now);
    }

    fn on_digit(&mut self, d: char, now: Instant) {
        match self.state.clone() {
            State::Playing { next, barge_in } => {
                self.typeahead.push(d);
                if barge_in {
                    self.actions.push(Action::StopPlaying);
                    self.enter(next, now);
                }
            }
            State::Menu {
                node,
                retries_left,
                waiting,
            } => {
                if !waiting {
                    self.actions.push(Action::StopPlaying);
                }
                self.menu_key(node, retries_left, d, now);
            }
            State::Voicemail {
                recording: true,
                next,
            } if d == '#' => {
                self.actions.push(Action::StopRecording);
                self.enter(next, now);
            }
            State::CallbackEntry { .. } | State::CallbackConfirm { .. } => {
                self.on_callback_digit(d, now)
            }
            State::Survey => {
                if let Some(score) = d.to_digit(10).filter(|s| (1..=3).contains(s)) {
                    self.actions.push(Action::StopPlaying);
                    self.actions.push(Action::SurveyScore(score as u8));
                    self.state = State::Ending;
                    self.deadline = None;
                    let thanks: Vec<PromptId> =
                        self.menu.fixed.survey_thanks.iter().cloned().collect();
                    if thanks.is_empty() {
                        self.finish();
                    } else {
                        self.play(thanks, false);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod typeahead_tests;
