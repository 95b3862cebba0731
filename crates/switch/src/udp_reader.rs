//! The SIP UDP socket's reader: a thread of its own, favoured by the OS (see `priority`), so
//! a burst of calls is read off the kernel's buffer however busy the media tasks keep the
//! runtime's workers. Each datagram is stamped with its arrival (the core measures its lag
//! from there) and sorted into the dialog lane (responses, in-dialog requests: never
//! dropped here, the reader waits for room) or the new-work lane (dropped, counted, when
//! full: the caller retransmits, and the core sheds new calls long before the lane fills).

use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hotline_sip::stats::{Direction, SipCounters};
use hotline_sip::transaction::{Peer, Transport};
use hotline_sip::triage::{lane_of, Lane};
use tracing::{debug, info, warn};

use crate::transport::{Inbound, Lanes};

const MAX_DATAGRAM: usize = 65_535;
/// The receive buffer asked for: about ten thousand INVITEs' worth of burst. The kernel caps
/// it at `net.core.rmem_max`; what it gave is logged.
const WANTED_RECEIVE_BUFFER: usize = 16 << 20;
/// How often a reader with nothing to read checks whether the switch has stopped.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// Sizes the socket's receive buffer for bursts; logs what the kernel allowed.
pub(crate) fn size_receive_buffer(socket: &UdpSocket) {
    let sock = socket2::SockRef::from(socket);
    if let Err(e) = sock.set_recv_buffer_size(WANTED_RECEIVE_BUFFER) {
        warn!(error = %e, "SIP socket: receive buffer not enlarged");
    }
    match sock.recv_buffer_size() {
        // Linux reports twice what it accounts for the payload (bookkeeping included).
        Ok(got) if got < WANTED_RECEIVE_BUFFER => info!(
            bytes = got,
            wanted = WANTED_RECEIVE_BUFFER,
            "SIP socket receive buffer capped by the kernel; raise net.core.rmem_max for more"
        ),
        Ok(got) => info!(bytes = got, "SIP socket receive buffer"),
        Err(e) => debug!(error = %e, "SIP socket receive buffer size unknown"),
    }
}

/// Starts the reader thread on its own handle of the socket.
pub(crate) fn start(
    socket: UdpSocket,
    lanes: Lanes,
    counters: Arc<SipCounters>,
) -> std::io::Result<()> {
    socket.set_read_timeout(Some(IDLE_CHECK))?;
    std::thread::Builder::new()
        .name("hotline-sip-udp".into())
        .spawn(move || {
            crate::priority::favour_signalling_thread("SIP reader");
            read_loop(&socket, &lanes, &counters)
        })?;
    Ok(())
}

fn read_loop(socket: &UdpSocket, lanes: &Lanes, counters: &SipCounters) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut dropped_lines = crate::transport::DropLog::default();
    loop {
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if lanes.dialog.is_closed() {
                    return;
                }
                continue;
            }
            Err(e) => {
                // ICMP port-unreachable surfaces here on some systems: not fatal.
                debug!(error = %e, "udp recv error");
                continue;
            }
        };
        let received = Instant::now();
        let Some(data) = buf.get(..n) else { continue };
        if data.iter().all(|b| matches!(b, b'\r' | b'\n' | 0)) {
            continue; // keep-alive
        }
        counters.count(Direction::In, data);
        let lane = lane_of(data);
        let msg = Inbound {
            data: data.to_vec(),
            from: Peer {
                addr: from,
                transport: Transport::Udp,
            },
            received,
        };
        let delivered = match lane {
            // Never dropped here: the reader waits, and the kernel's buffer takes the rest.
            Lane::Dialog => lanes.dialog.blocking_send(msg).is_ok(),
            Lane::New => match lanes.new.try_send(msg) {
                Ok(()) => true,
                Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                    counters.count_dropped_new();
                    dropped_lines.dropped(received, from);
                    true
                }
                Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => false,
            },
        };
        if !delivered {
            return;
        }
    }
}
