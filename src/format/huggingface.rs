//! The Hugging Face format: `train.json`, `test.json` (`validation.json`),
//! `dataset_dict.json`, `dataset_info.json` and a dataset card `README.md`.
//!
//! Split files are JSON Lines (FORMATS.md rule 4). The card's YAML declares the union
//! schema of every field written (rule 5), so `load_dataset(dir)` casts every split to
//! one set of types; a field whose values conflict in type is written as JSON text
//! (rule 6). dataset_info.json uses `datasets`' own feature encoding (rule 7).

use std::fmt::Write as _;
use std::io::Write;

use anyhow::Context;
use serde_json::{json, Map, Value};

use super::{ExampleStream, FormatWriter, Item, SplitOutcome, WriterConfig};
use crate::example::{Example, Split};
use crate::json::{example_from_text, reparse};
use crate::output::OutputDir;
use crate::schema::Schema;
use crate::summary::ExportResult;
use crate::validate::Warning;

/// A `datasets` feature type.
#[derive(Debug, Clone, PartialEq)]
pub enum Feature {
    Value(&'static str),
    List(Box<Feature>),
    Struct(Vec<(String, Feature)>),
}

/// The declared features and the fields written as JSON text instead.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    pub fields: Vec<(String, Feature)>,
    /// Paths (key segments from the example's top level) whose values are JSON-encoded.
    pub encoded: Vec<(Vec<String>, String)>,
}

impl Declared {
    /// One warning per field written as JSON text (huggingface and parquet alike).
    pub fn warnings(&self) -> Vec<Warning> {
        self.encoded
            .iter()
            .map(|(path, why)| Warning::EncodedAsJson {
                field: path.join("."),
                reason: why.clone(),
            })
            .collect()
    }
}

/// Structs and lists nested deeper than this are written as JSON text: Arrow refuses
/// schemas nested past 64 levels ("Recursion level in ArrowSchema struct exceeded"), and
/// `datasets` hits Python's recursion limit on deep lists before that.
const MAX_FEATURE_DEPTH: usize = 32;

/// Map the union schema onto `datasets` types. `path` names the field for warnings.
fn feature_of(
    schema: &Schema,
    path: &[String],
    encoded: &mut Vec<(Vec<String>, String)>,
) -> Feature {
    let mut encode = |why: String| {
        encoded.push((path.to_vec(), why));
        Feature::Value("string")
    };
    if path.len() > MAX_FEATURE_DEPTH && matches!(schema, Schema::Struct(_) | Schema::List(_)) {
        return encode(format!(
            "is nested more than {MAX_FEATURE_DEPTH} levels deep, more than Arrow and datasets load"
        ));
    }
    match schema {
        Schema::Null => Feature::Value("string"),
        Schema::Bool => Feature::Value("bool"),
        Schema::Int => Feature::Value("int64"),
        Schema::Float => Feature::Value("float64"),
        Schema::String => Feature::Value("string"),
        Schema::BigInt => encode(
            "holds integers beyond int64, which no Arrow integer holds and a float would round"
                .into(),
        ),
        Schema::Conflict(bits) => encode(format!(
            "mixes {} values across examples",
            Schema::conflict_kinds(*bits)
        )),
        Schema::Struct(fields) if fields.is_empty() => encode(
            "is an empty object in every example, which Arrow cannot store as a struct".into(),
        ),
        Schema::List(inner) => {
            if needs_encoding(inner) {
                return encode(format!("is a list whose items {}", describe_trouble(inner)));
            }
            // A list adds a level of nesting; its items cannot be encoded one by one.
            let mut item_path = path.to_vec();
            item_path.push("[]".to_string());
            let mut inner_encoded = Vec::new();
            let item = feature_of(inner, &item_path, &mut inner_encoded);
            if !inner_encoded.is_empty() {
                return encode(format!(
                    "is a list whose items are nested more than {MAX_FEATURE_DEPTH} levels deep"
                ));
            }
            Feature::List(Box::new(item))
        }
        Schema::Struct(fields) => Feature::Struct(
            fields
                .iter()
                .map(|(k, s)| {
                    let mut p = path.to_vec();
                    p.push(k.clone());
                    (k.clone(), feature_of(s, &p, encoded))
                })
                .collect(),
        ),
    }
}

