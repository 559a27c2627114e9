//! `OutputDir`: the only place that creates files. An export is written into a temporary
//! sibling of the target (same parent, so the final rename is atomic) and moved into place
//! only when every file is complete and synced. The output's lock (`lock`) is held from
//! before the input is read until the end, stale leftovers of killed exports are reclaimed
//! under it (`reclaim`), and `--force` swaps the old directory out in one step
//! (`durable::exchange`). On any error, or SIGINT/SIGTERM, the temporary directory is
//! removed and an old directory is never lost.

mod durable;
mod lock;
mod reclaim;

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::cleanup;
pub use lock::{lock_name, OutputLock, Owner};
pub use reclaim::{reclaim_stale, Reclaimed};

/// A usage problem with the output path (exit status 1, it is about the file system).
#[derive(Debug)]
pub struct OutputError(pub String);

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OutputError {}

/// One file of the export, as the result reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    /// Path relative to the output directory (`train.jsonl`, `openai/train.jsonl`).
    pub relative: String,
    pub bytes: u64,
}

struct Inner {
    root: PathBuf,
    compress: bool,
    sync: bool,
    /// Syncs the finished files while the next ones are written.
    syncer: durable::Syncer,
    files: Mutex<Vec<WrittenFile>>,
}

/// A view of the staging directory (or of a subdirectory of it, for `--format all`).
#[derive(Clone)]
pub struct OutputDir {
    inner: Arc<Inner>,
    prefix: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned lock only means another thread panicked; the data is still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How an export is staged and moved into place.
#[derive(Debug, Clone, Copy, Default)]
pub struct StagingOptions {
    /// Replace a non-empty output directory.
    pub force: bool,
    /// Gzip the data files.
    pub compress: bool,
    /// Sync every file and directory before the rename and the parent after it
    /// (off with --no-sync).
    pub sync: bool,
}

/// The export being written: owns the output's lock and the staging directory until
/// `commit`; dropped without a commit, it removes what it made.
pub struct Staging {
    target: PathBuf,
    parent: PathBuf,
    name: String,
    options: StagingOptions,
    /// The parent directories this rlx created (outermost first), removed again if the
    /// export fails and they are empty; one another process created is never listed.
    created_parents: Vec<PathBuf>,
    lock: Option<OutputLock>,
    temp: Option<tempfile::TempDir>,
    dir: Option<OutputDir>,
    /// Leftovers of killed exports removed before this one started.
    pub reclaimed: Reclaimed,
}

/// How the finished export got into place.
enum Swap {
    /// The target did not exist.
    Renamed,
    /// The old directory (now at this path) left to delete.
    Replaced(PathBuf),
}

impl Staging {
    /// Check the target, take its lock, reclaim what killed exports left behind, and
    /// create the staging directory beside it. Runs before any input is read, so a
    /// second export into the same directory fails at once.
    pub fn begin(target: &Path, options: StagingOptions) -> anyhow::Result<Staging> {
        let shown = target.display();
        match fs::metadata(target) {
            Ok(m) if !m.is_dir() => {
                return Err(OutputError(format!(
                "{shown} is a file; expected a directory path for the export (choose another -o)"
            ))
                .into())
            }
            _ => {}
        }
        let (parent, name) = parent_and_name(target)?;
        let mut staging = Staging {
            target: target.to_path_buf(),
            parent,
            name,
            options,
            created_parents: Vec::new(),
            lock: None,
            temp: None,
            dir: None,
            reclaimed: Reclaimed::default(),
        };
        // Each step creates and registers under the cleanup lock, so an interrupt never
        // finds a path on disk but not yet registered; a failed step leaves the rest to
        // `Drop`.
        staging.created_parents = cleanup::locked(|registry| {
            let created = create_parents(&staging.parent)?;
            for p in &created {
                registry.register_if_empty(p);
            }
            anyhow::Ok(created)
        })?;
        staging.lock = Some(cleanup::locked(|registry| {
            match OutputLock::try_acquire(&staging.parent, &staging.name)? {
                Ok(held) => {
                    registry.register(held.path());
                    Ok(held)
                }
                Err(owner) => Err(anyhow::Error::new(OutputError(format!(
                    "{} is exporting into {shown}; wait for it to finish or stop it, then run this again (its lock is {})",
                    owner.describe(),
                    staging.parent.join(lock_name(&staging.name)).display()
                )))),
            }
        })?);
        staging.reclaimed = reclaim_stale(&staging.parent, &staging.name)?;
        // Checked after the reclaim, which may have put an old export back in place.
        if !options.force && target.is_dir() && !is_empty_dir(target)? {
            bail!(OutputError(format!(
                "{shown} exists and is not empty; pass --force to replace it (the old directory is kept if the export fails)"
            )));
        }
        let temp = cleanup::locked(|registry| {
            let temp = tempfile::Builder::new()
                .prefix(&reclaim::staging_prefix(&staging.name))
                .tempdir_in(&staging.parent)
                .map_err(|e| {
                    OutputError(format!(
                        "cannot create a directory in {}: {e}; expected a writable parent directory for {shown}",
                        staging.parent.display()
                    ))
                })?;
            registry.register(temp.path());
            anyhow::Ok(temp)
        })?;
        staging.dir = Some(OutputDir {
            inner: Arc::new(Inner {
                root: temp.path().to_path_buf(),
                compress: options.compress,
                sync: options.sync,
                syncer: durable::Syncer::default(),
                files: Mutex::new(Vec::new()),
            }),
            prefix: String::new(),
        });
        staging.temp = Some(temp);
        Ok(staging)
    }

