//! Where the spot checks stand: per office and week (the 20% rule) and per month across all
//! offices (the 10% rule), how many calls, how many the rule needs, how many were drawn and
//! reviewed, and which checks are overdue.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use hotline_record::qa::{Draw, Review, Sample};
use hotline_record::{CallId, CallRecord};
use serde::Serialize;

use super::draw::candidates;
use super::{rule, PeriodKey, Rate, Scope};
use crate::period::Period;

/// How far a check has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// The period is not over yet: nothing to draw.
    Running,
    /// Over, with calls, and not drawn.
    NotDrawn,
    /// Drawn; some sampled calls are not reviewed yet.
    Reviewing,
    /// Every sampled call is reviewed and the sample meets the rule.
    Done,
}

impl Stage {
    /// As the table shows it.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Running => "running",
            Stage::NotDrawn => "not drawn",
            Stage::Reviewing => "reviewing",
            Stage::Done => "done",
        }
    }
}

/// One check: an office's week or the inspection department's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Whose check.
    pub scope: Scope,
    /// The period (`2026-W49`, `2026-12`).
    pub period: String,
    /// The rule's least rate (20% a week, 10% a month).
    pub rule: String,
    /// Reviewable calls (answered, over, recorded) in the period.
    pub calls: usize,
    /// Calls the rule needs reviewed: the rule's rate of `calls`, rounded up.
    pub needed: usize,
    /// The draw in force (the latest), if any.
    pub draw: Option<i64>,
    /// Calls in that draw.
    pub sampled: usize,
    /// Of them, reviewed at least once.
    pub reviewed: usize,
    /// How far it has got.
    pub stage: Stage,
    /// The draw holds fewer calls than the rule needs now (calls stored after the draw).
    pub short: bool,
    /// Not done by its deadline (the end of the next week or month).
    pub overdue: bool,
}

/// What the status is computed from: the rows the CLI read.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The calls of the range (and a little before: weeks start before the range does).
    pub calls: &'a [CallRecord],
    /// Every draw.
    pub draws: &'a [Draw],
    /// Every sample.
    pub samples: &'a [Sample],
    /// Every review.
    pub reviews: &'a [Review],
}

