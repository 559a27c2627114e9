//! The harness every end-to-end test uses: a fresh directory per test, the real `rlx`
//! binary run inside it, and assertions that print the command, its exit status and its
//! stderr when they fail. Nothing here knows about formats or policies.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use serde_json::Value;

/// The timestamp every export is stamped with unless a test is about timestamps.
pub const EPOCH: &str = "1700000000";
/// `EPOCH` as `exportedAt` spells it.
pub const EPOCH_ISO: &str = "2023-11-14T22:13:20.000Z";

/// The repository root (where `fixtures/` and `tests/` live).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file under `fixtures/`, as an absolute path.
pub fn fixture(relative: &str) -> PathBuf {
    let p = repo().join("fixtures").join(relative);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

/// `fixture` as a string argument.
pub fn fx(relative: &str) -> String {
    fixture(relative).display().to_string()
}

/// A temporary directory that one test owns; `rlx` runs with it as the working directory.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Default for Workdir {
    fn default() -> Self {
        Self::new()
    }
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::Builder::new()
                .prefix("rlx-e2e-")
                .tempdir()
                .expect("the system temp directory is writable"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root().join(relative)
    }

    /// A command running `rlx args…` in this directory with `SOURCE_DATE_EPOCH` fixed.
    pub fn rlx<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Cmd::new(env!("CARGO_BIN_EXE_rlx"), self.root()).args(args)
    }

    /// A command running `sh -c script` in this directory, with `$RLX` set to the binary.
    pub fn sh(&self, script: &str) -> Cmd {
        Cmd::new("sh", self.root())
            .args(["-c", script])
            .env("RLX", env!("CARGO_BIN_EXE_rlx"))
    }

    pub fn write(&self, relative: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(relative);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("creating a directory in the workdir");
        }
        fs::write(&p, bytes).expect("writing a file in the workdir");
        p
    }

    pub fn read(&self, relative: &str) -> Vec<u8> {
        let p = self.path(relative);
        fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
    }

    pub fn read_string(&self, relative: &str) -> String {
        String::from_utf8(self.read(relative)).unwrap_or_else(|_| panic!("{relative} is not UTF-8"))
    }

    /// Names in the workdir's top level, sorted, hidden ones included.
    pub fn entries(&self) -> Vec<String> {
        list_dir(self.root())
    }
}

/// Names in `dir`, sorted, hidden ones included.
pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| {
            e.expect("reading a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// Every file under `dir`, by path relative to it, with its bytes.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
            let p = e.expect("reading a directory entry").path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .expect("walk stays under its base")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&p).expect("reading an exported file"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A command to run, remembered as text so a failure can show it.
pub struct Cmd {
    cmd: Command,
    shown: String,
    stdin: Option<Vec<u8>>,
}

impl Cmd {
    fn new(program: &str, cwd: &Path) -> Cmd {
        let mut cmd = Command::new(program);
        cmd.current_dir(cwd)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            // No colour, no terminal: the output is what a script sees.
            .env_remove("RUST_BACKTRACE")
            .env("NO_COLOR", "1");
        let name = Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.to_string());
        Cmd {
            cmd,
            shown: format!("(cd {} && {name}", cwd.display()),
            stdin: None,
        }
    }

    pub fn arg(mut self, a: impl Into<OsString>) -> Cmd {
        let a = a.into();
        let _ = write!(self.shown, " {}", shell_quote(&a.to_string_lossy()));
        self.cmd.arg(a);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.cmd.env(key, value);
        self.shown = format!("{key}={} {}", shell_quote(value), self.shown);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Cmd {
        self.cmd.env_remove(key);
        self.shown = format!("env -u {key} {}", self.shown);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Cmd {
        self.stdin = Some(bytes.into());
        self.shown.push_str(" < (stdin)");
        self
    }

    pub fn run(mut self) -> Run {
        self.cmd
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self
            .cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}): {e}", self.shown));
        let writer = self.stdin.take().map(|bytes| {
            let mut pipe = child.stdin.take().expect("stdin was piped");
            // A writer thread, so a child that stops reading cannot deadlock the test.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            })
        });
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let mut out_pipe = child.stdout.take().expect("stdout was piped");
        let mut err_pipe = child.stderr.take().expect("stderr was piped");
        let err_thread = std::thread::spawn(move || {
            let _ = err_pipe.read_to_end(&mut stderr);
            stderr
        });
        let _ = out_pipe.read_to_end(&mut stdout);
        let stderr = err_thread.join().expect("the stderr reader does not panic");
        let status = child.wait().expect("waiting for the child");
        if let Some(w) = writer {
            let _ = w.join();
        }
        Run {
            shown: format!("{})", self.shown),
            status,
            stdout,
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        }
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A finished command.
pub struct Run {
    pub shown: String,
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// What a failed assertion prints: the command, how it ended, and what it said.
    pub fn report(&self) -> String {
        let stdout = String::from_utf8_lossy(&self.stdout);
        let cut = |s: &str| -> String {
            if s.len() > 4000 {
                let mut end = 4000;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                format!("{}… ({} bytes in all)", &s[..end], s.len())
            } else {
                s.to_string()
            }
        };
        format!(
            "\ncommand: {}\nstatus:  {}\nstderr:\n{}\nstdout:\n{}\n",
            self.shown,
            self.describe_status(),
            cut(&self.stderr),
            cut(&stdout)
        )
    }

    fn describe_status(&self) -> String {
        match (self.status.code(), self.status.signal()) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "unknown".into(),
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// Assert the exit status.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            Some(code),
            "expected exit {code}{}",
            self.report()
        );
        self
    }

    #[track_caller]
    pub fn expect_success(&self) -> &Run {
        self.expect_code(0)
    }

    /// Assert that stderr contains `part`.
    #[track_caller]
    pub fn expect_stderr(&self, part: &str) -> &Run {
        assert!(
            self.stderr.contains(part),
            "expected stderr to contain {part:?}{}",
            self.report()
        );
        self
    }

    /// The one `error: ` line `main` prints, which must exist and be the only one.
    #[track_caller]
    pub fn error_line(&self) -> &str {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            lines.len(),
            1,
            "expected exactly one error line{}",
            self.report()
        );
        lines[0]
    }

    /// stdout as the one JSON object `--json` prints, newline-terminated.
    #[track_caller]
    pub fn json(&self) -> Value {
        let text = std::str::from_utf8(&self.stdout)
            .unwrap_or_else(|_| panic!("stdout is not UTF-8{}", self.report()));
        assert!(
            text.ends_with('\n') && text.trim_end().lines().count() == 1,
            "--json must print one JSON object on one newline-terminated line{}",
            self.report()
        );
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}){}", self.report()))
    }
}

