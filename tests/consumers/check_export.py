#!/usr/bin/env python3
"""Check an rlx export directory the way its real consumers read it.

    python check_export.py FORMAT DIR [--model MODEL] [--style legacy|bedrock]
                           [--expect-counts train=N,eval=M,validation=K]

FORMAT is one of jsonl, huggingface, openai, anthropic, csv.  Exit status 0 when
every file passes; otherwise every problem is printed to stderr as
`file:line: what` (or `file: what`) and the exit status is 1.  Warnings (things a
platform only recommends) are printed as `file: warning: what` and never fail.
Usage errors exit 2.

The rules come from /work/shared/FORMATS.md (section 7 is the rule book).  Run it
with the venv that tests/consumers/setup-venv.sh prepares: it holds datasets,
pandas, matplotlib and tiktoken, plus an offline tiktoken cache in
<venv>/tiktoken-cache that is used when TIKTOKEN_CACHE_DIR is not set.

Data files may be gzip-compressed (`train.jsonl.gz` ...).  A split with no
examples has no file at all, so a missing eval or validation file is allowed
(a warning for eval) unless --expect-counts says it should hold rows.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FORMATS = ("jsonl", "huggingface", "openai", "anthropic", "csv")

# rlx's split names.  The Hugging Face export calls the eval split "test".
SPLITS = ("train", "eval", "validation")
HF_SPLIT_NAME = {"train": "train", "eval": "test", "validation": "validation"}

MAX_PROBLEMS_PER_FILE = 50


# --------------------------------------------------------------------------- report


class Report:
    """Collects problems (fail) and warnings (print only), grouped per file."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self._per_file: dict[str, int] = {}
        self._suppressed: dict[str, int] = {}

    @staticmethod
    def _where(path, line) -> str:
        return f"{path}:{line}" if line is not None else f"{path}"

    def problem(self, path, line, what: str) -> None:
        key = str(path)
        self._per_file[key] = self._per_file.get(key, 0) + 1
        if self._per_file[key] > MAX_PROBLEMS_PER_FILE:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self.problems.append(f"{self._where(path, line)}: {what}")

    def warn(self, path, what: str) -> None:
        self.warnings.append(f"{path}: warning: {what}")

    def problem_count(self) -> int:
        return sum(self._per_file.values())

    def emit(self) -> None:
        for w in self.warnings:
            print(w, file=sys.stderr)
        for p in self.problems:
            print(p, file=sys.stderr)
        for path, n in self._suppressed.items():
            print(f"{path}: ... and {n} more problems not shown", file=sys.stderr)


# --------------------------------------------------------------------------- files


def find_data_file(rep: Report, d: Path, name: str) -> Path | None:
    """`name` or `name.gz` in d (not both); None when neither exists."""
    plain, gz = d / name, d / (name + ".gz")
    if plain.is_file() and gz.is_file():
        rep.problem(gz, None, f"both {name} and {name}.gz exist; a split must be written once")
        return plain
    if plain.is_file():
        return plain
    if gz.is_file():
        return gz
    return None


def require_doc(rep: Report, d: Path, name: str) -> str | None:
    """A documentation file that must exist uncompressed, non-empty, in UTF-8."""
    path = d / name
    if not path.is_file():
        rep.problem(path, None, "missing")
        return None
    raw = path.read_bytes()
    if not raw.strip():
        rep.problem(path, None, "empty file")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        rep.problem(path, line_of_offset(raw, e.start), f"not UTF-8: {e.reason} at byte {e.start}")
        return None


def read_raw(rep: Report, path: Path) -> bytes | None:
    """File bytes, decompressed when the name ends in .gz."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as e:
        rep.problem(path, None, f"cannot read: {e}")
        return None


def line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def decode_utf8(rep: Report, path: Path, raw: bytes) -> str | None:
    """Rule 1: UTF-8 without a byte-order mark."""
    if raw.startswith(b"\xef\xbb\xbf"):
        rep.problem(path, 1, "starts with a UTF-8 byte-order mark (BOM)")
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        rep.problem(path, line_of_offset(raw, e.start), f"not UTF-8: {e.reason} at byte {e.start}")
        return None


# --------------------------------------------------------------------------- strict JSON


class StrictJSONError(ValueError):
    pass


def _reject_constant(name: str):
    raise StrictJSONError(f"non-standard JSON constant {name}")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise StrictJSONError(f"number {text} overflows a 64-bit float")
    return value


def _no_duplicate_keys(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise StrictJSONError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def strict_loads(text: str):
    """json.loads that rejects NaN/Infinity, overflowing numbers and duplicate keys."""
    return json.loads(
        text,
        parse_constant=_reject_constant,
        parse_float=_finite_float,
        object_pairs_hook=_no_duplicate_keys,
    )


BAD = object()  # stands for a line that did not parse


def read_json_lines(rep: Report, path: Path) -> list[tuple[int, object]] | None:
    """Rules 1-3 for a JSON Lines data file; returns (line number, value or BAD)."""
    raw = read_raw(rep, path)
    if raw is None:
        return None
    if not raw:
        rep.problem(path, None, "empty data file (a split with no examples must have no file)")
        return []
    text = decode_utf8(rep, path, raw)
    if text is None:
        return None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    else:
        rep.problem(path, len(lines), "last line does not end with \\n")
    records: list[tuple[int, object]] = []
    for number, line in enumerate(lines, 1):
        if line.endswith("\r"):
            rep.problem(path, number, "line ends with \\r\\n; expected \\n")
            line = line[:-1]
        if not line.strip():
            rep.problem(path, number, "blank line")
            continue
        try:
            records.append((number, strict_loads(line)))
        except ValueError as e:  # JSONDecodeError and StrictJSONError
            rep.problem(path, number, f"invalid JSON: {e}")
            records.append((number, BAD))
    if not records:
        rep.problem(path, None, "data file holds no records")
    return records


def read_json_document(rep: Report, path: Path):
    """Rules 1-2 for a single JSON document (metadata.json, dataset_info.json ...)."""
    if not path.is_file():
        rep.problem(path, None, "missing")
        return BAD
    raw = path.read_bytes()
    if not raw:
        rep.problem(path, None, "empty file")
        return BAD
    text = decode_utf8(rep, path, raw)
    if text is None:
        return BAD
    if not text.endswith("\n"):
        rep.problem(path, text.count("\n") + 1, "last line does not end with \\n")
    for number, line in enumerate(text.split("\n")[:-1], 1):
        if not line.strip():
            rep.problem(path, number, "blank line")
        elif line.endswith("\r"):
            rep.problem(path, number, "line ends with \\r\\n; expected \\n")
    try:
        return strict_loads(text)
    except json.JSONDecodeError as e:
        rep.problem(path, e.lineno, f"invalid JSON: {e.msg}")
    except ValueError as e:
        rep.problem(path, None, f"invalid JSON: {e}")
    return BAD


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- splits & counts


def locate_splits(rep: Report, d: Path, file_of: dict[str, str], expect: dict[str, int]) -> dict[str, Path]:
    """Find each split's data file (plain or .gz); file_of maps rlx split -> file name."""
    found: dict[str, Path] = {}
    for split in SPLITS:
        name = file_of[split]
        path = find_data_file(rep, d, name)
        want = expect.get(split)
        if path is None:
            if want:
                rep.problem(d / name, None, f"missing, but --expect-counts says {split}={want}")
            elif want is None and split != "validation":
                rep.warn(d / name, f"absent: allowed only when the {split} split has no examples")
            continue
        found[split] = path
    if not found:
        rep.problem(d, None, "no data files: expected " + ", ".join(file_of[s] for s in SPLITS[:2]))
    return found


