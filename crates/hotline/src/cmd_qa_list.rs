//! `qa list`, `qa status`, `qa audit`: what the spot checks hold, masked where confidential.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::{DateTime, Duration, Utc};
use hotline_record::qa::{self, Action, Draw, NewAudit, Review, Sample};
use hotline_record::{list_calls, CallId, CallRecord};
use hotline_report::qa::chain::{self, Break};
use hotline_report::qa::status::{coverage, current_draws, draw_rate, Inputs};
use hotline_report::qa::{caller_shown, is_confidential, PeriodKey};
use hotline_report::Period;
use serde_json::{json, Value};

use crate::cmd_qa::{
    load_plan, local, office_of, person, seal, sha256, AuditArgs, ListArgs, StatusArgs,
};
use crate::sheet::Sheet;

/// Who reads a listing: which queues are confidential, and whether the reader is cleared.
#[derive(Clone, Copy, Debug)]
pub struct Shown<'a> {
    /// Skills of the confidential queues.
    pub confidential: &'a [String],
    /// The reader may see their callers' numbers.
    pub clearance: bool,
}

/// The sampled calls of `draws`, with their latest review; and the confidential calls whose
/// numbers it shows unmasked (to be audited before it is printed).
pub fn sample_sheet(
    draws: &[&Draw],
    samples: &[Sample],
    reviews: &[Review],
    calls: &HashMap<CallId, CallRecord>,
    pending: bool,
    shown: Shown<'_>,
) -> (Sheet, Vec<CallId>) {
    let mut sheet = Sheet::new(&[
        "draw", "office", "period", "call", "offered", "agent", "caller", "skill", "talk", "score",
        "reviewer", "note",
    ]);
    let mut unmasked = Vec::new();
    // Reviews come oldest first: the last one of a call wins.
    let latest_of: HashMap<&CallId, &Review> = reviews.iter().map(|r| (&r.call_id, r)).collect();
    for d in draws {
        for s in samples.iter().filter(|s| s.draw_id == d.id) {
            let latest = latest_of.get(&s.call_id).copied();
            if pending && latest.is_some() {
                continue;
            }
            let call = calls.get(&s.call_id);
            if let Some(c) = call {
                if shown.clearance && is_confidential(c, shown.confidential) {
                    unmasked.push(c.call_id.clone());
                }
            }
            let text = |v: Option<String>| v.map_or(Value::Null, Value::String);
            sheet.push(vec![
                json!(d.id),
                json!(d.scope.to_string()),
                json!(d.period),
                json!(s.call_id.as_str()),
                text(call.map(|c| local(c.offered_at))),
                json!(s.agent),
                text(call.map(|c| caller_shown(c, shown.confidential, shown.clearance))),
                text(call.and_then(|c| c.skill.clone())),
                text(call.and_then(talk)),
                latest.map_or(Value::Null, |r| json!(r.score)),
                text(latest.map(|r| r.reviewer.clone())),
                text(latest.map(|r| r.note.clone())),
            ]);
        }
    }
    (sheet, unmasked)
}

/// `m:ss` from answer to hang-up.
fn talk(c: &CallRecord) -> Option<String> {
    let secs = (c.ended_at? - c.answered_at?).num_seconds().max(0);
    Some(format!("{}:{:02}", secs / 60, secs % 60))
}

/// One audit row per confidential number shown unmasked, before it is shown.
pub fn audit_unmasked(db: &Path, reader: &str, calls: &[CallId]) -> anyhow::Result<()> {
    for id in calls {
        let row = NewAudit {
            at: Utc::now(),
            actor: reader.to_string(),
            action: Action::Unmask,
            call_id: Some(id.clone()),
            subject: "caller number".to_string(),
            reason: "listed with --clearance".to_string(),
            detail: String::new(),
        };
        qa::record_audit(db, &row, &seal)?;
    }
    Ok(())
}

