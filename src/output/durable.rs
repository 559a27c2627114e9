//! The file-system calls that make an export survive a crash of the machine: syncing
//! directories (files sync themselves in `OutFile::finish`) and swapping two directories
//! in one atomic step. Nothing here decides what to sync or swap; `Staging` does.

use std::fs::{self, File};
use std::io;
use std::path::Path;

/// Flush a directory's entries (the names of the files in it) to disk. Without this a
/// renamed or created file can vanish after a power loss although its data was synced.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Sync `root` and every directory below it (not following symbolic links).
pub fn sync_tree_dirs(root: &Path) -> io::Result<()> {
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree_dirs(&entry.path())?;
        }
    }
    sync_dir(root)
}

/// Swap `a` and `b` (both exist) in one step, so that no observer, and no crash, ever
/// finds one of the two names missing. `Ok(false)` when the platform or file system
/// cannot (then the caller falls back to two renames).
#[cfg(target_os = "linux")]
pub fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both pointers are NUL-terminated strings that outlive the call; renameat2
    // reads them and touches no other memory of ours. Called through syscall(2) so that
    // an older glibc without the renameat2 wrapper links too.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        // No renameat2 (kernel before 3.15, or a sandbox that filters it), or a file
        // system without RENAME_EXCHANGE (some FUSE and network file systems).
        Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn exchange(_a: &Path, _b: &Path) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_swaps_two_directories() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("from-a"), "").unwrap();
        fs::write(b.join("from-b"), "").unwrap();
        if exchange(&a, &b).unwrap() {
            assert!(a.join("from-b").exists() && b.join("from-a").exists());
        } else {
            assert!(a.join("from-a").exists() && b.join("from-b").exists());
        }
        sync_tree_dirs(root.path()).unwrap();
    }
}
