"""Row order: a sequence that numbers the source's rows in the order of other columns.

Real tables are often numbered as they were sorted or written: R's row names follow a
weather table's airport and hour, an auto-increment id follows the order date, a list of
cars runs by class in the agency's own order (two seaters, subcompact, compact, ...).
Numbered 1..n in random order, generated rows break that, and a classifier tells them from
real ones by the pair alone (Stat2Data's Hawks: detection AUC 0.91, 0.52 once numbered in
order).

So at fit, with the rows in the sequence's order, keys are taken greedily: the column whose
values change in order (``ORDER_SHARE`` of the times they change) between adjacent rows that
the keys before it tie, surest and then coarsest first. Numbers and dates run ascending or descending; text
runs in the order its values first appear (each value's rows together), and the values at
least the rare threshold of rows hold are kept in that order (rarer ones sort last). Blanks
count as last, where generation sorts them, so blanks scattered between values break a key. At
generation each batch's rows are sorted by those keys and numbered in that order: the order
holds within a batch (50,000 rows by default), and the sequence stays unique.

Where the first key is text, each of its values takes the part of the batch's numbers its
rows span in the source, so a value's rows start where the source's do (a city's rows of a
monthly table, numbered in order, began where the counts of the cities before it happened
to end: a classifier told rows from real ones by row name and year).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ORDER_SHARE = 0.99  # of the changes between adjacent rows the keys before tie, in order
MAX_KEYS = 4
MIN_CHANGES = 20


def is_text(values: np.ndarray) -> bool:
    return values.dtype.kind not in "fiubmM"


@dataclass
class RowOrder:
    """The sequence ``column`` numbers rows sorted by ``keys``: each number or date with its
    direction, each text column by its values' place in ``levels``."""

    column: str
    keys: list[str] = field(default_factory=list)
    descending: list[bool] = field(default_factory=list)
    levels: dict[str, list[str]] = field(default_factory=dict)
    spans: list[float] = field(default_factory=list)  # a text first key's levels: shares of the numbers' range

    @classmethod
    def fit(
        cls, column: str, sequence: np.ndarray, candidates: dict[str, np.ndarray], min_count: int = 1
    ) -> "RowOrder | None":
        """The keys ``sequence`` follows among ``candidates`` (numbers, dates as numbers,
        or text), or None when it follows none. ``min_count``: rows a text value needs to be
        kept among a key's levels."""
        if len(sequence) < 20:
            return None
        rows = np.argsort(sequence, kind="stable")
        steps, texts, counts = {}, {}, {}
        alike = {}  # the chance that two rows drawn at random hold the same value
        for name, values in candidates.items():
            values = values[rows]
            if is_text(values):  # each value's place in the order the values first appear
                text = pd.Series(values, dtype=object).astype("string")
                counts[name] = text.value_counts()
                if counts[name][counts[name] >= min_count].sum() < 0.5 * len(text):
                    continue  # mostly rare values: no order of them can be kept
                codes, texts[name] = pd.factorize(text)
                values = np.where(codes < 0, np.nan, codes)
            values = values.astype(np.float64)
            # each direction with blanks last, where generation sorts them: a blank between
            # values is a change out of order, a run of blanks ties
            steps[name] = tuple(_steps(v) for v in (values, -values))
            alike[name] = float(np.sum(pd.Series(values).value_counts(normalize=True, dropna=False) ** 2))
        tied = np.ones(len(rows) - 1, dtype=bool)  # adjacent rows the keys so far do not tell apart
        order = cls(column)
        while len(order.keys) < MAX_KEYS and tied.sum() >= 20:
            best = None
            for name, (up, down) in steps.items():
                if name in order.keys:
                    continue
                rises, falls = int(np.sum(up[tied] > 0)), int(np.sum(up[tied] < 0))
                by_chance = np.sum(tied) * (1.0 - alike[name])  # changes in random order
                if rises + falls == 0 or (rises + falls < MIN_CHANGES and rises + falls > 0.1 * by_chance):
                    continue  # a constant orders nothing; a few changes in order say nothing, unless
                    # random order would make far more (an airport changing twice in 26,000 rows)
                kept, splits, descending = rises / (rises + falls), rises, False
                if name not in texts:  # text runs in the order its values first appear: never descending
                    down_rises, down_falls = int(np.sum(down[tied] > 0)), int(np.sum(down[tied] < 0))
                    if down_rises / (down_rises + down_falls) > kept:
                        kept, splits, descending = down_rises / (down_rises + down_falls), down_rises, True
                if kept < ORDER_SHARE:  # of the changes between adjacent rows, this many in order
                    continue
                rank = (kept, -splits)  # the surest, then the coarsest
                if best is None or rank > best[0]:
                    best = (rank, name, descending)
            if best is None:
                break
            _, name, descending = best
            order.keys.append(name)
            order.descending.append(bool(descending))
            if name in texts:
                order.levels[name] = [str(v) for v in texts[name] if counts[name].get(v, 0) >= min_count]
            tied &= steps[name][0] == 0
        if order.keys and order.keys[0] in order.levels:
            order.spans = _spans(sequence[rows], candidates[order.keys[0]][rows], order.levels[order.keys[0]])
        return order if order.keys else None

    def permutation(self, keys: dict[str, np.ndarray]) -> np.ndarray:
        """The rows in key order (``keys``: each key's values, dates as numbers); blanks and
        text values not among the levels last, ties in generated order."""
        columns = []
        for name, descending in zip(self.keys, self.descending):
            values = self._places(name, keys[name])
            columns.append(-values if descending else values)
        return np.lexsort(columns[::-1])  # the last key sorts first; NaN sorts last

    def numbered(self, numbers: np.ndarray, first: np.ndarray) -> np.ndarray:
        """The batch's ``numbers`` (ascending, distinct integers) given to its rows in key order,
        ``first`` their first key's values in that order: each level's rows spread over its
        span of the numbers' range, each row then the nearest free number, still ascending
        and distinct and inside the range."""
        n = len(numbers)
        if not self.spans or n < 2 or numbers.dtype.kind not in "iuf":
            return numbers
        spans = np.append(self.spans, max(0.0, 1.0 - sum(self.spans)))  # values not among the levels last
        level = np.nan_to_num(self._places(self.keys[0], first), nan=len(self.spans)).astype(np.int64)
        counts = np.bincount(level, minlength=len(spans))
        within = np.arange(n) - np.searchsorted(level, level)  # levels come in order
        starts = np.concatenate([[0.0], np.cumsum(spans)[:-1]])
        low, high = float(numbers[0]), float(numbers[-1])
        wanted = low + (high - low) * (starts[level] + spans[level] * (within + 0.5) / counts[level])
        row, wanted = np.arange(n), np.floor(wanted)
        # a level with more rows than its span holds spills over both its ends: the mean of
        # pushing rows up past the ones before (each one past the last, room left after)
        # and down below the ones after, each strictly ascending, so their mean is too
        up = np.minimum(np.maximum.accumulate(wanted - row) + row, high - (n - 1 - row))
        down = np.maximum(np.minimum.accumulate((wanted - row)[::-1])[::-1] + row, low + row)
        return np.floor((up + down) / 2).astype(numbers.dtype)

    def _places(self, name: str, values: np.ndarray) -> np.ndarray:
        """A key's values as numbers rows sort by: a text key's values their place among its
        levels (NaN for blanks and values not among them)."""
        if name not in self.levels:
            return values.astype(np.float64)
        place = {v: i for i, v in enumerate(self.levels[name])}
        return pd.Series(values, dtype=object).astype("string").map(place).to_numpy(dtype=np.float64, na_value=np.nan)

    def state(self) -> dict:
        return {
            "column": self.column,
            "keys": self.keys,
            "descending": self.descending,
            "levels": self.levels,
            "spans": self.spans,
        }

    @classmethod
    def from_state(cls, state: dict) -> "RowOrder":
        return cls(
            state["column"],
            list(state["keys"]),
            list(state["descending"]),
            dict(state["levels"]),
            list(state.get("spans", [])),
        )


def _spans(numbers: np.ndarray, values: np.ndarray, levels: list[str]) -> list[float]:
    """Each level's share of the range of ``numbers`` (ascending), from halfway after the
    level before it to halfway before the next: a sample of a table numbered city by city
    keeps each city's place, where its share of the rows would say it only up to chance."""
    text = pd.Series(values, dtype=object).astype("string")
    ends = pd.Series(numbers).groupby(text.to_numpy()).agg(["min", "max"]).reindex(levels)
    if ends.isna().any().any() or numbers[-1] <= numbers[0]:
        return []
    bounds = np.concatenate([[numbers[0]], (ends["max"].to_numpy()[:-1] + ends["min"].to_numpy()[1:]) / 2])
    bounds = np.append(bounds, numbers[-1])
    return [float(s) for s in np.diff(bounds) / (numbers[-1] - numbers[0])]


def _steps(values: np.ndarray) -> np.ndarray:
    """Differences between adjacent values with blanks last: into a blank a rise, out of one
    a fall, between two none."""
    last = np.where(np.isnan(values), np.inf, values)
    with np.errstate(invalid="ignore"):  # inf - inf: two blanks, no change
        return np.nan_to_num(np.diff(last), nan=0.0, posinf=1.0, neginf=-1.0)
