#!/usr/bin/env python3
"""Recompute what `rlx stats --json` reports, independently, with numpy and pandas.

    python check_stats.py stats INPUT STATS_JSON --policy P [--group-by PATH] [--bins N]
                          [--openai-dir DIR]
    python check_stats.py export JSONL_DIR EXPORT_JSON
    python check_stats.py plots PLOTS_DIR --splits train,eval --actions N [--render-dir D]

stats:  INPUT (JSON Lines, a JSON array or a {train, eval, validation} object, gzip or
        not) is read with the json module; per split (or "all") the reward percentiles
        (numpy.percentile), mean, signs and numpy.histogram(bins=N), the action counts,
        shares and mean rewards (pandas groupby), the group sizes (pandas value_counts) and,
        with --openai-dir (an openai export of INPUT with --split-ratio 0), the token
        counts of its lines by the OpenAI cookbook's count (tiktoken).
export: the reward quartiles and histogram that `rlx export --json` reports per split,
        recomputed from the exported jsonl files.
plots:  every SVG parses as XML and has the bars it should (one per histogram bin, one
        per action, one per action and split); with --render-dir each is rendered by
        headless Chromium and the screenshot must not be blank.

Prints one line per check; exits 1 on the first failure.
"""
import argparse
import gzip
import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

ACTION_KEY = {"extraction": "decision", "retrieval": "shouldRetrieve", "consolidation": "action"}
PERCENTILES = [5, 25, 50, 75, 95]


def fail(what: str) -> None:
    print(f"FAIL {what}")
    sys.exit(1)


def ok(what: str) -> None:
    print(f"ok   {what}")


def close(a: float, b: float, what: str, tol: float = 1e-9) -> None:
    if not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
        fail(f"{what}: rlx {a!r}, numpy {b!r}")


def read_input(path: Path) -> dict:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        return {"all": json.loads(text)}
    if stripped.startswith("{"):
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict) and ("train" in whole or "eval" in whole):
            return {s: whole[s] for s in ("train", "validation", "eval") if whole.get(s)}
    return {"all": [json.loads(line) for line in text.splitlines() if line.strip()]}


