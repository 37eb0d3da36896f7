#!/usr/bin/env python
"""Generation on Apache Spark against one process: rows/s for the same table, rows, seed and
batch size, on ``local[1]``, ``local[2]``, one process and ``--run_parallel``; and whether the
Spark output equals the single-process one. Each run is the ``infer`` command a user types
(Spark's start included, a few seconds), timed as a whole, plus the peak memory of the
processes it starts (the driver, Spark's JVM and its Python workers: ``/proc``, sampled).

Three parts: churn into a folder of Parquet parts (tasks write them); the executors' memory
at several batch sizes; Chinook's linked tables at a scale, into DuckDB (batches returned to
the command, which links and writes them).

    python benchmarks/spark.py --rows 10000000 --scale 1000 --workdir /tmp/spark-bench   # writes its section
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
from sections import write_section

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- spark: written by benchmarks/spark.py -->"
BIN = Path(sys.executable).parent


def _tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and all its descendants, and of Spark's Python workers
    among them (the executors' share), in MB."""
    children = {pid}
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                worker = b"pyspark.daemon" in (entry / "cmdline").read_bytes()
                stats[int(entry.name)] = (int(fields[1]), int(fields[21]), worker)  # parent, rss pages
            except (OSError, IndexError, ValueError):
                continue
    grown = True
    while grown:
        grown = False
        for child, (parent, _, _) in stats.items():
            if parent in children and child not in children:
                children.add(child)
                grown = True
    page = os.sysconf("SC_PAGE_SIZE") / 1e6
    found = [stats[c] for c in children if c in stats]
    return sum(s[1] for s in found) * page, sum(s[1] for s in found if s[2]) * page


