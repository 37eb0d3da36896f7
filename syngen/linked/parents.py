"""What a child row takes from its parent row: columns it copies, and the parent's values its
model learns beside its own.

Where the source's child rows repeat a column of their parent row (Chinook's invoices are
billed at their customer's address, and its lines priced at their track's price, in every
row), the generated child takes that column from its generated parent: learned or made anew
(an address is never a real one), the two agree as they do in the source. Generated apart,
they agreed by chance: 9% of invoices were billed in their customer's country.

The child's model also learns its parent's learned values as columns of its own (context),
and each generated child row is generated given its generated parent's (conditional
generation, ``engine/conditions.py``): so the child's values follow the parent's as in the
source, relations and orders across the two included (a line's date after its order's).
"""

from __future__ import annotations

from typing import Collection

import numpy as np
import pandas as pd

from syngen.keys import key_tuples

COPY_SHARE = 0.99  # of the child rows with a parent, those that hold the parent's value
MIN_ROWS = 10  # child rows with a parent, at least, to tell
PROBE_ROWS = 200  # rows a pair is tried on before all of them are compared
CONTEXT_PREFIX = "__parent__"
CONTEXT_KINDS = ("integer", "float", "date", "datetime", "categorical", "boolean")
MAX_CONTEXT = 8  # of a parent's learned columns, per link


def context_columns(key_name: str, learned: dict[str, str], skip: Collection[str]) -> dict[str, str]:
    """Context column -> the parent's column: of the parent's ``learned`` columns (name ->
    kind), the first ``MAX_CONTEXT`` of the kinds conditions take, not ``skip``ped."""
    names = [n for n, kind in learned.items() if kind in CONTEXT_KINDS and n not in skip][:MAX_CONTEXT]
    return {f"{CONTEXT_PREFIX}{key_name}.{n}": n for n in names}


def picked(source: pd.Series, rows: np.ndarray) -> pd.Series:
    """The values at ``rows`` of a parent's column, blank where a row is -1 (no parent)."""
    linked = rows >= 0
    values = source.iloc[np.where(linked, rows, 0)].reset_index(drop=True)
    if not linked.all():
        values = values.astype("Int64" if pd.api.types.is_integer_dtype(values) else object)
        values[~linked] = None
    return values


def parent_rows(child: pd.DataFrame, parent: pd.DataFrame, columns, parent_columns) -> np.ndarray:
    """Each child row's parent row by the FK ``columns`` (-1: no parent); a key read as
    floats beside blanks (2.0) finds its parent's 2."""
    keys = _key_text(parent, parent_columns)
    positions = pd.Series(np.arange(len(parent)), index=keys)
    positions = positions[~positions.index.duplicated()]
    rows = positions.reindex(_key_text(child, columns)).to_numpy()
    present = child[list(columns)].notna().all(axis=1).to_numpy()
    return np.where(present & ~np.isnan(rows), np.nan_to_num(rows, nan=-1), -1).astype(np.int64)


def _key_text(frame: pd.DataFrame, columns) -> np.ndarray:
    """Each row's key as one text, values as ``_comparable`` gives them."""
    return key_tuples(pd.DataFrame({c: _comparable(frame[c]) for c in columns}), columns).to_numpy()


def copied_columns(
    child: pd.DataFrame,
    parent: pd.DataFrame,
    rows: np.ndarray,
    columns: Collection[str],
    parent_columns: Collection[str],
) -> dict[str, str]:
    """Child column -> the parent column it holds in ``COPY_SHARE`` of the child rows with a
    parent (blank where the parent's is blank); a parent column of the same name is tried first.
    A column blank in every such row tells nothing and is left out."""
    linked = np.flatnonzero(rows >= 0)
    if len(linked) < MIN_ROWS:
        return {}
    probe = linked[np.linspace(0, len(linked) - 1, min(PROBE_ROWS, len(linked))).astype(int)]
    copies: dict[str, str] = {}
    for column in columns:
        mine = child[column]
        if mine.iloc[linked].isna().all():
            continue
        for candidate in sorted(parent_columns, key=lambda p: p != column):
            theirs = parent[candidate]
            if (
                _agreement(mine, theirs, probe, rows) >= COPY_SHARE
                and _agreement(mine, theirs, linked, rows) >= COPY_SHARE
            ):
                copies[column] = candidate
                break
    return copies


def _agreement(mine: pd.Series, theirs: pd.Series, at: np.ndarray, rows: np.ndarray) -> float:
    """The share of child rows ``at`` whose value equals their parent row's (blanks alike)."""
    a, b = _comparable(mine.iloc[at]), _comparable(theirs.iloc[rows[at]])
    return float(np.mean(a == b))


def _comparable(values: pd.Series) -> np.ndarray:
    """Values as equal ones compare (an object array): whole numbers as integers, so that 2
    and 2.0 are alike and long ids stay exact, other numbers as floats, the rest as text,
    blanks as one marker."""
    blank = values.isna().to_numpy()
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        text = values.astype("Int64").astype(str)
    elif pd.api.types.is_numeric_dtype(values):
        numbers = values.to_numpy(dtype=float, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        text = pd.Series(np.where(whole, np.nan_to_num(numbers).astype(np.int64).astype(str), numbers.astype(str)))
    else:  # map, not astype: bytes (a picture) are not decoded as text
        text = values.map(str)
    return np.where(blank, "\0blank", text.to_numpy(dtype=object))
