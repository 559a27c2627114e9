#!/usr/bin/env python3
"""Check an rlx parquet export the way its real readers read it.

    python check_parquet.py PARQUET_DIR HF_DIR [--expect-shards-gt-1]
                            [--engines all|datasets]

PARQUET_DIR is the output of `rlx export --format parquet`; HF_DIR is the output
of `rlx export --format huggingface` of the same input, options and seed.  The
parquet export must hold the same splits, rows (in the same order) and features
as the huggingface one.

  pyarrow   file names (`data/{split}-{i:05d}-of-{n:05d}.parquet`, contiguous,
            nothing else in data/), one identical Arrow schema in every shard,
            no null / empty-struct / unsigned / timestamp[ns] / unexpected types,
            row counts per split, footer key-value keys, page index, row groups.
  datasets  load_dataset(PARQUET_DIR) (the card's configs) against
            load_dataset(HF_DIR) (or the json loader when HF_DIR has no card):
            same splits, rows, order; Features.from_arrow_schema(shard schema)
            equals the loaded features, with and without the `huggingface`
            schema metadata.
  pandas, polars, duckdb (only with --engines all): row counts, columns, and a
            struct column read through DuckDB.

--engines datasets runs only the pyarrow and datasets checks (the datasets 3.6
venv has no polars or duckdb).  --expect-shards-gt-1 asserts that train was
written as more than one shard.

Exit status 0 when everything passes, with a one-line `ok: ...` summary on
stdout.  Otherwise every problem is printed to stderr as `file: what` (or
`file: row N: what`) and the exit status is 1.  Notes (facts worth seeing that
fail nothing) go to stderr as `note: ...`.  Usage errors exit 2.  Nothing here
goes to the network.
"""

from __future__ import annotations

import os

# Before datasets is imported: never reach for the Hub, never show progress bars.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")

import argparse
import base64
import gzip
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

# The huggingface format's split names (eval is "test"), in the order they are reported.
SPLITS = ("train", "validation", "test")
SHARD_NAME = re.compile(r"^(?P<split>[A-Za-z0-9_]+)-(?P<i>[0-9]{5})-of-(?P<n>[0-9]{5})\.parquet$")
# Footer key-value entries a parquet export may carry.  Anything else (a path, a
# timestamp, a host name) would make two runs differ or leak the machine.
KNOWN_KV_KEYS = {"ARROW:schema", "huggingface", "content_defined_chunking", "rlx"}
DATE_LIKE = re.compile(r"\b(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]([T ][0-2][0-9]:[0-5][0-9])?")
MAX_ROWS_PER_ROW_GROUP = 1024 * 1024  # datasets' and arrow-rs's cap
MAX_PROBLEMS_PER_FILE = 50


# --------------------------------------------------------------------------- report


class Report:
    """Problems (fail) and notes (print only), problems capped per file."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._per_file: dict[str, int] = {}

    def problem(self, where, what: str) -> None:
        key = str(where).split(": row ")[0]
        self._per_file[key] = self._per_file.get(key, 0) + 1
        if self._per_file[key] == MAX_PROBLEMS_PER_FILE + 1:
            self.problems.append(f"{key}: ... more problems not shown")
        if self._per_file[key] > MAX_PROBLEMS_PER_FILE:
            return
        self.problems.append(f"{where}: {what}")
        print(f"{where}: {what}", file=sys.stderr)

    @staticmethod
    def note(what: str) -> None:
        print(f"note: {what}", file=sys.stderr)

    def count(self) -> int:
        return sum(self._per_file.values())


class Abort(Exception):
    """A problem after which the remaining checks would only repeat it."""


# --------------------------------------------------------------------------- HF export


def hf_split_file(hf_dir: Path, split: str) -> Path | None:
    """The huggingface export's file for `split` (train.json, or .jsonl, plain or .gz)."""
    found = [
        hf_dir / f"{split}{ext}"
        for ext in (".json", ".jsonl", ".json.gz", ".jsonl.gz")
        if (hf_dir / f"{split}{ext}").is_file()
    ]
    if len(found) > 1:
        raise Abort(f"{hf_dir}: several files for split {split}: {[p.name for p in found]}")
    return found[0] if found else None


