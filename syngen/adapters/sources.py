"""One way in for every source: a file path, an fsspec URL (``s3://``), a database URL plus a
table name, or a Spark table or folder (``spark:db.table``, ``spark:parquet:PATH``). Callers
get the rows, notes on what was left out, and what a database declares about the table
(nothing for files and Spark)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from syngen.adapters import files, spark_tables, sql


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
    if spark_tables.is_spark(source):
        return Loaded(*spark_tables.read_spark(source, row_limit, drop_null))
    return Loaded(files.read_table(source, row_limit=row_limit, drop_null=drop_null, csv_options=csv_options))


def source_columns(source: str, table: str, csv_options: dict | None = None) -> list[str]:
    if sql.is_database_url(source):
        return sql.read_columns(source, table)
    if spark_tables.is_spark(source):
        return spark_tables.spark_columns(source)
    return files.read_columns(source, csv_options)


def source_head(source: str, table: str, rows: int, csv_options: dict | None = None) -> pd.DataFrame:
    """The table's first ``rows`` rows, typed as training reads them."""
    if sql.is_database_url(source):
        return sql.read_table(source, table, head=rows)[0]
    if spark_tables.is_spark(source):
        return spark_tables.spark_head(source, rows)
    return files.read_head(source, rows, csv_options)


def by_key(source: str) -> bool:
    """Whether a sample's rows can be fetched by key where the source lives (a database, Spark)."""
    return sql.is_database_url(source) or spark_tables.is_spark(source)


def read_keys(source: str, table: str, columns: list[str]) -> pd.DataFrame:
    """Only the key columns of a table (``by_key`` sources), every row, in the table's order."""
    if spark_tables.is_spark(source):
        return spark_tables.spark_keys(source, columns)
    return sql.read_table(source, table, only=columns)[0]


def read_by_key(source: str, table: str, column: str, values: list, drop_null: bool = False) -> Loaded:
    """The rows whose ``column`` holds one of ``values`` (a sample chosen here)."""
    if spark_tables.is_spark(source):
        return Loaded(spark_tables.spark_rows_by_key(source, column, values, drop_null))
    return Loaded(*sql.read_table(source, table, drop_null=drop_null, keys=(column, values)))


def describe_source(source) -> str:
    """The source as it may appear in messages and artifacts (no password)."""
    return sql.safe_url(source) if sql.is_database_url(source) else str(source)
