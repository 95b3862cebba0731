//! Taking a callback number (回复电话): digits ended by `#`, read back, 1 confirms, 2 types
//! it again; silence gives the caller three tries.

use std::time::Instant;

use super::{Action, IvrCall, State, ENTRY_TIMEOUT};
use crate::menu::{NodeId, NodeKind};

/// Longest callback number accepted.
const MAX_CALLBACK_DIGITS: usize = 20;

impl IvrCall {
    /// A key while the number is typed or confirmed.
    pub(super) fn on_callback_digit(&mut self, d: char, now: Instant) {
        match self.state.clone() {
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
            _ => {}
        }
    }

    /// No key in time while the number is typed or confirmed.
    pub(super) fn on_callback_timeout(&mut self, now: Instant) {
        match self.state.clone() {
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
            _ => {}
        }
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
}
