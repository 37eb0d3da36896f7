"""Arithmetic relations and orders between numeric columns: a total that is a price times a
number of months, a depth computed from three sizes, an end never before its start.

The autoencoder decodes every column from the latent code on its own, so such relations came
out blurred: churn's ``total_charges`` drifted from ``tenure * monthly_charges``, and a
classifier told generated rows from real ones by that alone (detection AUC 0.82; 0.69 with
the relation kept). So they are found at fit time, and the target column of each is learned
as its *residual* on the columns it follows from; generation composes it back, so the
relation holds up to the source's own noise, and that noise follows the row like any column.

Forms (``t`` the target, ``x`` the inputs, ``r`` the residual the autoencoder learns):

- ``product``: ``t = exp(b0) * prod(x_i ** b_i) * exp(sum(e_j[g_j])) * exp(r)``: products,
  ratios, powers of positive columns; 0 where an input with a positive power is 0 (a batting
  average with no hit), and blank where one with a negative power is, if the source's target
  is (an average with no at-bat);
- ``sum``: ``t = b0 + sum(b_i * x_i) + sum(e_j[g_j]) + r``: sums, differences, linear scales,
  price lists;
- ``order``: ``t = max(x_i) + r`` with ``r >= 0`` in every source row: a column never below
  others (dates too), kept because generated residuals stay inside the source's range. An
  input may be blank where the target is not (strikeouts not yet counted): it then stands at
  its lowest value. The target may also be never below a sum of its inputs (games played,
  never fewer than the wins and losses together): ``t = max(max(x_i), sum(x_j)) + r``.

A loose relation keeps the orders between its target and its inputs too: a number of hits
that follows the at-bats is never above them.

``g_j`` are categorical inputs (``Factor``): each of their values adds its own amount, so a
monthly charge that is the sum of what each service costs is a relation too (churn: R2
0.999; the charge decoded beside the services gave rows away, detection AUC 0.70 -> 0.59).
Only values held by at least the rare threshold of rows are kept.

A column is the target of one relation at most, and relations form no cycle, so they are
composed in one pass (inputs first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from graphlib import TopologicalSorter
from typing import TYPE_CHECKING, Callable, Collection, Sequence

import numpy as np
import pandas as pd

from syngen.values.kinds import decimals_of

if TYPE_CHECKING:
    from syngen.engine.encoders import NumericCodec

FIT_ROWS = 5000  # relations are searched on a sample of this many rows
REFIT_ROWS = 50_000  # and a price list of categories fitted again on this many
MAX_COLUMNS = 40  # numeric columns searched (the first ones)
MAX_INPUTS = 3
PAIRED = 20  # inputs tried in pairs (the most correlated), where one at a time finds no exact relation
MIN_ROWS = 30  # complete rows needed, and this many per coefficient / 3
MIN_R2 = 0.9  # share of the target's variance the relation explains
WHOLE_SLACK = 1.25  # an exact relation's whole slopes may leave this much more than the fitted ones
EXACT_R2 = 0.999  # so tight a relation keeps its composed values (a marginal map would move them)
FACTORS_BELOW = 0.99  # categorical inputs are searched where numbers alone explain less, or
# where they make the relation exact (FIXED_LEFT): a date from its year and month
TRIM = 0.01  # share of rows a fit leaves out as outliers
STEP_GAIN = 0.5  # a further input must halve the unexplained variance
MIN_COVERAGE = 0.98  # of the target's non-null rows inside a product's domain (all positive)
SUM_HOLDS = 0.995  # share of rows a sum of an order's inputs must keep (a few are data errors)
MAX_SUMMED = 4  # inputs in such a sum, at most
MIN_CROSSING = 0.01  # share of rows an order must rule out once columns are shuffled, or half as
# many where the lower column explains half the higher one's spread (a gust of wind, never below
# the wind's speed: 0.6 %, R² 0.78; not a mother's age over her prenatal visits: 0.5 %, R² < 0)
CLOSE_ORDER = 0.5
MAX_LEVELS = 30  # a categorical input's kept values; a column with more is not one
MAX_FACTORS = 12
FACTOR_GAIN = 0.1  # a further categorical input must explain a tenth of what is left
MIN_LEVEL_ROWS = 10  # of the fitting sample, for a value to have an amount of its own
EXACT_LEFT = 1e-12  # share of the target's variance left that only rounding explains
HEAP_RATIO = 5.0  # a value this many times as common as its rarer neighbour is a heap
HEAP_ROWS = 0.002  # of the rows, at least, on a heap (and MIN_ROWS / 3)
HEAPED = 0.1  # share of rows on heaps that makes a column an input, unless others fix it
MAX_EXPONENT = 4.0  # of a product's inputs: sizes, areas, volumes; a year to the 84th is no law
ROUNDED = 0.995  # share of rows whose target is its prediction rounded as the source's values are
FIXED_LEFT = 1e-6  # share of the target's variance left where the inputs fix it up to rounding
NUMBER_KINDS = ("float", "integer")
TIME_KINDS = ("date", "datetime")


@dataclass
class Factor:
    """A categorical input: the amount each of its values adds to the target (to its log, for
    a product); the most common value adds 0. A blank adds ``blank``; a value not kept (rare
    in the source, or never seen) adds ``other``."""

    name: str
    values: list
    effects: list[float]
    blank: float = 0.0
    other: float = 0.0

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.values, dtype=object)

    @cached_property
    def _amounts(self) -> np.ndarray:
        return np.asarray(self.effects + [self.blank, self.other], dtype=float)

    def codes(self, column) -> np.ndarray:
        """Each row's value as its position in ``values``; blanks ``len(values)``, others one more."""
        column = pd.Series(column).astype(object)
        codes = self._index.get_indexer(column)
        codes[codes < 0] = len(self.values) + 1
        codes[column.isna().to_numpy()] = len(self.values)
        return codes

    def effect(self, column) -> np.ndarray:
        return self._amounts[self.codes(column)]

    def state(self) -> dict:
        return {
            "name": self.name,
            "values": [v.item() if hasattr(v, "item") else v for v in self.values],
            "effects": [float(e) for e in self.effects],
            "blank": float(self.blank),
            "other": float(self.other),
        }


