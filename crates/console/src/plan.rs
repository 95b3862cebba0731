//! What the console takes from the dialplan (the calendar, the desk's lists, the agents'
//! regions for the reports, the prompts of the voice content page, the sign-in brakes), held so that a
//! `hotline reload` (or a change on the voice page) brings the new plan's without a
//! restart: the switch sets it through a [`PlanHandle`] after each reload it accepted.

use std::sync::{Arc, RwLock};

use crate::reports::PlanFacts;
use crate::voice::PromptLibrary;

/// The plan as the console uses it.
#[derive(Debug, Clone)]
pub struct PlanView {
    /// The calendar, for hand-on cases' working-day deadlines.
    pub schedule: hotline_ivr::Schedule,
    /// The summary categories offered at the desk.
    pub categories: Vec<String>,
    /// The departments a case is handed on to.
    pub departments: Vec<String>,
    /// The agents and the centre, for the reports.
    pub report_plan: PlanFacts,
    /// The prompts the plan plays, for the voice content page.
    pub voice: Option<PromptLibrary>,
    /// How failed sign-ins are braked (`[security]`, as for the SIP registrar).
    pub security: hotline_routing::SecurityConfig,
}

impl Default for PlanView {
    fn default() -> PlanView {
        use hotline_routing::desk::{
            list_or, DEFAULT_CASE_DEPARTMENTS, DEFAULT_SUMMARY_CATEGORIES,
        };
        PlanView {
            schedule: hotline_ivr::Schedule::default(),
            categories: list_or(None, &DEFAULT_SUMMARY_CATEGORIES),
            departments: list_or(None, &DEFAULT_CASE_DEPARTMENTS),
            report_plan: PlanFacts {
                agents: Vec::new(),
                centre: "centre".to_string(),
            },
            voice: None,
            security: Default::default(),
        }
    }
}

/// The plan in force, shared by the console's handlers and whoever replaces it.
#[derive(Debug, Clone, Default)]
pub struct PlanHandle(Arc<RwLock<Arc<PlanView>>>);

impl PlanHandle {
    /// The plan now.
    pub fn get(&self) -> Arc<PlanView> {
        // A writer never panics while holding it; the last plan stays whole if one did.
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Puts `view` in force.
    pub fn set(&self, view: PlanView) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(view);
    }

    /// Changes the plan in force with `change`.
    pub fn change(&self, change: impl FnOnce(&mut PlanView)) {
        let mut view = (*self.get()).clone();
        change(&mut view);
        self.set(view);
    }
}
