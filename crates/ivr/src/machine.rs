//! One caller's way through the voice menu, as a state machine.
//!
//! The switch feeds [`Event`]s with the current time and carries out the [`Action`]s: it
//! plays prompts into the caller's leg, queues the call, records, bridges, hangs up. Each
//! `Play` carries a number so that a `PromptsFinished` for a prompt that was since cut off
//! (by a key press, say) is recognised and ignored.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::hours::HoursState;
use crate::menu::{Menu, NodeId, NodeKind, PromptId};

/// What happened to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The caller pressed a key (RFC 4733, SIP INFO or in-band: all the same here).
    Digit(char),
    /// The prompts of `Play { id }` finished playing.
    PromptsFinished(u32),
    /// The voicemail recording reached its maximum or was stopped by the switch.
    RecordingFinished,
    /// The deadline from [`IvrCall::poll_timeout`] passed.
    Timeout,
    /// The caller's place in the queue, asked for by [`Action::QueryPosition`].
    Position(usize),
    /// An agent answered: announce their number, then connect.
    AgentAnswered(String),
    /// The agent hung up first.
    AgentHungUp,
    /// Someone who is not an agent answered (an outside number or a city's old system the
    /// call was transferred to): connected at once, with no agent number to announce.
    PartyAnswered,
    /// The agent handed the call on (转办) to another queue: `region`'s, or the caller's own
    /// when `None`; the skill asked for stays.
    TransferToQueue(Option<String>),
    /// The agent handed the call on to one person (an agent, an outside number) whom the
    /// switch rings now: hold music until `AgentAnswered` or a `TransferToQueue` fallback.
    TransferToParty,
}

/// What the switch must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these prompts to the caller (replacing whatever plays); `looped` for music.
    Play {
        /// Which play this is, echoed by [`Event::PromptsFinished`].
        id: u32,
        /// The prompts, in order.
        prompts: Vec<PromptId>,
        /// Repeat until replaced.
        looped: bool,
    },
    /// Stop playing (the caller pressed a key during a prompt).
    StopPlaying,
    /// The caller is in this node now (kept on the call record).
    Entered(NodeId),
    /// Queue the call for an agent.
    Queue {
        /// The business skill chosen.
        skill: Option<String>,
        /// A fixed region instead of the caller's own.
        region: Option<String>,
    },
    /// Say where the caller is in the queue: answer with [`Event::Position`].
    QueryPosition,
    /// Start recording a voicemail of at most `max`.
    RecordVoicemail {
        /// Longest message.
        max: Duration,
    },
    /// Stop the voicemail recording and keep it.
    StopRecording,
    /// The caller left this number for a callback.
    SaveCallback(String),
    /// The satisfaction score (1 satisfied, 2 fairly, 3 not).
    SurveyScore(u8),
    /// The caller waited the queue's longest wait: take them out of the queue (the menu
    /// goes on to voicemail or a callback).
    LeaveQueue,
    /// The agent's number was announced: bridge caller and agent now.
    Connect,
    /// End the call.
    Hangup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// A play node's prompts, then `next`.
    Playing(NodeId),
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
}

