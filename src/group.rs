//! Group keys, hashed while the scan reads each example: `--pair-by` (the original
//! dpo-trainer's per-policy key, the whole state, or dotted paths) and the action
//! fingerprints that keep identical actions apart. Only 64-bit hashes leave this room;
//! no key is kept as text, so a million examples cost a few megabytes.
//!
//! The Fx hashes decide who is grouped with whom, never the order of anything written.
//! The hash split's unit is SHA-256, as README documents it, so anyone can recompute it.

use std::borrow::Cow;
use std::hash::Hasher;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::example::Policy;
use crate::json::{items_of, minified, string_of, ExampleText, Raw, RawMap};

/// A dotted path into an example: its first segment names a part of the example
/// (`state`, `action`, `reward`, `nextState`, `metadata` or another top-level key), the
/// rest descend into objects (or arrays, by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath(Vec<String>);

impl KeyPath {
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// The value at the path, if the example has one (a JSON null counts as a value).
    pub fn find<'a>(&self, example: &ExampleText<'a>) -> Option<Raw<'a>> {
        let (first, rest) = self.0.split_first()?;
        let mut at = match first.as_str() {
            "state" => example.state,
            "action" => example.action,
            "reward" => example.reward,
            "nextState" => example.next_state?,
            "metadata" => example.metadata?,
            other => example.extra.iter().rev().find(|(k, _)| k == other)?.1,
        };
        for segment in rest {
            at = match at.get().as_bytes().first() {
                Some(b'{') => RawMap::parse(at).ok()?.get(segment)?,
                Some(b'[') => {
                    let i: usize = segment.parse().ok()?;
                    *items_of(at).ok()?.get(i)?
                }
                _ => return None,
            };
        }
        Some(at)
    }
}

impl FromStr for KeyPath {
    type Err = String;

    fn from_str(s: &str) -> Result<KeyPath, String> {
        let segments: Vec<String> = s.trim().split('.').map(str::to_string).collect();
        if segments.iter().any(|p| p.is_empty()) {
            return Err(format!(
                "\"{s}\" is not a dotted path; expected keys joined by dots, such as metadata.sessionId"
            ));
        }
        Ok(KeyPath(segments))
    }
}

impl std::fmt::Display for KeyPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// `--pair-by`: what makes two examples comparable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairBy {
    /// The original dpo-trainer's key per policy, bucketing included.
    Original,
    /// The whole state, compared as minified JSON text.
    State,
    /// Dotted paths, compared by exact value (minified JSON text).
    Paths(Vec<KeyPath>),
}

impl FromStr for PairBy {
    type Err = String;

    fn from_str(s: &str) -> Result<PairBy, String> {
        match s.trim() {
            "original" => Ok(PairBy::Original),
            "state" => Ok(PairBy::State),
            list => Ok(PairBy::Paths(
                list.split(',')
                    .map(KeyPath::from_str)
                    .collect::<Result<_, _>>()?,
            )),
        }
    }
}

impl std::fmt::Display for PairBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PairBy::Original => f.write_str("original"),
            PairBy::State => f.write_str("state"),
            PairBy::Paths(p) => {
                let names: Vec<String> = p.iter().map(|p| p.to_string()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

/// A 64-bit hash of byte strings, each length-prefixed so `["ab","c"]` and `["a","bc"]`
/// differ. Stable across runs and machines.
pub fn hash_parts<'p>(parts: impl IntoIterator<Item = &'p [u8]>) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    for p in parts {
        h.write_usize(p.len());
        h.write(p);
    }
    // FxHasher's last step mixes weakly; a final avalanche spreads the bits.
    let mut x = h.finish();
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// The fingerprint of a value as minified text: equal text, equal fingerprint.
pub fn fingerprint(raw: Raw, is_compact: bool) -> u64 {
    if is_compact {
        hash_parts([raw.get().as_bytes()])
    } else {
        hash_parts([minified(raw).as_bytes()])
    }
}

/// The fingerprint of an action as it is rendered: text with escapes (`"caf\u00e9"`)
/// is decoded first, so two actions that render alike always fingerprint alike.
pub fn action_fingerprint(raw: Raw, is_compact: bool) -> u64 {
    if !raw.get().contains('\\') {
        return fingerprint(raw, is_compact);
    }
    match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(v) => hash_parts([v.to_string().as_bytes()]),
        Err(_) => fingerprint(raw, is_compact),
    }
}

/// The group key's hash, or `None` when the example lacks a part of it.
pub fn pair_key(
    by: &PairBy,
    policy: Policy,
    example: &ExampleText,
    is_compact: bool,
) -> Option<u64> {
    match by {
        PairBy::State => Some(fingerprint(example.state, is_compact)),
        PairBy::Paths(paths) => {
            let values: Vec<String> = paths
                .iter()
                .map(|p| p.find(example).map(minified))
                .collect::<Option<_>>()?;
            Some(hash_parts(values.iter().map(|v| v.as_bytes())))
        }
        PairBy::Original => {
            let key = original_key(policy, example)?;
            Some(hash_parts([key.as_bytes()]))
        }
    }
}

