"""Learned codecs: columns in and out of the autoencoder, vectorised.

Numbers and dates are mapped through their empirical quantiles onto a standard normal, so
skewed and multi-modal columns (amounts, prices, zero-inflated counts) become easy targets
and decode back inside the observed range with the observed point masses. Categories are
one-hot and decoded by sampling the predicted probabilities, which keeps rare values alive.
Nulls are a separate learned signal, so their share and their links to other columns hold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from syngen.engine.codec import Codec, expect, register
from syngen.errors import SyngenError
from syngen.privacy import RARE, Protection, pending
from syngen.values import dates
from syngen.values.kinds import DATE_KINDS, NUMBER_TEXT, decimals_of

MAX_QUANTILES = 10000  # fine enough that rare extremes stay rare
MAX_CALIBRATION_QUANTILES = 2000
# Numbers with at most this many distinct values (prices on a menu, ages, counts) are
# generated only as values that occur in the source: values at least the rare threshold of
# people hold, when those hold this share of the rows (a small table's dates of birth, each
# someone's own, are no menu: they are generated as any day in their span).
MAX_SNAP_VALUES = 500
SNAP_SHARE = 0.9
# Categories beyond this many (by frequency) share one learned "other" slot and are then
# drawn from their observed frequencies.
MAX_CATEGORIES = 100
_EPS = 1e-6
_SECONDS_PER_DAY = 86400
# stamps of at least this many rows keep the source's shares of the hours of the day (see _in_hours)
MIN_CLOCK_ROWS = 500
# whole numbers that are all multiples of a step (loan amounts in steps of 25) keep it, given
# this many values of this many distinct ones
MIN_STEP_ROWS = 50
MIN_STEP_VALUES = 5
# dates that all fall on one day of their month (the 1st of a monthly series, a month's last
# day), over at least this many months, are generated on that day
MIN_MONTHS = 6


def _step_of(x: np.ndarray) -> int:
    """The step every whole number is a multiple of (1 unless enough values share one)."""
    x = np.abs(x[np.isfinite(x)])
    if len(x) < MIN_STEP_ROWS or len(np.unique(x)) < MIN_STEP_VALUES or x.max() >= 2**62:
        return 1
    return max(int(np.gcd.reduce(x.astype(np.int64))), 1)


def _hour_of_day(seconds: np.ndarray) -> np.ndarray:
    return (np.mod(seconds, _SECONDS_PER_DAY) // 3600).astype(int)


def _minute_of_hour(seconds: np.ndarray) -> np.ndarray:
    return (np.mod(seconds, 3600) // 60).astype(int)


class LearnedCodec(Codec):
    learned = True

    def blocks(self) -> list[tuple[str, int]]:
        """Model output blocks, as (type, width): 'num' (real value), 'null' (logit),
        'cat' (logits)."""
        raise NotImplementedError

    def encode(self, column: pd.Series) -> np.ndarray:
        raise NotImplementedError

    def decode(self, outputs: list[np.ndarray], rng: np.random.Generator) -> pd.Series:
        raise NotImplementedError

    def calibrate(self, outputs: list[np.ndarray], encoded: np.ndarray) -> None:
        """Learn from how the trained model reconstructs the training rows (optional)."""

    def calibrate_marginal(self, outputs: list[np.ndarray], rng: np.random.Generator) -> None:
        """Learn from a large sample of the model's own generated outputs (optional)."""


