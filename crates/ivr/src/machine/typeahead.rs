//! Keys typed ahead: pressed while a node only plays (the welcome, information read out),
//! kept for the next menu, as Asterisk's `Background`/`WaitExten` keep a pending digit. An
//! experienced taxpayer presses 0 during the welcome and should not sit through the menu.

use std::collections::VecDeque;

/// Keys kept at most: enough for a caller who knows a path through nested menus by heart,
/// few enough that a held or bouncing key cannot pile up choices nobody meant.
pub(super) const CAPACITY: usize = 4;

/// The keys typed ahead, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct TypeAhead {
    keys: VecDeque<char>,
}

impl TypeAhead {
    /// Keeps `key` unless [`CAPACITY`] keys wait already: the first keys choose in the first
    /// menus, so a later one is the one dropped.
    pub(super) fn push(&mut self, key: char) {
        if self.keys.len() < CAPACITY {
            self.keys.push_back(key);
        }
    }

    /// The oldest key, taken out so that it counts once.
    pub(super) fn take(&mut self) -> Option<char> {
        self.keys.pop_front()
    }

    /// Whether no key waits.
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Forgets every key.
    pub(super) fn clear(&mut self) {
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_out_in_the_order_pressed_and_once() {
        let mut t = TypeAhead::default();
        t.push('1');
        t.push('2');
        assert_eq!(t.take(), Some('1'));
        assert_eq!(t.take(), Some('2'));
        assert_eq!(t.take(), None);
    }

    #[test]
    fn keys_past_the_capacity_are_dropped_and_the_first_kept() {
        let mut t = TypeAhead::default();
        for k in "0123456789".chars() {
            t.push(k);
        }
        let kept: String = std::iter::from_fn(|| t.take()).collect();
        assert_eq!(kept, "0123"[..CAPACITY]);
    }
}
