//! The CSV format: `train.csv`, `eval.csv` (`validation.csv`), `combined.csv`,
//! `data_dictionary.md` and `analysis_template.py`.
//!
//! Columns are the union schema flattened to dot notation, one set shared by every file
//! and ordered as the original did (reward, state.*, action.*, then the rest, each group
//! sorted). Cells follow FORMATS.md rules 14–15: RFC 4180 quoting with CRLF records,
//! arrays as JSON text, `true`/`false`, empty for missing, and a `'` before string cells
//! a spreadsheet would run as a formula (unless --no-formula-escape).

use std::cell::Cell;
use std::fmt::Write as _;

use anyhow::Context;

use super::{ExampleStream, FormatWriter, SplitOutcome, WriterConfig};

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::example::Split;
use crate::json::{self, minified, string_of, Cursor, ScanError};
use crate::output::{OutFile, OutputDir};
use crate::schema::Schema;
use crate::summary::ExportResult;
use crate::validate::Warning;
use std::io::Write;

/// One CSV column: its header and the key path it reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub path: Vec<String>,
    pub kind: &'static str,
}

/// Flatten the schema into columns, in the original's order.
pub fn columns(schema: &Schema, include_metadata: bool) -> Vec<Column> {
    let mut leaves = Vec::new();
    if let Schema::Struct(fields) = schema {
        for (k, s) in fields {
            if k == "metadata" && !include_metadata {
                continue;
            }
            flatten(s, vec![k.clone()], &mut leaves);
        }
    }
    let group = |c: &Column| match c.path[0].as_str() {
        "reward" if c.path.len() == 1 => 0,
        "state" => 1,
        "action" => 2,
        _ => 3,
    };
    leaves.sort_by(|a, b| group(a).cmp(&group(b)).then_with(|| a.name.cmp(&b.name)));
    leaves
}

fn flatten(schema: &Schema, path: Vec<String>, out: &mut Vec<Column>) {
    match schema {
        // An object empty in every example has no leaves to show.
        Schema::Struct(fields) if fields.is_empty() => {}
        Schema::Struct(fields) => {
            for (k, s) in fields {
                let mut p = path.clone();
                p.push(k.clone());
                flatten(s, p, out);
            }
        }
        other => out.push(Column {
            name: column_name(&path),
            path,
            kind: kind_name(other),
        }),
    }
}

/// Append one key to a dot-notation column name. A key that holds a `.` or a `"`, or
/// is empty, is written as a JSON string (`metadata."a.b"`), so `{"a.b": 1}` and
/// `{"a": {"b": 2}}` get different columns instead of one column holding two values.
fn push_segment(name: &mut String, key: &str) {
    if !name.is_empty() {
        name.push('.');
    }
    if key.is_empty() || key.contains(['.', '"']) {
        name.push_str(&Value::String(key.to_string()).to_string());
    } else {
        name.push_str(key);
    }
}

fn column_name(path: &[String]) -> String {
    let mut name = String::new();
    for key in path {
        push_segment(&mut name, key);
    }
    name
}

fn kind_name(s: &Schema) -> &'static str {
    match s {
        Schema::Null => "empty",
        Schema::Bool => "bool",
        Schema::Int | Schema::BigInt => "int",
        Schema::Float => "float",
        Schema::String => "string",
        Schema::List(_) => "array",
        Schema::Struct(_) => "object",
        Schema::Conflict(_) => "mixed",
    }
}

/// Characters that make a spreadsheet treat a cell as a formula (OWASP, FORMATS.md §4.3).
fn is_formula_like(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n')
    )
}

/// Column positions by dot-notation name, to fill a row in one walk over the text.
struct ColumnIndex {
    by_name: FxHashMap<String, usize>,
    reward: Option<usize>,
    count: usize,
}