@dataclass
class Relation:
    target: str
    inputs: list[str]
    form: str  # "product" | "sum" | "order"
    coefficients: list[float]  # intercept first, then one per input
    fills: list[float] = field(default_factory=list)  # per input: stands in for a blank or non-positive one
    r2: float = 1.0
    blank_alone: bool = True  # whether the source's target is ever blank where its inputs do not blank it
    blank_follows: bool = True  # whether a blank input blanks the target (as in every source row)
    blank_on_zero: bool = False  # a product blank where it divides by zero (as in every source row)
    rounding_only: bool = False  # the residual is the target's rounding alone (an average to 3 decimals)
    codec: NumericCodec | None = None  # the residual's codec, kept by the model beside the relation
    generated: np.ndarray = field(default_factory=lambda: np.zeros(0))  # quantiles of composed targets
    factors: list[Factor] = field(default_factory=list)  # categorical inputs, after the numeric ones
    floors: list[str] = field(default_factory=list)  # inputs the target is never below in a source row
    ceilings: list[str] = field(default_factory=list)  # inputs the target is never above in a source row
    sums: list[str] = field(default_factory=list)  # an order's inputs whose sum the target is never below

    @property
    def exact(self) -> bool:
        """Whether the inputs nearly fix the target: its composed values are kept as they are."""
        return self.form != "order" and self.r2 >= EXACT_R2

    @property
    def mapped(self) -> bool:
        """Whether composed values are mapped onto the source's distribution of the target:
        not where the inputs fix it, nor where an order's inputs explain nearly all of it
        (games played: the wins, the losses and a few ties, which a map would spread)."""
        return not self.exact and not (self.form == "order" and self.r2 >= MIN_R2)

    @property
    def gap(self) -> float:
        """An order's smallest gap in the source (nobody starts work before 14), at least 0."""
        assert self.codec is not None  # an order's residuals are learned before it generates
        return max(0.0, float(self.codec.transform.quantiles[0]))

    def predict(self, inputs: list[np.ndarray], levels: Sequence = ()) -> np.ndarray:
        """The target as the inputs alone give it; ``levels`` holds the factors' columns."""
        b0, slopes = self.coefficients[0], self.coefficients[1:]
        size = len(inputs[0]) if inputs else len(levels[0])
        offset = sum((f.effect(v) for f, v in zip(self.factors, levels)), np.zeros(size))
        if self.form == "product":
            log = b0 + offset
            zero = np.zeros(size, dtype=bool)
            for x, b, fill in zip(inputs, slopes, self.fills):
                x = np.where(np.isfinite(x), x, fill)
                zero |= (x == 0) & (b > 0)  # 0 times anything is 0
                log += b * np.log(np.where(x > 0, x, fill))
            return np.where(zero, 0.0, np.exp(np.clip(log, -700, 700)))
        if self.form == "order":  # never below the highest of its inputs, nor their sum's
            filled = {n: np.where(np.isfinite(x), x, fill) for n, x, fill in zip(self.inputs, inputs, self.fills)}
            floor = np.max(list(filled.values()), axis=0)
            return np.maximum(floor, sum(filled[n] for n in self.sums)) if self.sums else floor
        total = b0 + offset
        for x, b, fill in zip(inputs, slopes, self.fills):
            total += b * np.where(np.isfinite(x), x, fill)
        return total

    def divides_by_zero(self, inputs: list[np.ndarray], size: int) -> np.ndarray:
        """Of ``size`` rows, those where a product's input with a negative power is 0."""
        rows = np.zeros(size, dtype=bool)
        if self.form == "product":
            for x, b in zip(inputs, self.coefficients[1:]):
                rows |= (x == 0) & (b < 0)
        return rows

    def blanks(self, inputs: list[np.ndarray], size: int) -> np.ndarray:
        """Of ``size`` rows, those whose target the inputs leave blank, as in the source: where
        an input is, and where a product divides by zero (if the source's is blank there)."""
        blank = self.divides_by_zero(inputs, size) if self.blank_on_zero else np.zeros(size, dtype=bool)
        if self.blank_follows and inputs:
            blank |= np.isnan(np.column_stack(inputs)).any(axis=1)
        return blank

    def residual(self, target: np.ndarray, inputs: list[np.ndarray], levels: Sequence = ()) -> np.ndarray:
        """What the autoencoder learns in the target's place (NaN where the target is blank;
        0 where a product's target or prediction is not positive, which composes it back)."""
        predicted = self.predict(inputs, levels)
        if self.form != "product":
            return target - predicted
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(target) - np.log(predicted)
        return np.where(np.isnan(target), np.nan, np.where(np.isfinite(r), r, 0.0))

    def compose(self, residual: np.ndarray, inputs: list[np.ndarray], levels: Sequence = ()) -> np.ndarray:
        """The target from its inputs and residual (none where the residual is only rounding:
        the target's codec rounds the prediction as the source did)."""
        if self.rounding_only:
            residual = np.zeros(len(residual))
        predicted = self.predict(inputs, levels)
        if self.form == "product":
            return predicted * np.exp(np.clip(residual, -700, 700))
        return predicted + residual

    def solve(
        self,
        target: np.ndarray,
        residual: np.ndarray,
        inputs: list[np.ndarray],
        levels: Sequence = (),
        keep: Collection[str] = (),
    ) -> list[np.ndarray]:
        """Inputs that agree with a given ``target``: an order's inputs at most the target less
        the source's smallest gap; a product's or sum's last numeric input not in ``keep``
        (the one that moves the target most, see ``_fit``) solved from the rest (of a price list
        of categories alone, none: the candidates' scores pick those)."""
        if self.form == "order":
            solved = [np.minimum(x, target - self.gap) for x in inputs]
            if self.sums:  # the summed ones not in keep give up the excess, each its share
                at = [self.inputs.index(n) for n in self.sums]
                movable = [i for i in at if self.inputs[i] not in keep]
                excess = np.maximum(sum(solved[i] for i in at) - (target - self.gap), 0.0)
                room = sum((solved[i] for i in movable), np.zeros(len(target)))
                with np.errstate(divide="ignore", invalid="ignore"):
                    for i in movable:
                        share = np.where(room > 0, solved[i] / room, 0.0)
                        solved[i] = np.maximum(solved[i] - excess * share, 0.0)
            return solved
        slopes, solved = self.coefficients[1:], list(inputs)
        if self.rounding_only:  # composed without it
            residual = np.zeros(len(target))
        moving = [i for i in np.flatnonzero(np.abs(slopes) > 1e-12) if self.inputs[i] not in keep]
        if not len(moving):
            return solved
        k = int(moving[-1])
        others = [i for i in range(len(inputs)) if i != k]
        offset = sum((f.effect(v) for f, v in zip(self.factors, levels)), np.zeros(len(target)))
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.form == "product":
                log = (
                    np.log(target)
                    - residual
                    - self.coefficients[0]
                    - offset
                    - sum(slopes[i] * np.log(inputs[i]) for i in others)
                )
                value = np.exp(np.clip(log / slopes[k], -700, 700))
            else:
                value = (
                    target - residual - self.coefficients[0] - offset - sum(slopes[i] * inputs[i] for i in others)
                ) / slopes[k]
        solved[k] = np.where(np.isfinite(value), value, inputs[k])
        return solved

    def describe(self) -> str:
        """The rule in words, for the training summary."""
        if self.form == "order":
            rest = [n for n in self.inputs if n not in self.sums]
            return f"{self.target} is never below {', '.join(([' + '.join(self.sums)] if self.sums else []) + rest)}"
        by = f"amounts by {', '.join(f.name for f in self.factors)}" if self.factors else ""
        if self.form == "product":
            terms = [f"{math.exp(self.coefficients[0]):.3g}"] + [
                f"{n}^{b:.2f}" for n, b in zip(self.inputs, self.coefficients[1:])
            ]
            rule = " × ".join(terms + ([f"factors by {', '.join(f.name for f in self.factors)}"] if by else []))
        else:
            terms = [f"{self.coefficients[0]:.3g}"] + [
                f"{b:.3g} × {n}" for n, b in zip(self.inputs, self.coefficients[1:])
            ]
            rule = " + ".join(terms + ([by] if by else []))
        return f"{self.target} ≈ {rule} (R² {self.r2:.3f})"

    def state(self) -> dict:
        return {
            "target": self.target,
            "inputs": self.inputs,
            "form": self.form,
            "coefficients": [float(b) for b in self.coefficients],
            "fills": [float(f) for f in self.fills],
            "r2": float(self.r2),
            "blank_alone": self.blank_alone,
            "factors": [f.state() for f in self.factors],
            "floors": self.floors,
            "ceilings": self.ceilings,
            "sums": self.sums,
            "blank_follows": self.blank_follows,
            "blank_on_zero": self.blank_on_zero,
            "rounding_only": self.rounding_only,
        }

    @classmethod
    def from_state(cls, state: dict) -> "Relation":
        return cls(
            state["target"],
            list(state["inputs"]),
            state["form"],
            list(state["coefficients"]),
            list(state["fills"]),
            state["r2"],
            state["blank_alone"],
            factors=[Factor(**f) for f in state["factors"]],
            floors=list(state.get("floors", [])),
            ceilings=list(state.get("ceilings", [])),
            sums=list(state.get("sums", [])),
            blank_follows=state.get("blank_follows", True),
            blank_on_zero=state.get("blank_on_zero", False),
            rounding_only=state.get("rounding_only", False),
        )


