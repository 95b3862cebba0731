//! The dialplan's people and peers: agents and supervisors (who they are, where they sit,
//! how their phones are reached) and the trunks of legacy cities, checked as the rest of
//! the plan is, every problem reported with its place.

use std::net::{IpAddr, SocketAddr};

use toml::Spanned;

use super::{is_digits, skill_level, Checker, Seen};
use crate::contact::check_sip_uri;
use crate::diagnostic::Problem;
use crate::dialplan::{Agent, AgentReach, Credentials, Scope, Supervisor, Trunk, TrunkAddress};
use crate::ids::{AgentId, RegionId};
use crate::pattern::DialPattern;
use crate::raw::{RawAgent, RawSupervisor, RawTrunk};

/// How an agent's or supervisor's phone is reached and known, as written.
pub(super) struct Seat {
    secret: Option<Spanned<String>>,
    contact: Option<Spanned<String>>,
    any_port: Option<Spanned<bool>>,
    trust_address: Option<Spanned<bool>>,
}

impl Checker<'_> {
    pub(super) fn agent(
        &mut self,
        raw: RawAgent,
        region_ids: &Seen<()>,
        seen: &mut Seen<()>,
    ) -> Option<Agent> {
        let id_text = raw.id.get_ref();
        let id = AgentId::new(id_text);
        if id.is_none() {
            self.report(&raw.id.span(), Problem::BadAgentId(id_text.clone()));
        }
        if let Some(&((), first_line)) = seen.get(id_text) {
            let problem = Problem::DuplicateAgent {
                id: id_text.clone(),
                first_line,
            };
            self.report(&raw.id.span(), problem);
        } else {
            let line = self.line(&raw.id.span());
            seen.insert(id_text.clone(), ((), line));
        }
        let region = self.known_region(&raw.region, region_ids);
        let seat = Seat {
            secret: raw.secret,
            contact: raw.contact,
            any_port: raw.any_port,
            trust_address: raw.trust_address,
        };
        let reach = self.reach(&raw.id, seat);
        let skills = raw
            .skills
            .iter()
            .filter_map(|s| match skill_level(s.get_ref()) {
                Some((name, level)) => {
                    self.skill_refs.push((s.span(), name.clone()));
                    Some((name, level))
                }
                None => {
                    self.report(&s.span(), Problem::BadSkill(s.get_ref().clone()));
                    None
                }
            })
            .collect();
        Some(Agent {
            id: id?,
            region: region?,
            name: raw.name,
            reach: reach?,
            skills,
        })
    }

    pub(super) fn supervisor(
        &mut self,
        raw: RawSupervisor,
        region_ids: &Seen<()>,
        seen: &mut Seen<()>,
    ) -> Option<Supervisor> {
        let id_text = raw.id.get_ref();
        let id = AgentId::new(id_text);
        if id.is_none() {
            self.report(&raw.id.span(), Problem::BadAgentId(id_text.clone()));
        }
        if seen.contains_key(id_text) {
            self.report(
                &raw.id.span(),
                Problem::DuplicateSupervisor(id_text.clone()),
            );
        } else {
            let line = self.line(&raw.id.span());
            seen.insert(id_text.clone(), ((), line));
        }
        let scope = match raw.scope.get_ref().as_str() {
            "province" => Some(Scope::Province),
            region if region_ids.contains_key(region) => RegionId::new(region).map(Scope::Region),
            other => {
                self.report(&raw.scope.span(), Problem::BadScope(other.to_string()));
                None
            }
        };
        let seat = Seat {
            secret: raw.secret,
            contact: raw.contact,
            any_port: raw.any_port,
            trust_address: raw.trust_address,
        };
        let reach = self.reach(&raw.id, seat);
        Some(Supervisor {
            id: id?,
            name: raw.name,
            reach: reach?,
            scope: scope?,
        })
    }

    pub(super) fn reach(&mut self, id: &Spanned<String>, seat: Seat) -> Option<AgentReach> {
        let name = id.get_ref().clone();
        for flag in [&seat.any_port, &seat.trust_address].into_iter().flatten() {
            if seat.contact.is_none() {
                self.report(&flag.span(), Problem::SeatFlagWithoutContact(name));
                return None;
            }
        }
        let any_port = seat.any_port.is_some_and(|f| *f.get_ref());
        let trust_address = seat.trust_address.is_some_and(|f| *f.get_ref());
        if let Some(secret) = seat.secret.as_ref().filter(|s| s.get_ref().is_empty()) {
            self.report(&secret.span(), Problem::EmptySecret(name));
            return None;
        }
        match (seat.secret, seat.contact) {
            (None, None) => {
                self.report(&id.span(), Problem::AgentUnreachable(name));
                None
            }
            (Some(secret), None) => Some(AgentReach::Registers {
                secret: secret.into_inner(),
            }),
            (secret, Some(contact)) => match check_sip_uri(contact.get_ref()) {
                Ok(()) => Some(AgentReach::Static {
                    contact: contact.into_inner(),
                    any_port,
                    secret: secret.map(Spanned::into_inner),
                    trust_address,
                }),
                Err(reason) => {
                    let uri = contact.get_ref().clone();
                    self.report(&contact.span(), Problem::BadContact { uri, reason });
                    None
                }
            },
        }
    }

    pub(super) fn trunk(
        &mut self,
        raw: RawTrunk,
        region_ids: &Seen<()>,
        seen: &mut Seen<()>,
    ) -> Option<Trunk> {
        self.unique_trunk_key(&raw.name, seen);
        let address = trunk_address(raw.address.get_ref());
        match address {
            Some(_) => self.unique_trunk_key(&raw.address, seen),
            None => {
                let problem = Problem::BadTrunkAddress(raw.address.get_ref().clone());
                self.report(&raw.address.span(), problem);
            }
        }
        let region = match raw.region {
            None => None,
            Some(region) => Some(self.known_region(&region, region_ids)?),
        };
        let tcp = match raw
            .transport
            .as_ref()
            .map(|t| (t.get_ref().as_str(), t.span()))
        {
            None | Some(("udp", _)) => false,
            Some(("tcp", _)) => true,
            Some((other, span)) => {
                let why = format!("transport `{other}` must be \"udp\" or \"tcp\"");
                self.report(&span, Problem::BadTrunk(why));
                false
            }
        };
        let mut allow = Vec::new();
        for p in &raw.allow {
            match DialPattern::parse(p.get_ref()) {
                Ok(pattern) if pattern.admits_prefix("00") => {
                    self.report(
                        &p.span(),
                        Problem::InternationalPattern(p.get_ref().clone()),
                    );
                }
                Ok(pattern) => allow.push(pattern),
                Err(why) => self.report(&p.span(), Problem::BadTrunk(why)),
            }
        }
        if let Some(id) = &raw.caller_id {
            if !is_digits(id.get_ref()) {
                let why = format!("caller_id `{}` must be digits only", id.get_ref());
                self.report(&id.span(), Problem::BadTrunk(why));
            }
        }
        let credentials = match (raw.username, raw.password) {
            (Some(username), Some(password)) => Some(Credentials { username, password }),
            (None, None) => None,
            _ => {
                let why = "username and password go together".to_string();
                self.report(&raw.name.span(), Problem::BadTrunk(why));
                None
            }
        };
        Some(Trunk {
            name: raw.name.into_inner(),
            address: address?,
            region,
            tcp,
            credentials,
            allow,
            caller_id: raw.caller_id.map(Spanned::into_inner),
        })
    }

    /// Trunk names and addresses share one namespace: either repeated is a mistake.
    pub(super) fn unique_trunk_key(&mut self, key: &Spanned<String>, seen: &mut Seen<()>) {
        if let Some(&((), first_line)) = seen.get(key.get_ref()) {
            let problem = Problem::DuplicateTrunk {
                name: key.get_ref().clone(),
                first_line,
            };
            self.report(&key.span(), problem);
        } else {
            let line = self.line(&key.span());
            seen.insert(key.get_ref().clone(), ((), line));
        }
    }
}

fn trunk_address(text: &str) -> Option<TrunkAddress> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(TrunkAddress { ip, port: None });
    }
    let socket = text.parse::<SocketAddr>().ok()?;
    Some(TrunkAddress {
        ip: socket.ip(),
        port: Some(socket.port()),
    })
}
