//! `OutputDir`: the only place that creates files. An export is written into a temporary
//! sibling of the target (same parent, so the final rename is atomic) and moved into place
//! only when every file is complete. On any error, or SIGINT/SIGTERM, the temporary
//! directory is removed; with `--force` an old directory is swapped out and comes back
//! if anything fails before it is deleted.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::cleanup;

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

/// The export being written: owns the staging directory until `commit`.
pub struct Staging {
    target: PathBuf,
    temp: Option<tempfile::TempDir>,
    /// A parent directory rlx created, removed again if the export fails.
    created_parent: Option<PathBuf>,
    force: bool,
    dir: OutputDir,
}

impl Staging {
    /// Check the target and create the staging directory beside it.
    pub fn begin(target: &Path, force: bool, compress: bool) -> anyhow::Result<Staging> {
        let shown = target.display();
        match fs::metadata(target) {
            Ok(m) if !m.is_dir() => {
                return Err(OutputError(format!(
                    "{shown} is a file; expected a directory path for the export (choose another -o)"
                ))
                .into())
            }
            Ok(_) if !force && !is_empty_dir(target)? => {
                return Err(OutputError(format!(
                    "{shown} exists and is not empty; pass --force to replace it (the old directory is kept if the export fails)"
                ))
                .into())
            }
            _ => {}
        }
        let name = target
            .file_name()
            .ok_or_else(|| {
                OutputError(format!(
                    "{shown} has no directory name; expected a path such as out/extraction"
                ))
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Created and registered under the cleanup lock: an interrupt never finds them
        // on disk but not yet registered.
        let (created_parent, temp) = cleanup::locked(|registry| {
            let created_parent = create_parents(&parent)?;
            if let Some(p) = &created_parent {
                registry.register(p);
            }
            let temp = tempfile::Builder::new()
                .prefix(&format!(".{name}.rlx-tmp-"))
                .tempdir_in(&parent)
                .map_err(|e| {
                    OutputError(format!(
                        "cannot create a directory in {}: {e}; expected a writable parent directory for {shown}",
                        parent.display()
                    ))
                });
            match temp {
                Ok(t) => {
                    registry.register(t.path());
                    Ok((created_parent, t))
                }
                Err(e) => {
                    if let Some(p) = &created_parent {
                        registry.unregister(p);
                        let _ = fs::remove_dir_all(p);
                    }
                    Err(anyhow::Error::new(e))
                }
            }
        })?;
        let dir = OutputDir {
            inner: Arc::new(Inner {
                root: temp.path().to_path_buf(),
                compress,
                files: Mutex::new(Vec::new()),
            }),
            prefix: String::new(),
        };
        Ok(Staging {
            target: target.to_path_buf(),
            temp: Some(temp),
            created_parent,
            force,
            dir,
        })
    }

    pub fn dir(&self) -> &OutputDir {
        &self.dir
    }

    /// Move the finished export into place. With --force an existing directory is moved
    /// aside first and restored if the swap fails.
    pub fn commit(mut self) -> anyhow::Result<Vec<WrittenFile>> {
        let temp = self
            .temp
            .take()
            .expect("commit consumes the staging, so the temp dir is still owned");
        // The check, the swap and the bookkeeping happen under the cleanup lock, so an
        // interrupt either stops the export before the swap or waits until it is done;
        // it never finds the old directory moved aside and the new one not yet in place.
        cleanup::locked(|registry| {
            cleanup::exit_if_interrupted(registry);
            let staged = temp.keep();
            let result = self.swap_into_place(&staged);
            registry.unregister(&staged);
            if let Err(e) = result {
                let _ = fs::remove_dir_all(&staged);
                return Err(e);
            }
            if let Some(p) = self.created_parent.take() {
                registry.unregister(&p);
            }
            registry.landed(&self.target);
            Ok(())
        })?;
        let mut files = lock(&self.dir.inner.files).clone();
        files.sort_by(|a, b| a.relative.cmp(&b.relative));
        Ok(files)
    }

    fn swap_into_place(&self, staged: &Path) -> anyhow::Result<()> {
        let target = &self.target;
        let shown = target.display();
        if !target.exists() {
            return fs::rename(staged, target)
                .with_context(|| format!("moving the export into {shown}"));
        }
        if is_empty_dir(target)? {
            fs::remove_dir(target)
                .with_context(|| format!("replacing the empty directory {shown}"))?;
            return fs::rename(staged, target)
                .with_context(|| format!("moving the export into {shown}"));
        }
        if !self.force {
            bail!(OutputError(format!(
                "{shown} appeared while rlx was writing and is not empty; pass --force to replace it"
            )));
        }
        let parent = staged.parent().unwrap_or(Path::new("."));
        let aside = tempfile::Builder::new()
            .prefix(".rlx-old-")
            .tempdir_in(parent)
            .with_context(|| format!("making room to replace {shown}"))?
            .keep();
        fs::remove_dir(&aside).with_context(|| format!("making room to replace {shown}"))?;
        fs::rename(target, &aside).with_context(|| format!("moving the old {shown} aside"))?;
        if let Err(e) = fs::rename(staged, target) {
            let _ = fs::rename(&aside, target);
            return Err(e).with_context(|| {
                format!("moving the export into {shown} (the old directory was put back)")
            });
        }
        // The new export is in place; failing to delete the old copy loses nothing.
        let _ = fs::remove_dir_all(&aside);
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // Removed, then unregistered, under the cleanup lock: an interrupt never finds
        // them on disk and unregistered.
        let temp = self.temp.take();
        let created_parent = self.created_parent.take();
        cleanup::locked(|registry| {
            if let Some(temp) = temp {
                let path = temp.path().to_path_buf();
                drop(temp);
                registry.unregister(&path);
            }
            if let Some(p) = created_parent {
                let _ = fs::remove_dir_all(&p);
                registry.unregister(&p);
            }
        });
    }
}

fn is_empty_dir(path: &Path) -> anyhow::Result<bool> {
    Ok(fs::read_dir(path)
        .with_context(|| format!("reading the directory {}", path.display()))?
        .next()
        .is_none())
}

/// Create `dir` and any missing ancestors; return the topmost one created.
fn create_parents(dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    if dir.exists() {
        if !dir.is_dir() {
            bail!(OutputError(format!(
                "{} is a file; expected a directory to hold the export",
                dir.display()
            )));
        }
        return Ok(None);
    }
    let mut topmost = dir.to_path_buf();
    while let Some(p) = topmost.parent() {
        if p.as_os_str().is_empty() || p.exists() {
            break;
        }
        topmost = p.to_path_buf();
    }
    fs::create_dir_all(dir).map_err(|e| {
        OutputError(format!(
            "cannot create {}: {e}; expected a writable location for the export",
            dir.display()
        ))
    })?;
    Ok(Some(topmost))
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
            inner: self.inner.clone(),
        })
    }
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
        drop(file);
        let bytes = fs::metadata(&self.path).with_context(context)?.len();
        lock(&self.inner.files).push(WrittenFile {
            relative: self.relative.clone(),
            bytes,
        });
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

    #[test]
    fn a_failed_export_leaves_nothing_and_keeps_the_old_directory() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("old.txt"), "old").unwrap();
        {
            let staging = Staging::begin(&target, true, false).unwrap();
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
        assert!(Staging::begin(&target, false, false).is_err());
        let staging = Staging::begin(&target, true, false).unwrap();
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
        drop(Staging::begin(&target, false, false).unwrap());
        assert!(!root.path().join("a").exists());
    }
}
