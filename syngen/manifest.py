"""What a run knows of a trained table beside its model: where its rows came from, how to
write them back, and (linked runs) how it links to other tables.

The engine's model (``model.json``) knows columns only; this manifest (``manifest.json``,
written in the same folder and swapped in with it) is the run's. A table that was empty in
its source has a manifest and no model: it is created, empty, with its schema.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from syngen.errors import SyngenError
from syngen.metadata.model import Key

MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class Schema:
    """How the table is created in a database: its columns (``ColumnSpec.to_dict``), the text
    formats of its dates, its PK/UQ keys and CHECKs; and how its source file wrote its header
    and numbers, for output files in the same form."""

    columns: list[dict]
    formats: dict[str, str]
    keys: list[Key]
    checks: list[str] = field(default_factory=list)  # portable SQL (adapters.checks)
    headers: dict[str, str] = field(default_factory=dict)
    written: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Links:
    """What a linked run learned of the table's place among the others.

    ``foreign_keys``: per FK, its children-per-parent statistics (``count_quantiles``,
    ``null_share``, ...); ``copies`` and ``context``: per FK, column -> the parent column it
    copies or its model takes as context; ``numbered``: per FK, columns numbering each
    parent's rows -> their first number; ``aggregates``: parent columns that total children
    (``linked.aggregates.Aggregate.state``); ``keys``: every key, the source's own included."""

    columns: list[str]
    foreign_keys: list[dict]
    keys: list[Key]
    source_rows: int
    tokens: dict[str, dict] = field(default_factory=dict)
    copies: dict[str, dict[str, str]] = field(default_factory=dict)
    context: dict[str, dict[str, str]] = field(default_factory=dict)
    numbered: dict[str, dict[str, int]] = field(default_factory=dict)
    aggregates: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Manifest:
    """``run``: the id of the linked training run the table's model belongs to (all models of
    one ``infer --metadata_path`` must share it); ``links``: None for a table trained alone."""

    source: str
    rows: int
    schema: Schema
    run: str | None = None
    links: Links | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, default=_plain)

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        document = json.loads(text)
        schema = document["schema"]
        links = document.get("links")
        return cls(
            source=document["source"],
            rows=int(document["rows"]),
            schema=Schema(**{**schema, "keys": _keys(schema["keys"])}),
            run=document.get("run"),
            links=None if links is None else Links(**{**links, "keys": _keys(links["keys"])}),
        )


def _plain(value):
    """NumPy's numbers (a count, a share) as JSON's."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not plain data")


def _keys(documents: list[dict]) -> list[Key]:
    return [
        Key(**{**k, "columns": tuple(k["columns"]), "parent_columns": tuple(k.get("parent_columns", ()))})
        for k in documents
    ]


def load(folder: Path) -> Manifest:
    """The manifest in a table's model folder; a missing or damaged one is one line."""
    path = folder / MANIFEST_FILE
    try:
        return Manifest.from_json(path.read_text())
    except FileNotFoundError:
        raise SyngenError(
            f"'{folder}' holds no {MANIFEST_FILE}: it was trained by an older syngen; train again"
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise SyngenError(f"the manifest '{path}' is damaged ({type(error).__name__}); train again") from None