/// The key `training/dpo-trainer.ts` grouped by (original-stack.md §1): fields joined
/// with `|`, booleans as `1`/`0`, numbers by value, two of them bucketed.
pub fn original_key(policy: Policy, example: &ExampleText) -> Option<String> {
    let state = RawMap::parse(example.state).ok()?;
    let group = |name: &str| -> Option<RawMap> { RawMap::parse(state.get(name)?).ok() };
    let mut parts: Vec<String> = Vec::with_capacity(7);
    match policy {
        Policy::Extraction => {
            let context = group("contextFeatures")?;
            let memory = group("memoryState")?;
            let content = group("contentFeatures")?;
            parts.push(number_key(context.get("turnNumber")?)?);
            // A missing flag is JavaScript's undefined, falsy like false.
            let flag = |g: &RawMap, k: &str| g.get(k).map_or_else(|| "0".into(), flag_key);
            parts.push(flag(&context, "hasError"));
            parts.push(flag(&memory, "similarEntryExists"));
            for f in ["hasDecision", "hasRule", "hasFact", "hasCommand"] {
                parts.push(flag(&content, f));
            }
        }
        Policy::Retrieval => {
            let query = group("queryFeatures")?;
            parts.push(bucket_key(query.get("queryLength")?, |x| {
                (x / 10.0).floor()
            })?);
            parts.push(
                query
                    .get("hasKeywords")
                    .map_or_else(|| "0".into(), flag_key),
            );
            parts.push(text_key(query.get("semanticCategory")?));
        }
        Policy::Consolidation => {
            let features = group("groupFeatures")?;
            let scope = group("scopeStats")?;
            parts.push(number_key(features.get("groupSize")?)?);
            parts.push(bucket_key(features.get("avgSimilarity")?, |x| {
                (x * 10.0).floor()
            })?);
            parts.push(text_key(scope.get("scopeType")?));
        }
    }
    Some(parts.join("|"))
}

/// A number by its value, as JavaScript compares it (`3` and `3.0` are one key).
fn number_key(raw: Raw) -> Option<String> {
    bucket_key(raw, |x| x)
}

fn bucket_key(raw: Raw, bucket: impl Fn(f64) -> f64) -> Option<String> {
    let x: f64 = raw.get().parse().ok()?;
    let b = bucket(x);
    // -0 and 0 print alike in JavaScript.
    Some(if b == 0.0 { "0".into() } else { b.to_string() })
}

/// JavaScript truthiness of a flag, as the original's `x ? '1' : '0'`: false, null,
/// any zero and the empty string are '0'.
fn flag_key(raw: Raw) -> String {
    let text = raw.get();
    let is_zero = text.parse::<f64>().is_ok_and(|x| x == 0.0);
    let truthy = !(is_zero || matches!(text, "false" | "null" | "\"\""));
    if truthy { "1" } else { "0" }.to_string()
}

/// A string as itself; null as the empty string (`Array.join` writes null as nothing).
fn text_key(raw: Raw) -> String {
    if raw.get() == "null" {
        return String::new();
    }
    string_of(raw)
        .map(|s| s.into_owned())
        .unwrap_or_else(|| minified(raw))
}

/// The text an example's split is keyed by: with `--group-by`, the group value's
/// minified text; otherwise (or when the example lacks the path) the whole example's
/// minified text, so identical examples share a split. The bool says whether the
/// example had the path.
pub fn split_key<'a>(
    group_by: Option<&KeyPath>,
    example: &ExampleText<'a>,
    whole: &'a str,
    is_compact: bool,
) -> (Cow<'a, str>, bool) {
    if let Some(value) = group_by.and_then(|p| p.find(example)) {
        let text = value.get();
        // One session id written by two writers (`"caf\u00e9"` by Python's
        // ensure_ascii, `"café"` by JavaScript) is one group: escapes are decoded and
        // written back only where JSON needs them.
        if text.contains('\\') {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(text) {
                return (Cow::Owned(v.to_string()), true);
            }
        }
        return if is_compact {
            (Cow::Borrowed(text), true)
        } else {
            (Cow::Owned(minified(value)), true)
        };
    }
    let own = if is_compact {
        Cow::Borrowed(whole.trim_matches([' ', '\n', '\r', '\t']))
    } else {
        Cow::Owned(minified(Raw::from_validated(whole)))
    };
    (own, group_by.is_none())
}

/// The hash split's unit: the first 8 bytes of SHA-256(`<seed>:<key>`), big-endian
/// (divided by 2^64 it is u in [0, 1)).
pub fn hash_unit(seed: u64, key: &str) -> u64 {
    hash_unit_after(&format!("{seed}:"), key)
}

