//! The dialplan: which numbers the switch answers, the regions (cities) and how callers map
//! to them, the agents and the carrier trunks. Format: `dialplans/README.md`.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::area_code::AreaCode;
use crate::diagnostic::{Diagnostic, Problem};
use crate::ids::{AgentId, RegionId};
use crate::segments::SegmentTable;

mod trunk;
pub use trunk::{Credentials, Trunk, TrunkAddress};

/// Ring time per agent when a region does not say: short, "answered within three rings".
pub const DEFAULT_RING_TIMEOUT_SECS: u64 = 15;
/// Wait before a city's queue overflows to the centre when a region does not say.
pub const DEFAULT_OVERFLOW_AFTER_SECS: u64 = 60;
/// After-call work (话后小结) when a region does not say.
pub const DEFAULT_WRAP_UP_SECS: u64 = 20;
/// The distribution strategies a region's queue may name (`strategy = "ring-all"`).
pub const STRATEGIES: [&str; 8] = [
    "longest-idle",
    "round-robin",
    "fewest-calls",
    "least-talk-time",
    "ring-all",
    "linear",
    "random",
    "weighted-by-level",
];

/// A validated dialplan: every reference resolves and no number is claimed twice.
#[derive(Clone, Debug)]
pub struct Dialplan {
    /// The file it was loaded from, for messages.
    pub file: PathBuf,
    /// Switch-wide settings (`[switch]`).
    pub switch: SwitchConfig,
    /// The regions, in file order; the centre is one of them.
    pub regions: Vec<Region>,
    /// The agents, in file order.
    pub agents: Vec<Agent>,
    /// The carrier trunks, in file order.
    pub trunks: Vec<Trunk>,
    /// Supervisors (班长), who may monitor agents within their scope.
    pub supervisors: Vec<Supervisor>,
    /// The voice menu; without one, callers go straight to their region's queue.
    pub menu: Option<std::sync::Arc<hotline_ivr::Menu>>,
    /// Where the menu's prompts are (`<name>.wav`, 8 kHz mono 16-bit).
    pub prompt_dir: PathBuf,
    /// Service hours (the default schedule when `[hours]` is absent).
    pub schedule: hotline_ivr::Schedule,
    /// The brakes on password guessing (`[security]`).
    pub security: crate::SecurityConfig,
    /// The brakes on new work and the longest calls (`[overload]`).
    pub overload: crate::OverloadConfig,
}

/// Switch-wide settings.
#[derive(Clone, Debug)]
pub struct SwitchConfig {
    /// Request-URI users the switch routes (`12366`); any other gets 404.
    pub service_numbers: Vec<String>,
    /// The province whose callers count as in-province (segment-table spelling, `河南`).
    pub province: String,
    /// The provincial contact centre's region: out-of-province, international, anonymous
    /// and unknown callers go there.
    pub centre: RegionId,
    /// Area code of local numbers that arrive from no known trunk.
    pub default_area_code: AreaCode,
    /// Digest algorithms the registrar offers, in order: `MD5`, `SHA-256`.
    pub digest_algorithms: Vec<String>,
    /// What an agent dials before a taxpayer's number to call out (`9`).
    pub outbound_prefix: String,
    /// Calls out one agent may start per hour (toll-fraud brake).
    pub outbound_per_hour: u32,
    /// The categories of the agents' call summaries (来电小结).
    pub summary_categories: Vec<String>,
    /// The departments a question is handed on to (转办).
    pub case_departments: Vec<String>,
}

/// A city (or the centre) whose agents answer the callers mapped to it.
#[derive(Clone, Debug)]
pub struct Region {
    /// Lowercase pinyin id.
    pub id: RegionId,
    /// Display name, e.g. `开封`.
    pub name: String,
    /// Segment-table city names whose mobiles come here.
    pub cities: Vec<String>,
    /// Landline area codes wholly owned by this region; also maps county mobile segments.
    pub area_codes: Vec<AreaCode>,
    /// Longer landline prefixes (`0` + digits) splitting a shared area code.
    pub prefixes: Vec<String>,
    /// How long one agent's phone rings before the next agent is tried.
    pub ring_timeout: Duration,
    /// How long a caller waits in this region's queue before overflowing to the centre.
    pub overflow_after: Duration,
    /// How the region's queue hands out calls.
    pub queue: QueueSettings,
    /// Whether the region's calls go to remote seats or to the city's old system.
    pub mode: RegionMode,
}

impl Region {
    /// The trunk to the city's old system while the region is `legacy` (割接).
    pub fn legacy_trunk(&self) -> Option<&str> {
        match &self.mode {
            RegionMode::Legacy { trunk } => Some(trunk),
            RegionMode::Remote => None,
        }
    }
}

/// How a region's queue distributes calls among its agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// One of [`STRATEGIES`].
    pub strategy: String,
    /// After-call work before the agent is offered the next call.
    pub wrap_up: Duration,
    /// Skill levels (1 best … 5) offered a call first; 5 offers every level at once.
    pub first_levels: u8,
    /// After this wait every skill level may take the call.
    pub widen_after: Duration,
    /// Calls let ring out in a row before the agent is set not-ready (no-answer).
    pub missed_before_pause: u32,
}