    pub fn dir(&self) -> &OutputDir {
        self.dir
            .as_ref()
            .expect("begin returns a staging only once its directory exists")
    }

    /// Where spooled copies of stdin and of gzip inputs go: inside the staging directory,
    /// on the output's file system, as unnamed files that vanish with the process.
    pub fn spool_dir(&self) -> &Path {
        &self.dir().inner.root
    }

    /// Move the finished export into place. With --force an existing directory is
    /// exchanged with the new one in one step, then deleted.
    pub fn commit(mut self) -> anyhow::Result<Vec<WrittenFile>> {
        let temp = self
            .temp
            .take()
            .expect("commit consumes the staging, so the temp dir is still owned");
        if self.options.sync {
            self.dir().inner.syncer.wait().map_err(sync_failed)?;
            durable::sync_tree_dirs(temp.path())
                .with_context(|| format!("syncing {} to disk", self.dir().inner.root.display()))?;
        }
        // The check, the swap and the bookkeeping happen under the cleanup lock, so an
        // interrupt either stops the export before the swap or waits until it is done.
        let created = self.created_parents.clone();
        let old = cleanup::locked(|registry| {
            cleanup::exit_if_interrupted(registry);
            let staged = temp.keep();
            match self.swap_into_place(&staged) {
                Err(e) => {
                    let _ = fs::remove_dir_all(&staged);
                    registry.unregister(&staged);
                    Err(e)
                }
                Ok(swap) => {
                    registry.unregister(&staged);
                    let old = match swap {
                        Swap::Renamed => None,
                        Swap::Replaced(old) => {
                            // An interrupt from now on removes the old copy, never the new.
                            registry.register(&old);
                            Some(old)
                        }
                    };
                    for p in self.created_parents.drain(..) {
                        registry.unregister(&p);
                    }
                    registry.landed(&self.target);
                    Ok(old)
                }
            }
        })?;
        crate::fault::kill_at("kill-after-swap");
        let synced = if self.options.sync {
            self.sync_parents(&created)
        } else {
            Ok(())
        };
        if let Some(old) = old {
            // The new export is in place; failing to delete the old copy loses nothing
            // (the next export or `rlx clean` reclaims it).
            let _ = fs::remove_dir_all(&old);
            cleanup::unregister(&old);
        }
        self.release_lock();
        synced?;
        let mut files = lock(&self.dir().inner.files).clone();
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(files)
    }

