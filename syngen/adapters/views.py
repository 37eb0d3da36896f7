"""A source database's views, recreated in the target once its tables are committed.

A view is schema, not data: its SELECT is kept as text in the source's dialect, with the
tables and views it reads, and translated by sqlglot for the target. Each one is created in
a transaction of its own after the tables' (DuckDB cannot roll back to a savepoint), so a
view the target cannot run is listed as skipped, with its reason, and the rows stay written;
views over other views are created once those exist.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import sqlalchemy as sa

from syngen.adapters.sql import connected, safe_url

_SQLGLOT_DIALECTS = {"postgresql": "postgres"}  # SQLAlchemy's name -> sqlglot's


@dataclass(frozen=True)
class View:
    name: str
    query: str  # the SELECT, in the source's dialect
    dialect: str  # sqlglot's name of that dialect
    reads: tuple[str, ...]  # the tables and views it selects from


def read_views(url: str) -> tuple[list[View], list[str]]:
    """The database's views, and one note per view whose SQL sqlglot cannot read (or one
    for all, where the dialect cannot list views): views are kept where they can be, and
    never stop a run."""
    import sqlglot
    from sqlglot import exp

    with connected(url, "reading views") as connection:
        dialect = _SQLGLOT_DIALECTS.get(connection.dialect.name, connection.dialect.name)
        found: Sequence[Sequence]  # (name, SQL) rows
        if connection.dialect.name == "duckdb":
            found = connection.exec_driver_sql(
                "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal AND NOT temporary"
            ).fetchall()
        else:
            inspector = sa.inspect(connection)
            try:
                found = [(name, inspector.get_view_definition(name)) for name in inspector.get_view_names()]
            except NotImplementedError:
                return [], [
                    f"views of {safe_url(url)} are not kept: SQLAlchemy's {connection.dialect.name} "
                    "dialect cannot list them"
                ]
    views, notes = [], []
    for name, text in found:
        try:
            tree = sqlglot.parse_one(text or "", read=dialect)
        except sqlglot.errors.SqlglotError as error:
            reason = str(error).splitlines()[0] if text else "the database does not give it"
            notes.append(f"view '{name}' is left out: its SQL could not be read ({reason})")
            continue
        query = tree.expression if isinstance(tree, exp.Create) else tree
        ctes = {cte.alias_or_name for cte in query.find_all(exp.CTE)}
        reads = sorted({t.name for t in query.find_all(exp.Table) if t.name not in ctes})
        views.append(View(name, query.sql(dialect=dialect), dialect, tuple(reads)))
    return views, notes


def save(views: list[View], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(v) for v in views], indent=1))


def load(path: Path) -> list[View]:
    if not path.is_file():
        return []
    return [View(v["name"], v["query"], v["dialect"], tuple(v["reads"])) for v in json.loads(path.read_text())]


def within(views: Sequence[View], tables) -> list[View]:
    """The views that read only ``tables`` and such views, each after the views it reads."""
    kept: list[View] = []
    names = set(tables)
    for _ in range(len(views)):
        added = [v for v in views if v not in kept and set(v.reads) <= names | {k.name for k in kept}]
        if not added:
            break
        kept += added
    return kept


def create_views(engine: sa.Engine, views: list[View]) -> list[str]:
    """Create ``views`` the target does not have yet (an append keeps an earlier run's);
    returns one note per view skipped (the target could not run its translated SQL)."""
    import sqlglot

    target = _SQLGLOT_DIALECTS.get(engine.dialect.name, engine.dialect.name)
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as connection:
        present = set(sa.inspect(connection).get_view_names())
    pending, reasons = [v for v in views if v.name not in present], {}
    while pending:
        created = []
        for view in pending:
            try:
                # quoted as written: PostgreSQL folds bare names to lower case, SQLite ignores case
                query = sqlglot.transpile(view.query, read=view.dialect, write=target, identify=True)[0]
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"CREATE VIEW {quote(view.name)} AS {query}")
                created.append(view)
            except sqlglot.errors.SqlglotError as error:
                reasons[view.name] = str(error).splitlines()[0]
            except sa.exc.DBAPIError as error:
                reasons[view.name] = str(error.orig).splitlines()[0]
        if not created:
            break
        pending = [v for v in pending if v not in created]
    return [f"view '{v.name}' skipped: the target could not run it ({reasons.get(v.name, 'unknown')})" for v in pending]


def drop_views(connection: sa.Connection, views: list[View]) -> None:
    """Drop the target's views of these names (an earlier run's), before their tables go;
    ``views`` come readers last (as ``within`` orders them), so they go first."""
    quote = connection.dialect.identifier_preparer.quote
    for view in reversed(views):
        connection.exec_driver_sql(f"DROP VIEW IF EXISTS {quote(view.name)}")
