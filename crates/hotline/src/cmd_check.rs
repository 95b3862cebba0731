//! `hotline check FILE`: validate a dialplan before (re)loading it into the switch.

use std::path::Path;
use std::process::ExitCode;

use hotline_routing::{Dialplan, WeakUsers, MIN_SECRET_CHARS};

/// Validates `file`, printing one `file:line:col: reason` line per problem to stderr;
/// exit 1 if there is any. Guessable phone secrets are a warning, not a problem: they are
/// fine on loopback, and `serve` refuses them beyond it.
pub fn run(file: &Path) -> anyhow::Result<ExitCode> {
    match Dialplan::load(file) {
        Ok(dialplan) => {
            println!(
                "{}: ok ({} regions, {} agents)",
                file.display(),
                dialplan.regions.len(),
                dialplan.agents.len()
            );
            let weak = dialplan.weak_secrets();
            if !weak.is_empty() {
                eprintln!(
                    "{}: warning: {} register with a demo or short secret (demo-…, or under {} \
                     characters): `hotline serve` refuses to listen beyond loopback with them \
                     unless --allow-weak-secrets",
                    file.display(),
                    WeakUsers(&weak),
                    MIN_SECRET_CHARS
                );
            }
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