impl ColumnIndex {
    fn new(columns: &[Column]) -> ColumnIndex {
        ColumnIndex {
            by_name: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            reward: columns.iter().position(|c| c.path == ["reward"]),
            count: columns.len(),
        }
    }
}

/// One row's cells, filled from an example's text: each column's text, or empty.
/// Reused from row to row, so a row costs no allocation per cell.
#[derive(Default)]
struct Cells {
    text: String,
    spans: Vec<Option<(u32, u32)>>,
    path: String,
}

impl Cells {
    fn get(&self, column: usize) -> Option<&str> {
        self.spans[column].map(|(a, b)| &self.text[a as usize..b as usize])
    }

    fn set(&mut self, column: usize, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(value);
        self.spans[column] = Some((start, self.text.len() as u32));
    }

    /// Fill the cells from an example's (validated) text, in one scan of it.
    fn fill_row(
        &mut self,
        text: &str,
        index: &ColumnIndex,
        escape: bool,
        with_metadata: bool,
    ) -> Result<(), ScanError> {
        self.text.clear();
        self.spans.clear();
        self.spans.resize(index.count, None);
        let mut path = std::mem::take(&mut self.path);
        let filled = json::visit(text, |example| {
            example.members(|key, value| {
                match key.as_ref() {
                    "reward" => {
                        if let Some(i) = index.reward {
                            let raw = value.take()?;
                            self.set(i, raw.get());
                        }
                        return Ok(());
                    }
                    "metadata" if !with_metadata => return Ok(()),
                    _ => {}
                }
                path.clear();
                push_segment(&mut path, &key);
                self.fill(&mut path, value, index, escape)
            })
        });
        self.path = path;
        filled
    }

    /// Fill the cell of the column at `path`, or the cells below it when the value is an
    /// object that is not a column itself.
    fn fill(
        &mut self,
        path: &mut String,
        value: Cursor,
        index: &ColumnIndex,
        escape: bool,
    ) -> Result<(), ScanError> {
        let column = index.by_name.get(path.as_str()).copied();
        let first = value.first_byte();
        if first == b'{' && column.is_none() {
            return value.members(|k, v| {
                let len = path.len();
                push_segment(path, &k);
                let filled = self.fill(path, v, index, escape);
                path.truncate(len);
                filled
            });
        }
        // A value with no column of its own is stepped over by the cursor.
        let Some(i) = column else { return Ok(()) };
        let raw = value.take()?;
        match first {
            b'n' => {}
            b'"' => {
                if let Some(s) = string_of(raw) {
                    if escape && is_formula_like(&s) {
                        self.text.push('\'');
                        let start = self.text.len() as u32 - 1;
                        self.text.push_str(&s);
                        self.spans[i] = Some((start, self.text.len() as u32));
                    } else {
                        self.set(i, &s);
                    }
                }
            }
            b'[' | b'{' => self.set(i, &minified(raw)),
            _ => self.set(i, raw.get()),
        }
        Ok(())
    }

    /// The row as one CSV record, written by `csv` (its rendering thread's writer), and
    /// what the dictionary counts.
    fn record(&self, csv: &mut csv::Writer<Spool>) -> anyhow::Result<Row> {
        let mut row = Row::default();
        for column in 0..self.spans.len() {
            match self.get(column) {
                None => row.empty.push(column as u32),
                Some(text) if text.len() > PYTHON_CSV_FIELD_LIMIT => row.long.push(text.len()),
                Some(_) => {}
            }
        }
        csv.write_record((0..self.spans.len()).map(|c| self.get(c).unwrap_or("")))?;
        csv.flush()?;
        row.record = csv.get_ref().take();
        Ok(row)
    }
}

/// A rendered row: its record (CRLF included), its empty columns and its over-long cells.
#[derive(Default)]
struct Row {
    record: Vec<u8>,
    empty: Vec<u32>,
    long: Vec<usize>,
}

