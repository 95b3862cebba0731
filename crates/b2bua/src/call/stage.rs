//! Where a call is in its life, as one enum, and the only ways a call moves between its
//! stages: so a call is never half in two (a menu and a parked transfer, say).

use super::{menu, Call, Parked, Talking};
use crate::media_ctl::MediaHandle;

/// Where a call is in its life.
pub(crate) enum Stage {
    /// Not answered: in the queue or ringing a party. A trunk's early media (183 with SDP)
    /// may already flow and record through `early`, the bridge its answer takes over.
    Waiting { early: Option<MediaHandle> },
    /// Answered by the voice menu, which holds the caller's media; `talking` once an agent
    /// or a trunk is connected through it.
    Menu {
        menu: Box<menu::MenuSession>,
        talking: Option<Talking>,
    },
    /// Bridged to an agent or a trunk, without a menu.
    Talking(Talking),
    /// Without a menu, between a transfer's two parties: the caller's media goes on.
    Parked(Parked),
}

impl Stage {
    /// The stage as `/metrics` labels it.
    pub(crate) fn word(&self) -> &'static str {
        match self {
            Stage::Waiting { .. } => "waiting",
            Stage::Menu { talking: None, .. } => "menu",
            Stage::Menu {
                talking: Some(_), ..
            }
            | Stage::Talking(_) => "talking",
            Stage::Parked(_) => "parked",
        }
    }
}

impl Call {
    /// The call's media task, once there is one (menu answered, or agent connected).
    pub fn media(&self) -> Option<&MediaHandle> {
        match &self.stage {
            Stage::Menu { menu, .. } => Some(&menu.media),
            Stage::Talking(t) => t.bridge.as_ref(),
            Stage::Parked(p) => Some(&p.bridge),
            Stage::Waiting { .. } => None,
        }
    }

    /// The voice menu, once it has answered the call.
    pub fn menu(&self) -> Option<&menu::MenuSession> {
        match &self.stage {
            Stage::Menu { menu, .. } => Some(menu),
            _ => None,
        }
    }

    /// The voice menu, to change.
    pub fn menu_mut(&mut self) -> Option<&mut menu::MenuSession> {
        match &mut self.stage {
            Stage::Menu { menu, .. } => Some(menu),
            _ => None,
        }
    }

    /// Who the caller is connected to, with or without a menu.
    pub fn talking(&self) -> Option<&Talking> {
        match &self.stage {
            Stage::Menu { talking, .. } => talking.as_ref(),
            Stage::Talking(t) => Some(t),
            _ => None,
        }
    }

    /// Who the caller is connected to, to change.
    pub fn talking_mut(&mut self) -> Option<&mut Talking> {
        match &mut self.stage {
            Stage::Menu { talking, .. } => talking.as_mut(),
            Stage::Talking(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the caller is connected to someone.
    pub fn is_talking(&self) -> bool {
        self.talking().is_some()
    }

    /// The connected party taken out: a menu call goes back to its menu, a call without
    /// one to waiting (it is being transferred or ended).
    pub fn take_talking(&mut self) -> Option<Talking> {
        match &mut self.stage {
            Stage::Menu { talking, .. } => talking.take(),
            Stage::Talking(_) => {
                match std::mem::replace(&mut self.stage, Stage::Waiting { early: None }) {
                    Stage::Talking(t) => Some(t),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The caller is connected to `talking`: through the menu when there is one.
    pub fn connect(&mut self, talking: Talking) {
        match &mut self.stage {
            Stage::Menu { talking: t, .. } => *t = Some(talking),
            _ => self.stage = Stage::Talking(talking),
        }
    }

    /// Whether the call waits, parked, between a transfer's parties.
    pub fn is_parked(&self) -> bool {
        matches!(self.stage, Stage::Parked(_))
    }

    /// The parked caller's side taken out, back to waiting.
    pub fn take_parked(&mut self) -> Option<Parked> {
        match std::mem::replace(&mut self.stage, Stage::Waiting { early: None }) {
            Stage::Parked(p) => Some(p),
            other => {
                self.stage = other;
                None
            }
        }
    }

    /// The bridge a trunk's early media started, taken out for its answer.
    pub fn take_early(&mut self) -> Option<MediaHandle> {
        match &mut self.stage {
            Stage::Waiting { early } => early.take(),
            _ => None,
        }
    }

    /// Whether a trunk's early media already flows.
    pub fn has_early(&self) -> bool {
        matches!(self.stage, Stage::Waiting { early: Some(_) })
    }

    /// Whether the switch has answered the caller (the menu, an agent, or a transfer).
    pub fn caller_answered(&self) -> bool {
        !matches!(self.stage, Stage::Waiting { .. })
    }
}
