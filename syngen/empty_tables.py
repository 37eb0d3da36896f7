"""Tables with no rows in their source database: nothing to learn, but part of the schema.

Such a table is kept as schema only (its columns, keys and CHECKs: a model folder holding
its manifest and no model) and created empty in the target. Foreign
keys that point at it stay declared in the target, but cannot drive generation: no child can
reference a row that does not exist, so those columns are generated null, and a NOT NULL one
stops training with one line.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from syngen import artifacts
from syngen.adapters import sql
from syngen.adapters.sql import TableSchema
from syngen.errors import SyngenError
from syngen.manifest import MANIFEST_FILE, Links, Manifest, Schema
from syngen.metadata.model import Key, Metadata


def find(metadata: Metadata) -> dict[str, TableSchema]:
    """The metadata's tables whose database source has no rows, with what it declares."""
    by_url: dict[str, list[str]] = {}
    for name, table in metadata.tables.items():
        source = metadata.resolve(table.source) if table.source else None
        if sql.is_database_url(source):
            by_url.setdefault(source, []).append(name)
    empty = {}
    for url, names in by_url.items():
        counts = sql.row_counts(url, names)
        names = [n for n in names if counts[n] == 0]
        if names:
            empty.update(sql.describe(url, names))
    return empty


def save(name: str, keys: list[Key], schema: TableSchema, source: str, run: str, artifacts_dir=None) -> Path:
    """Write the table's schema as its model folder (replacing an earlier model of it)."""
    target = artifacts.model_dir(name, artifacts_dir)
    manifest = Manifest(
        source,
        0,
        Schema([c.to_dict() for c in schema.columns], {}, [k for k in keys if k.type in ("PK", "UQ")], schema.checks),
        run,
        Links([c.name for c in schema.columns], [], list(keys), 0),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=target.parent))
    try:
        (staging / MANIFEST_FILE).write_text(manifest.to_json())
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def detach(metadata: Metadata, empty: set[str]) -> tuple[Metadata, dict[str, list[Key]]]:
    """The metadata without the FKs that reference an empty table, and those FKs per table
    (still declared in the target, never followed when generating)."""
    tables, links = {}, {}
    for name, table in metadata.tables.items():
        links[name] = [k for k in table.foreign_keys if k.parent in empty]
        tables[name] = replace(table, keys=[k for k in table.keys if k not in links[name]])
    return Metadata(tables, metadata.path), {n: keys for n, keys in links.items() if keys}


def null_links(name: str, frame: pd.DataFrame, declared: TableSchema | None, keys: list[Key]) -> list[str]:
    """Empty the FK columns (in ``frame``) that reference an empty table, so that they are
    learned, and generated, null; one note per FK."""
    nullable = {c.name: c.nullable for c in declared.columns} if declared else {}
    notes = []
    for key in keys:
        for column in key.columns:
            if not nullable.get(column, True) and len(frame):
                raise SyngenError(
                    f"table '{name}' column '{column}' is NOT NULL but references the empty table "
                    f"'{key.parent}': no generated row could satisfy it; give '{key.parent}' rows, "
                    f"or leave '{name}' out of the metadata file"
                )
            frame[column] = None
        notes.append(
            f"FK {key.name} -> {key.parent}: '{key.parent}' is empty, so "
            f"{', '.join(key.columns)} {'is' if len(key.columns) == 1 else 'are'} generated null"
        )
    return notes
