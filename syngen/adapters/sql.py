"""Tables from databases, by SQLAlchemy URL: reading (bounded, sampled in the database),
and what the database declares about them (column types, NOT NULL, PK, UNIQUE, FK).

Values are read raw, without the dialect's type processing, and then typed the way a CSV
file is (integers stay integers with gaps, dates stay text in the database's format), so a
table learns the same from a database as from its export. Identifiers are always quoted by
SQLAlchemy; passwords never leave this module in a message.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import json
import re
import uuid
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, TypeGuard

import numpy as np
import pandas as pd
import sqlalchemy as sa

from syngen.adapters.files import decimal_numbers, numeric_or_text
from syngen.errors import SyngenError
from syngen.metadata.model import Key

READ_CHUNK_ROWS = 50_000
CONNECT_TIMEOUT = 10  # seconds; a URL's own ?connect_timeout= wins
_KEY_SAMPLE_CHUNK = 1_000  # keys per IN (...) when fetching a sample by primary key


_FILE_DIALECTS = ("sqlite", "duckdb")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]+)?:/*")


def is_database_url(text: object) -> TypeGuard[str]:
    """A SQLAlchemy URL (``dialect[+driver]://...``) rather than a path or fsspec URL. A
    dialect's URL without its '//' (``sqlite:/x.db``) is refused here, where every location
    is told apart, instead of being taken for a file name."""
    if not isinstance(text, str):
        return False
    if "://" not in text:
        scheme = _SCHEME.match(text)
        if scheme and scheme[1].lower() in _dialects():
            raise SyngenError(
                f"'{safe_url(text)}' is not a database URL: write "
                f"{_url_forms(scheme[1] + (scheme[2] or ''), safe_url(text)[scheme.end() :])}"
            )
        return False
    from fsspec.registry import known_implementations

    return text.split("://", 1)[0].lower() not in known_implementations


@functools.cache
def _dialects() -> frozenset[str]:
    """The names SQLAlchemy knows dialects by (its own and those packages register)."""
    from importlib.metadata import entry_points

    names = {*sa.dialects.__all__, "postgres", "mariadb"}
    names |= {entry.name.split(".")[0] for entry in entry_points(group="sqlalchemy.dialects")}
    return frozenset(names)


def _url_forms(scheme: str, rest: str = "PATH") -> str:
    """How a URL of ``scheme`` is written (a file's two forms, or a server's)."""
    if scheme.split("+")[0].lower() in _FILE_DIALECTS:
        return (
            f"{scheme}:///{rest} (a path relative to this folder) or {scheme}:////{rest.lstrip('/')} (an absolute one)"
        )
    return f"{scheme}://{rest}"


def safe_url(url: str) -> str:
    """The URL as it may be shown: password hidden."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not even parseable: hide whatever stands between ':' and '@'
        return re.sub(r":[^:/@]*@", ":***@", url)


def _scrub(message: str, url: str) -> str:
    try:
        password = sa.make_url(url).password
    except Exception:
        password = None
    message = message.replace(url, safe_url(url))
    return message.replace(str(password), "***") if password else message


def _reason(error: Exception) -> str:
    """The driver's own words, without SQLAlchemy's statement dump and links."""
    text = str(getattr(error, "orig", None) or error)
    return text.split("\n[SQL:")[0].split("\n(Background")[0].strip()


def database_error(error: Exception, url: str, doing: str) -> SyngenError:
    return SyngenError(_scrub(f"{doing} in {safe_url(url)}: {_reason(error)}", url))


def engine_for(url: str) -> sa.Engine:
    """An engine for ``url``, or a clear error: unknown dialect, missing driver."""
    try:
        parsed = sa.make_url(url)
    except Exception:
        raise SyngenError(
            f"'{safe_url(url)}' is not a database URL (expected dialect://user@host/database or duckdb:///file.duckdb)"
        ) from None
    backend = parsed.get_backend_name()
    if backend in _FILE_DIALECTS and (parsed.host or parsed.username):  # DuckDB would drop the host unsaid
        raise SyngenError(
            f"'{safe_url(url)}' is not a valid {backend} URL: a database file has no host; "
            f"write {_url_forms(parsed.drivername)}"
        )
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        # a server that takes the connection and never answers would hang the run
        parsed = parsed.update_query_dict({"connect_timeout": str(CONNECT_TIMEOUT)})
    try:
        return sa.create_engine(parsed)
    except sa.exc.NoSuchModuleError:
        hint = (
            "write it postgresql+psycopg://user@host/database (after pip install 'syngen[postgres]')"
            if backend in ("postgres", "postgresql")
            else "install the package that brings that dialect to SQLAlchemy, or check the URL's scheme"
        )
        raise SyngenError(f"no SQLAlchemy dialect '{parsed.drivername}' for {safe_url(url)}; {hint}") from None
    except sa.exc.ArgumentError as error:  # after its subclass NoSuchModuleError
        raise SyngenError(
            f"'{safe_url(url)}' is not a valid {backend} URL: {_scrub(str(error).splitlines()[0], url)}"
        ) from None
    except ModuleNotFoundError as error:
        hint = (
            "pip install 'syngen[postgres]'"
            if backend == "postgresql"
            else f"install the Python package that provides '{error.name}'"
        )
        raise SyngenError(f"the driver for {safe_url(url)} is not installed ({error.name}); {hint}") from None


def database_file(url: str) -> Path | None:
    """The local file of a SQLite or DuckDB URL (None for servers, memory and URI forms)."""
    parsed = sa.make_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() in _FILE_DIALECTS
        and database not in ("", ":memory:")
        and not database.startswith("file:")
    ):
        return Path(database)
    return None