/// A field of a JSON value by a path of keys, failing with the whole value shown.
#[track_caller]
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for key in path.split('.') {
        cur = cur
            .get(key)
            .unwrap_or_else(|| panic!("no {path} (missing {key:?}) in {v:#}"));
    }
    cur
}

#[track_caller]
pub fn at_u64(v: &Value, path: &str) -> u64 {
    at(v, path)
        .as_u64()
        .unwrap_or_else(|| panic!("{path} is not an unsigned integer in {v:#}"))
}

#[track_caller]
pub fn at_str<'a>(v: &'a Value, path: &str) -> &'a str {
    at(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string in {v:#}"))
}

/// (train, eval, validation, total) from a result's stats.
#[track_caller]
pub fn split_counts(result: &Value) -> (u64, u64, u64, u64) {
    (
        at_u64(result, "stats.trainExamples"),
        at_u64(result, "stats.evalExamples"),
        at_u64(result, "stats.validationExamples"),
        at_u64(result, "stats.totalExamples"),
    )
}

/// The lines of a JSON Lines text, each parsed; a file that is absent gives none.
#[track_caller]
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    if !path.exists() {
        return Vec::new();
    }
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let bytes = if path.extension().is_some_and(|e| e == "gz") {
        gunzip(&bytes)
    } else {
        bytes
    };
    let text =
        String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()));
    text.lines()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}:{}: not JSON ({e}): {l}", path.display(), i + 1))
        })
        .collect()
}

/// The non-blank lines of a JSON Lines file, parsed (for input fixtures).
pub fn input_examples(path: &Path) -> Vec<Value> {
    read_jsonl(path)
}

pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip stream");
    out
}

/// A canonical text for a JSON value: object keys sorted at every level, numbers as
/// written. Two values are the same example exactly when their canonical texts match.
pub fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k.as_str()])))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// The multiset of canonical texts, sorted.
pub fn canonical_sorted(values: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = values.iter().map(canonical).collect();
    v.sort();
    v
}

/// Whether writing into `dir` is refused (false when running as root, which ignores
/// permission bits).
pub fn is_write_refused(dir: &Path) -> bool {
    let probe = dir.join(".rlx-probe");
    match fs::write(&probe, b"x") {
        Ok(()) => {
            let _ = fs::remove_file(&probe);
            false
        }
        Err(_) => true,
    }
}

/// `rlx export - -o out [extra]` stopped while it spools a stdin that stays open: it holds
/// the output's lock and its staging directory, and does nothing until told.
pub struct HeldExport {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
}

impl HeldExport {
    /// Start it and wait until its spool of stdin is open inside its staging directory.
    pub fn start(wd: &Workdir, extra: &[&str]) -> HeldExport {
        HeldExport::start_into(wd, "out", extra)
    }

    /// `start`, exporting into `out`.
    pub fn start_into(wd: &Workdir, out: &str, extra: &[&str]) -> HeldExport {
        use std::time::{Duration, Instant};
        let tmp = wd.path("tmp");
        fs::create_dir_all(&tmp).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_rlx"))
            .args(["export", "-", "-o", out])
            .args(extra)
            .current_dir(wd.root())
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("TMPDIR", &tmp)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting rlx");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(&fs::read(fixture("tiny/five.jsonl")).unwrap())
            .unwrap();
        let mut held = HeldExport {
            child,
            stdin: Some(stdin),
        };
        let started = Instant::now();
        while held.spool().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let entries = wd.entries();
                let _ = held.child.kill();
                panic!("rlx never started spooling stdin: {entries:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        held
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Where the spool of stdin is, as /proc shows the open file: inside the staging
    /// directory and already deleted (`.../.out.rlx-tmp-XXXXXX/#1234 (deleted)`; the
    /// spool is the only file rlx holds open there).
    pub fn spool(&self) -> Option<String> {
        let fds = fs::read_dir(format!("/proc/{}/fd", self.pid())).ok()?;
        fds.flatten()
            .filter_map(|fd| fs::read_link(fd.path()).ok())
            .map(|target| target.to_string_lossy().into_owned())
            .find(|target| target.contains(".rlx-tmp-"))
    }

    /// Send `signal` (`-INT`, `-KILL`, ...) and return how it ended.
    pub fn kill(mut self, signal: &str) -> ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill {signal} failed");
        // stdin stays open until rlx has exited: closing it first would let the export
        // run to its end, racing the signal, on a loaded machine.
        let status = self.wait();
        drop(self.stdin.take());
        status
    }

    /// Close stdin so the export goes on to its end, and return how it ended.
    pub fn finish(mut self) -> ExitStatus {
        drop(self.stdin.take());
        self.wait()
    }

    fn wait(&mut self) -> ExitStatus {
        use std::time::{Duration, Instant};
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for rlx") {
                return status;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("rlx did not exit within 20 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
