#!/usr/bin/env python3
"""Prove that TRL's own code accepts an rlx `trl` export, by running that code.

    python check_trl.py DIR --objective sft|dpo|kto|reward --style conversational|standard
                        [--steps 2] [--no-card] [--max-length N] [--eval-rows 16]
                        [--kto-batch 4] [--seed 0] [--strict]

DIR holds train.jsonl, optionally eval.jsonl and validation.jsonl (each may be
.jsonl.gz instead), and a dataset card README.md whose YAML `configs` makes
`datasets.load_dataset(DIR)` work (eval.jsonl is the `test` split).  --no-card
loads the files with `load_dataset("json", data_files=...)` instead and does not
read README.md.

Checks, one summary line each on stdout (`ok`, `FAIL` or `skip`, its time and
what it found):

  files         the split files exist and are UTF-8 JSON Lines, one object a line
  json types    every line as written, before `datasets` casts it to the card's
                features: exactly the objective's keys, text values all arrays
                (conversational) or all strings (standard), `label` true/false,
                `margin` a JSON number written as a float (1.0, not 1), on every
                line or on none
  card          README.md's YAML front matter: `configs` (default) lists every
                split file under its split name (train, test, validation)
  load          load_dataset gives exactly those splits with the files' row counts
  columns       each split's columns are exactly what the objective needs, with the
                types TRL reads: sft {prompt, completion}; kto {prompt, completion,
                label: bool}; dpo {prompt, chosen, rejected}; reward {chosen,
                rejected} plus an optional float `margin` on every row or none.
                Text columns are lists of {role, content} or strings, per --style.
  rows          message shapes: exactly {role, content} strings; prompts are
                [system?, user...] ending on user; completions are assistant turns;
                reward rows share every message but the last; no empty completion;
                chosen != rejected.  Standard rows: a warning when the prompt and
                completion meet without a separator at the start of the completion
                (TRL joins them as prompt + completion)
  is_conversational   trl.data_utils.is_conversational on every row, and on each
                text column alone, equals (--style == conversational)
  tokenizer     a byte-level BPE tokenizer trained here on the dataset's own text,
                with a ChatML-like chat template; max_length defaults to the
                longest sequence (so no row is truncated or dropped), at most 2048
  apply_chat_template  the real trl.data_utils.apply_chat_template with that
                tokenizer on every conversational row; standard rows go through
                maybe_apply_chat_template (TRL never templates strings, so it must
                hand them back unchanged) and apply_chat_template's key-set rule
  maybe_extract_prompt  on every row: a no-op for sft/kto/dpo; for reward it must
                recover the shared prompt
  maybe_unpair_preference_dataset  dpo/reward: 2x rows, n True + n False labels,
                completions = chosen + rejected; sft/kto: returned unchanged
  kto labels    kto: both labels in train, and whether the file order looks
                shuffled (KTOTrainer reads rows in order, --kto-batch at a time)
  train         SFTTrainer / DPOTrainer (with a ref model) / KTOTrainer (with a ref
                model) / RewardTrainer for --steps optimizer steps on the CPU with a
                tiny randomly initialised Llama (hidden 32, 2 layers; a
                sequence-classification head with num_labels=1 for reward), then
                evaluate() on the first --eval-rows rows of each held-out split.
                TRL's own warnings are shown.  Nothing is downloaded.

Exit status 0 when every check passes; 1 when one fails (the problems are printed
to stderr as `file:line: what`, at most 10 per check); 2 on a usage error.
Warnings (`warning: ...`, on stderr) fail only with --strict.  Checks that need
an earlier one that failed are skipped.  Run it with the venv that
tests/consumers/setup-trl-venv.sh prepares; CHECK_TRL_TRACEBACK=1 prints the
traceback of anything that raises.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import logging
import math
import os
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

OBJECTIVES = ("sft", "dpo", "kto", "reward")
STYLES = ("conversational", "standard")

# rlx's split files and the split names `datasets` gives them (rlx's eval is "test").
SPLITS = (("train", "train"), ("eval", "test"), ("validation", "validation"))

REQUIRED = {
    "sft": ("prompt", "completion"),
    "kto": ("prompt", "completion", "label"),
    "dpo": ("prompt", "chosen", "rejected"),
    "reward": ("chosen", "rejected"),
}
OPTIONAL = {"reward": ("margin",)}
TEXT_KEYS = ("prompt", "completion", "chosen", "rejected")
ROLES = ("system", "user", "assistant")

MAX_PROBLEMS_PER_CHECK = 10
AUTO_MAX_LENGTH_CAP = 2048

# Tokenizer and chat template built here (nothing comes from the Hub).
BOS, EOS, PAD, IM_START = "<|bos|>", "<|im_end|>", "<|pad|>", "<|im_start|>"
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('unsupported role: ' + message['role']) }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'system' and not loop.first -%}"
    "{{ raise_exception('the system message must come first') }}"
    "{%- endif -%}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)
GENERATION_PROMPT = f"{IM_START}assistant\n"


# --------------------------------------------------------------------------- report


class CheckFailed(Exception):
    """Stop a check early; its problems are already recorded."""


class Check:
    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.detail = ""
        self.skipped = False

    def problem(self, where, what: str) -> None:
        self.problems.append(f"{where}: {what}" if where else what)

    def warn(self, what: str) -> None:
        self.warnings.append(what)

    def require(self, ok: bool, where, what: str) -> bool:
        if not ok:
            self.problem(where, what)
        return ok


class Runner:
    def __init__(self) -> None:
        self.checks: list[Check] = []

    def run(self, name: str, fn, *args, needs: bool = True, skip: str | None = None, **kwargs):
        """Run fn(check, *args) unless skipped; print its line. Returns (check, fn's result)."""
        chk = Check(name)
        self.checks.append(chk)
        result = None
        t0 = time.monotonic()
        if skip or not needs:
            chk.skipped = True
            chk.detail = skip or "skipped: an earlier check failed"
        else:
            try:
                result = fn(chk, *args, **kwargs)
            except CheckFailed:
                pass
            except Exception as e:  # noqa: BLE001 - any crash in TRL's code is the finding
                chk.problem(None, f"raised {short_error(e)}")
                if os.environ.get("CHECK_TRL_TRACEBACK"):
                    traceback.print_exc()
        dt = time.monotonic() - t0
        for w in chk.warnings:
            print(f"  warning: {w}", file=sys.stderr)
        for p in chk.problems[:MAX_PROBLEMS_PER_CHECK]:
            print(f"  {p}", file=sys.stderr)
        if len(chk.problems) > MAX_PROBLEMS_PER_CHECK:
            print(f"  ... and {len(chk.problems) - MAX_PROBLEMS_PER_CHECK} more problems not shown",
                  file=sys.stderr)
        if chk.skipped:
            status = "skip"
        elif chk.problems:
            status = "FAIL"
        else:
            status = "ok  "
        detail = chk.detail
        if chk.problems and not chk.skipped:
            first = chk.problems[0]
            detail = f"{len(chk.problems)} problem(s), first: {first}"
        warn = f", {len(chk.warnings)} warning(s)" if chk.warnings else ""
        print(f"{status} {name} ({dt:.1f} s{warn}): {detail}", flush=True)
        return chk, result

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.problems and not c.skipped]