def check_expected_counts(rep: Report, found: dict[str, Path], counts: dict[str, int], expect: dict[str, int]) -> None:
    for split, want in expect.items():
        if split not in found:
            continue  # reported by locate_splits when want > 0
        got = counts.get(split)
        if want == 0:
            rep.problem(found[split], None, f"present, but --expect-counts says {split}=0 (an empty split has no file)")
        elif got is not None and got != want:
            rep.problem(found[split], None, f"{got} records, --expect-counts says {split}={want}")


def read_split_lines(rep: Report, found: dict[str, Path], expect: dict[str, int]):
    """Read every split's JSON Lines; returns ({split: records}, {split: count})."""
    records: dict[str, list] = {}
    counts: dict[str, int] = {}
    for split, path in found.items():
        recs = read_json_lines(rep, path)
        if recs is None:
            continue
        records[split] = recs
        counts[split] = len(recs)
    check_expected_counts(rep, found, counts, expect)
    return records, counts


# --------------------------------------------------------------------------- jsonl

JSONL_KEYS = ("state", "action", "reward", "nextState", "metadata")


def check_jsonl(rep: Report, d: Path, args) -> None:
    files = {s: f"{s}.jsonl" for s in SPLITS}
    found = locate_splits(rep, d, files, args.expect_counts)
    require_doc(rep, d, "README.md")
    records, _ = read_split_lines(rep, found, args.expect_counts)
    for split, recs in records.items():
        for number, obj in recs:
            if obj is not BAD:
                check_jsonl_example(rep, found[split], number, obj)


def check_jsonl_example(rep: Report, path: Path, number: int, obj) -> None:
    if not isinstance(obj, dict):
        rep.problem(path, number, f"line is a {type(obj).__name__}, expected an object")
        return
    keys = list(obj)
    known = [k for k in keys if k in JSONL_KEYS]
    first_extra = next((k for k in keys if k not in JSONL_KEYS), None)
    if first_extra is not None:
        late = [k for k in keys[keys.index(first_extra):] if k in JSONL_KEYS]
        if late:
            rep.problem(path, number, f"key(s) {late} come after the extra key {first_extra!r}; "
                        "known keys must come first")
    if known != sorted(known, key=JSONL_KEYS.index):
        rep.problem(path, number, f"keys in order {known}; expected order {list(JSONL_KEYS)}")
    for key in ("state", "action", "reward"):
        if key not in obj:
            rep.problem(path, number, f"missing key {key!r}")
    for key in ("state", "action"):
        if key in obj and not isinstance(obj[key], dict):
            rep.problem(path, number, f"{key} is {json_type(obj[key])}, expected an object")
    if "reward" in obj and not is_number(obj["reward"]):
        rep.problem(path, number, f"reward is {json_type(obj['reward'])}, expected a number")
    for key in ("nextState", "metadata"):
        if key in obj and not isinstance(obj[key], dict):
            rep.problem(path, number, f"{key} is {json_type(obj[key])}, expected an object")


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --------------------------------------------------------------------------- huggingface

HF_REQUIRED_KEYS = ("state", "action", "reward")
HF_OPTIONAL_KEYS = ("next_state", "metadata")
SIZE_BUCKETS = [  # (name, lower bound inclusive, upper bound exclusive)
    ("n<1K", 0, 10**3), ("1K<n<10K", 10**3, 10**4), ("10K<n<100K", 10**4, 10**5),
    ("100K<n<1M", 10**5, 10**6), ("1M<n<10M", 10**6, 10**7), ("10M<n<100M", 10**7, 10**8),
    ("100M<n<1B", 10**8, 10**9), ("1B<n<10B", 10**9, 10**10), ("10B<n<100B", 10**10, 10**11),
    ("100B<n<1T", 10**11, 10**12), ("n>1T", 10**12, math.inf),
]


def check_huggingface(rep: Report, d: Path, args) -> None:
    files = {s: f"{HF_SPLIT_NAME[s]}.json" for s in SPLITS}
    found = locate_splits(rep, d, files, args.expect_counts)
    records, counts = read_split_lines(rep, found, args.expect_counts)
    for split, recs in records.items():
        for number, obj in recs:
            if obj is not BAD:
                check_hf_example(rep, found[split], number, obj)

    hf_found = {HF_SPLIT_NAME[s]: p for s, p in found.items()}
    hf_counts = {HF_SPLIT_NAME[s]: n for s, n in counts.items()}

    import datasets  # imported late: main() has pointed HF_HOME at a temp dir first

    check_hf_dataset_dict(rep, d / "dataset_dict.json", hf_counts)
    info_features = check_hf_dataset_info(rep, d / "dataset_info.json", datasets)
    card_features = check_hf_card(rep, d, hf_found, hf_counts, datasets)
    if info_features is not None and card_features is not None and info_features != card_features:
        rep.problem(d / "dataset_info.json", None, "features differ from the card's dataset_info.features "
                    f"(this file vs card): {feature_diff(info_features, card_features)}")
    if found and len(records) == len(found):
        load_hf_both_ways(rep, d, hf_found, hf_counts, card_features, datasets)


