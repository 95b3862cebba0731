//! `hotline report KIND`: the centre's reports from the call store, as a table that lines
//! up Chinese text, CSV for a spreadsheet, or JSON with the call ids behind every row.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use hotline_report::build;
use hotline_report::{Period, Report};

use crate::sheet::{pad, width, Format};

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Per interval: calls, abandons, service level, waits, staffing, agents needed.
    Intervals,
    /// The callers who gave up waiting, and whether they were called back.
    Abandoned,
    /// Where callers were from, per region and month.
    Origins,
    /// The five 100%s and the connection rate, per day and region.
    Service,
    /// Per agent: offered, answered, rang out, answer time, talk, wrap-up, not ready,
    /// occupancy, transfers, calls out, survey, 报工号.
    Agents,
    /// Calls per menu branch (业务分类) per interval (--minutes), day (--by day) or month.
    Topics,
}

/// How finely `topics` counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum By {
    /// Per interval of --minutes.
    Interval,
    /// Per Beijing day.
    Day,
    /// Per Beijing month.
    Month,
}

/// What `hotline report` was asked.
#[derive(Debug, clap::Args)]
pub struct Ask {
    /// intervals, abandoned, origins, service, agents or topics.
    #[arg(value_enum)]
    pub kind: Kind,
    /// The SQLite file of call records.
    #[arg(long, default_value = "hotline.db")]
    pub db: PathBuf,
    /// The dialplan (agents' regions for staffing, the centre's region).
    #[arg(long, default_value = "dialplans/henan.toml")]
    pub dialplan: PathBuf,
    /// Start of the period (RFC 3339), with --to.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// End of the period (RFC 3339), with --from.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// A Beijing day, YYYY-MM-DD (default: today).
    #[arg(long)]
    pub date: Option<String>,
    /// A Beijing month, YYYY-MM.
    #[arg(long)]
    pub month: Option<String>,
    /// Only this region's calls (and, for staffing, its agents).
    #[arg(long)]
    pub region: Option<String>,
    /// Interval length in minutes, for `intervals` and `topics --by interval`.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub minutes: u32,
    /// How finely `topics` counts: interval, day or month.
    #[arg(long, value_enum, default_value_t = By::Day)]
    pub by: By,
    /// table, csv or json (json lists the call ids behind every row).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show confidential callers' numbers (complaints and reports, 举报/投诉) unmasked.
    #[arg(long)]
    pub clearance: bool,
    /// Queue skills whose callers' numbers are confidential.
    #[arg(long, default_value = "complaints", value_delimiter = ',')]
    pub confidential_skill: Vec<String>,
}

/// The period asked for: a range, a day, a month, or today in Beijing.
pub fn period(ask: &Ask) -> anyhow::Result<Period> {
    Ok(match (&ask.from, &ask.to, &ask.date, &ask.month) {
        (Some(f), Some(t), None, None) => Period::range(f, t)?,
        (None, None, Some(d), None) => Period::day(d)?,
        (None, None, None, Some(m)) => Period::month(m)?,
        (None, None, None, None) => {
            let today = chrono::Utc::now().with_timezone(&hotline_report::beijing());
            Period::of_days(today.date_naive(), 1)
        }
        _ => anyhow::bail!("give one of --from and --to together, --date or --month"),
    })
}

/// The agents of a region by the dialplan, and its centre; what a missing plan leaves.
fn plan_facts(path: &Path) -> (Option<Vec<(String, String)>>, String) {
    match hotline_routing::Dialplan::load_without_places(path) {
        Ok(plan) => {
            let agents = plan
                .agents
                .iter()
                .map(|a| (a.id.as_str().to_string(), a.region.as_str().to_string()))
                .collect();
            (Some(agents), plan.switch.centre.as_str().to_string())
        }
        Err(_) => {
            eprintln!(
                "note: {} could not be read: staffing counts every agent, the centre is `centre`",
                path.display()
            );
            (None, "centre".to_string())
        }
    }
}

/// Runs one report and prints it.
pub fn run(ask: &Ask) -> anyhow::Result<ExitCode> {
    let period = period(ask)?;
    let confidential: HashSet<&str> = ask.confidential_skill.iter().map(String::as_str).collect();
    let hidden = |c: &hotline_record::CallSummary| {
        !ask.clearance && c.skill.as_deref().is_some_and(|s| confidential.contains(s))
    };
    let (agents, centre) = plan_facts(&ask.dialplan);
    let what = build::What {
        kind: match ask.kind {
            Kind::Intervals => build::Kind::Intervals,
            Kind::Abandoned => build::Kind::Abandoned,
            Kind::Origins => build::Kind::Origins,
            Kind::Service => build::Kind::Service,
            Kind::Agents => build::Kind::Agents,
            Kind::Topics => build::Kind::Topics,
        },
        period,
        region: ask.region.as_deref(),
        minutes: ask.minutes,
        by: match ask.by {
            By::Interval => build::By::Interval,
            By::Day => build::By::Day,
            By::Month => build::By::Month,
        },
        agents,
        centre,
        hidden: &hidden,
        now: chrono::Utc::now(),
    };
    let report =
        build::build(&ask.db, &what).with_context(|| format!("reading {}", ask.db.display()))?;
    print(&report, ask.format)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints a report in `format` on stdout (errors returned, so `| head` ends quietly).
pub fn print(report: &Report, format: Format) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            let mut out = std::io::BufWriter::new(out);
            serde_json::to_writer(&mut out, report)?;
            writeln!(out)?;
            out.flush()?;
        }
        Format::Csv => write!(out, "{}", report.to_csv())?,
        Format::Table => {
            let widths: Vec<usize> = report
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    report
                        .rows
                        .iter()
                        .filter_map(|r| r.values.get(i))
                        .map(|v| width(&v.text()))
                        .chain([width(c.heading)])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            writeln!(out, "{}", report.title)?;
            let line = |cells: Vec<String>| -> String {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| pad(c, *w))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            writeln!(
                out,
                "{}",
                line(
                    report
                        .columns
                        .iter()
                        .map(|c| c.heading.to_string())
                        .collect()
                )
            )?;
            for row in &report.rows {
                writeln!(
                    out,
                    "{}",
                    line(row.values.iter().map(|v| v.text()).collect())
                )?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted_and_formulas_defused() {
        use crate::sheet::{csv_field, defuse};
        assert_eq!(csv_field("洛阳"), "洛阳");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field(&defuse("+8613903790000")), "'+8613903790000");
    }
}
