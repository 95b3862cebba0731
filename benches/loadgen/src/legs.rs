//! Completed media calls: a caller's call counts only when its agent's leg also ended
//! normally with audio received. The two legs are matched by the caller's number (the
//! switch puts it in the From of the INVITE it sends the agent; a proxy passes it on), as
//! the legs' Call-IDs differ behind a B2BUA. A call whose audio went straight between the
//! two phones (the caller told to send to the agent's own socket) does not count: it passed
//! by the system's relay and recorder, and behind NAT it would have had no audio at all.

use std::collections::HashMap;
use std::net::SocketAddr;

/// How the agent's leg of one call ended, as the phones saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AgentLeg {
    /// Answered, acknowledged, and hung up by a BYE.
    pub completed: bool,
    /// RTP packets the phone received.
    pub rtp_received: u64,
    /// RTP packets the phone sent.
    pub rtp_sent: u64,
    /// The phone's own RTP address (what it answered in its SDP).
    pub local_media: Option<SocketAddr>,
    /// From the INVITE's arrival at the phone to its 200: the phone's part of the setup.
    pub answer_delay: Option<std::time::Duration>,
}

/// The agents' legs by caller key.
pub type AgentLegs = HashMap<String, AgentLeg>;

/// The key that matches a caller's number in any of the forms a switch may pass on
/// (`13903790001`, `+8613903790001`, `"…" <sip:037960000002@…>`): its last ten digits.
/// Load.sh's caller ids stay distinct under it for up to 10,000 calls.
pub fn caller_key(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(10)..].iter().collect()
}

/// The user part of a From value's URI (`"x" <sip:USER@host>;tag=1` gives `USER`).
pub fn from_user(from: &str) -> &str {
    let uri = crate::sip::uri_of(from);
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("tel:"))
        .unwrap_or(uri);
    rest.split_once('@').map_or(rest, |(user, _)| user)
}

/// The agent's leg of the caller `caller_id`, if the phones saw one.
pub fn leg_of<'l>(legs: &'l AgentLegs, caller_id: &str) -> Option<&'l AgentLeg> {
    legs.get(&caller_key(caller_id))
}

/// What the caller's side of one call saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallerLeg {
    /// Answered and hung up normally.
    pub completed: bool,
    /// RTP packets the caller received.
    pub rtp_received: u64,
    /// Where the answer told the caller to send its audio.
    pub media_to: Option<SocketAddr>,
}

/// Whether the caller's audio went straight to the agent's phone, past the system.
pub fn unrelayed(caller: &CallerLeg, agent: Option<&AgentLeg>) -> bool {
    agent.is_some_and(|a| a.local_media.is_some() && a.local_media == caller.media_to)
}

/// Whether a caller's call was a completed media call: completed on the caller's side
/// with audio received, its agent's leg completed with audio received, and the audio
/// relayed by the system under test.
pub fn completed_media(caller: &CallerLeg, agent: Option<&AgentLeg>) -> bool {
    caller.completed
        && caller.rtp_received > 0
        && agent.is_some_and(|a| a.completed && a.rtp_received > 0)
        && !unrelayed(caller, agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_luoyang_caller_is_matched_in_every_form_the_switch_may_send() {
        assert_eq!(caller_key("13903790001"), "3903790001");
        assert_eq!(caller_key("+8613903790001"), "3903790001");
        assert_eq!(caller_key("037960000002"), "7960000002");
        assert_eq!(
            from_user("\"13903790001\" <sip:13903790001@127.0.0.1:5060>;tag=x"),
            "13903790001"
        );
        assert_eq!(
            from_user("<sip:+8613903790001@127.0.0.1>;tag=lg1"),
            "+8613903790001"
        );
    }

    #[test]
    fn a_call_without_audio_on_the_agent_side_is_not_a_completed_media_call() {
        let mut legs = AgentLegs::new();
        legs.insert(
            caller_key("13903790003"),
            AgentLeg {
                completed: true,
                rtp_received: 0,
                rtp_sent: 500,
                local_media: Some(AGENT),
                answer_delay: None,
            },
        );
        let leg = leg_of(&legs, "13903790003");
        assert!(!completed_media(&heard(500), leg));
        legs.insert(
            caller_key("+8613903790004"),
            AgentLeg {
                completed: true,
                rtp_received: 498,
                rtp_sent: 500,
                local_media: Some(AGENT),
                answer_delay: None,
            },
        );
        assert!(completed_media(&heard(500), leg_of(&legs, "13903790004")));
        assert!(!completed_media(&heard(0), leg_of(&legs, "13903790004")));
        assert!(!completed_media(&heard(500), leg_of(&legs, "13903790005")));
    }

    const AGENT: SocketAddr =
        SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40002);

    /// A caller's completed call that heard `rtp` packets from the relay at port 30000.
    fn heard(rtp: u64) -> CallerLeg {
        CallerLeg {
            completed: true,
            rtp_received: rtp,
            media_to: Some(SocketAddr::from(([127, 0, 0, 1], 30000))),
        }
    }

    #[test]
    fn a_call_whose_audio_went_straight_between_the_phones_is_not_a_completed_media_call() {
        let mut legs = AgentLegs::new();
        legs.insert(
            caller_key("13903790006"),
            AgentLeg {
                completed: true,
                rtp_received: 500,
                rtp_sent: 500,
                local_media: Some(AGENT),
                answer_delay: None,
            },
        );
        let direct = CallerLeg {
            media_to: Some(AGENT),
            ..heard(500)
        };
        let leg = leg_of(&legs, "13903790006");
        assert!(unrelayed(&direct, leg));
        assert!(!completed_media(&direct, leg));
        assert!(!unrelayed(&heard(500), leg));
        assert!(completed_media(&heard(500), leg));
    }
}