def short_error(e: BaseException) -> str:
    parts = []
    while e is not None and len(parts) < 3:
        text = " ".join(str(e).split())
        parts.append(f"{type(e).__name__}: {text}"[:400])
        e = e.__cause__ or e.__context__
    return " <- ".join(parts)


def clip(value, n: int = 80) -> str:
    s = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return repr(s) if len(s) <= n else repr(s[: n - 3]) + "..."


# --------------------------------------------------------------------------- files and card


def find_split_files(chk: Check, d: Path, raw_rows: dict) -> dict[str, Path]:
    """{hf split name: path} for train/eval/validation(.jsonl[.gz]); checks each line is an object.

    raw_rows gets {hf split name: [parsed line, ...]}."""
    found: dict[str, Path] = {}
    counts = []
    for rlx_name, hf_name in SPLITS:
        plain, gz = d / f"{rlx_name}.jsonl", d / f"{rlx_name}.jsonl.gz"
        if plain.is_file() and gz.is_file():
            chk.problem(gz, f"both {plain.name} and {gz.name} exist; a split must be written once")
        path = plain if plain.is_file() else gz if gz.is_file() else None
        if path is None:
            if rlx_name == "train":
                chk.problem(plain, "missing: the train split is required")
            continue
        raw = path.read_bytes()
        if path.suffix == ".gz":
            try:
                raw = gzip.decompress(raw)
            except OSError as e:
                chk.problem(path, f"not gzip: {e}")
                continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            chk.problem(path, f"not UTF-8 at byte {e.start}")
            continue
        if not text:
            chk.problem(path, "empty file (a split with no rows must have no file)")
            continue
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
        else:
            chk.problem(path, "the last line does not end with \\n")
        parsed = []
        for i, line in enumerate(lines, 1):
            try:
                obj = json.loads(line)
            except ValueError as e:
                chk.problem(f"{path.name}:{i}", f"not JSON: {e}")
                continue
            if not isinstance(obj, dict):
                chk.problem(f"{path.name}:{i}", f"not a JSON object but {type(obj).__name__}")
            parsed.append(obj)
        found[hf_name] = path
        raw_rows[hf_name] = parsed
        counts.append(f"{path.name}={len(lines)}")
    chk.detail = ", ".join(counts) or "no split files"
    if chk.problems:
        raise CheckFailed
    return found


def line_counts(files: dict[str, Path]) -> dict[str, int]:
    out = {}
    for split, path in files.items():
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
        out[split] = raw.count(b"\n")
    return out


def check_card(chk: Check, d: Path, files: dict[str, Path]) -> None:
    import yaml

    card = d / "README.md"
    if not card.is_file():
        chk.problem(card, "missing: load_dataset(DIR) needs a dataset card with `configs` "
                          "(use --no-card to test the files alone)")
        raise CheckFailed
    text = card.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        chk.problem(card, "does not start with a YAML block (`---`)")
        raise CheckFailed
    end = text.find("\n---\n", 4)
    if end < 0:
        chk.problem(card, "the YAML block is not closed by `---`")
        raise CheckFailed
    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError as e:
        chk.problem(card, f"YAML does not parse: {short_error(e)}")
        raise CheckFailed from None
    configs = (meta or {}).get("configs")
    default = [c for c in configs or [] if isinstance(c, dict) and c.get("config_name") == "default"]
    if len(default) != 1:
        chk.problem(card, "`configs` has no single `config_name: default` entry")
        raise CheckFailed
    listed = {}
    for entry in default[0].get("data_files") or []:
        if not isinstance(entry, dict) or set(entry) != {"split", "path"}:
            chk.problem(card, f"data_files entry {entry!r} is not {{split, path}}")
            continue
        if entry["split"] in listed:
            chk.problem(card, f"split {entry['split']!r} is listed twice")
        listed[entry["split"]] = entry["path"]
    want = {split: path.name for split, path in files.items()}
    if listed != want:
        chk.problem(card, f"configs.data_files map {listed} but the files present need {want}")
    for split, path in listed.items():
        if not isinstance(path, str) or not (d / path).is_file():
            chk.problem(card, f"data_files path {path!r} (split {split}) does not exist")
    features = (meta.get("dataset_info") or {}).get("features") if isinstance(meta.get("dataset_info"), dict) else None
    chk.detail = (f"configs default: {', '.join(f'{s}={p}' for s, p in listed.items())}"
                  f"; features {'declared' if features else 'not declared (datasets infers them)'}")


