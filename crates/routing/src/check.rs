//! Turns the raw TOML into a [`Dialplan`], checking everything an operator can get wrong and
//! reporting all of it at once with line and column, before a reload reaches the switch.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use crate::area_code::AreaCode;
use crate::diagnostic::{Diagnostic, Locator, Problem};
use crate::dialplan::{
    Dialplan, QueueSettings, Region, RegionMode, SwitchConfig, Trunk, DEFAULT_OVERFLOW_AFTER_SECS,
    DEFAULT_RING_TIMEOUT_SECS, DEFAULT_WRAP_UP_SECS, STRATEGIES,
};
use crate::ids::RegionId;
use crate::raw::{RawDialplan, RawRegion, RawSwitch};
use crate::segments::SegmentTable;

mod numbering;
mod parties;
mod regions;

/// Parses and checks dialplan text; `table` (when available) validates place names.
pub(crate) fn check(
    text: &str,
    file: &Path,
    table: Option<&SegmentTable>,
) -> Result<Dialplan, Vec<Diagnostic>> {
    let mut checker = Checker {
        file,
        locator: Locator::new(text),
        table,
        province: None,
        diagnostics: Vec::new(),
        trunk_refs: Vec::new(),
        skill_refs: Vec::new(),
    };
    let dialplan = match toml::from_str::<RawDialplan>(text) {
        Ok(raw) => checker.dialplan(raw),
        Err(err) => {
            let span = err.span().unwrap_or(0..0);
            checker.report(&span, Problem::Toml(err.message().trim().to_owned()));
            None
        }
    };
    match dialplan {
        Some(dialplan) if checker.diagnostics.is_empty() => Ok(dialplan),
        _ => {
            let mut diagnostics = checker.diagnostics;
            diagnostics.sort_by_key(|d| (d.line, d.col));
            Err(diagnostics)
        }
    }
}

/// Longest ring per agent accepted: ten minutes is already no "three rings".
const MAX_RING_TIMEOUT_SECS: u64 = 600;
/// Longest wait before overflow accepted: a day.
const MAX_OVERFLOW_AFTER_SECS: u64 = 86_400;

/// Where an id or name was first defined, to point at it when it is defined again.
type Seen<V> = HashMap<String, (V, usize)>;

struct Checker<'a> {
    file: &'a Path,
    locator: Locator<'a>,
    table: Option<&'a SegmentTable>,
    /// `[switch] province` when the segment table knows it; out-of-province checks need it.
    province: Option<String>,
    diagnostics: Vec<Diagnostic>,
    /// Trunk names regions refer to (`legacy_trunk`), checked once the trunks are read.
    trunk_refs: Vec<(Range<usize>, String)>,
    /// Agents' skill names, checked against the menu's queues once it is read.
    skill_refs: Vec<(Range<usize>, String)>,
}

