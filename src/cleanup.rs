//! Paths to remove if the process is interrupted: the staging directory of an export,
//! the output's lock file, and the parent directories rlx created for them. SIGINT and SIGTERM set a
//! flag in the signal handler itself (so an export about to be moved into place sees
//! it and stops), then a watcher thread removes the paths and exits 130. SIGXFSZ
//! (`ulimit -f`) is ignored so a write past the limit fails like any I/O error and the
//! export cleans up after itself.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use signal_hook::consts::{SIGINT, SIGTERM};

/// The paths to remove on interrupt, and the export already moved into place (if any),
/// so the interrupt message says what is there.
#[derive(Default)]
pub struct Registry {
    /// Each path, and whether it goes only if empty (a directory rlx created to hold an
    /// export, which another export may share).
    paths: Vec<(PathBuf, bool)>,
    landed: Option<PathBuf>,
}

impl Registry {
    /// Remove `path` (a file or a directory) if the process is interrupted.
    pub fn register(&mut self, path: &Path) {
        self.paths.push((path.to_path_buf(), false));
    }

    /// Remove the directory `path` if the process is interrupted and it is empty then.
    pub fn register_if_empty(&mut self, path: &Path) {
        self.paths.push((path.to_path_buf(), true));
    }

    /// `path` is finished with (moved into place, or removed by its owner).
    pub fn unregister(&mut self, path: &Path) {
        self.paths.retain(|(p, _)| p != path);
    }

    /// The export is in place at `target`: an interrupt from now on removes nothing of it.
    pub fn landed(&mut self, target: &Path) {
        self.landed = Some(target.to_path_buf());
    }

    fn remove_all_and_exit(&mut self) -> ! {
        // Last registered first: the staging directory before the lock beside it, the
        // lock before the parent directory rlx created to hold both.
        for (p, is_if_empty) in self.paths.iter().rev() {
            if *is_if_empty {
                let _ = fs::remove_dir(p);
            } else if p.is_dir() {
                let _ = fs::remove_dir_all(p);
            } else {
                let _ = fs::remove_file(p);
            }
        }
        match &self.landed {
            Some(t) => eprintln!(
                "error: interrupted after the export was complete; {} is in place",
                t.display()
            ),
            None => eprintln!("error: interrupted; nothing was written"),
        }
        std::process::exit(130);
    }
}

fn registry() -> &'static Mutex<Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    REGISTRY.get_or_init(|| Mutex::new(Registry::default()))
}

/// Run `f` with the registry locked. An interrupt arriving meanwhile waits until `f` is
/// done, so a path is never on disk unregistered, and a commit (check, swap, unregister)
/// never stops halfway with the old directory moved aside.
pub fn locked<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    // A poisoned lock only means another thread panicked; the list is still usable.
    let mut guard = registry().lock().unwrap_or_else(|e| e.into_inner());
    f(&mut guard)
}

/// Remove `path` (a file or a directory) if the process is interrupted.
pub fn register(path: &Path) {
    locked(|r| r.register(path));
}

/// `path` is finished with (moved into place, or removed by its owner).
pub fn unregister(path: &Path) {
    locked(|r| r.unregister(path));
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
    locked(|r| r.remove_all_and_exit())
}

/// Inside `locked`: if an interrupt has arrived, clean up and exit now.
pub fn exit_if_interrupted(registry: &mut Registry) {
    if is_interrupted() {
        registry.remove_all_and_exit();
    }
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
