//! `hotline route`: which region each caller number goes to.

use std::path::Path;
use std::process::ExitCode;

/// Prints one line (or JSON object) per number.
pub fn run(_dialplan: &Path, _json: bool, _numbers: &[String]) -> anyhow::Result<ExitCode> {
    anyhow::bail!("route: not yet written")
}
