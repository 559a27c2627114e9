//! What survives SIGKILL, a second rlx and a power loss: kills at every step of an export
//! (through `RLX_FAULT`, and a real `kill -9` from outside), the output's lock, the stale
//! staging directories the next export or `rlx clean` reclaims, where the spools live,
//! and the fsync calls, read off `strace`.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

const SIGKILL: i32 = 9;

fn export_all(wd: &Workdir, out: &str, extra: &[&str]) -> Cmd {
    wd.rlx([
        "export",
        &fx("extraction/examples.jsonl"),
        "-o",
        out,
        "--format",
        "all",
    ])
    .args(extra)
}

/// Names beside the outputs that belong to rlx's bookkeeping (staging, aside, lock).
fn leftovers(wd: &Workdir) -> Vec<String> {
    wd.entries()
        .into_iter()
        .filter(|n| n.starts_with(".out.rlx-"))
        .collect()
}

#[test]
fn sigkill_at_every_step_leaves_the_old_or_the_new_export_and_the_next_one_reclaims() {
    let reference = Workdir::new();
    export_all(&reference, "out", &[]).run().expect_success();
    let new = read_tree(&reference.path("out"));
    // (fault, whether the kill lands after the new export is in place)
    let points = [
        ("kill-after-scan", false),
        ("kill-mid-write", false),
        ("kill-after-swap", true),
        ("no-exchange,kill-after-swap", true),
    ];
    for (fault, is_swapped) in points {
        let wd = Workdir::new();
        wd.write("out/old.txt", "old");
        let run = export_all(&wd, "out", &["--force"])
            .env("RLX_FAULT", fault)
            .run();
        assert_eq!(run.signal(), Some(SIGKILL), "{fault}{}", run.report());
        let out = read_tree(&wd.path("out"));
        if is_swapped {
            assert!(out == new, "{fault}: out is not the complete new export");
        } else {
            assert_eq!(list_dir(&wd.path("out")), ["old.txt"], "{fault}");
        }
        let left = leftovers(&wd);
        assert!(
            left.iter()
                .any(|n| n.starts_with(".out.rlx-tmp-") || n.starts_with(".out.rlx-old-")),
            "{fault}: expected the killed export's staging or old directory, found {left:?}"
        );

        let run = export_all(&wd, "out", &["--force", "--json"]).run();
        run.expect_success();
        let result = run.json();
        let removed = at(&result, "reclaimed.removed").as_array().unwrap();
        assert_eq!(removed.len(), 1, "{fault}: {result:#}");
        // Killed after the scan, the staging directory holds no file yet.
        let has_files = fault != "kill-after-scan";
        assert_eq!(
            at_u64(&result, "reclaimed.bytes") > 0,
            has_files,
            "{fault}: {result:#}"
        );
        assert_eq!(wd.entries(), ["out"], "{fault}");
        assert!(read_tree(&wd.path("out")) == new, "{fault}");
    }
}

#[test]
fn a_kill_between_the_two_renames_of_the_fallback_swap_is_undone_by_clean() {
    let wd = Workdir::new();
    wd.write("out/old.txt", "old");
    let run = export_all(&wd, "out", &["--force"])
        .env("RLX_FAULT", "no-exchange,kill-between-renames")
        .run();
    assert_eq!(run.signal(), Some(SIGKILL), "{}", run.report());
    assert!(
        !wd.path("out").exists(),
        "the kill came after moving out aside"
    );

    // An export without --force finds the old export put back, and leaves it alone.
    let run = export_all(&wd, "out", &[]).run();
    run.expect_code(1);
    assert!(
        run.error_line()
            .contains("out exists and is not empty; pass --force"),
        "{}",
        run.report()
    );
    assert_eq!(wd.read_string("out/old.txt"), "old");

    let wd = Workdir::new();
    wd.write("out/old.txt", "old");
    let run = export_all(&wd, "out", &["--force"])
        .env("RLX_FAULT", "no-exchange,kill-between-renames")
        .run();
    assert_eq!(run.signal(), Some(SIGKILL), "{}", run.report());
    let run = wd.rlx(["clean", "out", "--json"]).run();
    run.expect_success();
    let result = run.json();
    assert!(
        at_str(&result, "restored").contains(".out.rlx-old-"),
        "{result:#}"
    );
    assert_eq!(at_str(&result, "restoredTo"), "out");
    assert_eq!(at(&result, "removed").as_array().unwrap().len(), 1);
    assert_eq!(wd.entries(), ["out"]);
    assert_eq!(wd.read_string("out/old.txt"), "old");

    let run = wd.rlx(["clean", "out"]).run();
    run.expect_success()
        .expect_stderr("nothing left behind by killed exports of out");
}

