#!/usr/bin/env python
"""Conditional generation: how well rows generated with given values match the source's rows
that hold those values.

For each case, syngen learns the shared 80 % split of a table, then generates as many rows as
the training rows matching the conditions hold, with ``sample(conditions=...)``. The shared
scorer (``../shared/bench/score.py``) compares them with that matching subset (quality, and
detection AUC: can a classifier tell them apart). The same number of rows generated without
conditions is scored against the same subset, which shows how far the subset is from the
whole table. A seed-rows case gives the held-out rows' values of some columns, one generated
row per held-out row, and scores the rows against the held-out rows themselves.

Usage (from the repository root)::

    python benchmarks/conditional.py                 # writes its section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sections import write_section

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MARKER = "<!-- conditional generation: written by benchmarks/conditional.py -->"
CASES = {
    "churn": [
        {"internet_service": "No", "contract": "Two year"},
        {"contract": "Month-to-month", "senior_citizen": 1},
        {"payment_method": "Electronic check", "tenure": 1},
    ],
    "diamonds": [{"cut": "Ideal", "color": "E"}, {"carat": 1.01}, {"clarity": "IF"}],
}
SEED_COLUMNS = {"churn": ["tenure", "contract", "internet_service"], "diamonds": ["carat", "cut"]}


def score(real: Path, synthetic: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(SHARED / "bench" / "score.py"), str(real), str(synthetic)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout)
    return {"quality": result["quality"]["overall"], "detection": (result.get("detection") or {}).get("auc_synthetic")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default="/tmp/syngen-conditional")
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from syngen import Synthesizer

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for table, cases in CASES.items():
        subprocess.run(
            [
                sys.executable,
                str(SHARED / "bench" / "split.py"),
                str(SHARED / "data" / "single" / f"{table}.csv"),
                str(workdir),
            ],
            check=True,
            capture_output=True,
        )
        train = pd.read_csv(workdir / f"{table}_train.csv")
        holdout = pd.read_csv(workdir / f"{table}_holdout.csv")
        started = time.perf_counter()
        model = Synthesizer(random_seed=args.seed).fit(train)
        print(f"[{table}] fitted in {time.perf_counter() - started:.0f} s", flush=True)
        for i, given in enumerate(cases):
            subset = train[pd.concat([train[c] == v for c, v in given.items()], axis=1).all(axis=1)]
            paths = {name: workdir / f"{table}_{i}_{name}.csv" for name in ("subset", "conditioned", "free")}
            subset.to_csv(paths["subset"], index=False)
            started = time.perf_counter()
            model.sample(len(subset), random_seed=args.seed, conditions=given).to_csv(paths["conditioned"], index=False)
            seconds = time.perf_counter() - started
            model.sample(len(subset), random_seed=args.seed).to_csv(paths["free"], index=False)
            rows.append(
                {
                    "table": table,
                    "given": ", ".join(f"{c} = {v}" for c, v in given.items()),
                    "rows": len(subset),
                    "seconds": seconds,
                    "conditioned": score(paths["subset"], paths["conditioned"]),
                    "free": score(paths["subset"], paths["free"]),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        seeds = holdout[SEED_COLUMNS[table]]
        paths = {name: workdir / f"{table}_seeds_{name}.csv" for name in ("conditioned", "free")}
        started = time.perf_counter()
        model.sample(conditions=seeds, random_seed=args.seed).to_csv(paths["conditioned"], index=False)
        seconds = time.perf_counter() - started
        model.sample(len(seeds), random_seed=args.seed).to_csv(paths["free"], index=False)
        real = workdir / f"{table}_holdout.csv"
        rows.append(
            {
                "table": table,
                "given": f"held-out rows' {', '.join(SEED_COLUMNS[table])} (seed rows)",
                "rows": len(seeds),
                "seconds": seconds,
                "conditioned": score(real, paths["conditioned"]),
                "free": score(real, paths["free"]),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    (workdir / "results.json").write_text(json.dumps(rows, indent=1))
    if args.report:
        write_section(Path(args.report), MARKER, _section(rows, args))
    return 0


def _section(rows: list[dict], args) -> list[str]:
    lines = [
        "## Conditional generation",
        "",
        "Rows generated with given values against the source's training rows holding them "
        "(seed rows: against the held-out rows whose values were given). Quality is the "
        "shared scorer's SDMetrics quality (higher is better), detection the AUC of a "
        'classifier telling the two apart (0.5: it cannot). "Without" is the same number '
        "of rows generated without conditions, scored against the same rows.",
        "",
        f"Command: `python benchmarks/conditional.py --seed {args.seed}`; machine: "
        f"{platform.machine()}, Python {platform.python_version()}, 2 CPUs.",
        "",
        "| table | given | rows | quality | detection | quality without | detection without | s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        c, f = r["conditioned"], r["free"]
        lines.append(
            f"| {r['table']} | {r['given']} | {r['rows']:,} | {c['quality']:.3f} | {c['detection']:.3f} "
            f"| {f['quality']:.3f} | {f['detection']:.3f} | {r['seconds']:.1f} |"
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