def find_relations(
    numbers: dict[str, np.ndarray],
    kinds: dict[str, str],
    seed: int = 0,
    factors: dict[str, pd.Series] | None = None,
    min_counts: dict[str, int] | None = None,
    fixed: Collection[str] = (),
) -> list[Relation]:
    """Relations among the columns ``numbers`` (name -> values as floats, NaN for blanks;
    dates as seconds), in an order that composes inputs before targets. ``factors`` are
    categorical columns that may be inputs (their values held by fewer rows than their
    ``min_counts``, the rare threshold, count as one "other" value); ``fixed`` columns are
    never targets (links set them)."""
    names = [n for n in numbers if kinds[n] in NUMBER_KINDS + TIME_KINDS and _varies(numbers[n])][:MAX_COLUMNS]
    measures = [n for n in names if kinds[n] in NUMBER_KINDS]
    coded = _coded_factors(factors or {}, min_counts or {})
    targets = [n for n in measures if n not in fixed]
    found = _arithmetic(measures, targets, numbers, coded, seed) if targets and (len(measures) >= 2 or coded) else []
    orders = {r.target: r for r in _orders(names, numbers, kinds)}
    # lower columns first, so that each order keeps only the columns right below it
    below_first = TopologicalSorter({t: set(r.inputs) for t, r in orders.items()}).static_order()
    # a rule every row keeps wins over a loose relation (a family income and its log); an
    # exact one keeps the order too (the longest duration of a war, never below the shortest)
    found = [r for r in found if r.exact or r.target not in orders]
    # and a sum every row keeps over a loose relation that would take it apart (wins from the
    # games and the losses, where the games are never fewer than the wins and losses)
    found = [r for r in found if r.exact or not any(r.target in o.sums and t in r.inputs for t, o in orders.items())]
    for relation in found:
        if relation.target in orders:
            relation.floors = [n for n in orders[relation.target].inputs if n in relation.inputs]
        relation.ceilings = [n for n in relation.inputs if n in orders and relation.target in orders[n].inputs]
    kept = _acyclic(found + [orders[n] for n in below_first if n in orders])
    for relation in kept:
        _learn_blanks(relation, numbers)
        if relation.form == "order":
            relation.r2 = _explained(numbers[relation.target], relation.predict([numbers[n] for n in relation.inputs]))
    return kept


