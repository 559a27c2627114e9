//! Several inputs read as one: the files (and directories, and one `-`) given on the
//! command line, in order, each opened by `input::Source`. Every later step sees one
//! address space: an example's offset is its file's base plus its offset in the file,
//! so the index keeps 24 bytes per example whatever the number of inputs, and no input
//! is copied beyond the spools `Source` already makes for stdin and gzip.
//!
//! Locations keep naming each file (`b.json.gz:3: train[2]`). Opening and expanding
//! only: the scan itself is `Source::scan`'s, once per input.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use crate::input::{InputError, RawExample, ScanSummary, Shape, Source, Span};

/// The names a directory input reads, in sorted order.
const DIRECTORY_ENDINGS: [&str; 4] = [".jsonl", ".json", ".jsonl.gz", ".json.gz"];

pub struct Inputs {
    sources: Vec<Source>,
    /// Where each source starts in the shared address space.
    bases: Vec<u64>,
    name: Arc<str>,
    /// The first input's shape (the only input's, usually).
    pub shape: Shape,
    /// What each directory given expanded to: (directory, files found).
    pub directories: Vec<(String, usize)>,
}

impl Inputs {
    /// Open every input in order. A directory reads its `*.jsonl`, `*.json`,
    /// `*.jsonl.gz` and `*.json.gz` files in sorted name order.
    /// Stdin and gzip inputs are spooled into `spool_dir` (the staging directory of an
    /// export, the system temp directory otherwise).
    pub fn open(args: &[String], spool_dir: &Path) -> anyhow::Result<Inputs> {
        let mut paths: Vec<String> = Vec::new();
        let mut directories = Vec::new();
        for arg in args {
            let path = Path::new(arg);
            if arg != "-" && path.is_dir() {
                let files = directory_files(path)?;
                directories.push((arg.clone(), files.len()));
                paths.extend(files);
            } else {
                paths.push(arg.clone());
            }
        }
        if paths.iter().filter(|p| *p == "-").count() > 1 {
            anyhow::bail!(InputError {
                place: "-".into(),
                message:
                    "stdin is given more than once; expected `-` at most once among the inputs"
                        .into(),
            });
        }
        let mut sources = Vec::with_capacity(paths.len());
        let mut bases = Vec::with_capacity(paths.len());
        let mut base = 0u64;
        for p in &paths {
            let source = Source::open(p, spool_dir)?;
            bases.push(base);
            base = base
                .checked_add(source.byte_len())
                .context("the inputs add up to more bytes than rlx can address")?;
            sources.push(source);
        }
        let first = sources
            .first()
            .context("no input was given; expected a file, a directory or -")?;
        let name = if sources.len() == 1 {
            first.name().clone()
        } else {
            Arc::from(format!("{} inputs", sources.len()))
        };
        Ok(Inputs {
            shape: first.shape,
            name,
            sources,
            bases,
            directories,
        })
    }

    /// The input's name, or "N inputs" for several.
    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    pub fn names(&self) -> Vec<String> {
        self.sources.iter().map(|s| s.name().to_string()).collect()
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// A pre-split dataset object keeps its own split only when it is the only input.
    pub fn keeps_own_split(&self) -> bool {
        self.sources.len() == 1 && self.shape == Shape::Dataset
    }

    /// The dataset objects among several inputs, whose own split is not kept.
    pub fn pooled_datasets(&self) -> Vec<String> {
        if self.sources.len() < 2 {
            return Vec::new();
        }
        self.sources
            .iter()
            .filter(|s| s.shape == Shape::Dataset)
            .map(|s| s.name().to_string())
            .collect()
    }

    /// All inputs' (decompressed) bytes.
    pub fn byte_len(&self) -> u64 {
        self.sources.iter().map(|s| s.byte_len()).sum()
    }

    /// The source holding `offset` of the shared address space, and its base.
    fn source_at(&self, offset: u64) -> (&Source, u64) {
        let k = self.bases.partition_point(|&b| b <= offset).max(1) - 1;
        (&self.sources[k], self.bases[k])
    }

    /// The name of the input holding `offset`.
    pub fn name_at(&self, offset: u64) -> &Arc<str> {
        self.source_at(offset).0.name()
    }

    /// Every input's examples in order, their spans in the shared address space.
    pub fn scan(
        &self,
        mut visit: impl FnMut(RawExample<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<ScanSummary> {
        let mut summary = ScanSummary::default();
        for (source, &base) in self.sources.iter().zip(&self.bases) {
            let one = source.scan(|mut raw| {
                raw.span.offset += base;
                visit(raw)
            })?;
            if summary.stats.is_none() {
                summary.stats = one.stats;
            }
            for k in one.ignored_keys {
                if !summary.ignored_keys.contains(&k) {
                    summary.ignored_keys.push(k);
                }
            }
        }
        Ok(summary)
    }

    /// Read one example's bytes (a span of the shared address space).
    pub fn read_span(&self, span: Span, buf: &mut [u8]) -> anyhow::Result<()> {
        let (source, base) = self.source_at(span.offset);
        source.read_span(
            Span {
                offset: span.offset - base,
                ..span
            },
            buf,
        )
    }

    /// Fail if any input was rewritten since it was opened (see `Source`).
    pub fn check_unchanged(&self) -> anyhow::Result<()> {
        self.sources.iter().try_for_each(Source::check_unchanged)
    }
}

/// A directory's input files, sorted by name; none is an error.
fn directory_files(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading the directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
        // Rotated logs leave empty files behind; an empty file given by name is still
        // an error.
        .filter(|e| e.metadata().is_ok_and(|m| m.len() > 0))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| DIRECTORY_ENDINGS.iter().any(|end| n.ends_with(end)))
        .collect();
    names.sort();
    if names.is_empty() {
        anyhow::bail!(InputError {
            place: dir.display().to_string(),
            message: "is a directory with no non-empty *.jsonl, *.json, *.jsonl.gz or *.json.gz file; expected at least one input file in it".into(),
        });
    }
    Ok(names
        .into_iter()
        .map(|n| dir.join(n).display().to_string())
        .collect())
}
