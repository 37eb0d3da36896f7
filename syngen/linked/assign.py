"""Each generated child row's parent row: a table's size from its parents, its FK values drawn
from its generated parents' keys (children per parent calibrated to the source's, composite
keys of FKs kept unique, links that share columns drawn within the earlier link's group), and
loop-closing links filled once their parent table exists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from syngen.keys import key_tuples
from syngen.linked.links import avoid_self_links, calibrated_counts, count_column, link_rows, tree_links
from syngen.linked.parents import picked
from syngen.manifest import Links
from syngen.metadata.graph import Plan
from syngen.metadata.model import Key

_DEDUPE_ROUNDS = 100


@dataclass
class Generated:
    """What children need of a generated table: its rows, referenced keys, children counts."""

    rows: int = 0
    keys: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    key_parts: dict[tuple[str, ...], list[pd.DataFrame]] = field(default_factory=dict)  # batch by batch, until sealed
    count_parts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    expected: float = 0.0  # the rows it stands for: a copied table's scaled size, a table rounded up its share
    source_rows: int = 0  # the source's rows (not a sample's)
    sealed: bool = False

    def seal(self) -> None:
        """Join the parts gathered batch by batch, once the table's rows are all made."""
        self.counts = {c: np.concatenate(parts) for c, parts in self.count_parts.items()}
        self.keys = {k: pd.concat(parts, ignore_index=True) for k, parts in self.key_parts.items()}
        self.count_parts, self.key_parts, self.sealed = {}, {}, True


def assign_links(
    metadata, plan: Plan, name, links: Links, size, scale, generated, rng, report
) -> tuple[int, float, dict[str, pd.Series], dict[str, np.ndarray]]:
    """The table's size, the size it stands for (its children follow that one), the values
    of its (not late) FK columns, row by row, and per FK each row's parent row (-1: none).
    Without a size, a table without parents has ``scale`` times its source's rows; a child
    follows its parents."""
    table = metadata.tables[name]
    stats = {link["name"]: link for link in links.foreign_keys}
    driving = plan.driving_key(metadata, name)
    if size is not None:
        expected = float(size)
    elif driving is None:  # the source's size, also when a sample of it was learned
        expected = links.source_rows * scale
    else:
        # the source's rows times the share of its parents' source rows the parents stand
        # for: the counts drawn for a handful of parents would make the size of a whole
        # branch a lottery, a parent table rounded up to one row must not give its children
        # a whole table's worth, and a sample learned (row_limit) is not the source's size
        parent = generated[driving.parent]
        expected = links.source_rows * parent.expected / max(parent.source_rows, 1)
    if size is None:
        size = max(1, int(round(expected)))
    size = _room_for_least_children(table, plan, name, stats, generated, size, report)
    indices: dict[str, np.ndarray] = {}
    redraws: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for key in table.foreign_keys:
        if plan.is_late(name, key):
            continue
        parent = generated[key.parent]
        link = stats[key.name]
        earlier = _sharing(table, key, indices)
        if earlier:  # columns it shares with links drawn before decide its parent's group
            redraws[key.name] = _within_groups(key, earlier, indices, generated, rng)
            indices[key.name] = redraws[key.name](np.arange(size))
            continue
        least = link.get("min_children", 0)
        counts = calibrated_counts(parent.counts[count_column(name, key)], link.get("count_quantiles", []), rng, least)
        caps = [c for c in (_partners(table, key, generated), _most_children(link, size, len(counts))) if c is not None]
        indices[key.name] = link_rows(
            counts,
            size,
            link["null_share"],
            rng,
            keep_together=key == driving,
            cap=max(min(caps), least) if caps else None,
            least=least,
        )
    size, indices = _unique_fk_tuples(table, indices, generated, size, rng, report, redraws)
    values: dict[str, pd.Series] = {}
    for key in table.foreign_keys:
        if key.name in indices:
            made = key_values(generated[key.parent].keys[key.parent_columns], key, indices[key.name])
            # a grouped link agrees on the shared columns, or has no parent: those stay the earlier link's
            values.update({c: v for c, v in made.items() if key.name not in redraws or c not in values})
    return size, expected, values, indices


def _room_for_least_children(table, plan: Plan, name, stats, generated, size: int, report) -> int:
    """The table's size, raised where an FK's min_children needs more rows than that for
    every generated parent row to get its least number of children."""
    for key in table.foreign_keys:
        link = stats[key.name]
        least = link.get("min_children", 0)
        if not least or plan.is_late(name, key):
            continue
        needed = int(np.ceil(least * generated[key.parent].rows / max(1 - link["null_share"], 1e-9)))
        if needed > size:
            report.notes.append(
                f"{needed} rows instead of {size}, so that every '{key.parent}' row has at "
                f"least {least} (FK {key.name}: min_children)"
            )
            size = needed
    return size


def _most_children(link: dict, size: int, parents: int) -> int | None:
    """The most children a parent row may get: the source's most, times how much more
    children than parents were asked for (a copied parent whose children scale), so that
    a few parents do not take more than the source ever held (an airport's every hour)."""
    if not link.get("count_quantiles"):
        return None
    expected = link["children_per_parent"] * parents / max(1 - link["null_share"], 1e-9)
    return int(np.ceil(link["count_quantiles"][-1] * max(1.0, size / max(expected, 1e-9))))