def sample_categories(logits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category index per row, drawn from softmax(logits). Worked on category by row:
    reductions across a few categories then run along the rows, several times faster."""
    columns = np.ascontiguousarray(logits.T)
    cumulative = np.cumsum(np.exp(columns - columns.max(axis=0)), axis=0)
    draws = rng.random(len(logits)) * cumulative[-1]
    return np.minimum((cumulative < draws).sum(axis=0), logits.shape[1] - 1)


def marginal_bias(
    logits: np.ndarray, shares: np.ndarray, rows: int = 50_000, steps: int = 200, tolerance: float = 1e-4
) -> np.ndarray:
    """Offsets for the logits that make the mean predicted probabilities equal the source's
    shares. A VAE pulls rare values towards common ones (Diamonds' 'Good' cut came out at
    5.7 % for 9.0 %); the offsets restore the source's mix while the model still decides
    which rows get which value (iterative proportional fitting on the model's own output)."""
    logits = logits[:rows].astype(np.float64)
    logits -= logits.max(axis=1, keepdims=True)  # once: the offsets stay small enough for exp
    bias = np.zeros(logits.shape[1])
    target = np.log(shares)
    for _ in range(steps):
        probs = np.exp(logits + np.clip(bias, -600.0, 600.0))
        probs /= probs.sum(axis=1, keepdims=True)
        gap = target - np.log(probs.mean(axis=0))
        bias += gap
        if np.abs(gap).max() < tolerance:
            break
    return bias - bias.mean()


def _month_day(seconds: np.ndarray) -> int:
    """The day of the month every date falls on (1 to 28; -1: each month's last day), when
    they span at least ``MIN_MONTHS`` months; else 0."""
    days = seconds[np.isfinite(seconds)].astype(np.int64) // _SECONDS_PER_DAY
    if not len(days):
        return 0
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    if len(np.unique(months)) < MIN_MONTHS:
        return 0
    day = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    if (day == day[0]).all() and day[0] <= 28:
        return int(day[0])
    if ((dates + 1).astype("datetime64[M]") != months).all():
        return -1
    return 0


def _on_month_day(seconds: np.ndarray, month_day: int) -> np.ndarray:
    """Each time (seconds) moved to the nearest date on ``month_day`` of its month or the
    months beside it (midnight); blanks stay blank."""
    finite = np.isfinite(seconds)
    days = np.floor(np.where(finite, seconds, 0.0) / _SECONDS_PER_DAY).astype(np.int64)
    month = days.astype("datetime64[D]").astype("datetime64[M]")
    candidates = np.stack(
        [
            (
                (month + shift + 1).astype("datetime64[D]") - 1
                if month_day < 0
                else (month + shift).astype("datetime64[D]") + (month_day - 1)
            ).astype(np.int64)
            for shift in (-1, 0, 1)
        ],
        axis=1,
    )
    exact = np.where(finite, seconds, 0.0)[:, None] / _SECONDS_PER_DAY  # in days, as the candidates
    nearest = candidates[np.arange(len(days)), np.argmin(np.abs(candidates - exact), axis=1)]
    return np.where(finite, nearest * float(_SECONDS_PER_DAY), seconds)


def sample_nulls(logit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Null flags drawn with the predicted probability sigmoid(logit)."""
    return rng.random(len(logit)) < 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))


def calibration_quantiles(z: np.ndarray, count: int) -> np.ndarray:
    """Quantiles of generated values, to map onto the source's ``count`` values: the outermost
    1/count of them onto its minimum and maximum (see NumericCodec.calibrate_marginal)."""
    tail = 1.0 / max(count, 2)
    return np.quantile(z, np.linspace(tail, 1.0 - tail, MAX_CALIBRATION_QUANTILES))


class QuantileNormal:
    """Monotone map of a column onto N(0, 1) through its empirical quantiles (and back)."""

    def __init__(self, quantiles: np.ndarray):
        self.quantiles = quantiles
        self.references = np.linspace(0.0, 1.0, len(quantiles))

    @classmethod
    def fit(cls, values: np.ndarray) -> "QuantileNormal":
        n = min(MAX_QUANTILES, len(values))
        return cls(np.quantile(values, np.linspace(0.0, 1.0, n)))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return ndtri(np.clip(self.uniform(x), _EPS, 1 - _EPS))

    def uniform(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Each value's place in the quantiles, in [0, 1]. A value many quantiles share
        (a whole number, a point mass) spans a stretch: its middle, or with ``rng`` a random
        place in it, so that whole numbers mapped onto other whole numbers keep their shares."""
        q, r = self.quantiles, self.references
        high, low = np.interp(x, q, r), -np.interp(-x, -q[::-1], -r[::-1])
        return low + (high - low) * (0.5 if rng is None else rng.random(len(x)))

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return self.inverse_uniform(ndtr(z))

    def inverse_uniform(self, u: np.ndarray) -> np.ndarray:
        """The values at places ``u`` in [0, 1], between the quantiles. The references are
        evenly spaced, so a place's stretch is found by arithmetic (np.interp searches: a
        third of a batch's time went there)."""
        q = self.quantiles
        if len(q) < 2:
            return np.full(len(u), q[0], dtype=np.float64)
        place = np.clip(u, 0.0, 1.0) * (len(q) - 1)
        blank = np.isnan(place)
        if blank.any():
            place = np.where(blank, 0.0, place)
        i = np.minimum(place.astype(np.int64), len(q) - 2)
        share = place - i
        x = q[i] * (1.0 - share) + q[i + 1] * share  # the quantile itself at either end
        return np.where(blank, np.nan, x) if blank.any() else x


@register("float", "integer", "datetime", "date", "time", "duration")
class NumericCodec(LearnedCodec):
    """Numbers, and dates/times as seconds (text dates keep their exact text format).

    Text timestamps with several UTC offsets (+01:00 in winter, +02:00 in summer) are
    learned as their local time beside a hidden category of offsets (``zones``), so each
    row keeps an offset in the source's mix and in its link to the date."""

    transform: QuantileNormal  # the column's map onto N(0, 1): learned by fit, restored by _load

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.decimals = 0
        self.step = 1  # integers: every value a multiple of it
        self.resolution = 0.0  # datetimes: output rounded to this many seconds (0: as is)
        self.month_day = 0  # dates all on this day of their month (1 to 28, -1 the last): kept
        self.timezone: str | None = None
        self.support = np.zeros(0)  # the observed values, when few enough to snap to
        self.noise = 0.0  # spread of the value around the decoder's prediction (normal scale)
        self.generated = np.zeros(0)  # quantiles of the model's generated values (normal scale)
        self.null_bias = 0.0  # added to the null logit so the generated null share is the source's
        self.count = 0  # non-null values seen in training
        self.zones: CategoricalCodec | None = None  # each row's UTC offset, where they differ
        self.hours = np.zeros(0)  # people per hour of the day (see _hours_held)
        self.moves = np.zeros(0)  # share of each hour's generated stamps moved (see _in_hours)
        self.shortfall = np.zeros(0)  # where they go: each hour's share the model leaves short
        self.minutes = np.zeros(0)  # people per minute past the hour, where few minutes are held (see _on_minutes)

    def _to_number(self, values: pd.Series) -> np.ndarray:
        if self.kind in ("float", "integer"):
            return pd.to_numeric(values).to_numpy(dtype=np.float64)
        if self.kind == "duration":
            x = dates.duration_seconds(values)
            if np.isnan(x).any():
                raise ValueError(f"{values.iloc[int(np.argmax(np.isnan(x)))]!r} is no duration")
            return x
        if self.text_format is not None and not pd.api.types.is_datetime64_any_dtype(values):
            parsed = self._parse(values)
        else:
            parsed = pd.to_datetime(values)
            if parsed.dt.tz is not None:
                parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        if self.kind == "time":
            return (parsed - parsed.dt.normalize()).dt.total_seconds().to_numpy()
        return (parsed.astype("datetime64[ns]").astype("int64") / 1e9).to_numpy(dtype=np.float64)

    def _fit(self, values):
        if self.kind in DATE_KINDS:
            if pd.api.types.is_datetime64_any_dtype(values):
                tz = getattr(values.dt, "tz", None)
                self.timezone = str(tz) if tz is not None else None
            elif self.text_format is not None:  # given by the user
                parsed = self._parse(values, errors="coerce")
                if parsed.isna().any():
                    bad = values[parsed.isna().to_numpy()].iloc[0]
                    raise SyngenError(
                        f"column '{self.name}': value {bad!r} does not match the format "
                        f"'{self.text_format}' given for it"
                    )
            else:
                found = dates.detect_text_format(values.astype(str))
                self.text_format = found[1] if found else None
            if (
                self.text_format is not None
                and dates.split_zone(self.text_format)[1]
                and not pd.api.types.is_datetime64_any_dtype(values)
            ):
                # offsets are not personal (a few dozen exist): every one seen is kept
                self.zones = CategoricalCodec(self.name, "categorical").fit(
                    self._zone_of(values), protection=Protection(rare_threshold=1)
                )
        if self.kind == "duration" and self.text_format is None:
            self.text_format = dates.duration_format(values.dropna(), past_a_day=False)
            if self.text_format is None:
                raise SyngenError(
                    f"column '{self.name}' is declared a duration, but its values are not all elapsed "
                    "times written hours:minutes[:seconds] (121:36:00); declare another kind"
                )
        x = self._to_number(values)
        self.count = len(x)
        if self.kind == "float":
            self.decimals = decimals_of(x)
        elif self.kind == "integer":
            self.step = _step_of(x)
        elif self.kind in DATE_KINDS + ("duration",):
            self.resolution = next((r for r in (_SECONDS_PER_DAY, 3600, 60, 1) if np.allclose(np.mod(x, r), 0)), 0.0)
            if self.kind in ("datetime", "time") and self.resolution < _SECONDS_PER_DAY:
                self.hours = self._hours_held(pd.Series(x, index=values.index))
            if self.kind in ("datetime", "time") and self.resolution == 60:
                self.minutes = self._minutes_held(pd.Series(x, index=values.index))
            if self.kind in ("date", "datetime") and self.resolution == _SECONDS_PER_DAY:
                self.month_day = _month_day(x)
        finite = np.isfinite(x)  # an infinity among floats (Parquet, databases) is no quantile
        self.transform = (
            QuantileNormal.fit(self._guarded(pd.Series(x[finite], index=values.index[finite])))
            if finite.any()
            else QuantileNormal(np.zeros(1))
        )
        self.support = self._menu(values, x)

    def _guarded(self, numbers: pd.Series) -> np.ndarray:
        """The values the quantiles learn, with nothing in them that singles out a few people.
        An outlier is a person: the k lowest values (k: the rare threshold) are spread evenly
        from halfway between the two lowest distinct ones up to the k-th, the k highest likewise, so none of
        them comes out, while the range stays the source's to a half step (a report bins both
        tables by their own ranges). The rows of a value fewer than k people hold (a couple's
        wedding date) are spread over the gaps to its neighbours: left as a flat stretch of
        the quantiles, it would come out as that value again and again."""
        ordered = np.sort(numbers.to_numpy(dtype=np.float64))
        k = min(self.protection.rare_threshold, len(ordered) // 2)
        if k >= 2:
            above = ordered[min(np.searchsorted(ordered, ordered[0], side="right"), k - 1)]
            below = ordered[max(np.searchsorted(ordered, ordered[-1], side="left") - 1, len(ordered) - k)]
            ordered[:k] = np.linspace((ordered[0] + above) / 2, ordered[k - 1], k)
            ordered[-k:] = np.linspace(ordered[-k], (below + ordered[-1]) / 2, k)
        elif self.protection.rare_threshold > 1:  # one to three values: their mean
            ordered[:] = np.mean(ordered)
        k = self.protection.rare_threshold
        distinct, first, rows = np.unique(ordered, return_index=True, return_counts=True)
        held = self.protection.holders(numbers).reindex(distinct).fillna(k).to_numpy()  # a ramp's: none rare
        rare = (rows > 1) & (held < k)
        if not rare.any() or len(distinct) < 2:
            return ordered
        middles = (distinct[1:] + distinct[:-1]) / 2
        start, end = np.r_[distinct[0], middles], np.r_[middles, distinct[-1]]
        place = (np.arange(len(ordered)) - np.repeat(first, rows) + 0.5) / np.repeat(rows, rows)
        spread = np.repeat(start, rows) + np.repeat(end - start, rows) * place
        return np.where(np.repeat(rare, rows), spread, ordered)

    def _hours_held(self, seconds: pd.Series) -> np.ndarray:
        """People per hour of the day (``_held``). No flight leaves New York between midnight
        and five, and storms are logged at 0, 6, 12 and 18 o'clock: a stamp at three is a row
        no real one is."""
        held = self._held(seconds, _hour_of_day, 24)
        return held if held.any() else np.zeros(0)

    def _held(self, seconds: pd.Series, part, size: int) -> np.ndarray:
        """People per value of a part of the clock (``part`` of seconds, ``size`` values), a
        value fewer than k hold counted as none; nothing (empty) when the rows are too few to
        tell a value nobody uses from one nobody happened to use."""
        seconds = seconds[np.isfinite(seconds.to_numpy())]
        if len(seconds) < MIN_CLOCK_ROWS:
            return np.zeros(0)
        values = pd.Series(part(seconds.to_numpy()), index=seconds.index)
        held = self.protection.holders(values).reindex(range(size), fill_value=0).to_numpy(dtype=np.float64)
        held[held < self.protection.rare_threshold] = 0
        return held

    def _in_hours(self, x: np.ndarray, rng) -> np.ndarray:
        """Stamps moved by whole hours, on their own day, so that the hours of the day keep the
        source's shares: of an hour the model fills more than the source, the surplus share
        (``moves``, measured at calibration; before it, every stamp in an hour the source has
        none in) goes to the hours it fills less, by their shortfall. The model, smooth, spills
        stamps over the edges of the day's busy hours; moved to the nearest, they would pile
        up there."""
        if not len(self.hours):
            return x
        moves, shortfall = self.moves, self.shortfall
        if not len(moves):
            moves, shortfall = (self.hours == 0).astype(np.float64), self.hours
        hour = _hour_of_day(np.nan_to_num(x))
        off = np.isfinite(x) & (rng.random(len(x)) < moves[hour])
        if off.any():
            x = x.copy()
            x[off] += (rng.choice(24, size=int(off.sum()), p=shortfall / shortfall.sum()) - hour[off]) * 3600.0
        return x

    def _minutes_held(self, seconds: pd.Series) -> np.ndarray:
        """People per minute past the hour (``_held``); nothing (empty) where they hold half
        the minutes of the hour or more, a clock with no grain to keep. Football kicks off on
        the hour or at half past."""
        held = self._held(seconds, _minute_of_hour, 60)
        return held if 0 < np.count_nonzero(held) < 30 else np.zeros(0)

    def _on_minutes(self, x: np.ndarray, rng) -> np.ndarray:
        """Stamps moved within their hour to the minutes the source holds, by their shares:
        the batch's stamps in the order of their minutes (ties at random) take the source's
        minutes in the same order."""
        present = np.flatnonzero(np.isfinite(x))
        if not len(self.minutes) or not len(present):
            return x
        minute = _minute_of_hour(x[present])
        order = np.lexsort((rng.random(len(present)), minute))
        place = np.empty(len(present))
        place[order] = (np.arange(len(present)) + 0.5) / len(present)
        held = np.flatnonzero(self.minutes)
        cumulative = np.cumsum(self.minutes[held]) / self.minutes[held].sum()
        wanted = held[np.minimum(np.searchsorted(cumulative, place), len(held) - 1)]
        x = x.copy()
        x[present] += (wanted - minute) * 60.0
        return x

    def _calibrate_hours(self, z: np.ndarray) -> None:
        """``moves`` and ``shortfall`` from the hours of the day of generated stamps ``z`` (normal scale)."""
        x = self.rounded(self.transform.inverse_uniform(self._uniform(z)))
        made = np.bincount(_hour_of_day(x), minlength=24)[:24] / len(x)
        held = self.hours / self.hours.sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            self.moves = np.where(made > 0, np.clip(1.0 - held / made, 0.0, 1.0), 0.0)
        self.shortfall = np.clip(held - made, 0.0, None)
        if not self.shortfall.any():  # nothing to move to
            self.moves = self.shortfall = np.zeros(0)

    def _uniform(self, z: np.ndarray) -> np.ndarray:
        """Generated values (normal scale) as their place among the calibrated ones, 0 to 1."""
        return np.interp(z, self.generated, np.linspace(0.0, 1.0, len(self.generated)))

    def _menu(self, values: pd.Series, x: np.ndarray) -> np.ndarray:
        """The values to snap to: those enough people share, if nearly every row holds one."""
        if len(np.unique(x)) > MAX_SNAP_VALUES:
            return np.zeros(0)
        numbers = pd.Series(x, index=values.index)
        held = self.protection.holders(numbers)
        shared = held.index[held >= self.protection.rare_threshold].to_numpy(dtype=np.float64)
        if numbers.isin(shared).mean() < SNAP_SHARE:
            return np.zeros(0)
        return np.sort(shared)

    def _parse(self, values: pd.Series, errors: str = "raise") -> pd.Series:
        """Text dates in this column's format (without their offsets) as timestamps."""
        assert self.text_format is not None  # parsed only in a format, given or detected
        text = values.astype(str)
        base, zoned = dates.split_zone(self.text_format)
        if zoned:
            text = text.str.replace(dates.ZONE, "", regex=True)
        return pd.to_datetime(text, format=dates.parse_format(base), errors=errors)

    @staticmethod
    def _zone_of(values: pd.Series) -> pd.Series:
        return values.astype(str).str.extract(f"({dates.ZONE.pattern})", expand=False)

    def _snap(self, x: np.ndarray) -> np.ndarray:
        """Each value moved to the nearest shared one; values past the outermost shared ones
        (the tails, where the source's values are rare) only rounded."""
        return np.where(self.in_tail(x), x, self._nearest(x))

    def _nearest(self, x: np.ndarray) -> np.ndarray:
        """The shared value nearest each value (at least two are shared)."""
        support = self.support
        right = np.clip(np.searchsorted(support, x), 1, len(support) - 1)
        left = right - 1
        return np.where(np.abs(x - support[left]) <= np.abs(support[right] - x), support[left], support[right])

    def in_tail(self, x: np.ndarray) -> np.ndarray:
        """Where values lie past the outermost shared values (none, when there are none)."""
        if len(self.support) < 2:
            return np.zeros(len(x), dtype=bool)
        return (x < self.support[0]) | (x > self.support[-1])

    def blocks(self):
        zones = self.zones.blocks() if self.zones else []
        return [("num", 1)] + ([("null", 1)] if self.null_share > 0 else []) + zones

    def encode(self, column):
        nulls = column.isna().to_numpy()
        z = np.zeros(len(column), dtype=np.float32)
        if (~nulls).any():
            z[~nulls] = self.transform.transform(self._to_number(column[~nulls]))
        parts = [z[:, None]]
        if self.null_share > 0:
            parts.append(nulls.astype(np.float32)[:, None])
        if self.zones:  # a null's offset: the most common one
            parts.append(self.zones.encode(self._zone_of(column).where(~nulls, self.zones.categories[0])))
        return np.hstack(parts)

    def calibrate(self, outputs, encoded):
        """The decoder predicts a value's mean given the latent code; what it cannot explain
        is added back as noise at generation, so the marginal keeps its full spread."""
        present = encoded[:, 1] == 0 if self.null_share > 0 else np.ones(len(encoded), bool)
        residual = outputs[0][present, 0] - encoded[present, 0]
        self.noise = float(np.std(residual)) if present.any() else 0.0

    def calibrate_marginal(self, outputs, rng):
        """Quantiles of what the model generates, so that generation can map its values onto
        the source's quantiles: the marginal (tails included) then matches the source,
        while the ranks, and with them the links to other columns, stay the model's.
        The outermost 1/n of generated values map onto the observed minimum and maximum,
        which the source holds with that weight too. The null flag gets an offset that
        makes the generated null share the source's (see ``marginal_bias``)."""
        if self.zones:
            self.zones.calibrate_marginal(outputs[-1:], rng)
        z = self._noisy(outputs[0], rng)
        self.generated = calibration_quantiles(z, self.count)
        if len(self.hours) and len(self.generated) > 1:
            self._calibrate_hours(z)
        if self.null_share > 0:
            logit = outputs[1][:, 0]
            bias = marginal_bias(
                np.column_stack([np.zeros_like(logit), logit]), np.array([1.0 - self.null_share, self.null_share])
            )
            self.null_bias = float(bias[1] - bias[0])

    def _noisy(self, output: np.ndarray, rng) -> np.ndarray:
        z = output[:, 0].astype(np.float64)
        return z + self.noise * rng.standard_normal(len(z)) if self.noise else z

    def decode(self, outputs, rng):
        x, nulls = self.decode_numbers(outputs, rng)
        if self.zones:
            text = self._format_datetime(x) + self.zones.decode(outputs[-1:], rng).to_numpy(dtype=object)
            return self.restore_dtype(text, nulls)
        return self.output(x, nulls)

    def decode_numbers(self, outputs, rng) -> tuple[np.ndarray, np.ndarray | None]:
        """Every row's number (dates as seconds) and which rows are blank (None: none)."""
        nulls = sample_nulls(outputs[1][:, 0] + self.null_bias, rng) if self.null_share > 0 else None
        return self.values(outputs, rng, None if nulls is None else ~nulls), nulls

    def output(self, x: np.ndarray, nulls: np.ndarray | None = None) -> pd.Series:
        """Numbers of this column's grain as its values (dates in their format)."""
        if self.kind in ("integer", "float"):
            return self.restore_dtype(x, nulls)
        return self.restore_dtype(self._text(x), nulls)

    def numbers(self, column: pd.Series) -> np.ndarray:
        """The column as numbers (dates as seconds), NaN where blank."""
        present = column.notna().to_numpy()
        x = np.full(len(column), np.nan)
        if present.any():
            x[present] = self._to_number(column[present])
        return x

    def within(self, x: np.ndarray) -> np.ndarray:
        """Numbers made outside the codec (relations) kept in the source's range and grain,
        not snapped to its values: a price halfway between two others need not be one seen."""
        return self.rounded(np.clip(x, self.transform.quantiles[0], self.transform.quantiles[-1]), snap=False)

    def outside(self, x: np.ndarray) -> np.ndarray:
        """Where numbers made outside the codec fall past the source's range (``within`` moves them)."""
        return (x < self.transform.quantiles[0]) | (x > self.transform.quantiles[-1])

    def at_least(self, x: np.ndarray, low: np.ndarray) -> np.ndarray:
        """``x``, raised where rounding took it below ``low``, to ``low``'s next step."""
        raised = np.ceil(low / self._unit - 1e-9) * self._unit
        if self.kind == "float":  # 29 steps of 0.1 are 2.9000000000000004
            raised = np.round(raised, self.decimals)
        return np.where(x < low, raised, x)

    def at_most(self, x: np.ndarray, high: np.ndarray) -> np.ndarray:
        """``x``, lowered where rounding took it above ``high``, to ``high``'s step below."""
        lowered = np.floor(high / self._unit + 1e-9) * self._unit
        if self.kind == "float":
            lowered = np.round(lowered, self.decimals)
        return np.where(x > high, lowered, x)

    def expected(self, outputs) -> np.ndarray:
        """Every row's number at the decoder's prediction (no noise, no rounding)."""
        z = outputs[0][:, 0].astype(np.float64)
        if len(self.generated) > 1:
            return self.transform.inverse_uniform(self._uniform(z))
        return self.transform.inverse(z)

    def values(self, outputs, rng, present: np.ndarray | None = None) -> np.ndarray:
        """Every row's value, nulls aside: numbers, or dates and times as seconds (``present``:
        the rows that will not be blank, among which the source's ends are placed)."""
        z = self._noisy(outputs[0], rng)
        if len(self.generated) > 1:
            u = self._uniform(z)
            x = self.transform.inverse_uniform(self._boundaries(z, u, rng, present))
        else:
            x = self.transform.inverse(z)
        return self._on_minutes(self._in_hours(self.rounded(x), rng), rng)

    def rounded(self, x: np.ndarray, snap: bool = True) -> np.ndarray:
        """Values as the source has them: observed ones (when few), whole numbers, its
        decimals, its grain of time."""
        if snap and len(self.support) > 1:
            x = self._snap(x)
        if self.kind == "integer":
            return np.rint(x / self.step) * self.step
        if self.kind == "float":  # the extremes rounded to fewer decimals stay inside the range
            low, high = self.step_range()
            grained = np.round(np.clip(np.round(x, self.decimals), low * self._unit, high * self._unit), self.decimals)
            # a shared value as the source holds it, where that differs only by a float's last
            # bits (6.904679999999999, a knot in miles per hour, is no 6.90468 to a classifier;
            # nor is a composed 2003.4166666666665 the source's 2003.4166666666667)
            if len(self.support) > 1:
                nearest = self._nearest(x)
                bits = 1e-12 * np.maximum(np.abs(x), 1.0)
                # where the shared value is itself at the grain (float32's 9.68000031 is 9.68)
                held = (np.abs(nearest - x) <= bits) & (np.abs(np.round(nearest, self.decimals) - nearest) <= bits)
                return np.where(held, nearest, grained)
            return grained
        if self.month_day:  # the source's first and last dates are on that day: nothing passes them
            return _on_month_day(np.clip(x, self.transform.quantiles[0], self.transform.quantiles[-1]), self.month_day)
        return np.round(x / self.resolution) * self.resolution if self.resolution else x

    # -- keys that keep this column's kind move it by whole steps (see keys.UniqueRows) --
    @property
    def _unit(self) -> float:
        """One step: a second (or the source's coarser grain) for dates and times, one for
        integers, the last kept decimal for floats."""
        if self.kind in ("integer", "float"):
            return 10.0**-self.decimals if self.kind == "float" else float(self.step)
        return self.resolution or 1.0

    def as_steps(self, values: pd.Series) -> np.ndarray:
        """``values`` of this column counted in steps."""
        try:
            x = self._to_number(values)
        except ValueError:  # dates read back from a database, in its own text form
            x = self._to_number(pd.Series(pd.to_datetime(values.astype(str), format="mixed")))
        return np.round(x / self._unit)

    def step_range(self) -> tuple[float, float]:
        """The source's smallest and largest values, in steps (a range narrower than a step,
        as a residual's float noise around 0 is, is its nearest step)."""
        low, high = self.transform.quantiles[0] / self._unit, self.transform.quantiles[-1] / self._unit
        if np.ceil(low) > np.floor(high):
            return (np.round(low), np.round(low))
        return (np.ceil(low), np.floor(high))

    def from_steps(self, steps: np.ndarray, inside: bool = True) -> pd.Series:
        """Values of this column's form (a date's text format, integers) from steps, kept
        inside the source's range unless ``inside`` is false."""
        steps = np.asarray(steps, dtype=np.float64)
        x = (np.clip(steps, *self.step_range()) if inside else steps) * self._unit
        if self.kind == "integer":
            return self.restore_dtype(np.rint(x))
        if self.kind == "float":
            return self.restore_dtype(np.round(x, self.decimals))
        text = self._text(x)
        return self.restore_dtype(text + self.zones.categories[0] if self.zones else text)

    def _boundaries(self, z: np.ndarray, u: np.ndarray, rng, present: np.ndarray | None) -> np.ndarray:
        """Put the learned minimum and maximum in this batch as often as the source has them
        (n / values learned, rounded at random, n counting only rows not blank), on the rows
        the model ranks most extreme. Left to chance, a table of the source's size misses its
        boundary values a third of the time; test data should hold them."""
        rows = np.arange(len(z)) if present is None else np.flatnonzero(present)
        expected = len(rows) / max(self.count, 2)
        inside = 1.0 / max(self.count, 2)
        for top, edge, demoted in ((True, 1.0, 1.0 - inside), (False, 0.0, inside)):
            at_edge = min(int(expected + rng.random()), len(rows))
            u[u == edge] = demoted
            if 0 < at_edge < len(rows):
                u[rows[np.argpartition(-z[rows] if top else z[rows], at_edge - 1)[:at_edge]]] = edge
            elif at_edge:
                u[rows] = edge
        return u

    def _text(self, seconds: np.ndarray):
        """Dates, times or durations (as seconds) written as this column writes them."""
        if self.kind == "duration":
            assert self.text_format is not None  # fit() finds a duration's shape, or stops
            return dates.write_duration(seconds, self.text_format)
        return self._format_datetime(seconds)

    def _format_datetime(self, seconds: np.ndarray):
        stamps = pd.Series(pd.to_datetime(np.round(seconds * 1e6).astype("int64"), unit="us"))
        if self.text_format is not None:
            return dates.strftime(stamps, dates.split_zone(self.text_format)[0]).to_numpy(dtype=object)
        if self.timezone:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.timezone)
        return stamps

    def _state(self):
        meta: dict = {
            "decimals": self.decimals,
            "step": self.step,
            "text_format": self.text_format,
            "resolution": self.resolution,
            "month_day": self.month_day,
            "timezone": self.timezone,
            "noise": self.noise,
            "count": self.count,
            "null_bias": self.null_bias,
        }
        arrays = {
            "quantiles": self.transform.quantiles,
            "support": self.support,
            "generated": self.generated,
            "hours": self.hours,
            "minutes": self.minutes,
            "moves": self.moves,
            "shortfall": self.shortfall,
        }
        if self.zones:
            meta["zones"], zone_arrays = self.part_state("zones")
            arrays.update(zone_arrays)
        return meta, arrays

    def _load(self, meta, arrays):
        self.decimals = meta["decimals"]
        self.step = meta.get("step", 1)
        self.text_format = meta["text_format"]
        self.resolution = meta["resolution"]
        self.month_day = meta.get("month_day", 0)  # older models knew no such day
        self.timezone = meta["timezone"]
        self.noise = meta["noise"]
        self.count = meta["count"]
        self.null_bias = meta["null_bias"]
        self.transform = QuantileNormal(arrays["quantiles"])
        self.support = arrays["support"]
        self.generated = arrays["generated"]
        # models saved before hours were kept have none
        self.hours, self.moves, self.shortfall, self.minutes = (
            arrays.get(k, np.zeros(0)) for k in ("hours", "moves", "shortfall", "minutes")
        )
        self.zones = (
            expect(self.part_from_state("zones", meta["zones"], arrays), CategoricalCodec)
            if meta.get("zones")
            else None
        )


_FLAGS = frozenset({"0", "1", "true", "false", "yes", "no", "y", "n", "t", "f", "0.0", "1.0"})


def _is_flag(values: pd.Index) -> bool:
    """Two values that are a flag (yes/no, 0/1, True/False), not an id seen once beside a
    common value."""
    return pd.api.types.is_bool_dtype(values) or {str(v).strip().lower() for v in values} <= _FLAGS


@register("categorical", "boolean")
class CategoricalCodec(LearnedCodec):
    """Seen values only; the most frequent are learned, the long tail keeps its frequencies.

    Values seen fewer than ``rare_threshold`` times (in the rows of as many different people,
    where the table says who its rows are about) identify someone, so they are neither
    stored nor generated: the model learns them as one 'rare' slot, and a row that draws it
    gets one of the frequent values instead (by the model's odds for that row), or, where
    the column has no frequent value, a value made in the rare values' character patterns.
    Flags (yes/no, 0/1) are not identities and keep both values.
    """

    replaces_rare_with_frequent = True  # place columns make a new value of their meaning instead
    redrawn = True  # drawn again given the rest of the row (``redraws.py``)

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.categories: list = []
        self.tail: list = []
        self.tail_weights: list[float] = []
        self.rare_share = 0.0  # of rows holding a rare value
        self.rare_patterns: list[tuple[str, float]] = []  # their shapes, when nothing is frequent
        self.rare_hashes = np.zeros(0, dtype=np.uint64)  # keyed: generated values avoid them
        self.distinct = False  # every source value differs (labels of a lookup): made-up ones do too
        self.shares = np.zeros(0)  # of each output slot (categories, "other", rare, null) in the source
        self.bias = np.zeros(0)  # added to the model's logits so the generated mix matches them

    def _fit(self, values):
        from syngen.privacy import guard, patterns

        counts = values.value_counts(sort=True)
        threshold = 1 if self.kind == "boolean" and _is_flag(counts.index) else self.protection.rare_threshold
        held = self.protection.holders(values).reindex(counts.index)
        rare = counts[(held < threshold).to_numpy()]
        frequent = counts[(held >= threshold).to_numpy()]
        self.categories = frequent.index[:MAX_CATEGORIES].tolist()
        tail = frequent.iloc[MAX_CATEGORIES:]
        self.tail = tail.index.tolist()
        self.tail_weights = (tail / tail.sum()).tolist() if len(tail) else []
        present = (1.0 - self.null_share) / len(values)
        self.rare_share = float(rare.sum() * present)
        # where most rows hold rare values (airport names), rows drawing them get new values in
        # their shape: redrawn from the few frequent ones, the column would collapse onto them
        mostly_rare = rare.sum() >= 0.5 * len(values)
        self.rare_patterns = patterns.pattern_weights(pd.Series(rare.index)) if mostly_rare and len(rare) else []
        self.distinct = bool(len(values) > 1 and counts.iloc[0] == 1)
        if len(rare) and self.protection.secret:
            self.rare_hashes = guard.keyed_hashes(rare.index, self.protection.secret)
        shares = (frequent.iloc[:MAX_CATEGORIES] * present).tolist()
        shares += [tail.sum() * present] * bool(len(tail)) + [self.rare_share] * bool(len(rare))
        shares += [self.null_share] * (self.null_share > 0)
        self.shares = np.asarray(shares)
        self.bias = np.zeros(len(shares))

    @property
    def _rare_slot(self) -> int | None:
        return len(self.categories) + bool(self.tail) if self.rare_share > 0 else None

    @property
    def width(self) -> int:
        return len(self.categories) + bool(self.tail) + (self.rare_share > 0) + (self.null_share > 0)

    def blocks(self):
        return [("cat", self.width)]

    def slots(self, column: pd.Series) -> np.ndarray:
        """Each value's output slot: its category, "other", rare or blank."""
        codes = pd.Index(self.categories).get_indexer(column)
        if self.tail:
            codes[(codes < 0) & column.isin(self.tail).to_numpy()] = len(self.categories)
        if self._rare_slot is not None:
            codes[codes < 0] = self._rare_slot
        codes[column.isna().to_numpy()] = self.width - 1
        return codes

    def encode(self, column):
        onehot = np.zeros((len(column), self.width), dtype=np.float32)
        onehot[np.arange(len(column)), self.slots(column)] = 1.0
        return onehot

    def calibrate_marginal(self, outputs, rng):
        self.bias = marginal_bias(outputs[0], self.shares)

    def decode(self, outputs, rng):
        return self.from_slots(*self.draw_slots(outputs, rng), rng)

    def draw_slots(self, outputs, rng) -> tuple[np.ndarray, np.ndarray]:
        """Each row's slot, drawn by the model's odds, and those odds (as logits)."""
        logits = outputs[0] + self.bias
        return sample_categories(logits, rng), logits

    def from_slots(self, codes: np.ndarray, logits: np.ndarray, rng) -> pd.Series:
        """The values of drawn slots: a rare slot becomes a frequent value by the row's odds
        (or is left to ``fill_rare``), "other" one of the long tail."""
        rare = self._rare_slot
        if (
            rare is not None
            and (self.categories or self.tail)
            and self.replaces_rare_with_frequent
            and not self.rare_patterns
        ):
            redraw = codes == rare
            if redraw.any():  # the frequent values, by the model's odds for these rows
                masked = logits[redraw].copy()
                masked[:, rare] = -np.inf
                codes[redraw] = sample_categories(masked, rng)
        known = len(self.categories)
        values = np.empty(len(codes), dtype=object)
        values[codes < known] = np.asarray(self.categories + [None], dtype=object)[codes[codes < known]]
        other = codes == known if self.tail else np.zeros(len(codes), dtype=bool)
        if other.any():
            picks = rng.choice(len(self.tail), size=int(other.sum()), p=np.asarray(self.tail_weights))
            values[other] = np.asarray(self.tail, dtype=object)[picks]
        nulls = codes == self.width - 1 if self.null_share > 0 else None
        if rare is not None and (codes == rare).any():  # made later, knowing the row (fill_rare)
            values[codes == rare] = RARE
            return pd.Series(values, dtype=object)
        return self.restore_dtype(values, nulls, complete=True)

    def value_shares(self) -> dict:
        """Each kept value's share of the source's rows."""
        return dict(zip(self.categories, self.shares[: len(self.categories)].tolist()))

    def other_values(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` frequent values by their share in the source: another value for a row whose
        key would repeat."""
        shares = self.shares[: len(self.categories)]
        picks = rng.choice(len(self.categories), n, p=shares / shares.sum())
        return self.restore_dtype(np.asarray(self.categories, dtype=object)[picks])

    def fill_rare(self, values: pd.Series, rows, rng: np.random.Generator) -> pd.Series:
        """Values for the cells left RARE by ``decode``: made in the rare values' patterns
        (words where they have words), never equal to one of them; then the column in its
        source dtype."""
        from syngen.privacy import guard, patterns

        marked = pending(values)
        if marked.any():
            shapes = self.rare_patterns or [("a", 1.0)]
            make = lambda count: patterns.with_words(patterns.render_many(shapes, count, rng), rng)  # noqa: E731
            made = make(int(marked.sum()))
            guard.remake(made, lambda index: make(len(index)), self.rare_hashes, rows.secret, unique=self.distinct)
            values = values.copy()
            values[marked] = made
        return self.restore_dtype(values.to_numpy(dtype=object), values.isna().to_numpy())

    def _state(self):
        return (
            {
                "categories": self.categories,
                "tail": self.tail,
                "tail_weights": self.tail_weights,
                "rare_share": self.rare_share,
                "rare_patterns": self.rare_patterns,
                "distinct": self.distinct,
            },
            {"shares": self.shares, "bias": self.bias, "rare_hashes": self.rare_hashes},
        )

    def _load(self, meta, arrays):
        self.categories = meta["categories"]
        self.tail = meta["tail"]
        self.tail_weights = meta["tail_weights"]
        self.rare_share = meta["rare_share"]
        self.rare_patterns = [tuple(p) for p in meta["rare_patterns"]]
        self.distinct = meta["distinct"]
        self.shares = arrays["shares"]
        self.bias = arrays["bias"]
        self.rare_hashes = arrays["rare_hashes"]


NUMBER = "\x00number"  # the shape of a mixed column's numbers (no word starts with a NUL)


@register("mixed")
class MixedCodec(CategoricalCodec):
    """Numbers written as text beside a few words ('12', 'unknown', '7', '.'): the words and
    one NUMBER slot are learned as a category, the numbers as a numeric part beside it. Both
    shapes come out in the source's proportions and the numbers keep their range, spread and
    decimals; as one category, every number seen fewer than five times would become a word."""

    redrawn = False  # its NUMBER slot goes with the numeric part

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.number = NumericCodec(name, "integer")
        self.places: int | None = None  # decimals every number is written with (None: as few as needed)

    @staticmethod
    def _split(values: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(each value's shape: its word, or NUMBER; the numbers, null elsewhere)."""
        text = values.astype(str)
        number = (text.str.fullmatch(NUMBER_TEXT) & values.notna()).to_numpy()
        return values.where(~number, NUMBER), pd.to_numeric(text.where(number), errors="coerce")

    def _fit(self, values):
        shape, numbers = self._split(values)
        written = values[(shape == NUMBER).to_numpy()].astype(str)
        whole = not written.str.contains(r"[.eE]", regex=True).any()
        self.number = NumericCodec(self.name, "integer" if whole else "float").fit(numbers, protection=self.protection)
        dot = written.str.find(".").to_numpy()
        places = np.unique(np.where(dot >= 0, written.str.len().to_numpy() - dot - 1, 0))
        self.places = int(places[0]) if len(places) == 1 and not whole else None
        super()._fit(shape)

    def blocks(self):
        return super().blocks() + self.number.blocks()

    def encode(self, column):
        shape, numbers = self._split(column)
        return np.hstack([super().encode(shape), self.number.encode(numbers)])

    def calibrate(self, outputs, encoded):
        self.number.calibrate(outputs[1:], encoded[:, self.width :])

    def calibrate_marginal(self, outputs, rng):
        super().calibrate_marginal(outputs[:1], rng)
        self.number.calibrate_marginal(outputs[1:], rng)

    def decode(self, outputs, rng):
        values = super().decode(outputs[:1], rng).to_numpy(dtype=object)
        x = self.number.values(outputs[1:], rng)
        number = values == NUMBER
        values[number] = self._written(x[number])
        return self.restore_dtype(values)

    def other_values(self, n, rng):
        values = super().other_values(n, rng).to_numpy(dtype=object)
        number = values == NUMBER
        drawn = self.number.transform.inverse_uniform(rng.random(int(number.sum())))
        values[number] = self._written(self.number.rounded(drawn))
        return self.restore_dtype(values)

    def _written(self, x: np.ndarray) -> np.ndarray:
        """Numbers as the source writes them: whole, with its fixed decimals, or as few as needed."""
        if self.number.kind == "integer" or not len(x):
            return x.astype(np.int64).astype(str).astype(object)
        places = self.number.decimals if self.places is None else self.places
        text = pd.Series(x + 0.0).map(f"{{:.{places}f}}".format)  # + 0.0: no '-0.00'
        if self.places is None and places:
            text = text.str.rstrip("0").str.rstrip(".")
        return text.to_numpy(dtype=object)

    def _state(self):
        meta, arrays = super()._state()
        meta["places"] = self.places
        meta["number"], number_arrays = self.part_state("number")
        return meta, {**arrays, **number_arrays}

    def _load(self, meta, arrays):
        super()._load(meta, arrays)
        self.places = meta["places"]
        self.number = expect(self.part_from_state("number", meta["number"], arrays), NumericCodec)
