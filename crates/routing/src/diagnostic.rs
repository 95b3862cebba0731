//! Dialplan problems with the place they were found, printed the way compilers do
//! (`file:line:col: reason`) so editors can jump to them.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One problem in a dialplan file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The dialplan file.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file (it could not be read).
    pub line: usize,
    /// 1-based column in characters; 0 with `line` 0.
    pub col: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        if self.line == 0 {
            write!(f, "{file}: {}", self.problem)
        } else {
            write!(f, "{file}:{}:{}: {}", self.line, self.col, self.problem)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// Everything that can be wrong with a dialplan, one variant per check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The file could not be read.
    #[error("cannot read dialplan: {0}")]
    Unreadable(String),
    /// `digest_algorithms` empty or with an algorithm other than MD5 and SHA-256.
    #[error("digest_algorithms must list MD5 and/or SHA-256: {0}")]
    BadDigestAlgorithms(String),
    /// A problem in the voice menu (`[ivr]`).
    #[error("ivr: {0}")]
    Menu(String),
    /// A problem in the service hours (`[hours]`).
    #[error("hours: {0}")]
    Hours(String),
    /// TOML syntax, a missing or unknown key, or a value of the wrong type.
    #[error("{0}")]
    Toml(String),
    /// `[switch] service_numbers` is empty: the switch would answer nothing.
    #[error("service_numbers is empty: the switch would route no call")]
    NoServiceNumbers,
    /// A service number that is not all digits.
    #[error("service number `{0}` must be digits only")]
    BadServiceNumber(String),
    /// The province is unknown to the mobile segment table (a typo would send every call
    /// to the centre).
    #[error("province `{0}` is not a province of the mobile segment table")]
    UnknownProvince(String),
    /// A region id that is not lowercase pinyin.
    #[error("region id `{0}` must be lowercase letters a-z (pinyin)")]
    BadRegionId(String),
    /// Two regions with the same id.
    #[error("region `{id}` is already defined at line {first_line}")]
    DuplicateRegion {
        /// The id.
        id: String,
        /// Where it was first defined.
        first_line: usize,
    },
    /// `[switch] centre` names no region.
    #[error("centre region `{0}` is not defined by any [[region]]")]
    MissingCentre(String),
    /// An agent or trunk names a region that is not defined.
    #[error("unknown region `{0}`")]
    UnknownRegion(String),
    /// A ring timeout of zero would skip every agent; a huge one is no "three rings".
    #[error("ring_timeout_secs must be 1 to 600")]
    ZeroRingTimeout,
    /// An overflow wait longer than a day.
    #[error("overflow_after_secs must be at most 86400")]
    OverflowTooLong,
    /// An area code that is not `0` + 2–3 digits by the Chinese numbering plan.
    #[error("`{0}` is not an area code (010 and 020-029 have 3 digits, other 0xxx 4)")]
    BadAreaCode(String),
    /// A landline prefix that is not `0` + digits starting with a whole area code.
    #[error("prefix `{0}` must be an area code followed by more digits (12 digits at most)")]
    BadPrefix(String),
    /// An area code or prefix claimed twice.
    #[error("`{prefix}` is already claimed by region `{other}` at line {first_line}")]
    DuplicatePrefix {
        /// The area code or prefix.
        prefix: String,
        /// The region that claimed it first.
        other: String,
        /// Where.
        first_line: usize,
    },
    /// A city name claimed twice.
    #[error("city `{city}` is already claimed by region `{other}` at line {first_line}")]
    DuplicateCity {
        /// The city.
        city: String,
        /// The region that claimed it first.
        other: String,
        /// Where.
        first_line: usize,
    },
    /// A city no mobile segment names: mobiles would never match it.
    #[error("city `{0}` is not a city of the mobile segment table")]
    UnknownCity(String),
    /// A city, area code or prefix of another province: its mobiles go to the centre anyway.
    #[error("`{name}` belongs to {actual}, not to the switch's province {province}")]
    OutOfProvince {
        /// The city or code.
        name: String,
        /// Its province per the segment table.
        actual: String,
        /// `[switch] province`.
        province: String,
    },
    /// An agent id that is not digits (it is announced as 工号 and used as SIP user name).
    #[error("agent id `{0}` must be digits only")]
    BadAgentId(String),
    /// Two agents with the same id.
    #[error("agent `{id}` is already defined at line {first_line}")]
    DuplicateAgent {
        /// The id.
        id: String,
        /// Where it was first defined.
        first_line: usize,
    },
    /// An agent the switch could not reach: it neither registers nor has a static contact.
    #[error("agent `{0}` needs `secret` (its phone registers) or `contact` (a static URI)")]
    AgentUnreachable(String),
    /// `any_port` and `trust_address` say how a static contact's requests are recognised:
    /// nothing without one.
    #[error("agent `{0}` has `any_port` or `trust_address` but no `contact`; they only apply to a static contact")]
    SeatFlagWithoutContact(String),
    /// `strategy` is not one of the known distribution strategies.
    #[error("strategy `{0}` is unknown; use one of {list}", list = crate::dialplan::STRATEGIES.join(", "))]
    UnknownStrategy(String),
    /// A queue setting out of its range (`wrap_up_secs`, `first_levels`, ...).
    #[error("{key} must be {range}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// What it may be.
        range: &'static str,
    },
    /// `mode` other than `remote` or `legacy`, or `legacy` without its trunk.
    #[error("{0}")]
    BadMode(String),
    /// A name that no `[[trunk]]` defines.
    #[error("unknown trunk `{0}`")]
    UnknownTrunk(String),
    /// An agent skill that is not `name` or `name:level` with level 1-5.
    #[error("skill `{0}` must be `name` or `name:level` with level 1 (best) to 5")]
    BadSkill(String),
    /// An agent skill no queue of the voice menu asks for (a typo strands the agent).
    #[error("skill `{skill}` is asked for by no queue of the voice menu; known: {known}")]
    UnknownSkill {
        /// The skill.
        skill: String,
        /// The menu's skills.
        known: String,
    },
    /// A supervisor id used twice, or also an agent's.
    #[error("supervisor `{0}` is already defined as an agent or supervisor")]
    DuplicateSupervisor(String),
    /// `scope` neither `province` nor a region id.
    #[error("scope `{0}` must be `province` or a region id")]
    BadScope(String),
    /// A trunk setting that cannot be used (transport, pattern, caller id, credentials).
    #[error("trunk: {0}")]
    BadTrunk(String),
    /// A pattern that would let calls out reach international (`00`) numbers.
    #[error("pattern `{0}` admits international numbers (00...): calls out are domestic only")]
    InternationalPattern(String),
    /// An empty secret would let any phone register as the agent.
    #[error("agent `{0}` has an empty secret")]
    EmptySecret(String),
    /// A contact that is not a usable SIP URI.
    #[error("contact `{uri}` is not a sip:/sips: URI with a host: {reason}")]
    BadContact {
        /// The URI as written.
        uri: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A trunk address that is not an IP or IP:port.
    #[error("trunk address `{0}` must be an IP address or IP:port")]
    BadTrunkAddress(String),
    /// Two trunks with the same name or address.
    #[error("trunk `{name}` is already defined at line {first_line}")]
    DuplicateTrunk {
        /// The name or address.
        name: String,
        /// Where.
        first_line: usize,
    },
}

