//! Fault injection for the durability tests: `RLX_FAULT` is a comma-separated list of
//! points where rlx kills itself with SIGKILL, as the OOM killer or a crash would
//! (`kill-after-scan`, `kill-mid-write`, `kill-after-swap`, `kill-between-renames`), and
//! `no-exchange`, which makes `--force` take the two-rename path of platforms without
//! `RENAME_EXCHANGE`. Unset, every check is one load of a cached empty list.

use std::sync::OnceLock;

fn faults() -> &'static [String] {
    static FAULTS: OnceLock<Vec<String>> = OnceLock::new();
    FAULTS.get_or_init(|| {
        std::env::var("RLX_FAULT")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    })
}

/// Whether `name` is in `RLX_FAULT`.
pub fn is_set(name: &str) -> bool {
    faults().iter().any(|f| f == name)
}

/// Die here, at once and without cleanup, if `RLX_FAULT` names `point`.
pub fn kill_at(point: &str) {
    if is_set(point) {
        // SAFETY: raise(2) takes a signal number and touches no memory of ours; SIGKILL
        // cannot be caught, so nothing runs after it.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
