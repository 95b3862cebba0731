//! The call record: one row per call, rewritten whole at every state change.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::CallId;

/// Where a call stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Offered to the switch, or ringing an agent; nobody has answered yet.
    Ringing,
    /// In the voice menu, not yet asking for an agent.
    Ivr,
    /// Waiting in a queue for an agent.
    Queued,
    /// An agent answered (the call may still be going on if `ended_at` is empty).
    Answered,
    /// The caller hung up before anyone answered.
    Abandoned,
    /// Handed to the provincial centre or another queue because the city could not take it.
    Overflowed,
    /// Sent on to a city's old system over a trunk (割接), out of this switch's hands.
    Forwarded,
    /// Could not be completed: no route, an error, a rejected call.
    Failed,
}

impl Outcome {
    /// Every outcome, for parsing and tests.
    pub const ALL: [Outcome; 8] = [
        Outcome::Ringing,
        Outcome::Ivr,
        Outcome::Queued,
        Outcome::Answered,
        Outcome::Abandoned,
        Outcome::Overflowed,
        Outcome::Forwarded,
        Outcome::Failed,
    ];

    /// The word stored in the `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ringing => "ringing",
            Outcome::Ivr => "ivr",
            Outcome::Queued => "queued",
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Overflowed => "overflowed",
            Outcome::Forwarded => "forwarded",
            Outcome::Failed => "failed",
        }
    }
}

/// Who ended the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HungUpBy {
    /// The taxpayer hung up.
    Caller,
    /// The agent hung up.
    Agent,
    /// The switch ended it (timeout, shutdown, error).
    Switch,
}

impl HungUpBy {
    /// Every value, for parsing and tests.
    pub const ALL: [HungUpBy; 3] = [HungUpBy::Caller, HungUpBy::Agent, HungUpBy::Switch];

    /// The word stored in the `hung_up_by` column.
    pub fn as_str(self) -> &'static str {
        match self {
            HungUpBy::Caller => "caller",
            HungUpBy::Agent => "agent",
            HungUpBy::Switch => "switch",
        }
    }
}

/// A stored word that is not one of the enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownWord(pub String);

impl FromStr for Outcome {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Outcome, UnknownWord> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

impl FromStr for HungUpBy {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<HungUpBy, UnknownWord> {
        HungUpBy::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for HungUpBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One call as the reports and spot checks (抽检) see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRecord {
    /// The call's id, also its recording's file name.
    pub call_id: CallId,
    /// The caller number exactly as the carrier sent it.
    pub caller_raw: String,
    /// The caller number after normalisation, when it could be normalised.
    pub caller_normalized: Option<String>,
    /// Kind of caller number (landline, mobile, ...), as named by the routing crate.
    pub caller_kind: Option<String>,
    /// The region (city) the call was routed to.
    pub region: Option<String>,
    /// The agent who answered.
    pub agent: Option<String>,
    /// When the call reached the switch.
    pub offered_at: DateTime<Utc>,
    /// When an agent answered.
    pub answered_at: Option<DateTime<Utc>>,
    /// When the call ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Where the call stands or how it ended.
    pub outcome: Outcome,
    /// Who ended the call.
    pub hung_up_by: Option<HungUpBy>,
    /// Time the caller waited for an agent, in milliseconds.
    pub waited_ms: Option<u64>,
    /// The call's recording.
    pub recording_path: Option<PathBuf>,
    /// Whether the call overflowed to another queue or the provincial centre on its way.
    pub overflowed: bool,
    /// The voice-menu node the caller was last in (where they waited, for the abandoned list).
    pub ivr_node: Option<String>,
    /// The voice-menu nodes the caller went through, in order (`welcome > main > filing`).
    pub ivr_path: Option<String>,
    /// The business skill the caller asked for.
    pub skill: Option<String>,
    /// Whether the agent's number was announced to the caller (报工号).
    pub agent_announced: bool,
    /// The caller's satisfaction score: 1 satisfied, 2 fairly, 3 not.
    pub survey_score: Option<u8>,
    /// A taxpayer's call in, or an agent's call out (回访).
    pub direction: Direction,
    /// For calls out: the number the agent dialled (caller_raw is then the agent).
    pub dialled: Option<String>,
    /// The call should have been recorded and was not: the disk was below its free-space
    /// floor, or the recording could not be started.
    pub recording_failed: bool,
    /// When the caller first asked for an agent (entered a queue): the start of their wait.
    pub queued_at: Option<DateTime<Utc>>,
    /// How long the phone that answered rang, in milliseconds ("within three rings").
    pub ring_ms: Option<u64>,
    /// Where a caller who gave up was: waiting in the queue, while an agent's phone rang,
    /// or during the agent-number announcement.
    pub abandoned_in: Option<AbandonStage>,
    /// Where the caller is from, as routed: `in_province`, `out_of_province`,
    /// `international`, `unknown` (anonymous or a number of no known place).
    pub origin: Option<String>,
}

/// Where a caller gave up waiting for an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AbandonStage {
    /// Waiting in the queue, no phone ringing for them.
    Queue,
    /// While an agent's phone rang for them.
    Ringing,
    /// After an agent answered, during the agent-number announcement (报工号).
    Announcement,
}

impl AbandonStage {
    /// Every stage, in the order a call goes through them.
    pub const ALL: [AbandonStage; 3] = [
        AbandonStage::Queue,
        AbandonStage::Ringing,
        AbandonStage::Announcement,
    ];

    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AbandonStage::Queue => "queue",
            AbandonStage::Ringing => "ringing",
            AbandonStage::Announcement => "announcement",
        }
    }
}