def check_raw(chk: Check, raw_rows: dict, files: dict[str, Path], objective: str, style: str) -> None:
    """Each line as written, before `datasets` casts it to the card's features (which would turn 1 into
    True for a bool label, fill a missing key with null, or 1 into 1.0 for a float margin)."""
    required, optional = REQUIRED[objective], OPTIONAL.get(objective, ())
    text_type = list if style == "conversational" else str
    n = 0
    with_margin = 0
    for split, rows in raw_rows.items():
        for i, row in enumerate(rows):
            n += 1
            loc = where(files, split, i)
            keys = list(row)
            missing = [k for k in required if k not in row]
            extra = [k for k in keys if k not in required and k not in optional]
            if missing:
                chk.problem(loc, f"missing key(s) {missing}")
            if extra:
                chk.problem(loc, f"key(s) {extra} are not part of the {objective} type")
            for k in TEXT_KEYS:
                if k in row and not isinstance(row[k], text_type):
                    chk.problem(loc, f"{k} is a JSON {type(row[k]).__name__}, --style {style} needs "
                                     f"{'an array of messages' if text_type is list else 'a string'}")
            if "label" in row and not isinstance(row["label"], bool):
                chk.problem(loc, f"label is {json.dumps(row['label'])}, not true or false")
            if "margin" in row:
                with_margin += 1
                m = row["margin"]
                if isinstance(m, bool) or not isinstance(m, (int, float)):
                    chk.problem(loc, f"margin is {json.dumps(m)}, not a number")
                elif isinstance(m, int):
                    chk.problem(loc, f"margin is written as the integer {m}: write {m}.0 so that every reader "
                                     "(load_dataset('json') without the card, pandas) types the column as float")
    if objective == "reward" and 0 < with_margin < n:
        chk.problem(None, f"margin is on {with_margin} of {n} lines: it must be on every line or on none")
    chk.detail = f"{n} lines: keys and JSON types as {objective} {style} needs"


def load(chk: Check, d: Path, files: dict[str, Path], no_card: bool, cache: str):
    import datasets

    try:
        if no_card:
            how = "load_dataset('json', data_files=...)"
            ds = datasets.load_dataset("json", data_files={s: str(p) for s, p in files.items()},
                                       cache_dir=os.path.join(cache, "json"))
        else:
            how = "load_dataset(DIR)"
            ds = datasets.load_dataset(str(d), cache_dir=os.path.join(cache, "dir"))
    except Exception as e:  # noqa: BLE001
        chk.problem(d, f"{how} failed: {short_error(e)}")
        raise CheckFailed from None
    counts = line_counts(files)
    if sorted(ds) != sorted(counts):
        chk.problem(d, f"{how} gave splits {sorted(ds)}, the files are {sorted(counts)}")
    for split, n in counts.items():
        if split in ds and ds[split].num_rows != n:
            chk.problem(d, f"{how}[{split!r}] has {ds[split].num_rows} rows; {files[split].name} has {n} lines")
    chk.detail = f"{how}: " + ", ".join(f"{s}={ds[s].num_rows}" for s in ds)
    if chk.problems:
        raise CheckFailed
    return ds


# --------------------------------------------------------------------------- columns and rows


def feature_kind(f) -> str:
    """'messages', 'string', 'bool', 'float', or a description of something else."""
    import datasets

    if isinstance(f, datasets.Value):
        if f.dtype in ("string", "large_string"):
            return "string"
        if f.dtype == "bool":
            return "bool"
        if f.dtype in ("float16", "float32", "float64"):
            return "float"
        return f"Value({f.dtype})"
    inner = None
    if isinstance(f, list) and len(f) == 1:
        inner = f[0]
    elif isinstance(f, (datasets.List, datasets.Sequence, getattr(datasets, "LargeList", datasets.List))):
        inner = f.feature
    if isinstance(inner, dict):
        if set(inner) == {"role", "content"} and all(feature_kind(v) == "string" for v in inner.values()):
            return "messages"
        return f"list of struct {{{', '.join(sorted(inner))}}}"
    return repr(f)


def check_columns(chk: Check, ds, files, objective: str, style: str) -> None:
    want_text = "messages" if style == "conversational" else "string"
    required, optional = REQUIRED[objective], OPTIONAL.get(objective, ())
    margin_in = {}
    for split in ds:
        cols = ds[split].column_names
        missing = [c for c in required if c not in cols]
        extra = [c for c in cols if c not in required and c not in optional]
        if missing:
            chk.problem(split, f"missing column(s) {missing} for {objective} (need {list(required)})")
        if extra:
            chk.problem(split, f"column(s) {extra} are not part of the {objective} type "
                               f"(allowed: {list(required) + list(optional)})")
        feats = ds[split].features
        for c in cols:
            kind = feature_kind(feats[c])
            if c in TEXT_KEYS and kind != want_text:
                chk.problem(split, f"column {c!r} is {kind}; --style {style} needs "
                                   f"{'a list of {role, content} messages' if want_text == 'messages' else 'a string'}")
            if c == "label" and kind != "bool":
                chk.problem(split, f"column 'label' is {kind}, not bool (KTO's collator and sum(label) need bools)")
            if c == "margin" and kind != "float":
                chk.problem(split, f"column 'margin' is {kind}, not a float")
        margin_in[split] = "margin" in cols
        if "margin" in cols:
            nulls = [i for i, m in enumerate(ds[split]["margin"]) if m is None]
            for i in nulls:
                chk.problem(where(files, split, i), "margin is null: it must be on every row or on none")
            bad = [i for i, m in enumerate(ds[split]["margin"]) if m is not None and not math.isfinite(m)]
            for i in bad:
                chk.problem(where(files, split, i), "margin is not finite")
        if "label" in cols:
            for i, v in enumerate(ds[split]["label"]):
                if v is None:
                    chk.problem(where(files, split, i), "label is null")
    if objective == "reward" and len(set(margin_in.values())) > 1:
        chk.problem(None, f"margin is in some splits but not others: {margin_in}")
    first = ds[next(iter(ds))]
    typed = [f"{c}: {feature_kind(first.features[c])}" for c in ("label", "margin") if c in first.column_names]
    chk.detail = f"{{{', '.join(first.column_names)}}}, text as {want_text}" + "".join(f", {t}" for t in typed)
    if chk.problems:
        raise CheckFailed