/// A writer of CSV records as FORMATS.md rules 14-15 want them: RFC 4180 with CRLF
/// ends, and every field quoted (with `"` doubled) unless it is a number, which also
/// keeps VT, FF, NEL, U+2028 and the other line breaks Python's `str.splitlines` honours
/// inside their cell.
fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(out)
}

/// Where a rendering thread's `csv::Writer` puts each record; `take` hands the record
/// over (to be written in order by the writing thread) and leaves room for the next.
#[derive(Default)]
struct Spool(Cell<Vec<u8>>);

impl Spool {
    fn take(&self) -> Vec<u8> {
        let record = self.0.take();
        self.0.set(Vec::with_capacity(record.len() + 64));
        record
    }
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.get_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One CSV record of `fields`.
fn record_of<'a>(fields: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut csv = csv_writer(Vec::new());
    csv.write_record(fields)
        .expect("a record written to memory cannot fail");
    csv.into_inner()
        .expect("a record written to memory cannot fail")
}

/// Python's `csv` module rejects longer fields unless `csv.field_size_limit` is raised
/// (pandas reads them fine).
const PYTHON_CSV_FIELD_LIMIT: usize = 131_072;

pub fn split_file(split: Split) -> String {
    format!("{}.csv", split.name())
}

pub struct Csv {
    config: WriterConfig,
    columns: Vec<Column>,
    index: ColumnIndex,
    combined: Option<OutFile>,
    /// Empty cells per column, over every row written.
    empty: Vec<u64>,
    /// Cells longer than Python's csv module reads by default, and the longest.
    long_cells: u64,
    longest_cell: usize,
    rows: u64,
}

pub fn new(config: &WriterConfig) -> Box<dyn FormatWriter> {
    let columns = columns(&config.schema, config.include_metadata);
    Box::new(Csv {
        empty: vec![0; columns.len()],
        index: ColumnIndex::new(&columns),
        columns,
        config: config.clone(),
        combined: None,
        rows: 0,
        long_cells: 0,
        longest_cell: 0,
    })
}

impl FormatWriter for Csv {
    fn write_split(
        &mut self,
        split: Split,
        examples: &dyn ExampleStream,
        out: &OutputDir,
    ) -> anyhow::Result<SplitOutcome> {
        let headers: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        if self.combined.is_none() {
            let mut f = out.create_data("combined.csv")?;
            let header = record_of(std::iter::once("split").chain(headers.iter().copied()));
            f.write_all(&header).context("writing combined.csv")?;
            self.combined = Some(f);
        }
        let mut file = out.create_data(&split_file(split))?;
        let name = file.relative.clone();
        file.write_all(&record_of(headers.iter().copied()))
            .with_context(|| format!("writing {name}"))?;
        let mut written = 0;
        let (index, escape) = (&self.index, self.config.formula_escape);
        let with_metadata = self.config.include_metadata;
        let mut scratch: Vec<(Cells, csv::Writer<Spool>)> = (0..self.config.threads.max(1))
            .map(|_| (Cells::default(), csv_writer(Spool::default())))
            .collect();
        let split_cell = record_of([split.name()]);
        let split_cell = &split_cell[..split_cell.len() - 2];
        let Csv {
            combined,
            empty,
            long_cells,
            longest_cell,
            rows,
            ..
        } = self;
        let combined = combined.as_mut().expect("combined.csv was created above");
        super::render_then_write_with(
            examples,
            &mut scratch,
            |(cells, csv), item, bytes| {
                let location = &item.location;
                std::str::from_utf8(bytes)
                    .map_err(|e| e.to_string())
                    .and_then(|text| {
                        cells
                            .fill_row(text, index, escape, with_metadata)
                            .map_err(|e| e.to_string())
                    })
                    .map_err(|e| {
                        anyhow::anyhow!(
                            "{location}: the input changed while rlx was reading it ({e})"
                        )
                    })?;
                cells.record(csv)
            },
            |_, _, row| {
                for &i in &row.empty {
                    empty[i as usize] += 1;
                }
                for &len in &row.long {
                    *long_cells += 1;
                    *longest_cell = (*longest_cell).max(len);
                }
                file.write_all(&row.record)
                    .with_context(|| format!("writing {name}"))?;
                combined
                    .write_all(split_cell)
                    .and_then(|_| combined.write_all(b","))
                    .and_then(|_| combined.write_all(&row.record))
                    .context("writing combined.csv")?;
                written += 1;
                *rows += 1;
                Ok(())
            },
        )?;
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
        if let Some(f) = self.combined.take() {
            f.finish()?;
        }
        out.write_doc("data_dictionary.md", &self.dictionary(result, out))?;
        out.write_doc(
            "analysis_template.py",
            &analysis_template(
                result,
                &out.data_name("combined.csv"),
                &self.string_columns(),
            ),
        )?;
        let mut warnings = Vec::new();
        if self.long_cells > 0 {
            warnings.push(Warning::LongCsvCells {
                count: self.long_cells,
                longest: self.longest_cell,
                limit: PYTHON_CSV_FIELD_LIMIT,
            });
        }
        Ok(warnings)
    }
}

