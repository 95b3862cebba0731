//! The dialplan in force: the validated file plus the router built from it and its
//! prompts. Swapped whole on `hotline reload`, so a call sees one consistent plan; loaded
//! by the switch's edge (`hotline_switch::plan::load`), never by the machine.

use std::sync::Arc;

use hotline_media::prompt::PromptSet;
use hotline_routing::{Dialplan, Router};

/// A loaded, checked dialplan, its routing tables and its prompts.
#[derive(Debug)]
pub struct Plan {
    /// The dialplan as loaded.
    pub dialplan: Dialplan,
    /// Caller number → region.
    pub router: Router,
    /// The menu's prompts, decoded, loaded with the plan so a reload swaps both at once.
    pub prompts: Arc<PromptSet>,
}