def where(files, split, i) -> str:
    return f"{files[split].name}:{i + 1}"


def check_messages(chk, loc, key, msgs, allowed_roles) -> bool:
    ok = True
    if not isinstance(msgs, list) or not msgs:
        chk.problem(loc, f"{key} is not a non-empty message list: {clip(msgs)}")
        return False
    for j, m in enumerate(msgs):
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            chk.problem(loc, f"{key}[{j}] is not exactly {{role, content}}: {clip(m)}")
            ok = False
            continue
        if not isinstance(m["role"], str) or not isinstance(m["content"], str):
            chk.problem(loc, f"{key}[{j}] role/content are not strings: {clip(m)}")
            ok = False
            continue
        if m["role"] not in allowed_roles:
            chk.problem(loc, f"{key}[{j}] has role {m['role']!r}; expected one of {list(allowed_roles)}")
            ok = False
    return ok


def check_rows(chk: Check, ds, files, objective: str, style: str) -> None:
    conv = style == "conversational"
    n = 0
    warned_join = False
    for split in ds:
        for i, row in enumerate(ds[split]):
            n += 1
            loc = where(files, split, i)
            for k in TEXT_KEYS:
                if k in row and row[k] is None:
                    chk.problem(loc, f"{k} is null")
            if any(k in row and row[k] is None for k in TEXT_KEYS):
                continue
            if conv:
                if "prompt" in row and check_messages(chk, loc, "prompt", row["prompt"], ("system", "user")):
                    p = row["prompt"]
                    if p[-1]["role"] != "user":
                        chk.problem(loc, f"the prompt ends on {p[-1]['role']!r}: apply_chat_template needs "
                                         "the last prompt message to be user (or tool/assistant)")
                    if any(m["role"] == "system" for m in p[1:]):
                        chk.problem(loc, "a system message that is not first")
                for k in ("completion", "chosen", "rejected"):
                    if k not in row:
                        continue
                    if objective == "reward":
                        if check_messages(chk, loc, k, row[k], ROLES):
                            if row[k][-1]["role"] != "assistant":
                                chk.problem(loc, f"{k} does not end on an assistant message")
                            if not any(m["role"] == "user" for m in row[k]):
                                chk.problem(loc, f"{k} has no user message (the implicit prompt is missing)")
                            if not row[k][-1]["content"].strip():
                                chk.problem(loc, f"{k}'s assistant message is empty")
                    elif check_messages(chk, loc, k, row[k], ("assistant",)):
                        if not "".join(m["content"] for m in row[k]).strip():
                            chk.problem(loc, f"{k} is empty")
                pair = (row.get("chosen"), row.get("rejected"))
                if objective == "reward" and all(isinstance(v, list) for v in pair):
                    if pair[0][:-1] != pair[1][:-1]:
                        chk.problem(loc, "chosen and rejected do not share the same prompt messages")
            else:
                for k in TEXT_KEYS:
                    if k in row and not isinstance(row[k], str):
                        chk.problem(loc, f"{k} is not a string: {clip(row[k])}")
                for k in ("prompt", "completion", "chosen", "rejected"):
                    if isinstance(row.get(k), str) and not row[k].strip():
                        chk.problem(loc, f"{k} is empty")
                # TRL joins a standard prompt and its completion as prompt + completion, nothing between, and
                # takes the completion's tokens to start where the tokenized prompt stops being a prefix.
                p = row.get("prompt")
                for k in ("completion", "chosen", "rejected"):
                    c = row.get(k)
                    if warned_join or not (isinstance(p, str) and isinstance(c, str) and p and c):
                        continue
                    if p[-1].isspace():
                        chk.warn(f"{loc}: the prompt ends with whitespace ({clip(p[-12:], 20)}): byte-level "
                                 "tokenizers split it differently alone than before the completion, so TRL leaves "
                                 "it out of the training prompt; put the separator at the start of the "
                                 f"{k} instead")
                        warned_join = True
                    elif not c[0].isspace():
                        chk.warn(f"{loc}: TRL tokenizes prompt + {k} with nothing between them, and the prompt ends "
                                 f"{clip(p[-16:], 24)} while the {k} starts {clip(c[:16], 24)}: the two run "
                                 "together (and may merge into one token, which TRL then cuts from the prompt); "
                                 f"start the {k} with the separator, as TRL's docs do "
                                 "({\"prompt\": \"The sky is\", \"completion\": \" blue.\"})")
                        warned_join = True
            if "chosen" in row and "rejected" in row and row["chosen"] == row["rejected"]:
                chk.problem(loc, "chosen equals rejected")
    chk.detail = f"{n} rows"


# --------------------------------------------------------------------------- trl.data_utils


def check_is_conversational(chk: Check, ds, files, style: str) -> None:
    from trl.data_utils import is_conversational

    want = style == "conversational"
    n = 0
    for split in ds:
        for i, row in enumerate(ds[split]):
            n += 1
            got = is_conversational(row)
            if got != want:
                chk.problem(where(files, split, i), f"is_conversational(row) is {got}, --style {style} needs {want}")
            # is_conversational pops one arbitrary key of a set: every key alone must agree.
            for k in TEXT_KEYS:
                if k in row:
                    alone = is_conversational({k: row[k]})
                    if alone != want:
                        chk.problem(where(files, split, i), f"is_conversational({{{k!r}: ...}}) is {alone}; "
                                                             "every text column must be of the same kind")
    first_split = next(iter(ds))
    first = is_conversational(ds[first_split][0])
    chk.detail = (f"{want} on all {n} rows (the trainers decide from the first row, which is {first})"
                  if not chk.problems else "")


def keyset_probe(row: dict) -> dict:
    """The row with the same keys, each text value replaced by a minimal message list."""
    probe = {}
    for k, v in row.items():
        if k == "prompt":
            probe[k] = [{"role": "user", "content": "p"}]
        elif k in ("completion", "chosen", "rejected"):
            probe[k] = [{"role": "assistant", "content": "c"}]
        else:
            probe[k] = v
    return probe


