//! `hotline calls`: the call records.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hotline_record::{list_callbacks, list_calls};

/// Prints the calls, oldest first.
pub fn run(db: &Path, json: bool, since: Option<&str>) -> anyhow::Result<ExitCode> {
    let since: Option<DateTime<Utc>> = since
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| format!("--since {s:?}: not an RFC 3339 time"))
        })
        .transpose()?;
    let calls = list_calls(db, since).with_context(|| format!("reading {}", db.display()))?;
    let mut out = std::io::stdout().lock();
    for c in &calls {
        if json {
            writeln!(out, "{}", serde_json::to_string(c)?)?;
        } else {
            writeln!(
                out,
                "{}  {:<10} {:<14} {:<12} {:<6} {:<10} {}",
                c.call_id,
                c.outcome,
                c.caller_normalized.as_deref().unwrap_or(&c.caller_raw),
                c.region.as_deref().unwrap_or("-"),
                c.agent.as_deref().unwrap_or("-"),
                c.hung_up_by
                    .map(|h| h.to_string())
                    .unwrap_or_else(|| "-".into()),
                c.recording_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the callback list, oldest first.
pub fn callbacks(db: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let list = list_callbacks(db).with_context(|| format!("reading {}", db.display()))?;
    let mut out = std::io::stdout().lock();
    for c in &list {
        if json {
            writeln!(out, "{}", serde_json::to_string(c)?)?;
        } else {
            writeln!(
                out,
                "{:>5}  {}  {:<9} {:<14} {:<14} {:<10} {:<5} {}",
                c.id,
                c.created_at.format("%Y-%m-%d %H:%M"),
                c.kind.as_str(),
                c.caller,
                c.number.as_deref().unwrap_or("-"),
                c.region.as_deref().unwrap_or("-"),
                c.state,
                c.voicemail_path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
