//! Stale leftovers of an export that was killed (SIGKILL, the OOM killer, a crash, power
//! loss): its staging directory `.NAME.rlx-tmp-XXXXXX` and, where the swap had to take
//! two steps, the old export moved aside as `.NAME.rlx-old-XXXXXX`. Called only with the
//! output's lock held, so no live rlx owns them; an old export aside whose output is
//! missing is put back, everything else is removed and counted.

use std::fs;
use std::io;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

/// The staging directory prefix of an output named `name`.
pub fn staging_prefix(name: &str) -> String {
    format!(".{name}.rlx-tmp-")
}

/// The prefix of an old export moved aside during a two-step swap.
pub fn aside_prefix(name: &str) -> String {
    format!(".{name}.rlx-old-")
}

/// What was cleaned up beside an output.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Reclaimed {
    /// Directories removed, as paths beside the output.
    pub removed: Vec<String>,
    /// Bytes of the files in them.
    pub bytes: u64,
    /// An old export found aside with the output missing, renamed back into place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored: Option<String>,
    /// Where it was put back (the output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restored_to: Option<String>,
}

impl Reclaimed {
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.restored.is_none()
    }
}

/// Whether `file_name` is `prefix` followed by tempfile's random suffix.
fn has_suffix_after(file_name: &str, prefix: &str) -> bool {
    file_name.strip_prefix(prefix).is_some_and(|rest| {
        (1..=32).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// With the lock of `parent/name` held: put back an old export whose output is missing,
/// remove every other staging or aside directory of that output.
pub fn reclaim_stale(parent: &Path, name: &str) -> anyhow::Result<Reclaimed> {
    let target = parent.join(name);
    let (staging, aside) = (staging_prefix(name), aside_prefix(name));
    let mut stale_staging = Vec::new();
    let mut stale_aside = Vec::new();
    let entries = match fs::read_dir(parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Reclaimed::default()),
        Err(e) => {
            return Err(e).with_context(|| format!("reading the directory {}", parent.display()))
        }
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading the directory {}", parent.display()))?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_dir {
            continue;
        }
        if has_suffix_after(&file_name, &staging) {
            stale_staging.push(entry.path());
        } else if has_suffix_after(&file_name, &aside) {
            stale_aside.push(entry.path());
        }
    }
    stale_staging.sort();
    // Oldest first, so the one put back (the last) is the newest aside.
    let modified = |p: &std::path::PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    stale_aside.sort_by(|a, b| modified(a).cmp(&modified(b)).then(a.cmp(b)));
    let mut reclaimed = Reclaimed::default();
    if fs::symlink_metadata(&target).is_err() {
        if let Some(old) = stale_aside.pop() {
            fs::rename(&old, &target).with_context(|| {
                format!(
                    "putting back {}, the previous export of {} that a killed rlx had moved aside; rename it to {} by hand",
                    old.display(),
                    target.display(),
                    target.display()
                )
            })?;
            // The old export is back under its name; make that survive a power loss.
            let _ = super::durable::sync_dir(parent);
            reclaimed.restored = Some(shown(&old));
            reclaimed.restored_to = Some(shown(&target));
        }
    }
    for dir in stale_staging.into_iter().chain(stale_aside) {
        let bytes = tree_bytes(&dir);
        fs::remove_dir_all(&dir).with_context(|| {
            format!(
                "removing {}, left by an rlx export that was killed; expected to be able to delete it (remove it by hand)",
                dir.display()
            )
        })?;
        reclaimed.bytes += bytes;
        reclaimed.removed.push(shown(&dir));
    }
    Ok(reclaimed)
}

/// A path beside the output as the user named it (`.out.rlx-tmp-abc123` for `-o out`,
/// not `./.out.rlx-tmp-abc123`).
fn shown(path: &Path) -> String {
    path.strip_prefix(".").unwrap_or(path).display().to_string()
}

/// Bytes of the regular files under `dir`, not following symbolic links.
fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_bytes(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_directories_are_removed_and_counted_and_others_kept() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path();
        fs::create_dir_all(p.join(".out.rlx-tmp-abc123/openai")).unwrap();
        fs::write(p.join(".out.rlx-tmp-abc123/openai/train.jsonl"), "12345").unwrap();
        fs::create_dir(p.join(".out.rlx-old-XYZ789")).unwrap();
        fs::write(p.join(".out.rlx-old-XYZ789/a"), "123").unwrap();
        fs::create_dir(p.join("out")).unwrap();
        // Another output's staging, and a name that only looks alike: kept.
        fs::create_dir(p.join(".other.rlx-tmp-abc123")).unwrap();
        fs::create_dir(p.join(".out.rlx-tmp-has.dot")).unwrap();
        let r = reclaim_stale(p, "out").unwrap();
        assert_eq!(r.bytes, 8);
        assert_eq!(r.removed.len(), 2);
        assert_eq!(r.restored, None);
        let mut left: Vec<String> = fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".other.rlx-tmp-abc123", ".out.rlx-tmp-has.dot", "out"]
        );
    }

    #[test]
    fn an_old_export_aside_comes_back_when_the_output_is_missing() {
        let root = tempfile::tempdir().unwrap();
        let p = root.path();
        fs::create_dir(p.join(".out.rlx-old-XYZ789")).unwrap();
        fs::write(p.join(".out.rlx-old-XYZ789/train.jsonl"), "old").unwrap();
        let r = reclaim_stale(p, "out").unwrap();
        assert!(r.restored.is_some());
        assert!(r.removed.is_empty());
        assert_eq!(
            fs::read_to_string(p.join("out/train.jsonl")).unwrap(),
            "old"
        );
    }
}
