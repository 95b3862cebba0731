//! The dialplans of the end-to-end tests, as TOML text: Henan's Luoyang and Zhengzhou with
//! the centre, agents at fixed SIPp contacts, and the variations tests make of them.

/// A test dialplan: Henan's Luoyang and Zhengzhou plus the centre, with agents whose
/// phones are SIPp instances at fixed contacts. `agents` = (id, region, port).
pub fn dialplan(agents: &[(&str, &str, u16)], ring_timeout: u64, overflow_after: u64) -> String {
    let mut s = format!(
        r#"[switch]
service_numbers = ["12366"]
province = "河南"
centre = "centre"
default_area_code = "0371"

[[region]]
id = "zhengzhou"
name = "郑州"
cities = ["郑州"]
area_codes = ["0371"]
ring_timeout_secs = {ring_timeout}
overflow_after_secs = {overflow_after}
wrap_up_secs = 0

[[region]]
id = "luoyang"
name = "洛阳"
cities = ["洛阳"]
area_codes = ["0379"]
ring_timeout_secs = {ring_timeout}
overflow_after_secs = {overflow_after}
wrap_up_secs = 0

[[region]]
id = "centre"
name = "省局联络中心"
ring_timeout_secs = {ring_timeout}
wrap_up_secs = 0
"#
    );
    // Static seats are trusted by their address for monitoring and calls out too
    // (`trust_address`): the tests of the digest a static seat otherwise needs for them are
    // in `tests/exposed.rs`.
    for (id, region, port) in agents {
        if *port == 0 {
            s.push_str(&format!(
                "\n[[agent]]\nid = \"{id}\"\nregion = \"{region}\"\nsecret = \"pw-{id}\"\n"
            ));
        } else {
            s.push_str(&format!(
                "\n[[agent]]\nid = \"{id}\"\nregion = \"{region}\"\ncontact = \"sip:{id}@127.0.0.1:{port}\"\ntrust_address = true\n"
            ));
        }
    }
    s
}

/// Sets the `wrap_up_secs` of region `region` (the test dialplan has 0 everywhere).
pub fn wrap_up(plan: &str, region: &str, secs: u64) -> String {
    let at = plan.find(&format!("id = \"{region}\"\n")).expect("region");
    let (head, tail) = plan.split_at(at);
    format!(
        "{head}{}",
        tail.replacen("wrap_up_secs = 0", &format!("wrap_up_secs = {secs}"), 1)
    )
}

/// `plan` with `agent`'s static seat trusted from any port of its address (`any_port`), for
/// tests whose SIPp answers calls on the seat's port while another SIPp dials as the agent.
pub fn any_port(plan: &str, agent: &str) -> String {
    let contact = format!("contact = \"sip:{agent}@127.0.0.1:");
    let at = plan.find(&contact).expect("a static seat");
    let end = at + plan[at..].find('\n').expect("a line");
    format!("{}\nany_port = true{}", &plan[..end], &plan[end..])
}

/// A voice menu for tests, on the repo's prompts: short prompts so calls are quick.
/// Keys: 1 filing, 4 complaints (centre), 0 any agent; closed: 1 voicemail, 2 callback.
pub fn test_menu() -> String {
    let prompts = concat!(env!("CARGO_MANIFEST_DIR"), "/../../prompts");
    format!(
        r#"
[ivr]
start = "welcome"
closed = "closed"
prompts = "{prompts}"
position_every_secs = 0

[[ivr.node]]
id = "welcome"
play = ["goodbye"]
next = "main"

[[ivr.node]]
id = "main"
play = ["invalid"]
keys = {{ "1" = "filing", "4" = "complaints", "0" = "agent" }}
timeout_secs = 10
retries = 3
fallback = "agent"

[[ivr.node]]
id = "filing"
queue = "filing"

[[ivr.node]]
id = "complaints"
queue = "complaints"
region = "centre"

[[ivr.node]]
id = "agent"
queue = ""

[[ivr.node]]
id = "closed"
play = ["closed-menu"]
keys = {{ "1" = "voicemail", "2" = "callback" }}
timeout_secs = 10
retries = 1
fallback = "bye"

[[ivr.node]]
id = "voicemail"
play = ["digit-1"]
voicemail_secs = 30
next = "bye"

[[ivr.node]]
id = "callback"
play = ["digit-2"]
callback = true
next = "bye"

[[ivr.node]]
id = "bye"
play = ["digit-0"]
hangup = true
"#
    )
}
