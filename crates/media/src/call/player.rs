//! What the switch is playing to the caller: a list of prompts cut into 20 ms frames,
//! seamlessly across prompt boundaries (a number read out digit by digit), looped for music.

use std::sync::Arc;

/// Samples per frame: 20 ms at 8 kHz, the usual G.711 packetisation.
pub(crate) const FRAME: usize = 160;

/// One play in progress.
#[derive(Debug)]
pub(crate) struct Player {
    id: u32,
    clips: Vec<Arc<[i16]>>,
    clip: usize,
    pos: usize,
    looped: bool,
    /// `PlayFinished` was sent (with the last frame).
    end_told: bool,
}

impl Player {
    /// A play of `clips` in order; `None` if there is nothing to hear.
    pub(crate) fn new(id: u32, mut clips: Vec<Arc<[i16]>>, looped: bool) -> Option<Player> {
        // Empty clips would make a looped play spin without producing a frame.
        clips.retain(|c| !c.is_empty());
        if clips.is_empty() {
            return None;
        }
        Some(Player {
            id,
            clips,
            clip: 0,
            pos: 0,
            looped,
            end_told: false,
        })
    }

    /// The id the switch gave the play, for `PlayFinished`.
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Whether the play restarts at its end (it never finishes on its own).
    pub(crate) fn looped(&self) -> bool {
        self.looped
    }

    /// Whether every frame has been handed out (never, for a looped play).
    pub(crate) fn is_exhausted(&self) -> bool {
        !self.looped && self.clip >= self.clips.len()
    }

    /// True the first time it is asked: the play's end is told once.
    pub(crate) fn tell_end(&mut self) -> bool {
        !std::mem::replace(&mut self.end_told, true)
    }

    /// Fills `frame` with the next 20 ms, padding the last one with silence; false once
    /// everything has been played.
    pub(crate) fn next_frame(&mut self, frame: &mut [i16; FRAME]) -> bool {
        let mut filled = 0;
        while filled < FRAME {
            let Some(clip) = self.clips.get(self.clip) else {
                if self.looped {
                    self.clip = 0;
                    continue;
                }
                break;
            };
            let rest = clip.get(self.pos..).unwrap_or_default();
            let out = frame.get_mut(filled..).unwrap_or_default();
            let n = rest.len().min(out.len());
            for (o, &s) in out.iter_mut().zip(rest) {
                *o = s;
            }
            filled += n;
            self.pos += n;
            if self.pos >= clip.len() {
                self.clip += 1;
                self.pos = 0;
            }
        }
        if filled == 0 {
            return false;
        }
        for o in frame.get_mut(filled..).unwrap_or_default() {
            *o = 0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(value: i16, len: usize) -> Arc<[i16]> {
        vec![value; len].into()
    }

    #[test]
    fn prompts_run_on_across_frames_and_the_last_is_padded() {
        let mut p = Player::new(1, vec![clip(1, 100), clip(2, 150)], false).unwrap();
        let mut f = [9; FRAME];
        assert!(p.next_frame(&mut f));
        assert_eq!((f[99], f[100], f[159]), (1, 2, 2));
        assert!(p.next_frame(&mut f));
        assert_eq!((f[89], f[90], f[159]), (2, 0, 0));
        assert!(!p.next_frame(&mut f));
    }

    #[test]
    fn a_looped_play_wraps_and_never_ends() {
        let mut p = Player::new(1, vec![clip(3, 100)], true).unwrap();
        let mut f = [0; FRAME];
        for _ in 0..10 {
            assert!(p.next_frame(&mut f));
            assert!(f.iter().all(|&s| s == 3));
        }
    }

    #[test]
    fn nothing_to_play_is_no_player() {
        assert!(Player::new(1, vec![], true).is_none());
        assert!(Player::new(1, vec![clip(0, 0)], true).is_none());
    }
}
