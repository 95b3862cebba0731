//! `qa draw`, `qa review`, `qa play`: the writes of the spot checks, each with its audit row.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::Utc;
use hotline_record::list_calls;
use hotline_record::qa::{self, Action, NewAudit, NewDraw, NewReview, Scope};
use hotline_report::qa::chain::{self, DrawFacts};
use hotline_report::qa::draw::{candidates, draw as draw_sample, Seed};
use hotline_report::qa::status::current_draws;
use hotline_report::qa::{check_draw, rule, Rate};

use crate::cmd_qa::{
    call_id, find_call, load_plan, office_of, os_user, person, seal, sha256, DrawArgs, PlayArgs,
    ReviewArgs,
};
use crate::cmd_qa_list::{audit_unmasked, sample_sheet, Shown};
use crate::sheet::Format;

/// Draws a period's sample, stores it with its seed and audit row, and lists it.
pub fn draw(a: &DrawArgs) -> anyhow::Result<ExitCode> {
    let scope = a
        .which
        .scope()
        .context("say whose check: --office REGION (weekly) or --central (monthly)")?;
    let period = a
        .which
        .period()?
        .context("say the period: --week 2026-W49 for an office, --month 2026-12 for --central")?;
    let rate = match &a.rate {
        Some(r) => r.parse::<Rate>()?,
        None => rule(&scope).0,
    };
    let by = person(&a.by.clone().unwrap_or_else(os_user), "--by")?;
    let reason = match a.reason.as_deref().map(str::trim) {
        Some("") => bail!("--reason must say why the period is drawn again"),
        other => other.map(str::to_string),
    };
    let now = Utc::now();
    check_draw(&scope, period, rate, now)?;
    let plan = load_plan(&a.dialplan)?;
    if let Scope::Office(o) = &scope {
        if plan.region_named(o).is_none() {
            bail!(
                "no region {o:?} in {}: an office is a region id (e.g. luoyang, centre)",
                a.dialplan.display()
            );
        }
    }
    let span = period.period();
    let calls = list_calls(&a.db.db, Some(span.from))
        .with_context(|| format!("reading {}", a.db.db.display()))?;
    let office = office_of(&plan);
    let pool = candidates(&calls, &span, &scope, &office);
    let seed = fresh_seed()?;
    let drawn = draw_sample(&pool, rate, seed);
    let pairs: Vec<(&str, &str)> = drawn
        .samples
        .iter()
        .map(|c| (c.call_id.as_str(), c.agent.as_str()))
        .collect();
    let period_text = period.to_string();
    let facts = DrawFacts {
        scope_kind: scope.kind(),
        office: scope.office(),
        period: &period_text,
        rate,
        seed,
        calls: pool.len() as u64,
    };
    let new = NewDraw {
        scope: scope.clone(),
        period: period_text.clone(),
        rate_bp: rate.basis_points(),
        seed: seed.0,
        calls: pool.len() as u64,
        drawn_at: now,
        drawn_by: by.clone(),
        redraw_reason: reason,
        samples: drawn
            .samples
            .iter()
            .map(|c| (c.call_id.clone(), c.agent.clone()))
            .collect(),
        detail: chain::draw_detail(&facts, &pairs, sha256),
    };
    let stored = qa::record_draw(&a.db.db, &new, &seal)?;

    let by_id: HashMap<_, _> = calls.into_iter().map(|c| (c.call_id.clone(), c)).collect();
    let samples = qa::list_samples(&a.db.db)?;
    let shown = Shown {
        confidential: &a.privacy.confidential_skill,
        clearance: a.privacy.clearance,
    };
    let (sheet, unmasked) = sample_sheet(&[&stored], &samples, &[], &by_id, false, shown);
    audit_unmasked(&a.db.db, &by, &unmasked)?;
    let mut summary = format!(
        "draw {}: {scope} {period_text}, {} of {} calls (rate {rate}, the rule needs {}), seed {seed}{}\n",
        stored.id,
        drawn.samples.len(),
        pool.len(),
        rule(&scope).0.of(pool.len()),
        stored
            .redraw_of
            .map(|d| format!(", replacing draw {d}"))
            .unwrap_or_default(),
    );
    for s in &drawn.strata {
        summary.push_str(&format!(
            "  agent {}: {} of {}\n",
            s.agent, s.sampled, s.calls
        ));
    }
    let mut out = std::io::stdout().lock();
    if a.format == Format::Table {
        write!(out, "{summary}")?;
    } else {
        eprint!("{summary}");
    }
    if !sheet.is_empty() {
        sheet.write(&mut out, a.format)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A seed nobody can choose, so that nobody can pick which calls escape the check.
fn fresh_seed() -> anyhow::Result<Seed> {
    let mut bytes = [0u8; 8];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for the draw's seed")?;
    Ok(Seed(u64::from_le_bytes(bytes)))
}

/// Stores a review of a sampled call, with its audit row.
pub fn review(a: &ReviewArgs) -> anyhow::Result<ExitCode> {
    let id = call_id(&a.call)?;
    let reviewer = person(&a.reviewer, "--reviewer")?;
    let note = a.note.trim();
    if note.is_empty() {
        bail!("a review needs a --note saying what was found");
    }
    let new = NewReview {
        call_id: id.clone(),
        score: a.score,
        note: note.to_string(),
        reviewer,
        reviewed_at: Utc::now(),
        detail: chain::review_detail(id.as_str(), a.score, note, sha256),
    };
    let r = qa::record_review(&a.db.db, &new, &seal)?;
    println!(
        "review {} of call {}: score {} by {}",
        r.id, r.call_id, r.score, r.reviewer
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens a recording for review: writes the audit row first, then prints the path or
/// copies the file.
pub fn play(a: &PlayArgs) -> anyhow::Result<ExitCode> {
    let id = call_id(&a.call)?;
    let reviewer = person(&a.reviewer, "--reviewer")?;
    let call = find_call(&a.db.db, &id)?;
    let Some(path) = call.recording_path.clone() else {
        bail!(
            "call {id} has no recording{}",
            if call.recording_failed {
                " (recording_failed: the switch could not record it)"
            } else {
                ""
            }
        );
    };
    let full = std::fs::canonicalize(&path)
        .with_context(|| format!("recording {} of call {id}", path.display()))?;
    let reason = match a.reason.as_deref().map(str::trim) {
        Some("") => bail!("--reason must say why the recording is opened"),
        Some(r) => r.to_string(),
        None => sampled_in(&a.db.db, &id)?.with_context(|| {
            format!("call {id} is in no spot-check draw: say why you open it with --reason TEXT")
        })?,
    };
    let dest = a.copy_to.as_ref().map(|dir| dir.join(format!("{id}.wav")));
    let detail = match &dest {
        Some(d) => format!("copied to {}", d.display()),
        None => format!("path shown {}", full.display()),
    };
    let audit = NewAudit {
        at: Utc::now(),
        actor: reviewer,
        action: Action::Play,
        call_id: Some(id.clone()),
        subject: "recording".to_string(),
        reason,
        detail,
    };
    qa::record_audit(&a.db.db, &audit, &seal)?;
    match dest {
        None => println!("{}", full.display()),
        Some(dest) => {
            let mut from =
                File::open(&full).with_context(|| format!("opening {}", full.display()))?;
            // 0600 and never over an existing file: the copy is as confidential as the original.
            let mut to = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&dest)
                .with_context(|| format!("creating {}", dest.display()))?;
            std::io::copy(&mut from, &mut to)
                .with_context(|| format!("copying to {}", dest.display()))?;
            println!("{}", dest.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `spot check luoyang 2026-W48 (draw 3)` when the call is in a draw in force.
fn sampled_in(db: &std::path::Path, id: &hotline_record::CallId) -> anyhow::Result<Option<String>> {
    let draws = qa::list_draws(db)?;
    let samples = qa::list_samples(db)?;
    let current = current_draws(&draws);
    Ok(current
        .values()
        .find(|d| {
            samples
                .iter()
                .any(|s| s.draw_id == d.id && &s.call_id == id)
        })
        .map(|d| format!("spot check {} {} (draw {})", d.scope, d.period, d.id)))
}