/// Whether anything inside a list item forces JSON text (lists cannot encode a part).
fn needs_encoding(s: &Schema) -> bool {
    match s {
        Schema::BigInt | Schema::Conflict(_) => true,
        Schema::Struct(f) => f.is_empty() || f.iter().any(|(_, s)| needs_encoding(s)),
        Schema::List(inner) => needs_encoding(inner),
        _ => false,
    }
}

fn describe_trouble(s: &Schema) -> String {
    match s {
        Schema::BigInt => "hold integers beyond int64".into(),
        Schema::Conflict(bits) => format!("mix {} values", Schema::conflict_kinds(*bits)),
        _ => "mix types or hold empty objects".into(),
    }
}

/// The columns written: state, action, reward, next_state, metadata (as present).
pub fn declare(schema: &Schema, include_metadata: bool) -> Declared {
    let mut out = Declared::default();
    let columns = [
        ("state", "state"),
        ("action", "action"),
        ("nextState", "next_state"),
        ("metadata", "metadata"),
    ];
    for (key, name) in columns {
        if key == "metadata" && !include_metadata {
            continue;
        }
        if let Some(s) = schema.field(key) {
            let f = feature_of(s, &[key.to_string()], &mut out.encoded);
            out.fields.push((name.to_string(), f));
        }
        if key == "action" {
            // reward sits between action and next_state, as on every line.
            out.fields
                .push(("reward".to_string(), Feature::Value("float64")));
        }
    }
    out
}

/// `datasets`' JSON encoding (what `Features.to_dict` writes, readable by 3.x and 5.x):
/// lists of scalars as `Sequence`, lists of structs as `[ {...} ]`.
fn feature_json(f: &Feature) -> Value {
    match f {
        Feature::Value(d) => json!({"dtype": d, "_type": "Value"}),
        Feature::List(inner) => match inner.as_ref() {
            Feature::Struct(_) => Value::Array(vec![feature_json(inner)]),
            _ => json!({"feature": feature_json(inner), "_type": "Sequence"}),
        },
        Feature::Struct(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, f)| (k.clone(), feature_json(f)))
                .collect(),
        ),
    }
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
pub fn yaml_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// The card's `features` list, in the form `DatasetInfo._to_yaml_dict` writes.
pub fn feature_yaml(out: &mut String, fields: &[(String, Feature)], indent: usize) {
    let pad = " ".repeat(indent);
    for (name, f) in fields {
        let _ = writeln!(out, "{pad}- name: {}", yaml_str(name));
        feature_yaml_body(out, f, indent + 2);
    }
}

fn feature_yaml_body(out: &mut String, f: &Feature, indent: usize) {
    let pad = " ".repeat(indent);
    match f {
        Feature::Value(d) => {
            let _ = writeln!(out, "{pad}dtype: {d}");
        }
        Feature::Struct(fields) => {
            let _ = writeln!(out, "{pad}struct:");
            feature_yaml(out, fields, indent);
        }
        Feature::List(inner) => match inner.as_ref() {
            Feature::Value(d) => {
                let _ = writeln!(out, "{pad}list: {d}");
            }
            Feature::Struct(fields) => {
                let _ = writeln!(out, "{pad}list:");
                feature_yaml(out, fields, indent);
            }
            Feature::List(_) => {
                let _ = writeln!(out, "{pad}list:");
                feature_yaml_body(out, inner, indent + 2);
            }
        },
    }
}

pub fn split_file(split: Split) -> String {
    match split {
        Split::Train => "train.json".into(),
        Split::Validation => "validation.json".into(),
        Split::Eval => "test.json".into(),
    }
}

/// The split name `datasets` gives each file (eval is `test`, as the original wrote).
pub fn hf_split_name(split: Split) -> &'static str {
    match split {
        Split::Train => "train",
        Split::Validation => "validation",
        Split::Eval => "test",
    }
}

pub struct HuggingFace {
    config: WriterConfig,
    declared: Declared,
    /// Bytes written per split (uncompressed), for dataset_info.json.
    split_bytes: [u64; 3],
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    Box::new(HuggingFace {
        declared: declare(&config.schema, config.include_metadata),
        config: config.clone(),
        split_bytes: [0; 3],
    })
}

/// Replace each encoded path's value by its JSON text.
fn encode_paths(ex: &mut Example, encoded: &[(Vec<String>, String)]) {
    for (path, _) in encoded {
        let Some((first, rest)) = path.split_first() else {
            continue;
        };
        let root: Option<&mut Map<String, Value>> = match first.as_str() {
            "state" => Some(&mut ex.state),
            "action" => Some(&mut ex.action),
            "nextState" => ex.next_state.as_mut(),
            "metadata" => ex.metadata.as_mut(),
            _ => None,
        };
        if let Some(map) = root {
            encode_at(map, rest);
        }
    }
}

