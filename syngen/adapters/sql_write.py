"""Writing generated tables into a database: all tables of a run in one transaction, created
with their types, NOT NULL, PRIMARY KEY, UNIQUE and FOREIGN KEY constraints, parents first.

Where foreign keys form a loop, the table that closes it is inserted with the closing
column empty and updated once its parents exist (DuckDB cannot declare such a constraint at
all; it is left out there, and said). A table that references itself is inserted level by
level, roots first, so that every row's parent is already there when it arrives. Any
failure, Ctrl-C included, rolls the whole transaction back: the target stays as it was.
"""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
import sqlalchemy as sa

from syngen.adapters.checks import repair, to_dialect
from syngen.adapters.files import hex_text, staging_file
from syngen.adapters.sql import (
    BINARY,
    ColumnSpec,
    check_target,
    connection_tables,
    database_error,
    database_file,
    describe_connection,
    engine_for,
    sa_type,
    safe_url,
    split_name,
)
from syngen.adapters.stored import NUMBERS as _NUMBERS
from syngen.adapters.stored import boolean_like
from syngen.adapters.views import View, create_views, drop_views
from syngen.errors import FULL_DISK, SyngenError, os_error
from syngen.keys import key_tuples
from syngen.metadata.model import Key

IF_EXISTS = ("fail", "replace", "append")
INSERT_CHUNK_ROWS = 10_000
DUCKDB_MEMORY_LIMIT = "256MB"


@dataclass
class TableSpec:
    """A table to create and fill: columns, keys, text formats of its date columns."""

    name: str
    columns: list[ColumnSpec]
    keys: list[Key] = field(default_factory=list)  # PK, UQ and FK
    formats: dict[str, str] = field(default_factory=dict)
    closing: set[tuple[str, ...]] = field(default_factory=set)  # FK columns that close a loop
    checks: list[str] = field(default_factory=list)  # CHECK constraints, portable SQL (adapters.checks)

    @property
    def closing_columns(self) -> list[str]:
        return [c for columns in self.closing for c in columns]


