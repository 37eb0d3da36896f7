"""A dbt project's seeds, learned and generated: the job behind ``syngen dbt``.

The project's tests become keys (see ``syngen.adapters.dbt``), the seeds are trained as linked
tables, and synthetic seeds with the same names, header and column order are written to a
folder, with a properties file carrying the tests that apply to them. ``build`` then runs the
user's own ``dbt build`` on a copy of the project whose seeds are the synthetic ones: the
project's tests are the quality gate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd
import yaml

from syngen.adapters.dbt import Mapping, load_project, to_metadata
from syngen.adapters.dbt_profiles import database_url, ensure_schema
from syngen.adapters.sources import read_source
from syngen.adapters.targets import describe_target
from syngen.errors import SyngenError

PROPERTIES_FILE = "_syngen_seeds.yml"
_OUTPUT_TAIL = 4000


@dataclass
class SeedsResult:
    out: str  # the folder of seed files, or the database (password hidden)
    mapping: Mapping
    rows: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    build_output: str | None = None


def generate_seeds(
    project_dir,
    out=None,
    *,
    select: list[str] | None = None,
    size: int | None = None,
    scale: float | None = None,
    random_seed: int | None = None,
    epochs: int | None = None,
    overwrite: bool = False,
    from_database: bool = False,
    to_database: bool = False,
    profiles_dir=None,
    target: str | None = None,
    artifacts_dir=None,
    vars: dict | None = None,
    compile_with: str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> SeedsResult:
    """Learn the seeds (from their files, or ``from_database``: the profile's target database)
    and write synthetic ones as seed files, or ``to_database``: as tables of the profile's
    target database (replacing tables of the same names only with ``overwrite``). The
    models' SQL is dbt's compiled SQL where there is some, else rendered here with ``vars``;
    ``compile_with`` (a dbt executable) has dbt compile a copy of the project first."""
    from syngen.adapters.dbt_render import model_sql
    from syngen.linked.generate import infer_tables
    from syngen.linked.train import train_tables

    project = load_project(project_dir)
    database = database_url(project, profiles_dir, target) if from_database else None
    with _compiled(project, compile_with, profiles_dir, target, vars) as manifest:
        models = model_sql(project, vars, profiles_dir, target, manifest)
    mapping = to_metadata(project, select, database, models=models)
    metadata = mapping.metadata
    if not metadata.tables:
        raise SyngenError(f"no seeds to learn in {project.root}")
    database_out = database_url(project, profiles_dir, target) if to_database else None
    folder = Path(out) if out else project.root / "synthetic_seeds"
    planned = [folder / f"{name}.csv" for name in metadata.tables] + [folder / PROPERTIES_FILE]
    existing = [str(p) for p in planned if p.exists()]
    if database_out and not overwrite:
        existing = [f"table {n}" for n in _database_tables(database_out) if n in metadata.tables]
    if existing and not overwrite:
        raise SyngenError(f"would overwrite {', '.join(existing)}; pass --overwrite to replace them")
    if database_out:
        ensure_schema(database_out)
    train_tables(
        metadata,
        {k: v for k, v in {"random_seed": random_seed, "epochs": epochs}.items() if v is not None},
        artifacts_dir=artifacts_dir,
        log=log,
    )
    cli = {k: v for k, v in {"random_seed": random_seed, "size": size, "scale": scale}.items() if v is not None}
    reports = infer_tables(
        metadata,
        cli,
        artifacts_dir=artifacts_dir,
        output=database_out or str(folder),
        if_exists="replace" if overwrite else "fail",
        log=log,
    )
    locations = {r.table: database_out or str(folder / f"{r.table}.csv") for r in reports}
    result = SeedsResult(
        describe_target(database_out) if database_out else str(folder), mapping, {r.table: r.rows for r in reports}
    )
    result.violations = _accepted_violations(mapping, locations)
    if not database_out:
        (folder / PROPERTIES_FILE).write_text(_properties(mapping))
    return result


def parse_vars(text: str | None) -> dict | None:
    """``--vars`` as dbt reads it: a YAML mapping."""
    if text is None:
        return None
    try:
        found = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SyngenError(f"--vars is not valid YAML: {error}") from None
    if not isinstance(found, dict):
        raise SyngenError("--vars must be a YAML mapping, as dbt takes it: '{key: value}'")
    return found


def _database_tables(url: str) -> list[str]:
    """Tables already in the profile's DuckDB file (none while the file does not exist)."""
    from syngen.adapters.sql import database_file, table_names

    path = database_file(url)
    return table_names(url) if path is None or path.exists() else []


def _accepted_violations(mapping: Mapping, locations: dict[str, str]) -> list[str]:
    """accepted_values (compared as text, as dbt does) and accepted_range checked on the
    generated seeds."""
    problems = []
    frames = {seed: read_source(location, seed).frame for seed, location in locations.items()}
    for (seed, column), (low, high, inclusive) in mapping.ranges.items():
        values = pd.to_numeric(frames[seed][column], errors="coerce").dropna()
        outside = ((values < low) if low is not None else False) | ((values > high) if high is not None else False)
        if not inclusive:
            outside = (
                outside
                | ((values == low) if low is not None else False)
                | ((values == high) if high is not None else False)
            )
        if bool(pd.Series(outside).any()):
            problems.append(f"{seed}.{column}: {int(pd.Series(outside).sum())} value(s) outside accepted_range")
    for (seed, column), values in mapping.accepted.items():
        generated = frames[seed][column].dropna().astype(str)
        bad = sorted(set(generated) - {str(v) for v in values})
        if bad:
            problems.append(f"{seed}.{column}: {len(bad)} value(s) outside accepted_values, e.g. {bad[:3]}")
    return problems


def _properties(mapping: Mapping) -> str:
    """A properties file for the synthetic seeds, with the tests that apply to their columns."""
    seeds = []
    for name, table in mapping.metadata.tables.items():
        columns: dict[str, list] = {}
        for key in (k for k in table.keys if len(k.columns) == 1):  # composite keys need dbt_utils
            column = key.columns[0]
            if key.type in ("PK", "UQ"):
                columns.setdefault(column, []).append("unique")
                if key.type == "PK":
                    columns[column].append("not_null")
            elif key.type == "FK":
                columns.setdefault(column, []).append(
                    {"relationships": {"arguments": {"to": f"ref('{key.parent}')", "field": key.parent_columns[0]}}}
                )
        for seed, column in sorted(mapping.not_null):
            if seed == name and "not_null" not in columns.get(column, []):
                columns.setdefault(column, []).append("not_null")
        for (seed, column), values in mapping.accepted.items():
            if seed == name:
                columns.setdefault(column, []).append({"accepted_values": {"arguments": {"values": values}}})
        if columns:
            seeds.append({"name": name, "columns": [{"name": c, "data_tests": t} for c, t in columns.items()]})
    header = "# Tests of the synthetic seeds, mapped from the project's tests by 'syngen dbt'.\n"
    return header + yaml.safe_dump({"version": 2, "seeds": seeds}, sort_keys=False, allow_unicode=True)


@contextmanager
def _compiled(project, dbt: str | None, profiles_dir, target, vars) -> Iterator[Path | None]:
    """The manifest of ``dbt compile`` run on a copy of the project (None without ``dbt``)."""
    if dbt is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="syngen-dbt-") as folder:
        copy = _copy(project, Path(folder))
        _run_dbt(dbt, "compile", copy, profiles_dir, target, vars)
        yield copy / project.target_path / "manifest.json"


