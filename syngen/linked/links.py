"""The link math of linked tables, free of tables and models: how many children each parent
row gets (the source's distribution of counts kept as quantiles, scaled to a size), which
parent row each child row takes, and links of a table to itself as a forest."""

from __future__ import annotations

import numpy as np
import pandas as pd

from syngen.keys import key_tuples
from syngen.metadata.model import Key

COUNT_PREFIX = "__children__"  # the parent's model learns its children per parent as such a column
COUNT_QUANTILES = 1001  # the source's distribution of children per parent row, kept to 0.1%


def count_column(child: str, key: Key) -> str:
    return f"{COUNT_PREFIX}{child}.{key.name}"


def count_quantiles(counts: np.ndarray) -> list[float]:
    """The source's children per parent row as a model keeps them: every count, sorted, where
    the parents are at most ``COUNT_QUANTILES`` (a run at the source's size gets them exactly:
    quantiles read back at 18 playlists made 3,290 tracks 3,284), else that many quantiles."""
    if not len(counts):
        return []
    if len(counts) <= COUNT_QUANTILES:
        return np.sort(np.asarray(counts, dtype=np.float64)).tolist()
    return np.quantile(counts, np.linspace(0, 1, COUNT_QUANTILES)).tolist()


def calibrated_counts(counts: np.ndarray, quantiles: list[float], rng, minimum: int = 0) -> np.ndarray:
    """The model's children per parent row, given the source's distribution: parents ranked by
    the model's counts (ties at random) take the source's quantiles at evenly spaced
    positions, smallest to largest, so as many parents as the source had get exactly its
    counts, and a relation where few parents have children (weather at 3 of 1,458 airports)
    keeps that shape at any number of parents, as category shares are kept. With no
    children at all drawn, the top-ranked parent takes them (not all parents evenly); none
    gets fewer than ``minimum`` (the key's min_children)."""
    n = len(counts)
    if not n or not quantiles:
        return counts
    order = np.lexsort((rng.random(n), np.asarray(counts, dtype=np.float64)))
    target = np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(quantiles)), quantiles)
    calibrated = np.empty(n)
    calibrated[order] = np.sort(target)
    if calibrated.sum() <= 0:
        calibrated[order[-1]] = 1.0
    return np.maximum(calibrated, minimum)


def children_per_parent(child: pd.DataFrame, parent: pd.DataFrame, key: Key) -> np.ndarray:
    """How many child rows each parent row has through ``key`` (zeros included)."""
    linked = child[list(key.columns)].notna().all(axis=1)
    per_key = key_tuples(child[linked], key.columns).value_counts()
    return key_tuples(parent, key.parent_columns).map(per_key).fillna(0).astype(np.int64).to_numpy()


def link_rows(
    counts: np.ndarray, size: int, null_share: float, rng, keep_together: bool, cap: int | None = None, least: int = 0
) -> np.ndarray:
    """For ``size`` child rows, the parent row each links to (-1: none).

    Parents get children in proportion to their learned counts, at least ``least`` and at
    most ``cap`` each; the driving link keeps each parent's children together, as exports
    usually list them.
    """
    linked = int(round(size * (1 - null_share)))
    if least and least * len(counts) <= linked:  # the least first, the rest in proportion
        per_parent = least + scale_counts(
            np.clip(np.asarray(counts, dtype=np.float64) - least, 0, None),
            linked - least * len(counts),
            rng,
            cap - least if cap is not None else None,
        )
    else:
        per_parent = scale_counts(counts, linked, rng, cap)
    parents = np.repeat(np.arange(len(counts)), per_parent)
    if not keep_together:
        parents = rng.permutation(parents)
    rows = np.full(size, -1, dtype=np.int64)
    slots = np.sort(rng.choice(size, len(parents), replace=False)) if len(parents) < size else np.arange(size)
    rows[slots] = parents
    return rows