impl FromStr for AbandonStage {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<AbandonStage, UnknownWord> {
        AbandonStage::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// A taxpayer called 12366 (or a legacy city's call passed through).
    Inbound,
    /// An agent called out through a trunk.
    Outbound,
    /// An agent called another (a consultation before a transfer): no taxpayer's call.
    Internal,
}

impl Direction {
    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Internal => "internal",
            Direction::Outbound => "outbound",
        }
    }
}

impl FromStr for Direction {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Direction, UnknownWord> {
        [Direction::Inbound, Direction::Outbound, Direction::Internal]
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| UnknownWord(s.to_owned()))
    }
}

impl CallRecord {
    /// A call just offered to the switch: ringing, nothing else known yet.
    pub fn new(
        call_id: CallId,
        caller_raw: impl Into<String>,
        offered_at: DateTime<Utc>,
    ) -> CallRecord {
        CallRecord {
            call_id,
            caller_raw: caller_raw.into(),
            caller_normalized: None,
            caller_kind: None,
            region: None,
            agent: None,
            offered_at,
            answered_at: None,
            ended_at: None,
            outcome: Outcome::Ringing,
            hung_up_by: None,
            waited_ms: None,
            recording_path: None,
            overflowed: false,
            ivr_node: None,
            ivr_path: None,
            skill: None,
            agent_announced: false,
            survey_score: None,
            direction: Direction::Inbound,
            dialled: None,
            recording_failed: false,
            queued_at: None,
            ring_ms: None,
            abandoned_in: None,
            origin: None,
        }
    }
}

/// Why a caller is waiting to be called back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallbackKind {
    /// Left a voicemail outside service hours.
    Voicemail,
    /// Left a number to call back.
    Callback,
    /// Hung up while waiting for an agent.
    Abandoned,
}

impl CallbackKind {
    /// The word stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::Voicemail => "voicemail",
            CallbackKind::Callback => "callback",
            CallbackKind::Abandoned => "abandoned",
        }
    }

    /// The kind from its stored word.
    pub fn parse(s: &str) -> Option<CallbackKind> {
        [
            CallbackKind::Voicemail,
            CallbackKind::Callback,
            CallbackKind::Abandoned,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A caller to call back (100% answered or followed up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Callback {
    /// Row id (0 until stored).
    pub id: i64,
    /// The call it came from.
    pub call_id: CallId,
    /// The caller number as received.
    pub caller: String,
    /// The number to call: what the caller typed, else their own normalised number.
    pub number: Option<String>,
    /// The caller's region, whose agents should call back.
    pub region: Option<String>,
    /// When it was left.
    pub created_at: DateTime<Utc>,
    /// Voicemail, callback number or abandoned call.
    pub kind: CallbackKind,
    /// The voicemail's file.
    pub voicemail_path: Option<PathBuf>,
    /// `open` until someone calls back.
    pub state: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>().unwrap(), o);
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{o}\""));
        }
        for h in HungUpBy::ALL {
            assert_eq!(h.as_str().parse::<HungUpBy>().unwrap(), h);
        }
        assert!("hungup".parse::<Outcome>().is_err());
    }
}
