//! `hotline security`: the brakes in force in the running switch (blocked sources and
//! users), what its overload brakes refused, and the latest security events from the call
//! store.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

/// Security events shown at most, newest last.
const EVENTS_SHOWN: usize = 100;

/// Prints the blocks in force and the latest security events.
pub fn show(control: &Path, db: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let (ok, text) = crate::cmd_serve::ask(control, &hotline_switch::command::Command::Security)?;
    if !ok {
        eprintln!("security refused:\n{text}");
        return Ok(ExitCode::FAILURE);
    }
    let live = match serde_json::from_str::<serde_json::Value>(text.trim()) {
        Ok(v) if v.get("blocked").is_some() => v,
        // A switch started before the overload figures answers one block per line.
        _ => {
            let blocked = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str(l).with_context(|| format!("unreadable answer {l:?}"))
                })
                .collect::<anyhow::Result<Vec<serde_json::Value>>>()?;
            serde_json::json!({ "blocked": blocked })
        }
    };
    let blocks = live
        .get("blocked")
        .and_then(|b| b.as_array())
        .cloned()
        .unwrap_or_default();
    let overload = live.get("overload").cloned().unwrap_or_default();
    let events = if db.exists() {
        hotline_record::list_security_events(db, EVENTS_SHOWN)?
    } else {
        Vec::new()
    };
    let mut out = std::io::stdout().lock();
    if json {
        let all = serde_json::json!({ "blocked": blocks, "overload": overload, "events": events });
        writeln!(out, "{all}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "blocked now ({}):", blocks.len())?;
    writeln!(
        out,
        "  {:<7} {:<40} {:>8} {:>9}",
        "KIND", "WHO", "FAILURES", "LEFT"
    )?;
    for b in &blocks {
        let s = |k: &str| b.get(k).and_then(|x| x.as_str()).unwrap_or("-").to_string();
        let n = |k: &str| b.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        writeln!(
            out,
            "  {:<7} {:<40} {:>8} {:>7} s",
            s("kind"),
            s("subject"),
            n("failures"),
            n("left_secs")
        )?;
    }
    overload_lines(&mut out, &overload)?;
    writeln!(out, "latest events ({}):", events.len())?;
    for e in &events {
        writeln!(
            out,
            "  {}  {:<15} {:<30} {:>4}  {}",
            e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            e.kind,
            e.subject,
            e.failures,
            e.detail
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The overload brakes' figures: how full and how late the switch is, what it refused.
fn overload_lines(out: &mut impl Write, o: &serde_json::Value) -> std::io::Result<()> {
    let n = |path: &[&str]| {
        path.iter()
            .try_fold(o, |v, k| v.get(k))
            .and_then(|x| x.as_u64())
            .unwrap_or(0)
    };
    let refused = ["ceiling", "source_rate", "lag"]
        .iter()
        .map(|k| n(&["refused", k]))
        .sum::<u64>();
    writeln!(out, "overload (since the switch started):")?;
    writeln!(
        out,
        "  calls in progress {} of {} at most; last message handled {} ms after it came, media {} ms late",
        n(&["calls"]),
        n(&["ceiling"]),
        n(&["lag_ms"]),
        n(&["media_lag_ms"])
    )?;
    writeln!(
        out,
        "  refused with 503: {refused} (at the ceiling {}, over a source's rate {}, switch behind {})",
        n(&["refused", "ceiling"]),
        n(&["refused", "source_rate"]),
        n(&["refused", "lag"])
    )?;
    writeln!(
        out,
        "  refused unchecked from blocked sources or users: {}",
        n(&["refused_blocked"])
    )
}