/// The original module's column descriptions, looked up by the last path segment.
fn describe(column: &Column) -> String {
    let leaf = column.path.last().map(String::as_str).unwrap_or("");
    let text = match leaf {
        "reward" if column.path.len() == 1 => {
            "Outcome score of the decision, in [-1, 1] (negative = bad outcome)"
        }
        "turnNumber" => "Conversation turn number",
        "tokenCount" => "Number of tokens in the context",
        "toolCallCount" => "Number of tool calls",
        "hasError" | "hasErrors" => "Whether errors are present",
        "userTurnCount" => "Number of user turns",
        "assistantTurnCount" => "Number of assistant turns",
        "totalEntries" => "Total memory entries",
        "recentExtractions" => "Number of recent extractions",
        "similarEntryExists" => "Whether a similar entry is already stored",
        "sessionCaptureCount" => "Number of captures in this session",
        "hasDecision" => "Content contains a decision",
        "hasRule" => "Content contains a rule",
        "hasFact" => "Content contains a fact",
        "hasCommand" => "Content contains a command",
        "noveltyScore" => "Novelty score (0-1)",
        "complexity" => "Complexity score (0-1)",
        "queryComplexity" => "Query complexity score (0-1)",
        "queryLength" => "Length of the query",
        "hasKeywords" => "Whether the query has keywords",
        "semanticCategory" => "Semantic category of the query",
        "conversationDepth" => "Depth of the conversation",
        "recentToolCalls" => "Number of recent tool calls",
        "recentRetrievals" => "Number of recent retrievals",
        "avgRetrievalSuccess" => "Mean retrieval success rate",
        "lastRetrievalTime" => "Time of the last retrieval (epoch milliseconds)",
        "groupSize" => "Number of entries in the group",
        "avgSimilarity" => "Average similarity within the group",
        "minSimilarity" => "Minimum similarity within the group",
        "maxSimilarity" => "Maximum similarity within the group",
        "entryTypes" => "Entry types in the group",
        "totalRetrievals" => "Total number of retrievals",
        "avgRetrievalRank" => "Mean retrieval rank",
        "successRate" => "Success rate",
        "lastAccessedDaysAgo" => "Days since last access",
        "scopeType" => "Kind of scope",
        "totalEntriesInScope" => "Entries in the scope",
        "duplicateRatio" => "Share of duplicates",
        "decision" => "Extraction decision (store/skip/defer)",
        "entryType" => "Type of the entry",
        "priority" => "Priority (0-100)",
        "shouldRetrieve" => "Whether to retrieve",
        "scope" => "Scope to search",
        "types" => "Entry types to search",
        "maxResults" => "Maximum number of results",
        "action" => "Consolidation action (merge/dedupe/archive/abstract/keep)",
        "targetEntries" => "Target entry IDs",
        "mergeStrategy" => "Merge strategy",
        "sessionId" => "Session identifier",
        "decisionId" => "Decision identifier",
        "outcomeType" => "Type of outcome",
        "entryIds" => "Entry IDs",
        "queryText" => "Text of the query",
        _ => return format!("Value of `{}`", column.name),
    };
    text.to_string()
}