def check_hf_example(rep: Report, path: Path, number: int, obj) -> None:
    if not isinstance(obj, dict):
        rep.problem(path, number, f"line is a {type(obj).__name__}, expected an object")
        return
    for key in HF_REQUIRED_KEYS:
        if key not in obj:
            rep.problem(path, number, f"missing key {key!r}")
    extra = [k for k in obj if k not in HF_REQUIRED_KEYS + HF_OPTIONAL_KEYS]
    if extra:
        rep.problem(path, number, f"unexpected key(s) {extra}; allowed: "
                    f"{list(HF_REQUIRED_KEYS + HF_OPTIONAL_KEYS)}")
    if "reward" in obj and not is_number(obj["reward"]):
        rep.problem(path, number, f"reward is {json_type(obj['reward'])}, expected a number")


def check_hf_dataset_dict(rep: Report, path: Path, hf_counts: dict[str, int]) -> None:
    """Rule 8: the split manifest; its split names (and counts, when given) must match."""
    doc = read_json_document(rep, path)
    if doc is BAD:
        return
    if not isinstance(doc, dict) or "splits" not in doc:
        rep.problem(path, None, 'expected an object with a "splits" key')
        return
    splits = doc["splits"]
    names = list(splits) if isinstance(splits, (dict, list)) else None
    if names is None or not all(isinstance(n, str) for n in names):
        rep.problem(path, None, '"splits" must be a list of split names or an object keyed by split name')
        return
    if sorted(names) != sorted(hf_counts):
        rep.problem(path, None, f"lists splits {sorted(names)}, but the split files are {sorted(hf_counts)}")
    if isinstance(splits, dict):
        for name, entry in splits.items():
            n = entry.get("num_examples") if isinstance(entry, dict) else entry
            if is_int(n) and name in hf_counts and n != hf_counts[name]:
                rep.problem(path, None, f"says {name} has {n} examples; the file has {hf_counts[name]}")


def check_hf_dataset_info(rep: Report, path: Path, datasets):
    """Rule 7: Features.from_dict must accept dataset_info.json's features."""
    doc = read_json_document(rep, path)
    if doc is BAD:
        return None
    if not isinstance(doc, dict) or "features" not in doc:
        rep.problem(path, None, 'expected an object with a "features" key')
        return None
    try:
        return datasets.Features.from_dict(doc["features"])
    except Exception as e:  # noqa: BLE001 - any failure is the finding
        rep.problem(path, None, f"datasets.Features.from_dict(features) failed: {short_error(e)}")
        return None


def read_card(rep: Report, path: Path):
    """README.md's YAML front matter as a dict, or None."""
    import yaml  # PyYAML comes with datasets / huggingface_hub

    text = require_doc(rep, path.parent, path.name)
    if text is None:
        return None
    lines = text.split("\n")
    if lines[0].rstrip("\r") != "---":
        rep.problem(path, 1, "must start with a YAML block: '---' on the first line")
        return None
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip("\r") == "---"), None)
    if close is None:
        rep.problem(path, 1, "the YAML block is not closed by a '---' line")
        return None
    try:
        card = yaml.safe_load("\n".join(lines[1:close]))
    except yaml.YAMLError as e:
        rep.problem(path, None, f"invalid YAML in the card: {e}")
        return None
    if not isinstance(card, dict):
        rep.problem(path, 2, "the YAML block is not a mapping")
        return None
    return card


def check_hf_card(rep: Report, d: Path, hf_found: dict[str, Path], hf_counts: dict[str, int], datasets):
    """Rule 5; returns the card's Features (or None)."""
    path = d / "README.md"
    card = read_card(rep, path)
    if card is None:
        return None

    # configs: one data_files entry per written split, each pointing at that file.
    configs = card.get("configs")
    if not isinstance(configs, list) or not configs:
        rep.problem(path, None, "card has no 'configs' list")
    else:
        config = next((c for c in configs if isinstance(c, dict) and c.get("config_name") == "default"), configs[0])
        declared = card_data_files(rep, path, config)
        if declared is not None:
            for split, file in hf_found.items():
                want = file.name
                if split not in declared:
                    rep.problem(path, None, f"configs.data_files has no entry for split {split!r} ({want})")
                elif [Path(p).name for p in declared[split]] != [want]:
                    rep.problem(path, None, f"configs.data_files maps {split!r} to {declared[split]}, expected {want}")
            for split, paths in declared.items():
                if split not in hf_found:
                    rep.problem(path, None, f"configs.data_files lists split {split!r}, which has no file")
                for p in paths:
                    if not any(d.glob(p)):
                        rep.problem(path, None, f"configs.data_files path {p!r} does not exist")

    # dataset_info.features: the union schema.
    features = None
    info = card.get("dataset_info")
    if isinstance(info, list):  # one entry per config
        info = next((i for i in info if isinstance(i, dict) and i.get("config_name", "default") == "default"), None)
    if not isinstance(info, dict) or not isinstance(info.get("features"), list):
        rep.problem(path, None, "card has no dataset_info.features list")
    else:
        try:
            features = datasets.Features._from_yaml_list(info["features"])
        except Exception as e:  # noqa: BLE001
            rep.problem(path, None, f"dataset_info.features is not a valid datasets feature list: {short_error(e)}")
        splits = info.get("splits")
        if isinstance(splits, list):
            for entry in splits:
                if isinstance(entry, dict) and entry.get("name") in hf_counts:
                    n = entry.get("num_examples")
                    if n != hf_counts[entry["name"]]:
                        rep.problem(path, None, f"dataset_info.splits says {entry['name']} has {n} examples; "
                                    f"the file has {hf_counts[entry['name']]}")

    # task_categories and size_categories.
    tasks = card.get("task_categories")
    if not isinstance(tasks, list) or "reinforcement-learning" not in tasks:
        rep.problem(path, None, f"task_categories must be a list containing reinforcement-learning, got {tasks!r}")
    total = sum(hf_counts.values())
    sizes = card.get("size_categories")
    sizes = [sizes] if isinstance(sizes, str) else sizes
    allowed = size_buckets_for(total)
    if not isinstance(sizes, list) or len(sizes) != 1 or sizes[0] not in allowed:
        rep.problem(path, None, f"size_categories is {card.get('size_categories')!r}; for {total} rows expected "
                    f"[{' or '.join(allowed)}]")
    return features


