//! Reading the input: open a path or `-`, spool stdin and gzip to an unnamed file, strip
//! a BOM, detect the shape (JSON Lines, array, dataset object) from the content, and hand
//! out each example's bytes with its `Location`.
//!
//! Reading is two-phase so that nothing holds the whole dataset: `scan` walks the file
//! once and yields every example's `Span` (offset, length, line); later passes re-read
//! spans with `read_span`, a batch of examples at a time, never the whole file.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use serde_json::Value;

use crate::example::{quote_cut, Split};
pub use crate::parse_failure::{check_utf8, json_failure, line_col, parse_json, ParseFailure};

/// The largest example rlx parses. A longer line or element is rejected without being
/// held in memory, so a 500 MB line costs no more than this.
pub const MAX_EXAMPLE_BYTES: usize = 64 << 20;

/// Nesting deeper than serde_json's recursion limit (128) is rejected by the parser.
pub const MAX_DEPTH: usize = 128;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// An opened input: a seekable file (the original, or a spooled copy of stdin or of a
/// decompressed gzip) and the name messages use.
pub struct Source {
    name: Arc<str>,
    file: File,
    /// Where the content starts (after a BOM).
    start: u64,
    len: u64,
    /// The modification time at open, to notice a file written to during the export.
    modified: Option<std::time::SystemTime>,
    pub shape: Shape,
}

/// An unnamed temporary file in `dir` for a copy of stdin or of a decompressed input:
/// `O_TMPFILE` on Linux, else created and unlinked at once, so it is gone when the
/// process ends, however it ends, and never shows in a directory listing.
fn create_spool(dir: &Path, what: &str) -> anyhow::Result<File> {
    tempfile::tempfile_in(dir).with_context(|| {
        format!(
            "creating a temporary file in {} to {what}; expected a writable directory with room for it",
            dir.display()
        )
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    JsonLines,
    Array,
    Dataset,
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shape::JsonLines => "JSON Lines",
            Shape::Array => "JSON array",
            Shape::Dataset => "dataset object",
        })
    }
}

/// Where an example came from inside the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A line of JSON Lines.
    Line,
    /// An element of a top-level array.
    Array,
    /// An element of a dataset object's `train`, `eval` or `validation` array.
    Dataset(Split),
}

/// The bytes of one example in the input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub offset: u64,
    pub len: u32,
    /// 1-based line where the example starts.
    pub line: u32,
}

/// A place in the input that a message can point to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: Arc<str>,
    pub origin: Origin,
    /// Index within its array (or among the non-blank lines of JSON Lines).
    pub index: usize,
    pub line: u32,
    pub column: Option<u32>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pos = match self.column {
            Some(c) => format!("{}:{}:{}", self.source, self.line, c),
            None => format!("{}:{}", self.source, self.line),
        };
        match self.origin {
            Origin::Line => f.write_str(&pos),
            Origin::Array => write!(f, "{pos}: [{}]", self.index),
            Origin::Dataset(split) => write!(f, "{pos}: {}[{}]", split, self.index),
        }
    }
}

/// A problem with the input as a whole (not one skippable example): it cannot be read,
/// is empty, or its structure is broken.
#[derive(Debug)]
pub struct InputError {
    pub place: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for InputError {}

/// What the scan hands to its visitor for each example.
pub struct RawExample<'a> {
    pub location: Location,
    pub span: Span,
    /// The example's bytes, or `None` when it is longer than `MAX_EXAMPLE_BYTES`.
    pub bytes: Option<&'a [u8]>,
}

/// Everything the scan learned about the input besides the examples.
#[derive(Debug, Default)]
pub struct ScanSummary {
    /// The dataset object's `stats`, if it had one.
    pub stats: Option<Value>,
    /// Keys of a dataset object that rlx does not use.
    pub ignored_keys: Vec<String>,
}