def _explained(t: np.ndarray, predicted: np.ndarray) -> float:
    """Share of the target's variance its prediction explains (the ``TRIM`` extremes aside)."""
    both = np.isfinite(t) & np.isfinite(predicted)
    total = float(np.var(_trimmed(t[both]))) if both.sum() >= MIN_ROWS else 0.0
    return 1.0 - float(np.var(_trimmed(t[both] - predicted[both]))) / total if total > 0 else 0.0


def _learn_blanks(relation: Relation, numbers: dict[str, np.ndarray]) -> None:
    """Where the source's target is blank: wherever an input is, where a product divides by
    zero, and elsewhere too (``blank_alone``: then the autoencoder places those blanks)."""
    inputs = [numbers[n] for n in relation.inputs]
    blank = ~np.isfinite(numbers[relation.target])
    missing = np.isnan(np.column_stack(inputs)).any(axis=1) if inputs else np.zeros(len(blank), bool)
    relation.blank_follows = bool(blank[missing].all())
    divides = relation.divides_by_zero(inputs, len(blank))
    relation.blank_on_zero = bool(divides.any() and blank[divides].all())
    relation.blank_alone = bool((blank & ~relation.blanks(inputs, len(blank))).any())


def _coded_factors(factors: dict[str, pd.Series], min_counts: dict[str, int]) -> dict[str, tuple[list, np.ndarray]]:
    """Each categorical column that can be an input: its kept values, most common first, and
    every row's code (``Factor.codes``)."""
    coded = {}
    for name, column in factors.items():
        counts = column.value_counts(dropna=True)
        values = list(counts[counts >= max(min_counts.get(name, 1), 1)].index)
        if 0 < len(values) <= MAX_LEVELS:
            coded[name] = (values, Factor(name, values, []).codes(column))
    return coded


def _arithmetic(
    measures: list[str],
    targets: list[str],
    numbers: dict[str, np.ndarray],
    coded: dict[str, tuple[list, np.ndarray]],
    seed: int,
) -> list[Relation]:
    """The best-explained target first, then the next one among the columns left, each fitted
    only on inputs that do not themselves follow from it (refitted when one comes to)."""
    rows = _sample_rows(len(numbers[measures[0]]), seed)
    sample = {n: numbers[n][rows] for n in measures}
    codes = {n: c[rows] for n, (_, c) in coded.items()}
    values = {n: v for n, (v, _) in coded.items()}
    kept: dict[str, Relation] = {}
    heaped = {n for n in measures if _heaped(numbers[n])}

    def best(target: str) -> Relation | None:
        allowed = [n for n in measures if n != target and target not in _upstream(n, kept)]
        fits = [
            r
            for r in (_fit(target, allowed, sample, form, codes, values) for form in ("product", "sum"))
            if r and (target not in heaped or 1.0 - r.r2 <= FIXED_LEFT or heaped & set(r.inputs))
        ]
        return max(fits, key=lambda r: (r.r2, -len(r.inputs) - len(r.factors)), default=None)

    def rank(target: str) -> tuple[float, int, bool, int]:
        """Best explained first; of relations the inputs fix, the target of the finer grain
        (a batting average of hits per at-bat, to 3 decimals, not the hits from it; a balance
        in cents, the loan's amount less the principal paid, not the amount in steps of 25
        from them), then a total before a difference, then the target of more values (a date
        composed from its year and month, not a year from the date and the month)."""
        relation = pending[target]
        assert relation is not None  # ranked among the targets that have one
        exact = 1.0 - relation.r2 <= FIXED_LEFT or _rounds_to(relation, sample, decimals[target])
        total = exact and all(b > 0 for b in relation.coefficients[1:])
        grain = decimals[target] if exact else 0
        return (1.0 if exact else relation.r2, grain, total, len(np.unique(sample[target])) if exact else 0)

    decimals = {t: decimals_of(sample[t]) for t in targets}

    pending = {t: best(t) for t in targets}
    while any(pending.values()):
        target = max((t for t in pending if pending[t]), key=rank)
        picked = pending.pop(target)
        assert picked is not None
        kept[target] = picked
        for other, relation in pending.items():
            if relation and any(other in _upstream(n, kept) for n in relation.inputs):
                pending[other] = best(other)
    for relation in kept.values():
        if relation.factors and len(rows) < len(numbers[relation.target]):
            _refit(relation, numbers, coded, seed)
    return list(kept.values())


