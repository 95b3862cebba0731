//! `hotline qa`: the spot checks of recordings (抽检). Each office reviews at least 20% of
//! its answered, recorded calls every week; the inspection department at least 10% of the
//! month's calls across all offices. These tools open the call database directly (the
//! switch need not run): listings read it, draws, reviews and every opening of a recording
//! are written in short transactions beside the switch's own writes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use hotline_record::qa::{AuditRow, Scope};
use hotline_record::{CallId, CallRecord};
use hotline_report::qa::{chain, PeriodKey};
use hotline_routing::Dialplan;
use sha2::Digest;

use crate::sheet::Format;

/// What `hotline qa` does.
#[derive(Subcommand, Debug)]
pub enum QaCommand {
    /// Draw a period's random sample of answered, recorded calls, fairly over the agents
    /// (each agent's share of their own calls, rounded up), from a seed stored with it.
    Draw(DrawArgs),
    /// List the sampled calls of the draws in force, with their reviews.
    List(ListArgs),
    /// Record a review of a sampled call.
    Review(ReviewArgs),
    /// Open a sampled call's recording for review: prints its path, or copies it (audited).
    Play(PlayArgs),
    /// Per office and week, and per month across all offices: calls, needed, sampled,
    /// reviewed, against the 20% and 10% rules; overdue checks flagged.
    Status(StatusArgs),
    /// List the audit trail, or check (`--verify`) that no row was edited or deleted.
    Audit(AuditArgs),
}

/// The call database.
#[derive(Args, Debug)]
pub struct Db {
    /// The SQLite file of call records.
    #[arg(long, default_value = "hotline.db")]
    pub db: PathBuf,
}

/// Whose check and which period.
#[derive(Args, Debug)]
pub struct Which {
    /// An office's weekly check: its region id in the dialplan (e.g. luoyang, centre).
    #[arg(long, conflicts_with = "central")]
    pub office: Option<String>,
    /// The inspection department's monthly check across all offices.
    #[arg(long)]
    pub central: bool,
    /// The ISO week, Beijing time (2026-W49), for --office.
    #[arg(long, conflicts_with = "month")]
    pub week: Option<String>,
    /// The month, Beijing time (2026-12), for --central.
    #[arg(long)]
    pub month: Option<String>,
}

impl Which {
    /// The scope asked for, if any.
    pub fn scope(&self) -> Option<Scope> {
        match (&self.office, self.central) {
            (Some(o), _) => Some(Scope::Office(o.clone())),
            (None, true) => Some(Scope::Central),
            (None, false) => None,
        }
    }

    /// The period asked for, if any.
    pub fn period(&self) -> anyhow::Result<Option<PeriodKey>> {
        Ok(match (&self.week, &self.month) {
            (Some(w), _) => Some(PeriodKey::week(w)?),
            (None, Some(m)) => Some(PeriodKey::month(m)?),
            (None, None) => None,
        })
    }
}

/// Who may see confidential callers' numbers.
#[derive(Args, Debug)]
pub struct Privacy {
    /// The skill of a confidential queue (举报/投诉) whose callers' numbers are masked
    /// (139****0000); repeat for several. The bundled plan's complaints queue is `complaints`.
    #[arg(long = "confidential-skill", default_value = "complaints")]
    pub confidential_skill: Vec<String>,
    /// Show confidential callers' numbers unmasked: the reader is cleared. Every number so
    /// shown is written to the audit, under the reader's id.
    #[arg(long)]
    pub clearance: bool,
}

/// `qa draw`.
#[derive(Args, Debug)]
pub struct DrawArgs {
    #[command(flatten)]
    pub which: Which,
    /// The share to draw, at least the rule's (0.2 or 20%): default 20% for an office's
    /// week, 10% for the central month.
    #[arg(long)]
    pub rate: Option<String>,
    /// Draw a period again; the first draw stays in the tables and the audit.
    #[arg(long, requires = "reason")]
    pub redraw: bool,
    /// Why the period is drawn again.
    #[arg(long, requires = "redraw")]
    pub reason: Option<String>,
    /// Who draws (default: the OS user).
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub db: Db,
    /// The dialplan, for the office each agent belongs to.
    #[arg(long, default_value = "dialplans/henan.toml")]
    pub dialplan: PathBuf,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub privacy: Privacy,
}

/// `qa list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub which: Which,
    /// Only calls nobody has reviewed yet.
    #[arg(long)]
    pub pending: bool,
    /// Also the draws a redraw replaced.
    #[arg(long)]
    pub all: bool,
    /// Who reads the list (needed with --clearance).
    #[arg(long)]
    pub reviewer: Option<String>,
    #[command(flatten)]
    pub db: Db,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    #[command(flatten)]
    pub privacy: Privacy,
}

