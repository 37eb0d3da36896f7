"""Dates and times written as text: which format a column uses, and writing values back in it.

pandas' guesser proposes formats from a few values; a fallback list adds what it does not
propose (times of day, 12-hour clocks, two-digit years). A proposal counts only if it parses
every value and writes most values back exactly as the source has it, so the format kept is
the source's own (its usual one, where a few values are padded otherwise): unpadded months
and hours (``%-m``), milliseconds (``%3f``, our own width mark), a time-zone offset. A column
with one offset keeps it as literal text; one with several ends its format in ``%z``, and the
offsets are learned as a category of their own.
"""

from __future__ import annotations

import re
import warnings
from itertools import product

import pandas as pd

_SAMPLE = 2000
_PROBE = 20  # values a proposal must parse before the whole sample is tried
_ROUND_TRIP = 500  # values written back to check a format's padding
# of values a format must write back exactly as the source has them; the others parse in it
# and differ only in padding (1996-1-7 typed beside 1996-01-17) and come out in the usual one
EXACT_SHARE = 0.5
MAX_STRAY_SHARE = 0.01  # of values that may be no date in a column of dates (typos: read as blanks)

_CLOCKS = ("%H:%M:%S.%f", "%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p")
_DAYS = (
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%m/%d/%y",
    "%d/%m/%y",
    "%y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
    "%d-%b-%y",
    "%d %b %y",
)
# month-first before day-first: the first format that parses every value wins
FALLBACK_FORMATS = (
    _CLOCKS + _DAYS + ("%b-%y", "%b-%Y", "%Y %b") + tuple(f"{day} {clock}" for day, clock in product(_DAYS, _CLOCKS))
)

_DIRECTIVE = re.compile(r"%-?\d?[a-zA-Z%]")
_DATE_PARTS = set("YymdbBaAj")
_CLOCK_PARTS = set("HIMSfp")
_UNPADDED = "mdHI"  # directives that some sources write without a leading zero (7/4/2017 9:05)
_FRACTION = re.compile(r"%(\d)f")
ZONE = re.compile(r"\s?(?:Z|[+-]\d\d:?\d\d)$")  # a UTC offset ending a timestamp


def parse_format(fmt: str) -> str:
    """The format pandas' parser reads (it accepts unpadded numbers without ``%-``)."""
    return _FRACTION.sub("%f", fmt.replace("%-", "%"))


def split_zone(fmt: str) -> tuple[str, bool]:
    """(the format without a closing ``%z``, whether it had one)."""
    if fmt.endswith("%z"):
        return fmt[:-2].rstrip(" "), True
    return fmt, False


def kind_of(fmt: str) -> str | None:
    """'date', 'time' or 'datetime' by the parts the format writes."""
    parts = {d[-1] for d in _DIRECTIVE.findall(fmt)}
    dated, clocked = bool(parts & _DATE_PARTS), bool(parts & _CLOCK_PARTS)
    return "datetime" if dated and clocked else "date" if dated else "time" if clocked else None


def strftime(stamps: pd.Series, fmt: str) -> pd.Series:
    """``stamps`` written in ``fmt``; ``%Nf`` writes the first N digits of the microseconds."""
    width = _FRACTION.search(fmt)
    if not width:
        return stamps.dt.strftime(fmt)
    head, tail = fmt[: width.start()], fmt[width.end() :]
    fraction = stamps.dt.strftime("%f").str.slice(0, int(width.group(1)))
    return stamps.dt.strftime(head) + fraction + stamps.dt.strftime(tail)


def detect_text_format(values: pd.Series) -> tuple[str, str] | None:
    """(kind, strftime format) when every value is a date, datetime or time of day written
    one way, else None."""
    values = values.astype(str)
    sample = _sample(values)
    if not sample.str.contains(r"\d", regex=True).all():
        return None
    zoned = sample.str.contains(ZONE, regex=True).all()
    zones = values.str.extract(f"({ZONE.pattern})", expand=False) if zoned else None
    if zoned and zones.notna().all():
        found = _detect(values.str.replace(ZONE, "", regex=True))
        if found is not None and found[0] != "date":  # an offset follows a time of day
            distinct = zones.unique()
            zone = distinct[0].replace("%", "%%") if len(distinct) == 1 else "%z"
            return found[0], found[1] + zone
    return _detect(values)