def check_apply_chat_template(chk: Check, ds, files, objective: str, style: str, tokenizer) -> None:
    from trl.data_utils import apply_chat_template, maybe_apply_chat_template

    n = 0
    render = lambda msgs, **kw: tokenizer.apply_chat_template(msgs, tokenize=False, **kw)  # noqa: E731
    for split in ds:
        for i, row in enumerate(ds[split]):
            n += 1
            loc = where(files, split, i)
            if style == "standard":
                # TRL never templates strings: maybe_apply_chat_template must hand the row back as it is.
                out = maybe_apply_chat_template(row, tokenizer)
                if out != row:
                    chk.problem(loc, "maybe_apply_chat_template changed a standard row")
                try:
                    apply_chat_template(keyset_probe(row), tokenizer)
                except KeyError as e:
                    chk.problem(loc, f"the row's keys are not a TRL dataset type: {short_error(e)}")
                continue
            try:
                out = apply_chat_template(row, tokenizer)
            except Exception as e:  # noqa: BLE001
                chk.problem(loc, f"apply_chat_template raised {short_error(e)}")
                continue
            if "prompt" in row:
                if not out.get("prompt", "").endswith(GENERATION_PROMPT):
                    chk.problem(loc, f"the templated prompt does not end with the generation prompt: "
                                     f"{clip(out.get('prompt', '')[-40:])}")
                for k in ("completion", "chosen", "rejected"):
                    if k in row:
                        full = render(row["prompt"] + row[k])
                        if out["prompt"] + out[k] != full:
                            chk.problem(loc, f"templated prompt + {k} differs from the whole conversation")
                        if not out[k].strip():
                            chk.problem(loc, f"templated {k} is empty")
            else:  # implicit prompt
                for k in ("chosen", "rejected"):
                    if out.get(k) != render(row[k]):
                        chk.problem(loc, f"templated {k} differs from the conversation")
                if out.get("chosen") == out.get("rejected"):
                    chk.problem(loc, "templated chosen equals rejected")
            if objective == "kto" and out.get("label") is not row["label"]:
                chk.problem(loc, f"label came back as {out.get('label')!r}")
    chk.detail = (f"{n} rows templated" if style == "conversational"
                  else f"{n} rows: maybe_apply_chat_template leaves them as they are; their key set is accepted")


def check_extract_prompt(chk: Check, ds, files, objective: str, style: str) -> None:
    from trl.data_utils import maybe_extract_prompt

    n = runs_into_action = 0
    for split in ds:
        for i, row in enumerate(ds[split]):
            n += 1
            loc = where(files, split, i)
            out = maybe_extract_prompt(row)
            if objective != "reward":
                if out != row:
                    chk.problem(loc, "maybe_extract_prompt re-extracted the prompt: the prompt is not of the "
                                     "same kind (conversational or not) as chosen")
                continue
            # Reward rows have an implicit prompt: TRL takes the longest common prefix.
            if not out.get("prompt"):
                chk.problem(loc, "maybe_extract_prompt found no common prompt between chosen and rejected")
                continue
            if style == "conversational":
                if out["prompt"] != row["chosen"][:-1] or out["chosen"] != row["chosen"][-1:] \
                        or out["rejected"] != row["rejected"][-1:]:
                    chk.problem(loc, f"the extracted prompt has {len(out['prompt'])} messages, expected the "
                                     f"{len(row['chosen']) - 1} before the assistant turn")
            else:
                # Character-level: the prompt runs on into the actions' shared start ('{\n  "decision": "').
                sep = row["chosen"].rfind("\n\n")
                if sep >= 0 and len(out["prompt"]) > sep + 2:
                    runs_into_action += 1
                if out["prompt"] + out["chosen"] != row["chosen"] or out["prompt"] + out["rejected"] != row["rejected"]:
                    chk.problem(loc, "prompt + chosen/rejected does not give back the row")
    if objective != "reward":
        why = "explicit prompt of the same kind" if objective == "dpo" else "no chosen/rejected"
        chk.detail = f"no-op on all {n} rows ({why})"
    elif style == "conversational":
        chk.detail = f"{n} rows: the shared [system, user] messages come out as the prompt"
    else:
        chk.detail = (f"{n} rows: the prompt is the longest common character prefix; on {runs_into_action} it runs "
                      "past the last blank line into the actions' shared start (DPO/KTO would extract it this way; "
                      "RewardTrainer does not extract)")


def check_unpair(chk: Check, ds, files, objective: str) -> None:
    from trl.data_utils import maybe_unpair_preference_dataset

    if objective in ("sft", "kto"):
        for split in ds:
            out = maybe_unpair_preference_dataset(ds[split])
            if out is not ds[split]:
                chk.problem(split, "maybe_unpair_preference_dataset changed an unpaired dataset")
        chk.detail = "unpaired already: returned unchanged"
        return
    details = []
    for split in ds:
        src = ds[split]
        n = src.num_rows
        out = maybe_unpair_preference_dataset(src)
        want_cols = {"completion", "label"} | ({"prompt"} if "prompt" in src.column_names else set()) \
            | ({"margin"} if "margin" in src.column_names else set())
        if set(out.column_names) != want_cols:
            chk.problem(split, f"unpaired columns {out.column_names}, expected {sorted(want_cols)}")
        if out.num_rows != 2 * n:
            chk.problem(split, f"unpaired to {out.num_rows} rows from {n}; expected {2 * n}")
            continue
        labels = out["label"]
        if not all(isinstance(v, bool) for v in labels) or sum(labels) != n:
            chk.problem(split, f"labels are not {n} True and {n} False: {sum(map(bool, labels))} True")
        key = lambda p, c: json.dumps([p, c], ensure_ascii=False)  # noqa: E731
        prompts = src["prompt"] if "prompt" in src.column_names else [None] * n
        want_true = sorted(key(p, c) for p, c in zip(prompts, src["chosen"]))
        want_false = sorted(key(p, c) for p, c in zip(prompts, src["rejected"]))
        out_prompts = out["prompt"] if "prompt" in out.column_names else [None] * out.num_rows
        got_true = sorted(key(p, c) for p, c, lab in zip(out_prompts, out["completion"], labels) if lab)
        got_false = sorted(key(p, c) for p, c, lab in zip(out_prompts, out["completion"], labels) if not lab)
        if got_true != want_true or got_false != want_false:
            chk.problem(split, "unpaired completions are not chosen (True) and rejected (False)")
        details.append(f"{split} {n}->{out.num_rows} ({sum(labels)} True)")
    chk.detail = ", ".join(details)


