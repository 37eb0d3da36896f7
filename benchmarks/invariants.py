"""What a generated CSV file must keep of its source CSV file, read as text: the header, each
column's kind of value (booleans, integers, numbers, dates, text), numbers inside the source's
range and precision (but for keys syngen makes anew: new unique values leave the range), dates
in the source's text format, and no real value held by fewer than five rows in the columns
syngen calls identifying or makes as ids. The kinds are read from the source's text here, independently of
syngen's own detection, so the checks do not share syngen's mistakes.

Each check returns ``(failure class, detail)`` pairs: the class names what broke in words that
do not depend on the table, so failures group; the detail names the column and examples.
"""

from __future__ import annotations

import csv
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

INTEGER = r"[+-]?\d+"
NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf"
BOOLEAN_STYLES = ({"True", "False"}, {"TRUE", "FALSE"}, {"true", "false"})
# a text column counts as mixed (numbers and words) when each shape is at least this share
MIXED_SHARE = 0.1
EXAMPLES = 3
# keys syngen makes anew, unique and never a real value (checked for copies instead): with as
# many rows as the source, new ones must leave its range
MADE_KEYS = ("id", "sequence")
COMMON = 5  # rows holding a value that identifies no one (syngen's rare-value threshold)


@dataclass
class Kind:
    """A column's kind of value in the source, with what its output values are held to."""

    name: str  # empty, boolean, integer, number, date, text
    spellings: set[str] = field(default_factory=set)  # boolean: the source's spelling pair
    low: float = np.nan  # integer, number: the source's range
    high: float = np.nan
    example: str = ""  # a source value: the bounds as written, or a date
    decimals: int = 0  # number: the most decimals of a source value
    date_format: str = ""  # date: the strptime format every source value parses with
    runs: dict = field(default_factory=dict)  # date: skeleton -> what each of its digit runs looks like
    numeric_share: float = 0.0  # text: share of values that look like numbers


def read_text(path: Path) -> tuple[list[str], pd.DataFrame]:
    """The header exactly as written, and the values as text (an empty field is null),
    columns by position so a repeated or empty name stays what it is."""
    with open(path, newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), [])
    values = pd.read_csv(
        path,
        header=None,
        skiprows=1,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        names=range(len(header)),
        encoding="utf-8",
    )
    return header, values


def decimals(text: pd.Series) -> pd.Series:
    """Digits after the decimal point of numbers written as text (1.25e-3 has 5)."""
    parts = text.str.extract(r"^[+-]?\d*(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")
    fraction = parts[0].fillna("").str.len()
    exponent = pd.to_numeric(parts[1], errors="coerce").fillna(0).astype(int)
    return (fraction - exponent).clip(lower=0)


def _shapes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A date's skeleton (digit runs as 0, letter runs as A) and its digit runs."""
    skeleton = values.str.replace(r"\d+", "0", regex=True).str.replace(r"[^\W\d_]+", "A", regex=True)
    return skeleton, values.str.findall(r"\d+")


@dataclass
class _Run:
    """One digit run of a date's text (its month, its hour) across the source's values."""

    widths: set[int] = field(default_factory=set)
    padded: bool = False  # some value has a leading zero here ('03')
    short: bool = False  # some value has one digit here ('3'): not padded, unless also padded

    def add(self, digits: str) -> None:
        self.widths.add(len(digits))
        self.padded |= len(digits) > 1 and digits[0] == "0"
        self.short |= len(digits) == 1

    def fits(self, digits: str) -> bool:
        """A padded source keeps its widths; an unpadded one gets no leading zeros."""
        if len(digits) > 1 and digits[0] == "0" and self.short and not self.padded:
            return False
        return self.short or len(digits) in self.widths


def _parses(values: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, format=fmt, errors="coerce", utc=True).notna()


def _date_format(values: pd.Series) -> str | None:
    """The strptime format pandas guesses from a few values that every value parses with."""
    from pandas.tseries.api import guess_datetime_format

    for sample in values.unique()[:5]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fmt = guess_datetime_format(str(sample))
        if fmt and _parses(pd.Series(values.unique()), fmt).all():
            return fmt
    return None


def source_kind(column: pd.Series) -> Kind:
    values = column.dropna()
    if values.empty:
        return Kind("empty")
    distinct = set(values.unique())
    for style in BOOLEAN_STYLES:
        if distinct <= style:
            return Kind("boolean", spellings=style)
    if values.str.fullmatch(NUMBER).all():
        numbers = values.astype(float)
        kind = "integer" if values.str.fullmatch(INTEGER).all() else "number"
        return Kind(
            kind,
            low=float(numbers.min()),
            high=float(numbers.max()),
            decimals=int(decimals(values).max()),
            example=f"{values.iloc[int(numbers.argmin())]}, {values.iloc[int(numbers.argmax())]}",
        )
    fmt = _date_format(values)
    if fmt:
        unique = pd.Series(values.unique())
        seen: dict = {}
        for shape, runs in zip(*_shapes(unique)):
            for run, digits in zip(seen.setdefault(shape, [_Run() for _ in runs]), runs):
                run.add(digits)
        return Kind("date", date_format=fmt, runs=seen, example=values.iloc[0])
    return Kind("text", numeric_share=float(values.str.fullmatch(NUMBER).mean()))


def _examples(values: pd.Series) -> str:
    return ", ".join(repr(v) for v in values.unique()[:EXAMPLES])