def strays(values: pd.Series) -> tuple[tuple[str, str], pd.Series] | None:
    """A column of dates in one format but for a few values that are none (a typo: '9.12'
    among times of day): the (kind, format) of the rest and where the strays are. At most
    ``MAX_STRAY_SHARE`` of the values may stray; None when the column is no such thing."""
    values = values.astype(str)
    sample = _sample(values)
    if sample.str.contains(r"\d", regex=True).mean() < 1.0 - MAX_STRAY_SHARE:
        return None
    distinct = sample.drop_duplicates()
    probe = distinct.iloc[:_PROBE]
    for fmt in _proposals(distinct):
        if not _plausible(fmt):
            continue
        stray = _unparsed(probe, parse_format(fmt))  # a stray may be among them, not two
        if stray is None or stray.sum() > 1:
            continue
        stray = _unparsed(sample, parse_format(fmt))
        if stray.mean() > MAX_STRAY_SHARE:
            continue
        stray = _unparsed(values, parse_format(fmt))
        if not stray.any():  # every value is a date: no strays
            return None
        if stray.mean() <= MAX_STRAY_SHARE:
            found = detect_text_format(values[~stray.to_numpy()])
            return (found, stray) if found is not None else None
    return None


def _unparsed(values: pd.Series, fmt: str) -> pd.Series | None:
    """Where values do not read in ``fmt`` (None: pandas cannot use the format)."""
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce").isna()
    except ValueError:
        return None


def _sample(values: pd.Series) -> pd.Series:
    return values if len(values) <= _SAMPLE else values.sample(_SAMPLE, random_state=0)


def _detect(values: pd.Series) -> tuple[str, str] | None:
    sample = _sample(values)
    distinct = sample.drop_duplicates()
    probe = distinct.iloc[:_PROBE]
    for fmt in _proposals(distinct):
        parse = parse_format(fmt)
        if not (_plausible(fmt) and _parses(probe, parse) and _parses(sample, parse)):
            continue
        written = _writing(distinct.iloc[:_ROUND_TRIP], fmt)
        if written is not None and _plausible(written) and (len(sample) == len(values) or _parses(values, parse)):
            return kind_of(written), written
    return None


def _proposals(distinct: pd.Series) -> list[str]:
    """pandas' guesses for a few values (month-first, then day-first), most frequent first,
    then the fallback formats."""
    guesses: dict[str, int] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the guesser warns when dayfirst does not apply
        for value, dayfirst in product(distinct.iloc[:_PROBE], (False, True)):
            guess = pd.tseries.api.guess_datetime_format(value, dayfirst=dayfirst)
            if guess:
                guesses[guess] = guesses.get(guess, 0) + 1
    ranked = sorted(guesses, key=guesses.get, reverse=True)
    return ranked + [f for f in FALLBACK_FORMATS if f not in guesses]


def _plausible(fmt: str) -> bool:
    """Numbers that are numbers stay so: a format needs a year (or is a time of day), two
    parts at least, and, when it is all digits, a whole date (a year such as 1999 or a count
    such as 2017 is not one); an unpadded month needs a day (2000-1 is a semester)."""
    parts = [d[-1] for d in _DIRECTIVE.findall(fmt) if d != "%%"]
    if len(parts) < 2 or {"z", "Z"} & set(parts):  # offsets are split off before (ZONE)
        return False
    if "%-m" in fmt and "d" not in parts:
        return False
    if _DIRECTIVE.sub("", fmt) == "" and not {"Y", "m", "d"} <= set(parts):
        return False
    return bool({"Y", "y"} & set(parts)) or set(parts) <= _CLOCK_PARTS


def _parses(values: pd.Series, fmt: str) -> bool:
    unparsed = _unparsed(values, fmt)
    return unparsed is not None and not unparsed.any()


def _writing(values: pd.Series, fmt: str) -> str | None:
    """The variant of ``fmt`` (padding, digits of a fraction) that writes the most values
    back exactly as they are, if it writes most of them so."""
    stamps = pd.to_datetime(values, format=parse_format(fmt))
    best, best_share = None, 0.0
    for variant in _variants(fmt, values):
        share = float((strftime(stamps, variant) == values.to_numpy()).mean())
        if share > best_share:
            best, best_share = variant, share
        if share == 1.0:
            break
    return best if best_share >= EXACT_SHARE else None


def _variants(fmt: str, values: pd.Series) -> list[str]:
    """``fmt`` with each of its numbers padded or not, and a fraction written with as many
    digits as the source's (when they all have as many)."""
    if "%f" in fmt:
        widths = values.str.extract(r":\d\d[.,](\d+)", expand=False).str.len().dropna().unique()
        if len(widths) == 1 and widths[0] < 6:
            fmt = fmt.replace("%f", f"%{int(widths[0])}f")
    present = [d for d in _UNPADDED if f"%{d}" in fmt]
    variants = []
    for unpadded in product((False, True), repeat=len(present)):
        variant = fmt
        for directive, bare in zip(present, unpadded):
            if bare:
                variant = variant.replace(f"%{directive}", f"%-{directive}")
        variants.append(variant)
    return variants
