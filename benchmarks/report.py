#!/usr/bin/env python
"""Benchmark the report on a big table: generate one million churn rows to CSV, then time
``report_table`` (reading both sides, measuring, drawing, writing the page).

Usage (from the repository root)::

    python benchmarks/report.py [--rows 1000000]

Writes its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import resource
import shlex
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from run import DATA_DIR, DEFAULT_REPORT, environment
from sections import write_section

MARKER = "<!-- report speed: written by benchmarks/report.py -->"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    args = parser.parse_args(argv)

    from syngen.report import report_table
    from syngen.report.page import shown
    from syngen.runs import infer_table, train_table

    work = Path(tempfile.mkdtemp(prefix="syngen-report-"))
    artifacts = work / "model_artifacts"
    train_table(str(DATA_DIR / "churn.csv"), "churn", epochs=10, random_seed=1, artifacts_dir=artifacts)
    started = time.perf_counter()
    infer_table("churn", args.rows, random_seed=1, artifacts_dir=artifacts)
    generated = time.perf_counter()
    result = report_table("churn", target="churn", artifacts_dir=artifacts)
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"generate {args.rows:,} rows: {generated - started:.1f} s; report: {done - generated:.1f} s; "
        f"page {result.path.stat().st_size / 1e6:.1f} MB; peak RSS {peak:,.0f} MB"
    )
    machine = environment(with_baselines=False)["machine"]
    lines = [
        "",
        "## Report on a big table",
        "",
        f"- Command: `python {shlex.join(['benchmarks/report.py', *argv])}`",
        f"- Date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs",
        f"- churn, {args.rows:,} synthetic rows in a CSV file (generated in {generated - started:.1f} s), "
        "against the 7,043-row source, `--target churn`",
        f"- Report (read both sides, sample, measure, draw {result.path.stat().st_size / 1e6:.1f} MB of HTML): "
        f"**{done - generated:.1f} s**; peak RSS of the whole run {peak:,.0f} MB",
        "- Headline: " + ", ".join(f"{k} {shown(k, v)}" for k, v in result.headline.items()),
    ]
    write_section(Path(args.report), MARKER, lines)
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
