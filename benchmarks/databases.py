#!/usr/bin/env python
"""Benchmark copying whole databases the way a user would: ``syngen train --source URL``
learns every table of Chinook and Northwind (SQLite files, opened read-only), then ``syngen
infer --metadata_path model_artifacts/metadata.yaml --scale F --output URL`` writes them into a
new DuckDB file and a new PostgreSQL database at each scale. After each run the target database
is asked, by SQL, whether the copy holds: row counts against the source, every PK/UQ of the
source unique, every FK of the source without orphans, and which of the source's constraints
the target declares.

Usage (from the repository root)::

    python benchmarks/databases.py --postgres postgresql+psycopg://user@127.0.0.1:5432/db

``--postgres`` names a database to connect to (default: SYNGEN_TEST_POSTGRES_URL) for creating
and dropping one fresh database per run. Each ``syngen`` step runs as its own process, so its
wall time and peak RSS are what the user sees (interpreter start and imports included); a step
that fails is recorded with the first line of its error, and the benchmark goes on. Writes
``WORKDIR/results.json`` and its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa
from run import DEFAULT_REPORT, SHARED, _exit_text, _summary, environment, log
from sections import write_section

MARKER = "<!-- databases: written by benchmarks/databases.py -->"
SOURCES = {name: SHARED / "data" / "relational" / f"{name}.sqlite" for name in ("chinook", "northwind")}
TARGETS = ("duckdb", "postgresql")
SEED = 1
SYNGEN = Path(sys.executable).with_name("syngen")  # the console script installed with this interpreter
METADATA = "model_artifacts/metadata.yaml"  # where `train --source URL` writes the keys it found
# a table's rows / source rows, over the scale, outside this band is reported: a child table's
# size follows the children its generated parents get, so it may miss the scale a little
RATIO_BAND = (0.8, 1.25)


def source_url(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&uri=true"


# --------------------------------------------------------------------------------------------
# Steps: the syngen command as a user types it, in its own process
# --------------------------------------------------------------------------------------------


def run_step(command: list[str], cwd: Path, output: Path) -> dict:
    """Wall time and peak RSS of one command, and the first line of its error if it failed
    (its whole output is kept in ``output``)."""
    variables = {**os.environ, "COLUMNS": "1000"}  # rich wraps at 80 columns otherwise
    started = time.perf_counter()
    with output.open("w") as sink:
        child = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT, env=variables)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, unlike RUSAGE_CHILDREN
    child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait
    measured = {"seconds": time.perf_counter() - started, "peak_rss_mb": usage.ru_maxrss / 1024}
    if child.returncode:
        measured["error"] = first_error(output.read_text(), child.returncode)
    return measured


def first_error(text: str, code: int) -> str:
    """The CLI's one-line ``Error: ...``, else the exception a traceback ends with."""
    if code < 0:
        return f"syngen {_exit_text(code)}"
    said = [line[len("Error: ") :] for line in text.splitlines() if line.startswith("Error: ")]
    return said[0].strip() if said else _summary(text)


# --------------------------------------------------------------------------------------------
# Checks: SQL against the source and the target
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """A declared PK, UQ or FK, its columns in a fixed order so that two catalogs compare."""

    kind: str
    table: str
    columns: tuple
    parent: str | None = None
    parent_columns: tuple = ()

    def __str__(self) -> str:
        refers = f" -> {self.parent}({', '.join(self.parent_columns)})" if self.parent else ""
        return f"{self.kind} {self.table}({', '.join(self.columns)}){refers}"


def make_key(kind: str, table: str, columns, parent=None, parent_columns=()) -> Key:
    if parent is None:
        return Key(kind, table, tuple(sorted(columns)))
    pairs = sorted(zip(columns, parent_columns))
    return Key(kind, table, tuple(c for c, _ in pairs), parent, tuple(p for _, p in pairs))


KINDS = {"PRIMARY KEY": "PK", "UNIQUE": "UQ", "FOREIGN KEY": "FK", "p": "PK", "u": "UQ", "f": "FK"}
# (table, constraint type, columns, referenced table, referenced columns) in each target's catalog
CATALOG = {
    "duckdb": """select table_name, constraint_type, constraint_column_names, referenced_table,
                        referenced_column_names
                 from duckdb_constraints() where constraint_type in ('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')""",
    "postgresql": """select rel.relname::text, con.contype::text,
                            array(select a.attname::text from unnest(con.conkey) with ordinality k(n, i)
                                  join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n order by k.i),
                            ref.relname::text,
                            array(select a.attname::text from unnest(con.confkey) with ordinality k(n, i)
                                  join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n order by k.i)
                     from pg_constraint con join pg_class rel on rel.oid = con.conrelid
                     left join pg_class ref on ref.oid = con.confrelid
                     where con.contype in ('p', 'u', 'f') and rel.relnamespace = 'public'::regnamespace""",
}