def count_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return sum(1 for line in f if line.strip())


# --------------------------------------------------------------------------- pyarrow


def walk_types(t: pa.DataType, path: str):
    """(path, type) for `t` and every type nested in it."""
    yield path, t
    if pa.types.is_struct(t):
        for i in range(t.num_fields):
            f = t.field(i)
            yield from walk_types(f.type, f"{path}.{f.name}")
    elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        yield from walk_types(t.value_type, f"{path}[]")
    elif pa.types.is_map(t):
        yield from walk_types(t.key_type, f"{path}{{key}}")
        yield from walk_types(t.item_type, f"{path}{{value}}")


def walk_fields(schema: pa.Schema):
    """(path, field) for every field, nested ones included."""

    def go(f: pa.Field, path: str):
        yield path, f
        t = f.type
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                yield from go(t.field(i), f"{path}.{t.field(i).name}")
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            yield from go(t.value_field, f"{path}[]")

    for f in schema:
        yield from go(f, f.name)


def type_problem(t: pa.DataType) -> str | None:
    """Why `t` has no place in an rlx parquet export, or None."""
    if pa.types.is_null(t):
        return "is null-typed (written as INT32 + UNKNOWN; Spark and others read it differently)"
    if pa.types.is_struct(t) and t.num_fields == 0:
        return "is an empty struct (Parquet cannot store one; datasets cannot cast to it)"
    if pa.types.is_unsigned_integer(t):
        return f"is unsigned ({t}); Spark has no unsigned types (UINT_64 becomes DECIMAL(20,0))"
    if pa.types.is_timestamp(t):
        if t.unit == "ns":
            return "is timestamp[ns] (Spark: Illegal Parquet type INT64 (TIMESTAMP(NANOS)))"
        return f"is a timestamp ({t}); rlx writes no timestamps"
    if pa.types.is_struct(t) or pa.types.is_list(t):
        return None
    if t in (pa.int64(), pa.float64(), pa.bool_(), pa.string()):
        return None
    return f"has type {t}; rlx writes only int64, float64, bool, string, list and struct"


def schema_differences(a: pa.Schema, b: pa.Schema) -> str:
    """The columns in which Arrow schema `a` differs from `b`, in a few words."""
    out = []
    if a.names != b.names:
        out.append(f"columns {a.names} vs {b.names}")
    for f in a:
        if f.name in b.names and not f.equals(b.field(f.name)):
            out.append(f"column {f.name}: {f.type}{'' if f.nullable else ' not null'} vs "
                       f"{b.field(f.name).type}{'' if b.field(f.name).nullable else ' not null'}")
    if not out and not a.equals(b, check_metadata=True):
        out.append("schema metadata differs")
    return "; ".join(out)


def check_types(rep: Report, where, schema: pa.Schema, facts) -> None:
    for path, field in walk_fields(schema):
        why = type_problem(field.type)
        if why:
            rep.problem(where, f"column {path} {why}")
        if pa.types.is_list(field.type):
            facts["list_child_names"].add(field.type.value_field.name)
        if not field.nullable:
            Report.note(
                f"{where}: column {path} is not nullable (datasets only uses 'huggingface' metadata "
                "for a field whose Arrow type, nullability included, matches)"
            )


def decode_arrow_schema_kv(value: bytes) -> pa.Schema:
    """The Arrow schema stored base64-encoded under the ARROW:schema footer key."""
    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(value)))


