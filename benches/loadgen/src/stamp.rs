//! Kernel receive timestamps on the SIP sockets (`SO_TIMESTAMPNS`): when a datagram reached
//! the socket, not when this loop got round to reading it. The generator shares the cores
//! with the system under test and reads late under load; with these a call's setup is
//! measured on the wire, and the phones' own delay in answering is told apart from the
//! system's. std has no receive with control messages, so this calls libc's `recvmsg`.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Datagrams that came without a stamp (stamped at their reading instead): reported, since
/// they bring back the generator's lateness the stamps are there to remove.
static UNSTAMPED: AtomicU64 = AtomicU64::new(0);

/// How many datagrams came without a kernel stamp so far.
pub fn unstamped() -> u64 {
    UNSTAMPED.load(Ordering::Relaxed)
}

/// Asks the kernel to stamp every datagram `socket` receives.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: a plain setsockopt on a valid fd with a c_int value of the given size.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// One datagram into `buf`: its length, its source, and when it reached the socket (the
/// kernel's stamp, or the moment it was read when there is none).
pub fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, Instant)> {
    // SAFETY: all-zero is a valid sockaddr_storage and msghdr.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut control = [0u64; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 8]>() as _;
    // SAFETY: every pointer in msg points into a live local of the size given beside it.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    let len = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
    let read_at = Instant::now();
    let from = socket_addr(&name).ok_or_else(|| io::Error::other("not an IP source"))?;
    let arrived = match stamp_of(&msg) {
        Some(stamp) => instant_of(stamp, read_at),
        None => {
            UNSTAMPED.fetch_add(1, Ordering::Relaxed);
            read_at
        }
    };
    Ok((len, from, arrived))
}

/// The `SCM_TIMESTAMPNS` control message's time, if the kernel gave one.
fn stamp_of(msg: &libc::msghdr) -> Option<SystemTime> {
    if msg.msg_flags & libc::MSG_CTRUNC != 0 {
        return None;
    }
    let wanted = size_of::<libc::timespec>() as libc::c_uint;
    // SAFETY: msg was filled by recvmsg; the CMSG macros walk within msg_controllen, and a
    // timestamp message whose length covers a timespec has one, read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            if c.cmsg_level == libc::SOL_SOCKET
                && c.cmsg_type == libc::SCM_TIMESTAMPNS
                && c.cmsg_len as usize >= libc::CMSG_LEN(wanted) as usize
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                let secs = u64::try_from(ts.tv_sec).ok()?;
                let nanos = u32::try_from(ts.tv_nsec).ok()?;
                return UNIX_EPOCH.checked_add(Duration::new(secs, nanos));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// The monotonic instant of a wall-clock `stamp` taken shortly before `read_at`.
fn instant_of(stamp: SystemTime, read_at: Instant) -> Instant {
    let age = SystemTime::now()
        .duration_since(stamp)
        .unwrap_or(Duration::ZERO);
    read_at.checked_sub(age).unwrap_or(read_at)
}

fn socket_addr(name: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let a: &libc::sockaddr_in = unsafe { &*(name as *const _ as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
            Some(SocketAddr::V4(SocketAddrV4::new(
                ip,
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let a: &libc::sockaddr_in6 =
                unsafe { &*(name as *const _ as *const libc::sockaddr_in6) };
            let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datagram_is_stamped_when_it_arrived_not_when_it_was_read() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_nonblocking(true).unwrap();
        enable(&rx).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        // The kernel turns stamping on in deferred work: a first datagram may go unstamped.
        tx.send_to(b"warm-up", rx.local_addr().unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut buf = [0u8; 64];
        let _ = recv(&rx, &mut buf).unwrap();
        let sent = Instant::now();
        tx.send_to(b"INVITE", rx.local_addr().unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let (n, from, arrived) = recv(&rx, &mut buf).unwrap();
        let read = Instant::now();
        assert_eq!(&buf[..n], b"INVITE");
        assert_eq!(from, tx.local_addr().unwrap());
        // Loose, as the stamp is wall-clock time brought onto the monotonic clock.
        assert!(arrived + Duration::from_secs(1) >= sent);
        // Read 60 ms after it arrived: the stamp is the arrival, well before the read.
        assert!(
            read.duration_since(arrived) >= Duration::from_millis(50),
            "{arrived:?} {read:?}"
        );
    }

    #[test]
    fn nothing_waiting_is_would_block() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_nonblocking(true).unwrap();
        enable(&rx).unwrap();
        let err = recv(&rx, &mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}