#[test]
fn an_outside_sigkill_while_spooling_stdin_leaves_nothing_in_tmp_and_clean_reclaims_it() {
    let wd = Workdir::new();
    let held = HeldExport::start(&wd, &[]);
    let spool = held.spool().expect("the spool is open");
    assert!(
        spool.ends_with("(deleted)"),
        "the spool of stdin has a name on disk: {spool}"
    );
    let status = held.kill("-KILL");
    assert_eq!(status.signal(), Some(SIGKILL));
    assert!(list_dir(&wd.path("tmp")).is_empty(), "TMPDIR is not empty");
    let left = leftovers(&wd);
    assert_eq!(left.len(), 2, "{left:?}");
    assert_eq!(left[0], ".out.rlx-lock");
    assert!(left[1].starts_with(".out.rlx-tmp-"), "{left:?}");

    let run = wd.rlx(["clean", "out", "--json"]).run();
    run.expect_success();
    let result = run.json();
    assert_eq!(
        at(&result, "removed").as_array().unwrap()[0]
            .as_str()
            .unwrap(),
        left[1]
    );
    assert_eq!(wd.entries(), ["tmp"]);
}

/// Wait at most 20 s for `cmd`: a second export that read its input before checking the
/// lock would block on the FIFO forever.
fn run_with_deadline(mut cmd: Command) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting rlx");
    let started = Instant::now();
    while child.try_wait().expect("waiting").is_none() {
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("rlx is still running after 20 s: it opened its input before the lock");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("collecting rlx's output")
}

#[test]
fn a_second_export_into_the_same_directory_fails_at_once_naming_the_first() {
    let wd = Workdir::new();
    let first = HeldExport::start(&wd, &[]);
    let fifo = wd.path("never-written");
    let status = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(status.success());

    let mut second = Command::new(env!("CARGO_BIN_EXE_rlx"));
    second
        .args(["export", fifo.to_str().unwrap(), "-o", "out", "--force"])
        .current_dir(wd.root());
    let out = run_with_deadline(second);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let pid = first.pid();
    assert!(
        stderr.contains(&format!("another rlx (pid {pid}, started "))
            && stderr.contains("rlx export - -o out) is exporting into out; wait for it"),
        "{stderr}"
    );

    let mut clean = Command::new(env!("CARGO_BIN_EXE_rlx"));
    clean.args(["clean", "out"]).current_dir(wd.root());
    let out = run_with_deadline(clean);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing was removed"), "{stderr}");
    assert!(first.spool().is_some(), "clean touched the live export");

    let status = first.finish();
    assert_eq!(status.code(), Some(0));
    assert_eq!(wd.entries(), ["never-written", "out", "tmp"]);
    assert_eq!(read_jsonl(&wd.path("out/train.jsonl")).len(), 4);
}

/// The paths fsync'd and the renames, in the order `strace -f -y` saw them.
fn traced_export(wd: &Workdir, extra: &[&str]) -> Vec<(String, String)> {
    let strace = Command::new("strace").arg("-V").output();
    assert!(
        strace.is_ok_and(|o| o.status.success()),
        "this test reads rlx's system calls with strace: install it (apt-get install strace; .ci/run does)"
    );
    let trace = wd.path("trace.txt");
    let run = wd
        .sh(&format!(
            "strace -f -y -qq -e trace=fsync,fdatasync,rename,renameat,renameat2 -o {} \"$RLX\" export {} --format all -q {}",
            trace.display(),
            fx("extraction/examples.jsonl"),
            extra.join(" ")
        ))
        .run();
    run.expect_success();
    let text = fs::read_to_string(&trace).unwrap();
    fs::remove_file(&trace).unwrap();
    text.lines()
        .filter_map(|line| {
            // "1234  fsync(7</tmp/x/.out.rlx-tmp-abc/jsonl/train.jsonl>) = 0"
            let call = line.split_whitespace().nth(1)?;
            let (name, args) = call.split_once('(')?;
            let path = match name {
                "fsync" | "fdatasync" => args.split_once('<')?.1.split_once('>')?.0.to_string(),
                _ => line.to_string(),
            };
            Some((name.to_string(), path))
        })
        .collect()
}

