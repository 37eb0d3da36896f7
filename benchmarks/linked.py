#!/usr/bin/env python
"""Benchmark linked tables: train and generate every table of a metadata file with defaults,
then score each table (SDMetrics quality on its non-key columns) and every key (PK/UQ
uniqueness, FK validity, children-per-parent KS statistic against the source).

With ``--with-hma``, SDV's HMA learns the same tables in the same run, and both tools'
tables are scored alike: the shared multi-table scorer (``../shared/bench/score_multi.py``:
SDMetrics' multi-table quality, intertable trends among it) and the rules across tables
that every linked source row keeps (a child column equal to its parent row's; a child
value never below its parent row's), as the share of generated child rows keeping each.

Usage (from the repository root)::

    python benchmarks/linked.py                                   # the shipped Chinook example
    python benchmarks/linked.py --metadata path/to/metadata.yaml --with-hma
    python benchmarks/linked.py --metadata tests/fixtures/northwind.yaml \
        --database sqlite:///../shared/data/relational/northwind.sqlite \
        --tables Customers,Orders,"Order Details",Products,Categories --with-hma

SDV's public HMA refuses a schema of more than five tables or more than two levels of
parents, so ``--tables`` learns a part of the metadata file (links to tables left out are
dropped, their columns kept); ``--database`` reads every table from one database instead of
the files the metadata names.

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
from run import DEFAULT_REPORT, REPO, SHARED, environment
from sections import write_section

MARKER = "<!-- linked tables: written by benchmarks/linked.py -->"

SCORE_MULTI = SHARED / "bench" / "score_multi.py"
SCORED_KINDS = {
    "float": "numerical",
    "integer": "numerical",
    "categorical": "categorical",
    "boolean": "categorical",
    "datetime": "datetime",
    "date": "datetime",
}


def table_quality(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict, key_columns: set):
    with warnings.catch_warnings():  # the single-table report's deprecation notice
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

    columns = {
        c: {"sdtype": SCORED_KINDS[k]}
        for c, k in kinds.items()
        if k in SCORED_KINDS and c not in key_columns and c in real.columns
    }
    if not columns:
        return None
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(real[list(columns)], synthetic[list(columns)], {"columns": columns}, verbose=False)
    return report.get_score(), len(columns)


def part_of(path: Path, tables: str | None, database: str | None, workdir: Path) -> Path:
    """A metadata file in ``workdir`` holding ``tables`` of ``path`` only (links to the others
    dropped), each read from ``database`` if given; sources stay where they were."""
    import yaml

    from syngen.adapters.sql import is_database_url

    document = yaml.safe_load(path.read_text())
    names = [n.strip() for n in tables.split(",")] if tables else [n for n in document if n != "global"]
    unknown = [n for n in names if n not in document]
    if unknown:
        raise SystemExit(f"{path}: no table {unknown[0]!r}")
    part = {"global": document["global"]} if "global" in document else {}
    for name in names:
        table = dict(document[name])
        table["keys"] = {
            k: v
            for k, v in (table.get("keys") or {}).items()
            if v.get("type") != "FK" or v["references"]["table"] in names
        }
        source = database or table.get("source")
        table["source"] = source if is_database_url(source) else str((path.parent / source).resolve())
        part[name] = table
    written = workdir / "metadata.yaml"
    written.write_text(yaml.safe_dump(part, sort_keys=False, allow_unicode=True))
    return written


def _linked_pairs(metadata, real: dict):
    """Per FK to another table: the child table's name, the FK, each child row's parent row,
    and the non-key columns of the child and of the parent."""
    from syngen.linked.parents import parent_rows

    for name, table in metadata.tables.items():
        own = {c for k in table.keys for c in k.columns}
        for key in table.foreign_keys:
            if key.parent == name:
                continue
            child, parent = real[name], real[key.parent]
            theirs = {c for k in metadata.tables[key.parent].keys for c in k.columns}
            rows = parent_rows(child, parent, key.columns, key.parent_columns)
            yield (
                name,
                key,
                rows,
                [c for c in child.columns if c not in own],
                [c for c in parent.columns if c not in theirs],
            )


def cross_table_rules(metadata, real: dict) -> list[tuple[str, str, str, str, str]]:
    """Rules every linked source child row keeps with its parent row: (child table, FK,
    child column, parent column, "equals" or "not below")."""
    from syngen.linked.parents import copied_columns

    rules = []
    for name, key, rows, columns, parent_columns in _linked_pairs(metadata, real):
        child, parent = real[name], real[key.parent]
        equal = copied_columns(child, parent, rows, columns, parent_columns)
        rules += [(name, key.name, c, p, "equals") for c, p in equal.items()]
        for c in columns:
            for p in (p for p in parent_columns if p != equal.get(c)):
                share = _not_below(child[c], parent[p], rows)
                if share is not None and share == 1.0:
                    rules.append((name, key.name, c, p, "not below"))
    return rules


def _comparable(values: pd.Series) -> pd.Series | None:
    """Numbers, or dates as timestamps; None for other columns."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype(float)
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]").astype("int64").where(values.notna()).astype(float)
    return None


