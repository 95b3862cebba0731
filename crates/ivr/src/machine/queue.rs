//! The caller's time in the queue and with the agent: position announcements, the agent's
//! number before the connection, hand-ons (转办) back to a queue or to one person, the
//! survey after the agent hangs up.

use std::time::Instant;

use super::{Action, Event, IvrCall, State};

impl IvrCall {
    /// The events of the queue and the agent's side; the menu's own events go elsewhere.
    pub(super) fn on_queue_event(&mut self, event: Event, now: Instant) {
        match event {
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
            Event::Timeout
            | Event::PromptsFinished(_)
            | Event::Digit(_)
            | Event::RecordingFinished => {}
        }
    }

    /// The longest wait is over: out of the queue, on to the queue node's `next`.
    pub(super) fn leave_queue(&mut self, now: Instant) {
        if let Some((_, next)) = self.give_up.take() {
            self.deadline = None;
            self.last_queue = None;
            self.actions.push(Action::LeaveQueue);
            self.actions.push(Action::StopPlaying);
            self.enter(next, now);
        }
    }

    pub(super) fn hold_music(&mut self, now: Instant) {
        match self.menu.fixed.hold_music.clone() {
            Some(m) => self.play(vec![m], true),
            None => self.play(Vec::new(), false),
        }
        if !self.position_every.is_zero() {
            self.deadline = Some(now + self.position_every);
        }
    }
}
