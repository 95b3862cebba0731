//! What one call counts as, written once for every report.
//!
//! - **Offered** (进线): a taxpayer's call that reached the switch (inbound; agents' calls
//!   out are reported apart). Every figure of a call is counted in the interval, day or
//!   month in which it was offered, its handling time included.
//! - **IVR visit** (语音导航): an offered call that entered the voice menu.
//! - **Asked for an agent** (转人工, offered to agents): the caller entered an agent queue
//!   (`queued_at`); without a menu, every call does.
//! - **Answered** (接听): an agent answered and the caller stayed through the agent-number
//!   announcement (a caller gone during 报工号 is abandoned, not answered).
//! - **Abandoned** (放弃): asked for an agent and hung up before being answered: in the
//!   queue, while an agent's phone rang, or during the announcement. A **short abandon**
//!   waited under 5 s: usually a misdial, shown apart and not held against the centre.
//! - **Wait** (ASA, average speed of answer, 平均应答时长): from asking for an agent to the
//!   answer. **Service level** (SL, 服务水平): the share of calls that asked for an agent,
//!   short abandons left out, answered within 20 s. **Three rings** (铃响三声): the
//!   answering phone rang at most 15 s.
//! - **Handling time** (AHT, 平均处理时长): from the answer to the end of the call (talk;
//!   after-call work is in the staffing figures).
//! - **Connection rate** (接通率): answered / asked for an agent.

use chrono::Duration;
use hotline_record::{AbandonStage, CallSummary, Direction, Outcome};

/// Under this, an abandon is a short abandon.
pub const SHORT_ABANDON: Duration = Duration::seconds(5);
/// The service-level threshold: answered within 20 s.
pub const SERVICE_LEVEL_WAIT: Duration = Duration::seconds(20);
/// "Within three rings": the answering phone rang at most this long.
pub const THREE_RINGS: Duration = Duration::seconds(15);

/// One call's facts as the reports count them.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    /// The record.
    pub call: &'a CallSummary,
    /// A taxpayer's call in (not an agent's call out).
    pub inbound: bool,
    /// It entered the voice menu.
    pub ivr_visit: bool,
    /// It asked for an agent.
    pub asked_for_agent: bool,
    /// An agent answered and the caller stayed through the announcement.
    pub answered: bool,
    /// Where the caller gave up, if they did.
    pub abandoned: Option<AbandonStage>,
    /// They gave up within [`SHORT_ABANDON`].
    pub short_abandon: bool,
    /// From asking for an agent to the answer, or to giving up.
    pub wait: Option<Duration>,
    /// From the answer to the end.
    pub handling: Option<Duration>,
    /// How long the answering phone rang.
    pub ring: Option<Duration>,
}

impl<'a> Facts<'a> {
    /// The facts of `call`.
    pub fn of(call: &'a CallSummary) -> Facts<'a> {
        let inbound = call.direction == Direction::Inbound;
        let asked_for_agent = inbound && call.queued_at.is_some();
        let announced_gone = call.abandoned_in == Some(AbandonStage::Announcement);
        let answered = asked_for_agent
            && call.answered_at.is_some()
            && call.agent.is_some()
            && call.outcome == Outcome::Answered
            && !announced_gone;
        let abandoned = if answered || !asked_for_agent {
            None
        } else {
            call.abandoned_in
        };
        let waited_until = if answered {
            call.answered_at
        } else if abandoned.is_some() {
            call.ended_at
        } else {
            None
        };
        let wait = match (call.queued_at, waited_until) {
            (Some(q), Some(t)) => Some((t - q).max(Duration::zero())),
            _ => None,
        };
        let short_abandon = abandoned.is_some() && wait.is_some_and(|w| w < SHORT_ABANDON);
        let handling = match (answered, call.answered_at, call.ended_at) {
            (true, Some(a), Some(e)) => Some((e - a).max(Duration::zero())),
            _ => None,
        };
        let ring = call
            .ring_ms
            .filter(|_| answered)
            .map(|ms| Duration::milliseconds(i64::try_from(ms).unwrap_or(i64::MAX)));
        Facts {
            call,
            inbound,
            ivr_visit: inbound && call.ivr_node.is_some(),
            asked_for_agent,
            answered,
            abandoned,
            short_abandon,
            wait,
            handling,
            ring,
        }
    }

    /// Answered within the service-level wait.
    pub fn within_service_level(&self) -> bool {
        self.answered && self.wait.is_some_and(|w| w <= SERVICE_LEVEL_WAIT)
    }

    /// Answered within three rings.
    pub fn within_three_rings(&self) -> bool {
        self.answered && self.ring.is_some_and(|r| r <= THREE_RINGS)
    }
}

/// Seconds of a duration, as a float.
pub fn secs(d: Duration) -> f64 {
    d.num_milliseconds() as f64 / 1000.0
}