def card_data_files(rep: Report, path: Path, config) -> dict[str, list[str]] | None:
    """{split: [paths]} from one `configs` entry (list-of-{split,path} form)."""
    data_files = config.get("data_files") if isinstance(config, dict) else None
    if not isinstance(data_files, list):
        rep.problem(path, None, "configs[default].data_files must be a list of {split, path} entries")
        return None
    declared: dict[str, list[str]] = {}
    for entry in data_files:
        if not isinstance(entry, dict) or "split" not in entry or "path" not in entry:
            rep.problem(path, None, f"configs data_files entry {entry!r} lacks split/path")
            continue
        p = entry["path"]
        declared[entry["split"]] = [p] if isinstance(p, str) else list(p)
    return declared


def size_buckets_for(n: int) -> list[str]:
    """size_categories values that fit n rows; at an exact bound both neighbours do."""
    names = [name for name, lo, hi in SIZE_BUCKETS if lo <= n < hi]
    names += [name for name, lo, hi in SIZE_BUCKETS if n == hi]
    return names


def load_hf_both_ways(rep: Report, d: Path, hf_found, hf_counts, card_features, datasets) -> None:
    """Rule 5: load_dataset(DIR) via the card, and load_dataset('json', data_files=...)."""
    with tempfile.TemporaryDirectory(prefix="rlx-check-hf-") as cache:
        try:
            loaded = datasets.load_dataset(str(d), cache_dir=os.path.join(cache, "dir"))
        except Exception as e:  # noqa: BLE001
            rep.problem(d, None, f"datasets.load_dataset(DIR) failed: {short_error(e)}")
        else:
            compare_loaded(rep, d, "load_dataset(DIR)", loaded, hf_counts)
            if card_features is not None:
                for split in loaded:
                    if loaded[split].features != card_features:
                        rep.problem(d, None, f"load_dataset(DIR)[{split!r}].features differ from the card's "
                                    f"(loaded vs card): {feature_diff(loaded[split].features, card_features)}")
        data_files = {split: str(path) for split, path in hf_found.items()}
        try:
            loaded = datasets.load_dataset("json", data_files=data_files, cache_dir=os.path.join(cache, "json"))
        except Exception as e:  # noqa: BLE001
            rep.problem(d, None, f"datasets.load_dataset('json', data_files=...) failed: {short_error(e)}")
        else:
            compare_loaded(rep, d, "load_dataset('json')", loaded, hf_counts)


def compare_loaded(rep: Report, d: Path, how: str, loaded, hf_counts: dict[str, int]) -> None:
    if sorted(loaded) != sorted(hf_counts):
        rep.problem(d, None, f"{how} gave splits {sorted(loaded)}, expected {sorted(hf_counts)}")
    for split, n in hf_counts.items():
        if split in loaded and loaded[split].num_rows != n:
            rep.problem(d, None, f"{how}[{split!r}] has {loaded[split].num_rows} rows; the file has {n} lines")


def short_error(e: BaseException) -> str:
    """First line of the exception and of up to two causes behind it."""
    parts = []
    while e is not None and len(parts) < 3:
        text = " ".join(str(e).split())
        parts.append(f"{type(e).__name__}: {text}"[:300])
        e = e.__cause__ or e.__context__
    return " <- ".join(parts)


def feature_diff(a, b, limit: int = 5) -> str:
    """Where two datasets.Features differ, as `path: a vs b` items."""
    def leaves(obj, prefix=""):
        if isinstance(obj, dict) and "_type" not in obj:
            for key, value in obj.items():
                yield from leaves(value, f"{prefix}.{key}" if prefix else key)
        else:
            yield prefix, json.dumps(obj, sort_keys=True)
    left, right = dict(leaves(a.to_dict())), dict(leaves(b.to_dict()))
    items = []
    for path in list(dict.fromkeys([*left, *right])):
        if left.get(path) != right.get(path):
            items.append(f"{path}: {left.get(path, 'absent')} vs {right.get(path, 'absent')}")
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more


# --------------------------------------------------------------------------- openai

# FORMATS.md section 1.5: training-example limit per model (not the inference window).
OPENAI_TRAINING_LIMITS = {
    "gpt-3.5-turbo-0125": 16385,
    "gpt-3.5-turbo-1106": 16385,
    "gpt-3.5-turbo-0613": 4096,
    "gpt-4o-2024-08-06": 65536,
    "gpt-4o-mini-2024-07-18": 65536,
    "gpt-4.1-2025-04-14": 65536,
    "gpt-4.1-mini-2025-04-14": 65536,
    "gpt-4.1-nano-2025-04-14": 32768,
    "o4-mini-2025-04-16": 65536,
}
# Bare model names resolve to the fine-tunable snapshot listed above.
OPENAI_ALIASES = {
    "gpt-3.5-turbo": "gpt-3.5-turbo-0125",
    "gpt-4o": "gpt-4o-2024-08-06",
    "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
    "gpt-4.1": "gpt-4.1-2025-04-14",
    "gpt-4.1-mini": "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-nano": "gpt-4.1-nano-2025-04-14",
    "o4-mini": "o4-mini-2025-04-16",
}
DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
MIN_TRAINING_EXAMPLES = 10
TIKTOKEN_BLOB = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"
OPENAI_ROLES = ("system", "user", "assistant")


def check_openai(rep: Report, d: Path, args) -> None:
    files = {s: f"{s}.jsonl" for s in SPLITS}
    found = locate_splits(rep, d, files, args.expect_counts)
    require_doc(rep, d, "USAGE.md")
    records, counts = read_split_lines(rep, found, args.expect_counts)

    for split, recs in records.items():
        for number, obj in recs:
            if obj is not BAD:
                check_openai_shape(rep, found[split], number, obj)
        cookbook_format_errors(rep, found[split], recs)

    model = args.model
    limit = OPENAI_TRAINING_LIMITS.get(OPENAI_ALIASES.get(model, model))
    if limit is None:
        rep.problem(d, None, f"--model {model}: no training-example limit known (FORMATS.md 1.5 lists "
                    f"{', '.join(OPENAI_TRAINING_LIMITS)})")
    encoding = openai_encoding(rep, d, model)

    tokens: dict[str, list[tuple[int, int]]] = {}
    if encoding is not None:
        for split, recs in records.items():
            tokens[split] = [(number, num_tokens_from_messages(encoding, obj["messages"]))
                             for number, obj in recs if countable_messages(obj)]
            if limit is not None:
                for number, n in tokens[split]:
                    if n > limit:
                        rep.problem(found[split], number, f"{n} tokens, over the {limit}-token training limit of {model}")

    if counts.get("train", 0) < MIN_TRAINING_EXAMPLES:
        rep.warn(found.get("train", d / "train.jsonl"),
                 f"{counts.get('train', 0)} training examples; OpenAI requires at least {MIN_TRAINING_EXAMPLES}")

    check_openai_metadata(rep, d / "metadata.json", model, encoding, counts, tokens.get("train"),
                          complete=len(records) == len(found))