def timed(args: list[str], cwd: Path) -> tuple[float, float, float]:
    """Seconds, peak MB (the command and everything it starts) and the peak MB of Spark's
    Python workers, of one command."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = workers = 0.0
    while process.poll() is None:
        total, python = _tree_rss_mb(process.pid)
        peak, workers = max(peak, total), max(workers, python)
        time.sleep(0.2)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{process.stderr.read() if process.stderr else ''}")
    return time.perf_counter() - started, peak, workers


def _same_databases(first: Path, second: Path) -> bool:
    with duckdb.connect(str(first), read_only=True) as a, duckdb.connect(str(second), read_only=True) as b:
        tables = [t for (t,) in a.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return all(
            a.execute(f'SELECT * FROM "{t}"').df().equals(b.execute(f'SELECT * FROM "{t}"').df()) for t in tables
        )


def _rows(database: Path) -> int:
    with duckdb.connect(str(database), read_only=True) as db:
        tables = [t for (t,) in db.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        return sum(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables)


def memory_by_batch(a, common: list[str]) -> list[str]:
    """The executors' peak memory (Spark's Python workers) at several batch sizes, same rows."""
    rows = ["| batch size | seconds | workers' peak MB | whole run's peak MB |", "| ---: | ---: | ---: | ---: |"]
    for batch in a.batch_sizes:
        args = [*common[:3], "--size", str(a.memory_rows), "--random_seed", "1", "--batch_size", str(batch)]
        shutil.rmtree(a.workdir / "by_batch", ignore_errors=True)
        seconds, peak, workers = timed(
            [*args, "--engine", "spark", "--spark_master", "local[2]", "--output", "by_batch"], a.workdir
        )
        print("batch", batch, f"{seconds:.1f} s", f"workers {workers:,.0f} MB", flush=True)
        rows.append(f"| {batch:,} | {seconds:.1f} | {workers:,.0f} | {peak:,.0f} |")
    return rows


def linked(a) -> list[str]:
    """Chinook's eleven tables at ``--scale``, into DuckDB: one process, --run_parallel, Spark."""
    chinook = a.workdir / "chinook"
    if not (chinook / "model_artifacts" / "resources" / "Track").exists():
        shutil.copytree(REPO / "examples" / "chinook", chinook / "data", dirs_exist_ok=True)
        subprocess.run(
            [str(BIN / "train"), "--metadata_path", "data/metadata.yaml"], cwd=chinook, check=True, capture_output=True
        )
    common = [str(BIN / "infer"), "--metadata_path", "data/metadata.yaml", "--scale", str(a.scale)]
    common += ["--random_seed", "1", "--batch_size", str(a.linked_batch_size)]
    runs = {
        "one process": ("one.duckdb", []),
        "--run_parallel (2 processes)": ("parallel.duckdb", ["--run_parallel", "true"]),
        "Spark local[1]": ("spark1.duckdb", ["--engine", "spark", "--spark_master", "local[1]"]),
        "Spark local[2]": ("spark2.duckdb", ["--engine", "spark", "--spark_master", "local[2]"]),
    }
    figures = {}
    for name, (output, options) in runs.items():
        (chinook / output).unlink(missing_ok=True)
        figures[name] = timed([*common, "--output", f"duckdb:///{output}", *options], chinook)
        print("chinook", name, f"{figures[name][0]:.1f} s", flush=True)
    rows = _rows(chinook / "one.duckdb")
    same = _same_databases(chinook / "one.duckdb", chinook / "spark2.duckdb")
    return [
        f"Chinook (`examples/chinook`, eleven linked tables, default training) at `--scale {a.scale}`: "
        f"{rows:,} rows in all, into DuckDB, batches of {a.linked_batch_size:,}, seed 1. On Spark the tasks make "
        "the batches and the command links and writes them, as a local run does.",
        "",
        "| run | seconds | rows/s | peak MB |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {s:.1f} | {rows / s:,.0f} | {mb:,.0f} |" for name, (s, mb, _) in figures.items()],
        "",
        f"local[2] against local[1]: {figures['Spark local[1]'][0] / figures['Spark local[2]'][0]:.2f} times. "
        f"Every table on Spark equals the one-process run's row for row: {'yes' if same else 'NO'}.",
        "",
        "Linked tables go slower than one table: a child is generated given its parent row (its model's "
        "context), each row choosing among 64 latent codes decoded for it (`engine/conditions.py`). At "
        f"{rows / figures['one process'][0]:,.0f} rows/s, Chinook at scale 1,000 ({rows * 1000 / a.scale / 1e6:.1f} M "
        f"rows) would take about {rows * 1000 / a.scale / (rows / figures['one process'][0]) / 3600:.1f} hours a run "
        "on this machine, so this benchmark runs a smaller scale. On Spark the batches are made in parallel, "
        "but this process links and writes every row (what children need of their parents stays here, as "
        "in a local run), which caps the gain.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch_size", type=int, default=50_000)
    parser.add_argument(
        "--batch_sizes", type=lambda v: [int(x) for x in v.split(",")], default=[10_000, 50_000, 200_000]
    )
    parser.add_argument("--memory_rows", type=int, default=2_000_000, help="rows of each run at a batch size")
    parser.add_argument("--scale", type=float, default=1000, help="Chinook's scale (0: leave the linked part out)")
    parser.add_argument(
        "--linked_batch_size",
        type=int,
        default=5000,
        help="Chinook's batches: most of its tables are one batch of 50,000",
    )
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
        f"- Command: `python benchmarks/spark.py --rows {a.rows} --batch_size {a.batch_size} --scale {a.scale:g} "
        f"--linked_batch_size {a.linked_batch_size}`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs; pyspark {__import__('pyspark').__version__}",
        f"- churn (`examples/churn.csv`, default training), {a.rows:,} rows in batches of "
        f"{a.batch_size:,}, seed 1; each figure is the whole `infer` command (Spark's start included) and "
        "the peak resident memory of everything it started (driver, JVM, Python workers).",
        "",
        "| run | seconds | rows/s | peak MB |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {s:.1f} | {a.rows / s:,.0f} | {mb:,.0f} |" for name, (s, mb, _) in figures.items()],
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
        "",
        f"The executors' memory at several batch sizes ({a.memory_rows:,} churn rows, local[2], into parts; "
        "workers: Spark's Python worker processes, where the batches are made):",
        "",
        *memory_by_batch(a, common),
    ]
    if a.scale:
        lines += ["", *linked(a)]
    write_section(a.report, MARKER, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
