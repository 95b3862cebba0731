//! The live board: what a supervisor's wallboard shows of each region now (callers
//! waiting and since when, agents by state), made from the ACD on request. The web console
//! adds today's counts from the call store.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use hotline_acd::AgentState;
use serde::Serialize;

use crate::core::Core;

/// Every region's live figures, in the dialplan's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Board {
    /// One entry per region of the plan.
    pub regions: Vec<RegionBoard>,
    /// Calls in progress by stage: `waiting` (queued or ringing, unanswered), `menu`,
    /// `talking` (an agent or trunk connected, through the menu or not), `parked` (between
    /// a transfer's parties).
    pub calls: BTreeMap<&'static str, u32>,
    /// Requests the sign-in brakes refused unchecked (blocked sources) since the start.
    pub refused_by_brakes: u64,
    /// New calls and registrations refused with 503 by the overload brakes since the start.
    pub shed: crate::admission::ShedCounts,
    /// Calls in progress at most now (the plan's ceiling, or the file limit's).
    pub ceiling: u32,
    /// Calls in progress as the ceiling counts them: with supervisors' and prompt-recording
    /// sessions.
    pub in_progress: u32,
    /// Messages the parser or its checks refused since the start.
    pub malformed: Malformed,
}

/// Messages the parser or its checks refused, by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Malformed {
    /// Requests answered 400.
    pub answered_400: u64,
    /// Dropped unanswered: responses, ACKs, and messages too broken to answer.
    pub dropped: u64,
}

/// One region's queue and agents now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegionBoard {
    /// The region's id (`luoyang`).
    pub region: String,
    /// Its name as the centre says it (`洛阳`).
    pub name: String,
    /// Callers waiting for an agent, ringing ones included.
    pub waiting: u32,
    /// When the longest-waiting of them began to wait (the page counts the seconds).
    pub oldest_since: Option<DateTime<Utc>>,
    /// Agents by state: `talking`, `ringing`, `available`, `wrap-up`, `logged-out`.
    pub agents: BTreeMap<&'static str, u32>,
    /// Agents not ready, by reason (`break`, `lunch`, `training`, `meeting`, …).
    pub not_ready: BTreeMap<&'static str, u32>,
    /// Each agent of the region, by number.
    pub seats: Vec<Seat>,
}

/// One agent as the supervisor's page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seat {
    /// The agent's number (工号).
    pub id: String,
    /// Their name, if the plan gives one.
    pub name: Option<String>,
    /// `available`, `ringing`, `talking`, `wrap-up`, `not-ready`, `logged-out`.
    pub state: &'static str,
    /// Why not ready.
    pub reason: Option<&'static str>,
    /// Since when in this state (the page counts the time).
    pub since: DateTime<Utc>,
    /// Calls answered today.
    pub calls_today: u32,
    /// Whether the phone is registered (or a static seat).
    pub reachable: bool,
    /// The call their phone rings with or they talk on: the agent's screen-pop.
    pub call: Option<SeatCall>,
}

/// The call on an agent's phone, as their screen pops it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeatCall {
    /// The call's id (its record and recording).
    pub call_id: String,
    /// The caller's number, normalised where it could be.
    pub caller: String,
    /// The city it was routed to.
    pub region: Option<String>,
    /// Where the caller was in the menu.
    pub ivr_node: Option<String>,
    /// The menu's nodes the caller went through (`welcome > main > invoice`).
    pub ivr_path: Option<String>,
    /// What they asked for (the menu's skill: `invoice`, `complaints`, …).
    pub skill: Option<String>,
    /// When it reached the switch.
    pub offered_at: DateTime<Utc>,
}

impl Core {
    /// The call on the phone of an agent in `status`, if any.
    fn seat_call(&self, status: &hotline_acd::AgentStatus) -> Option<SeatCall> {
        use hotline_acd::AgentStatus::{Ringing, RingingDirectly, Talking};
        let (Ringing(call) | RingingDirectly(call) | Talking(call)) = status else {
            return None;
        };
        let r = &self.calls.get(call)?.record;
        Some(SeatCall {
            call_id: r.call_id.as_str().to_string(),
            caller: r
                .caller_normalized
                .clone()
                .unwrap_or_else(|| r.caller_raw.clone()),
            region: r.region.clone(),
            ivr_node: r.ivr_node.clone(),
            ivr_path: r.ivr_path.clone(),
            skill: r.skill.clone(),
            offered_at: r.offered_at,
        })
    }

    /// The calendar time of monotonic time `t`, through the clocks' pair at the start.
    pub fn wall_at(&self, t: Instant) -> DateTime<Utc> {
        let (at, wall) = self.epoch;
        let offset = |d: std::time::Duration| chrono::Duration::from_std(d).unwrap_or_default();
        if t >= at {
            wall + offset(t.saturating_duration_since(at))
        } else {
            wall - offset(at.saturating_duration_since(t))
        }
    }

    /// The board now. Its times come from the monotonic times of the machine's state through
    /// one fixed pair of clocks ([`Core::wall_at`]), so a board with nothing changed is equal
    /// to the last one and is not pushed again.
    pub fn board(&self) -> Board {
        let mut regions: Vec<RegionBoard> = self
            .plan
            .dialplan
            .regions
            .iter()
            .map(|r| RegionBoard {
                region: r.id.as_str().to_string(),
                name: r.name.clone(),
                waiting: 0,
                oldest_since: None,
                agents: BTreeMap::new(),
                not_ready: BTreeMap::new(),
                seats: Vec::new(),
            })
            .collect();
        let index: BTreeMap<String, usize> = regions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.region.clone(), i))
            .collect();
        let at = |region: &str| index.get(region).copied();
        for (_, queue, arrived) in self.acd.waiting_calls() {
            let Some(r) = at(&queue.0).and_then(|i| regions.get_mut(i)) else {
                continue;
            };
            let since = self.wall_at(arrived);
            r.waiting += 1;
            r.oldest_since = Some(r.oldest_since.map_or(since, |o| o.min(since)));
        }
        for v in self.acd.agents() {
            let Some(r) = at(&v.queue.0).and_then(|i| regions.get_mut(i)) else {
                continue;
            };
            let state = v.status.state();
            *r.agents.entry(state.as_str()).or_default() += 1;
            let reason = v.status.reason().map(|r| r.as_str());
            if let (AgentState::NotReady, Some(reason)) = (state, reason) {
                *r.not_ready.entry(reason).or_default() += 1;
            }
            r.seats.push(Seat {
                name: self
                    .plan
                    .dialplan
                    .agent(&v.id.0)
                    .and_then(|a| a.name.clone()),
                id: v.id.0,
                state: state.as_str(),
                reason,
                since: self.wall_at(v.since),
                calls_today: v.calls_today,
                reachable: v.reachable,
                call: self.seat_call(&v.status),
            });
        }
        let mut calls = BTreeMap::new();
        for c in self.calls.values() {
            *calls.entry(c.stage.word()).or_default() += 1;
        }
        Board {
            regions,
            calls,
            refused_by_brakes: self.refused_by_brakes,
            shed: self.admission.shed,
            ceiling: u32::try_from(self.admission.ceiling()).unwrap_or(u32::MAX),
            in_progress: u32::try_from(self.in_progress()).unwrap_or(u32::MAX),
            malformed: self.malformed,
        }
    }
}
