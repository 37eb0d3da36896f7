"""Character patterns: '+1 (780) 428-9482' is '+9 (999) 999-9999'. Identifying numbers are
generated as random characters in the source's patterns, with the check digits that make
them valid (Luhn for cards, mod 97 for IBANs), never from a real value.

In a pattern, '9', 'A' and 'a' stand for any digit, capital or small letter; any other
character is itself, and a backslash makes the next character itself ('\\9' is a nine).
A character that every one of at least k values has at a place (a trunk '0', Sacramento's
'z' before its zip codes, a card issuer's '4') is kept as itself: k values share it, so it
tells of no one."""

from __future__ import annotations

import re
import string
from typing import Sequence

import numpy as np
import pandas as pd

_CLASS_OF = str.maketrans(
    {
        **{c: "9" for c in string.digits},
        **{c: "A" for c in string.ascii_uppercase},
        **{c: "a" for c in string.ascii_lowercase},
    }
)
ALPHABETS = {"9": string.digits, "A": string.ascii_uppercase, "a": string.ascii_lowercase}
MAX_PATTERNS = 20


def patterns_of(values: pd.Series) -> pd.Series:
    return values.astype(str).str.translate(_CLASS_OF)


def pattern_weights(values: pd.Series, keep: int = 0) -> list[tuple[str, float]]:
    """The most common patterns of ``values`` and their shares (patterns only: no value);
    with ``keep``, a pattern of at least ``keep`` different values keeps the characters they
    all share."""
    values = values.astype(str)
    shapes = patterns_of(values)
    counts = shapes.value_counts().iloc[:MAX_PATTERNS]
    weighted = []
    for pattern, count in counts.items():
        text = str(pattern).replace("\\", "\\\\")
        mine = values[(shapes == pattern).to_numpy()].unique() if keep and count >= keep else np.empty(0, dtype=object)
        if len(mine) >= max(keep, 2) and pattern:  # k different values: none can be read back
            mine = mine.astype(f"U{len(pattern)}")
            chars = mine.view(np.uint32).reshape(len(mine), len(pattern))
            constant = (chars == chars[:1]).all(axis=0)
            text = "".join(
                _literal(chr(c)) if same and chr(c).isalnum() else _escaped(symbol)
                for symbol, c, same in zip(str(pattern), chars[0], constant)
            )
        weighted.append((text, float(count / counts.sum())))
    return weighted


def _literal(char: str) -> str:
    return "\\" + char if char in ALPHABETS or char == "\\" else char


def _escaped(symbol: str) -> str:
    return "\\\\" if symbol == "\\" else symbol


def _tokens(pattern: str) -> list[tuple[str, bool]]:
    """(character, is it itself) for each place of ``pattern``."""
    tokens, escaped = [], False
    for char in pattern:
        if escaped:
            tokens.append((char, True))
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            tokens.append((char, char not in ALPHABETS))
    return tokens


def choose(weighted: list[tuple[str, float]], n: int, rng: np.random.Generator) -> np.ndarray:
    shares = np.asarray([w for _, w in weighted], dtype=np.float64)
    return rng.choice(len(weighted), size=n, p=shares / shares.sum())


def render(pattern: str, n: int, rng: np.random.Generator, first: str | None = None) -> np.ndarray:
    """``n`` random values in ``pattern``; ``first`` restricts the first character class
    position (e.g. no leading zero)."""
    tokens = _tokens(pattern)
    if not tokens:
        return np.full(n, "", dtype=object)
    columns = []
    first_done = False
    for symbol, itself in tokens:
        if itself:
            columns.append(np.full(n, ord(symbol), dtype=np.uint32))
            first_done = first_done or symbol.isdigit()
            continue
        alphabet = ALPHABETS[symbol]
        if not first_done and first:
            alphabet = first
        first_done = True
        letters = np.frombuffer(alphabet.encode("utf-32-le"), dtype=np.uint32)
        columns.append(letters[rng.integers(0, len(letters), size=n)])
    chars = np.ascontiguousarray(np.stack(columns, axis=1).astype(np.uint32))
    return chars.view(f"U{len(tokens)}").ravel().astype(object)


def render_between(pattern: str, n: int, rng: np.random.Generator, low: str, high: str) -> np.ndarray:
    """``n`` values of a pattern of digits, each between ``low`` and ``high`` (digit strings as
    wide as the pattern): digit by digit, a row still at a bound's digits so far draws only
    digits that keep it inside."""
    tokens = _tokens(pattern)
    bounds = np.frombuffer(f"{low}{high}".encode("ascii"), dtype=np.uint8).reshape(2, -1).astype(np.int64) - 48
    at_low, at_high = np.ones(n, dtype=bool), np.ones(n, dtype=bool)
    digits = np.empty((n, len(tokens)), dtype=np.int64)
    for place, (symbol, itself) in enumerate(tokens):
        lowest, highest = bounds[0, place], bounds[1, place]
        if itself:
            digit = np.full(n, int(symbol))
        else:
            floor, ceiling = np.where(at_low, lowest, 0), np.where(at_high, highest, 9)
            digit = floor + (rng.random(n) * (ceiling - floor + 1)).astype(np.int64)
        digits[:, place] = digit
        at_low &= digit == lowest
        at_high &= digit == highest
    chars = np.ascontiguousarray((digits + 48).astype(np.uint32))
    return chars.view(f"U{len(tokens)}").ravel().astype(object)


