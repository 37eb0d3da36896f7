#!/usr/bin/env python
"""Generation on Apache Spark against one process: rows/s for the same table, rows, seed and
batch size, on ``local[1]``, ``local[2]``, one process and ``--run_parallel``; and whether the
Spark output equals the single-process one. Each run is the ``infer`` command a user types
(Spark's start included, a few seconds), timed as a whole, plus the peak memory of the
processes it starts (the driver, Spark's JVM and its Python workers: ``/proc``, sampled).

    python benchmarks/spark.py --rows 10000000 --workdir /tmp/spark-bench   # writes its section
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from sections import write_section

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- spark: written by benchmarks/spark.py -->"
BIN = Path(sys.executable).parent


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    total, children = 0, {pid}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry.name)] = (int(fields[1]), int(fields[21]))  # parent, rss pages
            except (OSError, IndexError, ValueError):
                continue
    grown = True
    while grown:
        grown = False
        for child, (parent, _) in stats.items():
            if parent in children and child not in children:
                children.add(child)
                grown = True
    for child in children:
        total += stats.get(child, (0, 0))[1]
    return total * os.sysconf("SC_PAGE_SIZE") / 1e6


def timed(args: list[str], cwd: Path) -> tuple[float, float]:
    """Seconds and peak MB (the command and everything it starts) of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, _tree_rss_mb(process.pid))
        time.sleep(0.2)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{process.stderr.read() if process.stderr else ''}")
    return time.perf_counter() - started, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch_size", type=int, default=50_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-spark-bench"))
    parser.add_argument("--report", type=Path, default=REPO / "docs" / "benchmarks.md")
    a = parser.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    if not (a.workdir / "model_artifacts" / "resources" / "churn").exists():
        subprocess.run(
            [str(BIN / "train"), "--source", str(REPO / "examples" / "churn.csv"), "--table_name", "churn"],
            cwd=a.workdir,
            check=True,
            capture_output=True,
        )
    common = [str(BIN / "infer"), "--table_name", "churn", "--size", str(a.rows), "--random_seed", "1"]
    common += ["--batch_size", str(a.batch_size)]
    runs = {  # name: (the run's output, its own options)
        "one process": ("one.parquet", []),
        "--run_parallel (2 processes)": ("parallel.parquet", ["--run_parallel", "true"]),
        "Spark local[1]": ("spark1", ["--engine", "spark", "--spark_master", "local[1]"]),
        "Spark local[2]": ("spark2", ["--engine", "spark", "--spark_master", "local[2]"]),
    }
    # Spark's own start (JVM, session, workers, the model loaded): a run of one row
    start = timed(
        [*common[:3], "--size", "1", "--engine", "spark", "--spark_master", "local[2]", "--output", "one_row"],
        a.workdir,
    )
    subprocess.run(["rm", "-rf", str(a.workdir / "one_row")], check=True)
    figures = {}
    for name, (output, options) in runs.items():
        subprocess.run(["rm", "-rf", str(a.workdir / output)], check=True)
        figures[name] = timed(common + ["--output", output, *options], a.workdir)
        print(name, f"{figures[name][0]:.1f} s", f"{a.rows / figures[name][0]:,.0f} rows/s", flush=True)
        if name == "Spark local[2]":
            same = pd.read_parquet(a.workdir / "spark2").equals(pd.read_parquet(a.workdir / "one.parquet"))
    speedup = figures["Spark local[1]"][0] / figures["Spark local[2]"][0]
    working = (figures["Spark local[1]"][0] - start[0]) / (figures["Spark local[2]"][0] - start[0])
    lines = [
        "",
        "## Generation on Apache Spark",
        "",
        f"- Command: `python benchmarks/spark.py --rows {a.rows} --batch_size {a.batch_size}`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs; pyspark {__import__('pyspark').__version__}",
        f"- churn (`examples/churn.csv`, default training), {a.rows:,} rows in batches of "
        f"{a.batch_size:,}, seed 1; each figure is the whole `infer` command (Spark's start included) and "
        "the peak resident memory of everything it started (driver, JVM, Python workers).",
        "",
        "| run | seconds | rows/s | peak MB |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {s:.1f} | {a.rows / s:,.0f} | {mb:,.0f} |" for name, (s, mb) in figures.items()],
        "",
        f"local[2] against local[1]: {speedup:.2f} times for the whole command; {working:.2f} times for the "
        f"job, without Spark's start ({start[0]:.1f} s: a run of one row). The Spark output equals the "
        f"single-process one row for row: {'yes' if same else 'NO'}.",
        "",
        "By design each task holds one batch at a time (its rows, then its Parquet part), so an executor's memory is "
        "bounded by the batch size, not the table's: `--batch_size` sets it. Batches are independent, so "
        "a cluster's throughput grows with its cores until the storage the parts go to is the limit: at "
        f"the {a.rows / (figures['Spark local[2]'][0] - start[0]) / 2:,.0f} rows/s a core made here, 16 cores "
        "would give about 16 times that and 100 cores about 100 times, less each task's start (the model "
        "loaded, a second or less) and the storage's own limit.",
    ]
    write_section(a.report, MARKER, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
