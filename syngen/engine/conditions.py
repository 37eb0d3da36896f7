"""Conditional generation: rows that keep values the user gives, the rest following them.

Each given row draws ``CANDIDATES`` latent codes; every learned column with a given value
scores each code by how likely the decoder makes that value there (a category's calibrated
probability, a number's density around the decoder's prediction), and the row keeps one code
drawn by those likelihoods (importance resampling). A row whose codes are too few to carry
the draw (a value, or a pair of values, that few source rows hold: their likelihoods'
effective number under ``MIN_EFFECTIVE``) draws codes again, up to ``MAX_ROUNDS`` times;
the Gumbel-max draw keeps one code over all rounds without holding them. Its other columns are decoded from that
code, so they follow the source's rows that hold such values; the given values are then set
exactly, before relations are composed and exact links applied (so those follow them too).

A value the model never saw, or a number outside the source's range, is refused with the
column and the value named; so is any value of a column made anew (keys, identifying values),
and any but its one value of a constant column. A blank in a seed row leaves that column free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from syngen.engine.codec import Codec
from syngen.engine.encoders import CategoricalCodec, MixedCodec, NumericCodec
from syngen.engine.generators import ConstantCodec
from syngen.errors import SyngenError

CANDIDATES = 64  # latent codes drawn per conditioned row, in each round
MIN_EFFECTIVE = 8.0  # effective number of candidates a row's draw needs (Kish's, of the likelihoods)
MAX_ROUNDS = 16  # rounds of candidates at most
CHUNK_ROWS = 2048  # conditioned rows decoded at once (times CANDIDATES codes)
MIN_SPREAD = 0.05  # a number's likelihood never narrower than this (normal scale)
TARGET_SPREAD = 0.2  # the same for a relation's target, predicted from its inputs' predictions
_SHOWN = 8  # values listed in an error
_WHOLE = re.compile(r"-?\d+\.0+")
_WORDS = {
    "integer": "whole number",
    "float": "number",
    "date": "date",
    "datetime": "date and time",
    "time": "time",
    "duration": "duration",
}


@dataclass
class Conditions:
    """Given values per column, one entry per generated row (NaN / None: free), in the
    model's own terms: a category as the source holds it, a number (dates in seconds)."""

    values: dict[str, np.ndarray]
    rows: int

    def batch(self, start: int, n: int) -> "Conditions":
        return Conditions({c: v[start : start + n] for c, v in self.values.items()}, max(0, min(n, self.rows - start)))

    def take(self, rows: np.ndarray) -> "Conditions":
        """The conditions of ``rows`` (indexes) alone."""
        return Conditions({c: v[rows] for c, v in self.values.items()}, len(rows))

    def given(self, column: str) -> np.ndarray:
        """Rows where ``column`` has a given value."""
        values = self.values[column]
        return ~pd.isna(values) if values.dtype == object else np.isfinite(values)


def read_conditions(model, conditions: dict | pd.DataFrame, size: int | None, lenient: bool = False) -> Conditions:
    """The user's conditions (a dict: every row; a frame: one seed row per generated row),
    checked against the model and turned into its values. ``lenient`` (a child's parent
    values, generated): a value the model cannot take is left free and a number outside its
    range is brought to the nearest end, instead of refused."""
    if isinstance(conditions, dict):
        if size is None:
            raise SyngenError("give the number of rows to generate with the conditions")
        frame = pd.DataFrame({c: [v] * size for c, v in conditions.items()}, index=pd.RangeIndex(size))
    elif isinstance(conditions, pd.DataFrame):
        if size is not None and size != len(conditions):
            raise SyngenError(
                f"the conditions hold {len(conditions):,} seed rows (one generated row each), "
                f"but {size:,} rows were asked for; leave the size out"
            )
        frame = conditions.reset_index(drop=True)
    else:
        raise SyngenError(
            f"conditions are a dict of column -> value or a DataFrame of seed rows, not {type(conditions).__name__}"
        )
    if not len(frame.columns):
        raise SyngenError("the conditions name no column")
    codecs = {c.name: c for c in model.codecs}
    unknown = [str(c) for c in frame.columns if str(c) not in codecs]
    if unknown:
        raise SyngenError(
            f"conditions name column(s) the model does not have: {', '.join(map(repr, unknown))}; "
            f"its columns are {', '.join(map(repr, list(codecs)[: _SHOWN * 2]))}"
        )
    return Conditions({str(c): _values(codecs[str(c)], frame[c], lenient) for c in frame.columns}, len(frame))