impl Source {
    /// Open `input` (a path or `-`), spooling stdin or a gzip stream to an unnamed
    /// temporary file in `spool_dir` so later passes can seek.
    pub fn open(input: &str, spool_dir: &Path) -> anyhow::Result<Source> {
        let (name, mut file): (Arc<str>, File) = if input == "-" {
            let mut spool = create_spool(spool_dir, "spool stdin")?;
            let mut out = io::BufWriter::with_capacity(1 << 18, &mut spool);
            io::copy(&mut io::stdin().lock(), &mut out).context("reading <stdin>")?;
            out.flush().context("writing the spooled stdin")?;
            drop(out);
            spool
                .seek(SeekFrom::Start(0))
                .context("rereading the spooled stdin")?;
            ("<stdin>".into(), spool)
        } else {
            (input.into(), open_file(Path::new(input))?)
        };
        let mut magic = [0u8; 3];
        let n = read_prefix(&mut file, &mut magic).with_context(|| format!("reading {name}"))?;
        let file = if n >= 2 && magic[..2] == GZIP_MAGIC {
            gunzip_to_spool(&mut file, &name, spool_dir)?
        } else {
            file
        };
        let metadata = file.metadata().with_context(|| format!("reading {name}"))?;
        let len = metadata.len();
        let modified = metadata.modified().ok();
        let mut head = [0u8; 3];
        let mut f2 = &file;
        f2.seek(SeekFrom::Start(0))?;
        let n = read_prefix(&mut f2, &mut head)?;
        let start = if n == 3 && head == BOM { 3 } else { 0 };
        if n >= 2 && (head[..2] == [0xFF, 0xFE] || head[..2] == [0xFE, 0xFF] || head[1] == 0) {
            return Err(InputError {
                place: name.to_string(),
                message: "looks like UTF-16 text; expected UTF-8 (convert it with iconv -f UTF-16 -t UTF-8)".into(),
            }
            .into());
        }
        let mut source = Source {
            name,
            file,
            start,
            len,
            modified,
            shape: Shape::JsonLines,
        };
        source.shape = source.detect_shape()?;
        Ok(source)
    }

    pub fn name(&self) -> &Arc<str> {
        &self.name
    }

    /// Size of the (decompressed) input in bytes.
    pub fn byte_len(&self) -> u64 {
        self.len
    }

    /// Fail if the input file was rewritten since it was opened: the second pass copies
    /// lines it validated in the first, so bytes rewritten in between would reach the
    /// export unchecked. A file that only grew is a log being appended to, which changes
    /// nothing already read; a file replaced by a rename is not a change either (the
    /// open file is still the old one, and it is what both passes read).
    pub fn check_unchanged(&self) -> anyhow::Result<()> {
        let now = self
            .file
            .metadata()
            .with_context(|| format!("reading {}", self.name))?;
        let is_rewritten =
            now.len() < self.len || (now.len() == self.len && now.modified().ok() != self.modified);
        if is_rewritten {
            bail!(InputError {
                place: self.name.to_string(),
                message: "was rewritten while rlx was reading it (it shrank, or changed at the same size); expected a file that stays as it is during the export, or only grows (copy it first, or export from a snapshot)".into(),
            });
        }
        Ok(())
    }

    /// Read one example's bytes into `buf`, which has exactly the span's length.
    pub fn read_span(&self, span: Span, buf: &mut [u8]) -> anyhow::Result<()> {
        self.file
            .read_exact_at(buf, span.offset)
            .with_context(|| format!("re-reading {} at byte {}", self.name, span.offset))
    }

