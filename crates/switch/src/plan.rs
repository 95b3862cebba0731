//! The dialplan in force: the validated file plus the router built from it. Swapped whole
//! on `hotline reload`, so a call sees one consistent plan.

use std::path::Path;
use std::sync::Arc;

use hotline_routing::{Diagnostic, Dialplan, Router, SegmentTable};

/// A loaded, checked dialplan and its routing tables.
#[derive(Debug)]
pub struct Plan {
    /// The dialplan as loaded.
    pub dialplan: Dialplan,
    /// Caller number → region.
    pub router: Router,
}

/// Why a dialplan could not be put in force.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The file has problems; each names file, line and column.
    #[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Diagnostic>),
    /// The embedded mobile-segment table is unusable (a build problem).
    #[error("segment table: {0}")]
    Segments(String),
}

impl Plan {
    /// Loads and checks `path`; the caller keeps its old plan on error.
    pub fn load(path: &Path) -> Result<Arc<Plan>, PlanError> {
        let dialplan = Dialplan::load(path).map_err(PlanError::Invalid)?;
        let segments = SegmentTable::embedded().map_err(|e| PlanError::Segments(e.to_string()))?;
        let router = Router::new(&dialplan, segments);
        Ok(Arc::new(Plan { dialplan, router }))
    }
}