def _values(codec: Codec, given: pd.Series, lenient: bool = False) -> np.ndarray:
    free = given.isna().to_numpy()
    if lenient and (isinstance(codec, ConstantCodec) or not codec.learned):
        given, free = pd.Series([None] * len(given), dtype=object), np.ones(len(given), bool)
    if isinstance(codec, ConstantCodec):  # the one value the source holds, or none
        held = codec.value if codec.kind == "constant" else None
        other = [v for v in given[~free] if _key(v) != _key(held)]
        if other:
            raise SyngenError(
                f"condition on column '{codec.name}': the source holds only "
                f"{_shown(held) if held is not None else 'blanks'} there, not {_shown(other[0])}"
            )
    elif not codec.learned and (~free).any():
        raise SyngenError(
            f"condition on column '{codec.name}': {_shown(given[~free].iloc[0])} cannot be given, its "
            f"values are made anew ({codec.kind}), not learned (a key would repeat, a real value would "
            "be copied); leave the column out of the conditions"
        )
    if isinstance(codec, NumericCodec):
        x = np.full(len(given), np.nan)
        text = given[~free]
        try:
            x[~free] = codec.numbers(pd.to_numeric(text) if codec.kind in ("integer", "float") else text)
        except (ValueError, TypeError):
            bad = _first_bad(codec, text)
            raise SyngenError(
                f"condition on column '{codec.name}': {_shown(bad)} is not a {_WORDS[codec.kind]}"
                + (f" in the format '{codec.text_format}'" if codec.text_format else "")
            ) from None
        low, high = codec.transform.quantiles[0], codec.transform.quantiles[-1]
        if lenient:  # the nearest value the model learned
            return np.clip(np.round(x) if codec.kind == "integer" else x, low, high)
        places = 0 if codec.kind == "integer" else codec.decimals if codec.kind == "float" else None
        fraction = ~free & (np.round(x, places) != x) if places is not None else np.zeros(len(x), bool)
        if fraction.any():
            grain = "a whole number" if places == 0 else f"a number of at most {places} decimal places"
            raise SyngenError(
                f"condition on column '{codec.name}': {_shown(given[fraction].iloc[0])} is not {grain}, "
                "as every value of the source is"
            )
        outside = ~free & ((x < low) | (x > high))
        if outside.any():
            shown = codec.output(np.array([low, high]))
            raise SyngenError(
                f"condition on column '{codec.name}': {_shown(given[outside].iloc[0])} is outside the "
                f"range the model learned ({shown.iloc[0]} to {shown.iloc[1]})"
            )
        return x
    values = given.to_numpy(dtype=object).copy()
    if isinstance(codec, CategoricalCodec) and not isinstance(codec, MixedCodec):
        known = {_key(v): v for v in codec.categories + codec.tail}
        for i in np.flatnonzero(~free):
            key = _key(values[i])
            if key not in known and lenient:
                free[i] = True
            elif key not in known:
                listed = ", ".join(map(_shown, list(known.values())[:_SHOWN])) + (
                    ", ..." if len(known) > _SHOWN else ""
                )
                raise SyngenError(
                    f"condition on column '{codec.name}': the model never saw the value "
                    f"{_shown(values[i])} (or too rarely to keep it); known values: {listed or 'none'}"
                )
            else:
                values[i] = known[key]
    values[free] = None
    return values


def _shown(value) -> str:
    """A value as a message names it: text quoted, numbers bare."""
    value = value.item() if isinstance(value, np.generic) else value
    return repr(value) if isinstance(value, str) else str(value)


def _key(value) -> str:
    """A value as text, so that '1', '1.0', 1 and 1.0 name the same category, and 'true' True."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value).strip()
    if _WHOLE.fullmatch(text):  # "1.0" from a command line names the category 1
        text = text.split(".")[0]
    return text.lower() if text.lower() in ("true", "false") else text


def _first_bad(codec: NumericCodec, text: pd.Series):
    for value in text:
        try:
            codec.numbers(
                pd.to_numeric(pd.Series([value])) if codec.kind in ("integer", "float") else pd.Series([value])
            )
        except (ValueError, TypeError):
            return value
    return text.iloc[0]


def log_likelihood(codec: Codec, outputs: list[np.ndarray], values: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Per row, how likely the decoder output makes the given value (0 where none is given,
    and for columns the decoder does not score)."""
    score = np.zeros(len(values))
    if not given.any():
        return score
    if isinstance(codec, CategoricalCodec) and not isinstance(codec, MixedCodec):
        logits = outputs[0][given] + codec.bias
        logits = logits - logits.max(axis=1, keepdims=True)
        log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        codes = pd.Index(codec.categories).get_indexer(pd.Series(values[given], dtype=object))
        codes[codes < 0] = len(codec.categories)  # a tail value: the shared 'other' slot
        score[given] = log_probs[np.arange(len(codes)), codes]
    elif isinstance(codec, NumericCodec):
        score[given] = _number_score(codec, [o[given] for o in outputs], values[given].astype(np.float64))
    return score


