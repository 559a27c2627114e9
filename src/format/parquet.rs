//! The parquet format: `data/{split}-{i:05d}-of-{n:05d}.parquet` shards and a dataset card
//! `README.md`, laid out as `push_to_hub` lays out a dataset, so the directory uploads to
//! the Hugging Face Hub as it is and Spark, DuckDB, Polars and pandas read `data/`.
//!
//! The rows are the huggingface format's (same union schema, same fields encoded as JSON
//! text, same order), rendered by `huggingface::render_row` and decoded by arrow-json
//! into record batches of the Arrow schema mapped from the declared features: nested
//! structs and lists (children named `element`), int64, float64, bool and string, every
//! field nullable, never a null-typed column, an empty struct or an unsigned int. Shards
//! hold at most `--shard-size` bytes of input text (500 MB as `push_to_hub`), row groups
//! about 100 MB (as `datasets`), each shard written hidden and renamed when complete.
//! Nothing here knows about files beyond `OutputDir`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use arrow_schema::{DataType, Field, Fields, Schema as ArrowSchema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{CdcOptions, EnabledStatistics, WriterProperties};
use serde_json::{json, Map, Value};

use super::huggingface::{
    declare, description, feature_yaml, hf_split_name, render_row, size_category, written_splits,
    yaml_str, Declared, Feature,
};
use super::{ExampleStream, FormatWriter, SplitOutcome, WriterConfig};
use crate::example::Split;
use crate::output::OutputDir;
use crate::stream::Slice;
use crate::summary::ExportResult;
use crate::validate::Warning;

/// `--compression`: the codec of every column chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ParquetCompression {
    /// What push_to_hub and pyarrow write: fast to write and to read.
    #[default]
    Snappy,
    /// zstd level 3: about a third smaller than snappy, slower to write.
    Zstd,
    /// Uncompressed.
    None,
}

impl ParquetCompression {
    fn codec(self) -> Compression {
        match self {
            ParquetCompression::Snappy => Compression::SNAPPY,
            ParquetCompression::Zstd => {
                Compression::ZSTD(ZstdLevel::try_new(3).expect("3 is a valid zstd level"))
            }
            ParquetCompression::None => Compression::UNCOMPRESSED,
        }
    }
}

/// The parquet format's own options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParquetOptions {
    /// Most bytes of input text per shard.
    pub shard_bytes: u64,
    pub compression: ParquetCompression,
    /// Content-defined chunking (Xet deduplication on the Hub).
    pub cdc: bool,
}

impl Default for ParquetOptions {
    fn default() -> Self {
        ParquetOptions {
            shard_bytes: DEFAULT_SHARD_BYTES,
            compression: ParquetCompression::default(),
            cdc: true,
        }
    }
}

/// `push_to_hub`'s `max_shard_size`: 500 MB.
pub const DEFAULT_SHARD_BYTES: u64 = 500_000_000;
/// `datasets`' row group target: about 100 MB of data.
const ROW_GROUP_BYTES: u64 = 100_000_000;
/// Parquet's (and `datasets`') most rows per row group.
const MAX_ROW_GROUP_ROWS: u64 = 1_048_576;
/// Shards written at once at most: each holds a row group (about 100 MB of data, kept
/// encoded) while it is written.
const MAX_SHARD_WRITERS: usize = 4;
/// Rows per record batch handed to the Parquet writer.
const BATCH_ROWS: usize = 4096;
/// Row text per record batch at most (long rows): Arrow's string offsets are 32-bit,
/// and a batch of 4096 rows of a megabyte would hold 4 GB.
const BATCH_BYTES: usize = 32 << 20;
/// What `datasets` records in the footer of a file written with content-defined
/// chunking (`DEFAULT_CDC_OPTIONS`, the same as arrow-rs's defaults).
const CDC_METADATA: &str =
    r#"{"min_chunk_size": 262144, "max_chunk_size": 1048576, "norm_level": 0}"#;

/// The footer key holding the policy and the fields written as JSON text.
pub const RLX_KEY: &str = "rlx";