/// Lists the sampled calls of the draws in force (or every draw with `--all`).
pub fn list(a: &ListArgs) -> anyhow::Result<ExitCode> {
    let db = &a.db.db;
    let reader = match (&a.reviewer, a.privacy.clearance) {
        (Some(r), _) => Some(person(r, "--reviewer")?),
        (None, true) => {
            bail!("--clearance needs --reviewer ID: every number shown unmasked is audited")
        }
        (None, false) => None,
    };
    let scope = a.which.scope();
    let period = a.which.period()?.map(|p| p.to_string());
    let draws = qa::list_draws(db)?;
    let current = current_draws(&draws);
    let chosen: Vec<&Draw> = draws
        .iter()
        .filter(|d| a.all || current.values().any(|c| c.id == d.id))
        .filter(|d| scope.as_ref().is_none_or(|s| *s == d.scope))
        .filter(|d| period.as_ref().is_none_or(|p| *p == d.period))
        .collect();
    let since = chosen
        .iter()
        .filter_map(|d| PeriodKey::parse(&d.period).ok())
        .map(|p| p.period().from)
        .min();
    let calls: HashMap<CallId, CallRecord> = match since {
        Some(since) => list_calls(db, Some(since))
            .with_context(|| format!("reading {}", db.display()))?
            .into_iter()
            .map(|c| (c.call_id.clone(), c))
            .collect(),
        None => HashMap::new(),
    };
    let samples = qa::list_samples(db)?;
    let reviews = qa::list_reviews(db)?;
    let shown = Shown {
        confidential: &a.privacy.confidential_skill,
        clearance: a.privacy.clearance,
    };
    let (sheet, unmasked) = sample_sheet(&chosen, &samples, &reviews, &calls, a.pending, shown);
    if let Some(reader) = &reader {
        audit_unmasked(db, reader, &unmasked)?;
    }
    sheet.write(&mut std::io::stdout().lock(), a.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Per office and week, and per month across all offices: where the checks stand.
pub fn status(a: &StatusArgs) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    let since: DateTime<Utc> = match &a.since {
        Some(day) => Period::day(day)?.from,
        None => now - Duration::weeks(12),
    };
    let range = Period::new(since, now.max(since + Duration::seconds(1)))?;
    // Weeks and months start before `since` does: read their calls from their starts.
    let read_from = PeriodKey::containing_week(since)
        .period()
        .from
        .min(PeriodKey::containing_month(since).period().from);
    let plan = load_plan(&a.dialplan)?;
    let db = &a.db.db;
    let calls =
        list_calls(db, Some(read_from)).with_context(|| format!("reading {}", db.display()))?;
    let (draws, samples, reviews) = (
        qa::list_draws(db)?,
        qa::list_samples(db)?,
        qa::list_reviews(db)?,
    );
    let inputs = Inputs {
        calls: &calls,
        draws: &draws,
        samples: &samples,
        reviews: &reviews,
    };
    let rows = coverage(inputs, &office_of(&plan), &range, a.office.as_deref(), now);
    let mut sheet = Sheet::new(&[
        "office", "name", "period", "rule", "calls", "needed", "draw", "rate", "sampled",
        "reviewed", "state", "overdue",
    ]);
    for c in &rows {
        let name = match &c.scope {
            qa::Scope::Office(o) => plan.region_named(o).map(|r| r.name.clone()),
            qa::Scope::Central => Some("全省 (all offices)".to_string()),
        };
        let draw = c.draw.and_then(|id| draws.iter().find(|d| d.id == id));
        let mut state = c.stage.as_str().to_string();
        if c.short {
            state.push_str(", short of the rule");
        }
        sheet.push(vec![
            json!(c.scope.to_string()),
            name.map_or(Value::Null, Value::String),
            json!(c.period),
            json!(c.rule),
            json!(c.calls),
            json!(c.needed),
            c.draw.map_or(Value::Null, |d| json!(d)),
            draw.map_or(Value::Null, |d| json!(draw_rate(d))),
            json!(c.sampled),
            json!(c.reviewed),
            json!(state),
            if c.overdue {
                json!("OVERDUE")
            } else {
                Value::Null
            },
        ]);
    }
    sheet.write(&mut std::io::stdout().lock(), a.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Lists the audit trail, or verifies it (exit 1 naming every broken row).
pub fn audit(a: &AuditArgs) -> anyhow::Result<ExitCode> {
    let db = &a.db.db;
    let rows = qa::list_audit(db)?;
    if !a.verify {
        let mut sheet = Sheet::new(&["seq", "at", "actor", "action", "call", "subject", "reason"]);
        for r in &rows {
            let at = chrono::DateTime::parse_from_rfc3339(&r.at)
                .map(|t| local(t.with_timezone(&Utc)))
                .unwrap_or_else(|_| r.at.clone());
            sheet.push(vec![
                json!(r.seq),
                json!(at),
                json!(r.actor),
                json!(r.action),
                r.call_id.as_ref().map_or(Value::Null, |c| json!(c)),
                json!(r.subject),
                json!(r.reason),
            ]);
        }
        sheet.write(&mut std::io::stdout().lock(), a.format)?;
        return Ok(ExitCode::SUCCESS);
    }
    let head = match &a.head {
        Some(h) => {
            let (seq, hash) = h
                .split_once(':')
                .and_then(|(s, h)| Some((s.trim().parse::<i64>().ok()?, h.trim())))
                .with_context(|| format!("--head {h:?}: write it as SEQ:HASH"))?;
            Some((seq, hash))
        }
        None => None,
    };
    let chain_result = chain::verify(&rows, sha256, head);
    let mismatches = chain::cross_check(
        &rows,
        &qa::list_draws(db)?,
        &qa::list_samples(db)?,
        &qa::list_reviews(db)?,
        sha256,
    );
    let mut problems: Vec<String> = match &chain_result {
        Ok(_) => Vec::new(),
        Err(breaks) => breaks.iter().map(Break::to_string).collect(),
    };
    problems.extend(mismatches.iter().map(ToString::to_string));
    match chain_result {
        Ok(h) if problems.is_empty() => {
            println!(
                "audit chain intact: {} rows; every draw and review matches its audit row",
                h.rows
            );
            println!(
                "head {}:{} (write it down: `qa audit --verify --head {}:{}` later shows whether rows were cut off)",
                h.seq, h.hash, h.seq, h.hash
            );
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            println!("audit chain BROKEN:");
            for p in &problems {
                println!("  {p}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