/// Where a region's calls go (割接: cities move onto the platform one batch at a time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionMode {
    /// To this platform's remote seats (远程坐席).
    Remote,
    /// To the city's old system over the named trunk.
    Legacy {
        /// The trunk's name.
        trunk: String,
    },
}

/// An agent seat (坐席).
#[derive(Clone, Debug)]
pub struct Agent {
    /// Agent number (工号), announced to callers; also the SIP user name.
    pub id: AgentId,
    /// The region whose queue the agent serves.
    pub region: RegionId,
    /// The agent's name, for supervisors.
    pub name: Option<String>,
    /// How the switch reaches the agent's phone.
    pub reach: AgentReach,
    /// Skills with levels (1 best … 5), from `skills = ["filing:1", "invoices:3"]`; empty
    /// means the agent takes every call.
    pub skills: Vec<(String, u8)>,
}

/// A supervisor (班长/质检), who may listen to, whisper to or barge into agents' calls.
#[derive(Clone, Debug)]
pub struct Supervisor {
    /// Their number, also the SIP user name; never an agent's.
    pub id: AgentId,
    /// Their name, for the audit trail.
    pub name: Option<String>,
    /// How the switch reaches their phone.
    pub reach: AgentReach,
    /// Whose calls they may monitor.
    pub scope: Scope,
}

impl Supervisor {
    /// Whether this supervisor may listen to, whisper to or barge into `agent`'s calls:
    /// a province-wide supervisor anyone's, a city's supervisor only that city's agents.
    pub fn may_monitor(&self, agent: &Agent) -> bool {
        match &self.scope {
            Scope::Province => true,
            Scope::Region(r) => &agent.region == r,
        }
    }
}

/// The agents a supervisor may monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every agent of the province.
    Province,
    /// The agents of one region.
    Region(RegionId),
}

/// How the switch finds an agent's phone.
#[derive(Clone, PartialEq, Eq)]
pub enum AgentReach {
    /// The phone REGISTERs with digest authentication using this secret.
    Registers {
        /// The digest password.
        secret: String,
    },
    /// A fixed URI, e.g. a remote seat behind a city PBX.
    Static {
        /// The `sip:`/`sips:` URI.
        contact: String,
        /// Requests from the contact's address count as the seat's whatever their source
        /// port (Asterisk's `insecure=port`); by default a request must come from the
        /// contact's port too.
        any_port: bool,
        /// The digest password the seat answers challenges with: monitoring and calls out
        /// from a static seat need it unless [`AgentReach::Static::trust_address`].
        secret: Option<String>,
        /// The plan trusts the seat's address for monitoring and calls out as well (a
        /// seat behind a PBX that cannot answer challenges); off by default.
        trust_address: bool,
    },
}

impl fmt::Debug for AgentReach {
    /// Never prints the secret: dialplans end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentReach::Registers { .. } => f.write_str("Registers { secret: <redacted> }"),
            AgentReach::Static {
                contact,
                any_port,
                trust_address,
                ..
            } => write!(
                f,
                "Static {{ contact: {contact:?}, any_port: {any_port}, trust_address: {trust_address}, secret: <redacted> }}"
            ),
        }
    }
}

impl Dialplan {
    /// The hotline's own number (the first service number; `hotline check` requires one),
    /// presented to the parties it calls.
    pub fn service_number(&self) -> &str {
        self.switch
            .service_numbers
            .first()
            .map_or("12366", String::as_str)
    }

