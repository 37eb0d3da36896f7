#!/usr/bin/env python
"""Benchmark linked tables: train and generate every table of a metadata file with defaults,
then score each table (SDMetrics quality on its non-key columns) and every key (PK/UQ
uniqueness, FK validity, children-per-parent KS statistic against the source).

Usage (from the repository root)::

    python benchmarks/linked.py                                   # the shipped Chinook example
    python benchmarks/linked.py --metadata path/to/metadata.yaml

Writes its section at the end of ``docs/benchmarks.md`` (replacing an earlier one), after the
single-table results that ``benchmarks/run.py`` writes.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from run import DEFAULT_REPORT, REPO, environment
from sections import write_section

MARKER = "<!-- linked tables: written by benchmarks/linked.py -->"

SCORED_KINDS = {"float": "numerical", "integer": "numerical", "categorical": "categorical",
                "boolean": "categorical", "datetime": "datetime", "date": "datetime"}


def table_quality(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict, key_columns: set):
    with warnings.catch_warnings():  # the single-table report's deprecation notice
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

    columns = {c: {"sdtype": SCORED_KINDS[k]} for c, k in kinds.items()
               if k in SCORED_KINDS and c not in key_columns and c in real.columns}
    if not columns:
        return None
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(real[list(columns)], synthetic[list(columns)], {"columns": columns}, verbose=False)
    return report.get_score(), len(columns)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata", default=str(REPO / "examples" / "chinook" / "metadata.yaml"))
    parser.add_argument("--workdir", default=None, help="where models and outputs go (default: a temp folder)")
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    args = parser.parse_args(argv)

    import syngen.engine.vae  # noqa: F401  (TensorFlow, loaded before the clock)
    from scipy.stats import ks_2samp

    from syngen.adapters.files import read_table
    from syngen.metadata import load_metadata
    from syngen.keys import key_tuples
    from syngen.relational import children_per_parent, infer_tables, train_tables
    from syngen.runs import load_model

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="syngen-linked-"))
    metadata = load_metadata(args.metadata)
    started = time.perf_counter()
    train_tables(metadata, {}, artifacts_dir=workdir, log=print)
    trained = time.perf_counter()
    reports = infer_tables(metadata, {}, artifacts_dir=workdir, log=print)
    generated = time.perf_counter()
    real = {n: read_table(metadata.resolve(t.source), csv_options=t.csv_options) for n, t in metadata.tables.items()}
    synthetic = {r.table: read_table(r.output) for r in reports}

    rows, links = [], []
    for name, table in metadata.tables.items():
        key_columns = {c for k in table.keys for c in k.columns}
        scored = table_quality(real[name], synthetic[name], load_model(name, workdir).kinds, key_columns)
        unique = all(not synthetic[name][list(k.columns)].dropna().duplicated().any() for k in table.unique_keys)
        rows.append((name, len(real[name]), len(synthetic[name]), scored, unique))
        for key in table.foreign_keys:
            child = synthetic[name]
            linked = child[list(key.columns)].notna().all(axis=1)
            valid = key_tuples(child[linked], key.columns).isin(set(key_tuples(synthetic[key.parent], key.parent_columns)))
            ks = ks_2samp(children_per_parent(real[name], real[key.parent], key),
                          children_per_parent(child, synthetic[key.parent], key), method="asymp").statistic
            null_real = 1 - real[name][list(key.columns)].notna().all(axis=1).mean()
            links.append((f"{name}.{key.name} -> {key.parent}", valid.mean() if len(valid) else 1.0, ks,
                          null_real, 1 - linked.mean()))

    env = environment(with_baselines=False)
    machine = env["machine"]
    lines = ["", "## Linked tables", "",
             f"- Command: `python {shlex.join(['benchmarks/linked.py', *argv])}`",
             f"- Date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
             f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs",
             f"- Metadata: `{Path(args.metadata).resolve().relative_to(REPO) if Path(args.metadata).resolve().is_relative_to(REPO) else args.metadata}`"
             f" ({len(metadata.tables)} tables), default settings",
             f"- Train all tables: {trained - started:.1f} s; generate all tables: {generated - trained:.1f} s",
             "",
             "Quality is SDMetrics' quality report on each table's non-key columns (real vs synthetic, "
             "whole tables); keys are generated, not learned, so they are checked instead.",
             "",
             "| table | real rows | synthetic rows | quality (columns scored) | PK/UQ unique |",
             "| --- | ---: | ---: | --- | --- |"]
    for name, n_real, n_synth, scored, unique in rows:
        quality = f"{scored[0]:.3f} ({scored[1]})" if scored else "keys only"
        lines.append(f"| {name} | {n_real:,} | {n_synth:,} | {quality} | {'yes' if unique else 'NO'} |")
    lines += ["", "Children per parent: the KS statistic between the real and the synthetic numbers of "
              "child rows per parent row (0 = same distribution).", "",
              "| relation | FK values with a parent | children-per-parent KS | null share real / synthetic |",
              "| --- | ---: | ---: | --- |"]
    for relation, valid, ks, null_real, null_synth in links:
        lines.append(f"| {relation} | {valid:.1%} | {ks:.3f} | {null_real:.1%} / {null_synth:.1%} |")
    write_section(Path(args.report), MARKER, lines)
    print(f"wrote {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
