"""Categorical columns, and numbers of few values, drawn again given the rest of their row.

The decoder draws each column on its own given the latent code, so a category that real
rows tie to exact values of other columns (a diamond's cut to its depth and table, a loan
applicant's home to their standard expenses) follows them only as far as the code carries
it, and a classifier told generated rows from real ones by that (diamonds: detection AUC
0.73, 0.66 with the redraws; credit 0.67, 0.60).

So at fit a decision tree learns each such column's odds given the other columns the
autoencoder learns (a relation's residual in its target's place; no column a link fixes),
and generation draws the column again from the leaf its decoded row falls in, one column
after another: one sweep of Gibbs sampling, which keeps the rest of the row and gives the
column the source's odds for it. Each leaf holds the shares of at least ``min_rows``
source rows; split points lie halfway between two values of a measure (as the codecs'
quantiles do, they name no row); the values drawn are a category's slots, or the observed
values a number's codec snaps to (those enough people share; a value in its tails stays as
decoded).

Numbers of many values (measures) are drawn again the same way, after the categories, one
after another in the table's order: each from a regression tree over the columns but the
measures after it (and a relation's residual, which the measure moves), its leaves holding
the mean and spread of at least ``MEASURE_LEAF_ROWS`` source rows on the number's codec
scale, drawn as a normal there and mapped back through the codec's quantiles. Measures in
order, each given those before it, are one autoregressive draw: a city's house sales in a
year, then their median price given them (txhousing: detection AUC 0.90 -> 0.72). A loose
relation's residual is a measure too, after the others.

Trees are evaluated in NumPy, all rows a level at a time: no scikit-learn at generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Collection

import numpy as np

from syngen.engine.encoders import QuantileNormal

MAX_LEAVES = 256
MIN_LEAF_ROWS = 20  # at least; and the rare threshold, and a thousandth of the rows
FIT_ROWS = 50_000  # trees are grown on a sample of this many rows
MIN_GAIN = 0.02
LOST_SHARE = 0.5
MAX_SHIFT = 0.1  # total variation between the column's source shares and a redraw's over generated rows
HUGE = 1e30
MAX_LEVELS = 100  # a number of more values is not redrawn: too few rows would hold each
# nor one with more of its rows in its tails, past the values enough people share (the tree
# would draw them as the nearest shared value: a heap at a delay of 105 minutes)
MAX_TAIL_SHARE = 0.01
HELD_OUT = 0.2  # of which this share is kept to measure how well the tree knows the source
# numbers of many values (measures) are drawn from a leaf's normal on their codec's scale; a
# leaf holds at least this many rows (and the rare threshold): a city's sales in one year
MEASURE_LEAF_ROWS = 10
MAX_MEASURE_LEAVES = 2000
MIN_HELD_ROWS = 100  # held-out rows that judge a measure's tree: on mpg's 37 cars, chance passed a
# chain whose first tree knew engine sizes worse than their shares (detection AUC 0.73 -> 0.86)
MIN_SPREAD = 0.1  # of a leaf's normal, when its likelihood is measured (a leaf of one repeated value)
MIN_MEASURE_GAIN = 0.25  # nats a row, over the measures, their trees must know them by: diamonds'
# (0.09: a carat from its cut, colour and clarity) only blurred rows the decoder makes well


@dataclass
class Redraw:
    """One column's tree (a category, or a number of few values) over the columns in ``inputs``."""

    column: str
    inputs: list[str]
    feature: np.ndarray  # per node: the input it splits on (0 at leaves)
    threshold: np.ndarray  # rows at most this go left (+inf at leaves)
    left: np.ndarray  # per node: its children (a leaf's are itself)
    right: np.ndarray
    blank_left: np.ndarray  # where blank rows go
    odds: np.ndarray  # per node: cumulative shares of the column's levels (leaves only used)
    levels: np.ndarray  # the column's values as trees read them, ascending (a blank last, NaN)
    source_fit: float = 0.0  # at fit only: log_likelihood of held-out source rows,
    marginal_fit: float = 0.0  # and theirs by the column's shares alone

    @cached_property
    def depth(self) -> int:
        """Steps from the root to the deepest leaf (every row walks them all; leaves stay put)."""
        depth, level = 0, np.zeros(1, dtype=np.int64)
        while len(level):
            inner = level[self.left[level] != level]
            level = np.concatenate([self.left[inner], self.right[inner]])
            depth += bool(len(level))
        return depth

    def leaves(self, rows: np.ndarray, columns: list[int]) -> np.ndarray:
        """The leaf of each of ``rows`` (float32, one column per name; ``columns`` are the
        positions of this tree's inputs in it)."""
        rows = np.ascontiguousarray(rows)
        flat, start = rows.ravel(), np.arange(len(rows)) * rows.shape[1]
        feature = np.asarray(columns, dtype=np.int64)[self.feature]
        node = np.zeros(len(rows), dtype=np.int64)
        for _ in range(self.depth):
            value = flat[start + feature[node]]
            right = ~(value <= self.threshold[node])  # blanks too, unless the tree sends them left
            if self._blanks_left:
                right &= ~(np.isnan(value) & self.blank_left[node])
            node = self._children[2 * node + right]
        return node

    @cached_property
    def _children(self) -> np.ndarray:
        """Each node's left and right child, side by side."""
        return np.column_stack([self.left, self.right]).ravel()

    @cached_property
    def _blanks_left(self) -> bool:
        return bool(self.blank_left.any())

    def draw(self, rows: np.ndarray, columns: list[int], rng: np.random.Generator) -> np.ndarray:
        """A value per row (one of ``levels``), by its leaf's shares."""
        odds = self.odds[self.leaves(rows, columns)]
        return self.levels[np.minimum((odds < rng.random(len(rows))[:, None]).sum(axis=1), odds.shape[1] - 1)]

    def slots(self, values: np.ndarray) -> np.ndarray:
        return _slots(self.levels, values)

    def log_likelihood(self, rows: np.ndarray, columns: list[int], values: np.ndarray) -> float:
        """The mean log share the rows' leaves give their values."""
        return _mean_log_share(self.odds[self.leaves(rows, columns)], self.slots(values))

    ARRAYS = ("feature", "threshold", "left", "right", "blank_left", "odds", "levels")

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {"column": self.column, "inputs": self.inputs}, {k: getattr(self, k) for k in self.ARRAYS}

    def shift(self, rows: np.ndarray, columns: list[int]) -> float:
        """Total variation between the column's source shares and its draws over ``rows``."""
        odds = self.odds[self.leaves(rows, columns)].astype(np.float64)
        drawn = np.diff(odds, axis=1, prepend=0.0).mean(axis=0)
        source = np.diff(self.odds[0].astype(np.float64), prepend=0.0)
        return 0.5 * float(np.abs(drawn - source).sum())

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Redraw":
        feature, threshold, left, right, blank_left, odds, levels = (arrays[k] for k in cls.ARRAYS)
        kind = Measure if meta.get("measure") else Redraw
        return kind(meta["column"], list(meta["inputs"]), feature, threshold, left, right, blank_left, odds, levels)


