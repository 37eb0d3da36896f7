"""What every column codec shares: null share, source dtype, and a plain-data state.

A codec learns one column. Learned codecs (``encoders.py``) turn it into model inputs and
model outputs back into values; generated codecs (``generators.py``) make values on their own.
Either way the state is JSON plus NumPy arrays, never pickle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from syngen.errors import SyngenError
from syngen.privacy import Protection

if TYPE_CHECKING:
    from typing import Self

    from syngen.privacy.persona import Rows

_REGISTRY: dict[str, type["Codec"]] = {}
_C = TypeVar("_C", bound="Codec")


def register(*kinds: str):
    """Class decorator: the codec used for these column kinds."""

    def wrap(cls):
        for kind in kinds:
            _REGISTRY[kind] = cls
        return cls

    return wrap


def codec_for(name: str, kind: str) -> "Codec":
    return _REGISTRY[kind](name, kind)


def expect(codec: "Codec", cls: type[_C]) -> _C:
    """``codec`` as the ``cls`` a model's structure says it is: a TypeError (a damaged model) if not."""
    if not isinstance(codec, cls):
        raise TypeError(f"column '{codec.name}' has a {type(codec).__name__}, not a {cls.__name__}")
    return codec


class Codec:
    learned = False

    def __init__(self, name: str, kind: str):
        self.name = name
        self.kind = kind
        self.dtype = "object"
        self.null_share = 0.0

    def fit(self, column: pd.Series, text_format: str | None = None, protection: Protection | None = None) -> Self:
        """Learn the column; ``text_format`` is a user's strftime format for text dates;
        ``protection`` says how real values are kept out of the model."""
        if text_format is not None and self.kind not in ("datetime", "date", "time", "duration"):
            raise SyngenError(
                f"column '{self.name}': a format applies to datetime, date and time "
                f"columns, and this one is {self.kind}; give its kind too"
            )
        self.text_format = text_format
        self.protection = protection or Protection()
        self.dtype = str(column.dtype)
        nulls = column.isna()
        self.null_share = float(nulls.mean())
        self._fit(column[~nulls])
        return self

    def _fit(self, values: pd.Series) -> None:
        """Learn from the non-null values."""

    def as_key(self, nullable: bool = False) -> None:
        """Generate this column as a key: distinct values (codecs that can repeat values
        override this) and, unless ``nullable``, no nulls, whatever the source held."""
        if not nullable:
            self.null_share = 0.0

    def generate(
        self, n: int, rng: np.random.Generator, start: int, total: int, seed: int, rows: Rows | None = None
    ) -> pd.Series:
        """Rows ``start .. start+n`` of a run of ``total`` rows, made without the model (codecs
        that are not learned override this); ``rows`` holds each row's person and place."""
        raise TypeError(f"column '{self.name}' ({self.kind}) is learned: the model decodes it, nothing generates it")

    # -- plain-data state ---------------------------------------------------------------
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {"name": self.name, "kind": self.kind, "dtype": self.dtype, "null_share": self.null_share}
        extra, arrays = self._state()
        meta.update(extra)
        return meta, arrays

    def _state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return {}, {}

    @staticmethod
    def from_state(meta: dict, arrays: dict[str, np.ndarray]) -> "Codec":
        codec = codec_for(meta["name"], meta["kind"])
        codec.dtype = meta["dtype"]
        codec.null_share = meta["null_share"]
        codec._load(meta, arrays)
        return codec

    def _load(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        """Restore what ``_state`` saved."""

    def part_state(self, part: str) -> tuple[dict, dict[str, np.ndarray]]:
        """The state of the codec held as ``self.<part>`` (a column's hidden sub-column)."""
        meta, arrays = getattr(self, part).state()
        return meta, {f"{part}.{key}": value for key, value in arrays.items()}

    @staticmethod
    def part_from_state(part: str, meta: dict, arrays: dict[str, np.ndarray]) -> "Codec":
        """A part saved by ``part_state``, from its codec's state."""
        prefix = f"{part}."
        return Codec.from_state(meta, {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})

    # -- output -------------------------------------------------------------------------
    def null_mask(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Rows to leave empty, at the column's learned null share."""
        return rng.random(n) < self.null_share

    def restore_dtype(self, values, nulls: np.ndarray | None = None, complete: bool = False) -> pd.Series:
        """Values in the source column's dtype; integers with nulls become nullable Int64.
        ``complete``: ``values`` hold no blank but where ``nulls`` says, so none is looked for
        (a scan of an object column costs as much as drawing it)."""
        series = pd.Series(values)
        blanks = nulls is not None and bool(nulls.any())
        if blanks:
            series = series.astype(object)
            series[nulls] = None
        has_nulls = blanks if complete else bool(series.isna().any())
        dtype = self.dtype
        if dtype.lower().startswith(("int", "uint")):
            series = pd.to_numeric(series)
            return series.astype(dtype.capitalize() if has_nulls else dtype.lower())
        if dtype.startswith("float"):
            return pd.to_numeric(series).astype(dtype)
        if dtype in ("bool", "boolean"):
            return series.astype("boolean" if has_nulls else "bool")
        if dtype.startswith("datetime64"):
            return series.astype(dtype) if not has_nulls else pd.to_datetime(series).astype(dtype)
        if has_nulls and not complete:
            return series.astype(object).where(series.notna(), None)
        return series.astype(object)