impl Csv {
    /// Columns whose values are all strings: read them with `dtype=str`, or pandas turns
    /// `"007"` into 7 and `"true"` into a boolean.
    fn string_columns(&self) -> Vec<&str> {
        self.columns
            .iter()
            .filter(|c| c.kind == "string")
            .map(|c| c.name.as_str())
            .collect()
    }

    fn dictionary(&self, result: &ExportResult, out: &OutputDir) -> String {
        let s = &result.stats;
        let policy = self.config.policy.name();
        let mut d = format!(
            "# Data Dictionary - {} Policy Dataset\n\n\
             {} rows ({} train, {} validation, {} eval), {} columns, exported by rlx on {}.\n\n\
             ## Columns\n\n\
             | column | type | empty rows | description |\n|---|---|---|---|\n",
            policy.to_uppercase(),
            self.rows,
            s.train_examples,
            s.validation_examples,
            s.eval_examples,
            self.columns.len(),
            s.exported_at,
        );
        for (c, empty) in self.columns.iter().zip(&self.empty) {
            let _ = writeln!(
                d,
                "| `{}` | {} | {} | {} |",
                c.name.replace('|', "\\|"),
                c.kind,
                empty,
                describe(c).replace('|', "\\|")
            );
        }
        let escape = if self.config.formula_escape {
            "on: a string cell starting with `=`, `+`, `-`, `@`, tab, CR or LF is written with a leading `'` so spreadsheets do not run it as a formula (numbers are never changed). Strip it with `df[col].str.removeprefix(\"'\")` if you need the raw text, or export with `--no-formula-escape`."
        } else {
            "off (`--no-formula-escape`): string cells are written as they are. Do not open these files in a spreadsheet if the data is untrusted."
        };
        let _ = write!(
            d,
            "\n## Encoding\n\n\
             - Files: `{train}`, `{eval}`{validation}, and `{combined}` (every row, with a leading `split` column). All share one header.\n\
             - RFC 4180: comma-separated, CRLF line ends, quotes doubled inside a cell, UTF-8 without a BOM. Every cell that is not a number is quoted, so line separators such as U+2028 stay inside their cell for every reader.\n\
             - Nested objects are flattened to dot-notation columns (`state.contextFeatures.turnNumber`). Arrays and objects inside arrays are written as JSON text (`[\"a\",\"b\"]`): parse them with `json.loads`.\n\
             - Booleans are `true`/`false`. An empty cell means the example has no value there (the key is missing or null).\n\
             - Numbers are written exactly as in the input.\n\
             - Formula escaping is {escape}\n\n\
             ## Reading with pandas\n\n\
             pandas turns `NA`, `None`, `null`, `n/a` and similar strings into NaN by default, so a value literally called `None` would be lost; and it guesses types, so a string column holding `\"007\"`, `\"1e5\"` or `\"true\"` would come back as a number or a boolean. Read with:\n\n\
             ```python\nimport pandas as pd\n\nSTRING_COLUMNS = {strings}\ndf = pd.read_csv(\"{combined}\", keep_default_na=False, na_values=[\"\"],\n                 dtype={{c: str for c in STRING_COLUMNS}})\n```\n\n\
             A column of booleans with empty cells loads as `object`; a column that is empty in every row loads as float64. Python's `csv` module refuses cells longer than 131,072 characters unless you call `csv.field_size_limit(sys.maxsize)` first (rlx warns when a file has such cells).\n\n\
             ## Ideas\n\n\
             - Reward distribution per action (`analysis_template.py` draws it).\n\
             - Correlation of each numeric state feature with the reward.\n\
             - Reward by split, to check the split is not skewed.\n\
             - Decisions with negative rewards, to find failure patterns.\n",
            train = out.data_name("train.csv"),
            eval = out.data_name("eval.csv"),
            validation = if s.validation_examples > 0 {
                format!(", `{}`", out.data_name("validation.csv"))
            } else {
                String::new()
            },
            combined = out.data_name("combined.csv"),
            strings = python_list(&self.string_columns()),
        );
        d
    }
}