def check_hf_metadata_text(rep: Report, where, text: str) -> None:
    try:
        meta = json.loads(text)
    except ValueError as e:
        rep.problem(where, f"'huggingface' metadata is not JSON: {e}")
        return
    if not isinstance(meta, dict) or not isinstance(meta.get("info"), dict) or "features" not in meta["info"]:
        rep.problem(where, "'huggingface' metadata is not {\"info\": {\"features\": ...}}")
    if re.search(r'"_type"\s*:\s*"List"', text):
        rep.problem(
            where,
            "'huggingface' metadata uses \"_type\": \"List\" (datasets >= 4 only); datasets 3.x fails "
            "with \"Feature type 'List' not found\": write Sequence or a [X] list literal",
        )


def check_pyarrow(rep: Report, pq_dir: Path, hf_counts: dict[str, int], expect_shards_gt_1: bool):
    """File layout, schema, counts and footers.  Returns (shards per split, schema, facts)."""
    data = pq_dir / "data"
    if not data.is_dir():
        raise Abort(f"{data}: missing (the parquet export writes its shards to DIR/data)")

    shards: dict[str, dict[int, tuple[int, Path]]] = {}
    for p in sorted(data.rglob("*")):
        rel = p.relative_to(pq_dir)
        if p.is_dir():
            rep.problem(rel, "a directory inside data/ (Spark and DuckDB would read it as a partition)")
            continue
        m = SHARD_NAME.match(p.name)
        if p.parent != data or not m:
            why = "a hidden file" if p.name.startswith(".") else "not a {split}-NNNNN-of-NNNNN.parquet shard"
            rep.problem(rel, f"{why}; data/ must hold nothing but shards (Spark reads every file there)")
            continue
        split, i, n = m["split"], int(m["i"]), int(m["n"])
        if split not in SPLITS:
            rep.problem(rel, f"unknown split {split!r} (the huggingface format writes {', '.join(SPLITS)})")
        shards.setdefault(split, {})[i] = (n, p)

    ordered: dict[str, list[Path]] = {}
    for split in sorted(shards, key=lambda s: (SPLITS.index(s) if s in SPLITS else len(SPLITS), s)):
        by_index = shards[split]
        ns = {n for n, _ in by_index.values()}
        if len(ns) != 1:
            rep.problem(f"data/{split}-*", f"shards disagree on the shard count: -of-{sorted(ns)}")
        n = max(ns)
        missing = [i for i in range(n) if i not in by_index]
        extra = [i for i in by_index if i >= n]
        if missing or extra:
            rep.problem(
                f"data/{split}-*",
                f"shard numbers must be 0..{n - 1}: missing {missing}, beyond -of-{n:05d}: {extra}",
            )
        ordered[split] = [by_index[i][1] for i in sorted(by_index)]
    if not ordered:
        raise Abort(f"{data}: no shards")

    # Splits: the same as the huggingface export's (an empty split has no file in either).
    for split in SPLITS:
        has_pq, has_hf = split in ordered, hf_counts.get(split, 0) > 0
        if has_pq != has_hf:
            rep.problem(
                f"data/{split}-*",
                f"{'present' if has_pq else 'missing'}, but the huggingface export "
                f"{'has' if has_hf else 'has no'} {split} rows ({hf_counts.get(split, 0)})",
            )

    first_schema: pa.Schema | None = None
    first_name = None
    first_pschema = None
    first_kv: dict | None = None
    facts = {
        "created_by": set(),
        "codecs": set(),
        "rows_per_row_group": [],
        "row_groups": 0,
        "page_index": None,
        "list_child_names": set(),
        "stored_list_child_names": set(),
        "hf_in_arrow_schema": None,
        "hf_in_kv": None,
        "cdc": None,
    }
    total_rows: dict[str, int] = {}
    for split, files in ordered.items():
        total_rows[split] = 0
        for f in files:
            rel = f.relative_to(pq_dir)
            try:
                pf = pq.ParquetFile(f)
            except Exception as e:  # noqa: BLE001 - report whatever pyarrow says
                rep.problem(rel, f"pyarrow cannot open it: {e}")
                continue
            md = pf.metadata
            schema = pf.schema_arrow
            if md.num_rows == 0:
                rep.problem(rel, "an empty shard (push_to_hub never writes one; a split with no rows has no file)")
            total_rows[split] += md.num_rows

            # One schema everywhere, metadata included.
            if first_schema is None:
                first_schema, first_name, first_pschema = schema, rel, pf.schema
                check_types(rep, rel, schema, facts)
            else:
                if not schema.equals(first_schema, check_metadata=True):
                    rep.problem(
                        rel,
                        f"Arrow schema differs from {first_name}'s (DuckDB would misalign columns, "
                        f"Polars and datasets fail): {schema_differences(schema, first_schema)}",
                    )
                    check_types(rep, rel, schema, facts)
                elif not pf.schema.equals(first_pschema):
                    rep.problem(rel, f"Parquet schema differs from {first_name}'s")

            # Footer key-value metadata: a known, identical set.
            kv = {k.decode(): v for k, v in (md.metadata or {}).items()}
            unknown = sorted(set(kv) - KNOWN_KV_KEYS)
            if unknown:
                rep.problem(rel, f"unexpected footer key-value keys {unknown} (known: {sorted(KNOWN_KV_KEYS)})")
            for k, v in kv.items():
                if k != "ARROW:schema" and DATE_LIKE.search(v.decode("utf-8", "replace")):
                    rep.problem(rel, f"footer key {k!r} holds something like a date: {v[:120]!r}")
            if first_kv is None:
                first_kv = kv
            elif kv != first_kv:
                keys = sorted(k for k in set(kv) | set(first_kv) if kv.get(k) != first_kv.get(k))
                detail = ""
                if "ARROW:schema" in keys and "ARROW:schema" in kv and "ARROW:schema" in first_kv:
                    a, b = (str(decode_arrow_schema_kv(x["ARROW:schema"])).splitlines() for x in (kv, first_kv))
                    diff = [f"{x.strip()!r} vs {y.strip()!r}" for x, y in zip(a, b) if x != y]
                    diff = [d for d in diff if "chars omitted" not in d] or diff
                    detail = f" (ARROW:schema: {diff[0] if diff else 'same text, different bytes'})"
                rep.problem(rel, f"footer key-value metadata differs from {first_name}'s in {keys}{detail}")
            facts["created_by"].add(md.created_by)

            if "ARROW:schema" in kv:
                stored = decode_arrow_schema_kv(kv["ARROW:schema"])
                for _, field in walk_fields(stored):
                    if pa.types.is_list(field.type):
                        facts["stored_list_child_names"].add(field.type.value_field.name)
                smeta = {k.decode(): v.decode() for k, v in (stored.metadata or {}).items()}
                facts["hf_in_arrow_schema"] = "huggingface" in smeta
                if "huggingface" in smeta:
                    check_hf_metadata_text(rep, rel, smeta["huggingface"])
                if "huggingface" in kv:
                    if "huggingface" not in smeta:
                        # pyarrow (so datasets) takes the schema metadata from ARROW:schema alone.
                        rep.problem(
                            rel,
                            "'huggingface' is in the footer key-value list but not in the Arrow schema "
                            "stored under ARROW:schema, so pyarrow and datasets never see it",
                        )
                    elif kv["huggingface"].decode() != smeta["huggingface"]:
                        rep.problem(rel, "'huggingface' differs between the footer key-value list and ARROW:schema")
            else:
                Report.note(f"{rel}: no ARROW:schema footer key (readers rebuild the Arrow schema from Parquet)")
                if "huggingface" in kv:
                    check_hf_metadata_text(rep, rel, kv["huggingface"].decode())
            facts["hf_in_kv"] = "huggingface" in kv
            if "content_defined_chunking" in kv:
                facts["cdc"] = kv["content_defined_chunking"].decode()

            # Row groups, codecs and the page index.
            no_index = []
            for r in range(md.num_row_groups):
                rg = md.row_group(r)
                facts["row_groups"] += 1
                facts["rows_per_row_group"].append(rg.num_rows)
                if rg.num_rows > MAX_ROWS_PER_ROW_GROUP:
                    rep.problem(rel, f"row group {r} has {rg.num_rows} rows, more than {MAX_ROWS_PER_ROW_GROUP}")
                for c in range(rg.num_columns):
                    col = rg.column(c)
                    facts["codecs"].add(col.compression)
                    if hasattr(col, "has_offset_index"):
                        if facts["page_index"] is None:
                            facts["page_index"] = True
                        if not (col.has_offset_index and col.has_column_index):
                            facts["page_index"] = False
                            no_index.append(
                                f"row group {r} column {col.path_in_schema} (offset index "
                                f"{col.has_offset_index}, column index {col.has_column_index})"
                            )
            if no_index:
                rep.problem(
                    rel,
                    f"{len(no_index)} column chunk(s) without a page index, the first {no_index[0]}; "
                    "the Hub viewer needs one for random access",
                )

    # Row counts per split.
    for split, n in total_rows.items():
        if split in hf_counts and n != hf_counts[split]:
            rep.problem(f"data/{split}-*", f"{n} rows, but the huggingface export has {hf_counts[split]}")
    if expect_shards_gt_1 and len(ordered.get("train", [])) <= 1:
        rep.problem("data/train-*", f"{len(ordered.get('train', []))} shard(s); --expect-shards-gt-1 wants more")

    if first_schema is None:
        raise Abort(f"{data}: no shard pyarrow can open")

    # What a directory reader (pyarrow.dataset, Ray, the Hub's internals) sees.
    try:
        n_all = pads.dataset(str(data), format="parquet").count_rows()
        if n_all != sum(total_rows.values()):
            rep.problem("data/", f"pyarrow.dataset counts {n_all} rows, the shards hold {sum(total_rows.values())}")
    except Exception as e:  # noqa: BLE001
        rep.problem("data/", f"pyarrow.dataset cannot read the directory: {e}")
    if facts["page_index"] is None:
        Report.note(f"pyarrow {pa.__version__} does not expose has_offset_index; page index not checked")
    Report.note(
        f"pyarrow {pa.__version__}: created_by {sorted(facts['created_by'])}, codecs {sorted(facts['codecs'])}, "
        f"{facts['row_groups']} row groups (rows per group: min {min(facts['rows_per_row_group'], default=0)}, "
        f"max {max(facts['rows_per_row_group'], default=0)}), page index {facts['page_index']}, "
        f"list child names {sorted(facts['list_child_names']) or '-'} in Parquet, "
        f"{sorted(facts['stored_list_child_names']) or '-'} in ARROW:schema (spec: element), "
        f"cdc {facts['cdc'] or 'no'}"
    )
    return ordered, first_schema, total_rows, facts


