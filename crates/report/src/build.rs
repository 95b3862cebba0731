//! Builds a report of `hotline report` from the call store: reads what the report needs
//! (summaries, callbacks, seat time or agent states, handed-on legs) and counts it. The one
//! part of this crate that reads the store; shared by the CLI and the web console.

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use hotline_record::{AgentStateChange, CallSummary, RecordError};

use crate::{Period, Report, SeatSource, Staffing};

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Per interval: calls, abandons, service level, waits, staffing, agents needed.
    Intervals,
    /// The callers who gave up waiting, and whether they were called back.
    Abandoned,
    /// Where callers were from, per region and month.
    Origins,
    /// The five 100%s and the connection rate, per day and region.
    Service,
    /// Per agent: offered, answered, answer time, talk, wrap-up, not ready, occupancy.
    Agents,
    /// Calls per menu branch (业务分类).
    Topics,
}

impl Kind {
    /// Every report, as named on the command line and in the console.
    pub const ALL: [(&'static str, Kind); 6] = [
        ("intervals", Kind::Intervals),
        ("abandoned", Kind::Abandoned),
        ("origins", Kind::Origins),
        ("service", Kind::Service),
        ("agents", Kind::Agents),
        ("topics", Kind::Topics),
    ];

    /// The report named `name`.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
    }
}

/// How finely `topics` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Per interval of `minutes`.
    Interval,
    /// Per Beijing day.
    Day,
    /// Per Beijing month.
    Month,
}

/// What a report is asked for.
pub struct What<'a> {
    /// Which report.
    pub kind: Kind,
    /// Over which period.
    pub period: Period,
    /// Only this region's calls (and agents).
    pub region: Option<&'a str>,
    /// Interval length for `intervals` and `topics` by interval.
    pub minutes: u32,
    /// How finely `topics` counts.
    pub by: By,
    /// The plan's agents and their regions (`None`: no plan; staffing counts everyone).
    pub agents: Option<Vec<(String, String)>>,
    /// The plan's centre region.
    pub centre: String,
    /// Whether a call's caller number must be masked (confidential, reader not cleared).
    pub hidden: &'a dyn Fn(&CallSummary) -> bool,
    /// Now: the state each agent is in counts until now.
    pub now: DateTime<Utc>,
}

/// Whether an agent counts for `region` by the plan's agents (every agent when no region
/// or no plan): a set, since it is asked for every state row of the period.
fn region_filter<'a>(
    region: Option<&str>,
    agents: Option<&'a [(String, String)]>,
) -> impl Fn(&str) -> bool + 'a {
    let of_region: Option<HashSet<&'a str>> = match (region, agents) {
        (Some(r), Some(list)) => Some(
            list.iter()
                .filter(|(_, ar)| ar == r)
                .map(|(a, _)| a.as_str())
                .collect(),
        ),
        _ => None,
    };
    move |agent| of_region.as_ref().is_none_or(|set| set.contains(agent))
}

/// Reads and counts the report `what` asks for from the store at `db`.
pub fn build(db: &Path, what: &What<'_>) -> Result<Report, RecordError> {
    let period = what.period;
    let calls = hotline_record::list_summaries_between(db, period.from, period.to)?;
    let region = what.region;
    let now = what.now;
    let hidden = what.hidden;
    let report = match what.kind {
        Kind::Intervals => {
            let agents = what.agents.as_deref().map(<[(String, String)]>::to_vec);
            let by_plan = region_filter(region, agents.as_deref());
            // Whole quarter hours are read from the seat time the store sums as changes
            // arrive; anything else from the changes themselves (the same figures).
            let slices = period.intervals(what.minutes);
            let quarters = if crate::staffing::whole_quarters(&slices) {
                hotline_record::list_seat_quarters_between(db, period.from, period.to)?
            } else {
                None
            };
            // A region's staffing from seat time needs every quarter's region recorded; rows
            // from before regions were (an older store's) count by the plan instead.
            let quarters = quarters
                .filter(|q| region.is_none() || q.rows.iter().all(|row| !row.region.is_empty()));
            match quarters {
                Some(seat) => {
                    let staff = Staffing::SeatTime {
                        quarters: &seat.rows,
                        latest: &seat.latest,
                        region,
                    };
                    crate::intervals(&calls, &staff, period, what.minutes, region, now)
                }
                None => {
                    let states =
                        hotline_record::list_agent_states_between(db, period.from, period.to)?;
                    // An agent counts where they sat (the change says), else by the plan.
                    let wanted = |c: &AgentStateChange| match (region, c.region.as_deref()) {
                        (None, _) => true,
                        (Some(r), Some(sat)) => sat == r,
                        (Some(_), None) => by_plan(&c.agent),
                    };
                    let staff = Staffing::Changes {
                        changes: &states,
                        wanted: &wanted,
                    };
                    crate::intervals(&calls, &staff, period, what.minutes, region, now)
                }
            }
        }
        Kind::Abandoned => {
            let callbacks = hotline_record::list_callbacks(db)?;
            crate::abandoned(&calls, &callbacks, region, hidden)
        }
        Kind::Origins => {
            let centre = what.centre.clone();
            crate::origins(&calls, &centre, region)
        }
        Kind::Service => {
            let callbacks = hotline_record::list_callbacks(db)?;
            crate::service(&calls, &callbacks, region)
        }
        Kind::Agents => {
            let legs = hotline_record::list_handed_on_legs_between(db, period.from, period.to)?;
            let agents = what.agents.as_deref().map(<[(String, String)]>::to_vec);
            let roster: Vec<String> = agents
                .iter()
                .flatten()
                .filter(|(_, r)| region.is_none_or(|want| want == r))
                .map(|(a, _)| a.clone())
                .collect();
            let of_region = region_filter(region, agents.as_deref());
            // Whole Beijing days are read from the seat time the store sums per day.
            let days = if crate::agents::whole_days(&period) {
                hotline_record::list_seat_days_between(db, period.from, period.to)?
            } else {
                None
            };
            match days {
                Some(seat) => {
                    let source = SeatSource::SeatDays {
                        days: &seat.rows,
                        latest: &seat.latest,
                    };
                    crate::agents(&calls, &source, &legs, period, &roster, of_region, now)
                }
                None => {
                    let states =
                        hotline_record::list_agent_states_between(db, period.from, period.to)?;
                    let source = SeatSource::Changes(&states);
                    crate::agents(&calls, &source, &legs, period, &roster, of_region, now)
                }
            }
        }
        Kind::Topics => {
            let by = match what.by {
                By::Interval => crate::topics::By::Interval(what.minutes),
                By::Day => crate::topics::By::Day,
                By::Month => crate::topics::By::Month,
            };
            crate::topics(&calls, period, by, region)
        }
    };
    Ok(report)
}