/// A Python list literal of strings (JSON string syntax is valid Python).
fn python_list(items: &[&str]) -> String {
    Value::from(items.to_vec()).to_string()
}

fn analysis_template(result: &ExportResult, combined: &str, strings: &[&str]) -> String {
    let policy = result
        .stats
        .policy_type
        .map(|p| p.name())
        .unwrap_or("unknown");
    ANALYSIS_TEMPLATE
        .replace("{{POLICY}}", policy)
        .replace("{{COMBINED}}", combined)
        .replace("{{STRING_COLUMNS}}", &python_list(strings))
}

/// Runs as shipped next to the CSV files: `python analysis_template.py`.
const ANALYSIS_TEMPLATE: &str = r#"#!/usr/bin/env python3
"""Analysis of the {{POLICY}} policy dataset exported by rlx.

Run it in the directory that holds the CSV files:

    python analysis_template.py

It needs pandas and matplotlib, reads every split from {{COMBINED}}, prints summaries
and saves its plots as PNG files next to the data.
"""
import json
import os
import sys

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COMBINED = os.path.join(HERE, "{{COMBINED}}")
# Columns whose values are strings: read as str so "007" or "true" are not converted.
STRING_COLUMNS = {{STRING_COLUMNS}}


def load():
    # keep_default_na=False: an action literally named "None" or "NA" stays a string.
    df = pd.read_csv(COMBINED, keep_default_na=False, na_values=[""],
                     dtype={c: str for c in STRING_COLUMNS})
    df["reward"] = pd.to_numeric(df["reward"], errors="coerce")
    return df


def unescape(series):
    """Undo rlx's formula escaping (a leading ' before = + - @) for analysis."""
    if pd.api.types.is_string_dtype(series) or series.dtype == object:
        return series.map(lambda v: v[1:] if isinstance(v, str) and v[:2] in ("'=", "'+", "'-", "'@") else v)
    return series


def save(fig, name):
    path = os.path.join(HERE, name)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    print(f"saved {name}")


def analyze_rewards(df):
    print("\n== Reward distribution ==")
    print(df["reward"].describe())
    print(df.groupby("split")["reward"].describe())
    fig, ax = plt.subplots(figsize=(8, 5))
    for split, part in df.groupby("split"):
        ax.hist(part["reward"].dropna(), bins=50, alpha=0.6, label=split)
    ax.set_xlabel("reward")
    ax.set_ylabel("examples")
    ax.set_title("Reward distribution ({{POLICY}} policy)")
    ax.legend()
    save(fig, "reward_distribution.png")


def numeric_state_columns(df):
    cols = [c for c in df.columns if c.startswith("state.")]
    return [c for c in cols if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])]


def analyze_features(df):
    cols = numeric_state_columns(df)
    print(f"\n== State features ({len(cols)} numeric) ==")
    if cols:
        print(df[cols].astype(float).describe().T)


def feature_importance(df):
    cols = numeric_state_columns(df)
    if not cols:
        return
    corr = df[cols].astype(float).corrwith(df["reward"]).dropna()
    if corr.empty:
        print("\n(no feature varies enough to correlate with the reward)")
        return
    ranked = corr.reindex(corr.abs().sort_values(ascending=False).index)
    print("\n== Feature-reward correlation (top 10) ==")
    print(ranked.head(10))
    top = ranked.head(15)[::-1]
    fig, ax = plt.subplots(figsize=(8, max(3, 0.4 * len(top))))
    ax.barh(top.index, top.values)
    ax.set_xlabel("correlation with reward")
    ax.set_title("Feature importance ({{POLICY}} policy)")
    save(fig, "feature_importance.png")


