//! `hotline security`: the brakes in force in the running switch (blocked sources and
//! users) and the latest security events from the call store.

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
    let blocks: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).with_context(|| format!("unreadable answer {l:?}")))
        .collect::<anyhow::Result<_>>()?;
    let events = if db.exists() {
        hotline_record::list_security_events(db, EVENTS_SHOWN)?
    } else {
        Vec::new()
    };
    let mut out = std::io::stdout().lock();
    if json {
        let all = serde_json::json!({ "blocked": blocks, "events": events });
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
