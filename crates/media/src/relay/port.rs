//! The UDP port of one call leg: one socket, no RTCP port beside it, so a call costs two
//! sockets and one recording file.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::net::UdpSocket;

/// How many OS-chosen ports to try for an even one before accepting an odd one.
const EVEN_TRIES: usize = 8;

/// A range of UDP ports for RTP, e.g. to match a firewall rule.
#[derive(Debug)]
pub struct PortRange {
    first: u16,
    slots: u32,
    next: AtomicU32,
}

/// Why a port range is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PortRangeError {
    /// The range holds no even port.
    #[error("port range {first}-{last} holds no even port")]
    Empty {
        /// First port given.
        first: u16,
        /// Last port given.
        last: u16,
    },
}

impl PortRange {
    /// The even ports from `first` to `last` inclusive (RTP's convention, RFC 3550 §11).
    pub fn new(first: u16, last: u16) -> Result<PortRange, PortRangeError> {
        let empty = PortRangeError::Empty { first, last };
        let even_first = first.max(2);
        let even_first = even_first.checked_add(even_first % 2).ok_or(empty)?;
        if even_first > last {
            return Err(empty);
        }
        let slots = u32::from((last - even_first) / 2) + 1;
        Ok(PortRange {
            first: even_first,
            slots,
            next: AtomicU32::new(0),
        })
    }

    /// Even ports in the range.
    pub fn len(&self) -> usize {
        self.slots as usize
    }

    /// Whether the range has no ports (never, once built).
    pub fn is_empty(&self) -> bool {
        self.slots == 0
    }

    /// The next port to try, cycling so a just-freed port is not reused at once.
    fn next_port(&self) -> u16 {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots;
        self.first + (slot as u16) * 2
    }
}

/// Every media port bound now, by address ([`MediaPort::is_own`]).
static HELD: std::sync::LazyLock<std::sync::Mutex<std::collections::HashSet<SocketAddr>>> =
    std::sync::LazyLock::new(Default::default);

/// One bound RTP socket.
#[derive(Debug)]
pub struct MediaPort {
    socket: UdpSocket,
    local: SocketAddr,
}

impl MediaPort {
    /// Binds an even OS-chosen port on `ip`. Must run inside a tokio runtime.
    pub fn bind(ip: IpAddr) -> io::Result<MediaPort> {
        let mut odd = Vec::new();
        for _ in 0..EVEN_TRIES {
            let socket = StdUdpSocket::bind(SocketAddr::new(ip, 0))?;
            if socket.local_addr()?.port() % 2 == 0 {
                return MediaPort::from_std(socket);
            }
            // Held until we return, so the OS does not hand the same odd port back.
            odd.push(socket);
        }
        tracing::debug!(%ip, "no even port offered; using an odd one");
        match odd.pop() {
            Some(socket) => MediaPort::from_std(socket),
            None => Err(io::Error::new(io::ErrorKind::AddrNotAvailable, "no port")),
        }
    }

    /// Binds the next free even port of `range` on `ip`. Must run inside a tokio runtime.
    pub fn bind_in(ip: IpAddr, range: &PortRange) -> io::Result<MediaPort> {
        for _ in 0..range.len() {
            match StdUdpSocket::bind(SocketAddr::new(ip, range.next_port())) {
                Ok(socket) => return MediaPort::from_std(socket),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "every port of the RTP range is in use",
        ))
    }

    fn from_std(socket: StdUdpSocket) -> io::Result<MediaPort> {
        socket.set_nonblocking(true)?;
        let local = socket.local_addr()?;
        let port = MediaPort {
            socket: UdpSocket::from_std(socket)?,
            local,
        };
        if let Ok(mut held) = HELD.lock() {
            held.insert(local);
        }
        Ok(port)
    }

    /// Whether `addr` is one of the switch's own media ports now: SDP pointing there would
    /// have the switch send a call's audio into another call (or itself).
    pub fn is_own(addr: SocketAddr) -> bool {
        // A poisoned lock cannot answer: refusing is the safe side.
        HELD.lock().map_or(true, |held| held.contains(&addr))
    }

    /// The address to put in SDP (`c=` and `m=` port).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn socket(&self) -> &UdpSocket {
        &self.socket
    }
}

impl Drop for MediaPort {
    fn drop(&mut self) {
        if let Ok(mut held) = HELD.lock() {
            held.remove(&self.local);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_switch_knows_its_own_media_ports_while_it_holds_them() {
        let port = MediaPort::bind("127.0.0.1".parse().unwrap()).unwrap();
        let addr = port.local_addr();
        assert!(MediaPort::is_own(addr));
        drop(port);
        assert!(!MediaPort::is_own(addr));
    }

    #[test]
    fn ranges_hold_even_ports_only() {
        let r = PortRange::new(10_001, 10_006).unwrap();
        assert_eq!(r.len(), 3);
        let ports: Vec<u16> = (0..4).map(|_| r.next_port()).collect();
        assert_eq!(ports, vec![10_002, 10_004, 10_006, 10_002]);
        assert!(PortRange::new(10_001, 10_001).is_err());
        assert!(PortRange::new(65_535, 65_535).is_err());
        assert_eq!(PortRange::new(0, 2).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn os_chosen_ports_are_even() {
        let ports: Vec<MediaPort> = (0..20)
            .map(|_| MediaPort::bind("127.0.0.1".parse().unwrap()).unwrap())
            .collect();
        let even = ports
            .iter()
            .filter(|p| p.local_addr().port() % 2 == 0)
            .count();
        // The OS picks parity at random: 8 tries leave an odd port once in 256 binds, and
        // chance alone would give 17 or more even of 20 about once in 800 runs.
        assert!(even >= 17, "only {even} even ports");
    }

    #[tokio::test]
    async fn range_skips_ports_in_use() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let r = PortRange::new(41_000, 41_003).unwrap();
        let a = MediaPort::bind_in(ip, &r).unwrap();
        let b = MediaPort::bind_in(ip, &r).unwrap();
        assert_ne!(a.local_addr(), b.local_addr());
        assert!(MediaPort::bind_in(ip, &r).is_err(), "range exhausted");
    }
}