def _rounds_to(relation: Relation, sample: dict[str, np.ndarray], decimals: int) -> bool:
    """Whether the target is its prediction rounded to its ``decimals`` in nearly every row
    (``ROUNDED``): the inputs fix it, the rest is rounding (an average to 3 decimals)."""
    if relation.factors or relation.r2 < EXACT_R2:
        return False
    predicted = relation.predict([sample[n] for n in relation.inputs])
    return rounds_to(sample[relation.target], predicted, lambda x: np.round(x, decimals))


def rounds_to(t: np.ndarray, predicted: np.ndarray, rounding: Callable[[np.ndarray], np.ndarray]) -> bool:
    """Whether ``t`` is its ``predicted`` values, ``rounding`` as the source's are, in nearly
    every row where both are present (``ROUNDED``)."""
    both = np.isfinite(t) & np.isfinite(predicted)
    same = np.isclose(rounding(predicted[both]), t[both], rtol=1e-9, atol=1e-12)
    return bool(both.any() and same.mean() >= ROUNDED)


def _heaped(x: np.ndarray) -> bool:
    """Whether a tenth of the rows sit on heaps: values far more common than the values beside
    them (a 0.30 carat stone, and hardly any of 0.29). Such a column was set first and the
    others follow from it; composed by a loose relation, its heaps come out in rows whose
    inputs belong beside other values (diamonds with carat a target: detection AUC 0.66; an
    input: 0.60). A total its parts fix is still composed, and so is a column that follows
    a heaped input (a log of a wage): their heaps are the inputs'."""
    values, counts = np.unique(x[np.isfinite(x)], return_counts=True)
    if len(values) < 3:
        return False
    below, above = np.r_[0, counts[:-1]], np.r_[counts[1:], 0]
    rarer = np.minimum(np.where(below > 0, below, above), np.where(above > 0, above, below))
    heaps = (counts >= HEAP_RATIO * rarer) & (counts >= max(MIN_ROWS / 3, HEAP_ROWS * counts.sum()))
    return bool(counts[heaps].sum() >= HEAPED * counts.sum())


def _upstream(name: str, kept: dict[str, Relation], form: str | None = None) -> set[str]:
    """Every column ``name`` is composed from, directly or through other relations (of
    ``form`` only, if given)."""
    seen, todo = set(), [name]
    while todo:
        relation = kept.get(todo.pop())
        for n in relation.inputs if relation and form in (None, relation.form) else ():
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def _varies(x: np.ndarray) -> bool:
    x = x[np.isfinite(x)]
    return len(x) >= MIN_ROWS and x.min() < x.max()


def _sample_rows(n: int, seed: int, size: int = FIT_ROWS) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, size, replace=False))


def _space(x: np.ndarray, form: str) -> np.ndarray:
    """Values where the form is linear: logs of positive values for products (NaN elsewhere)."""
    if form != "product":
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


