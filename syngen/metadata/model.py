"""Metadata as plain objects: what the rest of syngen reads once the file has been checked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from syngen.adapters.spark_tables import is_spark


@dataclass(frozen=True)
class Key:
    """A key of a table, as metadata names it or as a database declares it (a constraint)."""

    name: str
    type: str  # PK, UQ, FK or TKN
    columns: tuple[str, ...]
    parent: str | None = None  # FK only: the referenced table and its columns
    parent_columns: tuple[str, ...] = ()
    min_children: int = 0  # FK only: the fewest rows of this table each parent row has
    declared_as: str | None = field(default=None, compare=False)  # the constraint's name in its database

    @classmethod
    def declared(
        cls,
        type: str,
        columns: tuple[str, ...],
        parent: str | None = None,
        parent_columns: tuple[str, ...] = (),
        declared_as: str | None = None,
    ) -> "Key":
        """A key a database declares, named as metadata would name it: ``pk``, ``uq_<columns>``,
        ``fk_<columns>``."""
        name = "pk" if type == "PK" else f"{type.lower()}_{snake(columns)}"
        return cls(name, type, tuple(columns), parent, tuple(parent_columns), declared_as=declared_as)

    @property
    def parent_table(self) -> str:
        """An FK's parent table (every FK names one)."""
        assert self.parent is not None, f"key {self.name} ({self.type}) references no table"
        return self.parent


@dataclass(frozen=True)
class Table:
    name: str
    source: str | None
    train_settings: dict = field(default_factory=dict)
    infer_settings: dict = field(default_factory=dict)
    keys: list[Key] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # column -> kind override
    formats: dict[str, str] = field(default_factory=dict)  # column -> strftime format
    rare_thresholds: dict[str, int] = field(default_factory=dict)  # column -> its own threshold
    csv_options: dict = field(default_factory=dict)  # the file's 'format' section
    dropped_keys: frozenset[str] = frozenset()  # names of declared keys the file drops (key: null)

    @property
    def primary_key(self) -> Key | None:
        return next((k for k in self.keys if k.type == "PK"), None)

    @property
    def foreign_keys(self) -> list[Key]:
        return [k for k in self.keys if k.type == "FK"]

    @property
    def unique_keys(self) -> list[Key]:
        """PK and UQ keys: column tuples that must not repeat."""
        return [k for k in self.keys if k.type in ("PK", "UQ")]


@dataclass(frozen=True)
class Metadata:
    """The metadata of a run, as read (and completed by what its databases declare): never
    changed once made; a step that adds to it makes a new one (``dataclasses.replace``)."""

    tables: dict[str, Table]
    path: Path | None = None

    def read_from(self, source: str) -> "Metadata":
        """The same tables, every one read from ``source`` (a database URL)."""
        return replace(self, tables={n: replace(t, source=source) for n, t in self.tables.items()})

    def resolve(self, location: str) -> str:
        """A source or destination path: relative ones are read from the metadata file's
        folder, or, for a source found only there, from the working folder (as the
        original syngen's files expect)."""
        if self.path is None or "://" in location or is_spark(location) or Path(location).is_absolute():
            return location
        beside = self.path.parent / location
        if not beside.exists() and Path(location).exists():
            return location
        return str(beside)


def snake(columns) -> str:
    """Column names as one lower-case identifier: ``("OrderID", "Line No")`` -> ``orderid_line_no``."""
    return "_".join(re.sub(r"[^a-z0-9]+", "_", str(c).lower()).strip("_") for c in columns)