def render_many(
    weighted: list[tuple[str, float]],
    n: int,
    rng: np.random.Generator,
    first: str | None = None,
    between: Sequence[str] | None = None,
) -> np.ndarray:
    """``n`` values, each in a pattern drawn by the patterns' shares; ``between`` (two digit
    strings of one width) bounds the values of the patterns of only digits as wide."""
    values = np.empty(n, dtype=object)
    picks = choose(weighted, n, rng)
    for index, (pattern, _) in enumerate(weighted):
        rows = np.flatnonzero(picks == index)
        if not len(rows):
            continue
        tokens = _tokens(pattern)
        if between and len(tokens) == len(between[0]) and all(c.isdigit() or c == "9" for c, _ in tokens):
            values[rows] = render_between(pattern, len(rows), rng, *between)
        else:
            values[rows] = render(pattern, len(rows), rng, first)
    return values


_WORDY = re.compile(r"[A-Za-z]{2,}")


def with_words(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Runs of two or more letters replaced by words (Faker's English word list) written like
    the run ('Aaaaa' -> 'Degree', 'AAA' -> 'ARM'): 'Sales Support Agent' is made up as
    'Final Degree Table' rather than 'Rklqs Jxkwuzo Ajdnm'."""
    from syngen.privacy.fake import pool

    words = pool("en_US", "word", 0)

    def word(match) -> str:
        run, chosen = match.group(), str(words[rng.integers(0, len(words))])
        if run.isupper():  # 'IT' stays a short code; 'SALES' becomes another word
            return run if len(run) <= 3 else chosen.upper()
        return chosen.capitalize() if run[0].isupper() else chosen.lower()

    return np.asarray([_WORDY.sub(word, str(v)) for v in values], dtype=object)


def _code_matrix(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Characters of each value as code points, left-aligned and padded with spaces."""
    text = pd.Series(values, dtype=object).astype(str)
    width = max(int(text.str.len().max()), 1)
    chars = text.str.pad(width, side="right", fillchar=" ").to_numpy().astype(f"U{width}")
    return chars.view(np.uint32).reshape(len(text), width).astype(np.int64), width


def _text(codes: np.ndarray, width: int) -> np.ndarray:
    chars = np.ascontiguousarray(codes.astype(np.uint32)).view(f"U{width}").ravel()
    return pd.Series(chars).str.rstrip(" ").to_numpy(dtype=object)


def with_luhn(values: np.ndarray) -> np.ndarray:
    """Each value with its last digit replaced by the Luhn check digit."""
    if not len(values):
        return np.asarray(values, dtype=object)
    codes, width = _code_matrix(values)
    is_digit = (codes >= 48) & (codes <= 57)
    digits = np.where(is_digit, codes - 48, 0)
    rank = np.cumsum(is_digit[:, ::-1], axis=1)[:, ::-1] - 1  # 0: the check digit
    doubled = np.where(rank % 2 == 1, digits * 2, digits)
    doubled = np.where(doubled > 9, doubled - 9, doubled) * (is_digit & (rank > 0))
    check = (10 - doubled.sum(axis=1) % 10) % 10
    last = width - 1 - np.argmax(is_digit[:, ::-1], axis=1)
    codes[np.arange(len(codes)), last] = 48 + check
    return _text(codes, width)


def with_iban_check(values: np.ndarray) -> np.ndarray:
    """IBANs (compact or grouped by spaces) with their two check digits set (ISO 13616):
    the remainder mod 97 of the rearranged digits, computed column by column."""
    if not len(values):
        return np.asarray(values, dtype=object)
    codes, width = _code_matrix(values)
    order = [p for p in range(4, width)] + [0, 1]
    remainder = np.zeros(len(codes), dtype=np.int64)
    for position in order:
        c = codes[:, position]
        digit, letter = (c >= 48) & (c <= 57), (c >= 65) & (c <= 90)
        remainder = np.where(
            digit, (remainder * 10 + c - 48) % 97, np.where(letter, (remainder * 100 + c - 55) % 97, remainder)
        )
    remainder = (remainder * 100) % 97  # the check digits' place, as '00'
    check = 98 - remainder
    codes[:, 2], codes[:, 3] = 48 + check // 10, 48 + check % 10
    return _text(codes, width)