def check_target(url: str) -> None:
    """Fail before any work on a database URL that cannot be written to: malformed, without
    its driver, or a new file in a folder that does not exist."""
    engine_for(url).dispose()
    path = database_file(url)
    if path is not None and not path.exists() and not path.parent.is_dir():
        raise SyngenError(
            f"cannot create '{path}' ({safe_url(url)}): its folder does not exist; create it or correct the URL"
        )


def _check_file_exists(url: str) -> None:
    """Reading must not create an empty SQLite or DuckDB file where the user mistyped a path."""
    path = database_file(url)
    if path is not None and not path.exists():
        raise SyngenError(f"database file not found: '{path}' (from {safe_url(url)})")


@contextmanager
def connected(url: str, doing: str) -> Iterator[sa.Connection]:
    """A connection for reading, whose failures become one clear, password-free error."""
    engine = engine_for(url)
    _check_file_exists(url)
    try:
        with engine.connect() as connection:
            yield connection
    except SyngenError:
        raise
    except sa.exc.SQLAlchemyError as error:
        raise database_error(error, url, doing) from None
    finally:
        engine.dispose()


# -- what the database declares --------------------------------------------------------------


@dataclass
class ColumnSpec:
    """A column as a database should hold it: name, portable type, NOT NULL."""

    name: str
    type: dict  # {"type": generic SQLAlchemy type name, "length": .., "precision": .., "scale": ..}
    nullable: bool = True
    default: str | None = None  # portable SQL (adapters.checks)

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type, "nullable": self.nullable, "default": self.default}

    @classmethod
    def from_dict(cls, data: dict) -> "ColumnSpec":
        return cls(data["name"], data["type"], data["nullable"], data.get("default"))


