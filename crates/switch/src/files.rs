//! The process's file limit, which bounds the calls it can carry: each call in progress
//! holds media sockets and a recording. At start the soft limit is raised to the hard one
//! (systemd's default soft limit of 1,024 would cap the switch near 250 calls), and the
//! ceiling on calls in progress is what remains after a reserve for everything else.

use tracing::{info, warn};

/// Descriptors one call holds: the caller's and the agent's media sockets (no RTCP socket
/// beside them) and the recording. Measured: 8,611 open at 2,848 calls in progress.
pub(crate) const FILES_PER_CALL: u64 = 3;
/// Descriptors kept for everything else: SIP and console sockets, the call store, logs,
/// prompts being read, TCP phones, the media ports bound ahead, and the recordings of
/// calls just ended that are still being closed while new calls take their place.
const RESERVED: u64 = 1_024;

/// Raises the soft file limit to the hard one and returns the calls in progress it allows.
pub(crate) fn calls_allowed() -> usize {
    let limit = raise_to_hard().unwrap_or_else(|e| {
        warn!(error = %e, "file limit unknown: assuming 1024");
        1_024
    });
    let calls = limit.saturating_sub(RESERVED) / FILES_PER_CALL;
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