impl Checker<'_> {
    fn report(&mut self, span: &Range<usize>, problem: Problem) {
        let (line, col) = self.locator.line_col(span);
        self.diagnostics.push(Diagnostic {
            file: self.file.to_path_buf(),
            line,
            col,
            problem,
        });
    }

    fn line(&self, span: &Range<usize>) -> usize {
        self.locator.line_col(span).0
    }

    /// The dialplan, or `None` when something was reported (it is discarded then anyway).
    fn dialplan(&mut self, raw: RawDialplan) -> Option<Dialplan> {
        self.province(&raw.switch.province);
        let mut region_ids: Seen<()> = HashMap::new();
        let mut claims = Claims::default();
        let centre_span = raw.switch.centre.span();
        let regions: Vec<Region> = raw
            .regions
            .into_iter()
            .filter_map(|r| self.region(r, &mut region_ids, &mut claims))
            .collect();
        let switch = self.switch(raw.switch, &region_ids);
        if let Some(centre) = &switch {
            let legacy = regions
                .iter()
                .any(|r| r.id == centre.centre && r.mode != RegionMode::Remote);
            if legacy {
                // Every city overflows to the centre: it must be on the platform.
                let why = "the centre cannot be legacy: every city's overflow goes to it";
                self.report(&centre_span, Problem::BadMode(why.to_string()));
            }
        }
        let mut agent_ids: Seen<()> = HashMap::new();
        let agents = raw
            .agents
            .into_iter()
            .filter_map(|a| self.agent(a, &region_ids, &mut agent_ids))
            .collect();
        let supervisors = raw
            .supervisors
            .into_iter()
            .filter_map(|s| self.supervisor(s, &region_ids, &mut agent_ids))
            .collect();
        let mut trunk_keys: Seen<()> = HashMap::new();
        let trunks: Vec<Trunk> = raw
            .trunks
            .into_iter()
            .filter_map(|t| self.trunk(t, &region_ids, &mut trunk_keys))
            .collect();
        for (span, name) in std::mem::take(&mut self.trunk_refs) {
            if !trunks.iter().any(|t| t.name == name) {
                self.report(&span, Problem::UnknownTrunk(name));
            }
        }
        let prompt_dir = self.prompt_dir(raw.ivr.as_ref());
        let menu = raw
            .ivr
            .as_ref()
            .and_then(|ivr| self.menu(ivr, &prompt_dir, &region_ids));
        if let Some(menu) = &menu {
            let known = menu_skills(menu);
            for (span, skill) in std::mem::take(&mut self.skill_refs) {
                if !known.contains(&skill) {
                    let known = known.join(", ");
                    self.report(&span, Problem::UnknownSkill { skill, known });
                }
            }
        }
        let schedule = match &raw.hours {
            Some(h) => match hotline_ivr::check_hours(h) {
                Ok(s) => s,
                Err(problems) => {
                    for (span, message) in problems {
                        self.report(&span, Problem::Hours(message));
                    }
                    hotline_ivr::Schedule::default()
                }
            },
            None => hotline_ivr::Schedule::default(),
        };
        let security = crate::security::check(raw.security, &mut |span, p| self.report(span, p));
        let overload = crate::overload::check(raw.overload, &mut |span, p| self.report(span, p));
        Some(Dialplan {
            security,
            overload,
            file: self.file.to_path_buf(),
            switch: switch?,
            regions,
            agents,
            trunks,
            supervisors,
            menu,
            prompt_dir,
            schedule,
        })
    }

    /// The prompt directory: `[ivr] prompts`, relative to the dialplan file.
    fn prompt_dir(&self, ivr: Option<&Spanned<hotline_ivr::raw::RawIvr>>) -> PathBuf {
        let rel = ivr
            .and_then(|i| i.get_ref().prompts.clone())
            .unwrap_or_else(|| "../prompts".to_string());
        let base = self.file.parent().unwrap_or_else(|| Path::new("."));
        base.join(rel)
    }

    fn menu(
        &mut self,
        ivr: &Spanned<hotline_ivr::raw::RawIvr>,
        prompt_dir: &Path,
        region_ids: &Seen<()>,
    ) -> Option<std::sync::Arc<hotline_ivr::Menu>> {
        let exists = |name: &str| crate::prompt::usable(&prompt_dir.join(format!("{name}.wav")));
        let region = |id: &str| region_ids.contains_key(id);
        match hotline_ivr::check_menu(ivr.get_ref(), ivr.span(), &exists, &region) {
            Ok(menu) => Some(std::sync::Arc::new(menu)),
            Err(problems) => {
                for p in problems {
                    self.report(&p.span, Problem::Menu(p.message));
                }
                None
            }
        }
    }

    fn province(&mut self, province: &Spanned<String>) {
        match self.table {
            Some(table) if !table.has_province(province.get_ref()) => {
                let problem = Problem::UnknownProvince(province.get_ref().clone());
                self.report(&province.span(), problem);
            }
            Some(_) => self.province = Some(province.get_ref().clone()),
            None => {}
        }
    }

    fn switch(&mut self, raw: RawSwitch, region_ids: &Seen<()>) -> Option<SwitchConfig> {
        let numbers = raw.service_numbers;
        if numbers.get_ref().is_empty() {
            self.report(&numbers.span(), Problem::NoServiceNumbers);
        }
        for number in numbers.get_ref() {
            if !is_digits(number.get_ref()) {
                let problem = Problem::BadServiceNumber(number.get_ref().clone());
                self.report(&number.span(), problem);
            }
        }
        let centre = raw.centre.get_ref();
        if !region_ids.contains_key(centre) {
            self.report(&raw.centre.span(), Problem::MissingCentre(centre.clone()));
        }
        let centre = RegionId::new(centre);
        let default_area_code = self.area_code(&raw.default_area_code);
        let digest_algorithms = match raw.digest_algorithms {
            // MD5 alone by default: common phones (baresip 1.0) refuse to register when any
            // SHA-256 challenge is offered. SHA-256 is a plan-wide opt-in, never per agent:
            // a challenge that differed by user would tell which agent numbers exist.
            None => vec!["MD5".to_string()],
            Some(list) => {
                let span = list.span();
                let names: Vec<String> = list
                    .into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect();
                let bad: Vec<&String> = names
                    .iter()
                    .filter(|n| *n != "MD5" && *n != "SHA-256")
                    .collect();
                if names.is_empty() || !bad.is_empty() {
                    let what = if names.is_empty() {
                        "empty".to_string()
                    } else {
                        format!("{bad:?}")
                    };
                    self.report(&span, Problem::BadDigestAlgorithms(what));
                }
                names
            }
        };
        Some(SwitchConfig {
            service_numbers: numbers
                .into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            province: raw.province.into_inner(),
            centre: centre?,
            default_area_code: default_area_code?,
            digest_algorithms,
            outbound_prefix: match raw.outbound_prefix {
                Some(p) if !is_digits(p.get_ref()) || p.get_ref().len() > 3 => {
                    self.report(
                        &p.span(),
                        Problem::OutOfRange {
                            key: "outbound_prefix",
                            range: "1 to 3 digits",
                        },
                    );
                    String::new()
                }
                Some(p) => p.into_inner(),
                None => "9".to_string(),
            },
            outbound_per_hour: raw.outbound_per_hour.unwrap_or(30),
            summary_categories: crate::desk::list_or(
                raw.summary_categories,
                &crate::desk::DEFAULT_SUMMARY_CATEGORIES,
            ),
            case_departments: crate::desk::list_or(
                raw.case_departments,
                &crate::desk::DEFAULT_CASE_DEPARTMENTS,
            ),
        })
    }
}

/// Area codes and prefixes (one namespace: `0371` as either is the same claim), and cities.
#[derive(Default)]
struct Claims {
    prefixes: Seen<String>,
    cities: Seen<String>,
}

/// `name` (level 1) or `name:level` with level 1–5.
fn skill_level(text: &str) -> Option<(String, u8)> {
    let (name, level) = match text.split_once(':') {
        Some((name, level)) => (name, level.parse::<u8>().ok()?),
        None => (text, 1),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    (name_ok && (1..=5).contains(&level)).then(|| (name.to_string(), level))
}

/// The skills the menu's queues ask for.
fn menu_skills(menu: &hotline_ivr::Menu) -> Vec<String> {
    let mut skills: Vec<String> = menu
        .nodes
        .values()
        .filter_map(|n| match &n.kind {
            hotline_ivr::NodeKind::Queue { skill: Some(s), .. } => Some(s.clone()),
            _ => None,
        })
        .collect();
    skills.sort();
    skills.dedup();
    skills
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
