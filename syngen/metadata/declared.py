"""Keys a database declares (PRIMARY KEY, UNIQUE, FOREIGN KEY) as metadata keys, and their
merge into a metadata file whose tables come from that database: where both speak of the
same key, the file wins."""

from __future__ import annotations

from dataclasses import replace

from syngen.adapters import sql
from syngen.metadata.model import Key, Metadata, Table


def declared_keys(schema: sql.TableSchema, tables) -> list[Key]:
    """The table's declared keys; FKs only towards ``tables`` (the ones in the run)."""
    return [k for k in schema.keys if k.type != "FK" or k.parent in tables]


def merge_declared(metadata: Metadata) -> tuple[Metadata, list[str]]:
    """The metadata with each database-sourced table's keys its database declares and the
    file does not; and one note per key added."""
    by_url: dict[str, list[str]] = {}
    for name, table in metadata.tables.items():
        source = metadata.resolve(table.source) if table.source else None
        if sql.is_database_url(source):
            by_url.setdefault(source, []).append(name)
    notes, tables = [], dict(metadata.tables)
    for url, names in by_url.items():
        schemas = sql.describe(url, names)
        for name in names:
            table = metadata.tables[name]
            declared = declared_keys(schemas[name], metadata.tables)
            for unknown in sorted(table.dropped_keys - {k.name for k in declared}):
                notes.append(
                    f"table '{name}': keys.{unknown} is null, but the database declares no key of "
                    f"that name (its keys: {', '.join(k.name for k in declared) or 'none'})"
                )
            tables[name] = with_unspoken(table, declared)
            for key in tables[name].keys[len(table.keys) :]:
                notes.append(
                    f"table '{name}': {key.type} {key.name} ({', '.join(key.columns)}) from the "
                    f"database (to leave it out: keys: {{{key.name}: null}})"
                )
    return replace(metadata, tables=tables), notes


def with_unspoken(table: Table, keys: list[Key]) -> Table:
    """``table`` with, after its own, the ``keys`` its file neither declares (by name, or type
    and columns; one PK at most) nor drops (``key: null``)."""
    added: list[Key] = []
    for key in keys:
        spoken = key.name in table.dropped_keys or any(
            k.name == key.name
            or (k.type, k.columns) == (key.type, key.columns)
            or (key.type == "PK" and k.type == "PK")
            for k in table.keys + added
        )
        if not spoken:
            added.append(key)
    return replace(table, keys=table.keys + added) if added else table
