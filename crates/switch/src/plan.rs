//! Loading the dialplan in force from its file: the validated dialplan, the router built
//! from it and its prompts decoded, off the call machine (a reload runs on a blocking
//! thread). The plan's type is the machine's ([`hotline_b2bua::Plan`]).

use std::path::Path;
use std::sync::Arc;

use hotline_ivr::{Menu, NodeKind};
use hotline_media::prompt::PromptSet;
use hotline_routing::{Diagnostic, Dialplan, Router, SegmentTable};

pub use hotline_b2bua::Plan;

/// Why a dialplan could not be put in force.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file has problems; each names file, line and column.
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// A prompt could not be loaded (it changed on disk after the check).
    #[error("prompts: {0}")]
    Prompts(String),
    /// The embedded mobile-segment table is unusable (a build problem).
    #[error("segment table: {0}")]
    Segments(String),
}

/// Loads and checks `path`; the caller keeps its old plan on error.
pub fn load(path: &Path) -> Result<Arc<Plan>, PlanError> {
    let dialplan = Dialplan::load(path).map_err(PlanError::Invalid)?;
    let segments = SegmentTable::embedded().map_err(|e| PlanError::Segments(e.to_string()))?;
    let router = Router::new(&dialplan, segments);
    let prompts = match &dialplan.menu {
        Some(menu) => {
            PromptSet::load(&dialplan.prompt_dir, &prompt_names(menu)).map_err(|errs| {
                PlanError::Prompts(
                    errs.iter()
                        .map(|(name, why)| format!("{name}: {why}"))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })?
        }
        None => PromptSet::empty(),
    };
    let prompts = with_switch_prompts(prompts, &dialplan.prompt_dir);
    Ok(Arc::new(Plan {
        dialplan,
        router,
        prompts: Arc::new(prompts),
    }))
}

/// Prompts the switch plays outside any menu, when the prompt directory has them: the
/// feature-code confirmations (without them the switch hangs up at once, which confirms
/// nothing), the music a transferred caller waits with (else silence) and the beep before
/// a prompt is recorded from a phone.
pub const SWITCH_PROMPTS: [&str; 4] = ["feature-ok", "feature-failed", "moh", "beep"];

/// What the web console takes from `dialplan`.
pub fn console_view(dialplan: &Dialplan) -> hotline_console::plan::PlanView {
    hotline_console::plan::PlanView {
        schedule: dialplan.schedule.clone(),
        categories: dialplan.switch.summary_categories.clone(),
        departments: dialplan.switch.case_departments.clone(),
        report_plan: hotline_console::reports::PlanFacts {
            agents: dialplan
                .agents
                .iter()
                .map(|a| (a.id.as_str().to_string(), a.region.as_str().to_string()))
                .collect(),
            centre: dialplan.switch.centre.as_str().to_string(),
        },
        voice: Some(hotline_console::voice::PromptLibrary::new(
            dialplan.prompt_dir.clone(),
            played_prompts(dialplan),
        )),
        security: dialplan.security.clone(),
    }
}

/// Every prompt the switch can play with this plan, the menu's first: what the voice
/// content page lists.
pub fn played_prompts(dialplan: &Dialplan) -> Vec<String> {
    let mut names = dialplan
        .menu
        .as_ref()
        .map(|m| prompt_names(m))
        .unwrap_or_default();
    for name in SWITCH_PROMPTS {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    names
}

fn with_switch_prompts(mut prompts: PromptSet, dir: &Path) -> PromptSet {
    for name in SWITCH_PROMPTS {
        if prompts.get(name).is_some() {
            continue;
        }
        // One at a time: a missing one must not cost the others.
        match PromptSet::load(dir, &[name.to_string()]) {
            Ok(loaded) => {
                if let Some(samples) = loaded.get(name) {
                    prompts.insert(name, samples);
                }
            }
            Err(errs) => tracing::info!(?errs, "{name} missing: not played outside the menu"),
        }
    }
    prompts
}

/// Every prompt a menu can play: its nodes' and the machine's own.
fn prompt_names(menu: &Menu) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |p: &hotline_ivr::PromptId| {
        let n = p.to_string();
        if !names.contains(&n) {
            names.push(n);
        }
    };
    for node in menu.nodes.values() {
        node.prompts.iter().for_each(&mut add);
        if let NodeKind::Menu {
            invalid: Some(p), ..
        } = &node.kind
        {
            add(p);
        }
    }
    let f = &menu.fixed;
    f.digits.iter().for_each(&mut add);
    for p in [&f.agent_before, &f.agent_after, &f.readback, &f.confirm] {
        add(p);
    }
    for p in [&f.survey, &f.survey_thanks, &f.hold_music]
        .into_iter()
        .flatten()
    {
        add(p);
    }
    if let Some((a, b)) = &f.position {
        add(a);
        add(b);
    }
    names
}
