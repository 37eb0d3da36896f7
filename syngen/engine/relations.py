"""Arithmetic relations and orders between numeric columns: a total that is a price times a
number of months, a depth computed from three sizes, an end never before its start.

The autoencoder decodes every column from the latent code on its own, so such relations came
out blurred: churn's ``total_charges`` drifted from ``tenure * monthly_charges``, and a
classifier told generated rows from real ones by that alone (detection AUC 0.82; 0.69 with
the relation kept). So they are found at fit time, and the target column of each is learned
as its *residual* on the columns it follows from; generation composes it back, so the
relation holds up to the source's own noise, and that noise follows the row like any column.

Forms (``t`` the target, ``x`` the inputs, ``r`` the residual the autoencoder learns):

- ``product``: ``t = exp(b0) * prod(x_i ** b_i) * exp(r)``: products, ratios, powers of
  positive columns;
- ``sum``: ``t = b0 + sum(b_i * x_i) + r``: sums, differences, linear scales;
- ``order``: ``t = max(x_i) + r`` with ``r >= 0`` in every source row: a column never below
  others (dates too), kept because generated residuals stay inside the source's range.

A column is the target of one relation at most, and relations form no cycle, so they are
composed in one pass (inputs first).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from graphlib import TopologicalSorter

import numpy as np
import pandas as pd

FIT_ROWS = 5000  # relations are searched on a sample of this many rows
MAX_COLUMNS = 40  # numeric columns searched (the first ones)
MAX_INPUTS = 3
MIN_ROWS = 30  # complete rows needed, and this many per coefficient / 3
MIN_R2 = 0.99  # share of the target's variance the relation explains
EXACT_R2 = 0.999  # so tight a relation keeps its composed values (a marginal map would move them)
TRIM = 0.01  # share of rows a fit leaves out as outliers
STEP_GAIN = 0.5  # a further input must halve the unexplained variance
MIN_COVERAGE = 0.98  # of the target's non-null rows inside a product's domain (all positive)
MIN_CROSSING = 0.005  # share of rows an order must rule out once columns are shuffled
NUMBER_KINDS = ("float", "integer")
TIME_KINDS = ("date", "datetime")


@dataclass
class Relation:
    target: str
    inputs: list[str]
    form: str  # "product" | "sum" | "order"
    coefficients: list[float]  # intercept first, then one per input
    fills: list[float] = field(default_factory=list)  # per input: stands in for a blank or non-positive one
    r2: float = 1.0
    blank_alone: bool = True  # whether the source's target is ever blank beside present inputs
    codec: object = None  # the residual's codec (a NumericCodec), kept by the model beside the relation
    generated: np.ndarray = field(default_factory=lambda: np.zeros(0))  # quantiles of composed targets

    @property
    def exact(self) -> bool:
        """Whether the inputs nearly fix the target: its composed values are kept as they are."""
        return self.form != "order" and self.r2 >= EXACT_R2

    @property
    def gap(self) -> float:
        """An order's smallest gap in the source (nobody starts work before 14), at least 0."""
        return max(0.0, float(self.codec.transform.quantiles[0]))

    def predict(self, inputs: list[np.ndarray]) -> np.ndarray:
        """The target as the inputs alone give it."""
        b0, slopes = self.coefficients[0], self.coefficients[1:]
        if self.form == "product":
            log = np.full(len(inputs[0]), b0)
            zero = np.zeros(len(inputs[0]), dtype=bool)
            for x, b, fill in zip(inputs, slopes, self.fills):
                x = np.where(np.isfinite(x), x, fill)
                zero |= (x == 0) & (b > 0)  # 0 times anything is 0
                log += b * np.log(np.where(x > 0, x, fill))
            return np.where(zero, 0.0, np.exp(np.clip(log, -700, 700)))
        if self.form == "order":  # never below the highest of its inputs
            return np.max([np.where(np.isfinite(x), x, fill) for x, fill in zip(inputs, self.fills)], axis=0)
        total = np.full(len(inputs[0]), b0)
        for x, b, fill in zip(inputs, slopes, self.fills):
            total += b * np.where(np.isfinite(x), x, fill)
        return total

    def residual(self, target: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        """What the autoencoder learns in the target's place (NaN where the target is blank;
        0 where a product's target or prediction is not positive, which composes it back)."""
        predicted = self.predict(inputs)
        if self.form != "product":
            return target - predicted
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.log(target) - np.log(predicted)
        return np.where(np.isnan(target), np.nan, np.where(np.isfinite(r), r, 0.0))

    def compose(self, residual: np.ndarray, inputs: list[np.ndarray]) -> np.ndarray:
        predicted = self.predict(inputs)
        if self.form == "product":
            return predicted * np.exp(np.clip(residual, -700, 700))
        return predicted + residual

    def solve(self, target: np.ndarray, residual: np.ndarray, inputs: list[np.ndarray]) -> list[np.ndarray]:
        """Inputs that agree with a given ``target``: an order's inputs at most the target less
        the source's smallest gap; a product's or sum's last input solved from the others."""
        if self.form == "order":
            return [np.minimum(x, target - self.gap) for x in inputs]
        slopes, solved = self.coefficients[1:], list(inputs)
        k = int(np.flatnonzero(np.abs(slopes) > 1e-12)[-1])
        others = [i for i in range(len(inputs)) if i != k]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.form == "product":
                log = np.log(target) - residual - self.coefficients[0] - sum(slopes[i] * np.log(inputs[i]) for i in others)
                value = np.exp(np.clip(log / slopes[k], -700, 700))
            else:
                value = (target - residual - self.coefficients[0] - sum(slopes[i] * inputs[i] for i in others)) / slopes[k]
        solved[k] = np.where(np.isfinite(value), value, inputs[k])
        return solved

    def state(self) -> dict:
        return {"target": self.target, "inputs": self.inputs, "form": self.form,
                "coefficients": [float(b) for b in self.coefficients],
                "fills": [float(f) for f in self.fills], "r2": float(self.r2), "blank_alone": self.blank_alone}

    @classmethod
    def from_state(cls, state: dict) -> "Relation":
        return cls(state["target"], list(state["inputs"]), state["form"], list(state["coefficients"]),
                   list(state["fills"]), state["r2"], state["blank_alone"])


def find_relations(numbers: dict[str, np.ndarray], kinds: dict[str, str], seed: int = 0) -> list[Relation]:
    """Relations among the columns ``numbers`` (name -> values as floats, NaN for blanks;
    dates as seconds), in an order that composes inputs before targets."""
    names = [n for n in numbers if kinds[n] in NUMBER_KINDS + TIME_KINDS and _varies(numbers[n])][:MAX_COLUMNS]
    measures = [n for n in names if kinds[n] in NUMBER_KINDS]
    found = _arithmetic(measures, numbers, seed) if len(measures) >= 2 else []
    orders = {r.target: r for r in _orders(names, numbers, kinds)}
    # lower columns first, so that each order keeps only the columns right below it
    below_first = TopologicalSorter({t: set(r.inputs) for t, r in orders.items()}).static_order()
    kept = _acyclic(found + [orders[n] for n in below_first if n in orders])
    for relation in kept:
        present = np.column_stack([np.isfinite(numbers[n]) for n in relation.inputs]).all(axis=1)
        relation.blank_alone = bool((present & ~np.isfinite(numbers[relation.target])).any())
    return kept


def _arithmetic(measures: list[str], numbers: dict[str, np.ndarray], seed: int) -> list[Relation]:
    """The best-explained target first, then the next one among the columns left, each fitted
    only on inputs that do not themselves follow from it (refitted when one comes to)."""
    rows = _sample_rows(len(numbers[measures[0]]), seed)
    sample = {n: numbers[n][rows] for n in measures}
    kept: dict[str, Relation] = {}

    def best(target: str) -> Relation | None:
        allowed = [n for n in measures if n != target and target not in _upstream(n, kept)]
        fits = [r for r in (_fit(target, allowed, sample, form) for form in ("product", "sum")) if r]
        return max(fits, key=lambda r: (r.r2, -len(r.inputs)), default=None)

    pending = {t: best(t) for t in measures}
    while any(pending.values()):
        target = max((t for t in pending if pending[t]), key=lambda t: pending[t].r2)
        kept[target] = pending.pop(target)
        for other, relation in pending.items():
            if relation and any(other in _upstream(n, kept) for n in relation.inputs):
                pending[other] = best(other)
    return list(kept.values())


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


def _sample_rows(n: int, seed: int) -> np.ndarray:
    if n <= FIT_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng([seed, 7]).choice(n, FIT_ROWS, replace=False))