def _not_below(child: pd.Series, parent: pd.Series, rows) -> float | None:
    """The share of child rows with a parent and both values whose value is at least the
    parent's; None where they are not comparable, or the parent's never exceeds any child's."""
    import numpy as np

    a, b = _comparable(child), _comparable(parent)
    if a is None or b is None or (a.dtype != b.dtype):
        return None
    linked = rows >= 0
    x, y = a.to_numpy()[linked], b.to_numpy()[rows[linked]]
    both = np.isfinite(x) & np.isfinite(y)
    if both.sum() < 10 or np.nanmax(y) <= np.nanmin(x):
        return None
    return float(np.mean(x[both] >= y[both]))


def totals_rules(metadata, real: dict) -> list:
    """Parent columns that total their children in the source (``linked.aggregates``: a
    count, a sum of a child column or of a product of two, in 99% of the parent rows)."""
    from syngen.linked.aggregates import find_aggregates

    found = []
    for name, key, rows, columns, parent_columns in _linked_pairs(metadata, real):
        found += find_aggregates(real[key.parent], real[name], rows, parent_columns, columns, name, key.name)
    return found


def totals_held(metadata, totals: list, tables: dict) -> list[float]:
    """For each total, the share of ``tables``' parent rows whose value is their children's
    total within a cent."""
    import numpy as np

    from syngen.linked.parents import parent_rows

    shares = []
    for a in totals:
        key = next(k for k in metadata.tables[a.child].foreign_keys if k.name == a.key)
        child, parent = tables[a.child], tables[key.parent]
        rows = parent_rows(child, parent, key.columns, key.parent_columns)
        numbers = {c: pd.to_numeric(child[c], errors="coerce").to_numpy(dtype=float) for c in a.of}
        made = a.values(rows, numbers, len(parent))
        kept = pd.to_numeric(parent[a.column], errors="coerce").to_numpy(dtype=float)
        shares.append(float(np.mean(np.abs(made - kept) <= 0.01 + 1e-9)) if len(parent) else float("nan"))
    return shares


def trends_without(real_dir: Path, synthetic_dir: Path, keys: dict, anew: dict[str, set[str]]) -> str:
    """SDMetrics' intertable trends over the pairs in which neither column is one syngen
    makes anew (identifying, free text, or of rare values only): those pairs can agree with
    the source's only where a tool writes the source's own values back. With how many of
    the pairs scored these are."""
    import numpy as np

    sys.path.insert(0, str(SCORE_MULTI.parent))
    from score_multi import build_metadata
    from sdmetrics.reports.multi_table import QualityReport

    real = {t: pd.read_csv(real_dir / f"{t}.csv") for t in keys["tables"]}
    synthetic = {t: pd.read_csv(synthetic_dir / f"{t}.csv") for t in keys["tables"]}
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(real, synthetic, build_metadata(keys, real), verbose=False)
    details = report.get_details("Intertable Trends")
    scored = details[details["Score"].notna()] if len(details) else details
    kept = [
        not (
            {r["Column 1"]} & anew.get(r["Parent Table"], set()) or {r["Column 2"]} & anew.get(r["Child Table"], set())
        )
        for _, r in scored.iterrows()
    ]
    scores = scored["Score"][kept] if len(scored) else scored
    if not len(scores):
        return "n/a"
    return f"{np.mean(scores):.3f} ({len(scores)} of {len(scored)} pairs)"


def rules_held(metadata, rules, tables: dict) -> list[float]:
    """For each rule, the share of ``tables``' child rows with a parent that keep it."""
    from syngen.linked.parents import parent_rows

    shares = []
    for name, key_name, column, parent_column, kind in rules:
        key = next(k for k in metadata.tables[name].foreign_keys if k.name == key_name)
        child, parent = tables[name], tables[key.parent]
        rows = parent_rows(child, parent, key.columns, key.parent_columns)
        if kind == "not below":
            share = _not_below(child[column], parent[parent_column], rows)
        else:
            linked = rows >= 0
            a = child[column][linked].reset_index(drop=True)
            b = parent[parent_column].iloc[rows[linked]].reset_index(drop=True)
            same = (a.astype(str) == b.astype(str)) | (a.isna() & b.isna())
            if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                same |= (a.astype(float) - b.astype(float)).abs() < 1e-9
            share = float(same.mean()) if len(same) else None
        shares.append(share if share is not None else float("nan"))
    return shares