def action_columns(df):
    out = []
    for c in df.columns:
        if not c.startswith("action."):
            continue
        values = unescape(df[c]).dropna()
        if values.empty or values.astype(str).str.startswith("[").any():
            continue
        if (pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object
                or pd.api.types.is_bool_dtype(df[c])):
            out.append(c)
    return out


def analyze_actions(df):
    for c in action_columns(df):
        counts = unescape(df[c]).astype(str).value_counts()
        print(f"\n== {c} ==")
        print(counts)
        if len(counts) <= 10:
            fig, ax = plt.subplots(figsize=(6, 4))
            ax.bar(counts.index.astype(str), counts.values)
            ax.set_title(c)
            ax.set_ylabel("examples")
            save(fig, f"action_{c.split('.', 1)[1].replace('.', '_')}_distribution.png")


def reward_by_action(df):
    for c in action_columns(df)[:3]:
        print(f"\n== reward by {c} ==")
        print(df.groupby(unescape(df[c]).astype(str))["reward"].agg(["mean", "std", "count"]))


def main():
    if not os.path.exists(COMBINED):
        sys.exit(f"{COMBINED} not found: run this script next to the exported CSV files")
    df = load()
    print(f"{len(df)} rows: " + json.dumps(df["split"].value_counts().to_dict()))
    analyze_rewards(df)
    analyze_features(df)
    feature_importance(df)
    analyze_actions(df)
    reward_by_action(df)