    /// The shape, from the first non-blank byte: `[` is an array; `{` whose first key is
    /// `train`, `eval`, `validation` or `stats` is a dataset object; any other `{` starts
    /// JSON Lines.
    fn detect_shape(&self) -> anyhow::Result<Shape> {
        let mut r = ByteReader::new(self, self.start);
        r.skip_ws()?;
        match r.peek()? {
            None => Err(InputError {
                place: self.name.to_string(),
                message: if self.len > self.start {
                    "contains only whitespace; expected JSON Lines, a JSON array of examples or a {\"train\",\"eval\"} dataset object".into()
                } else {
                    "is empty; expected JSON Lines, a JSON array of examples or a {\"train\",\"eval\"} dataset object".into()
                },
            }
            .into()),
            Some(b'[') => Ok(Shape::Array),
            Some(b'{') => {
                // The first object's keys decide: an example's keys mean JSON Lines, a
                // split's key (anywhere among them) a dataset object.
                r.bump()?;
                loop {
                    r.skip_ws()?;
                    if r.peek()? != Some(b'"') {
                        return Ok(Shape::JsonLines);
                    }
                    let Ok(key) = r.read_string(1 << 16) else {
                        return Ok(Shape::JsonLines);
                    };
                    match key.as_str() {
                        "train" | "eval" | "test" | "validation" | "stats" => {
                            return Ok(Shape::Dataset)
                        }
                        "state" | "action" | "reward" | "nextState" | "metadata" => {
                            return Ok(Shape::JsonLines)
                        }
                        _ => {}
                    }
                    r.skip_ws()?;
                    if r.peek()? != Some(b':') {
                        return Ok(Shape::JsonLines);
                    }
                    r.bump()?;
                    r.skip_ws()?;
                    if r.scan_value(None, 0).is_err() {
                        return Ok(Shape::JsonLines);
                    }
                    r.skip_ws()?;
                    if r.peek()? != Some(b',') {
                        return Ok(Shape::JsonLines);
                    }
                    r.bump()?;
                }
            }
            Some(b) => {
                let (line, col) = (r.line, r.column());
                Err(InputError {
                    place: format!("{}:{line}:{col}", self.name),
                    message: format!(
                        "the input starts with {}; expected an example object, a JSON array of examples or a {{\"train\",\"eval\"}} dataset object",
                        describe_start(self, r.pos, b)
                    ),
                }
                .into())
            }
        }
    }

