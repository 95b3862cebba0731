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
                recording(c)
            )?;
        }
    }
    let unrecorded = calls.iter().filter(|c| c.recording_failed).count();
    if unrecorded > 0 && !json {
        writeln!(
            out,
            "{unrecorded} call(s) not recorded (recording_failed): the disk was below its \
             free-space floor (serve --min-free-disk) or the recording could not be started; \
             see the switch's log"
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The recording column: the file, or why there is none.
fn recording(c: &hotline_record::CallRecord) -> String {
    match (&c.recording_path, c.recording_failed) {
        (None, true) => "NOT RECORDED (recording_failed)".to_string(),
        (Some(p), true) => format!("{} (part not recorded: recording_failed)", p.display()),
        (Some(p), false) => p.display().to_string(),
        (None, false) => String::new(),
    }
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
