//! How late the media runtime runs: a probe task on it sleeps 20 ms at a time, as every
//! call's media task does between frames, and measures how much later than asked it woke.
//! The worst of the last half second is what the core's admission sees: when the relay
//! and the recorder are short of CPU, new calls are refused before the calls already up
//! lose audio.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The probe's sleep: one media frame.
const FRAME: Duration = Duration::from_millis(20);
/// The window the worst lateness is kept over.
const WINDOW: Duration = Duration::from_millis(500);

/// The media runtime's lateness, in microseconds, shared with the edge.
#[derive(Clone, Default)]
pub(crate) struct MediaLag(Arc<AtomicU64>);

impl MediaLag {
    /// Starts the probe on `runtime`.
    pub(crate) fn start(runtime: &tokio::runtime::Handle) -> MediaLag {
        let lag = MediaLag::default();
        let shared = Arc::clone(&lag.0);
        runtime.spawn(async move {
            let mut worst = Duration::ZERO;
            let mut window = tokio::time::Instant::now();
            loop {
                let asked = tokio::time::Instant::now();
                tokio::time::sleep(FRAME).await;
                let late = asked.elapsed().saturating_sub(FRAME);
                worst = worst.max(late);
                if window.elapsed() >= WINDOW {
                    let micros = u64::try_from(worst.as_micros()).unwrap_or(u64::MAX);
                    shared.store(micros, Ordering::Relaxed);
                    worst = Duration::ZERO;
                    window = tokio::time::Instant::now();
                }
            }
        });
        lag
    }

    /// The worst lateness of the last window.
    pub(crate) fn now(&self) -> Duration {
        Duration::from_micros(self.0.load(Ordering::Relaxed))
    }
}
