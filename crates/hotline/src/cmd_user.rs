//! `hotline user`: who may sign in to the web console. `add` reads the password from
//! standard input (one line, never an argument: arguments show in `ps` and shell history)
//! and stores its argon2 hash beside the call records; `list` and `remove`. The switch
//! need not run; a user removed or changed is signed out of the console within seconds.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use hotline_record::{list_users, remove_user, save_user, Role, User};

/// What `hotline user` does.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user, or set an existing one's password, role and scope; the password is read
    /// from standard input.
    Add(AddArgs),
    /// List the users (never their hashes).
    List(DbArgs),
    /// Remove a user.
    Remove(RemoveArgs),
}

/// The call database.
#[derive(Args, Debug)]
pub struct DbArgs {
    /// The SQLite file of call records.
    #[arg(long, default_value = "hotline.db")]
    db: PathBuf,
}

/// `hotline user add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The login name.
    id: String,
    /// agent, supervisor, inspector or admin.
    #[arg(long, value_parser = ["agent", "supervisor", "inspector", "admin"])]
    role: String,
    /// The user's own number in the plan: an agent's 工号, or the supervisor's number whose
    /// phone the switch rings when they listen in from the console.
    #[arg(long)]
    agent: Option<String>,
    /// The regions a supervisor sees, by id (`luoyang,kaifeng`), or `province`.
    #[arg(long, value_delimiter = ',')]
    scope: Vec<String>,
    /// Cleared to see confidential callers' numbers (举报/投诉) unmasked in the console's
    /// calls and spot checks; each number shown is written to the audit.
    #[arg(long)]
    clearance: bool,
    #[command(flatten)]
    db: DbArgs,
}

/// `hotline user remove`.
#[derive(Args, Debug)]
pub struct RemoveArgs {
    /// The login name.
    id: String,
    #[command(flatten)]
    db: DbArgs,
}

/// Runs one `hotline user` command.
pub fn run(command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Add(a) => add(a),
        UserCommand::List(d) => list(&d.db),
        UserCommand::Remove(r) => {
            if remove_user(&r.db.db, &r.id)? {
                println!("user {} removed", r.id);
                Ok(ExitCode::SUCCESS)
            } else {
                bail!("no user {}", r.id)
            }
        }
    }
}

fn add(a: AddArgs) -> anyhow::Result<ExitCode> {
    let role = Role::named(&a.role).context("unknown role")?;
    match role {
        Role::Agent if a.agent.is_none() => bail!("an agent user needs --agent ID (their 工号)"),
        Role::Agent if a.clearance => {
            bail!("an agent is never cleared: the desk masks confidential callers")
        }
        Role::Supervisor if a.scope.is_empty() => {
            bail!("a supervisor needs --scope REGION,... (or --scope province)")
        }
        _ => {}
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    let hash = hotline_console::password::hash(password)?;
    let user = User {
        id: a.id.clone(),
        role,
        agent: a.agent,
        scope: if role == Role::Supervisor {
            a.scope
        } else {
            Vec::new()
        },
        hash,
        created_at: chrono::Utc::now(),
        cleared: a.clearance,
    };
    let replaced = save_user(&a.db.db, &user)?;
    let did = if replaced { "updated" } else { "added" };
    println!("user {} {did} ({})", user.id, role.as_str());
    Ok(ExitCode::SUCCESS)
}

fn list(db: &Path) -> anyhow::Result<ExitCode> {
    for u in list_users(db)? {
        let scope = if u.scope.is_empty() {
            "-".to_string()
        } else {
            u.scope.join(",")
        };
        let agent = u.agent.as_deref().unwrap_or("-");
        let cleared = if u.cleared { " cleared" } else { "" };
        println!(
            "{:<16} {:<10} agent {:<6} scope {}{cleared}",
            u.id,
            u.role.as_str(),
            agent,
            scope
        );
    }
    Ok(ExitCode::SUCCESS)
}