def _fit(
    target: str,
    candidates: list[str],
    sample: dict[str, np.ndarray],
    form: str,
    codes: dict[str, np.ndarray],
    values: dict[str, list],
) -> Relation | None:
    """Forward selection of at most ``MAX_INPUTS`` numeric inputs, each of which must halve
    what is left unexplained; then of categorical ones (``_with_factors``). The target's
    present rows must all have their numeric inputs present (and, for a product, nearly all
    be positive), so that composing never leaves it blank."""
    t = sample[target]
    present = np.isfinite(t)
    y = _space(t, form)
    zeros = present & (t == 0) if form == "product" else np.zeros(len(t), dtype=bool)  # 0 if an input is
    usable = [c for c in candidates if np.isfinite(sample[c][present]).all()]
    space = {c: _space(sample[c], form) for c in usable}
    chosen: list[str] = []
    best_var = None
    coefficients = None
    domain = np.isfinite(y)
    if domain.sum() + zeros.sum() < MIN_COVERAGE * present.sum() or domain.sum() < MIN_ROWS:
        return None
    total_var = float(np.var(_trimmed(y[domain])))
    if total_var <= 0:
        return None
    rows = domain
    for _ in range(MAX_INPUTS):
        step = None
        for c in usable:
            if c in chosen:
                continue
            rows_c = domain & np.isfinite(space[c])
            for other in chosen:
                rows_c &= np.isfinite(space[other])
            if (
                rows_c.sum() < max(MIN_ROWS, 10 * (len(chosen) + 2))
                or rows_c.sum() + zeros.sum() < MIN_COVERAGE * present.sum()
            ):
                continue
            b, var = _trimmed_fit(np.column_stack([space[o][rows_c] for o in chosen + [c]]), y[rows_c])
            if form == "product" and np.abs(b[1:]).max() > MAX_EXPONENT:
                continue
            if step is None or var < step[1]:
                step = (c, var, b, rows_c)
        if step is None or (best_var is not None and step[1] > STEP_GAIN * best_var):
            break
        chosen.append(step[0])
        best_var, coefficients, rows = step[1], step[2], step[3]
        if best_var <= EXACT_LEFT * total_var:
            break  # what is left is rounding: a further input would only fit that
    exact_left = (1.0 - EXACT_R2) * total_var
    if best_var is None or best_var > exact_left:  # an exact pair that one at a time misses
        pair = _unit_pair(y, space, usable, domain, MIN_COVERAGE * present.sum() - zeros.sum(), exact_left)
        if pair is not None:
            chosen, rows = list(pair), domain & np.isfinite(space[pair[0]]) & np.isfinite(space[pair[1]])
            coefficients, best_var = _trimmed_fit(np.column_stack([space[c][rows] for c in chosen]), y[rows])
    factors: list[Factor] = []
    if codes and (best_var is None or best_var > FIXED_LEFT * total_var):
        numeric = [space[c][rows] for c in chosen]
        picked, blocks, b, var = _with_factors(y[rows], numeric, {n: c[rows] for n, c in codes.items()}, total_var)
        if best_var is not None and 1.0 - best_var / total_var >= FACTORS_BELOW and var > FIXED_LEFT * total_var:
            picked = []  # nearly explained by numbers: categories only where they make it exact
        if picked and chosen:  # a numeric input the categories leave nothing to explain goes
            needed = [
                i
                for i in range(len(chosen))
                if _trimmed_fit(np.column_stack([numeric[j] for j in range(len(chosen)) if j != i] + blocks), y[rows])[
                    1
                ]
                > var / (1.0 - FACTOR_GAIN)
            ]
            if len(needed) < len(chosen):
                chosen = [chosen[i] for i in needed]
                b, var = _trimmed_fit(np.column_stack([numeric[i] for i in needed] + blocks), y[rows])
        if picked:
            best_var, coefficients = var, b[: 1 + len(chosen)]
            factors = _amounts(b[1 + len(chosen) :], picked, values)
    if not chosen and not factors:
        return None
    # an input chosen, or a factor picked, set both
    assert best_var is not None and coefficients is not None
    if 1.0 - best_var / total_var < MIN_R2:
        return None
    if form == "product" and not _zeros_follow(t, [sample[c] for c in chosen], coefficients[1:], domain, zeros):
        return None
    if not factors:
        coefficients = _snapped(np.column_stack([space[c][rows] for c in chosen]), y[rows], coefficients, total_var)
    # the input that moves the target most goes last: a given target is solved for it
    # (a diamond's width from its carat, not its depth)
    order = sorted(
        range(len(chosen)), key=lambda i: abs(coefficients[1 + i]) * float(np.nanstd(space[chosen[i]][rows]))
    )
    chosen = [chosen[i] for i in order]
    ordered = [coefficients[0]] + [coefficients[1 + i] for i in order]
    fills = [
        float(np.nanmedian(sample[c][sample[c] > 0])) if form == "product" else float(np.nanmedian(sample[c]))
        for c in chosen
    ]
    return Relation(
        target, chosen, form, [float(b) for b in ordered], fills, 1.0 - best_var / total_var, factors=factors
    )


def _unit_pair(
    y: np.ndarray, space: dict[str, np.ndarray], names: list[str], domain: np.ndarray, rows: float, within: float
) -> tuple[str, str] | None:
    """Two inputs whose plain sum or difference the target is, up to a constant, leaving at
    most ``within`` of variance, on at least ``rows`` rows: a batting average, hits over at-bats,
    neither of which explains much alone (the greedy search took on-base percentage first).
    The ``PAIRED`` inputs most correlated with the target are tried."""

    def spread(x: np.ndarray) -> float:
        ok = domain & np.isfinite(x)
        return float(np.var(_trimmed(x[ok]))) if ok.sum() >= max(rows, MIN_ROWS) else math.inf

    def kin(name: str) -> float:
        ok = domain & np.isfinite(space[name])
        if ok.sum() < MIN_ROWS or np.std(space[name][ok]) == 0:
            return 0.0
        return abs(float(np.corrcoef(space[name][ok], y[ok])[0, 1]))

    tried = sorted(names, key=kin, reverse=True)[:PAIRED]
    best, pair = within, None
    for i, a in enumerate(tried):
        for b in tried[i + 1 :]:
            for left in (y - space[a] - space[b], y - space[a] + space[b], y + space[a] - space[b]):
                if (v := spread(left)) <= best:
                    best, pair = v, (a, b)
    return pair


def _zeros_follow(
    t: np.ndarray, inputs: list[np.ndarray], slopes: np.ndarray, domain: np.ndarray, zeros: np.ndarray
) -> bool:
    """Whether a product's zeros are where an input with a positive power is 0, and its
    positive values where none is, in nearly all the target's present rows."""
    nulled = np.zeros(len(t), dtype=bool)
    for x, b in zip(inputs, slopes):
        nulled |= (x == 0) & (b > 0)
    kept = (domain & ~nulled) | (zeros & nulled)
    return bool(kept.sum() >= MIN_COVERAGE * np.isfinite(t).sum())


def _amounts(b: np.ndarray, picked: list[tuple[str, np.ndarray]], values: dict[str, list]) -> list[Factor]:
    """The factors of fitted coefficients ``b`` (the factors' columns, see ``_dummies``)."""
    factors, at = [], 0
    for name, mapping in picked:
        width = int(mapping.max()) + 1
        amounts = np.append(b[at : at + width], 0.0)[mapping]  # a value of its own, or the rest's, or 0
        at += width
        n = len(values[name])
        factors.append(Factor(name, values[name], amounts[:n].tolist(), float(amounts[n]), float(amounts[n + 1])))
    return factors


