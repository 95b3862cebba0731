//! Shared helpers for the end-to-end tests: the real `hotline` binary on free loopback
//! ports, SIPp peers, tone pcaps and WAV analysis. Every process started here is killed
//! when its guard drops, also when a test fails.

#![allow(dead_code)]

pub mod audio;
pub mod baresip;
pub mod browser;
pub mod caller;
pub mod desk;
pub mod phone;
pub mod plans;
pub mod rtp_phone;
pub mod sipp;
pub mod sprayer;
pub mod switch;
pub mod taxpayer;
pub mod transfer;

use std::net::UdpSocket;

/// A free port for a SIP peer (a static seat, a trunk, SIPp, baresip): a
/// [`quiet_port_block`], so nothing else of the test process can take it before the peer
/// binds it.
pub fn free_port() -> u16 {
    quiet_port_block()
}

/// A UDP port free on 127.0.0.1 with the next three free as well (SIPp binds media port+2),
/// below the range the OS hands out for port 0 (32768 and up on Linux): the switch's media
/// sockets and every other `bind(0)` can never take the block between the pick and the
/// peer's bind. Picks at random among even ports 20000-32000 so parallel tests rarely try
/// the same one.
pub fn quiet_port_block() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
        ^ (u64::from(std::process::id()) << 32)
        ^ SEQ.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let mut x = seed | 1;
    for _ in 0..500 {
        // xorshift64*
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let p = 20000 + ((r >> 33) % 6000) as u16 * 2;
        let socks: Vec<_> = (0..4)
            .map(|i| UdpSocket::bind(("127.0.0.1", p + i)))
            .collect();
        if socks.iter().all(|s| s.is_ok()) && hand_out(p) {
            return p;
        }
    }
    panic!("no quiet UDP port block on 127.0.0.1");
}

/// Records block `p` as handed out, unless it overlaps one handed out before in this test
/// process: a block picked now (a static seat's port, a trunk's) is often bound only seconds
/// later, and no other pick of the process may take it meanwhile.
fn hand_out(p: u16) -> bool {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    if given.iter().any(|&q| p.abs_diff(q) < 4) {
        return false;
    }
    given.push(p);
    true
}

/// A plain HTTP/1.1 GET on loopback (no console user needed for `/metrics`): the whole
/// answer, head and body.
pub fn http_get(base: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("console");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The value of the `/metrics` line that starts with `series` (name and labels), once it is
/// `want`, or a panic with the page after 5 s: the switch publishes its board at most a few
/// times a second.
pub fn metric_becomes(console: &str, series: &str, want: u64) {
    let end = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let page = http_get(console, "/metrics");
        let value = page
            .lines()
            .find_map(|l| l.strip_prefix(series))
            .and_then(|rest| rest.trim().parse::<u64>().ok());
        if value == Some(want) {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "{series} is {value:?}, not {want}:\n{page}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