class DatabaseWriter:
    """One target database for one run: ``with DatabaseWriter(url, specs) as db: db.insert(..)``."""

    def __init__(self, url: str, specs: list[TableSpec], if_exists: str = "fail", views: Sequence[View] = ()):
        if if_exists not in IF_EXISTS:
            raise SyngenError(f"--if-exists must be one of {', '.join(IF_EXISTS)}, got {if_exists!r}")
        check_target(url)
        self.url, self.if_exists = url, if_exists
        self.specs = {spec.name: spec for spec in specs}
        dotted = next((name for name in self.specs if "." in name), None)
        if dotted and sa.make_url(url).get_backend_name() == "sqlite":
            raise SyngenError(
                f"SQLite has no schemas, so table '{dotted}' cannot be written to {safe_url(url)}; "
                "write it to PostgreSQL or DuckDB"
            )
        self.notes: dict[str, list[str]] = {}  # table -> what could not be declared as asked
        self.views = list(views)  # the source's views, made after the tables
        self.view_notes: list[str] = []
        self._file, self._staging = _staging_file(url)
        self._engine = engine_for(
            url if self._staging is None else sa.make_url(url).set(database=str(self._staging)).render_as_string(False)
        )
        if self.dialect == "sqlite":
            _transactional_ddl(self._engine)
        self._connection: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None
        self._tables: dict[str, sa.Table] = {}
        self._not_null_later: list[tuple[str, str]] = []
        self._table: str | None = None  # the table being written, for error messages

    # -- the transaction -----------------------------------------------------------------

    def __enter__(self) -> "DatabaseWriter":
        try:
            self._connection = self._engine.connect()
            if self.dialect == "duckdb":  # uncommitted rows spill to disk instead of growing memory
                self._connection.exec_driver_sql(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
                self._connection.commit()
            self._transaction = self._connection.begin()
            self._create()
        except BaseException as error:
            self._abort()
            raise self._error(error, "preparing the tables") from None
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:
            self._abort()
            if isinstance(error, (sa.exc.SQLAlchemyError, _DriverError, OSError)):
                raise self._error(error, f"writing table '{self._table}'") from None
            return
        try:
            self._table = None
            for table, column in self._not_null_later:
                self._set_not_null(table, column)
            assert self._transaction is not None  # begun by __enter__
            self._transaction.commit()
        except BaseException as error:
            self._abort()
            raise self._error(error, "committing") from None
        finally:
            self._close()
        if self._staging is not None:
            assert self._file is not None  # a staged database has its file
            os.replace(self._staging, self._file)
        if self.views:
            engine = engine_for(self.url)
            try:
                self.view_notes = create_views(engine, self.views)
            finally:
                engine.dispose()

    def _abort(self) -> None:
        if self._transaction is not None and self._transaction.is_active:
            # a connection that is gone cannot roll back: its server does so on its own
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._transaction.rollback()
        self._close()
        if self._staging is not None:
            for leftover in (str(self._staging), *(f"{self._staging}{end}" for end in _SIDE_FILES)):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(leftover)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._engine.dispose()

    def _error(self, error: BaseException, doing: str) -> BaseException:
        if isinstance(error, SyngenError):
            return error
        if isinstance(error, OSError):  # a full disk (the database's, or the temporary folder's)
            wrapped = os_error(error, f"{doing} in {safe_url(self.url)}")
        elif isinstance(error, (sa.exc.SQLAlchemyError, _DriverError)):
            wrapped = database_error(error, self.url, doing)
        else:
            return error
        text = str(wrapped) if self._staging is None else str(wrapped).replace(str(self._staging), str(self._file))
        if FULL_DISK not in text and ("No space left" in text or "disk is full" in text):  # the drivers' words
            text += f"; {FULL_DISK}"
        return SyngenError(f"{text}; nothing was written (the transaction was rolled back)")

    @property
    def _open(self) -> sa.Connection:
        """The connection, while the writer is open (``with DatabaseWriter(..)``)."""
        assert self._connection is not None, "the writer is not open"
        return self._connection

    # -- creating ------------------------------------------------------------------------

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def _create(self) -> None:
        schemas = sorted({split_name(name, self.dialect)[0] for name in self.specs}, key=str)
        existing = {name for schema in schemas for name in connection_tables(self._open, schema)}
        present = [name for name in self.specs if name in existing]
        if present and self.if_exists == "fail":
            raise SyngenError(
                f"{safe_url(self.url)} already has table(s) {', '.join(present)}; "
                "choose --if-exists replace (drop and recreate) or append"
            )
        metadata = sa.MetaData()
        for spec in self.specs.values():
            self._tables[spec.name] = self._table_of(spec, metadata)
        if present and self.if_exists == "replace":
            drop_views(self._open, self.views)  # an earlier run's, made again at the end
            self._drop(present, sorted(existing))
            present = []
        for schema in schemas:  # PostgreSQL and DuckDB: the schema too, inside the transaction
            if schema is not None:
                self._open.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        metadata.create_all(self._open, tables=[t for n, t in self._tables.items() if n not in present])

    def _drop(self, replaced: list[str], existing: list[str]) -> None:
        """Drop the tables being replaced, children first; foreign keys among them that form a
        loop are dropped before their tables. A table not being replaced that references one of
        them stops the run before anything changes: it is the user's, and would be broken."""
        declared = describe_connection(self._open, existing)
        links = {
            name: [k for k in schema.keys if k.type == "FK" and k.parent in replaced]
            for name, schema in declared.items()
        }
        for name in existing:
            outside = next((k for k in links[name] if name not in replaced), None)
            if outside is not None:
                raise SyngenError(
                    f"{safe_url(self.url)}: table '{name}' (not being replaced) has a foreign key to "
                    f"'{outside.parent}'; replace '{name}' too, drop that key, or use --if_exists append"
                )
        left, order = set(replaced), []
        while left:
            leaves = sorted(n for n in left if not any(k.parent == n for m in left - {n} for k in links[m]))
            if not leaves:  # a loop: its foreign keys go first (PostgreSQL), or are checked at commit (SQLite)
                self._drop_links(sorted(left), links)
                leaves = sorted(left)
            order += leaves
            left -= set(leaves)
        for name in order:
            self._bare(name, sa.MetaData()).drop(self._open)

    def _drop_links(self, tables: list[str], links: dict[str, list[Key]]) -> None:
        if self.dialect == "sqlite":
            self._open.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            return
        for name in tables:
            for key in links[name]:
                if key.declared_as and key.parent != name:
                    table = self._bare(name, sa.MetaData(), sa.Column(key.columns[0]))
                    self._open.execute(
                        sa.schema.DropConstraint(
                            sa.ForeignKeyConstraint(
                                [table.c[key.columns[0]]],
                                [f"{key.parent}.{key.parent_columns[0]}"],
                                name=key.declared_as,
                                table=table,
                            )
                        )
                    )

    def _table_of(self, spec: TableSpec, metadata: sa.MetaData) -> sa.Table:
        closing_not_null = {
            c for c in spec.closing_columns if not next(col for col in spec.columns if col.name == c).nullable
        }
        columns = []
        for column in spec.columns:
            nullable = column.nullable or column.name in closing_not_null
            if column.name in closing_not_null and self.dialect == "postgresql":
                self._not_null_later.append((spec.name, column.name))
            elif column.name in closing_not_null:  # SQLite cannot alter it; DuckDB not once referenced
                self.notes.setdefault(spec.name, []).append(
                    f"{column.name} is created without NOT NULL: it closes a foreign-key loop, filled after "
                    f"its parent, and {self.dialect} cannot add NOT NULL afterwards"
                )
            default = sa.text(to_dialect(column.default, self.dialect)) if column.default else None
            columns.append(
                sa.Column(
                    column.name, sa_type(column.type), nullable=nullable, autoincrement=False, server_default=default
                )
            )
        constraints: list[sa.Constraint] = [
            sa.CheckConstraint(sa.text(to_dialect(check, self.dialect))) for check in spec.checks
        ]
        for key in spec.keys:
            if key.type == "PK":
                constraints.append(sa.PrimaryKeyConstraint(*key.columns))
            elif key.type == "UQ":
                constraints.append(sa.UniqueConstraint(*key.columns))
            elif key.columns in spec.closing and self.dialect == "duckdb":
                self.notes.setdefault(spec.name, []).append(
                    f"FK ({', '.join(key.columns)}) -> {key.parent} closes a loop: DuckDB cannot declare it, "
                    "so it is documented here, not enforced"
                )
            elif self.dialect == "duckdb" and _schema(key.parent) != split_name(spec.name, "duckdb")[0]:
                self.notes.setdefault(spec.name, []).append(
                    f"FK ({', '.join(key.columns)}) -> {key.parent} crosses schemas: DuckDB cannot declare it, "
                    "so it is documented here, not enforced (its values still reference existing rows)"
                )
            elif key.type == "FK":
                constraints.append(
                    sa.ForeignKeyConstraint(
                        list(key.columns),
                        [f"{key.parent}.{c}" for c in key.parent_columns],
                        use_alter=key.columns in spec.closing,
                    )
                )
        return self._bare(spec.name, metadata, *columns, *constraints)

    def _bare(self, name: str, metadata: sa.MetaData, *parts) -> sa.Table:
        """The table of a (possibly ``schema.table``) name; its FKs reference parents by that name."""
        schema, table = split_name(name, self.dialect)
        return sa.Table(table, metadata, *parts, schema=schema)

    def _set_not_null(self, table: str, column: str) -> None:
        preparer = self._open.dialect.identifier_preparer
        self._open.exec_driver_sql(
            f"ALTER TABLE {preparer.format_table(self._tables[table])} "
            f"ALTER COLUMN {preparer.quote(column)} SET NOT NULL"
        )

    # -- filling -------------------------------------------------------------------------

    def insert(self, name: str, batches: Iterable[pd.DataFrame]) -> int:
        """Insert the table's rows; a self-referencing table arrives whole and goes in by levels."""
        self._table = name
        spec = self.specs[name]
        self_links = [k for k in spec.keys if k.type == "FK" and k.parent == name and k.columns not in spec.closing]
        rows = 0
        if self_links:
            frame = pd.concat(list(batches), ignore_index=True)
            for level in _levels(frame, self_links):
                self._insert_frame(spec, frame[level])
            return len(frame)
        for batch in batches:
            self._insert_frame(spec, batch)
            rows += len(batch)
        return rows

    def fill_later(self, name: str, frame: pd.DataFrame, columns: list[str]) -> None:
        """Set ``columns`` of rows inserted before they were known (loop-closing FK columns,
        inserted empty; totals of children), by primary key."""
        self._table = name
        spec = self.specs[name]
        key = next((k for k in spec.keys if k.type in ("PK", "UQ")), None)
        if key is None:
            raise SyngenError(
                f"table '{name}' closes a foreign-key loop but has no PRIMARY KEY or UNIQUE "
                "key to fill it by; add one to the metadata"
            )
        if not columns:
            return
        table = self._tables[name]
        values = _python_values(frame[list(key.columns) + columns], spec)
        rows = values.rename(columns={c: f"_k{i}" for i, c in enumerate(key.columns)}).to_dict("records")
        statement = (
            table.update()
            .where(*[table.c[c] == sa.bindparam(f"_k{i}") for i, c in enumerate(key.columns)])
            .values({c: sa.bindparam(c) for c in columns})
        )
        for start in range(0, len(rows), INSERT_CHUNK_ROWS):
            self._open.execute(statement, rows[start : start + INSERT_CHUNK_ROWS])

    def _insert_frame(self, spec: TableSpec, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        table = self._tables[spec.name]
        frame = repair(_conform(frame, spec, self._engine.dialect), spec.checks)
        if self.dialect == "duckdb":
            from syngen.adapters.duckdb import insert_frame

            insert_frame(self._open, table, frame)
        elif self.dialect == "postgresql" and self._engine.driver == "psycopg":
            binary = [c.name for c in spec.columns if c.type["type"] == BINARY and c.name in frame]
            _copy_postgres(self._open, table, frame.assign(**{c: hex_text(frame[c], "\\x") for c in binary}))
        else:
            records = _python_values(frame, spec).to_dict("records")
            for start in range(0, len(records), INSERT_CHUNK_ROWS):
                self._open.execute(table.insert(), records[start : start + INSERT_CHUNK_ROWS])


def _schema(parent: str | None) -> str | None:
    """The DuckDB schema of an FK's parent table (every FK names one)."""
    assert parent is not None
    return split_name(parent, "duckdb")[0]


def _transactional_ddl(engine: sa.Engine) -> None:
    """SQLite's Python driver opens transactions only before INSERT/UPDATE/DELETE, so CREATE
    and DROP TABLE would commit on their own; SQLAlchemy's recipe makes BEGIN explicit.
    Foreign keys are off by default, per connection, and can be switched on only outside a
    transaction."""

    @sa.event.listens_for(engine, "connect")
    def _no_implicit(dbapi_connection, record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN")


_SIDE_FILES = (".wal", "-journal", "-wal", "-shm")  # DuckDB's and SQLite's


def _staging_file(url: str) -> tuple[Path | None, Path | None]:
    """A new SQLite or DuckDB file is written under a hidden name beside it and renamed at
    commit, so that a failed or killed run never leaves an empty or partial database."""
    path = database_file(url)
    if path is None or path.exists():
        return path, None
    try:
        handle, staging = staging_file(path, ".partial")
    except OSError as error:  # a folder that refuses writes: named as the user gave it
        raise os_error(error, f"cannot write '{path}'") from None
    os.close(handle)
    os.remove(staging)  # the name is reserved; the database creates its own file there
    return path, Path(staging)


def _driver_errors() -> tuple:
    """The drivers' own error types, raised by the native fast paths (DuckDB, COPY)."""
    import duckdb

    try:
        import psycopg
    except ImportError:  # PostgreSQL's driver is an optional extra
        return (duckdb.Error,)
    return (duckdb.Error, psycopg.Error)


_DriverError = _driver_errors()


def _levels(frame: pd.DataFrame, links: list[Key]) -> Iterable[np.ndarray]:
    """Boolean row masks, roots first, each level referencing only rows of earlier levels."""
    own = {key: key_tuples(frame, key.parent_columns) for key in links}
    parent = {key: key_tuples(frame, key.columns).where(frame[list(key.columns)].notna().all(axis=1)) for key in links}
    placed = np.zeros(len(frame), dtype=bool)
    while not placed.all():
        ready = ~placed
        for key in links:
            known = set(own[key][placed])
            ready &= (
                parent[key].isna().to_numpy()
                | parent[key].isin(known).to_numpy()
                | ~parent[key].isin(set(own[key])).to_numpy()
            )
        if not ready.any():  # rows that reference each other in a loop: together, and let the database judge
            ready = ~placed
        yield ready
        placed |= ready


def _conform(frame: pd.DataFrame, spec: TableSpec, dialect) -> pd.DataFrame:
    """The batch in its columns' types (dates from their text format, boolean words as
    booleans, numbers from text), or one clear error before any of it is written: a value a
    column cannot hold is never sent to the database, nor silently made null."""
    frame = frame.copy()
    for column in spec.columns:
        name, kind = column.name, column.type["type"]
        if name not in frame or pd.api.types.is_datetime64_any_dtype(frame[name]):
            continue
        values = frame[name]
        if kind in ("Date", "DateTime"):
            layout = spec.formats.get(name)  # several UTC offsets (ending %z): stored at their UTC instant
            converted = pd.to_datetime(
                values, format=layout, errors="coerce", utc=bool(layout and layout.endswith("%z"))
            )
            converted = converted.dt.normalize() if kind == "Date" else converted
        elif kind == "Boolean" and not pd.api.types.is_bool_dtype(values):
            converted = boolean_like(values)
            if converted is None:
                numbers = pd.to_numeric(values, errors="coerce")
                converted = numbers.where(numbers.isin([0, 1])).astype("boolean")
        elif kind in _NUMBERS and not pd.api.types.is_numeric_dtype(values):
            converted = pd.to_numeric(values, errors="coerce")
        else:
            continue
        lost = int((converted.isna() & values.notna()).sum())
        if lost:
            raise SyngenError(
                f"table '{spec.name}' column '{name}': {lost} generated value(s) do not fit "
                f"{sa_type(column.type).compile(dialect=dialect)}; nothing was written. Train the "
                "table again: its model predates reading what the column really holds"
            )
        frame[name] = converted
    return frame


def _python_values(frame: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """Values as DB-API drivers take them: None for nulls, dates as dates, times as times."""
    out = frame.astype(object).where(frame.notna(), None)
    for column in spec.columns:
        name, kind = column.name, column.type["type"]
        if name not in frame:
            continue
        if kind == "Date" and pd.api.types.is_datetime64_any_dtype(frame[name]):
            out[name] = pd.Series(frame[name].dt.date, index=frame.index).where(frame[name].notna(), None)
        elif kind == "DateTime" and pd.api.types.is_datetime64_any_dtype(frame[name]):
            out[name] = frame[name].astype(object).where(frame[name].notna(), None)  # Timestamps: datetimes
        elif kind == "Time":
            times = pd.to_datetime(frame[name], format=spec.formats.get(name), errors="coerce")
            out[name] = pd.Series(times.dt.time, index=frame.index).where(times.notna(), None)
    return out


_NULL = "\\N"


def _copy_postgres(connection: sa.Connection, table: sa.Table, frame: pd.DataFrame) -> None:
    """PostgreSQL's COPY in CSV form: one vectorised text conversion, no per-row statements."""
    preparer = connection.dialect.identifier_preparer
    names = ", ".join(preparer.quote(c) for c in frame.columns)
    text = io.StringIO()
    frame.to_csv(text, index=False, header=False, na_rep=_NULL)
    driver = connection.connection.driver_connection
    assert driver is not None  # an open connection's
    cursor = driver.cursor()
    with cursor.copy(
        f"COPY {preparer.format_table(table)} ({names}) FROM STDIN WITH (FORMAT csv, NULL '{_NULL}')"
    ) as copy:
        copy.write(text.getvalue())