fn encode_at(map: &mut Map<String, Value>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            if let Some(v) = map.get_mut(last) {
                if !v.is_null() {
                    *v = Value::String(v.to_string());
                }
            }
        }
        [key, rest @ ..] => {
            if let Some(Value::Object(inner)) = map.get_mut(key) {
                encode_at(inner, rest);
            }
        }
    }
}

/// Write integers in float64 fields as floats (`7` → `7.0`): the same value, but a
/// reader inferring types from one file then sees float64 too.
fn floats_as_declared(ex: &mut Example, fields: &[(String, Feature)]) {
    for (name, feature) in fields {
        match name.as_str() {
            "state" => floats_in_map(&mut ex.state, feature),
            "action" => floats_in_map(&mut ex.action, feature),
            "next_state" => {
                if let Some(m) = ex.next_state.as_mut() {
                    floats_in_map(m, feature);
                }
            }
            "metadata" => {
                if let Some(m) = ex.metadata.as_mut() {
                    floats_in_map(m, feature);
                }
            }
            "reward" => {
                if let Some(f) = as_float(&ex.reward) {
                    ex.reward = f;
                }
            }
            _ => {}
        }
    }
}

fn floats_in_map(map: &mut Map<String, Value>, feature: &Feature) {
    if let Feature::Struct(fields) = feature {
        for (k, f) in fields {
            if let Some(v) = map.get_mut(k) {
                floats_in_value(v, f);
            }
        }
    }
}

fn floats_in_value(v: &mut Value, feature: &Feature) {
    match (v, feature) {
        (Value::Number(n), Feature::Value("float64")) => {
            if let Some(f) = as_float(n) {
                *n = f;
            }
        }
        (Value::Object(m), Feature::Struct(_)) => floats_in_map(m, feature),
        (Value::Array(items), Feature::List(inner)) => {
            for item in items {
                floats_in_value(item, inner);
            }
        }
        _ => {}
    }
}

/// An integer as the same value written as a float; `None` when it already is one.
fn as_float(n: &serde_json::Number) -> Option<serde_json::Number> {
    let text = n.to_string();
    if text.contains(['.', 'e', 'E']) {
        return None;
    }
    let parsed: serde_json::Number = serde_json::from_str(&format!("{text}.0")).ok()?;
    Some(parsed)
}

/// Write a rewritten example as one compact JSON object (no newline), keys in the order
/// every line has: state, action, reward, `next_state_key`, metadata, then (with
/// `with_extra`) the input's other keys.
pub fn write_record(
    w: &mut dyn Write,
    ex: &Example,
    next_state_key: &str,
    with_extra: bool,
) -> std::io::Result<()> {
    w.write_all(b"{\"state\":")?;
    serde_json::to_writer(&mut *w, &ex.state)?;
    w.write_all(b",\"action\":")?;
    serde_json::to_writer(&mut *w, &ex.action)?;
    w.write_all(b",\"reward\":")?;
    serde_json::to_writer(&mut *w, &ex.reward)?;
    if let Some(ns) = &ex.next_state {
        write!(w, ",\"{next_state_key}\":")?;
        serde_json::to_writer(&mut *w, ns)?;
    }
    if let Some(m) = &ex.metadata {
        w.write_all(b",\"metadata\":")?;
        serde_json::to_writer(&mut *w, m)?;
    }
    if with_extra {
        for (k, v) in &ex.extra {
            w.write_all(b",")?;
            serde_json::to_writer(&mut *w, k)?;
            w.write_all(b":")?;
            serde_json::to_writer(&mut *w, v)?;
        }
    }
    w.write_all(b"}")
}

