"""Propose a metadata file for a folder of tables: primary keys and foreign keys guessed from
the data, each with a comment on its evidence, for a person to check.

A primary key is a column that is unique, never null and id-like (whole numbers, codes or
UUIDs, not measurements). A foreign key needs two kinds of evidence: a name that matches the
parent's key (``ArtistId`` in Album and Artist) and values found in the parent's key (at least
``INCLUSION`` of them). A table without a single-column key whose foreign-key columns are
unique together gets them as a composite primary key.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from syngen.adapters.files import CSV_SUFFIXES, PARQUET_SUFFIXES, read_table
from syngen.adapters.sql import is_database_url
from syngen.errors import SyngenError

INCLUSION = 0.95
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n"}
_ID_NAME = re.compile(r"(^id$|id$|_id$|key$|code$|_no$|number$)", re.IGNORECASE)


@dataclass
class _Guess:
    columns: list[str]
    evidence: str
    parent: str | None = None
    parent_columns: list[str] | None = None


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _id_like(column: pd.Series) -> bool:
    values = column.dropna()
    if pd.api.types.is_float_dtype(values) or pd.api.types.is_bool_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values):
        return True
    text = values.astype(str)
    return bool(text.str.len().max() <= 40 and not text.str.contains(r"\s").any())


def _primary_key(name: str, frame: pd.DataFrame) -> _Guess | None:
    candidates = [c for c in frame.columns
                  if frame[c].notna().all() and frame[c].is_unique and _id_like(frame[c]) and len(frame) > 1]
    if not candidates:
        return None
    # the table's own id first (ArtistId in Artist), then any id-like name, then the first column
    own = [c for c in candidates if _normal(c) in (_normal(name) + "id", "id", _normal(name).rstrip("s") + "id")]
    named = [c for c in candidates if _ID_NAME.search(str(c))]
    best = (own or named or candidates)[0]
    return _Guess([best], f"unique and never null in {len(frame):,} rows"
                          + ("; named as an id" if best in own + named else ""))


def _foreign_keys(name, frame, keys: dict[str, _Guess], frames) -> list[_Guess]:
    guesses = []
    for column in frame.columns:
        own_key = keys.get(name)
        if own_key is not None and own_key.columns == [column]:
            continue
        for parent, key in keys.items():
            if key is None or len(key.columns) != 1 or parent == name:
                continue
            parent_column = key.columns[0]
            if _normal(column) != _normal(parent_column):
                continue
            values = frame[column].dropna()
            if values.empty:
                continue
            parent_values = set(frames[parent][parent_column].astype(str))
            found = values.astype(str).isin(parent_values).mean()
            if found >= INCLUSION:
                guesses.append(_Guess([column], f"names match; {found:.1%} of {len(values):,} values found in "
                                                f"{parent}.{parent_column}", parent, [parent_column]))
    return guesses


def discover(source: str | Path) -> str:
    """A starter metadata YAML (with comments) for every CSV/Parquet file in a folder, or for
    every table of a database (its declared keys; guessed from the data if it declares none)."""
    if is_database_url(str(source)):
        return _from_database(str(source))
    folder = Path(source)
    if not folder.is_dir():
        raise SyngenError(f"'{folder}' is not a folder of CSV or Parquet files, nor a database URL")
    files = sorted(p for p in folder.iterdir()
                   if p.suffix.lower() in set(CSV_SUFFIXES) | set(PARQUET_SUFFIXES) and p.is_file())
    if not files:
        raise SyngenError(f"no CSV or Parquet files in '{folder}'")
    frames = {p.stem: read_table(p) for p in files}
    header = ["# Proposed by 'syngen metadata infer' from the data: check every key before training.",
              "# Sources are relative to this file's folder. A link whose column is named unlike the",
              "# parent's key (Employee.ReportsTo -> EmployeeId) is not guessed: add it by hand."]
    return _render(header, {p.stem: _yaml_name(p.name) for p in files}, _guessed(frames))


def _from_database(url: str) -> str:
    from syngen.adapters import sql
    from syngen.metadata.declared import declared_keys

    schemas = sql.describe(url)
    counts = sql.row_counts(url, list(schemas))
    empty = sorted(name for name, rows in counts.items() if rows == 0)
    schemas = {name: schema for name, schema in schemas.items() if counts[name]}
    if not schemas:
        raise SyngenError(f"no tables with rows in {sql.safe_url(url)}")
    sources = {name: _yaml_name(sql.safe_url(url)) for name in schemas}
    left_out = [f"# Left out, having no rows to learn from: {', '.join(empty)}."] if empty else []
    if any(schema.constraints for schema in schemas.values()):
        header = [f"# Keys declared by the database {sql.safe_url(url)}, read by 'syngen metadata infer'."]
        header += left_out
        entries = {name: [(key.name, key.type, _Guess(list(key.columns), "", key.parent,
                                                      list(key.parent_columns) or None))
                          for key in declared_keys(schema, schemas)] for name, schema in schemas.items()}
        return _render(header, sources, entries)
    frames = {name: sql.read_table(url, name)[0] for name in schemas}
    header = [f"# The database {sql.safe_url(url)} declares no keys: these are guessed from the data",
              "# by 'syngen metadata infer'. Check every key before training."] + left_out
    return _render(header, sources, _guessed(frames))


def _guessed(frames: dict[str, pd.DataFrame]) -> dict[str, list]:
    """Per table: (key name, type, guess) for the PK and FKs the data suggests."""
    keys = {name: _primary_key(name, frame) for name, frame in frames.items()}
    foreign = {name: _foreign_keys(name, frame, keys, frames) for name, frame in frames.items()}
    for name, guesses in foreign.items():
        columns = [g.columns[0] for g in guesses]
        if keys[name] is None and len(columns) >= 2 and not frames[name][columns].duplicated().any():
            keys[name] = _Guess(columns, f"no single-column key; its FK columns are unique together "
                                         f"in {len(frames[name]):,} rows")
    entries = {}
    for name in frames:
        entries[name] = [("pk_" + _snake(name), "PK", keys[name])] if keys[name] is not None else []
        entries[name] += [(f"fk_{_snake(name)}_{_snake(g.parent)}_{_snake(g.columns[0])}", "FK", g)
                          for g in foreign[name]]
    return entries


def _render(header: list[str], sources: dict[str, str], entries: dict[str, list]) -> str:
    lines = header + [""]
    for name, source in sources.items():
        lines += [f"{_yaml_name(name)}:", f"  source: {source}"]
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
                lines.append(f"    {key_name}: {{type: FK, columns: [{columns}], references: "
                             f"{{table: {_yaml_name(guess.parent)}, columns: [{parent_columns}]}}}}")
            else:
                lines.append(f"    {key_name}: {{type: {key_type}, columns: [{columns}]}}")
        lines.append("")
    return "\n".join(lines)


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(name)).lower()).strip("_")


def _yaml_name(name) -> str:
    """A name as YAML text: plain when safe, else as a JSON string (which YAML reads too)."""
    text = str(name)
    return text if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS else json.dumps(text)