@dataclass
class TableSchema:
    name: str
    columns: list[ColumnSpec]
    keys: list[Key] = field(default_factory=list)  # PK, UQ and FK
    notes: list[str] = field(default_factory=list)  # what the database declares that is not kept
    checks: list[str] = field(default_factory=list)  # CHECK constraints, portable SQL (adapters.checks)

    def add_check(self, sql: str, dialect: str) -> None:
        from syngen.adapters.checks import portable_check

        keyed = {c for k in self.keys for c in k.columns}
        portable, why = portable_check(sql, dialect, [c.name for c in self.columns], keyed)
        if portable is None:
            self.notes.append(f"CHECK ({sql}) of table '{self.name}' is left out of the target: {why}")
        else:
            self.checks.append(portable)

    def add_default(self, column: ColumnSpec, sql: str | None, dialect: str) -> None:
        from syngen.adapters.checks import portable_default

        if sql is None:
            return
        column.default = portable_default(sql, dialect)
        if column.default is None and "nextval" not in sql.lower():  # sequences: ids are generated
            self.notes.append(
                f"DEFAULT {sql} of column '{column.name}' of table '{self.name}' is left out of "
                "the target: only constants and the current date/time are kept"
            )

    def add_unique(self, index: str, columns: list[str | None], partial: bool = False) -> None:
        """A unique index is a UNIQUE key, unless it is partial or on an expression."""
        named = [c for c in columns if c is not None]  # None: an expression
        if partial or len(named) < len(columns) or not columns:
            how = "partial (WHERE)" if partial else "on an expression"
            self.notes.append(f"unique index '{index}' of table '{self.name}' is {how}: not kept as a key")
        elif not any(k.type in ("PK", "UQ") and set(k.columns) == set(named) for k in self.keys):
            self.keys.append(Key.declared("UQ", tuple(named)))


_GENERIC_TYPES = {
    cls.__name__: cls
    for cls in (
        sa.SmallInteger,
        sa.Integer,
        sa.BigInteger,
        sa.Float,
        sa.Double,
        sa.Numeric,
        sa.String,
        sa.Text,
        sa.Unicode,
        sa.UnicodeText,
        sa.Date,
        sa.DateTime,
        sa.Time,
        sa.Boolean,
        sa.Uuid,
        sa.Interval,
        sa.LargeBinary,
        sa.JSON,
        sa.CHAR,
    )
}
_TYPE_ARGUMENTS = ("length", "precision", "scale", "timezone")
BINARY = "LargeBinary"


def type_spec(column_type) -> dict:
    """A dialect's column type as portable data (SQLAlchemy's generic type)."""
    if isinstance(column_type, sa.CHAR) and column_type.length:  # fixed width: as_generic would widen it
        return {"type": "CHAR", "length": column_type.length}
    try:
        generic = column_type.as_generic()
    except NotImplementedError:  # dialect-only types (arrays, ranges...): kept as text
        return {"type": "Text"}
    name = type(generic).__name__
    if name not in _GENERIC_TYPES:
        return {"type": "Text"}
    spec = {"type": name}
    for argument in _TYPE_ARGUMENTS:
        value = getattr(generic, argument, None)
        if value not in (None, False) and not (argument == "precision" and name in ("Float", "Double")):
            spec[argument] = value
    return spec


def sa_type(spec: dict):
    """The SQLAlchemy type of a portable type spec; the target dialect compiles it."""
    cls = _GENERIC_TYPES.get(spec["type"], sa.Text)
    arguments = {k: v for k, v in spec.items() if k in _TYPE_ARGUMENTS}
    if cls is sa.Numeric:
        arguments["asdecimal"] = False
    try:
        return cls(**arguments)
    except TypeError:
        return cls()


def split_name(name: str, dialect: str) -> tuple[str | None, str]:
    """'schema.table' as (schema, table); a name without a dot is in the default schema.
    SQLite has no schemas: its names are taken as they are."""
    schema, dot, table = name.partition(".")
    return (schema, table) if dot and dialect != "sqlite" else (None, name)