/// `qa review`.
#[derive(Args, Debug)]
pub struct ReviewArgs {
    /// The call's id (20261124T090000-7f3a9c).
    pub call: String,
    /// 0 to 100.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=100))]
    pub score: u8,
    /// What the reviewer found.
    #[arg(long)]
    pub note: String,
    /// The reviewer's id.
    #[arg(long)]
    pub reviewer: String,
    #[command(flatten)]
    pub db: Db,
}

/// `qa play`.
#[derive(Args, Debug)]
pub struct PlayArgs {
    /// The call's id.
    pub call: String,
    /// The reviewer's id.
    #[arg(long)]
    pub reviewer: String,
    /// Why (default for a sampled call: its spot check; required for any other call).
    #[arg(long)]
    pub reason: Option<String>,
    /// Copy the recording into this folder (mode 0600) instead of printing its path.
    #[arg(long)]
    pub copy_to: Option<PathBuf>,
    #[command(flatten)]
    pub db: Db,
}

/// `qa status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Only this office (no central rows).
    #[arg(long)]
    pub office: Option<String>,
    /// From this Beijing day on (YYYY-MM-DD; default: twelve weeks ago).
    #[arg(long)]
    pub since: Option<String>,
    #[command(flatten)]
    pub db: Db,
    /// The dialplan, for the office each agent belongs to.
    #[arg(long, default_value = "dialplans/henan.toml")]
    pub dialplan: PathBuf,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `qa audit`.
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Check the chain and every draw and review against it; exit 1 naming each broken row.
    #[arg(long)]
    pub verify: bool,
    /// A head written down at an earlier verify (SEQ:HASH), which must still be in the chain.
    #[arg(long, requires = "verify")]
    pub head: Option<String>,
    #[command(flatten)]
    pub db: Db,
    /// table, csv or json.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Runs one `qa` command.
pub fn run(command: QaCommand) -> anyhow::Result<ExitCode> {
    match command {
        QaCommand::Draw(a) => crate::cmd_qa_draw::draw(&a),
        QaCommand::Review(a) => crate::cmd_qa_draw::review(&a),
        QaCommand::Play(a) => crate::cmd_qa_draw::play(&a),
        QaCommand::List(a) => crate::cmd_qa_list::list(&a),
        QaCommand::Status(a) => crate::cmd_qa_list::status(&a),
        QaCommand::Audit(a) => crate::cmd_qa_list::audit(&a),
    }
}

/// SHA-256, the audit chain's hash.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(bytes).into()
}

/// Seals an audit row for the store.
pub fn seal(row: &AuditRow) -> String {
    chain::seal(row, sha256)
}

/// The dialplan, or its problems.
pub fn load_plan(path: &Path) -> anyhow::Result<Dialplan> {
    Dialplan::load(path).map_err(|diagnostics| {
        let lines: Vec<String> = diagnostics.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("dialplan {}:\n{}", path.display(), lines.join("\n"))
    })
}

/// The office a call counts for: the answering agent's region in the plan; the call's own
/// region for an agent the plan no longer has.
pub fn office_of(plan: &Dialplan) -> impl Fn(&CallRecord, &str) -> String + '_ {
    move |call, agent| match plan.agent(agent) {
        Some(a) => a.region.as_str().to_string(),
        None => call.region.clone().unwrap_or_else(|| "-".to_string()),
    }
}

/// A person's id as typed: not empty, one line.
pub fn person(id: &str, what: &str) -> anyhow::Result<String> {
    let id = id.trim();
    if id.is_empty() || id.chars().any(char::is_control) {
        bail!("{what} must be an id on one line, not {id:?}");
    }
    Ok(id.to_string())
}

/// The OS user running the tool, for `--by` left out: the login name, else `uid N` (the
/// owner of `/proc/self` is the process's user).
pub fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .or_else(|| {
            std::fs::metadata("/proc/self")
                .ok()
                .map(|m| format!("uid {}", m.uid()))
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// A call id as typed.
pub fn call_id(text: &str) -> anyhow::Result<CallId> {
    text.trim()
        .parse()
        .with_context(|| format!("{text:?} is not a call id (like 20261124T090000-7f3a9c)"))
}

/// Finds one call, reading only from shortly before the time its id carries.
pub fn find_call(db: &Path, id: &CallId) -> anyhow::Result<CallRecord> {
    hotline_record::find_call(db, id)
        .with_context(|| format!("reading {}", db.display()))?
        .with_context(|| format!("no call {id} in {}", db.display()))
}

/// Beijing wall-clock time, as the centres read it.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&hotline_report::beijing())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}
