//! Paths to remove if the process is interrupted: the staging directory of an export
//! and the spooled copy of stdin or of a decompressed input. SIGINT and SIGTERM set a
//! flag in the signal handler itself (so an export about to be moved into place sees
//! it and stops), then a watcher thread removes the paths and exits 130. SIGXFSZ
//! (`ulimit -f`) is ignored so a write past the limit fails like any I/O error and the
//! export cleans up after itself.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

fn registry() -> &'static Mutex<Vec<PathBuf>> {
    static PATHS: OnceLock<Mutex<Vec<PathBuf>>> = OnceLock::new();
    PATHS.get_or_init(|| Mutex::new(Vec::new()))
}

fn paths() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    // A poisoned lock only means another thread panicked; the list is still usable.
    registry().lock().unwrap_or_else(|e| e.into_inner())
}

/// Remove `path` (a file or a directory) if the process is interrupted.
pub fn register(path: &Path) {
    paths().push(path.to_path_buf());
}

/// `path` is finished with (moved into place, or removed by its owner).
pub fn unregister(path: &Path) {
    paths().retain(|p| p != path);
}

fn flag() -> &'static Arc<AtomicBool> {
    static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Whether SIGINT or SIGTERM has arrived.
pub fn is_interrupted() -> bool {
    flag().load(Ordering::SeqCst)
}

/// Remove every registered path and exit with 130 (128 + SIGINT), as shells expect.
pub fn remove_all_and_exit() -> ! {
    for p in paths().iter() {
        if p.is_dir() {
            let _ = fs::remove_dir_all(p);
        } else {
            let _ = fs::remove_file(p);
        }
    }
    eprintln!("error: interrupted; nothing was written");
    std::process::exit(130);
}

/// Install the handlers, once per process.
pub fn install() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        ignore_file_size_signal();
        // Failing to install only loses the cleanup, never the export.
        for signal in [SIGINT, SIGTERM] {
            let _ = signal_hook::flag::register(signal, Arc::clone(flag()));
        }
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
            std::thread::spawn(move || {
                if signals.forever().next().is_some() {
                    remove_all_and_exit();
                }
            });
        }
    });
}

/// With `ulimit -f`, writing past the limit raises SIGXFSZ, whose default action kills
/// the process before the staging directory can be removed. Ignored, the write fails
/// with EFBIG ("File too large") and the export fails cleanly.
#[cfg(any(target_os = "linux", target_os = "macos"))]
fn ignore_file_size_signal() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGXFSZ: i32 = 25;
    const SIG_IGN: usize = 1;
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code and
    // touches no memory of ours; SIGXFSZ is 25 on Linux and macOS.
    unsafe {
        signal(SIGXFSZ, SIG_IGN);
    }
}

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
fn ignore_file_size_signal() {}