/// Converts byte spans of the dialplan text to 1-based line and column.
pub(crate) struct Locator<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(text: &'a str) -> Locator<'a> {
        let newlines = text.match_indices('\n').map(|(i, _)| i + 1);
        Locator {
            text,
            line_starts: std::iter::once(0).chain(newlines).collect(),
        }
    }

    /// Line and column (in characters) of the start of `span`.
    pub(crate) fn line_col(&self, span: &Range<usize>) -> (usize, usize) {
        let offset = span.start.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_become_one_based_lines_and_character_columns() {
        let text = "a = 1\nname = \"开封\"\nb = 2";
        let loc = Locator::new(text);
        assert_eq!(loc.line_col(&(0..1)), (1, 1));
        assert_eq!(loc.line_col(&(6..7)), (2, 1));
        let b = text.find("b =").unwrap();
        assert_eq!(loc.line_col(&(b..b + 1)), (3, 1));
        let quote = text.rfind('"').unwrap();
        assert_eq!(loc.line_col(&(quote..quote + 1)), (2, 11));
        assert_eq!(loc.line_col(&(999..1000)), (3, 6));
    }

    #[test]
    fn diagnostics_print_like_a_compiler() {
        let d = Diagnostic {
            file: "dialplans/henan.toml".into(),
            line: 12,
            col: 7,
            problem: Problem::UnknownRegion("kaifen".into()),
        };
        assert_eq!(
            d.to_string(),
            "dialplans/henan.toml:12:7: unknown region `kaifen`"
        );
    }
}
