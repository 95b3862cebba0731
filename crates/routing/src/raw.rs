//! The dialplan file exactly as written, with the span of every value that a semantic check
//! may need to point at. `check` turns it into the validated [`crate::Dialplan`].

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDialplan {
    pub switch: RawSwitch,
    #[serde(default, rename = "region")]
    pub regions: Vec<RawRegion>,
    #[serde(default, rename = "agent")]
    pub agents: Vec<RawAgent>,
    #[serde(default, rename = "trunk")]
    pub trunks: Vec<RawTrunk>,
    #[serde(default, rename = "supervisor")]
    pub supervisors: Vec<RawSupervisor>,
    /// The voice menu, checked by `hotline-ivr`.
    pub ivr: Option<Spanned<hotline_ivr::raw::RawIvr>>,
    /// Service hours, checked by `hotline-ivr`.
    pub hours: Option<hotline_ivr::RawHours>,
    /// The brakes on password guessing.
    pub security: Option<crate::security::RawSecurity>,
    /// The brakes on new work and the longest calls.
    pub overload: Option<crate::overload::RawOverload>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSwitch {
    pub service_numbers: Spanned<Vec<Spanned<String>>>,
    pub province: Spanned<String>,
    pub centre: Spanned<String>,
    pub default_area_code: Spanned<String>,
    pub digest_algorithms: Option<Spanned<Vec<Spanned<String>>>>,
    pub outbound_prefix: Option<Spanned<String>>,
    pub outbound_per_hour: Option<u32>,
    /// The categories of the agents' call summaries (the console's desk).
    pub summary_categories: Option<Vec<String>>,
    /// The departments questions are handed on to.
    pub case_departments: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRegion {
    pub id: Spanned<String>,
    pub name: String,
    #[serde(default)]
    pub cities: Vec<Spanned<String>>,
    #[serde(default)]
    pub area_codes: Vec<Spanned<String>>,
    #[serde(default)]
    pub prefixes: Vec<Spanned<String>>,
    pub ring_timeout_secs: Option<Spanned<u64>>,
    pub overflow_after_secs: Option<Spanned<u64>>,
    pub strategy: Option<Spanned<String>>,
    pub wrap_up_secs: Option<Spanned<u64>>,
    pub first_levels: Option<Spanned<u8>>,
    pub widen_after_secs: Option<Spanned<u64>>,
    pub missed_before_pause: Option<Spanned<u32>>,
    pub mode: Option<Spanned<String>>,
    pub legacy_trunk: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub id: Spanned<String>,
    pub region: Spanned<String>,
    pub name: Option<String>,
    pub secret: Option<Spanned<String>>,
    pub contact: Option<Spanned<String>>,
    pub any_port: Option<Spanned<bool>>,
    pub trust_address: Option<Spanned<bool>>,
    #[serde(default)]
    pub skills: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSupervisor {
    pub id: Spanned<String>,
    pub name: Option<String>,
    pub secret: Option<Spanned<String>>,
    pub contact: Option<Spanned<String>>,
    pub any_port: Option<Spanned<bool>>,
    pub trust_address: Option<Spanned<bool>>,
    pub scope: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTrunk {
    pub name: Spanned<String>,
    pub address: Spanned<String>,
    pub region: Option<Spanned<String>>,
    pub transport: Option<Spanned<String>>,
    pub username: Option<String>,
    pub password: Option<String>,
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    pub caller_id: Option<Spanned<String>>,
}