def _space(x: np.ndarray, form: str) -> np.ndarray:
    """Values where the form is linear: logs of positive values for products (NaN elsewhere)."""
    if form != "product":
        return x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)


def _fit(target: str, candidates: list[str], sample: dict[str, np.ndarray], form: str) -> Relation | None:
    """Forward selection of at most ``MAX_INPUTS`` inputs; each must halve what is left
    unexplained. The target's present rows must all have their inputs present (and, for a
    product, nearly all be positive), so that composing never leaves it blank."""
    t = sample[target]
    present = np.isfinite(t)
    y = _space(t, form)
    usable = [c for c in candidates if np.isfinite(sample[c][present]).all()]
    space = {c: _space(sample[c], form) for c in usable}
    chosen: list[str] = []
    best_var = None
    coefficients = None
    domain = np.isfinite(y)
    if domain.sum() < MIN_COVERAGE * present.sum() or domain.sum() < MIN_ROWS:
        return None
    total_var = float(np.var(_trimmed(y[domain])))
    if total_var <= 0:
        return None
    for _ in range(MAX_INPUTS):
        step = None
        for c in usable:
            if c in chosen:
                continue
            rows = domain & np.isfinite(space[c])
            for other in chosen:
                rows &= np.isfinite(space[other])
            if rows.sum() < max(MIN_ROWS, 10 * (len(chosen) + 2)) or rows.sum() < MIN_COVERAGE * present.sum():
                continue
            b, var = _trimmed_fit(np.column_stack([space[o][rows] for o in chosen + [c]]), y[rows])
            if step is None or var < step[1]:
                step = (c, var, b, rows)
        if step is None or (best_var is not None and step[1] > STEP_GAIN * best_var):
            break
        chosen.append(step[0])
        best_var, coefficients, rows = step[1], step[2], step[3]
    if not chosen or 1.0 - best_var / total_var < MIN_R2:
        return None
    fills = [float(np.nanmedian(sample[c][sample[c] > 0])) if form == "product" else float(np.nanmedian(sample[c]))
             for c in chosen]
    return Relation(target, chosen, form, [float(b) for b in coefficients], fills, 1.0 - best_var / total_var)


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