/// A `--shard-size` value: bytes, with an optional decimal (KB, MB, GB) or binary (KiB,
/// MiB, GiB) unit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown unit in \"{text}\"; expected a size such as 500MB, 64MiB or 1GB"
            ))
        }
    };
    let value: f64 = number.parse().map_err(|_| {
        format!("\"{text}\" is not a size; expected a number with an optional unit, such as 500MB")
    })?;
    let bytes = (value * factor as f64).round();
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!(
            "\"{text}\" is not a positive size; expected at least 1 byte"
        ));
    }
    Ok(bytes as u64)
}

/// The Arrow type of a declared feature.
fn arrow_type(f: &Feature) -> DataType {
    match f {
        Feature::Value("bool") => DataType::Boolean,
        Feature::Value("int64") => DataType::Int64,
        Feature::Value("float64") => DataType::Float64,
        Feature::Value(_) => DataType::Utf8,
        // "element", as the Parquet spec and pyarrow name a list's items.
        Feature::List(inner) => {
            DataType::List(Arc::new(Field::new("element", arrow_type(inner), true)))
        }
        Feature::Struct(fields) => DataType::Struct(arrow_fields(fields)),
    }
}

fn arrow_fields(fields: &[(String, Feature)]) -> Fields {
    fields
        .iter()
        .map(|(k, f)| Field::new(k, arrow_type(f), true))
        .collect()
}

/// The features as `datasets` reads them from the `huggingface` schema metadata, in the
/// form both 3.x and 5.x accept: `Value` dicts, and every list as `[item]` (5.x's
/// `"_type": "List"` fails in 3.x; 3.x without the key infers `Sequence`, not what the
/// huggingface card declares).
fn feature_metadata(f: &Feature) -> Value {
    match f {
        Feature::Value(d) => json!({"dtype": d, "_type": "Value"}),
        Feature::List(inner) => Value::Array(vec![feature_metadata(inner)]),
        Feature::Struct(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, f)| (k.clone(), feature_metadata(f)))
                .collect(),
        ),
    }
}

/// The features back from the `huggingface` metadata rlx wrote (for `rlx merge`).
pub fn features_from_metadata(text: &str) -> Option<Vec<(String, Feature)>> {
    fn feature(v: &Value) -> Option<Feature> {
        match v {
            Value::Array(items) if items.len() == 1 => {
                Some(Feature::List(Box::new(feature(&items[0])?)))
            }
            Value::Object(m) if m.get("_type").and_then(Value::as_str) == Some("Value") => {
                let dtype = match m.get("dtype")?.as_str()? {
                    "bool" => "bool",
                    "int64" => "int64",
                    "float64" => "float64",
                    "string" => "string",
                    _ => return None,
                };
                Some(Feature::Value(dtype))
            }
            Value::Object(m) => Some(Feature::Struct(
                m.iter()
                    .map(|(k, v)| Some((k.clone(), feature(v)?)))
                    .collect::<Option<_>>()?,
            )),
            _ => None,
        }
    }
    let v: Value = serde_json::from_str(text).ok()?;
    let Feature::Struct(fields) = feature(v.get("info")?.get("features")?)? else {
        return None;
    };
    Some(fields)
}

/// The Arrow schema of every shard, carrying the `huggingface` features (one metadata
/// key, so its encoding is deterministic).
fn arrow_schema(declared: &Declared) -> SchemaRef {
    let features: Map<String, Value> = declared
        .fields
        .iter()
        .map(|(k, f)| (k.clone(), feature_metadata(f)))
        .collect();
    let hf = json!({"info": {"features": features}}).to_string();
    let metadata = [("huggingface".to_string(), hf)]
        .into_iter()
        .collect::<std::collections::HashMap<_, _>>();
    Arc::new(ArrowSchema::new_with_metadata(
        arrow_fields(&declared.fields),
        metadata,
    ))
}

