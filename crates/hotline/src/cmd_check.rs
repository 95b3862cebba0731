//! `hotline check FILE`: validate a dialplan before (re)loading it into the switch.

use std::path::Path;
use std::process::ExitCode;

use hotline_routing::Dialplan;

/// Validates `file`, printing one `file:line:col: reason` line per problem to stderr;
/// exit 1 if there is any.
pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    match Dialplan::load(file) {
        Ok(dialplan) => {
            println!(
                "{}: ok ({} regions, {} agents)",
                file.display(),
                dialplan.regions.len(),
                dialplan.agents.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                eprintln!("{diagnostic}");
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
