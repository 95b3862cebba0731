//! `hotline route`: which region each caller number goes to, to try a dialplan edit
//! without placing a call.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use hotline_routing::{Dialplan, Route, Router, SegmentTable};

/// Prints one line (or JSON object) per number.
pub fn run(dialplan: &Path, json: bool, numbers: &[String]) -> anyhow::Result<ExitCode> {
    let plan = match Dialplan::load(dialplan) {
        Ok(plan) => plan,
        Err(diagnostics) => {
            for diagnostic in &diagnostics {
                eprintln!("{diagnostic}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let segments = SegmentTable::embedded().context("loading the mobile segment table")?;
    let router = Router::new(&plan, segments);
    let mut out = std::io::stdout().lock();
    for number in numbers {
        // No trunk: the command stands for a call from an unknown source.
        let route = router.route(number, None);
        if json {
            writeln!(out, "{}", serde_json::to_string(&route)?)?;
        } else {
            writeln!(out, "{}", text_line(&route))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `13903790000  mobile  13903790000  luoyang  (河南 洛阳 0379)`.
fn text_line(route: &Route) -> String {
    let place: Vec<&str> = [
        route.province.as_deref(),
        route.city.as_deref(),
        route.area_code.as_ref().map(|a| a.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect();
    let normalized = match route.normalized.as_str() {
        "" => "-",
        n => n,
    };
    let mut line = format!(
        "{}  {}  {}  {}  {}",
        route.number,
        route.kind,
        normalized,
        route.region,
        route.origin.as_str()
    );
    if !place.is_empty() {
        line.push_str(&format!("  ({})", place.join(" ")));
    }
    line
}