    /// Sync the directory that now names the export, and the parent of every directory
    /// rlx created on the way to it, so the rename and the new directories survive a
    /// power loss.
    fn sync_parents(&self, created: &[PathBuf]) -> anyhow::Result<()> {
        let shown = self.target.display();
        let parent_of = |p: &Path| match p.parent() {
            Some(q) if !q.as_os_str().is_empty() => q.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let dirs =
            std::iter::once(self.parent.clone()).chain(created.iter().rev().map(|c| parent_of(c)));
        for dir in dirs {
            durable::sync_dir(&dir).with_context(|| {
                format!(
                    "{shown} is in place, but syncing {} failed, so it may not survive a power loss",
                    dir.display()
                )
            })?;
        }
        Ok(())
    }

    fn release_lock(&mut self) {
        if let Some(held) = self.lock.take() {
            let path = held.path().to_path_buf();
            cleanup::locked(|registry| {
                held.release();
                registry.unregister(&path);
            });
        }
    }

    fn swap_into_place(&self, staged: &Path) -> anyhow::Result<Swap> {
        let target = &self.target;
        let shown = target.display();
        if fs::symlink_metadata(target).is_err() {
            fs::rename(staged, target)
                .with_context(|| format!("moving the export into {shown}"))?;
            return Ok(Swap::Renamed);
        }
        if !self.options.force && !is_empty_dir(target)? {
            bail!(OutputError(format!(
                "{shown} appeared while rlx was writing and is not empty; pass --force to replace it"
            )));
        }
        // One step: at every instant the target is the old export or the new one.
        if !crate::fault::is_set("no-exchange")
            && durable::exchange(staged, target)
                .with_context(|| format!("swapping the export into {shown}"))?
        {
            return Ok(Swap::Replaced(staged.to_path_buf()));
        }
        // Fallback where the file system cannot exchange: old aside, new in. A kill
        // between the two renames leaves the old export aside, and the next export
        // (or `rlx clean`) puts it back.
        let aside = tempfile::Builder::new()
            .prefix(&reclaim::aside_prefix(&self.name))
            .tempdir_in(&self.parent)
            .with_context(|| format!("making room to replace {shown}"))?
            .keep();
        fs::remove_dir(&aside).with_context(|| format!("making room to replace {shown}"))?;
        fs::rename(target, &aside).with_context(|| format!("moving the old {shown} aside"))?;
        crate::fault::kill_at("kill-between-renames");
        if let Err(e) = fs::rename(staged, target) {
            return Err(e).with_context(|| match fs::rename(&aside, target) {
                Ok(()) => format!("moving the export into {shown} (the old directory was put back)"),
                Err(back) => format!(
                    "moving the export into {shown}; putting the old directory back failed too ({back}): it is {}, and `rlx clean {shown}` puts it back",
                    aside.display()
                ),
            });
        }
        Ok(Swap::Replaced(aside))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Removed, then unregistered, under the cleanup lock: an interrupt never finds
        // them on disk and unregistered.
        let temp = self.temp.take();
        let created_parents = std::mem::take(&mut self.created_parents);
        cleanup::locked(|registry| {
            if let Some(temp) = temp {
                let path = temp.path().to_path_buf();
                drop(temp);
                registry.unregister(&path);
            }
        });
        self.release_lock();
        cleanup::locked(|registry| {
            // Innermost first, and only while empty: another export may have put its
            // own output into a directory this one created.
            for p in created_parents.iter().rev() {
                let _ = fs::remove_dir(p);
                registry.unregister(p);
            }
        });
    }
}

/// The directory an output lives in (where its lock and staging directories go) and its
/// name.
pub fn parent_and_name(target: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .ok_or_else(|| {
            OutputError(format!(
                "{} has no directory name; expected a path such as out/extraction",
                target.display()
            ))
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

fn is_empty_dir(path: &Path) -> anyhow::Result<bool> {
    Ok(fs::read_dir(path)
        .with_context(|| format!("reading the directory {}", path.display()))?
        .next()
        .is_none())
}

/// Create `dir` and any missing ancestors, one level at a time; return the ones this
/// call created, outermost first (a level another process created meanwhile is not ours).
fn create_parents(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(OutputError(format!(
                "{} is a file; expected a directory to hold the export",
                dir.display()
            )));
        }
        return Ok(Vec::new());
    }
    let mut missing = vec![dir.to_path_buf()];
    while let Some(p) = missing.last().and_then(|d| d.parent()) {
        if p.as_os_str().is_empty() || p.exists() {
            break;
        }
        missing.push(p.to_path_buf());
    }
    let mut created = Vec::new();
    for p in missing.into_iter().rev() {
        match fs::create_dir(&p) {
            Ok(()) => created.push(p),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && p.is_dir() => {}
            Err(e) => {
                for c in created.iter().rev() {
                    let _ = fs::remove_dir(c);
                }
                bail!(OutputError(format!(
                    "cannot create {}: {e}; expected a writable location for the export",
                    p.display()
                )));
            }
        }
    }
    Ok(created)
}

impl OutputDir {
    /// A subdirectory view (for `--format all`).
    pub fn subdir(&self, name: &str) -> anyhow::Result<OutputDir> {
        let prefix = format!("{}{name}/", self.prefix);
        let path = self.inner.root.join(&prefix);
        fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(OutputDir {
            inner: self.inner.clone(),
            prefix,
        })
    }

    /// The subdirectory this view writes into (`openai/`), empty for the root.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The file name a data file gets (`train.jsonl`, or `train.jsonl.gz` with --compress).
    pub fn data_name(&self, name: &str) -> String {
        if self.inner.compress {
            format!("{name}.gz")
        } else {
            name.to_string()
        }
    }

    pub fn is_compressed(&self) -> bool {
        self.inner.compress
    }

    /// Create a data file (gzipped with --compress).
    pub fn create_data(&self, name: &str) -> anyhow::Result<OutFile> {
        let name = self.data_name(name);
        self.create(&name, self.inner.compress)
    }

    /// Create a documentation file (never compressed).
    pub fn create_doc(&self, name: &str) -> anyhow::Result<OutFile> {
        self.create(name, false)
    }

    /// Write a whole documentation file.
    pub fn write_doc(&self, name: &str, contents: &str) -> anyhow::Result<()> {
        let mut f = self.create_doc(name)?;
        f.write_all(contents.as_bytes())
            .with_context(|| format!("writing {}", f.relative))?;
        f.finish()
    }

    /// Create a binary data file (never gzipped) that stays hidden as `.NAME.partial`
    /// until `finish` renames it: readers of a directory of shards (Spark, pyarrow,
    /// DuckDB globs) never see a half-written one under its final name.
    pub fn create_renamed(&self, name: &str) -> anyhow::Result<OutFile> {
        let (dir, file) = match name.rsplit_once('/') {
            Some((dir, file)) => (format!("{dir}/"), file),
            None => (String::new(), name),
        };
        let mut f = self.create(&format!("{dir}.{file}.partial"), false)?;
        f.rename_to = Some(format!("{}{name}", self.prefix));
        Ok(f)
    }

    /// Create the directory `name` inside this view (`data` for the parquet shards).
    pub fn create_dir(&self, name: &str) -> anyhow::Result<()> {
        let relative = format!("{}{name}", self.prefix);
        fs::create_dir_all(self.inner.root.join(&relative))
            .with_context(|| format!("creating {relative}"))
    }

    fn create(&self, name: &str, gzip: bool) -> anyhow::Result<OutFile> {
        let relative = format!("{}{name}", self.prefix);
        let path = self.inner.root.join(&relative);
        let file = File::create(&path).with_context(|| format!("creating {relative}"))?;
        let buffered = BufWriter::with_capacity(1 << 18, file);
        let sink = if gzip {
            Sink::Gzip(GzEncoder::new(buffered, Compression::default()))
        } else {
            Sink::Plain(buffered)
        };
        Ok(OutFile {
            sink: Some(sink),
            path,
            relative,
            rename_to: None,
            inner: self.inner.clone(),
        })
    }
}

fn sync_failed((name, e): durable::SyncFailure) -> anyhow::Error {
    anyhow::anyhow!("syncing {name} to disk: {e}")
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

/// A file being written. `finish` must be called: it flushes and checks the result,
/// which a dropped `BufWriter` would swallow.
pub struct OutFile {
    sink: Option<Sink>,
    path: PathBuf,
    pub relative: String,
    /// The name `finish` gives the file (relative to the staging root), if not its own.
    rename_to: Option<String>,
    inner: Arc<Inner>,
}

impl OutFile {
    /// Remove the file instead of keeping it (a format left every example of a split
    /// out, and consumers reject empty files).
    pub fn discard(mut self) -> anyhow::Result<()> {
        self.sink.take();
        fs::remove_file(&self.path).with_context(|| format!("removing the empty {}", self.relative))
    }

    pub fn finish(mut self) -> anyhow::Result<()> {
        let context = || format!("writing {}", self.relative);
        let file = match self.sink.take() {
            Some(Sink::Plain(w)) => w
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(context)?,
            Some(Sink::Gzip(g)) => g
                .finish()
                .with_context(context)?
                .into_inner()
                .map_err(|e| e.into_error())
                .with_context(context)?,
            None => bail!("{} was finished twice", self.relative),
        };
        if self.inner.sync {
            // Synced before `Staging::commit` moves the export into place.
            self.inner
                .syncer
                .sync(file, self.relative.clone())
                .map_err(sync_failed)?;
        } else {
            drop(file);
        }
        let bytes = fs::metadata(&self.path).with_context(context)?.len();
        let relative = match self.rename_to.take() {
            Some(to) => {
                fs::rename(&self.path, self.inner.root.join(&to))
                    .with_context(|| format!("renaming {} to {to}", self.relative))?;
                to
            }
            None => self.relative.clone(),
        };
        lock(&self.inner.files).push(WrittenFile { relative, bytes });
        crate::fault::kill_at("kill-mid-write");
        Ok(())
    }
}

impl Write for OutFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.write(buf),
            Some(Sink::Gzip(w)) => w.write(buf),
            None => Err(io::Error::other("write after finish")),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.write_all(buf),
            Some(Sink::Gzip(w)) => w.write_all(buf),
            None => Err(io::Error::other("write after finish")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.sink.as_mut() {
            Some(Sink::Plain(w)) => w.flush(),
            Some(Sink::Gzip(w)) => w.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forced() -> StagingOptions {
        StagingOptions {
            force: true,
            sync: true,
            ..StagingOptions::default()
        }
    }

    #[test]
    fn a_failed_export_leaves_nothing_and_keeps_the_old_directory() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.txt"), "old").unwrap();
        {
            let staging = Staging::begin(&target, forced()).unwrap();
            staging.dir().write_doc("new.txt", "new").unwrap();
            // Dropped without commit: the export failed.
        }
        assert_eq!(fs::read_to_string(target.join("old.txt")).unwrap(), "old");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn force_swaps_in_the_new_directory() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.txt"), "old").unwrap();
        assert!(Staging::begin(&target, StagingOptions::default()).is_err());
        let staging = Staging::begin(&target, forced()).unwrap();
        staging.dir().write_doc("new.txt", "new").unwrap();
        let files = staging.commit().unwrap();
        assert_eq!(files[0].relative, "new.txt");
        assert!(!target.join("old.txt").exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn created_parents_are_removed_on_failure() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("a/b/out");
        drop(Staging::begin(&target, StagingOptions::default()).unwrap());
        assert!(!root.path().join("a").exists());
    }
}
