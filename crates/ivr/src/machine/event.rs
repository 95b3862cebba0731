//! What goes into the menu machine (what happened to the call) and what comes out of it
//! (what the switch must do).

use std::time::Duration;

use crate::menu::{NodeId, PromptId};

/// What happened to the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The caller pressed a key (RFC 4733, SIP INFO or in-band: all the same here).
    Digit(char),
    /// The prompts of `Play { id }` finished playing.
    PromptsFinished(u32),
    /// The voicemail recording reached its maximum or was stopped by the switch.
    RecordingFinished,
    /// The deadline from [`IvrCall::poll_timeout`](crate::IvrCall::poll_timeout) passed.
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
