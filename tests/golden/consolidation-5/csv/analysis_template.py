#!/usr/bin/env python3
"""Analysis of the consolidation policy dataset exported by rlx.

Run it in the directory that holds the CSV files:

    python analysis_template.py

It needs pandas and matplotlib, reads every split from combined.csv, prints summaries
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
COMBINED = os.path.join(HERE, "combined.csv")
# Columns whose values are strings: read as str so "007" or "true" are not converted.
STRING_COLUMNS = ["state.scopeStats.scopeType","action.action","action.mergeStrategy","metadata.decisionId","metadata.note"]


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
    ax.set_title("Reward distribution (consolidation policy)")
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
    ax.set_title("Feature importance (consolidation policy)")
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
