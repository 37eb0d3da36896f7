#!/usr/bin/env python
"""Fit time and sampling throughput of two syngen checkouts on the same tables, so that a
change to the engine is measured against the commit before it.

Each checkout runs in a fresh process with its own ``syngen`` on the path: fit with the
defaults (``random_seed=1``) on the shared 80 % split, then the best of three runs of
``sample(50_000)``; the two checkouts take turns, twice, and each keeps its best figures, so
that a busy moment of the machine does not land on one side only. Usage (from the repository root)::

    git worktree add /tmp/syngen-before <commit>
    python benchmarks/throughput.py --before /tmp/syngen-before     # writes its section of docs/benchmarks.md
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

from sections import commit_of, write_section

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MARKER = "<!-- throughput: written by benchmarks/throughput.py -->"
ROWS = 50_000
ROUNDS = 2  # each checkout measured this many times, in turn; the best of each kept
MEASURE = f"""
import json, sys, time
import pandas as pd
from syngen import Synthesizer
train = pd.read_csv(sys.argv[1])
started = time.perf_counter()
model = Synthesizer(random_seed=1).fit(train)
fit = time.perf_counter() - started
best = 0.0
for seed in range(3):
    started = time.perf_counter()
    model.sample({ROWS}, random_seed=seed)
    best = max(best, {ROWS} / (time.perf_counter() - started))
print(json.dumps({{"fit_s": fit, "rows_per_s": best}}))
"""


def measure(checkout: Path, train: Path) -> dict:
    """One checkout's figures on one table, in a process of its own started in the checkout
    (``python -c`` puts its working folder first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(train.resolve())],
        capture_output=True,
        text=True,
        env=env,
        cwd=checkout,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def split(name: str, workdir: Path) -> Path:
    """The shared 80 % split of a shared table (``split.py``), made once."""
    train = workdir / f"{name}_train.csv"
    if not train.exists():
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "bench" / "split.py"),
                str(SHARED / "data" / "single" / f"{name}.csv"),
                str(workdir),
            ],
            check=True,
            capture_output=True,
        )
    return train


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the commit to compare with")
    parser.add_argument("--datasets", default="churn,diamonds,credit")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-throughput"))
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    commits = {path: commit_of(path) for path in (args.before, REPO)}
    lines = [
        "## Fit time and sampling throughput against an earlier commit",
        "",
        f"- Command: `python benchmarks/throughput.py --before <checkout of {commits[args.before]}>`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        f"- Fit with the defaults on the shared 80 % split; sampling: best of three runs of "
        f"`sample({ROWS:,})`; the checkouts measured in turn, {ROUNDS} times, best kept.",
        "",
        f"| table | fit s {commits[args.before]} | fit s {commits[REPO]} | rows/s {commits[args.before]} "
        f"| rows/s {commits[REPO]} |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in args.datasets.split(","):
        train = split(name, args.workdir)
        runs = [(measure(args.before, train), measure(REPO, train)) for _ in range(ROUNDS)]  # alternated
        before, now = (
            {key: (min if key == "fit_s" else max)(r[i][key] for r in runs) for key in runs[0][i]} for i in (0, 1)
        )
        print(name, before, now, flush=True)
        lines.append(
            f"| {name} | {before['fit_s']:.1f} | {now['fit_s']:.1f} | {before['rows_per_s']:,.0f} "
            f"| {now['rows_per_s']:,.0f} |"
        )
    if args.report:
        write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
