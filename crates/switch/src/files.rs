//! The process's file limit, which bounds the calls it can carry: each call in progress
//! holds media sockets and a recording. At start the soft limit is raised to the hard one
//! (systemd's default soft limit of 1,024 would cap the switch near 170 calls), and the
//! ceiling on calls in progress is what remains after a reserve for everything else.

use tracing::{info, warn};

/// Descriptors a call typically holds: the caller's and the agent's media sockets (no RTCP
/// socket beside them) and the recording. Measured: 8,611 open at 2,848 calls in progress.
/// Ring-all rings each agent on a port of its own, so it can briefly hold more.
pub(crate) const FILES_PER_CALL: u64 = 3;
/// Descriptors kept for everything else: SIP and console sockets, the call store, logs,
/// prompts being read, the media ports bound ahead, and the recordings of calls just ended
/// that are still being closed while new calls take their place (at most a quarter of a
/// small limit).
const RESERVED: u64 = 1_024;

/// Calls in progress that `limit` descriptors carry, after [`RESERVED`] and room for the
/// phones' TCP connections, which the transport accepts up to its own cap (both at most a
/// quarter of the limit each, so that a small limit still carries calls).
fn calls_for(limit: u64) -> u64 {
    let tcp = crate::transport::MAX_TCP_CONNECTIONS as u64;
    let reserved = RESERVED.min(limit / 4) + tcp.min(limit / 4);
    limit.saturating_sub(reserved) / FILES_PER_CALL
}

/// Raises the soft file limit to the hard one and returns the calls in progress it allows.
pub(crate) fn calls_allowed() -> usize {
    let limit = raise_to_hard().unwrap_or_else(|e| {
        warn!(error = %e, "file limit unknown: assuming 1024");
        1_024
    });
    let calls = calls_for(limit);
    info!(files = limit, calls, "file limit");
    usize::try_from(calls).unwrap_or(usize::MAX)
}

/// The soft `RLIMIT_NOFILE`, raised to the hard limit if it was lower.
fn raise_to_hard() -> std::io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the limit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(raised.rlim_cur);
        }
        warn!(
            error = %std::io::Error::last_os_error(),
            soft = lim.rlim_cur,
            hard = lim.rlim_max,
            "file limit not raised"
        );
    }
    Ok(lim.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::calls_for;

    #[test]
    fn the_ceiling_leaves_room_for_tcp_phones_and_small_limits_still_carry_calls() {
        // 20,000 (this machine): 1,024 kept, 4,096 for TCP phones, 3 a call.
        assert_eq!(calls_for(20_000), 4_960);
        // A shell's usual hard limit and systemd's default soft one.
        assert_eq!(calls_for(4_096), 682);
        assert_eq!(calls_for(1_024), 170);
        assert_eq!(calls_for(0), 0);
    }
}
