//! `hotline agents`: the running switch's agents, as a table or JSON lines.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

/// Prints every agent's state from the running switch.
pub fn list(control: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let (ok, text) = crate::cmd_serve::ask(control, &hotline_switch::command::Command::Agents)?;
    if !ok {
        eprintln!("agents refused:\n{text}");
        return Ok(ExitCode::FAILURE);
    }
    // Written with errors returned, so `hotline agents | head` ends quietly (broken pipe).
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{text}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "{:<8} {:<12} {:<12} {:<11} {:<10} {:<20} {:>5} {:>8}",
        "AGENT", "NAME", "REGION", "STATE", "REASON", "SINCE", "CALLS", "TALK"
    )?;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).with_context(|| format!("unreadable answer {line:?}"))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("-").to_string();
        let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).unwrap_or(0);
        let talk = n("talk_today_secs");
        writeln!(
            out,
            "{:<8} {} {:<12} {:<11} {:<10} {:<20} {:>5} {:>5}:{:02}",
            s("id"),
            pad(&s("name"), 12),
            s("region"),
            s("state"),
            s("reason"),
            s("since"),
            n("calls_today"),
            talk / 60,
            talk % 60
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

use crate::sheet::pad;

#[cfg(test)]
mod tests {
    #[test]
    fn chinese_names_line_up() {
        assert_eq!(super::pad("王芳", 6), "王芳  ");
        assert_eq!(super::pad("ab", 4), "ab  ");
        assert_eq!(super::pad("联络中心一号", 6), "联络中心一号");
        assert_eq!(
            crate::sheet::width("08:45–09:00"),
            11,
            "a dash is one column"
        );
        assert_eq!(
            crate::sheet::width("２０秒"),
            6,
            "full-width digits are two"
        );
    }
}
