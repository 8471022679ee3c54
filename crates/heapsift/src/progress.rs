//! A progress bar on stderr for long reads, shown only on a terminal.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Inputs smaller than this finish too fast for a bar to help.
const MIN_BYTES: u64 = 100 << 20;

/// A bar following a counter (bytes consumed, dumps read) until dropped.
pub struct Progress {
    done: Arc<AtomicBool>,
    ticker: Option<JoinHandle<()>>,
}

impl Progress {
    /// A bar for reading an input of `total` stored bytes, if stderr is a
    /// terminal and the input is big enough to wait for.
    pub fn bytes(label: &str, total: Option<u64>, consumed: Arc<AtomicU64>) -> Self {
        Self::start(
            label,
            total.filter(|&total| total >= MIN_BYTES),
            consumed,
            "{msg} {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
    }

    /// A bar for reading a series of `total` dumps, counting those read,
    /// if stderr is a terminal.
    pub fn dumps(total: u64, read: Arc<AtomicU64>) -> Self {
        Self::start(
            "reading",
            Some(total),
            read,
            "{msg} {wide_bar} {pos}/{len} dumps ({eta})",
        )
    }

    fn start(label: &str, total: Option<u64>, counter: Arc<AtomicU64>, template: &str) -> Self {
        let done = Arc::new(AtomicBool::new(false));
        let ticker = match total {
            Some(total) if std::io::stderr().is_terminal() => {
                let bar = ProgressBar::new(total).with_message(label.to_owned());
                bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
                let done = Arc::clone(&done);
                Some(thread::spawn(move || {
                    while !done.load(Ordering::Relaxed) {
                        bar.set_position(counter.load(Ordering::Relaxed));
                        thread::sleep(Duration::from_millis(100));
                    }
                    bar.finish_and_clear();
                }))
            }
            _ => None,
        };
        Progress { done, ticker }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}