    /// Walk the whole input once, calling `visit` for every example in input order.
    pub fn scan(
        &self,
        mut visit: impl FnMut(RawExample<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<ScanSummary> {
        match self.shape {
            Shape::JsonLines => {
                self.scan_lines(&mut visit)?;
                Ok(ScanSummary::default())
            }
            Shape::Array => {
                let mut r = ByteReader::new(self, self.start);
                r.skip_ws()?;
                r.scan_array(Origin::Array, &mut visit)?;
                r.expect_end()?;
                Ok(ScanSummary::default())
            }
            Shape::Dataset => self.scan_dataset(&mut visit),
        }
    }

    fn scan_lines(
        &self,
        visit: &mut dyn FnMut(RawExample<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut f = &self.file;
        f.seek(SeekFrom::Start(self.start))
            .with_context(|| format!("reading {}", self.name))?;
        // The file as it was when opened: lines a growing log gains meanwhile are left
        // for the next export (and with several inputs they would run into the next
        // input's offsets).
        let mut reader = BufReader::with_capacity(1 << 20, f.take(self.len - self.start));
        let mut line_buf: Vec<u8> = Vec::new();
        let mut offset = self.start;
        let mut line_no: u32 = 0;
        let mut index = 0usize;
        loop {
            line_buf.clear();
            // Read one line, keeping at most MAX_EXAMPLE_BYTES of it.
            let mut line_len: u64 = 0;
            let mut ended = false;
            loop {
                let chunk = match reader.fill_buf() {
                    Ok(c) => c,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        return Err(anyhow::Error::new(e).context(format!("reading {}", self.name)))
                    }
                };
                if chunk.is_empty() {
                    break;
                }
                let (take, found) = match memchr::memchr(b'\n', chunk) {
                    Some(i) => (i + 1, true),
                    None => (chunk.len(), false),
                };
                let room = (MAX_EXAMPLE_BYTES + 2).saturating_sub(line_buf.len());
                line_buf.extend_from_slice(&chunk[..take.min(room)]);
                line_len += take as u64;
                reader.consume(take);
                if found {
                    ended = true;
                    break;
                }
            }
            if line_len == 0 {
                return Ok(());
            }
            line_no = line_no.saturating_add(1);
            let line_start = offset;
            offset += line_len;
            let is_whole = line_buf.len() as u64 == line_len;
            let mut content_len = line_len;
            if is_whole {
                if ended {
                    line_buf.pop();
                    content_len -= 1;
                }
                if line_buf.last() == Some(&b'\r') {
                    line_buf.pop();
                    content_len -= 1;
                }
                if line_buf.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
            } else if ended {
                content_len -= 1;
            }
            let location = Location {
                source: self.name.clone(),
                origin: Origin::Line,
                index,
                line: line_no,
                column: None,
            };
            index += 1;
            let span = Span {
                offset: line_start,
                len: content_len.min(u32::MAX as u64) as u32,
                line: line_no,
            };
            let bytes = if content_len as usize > MAX_EXAMPLE_BYTES {
                None
            } else {
                Some(&line_buf[..content_len as usize])
            };
            visit(RawExample {
                location,
                span,
                bytes,
            })?;
        }
    }

    fn scan_dataset(
        &self,
        visit: &mut dyn FnMut(RawExample<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<ScanSummary> {
        let mut summary = ScanSummary::default();
        let mut r = ByteReader::new(self, self.start);
        r.skip_ws()?;
        r.expect(b'{', "the dataset object")?;
        let mut seen: Vec<String> = Vec::new();
        loop {
            r.skip_ws()?;
            if r.peek()? == Some(b'}') {
                r.bump()?;
                break;
            }
            if !seen.is_empty() {
                r.expect(b',', "',' or '}' after a dataset key's value")?;
                r.skip_ws()?;
            }
            let (line, col) = (r.line, r.column());
            if r.peek()? != Some(b'"') {
                return Err(r.error_here("a key string in the dataset object"));
            }
            let key = r.read_string(1 << 16)?;
            if seen.contains(&key) {
                return Err(InputError {
                    place: format!("{}:{line}:{col}", self.name),
                    message: format!(
                        "the dataset object has \"{key}\" twice; expected each of train, eval (or test), validation and stats at most once"
                    ),
                }
                .into());
            }
            seen.push(key.clone());
            r.skip_ws()?;
            r.expect(b':', "':' after a key")?;
            r.skip_ws()?;
            let split = match key.as_str() {
                "train" => Some(Split::Train),
                // `test` is what Hugging Face (and rlx's own huggingface export) calls eval.
                "eval" | "test" => Some(Split::Eval),
                "validation" => Some(Split::Validation),
                _ => None,
            };
            if key == "test" && seen.iter().any(|k| k == "eval")
                || key == "eval" && seen.iter().any(|k| k == "test")
            {
                return Err(InputError {
                    place: format!("{}:{line}:{col}", self.name),
                    message: "the dataset object has both \"eval\" and \"test\"; expected one of them (rlx reads both as the eval split)".into(),
                }
                .into());
            }
            match split {
                Some(split) => {
                    if r.peek()? != Some(b'[') {
                        return Err(r.error_here(&format!("\"{key}\" to be an array of examples")));
                    }
                    r.scan_array(Origin::Dataset(split), visit)?;
                }
                None => {
                    let mut buf = Vec::new();
                    let start_line = r.line;
                    r.scan_value(Some(&mut buf), 1 << 20)?;
                    if key == "stats" {
                        summary.stats = serde_json::from_slice(&buf).map_err(|e| InputError {
                            place: format!("{}:{}", self.name, start_line + e.line() as u32 - 1),
                            message: format!("\"stats\" is not valid JSON ({e})"),
                        })?;
                    } else {
                        summary.ignored_keys.push(key);
                    }
                }
            }
        }
        r.expect_end()?;
        if !seen
            .iter()
            .any(|k| k == "train" || k == "eval" || k == "validation")
        {
            return Err(InputError {
                place: self.name.to_string(),
                message: "the dataset object has no \"train\", \"eval\" or \"validation\" array; expected {\"train\": [...], \"eval\": [...]}".into(),
            }
            .into());
        }
        Ok(summary)
    }
}

fn open_file(path: &Path) -> anyhow::Result<File> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| InputError {
        place: shown.to_string(),
        message: match e.kind() {
            io::ErrorKind::NotFound => {
                "no such file; expected a JSON Lines, JSON array or dataset file (or - for stdin)"
                    .to_string()
            }
            io::ErrorKind::PermissionDenied => {
                "permission denied; rlx needs to read the input".to_string()
            }
            _ => format!("cannot be read ({e})"),
        },
    })?;
    if meta.is_dir() {
        return Err(InputError {
            place: shown.to_string(),
            message: "is a directory; expected a dataset file".into(),
        }
        .into());
    }
    File::open(path).map_err(|e| {
        InputError {
            place: shown.to_string(),
            message: match e.kind() {
                io::ErrorKind::PermissionDenied => {
                    "permission denied; rlx needs to read the input".to_string()
                }
                _ => format!("cannot be opened ({e})"),
            },
        }
        .into()
    })
}

fn read_prefix(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn gunzip_to_spool(file: &mut File, name: &str, spool_dir: &Path) -> anyhow::Result<File> {
    file.seek(SeekFrom::Start(0))?;
    let mut spool = create_spool(spool_dir, &format!("decompress {name} into"))?;
    let mut decoder = flate2::read::MultiGzDecoder::new(BufReader::new(&*file));
    let mut out = io::BufWriter::with_capacity(1 << 18, &mut spool);
    io::copy(&mut decoder, &mut out).map_err(|e| InputError {
        place: name.to_string(),
        message: format!(
            "starts like gzip but cannot be decompressed ({e}); expected a complete .gz file"
        ),
    })?;
    out.flush().context("writing the decompressed input")?;
    drop(out);
    Ok(spool)
}

fn describe_start(source: &Source, pos: u64, first: u8) -> String {
    let mut buf = vec![0u8; 60];
    let n = source.file.read_at(&mut buf, pos).unwrap_or(0);
    buf.truncate(n);
    let text = String::from_utf8_lossy(&buf);
    let token: String = text
        .chars()
        .take_while(|c| !matches!(c, '\n' | '\r'))
        .collect();
    if buf.starts_with(&BOM) {
        return "a second UTF-8 byte-order mark (U+FEFF)".to_string();
    }
    match first {
        b'"' => format!("a string ({})", quote_cut(&token, false)),
        b'0'..=b'9' | b'-' => format!("a number ({})", quote_cut(&token, false)),
        b't' | b'f' | b'n' => format!("a bare value ({})", quote_cut(&token, false)),
        _ => format!("{}, which is not JSON", quote_cut(&token, true)),
    }
}

/// A forward-only byte reader over the input with line/column tracking, for the
/// structural scan of arrays and dataset objects (element contents are parsed later by
/// serde_json).
struct ByteReader<'s> {
    source: &'s Source,
    buf: Vec<u8>,
    at: usize,
    filled: usize,
    /// File offset of `buf[0]`.
    base: u64,
    pos: u64,
    line: u32,
    line_start: u64,
}

impl<'s> ByteReader<'s> {
    fn new(source: &'s Source, start: u64) -> Self {
        ByteReader {
            source,
            buf: vec![0; 1 << 20],
            at: 0,
            filled: 0,
            base: start,
            pos: start,
            line: 1,
            line_start: start,
        }
    }

    fn column(&self) -> u64 {
        self.pos - self.line_start + 1
    }

    fn fill(&mut self) -> anyhow::Result<bool> {
        if self.at < self.filled {
            return Ok(true);
        }
        self.base += self.filled as u64;
        self.at = 0;
        self.filled = 0;
        loop {
            match self.source.file.read_at(&mut self.buf, self.base) {
                Ok(n) => {
                    self.filled = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(
                        anyhow::Error::new(e).context(format!("reading {}", self.source.name))
                    )
                }
            }
        }
    }

    fn peek(&mut self) -> anyhow::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.at])
        } else {
            None
        })
    }

    fn bump(&mut self) -> anyhow::Result<Option<u8>> {
        if !self.fill()? {
            return Ok(None);
        }
        let b = self.buf[self.at];
        self.at += 1;
        self.pos += 1;
        if b == b'\n' {
            self.line = self.line.saturating_add(1);
            self.line_start = self.pos;
        }
        Ok(Some(b))
    }

    fn skip_ws(&mut self) -> anyhow::Result<()> {
        while let Some(b) = self.peek()? {
            if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.bump()?;
        }
        Ok(())
    }

    fn error_here(&mut self, expected: &str) -> anyhow::Error {
        let found = match self.peek() {
            Ok(None) => "the end of the input (is the file truncated?)".to_string(),
            Ok(Some(b)) => describe_start(self.source, self.pos, b),
            Err(e) => return e,
        };
        InputError {
            place: format!("{}:{}:{}", self.source.name, self.line, self.column()),
            message: format!("found {found}; expected {expected}"),
        }
        .into()
    }

    fn expect(&mut self, b: u8, what: &str) -> anyhow::Result<()> {
        if self.peek()? == Some(b) {
            self.bump()?;
            Ok(())
        } else {
            Err(self.error_here(what))
        }
    }

    fn expect_end(&mut self) -> anyhow::Result<()> {
        self.skip_ws()?;
        if self.peek()?.is_some() {
            return Err(self.error_here("nothing after the closing bracket"));
        }
        Ok(())
    }

    /// Read a JSON string token (at most `limit` bytes) and decode it.
    fn read_string(&mut self, limit: usize) -> anyhow::Result<String> {
        let mut raw = Vec::new();
        let (line, col) = (self.line, self.column());
        self.scan_string(Some(&mut raw), limit)?;
        serde_json::from_slice::<String>(&raw).map_err(|e| {
            InputError {
                place: format!("{}:{line}:{col}", self.source.name),
                message: format!("a key is not a valid JSON string ({e})"),
            }
            .into()
        })
    }

    fn push(out: &mut Option<&mut Vec<u8>>, limit: usize, b: u8) {
        if let Some(v) = out {
            if v.len() < limit {
                v.push(b);
            }
        }
    }

    fn scan_string(&mut self, mut out: Option<&mut Vec<u8>>, limit: usize) -> anyhow::Result<()> {
        let (line, col) = (self.line, self.column());
        // The opening quote.
        if let Some(b) = self.bump()? {
            Self::push(&mut out, limit, b);
        }
        loop {
            match self.bump()? {
                None => {
                    return Err(InputError {
                        place: format!("{}:{line}:{col}", self.source.name),
                        message: "a string starting here never ends (is the file truncated?); expected a closing '\"'".into(),
                    }
                    .into())
                }
                Some(b'\\') => {
                    Self::push(&mut out, limit, b'\\');
                    if let Some(b) = self.bump()? {
                        Self::push(&mut out, limit, b);
                    }
                }
                Some(b'"') => {
                    Self::push(&mut out, limit, b'"');
                    return Ok(());
                }
                Some(b) => Self::push(&mut out, limit, b),
            }
        }
    }

    /// Skip one JSON value, copying at most `limit` of its bytes into `out`. Brackets are
    /// only counted, not matched: the value is parsed properly later.
    fn scan_value(&mut self, mut out: Option<&mut Vec<u8>>, limit: usize) -> anyhow::Result<()> {
        let (line, col) = (self.line, self.column());
        match self.peek()? {
            None => Err(self.error_here("a value")),
            Some(b'"') => self.scan_string(out, limit),
            Some(b'{') | Some(b'[') => {
                let mut depth: u64 = 0;
                loop {
                    match self.peek()? {
                        None => {
                            return Err(InputError {
                                place: format!("{}:{line}:{col}", self.source.name),
                                message: "the value starting here is not closed before the end of the input (is the file truncated?)".into(),
                            }
                            .into())
                        }
                        Some(b'"') => self.scan_string(out.as_deref_mut(), limit)?,
                        Some(b) => {
                            self.bump()?;
                            Self::push(&mut out, limit, b);
                            match b {
                                b'{' | b'[' => depth += 1,
                                b'}' | b']' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        return Ok(());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            Some(_) => {
                while let Some(b) = self.peek()? {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.bump()?;
                    Self::push(&mut out, limit, b);
                }
                Ok(())
            }
        }
    }

    fn scan_array(
        &mut self,
        origin: Origin,
        visit: &mut dyn FnMut(RawExample<'_>) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.expect(b'[', "'['")?;
        let mut element = Vec::new();
        let mut index = 0usize;
        loop {
            self.skip_ws()?;
            if self.peek()? == Some(b']') {
                self.bump()?;
                return Ok(());
            }
            if index > 0 {
                self.expect(b',', "',' or ']' after an array element")?;
                self.skip_ws()?;
                if self.peek()? == Some(b']') {
                    return Err(self
                        .error_here("another element after ',' (JSON allows no trailing comma)"));
                }
            }
            let (line, col, offset) = (self.line, self.column(), self.pos);
            element.clear();
            self.scan_value(Some(&mut element), MAX_EXAMPLE_BYTES + 1)?;
            let len = self.pos - offset;
            let location = Location {
                source: self.source.name.clone(),
                origin,
                index,
                line,
                column: Some(col as u32),
            };
            visit(RawExample {
                location,
                span: Span {
                    offset,
                    len: len.min(u32::MAX as u64) as u32,
                    line,
                },
                bytes: (len as usize <= MAX_EXAMPLE_BYTES).then_some(&element[..]),
            })?;
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewritten_input_is_noticed_and_a_growing_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let line = "{\"state\":{},\"action\":{},\"reward\":1}\n";
        std::fs::write(&path, line.repeat(3)).unwrap();
        let source = Source::open(path.to_str().unwrap(), dir.path()).unwrap();
        assert!(source.check_unchanged().is_ok());
        // Appended to, as a live log is.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(line.as_bytes()).unwrap();
        assert!(source.check_unchanged().is_ok());
        // Rewritten in place at the same size, with a new modification time.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::write(&path, line.repeat(3)).unwrap();
        let source = Source::open(path.to_str().unwrap(), dir.path()).unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.write_at(b" ", 1).unwrap();
        f.set_modified(later).unwrap();
        let e = source.check_unchanged().unwrap_err().to_string();
        assert!(e.contains("was rewritten while rlx was reading it"), "{e}");
        // Truncated.
        std::fs::write(&path, line.repeat(3)).unwrap();
        let source = Source::open(path.to_str().unwrap(), dir.path()).unwrap();
        std::fs::write(&path, line).unwrap();
        assert!(source.check_unchanged().is_err());
    }

    fn loc() -> Location {
        Location {
            source: "f.jsonl".into(),
            origin: Origin::Line,
            index: 0,
            line: 7,
            column: None,
        }
    }

    #[test]
    fn nan_and_infinity_are_named_with_their_key() {
        let e = parse_json(br#"{"state":{},"action":{},"reward":NaN}"#, &loc()).unwrap_err();
        assert!(e.message.starts_with("\"reward\" is NaN"), "{}", e.message);
        assert_eq!(e.line, Some(7));
        let e = parse_json(br#"{"state":{},"action":{},"reward": -Infinity}"#, &loc()).unwrap_err();
        assert!(
            e.message.starts_with("\"reward\" is -Infinity"),
            "{}",
            e.message
        );
    }

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let e = parse_json(br#"{"state":{} "action":{}}"#, &loc()).unwrap_err();
        assert_eq!((e.line, e.column), (Some(7), Some(13)));
        let e = parse_json(br#"{"state":{"a":1"#, &loc()).unwrap_err();
        assert!(e.message.contains("ends early"), "{}", e.message);
        let e = parse_json(b"{\"a\":\"\xff\"}", &loc()).unwrap_err();
        assert!(e.message.contains("0xff"), "{}", e.message);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = parse_json(deep.as_bytes(), &loc()).unwrap_err();
        assert!(e.message.contains("nesting"), "{}", e.message);
    }

    #[test]
    fn locations_render_per_origin() {
        let mut l = loc();
        assert_eq!(l.to_string(), "f.jsonl:7");
        l.origin = Origin::Dataset(Split::Train);
        l.index = 41;
        assert_eq!(l.to_string(), "f.jsonl:7: train[41]");
    }
}