if __name__ == "__main__":
    main()
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_follow_the_original_order() {
        let s = Schema::of_value(&json!({
            "state": {"b": {"z": 1, "a": 2}, "a_b": true},
            "action": {"decision": "store", "types": ["x"]},
            "reward": 0.5,
            "metadata": {"sessionId": "s", "Z": 1},
            "nextState": {"x": 1}
        }));
        let names: Vec<String> = columns(&s, true).into_iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "reward",
                "state.a_b",
                "state.b.a",
                "state.b.z",
                "action.decision",
                "action.types",
                "metadata.Z",
                "metadata.sessionId",
                "nextState.x"
            ]
        );
        assert!(!columns(&s, false)
            .iter()
            .any(|c| c.name.starts_with("metadata")));
    }

    proptest::proptest! {
        /// Records read back to the same fields, and only numbers go unquoted.
        #[test]
        fn records_read_back_to_their_fields(
            fields in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::prelude::any::<String>(),
                    "[-+.0-9eEinfatyINF\"\r\n, ]{0,6}",
                ],
                1..6,
            )
        ) {
            let ours = record_of(fields.iter().map(String::as_str));
            let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&ours[..]);
            let back: Vec<String> = r.records().next().unwrap().unwrap().iter().map(str::to_string).collect();
            proptest::prop_assert_eq!(&back, &fields);
            proptest::prop_assert!(ours.ends_with(b"\r\n"));
            let is_number = |f: &str| f.parse::<f64>().is_ok() || f.parse::<i128>().is_ok();
            let quoted = fields.iter().filter(|f| !is_number(f)).count();
            let opening_quotes = std::iter::once(&b',')
                .chain(ours.iter())
                .zip(ours.iter())
                .filter(|(before, at)| **before == b',' && **at == b'"')
                .count();
            proptest::prop_assert!(opening_quotes >= quoted);
        }
    }

    #[test]
    fn cells_escape_formulas_but_not_numbers() {
        let src = r#"{"state":{"n":-1,"s":"-1+2","t":"=HYPERLINK(\"x\")","arr":["a", "b"],"z":null,"o":{"p":1.50}},"action":{"ok":true},"reward":-0.5}"#;
        let text = crate::json::ExampleText::parse(src.as_bytes())
            .ok()
            .unwrap();
        let schema = text.schema();
        let columns = columns(&schema, true);
        let index = ColumnIndex::new(&columns);
        let position = |name: &str| columns.iter().position(|c| c.name == name).unwrap();
        let mut row = Cells::default();
        row.fill_row(src, &index, true, true).unwrap();
        let cell = |row: &Cells, name: &str| row.get(position(name)).map(str::to_string);
        assert_eq!(cell(&row, "reward").as_deref(), Some("-0.5"));
        assert_eq!(cell(&row, "state.n").as_deref(), Some("-1"));
        assert_eq!(cell(&row, "state.s").as_deref(), Some("'-1+2"));
        assert_eq!(cell(&row, "state.t").as_deref(), Some("'=HYPERLINK(\"x\")"));
        assert_eq!(cell(&row, "state.arr").as_deref(), Some("[\"a\",\"b\"]"));
        assert_eq!(cell(&row, "state.z"), None);
        assert_eq!(cell(&row, "state.o.p").as_deref(), Some("1.50"));
        assert_eq!(cell(&row, "action.ok").as_deref(), Some("true"));
        let mut csv = csv_writer(Spool::default());
        let record = String::from_utf8(row.record(&mut csv).unwrap().record).unwrap();
        assert!(record.contains(",\"'=HYPERLINK(\"\"x\"\")\","), "{record}");
        assert!(record.starts_with("-0.5,"), "{record}");
        row.fill_row(src, &index, false, true).unwrap();
        assert_eq!(cell(&row, "state.s").as_deref(), Some("-1+2"));
    }

    #[test]
    fn rows_follow_the_union_columns_whatever_the_layout() {
        let a = r#"{"state":{"g":{"x":1}},"action":{"d":"s"},"reward":1,"metadata":{"a.b":1,"m":{"k":"v"}},"extra":{"e":2}}"#;
        // Pretty, reordered, a null nextState, and an object where the other example has
        // a string (so `metadata.m` is one column holding JSON text).
        let b = "{ \"reward\": 0.5,\n  \"extra\": {\"e\": 3},\n  \"nextState\": null,\n  \"metadata\": {\"m\": \"plain\"},\n  \"action\": {\"d\": \"t\"},\n  \"state\": {\"g\": {\"x\": 2}} }";
        let schema_of = |src: &str| {
            crate::json::ExampleText::parse(src.as_bytes())
                .ok()
                .unwrap()
                .schema()
        };
        let schema = schema_of(a).merge(schema_of(b));
        let columns = columns(&schema, true);
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let index = ColumnIndex::new(&columns);
        let mut row = Cells::default();
        let cells = |row: &Cells| -> Vec<Option<String>> {
            (0..names.len())
                .map(|i| row.get(i).map(str::to_string))
                .collect()
        };
        row.fill_row(a, &index, true, true).unwrap();
        let first = cells(&row);
        row.fill_row(b, &index, true, true).unwrap();
        let second = cells(&row);
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(first[at("state.g.x")].as_deref(), Some("1"));
        assert_eq!(second[at("state.g.x")].as_deref(), Some("2"));
        assert_eq!(first[at("metadata.\"a.b\"")].as_deref(), Some("1"));
        assert_eq!(second[at("metadata.\"a.b\"")], None);
        assert_eq!(first[at("metadata.m")].as_deref(), Some("{\"k\":\"v\"}"));
        assert_eq!(second[at("metadata.m")].as_deref(), Some("plain"));
        assert_eq!(second[at("extra.e")].as_deref(), Some("3"));
        assert_eq!(second[at("reward")].as_deref(), Some("0.5"));
        row.fill_row(a, &index, true, false).unwrap();
        assert_eq!(
            cells(&row)[at("metadata.m")],
            None,
            "--no-metadata leaves metadata out"
        );
    }
}
