//! The signalling threads (the SIP socket's reader and the call machine) ask the OS to be
//! favoured over the media workers and the recorder. Under load the media tasks keep both
//! cores busy, and a signalling thread that waits its turn behind them delays every new
//! call's setup: measured at 5,000 calls on a 2-core machine (BENCHMARKS.md, set H), the
//! switch's own part of a call's setup fell from 54–55 / 299 ms (p50 / p99) to
//! 10 / 107–125 ms. A nice value is enough, where Asterisk (`-p`), FreeSWITCH (`-rp`) and
//! Kamailio (`rt_prio`) offer real-time scheduling: these threads need a fraction of a
//! core, and a nice value cannot starve the rest of the machine even if one of them spins.

/// The signalling threads' nice value: the most favoured of the switch's threads (the
/// recorder has -5, the media workers the default 0).
pub(crate) const SIGNALLING_NICE: i32 = -10;

/// Favours the calling thread, one of the signalling threads (`role` names it in the log).
pub(crate) fn favour_signalling_thread(role: &str) {
    hotline_record::thread_nice::favour_this_thread(role, SIGNALLING_NICE);
}
