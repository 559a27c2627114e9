#!/usr/bin/env python3
"""Read an rlx parquet export with Spark, the way a cluster job would.

    python check_spark.py PARQUET_DIR HF_DIR

Starts a local SparkSession (master local[2]) and checks that
spark.read.parquet(PARQUET_DIR/data) counts as many rows as the huggingface
export of the same input has lines (train.json, validation.json, test.json),
and that each split's glob (data/{split}-*.parquet) counts that split's lines.
It also reads a nested field of the first struct column, to show that structs
come through as structs.  Prints the timings (seconds to start Spark, to read
each path, i.e. list files and read the footers' schema, and to count) to
stdout, and a last line `ok: ...`.  Problems go to stderr; exit status 1.

Run it with the venv `setup-parquet-venv.sh spark` prepares; Spark needs Java
17 or 21.  Nothing here goes to the network.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
from pathlib import Path

SPLITS = ("train", "validation", "test")


def hf_counts(hf_dir: Path) -> dict[str, int]:
    counts = {}
    for split in SPLITS:
        for ext in (".json", ".jsonl", ".json.gz", ".jsonl.gz"):
            p = hf_dir / f"{split}{ext}"
            if p.is_file():
                opener = gzip.open if ext.endswith(".gz") else open
                with opener(p, "rb") as f:
                    counts[split] = sum(1 for line in f if line.strip())
    return counts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("parquet_dir", type=Path)
    ap.add_argument("hf_dir", type=Path)
    args = ap.parse_args()
    data = (args.parquet_dir / "data").resolve()
    if not data.is_dir():
        ap.error(f"{data}: not a directory")
    want = hf_counts(args.hf_dir)
    if not want:
        ap.error(f"{args.hf_dir}: no train/validation/test .json(l) file")

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # A local session needs no network interface (else Spark warns and binds eth0).
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

    problems = []
    timings = []
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("rlx-check-spark")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    start = time.perf_counter() - t0
    print(f"spark {spark.version}: session started in {start:.2f} s")

    def read_count(label: str, path: str, expected: int):
        t = time.perf_counter()
        df = spark.read.parquet(path)
        t_read = time.perf_counter() - t
        t = time.perf_counter()
        n = df.count()
        t_count = time.perf_counter() - t
        parts = df.rdd.getNumPartitions()
        print(f"  {label}: {n} rows, {parts} partitions; read {t_read:.2f} s, count {t_count:.2f} s")
        timings.append(t_read + t_count)
        if n != expected:
            problems.append(f"{path}: Spark counts {n} rows, the huggingface export has {expected}")
        return df

    try:
        total = sum(want.values())
        df = read_count("data/", str(data), total)
        for split, n in want.items():
            read_count(f"data/{split}-*.parquet", str(data / f"{split}-*.parquet"), n)

        struct_fields = [f for f in df.schema.fields if isinstance(f.dataType, StructType) and f.dataType.fields]
        if struct_fields:
            col = struct_fields[0]
            child = col.dataType.fields[0].name
            t = time.perf_counter()
            rows = df.select(f"`{col.name}`.`{child}`").limit(1).collect()
            print(f"  {col.name}.{child} of one row: {rows[0][0]!r} ({time.perf_counter() - t:.2f} s)")
        else:
            print("  no struct column to read a nested field from")
        print(f"  schema: {df.schema.simpleString()[:300]}")
    finally:
        spark.stop()

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"FAILED: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    splits = ", ".join(f"{s}: {n}" for s, n in want.items())
    print(f"ok: spark {spark.version} counts {{{splits}}}; start {start:.2f} s, reads+counts {sum(timings):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