/// Contiguous shard ranges of rows of these sizes: as many shards as `push_to_hub`
/// makes (`total / shard_bytes + 1`), each row in the shard its starting offset falls
/// in, and a shard cut early where it would pass `shard_bytes`, so no shard holds more
/// than `shard_bytes` unless one row alone does.
fn shard_ranges(sizes: &[u64], shard_bytes: u64) -> Vec<std::ops::Range<usize>> {
    let total: u64 = sizes.iter().sum::<u64>().max(1);
    let shards = (total / shard_bytes + 1).min(sizes.len().max(1) as u64);
    let mut ranges = Vec::new();
    let (mut start, mut bytes, mut offset, mut share) = (0, 0u64, 0u64, 0u64);
    for (i, &size) in sizes.iter().enumerate() {
        let this_share = (offset as u128 * shards as u128 / total as u128) as u64;
        if i > start && (this_share > share || bytes + size > shard_bytes) {
            ranges.push(start..i);
            (start, bytes) = (i, 0);
        }
        share = share.max(this_share);
        bytes += size;
        offset += size;
    }
    ranges.push(start..sizes.len());
    ranges
}

pub struct Parquet {
    config: WriterConfig,
    declared: Declared,
    schema: SchemaRef,
    /// Shards written per split.
    shards: [usize; 3],
    /// Content-defined chunking: asked for, and no example longer than a chunk.
    is_cdc: bool,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    let declared = declare(&config.schema, config.include_metadata);
    Box::new(Parquet {
        schema: arrow_schema(&declared),
        declared,
        config: config.clone(),
        shards: [0; 3],
        // pyarrow 26 fails to read ("Struct child array ... has length smaller than
        // expected") a value longer than a content-defined chunk that arrow-rs 60.1
        // wrote; an example's text bounds its values.
        is_cdc: config.parquet.cdc
            && config.longest_example <= CdcOptions::default().max_chunk_size as u64,
    })
}

impl Parquet {
    fn encoded_paths(&self) -> Vec<(String, String)> {
        self.declared
            .encoded
            .iter()
            .map(|(p, why)| (p.join("."), why.clone()))
            .collect()
    }

    fn properties(&self, rows_per_group: usize, is_cdc: bool) -> WriterProperties {
        let options = self.config.parquet;
        let mut kv = vec![KeyValue::new(
            "huggingface".to_string(),
            self.schema
                .metadata()
                .get("huggingface")
                .cloned()
                .unwrap_or_default(),
        )];
        if is_cdc {
            kv.push(KeyValue::new(
                "content_defined_chunking".to_string(),
                CDC_METADATA.to_string(),
            ));
        }
        // What `rlx merge` needs to write a card without the input.
        let encoded: Map<String, Value> = self
            .encoded_paths()
            .into_iter()
            .map(|(p, why)| (p, Value::String(why)))
            .collect();
        kv.push(KeyValue::new(
            RLX_KEY.to_string(),
            json!({"policy": self.config.policy.name(), "encodedAsJson": encoded}).to_string(),
        ));
        WriterProperties::builder()
            .set_compression(options.compression.codec())
            // Chunk and page statistics: the page index the Hub's viewer reads.
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_max_row_group_row_count(Some(rows_per_group))
            // A guard for skewed inputs, whose long rows would make a row group of the
            // average's row count far bigger: memory stays near one row group.
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES as usize))
            .set_content_defined_chunking(is_cdc.then(CdcOptions::default))
            .set_key_value_metadata(Some(kv))
            .build()
    }

    fn write_shard(
        &self,
        examples: &dyn ExampleStream,
        name: &str,
        rows_per_group: usize,
        is_cdc: bool,
        out: &OutputDir,
        threads: usize,
    ) -> anyhow::Result<u64> {
        let file = out.create_renamed(name)?;
        let relative = file.relative.clone();
        let mut writer = ArrowWriter::try_new(
            file,
            self.schema.clone(),
            Some(self.properties(rows_per_group, is_cdc)),
        )
        .with_context(|| format!("starting {relative}"))?;
        let mut decoder = arrow_json::ReaderBuilder::new(self.schema.clone())
            .with_batch_size(BATCH_ROWS + 1)
            // A key the schema lacks is an error, not a silently dropped value.
            .with_strict_mode(true)
            .build_decoder()
            .context("building the JSON decoder")?;
        let mut written = 0u64;
        let mut pending = 0usize;
        let (declared, floats) = (&self.declared, &self.config.ints_in_float_fields);
        let with_metadata = self.config.include_metadata;
        super::render_then_write(
            examples,
            threads,
            |item, text| render_row(item, text, declared, floats, with_metadata),
            |item, text, row| {
                let row = row.as_deref().unwrap_or(text);
                let misfit = |e: arrow_schema::ArrowError| {
                    anyhow::anyhow!(
                        "{}: does not fit the Parquet schema of the export ({e})",
                        item.location
                    )
                };
                // The decoder holds one row more than a batch, so it always takes a
                // whole row; the line break ends it.
                let used = decoder.decode(row).map_err(misfit)?;
                anyhow::ensure!(
                    used == row.len(),
                    "{}: the JSON decoder took {used} of the row's {} bytes",
                    item.location,
                    row.len()
                );
                decoder.decode(b"\n").map_err(misfit)?;
                written += 1;
                pending += row.len();
                if decoder.len() >= BATCH_ROWS || pending >= BATCH_BYTES {
                    flush(&mut decoder, &mut writer, &relative)?;
                    pending = 0;
                }
                Ok(())
            },
        )?;
        flush(&mut decoder, &mut writer, &relative)?;
        let file = writer
            .into_inner()
            .with_context(|| format!("finishing {relative}"))?;
        file.finish()?;
        Ok(written)
    }
}