def check_kto_labels(chk: Check, ds, batch_size: int) -> None:
    labels = ds["train"]["label"]
    pos, neg = sum(labels), len(labels) - sum(labels)
    if pos == 0 or neg == 0:
        chk.problem("train", f"only {'desirable' if neg == 0 else 'undesirable'} rows ({len(labels)}): KTO needs "
                             "both labels")
        raise CheckFailed
    # KTOTrainer reads rows in file order (train_sampling_strategy="sequential") and builds each row's KL
    # completion from its batch neighbours, so the file must be shuffled, not sorted by label or time.
    batches = [labels[k:k + batch_size] for k in range(0, len(labels), batch_size)]
    single = sum(1 for b in batches if all(b) or not any(b))
    p = pos / len(labels)
    expected = sum(p ** len(b) + (1 - p) ** len(b) for b in batches)  # under a random shuffle
    chk.detail = (f"train: {pos} desirable, {neg} undesirable; {single}/{len(batches)} sequential batches of "
                  f"{batch_size} hold one label only ({expected:.1f} expected if shuffled)")
    if single > 2 * expected + 2:
        chk.warn(f"{single} of {len(batches)} sequential train batches of {batch_size} hold one label only, "
                 f"a shuffled file would have about {expected:.1f}: are the rows sorted? KTOTrainer reads them "
                 "in file order")
    # The balance (desirable_weight / undesirable_weight) is KTOTrainer's to judge: its warning shows under train.


# --------------------------------------------------------------------------- tokenizer and model


def texts_of(ds, limit: int = 4000):
    """Training text for the tokenizer: each row's contents, and each whole standard sequence as TRL joins it
    (prompt + completion), so that merges across that boundary are learned as a real tokenizer may have."""
    for split in ds:
        for i, row in enumerate(ds[split]):
            if i >= limit:
                break
            for k in TEXT_KEYS:
                v = row.get(k)
                if isinstance(v, str):
                    yield v
                    if k != "prompt" and isinstance(row.get("prompt"), str):
                        yield row["prompt"] + v
                elif isinstance(v, list):
                    for m in v:
                        if isinstance(m, dict) and isinstance(m.get("content"), str):
                            yield m["content"]


def build_tokenizer(ds, max_length: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=[PAD, BOS, EOS, IM_START],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts_of(ds), trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, model_max_length=max_length,
    )
    hf.chat_template = CHAT_TEMPLATE
    return hf


def full_texts(row: dict, tokenizer) -> list[str]:
    """The whole sequences a trainer tokenizes for a row (prompt + each completion)."""
    out = []
    for k in ("completion", "chosen", "rejected"):
        v = row.get(k)
        if v is None:
            continue
        p = row.get("prompt")
        if isinstance(v, list):
            out.append(tokenizer.apply_chat_template((p or []) + v, tokenize=False))
        else:
            out.append((p or "") + v + EOS)
    return out


