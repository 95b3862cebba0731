//! `hotline serve` and `hotline reload`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use hotline_switch::command::Command;
use tracing_subscriber::EnvFilter;

/// Runs the switch until killed.
pub fn run(config: hotline_switch::ServeConfig) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("HOTLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(hotline_switch::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

/// Sends `command` to the running switch: whether it was done, and its answer.
pub fn ask(control: &Path, command: &Command) -> anyhow::Result<(bool, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime
        .block_on(hotline_switch::control::request(control, command))
        .with_context(|| format!("no switch answering on {}", control.display()))
}

/// Sends one command (reload, hours, an agent's state) to the running switch and prints its
/// answer.
pub fn command(control: &Path, command: &Command) -> anyhow::Result<ExitCode> {
    let (ok, msg) = ask(control, command)?;
    if ok {
        println!("{msg}");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{} refused:\n{msg}", command.words());
        Ok(ExitCode::FAILURE)
    }
}
