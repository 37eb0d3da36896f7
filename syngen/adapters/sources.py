"""One way in for every source: a file path, an fsspec URL (``s3://``) or a database URL
plus a table name. Callers get the rows, notes on what was left out, and what a database
declares about the table (nothing for files)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from syngen.adapters import files, sql


@dataclass
class Loaded:
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    declared: sql.TableSchema | None = None  # column types and constraints, from a database


def read_source(
    source: str, table: str, row_limit: int | None = None, drop_null: bool = False, csv_options: dict | None = None
) -> Loaded:
    if sql.is_database_url(source):
        frame, notes, declared = sql.read_table(source, table, row_limit=row_limit, drop_null=drop_null)
        return Loaded(frame, notes, declared)
    return Loaded(files.read_table(source, row_limit=row_limit, drop_null=drop_null, csv_options=csv_options))


def source_columns(source: str, table: str, csv_options: dict | None = None) -> list[str]:
    if sql.is_database_url(source):
        return sql.read_columns(source, table)
    return files.read_columns(source, csv_options)


def source_head(source: str, table: str, rows: int, csv_options: dict | None = None) -> pd.DataFrame:
    """The table's first ``rows`` rows, typed as training reads them."""
    if sql.is_database_url(source):
        return sql.read_table(source, table, head=rows)[0]
    return files.read_head(source, rows, csv_options)


def describe_source(source) -> str:
    """The source as it may appear in messages and artifacts (no password)."""
    return sql.safe_url(source) if sql.is_database_url(source) else str(source)