def build(
    project_dir,
    seeds_folder: Path,
    names,
    *,
    dbt: str = "dbt",
    profiles_dir=None,
    target: str | None = None,
    vars: dict | None = None,
) -> str:
    """Run ``dbt build`` on a copy of the project whose seeds are the synthetic ones; the
    project itself is not touched. Returns dbt's output; fails with its tail if a test fails."""
    project = load_project(project_dir)
    with tempfile.TemporaryDirectory(prefix="syngen-dbt-") as folder:
        copy = _copy(project, Path(folder), seeds_folder.name)
        for name in names:
            shutil.copyfile(seeds_folder / f"{name}.csv", copy / project.seeds[name].relative_to(project.root))
        if any(table in project.seeds for table in project.sources.values()):
            # a source is no node of dbt's graph: 'dbt build' would read it before seeding it
            _run_dbt(dbt, "seed", copy, profiles_dir, target, vars)
        return _run_dbt(dbt, "build", copy, profiles_dir, target, vars)


def _copy(project, folder: Path, *leave_out: str) -> Path:
    """The project copied into ``folder``, without dbt's outputs (its installed packages kept;
    a package installed from a local path stays the link 'dbt deps' made)."""
    copy = folder / (project.root.resolve().name or "project")
    shutil.copytree(
        project.root,
        copy,
        symlinks=True,
        ignore=shutil.ignore_patterns(project.target_path, "logs", "model_artifacts", *leave_out),
    )
    return copy


def _run_dbt(dbt: str, command: str, copy: Path, profiles_dir, target, vars) -> str:
    """The user's own dbt on the copy; its output, or its tail in the error when it fails."""
    executable = shutil.which(dbt)
    if executable is None:
        raise SyngenError(
            f"'{dbt}' not found: install dbt and your adapter (e.g. pip install dbt-core "
            "dbt-duckdb), or give its path with --dbt"
        )
    profiles = Path(profiles_dir).resolve() if profiles_dir else copy if (copy / "profiles.yml").is_file() else None
    arguments = [executable, command] + (["--profiles-dir", str(profiles)] if profiles else [])  # else dbt's own
    arguments += ["--target", target] if target else []
    arguments += ["--vars", yaml.safe_dump(vars)] if vars else []
    # a run on a throw-away copy: no usage statistics unless the user asked for them
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": os.environ.get("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")}
    done = subprocess.run(arguments, cwd=copy, capture_output=True, text=True, env=env)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        what = "on the synthetic seeds" if command in ("build", "seed") else "on a copy of the project"
        raise SyngenError(f"dbt {command} failed {what}:\n{output[-_OUTPUT_TAIL:]}")
    return output