def label(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def at_path(example: dict, path: str):
    node = example
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def check_reward(got: dict, rewards: np.ndarray, bins: int, what: str) -> None:
    close(got["min"], float(rewards.min()), f"{what} min", 0)
    close(got["max"], float(rewards.max()), f"{what} max", 0)
    close(got["mean"], float(rewards.mean()), f"{what} mean")
    for p, v in zip(PERCENTILES, np.percentile(rewards, PERCENTILES)):
        close(got[f"p{p}"], float(v), f"{what} p{p}")
    for key, n in (("negative", (rewards < 0).sum()), ("zero", (rewards == 0).sum()),
                   ("positive", (rewards > 0).sum())):
        if got[key] != int(n):
            fail(f"{what} {key}: rlx {got[key]}, numpy {int(n)}")
    counts, edges = np.histogram(rewards, bins=bins)
    h = got["histogram"]
    if h["counts"] != [int(c) for c in counts]:
        fail(f"{what} histogram counts: rlx {h['counts']}, numpy {list(counts)}")
    for i, (a, b) in enumerate(zip(h["edges"], edges)):
        close(a, float(b), f"{what} histogram edge {i}", 1e-12)
    if len(h["edges"]) != len(edges):
        fail(f"{what}: {len(h['edges'])} edges, numpy {len(edges)}")
    ok(f"{what}: {len(rewards)} rewards, percentiles, mean, signs, {bins}-bin histogram")


def check_stats(a) -> None:
    splits = read_input(a.input)
    report = json.loads(Path(a.stats).read_text())
    if not report["success"]:
        fail(f"rlx stats failed: {report.get('error')}")
    got = {s["split"]: s for s in report["splits"]}
    if sorted(got) != sorted(splits):
        fail(f"splits: rlx {sorted(got)}, input {sorted(splits)}")
    key = ACTION_KEY[a.policy]
    tokens = None
    if a.openai_dir:
        tokens = openai_tokens(a.openai_dir)
    for name, examples in splits.items():
        s = got[name]
        if s["examples"] != len(examples):
            fail(f"{name}: rlx {s['examples']} examples, input {len(examples)}")
        df = pd.DataFrame({
            "reward": [float(e["reward"]) for e in examples],
            "action": [label(e["action"][key]) for e in examples],
        })
        check_reward(s["reward"], df["reward"].to_numpy(), a.bins, f"{name} reward")
        if s["actionKey"] != key:
            fail(f"{name}: action key {s['actionKey']}, expected {key}")
        by = df.groupby("action")["reward"].agg(["count", "mean"]).reset_index()
        by = by.sort_values(["count", "action"], ascending=[False, True], kind="stable")
        if [x["value"] for x in s["actions"]] != list(by["action"]):
            fail(f"{name} actions: rlx {[x['value'] for x in s['actions']]}, pandas {list(by['action'])}")
        for x, (_, row) in zip(s["actions"], by.iterrows()):
            if x["count"] != int(row["count"]):
                fail(f"{name} action {x['value']}: rlx {x['count']}, pandas {row['count']}")
            close(x["meanReward"], float(row["mean"]), f"{name} action {x['value']} mean reward")
            close(x["share"], row["count"] / len(df), f"{name} action {x['value']} share")
        ok(f"{name}: {len(by)} action value(s), counts, shares and mean rewards")
        if a.group_by:
            keys = []
            for e in examples:
                v = at_path(e, a.group_by)
                keys.append(label(v) if v is not None else "\0" + json.dumps(e, sort_keys=True))
            sizes = pd.Series(keys).value_counts()
            g = s["groups"]
            want = {"groups": len(sizes), "singletons": int((sizes == 1).sum()),
                    "largest": int(sizes.max()),
                    "missingKey": sum(1 for k in keys if k.startswith("\0"))}
            for k, v in want.items():
                if g[k] != v:
                    fail(f"{name} groups {k}: rlx {g[k]}, pandas {v}")
            close(g["largestShare"], sizes.max() / len(examples), f"{name} largest share")
            for p, v in zip(PERCENTILES, np.percentile(sizes.to_numpy(dtype=float), PERCENTILES)):
                close(g["sizes"][f"p{p}"], float(v), f"{name} group size p{p}")
            close(g["sizes"]["mean"], float(sizes.mean()), f"{name} group size mean")
            ok(f"{name}: {len(sizes)} group(s) of {a.group_by}, sizes")
    if tokens is not None:
        t = got["all"]["tokens"]
        arr = np.array(tokens, dtype=float)
        if t["count"] != len(tokens) or t["sum"] != float(arr.sum()):
            fail(f"tokens: rlx {t['count']} examples, {t['sum']} in all; tiktoken {len(tokens)}, {arr.sum()}")
        close(t["min"], float(arr.min()), "tokens min", 0)
        close(t["max"], float(arr.max()), "tokens max", 0)
        for p, v in zip(PERCENTILES, np.percentile(arr, PERCENTILES)):
            close(t[f"p{p}"], float(v), f"tokens p{p}")
        ok(f"tokens: {len(tokens)} lines, {int(arr.sum())} tokens, as tiktoken counts the openai lines")


def openai_tokens(d: str) -> list:
    import tiktoken

    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        os.environ["TIKTOKEN_CACHE_DIR"] = os.path.join(sys.prefix, "tiktoken-cache")
    meta = json.loads((Path(d) / "metadata.json").read_text())
    enc = tiktoken.get_encoding(meta["encoding"])
    counts = []
    for line in (Path(d) / "train.jsonl").read_text(encoding="utf-8").splitlines():
        n = 3
        for m in json.loads(line)["messages"]:
            n += 3 + sum(len(enc.encode(v, disallowed_special=())) for v in m.values() if isinstance(v, str))
        counts.append(n)
    return counts


def check_export(a) -> None:
    result = json.loads(Path(a.export_json).read_text())
    got = {r["split"]: r for r in result["stats"]["rewards"]}
    files = {"train": "train.jsonl", "validation": "validation.jsonl", "eval": "eval.jsonl"}
    present = {s: Path(a.dir) / f for s, f in files.items() if (Path(a.dir) / f).exists()}
    if sorted(got) != sorted(present):
        fail(f"reward splits: rlx {sorted(got)}, files {sorted(present)}")
    for split, path in present.items():
        rewards = np.array([float(json.loads(l)["reward"]) for l in path.read_text().splitlines() if l])
        check_reward(got[split], rewards, len(got[split]["histogram"]["counts"]), f"export {split} reward")


def render(svg: Path, out: Path) -> None:
    from PIL import Image

    png = out / (svg.stem + ".png")
    root = ET.parse(svg).getroot()
    w, h = int(float(root.get("width"))), int(float(root.get("height")))
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--screenshot={png}", f"--window-size={w},{h}", svg.resolve().as_uri()]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if run.returncode != 0 or not png.exists():
        fail(f"chromium could not render {svg}: {run.stderr[-500:]}")
    img = Image.open(png).convert("RGB")
    colors = img.getcolors(maxcolors=1 << 20) or []
    non_white = sum(n for n, c in colors if c != (255, 255, 255))
    if len(colors) < 3 or non_white < 200:
        fail(f"{png} looks blank: {len(colors)} colours, {non_white} non-white pixels")
    ok(f"{svg.name} rendered by chromium to {png} ({img.size[0]}x{img.size[1]}, {non_white} non-white pixels)")


def check_plots(a) -> None:
    d = Path(a.dir)
    splits = a.splits.split(",")
    want = {f"reward-{s}.svg": a.bins for s in splits}
    want["mean-reward-per-action.svg"] = a.actions
    want["action-counts.svg"] = a.actions * len(splits)
    found = sorted(p.name for p in d.glob("*.svg"))
    if found != sorted(want):
        fail(f"plots: {found}, expected {sorted(want)}")
    for name, bars in want.items():
        root = ET.parse(d / name).getroot()
        if root.tag != "{http://www.w3.org/2000/svg}svg":
            fail(f"{name}: root element {root.tag}")
        n = sum(1 for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("class") == "bar")
        if n != bars:
            fail(f"{name}: {n} bars, expected {bars}")
        ok(f"{name}: SVG with {n} bars")
        if a.render_dir:
            render(d / name, Path(a.render_dir))


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="what", required=True)
    s = sub.add_parser("stats")
    s.add_argument("input", type=Path)
    s.add_argument("stats")
    s.add_argument("--policy", required=True, choices=sorted(ACTION_KEY))
    s.add_argument("--group-by")
    s.add_argument("--bins", type=int, default=20)
    s.add_argument("--openai-dir")
    e = sub.add_parser("export")
    e.add_argument("dir")
    e.add_argument("export_json")
    g = sub.add_parser("plots")
    g.add_argument("dir")
    g.add_argument("--splits", required=True)
    g.add_argument("--actions", type=int, required=True)
    g.add_argument("--bins", type=int, default=20)
    g.add_argument("--render-dir")
    a = p.parse_args()
    {"stats": check_stats, "export": check_export, "plots": check_plots}[a.what](a)


if __name__ == "__main__":
    main()