def _number_score(codec: NumericCodec, outputs: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The normal density of the value's place in the generated distribution around the
    decoder's prediction (the inverse of the calibration ``NumericCodec.values`` applies)."""
    u = codec.transform.uniform(x)
    grid = codec.generated
    z = np.interp(u, np.linspace(0.0, 1.0, len(grid)), grid) if len(grid) > 1 else codec.transform.transform(x)
    spread = max(codec.noise, MIN_SPREAD)
    score = -0.5 * ((z - outputs[0][:, 0].astype(np.float64)) / spread) ** 2
    if codec.null_share > 0:  # and not blank
        logit = outputs[1][:, 0] + codec.null_bias
        score -= np.logaddexp(0.0, logit)
    return score


def forced(codec: Codec, column: pd.Series, values: np.ndarray, given: np.ndarray) -> pd.Series:
    """``column`` with the given values set on the given rows, in the column's form."""
    if not given.any():
        return column
    if isinstance(codec, NumericCodec):
        made = codec.output(np.where(given, values, codec.transform.quantiles[0]).astype(np.float64))
    else:
        made = pd.Series(values, dtype=object)
    made = made.set_axis(column.index)
    result = column.astype(object).mask(given, made)
    try:
        return result.astype(column.dtype)
    except (TypeError, ValueError):
        return result


def target_score(target: NumericCodec, composed: np.ndarray, values: np.ndarray, given: np.ndarray) -> np.ndarray:
    """For a relation's target, which the decoder does not output: how near the value its
    composed prediction comes, on the target's normal scale."""
    score = np.zeros(len(values))
    if given.any():
        gap = target.transform.transform(composed[given]) - target.transform.transform(values[given].astype(np.float64))
        score[given] = -0.5 * (gap / TARGET_SPREAD) ** 2
    return score


class Draw:
    """One candidate per row drawn by likelihood over rounds of candidates (Gumbel-max: the
    highest of log-likelihood plus Gumbel noise over every round is a draw from them all),
    and the effective number of candidates so far (``(sum w)^2 / sum w^2``)."""

    def __init__(self, rows: int, width: int, dtype: np.dtype):
        self.chosen = np.zeros((rows, width), dtype=dtype)
        self._key = np.full(rows, -np.inf)
        self._total = np.full(rows, -np.inf)  # log of the likelihoods' sum
        self._squares = np.full(rows, -np.inf)  # and of their squares' sum
        self._drawn = np.zeros(rows, dtype=bool)

    def add(self, rows: np.ndarray, scores: np.ndarray, candidates: np.ndarray, rng: np.random.Generator) -> None:
        """Offer ``rows`` (indexes) their ``candidates`` (rows x k x width) with log-likelihood
        ``scores`` (rows x k)."""
        gumbel = -np.log(-np.log(rng.random(scores.shape).clip(1e-300, 1.0)))
        keys = scores + gumbel
        top = np.argmax(keys, axis=1)
        key = keys[np.arange(len(rows)), top]
        better = (key > self._key[rows]) | ~self._drawn[rows]
        self.chosen[rows[better]] = candidates[np.flatnonzero(better), top[better]]
        self._key[rows[better]] = key[better]
        self._drawn[rows] = True
        with np.errstate(invalid="ignore"):
            self._total[rows] = np.logaddexp(self._total[rows], _log_sum(scores))
            self._squares[rows] = np.logaddexp(self._squares[rows], _log_sum(2.0 * scores))

    def thin(self) -> np.ndarray:
        """Rows whose likelihoods carry fewer than ``MIN_EFFECTIVE`` candidates (or none)."""
        with np.errstate(invalid="ignore"):
            effective = np.exp(2.0 * self._total - self._squares)
        return np.flatnonzero(~(effective >= MIN_EFFECTIVE))


def _log_sum(scores: np.ndarray) -> np.ndarray:
    """Each row's log of the sum of exp(scores), -inf where every score is."""
    top = scores.max(axis=1)
    finite = np.isfinite(top)
    shifted = np.exp(scores[finite] - top[finite, None]).sum(axis=1)
    out = np.full(len(scores), -np.inf)
    out[finite] = top[finite] + np.log(shifted)
    return out
