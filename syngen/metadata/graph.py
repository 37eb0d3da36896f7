"""The FK graph: which table to make first, and which links close a loop.

Tables are ordered parents first (stdlib ``graphlib``). A self-reference, or one FK of each
cycle, is a *late* link: its table is generated first and the link filled in once the parent's
keys exist, so the output is valid whether or not that FK is nullable.
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter

from syngen.metadata.model import Key, Metadata


@dataclass
class Plan:
    order: list[str]
    late: set[tuple[str, str]]  # (table, FK name) filled after generation

    def is_late(self, table: str, key: Key) -> bool:
        return (table, key.name) in self.late

    def driving_key(self, metadata: Metadata, table: str) -> Key | None:
        """The FK whose parent's children-per-parent counts set this table's rows."""
        return next((k for k in metadata.tables[table].foreign_keys if not self.is_late(table, k)), None)


def plan(metadata: Metadata) -> Plan:
    tables = metadata.tables
    late = {(t.name, k.name) for t in tables.values() for k in t.foreign_keys if k.parent == t.name}
    while True:
        graph = {
            name: {k.parent_table for k in t.foreign_keys if (name, k.name) not in late} for name, t in tables.items()
        }
        try:
            return Plan(list(TopologicalSorter(graph).static_order()), late)
        except CycleError as error:
            # each node of the reported cycle is a parent of the next: cut the link that
            # makes the second one depend on the first
            parent, child = error.args[1][0], error.args[1][1]
            key = next(k for k in tables[child].foreign_keys if k.parent == parent and (child, k.name) not in late)
            late.add((child, key.name))
