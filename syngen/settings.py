"""A run's settings per table, typed, with the one home of their defaults.

A table's settings come from three places: the metadata file's ``train_settings`` /
``infer_settings`` (which win), the command line, then these defaults. The command line's
options take their defaults from here too.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypeVar, get_args, get_type_hints

from syngen.privacy import RARE_THRESHOLD


@dataclass(frozen=True)
class TrainSettings:
    epochs: int | None = None  # None: chosen from the table size (early stopping may end sooner)
    row_limit: int | None = None  # learn a sample of this many rows (closed under the FKs)
    drop_null: bool = False
    batch_size: int = 256  # training rows per optimisation step
    random_seed: int | None = None
    rare_threshold: int = RARE_THRESHOLD  # values held by fewer rows are never generated as they are
    copy: bool = False  # a reference table kept as it is
    orphans: str = "link"  # child rows whose FK has no parent row: "link", "null" ("keep") or "drop"


@dataclass(frozen=True)
class Spark:
    """Batches made by Apache Spark tasks (``infer --engine spark``); a run's, not a table's."""

    master: str | None = None  # None: the running session, spark-submit's master, or local[*]


@dataclass(frozen=True)
class InferSettings:
    size: int | None = None  # None: the source's rows times ``scale`` (children follow their parents)
    scale: float = 1.0
    run_parallel: bool = False
    batch_size: int | None = None  # None: the engine's batch (bounded memory)
    random_seed: int | None = None
    spark: Spark | None = None  # None: batches made on this machine


Settings = TypeVar("Settings", TrainSettings, InferSettings)


def resolve(kind: type[Settings], own: dict, given: dict) -> tuple[Settings, list[str]]:
    """The settings of one table: ``own`` (the metadata file's) win over ``given`` (the
    command line's), which win over the defaults; None means not set. Also returns the names
    of command-line values the file overrode."""
    names = {f.name for f in fields(kind)}
    own = {k: _typed(kind, k, v) for k, v in own.items() if v is not None and k in names}
    given = {k: _typed(kind, k, v) for k, v in given.items() if v is not None and k in names}
    ignored = sorted(k for k, v in given.items() if k in own and own[k] != v)
    return kind(**{**given, **own}), ignored


def _typed(kind: type, name: str, value):
    """A whole number written with a point (``random_seed: 42.0``, which the metadata's JSON
    Schema takes for an integer) as the int its setting is."""
    hint = get_type_hints(kind)[name]
    if isinstance(value, float) and value.is_integer() and (hint is int or int in get_args(hint)):
        return int(value)
    return value
