//! `hotline check FILE`: validate a dialplan.

use std::path::Path;
use std::process::ExitCode;

/// Validates `file`, printing one `file:line:col: reason` line per problem.
pub fn run(_file: &Path) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check: not yet written")
}