def keys_json(metadata, date_formats: dict[str, dict[str, str]]) -> dict:
    """The scorer's metadata: one-column primary keys, and FKs of one column onto them (no
    self-reference: HMA and SDMetrics refuse a table that is its own parent); the text date
    columns with their formats (the scorer's guess, ISO with a time and an offset, fails on
    dates alone, and SDMetrics then leaves every pair of such a column unscored)."""
    tables, relationships = {}, []
    for name, table in metadata.tables.items():
        pk = table.primary_key
        tables[name] = {"primary_key": pk.columns[0]} if pk is not None and len(pk.columns) == 1 else {}
        if date_formats.get(name):
            tables[name]["columns"] = {
                c: {"sdtype": "datetime", "datetime_format": f} for c, f in date_formats[name].items()
            }
    for name, table in metadata.tables.items():
        for key in table.foreign_keys:
            if (
                len(key.columns) == 1
                and key.parent != name
                and tables[key.parent].get("primary_key") == key.parent_columns[0]
            ):
                relationships.append(
                    {
                        "parent_table_name": key.parent,
                        "parent_primary_key": key.parent_columns[0],
                        "child_table_name": name,
                        "child_foreign_key": key.columns[0],
                    }
                )
    return {"tables": tables, "relationships": relationships}


def run_hma(metadata, real: dict, keys: dict, seed: int = 0) -> tuple[dict, float, float]:
    """SDV HMA with its defaults on the real tables: its tables, fit and sample seconds."""
    from sdv.metadata import Metadata
    from sdv.multi_table import HMASynthesizer

    frames = {n: f.copy() for n, f in real.items()}
    sdv_metadata = Metadata.detect_from_dataframes(frames)
    for name, entry in keys["tables"].items():
        for column in frames[name].columns:  # keys the scorer does not take stay plain ids
            if any(column in k.columns for k in metadata.tables[name].keys):
                sdv_metadata.update_column(column, sdtype="id", table_name=name)
        if entry.get("primary_key"):
            sdv_metadata.set_primary_key(entry["primary_key"], table_name=name)
    for relation in list(sdv_metadata.relationships):
        sdv_metadata.remove_relationship(relation["parent_table_name"], relation["child_table_name"])
    for r in keys["relationships"]:
        sdv_metadata.add_relationship(
            r["parent_table_name"], r["child_table_name"], r["parent_primary_key"], r["child_foreign_key"]
        )
    synthesizer = HMASynthesizer(sdv_metadata)
    started = time.perf_counter()
    synthesizer.fit(frames)
    fitted = time.perf_counter()
    children = {r["child_table_name"] for r in keys["relationships"]}
    main = next(n for n in frames if n not in children)  # as many rows as the source (scale 1)
    sampled = synthesizer.sample(len(frames[main]), main_table_name=main)
    return sampled, fitted - started, time.perf_counter() - fitted


