"""Row order: a sequence that numbers the source's rows in the order of other columns.

Real tables are often numbered as they were sorted or written: R's row names follow a
weather table's airport and hour, an auto-increment id follows the order date. Numbered
1..n in random order, generated rows break that, and a classifier tells them from real
ones by the pair alone (nycflights13's weather: detection AUC 0.98 on row names and hour).

So at fit, with the rows in the sequence's order, keys are taken greedily: the column whose
values run in order (ascending or descending) between the most adjacent rows that the keys
before it tie, at least ``ORDER_SHARE`` of them, coarsest first. At generation each batch's
rows are sorted by those keys and numbered in that order: the order holds within a batch
(50,000 rows by default), and the sequence stays unique and gap-free.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ORDER_SHARE = 0.99  # of adjacent rows the keys before tie, that a key must keep in order
MAX_KEYS = 4


def sort_values(values: np.ndarray) -> np.ndarray:
    """Values as numbers to sort by: numbers as they are, text by its place in sorted order
    (a blank after every value)."""
    if values.dtype.kind in "fiub":
        return values.astype(np.float64)
    codes, _ = pd.factorize(pd.Series(values, dtype=object).astype("string"), sort=True, use_na_sentinel=True)
    return np.where(codes < 0, np.nan, codes).astype(np.float64)


@dataclass
class RowOrder:
    """The sequence ``column`` numbers rows sorted by ``keys`` (each with its direction)."""
    column: str
    keys: list[str] = field(default_factory=list)
    descending: list[bool] = field(default_factory=list)

    @classmethod
    def fit(cls, column: str, sequence: np.ndarray, candidates: dict[str, np.ndarray]) -> "RowOrder | None":
        """The keys ``sequence`` follows among ``candidates`` (as ``sort_values`` reads
        them), or None when it follows none."""
        if len(sequence) < 20:
            return None
        rows = np.argsort(sequence, kind="stable")
        steps = {name: np.diff(values[rows]) for name, values in candidates.items()}
        tied = np.ones(len(rows) - 1, dtype=bool)  # adjacent rows the keys so far do not tell apart
        order = cls(column)
        while len(order.keys) < MAX_KEYS and tied.sum() >= 20:
            best = None
            for name, step in steps.items():
                if name in order.keys:
                    continue
                within = step[tied]
                rises, falls = np.mean(within > 0), np.mean(within < 0)  # NaN (a blank) neither
                kept = 1.0 - min(rises, falls)
                if kept < ORDER_SHARE or max(rises, falls) == 0:  # a constant orders nothing
                    continue
                rank = (kept, -max(rises, falls))  # the surest, then the coarsest
                if best is None or rank > best[0]:
                    best = (rank, name, falls > rises)
            if best is None:
                break
            _, name, descending = best
            order.keys.append(name)
            order.descending.append(bool(descending))
            tied &= steps[name] == 0
        return order if order.keys else None

    def permutation(self, keys: dict[str, np.ndarray]) -> np.ndarray:
        """The rows in key order (``keys``: each key's values as ``sort_values`` reads them);
        blanks last, ties in generated order."""
        columns = []
        for name, descending in zip(self.keys, self.descending):
            values = keys[name]
            columns.append(-values if descending else values)
        # np.lexsort sorts by the last key first; NaN sorts last
        return np.lexsort(columns[::-1]) if columns else np.arange(0)

    def state(self) -> dict:
        return {"column": self.column, "keys": self.keys, "descending": self.descending}

    @classmethod
    def from_state(cls, state: dict) -> "RowOrder":
        return cls(state["column"], list(state["keys"]), list(state["descending"]))
