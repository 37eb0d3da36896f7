"""Personal data: what a column means, realistic values in its place, and protection of rare
values, so that no real identifying value reaches generated rows or saved models."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # at run time only where used: the command line's --help stays light
    import numpy as np
    import pandas as pd

# A category value seen fewer times than this in the source is never generated as it is.
RARE_THRESHOLD = 5


@dataclass(frozen=True)
class Protection:
    """What a codec needs to keep real values out of the model while it learns: the model's
    key for hashing values it must never emit, the rare-value threshold, and each source
    row's country (ISO code, indexed like the table) where the table has a country column."""

    secret: str | None = None
    rare_threshold: int = RARE_THRESHOLD
    regions: "pd.Series | None" = None
    people: "pd.Series | None" = None  # who each row is about, where the table says (an email, a name)

    def holders(self, values: "pd.Series") -> "pd.Series":
        """How many different people hold each value: rows where the table says who a row is
        about (seven invoices of one customer in Berlin make Berlin one person's city), else
        rows. A value held by fewer than ``rare_threshold`` people identifies them."""
        people = None
        if self.people is not None and self.people.index.is_unique:
            people = self.people.reindex(values.index)
        if people is None:
            return values.value_counts()
        return people.groupby(values.to_numpy(), sort=False).nunique()

    def regions_of(self, values: "pd.Series") -> "pd.Series | None":
        """The countries of the rows of ``values`` (None when unknown)."""
        if self.regions is None or not self.regions.index.is_unique:
            return None
        return self.regions.reindex(values.index)


class _Rare:
    """Marks a generated cell whose value is still to be made (a rare category's place)."""

    def __repr__(self) -> str:
        return "RARE"


RARE = _Rare()


def pending(values) -> "np.ndarray":
    """Which cells of a column still hold the RARE mark."""
    import numpy as np

    return np.asarray(values, dtype=object) == RARE
