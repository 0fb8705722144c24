//! Progress of a run on stderr: a bar on a terminal, a log line every few seconds otherwise
//! (every `BT_PROGRESS_INTERVAL` seconds, default 5: cluster logs may want fewer).

use std::{
    io::{IsTerminal, Write},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bt::executor::Progress;

/// Progress on stderr (nothing when `enabled` is false).
pub(crate) struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
    total: AtomicU64,
    done: AtomicU64,
    failed: AtomicU64,
    started: Instant,
    last_line: Mutex<Instant>,
    interval: Duration,
}

/// The seconds between progress lines when stderr is not a terminal.
const DEFAULT_INTERVAL_S: f64 = 5.0;

/// `BT_PROGRESS_INTERVAL` (seconds, >= 0), or the default when unset or not a number.
fn interval() -> Duration {
    std::env::var("BT_PROGRESS_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs_f64(DEFAULT_INTERVAL_S), Duration::from_secs_f64)
}

impl StderrProgress {
    pub(crate) fn new(enabled: bool) -> StderrProgress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} sims  {per_sec}  ETA {eta}  {msg}",
                )
                .expect("a valid template"),
            );
            bar
        });
        StderrProgress {
            bar,
            enabled,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            interval: interval(),
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn start(&self, to_run: u64, already_done: u64) {
        self.total.store(to_run, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.set_length(to_run);
        }
        if already_done > 0 {
            tracing::warn!("resuming: {already_done} simulations already done");
        }
    }

    fn finished(&self, ok: bool) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if !ok {
            let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            if let Some(bar) = &self.bar {
                bar.set_message(format!("{failed} failed"));
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            return;
        }
        if !self.enabled {
            return;
        }
        let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= self.interval {
            *last = Instant::now();
            let total = self.total.load(Ordering::Relaxed).max(done);
            let secs = self.started.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-9);
            let eta = (total - done) as f64 / rate.max(1e-9);
            // Never panic on a closed stderr (`bt run ... 2>&1 | head`): progress is best effort.
            let _ = writeln!(
                std::io::stderr(),
                "progress: {done}/{total} simulations ({:.0}%), {rate:.1} sims/s, ETA {eta:.0}s, {} failed",
                100.0 * done as f64 / total.max(1) as f64,
                self.failed.load(Ordering::Relaxed)
            );
        }
    }
}
