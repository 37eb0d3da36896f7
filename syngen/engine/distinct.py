"""Two categories that never hold one value in the same row: a match's home and away team, a
flight's origin and destination, an account that sends and one that receives.

The decoder draws each category on its own given the latent code, so a pair of columns over
the same values agrees by chance (Bundesliga: a team played itself in one match of 30 of
the generated rows, never in the source's 14,018). So at fit such pairs are found: columns
sharing values that agree in no source row, where chance would make them agree in enough
rows that none doing so is no accident (odds below ``MAX_CHANCE``, shared among the pairs
tested). At generation a row whose two columns agree swaps its second value with another
row's, where neither row then agrees: the second column keeps its values and their shares.
Rows no swap can mend (the other column given one value in every row) copy another row's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from syngen.engine.dependencies import MAX_CHANCE

ROUNDS = 8  # of swaps; rows still agreeing after them keep their values


@dataclass(frozen=True)
class Distinct:
    """``first`` and ``second`` never hold one value in a row."""

    first: str
    second: str

    def apply(
        self,
        frame: pd.DataFrame,
        rng: np.random.Generator,
        given: frozenset[str] = frozenset(),
        apart: dict[str, set[str]] | None = None,
    ) -> str | None:
        """Swap values of one column between rows, in place, until no row holds one value in
        both (the second column, or the first where the second was given; neither where
        both were), nor the moved column a value of another column ``apart`` keeps it from
        (``apart_from``). The column moved, or None."""
        if {self.first, self.second} <= given:
            return None
        moved, kept = (self.first, self.second) if self.second in given else (self.second, self.first)
        others = sorted((apart or {}).get(moved, set()) - {kept})
        against = frame[[kept, *others]].to_numpy(dtype=object)
        present = pd.notna(against)
        values = frame[moved].to_numpy(dtype=object, copy=True)

        def agrees(rows: np.ndarray, held: np.ndarray) -> np.ndarray:
            """Whether ``held`` (a value per row) agrees with a column the rows keep apart."""
            return ((against[rows] == held[:, None]) & present[rows]).any(axis=1)

        changed = False
        for swap in [True] * ROUNDS + [False] * ROUNDS:
            clash = np.flatnonzero(agrees(np.arange(len(values)), values))
            if not len(clash):
                break
            partner = rng.integers(0, len(values), len(clash))
            ok = ~agrees(clash, values[partner])
            if swap:  # the partner's row must not agree either, and swaps but once
                ok &= ~agrees(partner, values[clash]) & ~np.isin(partner, clash)
                _, first = np.unique(partner, return_index=True)
                ok &= np.isin(np.arange(len(clash)), first)
            clash, partner = clash[ok], partner[ok]
            if swap:
                values[clash], values[partner] = values[partner], values[clash].copy()
            else:  # where no swap is left (the other column given one value in every row): a copy
                values[clash] = values[partner]
            changed |= bool(len(clash))
        if not changed:
            return None
        frame[moved] = pd.Series(values, index=frame.index).astype(frame[moved].dtype)
        return moved

    def state(self) -> list[str]:
        return [self.first, self.second]

    @classmethod
    def from_state(cls, state: list[str]) -> "Distinct":
        return cls(*state)


def find_distinct(data: pd.DataFrame, columns: list[str]) -> list[Distinct]:
    """The pairs among the categories ``columns`` that agree in no row of ``data`` although
    chance would make them (see the module): a car buyer's first to sixth choice of type are
    fifteen pairs."""
    pairs = list(combinations(columns, 2))
    if not pairs:
        return []
    needed = math.log(len(pairs) / MAX_CHANCE)  # rows expected to agree, none doing so
    text = {c: data[c].astype("string") for c in columns}
    found = []
    for first, second in pairs:
        a, b = text[first], text[second]
        both = (a.notna() & b.notna()).to_numpy()
        if both.sum() < needed:
            continue
        a, b = a[both], b[both]
        shares = pd.concat([a.value_counts(normalize=True), b.value_counts(normalize=True)], axis=1, join="inner")
        expected = float(both.sum() * shares.prod(axis=1).sum())
        if expected >= needed and not (a.to_numpy() == b.to_numpy()).any():
            found.append(Distinct(first, second))
    return found


def apart_from(pairs: list[Distinct]) -> dict[str, set[str]]:
    """Each column of ``pairs``: the columns it never agrees with."""
    apart: dict[str, set[str]] = {}
    for pair in pairs:
        apart.setdefault(pair.first, set()).add(pair.second)
        apart.setdefault(pair.second, set()).add(pair.first)
    return apart