fn flush(
    decoder: &mut arrow_json::reader::Decoder,
    writer: &mut ArrowWriter<crate::output::OutFile>,
    relative: &str,
) -> anyhow::Result<()> {
    if let Some(batch) = decoder.flush().context("decoding rows into Arrow")? {
        writer
            .write(&batch)
            .with_context(|| format!("writing {relative}"))?;
    }
    Ok(())
}

impl FormatWriter for Parquet {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        out.create_dir("data")?;
        let len = examples.len();
        let sizes: Vec<u64> = (0..len).map(|i| examples.text_bytes(i..i + 1)).collect();
        let bytes = sizes.iter().sum::<u64>().max(1);
        let ranges = shard_ranges(&sizes, self.config.parquet.shard_bytes);
        drop(sizes);
        let shards = ranges.len();
        let rows_per_group = (len as u128 * ROW_GROUP_BYTES as u128 / bytes as u128)
            .clamp(1, MAX_ROW_GROUP_ROWS as u128) as usize;
        let name = |i: usize| {
            format!(
                "data/{}-{i:05}-of-{shards:05}.parquet",
                hf_split_name(split)
            )
        };
        // Several shards are written at once, each by its own writer on its own thread
        // (a shard's bytes depend only on its rows, never on the schedule); one shard
        // renders its rows on every thread instead.
        let threads = self.config.threads.max(1);
        let writers = threads.min(shards).min(MAX_SHARD_WRITERS);
        let written = if writers <= 1 {
            let mut written = 0;
            for (i, range) in ranges.into_iter().enumerate() {
                let shard = Slice::new(examples, range);
                written +=
                    self.write_shard(&shard, &name(i), rows_per_group, self.is_cdc, out, threads)?;
            }
            written
        } else {
            let next = AtomicUsize::new(0);
            let is_failed = AtomicBool::new(false);
            let results: Vec<Mutex<Option<anyhow::Result<u64>>>> =
                (0..shards).map(|_| Mutex::new(None)).collect();
            let render_threads = (threads / writers).max(1);
            std::thread::scope(|scope| {
                for _ in 0..writers {
                    scope.spawn(|| loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= shards || is_failed.load(Ordering::SeqCst) {
                            break;
                        }
                        let shard = Slice::new(examples, ranges[i].clone());
                        let r = self.write_shard(
                            &shard,
                            &name(i),
                            rows_per_group,
                            self.is_cdc,
                            out,
                            render_threads,
                        );
                        if r.is_err() {
                            is_failed.store(true, Ordering::SeqCst);
                        }
                        *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                    });
                }
            });
            let mut written = 0;
            for r in results {
                // The first failure in shard order; shards after it may not have run.
                match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
                    Some(Ok(n)) => written += n,
                    Some(Err(e)) => return Err(e),
                    None => {}
                }
            }
            written
        };
        self.shards[split as usize] = shards;
        Ok(SplitOutcome {
            written,
            ..Default::default()
        })
    }

    fn write_extras(
        &mut self,
        result: &ExportResult,
        out: &OutputDir,
    ) -> anyhow::Result<Vec<Warning>> {
        let mut warnings = self.declared.warnings();
        if self.config.parquet.cdc && !self.is_cdc {
            warnings.push(Warning::CdcOff {
                longest: self.config.longest_example,
            });
        }
        let s = &result.stats;
        let facts = CardFacts {
            policy: self.config.policy.name(),
            fields: &self.declared.fields,
            encoded: &self.encoded_paths(),
            splits: written_splits(result)
                .into_iter()
                .map(|(split, n)| (split, n, self.shards[split as usize]))
                .collect(),
            seed: s.seed.to_string(),
            exported_at: s.exported_at.clone(),
            compression: self.config.parquet.compression.name().to_string(),
            cdc: self.is_cdc,
            merged_from: Vec::new(),
        };
        out.write_doc(
            "README.md",
            &(card(&facts) + &crate::stats::plots::card_section(result, out)),
        )?;
        Ok(warnings)
    }
}

