//! `rlx merge PART... -o DIR`: several parquet exports (parts of one log, exported on
//! different machines, typically with `--split-by hash` and one seed) become one dataset:
//! one `data/` with every part's shards of each split numbered across the parts, and one
//! card. It reads only the shards' footers, refuses parts whose schemas differ (naming
//! the first field that differs), and writes through `output::Staging` like an export.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Seek, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context};
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde::Serialize;
use serde_json::Value;

use crate::cli::MergeArgs;
use crate::example::Split;
use crate::format::huggingface::{hf_split_name, Feature};
use crate::format::parquet::{card, features_from_metadata, CardFacts, RLX_KEY};
use crate::outcome::Outcome;
use crate::output::{OutputError, Staging, StagingOptions};
use crate::summary::{human_bytes, Timestamp};

/// One shard of a part, as its footer describes it.
struct Shard {
    /// Kept open from the footer read to the copy, so both see the same file even if
    /// the part is replaced meanwhile.
    file: File,
    /// `part/data/name`, for messages.
    shown: String,
    split: Split,
    rows: u64,
    schema: parquet::schema::types::Type,
    features: String,
    rlx: Value,
    is_cdc: bool,
    compression: String,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct SplitTotals {
    rows: u64,
    shards: usize,
}

#[derive(Debug, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct MergeResult {
    success: bool,
    output: String,
    parts: Vec<String>,
    splits: BTreeMap<String, SplitTotals>,
    files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(args: &MergeArgs) -> Outcome {
    let started = Instant::now();
    let mut result = MergeResult {
        output: args.output.display().to_string(),
        parts: args.parts.iter().map(|p| p.display().to_string()).collect(),
        ..Default::default()
    };
    let outcome = merge(args, &mut result);
    let error = outcome.err().map(|e| format!("{e:#}"));
    result.success = error.is_none();
    result.error = error.clone();
    if args.json {
        let mut out = io::stdout().lock();
        // A closed stdout (`| head -c1`) is not an error.
        let _ = serde_json::to_writer(&mut out, &result);
        let _ = writeln!(out);
    } else if !args.quiet && result.success {
        let _ = write_summary(&mut io::stderr().lock(), &result, started);
    }
    Outcome {
        exit_code: u8::from(error.is_some()),
        error,
        result: None,
    }
}

fn merge(args: &MergeArgs, result: &mut MergeResult) -> anyhow::Result<()> {
    let mut shards = Vec::new();
    for part in &args.parts {
        shards.extend(read_part(part)?);
    }
    let first = shards
        .first()
        .context("the parts hold no shards; expected parquet exports")?;
    for shard in &shards[1..] {
        check_same_schema(first, shard)?;
    }
    let policy = first.rlx["policy"]
        .as_str()
        .unwrap_or("unknown")
        .to_string();
    let encoded: Vec<(String, String)> = first.rlx["encodedAsJson"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let fields = features_from_metadata(&first.features).with_context(|| {
        format!(
            "{}: the huggingface metadata is not what rlx writes",
            first.shown
        )
    })?;

    let staging = Staging::begin(
        &args.output,
        StagingOptions {
            force: args.force,
            compress: false,
            sync: !args.no_sync,
        },
    )?;
    let out = staging.dir();
    out.create_dir("data")?;
    let mut splits = Vec::new();
    for split in Split::ALL {
        let of_split: Vec<&Shard> = shards.iter().filter(|s| s.split == split).collect();
        if of_split.is_empty() {
            continue;
        }
        let n = of_split.len();
        let name = hf_split_name(split);
        for (i, shard) in of_split.iter().enumerate() {
            let mut file = out.create_renamed(&format!("data/{name}-{i:05}-of-{n:05}.parquet"))?;
            let mut source = &shard.file;
            source
                .seek(io::SeekFrom::Start(0))
                .with_context(|| format!("reading {}", shard.shown))?;
            io::copy(&mut source, &mut file)
                .with_context(|| format!("copying {} into {}", shard.shown, file.relative))?;
            file.finish()?;
        }
        let rows = of_split.iter().map(|s| s.rows).sum();
        result
            .splits
            .insert(name.to_string(), SplitTotals { rows, shards: n });
        splits.push((split, rows, n));
    }
    let compressions: std::collections::BTreeSet<&str> =
        shards.iter().map(|s| s.compression.as_str()).collect();
    let facts = CardFacts {
        policy: &policy,
        fields: &fields,
        encoded: &encoded,
        splits,
        seed: "each part's own (see their cards)".into(),
        exported_at: Timestamp::now()?.iso(),
        compression: compressions.into_iter().collect::<Vec<_>>().join(", "),
        cdc: shards.iter().all(|s| s.is_cdc),
        merged_from: result.parts.clone(),
    };
    out.write_doc("README.md", &card(&facts))?;
    let files = staging.commit()?;
    result.files = files
        .iter()
        .map(|f| args.output.join(&f.relative).display().to_string())
        .collect();
    Ok(())
}

/// Every shard of one part, in split and shard order, with its footer read.
fn read_part(part: &Path) -> anyhow::Result<Vec<Shard>> {
    let data = part.join("data");
    let entries = fs::read_dir(&data).map_err(|e| {
        OutputError(format!(
            "{}: {e}; expected a directory written by `rlx export --format parquet` (with data/ and README.md)",
            data.display()
        ))
    })?;
    let mut names: Vec<String> = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("reading {}", data.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    let mut by_split: BTreeMap<Split, Vec<(usize, usize, String)>> = BTreeMap::new();
    for name in names {
        let Some((split, i, n)) = parse_shard_name(&name) else {
            bail!(OutputError(format!(
                "{}/{name} is not a shard; expected only files named {{train,validation,test}}-NNNNN-of-NNNNN.parquet in data/",
                data.display()
            )));
        };
        by_split.entry(split).or_default().push((i, n, name));
    }
    let mut shards = Vec::new();
    for (split, list) in by_split {
        let n = list[0].1;
        let indices: Vec<usize> = list.iter().map(|(i, _, _)| *i).collect();
        if list.iter().any(|(_, m, _)| *m != n) || indices != (0..n).collect::<Vec<_>>() {
            bail!(OutputError(format!(
                "{}: the {} shards are {}; expected 00000 to {:05} of {n:05}, none missing",
                data.display(),
                hf_split_name(split),
                list.iter()
                    .map(|(_, _, name)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                n.saturating_sub(1)
            )));
        }
        for (_, _, name) in list {
            shards.push(read_shard(&data.join(&name), split)?);
        }
    }
    Ok(shards)
}

/// (split, index, count) of `train-00001-of-00004.parquet`.
fn parse_shard_name(name: &str) -> Option<(Split, usize, usize)> {
    let stem = name.strip_suffix(".parquet")?;
    let (rest, n) = stem.rsplit_once("-of-")?;
    let (split, i) = rest.rsplit_once('-')?;
    let split = match split {
        "train" => Split::Train,
        "validation" => Split::Validation,
        "test" => Split::Eval,
        _ => return None,
    };
    let digits = |s: &str| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(i) || !digits(n) {
        return None;
    }
    Some((split, i.parse().ok()?, n.parse().ok()?))
}

fn read_shard(path: &Path, split: Split) -> anyhow::Result<Shard> {
    let shown = path.display().to_string();
    let file = File::open(path).with_context(|| format!("reading {shown}"))?;
    let reader = SerializedFileReader::new(
        file.try_clone()
            .with_context(|| format!("reading {shown}"))?,
    )
    .with_context(|| format!("{shown} is not a readable Parquet file"))?;
    let meta = reader.metadata();
    let fm = meta.file_metadata();
    let kv = |key: &str| {
        fm.key_value_metadata()
            .and_then(|kv| kv.iter().find(|e| e.key == key))
            .and_then(|e| e.value.clone())
    };
    let features = kv("huggingface").with_context(|| {
        format!("{shown} has no huggingface metadata; expected a shard written by rlx")
    })?;
    let rlx: Value = kv(RLX_KEY)
        .and_then(|v| serde_json::from_str(&v).ok())
        .with_context(|| format!("{shown} has no rlx metadata; expected a shard written by rlx"))?;
    let compression = if meta.num_row_groups() > 0 && meta.row_group(0).num_columns() > 0 {
        meta.row_group(0)
            .column(0)
            .compression()
            .to_string()
            .to_lowercase()
    } else {
        "none".into()
    };
    Ok(Shard {
        file,
        shown,
        split,
        rows: u64::try_from(fm.num_rows()).unwrap_or(0),
        schema: fm.schema().clone(),
        features,
        rlx,
        is_cdc: kv("content_defined_chunking").is_some(),
        compression,
    })
}

/// Refuse a shard whose columns differ from the first shard's, naming the first field
/// that differs: engines given mixed schemas refuse them or misalign columns.
fn check_same_schema(first: &Shard, other: &Shard) -> anyhow::Result<()> {
    if first.rlx["policy"] != other.rlx["policy"] {
        bail!(OutputError(format!(
            "{} holds {} examples but {} holds {}; expected parts of one policy's log",
            other.shown,
            other.rlx["policy"].as_str().unwrap_or("unknown"),
            first.shown,
            first.rlx["policy"].as_str().unwrap_or("unknown")
        )));
    }
    if first.schema == other.schema && first.features == other.features {
        if first.rlx["encodedAsJson"] != other.rlx["encodedAsJson"] {
            let keys = |s: &Shard| -> Vec<String> {
                s.rlx["encodedAsJson"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default()
            };
            bail!(OutputError(format!(
                "{} stores {} as JSON text but {} stores {}; expected parts whose fields have the same types (export them together so one union schema covers both)",
                first.shown,
                describe_paths(&keys(first)),
                other.shown,
                describe_paths(&keys(other))
            )));
        }
        return Ok(());
    }
    let a = features_from_metadata(&first.features).unwrap_or_default();
    let b = features_from_metadata(&other.features).unwrap_or_default();
    let at = first_difference(&a, &b, "").unwrap_or_else(|| "the Parquet schema".into());
    bail!(OutputError(format!(
        "{} and {} have different columns (first at {at}); expected parts exported from inputs with the same fields and types, or export them together so one union schema covers both",
        first.shown, other.shown
    )))
}

fn first_difference(
    a: &[(String, Feature)],
    b: &[(String, Feature)],
    prefix: &str,
) -> Option<String> {
    let path = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    for (k, fa) in a {
        match b.iter().find(|(kb, _)| kb == k) {
            None => return Some(format!("{}, which only the first has", path(k))),
            Some((_, fb)) if fa != fb => {
                return Some(match (fa, fb) {
                    (Feature::Struct(x), Feature::Struct(y)) => first_difference(x, y, &path(k))
                        .unwrap_or_else(|| {
                            format!("{}, whose fields are in another order", path(k))
                        }),
                    _ => format!("{}: {} against {}", path(k), describe(fa), describe(fb)),
                })
            }
            _ => {}
        }
    }
    b.iter()
        .find(|(k, _)| !a.iter().any(|(ka, _)| ka == k))
        .map(|(k, _)| format!("{}, which only the second has", path(k)))
}

fn describe_paths(paths: &[String]) -> String {
    if paths.is_empty() {
        "no field".into()
    } else {
        paths.join(", ")
    }
}

/// A feature as a reader would name its type: `int64`, `list<float64>`, `struct<a, b>`.
fn describe(f: &Feature) -> String {
    match f {
        Feature::Value(d) => d.to_string(),
        Feature::List(inner) => format!("list<{}>", describe(inner)),
        Feature::Struct(fields) => format!(
            "struct<{}>",
            fields
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn write_summary(out: &mut dyn Write, r: &MergeResult, started: Instant) -> io::Result<()> {
    let rows: u64 = r.splits.values().map(|s| s.rows).sum();
    let shards: usize = r.splits.values().map(|s| s.shards).sum();
    writeln!(
        out,
        "rlx: merged {} part(s) into {} ({rows} rows in {shards} shards)",
        r.parts.len(),
        r.output
    )?;
    for (name, s) in &r.splits {
        writeln!(out, "  {name:<11} {} rows in {} shard(s)", s.rows, s.shards)?;
    }
    let bytes: u64 = r
        .files
        .iter()
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    writeln!(
        out,
        "  files:    {} ({})",
        r.files.len(),
        human_bytes(bytes)
    )?;
    writeln!(out, "  elapsed:  {:.2}s", started.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_names_parse_and_others_do_not() {
        assert_eq!(
            parse_shard_name("train-00001-of-00004.parquet"),
            Some((Split::Train, 1, 4))
        );
        assert_eq!(
            parse_shard_name("test-00000-of-00001.parquet"),
            Some((Split::Eval, 0, 1))
        );
        for bad in [
            "_SUCCESS",
            ".train-00000-of-00001.parquet.partial",
            "train-0-of-1.parquet",
            "dev-00000-of-00001.parquet",
        ] {
            assert_eq!(parse_shard_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_first_differing_field_is_named() {
        let a = vec![(
            "metadata".to_string(),
            Feature::Struct(vec![("n".into(), Feature::Value("int64"))]),
        )];
        let b = vec![(
            "metadata".to_string(),
            Feature::Struct(vec![("n".into(), Feature::Value("string"))]),
        )];
        let d = first_difference(&a, &b, "").unwrap();
        assert_eq!(d, "metadata.n: int64 against string");
    }
}
