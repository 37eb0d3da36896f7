"""Personal data: what a column means, realistic values in its place, and protection of rare
values, so that no real identifying value reaches generated rows or saved models."""
from __future__ import annotations

from dataclasses import dataclass

# A category value seen fewer times than this in the source is never generated as it is.
RARE_THRESHOLD = 5


@dataclass(frozen=True)
class Protection:
    """What a codec needs to keep real values out of the model while it learns: the model's
    key for hashing values it must never emit, and the rare-value threshold."""
    secret: str | None = None
    rare_threshold: int = RARE_THRESHOLD


class _Rare:
    """Marks a generated cell whose value is still to be made (a rare category's place)."""

    def __repr__(self) -> str:
        return "RARE"


RARE = _Rare()


def pending(values) -> "np.ndarray":
    """Which cells of a column still hold the RARE mark."""
    import numpy as np

    return np.asarray(values, dtype=object) == RARE
