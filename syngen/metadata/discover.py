"""Propose a metadata file for a folder of tables or a database: the keys a database declares,
else primary and foreign keys guessed from the data (``keyguess``), each with a comment on its
evidence, and notes on links the data nearly supports, for a person to check.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from syngen.adapters.files import CSV_SUFFIXES, PARQUET_SUFFIXES, read_table
from syngen.adapters.sql import is_database_url
from syngen.errors import SyngenError
from syngen.metadata.keyguess import Guess, guess_keys

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}


def discover(source: str | Path, schema: str | None = None) -> str:
    """A starter metadata YAML (with comments) for every CSV/Parquet file in a folder, or for
    every table of a database or of one of its schemas (its declared keys; guessed from the
    data if it declares none)."""
    if is_database_url(str(source)):
        return _from_database(str(source), schema)
    if schema is not None:
        raise SyngenError(f"--schema {schema} applies to a database URL, not to the folder '{source}'")
    folder = Path(source)
    if not folder.is_dir():
        raise SyngenError(f"'{folder}' is not a folder of CSV or Parquet files, nor a database URL")
    files = sorted(
        p for p in folder.iterdir() if p.suffix.lower() in set(CSV_SUFFIXES) | set(PARQUET_SUFFIXES) and p.is_file()
    )
    if not files:
        raise SyngenError(f"no CSV or Parquet files in '{folder}'")
    frames = {p.stem: read_table(p) for p in files}
    header = [
        "# Proposed by 'syngen metadata infer' from the data: check every key before training.",
        "# Sources are relative to this file's folder. A link whose column is named unlike the",
        "# parent's key and whose values could be there by chance (Employee.ReportsTo ->",
        "# EmployeeId, small whole numbers) is not guessed: add it by hand.",
    ]
    return _render(header, {p.stem: _yaml_name(p.name) for p in files}, *_guessed(frames))


def _from_database(url: str, schema: str | None) -> str:
    from syngen.adapters import sql
    from syngen.metadata.declared import declared_keys

    schemas = sql.describe(url, schema=schema)
    counts = sql.row_counts(url, list(schemas))
    if not any(counts.values()):
        where = f"schema '{schema}' of " if schema else ""
        raise SyngenError(f"no tables with rows in {where}{sql.safe_url(url)}")
    sources = {name: _yaml_name(sql.safe_url(url)) for name in schemas}
    empty = {
        name: ["empty in the source: created empty in the target, with its keys"]
        for name, rows in counts.items()
        if rows == 0
    }
    if any(schema.keys for schema in schemas.values()):
        header = [f"# Keys declared by the database {sql.safe_url(url)}, read by 'syngen metadata infer'."]
        entries = {
            name: [
                (key.name, key.type, Guess(list(key.columns), "", key.parent, list(key.parent_columns) or None))
                for key in declared_keys(schema, schemas)
            ]
            for name, schema in schemas.items()
        }
        return _render(header, sources, entries, empty)
    frames = {name: sql.read_table(url, name)[0] for name in schemas if counts[name]}
    header = [
        f"# The database {sql.safe_url(url)} declares no keys: these are guessed from the data",
        "# by 'syngen metadata infer'. Check every key before training.",
    ]
    entries, notes = _guessed(frames)
    return _render(header, sources, {**entries, **{n: [] for n in empty}}, {**notes, **empty})


def _guessed(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, list], dict[str, list[str]]]:
    """Per table: (key name, type, guess) for the PK, UQs and FKs the data suggests; notes."""
    keys, foreign, notes = guess_keys(frames)
    referenced = set()
    for guesses in foreign.values():
        for g in guesses:
            assert g.parent_columns is not None  # a foreign key's guess names its parent's columns
            referenced.add((g.parent, tuple(g.parent_columns)))
    entries = {}
    for name in frames:
        key = keys[name]
        own = [("pk_" + _snake(name), "PK", key)] if key is not None else []
        # a parent's column referenced besides its PK must be declared unique
        own += [
            (f"uq_{_snake(name)}_{_snake(columns[0])}", "UQ", Guess(list(columns), "unique and never null"))
            for parent, columns in sorted(referenced, key=str)
            if parent == name and (key is None or list(columns) != key.columns)
        ]
        entries[name] = own + [
            (f"fk_{_snake(name)}_{_snake(g.parent)}_{_snake(g.columns[0])}", "FK", g) for g in foreign[name]
        ]
    return entries, notes


def _render(header: list[str], sources: dict[str, str], entries: dict[str, list], notes: dict[str, list[str]]) -> str:
    lines = header + [""]
    for name, source in sources.items():
        lines += [f"{_yaml_name(name)}:", f"  source: {source}"]
        lines += [f"  # {note}" for note in notes.get(name, [])]
        if entries[name]:
            lines.append("  keys:")
        else:
            lines.append("  # no key found: no unique id-like column, no column named like another table's key")
        for key_name, key_type, guess in entries[name]:
            if guess.evidence:
                lines.append(f"    # {guess.evidence}")
            columns = ", ".join(_yaml_name(c) for c in guess.columns)
            if key_type == "FK":
                parent_columns = ", ".join(_yaml_name(c) for c in guess.parent_columns)
                lines.append(
                    f"    {key_name}: {{type: FK, columns: [{columns}], references: "
                    f"{{table: {_yaml_name(guess.parent)}, columns: [{parent_columns}]}}}}"
                )
            else:
                lines.append(f"    {key_name}: {{type: {key_type}, columns: [{columns}]}}")
        lines.append("")
    return "\n".join(lines)


def _snake(name: object) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()).strip("_")


def _yaml_name(name) -> str:
    """A name as YAML text: plain when safe, else as a JSON string (which YAML reads too)."""
    text = str(name)
    return text if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS else json.dumps(text)