/// The row of an example as this format writes it (and the parquet format decodes it):
/// `None` when the input text already is that row and is copied through.
pub fn render_row(
    item: &Item,
    text: &[u8],
    declared: &Declared,
    ints_in_float_fields: &[bool],
    with_metadata: bool,
) -> anyhow::Result<Option<Vec<u8>>> {
    // Most examples are copied through as text. An example with a field to
    // encode, or an integer where the schema declares float64, is rewritten,
    // so a reader that infers types file by file (load_dataset("json",
    // data_files=...)) gets the declared type in every split.
    let is_rewritten = !declared.encoded.is_empty()
        || item.shape.is_none_or(|id| {
            ints_in_float_fields
                .get(id as usize)
                .copied()
                .unwrap_or(true)
        });
    let form = item.form;
    if !is_rewritten
        && form.is_compact()
        && !form.has_next_state()
        && !form.has_extra()
        && (with_metadata || !form.has_metadata())
    {
        return Ok(None);
    }
    let mut line = Vec::with_capacity(text.len() + 16);
    if is_rewritten {
        let location = &item.location;
        let mut ex = example_from_text(text, with_metadata, true).map_err(|e| {
            anyhow::anyhow!("{location}: the input changed while rlx was reading it ({e})")
        })?;
        encode_paths(&mut ex, &declared.encoded);
        floats_as_declared(&mut ex, &declared.fields);
        write_record(&mut line, &ex, "next_state", false)?;
    } else {
        reparse(&item.location, text)?.write_compact(
            &mut line,
            "next_state",
            with_metadata,
            false,
        )?;
    }
    Ok(Some(line))
}

impl FormatWriter for HuggingFace {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let mut file = out.create_data(&split_file(split))?;
        let mut written = 0;
        let mut bytes = 0;
        let with_metadata = self.config.include_metadata;
        let (declared, ints_in_float_fields) = (&self.declared, &self.config.ints_in_float_fields);
        super::render_then_write(
            examples,
            self.config.threads,
            |item, text| render_row(item, text, declared, ints_in_float_fields, with_metadata),
            |_, text, line| {
                let line = line.as_deref().unwrap_or(text);
                file.write_all(line)
                    .and_then(|_| file.write_all(b"\n"))
                    .with_context(|| format!("writing {}", file.relative))?;
                bytes += line.len() as u64 + 1;
                written += 1;
                Ok(())
            },
        )?;
        self.split_bytes[split as usize] = bytes;
        file.finish()?;
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
        let warnings = self.declared.warnings();
        let splits = written_splits(result);
        let policy = self.config.policy;
        let dataset_name = format!("{policy}_policy");

        let mut manifest = Map::new();
        for (split, n) in &splits {
            manifest.insert(
                hf_split_name(*split).into(),
                json!({
                    "name": hf_split_name(*split),
                    "num_examples": n,
                    "file": out.data_name(&split_file(*split)),
                    "dataset_name": dataset_name,
                }),
            );
        }
        let dict = json!({
            "splits": manifest,
            "load_with": "datasets.load_dataset(\"<this directory>\")",
            "note": "A split manifest written by rlx, not a save_to_disk directory: load it with load_dataset, not load_from_disk.",
        });
        out.write_doc("dataset_dict.json", &pretty(&dict)?)?;

        let features: Map<String, Value> = self
            .declared
            .fields
            .iter()
            .map(|(k, f)| (k.clone(), feature_json(f)))
            .collect();
        let total_bytes: u64 = self.split_bytes.iter().sum();
        let mut split_info = Map::new();
        for (split, n) in &splits {
            split_info.insert(
                hf_split_name(*split).into(),
                json!({
                    "name": hf_split_name(*split),
                    "num_bytes": self.split_bytes[*split as usize],
                    "num_examples": n,
                    "dataset_name": format!("agent_memory_{policy}_policy"),
                }),
            );
        }
        let info = json!({
            "builder_name": "json",
            "config_name": "default",
            "dataset_name": format!("agent_memory_{policy}_policy"),
            "description": description(policy.name()),
            "citation": citation(policy.name(), self.config.created.year()),
            "homepage": "",
            "license": "",
            "features": features,
            "splits": split_info,
            "dataset_size": total_bytes,
            "size_in_bytes": total_bytes,
            "version": {"version_str": "1.0.0", "major": 1, "minor": 0, "patch": 0},
            "policy": policy,
            "num_examples": result.stats.total_examples,
            "created_at": result.stats.exported_at,
            "date_range": self.config.input_stats.as_ref().and_then(|s| s.get("dateRange")).cloned(),
            "encoded_as_json": self.declared.encoded.iter().map(|(p, _)| p.join(".")).collect::<Vec<_>>(),
        });
        out.write_doc("dataset_info.json", &pretty(&info)?)?;
        out.write_doc(
            "README.md",
            &(self.card(result, out, &splits) + &crate::stats::plots::card_section(result, out)),
        )?;
        Ok(warnings)
    }
}

fn pretty(v: &Value) -> anyhow::Result<String> {
    let mut s = serde_json::to_string_pretty(v)?;
    s.push('\n');
    Ok(s)
}

