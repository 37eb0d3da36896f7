"""Where a run's generated tables go: files (one per table) or databases (one transaction
per database), behind one small interface, so that a run is all-or-nothing either way.

A run calls, per table and parents first, ``write`` (rows streamed) or ``hold`` (a table
whose loop-closing FK columns are not known yet, given whole with those columns empty), then
``complete`` for the held tables once every table exists. Staged files are published and
database transactions committed only when the whole run succeeded.
"""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd
import sqlalchemy as sa

from syngen.adapters import sql
from syngen.adapters.files import (
    discard,
    is_remote,
    missing_folders,
    output_format,
    publish,
    remove_made,
    stage_batches,
)
from syngen.adapters.sql import is_database_url, safe_url
from syngen.adapters.sql_write import DatabaseWriter, TableSpec
from syngen.adapters.views import View, within
from syngen.errors import SyngenError


class FileTargets:
    """Each table to its own file; all files appear together at the end of the run."""

    def __init__(
        self, paths: dict[str, str], headers: dict[str, dict] | None = None, written: dict[str, dict] | None = None
    ):
        self.paths = paths
        self.headers = headers or {}  # per table, its names as its source file wrote them
        self.written = written or {}  # per table, how its source file writes numbers
        self.notes: dict[str, list[str]] = {}
        self._staged: dict[str, str] = {}
        self._made: list[Path] = []  # folders the staging made, removed again if the run fails

    def write(self, name: str, batches: Iterable[pd.DataFrame]) -> int:
        self._made += missing_folders(self.paths[name])
        self._staged[name], rows = stage_batches(
            batches, self.paths[name], self.headers.get(name), self.written.get(name)
        )
        return rows

    def hold(self, name: str, frame: pd.DataFrame) -> None:
        """Files are written whole at the end, when the loop is closed."""

    def complete(self, name: str, frame: pd.DataFrame, filled: Sequence[str] = ()) -> None:
        self.write(name, [frame])

    def commit(self) -> None:
        for name, staging in list(self._staged.items()):
            publish(staging, self.paths[name])
            del self._staged[name]

    def abort(self) -> None:
        for staging in self._staged.values():
            discard(staging)
        remove_made(self._made)


class DatabaseTarget:
    def __init__(self, writer: DatabaseWriter):
        self.writer = writer
        self.notes = writer.notes

    @property
    def view_notes(self) -> list[str]:
        """Views of the source the target could not run (known once the run is committed)."""
        return self.writer.view_notes

    def write(self, name: str, batches: Iterable[pd.DataFrame]) -> int:
        return self.writer.insert(name, batches)

    def hold(self, name: str, frame: pd.DataFrame) -> None:
        """Insert the rows now with their loop-closing columns empty; ``complete`` fills them."""
        self.writer.insert(name, [frame.assign(**{c: None for c in self.writer.specs[name].closing_columns})])

    def complete(self, name: str, frame: pd.DataFrame, filled: Sequence[str] = ()) -> None:
        """Set the loop-closing columns, and ``filled`` ones (totals of children, known once
        they exist), of the rows ``hold`` inserted."""
        self.writer.fill_later(name, frame, self.writer.specs[name].closing_columns + list(filled))


def describe_target(location: str) -> str:
    return safe_url(location) if is_database_url(location) else str(location)


def check_location(location: str) -> None:
    """Fail before any work on an output that cannot be written: a malformed database URL,
    an unsupported file type, a folder where the file would go."""
    if is_database_url(location):
        sql.check_target(location)
        return
    output_format(location)
    if not is_remote(location) and Path(location).is_dir():
        raise SyngenError(f"cannot write '{location}': it is a folder; give a file name")


@contextmanager
def open_targets(
    locations: dict[str, str],
    specs: dict[str, TableSpec],
    if_exists: str = "fail",
    views: Sequence[View] = (),
    headers: dict[str, dict] | None = None,
    written: dict[str, dict] | None = None,
) -> Iterator[dict[str, FileTargets | DatabaseTarget]]:
    """Targets for the tables (in write order): each database URL gets one writer and one
    transaction; files are staged, their columns named as the sources wrote them
    (``headers``; a database's must be unique, so it keeps the names used inside), their
    numbers as the sources wrote them (``written``: decimal commas, thousands, decimals).
    Everything commits together when the block succeeds. A database gets the ``views``
    that read only tables written to it."""
    by_url: dict[str, list[str]] = {}
    files = {}
    for name, location in locations.items():
        if is_database_url(location):
            by_url.setdefault(location, []).append(name)
        else:
            files[name] = str(location) if "://" in str(location) else os.fspath(Path(location))
    file_targets = FileTargets(files, headers, written)
    targets: dict[str, FileTargets | DatabaseTarget] = {name: file_targets for name in files}
    try:
        with ExitStack() as stack:
            for url, names in by_url.items():
                writer = stack.enter_context(
                    DatabaseWriter(url, [specs[n] for n in names], if_exists, within(views, names))
                )
                target = DatabaseTarget(writer)
                targets.update({n: target for n in names})
            yield targets
    except BaseException:
        file_targets.abort()
        raise
    file_targets.commit()


def existing_rows(location: str, table: str, columns: list[str]) -> pd.DataFrame | None:
    """The ``columns`` of the rows a database table already holds (None: no such table), so
    that rows appended to it can take keys after them."""
    if not is_database_url(location) or not columns:
        return None
    file = sql.database_file(location)
    schema = sql.split_name(table, sa.make_url(location).get_backend_name())[0]
    if (
        (file is not None and not file.exists())
        or table not in sql.table_names(location, schema)
        or not sql.row_counts(location, [table])[table]
    ):
        return None
    return sql.read_table(location, table, only=columns)[0]
