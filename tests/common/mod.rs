//! Shared helpers for the end-to-end tests: the real `hotline` binary on free loopback
//! ports, SIPp peers, tone pcaps and WAV analysis. Every process started here is killed
//! when its guard drops, also when a test fails.

#![allow(dead_code)]

pub mod audio;
pub mod baresip;
pub mod desk;
pub mod phone;
pub mod rtp_phone;
pub mod sipp;
pub mod switch;

use std::net::UdpSocket;

/// A UDP port free on 127.0.0.1 with the next three free as well (SIPp binds media port+2).
pub fn free_port_block() -> u16 {
    for _ in 0..200 {
        let Ok(s) = UdpSocket::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = s.local_addr() else { continue };
        let p = addr.port();
        if p % 2 != 0 || p > 65000 {
            continue;
        }
        let others: Vec<_> = (1..4)
            .map(|i| UdpSocket::bind(("127.0.0.1", p + i)))
            .collect();
        if others.iter().all(|o| o.is_ok()) {
            return p;
        }
    }
    panic!("no free UDP port block on 127.0.0.1");
}

/// A free TCP+UDP port for a SIP peer.
pub fn free_port() -> u16 {
    free_port_block()
}
