//! Per-thread scheduling priority. The switch's threads do work of different urgency on a
//! machine its media can saturate: signalling (a new call's setup, a BYE) must not wait
//! behind media, and the recorder must not fall seconds behind the calls it records (its
//! backlog is memory). Each of those threads asks for a lower nice value than the media
//! workers, which take what is left. Linux keeps a nice value per thread (and a thread
//! started by a favoured one inherits its value); no crate wraps `setpriority` for one
//! thread, so this calls libc. It lives here because the recorder's thread starts here; the
//! switch uses it for its signalling threads.

use tracing::{info, warn};

/// Gives the calling thread (only this thread) the nice value `nice`, and logs what the OS
/// granted, naming the thread's `role`. Lowering a nice value below 0 needs
/// `CAP_SYS_NICE` or systemd's `LimitNICE=`; without either the thread keeps its own.
pub fn favour_this_thread(role: &str, nice: i32) {
    match set_this_thread_nice(nice) {
        Ok(()) => info!(role, nice, "thread favoured"),
        Err(error) => warn!(
            role,
            %error,
            nice,
            "thread not favoured (needs CAP_SYS_NICE or LimitNICE): under load it waits \
             behind the media work"
        ),
    }
}

/// Sets the calling thread's nice value.
pub fn set_this_thread_nice(nice: i32) -> std::io::Result<()> {
    let who = this_thread()?;
    // SAFETY: setpriority reads its three integer arguments only; on Linux PRIO_PROCESS
    // with a thread id changes that thread alone.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, who, nice) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The calling thread's nice value.
pub fn this_thread_nice() -> std::io::Result<i32> {
    let who = this_thread()?;
    // getpriority may return -1 as a value: errno tells an error apart.
    // SAFETY: __errno_location returns a valid pointer to this thread's errno.
    unsafe { *libc::__errno_location() = 0 };
    // SAFETY: getpriority reads its two integer arguments only.
    let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, who) };
    let error = std::io::Error::last_os_error();
    match error.raw_os_error() {
        Some(0) | None => Ok(nice),
        Some(_) => Err(error),
    }
}

fn this_thread() -> std::io::Result<libc::id_t> {
    // SAFETY: gettid has no preconditions and returns the calling thread's id.
    let tid = unsafe { libc::gettid() };
    libc::id_t::try_from(tid).map_err(|_| std::io::Error::other("negative thread id"))
}

#[cfg(test)]
mod tests {
    use super::{favour_this_thread, set_this_thread_nice, this_thread_nice};

    #[test]
    fn only_the_favoured_thread_changes_priority() {
        let before = this_thread_nice().unwrap();
        let (granted, nice) = std::thread::spawn(|| {
            let granted = set_this_thread_nice(-3).is_ok();
            favour_this_thread("test", -3);
            (granted, this_thread_nice().unwrap())
        })
        .join()
        .unwrap();
        if granted {
            assert_eq!(nice, -3);
        } else {
            // Without CAP_SYS_NICE the OS refuses, and the thread keeps its value.
            assert_eq!(nice, before);
        }
        assert_eq!(this_thread_nice().unwrap(), before, "the rest is untouched");
    }

    #[test]
    fn a_thread_may_always_step_back() {
        let (asked, nice) = std::thread::spawn(|| {
            let asked = (this_thread_nice().unwrap() + 1).min(19);
            set_this_thread_nice(asked).unwrap();
            (asked, this_thread_nice().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(nice, asked);
    }
}