# --------------------------------------------------------------------------- datasets


def first_difference(a, b, path: str = "") -> str | None:
    """Where parquet value `a` and huggingface value `b` differ, or None.

    1 == 1.0 (the json loader may infer int64 where the union schema says float64);
    bool is not a number here; a missing dict key equals None (the json loader infers
    each split on its own, so a field no row of a split has is absent there).
    """
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            d = first_difference(a.get(k), b.get(k), f"{path}.{k}" if path else k)
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path or 'row'}: parquet has {len(a)} items, huggingface {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        same = type(a) is type(b) and a == b
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        same = a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
    else:
        same = type(a) is type(b) and a == b
    return None if same else f"{path or 'row'}: parquet {a!r} != huggingface {b!r}"


def feature_differences(a, b, path: str = "") -> list[str]:
    """`path: parquet X, huggingface Y` for every place two datasets features differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{k}" if path else k
            if k not in a or k not in b:
                out.append(f"{sub}: only in {'huggingface' if k not in a else 'parquet'}")
            else:
                out += feature_differences(a[k], b[k], sub)
        return out
    if type(a) is type(b) and hasattr(a, "feature") and a.feature != b.feature:
        return feature_differences(a.feature, b.feature, f"{path}[]")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b) == 1:
        return feature_differences(a[0], b[0], f"{path}[]")
    return [] if a == b else [f"{path}: parquet {a!r}, huggingface {b!r}"]


def row_origin(files: list[Path], counts: list[int], row: int, pq_dir: Path) -> str:
    for f, n in zip(files, counts):
        if row < n:
            return f"{f.relative_to(pq_dir)} row {row}"
        row -= n
    return "?"


def check_card(rep: Report, pq_dir: Path, splits: list[str]) -> None:
    import yaml

    card = pq_dir / "README.md"
    if not card.is_file():
        rep.problem(card, "missing (the dataset card's configs tell load_dataset where each split is)")
        return
    text = card.read_text(encoding="utf-8")
    m = re.match(r"---\n(.*?)\n---\n", text, re.S)
    if not m:
        rep.problem(card, "no YAML front matter")
        return
    meta = yaml.safe_load(m.group(1)) or {}
    configs = meta.get("configs") or []
    default = [c for c in configs if c.get("config_name") == "default"]
    if len(default) != 1:
        rep.problem(card, f"configs must hold one config_name: default, found {configs!r}")
        return
    files = {d.get("split"): d.get("path") for d in default[0].get("data_files") or []}
    want = {s: f"data/{s}-*" for s in splits}
    if files != want:
        rep.problem(card, f"configs data_files are {files}, expected {want}")


def load_reference(hf_dir: Path, hf_files: dict[str, Path], cache: str):
    """The huggingface export as `datasets` loads it: through its card, else the json loader."""
    from datasets import load_dataset

    if (hf_dir / "README.md").is_file():
        try:
            return load_dataset(str(hf_dir), cache_dir=cache), True
        except Exception as e:  # noqa: BLE001
            Report.note(f"load_dataset({hf_dir}) failed ({type(e).__name__}: {e}); using the json loader")
    files = {s: str(p) for s, p in hf_files.items()}
    return load_dataset("json", data_files=files, cache_dir=cache), False


def check_datasets(rep: Report, pq_dir: Path, hf_dir: Path, hf_files, ordered, schema: pa.Schema) -> bool:
    import datasets
    from datasets import Features, load_dataset

    datasets.logging.set_verbosity_error()

    splits = [s for s in SPLITS if s in ordered]
    check_card(rep, pq_dir, splits)

    with tempfile.TemporaryDirectory(prefix="rlx-check-parquet-") as cache:
        try:
            got = load_dataset(str(pq_dir), cache_dir=cache)
        except Exception as e:  # noqa: BLE001
            cause = f" ({type(e.__cause__).__name__}: {str(e.__cause__)[:500]})" if e.__cause__ else ""
            raise Abort(
                f"{pq_dir}: datasets {datasets.__version__} load_dataset fails: {type(e).__name__}: {e}{cause}"
            )
        ref, via_card = load_reference(hf_dir, hf_files, cache)

        if sorted(got) != sorted(ref):
            rep.problem(pq_dir, f"load_dataset gives splits {sorted(got)}, the huggingface export {sorted(ref)}")

        # Features: from the shard schema, with and without the 'huggingface' metadata.
        with_meta = Features.from_arrow_schema(schema)
        without_meta = Features.from_arrow_schema(schema.remove_metadata())
        equal_without = with_meta == without_meta
        print(
            f"datasets {datasets.__version__}: schema has 'huggingface' metadata: "
            f"{'yes' if schema.metadata and b'huggingface' in schema.metadata else 'no'}; "
            f"Features.from_arrow_schema with == without it: {'yes' if equal_without else 'no'}",
            file=sys.stderr,
        )
        if not equal_without:
            for d in feature_differences(with_meta, without_meta):
                d = d.replace("parquet ", "with ", 1).replace("huggingface ", "without ", 1)
                print(f"  {d}", file=sys.stderr)

        for split in splits:
            if split not in got:
                continue
            where = f"data/{split}-*"
            if got[split].features != with_meta:
                diffs = feature_differences(got[split].features, with_meta)
                rep.problem(
                    where,
                    "load_dataset features differ from Features.from_arrow_schema(shard schema): "
                    + "; ".join(d.replace("parquet ", "loaded ", 1).replace("huggingface ", "schema ", 1)
                                for d in diffs),
                )
            if split not in ref:
                continue
            if got[split].features != ref[split].features:
                msg = "features differ from the huggingface export's: " + "; ".join(
                    feature_differences(got[split].features, ref[split].features)
                )
                if via_card:
                    rep.problem(where, msg)
                else:
                    Report.note(f"{where}: {msg} (json loader inferred types; rows compared with 1 == 1.0)")
            if got[split].num_rows != ref[split].num_rows:
                rep.problem(where, f"load_dataset gives {got[split].num_rows} rows, huggingface {ref[split].num_rows}")
            counts = [pq.ParquetFile(f).metadata.num_rows for f in ordered[split]]
            hf_name = hf_files[split].name
            row = 0
            for a_batch, b_batch in zip(got[split].iter(batch_size=1024), ref[split].iter(batch_size=1024)):
                a_rows = [dict(zip(a_batch, vals)) for vals in zip(*a_batch.values())]
                b_rows = [dict(zip(b_batch, vals)) for vals in zip(*b_batch.values())]
                for a, b in zip(a_rows, b_rows):
                    d = first_difference(a, b)
                    if d:
                        rep.problem(
                            f"{where}: row {row}",
                            f"({row_origin(ordered[split], counts, row, pq_dir)}; "
                            f"{hf_name} line {row + 1}): {d}",
                        )
                    row += 1
    return equal_without


# --------------------------------------------------------------------------- pandas, polars, duckdb


def check_engines(rep: Report, pq_dir: Path, ordered, schema: pa.Schema, total_rows: dict[str, int]) -> None:
    import duckdb
    import pandas as pd
    import polars as pl

    data = pq_dir / "data"
    names = schema.names
    total = sum(total_rows.values())

    # pandas: each split's shards, and the whole directory.
    for split, files in ordered.items():
        df = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
        if len(df) != total_rows[split]:
            rep.problem(f"data/{split}-*", f"pandas {pd.__version__} reads {len(df)} rows, not {total_rows[split]}")
        if list(df.columns) != names:
            rep.problem(f"data/{split}-*", f"pandas columns {list(df.columns)} != schema {names}")
    n = len(pd.read_parquet(data))
    if n != total:
        rep.problem("data/", f"pandas read_parquet(data/) reads {n} rows, expected {total}")

    # Polars: the glob (first file's schema; extra or missing columns raise).
    for split in ordered:
        try:
            df = pl.scan_parquet(f"{data}/{split}-*.parquet").collect()
        except Exception as e:  # noqa: BLE001
            rep.problem(f"data/{split}-*", f"polars {pl.__version__} scan_parquet fails: {e}")
            continue
        if df.height != total_rows[split]:
            rep.problem(f"data/{split}-*", f"polars reads {df.height} rows, expected {total_rows[split]}")
        if df.columns != names:
            rep.problem(f"data/{split}-*", f"polars columns {df.columns} != schema {names}")
    try:
        n = pl.scan_parquet(f"{data}/*.parquet").select(pl.len()).collect().item()
        if n != total:
            rep.problem("data/*.parquet", f"polars counts {n} rows, expected {total}")
    except Exception as e:  # noqa: BLE001
        rep.problem("data/*.parquet", f"polars scan_parquet over every split fails: {e}")

    # DuckDB: counts over the globs, and a struct column comes through as a struct.
    con = duckdb.connect()
    q = lambda sql: con.execute(sql).fetchall()  # noqa: E731
    glob_all = str(data / "*.parquet").replace("'", "''")
    n = q(f"SELECT count(*) FROM read_parquet('{glob_all}')")[0][0]
    if n != total:
        rep.problem("data/*.parquet", f"duckdb {duckdb.__version__} counts {n} rows, expected {total}")
    for split in ordered:
        g = str(data / f"{split}-*.parquet").replace("'", "''")
        n = q(f"SELECT count(*) FROM read_parquet('{g}')")[0][0]
        if n != total_rows[split]:
            rep.problem(f"data/{split}-*", f"duckdb counts {n} rows, expected {total_rows[split]}")
    struct_cols = [f for f in schema if pa.types.is_struct(f.type) and f.type.num_fields]
    if not struct_cols:
        Report.note("no struct column; duckdb struct query skipped")
        return
    col = struct_cols[0]
    child = col.type.field(0).name
    first = next(iter(ordered.values()))[0]
    path = str(first).replace("'", "''")
    qc, qf = '"' + col.name.replace('"', '""') + '"', child.replace("'", "''")
    rows = q(
        f"SELECT {qc}, struct_extract({qc}, '{qf}') FROM read_parquet('{path}', file_row_number = true) "
        f"WHERE file_row_number = 0"
    )
    want = pq.read_table(first, columns=[col.name]).slice(0, 1).to_pylist()[0][col.name]
    (value, inner), = rows
    where = f"{first.relative_to(pq_dir)}: row 0"
    if not isinstance(value, dict) and value is not None:
        rep.problem(where, f"duckdb reads struct column {col.name} as {type(value).__name__}, not a struct")
    elif first_difference(value, want):
        d = first_difference(value, want).replace("parquet ", "duckdb ", 1).replace("huggingface ", "pyarrow ", 1)
        rep.problem(where, f"duckdb column {col.name}: {d}")
    if first_difference(inner, (want or {}).get(child)):
        rep.problem(where, f"duckdb {col.name}.{child} = {inner!r}, pyarrow {(want or {}).get(child)!r}")


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("hf_dir", type=Path)
    ap.add_argument("--expect-shards-gt-1", action="store_true", help="train must be more than one shard")
    ap.add_argument("--engines", choices=("all", "datasets"), default="all")
    args = ap.parse_args()
    for d in (args.parquet_dir, args.hf_dir):
        if not d.is_dir():
            ap.error(f"{d}: not a directory")

    rep = Report()
    equal_without = None
    try:
        hf_files = {s: p for s in SPLITS if (p := hf_split_file(args.hf_dir, s))}
        hf_counts = {s: count_lines(p) for s, p in hf_files.items()}
        if not hf_files:
            raise Abort(f"{args.hf_dir}: no train/validation/test .json(l) file")
        ordered, schema, total_rows, facts = check_pyarrow(rep, args.parquet_dir, hf_counts, args.expect_shards_gt_1)
        equal_without = check_datasets(rep, args.parquet_dir, args.hf_dir, hf_files, ordered, schema)
        if args.engines == "all":
            check_engines(rep, args.parquet_dir, ordered, schema, total_rows)
    except Abort as e:
        print(e, file=sys.stderr)
        rep.problems.append(str(e))
        rep._per_file["abort"] = 1

    if rep.count():
        print(f"FAILED: {rep.count()} problem(s)", file=sys.stderr)
        return 1
    has_hf = schema.metadata is not None and b"huggingface" in schema.metadata
    splits = ", ".join(f"{s}: {total_rows[s]}" for s in SPLITS if s in total_rows)
    shards = ", ".join(f"{s}: {len(ordered[s])}" for s in SPLITS if s in ordered)
    print(
        f"ok: splits {{{splits}}}, shards {{{shards}}}, hf-metadata: {'yes' if has_hf else 'no'}, "
        f"features-equal-without-metadata: {'yes' if equal_without else 'no'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
