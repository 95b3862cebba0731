//! Newtype ids, so a region id can never be passed where an agent id is meant.

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// A region's id (lowercase pinyin, e.g. `kaifeng`); shared, so a [`crate::Route`] clones it
/// without allocating.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionId(Arc<str>);

impl RegionId {
    /// The id if it is lowercase ASCII letters only, as the dialplan requires.
    pub fn new(id: &str) -> Option<RegionId> {
        let valid = !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase());
        valid.then(|| RegionId(Arc::from(id)))
    }

    /// The id as written in the dialplan.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionId({})", self.0)
    }
}

impl Serialize for RegionId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// An agent's number (工号, announced to every caller); also the SIP user name of the phone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(Arc<str>);

impl AgentId {
    /// The id if it is ASCII digits only: it is read out to callers digit by digit.
    pub fn new(id: &str) -> Option<AgentId> {
        let valid = !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| AgentId(Arc::from(id)))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentId({})", self.0)
    }
}

impl Serialize for AgentId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_lowercase_pinyin() {
        assert!(RegionId::new("kaifeng").is_some());
        assert!(RegionId::new("Kaifeng").is_none());
        assert!(RegionId::new("kai-feng").is_none());
        assert!(RegionId::new("开封").is_none());
        assert!(RegionId::new("").is_none());
    }

    #[test]
    fn agent_ids_are_digits() {
        assert_eq!(AgentId::new("1002").unwrap().as_str(), "1002");
        assert!(AgentId::new("10a2").is_none());
        assert!(AgentId::new("").is_none());
    }
}