def source_keys(connection: sa.Connection) -> set[Key]:
    """What the SQLite source declares (SQLAlchemy's inspector reads it from its DDL)."""
    inspector = sa.inspect(connection)
    keys = set()
    for table in inspector.get_table_names():
        primary = inspector.get_pk_constraint(table)["constrained_columns"]
        if primary:
            keys.add(make_key("PK", table, primary))
        keys |= {make_key("UQ", table, u["column_names"]) for u in inspector.get_unique_constraints(table)}
        keys |= {
            make_key("FK", table, f["constrained_columns"], f["referred_table"], f["referred_columns"])
            for f in inspector.get_foreign_keys(table)
        }
    return keys


def target_keys(connection: sa.Connection, target: str) -> set[Key]:
    """What the target declares, read from its own catalog (the inspector of DuckDB's SQLAlchemy
    dialect cannot read constraints)."""
    return {
        make_key(KINDS[kind], table, columns, parent, parent_columns if parent else ())
        for table, kind, columns, parent, parent_columns in connection.execute(sa.text(CATALOG[target]))
    }


def row_counts(connection: sa.Connection) -> dict[str, int]:
    return {
        name: connection.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        for name in sa.inspect(connection).get_table_names()
    }


def repeated(connection: sa.Connection, key: Key) -> int:
    """Values of a PK/UQ (nulls left out) that more than one row holds."""
    table = sa.table(key.table, *map(sa.column, key.columns))
    groups = (
        sa.select(*table.c)
        .where(*[c.is_not(None) for c in table.c])
        .group_by(*table.c)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return connection.execute(sa.select(sa.func.count()).select_from(groups)).scalar_one()


def orphans(connection: sa.Connection, key: Key) -> int:
    """Rows whose FK (fully set) finds no parent row."""
    child = sa.table(key.table, *map(sa.column, key.columns)).alias("child")
    parent = sa.table(key.parent, *map(sa.column, key.parent_columns)).alias("parent")
    found = sa.exists().where(*[parent.c[p] == child.c[c] for c, p in zip(key.columns, key.parent_columns)])
    return connection.execute(
        sa.select(sa.func.count()).select_from(child).where(*[c.is_not(None) for c in child.c], ~found)
    ).scalar_one()


def check_target(url: str, target: str, source: dict, scale: float, copied: set[str]) -> dict:
    """Ask the target whether the copy holds, against what the source has and declares."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = row_counts(connection)
            declared = target_keys(connection, target)
            # `train --source URL` learns the tables with rows: an empty one missing is expected
            skipped = {t for t, n in source["rows"].items() if not n and t not in rows}
            keys = {k for k in source["keys"] if not {k.table, k.parent} & skipped}
            broken = {}
            for key in sorted(keys, key=str):
                if key.table not in rows or (key.parent and key.parent not in rows):
                    broken[str(key)] = "table not written"
                    continue
                try:
                    bad = repeated(connection, key) if key.kind != "FK" else orphans(connection, key)
                except sa.exc.DBAPIError as error:  # a column type the comparison refuses, say
                    connection.rollback()
                    broken[str(key)] = f"check failed: {_summary(error.orig or error, 200)}"
                    continue
                if bad:
                    broken[str(key)] = f"{bad:,} " + ("repeated values" if key.kind != "FK" else "orphan rows")
    finally:
        engine.dispose()
    ratios, off = {}, {}
    for table, expected in source["rows"].items():
        if table not in rows and table not in skipped:
            off[table] = "not written"
        elif expected:
            ratios[table] = rows[table] / expected
            wanted = 1 if table in copied else scale
            if not RATIO_BAND[0] <= ratios[table] / wanted <= RATIO_BAND[1]:
                off[table] = f"{rows[table]:,} rows for {expected:,} in the source (x{ratios[table]:.2f})"
    return {
        "rows": rows,
        "rows_written": sum(rows.values()),
        "ratios": ratios,
        "off": off,
        "skipped": sorted(skipped),
        "compared": len(keys),
        "declared": len(keys & declared),
        "holding": len(keys) - len(broken),
        "not_declared": sorted(map(str, keys - declared)),
        "extra_declared": sorted(map(str, declared - source["keys"])),
        "broken": broken,
    }


def copied_tables(artifacts: Path) -> set[str]:
    """Tables the trained run copies as they are (``train_settings.copy``), not scaled."""
    from syngen.metadata import load_metadata

    metadata = load_metadata(artifacts / "metadata.yaml", check_sources=False)
    return {name for name, table in metadata.tables.items() if table.train_settings.get("copy")}


# --------------------------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------------------------


def fresh_postgres(admin: sa.Engine, name: str) -> str:
    with admin.connect() as connection:
        connection.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        connection.execute(sa.text(f'create database "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin: sa.Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(sa.text(f'drop database if exists "{name}" with (force)'))


def run_database(name: str, args, admin: sa.Engine) -> dict:
    """Train once, then infer into each target at each scale, checking every result."""
    folder = args.workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    url = source_url(SOURCES[name])
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        source = {"rows": row_counts(connection), "keys": source_keys(connection)}
    engine.dispose()
    train = [str(SYNGEN), "train", "--source", url, "--random_seed", str(SEED)]
    if args.epochs:
        train += ["--epochs", str(args.epochs)]
    log(f"{name}: train")
    result = {
        "source_rows": source["rows"],
        "source_keys": sorted(map(str, source["keys"])),
        "train": run_step(train, folder, folder / "train.log"),
        "runs": [],
    }
    if "error" in result["train"]:
        log(f"{name}: train failed: {result['train']['error']}")
        return result
    copied = copied_tables(folder / "model_artifacts")
    result["copied"] = sorted(copied)
    for target in TARGETS:
        for scale in args.scales:
            label = f"{target}-x{scale:g}"
            if target == "duckdb":
                database = folder / f"{label}.duckdb"
                database.unlink(missing_ok=True)
                output = f"duckdb:///{database}"
            else:
                output = fresh_postgres(admin, f"syngen_bench_{name}_x{scale:g}".replace(".", "_"))
            infer = [
                str(SYNGEN),
                "infer",
                "--metadata_path",
                METADATA,
                "--scale",
                f"{scale:g}",
                "--random_seed",
                str(SEED),
                "--output",
                output,
            ]
            log(f"{name}: infer into {label}")
            run = {"target": target, "scale": scale, "infer": run_step(infer, folder, folder / f"infer-{label}.log")}
            if "error" in run["infer"]:
                log(f"{name} {label}: infer failed: {run['infer']['error']}")
            else:
                try:
                    run["check"] = check_target(output, target, source, scale, copied)
                except sa.exc.SQLAlchemyError as error:  # the target cannot be read: a finding too
                    run["check_error"] = _summary(getattr(error, "orig", None) or error)
            if target == "postgresql":
                drop_postgres(admin, sa.make_url(output).database)
            result["runs"].append(run)
    return result


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def source_text(entry: dict) -> str:
    rows = entry["source_rows"]
    empty = [table for table, n in rows.items() if not n]
    return f"{len(rows)} tables, {sum(rows.values()):,} rows, {len(entry['source_keys'])} PK/UQ/FK" + (
        f"; empty: {', '.join(empty)}" if empty else ""
    )


def section(results: dict) -> list[str]:
    machine = results["machine"]
    epochs = (
        f"`--epochs {results['epochs']}`"
        if results["epochs"]
        else "syngen's default, chosen from each table's size, with early stopping"
    )
    lines = [
        "",
        "## Whole databases into DuckDB and PostgreSQL",
        "",
        f"- Command: `{results['command']}`",
        f"- Date (UTC): {results['date_utc']}",
        (
            f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs; "
            f"PostgreSQL {results['postgres_version']} on 127.0.0.1, DuckDB file on local disk"
        ),
        "- Sources: "
        + "; ".join(f"{name} ({source_text(r)})" for name, r in results["databases"].items())
        + "; SQLite files of `../shared/data/relational/` opened read-only "
        "(`sqlite:///file:PATH?mode=ro&uri=true`)",
        (
            f"- Steps, as a user types them, each a fresh process: `syngen train --source URL "
            f"--random_seed {SEED}` (epochs: {epochs}), then per target and scale `syngen infer "
            f"--metadata_path {METADATA} --scale F --random_seed {SEED} --output TARGET` into a new DuckDB "
            "file or a new PostgreSQL database. Seconds and peak RSS are the whole process's "
            "(interpreter start and imports included); rows/s is rows written over infer seconds."
        ),
        (
            "- Checks, by SQL against the target after each run: rows per table over the source's "
            f"(expected: the scale, 1 for tables copied as they are; outside x{RATIO_BAND[0]}-"
            f"x{RATIO_BAND[1]} of it is listed below); constraints: the source's PK/UQ/FK, those the "
            "target declares, and those holding in the target's rows (PK/UQ values unique, every "
            "set FK value found in its parent), leaving out the constraints of empty source tables, "
            "which `train --source` does not learn."
        ),
        "",
        (
            "| database | target | scale | train s | train peak RSS MB | infer s | infer peak RSS MB "
            "| rows written | rows/s | rows / source (min-max) | constraints source / declared / holding "
            "| result |"
        ),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    notes = []
    for name, entry in results["databases"].items():
        train = entry["train"]
        train_cells = f"{train['seconds']:.1f} | {train['peak_rss_mb']:,.0f}"
        if "error" in train:
            lines.append(f"| {name} | all | | {train_cells} | | | | | | | train failed |")
            notes.append(f"{name}, train: {train['error']}")
            continue
        for run in entry["runs"]:
            where = f"{name} into {run['target']} at scale {run['scale']:g}"
            infer = run["infer"]
            cells = [
                name,
                run["target"],
                f"{run['scale']:g}",
                train_cells,
                f"{infer['seconds']:.1f}",
                f"{infer['peak_rss_mb']:,.0f}",
            ]
            if "error" in infer or "check_error" in run:
                failed = "infer failed" if "error" in infer else "check failed"
                lines.append("| " + " | ".join(cells) + f" | | | | | {failed} |")
                notes.append(f"{where}: {failed}: {infer.get('error') or run['check_error']}")
                continue
            check = run["check"]
            ratios = check["ratios"].values()
            cells += [
                f"{check['rows_written']:,}",
                f"{check['rows_written'] / infer['seconds']:,.0f}",
                f"x{min(ratios):.2f}-x{max(ratios):.2f}" if ratios else "n/a",
                f"{check['compared']} / {check['declared']} / {check['holding']}",
            ]
            problems = {**check["off"], **check["broken"]}
            problems.update({key: "not declared in the target" for key in check["not_declared"] if key not in problems})
            cells.append("ok" if not problems else f"{len(problems)} finding(s)")
            lines.append("| " + " | ".join(cells) + " |")
            notes += [f"{where}: {thing}: {what}" for thing, what in problems.items()]
            notes += [f"{where}: {key} declared, not in the source" for key in check["extra_declared"]]
    if notes:
        lines += ["", "Findings:", ""] + [f"- {note}" for note in notes]
    return lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SYNGEN_TEST_POSTGRES_URL"),
        help="SQLAlchemy URL of a PostgreSQL database to connect to for creating and "
        "dropping one database per run (default: SYNGEN_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--databases", nargs="+", choices=list(SOURCES), default=list(SOURCES))
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument(
        "--epochs", type=int, default=None, help="train --epochs (default: not given, as a user would: syngen chooses)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="models, DuckDB files, logs and results.json (default: a temp folder)",
    )
    parser.add_argument("--report", type=Path, default=DEFAULT_REPORT)
    args = parser.parse_args(argv)
    if not args.postgres:
        parser.error("give --postgres URL (or set SYNGEN_TEST_POSTGRES_URL)")
    args.workdir = (args.workdir or Path(tempfile.mkdtemp(prefix="syngen-databases-"))).resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)

    admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        postgres_version = connection.execute(sa.text("show server_version")).scalar_one().split()[0]
    shown = ["URL" if a == args.postgres else a for a in argv]
    results = {
        "command": "python "
        + shlex.join(["benchmarks/databases.py", *shown])
        + ("" if "--postgres" in argv else " (PostgreSQL URL from SYNGEN_TEST_POSTGRES_URL)"),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": environment(with_baselines=False)["machine"],
        "postgres_version": postgres_version,
        "epochs": args.epochs,
        "databases": {},
    }
    started = time.perf_counter()
    for name in args.databases:
        results["databases"][name] = run_database(name, args, admin)
        (args.workdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    admin.dispose()
    write_section(args.report, MARKER, section(results))
    log(f"done in {(time.perf_counter() - started) / 60:.1f} min: {args.workdir / 'results.json'}, {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