    /// Reads and checks a dialplan file, reporting every problem found, not just the first.
    pub fn load(path: &Path) -> Result<Dialplan, Vec<Diagnostic>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Dialplan::parse(&text, path),
            Err(err) => Err(vec![Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                col: 0,
                problem: Problem::Unreadable(err.to_string()),
            }]),
        }
    }

    /// Checks dialplan text; `file` only names it in diagnostics. City, province and area
    /// code names are checked against the embedded segment table.
    pub fn parse(text: &str, file: &Path) -> Result<Dialplan, Vec<Diagnostic>> {
        crate::check::check(text, file, SegmentTable::embedded().ok())
    }

    /// Reads a dialplan without checking place names against the segment table: quick, for
    /// tools that need only its agents, regions and menu (reports), never for the switch.
    pub fn load_without_places(path: &Path) -> Result<Dialplan, Vec<Diagnostic>> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            vec![Diagnostic {
                file: path.to_path_buf(),
                line: 0,
                col: 0,
                problem: Problem::Unreadable(err.to_string()),
            }]
        })?;
        crate::check::check(&text, path, None)
    }

    /// The region with this id.
    pub fn region(&self, id: &RegionId) -> Option<&Region> {
        self.regions.iter().find(|r| &r.id == id)
    }

    /// The region with this id, given as text (a queue name, a record's region).
    pub fn region_named(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id.as_str() == id)
    }

    /// The agent with this id (the SIP user name of a REGISTER).
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.id.as_str() == id)
    }

    /// The supervisor with this id.
    pub fn supervisor(&self, id: &str) -> Option<&Supervisor> {
        self.supervisors.iter().find(|s| s.id.as_str() == id)
    }

    /// How to reach the phone of agent or supervisor `user` (registrar, calls from phones).
    pub fn phone(&self, user: &str) -> Option<&AgentReach> {
        self.agent(user)
            .map(|a| &a.reach)
            .or_else(|| self.supervisor(user).map(|s| &s.reach))
    }

    /// The trunk with this name.
    pub fn trunk_named(&self, name: &str) -> Option<&Trunk> {
        self.trunks.iter().find(|t| t.name == name)
    }

    /// The first trunk, in file order, that allows a call out to `number`.
    pub fn trunk_for(&self, number: &str) -> Option<&Trunk> {
        self.trunks.iter().find(|t| t.allows(number))
    }

    /// Whether a Request-URI user is one of the numbers the switch answers.
    pub fn is_service_number(&self, user: &str) -> bool {
        self.switch.service_numbers.iter().any(|n| n == user)
    }

    /// The trunk a request from `source` came in on: a trunk pinned to the port wins over
    /// one that gives the IP only.
    pub fn trunk_from(&self, source: SocketAddr) -> Option<&Trunk> {
        let pinned = self
            .trunks
            .iter()
            .find(|t| t.address.port.is_some() && t.address.matches(source));
        pinned.or_else(|| self.trunks.iter().find(|t| t.address.matches(source)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAN: &str = r#"
        [switch]
        service_numbers = ["12366", "96128"]
        province = "河南"
        centre = "centre"
        default_area_code = "0371"

        [[region]]
        id = "centre"
        name = "省局联络中心"

        [[region]]
        id = "zhengzhou"
        name = "郑州"
        area_codes = ["0371"]
        ring_timeout_secs = 10

        [[agent]]
        id = "1001"
        region = "zhengzhou"
        secret = "s3cret"

        [[agent]]
        id = "1102"
        region = "centre"
        contact = "sip:1102@192.0.2.7:5060"

        [[trunk]]
        name = "any-port"
        address = "192.0.2.10"

        [[trunk]]
        name = "pinned"
        address = "192.0.2.10:5070"
        region = "zhengzhou"
    "#;

    fn plan() -> Dialplan {
        Dialplan::parse(PLAN, Path::new("t.toml")).unwrap()
    }

    #[test]
    fn only_service_numbers_are_answered() {
        let plan = plan();
        assert!(plan.is_service_number("12366"));
        assert!(plan.is_service_number("96128"));
        assert!(!plan.is_service_number("110"));
    }

    #[test]
    fn trunk_pinned_to_a_port_wins_over_one_for_the_whole_ip() {
        let plan = plan();
        let pinned = plan.trunk_from("192.0.2.10:5070".parse().unwrap()).unwrap();
        assert_eq!(pinned.name, "pinned");
        assert_eq!(pinned.region.as_ref().unwrap().as_str(), "zhengzhou");
        let other = plan.trunk_from("192.0.2.10:5060".parse().unwrap()).unwrap();
        assert_eq!(other.name, "any-port");
        assert!(plan
            .trunk_from("192.0.2.11:5060".parse().unwrap())
            .is_none());
    }

    #[test]
    fn agents_and_regions_are_found_by_id() {
        let plan = plan();
        let agent = plan.agent("1102").unwrap();
        assert!(
            matches!(&agent.reach, AgentReach::Static { contact, .. } if contact.contains("192.0.2.7"))
        );
        assert!(plan.agent("9999").is_none());
        let zhengzhou = plan.region(&RegionId::new("zhengzhou").unwrap()).unwrap();
        assert_eq!(zhengzhou.ring_timeout, Duration::from_secs(10));
        assert_eq!(plan.switch.centre.as_str(), "centre");
    }

    #[test]
    fn a_city_supervisor_monitors_only_that_city() {
        let text = format!(
            "{PLAN}\n[[supervisor]]\nid = \"1950\"\nsecret = \"x\"\nscope = \"zhengzhou\"\n\n\
             [[supervisor]]\nid = \"1951\"\nsecret = \"y\"\nscope = \"province\"\n"
        );
        let plan = Dialplan::parse(&text, Path::new("t.toml")).unwrap();
        let (city, province) = (
            plan.supervisor("1950").unwrap(),
            plan.supervisor("1951").unwrap(),
        );
        let zhengzhou = plan.agent("1001").unwrap();
        let centre = plan.agent("1102").unwrap();
        assert!(city.may_monitor(zhengzhou));
        assert!(!city.may_monitor(centre));
        assert!(province.may_monitor(zhengzhou) && province.may_monitor(centre));
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let debug = format!("{:?}", plan());
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("redacted"));
    }
}