def qualified(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def table_ref(name: str, dialect: str, *columns) -> sa.TableClause:
    """The table of a (possibly schema-qualified) name, quoted by SQLAlchemy."""
    schema, table = split_name(name, dialect)
    return sa.table(table, *columns, schema=schema)


def table_names(url: str, schema: str | None = None) -> list[str]:
    with connected(url, "listing tables") as connection:
        return connection_tables(connection, schema)


def connection_tables(connection: sa.Connection, schema: str | None = None) -> list[str]:
    """The tables a connection sees in ``schema`` (default: its own), named ``schema.table``
    outside the default one (DuckDB through its catalog, others by SQLAlchemy)."""
    if connection.dialect.name == "duckdb":
        from syngen.adapters.duckdb import table_names as duckdb_tables

        return [qualified(schema, t) for t in duckdb_tables(connection, schema)]
    if schema is not None and connection.dialect.name == "sqlite":
        raise SyngenError(f"SQLite has no schemas: leave out --schema {schema}")
    return [qualified(schema, t) for t in sorted(sa.inspect(connection).get_table_names(schema=schema))]


def describe(url: str, names: list[str] | None = None, schema: str | None = None) -> dict[str, TableSchema]:
    """Column types, NOT NULL, PK, UNIQUE and FK (composite too) of the database's tables
    (``names``, else every table of ``schema``, else of the default schema)."""
    with connected(url, "reading table definitions") as connection:
        return describe_connection(connection, names, schema)


def describe_connection(
    connection: sa.Connection, names: list[str] | None = None, schema: str | None = None
) -> dict[str, TableSchema]:
    dialect = connection.dialect.name
    if names is None:
        names = connection_tables(connection, schema)
    known: dict[str | None, list[str]] = {}
    for name in names:
        place = split_name(name, dialect)[0]
        if place not in known:
            known[place] = connection_tables(connection, place)
        _check_table(name, known[place], str(connection.engine.url))
    if dialect == "duckdb":
        from syngen.adapters.duckdb import describe as duckdb_describe

        return duckdb_describe(connection, names)
    inspector = sa.inspect(connection)
    return {name: _describe_table(inspector, name, dialect) for name in names}


def _describe_table(inspector, name: str, dialect: str) -> TableSchema:
    schema_name, table = split_name(name, dialect)
    where = {"table_name": table, "schema": schema_name}
    reflected = inspector.get_columns(**where)
    columns = [ColumnSpec(c["name"], type_spec(c["type"]), bool(c["nullable"])) for c in reflected]
    keys = []
    primary = inspector.get_pk_constraint(**where).get("constrained_columns") or []
    if primary:
        keys.append(Key.declared("PK", tuple(primary)))
        for column in columns:
            column.nullable = column.nullable and column.name not in primary
    for foreign in inspector.get_foreign_keys(**where):  # a parent in another schema keeps its schema
        parent = qualified(foreign.get("referred_schema"), foreign["referred_table"])
        keys.append(
            Key.declared(
                "FK",
                tuple(foreign["constrained_columns"]),
                parent,
                tuple(foreign["referred_columns"]),
                foreign.get("name"),
            )
        )
    schema = TableSchema(name, columns, keys)
    _unique_keys(inspector, schema, where)
    for column, found in zip(columns, reflected):
        schema.add_default(column, found.get("default"), dialect)
    for check in _check_constraints(inspector, where):
        schema.add_check(check, dialect)
    return schema


def _check_constraints(inspector, where: dict) -> list[str]:
    try:
        return [check["sqltext"] for check in inspector.get_check_constraints(**where)]
    except NotImplementedError:  # dialects that cannot reflect them
        return []


def _unique_keys(inspector, schema: TableSchema, where: dict) -> None:
    """UNIQUE constraints, and unique indexes as UNIQUE keys too; SQLAlchemy skips SQLite's
    expression indexes with a warning, which names them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", sa.exc.SAWarning)
        uniques = inspector.get_unique_constraints(**where)
        indexes = inspector.get_indexes(**where)
    for unique in uniques:
        schema.keys.append(Key.declared("UQ", tuple(unique["column_names"])))
    for skipped in dict.fromkeys(re.findall(r"expression-based index (\S+)", " ".join(str(w.message) for w in caught))):
        schema.add_unique(skipped, [None])
    for index in indexes:
        if index["unique"] and not index.get("duplicates_constraint"):
            partial = any(k.endswith("_where") and v is not None for k, v in index.get("dialect_options", {}).items())
            columns = [None] if index.get("expressions") else list(index["column_names"])
            schema.add_unique(index["name"], columns, partial)


def _check_table(name: str, known: list[str], url: str) -> None:
    if name not in known:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; it has: {', '.join(known[:20]) or 'no tables'}"
        raise SyngenError(f"no table '{name}' in {safe_url(url)}{hint}")


def row_counts(url: str, names: list[str]) -> dict[str, int]:
    with connected(url, "counting rows") as connection:
        dialect = connection.dialect.name
        return {
            name: connection.execute(sa.select(sa.func.count()).select_from(table_ref(name, dialect))).scalar_one()
            for name in names
        }


def read_columns(url: str, table: str) -> list[str]:
    return [c.name for c in describe(url, [table])[table].columns]


# -- reading rows ----------------------------------------------------------------------------


def read_table(
    url: str,
    table: str,
    row_limit: int | None = None,
    drop_null: bool = False,
    seed: int = 0,
    only: list[str] | None = None,
    keys: tuple[str, list] | None = None,
    head: int | None = None,
) -> tuple[pd.DataFrame, list[str], TableSchema]:
    """A table's rows typed as from a CSV export, notes on what was left out, and what the
    database declares about the table.

    ``row_limit`` samples in the database: by primary key when the table has one (only the
    keys travel), else by a seeded priority sample over chunks (memory stays bounded).
    ``only`` reads just those columns; ``keys`` (column, values) just the rows whose column
    holds one of the values (a sample chosen elsewhere), in the table's order; ``head`` just
    the first rows the database gives (a quick look).
    """
    schema = describe(url, [table])[table]
    notes = list(schema.notes)
    columns = [c for c in schema.columns if only is None or c.name in only]
    if not columns:
        raise SyngenError(f"table '{table}' in {safe_url(url)} has no columns syngen can learn")
    if row_limit is not None and row_limit < 1:
        raise SyngenError(f"--row_limit must be at least 1, got {row_limit}")
    with connected(url, f"reading table '{table}'") as connection:
        dialect = connection.dialect
        selectable = table_ref(table, dialect.name, *[sa.column(c.name) for c in columns])
        statement = sa.select(*selectable.columns)
        if drop_null:
            statement = statement.where(sa.and_(*[c.isnot(None) for c in selectable.columns]))
        primary = next((k.columns for k in schema.keys if k.type == "PK"), ())
        if keys is not None:
            frame = _rows_by_key(connection, statement, selectable.columns[keys[0]], list(keys[1]))
        elif head is not None:
            frame = _read_all(connection, statement.limit(head))
        elif (
            row_limit is None
            or row_limit
            >= connection.execute(sa.select(sa.func.count()).select_from(statement.subquery())).scalar_one()
        ):
            frame = _read_all(connection, statement)
        elif len(primary) == 1 and primary[0] in selectable.columns:
            frame = _sample_by_key(connection, statement, selectable.columns[primary[0]], row_limit, seed)
        else:
            frame = _priority_sample(connection, statement, row_limit, seed)
    if frame.empty:
        raise SyngenError(
            f"table '{table}' in {safe_url(url)} has no rows" + (" without nulls (--drop_null)" if drop_null else "")
        )
    from syngen.adapters.stored import fit_stored

    frame, columns, found = fit_stored(typed(frame, columns), columns, table, dialect)
    from syngen.adapters.checks import check_columns

    learnable = {c.name for c in columns}
    declared = TableSchema(
        table,
        columns,
        [k for k in schema.keys if all(c in learnable for c in k.columns)],
        checks=[c for c in schema.checks if check_columns(c) <= learnable],
    )
    return frame, notes + found, declared


def _chunks(connection, statement) -> Iterator[pd.DataFrame]:
    result = connection.execution_options(stream_results=True).execute(statement)
    names = list(result.keys())
    while rows := result.fetchmany(READ_CHUNK_ROWS):
        yield pd.DataFrame.from_records(rows, columns=names, coerce_float=False)


def _read_all(connection, statement) -> pd.DataFrame:
    if connection.dialect.name == "duckdb":
        from syngen.adapters.duckdb import read_frame

        return read_frame(connection, statement)
    parts = list(_chunks(connection, statement))
    return (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=[c.name for c in statement.selected_columns])
    )


def _sample_by_key(connection, statement, key, row_limit, seed) -> pd.DataFrame:
    subquery = statement.subquery()
    keys = pd.Series(connection.execute(sa.select(subquery.c[key.name])).scalars().all())
    chosen = np.sort(np.random.default_rng(seed).choice(len(keys), row_limit, replace=False))
    return _rows_by_key(connection, statement, key, keys.iloc[chosen].tolist())


def _rows_by_key(connection, statement, key, picked: list) -> pd.DataFrame:
    """The rows whose ``key`` is one of ``picked``, in that order; the keys travel in chunks."""
    parts = [
        _read_all(connection, statement.where(key.in_(picked[i : i + _KEY_SAMPLE_CHUNK])))
        for i in range(0, len(picked), _KEY_SAMPLE_CHUNK)
    ]
    order = {value: i for i, value in enumerate(picked)}
    frame = pd.concat(parts, ignore_index=True) if parts else _read_all(connection, statement.where(sa.false()))
    return frame.iloc[np.argsort(frame[key.name].map(order).to_numpy(), kind="stable")].reset_index(drop=True)


def _priority_sample(connection, statement, row_limit, seed) -> pd.DataFrame:
    """The ``row_limit`` rows with the smallest seeded random priorities, chunk by chunk."""
    rng = np.random.default_rng(seed)
    kept: pd.DataFrame | None = None
    for chunk in _chunks(connection, statement):
        chunk["__priority__"] = rng.random(len(chunk))
        kept = chunk if kept is None else pd.concat([kept, chunk], ignore_index=True)
        kept = kept.nsmallest(row_limit, "__priority__")
    assert kept is not None  # sampled only from more rows than the limit: one chunk at least
    return kept.sort_index().drop(columns="__priority__").reset_index(drop=True)


_INTEGER_TYPES = {"SmallInteger", "Integer", "BigInteger"}
_MIXED = ("mixed", "mixed-integer", "mixed-integer-float")
_BYTES = (bytes, bytearray, memoryview)


def typed(frame: pd.DataFrame, columns: list[ColumnSpec]) -> pd.DataFrame:
    """Raw database values typed as syngen reads CSV: numbers as numbers (integers stay
    integers with nulls), dates and times as ISO text, decimals as numbers, UUIDs as text,
    JSON documents as their text, binary values as bytes, and a column of mixed values (SQLite allows them) as a CSV
    export of it would read."""
    out = {}
    for spec in columns:
        values = frame[spec.name]
        present = values.dropna()
        first = present.iloc[0] if len(present) else None
        if isinstance(first, _BYTES) and present.map(lambda v: isinstance(v, _BYTES)).all():
            values = values.map(bytes, na_action="ignore")  # DuckDB gives bytearrays, psycopg bytes
        elif pd.api.types.infer_dtype(present, skipna=True) in _MIXED:
            values = numeric_or_text(values.astype(str).where(values.notna(), None))
        elif isinstance(first, (dict, list)):
            values = values.map(json.dumps, na_action="ignore")
        elif (
            spec.type["type"] in _INTEGER_TYPES or isinstance(first, (int, np.integer)) and not isinstance(first, bool)
        ):
            numbers = pd.to_numeric(values, errors="coerce")
            whole = numbers.dropna()
            if len(whole) == len(present) and (whole == np.floor(whole)).all():
                values = numbers.astype("Int64" if values.isna().any() else "int64")
        elif isinstance(first, decimal.Decimal):
            values = decimal_numbers(values)
        elif isinstance(first, dt.datetime) or pd.api.types.is_datetime64_any_dtype(values):
            values = pd.to_datetime(values)
        elif isinstance(first, (dt.date, dt.time)):
            values = values.map(lambda v: v.isoformat(), na_action="ignore")
        elif isinstance(first, uuid.UUID):
            values = values.astype("string").astype(object).where(values.notna(), None)
        out[spec.name] = values
    return pd.DataFrame(out, index=frame.index)
