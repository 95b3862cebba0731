//! The validated menu tree: nodes that play, ask for a key, queue, record or hang up.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A node's name in the dialplan (`main`, `filing`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub Arc<str>);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A prompt's name: `prompts/<name>.wav`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(pub Arc<str>);

impl PromptId {
    /// A prompt id from its name.
    pub fn new(name: &str) -> PromptId {
        PromptId(Arc::from(name))
    }
}

impl fmt::Display for PromptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a node does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// Plays its prompts, then goes on (information read out, welcome). Keys pressed
    /// meanwhile are typed ahead for the next menu.
    Play {
        /// Where to go after the prompts.
        next: NodeId,
        /// A key ends the prompts at once (and is typed ahead); else they play to the end.
        barge_in: bool,
    },
    /// Plays its prompts and waits for one key.
    Menu {
        /// Key → node.
        keys: BTreeMap<char, NodeId>,
        /// How long to wait for a key after the prompts.
        timeout: Duration,
        /// How many times the menu is replayed after a missing or invalid key.
        retries: u32,
        /// Played before the replay after an invalid key.
        invalid: Option<PromptId>,
        /// Where to go when the retries are used up (an agent).
        fallback: NodeId,
    },
    /// Waits for an agent of the caller's region (or `region`) with `skill`.
    Queue {
        /// The business skill the caller asked for.
        skill: Option<String>,
        /// A fixed region instead of the caller's own (complaints go to the centre).
        region: Option<String>,
        /// This queue's interval between position announcements, if it has its own.
        position_every: Option<Duration>,
        /// After this wait the caller leaves the queue for the node (voicemail, callback).
        max_wait: Option<(Duration, NodeId)>,
    },
    /// Records a message (语音信箱) after its prompts; `#` ends it.
    Voicemail {
        /// Longest message.
        max: Duration,
        /// Where to go after the message.
        next: NodeId,
    },
    /// Takes a callback number (回复电话): digits ended by `#`, read back, confirmed with 1.
    Callback {
        /// Where to go once the number is confirmed.
        next: NodeId,
    },
    /// Plays its prompts, then hangs up.
    Hangup,
}

/// One node of the menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its name.
    pub id: NodeId,
    /// Prompts played on entering it.
    pub prompts: Vec<PromptId>,
    /// What it does.
    pub kind: NodeKind,
}

/// Prompts the machine plays itself, outside any node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedPrompts {
    /// Digits 0–9, for reading numbers out.
    pub digits: [PromptId; 10],
    /// "工号" before the agent number.
    pub agent_before: PromptId,
    /// "为您服务" after it.
    pub agent_after: PromptId,
    /// "您输入的号码是" before a callback number is read back.
    pub readback: PromptId,
    /// "确认请按1，重新输入请按2".
    pub confirm: PromptId,
    /// The satisfaction question, if surveys are on.
    pub survey: Option<PromptId>,
    /// Thanks after the survey.
    pub survey_thanks: Option<PromptId>,
    /// The position announcement: "您前面还有" N "位".
    pub position: Option<(PromptId, PromptId)>,
    /// Music on hold, looped while queued.
    pub hold_music: Option<PromptId>,
}

/// A whole menu: its nodes, where calls start in and out of service hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// The first node in service hours.
    pub start: NodeId,
    /// The first node outside service hours (and for queues closed at noon).
    pub closed: NodeId,
    /// Every node by id.
    pub nodes: HashMap<NodeId, Node>,
    /// The prompts the machine plays on its own.
    pub fixed: FixedPrompts,
    /// How often a waiting caller hears their position.
    pub position_every: Duration,
}

impl Menu {
    /// The node with this id.
    pub fn node(&self, id: &NodeId) -> Option<&Node> {
        self.nodes.get(id)
    }

    /// The prompts that read `number` digit by digit.
    pub fn digits_of(&self, number: &str) -> Vec<PromptId> {
        number
            .chars()
            .filter_map(|c| c.to_digit(10))
            .filter_map(|d| self.fixed.digits.get(d as usize).cloned())
            .collect()
    }
}
