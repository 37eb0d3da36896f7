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

import numpy as np
import pandas as pd

_SAMPLE = 2000
_PROBE = 20  # values a proposal must parse before the whole sample is tried
_ROUND_TRIP = 500  # values written back to check a format's padding
# of values a format must write back exactly as the source has them; the others parse in it
# and differ only in padding (1996-1-7 typed beside 1996-01-17) and come out in the usual one
EXACT_SHARE = 0.5
# of values that may be no date in a column of dates, read as blanks: typos and unknowns
# (7/-9/1856, a day not known); one word or mark for a missing value ('.', 'unknown') may be more
MAX_STRAY_SHARE = 0.15
MAX_MARKER_SHARE = 0.5

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
    if zones is not None and zones.notna().all():
        found = _detect(values.str.replace(ZONE, "", regex=True))
        if found is not None and found[0] != "date":  # an offset follows a time of day
            distinct = zones.unique()
            zone = distinct[0].replace("%", "%%") if len(distinct) == 1 else "%z"
            return found[0], found[1] + zone
    return _detect(values)


def strays(values: pd.Series) -> tuple[tuple[str, str], pd.Series] | None:
    """A column of dates in one format but for some values that are none (a typo: '9.12'
    among times of day; a day not known: 7/-9/1856; '.' for none): the (kind, format) of the
    rest and where the strays are. At most ``MAX_STRAY_SHARE`` of the values may stray, or
    ``MAX_MARKER_SHARE`` when they are all one mark without digits; None when the column is
    no such thing."""
    values = values.astype(str)
    sample = _sample(values)
    distinct = sample.drop_duplicates()
    probe = distinct.iloc[:_PROBE]
    for fmt in _proposals(distinct[distinct.str.contains(r"\d", regex=True)]):  # a mark proposes none
        if not _plausible(fmt):
            continue
        stray = _unparsed(probe, parse_format(fmt))  # a few strays may be among them, not most
        if stray is None or stray.sum() > max(1, round(MAX_STRAY_SHARE * len(probe))):
            continue
        stray = _unparsed(sample, parse_format(fmt))
        assert stray is not None  # pandas read the probe in this format, so it can use it
        if not _tolerated(sample[stray.to_numpy()], len(sample)):
            continue
        stray = _unparsed(values, parse_format(fmt))
        assert stray is not None
        if not stray.any():  # every value is a date: no strays
            return None
        if _tolerated(values[stray.to_numpy()], len(values)):
            found = detect_text_format(values[~stray.to_numpy()])
            return (found, stray) if found is not None else None
    return None


def _tolerated(strays: pd.Series, total: int) -> bool:
    """Few enough values that are no date, or one mark for none (``strays``)."""
    share = len(strays) / max(total, 1)
    if share <= MAX_STRAY_SHARE:
        return True
    marks = strays.unique()
    return share <= MAX_MARKER_SHARE and len(marks) == 1 and not any(c.isdigit() for c in marks[0])


def _unparsed(values: pd.Series, fmt: str) -> pd.Series | None:
    """Where values do not read in ``fmt`` (None: pandas cannot use the format)."""
    try:
        return pd.to_datetime(values, format=fmt, errors="coerce").isna()
    except (ValueError, TypeError):  # TypeError: pandas chokes on some formats (numpy.str_)
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
            kind = kind_of(written)
            assert kind is not None  # a plausible format writes a year or a time of day
            return kind, written
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
    ranked = sorted(guesses, key=lambda guess: guesses[guess], reverse=True)
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


# An elapsed time: hours (or minutes) past what a clock shows, then minutes and seconds
# (121:36:00, 59:47), a fraction of a second at most.
_ODD_SHAPES = 0.01
_DURATION = re.compile(r"^(\d+)((?::[0-5]\d){1,2})(?:\.(\d+))?$")


def duration_format(values: pd.Series, past_a_day: bool = True) -> str | None:
    """The shape of a column of elapsed times written as hours:minutes[:seconds], some past
    what a day's clock shows (121:36:00), in Excel's notation: ``[h]:mm:ss`` (``[hh]`` when
    the first number is always two digits or more, ``.000`` for a fraction); None when the
    values are no such thing (a time of day is a 'time'). Without ``past_a_day`` (a column
    declared a duration) no value need pass 24 hours."""
    values = values.astype(str)
    parts = values.str.extract(_DURATION)
    if len(values) == 0 or parts[0].isna().any():
        return None
    colons = parts[1].str.count(":")
    usual = int(colons.mode().iloc[0])  # a few in another shape (59:47 among 38:31:00) are read as they are
    if (colons != usual).mean() > _ODD_SHAPES or (past_a_day and not (pd.to_numeric(parts[0]) >= 24).any()):
        return None
    fractions = parts[2].dropna().str.len().unique()
    if len(fractions) > 1 or (len(fractions) and parts[2].isna().any()):
        return None
    first = "[hh]" if parts[0].str.len().min() >= 2 else "[h]"
    fraction = "." + "0" * int(fractions[0]) if len(fractions) else ""
    return first + ":mm" * usual + fraction


def duration_seconds(values: pd.Series) -> np.ndarray:
    """Elapsed times (``duration_format``) as counts of their smallest unit (NaN where none)."""
    parts = values.astype(str).str.extract(_DURATION)
    total = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=np.float64)
    for minutes in parts[1].str.split(":", expand=True).iloc[:, 1:].T.to_numpy():
        total = total * 60 + pd.to_numeric(pd.Series(minutes), errors="coerce").to_numpy(dtype=np.float64)
    fraction = pd.to_numeric("0." + parts[2].fillna("0"), errors="coerce").to_numpy(dtype=np.float64)
    return total + fraction


def write_duration(seconds: np.ndarray, fmt: str) -> np.ndarray:
    """Elapsed times in the shape ``fmt`` (``duration_format``) from counts of their smallest unit."""
    digits = len(fmt.rsplit(".", 1)[1]) if "." in fmt else 0
    scaled = np.round(np.abs(seconds) * 10**digits).astype(np.int64)
    whole, fraction = np.divmod(scaled, 10**digits)
    fields = []
    for _ in range(fmt.count(":mm")):
        whole, rest = np.divmod(whole, 60)
        fields.append(pd.Series(rest).astype(str).str.zfill(2))
    text = pd.Series(whole).astype(str).str.zfill(2 if fmt.startswith("[hh]") else 1)
    for field in reversed(fields):
        text = text + ":" + field
    if digits:
        text = text + "." + pd.Series(fraction).astype(str).str.zfill(digits)
    return text.to_numpy(dtype=object)