/// The checks of every week and month overlapping `range`, per office (`only`: one office
/// and no central rows), at `now`. A check with no calls and no draw is left out.
pub fn coverage(
    inputs: Inputs<'_>,
    office_of: &dyn Fn(&CallRecord, &str) -> String,
    range: &Period,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Vec<Coverage> {
    let current = current_draws(inputs.draws);
    let reviewed: BTreeSet<&CallId> = inputs.reviews.iter().map(|r| &r.call_id).collect();
    let mut out = Vec::new();
    for week in PeriodKey::overlapping(range, true) {
        let all = candidates(inputs.calls, &week.period(), &Scope::Central, office_of);
        let mut per_office: BTreeMap<String, usize> = BTreeMap::new();
        for c in &all {
            *per_office.entry(c.office.clone()).or_default() += 1;
        }
        let text = week.to_string();
        for (scope, period) in current.keys() {
            if let (Scope::Office(o), true) = (scope, *period == text) {
                per_office.entry(o.clone()).or_default();
            }
        }
        for (office, calls) in per_office {
            if only.is_some_and(|o| o != office) {
                continue;
            }
            let scope = Scope::Office(office);
            let draw = current.get(&(scope.clone(), text.clone())).copied();
            out.push(one(scope, week, calls, draw, &inputs, &reviewed, now));
        }
    }
    if only.is_none() {
        for month in PeriodKey::overlapping(range, false) {
            let calls = candidates(inputs.calls, &month.period(), &Scope::Central, office_of);
            let draw = current.get(&(Scope::Central, month.to_string())).copied();
            if !calls.is_empty() || draw.is_some() {
                let c = one(
                    Scope::Central,
                    month,
                    calls.len(),
                    draw,
                    &inputs,
                    &reviewed,
                    now,
                );
                out.push(c);
            }
        }
    }
    out
}

/// The draw in force for each check: the latest, since a redraw replaces the one before.
pub fn current_draws(draws: &[Draw]) -> BTreeMap<(Scope, String), &Draw> {
    let mut out: BTreeMap<(Scope, String), &Draw> = BTreeMap::new();
    for d in draws {
        let key = (d.scope.clone(), d.period.clone());
        if out.get(&key).is_none_or(|old| old.id < d.id) {
            out.insert(key, d);
        }
    }
    out
}

fn one(
    scope: Scope,
    period: PeriodKey,
    calls: usize,
    draw: Option<&Draw>,
    inputs: &Inputs<'_>,
    reviewed: &BTreeSet<&CallId>,
    now: DateTime<Utc>,
) -> Coverage {
    let (least, _) = rule(&scope);
    let needed = least.of(calls);
    let drawn: Vec<&Sample> = draw
        .map(|d| {
            inputs
                .samples
                .iter()
                .filter(|s| s.draw_id == d.id)
                .collect()
        })
        .unwrap_or_default();
    let done_reviews = drawn
        .iter()
        .filter(|s| reviewed.contains(&s.call_id))
        .count();
    let short = draw.is_some() && drawn.len() < needed;
    let stage = match draw {
        Some(_) if done_reviews == drawn.len() && !short => Stage::Done,
        Some(_) => Stage::Reviewing,
        None if now < period.period().to => Stage::Running,
        None => Stage::NotDrawn,
    };
    Coverage {
        rule: format!("{}/{}", least, rule(&scope).1),
        period: period.to_string(),
        scope,
        calls,
        needed,
        draw: draw.map(|d| d.id),
        sampled: drawn.len(),
        reviewed: done_reviews,
        stage,
        short,
        overdue: stage != Stage::Done && now >= period.deadline(),
    }
}

/// A draw's rate, for showing it.
pub fn draw_rate(d: &Draw) -> String {
    Rate::from_basis_points(d.rate_bp).map_or_else(|| "?".to_string(), |r| r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn answered(n: u32, agent: &str, at: DateTime<Utc>) -> CallRecord {
        let mut c = CallRecord::new(CallId::generate(at, n), "13903790000", at);
        c.agent = Some(agent.into());
        c.answered_at = Some(at + Duration::seconds(3));
        c.ended_at = Some(at + Duration::seconds(90));
        c.recording_path = Some(format!("{n}.wav").into());
        c
    }

    fn office_of(_: &CallRecord, agent: &str) -> String {
        if agent.starts_with("19") {
            "centre"
        } else {
            "luoyang"
        }
        .to_string()
    }

    #[test]
    fn an_undrawn_week_is_overdue_a_week_after_it_ends() {
        let monday = Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap();
        let calls: Vec<CallRecord> = (0..7)
            .map(|i| {
                answered(
                    i,
                    if i < 5 { "1003" } else { "1900" },
                    monday + Duration::hours(i.into()),
                )
            })
            .collect();
        let inputs = Inputs {
            calls: &calls,
            draws: &[],
            samples: &[],
            reviews: &[],
        };
        let week = PeriodKey::week("2026-W48").unwrap().period();
        let during = coverage(inputs, &office_of, &week, None, monday + Duration::days(2));
        let states: Vec<(String, usize, usize, Stage)> = during
            .iter()
            .map(|c| (c.scope.to_string(), c.calls, c.needed, c.stage))
            .collect();
        assert_eq!(
            states,
            [
                ("centre".to_string(), 2, 1, Stage::Running),
                ("luoyang".to_string(), 5, 1, Stage::Running),
                ("central".to_string(), 7, 1, Stage::Running),
            ]
        );
        let later = coverage(
            inputs,
            &office_of,
            &week,
            Some("luoyang"),
            monday + Duration::days(15),
        );
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].stage, Stage::NotDrawn);
        assert!(later[0].overdue);
    }
}
