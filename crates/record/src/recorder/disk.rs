//! The free-space brake: when the recordings' disk runs low, new calls go unrecorded rather
//! than filling the disk the call records (and the OS) need. Checked every few seconds on
//! the writer thread, never per packet; each change is logged once.

use std::ffi::CString;
use std::io;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The free space `hotline serve` keeps unless told otherwise: 1 GiB.
pub const DEFAULT_MIN_FREE_DISK: u64 = 1 << 30;
/// How often the writer thread looks at the free space again.
const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Bytes an unprivileged process may still write on the filesystem holding `path`.
pub(crate) fn free_bytes(path: &Path) -> io::Result<u64> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"))?;
    let mut stat = MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c_path` is NUL-terminated and outlives the call; `stat` is writable and
    // sized for the struct statvfs fills.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), stat.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled the struct (and it was zeroed before).
    let stat = unsafe { stat.assume_init() };
    #[allow(clippy::useless_conversion)] // the field types differ between targets
    let (blocks, size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    Ok(blocks.saturating_mul(size))
}

/// What the recorder handles read: whether the disk was below its floor at the last look.
#[derive(Debug, Default)]
pub(crate) struct DiskState {
    low: AtomicBool,
    free: AtomicU64,
}

impl DiskState {
    /// Whether new recordings are held back, and the free bytes last seen.
    pub(crate) fn low(&self) -> Option<u64> {
        self.low
            .load(Ordering::Relaxed)
            .then(|| self.free.load(Ordering::Relaxed))
    }
}

/// A change worth one log line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Free space fell below the floor: new recordings stop.
    Low { free: u64 },
    /// Free space is back at or above the floor: new recordings start again.
    Recovered { free: u64 },
    /// The free space could not be read (the last state stays).
    Unreadable(String),
}

/// Watches the free space under the recordings root against a floor.
#[derive(Debug)]
pub(crate) struct DiskWatch {
    root: PathBuf,
    floor: u64,
    state: Arc<DiskState>,
    last_check: Instant,
    unreadable: bool,
}

impl DiskWatch {
    /// A watch of `root`'s disk, looked at once now (so the first call already knows).
    pub(crate) fn start(root: PathBuf, floor: u64, state: Arc<DiskState>) -> DiskWatch {
        let mut watch = DiskWatch {
            root,
            floor,
            state,
            last_check: Instant::now(),
            unreadable: false,
        };
        watch.check();
        watch
    }

    /// Looks again if [`CHECK_EVERY`] has passed since the last look.
    pub(crate) fn tick(&mut self) {
        if self.last_check.elapsed() >= CHECK_EVERY {
            self.check();
        }
    }

    fn check(&mut self) {
        self.last_check = Instant::now();
        let free = free_bytes(&self.root);
        let change = self.observe(free);
        let (root, floor) = (self.root.display(), self.floor);
        match change {
            Some(Change::Low { free }) => tracing::warn!(
                recordings = %root, free, floor,
                "disk below its free-space floor: new calls are not recorded (recording_failed) until space is freed"
            ),
            Some(Change::Recovered { free }) => tracing::info!(
                recordings = %root, free, floor,
                "disk back above its free-space floor: new calls are recorded again"
            ),
            Some(Change::Unreadable(error)) => tracing::warn!(
                recordings = %root, %error,
                "cannot read the disk's free space; recording goes on as before"
            ),
            None => {}
        }
    }

    /// Takes one reading; the change since the last one, if any.
    pub(crate) fn observe(&mut self, free: io::Result<u64>) -> Option<Change> {
        let free = match free {
            Ok(free) => free,
            // An unreadable disk decides nothing: creating the file will say what is wrong.
            Err(e) => {
                let first = !self.unreadable;
                self.unreadable = true;
                return first.then(|| Change::Unreadable(e.to_string()));
            }
        };
        self.unreadable = false;
        self.state.free.store(free, Ordering::Relaxed);
        let low = free < self.floor;
        let was_low = self.state.low.swap(low, Ordering::Relaxed);
        match (was_low, low) {
            (false, true) => Some(Change::Low { free }),
            (true, false) => Some(Change::Recovered { free }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch(floor: u64) -> DiskWatch {
        DiskWatch {
            root: PathBuf::from("/nowhere"),
            floor,
            state: Arc::new(DiskState::default()),
            last_check: Instant::now(),
            unreadable: false,
        }
    }

    #[test]
    fn a_disk_going_below_its_floor_and_back_is_said_once_each_way() {
        let mut w = watch(1_000);
        assert_eq!(w.observe(Ok(5_000)), None);
        assert_eq!(w.state.low(), None);
        assert_eq!(w.observe(Ok(999)), Some(Change::Low { free: 999 }));
        assert_eq!(w.observe(Ok(500)), None, "still low: nothing new to say");
        assert_eq!(w.state.low(), Some(500));
        assert_eq!(
            w.observe(Ok(1_000)),
            Some(Change::Recovered { free: 1_000 })
        );
        assert_eq!(w.observe(Ok(2_000)), None);
        assert_eq!(w.state.low(), None);
    }

    #[test]
    fn an_unreadable_disk_is_said_once_and_changes_nothing() {
        let mut w = watch(1_000);
        assert_eq!(w.observe(Ok(10)), Some(Change::Low { free: 10 }));
        let gone = || Err(io::Error::from(io::ErrorKind::NotFound));
        assert!(matches!(w.observe(gone()), Some(Change::Unreadable(_))));
        assert_eq!(w.observe(gone()), None);
        assert_eq!(w.state.low(), Some(10), "the last reading stands");
        assert_eq!(w.observe(Ok(10)), None);
    }

    #[test]
    fn a_floor_of_zero_never_holds_recordings_back() {
        let mut w = watch(0);
        assert_eq!(w.observe(Ok(0)), None);
        assert_eq!(w.state.low(), None);
    }

    #[test]
    fn the_free_space_of_a_real_directory_is_read() {
        let free = free_bytes(Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(free > 0);
        assert!(free_bytes(Path::new("/no/such/dir/for/hotline")).is_err());
    }
}
