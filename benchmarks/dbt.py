#!/usr/bin/env python
"""Benchmark ``syngen dbt`` on the example dbt projects as a user runs it: a copy of each
project, then ``syngen dbt --project COPY --random_seed 1 --build --dbt DBT`` (the models'
Jinja rendered, the tests mapped, the seeds learned and generated, then the project's own
``dbt build`` on a copy with the synthetic seeds). Records the whole command's wall time and
peak RSS, the tests mapped and not mapped, the rows written and dbt's verdict.

Usage (from the repository root)::

    python benchmarks/dbt.py --dbt .venv-dbt/bin/dbt

``--dbt`` defaults to SYNGEN_TEST_DBT, else ``dbt`` on the PATH. Writes ``WORKDIR/results.json``
and its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from databases import SEED, SYNGEN, run_step
from run import DEFAULT_REPORT, environment, log
from sections import write_section

MARKER = "<!-- dbt: written by benchmarks/dbt.py -->"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("dbt_shop", "dbt_traders")


def run_example(name: str, args) -> dict:
    copy = args.workdir / name
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(ROOT / "examples" / name, copy, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    command = [str(SYNGEN), "dbt", "--project", str(copy), "--random_seed", str(SEED), "--build", "--dbt", args.dbt]
    log(f"{name}: {' '.join(command[1:])}")
    measured = run_step(command, args.workdir, args.workdir / f"{name}.log")
    text = (args.workdir / f"{name}.log").read_text()
    lines = [line.strip() for line in text.splitlines()]
    written = re.search(r"Wrote (\d+) seeds \(([\d,]+) rows\)", text)
    build = re.search(r"dbt build passed: (PASS=\d+ WARN=\d+ ERROR=\d+)", text)
    return {
        **measured,
        "mapping_seconds": mapping_seconds(copy),
        "mapped": sum(line.startswith("mapped ") for line in lines),
        "not_mapped": sum(line.startswith("not mapped ") for line in lines),
        "seeds": int(written.group(1)) if written else 0,
        "rows": int(written.group(2).replace(",", "")) if written else 0,
        "build": build.group(1) if build else "failed",
    }


def mapping_seconds(project: Path) -> float:
    """Reading the project, rendering its models and mapping its tests, on their own (in
    this process, after a first run has imported what they need)."""
    from syngen.adapters.dbt import load_project, to_metadata

    to_metadata(load_project(project))
    started = time.perf_counter()
    to_metadata(load_project(project))
    return time.perf_counter() - started


def dbt_version(dbt: str) -> str:
    done = subprocess.run([dbt, "--version"], capture_output=True, text=True)
    core = re.search(r"installed:\s*(\S+)", done.stdout)
    duckdb = re.search(r"duckdb:\s*(\S+)", done.stdout)
    return f"dbt-core {core.group(1) if core else '?'}, dbt-duckdb {duckdb.group(1) if duckdb else '?'}"


def section(results: dict) -> list[str]:
    machine = results["machine"]
    lines = [
        "",
        "## dbt projects",
        "",
        f"- Command: `{results['command']}`",
        f"- Date (UTC): {results['date_utc']}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs; "
        f"{results['dbt_version']}",
        (
            f"- Step, as a user types it, in a fresh process: `syngen dbt --project COPY --random_seed {SEED} "
            "--build --dbt DBT` on a copy of each example (epochs: syngen's default, chosen from each seed's "
            "size, with early stopping). Seconds and peak RSS are the whole command's: rendering and "
            "mapping the models, learning and generating the seeds, then dbt build on a copy of the project "
            "with the synthetic seeds (interpreter start and imports included). 'mapped' and 'not mapped' "
            "count the lines `syngen dbt` prints: a mapped line may carry several tests. 'mapping s': reading "
            "the project, rendering its models, following their columns and mapping its tests, on their own."
        ),
        "",
        (
            "| project | seconds | peak RSS MB | mapping s | mapped lines | not mapped | seeds | rows written "
            "| dbt build |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, run in results["examples"].items():
        lines.append(
            f"| {name} | {run['seconds']:.1f} | {run['peak_rss_mb']:,.0f} | {run['mapping_seconds']:.2f} | "
            f"{run['mapped']} | "
            f"{run['not_mapped']} | {run['seeds']} | {run['rows']:,} | {run['build']} |"
        )
    errors = [f"- {name}: {run['error']}" for name, run in results["examples"].items() if "error" in run]
    return lines + ([""] + errors if errors else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dbt", default=os.environ.get("SYNGEN_TEST_DBT") or shutil.which("dbt") or "dbt")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-bench-dbt"))
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = {
        "command": "python benchmarks/dbt.py " + shlex.join(sys.argv[1:]).replace(args.dbt, "DBT"),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        **environment(False),
        "dbt_version": dbt_version(args.dbt),
        "examples": {name: run_example(name, args) for name in EXAMPLES},
    }
    (args.workdir / "results.json").write_text(json.dumps(results, indent=1))
    write_section(args.report, MARKER, section(results))
    log(f"wrote {args.report}")


if __name__ == "__main__":
    main()
