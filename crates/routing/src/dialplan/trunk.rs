//! Carrier trunks: how a trunk's requests are recognised, how the switch reaches it and
//! what calls out it may carry.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use crate::ids::RegionId;

/// A carrier trunk, recognised by the source address of its requests.
#[derive(Clone, Debug)]
pub struct Trunk {
    /// A name for logs.
    pub name: String,
    /// Where its requests come from.
    pub address: TrunkAddress,
    /// Region that local numbers (no area code) arriving on it belong to.
    pub region: Option<RegionId>,
    /// How to send it requests (UDP unless `transport = "tcp"`).
    pub tcp: bool,
    /// Digest credentials for the trunk's challenges to our INVITEs.
    pub credentials: Option<Credentials>,
    /// The numbers calls out may dial through it; empty: no calls out through this trunk.
    pub allow: Vec<crate::pattern::DialPattern>,
    /// The number presented as caller id on calls out (default: the first service number).
    pub caller_id: Option<String>,
}

/// A user name and password for a trunk's digest challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The digest user name.
    pub username: String,
    /// The digest password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    /// Never prints the password: dialplans end up in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Credentials {{ username: {:?}, password: <redacted> }}",
            self.username
        )
    }
}

impl Trunk {
    /// Where requests to the trunk go: its address, port 5060 unless pinned.
    pub fn target(&self) -> SocketAddr {
        SocketAddr::new(self.address.ip, self.address.port.unwrap_or(5060))
    }

    /// Whether a call out to `number` may leave through this trunk.
    pub fn allows(&self, number: &str) -> bool {
        self.allow.iter().any(|p| p.matches(number))
    }
}

/// A trunk's source: an IP, optionally with the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrunkAddress {
    /// Source IP.
    pub ip: IpAddr,
    /// Source port, if the trunk is pinned to one.
    pub port: Option<u16>,
}

impl TrunkAddress {
    /// Whether a request from `source` comes from this trunk.
    pub fn matches(&self, source: SocketAddr) -> bool {
        self.ip == source.ip() && self.port.is_none_or(|p| p == source.port())
    }
}