/// What a dataset card says, from an export or from a merge of exports.
pub struct CardFacts<'a> {
    pub policy: &'a str,
    pub fields: &'a [(String, Feature)],
    /// Paths written as JSON text, with why.
    pub encoded: &'a [(String, String)],
    /// Each written split: rows and shards.
    pub splits: Vec<(Split, u64, usize)>,
    /// The seed, or why there is none (a merge of exports with different seeds).
    pub seed: String,
    pub exported_at: String,
    pub compression: String,
    pub cdc: bool,
    /// The exports a merge combined.
    pub merged_from: Vec<String>,
}

/// The dataset card `README.md`: YAML configs with one glob per split and the features,
/// then how to load the shards with each reader.
pub fn card(facts: &CardFacts) -> String {
    let policy = facts.policy;
    let total: u64 = facts.splits.iter().map(|s| s.1).sum();
    let mut y = String::from("---\n");
    y.push_str("task_categories:\n- reinforcement-learning\n");
    let _ = writeln!(y, "size_categories:\n- {}", size_category(total));
    let _ = writeln!(
        y,
        "pretty_name: {}",
        yaml_str(&format!("Agent memory {policy} policy decisions"))
    );
    y.push_str("tags:\n- agent-memory\n- rlx\n");
    y.push_str("configs:\n- config_name: default\n  data_files:\n");
    for (split, _, _) in &facts.splits {
        let name = hf_split_name(*split);
        let _ = writeln!(
            y,
            "  - split: {name}\n    path: {}",
            yaml_str(&format!("data/{name}-*"))
        );
    }
    y.push_str("dataset_info:\n  features:\n");
    feature_yaml(&mut y, facts.fields, 2);
    y.push_str("---\n\n");
    let _ = write!(
        y,
        "# Agent memory {policy} policy dataset\n\n{}\n\n## Dataset information\n\n| | |\n|---|---|\n| policy | {policy} |\n| examples | {total} |\n",
        description(policy),
    );
    for (split, n, shards) in &facts.splits {
        let _ = writeln!(
            y,
            "| {} | {n} rows in {shards} shard{} |",
            hf_split_name(*split),
            if *shards == 1 { "" } else { "s" }
        );
    }
    let _ = write!(
        y,
        "| seed | {} |\n| exported at | {} |\n| compression | {} |\n| content-defined chunking | {} |\n",
        facts.seed,
        facts.exported_at,
        facts.compression,
        if facts.cdc { "on (Xet deduplicates re-uploads)" } else { "off" }
    );
    if !facts.merged_from.is_empty() {
        let _ = writeln!(
            y,
            "| merged from | {} |",
            facts
                .merged_from
                .iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    y.push('\n');
    let first = hf_split_name(facts.splits.first().map(|s| s.0).unwrap_or(Split::Train));
    let _ = write!(
        y,
        "## Loading\n\n\
         The shards are in `data/`, one set per split (`data/<split>-00000-of-0000N.parquet`), \
         nothing else is there, and every shard has the same schema.\n\n\
         ```python\n\
         from datasets import load_dataset\n\n\
         ds = load_dataset(\"path/to/this/directory\")   # or the Hub repository, once pushed\n\
         print(ds[\"{first}\"][0])\n\
         ```\n\n\
         ```python\n\
         import glob\n\
         import pandas as pd\n\n\
         df = pd.concat(pd.read_parquet(f) for f in sorted(glob.glob(\"data/{first}-*.parquet\")))\n\
         ```\n\n\
         ```python\n\
         import polars as pl\n\n\
         df = pl.scan_parquet(\"data/{first}-*.parquet\").collect()\n\
         ```\n\n\
         ```sql\n\
         -- DuckDB\n\
         SELECT reward, state FROM read_parquet('data/{first}-*.parquet') LIMIT 5;\n\
         ```\n\n\
         ```python\n\
         # Spark: every split is a glob of its own; data/ as a whole holds all of them\n\
         df = spark.read.parquet(\"path/to/this/directory/data/{first}-*.parquet\")\n\
         ```\n\n"
    );
    y.push_str(
        "## Structure\n\nEach row is one example:\n\n\
         - `state`: the policy's state features, grouped as in the agent-memory system (a struct)\n\
         - `action`: the decision taken (a struct)\n\
         - `reward`: the outcome score, in [-1, 1] (negative for bad outcomes), as float64\n\
         - `next_state`: the state after the action, when logged\n\
         - `metadata`: identifiers and context of the decision, unless exported with `--no-metadata`\n\n",
    );
    if !facts.encoded.is_empty() {
        y.push_str("Fields stored as JSON text because their values conflict in type, exceed int64 or nest too deep (decode with `json.loads`):\n\n");
        for (p, why) in facts.encoded {
            let _ = writeln!(y, "- `{p}`: {why}");
        }
        y.push('\n');
    }
    y.push_str("## License\n\nThe license of the source logs applies; this export adds none.\n");
    y
}

impl ParquetCompression {
    pub fn name(self) -> &'static str {
        match self {
            ParquetCompression::Snappy => "snappy",
            ParquetCompression::Zstd => "zstd",
            ParquetCompression::None => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_decimal_and_binary_units() {
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
    }

    #[test]
    fn shards_are_contiguous_cover_every_row_and_stay_under_the_size() {
        assert_eq!(shard_ranges(&[10; 10], 40), [0..4, 4..7, 7..10]);
        assert_eq!(shard_ranges(&[10; 10], 1000), vec![(0..10)]);
        // Long rows first, short rows after: cut by bytes, not by rows.
        let mut skewed = vec![1000u64; 100];
        skewed.extend(vec![10u64; 10_000]);
        for (sizes, limit) in [
            (skewed, 30_000),
            (vec![7; 1000], 100),
            (vec![5000, 1, 1], 10),
        ] {
            let r = shard_ranges(&sizes, limit);
            assert_eq!(r[0].start, 0);
            assert_eq!(r.last().unwrap().end, sizes.len());
            assert!(r
                .windows(2)
                .all(|w| w[0].end == w[1].start && !w[1].is_empty()));
            for range in &r {
                let bytes: u64 = sizes[range.clone()].iter().sum();
                assert!(
                    bytes <= limit || range.len() == 1,
                    "{range:?}: {bytes} > {limit}"
                );
            }
        }
    }

    #[test]
    fn lists_are_item_lists_in_the_metadata_and_element_lists_in_arrow() {
        let f = Feature::List(Box::new(Feature::Struct(vec![(
            "a".into(),
            Feature::List(Box::new(Feature::Value("float64"))),
        )])));
        assert_eq!(
            feature_metadata(&f),
            json!([{"a": [{"dtype": "float64", "_type": "Value"}]}])
        );
        let schema = arrow_schema(&Declared {
            fields: vec![("state".into(), f.clone())],
            encoded: Vec::new(),
        });
        let back = features_from_metadata(&schema.metadata()["huggingface"]).unwrap();
        assert_eq!(back, [("state".to_string(), f.clone())]);
        let DataType::List(item) = arrow_type(&f) else {
            panic!("a list");
        };
        assert_eq!(item.name(), "element");
        assert!(item.is_nullable());
    }
}