def _refit(
    relation: Relation, numbers: dict[str, np.ndarray], coded: dict[str, tuple[list, np.ndarray]], seed: int
) -> None:
    """A relation's coefficients and amounts fitted again on up to ``REFIT_ROWS`` rows: a value
    too rare in the search's sample for an amount of its own (loans' sub-grade F3) gets one."""
    rows = _sample_rows(len(numbers[relation.target]), seed, REFIT_ROWS)
    y = _space(numbers[relation.target][rows], relation.form)
    inputs = [_space(numbers[n][rows], relation.form) for n in relation.inputs]
    keep = np.isfinite(y)
    for x in inputs:
        keep &= np.isfinite(x)
    picked = [(f.name, _dummies(coded[f.name][1][rows][keep])) for f in relation.factors]
    b, _ = _trimmed_fit(np.column_stack([x[keep] for x in inputs] + [block for _, (block, _) in picked]), y[keep])
    relation.coefficients = [float(v) for v in b[: 1 + len(inputs)]]
    relation.factors = _amounts(
        b[1 + len(inputs) :],
        [(name, mapping) for name, (_, mapping) in picked],
        {f.name: f.values for f in relation.factors},
    )


def _with_factors(
    y: np.ndarray, numeric: list[np.ndarray], codes: dict[str, np.ndarray], total_var: float
) -> tuple[list[tuple[str, np.ndarray]], list[np.ndarray], np.ndarray, float]:
    """Categorical inputs added one at a time beside the numeric ones: first the one whose
    values' means of what is left differ most, kept if the refit explains ``FACTOR_GAIN`` of
    what was left. Returns each kept factor with its codes' columns in the fit (``_dummies``),
    their indicator blocks, the coefficients (intercept, numeric slopes, then the factors'
    columns) and the variance left."""
    design = [np.column_stack(numeric)] if numeric else []
    blocks: list[np.ndarray] = []
    b, var = _trimmed_fit(np.column_stack(design) if design else np.zeros((len(y), 0)), y)
    picked: list[tuple[str, np.ndarray]] = []
    while len(picked) < MAX_FACTORS and 1.0 - var / total_var < EXACT_R2:
        whole = np.column_stack([np.ones(len(y))] + design)
        left = y - whole @ b
        names = [n for n in codes if n not in dict(picked)]
        if not names:
            break
        name = max(names, key=lambda n: _between(codes[n], left))
        block, mapping = _dummies(codes[name])
        width = whole.shape[1] + block.shape[1]
        if block.shape[1] == 0 or len(y) < max(MIN_ROWS, 10 * width):
            break
        trial, trial_var = _trimmed_fit(np.column_stack(design + [block]), y)
        if trial_var > (1.0 - FACTOR_GAIN) * var:
            break
        picked.append((name, mapping))
        design.append(block)
        blocks.append(block)
        b, var = trial, trial_var
    return picked, blocks, b, var


def _between(codes: np.ndarray, left: np.ndarray) -> float:
    """How much of ``left`` the codes' group means explain (sum of squares between groups)."""
    sums, counts = np.bincount(codes, left), np.bincount(codes)
    held = counts > 0
    return float((sums[held] ** 2 / counts[held]).sum())


