"""Parent columns that add up their children: an invoice's total is the sum of its lines'
prices times quantities, an order's item count the number of its lines.

Learned by the parent's model, such a total came out beside children generated apart from
it, and added up in no generated invoice but by chance. It is found at training (a count
of children, a sum of a child column or of the product of two, equal to the parent's
column in every source parent row up to its grain) and, at generation, filled once the
children exist, from their generated values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from syngen.values.kinds import decimals_of

MIN_ROWS = 10  # parent rows with children, at least, to tell
SHARE = 0.99  # of the parent rows, those the rule holds in
MAX_COLUMNS = 12  # a child's numeric columns tried (the first ones)


@dataclass(frozen=True)
class Aggregate:
    column: str  # the parent's
    child: str  # table
    key: str  # the child's FK to the parent
    of: tuple[str, ...] = ()  # no column: a count; one: a sum; two: a sum of products
    decimals: int = 0  # the parent column's, to round to

    def state(self) -> dict:
        return {**asdict(self), "of": list(self.of)}

    def values(self, rows: np.ndarray, children: dict[str, np.ndarray], parents: int) -> np.ndarray:
        """The parent rows' values, from their children's (``rows``: each child row's parent
        row, -1 none; ``children``: the child columns ``of`` names)."""
        linked = rows >= 0
        weights = np.ones(int(linked.sum()))
        for column in self.of:
            weights = weights * np.nan_to_num(np.asarray(children[column], dtype=float)[linked])
        total = np.bincount(rows[linked], weights=weights, minlength=parents)[:parents]
        return np.round(total, self.decimals)


def find_aggregates(
    parent: pd.DataFrame,
    child: pd.DataFrame,
    rows: np.ndarray,
    parent_columns,
    child_columns,
    child_name: str,
    key_name: str,
) -> list[Aggregate]:
    """The parent's numeric columns that are a count of its children, or a sum over them of
    a child column or of a product of two, in ``SHARE`` of its rows."""
    if (rows >= 0).sum() < MIN_ROWS:
        return []
    numbers = {
        c: pd.to_numeric(child[c], errors="coerce").to_numpy(dtype=float)
        for c in child_columns
        if pd.api.types.is_numeric_dtype(child[c]) and not pd.api.types.is_bool_dtype(child[c])
    }
    numbers = dict(list(numbers.items())[:MAX_COLUMNS])
    forms = [()] + [(c,) for c in numbers] + list(combinations(numbers, 2))
    found = []
    with_children = np.bincount(rows[rows >= 0], minlength=len(parent))[: len(parent)] > 0
    if with_children.sum() < MIN_ROWS:
        return []
    for column in parent_columns:
        if not pd.api.types.is_numeric_dtype(parent[column]) or pd.api.types.is_bool_dtype(parent[column]):
            continue
        target = pd.to_numeric(parent[column], errors="coerce").to_numpy(dtype=float)
        decimals = decimals_of(target)
        for of in forms:
            made = Aggregate(column, child_name, key_name, of, decimals).values(rows, numbers, len(parent))
            if np.mean(np.abs(made - target) <= 0.5 * 10.0**-decimals + 1e-9) >= SHARE and np.ptp(made) > 0:
                found.append(Aggregate(column, child_name, key_name, of, decimals))
                break
    return found
