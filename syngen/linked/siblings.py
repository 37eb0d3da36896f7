"""Children of one parent as a numbered sequence: a column that counts a parent's rows from 0
or 1 in every linked source row (TPC-H's line numbers 1..7 within each order).

Learned, or made a sequence as keys are, such a column ran across the table (1..60,175)
instead of starting again with each parent. It is found at training and, at generation, is
each child row's place among the rows of its generated parent, in the table's order.
"""

from __future__ import annotations

from typing import Collection

import numpy as np
import pandas as pd

MIN_ROWS = 10  # linked source rows, at least, to tell


def numbered_columns(child: pd.DataFrame, rows: np.ndarray, columns: Collection[str]) -> dict[str, int]:
    """Column -> its first number (0 or 1), for the whole-number ``columns`` whose values
    are, in every parent's linked rows (``rows``: each child row's parent row, -1 none),
    exactly first, first + 1, ...; some parent must have two rows or more."""
    linked = np.flatnonzero(rows >= 0)
    parents = rows[linked]
    if len(linked) < MIN_ROWS or len(np.unique(parents)) == len(parents):
        return {}
    found = {}
    for column in columns:
        values = pd.to_numeric(child[column].iloc[linked], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            continue
        order = np.lexsort((values, parents))
        expected = places(parents[order])
        for first in (0, 1):
            if np.array_equal(values[order], expected + first):
                found[column] = first
                break
    return found


def places(parents: np.ndarray) -> np.ndarray:
    """Each row's place among the earlier rows of the same parent (0, 1, ...), in row order."""
    order = np.argsort(parents, kind="stable")
    grouped = parents[order]
    starts = np.r_[True, grouped[1:] != grouped[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(grouped)), 0))
    result = np.empty(len(parents), dtype=np.int64)
    result[order] = np.arange(len(grouped)) - first
    return result