def _dummies(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indicator columns of a factor's codes: one per value with ``MIN_LEVEL_ROWS`` rows, but
    the most common (the baseline), and one for the rarer values together if they have as
    many; and each code's column, ``-1`` for the baseline (unseen codes and too few rows)."""
    counts = np.bincount(codes, minlength=MAX_LEVELS + 2)  # every code a kept factor can have
    baseline = int(np.argmax(counts))
    own = [c for c in np.flatnonzero(counts >= MIN_LEVEL_ROWS) if c != baseline]
    rest = [c for c in np.flatnonzero((counts > 0) & (counts < MIN_LEVEL_ROWS))]
    mapping = np.full(len(counts), -1)
    mapping[own] = np.arange(len(own))
    if counts[rest].sum() >= MIN_LEVEL_ROWS:
        mapping[rest] = len(own)
    width = int(mapping.max()) + 1
    block = np.zeros((len(codes), width))
    columns = mapping[codes]
    block[np.flatnonzero(columns >= 0), columns[columns >= 0]] = 1.0
    return block, mapping


def _trimmed_fit(inputs: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Least squares, fitted again without the worst ``TRIM`` share of rows, so that a few
    data errors (a diamond 31.8 mm deep) neither hide a relation nor bend it; and the variance
    left unexplained in the rows kept."""
    design = np.column_stack([np.ones(len(y)), inputs])
    b, *_ = np.linalg.lstsq(design, y, rcond=None)
    error = np.abs(y - design @ b)
    kept = error <= np.quantile(error, 1.0 - TRIM)
    b, *_ = np.linalg.lstsq(design[kept], y[kept], rcond=None)
    return b, float(np.var(y[kept] - design[kept] @ b))


def _snapped(inputs: np.ndarray, y: np.ndarray, b: np.ndarray, total_var: float) -> np.ndarray:
    """The coefficients with slopes of four significant digits and the median offset as the
    intercept, where those fit as well: ``20 * packs`` and a sum of two amounts with no
    intercept, not 19.9999999 * packs + 0.0000043, whose digits would show in a target
    written with the source's six decimals. Whole slopes are taken where they keep the
    relation exact and fit nearly as well (``WHOLE_SLACK``): a batting average is hits over
    at-bats, not hits^0.999 over at-bats^0.999, which its rounding to 3 decimals suggests."""

    def left(coefficients: np.ndarray) -> float:
        error = np.abs(y - coefficients[0] - inputs @ coefficients[1:])
        return float(np.mean(np.square(error[error <= np.quantile(error, 1.0 - TRIM)])))

    def with_slopes(slopes: np.ndarray) -> np.ndarray:
        return np.concatenate([[np.median(y - inputs @ slopes)], slopes])

    whole = np.round(b[1:])
    if (whole != 0).all() and (np.abs(b[1:] - whole) <= 0.01).all():
        candidate = with_slopes(whole)
        fit = left(candidate)
        if fit <= WHOLE_SLACK * left(b) + 1e-24 and fit <= (1.0 - EXACT_R2) * total_var:
            return candidate
    snapped = with_slopes(np.array([float(f"{x:.4g}") for x in b[1:]]))
    return snapped if left(snapped) <= 1.01 * left(b) + 1e-24 else b


def _trimmed(y: np.ndarray) -> np.ndarray:
    """``y`` without its ``TRIM`` share farthest from the median."""
    error = np.abs(y - np.median(y))
    return y[error <= np.quantile(error, 1.0 - TRIM)]


def _orders(names: list[str], numbers: dict[str, np.ndarray], kinds: dict[str, str]) -> list[Relation]:
    """For each column, the other columns it is never below in any source row (dates with
    dates, numbers with numbers), where that is a rule of rows and not of ranges."""
    if not names:
        return []
    family = {n: kinds[n] in TIME_KINDS for n in names}
    shuffle = np.random.default_rng(11).permutation(len(numbers[names[0]]))
    below: dict[str, list[str]] = {}
    for high in names:
        t = numbers[high]
        below[high] = []
        for low in names:
            if low == high or family[low] != family[high]:
                continue
            x = numbers[low]
            both = np.isfinite(t) & np.isfinite(x)
            if both.sum() < MIN_ROWS or not (x[both] <= t[both]).all() or (x[both] == t[both]).all():
                continue
            alone = np.isfinite(t) & ~np.isfinite(x)
            if (t[alone] < x[both].min()).any():
                continue  # the target outlives a blank input below where the input stands for it
            crossing = np.mean(x[shuffle] > t)
            if crossing < MIN_CROSSING and (crossing < MIN_CROSSING / 2 or _explained(t, x) < CLOSE_ORDER):
                continue  # the ranges nearly keep it anyway: no rule of rows
            below[high].append(low)
    relations = []
    for high, lows in below.items():
        if lows:
            fills = [float(np.nanmin(numbers[n])) for n in lows]  # a blank input stands at its lowest
            summed = _summed(numbers[high], {n: numbers[n] for n in lows}, shuffle)
            relations.append(Relation(high, lows, "order", [0.0] + [1.0] * len(lows), fills, sums=summed))
    return relations


def _summed(t: np.ndarray, lows: dict[str, np.ndarray], shuffle: np.ndarray) -> list[str]:
    """The inputs of ``t``'s order (columns it is never below) whose sum it is never below
    either, in all but a few rows (``SUM_HOLDS``): a pair first, grown while each further
    column holds and rules out ``MIN_CROSSING`` more of the shuffled rows. Counts, amounts:
    never negative."""
    counts = {n: x for n, x in lows.items() if np.nanmin(x) >= 0}
    if len(counts) < 2:
        return []

    def crossing(group: list[str]) -> float:
        """Share of rows the group's sum holds in (0 if under SUM_HOLDS), less the share the
        shuffled sum breaks beyond the shuffled highest member (what the sum adds)."""
        x = np.column_stack([counts[n] for n in group])
        present = np.isfinite(x).all(axis=1) & np.isfinite(t)
        if present.sum() < MIN_ROWS or np.mean(x[present].sum(axis=1) <= t[present]) < SUM_HOLDS:
            return 0.0
        with np.errstate(invalid="ignore"):
            return float(np.mean(x[shuffle].sum(axis=1) > t) - np.mean(x[shuffle].max(axis=1) > t))

    names = list(counts)
    pairs = [[a, b] for i, a in enumerate(names) for b in names[i + 1 :]]
    group = max(pairs, key=crossing)
    gain = crossing(group)
    if gain < MIN_CROSSING:
        return []
    while len(group) < MAX_SUMMED:
        more = max(([*group, n] for n in names if n not in group), key=crossing, default=None)
        if more is None or crossing(more) < gain + MIN_CROSSING:
            break
        group, gain = more, crossing(more)
    return group


def _acyclic(candidates: list[Relation]) -> list[Relation]:
    """The candidates, best first, that keep one relation per target and no cycle (an order
    drops the inputs that would close one, and those another input is already above); in an
    order where every relation's inputs are composed before it."""
    kept: dict[str, Relation] = {}
    for relation in candidates:
        if relation.target in kept:
            continue
        if relation.form == "order":
            inputs = [n for n in relation.inputs if relation.target not in _upstream(n, kept)]
            sums = relation.sums if set(relation.sums) <= set(inputs) else []  # a cycle takes the sum apart
            implied = {m for n in inputs for m in _upstream(n, kept, "order")}
            inputs = [n for n in inputs if n not in implied or n in sums]
            if not inputs:
                continue
            index = [relation.inputs.index(n) for n in inputs]
            relation = Relation(
                relation.target,
                inputs,
                "order",
                [0.0] + [1.0] * len(inputs),
                [relation.fills[i] for i in index],
                sums=sums,
            )
        if any(relation.target in _upstream(n, kept) for n in relation.inputs):
            continue  # it would close a cycle
        kept[relation.target] = relation
    order = TopologicalSorter({r.target: set(r.inputs) for r in kept.values()}).static_order()
    return [kept[n] for n in order if n in kept]