@dataclass
class Measure(Redraw):
    """A number of many values (a city's monthly sales, an hour's temperature) drawn again
    given the columns before it: the decoder blurs what a few other columns fix (a city's
    sales in a given year), a tree's leaves of a few rows keep it. ``odds`` holds each node's
    mean and spread of the number on its codec's normal scale, ``levels`` the codec's
    quantiles (``encoders.QuantileNormal``), through which drawn values become numbers."""

    @cached_property
    def _scale(self) -> QuantileNormal:
        return QuantileNormal(self.levels)

    def draw(self, rows: np.ndarray, columns: list[int], rng: np.random.Generator) -> np.ndarray:
        normal = self.odds[self.leaves(rows, columns)].astype(np.float64)
        return self._scale.inverse(normal[:, 0] + normal[:, 1] * rng.standard_normal(len(rows)))

    def log_likelihood(self, rows: np.ndarray, columns: list[int], values: np.ndarray) -> float:
        present = ~np.isnan(values)
        normal = self.odds[self.leaves(rows[present], columns)].astype(np.float64)
        return _normal_log_likelihood(self._scale.transform(values[present]), normal)

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta, arrays = super().state()
        return {**meta, "measure": True}, arrays


def fit_redraws(
    columns: dict[str, np.ndarray],
    levels: dict[str, np.ndarray],
    min_rows: int,
    seed: int,
    measures: dict[str, QuantileNormal] | None = None,
    composed: Collection[str] = (),
) -> list[Redraw]:
    """A tree for each column of ``levels`` (name -> the values it takes, as in ``columns``:
    a category's slot indexes, a number's observed values) over all other ``columns``
    (numbers, NaN for blanks; dates as seconds), where it splits at all; then one for each
    of ``measures`` (name -> its codec's scale), over the other columns but the measures
    after it and the ``composed`` ones (a relation's residual, which its inputs move): drawn
    in that order, each measure follows those before it (autoregressive)."""
    from sklearn.tree import DecisionTreeClassifier  # fit only: generation never loads it

    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    rows = (
        np.arange(n) if n <= FIT_ROWS else np.sort(np.random.default_rng([seed, 11]).choice(n, FIT_ROWS, replace=False))
    )
    matrix = as_rows({c: columns[c][rows] for c in names}) if names else None
    leaf = max(MIN_LEAF_ROWS, min_rows, len(rows) // 1000)
    redraws = []
    held = np.random.default_rng([seed, 12]).random(len(rows)) < HELD_OUT
    for column, values in levels.items():
        inputs = [c for c in names if c != column]
        if not inputs or (~held).sum() < 2 * max(leaf, len(values)):  # too few rows to learn its odds
            continue
        assert matrix is not None  # a column with inputs has names
        y = _slots(values, columns[column][rows])
        x = matrix[:, [names.index(c) for c in inputs]]
        tree = DecisionTreeClassifier(min_samples_leaf=leaf, max_leaf_nodes=MAX_LEAVES, random_state=seed)
        tree.fit(x[~held], y[~held])
        if tree.tree_.node_count > 1:
            redraw = _from_tree(column, inputs, tree, values)
            redraw.source_fit = _mean_log_share(redraw.odds[redraw.leaves(x[held], list(range(len(inputs))))], y[held])
            redraw.marginal_fit = _mean_log_share(redraw.odds[np.zeros(int(held.sum()), dtype=np.int64)], y[held])
            redraws.append(redraw)
    if matrix is not None and measures:
        leaf = max(MEASURE_LEAF_ROWS, min_rows)
        redraws += _fit_measures(names, matrix, columns, rows, held, measures, set(composed), leaf, seed)
    return redraws


def _fit_measures(
    names: list[str],
    matrix: np.ndarray,
    columns: dict[str, np.ndarray],
    rows: np.ndarray,
    held: np.ndarray,
    measures: dict[str, QuantileNormal],
    composed: set[str],
    leaf: int,
    seed: int,
) -> list[Redraw]:
    """A regression tree per measure on its codec's normal scale, over the columns but the
    measures after it; each node keeps the mean and spread of its rows there."""
    from sklearn.tree import DecisionTreeRegressor

    order = list(measures)
    found: list[Redraw] = []
    for i, column in enumerate(order):
        inputs = [c for c in names if c != column and c not in order[i + 1 :] and c not in composed]
        x_all = columns[column][rows]
        present = ~np.isnan(x_all)
        fit, test = present & ~held, present & held
        if not inputs or fit.sum() < 4 * leaf or test.sum() < MIN_HELD_ROWS:
            continue
        z = measures[column].transform(x_all)
        x = matrix[:, [names.index(c) for c in inputs]]
        tree = DecisionTreeRegressor(min_samples_leaf=leaf, max_leaf_nodes=MAX_MEASURE_LEAVES, random_state=seed)
        tree.fit(x[fit], z[fit])
        if tree.tree_.node_count < 2:
            continue
        t = tree.tree_
        normal = np.column_stack([t.value[:, 0, 0], np.sqrt(np.maximum(t.impurity, 0.0))])
        measure = Measure(
            column, inputs, *_structure(tree), odds=normal.astype(np.float32), levels=measures[column].quantiles
        )
        measure.source_fit = _normal_log_likelihood(z[test], normal[measure.leaves(x[test], list(range(len(inputs))))])
        measure.marginal_fit = _normal_log_likelihood(z[test], np.repeat(normal[:1], int(test.sum()), axis=0))
        found.append(measure)
    return found


def _normal_log_likelihood(z: np.ndarray, normal: np.ndarray) -> float:
    """The mean log density of ``z`` under each row's normal (mean, spread)."""
    if not len(z):
        return 0.0
    spread = np.maximum(normal[:, 1], MIN_SPREAD)
    return float(np.mean(-0.5 * ((z - normal[:, 0]) / spread) ** 2 - np.log(spread) - 0.5 * np.log(2 * np.pi)))


def _slots(levels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each value's place in ``levels``: a blank's is the last (NaN sorts last); a number past
    the largest level (a tail, where the source's values are rare) is the largest level's."""
    numbered = len(levels) - int(np.isnan(levels[-1]))
    slots = np.minimum(np.searchsorted(levels[:numbered], values), numbered - 1)
    return np.where(np.isnan(values), len(levels) - 1, slots)


def _mean_log_share(odds: np.ndarray, slots: np.ndarray) -> float:
    """The mean log share each row's cumulative ``odds`` give its slot (a millionth at least)."""
    index = np.arange(len(slots))
    share = odds[index, slots] - np.where(slots > 0, odds[index, np.maximum(slots - 1, 0)], 0.0)
    return float(np.mean(np.log(np.maximum(share, 1e-6))))


def _from_tree(column: str, inputs: list[str], tree, levels: np.ndarray) -> Redraw:
    t = tree.tree_
    shares = np.zeros((t.node_count, len(levels)))
    shares[:, tree.classes_.astype(np.int64)] = t.value[:, 0, :] / t.value[:, 0, :].sum(axis=1, keepdims=True)
    odds = np.cumsum(shares, axis=1)
    odds[:, -1] = 1.0
    return Redraw(
        column, inputs, *_structure(tree), odds=odds.astype(np.float32), levels=np.asarray(levels, dtype=np.float64)
    )


def _structure(tree) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A fitted scikit-learn tree's nodes as arrays (feature, threshold, left, right,
    blank_left), leaves their own children."""
    t = tree.tree_
    nodes = np.arange(t.node_count)
    leaf = t.children_left < 0
    return (
        np.where(leaf, 0, t.feature).astype(np.int64),
        np.where(leaf, np.inf, t.threshold),
        np.where(leaf, nodes, t.children_left).astype(np.int64),
        np.where(leaf, nodes, t.children_right).astype(np.int64),
        np.asarray(t.missing_go_to_left, dtype=bool) & ~leaf,
    )


def as_rows(columns: dict[str, np.ndarray]) -> np.ndarray:
    """The columns side by side as the trees read them: float32 (as scikit-learn grows them),
    within +-1e30 (an infinity, or a number past float32's range, there: midpoints and sums
    of such stay finite)."""
    rows = np.column_stack(list(columns.values()))
    return np.clip(rows, -HUGE, HUGE).astype(np.float32)  # blanks stay NaN


def needed(redraws: list[Redraw], columns: dict[str, np.ndarray]) -> list[Redraw]:
    """The redraws worth their blur. A tree must know the column: predict held-out source
    rows better than the column's shares alone do, by ``MIN_GAIN`` nats a row (most trees
    of churn's yes/no columns predict them worse: leaves of 20 rows fit noise). And the
    decoder must miss what it knows: its values in generated rows (``columns``) must have
    lost ``LOST_SHARE`` of that gain. Elsewhere the tree, coarser than the decoder, would
    only blur the row (a customer's tenure, of 73 values, redrawn from leaves that never
    saw most of them: churn detection AUC 0.54 -> 0.61). And its draws over generated rows
    must keep the column's source shares within ``MAX_SHIFT``: a tree that reads what the
    generated rows lack (txhousing's month, told by the tiny residual of "year ≈ date" that
    generation rounds away) would send them all to one leaf (every month June). Measures are
    judged as one chain, by their mean gain (at least ``MIN_MEASURE_GAIN``) and loss."""
    names = list(columns)
    rows = as_rows(columns)
    kept, chain, gains, losses = [], [], [], []
    for redraw in redraws:
        inputs = [names.index(c) for c in redraw.inputs]
        gain = redraw.source_fit - redraw.marginal_fit
        lost = redraw.source_fit - redraw.log_likelihood(rows, inputs, columns[redraw.column])
        if isinstance(redraw, Measure):
            chain.append(redraw)
            gains.append(gain)
            losses.append(lost)
        elif gain > MIN_GAIN and lost > LOST_SHARE * gain and redraw.shift(rows, inputs) <= MAX_SHIFT:
            kept.append(redraw)
    # measures go together or not at all: one redrawn alone would leave the measures after it
    # as decoded beside its old value (a hawk's weight drawn again, its wing kept: AUC 0.58 -> 0.62)
    if chain and np.mean(gains) > MIN_MEASURE_GAIN and np.mean(losses) > LOST_SHARE * np.mean(gains):
        kept += chain
    return kept


def sweep(
    redraws: list[Redraw], columns: dict[str, np.ndarray], rng: np.random.Generator, kept: Collection[str] = frozenset()
) -> None:
    """Each column of ``redraws`` (but those ``kept``, given values) drawn again in place in
    ``columns`` (as at fit), given the current values of the others."""
    position = {name: i for i, name in enumerate(columns)}
    rows = as_rows(columns)
    for redraw in redraws:
        if redraw.column in kept:
            continue
        drawn = redraw.draw(rows, [position[c] for c in redraw.inputs], rng)
        if isinstance(redraw, Measure):  # a measure's blanks are its null flag's, kept
            drawn = np.where(np.isnan(columns[redraw.column]), np.nan, drawn)
        columns[redraw.column] = drawn
        rows[:, position[redraw.column]] = drawn