/// The splits written, with their counts (the card lists only these).
pub fn written_splits(result: &ExportResult) -> Vec<(Split, u64)> {
    let s = &result.stats;
    [
        (Split::Train, s.train_examples),
        (Split::Validation, s.validation_examples),
        (Split::Eval, s.eval_examples),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect()
}

pub fn description(policy: &str) -> String {
    format!(
        "Decisions of the {policy} policy of an agent-memory system as reinforcement-learning examples (state, action, reward), exported by rlx."
    )
}

fn citation(policy: &str, year: i64) -> String {
    format!(
        "@dataset{{agent_memory_{policy}_policy_{year},\n  title = {{Agent memory {policy} policy decisions}},\n  year = {{{year}}},\n  note = {{Exported with rlx}}\n}}"
    )
}

/// The `size_categories` bucket the Hub accepts for `n` rows.
pub fn size_category(n: u64) -> &'static str {
    match n {
        0..=999 => "n<1K",
        1_000..=9_999 => "1K<n<10K",
        10_000..=99_999 => "10K<n<100K",
        100_000..=999_999 => "100K<n<1M",
        1_000_000..=9_999_999 => "1M<n<10M",
        10_000_000..=99_999_999 => "10M<n<100M",
        100_000_000..=999_999_999 => "100M<n<1B",
        _ => "1B<n<10B",
    }
}

impl HuggingFace {
    fn card(&self, result: &ExportResult, out: &OutputDir, splits: &[(Split, u64)]) -> String {
        let s = &result.stats;
        let policy = self.config.policy.name();
        let mut y = String::from("---\n");
        y.push_str("task_categories:\n- reinforcement-learning\n");
        let _ = writeln!(y, "size_categories:\n- {}", size_category(s.total_examples));
        let _ = writeln!(
            y,
            "pretty_name: {}",
            yaml_str(&format!("Agent memory {policy} policy decisions"))
        );
        y.push_str("tags:\n- agent-memory\n- rlx\n");
        y.push_str("configs:\n- config_name: default\n  data_files:\n");
        for (split, _) in splits {
            let _ = writeln!(
                y,
                "  - split: {}\n    path: {}",
                hf_split_name(*split),
                yaml_str(&out.data_name(&split_file(*split)))
            );
        }
        y.push_str("dataset_info:\n  features:\n");
        feature_yaml(&mut y, &self.declared.fields, 2);
        y.push_str("---\n\n");

        let date_range = self
            .config
            .input_stats
            .as_ref()
            .and_then(|st| st.get("dateRange"))
            .and_then(|d| {
                Some(format!(
                    "{} to {}",
                    d.get("start")?.as_str()?,
                    d.get("end")?.as_str()?
                ))
            })
            .unwrap_or_else(|| "not given by the input".into());
        let _ = write!(
            y,
            "# Agent memory {policy} policy dataset\n\n{}\n\n\
             ## Dataset information\n\n\
             | | |\n|---|---|\n\
             | policy | {policy} |\n\
             | examples | {} |\n",
            description(policy),
            s.total_examples
        );
        for (split, n) in splits {
            let _ = writeln!(y, "| {} | {n} |", hf_split_name(*split));
        }
        let _ = write!(
            y,
            "| date range | {date_range} |\n| seed | {} |\n| version | 1.0.0 |\n| exported at | {} |\n\n",
            s.seed, s.exported_at
        );
        y.push_str("## Loading\n\nThe card above declares every split and the full schema, so the directory loads as it is:\n\n```python\nfrom datasets import load_dataset\n\nds = load_dataset(\"path/to/this/directory\")\n");
        let _ = writeln!(
            y,
            "print(ds[\"{}\"][0])\n```\n",
            hf_split_name(splits.first().map(|s| s.0).unwrap_or(Split::Train))
        );
        y.push_str("or, file by file. Without the card, `datasets` infers types from the first file, and a field that only a later split has (likely in very small exports) fails to cast; passing the declared features avoids that:\n\n```python\nimport json\nfrom datasets import Features, load_dataset\n\nfeatures = Features.from_dict(json.load(open(\"dataset_info.json\"))[\"features\"])\nds = load_dataset(\"json\", features=features, data_files={\n");
        for (split, _) in splits {
            let _ = writeln!(
                y,
                "    \"{}\": \"{}\",",
                hf_split_name(*split),
                out.data_name(&split_file(*split))
            );
        }
        y.push_str("})\n```\n\nUse `load_dataset`, not `load_from_disk`: `dataset_dict.json` here is a split manifest, not a `save_to_disk` directory.\n\n");
        y.push_str(
            "## Structure\n\nEach line of a split file is one example:\n\n\
             - `state`: the policy's state features, grouped as in the agent-memory system\n\
             - `action`: the decision taken\n\
             - `reward`: the outcome score, in [-1, 1] (negative for bad outcomes), as float64\n\
             - `next_state`: the state after the action, when logged\n\
             - `metadata`: identifiers and context of the decision, unless exported with `--no-metadata`\n\n",
        );
        if !self.declared.encoded.is_empty() {
            y.push_str("Fields written as JSON text because their values conflict in type (decode with `json.loads`):\n\n");
            for (p, why) in &self.declared.encoded {
                let _ = writeln!(y, "- `{}`: {why}", p.join("."));
            }
            y.push('\n');
        }
        let features: Map<String, Value> = self
            .declared
            .fields
            .iter()
            .map(|(k, f)| (k.clone(), feature_json(f)))
            .collect();
        let _ = write!(
            y,
            "## Features\n\n```json\n{}\n```\n\n## Citation\n\n```bibtex\n{}\n```\n\n## License\n\nThe license of the source logs applies; this export adds none.\n",
            serde_json::to_string_pretty(&features).unwrap_or_default(),
            citation(policy, self.config.created.year())
        );
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicting_fields_are_encoded_and_named() {
        let a = Schema::of_value(
            &json!({"state": {"x": 1, "tags": ["a"]}, "action": {"d": "s"}, "reward": 1, "metadata": {"v": "high"}}),
        );
        let b = Schema::of_value(
            &json!({"state": {"x": 0.5, "tags": []}, "action": {"d": "s"}, "reward": 0.5, "metadata": {"v": 0.5}}),
        );
        let d = declare(&a.merge(b), true);
        assert_eq!(d.encoded.len(), 1);
        assert_eq!(d.encoded[0].0, ["metadata", "v"]);
        let names: Vec<&str> = d.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["state", "action", "reward", "metadata"]);
        let mut y = String::new();
        feature_yaml(&mut y, &d.fields, 0);
        assert!(y.contains("- name: \"x\"\n    dtype: float64\n"), "{y}");
        assert!(y.contains("- name: \"tags\"\n    list: string\n"), "{y}");
    }

