//! Phone secrets a scanner would guess: the bundled `demo-` ones and short ones. `svcrack`
//! tries short passwords first, and the demo secrets are printed in the README, so a switch
//! reachable beyond its own machine must not run with them.

use std::fmt;

use crate::dialplan::{AgentReach, Dialplan};
use crate::ids::AgentId;

/// Secrets shorter than this (in characters) are weak.
pub const MIN_SECRET_CHARS: usize = 12;
/// The prefix of the bundled dialplan's demo secrets (`demo-1003`).
pub const DEMO_SECRET_PREFIX: &str = "demo-";

/// Why a secret is weak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakness {
    /// A bundled demo secret, published in the README.
    Demo,
    /// Shorter than [`MIN_SECRET_CHARS`].
    Short,
}

/// Whether a phone belongs to an agent or to a supervisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// An agent (`[[agent]]`).
    Agent,
    /// A supervisor (`[[supervisor]]`).
    Supervisor,
}

/// A phone that registers with a weak secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeakSecret {
    /// The agent's or supervisor's number.
    pub user: AgentId,
    /// Agent or supervisor.
    pub role: Role,
    /// Why the secret is weak.
    pub weakness: Weakness,
}

/// Why `secret` is weak, if it is: a demo secret, or under [`MIN_SECRET_CHARS`] characters.
pub fn weakness(secret: &str) -> Option<Weakness> {
    let lead = secret.get(..DEMO_SECRET_PREFIX.len()).unwrap_or_default();
    if lead.eq_ignore_ascii_case(DEMO_SECRET_PREFIX) {
        Some(Weakness::Demo)
    } else if secret.chars().count() < MIN_SECRET_CHARS {
        Some(Weakness::Short)
    } else {
        None
    }
}

impl Dialplan {
    /// The agents and supervisors whose phones sign in with a weak secret, in file order
    /// (agents first): registering phones, and static seats with a secret for monitoring
    /// and calls out; a static seat without one is never listed.
    pub fn weak_secrets(&self) -> Vec<WeakSecret> {
        let agents = self.agents.iter().map(|a| (&a.id, &a.reach, Role::Agent));
        let supervisors = self
            .supervisors
            .iter()
            .map(|s| (&s.id, &s.reach, Role::Supervisor));
        agents
            .chain(supervisors)
            .filter_map(|(id, reach, role)| match reach {
                AgentReach::Registers { secret }
                | AgentReach::Static {
                    secret: Some(secret),
                    ..
                } => weakness(secret).map(|weakness| WeakSecret {
                    user: id.clone(),
                    role,
                    weakness,
                }),
                AgentReach::Static { secret: None, .. } => None,
            })
            .collect()
    }
}

/// Names the users of `weak` for a message: `agents 1001, 1002 and supervisors 1950`.
pub struct WeakUsers<'a>(pub &'a [WeakSecret]);

impl fmt::Display for WeakUsers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = |role: Role| -> Vec<&str> {
            self.0
                .iter()
                .filter(|w| w.role == role)
                .map(|w| w.user.as_str())
                .collect()
        };
        let groups = [
            ("agent", ids(Role::Agent)),
            ("supervisor", ids(Role::Supervisor)),
        ];
        let mut first = true;
        for (word, ids) in groups.iter().filter(|(_, ids)| !ids.is_empty()) {
            if !first {
                f.write_str(" and ")?;
            }
            first = false;
            let plural = if ids.len() == 1 { "" } else { "s" };
            write!(f, "{word}{plural} {}", ids.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn plan(agents: &str) -> Dialplan {
        let text = format!(
            r#"
            [switch]
            service_numbers = ["12366"]
            province = "河南"
            centre = "centre"
            default_area_code = "0371"

            [[region]]
            id = "centre"
            name = "省局联络中心"
            {agents}
            "#
        );
        Dialplan::parse(&text, Path::new("t.toml")).unwrap()
    }

    #[test]
    fn demo_and_short_secrets_are_weak_and_long_ones_are_not() {
        assert_eq!(weakness("demo-1003"), Some(Weakness::Demo));
        assert_eq!(weakness("demo-a-very-long-one"), Some(Weakness::Demo));
        assert_eq!(weakness("Demo-A-Very-Long-One"), Some(Weakness::Demo));
        assert_eq!(
            weakness("数字数字数字数字数字数字"),
            None,
            "twelve characters"
        );
        assert_eq!(weakness("pw-1003"), Some(Weakness::Short));
        // Characters count, not bytes: eleven CJK characters are 33 bytes, still too short.
        assert_eq!(weakness("一二三四五六七八九十甲乙"), None);
        assert_eq!(weakness("一二三四五六七八九十甲"), Some(Weakness::Short));
        assert_eq!(weakness("Xq7!rT2#mN9p"), None);
    }

    #[test]
    fn agents_and_supervisors_with_weak_secrets_are_named_static_seats_by_their_secret() {
        let plan = plan(
            r#"
            [[agent]]
            id = "1001"
            region = "centre"
            secret = "demo-1001"

            [[agent]]
            id = "1002"
            region = "centre"
            secret = "a long enough secret"

            [[agent]]
            id = "1003"
            region = "centre"
            contact = "sip:1003@192.0.2.7:5060"

            [[agent]]
            id = "1004"
            region = "centre"
            secret = "short"

            [[agent]]
            id = "1005"
            region = "centre"
            contact = "sip:1005@192.0.2.7:5062"
            secret = "demo-1005"

            [[supervisor]]
            id = "1950"
            secret = "demo-1950"
            scope = "province"
            "#,
        );
        let weak = plan.weak_secrets();
        let named: Vec<(&str, Role, Weakness)> = weak
            .iter()
            .map(|w| (w.user.as_str(), w.role, w.weakness))
            .collect();
        assert_eq!(
            named,
            [
                ("1001", Role::Agent, Weakness::Demo),
                ("1004", Role::Agent, Weakness::Short),
                ("1005", Role::Agent, Weakness::Demo),
                ("1950", Role::Supervisor, Weakness::Demo),
            ]
        );
        assert_eq!(
            WeakUsers(&weak).to_string(),
            "agents 1001, 1004, 1005 and supervisor 1950"
        );
    }

    #[test]
    fn the_bundled_henan_plan_has_demo_secrets() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../dialplans/henan.toml"
        ));
        let plan = Dialplan::load(path).unwrap();
        let weak = plan.weak_secrets();
        assert!(weak.iter().any(|w| w.user.as_str() == "1003"));
        assert!(weak.iter().all(|w| w.weakness == Weakness::Demo));
    }
}