def _tokenizer(chk: Check, ds, args):
    tok = build_tokenizer(ds, args.max_length or AUTO_MAX_LENGTH_CAP)
    # EOS must be one token: TRL appends it to standard completions as text.
    ids = tok(EOS, add_special_tokens=False)["input_ids"]
    chk.require(ids == [tok.eos_token_id], None, f"EOS {EOS!r} does not tokenize to one id: {ids}")
    lengths = []
    for split in ds:
        texts = [t for row in ds[split] for t in full_texts(row, tok)]
        lengths += [len(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]]
    longest = max(lengths)
    if args.max_length is None:
        args.max_length = min(AUTO_MAX_LENGTH_CAP, max(64, -(-longest // 64) * 64))
        how = "longest row, rounded up to 64"
        if longest > AUTO_MAX_LENGTH_CAP:
            chk.warn(f"the longest row has {longest} tokens; max_length is capped at {AUTO_MAX_LENGTH_CAP}")
    else:
        how = "--max-length"
    over = sum(1 for n in lengths if n > args.max_length)
    if over:
        chk.warn(f"{over} of {len(lengths)} sequences are longer than max_length {args.max_length}: SFT truncates "
                 "them, DPO/KTO truncate them and drop rows whose prompt alone fills max_length, RewardTrainer "
                 "drops them")
    tok.model_max_length = args.max_length
    chk.detail = (f"byte-level BPE trained here, vocab {len(tok)}, eos {EOS!r}, pad {PAD!r}, ChatML-like template; "
                  f"sequences {min(lengths)}-{longest} tokens, max_length {args.max_length} ({how})")
    return tok


def tiny_config(tokenizer, max_length: int, **extra):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max(2048, 2 * max_length),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        **extra,
    )


def tiny_causal_lm(tokenizer, max_length: int, seed: int):
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_config(tokenizer, max_length))


def tiny_reward_model(tokenizer, max_length: int, seed: int):
    import torch
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    return AutoModelForSequenceClassification.from_config(tiny_config(tokenizer, max_length, num_labels=1))


# --------------------------------------------------------------------------- training


class TrlLogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = " ".join(record.getMessage().split())
        if msg not in self.messages:
            self.messages.append(msg)


def train(chk: Check, ds, objective: str, args, tokenizer, out_dir: str, kto_batch: int) -> None:
    import torch
    from transformers import PrinterCallback

    train_ds = ds["train"]
    held_out = {s: ds[s].select(range(min(args.eval_rows, ds[s].num_rows)))
                for s in ds if s != "train" and args.eval_rows > 0}
    batch = kto_batch if objective == "kto" else 2
    common = dict(
        output_dir=out_dir,
        max_steps=args.steps,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=batch,
        gradient_accumulation_steps=1,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        fp16=False,
        gradient_checkpointing=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=args.seed,
        max_length=args.max_length,
    )
    capture = TrlLogCapture()
    trl_logger = logging.getLogger("trl")
    trl_logger.addHandler(capture)
    t0 = time.monotonic()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if objective == "sft":
                from trl import SFTConfig, SFTTrainer

                trainer = SFTTrainer(model=tiny_causal_lm(tokenizer, args.max_length, args.seed),
                                     args=SFTConfig(**common), train_dataset=train_ds,
                                     eval_dataset=held_out or None, processing_class=tokenizer)
            elif objective == "dpo":
                from trl import DPOConfig, DPOTrainer

                model = tiny_causal_lm(tokenizer, args.max_length, args.seed)
                trainer = DPOTrainer(model=model, ref_model=copy.deepcopy(model), args=DPOConfig(**common),
                                     train_dataset=train_ds, eval_dataset=held_out or None,
                                     processing_class=tokenizer)
            elif objective == "kto":
                from trl import KTOConfig, KTOTrainer

                model = tiny_causal_lm(tokenizer, args.max_length, args.seed)
                weights = {}
                if args.kto_weights:
                    d, u = (float(w) for w in args.kto_weights.split(","))
                    weights = dict(desirable_weight=d, undesirable_weight=u)
                trainer = KTOTrainer(model=model, ref_model=copy.deepcopy(model),
                                     args=KTOConfig(**common, **weights),
                                     train_dataset=train_ds, eval_dataset=held_out or None,
                                     processing_class=tokenizer)
            else:
                from trl import RewardConfig, RewardTrainer

                trainer = RewardTrainer(model=tiny_reward_model(tokenizer, args.max_length, args.seed),
                                        args=RewardConfig(**common), train_dataset=train_ds,
                                        eval_dataset=held_out or None, processing_class=tokenizer)
            trainer.remove_callback(PrinterCallback)  # the summary line below says it all
            prep = time.monotonic() - t0
            check_prepared(chk, trainer.train_dataset, train_ds.num_rows, train_ds.column_names, objective)
            result = trainer.train()
            metrics = trainer.evaluate() if held_out else {}
        trl_warnings = [" ".join(str(w.message).split()) for w in caught if "/trl/" in (w.filename or "")]
    finally:
        trl_logger.removeHandler(capture)
    for msg in capture.messages + trl_warnings:
        chk.warn(f"TRL: {msg[:600]}")
    if trainer.state.global_step != args.steps:
        chk.problem(None, f"trained {trainer.state.global_step} steps, asked for {args.steps}")
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if not losses or not all(math.isfinite(x) for x in losses):
        chk.problem(None, f"training losses are not finite: {losses}")
    eval_losses = {k: v for k, v in metrics.items() if k.endswith("_loss")}
    for k, v in eval_losses.items():
        if not math.isfinite(v):
            chk.problem(None, f"{k} is {v}")
    params = sum(p.numel() for p in trainer.model.parameters())
    name = {"sft": "SFTTrainer", "dpo": "DPOTrainer", "kto": "KTOTrainer", "reward": "RewardTrainer"}[objective]
    chk.detail = (f"{name}: {trainer.state.global_step} steps, batch {batch}, loss "
                  f"{' '.join(f'{x:.4g}' for x in losses)}"
                  + (f"; evaluate() {' '.join(f'{k}={v:.4g}' for k, v in sorted(eval_losses.items()))}"
                     f" on {'+'.join(f'{s}[:{d.num_rows}]' for s, d in held_out.items())}" if held_out else "")
                  + f"; {trainer.train_dataset.num_rows}/{train_ds.num_rows} train rows after preparation"
                  + f"; {params / 1e3:.0f}k params, vocab {len(tokenizer)}; prepare {prep:.1f} s, "
                  f"train {result.metrics.get('train_runtime', float('nan')):.1f} s; torch {torch.__version__}")


def check_prepared(chk: Check, prepared, n_rows: int, source_columns, objective: str) -> None:
    """What the trainer's own preparation made of the rows."""
    kept = prepared.num_rows
    if kept == 0:
        chk.problem("train", f"the trainer's preparation left no rows of {n_rows} (longer than --max-length?)")
        raise CheckFailed
    if kept < n_rows:
        chk.warn(f"the trainer's preparation dropped {n_rows - kept} of {n_rows} train rows "
                 "(longer than --max-length)")
    cols = prepared.column_names
    if objective == "sft":
        # Prompt tokens are masked out of the loss: labels -100 (completion_only_loss, on by default).
        if "labels" in cols:
            learn = [[t != -100 for t in labels] for labels in prepared["labels"]]
        elif "completion_mask" in cols:
            learn = prepared["completion_mask"]
        else:
            chk.problem("train", f"SFT preparation made neither labels nor completion_mask (columns {cols})")
            return
        for i, m in enumerate(learn):
            if not any(m):
                chk.problem(f"train prepared row {i}", "no completion token to learn from")
            elif all(m):
                chk.problem(f"train prepared row {i}", "every token is learned: the prompt is not masked out")
    elif objective == "dpo":
        for i, (c, r) in enumerate(zip(prepared["chosen_ids"], prepared["rejected_ids"])):
            if not c or not r:
                chk.problem(f"train prepared row {i}", "empty chosen or rejected tokens")
            elif c == r:
                chk.problem(f"train prepared row {i}", "chosen and rejected tokenize the same")
    elif objective == "kto":
        for i, c in enumerate(prepared["completion_ids"]):
            if not c:
                chk.problem(f"train prepared row {i}", "empty completion tokens")
        if "KL_completion_ids" not in cols:
            chk.problem("train", "KTO preparation made no KL_completion_ids")
    else:
        for i, (c, r) in enumerate(zip(prepared["chosen_ids"], prepared["rejected_ids"])):
            if c == r:
                chk.problem(f"train prepared row {i}", "chosen and rejected tokenize the same")
        if "margin" in source_columns and "margin" not in cols:
            chk.problem("train", "RewardTrainer's preparation lost the margin column")


# --------------------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description="Check an rlx `trl` export with TRL's own code.")
    parser.add_argument("dir", type=Path)
    parser.add_argument("--objective", choices=OBJECTIVES, required=True)
    parser.add_argument("--style", choices=STYLES, required=True)
    parser.add_argument("--steps", type=int, default=2, help="optimizer steps to train (default 2; 0 skips training)")
    parser.add_argument("--no-card", action="store_true",
                        help="load with load_dataset('json', data_files=...) and ignore README.md")
    parser.add_argument("--max-length", type=int, default=None,
                        help="trainer max_length in tokens (default: the longest row, so that no row is "
                             f"truncated or dropped, but at most {AUTO_MAX_LENGTH_CAP})")
    parser.add_argument("--eval-rows", type=int, default=16,
                        help="rows of each held-out split that evaluate() runs on (default 16)")
    parser.add_argument("--kto-batch", type=int, default=4,
                        help="KTO per-device batch (default 4; at least 2, at most the train rows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kto-weights", default=None, metavar="D,U",
                        help="kto: desirable_weight,undesirable_weight for KTOConfig (the ones rlx recommends)")
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    args = parser.parse_args(argv)
    if args.steps < 0 or (args.max_length is not None and args.max_length < 16) or args.eval_rows < 0 \
            or args.kto_batch < 2:
        parser.error("--steps >= 0, --max-length >= 16, --eval-rows >= 0 and --kto-batch >= 2 are required")
    return args


def offline_environment(tmp: str) -> None:
    """Keep every consumer off the network, off any GPU and out of the user's caches."""
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HOME"] = os.path.join(tmp, "hf-home")
    os.environ["HF_DATASETS_CACHE"] = os.path.join(tmp, "hf-datasets")
    os.environ["HF_HUB_CACHE"] = os.path.join(tmp, "hf-hub")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["WANDB_DISABLED"] = "true"
    os.environ["WANDB_MODE"] = "disabled"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def main(argv=None) -> int:
    args = parse_args(argv)
    d = args.dir
    label = f"{args.objective} {args.style} {d}"
    if not d.is_dir():
        print(f"check_trl: {d}: not a directory", file=sys.stderr)
        return 1
    t_start = time.monotonic()
    run = Runner()
    with tempfile.TemporaryDirectory(prefix="rlx-check-trl-") as tmp:
        offline_environment(tmp)
        import datasets
        import huggingface_hub
        import transformers

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
        huggingface_hub.utils.logging.set_verbosity_error()
        transformers.logging.set_verbosity_error()
        import torch
        import trl.data_utils  # noqa: F401  (imported here so that no check's time includes it)

        torch.set_num_threads(max(1, os.cpu_count() or 1))

        raw_rows: dict = {}
        files_chk, files = run.run("files", find_split_files, d, raw_rows)
        ok = not files_chk.problems
        run.run("json types", check_raw, raw_rows, files, args.objective, args.style, needs=ok)
        if args.no_card:
            run.run("card", None, skip="--no-card: README.md not read")
        else:
            card_chk, _ = run.run("card", check_card, d, files, needs=ok)
            ok = ok and not card_chk.problems
        load_chk, ds = run.run("load", load, d, files, args.no_card, os.path.join(tmp, "load"), needs=ok)
        ok = ok and not load_chk.problems
        cols_chk, _ = run.run("columns", check_columns, ds, files, args.objective, args.style, needs=ok)
        ok = ok and not cols_chk.problems
        run.run("rows", check_rows, ds, files, args.objective, args.style, needs=ok)
        run.run("is_conversational", check_is_conversational, ds, files, args.style, needs=ok)
        tok_chk, tokenizer = run.run("tokenizer", _tokenizer, ds, args, needs=ok)
        ok_tok = ok and not tok_chk.problems
        run.run("apply_chat_template", check_apply_chat_template, ds, files, args.objective, args.style,
                tokenizer, needs=ok_tok)
        run.run("maybe_extract_prompt", check_extract_prompt, ds, files, args.objective, args.style, needs=ok)
        run.run("maybe_unpair_preference_dataset", check_unpair, ds, files, args.objective, needs=ok)
        kto_batch = args.kto_batch
        if ok and args.objective == "kto":
            n = ds["train"].num_rows
            if n < 2:
                run.run("kto labels", lambda c: c.problem("train", f"{n} row(s): KTO needs a batch of at least 2"))
                ok = False
            else:
                kto_batch = min(args.kto_batch, n)
                labels_chk, _ = run.run("kto labels", check_kto_labels, ds, kto_batch)
                ok = ok and not labels_chk.problems
        data_ok = not run.failed
        if args.steps == 0:
            run.run("train", None, skip="--steps 0")
        else:
            run.run("train", train, ds, args.objective, args, tokenizer, os.path.join(tmp, "out"), kto_batch,
                    needs=ok_tok and data_ok)
    elapsed = time.monotonic() - t_start
    failed = run.failed
    n_warn = sum(len(c.warnings) for c in run.checks)
    if args.strict and n_warn and not failed:
        print(f"check_trl: {label}: --strict: {n_warn} warning(s) ({elapsed:.1f} s)", file=sys.stderr)
        return 1
    if failed:
        print(f"check_trl: {label}: {len(failed)} check(s) failed: {', '.join(c.name for c in failed)} "
              f"({elapsed:.1f} s)", file=sys.stderr)
        return 1
    extra = f", {n_warn} warning(s)" if n_warn else ""
    print(f"check_trl: {label}: OK ({len(run.checks)} checks{extra}, {elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
