"""Column kinds: what each column is, decided from its values unless the user says otherwise.

A column that means something personal (a name, a phone, a city: ``syngen.privacy.meaning``)
gets that meaning as its kind, so that it is generated rather than copied.

The kind decides how a column is modelled. Learned kinds (numbers, categories, dates) go
through the autoencoder; generated kinds (identifiers, UUIDs, emails, free text, constants)
are produced from a pattern learned from the column, so real values are never copied.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from syngen.errors import SyngenError
from syngen.privacy import RARE_THRESHOLD
from syngen.privacy.meaning import IDENTIFYING, LOCATION, detect_meanings, name_tokens
from syngen.values import dates
from syngen.values.dates import detect_text_format

DATE_KINDS = ("datetime", "date", "time")  # learned as seconds (a time of day: since midnight)
# a duration: elapsed hours, minutes and seconds as text (121:36:00), learned as seconds too
LEARNED_KINDS = (
    "float",
    "integer",
    "boolean",
    "categorical",
    "datetime",
    "date",
    "time",
    "duration",
    "mixed",
) + LOCATION
GENERATED_KINDS = ("id", "sequence", "uuid", "email", "text", "constant", "empty") + IDENTIFYING + ("binary",)
KINDS = LEARNED_KINDS + GENERATED_KINDS
# kinds whose values are text: a column of numbers cannot be one (cards, phones and ids can)
TEXT_KINDS = (
    "uuid",
    "email",
    "text",
    "first_name",
    "last_name",
    "full_name",
    "street_address",
    "company",
    "iban",
    "ip_address",
    "url",
    "country",
    "state",
    "city",
    "datetime",
    "date",
    "time",
    "duration",
    "mixed",
)

# Numbers with this many distinct values or fewer are modelled as categories (their values kept),
# when they repeat (see _repeats).
MAX_NUMERIC_CATEGORIES = 15
MAX_DECIMALS = 12
_EXACT_FLOAT = 2**53  # integers up to this size are exact as floats
MAX_STRAY_NUMBERS = 0.01  # of a sequence's values that may lie far from the rest (see numbering)
_SAMPLE = 2000

# a number as text: 12, -0.5, .25, 7.0E-2 (not 007: a code's leading zero)
NUMBER_TEXT = r"[+-]?(?:(?:[1-9]\d*|0)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"

# Integers that are whole timestamps (20170720102416); eight digits (20170720) only in a
# column whose name says it holds dates: ids and counts have eight digits too.
_INTEGER_DATES = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}
_DATE_WORDS = frozenset({"date", "dt", "day", "time", "timestamp", "datetime", "ts"})


def _sample(values: pd.Series) -> pd.Series:
    return values if len(values) <= _SAMPLE else values.sample(_SAMPLE, random_state=0)


def _integer_date(name: str, values: pd.Series) -> str | None:
    """'date' or 'datetime' when every integer is a timestamp written as digits."""
    widths = values.astype(str).str.len().unique()
    fmt = _INTEGER_DATES.get(int(widths[0])) if len(widths) == 1 and values.min() > 0 else None
    if fmt is None or (len(fmt) == 6 and not _DATE_WORDS & set(name_tokens(name))):
        return None
    found = detect_text_format(values.astype(str))
    return found[0] if found and found[1] == fmt else None


_NESTED = (list, tuple, dict, set, np.ndarray)


def _check_single_type(name: str, values: pd.Series) -> None:
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred.startswith("mixed"):
        present = values.dropna()
        nested = present.map(lambda v: isinstance(v, _NESTED))
        if nested.any():  # Parquet lists and structs: one type, but not a value a column can learn
            example = present[nested].iloc[0]
            raise SyngenError(
                f"column '{name}' holds nested values (e.g. "
                f"{example.tolist() if isinstance(example, np.ndarray) else example!r}); "
                "flatten them into columns, or cast the column to text, before training"
            )
        kinds = values.map(lambda v: type(v).__name__).value_counts()
        examples = ", ".join(
            repr(values[values.map(lambda v, t=t: type(v).__name__ == t)].iloc[0]) for t in kinds.index[:3]
        )
        raise SyngenError(
            f"column '{name}' mixes values of types {', '.join(kinds.index[:3])} (e.g. {examples}); "
            "cast it to one type (or to text) before training, or declare its kind"
        )


def _is_word_text(values: pd.Series) -> bool:
    sample = _sample(values)
    words = sample.str.split().str.len()
    return bool(words.mean() >= 4 or (sample.str.len().mean() >= 40 and words.mean() >= 2))


def _named_like_id(name: str) -> bool:
    tokens = name_tokens(name)
    return "id" in tokens or (bool(tokens) and tokens[-1] in ("no", "nr", "number", "num"))


def _repeats(values: pd.Series) -> bool:
    """Whether most rows (more than half) hold a value that is not rare. Few numbers that
    rarely repeat (the weights of a small table) are measures: as a category each would be a
    rare value, made anew in its digit pattern and out of the source's range, as a category's
    rare values are where they fill half its rows (CategoricalCodec)."""
    counts = values.value_counts()
    return bool(counts[counts >= RARE_THRESHOLD].sum() > 0.5 * len(values))


def _zero_one(values: pd.Series) -> bool:
    return bool(set(values.unique().tolist()) <= {0, 1})


def _numbers_in_text(name: str, sample: pd.Series) -> bool:
    """Numbers written as text, measures rather than codes: beside words without digits
    ('12', 'unknown', 'n/a', '.'), or with decimals. Integers that are nearly all different
    or named as ids are codes, as are values mixing digits and letters ('15A')."""
    number = sample.str.fullmatch(NUMBER_TEXT)
    numbers = pd.to_numeric(sample[number], errors="coerce")  # past 64 bits: floats
    if numbers.nunique() <= MAX_NUMERIC_CATEGORIES or numbers.abs().max() > _EXACT_FLOAT:
        return False
    if sample[~number].str.contains(r"\d", regex=True).any():
        return False
    whole = not sample[number].str.contains(r"[.eE]", regex=True).any()
    if whole and (_named_like_id(name) or numbers.nunique() >= 0.9 * len(numbers)):
        return False
    return bool((~number).any() or not whole)


def detect_kind(name: str, column: pd.Series) -> str:
    """The kind of one column from its values (see KINDS)."""
    values = column.dropna()
    if values.empty:
        return "empty"
    if pd.api.types.infer_dtype(values, skipna=True) == "bytes":  # BLOB, bytea, VARBINARY
        return "binary"
    if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        _check_single_type(name, values)
    distinct = values.nunique()
    if distinct == 1:
        return "constant"
    if pd.api.types.is_bool_dtype(values):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    if pd.api.types.is_numeric_dtype(values):
        if distinct == 2 and (_repeats(values) or _zero_one(values)):
            return "boolean"
        if distinct <= MAX_NUMERIC_CATEGORIES and _repeats(values):
            return "categorical"
        if pd.api.types.is_integer_dtype(values):
            dated = _integer_date(name, values)
            if dated:
                return dated
            if max(abs(int(values.min())), abs(int(values.max()))) > _EXACT_FLOAT:
                return "id"  # no measure is this large; and a float would lose its last digits
            is_key = distinct == len(values) == len(column) and len(values) >= 20  # a key has no nulls
            if is_key:
                first, last, count = numbering(values.to_numpy())
                if last - first + 1 <= 1.5 * count:
                    return "sequence"
            # many-valued numbers named as identifiers (subject_id, account_no) are codes, not amounts
            if _named_like_id(name) and distinct > 100 and distinct >= 0.2 * len(values):
                return "id"
            return "integer"
        return "float"
    values = values.astype(str)
    if distinct == 2:
        return "boolean"
    sample = _sample(values)
    if sample.str.match(_UUID).all():
        return "uuid"
    if sample.str.match(_EMAIL).mean() >= 0.95:
        return "email"
    text_format = detect_text_format(values)
    if text_format is not None:
        return text_format[0]
    if dates.duration_format(values) is not None:  # before strays: 121:36:00 is no stray time of day
        return "duration"
    mostly = dates.strays(values)
    if mostly is not None:
        return mostly[0][0]
    unique_share = distinct / len(values)
    if distinct > 50 and _is_word_text(values):
        return "text"
    if _numbers_in_text(name, sample):
        return "mixed"
    no_spaces = not sample.str.contains(r"\s", regex=True).any()
    code_like = no_spaces and sample.str.contains(r"\d", regex=True).mean() >= 0.9
    if no_spaces and unique_share >= 0.9 and len(values) >= 20:
        return "id"
    if code_like and distinct > 100 and unique_share >= 0.2:
        return "id"
    return "categorical"


def numbering(values: np.ndarray) -> tuple[int, int, int]:
    """(first, last, how many) of distinct whole numbers, leaving out the ``MAX_STRAY_NUMBERS``
    of them that lie far from the rest when they stretch the span by more than a tenth: rows
    numbered 1..533 beside one 1100 are numbered 1..533; a sample of 1..8602 keeps its ends."""
    ordered = np.sort(values.astype(np.int64))
    count = max(int(np.ceil((1.0 - MAX_STRAY_NUMBERS) * len(ordered))), 1)
    start = int(np.argmin(ordered[count - 1 :] - ordered[: len(ordered) - count + 1]))
    first, last = int(ordered[start]), int(ordered[start + count - 1])
    if 1.1 * (last - first) >= ordered[-1] - ordered[0]:
        return int(ordered[0]), int(ordered[-1]), len(ordered)
    return first, last, count


def detect_kinds(df: pd.DataFrame, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Kinds of every column; ``overrides`` (column -> kind) win over detection."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(df.columns))
    if unknown:
        raise SyngenError(
            f"kind given for unknown column(s) {', '.join(map(repr, unknown))}; "
            f"the table has: {', '.join(map(str, df.columns))}"
        )
    bad = {c: k for c, k in overrides.items() if k not in KINDS}
    if bad:
        c, k = next(iter(bad.items()))
        raise SyngenError(f"column '{c}': unknown kind '{k}'; use one of: {', '.join(KINDS)}")
    kinds = {c: overrides.get(c) or detect_kind(str(c), df[c]) for c in df.columns}
    kinds.update(detect_meanings(df, kinds, fixed={c for c in overrides if overrides[c]}))
    return kinds


def decimals_of(values: np.ndarray) -> int:
    """Fewest decimals (0..12) that represent every value, so output keeps the source precision.
    A large number's last bits are no decimals: 128046208959.181 is held as ...18098; nor is
    a thousandth of the last decimal, the trace of a sum written out in full (568.629999).
    Values written in full (2003.4166666666667, a month as a year's fraction) keep 12."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    tolerance = np.maximum(1e-9, 8 * np.spacing(np.abs(values)))
    for d in range(MAX_DECIMALS + 1):
        if (np.abs(values - np.round(values, d)) <= np.maximum(tolerance, 10.0**-d * 1e-3)).all():
            return d
    return MAX_DECIMALS