/// `hash_unit` with the `<seed>:` prefix made once.
pub fn hash_unit_after(prefix: &str, key: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(prefix.as_bytes());
    h.update(key.as_bytes());
    let digest = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(src: &str) -> ExampleText<'_> {
        match ExampleText::parse(src.as_bytes()) {
            Ok(t) => t,
            Err(_) => panic!("a valid example: {src}"),
        }
    }

    #[test]
    fn original_keys_bucket_as_the_dpo_trainer_did() {
        let a = r#"{"state":{"queryFeatures":{"queryLength":42,"hasKeywords":true,"semanticCategory":"debugging"}},"action":{},"reward":1}"#;
        let b = r#"{"state":{"queryFeatures":{"queryLength":49.0,"hasKeywords":true,"semanticCategory":"debugging"}},"action":{},"reward":1}"#;
        let c = r#"{"state":{"queryFeatures":{"queryLength":50,"hasKeywords":true,"semanticCategory":"debugging"}},"action":{},"reward":1}"#;
        let key = |s| original_key(Policy::Retrieval, &example(s)).unwrap();
        assert_eq!(key(a), "4|1|debugging");
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        let d = r#"{"state":{"groupFeatures":{"groupSize":3,"avgSimilarity":0.87},"scopeStats":{"scopeType":"project"}},"action":{},"reward":1}"#;
        assert_eq!(
            original_key(Policy::Consolidation, &example(d)).unwrap(),
            "3|8|project"
        );
    }

    #[test]
    fn paths_reach_into_parts_and_missing_paths_give_no_key() {
        let with = r#"{"state":{"s":{"t":"x"}},"action":{"a":1},"reward":0,"metadata":{"sessionId":"s1"}}"#;
        let other = r#"{"state":{"s":{"t":"x"}},"action":{"a":2},"reward":1,"metadata":{"sessionId": "s1"}}"#;
        let without = r#"{"state":{"s":{"t":"x"}},"action":{"a":1},"reward":0}"#;
        let by: PairBy = "state.s.t, metadata.sessionId".parse().unwrap();
        let k = |s| pair_key(&by, Policy::Retrieval, &example(s), false);
        assert!(k(with).is_some());
        assert_eq!(k(with), k(other));
        assert_eq!(k(without), None);
        assert!("a..b".parse::<PairBy>().is_err());
        assert_eq!(by.to_string(), "state.s.t,metadata.sessionId");
    }

    #[test]
    fn hash_units_are_sha256_of_seed_and_key() {
        // python3 -c 'import hashlib; print(int.from_bytes(hashlib.sha256(b"42:\"s1\"").digest()[:8], "big"))'
        assert_eq!(hash_unit(42, "\"s1\""), 0x459a_ab49_0e6b_3925);
    }

    #[test]
    fn split_keys_are_the_group_value_or_the_whole_example() {
        let src = r#"{"state":{},"action":{"a":1},"reward":0,"metadata":{"sessionId": "s1"}}"#;
        let ex = example(src);
        let by: KeyPath = "metadata.sessionId".parse().unwrap();
        assert_eq!(
            split_key(Some(&by), &ex, src, false),
            (Cow::Borrowed("\"s1\""), true)
        );
        let other: KeyPath = "metadata.nope".parse().unwrap();
        let (own, found) = split_key(Some(&other), &ex, src, false);
        assert!(!found);
        assert_eq!(
            own,
            r#"{"state":{},"action":{"a":1},"reward":0,"metadata":{"sessionId":"s1"}}"#
        );
    }

    #[test]
    fn group_values_written_with_other_escapes_are_one_key() {
        let a = r#"{"state":{},"action":{},"reward":0,"metadata":{"s":"caf\u00e9\/1"}}"#;
        let b = r#"{"state":{},"action":{},"reward":0,"metadata":{"s":"café/1"}}"#;
        let by: KeyPath = "metadata.s".parse().unwrap();
        let key = |src| {
            split_key(Some(&by), &example(src), src, true)
                .0
                .into_owned()
        };
        assert_eq!(key(a), key(b));
        assert_eq!(key(b), "\"café/1\"");
    }

    #[test]
    fn fingerprints_ignore_whitespace_but_not_key_order() {
        let a = example(r#"{"state":{},"action":{"a": 1, "b": 2},"reward":0}"#);
        let b = example(r#"{"state":{},"action":{"a":1,"b":2},"reward":0}"#);
        let c = example(r#"{"state":{},"action":{"b":2,"a":1},"reward":0}"#);
        assert_eq!(fingerprint(a.action, false), fingerprint(b.action, true));
        assert_ne!(fingerprint(b.action, true), fingerprint(c.action, true));
        let escaped = example(r#"{"state":{},"action":{"d":"caf\u00e9"},"reward":0}"#);
        let plain = example(r#"{"state":{},"action":{"d":"café"},"reward":0}"#);
        assert_eq!(
            action_fingerprint(escaped.action, true),
            action_fingerprint(plain.action, true)
        );
    }
}
