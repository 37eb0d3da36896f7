#!/usr/bin/env python
"""Benchmark writing generated rows into databases: rows/s into DuckDB and PostgreSQL for a
one-million-row table, and peak memory with a batch size set, at two sizes (it must not grow
with the size: batches stream from the model into the database).

Usage (from the repository root)::

    python benchmarks/writes.py --postgres postgresql+psycopg://user@127.0.0.1:5432/db

Each measurement runs in a fresh process (so its peak RSS is its own): generating only (rows
consumed, nothing written), generating into a DuckDB file, and into PostgreSQL. Writing speed
is the rows divided by the time a run took beyond generating alone. Writes its section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from run import DATA_DIR, DEFAULT_REPORT, environment
from sections import write_section

MARKER = "<!-- database writes: written by benchmarks/writes.py -->"
TABLE = "churn"
TARGETS = ("generate only", "duckdb", "postgresql")
RESULT = "@@writes "


def measure(artifacts: str, target: str, size: int, batch_size: int, location: str | None) -> dict:
    """One run in this process: generate ``size`` rows to ``target``; seconds and peak RSS."""
    import syngen.engine.vae  # noqa: F401  (TensorFlow, loaded before the clock)
    from syngen import artifacts as layout
    from syngen.runs import generate_batches, infer_table, load_model

    started = time.perf_counter()
    if target == "generate only":
        model = load_model(TABLE, artifacts)
        rows = sum(
            len(b) for b in generate_batches(model, layout.model_dir(TABLE, artifacts), size, 1, batch_size, False)
        )
    else:
        rows = infer_table(
            TABLE,
            size,
            batch_size=batch_size,
            random_seed=1,
            output=location,
            if_exists="replace",
            artifacts_dir=artifacts,
        ).rows
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"target": target, "size": size, "rows": rows, "seconds": seconds, "peak_rss_mb": peak_mb}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SYNGEN_TEST_POSTGRES_URL"),
        help="SQLAlchemy URL of a PostgreSQL database to write into (tables replaced)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    parser.add_argument("--batch-size", type=int, default=50_000)
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    parser.add_argument("--one", nargs=4, metavar=("ARTIFACTS", "TARGET", "SIZE", "LOCATION"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        artifacts, target, size, location = args.one
        print(RESULT + json.dumps(measure(artifacts, target, int(size), args.batch_size, location)), flush=True)
        return 0
    if not args.postgres:
        parser.error("give --postgres URL (or set SYNGEN_TEST_POSTGRES_URL)")

    from syngen.runs import train_table

    work = Path(tempfile.mkdtemp(prefix="syngen-writes-"))
    artifacts = str(work / "model_artifacts")
    trained = train_table(str(DATA_DIR / f"{TABLE}.csv"), TABLE, epochs=10, random_seed=1, artifacts_dir=artifacts)
    print(f"trained {TABLE} ({trained.rows:,} rows) in {trained.seconds:.1f} s", flush=True)
    locations = {"generate only": "-", "duckdb": f"duckdb:///{work / 'out.duckdb'}", "postgresql": args.postgres}
    results = []
    for size in args.sizes:
        for target in TARGETS:
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--batch-size",
                    str(args.batch_size),
                    "--one",
                    artifacts,
                    target,
                    str(size),
                    locations[target],
                ],
                capture_output=True,
                text=True,
                cwd=work,
            )
            line = next((text for text in done.stdout.splitlines() if text.startswith(RESULT)), None)
            if line is None:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            results.append(json.loads(line[len(RESULT) :]))
            r = results[-1]
            print(
                f"{target:>14} {size:>9,} rows: {r['seconds']:6.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB", flush=True
            )

    machine = environment(with_baselines=False)["machine"]
    shown_argv = ["URL" if a == args.postgres else a for a in argv]  # a URL may hold a password
    lines = [
        "",
        "## Writing generated rows into databases",
        "",
        f"- Command: `python {shlex.join(['benchmarks/writes.py', *shown_argv])}`"
        + ("" if "--postgres" in argv else " (PostgreSQL URL from SYNGEN_TEST_POSTGRES_URL)"),
        f"- Date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs; "
        "PostgreSQL 15 on 127.0.0.1 (fsync off), DuckDB file on local disk",
        f"- Table: {TABLE} (20 columns) from a model trained 10 epochs; `--batch_size {args.batch_size}`; "
        "each run in a fresh process (peak RSS includes TensorFlow)",
        "- Write rows/s: rows divided by the run's time beyond generating alone",
        "",
        "| target | rows | seconds | rows/s end to end | write rows/s | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    alone = {r["size"]: r["seconds"] for r in results if r["target"] == "generate only"}
    for r in results:
        extra = r["seconds"] - alone[r["size"]]
        write = "-" if r["target"] == "generate only" else (f"{r['rows'] / extra:,.0f}" if extra > 0 else "n/a")
        lines.append(
            f"| {r['target']} | {r['rows']:,} | {r['seconds']:.1f} | {r['rows'] / r['seconds']:,.0f} | "
            f"{write} | {r['peak_rss_mb']:,.0f} MB |"
        )
    write_section(Path(args.report), MARKER, lines)
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
