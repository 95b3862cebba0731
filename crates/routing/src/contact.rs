//! Just enough SIP URI checking for static agent contacts (remote seats behind a city PBX):
//! a typo here would only show when the first call rings nowhere.

use std::net::Ipv6Addr;

/// `Ok` if `uri` is `sip:` with an IP address host (and optional user, port, parameters);
/// otherwise the reason. The switch resolves no names (a DNS stall must never hold a call)
/// and speaks UDP and TCP only.
pub(crate) fn check_sip_uri(uri: &str) -> Result<(), &'static str> {
    let lower = uri.to_ascii_lowercase();
    if lower.starts_with("sips:") || lower.contains("transport=tls") {
        return Err("TLS (sips:, transport=tls) is not supported; use sip: over UDP or TCP");
    }
    let rest = ["sip:"]
        .iter()
        .find_map(|scheme| {
            let head = uri.get(..scheme.len())?;
            head.eq_ignore_ascii_case(scheme)
                .then(|| uri.get(scheme.len()..))
                .flatten()
        })
        .ok_or("it must start with sip:")?;
    let end = rest.find([';', '?']).unwrap_or(rest.len());
    let before_params = rest.get(..end).unwrap_or(rest);
    let host_port = match before_params.rsplit_once('@') {
        Some(("", _)) => return Err("the user part before @ is empty"),
        Some((_, host_port)) => host_port,
        None => before_params,
    };
    let (host, port) = split_port(host_port)?;
    check_host(host)?;
    match port {
        Some(p) if p.parse::<u16>().map_or(true, |p| p == 0) => Err("the port is not 1-65535"),
        _ => Ok(()),
    }
}

/// Host and optional port; IPv6 hosts are bracketed (`[2001:db8::1]:5060`).
fn split_port(host_port: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(v6) = host_port.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("an IPv6 host lacks its ]")?;
        addr.parse::<Ipv6Addr>()
            .map_err(|_| "the IPv6 host is not an address")?;
        return match after {
            "" => Ok((host_port, None)),
            _ => after
                .strip_prefix(':')
                .map(|port| (host_port, Some(port)))
                .ok_or("unexpected text after the IPv6 host"),
        };
    }
    Ok(match host_port.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (host_port, None),
    })
}

fn check_host(host: &str) -> Result<(), &'static str> {
    if host.starts_with('[') {
        return Ok(()); // checked by split_port
    }
    if host.is_empty() {
        return Err("the host is empty");
    }
    if host.parse::<std::net::Ipv4Addr>().is_err() {
        return Err("the host must be an IP address: the switch does not use DNS");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usual_contacts_are_accepted() {
        for uri in [
            "sip:1002@192.0.2.7:5060",
            "sip:1002@192.0.2.7",
            "sip:1002@192.0.2.7;transport=tcp",
            "SIP:1002@[2001:db8::7]:5060",
        ] {
            assert_eq!(check_sip_uri(uri), Ok(()), "{uri}");
        }
    }

    #[test]
    fn broken_contacts_are_refused() {
        for uri in [
            "1002@192.0.2.7",
            "tel:+8637161234567",
            "sip:",
            "sip:1002@",
            "sip:@192.0.2.7",
            "sip:1002@192.0.2.7:0",
            "sip:1002@192.0.2.7:99999",
            "sip:1002@host name",
            "sip:1002@[2001:db8::7",
            "sip:1002@[nonsense]",
            "sip:1002@.example",
            "sip:1002@pbx.kaifeng.example",
            "sips:1002@192.0.2.7",
            "sip:1002@192.0.2.7;transport=tls",
        ] {
            assert!(check_sip_uri(uri).is_err(), "{uri}");
        }
    }
}
