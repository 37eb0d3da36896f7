"""DuckDB's own paths: its catalog functions for what tables declare (the SQLAlchemy
inspector of ``duckdb_engine`` cannot reflect keys on DuckDB 2.x), and Arrow transfers for
reading whole tables, and Parquet for inserting whole batches at once instead of row by row."""

from __future__ import annotations

import os
import re
import tempfile

import pandas as pd
import sqlalchemy as sa

from syngen.adapters.sql import ColumnSpec, TableSchema
from syngen.metadata.model import Key

_TYPES = {
    "TINYINT": "SmallInteger",
    "SMALLINT": "SmallInteger",
    "INTEGER": "Integer",
    "BIGINT": "BigInteger",
    "HUGEINT": "Numeric",
    "UTINYINT": "SmallInteger",
    "USMALLINT": "Integer",
    "UINTEGER": "BigInteger",
    "UBIGINT": "Numeric",
    "FLOAT": "Float",
    "DOUBLE": "Double",
    "BOOLEAN": "Boolean",
    "DATE": "Date",
    "TIME": "Time",
    "TIMESTAMP": "DateTime",
    "TIMESTAMP WITH TIME ZONE": "DateTime",
    "UUID": "Uuid",
    "BLOB": "LargeBinary",
    "INTERVAL": "Interval",
    "VARCHAR": "Text",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
_OWN = "database_name = current_database()"


def _type_spec(data_type: str, length) -> dict:
    decimal = _DECIMAL.match(data_type)
    if decimal:
        return {"type": "Numeric", "precision": int(decimal[1]), "scale": int(decimal[2])}
    spec: dict[str, str | int | bool] = {"type": _TYPES.get(data_type, "Text")}
    if spec["type"] == "Text" and data_type == "VARCHAR" and length:
        spec = {"type": "String", "length": int(length)}
    if data_type == "TIMESTAMP WITH TIME ZONE":
        spec["timezone"] = True
    return spec


def table_names(connection: sa.Connection, schema: str | None = None) -> list[str]:
    rows = connection.execute(
        sa.text(
            f"SELECT table_name FROM duckdb_tables() WHERE NOT internal AND {_OWN} "
            "AND schema_name = coalesce(:schema, current_schema()) ORDER BY table_name"
        ),
        {"schema": schema},
    )
    return [r[0] for r in rows]


def describe(connection: sa.Connection, names: list[str]) -> dict[str, TableSchema]:
    """The tables ``names`` (checked to exist), ``schema.table`` outside the current schema;
    a foreign key's parent is in its child's schema."""
    own = connection.execute(sa.text("SELECT current_schema()")).scalar_one()
    wanted = set(names)
    schemas = {name: TableSchema(name, []) for name in names}

    def named(schema, table):
        return table if schema == own else f"{schema}.{table}"

    defaults = {}
    for schema, table, column, data_type, nullable, length, default in connection.execute(
        sa.text(
            "SELECT schema_name, table_name, column_name, data_type, is_nullable, character_maximum_length, "
            f"column_default FROM duckdb_columns() WHERE NOT internal AND {_OWN} "
            "ORDER BY schema_name, table_name, column_index"
        )
    ):
        if named(schema, table) in wanted:
            name = named(schema, table)
            schemas[name].columns.append(ColumnSpec(column, _type_spec(data_type, length), bool(nullable)))
            defaults[name, column] = default
    kinds = {"PRIMARY KEY": "PK", "UNIQUE": "UQ", "FOREIGN KEY": "FK"}
    checks = []
    for schema, table, kind, columns, parent, parent_columns, expression in connection.execute(
        sa.text(
            "SELECT schema_name, table_name, constraint_type, constraint_column_names, referenced_table, "
            f"referenced_column_names, expression FROM duckdb_constraints() WHERE {_OWN} "
            "ORDER BY schema_name, table_name, constraint_index"
        )
    ):
        name = named(schema, table)
        if name in wanted and kind == "CHECK":
            checks.append((name, expression))
        if name in wanted and kind in kinds:
            schemas[name].keys.append(
                Key.declared(
                    kinds[kind],
                    tuple(columns),
                    named(schema, parent) if kind == "FOREIGN KEY" else None,
                    tuple(parent_columns or ()),
                )
            )
    for name, expression in checks:  # after the keys: a CHECK on key columns is left out
        schemas[name].add_check(expression, "duckdb")
    for (name, column), default in defaults.items():
        schemas[name].add_default(next(c for c in schemas[name].columns if c.name == column), default, "duckdb")
    for schema, table, index, statement in connection.execute(
        sa.text(
            f"SELECT schema_name, table_name, index_name, sql FROM duckdb_indexes() WHERE is_unique AND {_OWN} "
            "ORDER BY index_name"
        )
    ):
        if named(schema, table) in wanted:
            schemas[named(schema, table)].add_unique(index, _index_columns(statement))
    return schemas


def _index_columns(statement: str) -> list[str | None]:
    """The columns of a CREATE INDEX statement (None for an expression), parsed by sqlglot."""
    import sqlglot
    from sqlglot import exp

    parameters = sqlglot.parse_one(statement, read="duckdb").this.args["params"]
    return [part.this.name if isinstance(part.this, exp.Column) else None for part in parameters.args["columns"]]


def _native(connection: sa.Connection):
    return connection.connection.driver_connection


def read_frame(connection: sa.Connection, statement) -> pd.DataFrame:
    """The statement's rows through Arrow (bound values inlined by SQLAlchemy's compiler)."""
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    return _native(connection).execute(sql).df()


def insert_frame(connection: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """Insert a whole DataFrame in one statement, DuckDB casting its columns to the table's.

    The batch goes through a Parquet file rather than a registered DataFrame: DuckDB keeps
    a scanned DataFrame's (or Arrow table's) strings alive until the transaction commits, so
    memory would grow with the table; what it reads from a file it owns and can spill.
    """
    quote = connection.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in frame.columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    with tempfile.TemporaryDirectory(prefix="syngen-") as folder:
        path = os.path.join(folder, "batch.parquet")
        frame.to_parquet(path, index=False)
        _native(connection).execute(f"INSERT INTO {target} ({names}) SELECT {names} FROM read_parquet(?)", [path])