def score_multi(real_dir: Path, synthetic: dict, keys_path: Path, folder: Path) -> dict:
    import json
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in synthetic.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    done = subprocess.run(
        [sys.executable, str(SCORE_MULTI), str(real_dir), str(folder), str(keys_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metadata", default=str(REPO / "examples" / "chinook" / "metadata.yaml"))
    parser.add_argument("--workdir", default=None, help="where models and outputs go (default: a temp folder)")
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    parser.add_argument("--with-hma", action="store_true", help="also run SDV HMA with its defaults, and score both")
    parser.add_argument("--tables", help="comma-separated tables of the metadata file to learn (default: all)")
    parser.add_argument("--database", help="a database URL every table is read from (default: the metadata's sources)")
    args = parser.parse_args(argv)

    from scipy.stats import ks_2samp

    import syngen.engine.vae  # noqa: F401  (TensorFlow, loaded before the clock)
    from syngen.adapters.sources import read_source
    from syngen.keys import key_tuples
    from syngen.linked.generate import infer_tables
    from syngen.linked.links import children_per_parent
    from syngen.linked.train import train_tables
    from syngen.metadata import load_metadata
    from syngen.runs import load_model, schema_only

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="syngen-linked-"))
    workdir.mkdir(parents=True, exist_ok=True)
    metadata = load_metadata(
        part_of(Path(args.metadata), args.tables, args.database, workdir)
        if args.tables or args.database
        else args.metadata
    )
    started = time.perf_counter()
    train_tables(metadata, {}, artifacts_dir=workdir, log=print)
    trained = time.perf_counter()
    reports = infer_tables(metadata, {}, artifacts_dir=workdir, log=print)
    generated = time.perf_counter()
    real = {
        n: read_source(metadata.resolve(t.source), n, csv_options=t.csv_options).frame
        for n, t in metadata.tables.items()
    }
    synthetic = {r.table: read_source(r.output, r.table).frame for r in reports}
    models = {name: load_model(name, workdir) for name in metadata.tables if not schema_only(name, workdir)}

    rows, links = [], []
    for name, table in metadata.tables.items():
        key_columns = {c for k in table.keys for c in k.columns}
        kinds = models[name].kinds if name in models else {}
        scored = table_quality(real[name], synthetic[name], kinds, key_columns)
        unique = all(not synthetic[name][list(k.columns)].dropna().duplicated().any() for k in table.unique_keys)
        rows.append((name, len(real[name]), len(synthetic[name]), scored, unique))
        for key in table.foreign_keys:
            child = synthetic[name]
            linked = child[list(key.columns)].notna().all(axis=1)
            valid = key_tuples(child[linked], key.columns).isin(
                set(key_tuples(synthetic[key.parent], key.parent_columns))
            )
            ks = ks_2samp(
                children_per_parent(real[name], real[key.parent], key),
                children_per_parent(child, synthetic[key.parent], key),
                method="asymp",
            ).statistic
            null_real = 1 - real[name][list(key.columns)].notna().all(axis=1).mean()
            links.append(
                (
                    f"{name}.{key.name} -> {key.parent}",
                    valid.mean() if len(valid) else 1.0,
                    ks,
                    null_real,
                    1 - linked.mean(),
                )
            )

    comparison = (
        compare(metadata, real, synthetic, models, workdir, trained - started, generated - trained)
        if args.with_hma
        else []
    )
    env = environment(with_baselines=args.with_hma)
    machine = env["machine"]
    metadata_path = Path(args.metadata).resolve()
    shown_metadata = metadata_path.relative_to(REPO) if metadata_path.is_relative_to(REPO) else args.metadata
    lines = [
        "",
        "## Linked tables",
        "",
        f"- Command: `python {shlex.join(['benchmarks/linked.py', *argv])}`",
        f"- Date (UTC): {datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs",
        f"- Metadata: `{shown_metadata}` ({len(metadata.tables)} tables), default settings",
        f"- Train all tables: {trained - started:.1f} s; generate all tables: {generated - trained:.1f} s",
        "",
        "Quality is SDMetrics' quality report on each table's non-key columns (real vs synthetic, "
        "whole tables); keys are generated, not learned, so they are checked instead. A column whose "
        "values each appear fewer times than the rare threshold (an artist's or a genre's name) is made "
        "anew so that no rare real value is copied: its quality is near 0 by design, and a table of "
        "personal data only (customers) has no column scored.",
        "",
        "| table | real rows | synthetic rows | quality (columns scored) | PK/UQ unique |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for name, n_real, n_synth, scored, unique in rows:
        quality = f"{scored[0]:.3f} ({scored[1]})" if scored else "keys only"
        lines.append(f"| {name} | {n_real:,} | {n_synth:,} | {quality} | {'yes' if unique else 'NO'} |")
    lines += [
        "",
        "Children per parent: the KS statistic between the real and the synthetic numbers of "
        "child rows per parent row (0 = same distribution).",
        "",
        "| relation | FK values with a parent | children-per-parent KS | null share real / synthetic |",
        "| --- | ---: | ---: | --- |",
    ]
    for relation, valid, ks, null_real, null_synth in links:
        lines.append(f"| {relation} | {valid:.1%} | {ks:.3f} | {null_real:.1%} / {null_synth:.1%} |")
    if args.with_hma:  # one section per part compared, beside the whole-database one
        part = f"{Path(args.metadata).name}: {args.tables or 'all tables'}"
        marker = f"<!-- linked tables against SDV HMA, {part}: written by benchmarks/linked.py -->"
        lines[1] = f"## Linked tables against SDV HMA: {part}"
    else:
        marker = MARKER
    write_section(Path(args.report), marker, lines + comparison)
    print(f"wrote {args.report}")
    return 0


def compare(metadata, real, synthetic, models: dict, workdir: Path, train_s: float, generate_s: float) -> list[str]:
    """Markdown lines comparing syngen and HMA on the shared multi-table scorer and on the
    rules across tables."""
    import json

    formats = {
        name: {c: f for c, f in model.text_formats.items() if c in real[name].columns} for name, model in models.items()
    }
    keys = keys_json(metadata, formats)
    anew = {name: model.made_anew | {c.name for c in model.codecs if not c.learned} for name, model in models.items()}
    keys_path = workdir / "keys.json"
    keys_path.write_text(json.dumps(keys))
    real_dir = workdir / "real"
    real_dir.mkdir(exist_ok=True)
    for name, frame in real.items():
        frame.to_csv(real_dir / f"{name}.csv", index=False)
    hma, hma_fit, hma_sample = run_hma(metadata, real, keys)
    tools = {"syngen": (synthetic, train_s, generate_s), "SDV HMA": (hma, hma_fit, hma_sample)}
    scores = {
        tool: score_multi(real_dir, tables, keys_path, workdir / tool.replace(" ", "_"))
        for tool, (tables, _, _) in tools.items()
    }
    trends = {tool: trends_without(real_dir, workdir / tool.replace(" ", "_"), keys, anew) for tool in tools}
    rules = cross_table_rules(metadata, real)
    held = {tool: rules_held(metadata, rules, tables) for tool, (tables, _, _) in tools.items()}
    totals = totals_rules(metadata, real)
    totalled = {tool: totals_held(metadata, totals, tables) for tool, (tables, _, _) in tools.items()}
    lines = [
        "",
        "### Against SDV HMA",
        "",
        "Both tools learn the same tables with their defaults in this run; the shared scorer "
        "(`../shared/bench/score_multi.py`) scores both. Rules across tables: every rule that all "
        "linked source child rows keep with their parent row, and the share of each tool's child rows "
        "keeping it. syngen makes identifying and free-text columns anew (names, addresses, product "
        "names), so their pairs with a child's columns share no value with the source's, and SDMetrics' "
        "intertable trends score such pairs near 0; HMA learns them as categories and writes the "
        "source's own values back. So intertable trends are given twice: over every pair the scorer "
        "takes, and over the pairs in which syngen makes neither column anew.",
        "",
        "| tool | train s | generate s | multi-table quality | intertable trends | intertable trends, "
        "columns not made anew | cardinality | children-per-parent KS (mean, max) | rules across tables "
        "held (mean, min) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for tool, (_, fit_s, sample_s) in tools.items():
        multi = scores[tool].get("sdmetrics_multi", {})
        properties = multi.get("properties", {})
        ks = [
            r["cardinality_ks_statistic"]
            for r in scores[tool].get("relationships", [])
            if "cardinality_ks_statistic" in r
        ]
        shares = [h for h in held[tool] if h == h]
        lines.append(
            f"| {tool} | {fit_s:.1f} | {sample_s:.1f} | {_figure(multi, 'quality_overall')} | "
            f"{_figure(properties, 'Intertable Trends')} | {trends[tool]} | "
            f"{_figure(properties, 'Cardinality')} | "
            f"{sum(ks) / max(len(ks), 1):.3f}, {max(ks, default=0):.3f} | "
            + (f"{sum(shares) / len(shares):.1%}, {min(shares):.1%} |" if shares else "no such rule |")
        )
    if totals:
        lines += [
            "",
            "| total of children (99% of source parent rows) | " + " | ".join(tools) + " |",
            "| --- | " + " | ".join("---:" for _ in tools) + " |",
        ]
        for i, a in enumerate(totals):
            what = f"sum of {' × '.join(a.of)}" if a.of else "number"
            lines.append(
                f"| {_parent(metadata, a)}.{a.column} "
                f"= {what} of its `{a.child}` rows | " + " | ".join(f"{totalled[t][i]:.1%}" for t in tools) + " |"
            )
    if not rules:
        return lines + ["", "No rule across these tables holds in every linked source row."]
    lines += [
        "",
        "| rule (every linked source row) | " + " | ".join(tools) + " |",
        "| --- | " + " | ".join("---:" for _ in tools) + " |",
    ]
    for i, (name, key_name, column, parent_column, kind) in enumerate(rules):  # noqa: B007
        lines.append(
            f"| {name}.{column} {kind} its `{key_name}` parent's {parent_column} | "
            + " | ".join(f"{held[t][i]:.1%}" for t in tools)
            + " |"
        )
    return lines


def _parent(metadata, total) -> str:
    return next(k.parent for k in metadata.tables[total.child].foreign_keys if k.name == total.key)


def _figure(scores: dict, name: str) -> str:
    value = scores.get(name)
    return f"{value:.3f}" if isinstance(value, (int, float)) else "n/a"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