def scale_counts(counts: np.ndarray, total: int, rng, cap: int | None = None) -> np.ndarray:
    """Integer counts in the same proportions, summing to ``total``; with ``cap``, what a
    parent would get beyond it goes to the others, in proportion too (while they have room)."""
    scaled = proportional(counts, total, rng)
    if cap is None or cap * len(scaled) < total:  # no room for all: the repeats are reported later
        return scaled
    for _ in range(20):
        excess = int(np.clip(scaled - cap, 0, None).sum())
        room = np.clip(cap - scaled, 0, None)
        if not excess or not room.sum():
            break
        scaled = np.minimum(scaled, cap)
        weights = np.where(room > 0, np.asarray(counts, dtype=np.float64).clip(min=0) + 1e-9, 0.0)
        scaled += np.minimum(proportional(weights, excess, rng), room)
    scaled = np.minimum(scaled, cap)
    short = total - int(scaled.sum())
    if short > 0:  # what rounding left over goes to the parents with the most room, so no child is left out
        order = np.argsort(scaled - cap, kind="stable")
        room = (cap - scaled)[order]
        given = np.minimum(room, np.clip(short - (np.cumsum(room) - room), 0, None))
        scaled[order] += given
    return scaled


def proportional(counts: np.ndarray, total: int, rng) -> np.ndarray:
    """Integer counts in the same proportions as ``counts``, summing to ``total``."""
    counts = np.asarray(counts, dtype=np.float64).clip(min=0)
    if counts.sum() == 0:
        counts = np.ones_like(counts)
    exact = counts * (total / counts.sum())
    scaled = np.floor(exact).astype(np.int64)
    short = total - int(scaled.sum())
    if short > 0:
        remainder = exact - scaled
        weights = remainder / remainder.sum() if remainder.sum() > 0 else None
        scaled[rng.choice(len(counts), short, replace=False, p=weights)] += 1
    return scaled


def tree_links(counts: np.ndarray, null_share: float, rng) -> np.ndarray:
    """A table's links to itself as a forest (an org chart, a category tree): roots have no
    parent and every other row hangs below one, so no chain of links loops back on itself.
    Rows keep about their learned number of children, and rows with more children sit
    nearer the roots (a root is drawn in proportion to its children, like a CEO)."""
    size = len(counts)
    roots = min(size, max(1, int(round(size * null_share))))
    slots = scale_counts(counts, size - roots, rng)
    weights = slots + 1e-6
    top = rng.choice(size, roots, replace=False, p=weights / weights.sum())
    rest = np.setdiff1d(np.arange(size), top)
    rest = rest[np.lexsort((rng.random(len(rest)), -slots[rest]))]  # busiest first, ties at random
    rows = np.full(size, -1, dtype=np.int64)
    level, placed = top, 0
    while placed < len(rest):
        parents = rng.permutation(np.repeat(level, slots[level]))
        if not len(parents):  # the placed rows have no room left: the rest hang below any of them
            rows[rest[placed:]] = rng.choice(np.concatenate([top, rest[:placed]]), len(rest) - placed)
            break
        children = rest[placed : placed + len(parents)]
        rows[children] = parents[: len(children)]
        level, placed = children, placed + len(children)
    return rows


def avoid_self_links(rows: np.ndarray, rng) -> None:
    """A row that would reference itself swaps its link with another row's; where every
    candidate holds the same parent, it links to another row at random (or to none in a
    one-row table)."""
    own = np.flatnonzero(rows == np.arange(len(rows)))
    for row in own:  # few rows: those whose drawn parent happens to be themselves
        other = int(rng.integers(len(rows)))
        if rows[other] != row and rows[row] != other:
            rows[row], rows[other] = rows[other], rows[row]
    still = np.flatnonzero(rows == np.arange(len(rows)))
    if len(rows) < 2:
        rows[still] = -1
    elif len(still):
        rows[still] = (still + rng.integers(1, len(rows), len(still))) % len(rows)