/// How long a caller has to type a callback number or answer the survey.
const ENTRY_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest callback number accepted.
const MAX_CALLBACK_DIGITS: usize = 20;

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
            Event::Position(n) => {
                if let State::Queued { .. } = self.state {
                    let mut prompts = Vec::new();
                    if let Some((before, after)) = &self.menu.fixed.position {
                        prompts.push(before.clone());
                        prompts.extend(self.menu.digits_of(&n.to_string()));
                        prompts.push(after.clone());
                    }
                    self.state = State::Queued { announcing: true };
                    self.play(prompts, false);
                }
            }
            Event::AgentAnswered(agent) => {
                if let State::Queued { .. } = self.state {
                    let f = &self.menu.fixed;
                    let mut prompts = vec![f.agent_before.clone()];
                    prompts.extend(self.menu.digits_of(&agent));
                    prompts.push(f.agent_after.clone());
                    self.deadline = None;
                    // Served: the queue's longest wait no longer applies, even if the
                    // call is handed on later.
                    self.give_up = None;
                    self.state = State::Announcing;
                    self.play(prompts, false);
                }
            }
            Event::AgentHungUp if self.state == State::Announcing => {
                // The agent dropped before the caller heard them: back in the queue.
                self.actions.push(Action::StopPlaying);
                if let Some((skill, region)) = self.last_queue.clone() {
                    self.actions.push(Action::Queue { skill, region });
                    self.state = State::Queued { announcing: false };
                    self.hold_music(now);
                } else {
                    self.finish();
                }
            }
            Event::TransferToQueue(region) => {
                if self.state == State::Announcing {
                    self.actions.push(Action::StopPlaying);
                }
                if matches!(
                    self.state,
                    State::Connected | State::Queued { .. } | State::Announcing
                ) {
                    let skill = self.last_queue.clone().and_then(|(skill, _)| skill);
                    self.last_queue = Some((skill.clone(), region.clone()));
                    self.actions.push(Action::Queue { skill, region });
                    self.state = State::Queued { announcing: false };
                    self.hold_music(now);
                }
            }
            Event::PartyAnswered => {
                if let State::Queued { .. } = self.state {
                    self.deadline = None;
                    self.give_up = None;
                    self.actions.push(Action::StopPlaying);
                    self.state = State::Connected;
                    self.actions.push(Action::Connect);
                }
            }
            Event::TransferToParty => {
                if self.state == State::Announcing {
                    self.actions.push(Action::StopPlaying);
                }
                if matches!(self.state, State::Connected | State::Announcing) {
                    self.state = State::Queued { announcing: false };
                    self.hold_music(now);
                    // No place in a queue to announce while one person is rung.
                    self.deadline = None;
                }
            }
            Event::AgentHungUp => {
                if self.state == State::Connected {
                    match self.menu.fixed.survey.clone() {
                        Some(survey) => {
                            self.state = State::Survey;
                            self.play(vec![survey], false);
                        }
                        None => self.finish(),
                    }
                }
            }
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
        match node.kind {
            NodeKind::Play { next } => {
                self.state = State::Playing(next.clone());
                if node.prompts.is_empty() {
                    self.enter(next, now);
                } else {
                    self.play(node.prompts, false);
                }
            }
            NodeKind::Menu { retries, .. } => {
                self.state = State::Menu {
                    node: id,
                    retries_left: retries,
                    waiting: false,
                };
                self.play(node.prompts, false);
                if self.menu_prompts_empty() {
                    self.on_prompts_finished(now);
                }
            }
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

    fn menu_prompts_empty(&self) -> bool {
        match &self.state {
            State::Menu { node, .. } => self.menu.node(node).is_some_and(|n| n.prompts.is_empty()),
            _ => false,
        }
    }

    /// The longest wait is over: out of the queue, on to the queue node's `next`.
    fn leave_queue(&mut self, now: Instant) {
        if let Some((_, next)) = self.give_up.take() {
            self.deadline = None;
            self.last_queue = None;
            self.actions.push(Action::LeaveQueue);
            self.actions.push(Action::StopPlaying);
            self.enter(next, now);
        }
    }

    fn hold_music(&mut self, now: Instant) {
        match self.menu.fixed.hold_music.clone() {
            Some(m) => self.play(vec![m], true),
            None => self.play(Vec::new(), false),
        }
        if !self.position_every.is_zero() {
            self.deadline = Some(now + self.position_every);
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
            State::Playing(next) => self.enter(next, now),
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
            State::CallbackEntry {
                node,
                digits,
                tries,
            } => {
                if digits.is_empty() {
                    if tries >= 2 {
                        self.finish();
                    } else {
                        self.restart_callback(node, tries + 1, now);
                    }
                } else {
                    self.confirm_callback(node, digits);
                }
            }
            State::CallbackConfirm { node, .. } => self.restart_callback(node, 0, now),
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
        self.state = State::Menu {
            node,
            retries_left: retries_left - 1,
            waiting: false,
        };
        let mut prompts = Vec::new();
        if invalid_key {
            prompts.extend(invalid);
        }
        prompts.extend(n.prompts);
        self.deadline = None;
        self.play(prompts, false);
    }

    fn restart_callback(&mut self, node: NodeId, tries: u32, now: Instant) {
        let prompts = self
            .menu
            .node(&node)
            .map(|n| n.prompts.clone())
            .unwrap_or_default();
        self.state = State::CallbackEntry {
            node,
            digits: String::new(),
            tries,
        };
        self.play(prompts, false);
        self.deadline = Some(now + ENTRY_TIMEOUT * 3);
    }

    fn confirm_callback(&mut self, node: NodeId, digits: String) {
        let f = &self.menu.fixed;
        let mut prompts = vec![f.readback.clone()];
        prompts.extend(self.menu.digits_of(&digits));
        prompts.push(f.confirm.clone());
        self.state = State::CallbackConfirm { node, digits };
        self.deadline = None;
        self.play(prompts, false);
    }

    fn on_digit(&mut self, d: char, now: Instant) {
        match self.state.clone() {
            State::Menu {
                node,
                retries_left,
                waiting,
            } => {
                if !waiting {
                    self.actions.push(Action::StopPlaying);
                }
                let target = match self.menu.node(&node).map(|n| &n.kind) {
                    Some(NodeKind::Menu { keys, .. }) => keys.get(&d).cloned(),
                    _ => None,
                };
                match target {
                    Some(t) => self.enter(t, now),
                    None => self.menu_retry(node, retries_left, true, now),
                }
            }
            State::Voicemail {
                recording: true,
                next,
            } if d == '#' => {
                self.actions.push(Action::StopRecording);
                self.enter(next, now);
            }
            State::CallbackEntry {
                node,
                mut digits,
                tries,
            } => {
                if self.deadline.is_some_and(|_| digits.is_empty()) {
                    self.actions.push(Action::StopPlaying);
                }
                match d {
                    '#' if digits.is_empty() => self.restart_callback(node, tries + 1, now),
                    '#' => self.confirm_callback(node, digits),
                    '0'..='9' if digits.len() < MAX_CALLBACK_DIGITS => {
                        digits.push(d);
                        self.state = State::CallbackEntry {
                            node,
                            digits,
                            tries,
                        };
                        self.deadline = Some(now + ENTRY_TIMEOUT);
                    }
                    _ => {}
                }
            }
            State::CallbackConfirm { node, digits } => match d {
                '1' => {
                    self.actions.push(Action::StopPlaying);
                    self.actions.push(Action::SaveCallback(digits));
                    let next = match self.menu.node(&node).map(|n| &n.kind) {
                        Some(NodeKind::Callback { next }) => Some(next.clone()),
                        _ => None,
                    };
                    match next {
                        Some(n) => self.enter(n, now),
                        None => self.finish(),
                    }
                }
                '2' => {
                    self.actions.push(Action::StopPlaying);
                    self.restart_callback(node, 0, now);
                }
                _ => {}
            },
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
#[path = "machine_tests.rs"]
mod tests;