def check_openai_shape(rep: Report, path: Path, number: int, obj) -> None:
    """Rule 9: exactly {"messages":[system,user,assistant]}, each {role, content}."""
    if not isinstance(obj, dict):
        return  # the cookbook's data_type error covers it
    if list(obj) != ["messages"]:
        rep.problem(path, number, f"top-level keys {list(obj)}; expected exactly ['messages']")
    messages = obj.get("messages")
    if not isinstance(messages, list):
        rep.problem(path, number, f"messages is {json_type(messages)}, expected an array")
        return
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles != list(OPENAI_ROLES):
        rep.problem(path, number, f"message roles {roles}; expected {list(OPENAI_ROLES)}")
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            rep.problem(path, number, f"messages[{i}] is {json_type(m)}, expected an object")
            continue
        if sorted(m) != ["content", "role"]:
            rep.problem(path, number, f"messages[{i}] has keys {list(m)}; expected exactly role and content")


def cookbook_format_errors(rep: Report, path: Path, recs) -> None:
    """The seven error checks of openai-cookbook Chat_finetuning_data_prep.ipynb, as coded there."""
    for number, ex in recs:
        if ex is BAD:
            continue
        errors: list[str] = []
        if not isinstance(ex, dict):
            errors.append("data_type")
        else:
            messages = ex.get("messages", None)
            if not messages:
                errors.append("missing_messages_list")
            else:
                if not isinstance(messages, list):  # the notebook would crash iterating it
                    messages = []
                for message in messages:
                    if not isinstance(message, dict):  # the notebook would crash on .get
                        errors.append("message_missing_key")
                        continue
                    if "role" not in message or "content" not in message:
                        errors.append("message_missing_key")
                    if any(k not in ("role", "content", "name", "function_call", "weight") for k in message):
                        errors.append("message_unrecognized_key")
                    if message.get("role", None) not in ("system", "user", "assistant", "function"):
                        errors.append("unrecognized_role")
                    content = message.get("content", None)
                    function_call = message.get("function_call", None)
                    if (not content and not function_call) or not isinstance(content, str):
                        errors.append("missing_content")
                if not any(isinstance(m, dict) and m.get("role", None) == "assistant" for m in messages):
                    errors.append("example_missing_assistant_message")
        for key in dict.fromkeys(errors):
            rep.problem(path, number, f"cookbook format error {key}")


def openai_encoding(rep: Report, d: Path, model: str):
    """The tiktoken Encoding for the model (FORMATS 1.4), loaded from the offline cache."""
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:
        rep.problem(d, None, f"--model {model}: tiktoken knows no encoding for it")
        return None
    cache = os.environ.get("TIKTOKEN_CACHE_DIR") or os.environ.get("DATA_GYM_CACHE_DIR")
    if cache:
        key = hashlib.sha1(TIKTOKEN_BLOB.format(name).encode()).hexdigest()
        if not os.path.isfile(os.path.join(cache, key)):
            rep.problem(d, None, f"{name} is not in the tiktoken cache {cache} (run tests/consumers/setup-venv.sh); "
                        "refusing to download it")
            return None
    else:
        rep.problem(d, None, "no offline tiktoken cache: set TIKTOKEN_CACHE_DIR or use the venv that "
                    "tests/consumers/setup-venv.sh prepares")
        return None
    try:
        return tiktoken.get_encoding(name)
    except Exception as e:  # noqa: BLE001
        rep.problem(d, None, f"tiktoken.get_encoding({name!r}) failed: {short_error(e)}")
        return None


def countable_messages(obj) -> bool:
    return (obj is not BAD and isinstance(obj, dict) and isinstance(obj.get("messages"), list)
            and all(isinstance(m, dict) for m in obj["messages"]))


def num_tokens_from_messages(encoding, messages, tokens_per_message=3, tokens_per_name=1) -> int:
    """FORMATS 1.3: 3 per message + every string value encoded + 1 per name + 3 priming."""
    num_tokens = 0
    for message in messages:
        num_tokens += tokens_per_message
        for key, value in message.items():
            if isinstance(value, str):
                num_tokens += len(encoding.encode(value, disallowed_special=()))
            if key == "name":
                num_tokens += tokens_per_name
    num_tokens += 3
    return num_tokens


def check_openai_metadata(rep: Report, path: Path, model: str, encoding, counts, train_tokens, complete: bool) -> None:
    """Rule 11: metadata.json names model and encoding and carries the token distribution."""
    meta = read_json_document(rep, path)
    if meta is BAD:
        return
    if not isinstance(meta, dict):
        rep.problem(path, None, "expected a JSON object")
        return
    for key in ("model", "encoding", "examples", "tokens"):
        if key not in meta:
            rep.problem(path, None, f"missing key {key!r}")
    if "model" in meta and meta["model"] != model:
        rep.problem(path, None, f"model is {meta['model']!r}, but --model is {model!r}")
    if encoding is not None and "encoding" in meta and meta["encoding"] != encoding.name:
        rep.problem(path, None, f"encoding is {meta['encoding']!r}; {model} uses {encoding.name}")
    if not complete:
        return  # a data file could not be read: counts below would mislead

    if "examples" in meta:
        examples = meta["examples"]
        total = sum(counts.values())
        if is_int(examples):
            if examples not in (counts.get("train", 0), total):
                rep.problem(path, None, f"examples is {examples}; the training file has {counts.get('train', 0)} "
                            f"and all splits {total}")
        elif isinstance(examples, dict):
            for split in SPLITS:
                n = examples.get(split, 0)
                if n != counts.get(split, 0):
                    rep.problem(path, None, f"examples.{split} is {n}; the file has {counts.get(split, 0)}")
        else:
            rep.problem(path, None, f"examples is {json_type(examples)}, expected a count")

    tok = meta.get("tokens")
    if "tokens" in meta and not isinstance(tok, dict):
        rep.problem(path, None, f"tokens is {json_type(tok)}, expected an object")
        return
    if not isinstance(tok, dict):
        return
    for key in ("total", "min", "max", "mean", "p50", "p95"):
        if key not in tok:
            rep.problem(path, None, f"tokens has no {key!r}")
        elif not is_number(tok[key]):
            rep.problem(path, None, f"tokens.{key} is {json_type(tok[key])}, expected a number")
    if train_tokens is None or not train_tokens:
        return
    values = [n for _, n in train_tokens]
    exact = {"total": sum(values), "min": min(values), "max": max(values)}
    for key, want in exact.items():
        if is_number(tok.get(key)) and tok[key] != want:
            rep.problem(path, None, f"tokens.{key} is {tok[key]}; recounted with tiktoken {encoding.name}: {want}")
    mean = exact["total"] / len(values)
    if is_number(tok.get("mean")) and abs(tok["mean"] - mean) > 0.5:
        rep.problem(path, None, f"tokens.mean is {tok['mean']}; recounted: {mean:.3f}")
    for key in ("p50", "p95"):
        if is_number(tok.get(key)) and not exact["min"] <= tok[key] <= exact["max"]:
            rep.problem(path, None, f"tokens.{key} is {tok[key]}, outside the recounted range "
                        f"[{exact['min']}, {exact['max']}]")
    if is_number(tok.get("p50")) and is_number(tok.get("p95")) and tok["p50"] > tok["p95"]:
        rep.problem(path, None, f"tokens.p50 ({tok['p50']}) is above tokens.p95 ({tok['p95']})")