def _trimmed(y: np.ndarray) -> np.ndarray:
    """``y`` without its ``TRIM`` share farthest from the median."""
    error = np.abs(y - np.median(y))
    return y[error <= np.quantile(error, 1.0 - TRIM)]


def _orders(names: list[str], numbers: dict[str, np.ndarray], kinds: dict[str, str]) -> list[Relation]:
    """For each column, the other columns it is never below in any source row (dates with
    dates, numbers with numbers), where that is a rule of rows and not of ranges."""
    family = {n: kinds[n] in TIME_KINDS for n in names}
    shuffle = np.random.default_rng(11).permutation(len(numbers[names[0]])) if names else None
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
            if not (np.isfinite(x) | ~np.isfinite(t)).all():
                continue  # the target outlives a blank input
            if np.mean(x[shuffle] > t) < MIN_CROSSING:
                continue  # the ranges nearly keep it anyway: no rule of rows
            below[high].append(low)
    relations = []
    for high, lows in below.items():
        if lows:
            fills = [float(np.nanmedian(numbers[n])) for n in lows]
            relations.append(Relation(high, lows, "order", [0.0] + [1.0] * len(lows), fills))
    return relations


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
            implied = {m for n in inputs for m in _upstream(n, kept, "order")}
            inputs = [n for n in inputs if n not in implied]
            if not inputs:
                continue
            index = [relation.inputs.index(n) for n in inputs]
            relation = Relation(relation.target, inputs, "order", [0.0] + [1.0] * len(inputs),
                                [relation.fills[i] for i in index])
        if any(relation.target in _upstream(n, kept) for n in relation.inputs):
            continue  # it would close a cycle
        kept[relation.target] = relation
    order = TopologicalSorter({r.target: set(r.inputs) for r in kept.values()}).static_order()
    return [kept[n] for n in order if n in kept]


def residual_series(relation: Relation, numbers: dict[str, np.ndarray], index: pd.Index) -> pd.Series:
    """The residual column the autoencoder learns for ``relation``'s target."""
    values = relation.residual(numbers[relation.target], [numbers[n] for n in relation.inputs])
    return pd.Series(values, index=index, name=relation.target)