def check_column(name: str, kind: Kind, output: pd.Series, syngen_kind: str | None = None) -> list[tuple[str, str]]:
    """How the generated values of one column break what its source kind promises; the class
    names the kind syngen gave the column, which usually says where the cause lies."""
    if syngen_kind in MADE_KEYS and kind.name in ("integer", "number"):
        kind = replace(kind, low=-np.inf, high=np.inf)  # new unique values: range is no promise
    failures = _column_failures(name, kind, output.dropna())
    return [(f"{c} (syngen: {syngen_kind})" if syngen_kind else c, d) for c, d in failures]


def _column_failures(name: str, kind: Kind, made: pd.Series) -> list[tuple[str, str]]:
    where = f"column {name!r}"
    if kind.name == "empty":
        return [("an empty column got values", f"{where}: {_examples(made)}")] if len(made) else []
    if kind.name == "boolean":
        wrong = made[~made.isin(kind.spellings)]
        return (
            [("a boolean column got other values", f"{where} ({'/'.join(sorted(kind.spellings))}): {_examples(wrong)}")]
            if len(wrong)
            else []
        )
    if kind.name in ("integer", "number"):
        pattern = INTEGER if kind.name == "integer" else NUMBER
        wrong = made[~made.str.fullmatch(pattern)]
        if len(wrong):
            return [
                (
                    f"{'an integer' if kind.name == 'integer' else 'a number'} column got other values",
                    f"{where}: {_examples(wrong)}",
                )
            ]
        failures = []
        numbers = made.astype(float)
        below, above = numbers < kind.low, numbers > kind.high
        if (below | above).any():
            # with fewer decimals than the source and past a bound by less than the last one:
            # the bound rounded, not a value made outside
            places = decimals(made)
            step = 10.0**-places
            rounded = (places < kind.decimals) & (
                (below & (kind.low - numbers < step)) | (above & (numbers - kind.high < step))
            )
            far = (below | above) & ~rounded
            for wrong, what in ((made[rounded], "rounded past"), (made[far], "outside")):
                if len(wrong):
                    failures.append(
                        (f"a number {what} the source's range", f"{where} [{kind.example}]: {_examples(wrong)}")
                    )
        finer = made[decimals(made) > kind.decimals]
        if len(finer):
            failures.append(
                (
                    "a number with more decimals than the source",
                    f"{where} (at most {kind.decimals}): {_examples(finer)}",
                )
            )
        return failures
    if kind.name == "date":
        fits = np.array(
            [
                shape in kind.runs and all(run.fits(d) for run, d in zip(kind.runs[shape], digits))
                for shape, digits in zip(*_shapes(made))
            ],
            dtype=bool,
        )
        wrong = made[~(fits & _parses(made, kind.date_format).to_numpy())]
        return (
            [
                (
                    "a date not in the source's text format",
                    f"{where} ({kind.date_format}, e.g. {kind.example!r}): {_examples(wrong)}",
                )
            ]
            if len(wrong)
            else []
        )
    numeric = made.str.fullmatch(NUMBER)
    if kind.numeric_share == 0 and numeric.any():
        return [("a text column got numbers", f"{where}: {_examples(made[numeric])}")]
    if (
        MIXED_SHARE <= kind.numeric_share <= 1 - MIXED_SHARE
        and len(made) >= 50
        and (numeric.all() or not numeric.any())
    ):
        return [
            (
                "a column of numbers and words lost one shape",
                f"{where} ({kind.numeric_share:.0%} numbers in the source, {numeric.mean():.0%} generated)",
            )
        ]
    return []


def check_table(
    source: Path, output: Path, size: int, kinds: dict[str, str], identifying: tuple[str, ...], pair_text
) -> list[tuple[str, str]]:
    """Every invariant of one generated file against its source. ``kinds`` are syngen's kinds
    of the columns (from the model), ``identifying`` the kinds whose values must never be
    real; first and last names are real names by design, so only their pairs are checked,
    with ``pair_text`` (syngen's own folding of case and spacing)."""
    if not output.is_file():
        return [("no output file", str(output))]
    header, real = read_text(source)
    made_header, made = read_text(output)
    if made_header != header:
        return [("the header changed", f"{header[:8]} -> {made_header[:8]}")]
    failures = []
    if len(made) != size:
        failures.append(("a different number of rows", f"{size} asked, {len(made)} written"))
    for position, name in enumerate(header):
        failures += check_column(name, source_kind(real[position]), made[position], kinds.get(name))
    positions = {name: i for i, name in enumerate(header)}
    firsts = [c for c, k in kinds.items() if k == "first_name" and c in positions]
    lasts = [c for c, k in kinds.items() if k == "last_name" and c in positions]
    for column, kind in kinds.items():
        if kind not in identifying or kind in ("first_name", "last_name") or column not in positions:
            continue
        # a value held by many rows identifies no one ('not_applicable', 'No VP'): syngen may keep it
        held = real[positions[column]].value_counts()
        copied = made[positions[column]].dropna()
        copied = copied[copied.isin(held.index[held < COMMON])]
        if len(copied):
            failures.append(
                (
                    f"a real value copied in an identifying column ({kind})",
                    f"column {column!r}: {len(copied)} of {size}, e.g. {_examples(copied)}",
                )
            )
    if firsts and lasts:
        first, last = positions[firsts[0]], positions[lasts[0]]
        named = real[[first, last]].dropna()
        real_pairs = set(pair_text(named[first], named[last]))
        both = made[[first, last]].dropna()
        pairs = pd.Series(pair_text(both[first], both[last]))
        copied = pairs[pairs.isin(real_pairs)]
        if len(copied):
            failures.append(
                (
                    "a real (first, last) name pair copied",
                    f"columns {firsts[0]!r}, {lasts[0]!r}: {len(copied)} of {size}, e.g. {_examples(copied)}",
                )
            )
    return failures