# --------------------------------------------------------------------------- anthropic

HUMAN_PROMPT = "\n\nHuman:"
AI_PROMPT = "\n\nAssistant:"
BEDROCK_RESERVED = ("\nHuman:", "\nAssistant:")
BEDROCK_MAX_TOKENS = 32000
BEDROCK_CHARS_PER_TOKEN = 3
BEDROCK_MIN_RECORDS = 32
BEDROCK_MAX_TRAINING = 10000
BEDROCK_MAX_VALIDATION = 1000
BEDROCK_MAX_TRAINING_BYTES = 10 * 1024**3
BEDROCK_MAX_VALIDATION_BYTES = 1 * 1024**3


def check_anthropic(rep: Report, d: Path, args) -> None:
    files = {s: f"{s}.jsonl" for s in SPLITS}
    found = locate_splits(rep, d, files, args.expect_counts)
    doc = read_json_document(rep, d / "dataset_info.json")
    if doc is not BAD and not isinstance(doc, dict):
        rep.problem(d / "dataset_info.json", None, "expected a JSON object")
    require_doc(rep, d, "GUIDE.md")
    records, counts = read_split_lines(rep, found, args.expect_counts)
    check_line = check_bedrock_record if args.style == "bedrock" else check_legacy_record
    for split, recs in records.items():
        for number, obj in recs:
            if obj is not BAD:
                check_line(rep, found[split], number, obj)
    if args.style == "bedrock":
        bedrock_limits(rep, d, found, counts)


def check_legacy_record(rep: Report, path: Path, number: int, obj) -> None:
    """Rule 12: {"prompt","completion"[,"metadata"]} with the exact legacy separators."""
    if not isinstance(obj, dict):
        rep.problem(path, number, f"line is a {type(obj).__name__}, expected an object")
        return
    keys = list(obj)
    if keys not in (["prompt", "completion"], ["prompt", "completion", "metadata"]):
        rep.problem(path, number, f"keys {keys}; expected prompt, completion[, metadata]")
    prompt = obj.get("prompt")
    if not isinstance(prompt, str):
        rep.problem(path, number, f"prompt is {json_type(prompt)}, expected a string")
    else:
        opening = HUMAN_PROMPT + " "
        if not prompt.startswith(opening):
            rep.problem(path, number, f"prompt does not start with {opening!r}: {prompt[:30]!r}")
        if not prompt.endswith(AI_PROMPT):
            rep.problem(path, number, f"prompt does not end with {AI_PROMPT!r}: {prompt[-30:]!r}")
        if prompt.startswith(opening) and prompt.endswith(AI_PROMPT) and len(prompt) >= len(opening) + len(AI_PROMPT):
            human = prompt[len(opening):len(prompt) - len(AI_PROMPT)]
            for marker in (HUMAN_PROMPT, AI_PROMPT):
                if marker in human:
                    rep.problem(path, number, f"the human turn contains another {marker!r}")
    completion = obj.get("completion")
    if not isinstance(completion, str):
        rep.problem(path, number, f"completion is {json_type(completion)}, expected a string")
    else:
        if not completion.startswith(" ") or not completion.strip():
            rep.problem(path, number, f"completion must start with a space and hold text: {completion[:30]!r}")
        for marker in (HUMAN_PROMPT, AI_PROMPT):
            if marker in completion:
                rep.problem(path, number, f"completion contains {marker!r}")
    if "metadata" in obj:
        meta = obj["metadata"]
        if not isinstance(meta, dict):
            rep.problem(path, number, f"metadata is {json_type(meta)}, expected an object")
        else:
            if not is_number(meta.get("reward")):
                rep.problem(path, number, f"metadata.reward is {json_type(meta.get('reward'))}, expected a number")
            if not isinstance(meta.get("policy"), str):
                rep.problem(path, number, f"metadata.policy is {json_type(meta.get('policy'))}, expected a string")


