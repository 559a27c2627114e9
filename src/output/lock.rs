//! The lock an export holds on its output path for the whole run: `.NAME.rlx-lock` beside
//! the output, locked with `flock` (released by the kernel when the process dies, SIGKILL
//! included) and holding the owner's pid, start time and command line, so a second rlx
//! fails at once naming the first, and staging directories found while the lock is held
//! are known to be stale. Nothing here removes anything but the lock file itself.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::summary::Timestamp;

/// The lock file's name for an output named `name`.
pub fn lock_name(name: &str) -> String {
    format!(".{name}.rlx-lock")
}

/// A held lock; `release` removes the file, and dropping it only unlocks (the file of a
/// killed rlx stays, unlocked, and the next one takes it over).
pub struct OutputLock {
    file: File,
    path: PathBuf,
}

/// Who holds a busy lock, as its file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Owner {
    pub pid: Option<u32>,
    pub started: Option<String>,
    pub command: Option<String>,
}

impl Owner {
    fn parse(text: &str) -> Owner {
        let mut owner = Owner::default();
        for line in text.lines() {
            let (key, value) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "pid" => owner.pid = value.trim().parse().ok(),
                "started" => owner.started = Some(value.trim().to_string()),
                "command" => owner.command = Some(value.trim().to_string()),
                _ => {}
            }
        }
        owner
    }

    /// "rlx (pid 4242, started 2026-12-02T16:03:00Z: rlx export logs.jsonl -o out)".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(pid) = self.pid {
            parts.push(format!("pid {pid}"));
        }
        if let Some(started) = &self.started {
            parts.push(format!("started {started}"));
        }
        let mut text = "another rlx".to_string();
        if !parts.is_empty() {
            text.push_str(&format!(" ({}", parts.join(", ")));
            if let Some(command) = &self.command {
                text.push_str(&format!(": {command}"));
            }
            text.push(')');
        }
        text
    }
}

impl OutputLock {
    /// Take the lock of `parent/name`, or say who holds it.
    pub fn try_acquire(parent: &Path, name: &str) -> anyhow::Result<Result<OutputLock, Owner>> {
        let path = parent.join(lock_name(name));
        loop {
            let opened = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path);
            // A lock file another user's killed rlx left (mode 0644 in a shared
            // directory): flock works on a read-only descriptor too; only the owner
            // details cannot be written.
            let (mut file, is_writable) = match opened {
                Ok(f) => (f, true),
                Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied && path.exists() => {
                    let f = File::open(&path).with_context(|| {
                        format!(
                            "opening the lock file {} ({e}); expected to be able to read it (remove it if no rlx is running)",
                            path.display()
                        )
                    })?;
                    (f, false)
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "creating the lock file {}; expected a writable directory beside the output",
                            path.display()
                        )
                    })
                }
            };
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut text = String::new();
                    // An owner that has not written its details yet is still an owner.
                    let _ = file.read_to_string(&mut text);
                    return Ok(Err(Owner::parse(&text)));
                }
                Err(TryLockError::Error(e)) => {
                    return Err(e).with_context(|| {
                        format!(
                            "locking {} (rlx locks the output so that two exports cannot write into one directory); expected a file system with flock",
                            path.display()
                        )
                    })
                }
            }
            // The previous owner unlinks the file before it unlocks; if that happened
            // between our open and our lock, we hold a lock on a file nobody else can
            // find, so start again with the path as it is now.
            if !is_same_file(&file, &path) {
                continue;
            }
            if is_writable {
                write_owner(&mut file).with_context(|| format!("writing {}", path.display()))?;
            }
            return Ok(Ok(OutputLock { file, path }));
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Remove the lock file, then unlock: a waiting rlx that opened the old file sees it
    /// is gone and starts again.
    pub fn release(self) {
        let _ = fs::remove_file(&self.path);
        drop(self.file);
    }
}

fn write_owner(file: &mut File) -> std::io::Result<()> {
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let started = Timestamp { unix_secs: started }.iso();
    let mut command: String = std::env::args().collect::<Vec<_>>().join(" ");
    if command.chars().count() > 200 {
        command = command.chars().take(199).collect::<String>() + "…";
    }
    let command = command.replace(['\n', '\r'], " ");
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    write!(
        file,
        "pid {}\nstarted {started}\ncommand {command}\n",
        std::process::id()
    )?;
    file.flush()
}

#[cfg(unix)]
fn is_same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_same_file(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_names_the_owner() {
        let dir = tempfile::tempdir().unwrap();
        let held = OutputLock::try_acquire(dir.path(), "out").unwrap().unwrap();
        let owner = OutputLock::try_acquire(dir.path(), "out")
            .unwrap()
            .err()
            .expect("the lock is held");
        assert_eq!(owner.pid, Some(std::process::id()));
        assert!(owner
            .describe()
            .contains(&format!("pid {}", std::process::id())));
        held.release();
        assert!(!dir.path().join(".out.rlx-lock").exists());
        let again = OutputLock::try_acquire(dir.path(), "out").unwrap().unwrap();
        again.release();
    }

    #[test]
    fn a_dead_owners_lock_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(".out.rlx-lock"),
            "pid 1\nstarted x\ncommand y\n",
        )
        .unwrap();
        let lock = OutputLock::try_acquire(dir.path(), "out").unwrap().unwrap();
        let text = fs::read_to_string(lock.path()).unwrap();
        assert!(text.starts_with(&format!("pid {}\n", std::process::id())));
        lock.release();
    }
}