    #[test]
    fn deep_fields_are_encoded() {
        let mut v = json!(1);
        for _ in 0..40 {
            v = json!({ "a": v });
        }
        let s = Schema::of_value(
            &json!({"state": {"ok": 1}, "action": {"x": 1}, "reward": 1, "metadata": {"deep": v}}),
        );
        let d = declare(&s, true);
        assert_eq!(d.encoded.len(), 1);
        assert_eq!(d.encoded[0].0.len(), MAX_FEATURE_DEPTH + 1);
    }

    #[test]
    fn lists_of_structs_use_the_list_shorthand() {
        let f = Feature::List(Box::new(Feature::Struct(vec![(
            "a".into(),
            Feature::Value("int64"),
        )])));
        assert_eq!(
            feature_json(&f),
            json!([{"a": {"dtype": "int64", "_type": "Value"}}])
        );
        let g = Feature::List(Box::new(Feature::Value("string")));
        assert_eq!(feature_json(&g)["_type"], "Sequence");
    }

    #[test]
    fn integers_in_float_fields_become_floats() {
        let src = r#"{"state":{"x":7,"l":[1,2.5],"s":"7"},"action":{"n":3},"reward":1}"#;
        let mut ex = example_from_text(src.as_bytes(), true, true).unwrap();
        let schema = Schema::of_value(
            &json!({"state": {"x": 0.5, "l": [0.5], "s": "a"}, "action": {"n": 3}, "reward": 1}),
        );
        let d = declare(&schema, true);
        floats_as_declared(&mut ex, &d.fields);
        let mut out = Vec::new();
        write_record(&mut out, &ex, "next_state", false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"state":{"x":7.0,"l":[1.0,2.5],"s":"7"},"action":{"n":3},"reward":1.0}"#
        );
    }

    #[test]
    fn size_buckets() {
        assert_eq!(size_category(0), "n<1K");
        assert_eq!(size_category(1000), "1K<n<10K");
        assert_eq!(size_category(2_500_000), "1M<n<10M");
    }
}