def check_bedrock_record(rep: Report, path: Path, number: int, obj) -> None:
    """Rule 13 / FORMATS 2.2: Claude 3 Haiku fine-tuning record on Bedrock."""
    if not isinstance(obj, dict):
        rep.problem(path, number, f"line is a {type(obj).__name__}, expected an object")
        return
    extra = [k for k in obj if k not in ("system", "messages")]
    if extra:
        rep.problem(path, number, f"extraneous key(s) {extra}; allowed: system, messages")
    texts: list[tuple[str, str]] = []
    if "system" in obj:
        if not isinstance(obj["system"], str):
            rep.problem(path, number, f"system is {json_type(obj['system'])}, expected a string")
        else:
            texts.append(("system", obj["system"]))
    messages = obj.get("messages")
    if not isinstance(messages, list):
        rep.problem(path, number, f"messages is {json_type(messages)}, expected an array")
        messages = []
    elif len(messages) < 2:
        rep.problem(path, number, f"{len(messages)} message(s); at least 2 required")
    roles = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            rep.problem(path, number, f"messages[{i}] is {json_type(m)}, expected an object")
            roles.append(None)
            continue
        extra = [k for k in m if k not in ("role", "content")]
        if extra:
            rep.problem(path, number, f"messages[{i}] has extraneous key(s) {extra}")
        role = m.get("role")
        roles.append(role)
        if role not in ("user", "assistant"):
            rep.problem(path, number, f"messages[{i}].role is {role!r}; only user and assistant are allowed")
        content = m.get("content")
        if content == "":
            rep.problem(path, number, f"messages[{i}].content is empty")
        elif not isinstance(content, str):
            rep.problem(path, number, f"messages[{i}].content is {json_type(content)}, expected a non-empty string")
        else:
            texts.append((f"messages[{i}].content", content))
    if messages:
        if roles[0] != "user":
            rep.problem(path, number, f"first message is {roles[0]!r}, must be 'user'")
        if roles[-1] != "assistant":
            rep.problem(path, number, f"last message is {roles[-1]!r}, must be 'assistant'")
        for i in range(len(roles) - 1):
            if roles[i] == roles[i + 1]:
                rep.problem(path, number, f"messages[{i}] and messages[{i + 1}] are both {roles[i]!r}; roles must alternate")
    for where, text in texts:
        for marker in BEDROCK_RESERVED:
            if marker in text:
                rep.problem(path, number, f"{where} contains the reserved string {marker!r}")
    estimate = sum(len(text) // BEDROCK_CHARS_PER_TOKEN for _, text in texts)
    if estimate > BEDROCK_MAX_TOKENS:
        rep.problem(path, number, f"about {estimate} tokens (len//3), over Bedrock's {BEDROCK_MAX_TOKENS}")


def bedrock_limits(rep: Report, d: Path, found: dict[str, Path], counts: dict[str, int]) -> None:
    """Record-count and size limits of FORMATS 2.2: warnings, never failures."""
    if "train" in found:
        n = counts.get("train", 0)
        if not BEDROCK_MIN_RECORDS <= n <= BEDROCK_MAX_TRAINING:
            rep.warn(found["train"], f"{n} training records; Bedrock accepts {BEDROCK_MIN_RECORDS}-{BEDROCK_MAX_TRAINING}")
        if found["train"].stat().st_size > BEDROCK_MAX_TRAINING_BYTES:
            rep.warn(found["train"], "larger than Bedrock's 10 GB training-file limit")
    else:
        rep.warn(d / "train.jsonl", "no training file; Bedrock needs at least 32 training records")
    held_out = 0
    for split in ("eval", "validation"):
        if split in found:
            n = counts.get(split, 0)
            held_out += n
            if not BEDROCK_MIN_RECORDS <= n <= BEDROCK_MAX_VALIDATION:
                rep.warn(found[split], f"{n} records; a Bedrock validation file takes "
                         f"{BEDROCK_MIN_RECORDS}-{BEDROCK_MAX_VALIDATION}")
            if found[split].stat().st_size > BEDROCK_MAX_VALIDATION_BYTES:
                rep.warn(found[split], "larger than Bedrock's 1 GB validation-file limit")
    if counts.get("train", 0) + held_out > BEDROCK_MAX_TRAINING:
        rep.warn(d, f"{counts.get('train', 0) + held_out} training + validation records; "
                 f"Bedrock allows {BEDROCK_MAX_TRAINING} in one job")


# --------------------------------------------------------------------------- csv

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
CSV_SPLIT_VALUES = ("train", "eval", "validation")


def check_csv(rep: Report, d: Path, args) -> None:
    import pandas as pd

    files = {s: f"{s}.csv" for s in SPLITS}
    found = locate_splits(rep, d, files, args.expect_counts)
    combined_path = find_data_file(rep, d, "combined.csv")
    if combined_path is None:
        rep.problem(d / "combined.csv", None, "missing")
    dictionary = require_doc(rep, d, "data_dictionary.md")
    template = require_doc(rep, d, "analysis_template.py")

    frames: dict[str, object] = {}
    counts: dict[str, int] = {}
    for split, path in list(found.items()) + ([("combined", combined_path)] if combined_path else []):
        records = check_csv_records(rep, path)
        frame = read_csv_pandas(rep, path, pd)
        if frame is None:
            continue
        frames[split] = frame
        counts[split] = len(frame)
        if records is not None and records != len(frame):
            rep.problem(path, None, f"pandas reads {len(frame)} rows, the csv module {records} records")
        if len(frame) == 0:
            rep.problem(path, None, "no data rows (a split with no examples must have no file)")
    check_expected_counts(rep, found, counts, args.expect_counts)

    split_frames = {s: f for s, f in frames.items() if s != "combined"}
    columns = None
    for split, frame in split_frames.items():
        cols = list(frame.columns)
        if columns is None:
            columns = cols
        elif cols != columns:
            rep.problem(found[split], 1, f"columns differ from {found[next(iter(split_frames))].name}'s: "
                        + column_diff(cols, columns))
    for split, frame in frames.items():
        path = found.get(split, combined_path)
        if "reward" not in frame.columns:
            rep.problem(path, 1, "no reward column")
        elif len(frame):
            reward = frame["reward"]
            if not pd.api.types.is_numeric_dtype(reward) or pd.api.types.is_bool_dtype(reward):
                rep.problem(path, None, f"reward column has dtype {reward.dtype}, expected numeric")
            elif reward.isna().any():
                rep.problem(path, None, f"reward is empty in {int(reward.isna().sum())} row(s)")

    if "combined" in frames:
        check_combined(rep, combined_path, frames["combined"], columns, found, counts)
    if dictionary is not None and columns is not None:
        missing = [c for c in columns if c not in dictionary]
        if missing:
            rep.problem(d / "data_dictionary.md", None, f"does not mention column(s) {missing}")
    if template is not None and frames:
        run_analysis_template(rep, d)


def read_csv_pandas(rep: Report, path: Path, pd):
    try:
        return pd.read_csv(path, keep_default_na=False, na_values=[""])
    except Exception as e:  # noqa: BLE001
        rep.problem(path, None, f"pandas.read_csv failed: {short_error(e)}")
        return None


def check_csv_records(rep: Report, path: Path) -> int | None:
    """RFC 4180 rectangularity, JSON-array cells and formula escaping, via the csv module."""
    raw = read_raw(rep, path)
    if raw is None:
        return None
    if not raw:
        rep.problem(path, None, "empty data file (a split with no examples must have no file)")
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        rep.warn(path, "starts with a UTF-8 BOM: Python's csv module reads the first header with \\ufeff")
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        rep.problem(path, line_of_offset(raw, e.start), f"not UTF-8: {e.reason} at byte {e.start}")
        return None
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as e:
        rep.problem(path, 1, f"no readable header row: {e}")
        return None
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        rep.problem(path, 1, f"duplicate column name(s) {duplicates}")
    width = len(header)
    n = 0
    start = reader.line_num + 1
    try:
        for record in reader:
            n += 1
            if len(record) != width:
                rep.problem(path, start, f"record has {len(record)} fields, the header {width}")
            for column, cell in zip(header, record):
                check_csv_cell(rep, path, start, column, cell)
            start = reader.line_num + 1
    except csv.Error as e:
        rep.problem(path, start, f"malformed CSV: {e}")
        return None
    return n


def check_csv_cell(rep: Report, path: Path, line: int, column: str, cell: str) -> None:
    if not cell or NUMBER_RE.fullmatch(cell):
        return
    if cell.startswith("["):
        try:
            value = strict_loads(cell)
        except ValueError as e:
            rep.problem(path, line, f"column {column!r}: cell starting with '[' is not JSON: {e}")
        else:
            if not isinstance(value, list):
                rep.problem(path, line, f"column {column!r}: cell starting with '[' is not a JSON array")
    elif cell.startswith(FORMULA_STARTS):
        rep.problem(path, line, f"column {column!r}: cell {cell[:20]!r} starts with a formula character "
                    "and is not escaped with a leading '")


def column_diff(got: list, want: list) -> str:
    extra = [c for c in got if c not in want]
    missing = [c for c in want if c not in got]
    if not extra and not missing:
        return f"same names in another order: {got}"
    return "; ".join(part for part in (f"extra {extra}" if extra else "", f"missing {missing}" if missing else "") if part)


def check_combined(rep: Report, path: Path, combined, columns, found: dict[str, Path], counts: dict[str, int]) -> None:
    cols = list(combined.columns)
    if not cols or cols[0] != "split":
        rep.problem(path, 1, f"first column is {cols[:1]}, expected 'split'")
        return
    if columns is not None and cols[1:] != columns:
        rep.problem(path, 1, "columns after 'split' differ from the split files': " + column_diff(cols[1:], columns))
    per_split = combined["split"].value_counts().to_dict()
    for value in per_split:
        if value not in CSV_SPLIT_VALUES:
            rep.problem(path, None, f"split column holds {value!r}; expected one of {list(CSV_SPLIT_VALUES)}")
    for split in SPLITS:
        have = per_split.get(split, 0)
        if split in counts and have != counts[split]:
            rep.problem(path, None, f"{have} rows with split={split}; {found[split].name} has {counts[split]}")
        elif split not in found and have:
            rep.problem(path, None, f"{have} rows with split={split}, but there is no {split}.csv")


def run_analysis_template(rep: Report, d: Path) -> None:
    """Rule 16: analysis_template.py runs as shipped, in a copy of DIR, and draws a PNG."""
    with tempfile.TemporaryDirectory(prefix="rlx-check-csv-") as tmp:
        work = Path(tmp) / d.name
        shutil.copytree(d, work)
        before = set(work.rglob("*.png"))
        env = dict(os.environ, MPLBACKEND="Agg", MPLCONFIGDIR=str(Path(tmp) / "mplconfig"))
        try:
            proc = subprocess.run([sys.executable, "analysis_template.py"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            rep.problem(d / "analysis_template.py", None, "did not finish within 600 s")
            return
        if proc.returncode != 0:
            tail = "\n    ".join(proc.stderr.strip().splitlines()[-12:])
            rep.problem(d / "analysis_template.py", None, f"exited with {proc.returncode}:\n    {tail}")
            return
        if not set(work.rglob("*.png")) - before:
            rep.problem(d / "analysis_template.py", None, "ran but wrote no .png file")


# --------------------------------------------------------------------------- main


def parse_counts(text: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        name = {"test": "eval"}.get(name.strip(), name.strip())
        if not sep or name not in SPLITS or not value.strip().isdigit():
            raise argparse.ArgumentTypeError(
                f"bad entry {part!r}: expected train=N, eval=N (or test=N) and validation=N")
        counts[name] = int(value)
    return counts


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Check an rlx export directory with the consumers that read it.")
    parser.add_argument("format", choices=FORMATS)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"openai: model whose encoding and training limit apply (default {DEFAULT_MODEL})")
    parser.add_argument("--style", choices=("legacy", "bedrock"), default="legacy",
                        help="anthropic: prompt/completion (legacy, default) or Bedrock {system, messages}")
    parser.add_argument("--expect-counts", type=parse_counts, default={},
                        metavar="train=N,eval=M,validation=K",
                        help="records expected per split (0 = the file must be absent)")
    return parser.parse_args(argv)


def offline_environment(tmp: str) -> None:
    """Keep every consumer off the network and out of the user's caches."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HOME"] = os.path.join(tmp, "hf-home")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "hf-datasets")
    os.environ["HF_HUB_CACHE"] = os.path.join(tmp, "hf-hub")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        venv_cache = os.path.join(sys.prefix, "tiktoken-cache")
        if os.path.isdir(venv_cache):
            os.environ["TIKTOKEN_CACHE_DIR"] = venv_cache


def main(argv=None) -> int:
    args = parse_args(argv)
    rep = Report()
    d = args.dir
    if not d.is_dir():
        rep.problem(d, None, "not a directory")
        rep.emit()
        return 1
    checks = {
        "jsonl": check_jsonl,
        "huggingface": check_huggingface,
        "openai": check_openai,
        "anthropic": check_anthropic,
        "csv": check_csv,
    }
    with tempfile.TemporaryDirectory(prefix="rlx-check-") as tmp:
        offline_environment(tmp)
        if args.format == "huggingface":
            import datasets

            import huggingface_hub

            datasets.disable_progress_bars()
            datasets.logging.set_verbosity_error()
            huggingface_hub.utils.logging.set_verbosity_error()
        checks[args.format](rep, d, args)
    rep.emit()
    if rep.problem_count():
        print(f"check_export: {args.format} {d}: {rep.problem_count()} problem(s)", file=sys.stderr)
        return 1
    extra = f", {len(rep.warnings)} warning(s)" if rep.warnings else ""
    print(f"check_export: {args.format} {d}: OK{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
