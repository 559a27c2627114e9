//! The file-system calls that make an export survive a crash of the machine: syncing
//! files (on a thread of their own, `Syncer`) and directories, and swapping two
//! directories in one atomic step. Nothing here decides what to sync or swap; `Staging`
//! does.

use std::fs::{self, File};
use std::io;
use std::path::Path;
use std::sync::{mpsc, Mutex};
use std::thread::JoinHandle;

/// A file that could not be synced: its name in the export, and why.
pub type SyncFailure = (String, io::Error);

type Queue = (
    mpsc::SyncSender<(File, String)>,
    JoinHandle<Result<(), SyncFailure>>,
);

/// Syncs finished files on one thread of its own, in the order they are handed over, so
/// the next file is rendered while the disk takes the last one; `wait` returns once
/// every file handed over so far is on disk (or with the first that failed).
#[derive(Default)]
pub struct Syncer {
    queue: Mutex<Option<Queue>>,
}

impl Syncer {
    /// At most this many files wait for their sync (each holds a descriptor open);
    /// handing over one more waits until the disk has taken one.
    const PENDING: usize = 16;

    /// Sync `file` (named `name` in messages) now or soon; `wait` tells how it went.
    pub fn sync(&self, file: File, name: String) -> Result<(), SyncFailure> {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        if queue.is_none() {
            let (tx, rx) = mpsc::sync_channel::<(File, String)>(Self::PENDING);
            let spawned = std::thread::Builder::new()
                .name("rlx-sync".into())
                .spawn(move || {
                    for (file, name) in rx {
                        file.sync_all().map_err(|e| (name, e))?;
                    }
                    Ok(())
                });
            match spawned {
                Ok(handle) => *queue = Some((tx, handle)),
                // No thread to be had: sync here, as the caller would have.
                Err(_) => return file.sync_all().map_err(|e| (name, e)),
            }
        }
        let (tx, _) = queue.as_ref().expect("the queue was started above");
        match tx.send((file, name)) {
            Ok(()) => Ok(()),
            // The thread stopped at a failure, which `wait` reports; this file is synced
            // here so that none is left unsynced.
            Err(mpsc::SendError((file, name))) => file.sync_all().map_err(|e| (name, e)),
        }
    }

    /// Wait until every file handed over is synced; the first failure, if any.
    pub fn wait(&self) -> Result<(), SyncFailure> {
        let queue = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some((tx, handle)) = queue else {
            return Ok(());
        };
        drop(tx);
        handle
            .join()
            .unwrap_or_else(|_| Err((String::new(), io::Error::other("the sync thread panicked"))))
    }
}

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

    #[test]
    fn the_syncer_syncs_every_file_and_reports_the_first_failure() {
        let root = tempfile::tempdir().unwrap();
        let syncer = Syncer::default();
        for i in 0..3 {
            let path = root.path().join(format!("f{i}"));
            fs::write(&path, "data").unwrap();
            syncer
                .sync(File::open(&path).unwrap(), format!("f{i}"))
                .unwrap();
        }
        syncer.wait().unwrap();
        // Waiting again, with nothing handed over, is fine.
        syncer.wait().unwrap();
        // A file that cannot be synced is named: a pipe stands in for a failing disk
        // (fsync on a pipe is EINVAL).
        let (reader, _writer) = std::io::pipe().unwrap();
        let pipe = File::from(std::os::fd::OwnedFd::from(reader));
        syncer.sync(pipe, "the pipe".into()).unwrap();
        let (name, e) = syncer.wait().unwrap_err();
        assert_eq!(name, "the pipe");
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }
}