#[test]
fn every_file_and_directory_is_synced_before_the_swap_and_the_parent_after() {
    let wd = Workdir::new();
    wd.write("out/old.txt", "old");
    let calls = traced_export(&wd, &["-o", "out", "--force"]);
    let swap = calls
        .iter()
        .position(|(name, _)| name == "renameat2")
        .unwrap_or_else(|| panic!("no renameat2 among {calls:#?}"));
    assert!(
        calls[swap].1.contains("RENAME_EXCHANGE"),
        "{}",
        calls[swap].1
    );
    let synced_before: BTreeSet<String> = calls[..swap]
        .iter()
        .filter(|(name, _)| name == "fsync")
        .map(|(_, path)| {
            let at = path
                .find(".out.rlx-tmp-")
                .expect("synced inside the staging dir");
            // ".out.rlx-tmp-abc123/openai/train.jsonl" -> "openai/train.jsonl"; a
            // parquet shard is synced as ".NAME.partial", then renamed to NAME.
            let rest = path[at..].split_once('/').map_or("", |(_, rest)| rest);
            match rest.rsplit_once("/.") {
                Some((dir, file)) if file.ends_with(".partial") => {
                    format!("{dir}/{}", file.trim_end_matches(".partial"))
                }
                _ => rest.to_string(),
            }
        })
        .collect();
    let mut expected: BTreeSet<String> = read_tree(&wd.path("out")).into_keys().collect();
    for file in expected.clone() {
        let mut dir = file.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            expected.insert(parent.to_string());
            dir = parent;
        }
    }
    expected.insert(String::new());
    assert_eq!(synced_before, expected, "synced before the swap");
    let parent = wd.root().canonicalize().unwrap().display().to_string();
    assert!(
        calls[swap + 1..]
            .iter()
            .any(|(name, path)| name == "fsync" && *path == parent),
        "the parent {parent} is not synced after the swap: {:#?}",
        &calls[swap..]
    );

    let wd = Workdir::new();
    let calls = traced_export(&wd, &["-o", "out", "--no-sync"]);
    assert!(
        calls
            .iter()
            .all(|(name, _)| name != "fsync" && name != "fdatasync"),
        "--no-sync still syncs: {calls:#?}"
    );
    assert!(calls.iter().any(|(name, _)| name.starts_with("rename")));

    // Directories rlx creates on the way are named in their parents, which are synced.
    let wd = Workdir::new();
    let calls = traced_export(&wd, &["-o", "new/deeper/out"]);
    let root = wd.root().canonicalize().unwrap().display().to_string();
    for dir in [
        format!("{root}/new/deeper"),
        format!("{root}/new"),
        root.clone(),
    ] {
        assert!(
            calls
                .iter()
                .any(|(name, path)| name == "fsync" && *path == dir),
            "{dir} is not synced: {calls:#?}"
        );
    }
}

#[test]
fn a_failed_export_removes_only_the_empty_parents_it_created() {
    let wd = Workdir::new();
    // The first export creates parts/ and holds; a second one finishes beside it.
    let first = HeldExport::start_into(&wd, "parts/p0", &[]);
    wd.rlx(["export", &fx("tiny/five.jsonl"), "-o", "parts/p1"])
        .run()
        .expect_success();
    let status = first.kill("-INT");
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        list_dir(&wd.path("parts")),
        ["p1"],
        "the sibling export is gone"
    );
    assert_eq!(read_jsonl(&wd.path("parts/p1/train.jsonl")).len(), 4);

    // Alone, a failed export leaves none of the directories it created.
    let run = wd
        .rlx([
            "export",
            &fx("bad/reward-is-string.jsonl"),
            "-o",
            "a/b/c/out",
        ])
        .run();
    run.expect_code(1);
    assert!(!wd.path("a").exists(), "{:?}", wd.entries());
}