def _partners(table, key: Key, generated) -> int | None:
    """When ``key`` is part of a PK/UQ made only of FKs, how many distinct partners a parent
    can have: the rows of the other parents in that key (a playlist holds each track once)."""
    fk_of = {c: k for k in table.foreign_keys for c in k.columns}
    for unique in table.unique_keys:
        if key.columns[0] in unique.columns and all(c in fk_of for c in unique.columns):
            others = {fk_of[c].name: fk_of[c] for c in unique.columns if fk_of[c] != key}
            if others and all(k.parent in generated for k in others.values()):
                return int(np.prod([generated[k.parent].rows for k in others.values()]))
    return None


def _sharing(table, key: Key, indices) -> list[Key]:
    """The links already drawn that share columns with ``key`` (a contestant's and an
    episode's season in a row of both)."""
    return [k for k in table.foreign_keys if k.name in indices and set(k.columns) & set(key.columns)]


def _within_groups(key: Key, earlier: list[Key], indices, generated, rng) -> Callable[[np.ndarray], np.ndarray]:
    """Parent rows for ``key``, drawn for some child rows among the parents that agree with
    the values the ``earlier`` links gave the shared columns (-1 where none does)."""
    shared = {}  # child column -> its values, from the earlier links' parents
    for other in earlier:
        for column, values in key_values(
            generated[other.parent].keys[other.parent_columns], other, indices[other.name]
        ).items():
            if column in key.columns:
                shared[column] = values
    columns = list(shared)
    parents = generated[key.parent].keys[key.parent_columns]
    parent_groups = key_tuples(parents.rename(columns=dict(zip(key.parent_columns, key.columns))), columns)
    child_groups = key_tuples(pd.DataFrame(shared), columns)
    unknown = pd.DataFrame(shared).isna().any(axis=1).to_numpy()
    codes, uniques = pd.factorize(parent_groups)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = pd.Index(uniques).get_indexer(child_groups)
    group[unknown] = -1

    def draw(rows: np.ndarray) -> np.ndarray:
        found = group[rows]
        picked = np.full(len(rows), -1, dtype=np.int64)
        ok = found >= 0
        offsets = (rng.random(int(ok.sum())) * sizes[found[ok]]).astype(np.int64)
        picked[ok] = order[starts[found[ok]] + offsets]
        return picked

    return draw


def _unique_fk_tuples(table, indices, generated, size, rng, report, redraws=None):
    """Make a PK/UQ made only of FK columns unique (a playlist holding a track twice) by
    swapping the repeated rows' last link with other rows' links: every parent keeps its
    number of children. A link drawn within the groups of links it shares columns with is
    drawn again there instead. Rows still repeated after the last round are left out, and
    reported."""
    redraws = redraws or {}
    fk_of = {c: k for k in table.foreign_keys if k.name in indices for c in k.columns}
    for key in table.unique_keys:
        if not all(c in fk_of for c in key.columns):
            continue
        keys = list(
            dict.fromkeys(k for k in table.foreign_keys if k.name in indices and set(k.columns) & set(key.columns))
        )
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: k.name in redraws)  # a grouped link moves, the others keep theirs
        moving = indices[keys[-1].name]
        parent_rows = generated[keys[-1].parent].rows
        for round_ in range(2 * _DEDUPE_ROUNDS):
            repeated = np.flatnonzero(_repeated(indices, keys))
            if not len(repeated):
                break
            if keys[-1].name in redraws:
                moving[repeated] = redraws[keys[-1].name](repeated)
            elif round_ < _DEDUPE_ROUNDS:
                partners = rng.integers(0, len(moving), len(repeated))
                moving[repeated], moving[partners] = moving[partners], moving[repeated]
            else:  # swapping cannot help (a parent needs more distinct partners than exist twice)
                moving[repeated] = rng.integers(0, parent_rows, len(repeated))
        keep = ~_repeated(indices, keys)
        if key.type == "PK":  # a primary key has no nulls: a row no parent had room for goes too
            keep &= np.all([indices[k.name] >= 0 for k in keys], axis=0)
        if not keep.all():
            report.notes.append(
                f"{key.type} {key.name}: {int((~keep).sum())} row(s) left out: "
                "no unused parent combination was found for them"
            )
            indices = {k: v[keep] for k, v in indices.items()}
            size = int(keep.sum())
    return size, indices


def _repeated(indices, keys) -> np.ndarray:
    frame = pd.DataFrame({k.name: indices[k.name] for k in keys})
    return frame.duplicated().to_numpy() & (frame >= 0).all(axis=1).to_numpy()


def key_values(parent_keys: pd.DataFrame, key: Key, rows: np.ndarray) -> dict[str, pd.Series]:
    return {c: picked(parent_keys[p], rows) for c, p in zip(key.columns, key.parent_columns)}


def fill_late_links(metadata, name, frame, links: Links, generated, rng, keys: list[Key]) -> None:
    """Fill the FK columns of ``keys`` (late links) once their parent table exists."""
    stats = {link["name"]: link for link in links.foreign_keys}
    for key in keys:
        parent = generated[key.parent]
        counts = calibrated_counts(
            parent.counts[count_column(name, key)], stats[key.name].get("count_quantiles", []), rng
        )
        null_share = stats[key.name]["null_share"]
        if key.parent == name and null_share > 0:
            rows = tree_links(counts, null_share, rng)
        else:
            rows = link_rows(counts, len(frame), null_share, rng, keep_together=False)
            if key.parent == name:
                avoid_self_links(rows, rng)
        for column, values in key_values(parent.keys[key.parent_columns], key, rows).items():
            frame[column] = values.set_axis(frame.index)
