#!/usr/bin/env python3
"""Read an rlx `--format template` export the way its consumer would, with `datasets`.

    python check_template.py DIR --kind alpaca|chatml-intel --expect-counts train=N,test=M

- every line of train.jsonl / eval.jsonl is one JSON object (strict: no NaN, no
  repeated keys), written compact (what json.dumps(separators=(",", ":"),
  ensure_ascii=False) gives for it);
- load_dataset(DIR) (the card's configs) and load_dataset("json", data_files=...)
  both load, with the expected splits and row counts, and give the rows as written;
- the kind's columns are exactly there, all strings: alpaca {instruction, input,
  output, system} (LLaMA-Factory), chatml-intel {system, question, chosen, rejected}
  (Axolotl DPO, with chosen != rejected).

Prints one line per check; exits 1 on the first failure.
"""
import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from datasets import load_dataset

KINDS = {
    "alpaca": ["instruction", "input", "output", "system"],
    "chatml-intel": ["system", "question", "chosen", "rejected"],
}
FILES = {"train": "train.jsonl", "test": "eval.jsonl", "validation": "validation.jsonl"}


def fail(what: str) -> None:
    print(f"FAIL {what}")
    sys.exit(1)


def no_repeats(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"repeated key in {keys}")
    return dict(pairs)


def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("dir", type=Path)
    p.add_argument("--kind", choices=sorted(KINDS), required=True)
    p.add_argument("--expect-counts", required=True)
    a = p.parse_args()
    expect = {k: int(v) for k, v in (kv.split("=") for kv in a.expect_counts.split(","))}
    columns = KINDS[a.kind]

    written = {}
    for split, name in FILES.items():
        path = a.dir / name
        if not path.exists():
            if expect.get(split, 0):
                fail(f"{path} is missing")
            continue
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                obj = json.loads(line, object_pairs_hook=no_repeats, parse_constant=reject_constant)
            except ValueError as e:
                fail(f"{path}:{n}: {e}")
            if not isinstance(obj, dict):
                fail(f"{path}:{n}: a {type(obj).__name__}, expected an object")
            if json.dumps(obj, separators=(",", ":"), ensure_ascii=False) != line:
                fail(f"{path}:{n}: not written compact")
            if list(obj) != columns:
                fail(f"{path}:{n}: keys {list(obj)}, expected {columns}")
            for k, v in obj.items():
                if not isinstance(v, str):
                    fail(f"{path}:{n}: {k} is {type(v).__name__}, expected a string")
            if a.kind == "chatml-intel" and obj["chosen"] == obj["rejected"]:
                fail(f"{path}:{n}: chosen equals rejected")
            rows.append(obj)
        written[split] = rows
    counts = {s: len(r) for s, r in written.items()}
    if {s: n for s, n in counts.items() if n} != {s: n for s, n in expect.items() if n}:
        fail(f"row counts {counts}, expected {expect}")
    print(f"ok   lines: {counts}")

    # A fresh cache each run: datasets may otherwise serve an earlier export's rows.
    with tempfile.TemporaryDirectory(prefix="rlx-check-template-") as cache:
        by_card = load_dataset(str(a.dir), cache_dir=os.path.join(cache, "dir"))
        by_files = load_dataset(
            "json",
            data_files={s: str(a.dir / FILES[s]) for s in written if written[s]},
            cache_dir=os.path.join(cache, "json"),
        )
        check_loaded(by_card, by_files, counts, columns, written)


def check_loaded(by_card, by_files, counts, columns, written) -> None:
    for how, ds in (("load_dataset(DIR)", by_card), ('load_dataset("json")', by_files)):
        got = {s: ds[s].num_rows for s in ds}
        if got != {s: n for s, n in counts.items() if n}:
            fail(f"{how}: splits {got}, expected {counts}")
        for split in ds:
            if ds[split].column_names != columns:
                fail(f"{how}: {split} columns {ds[split].column_names}, expected {columns}")
            if ds[split].to_list() != written[split]:
                fail(f"{how}: {split} rows differ from the lines written")
        print(f"ok   {how}: {got}, columns {columns}")


if __name__ == "__main__":
    main()
