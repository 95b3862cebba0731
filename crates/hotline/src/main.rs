//! `hotline`: the 12366 tax hotline switch.
//!
//! One binary: `serve` runs the switch; `check`, `route`, `calls` and `reload` are the
//! operator's tools around it.

mod cmd_check;
mod cmd_route;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The 12366 tax hotline switch: SIP B2BUA, voice menu, queues, recording.
#[derive(Parser, Debug)]
#[command(name = "hotline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a dialplan: prints `file:line:col: reason` per problem, exit 1 if any.
    Check {
        /// The dialplan TOML file.
        file: PathBuf,
    },
    /// Show which region each caller number routes to.
    Route {
        /// The dialplan TOML file.
        #[arg(long, default_value = "dialplans/henan.toml")]
        dialplan: PathBuf,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// Caller numbers, in any form a caller id arrives in.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check { file } => cmd_check::run(&file),
        Command::Route {
            dialplan,
            json,
            numbers,
        } => cmd_route::run(&dialplan, json, &numbers),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hotline: {err:#}");
            ExitCode::FAILURE
        }
    }
}
