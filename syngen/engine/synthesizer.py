"""Synthesizer: learn one table, generate any number of rows from it, save and load.

Generation is batched and keyed by row position: batch ``k`` of a run depends only on the
artifacts, the run's seed and its first row, so batches stream to a sink in bounded memory
and can be produced by several processes with the same result as one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Collection, Iterator

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from syngen.adapters.files import default_mode, staging_folder
from syngen.engine import conditions as conditional
from syngen.engine import encoders, generators  # noqa: F401  (registers the codecs)
from syngen.engine.codec import Codec, codec_for, expect
from syngen.engine.date_parts import DatePart, DayOfMonth, find_date_parts, find_days_of_month
from syngen.engine.date_parts import stamps as date_stamps
from syngen.engine.dependencies import Dependency, find_dependencies
from syngen.engine.distinct import Distinct, apart_from, find_distinct
from syngen.engine.encoders import CategoricalCodec, LearnedCodec, NumericCodec, QuantileNormal
from syngen.engine.latent import LatentMixture
from syngen.engine.network import Mlp
from syngen.engine.order import RowOrder
from syngen.engine.redraws import MAX_LEVELS, MAX_TAIL_SHARE, Measure, Redraw, fit_redraws, needed, sweep
from syngen.engine.relations import Relation, find_relations, rounds_to
from syngen.errors import SyngenError, os_error
from syngen.privacy import RARE_THRESHOLD, Protection, guard
from syngen.privacy.codecs import LocationCodec  # importing registers the personal codecs
from syngen.privacy.meaning import IDENTIFYING, LOCATION
from syngen.privacy.persona import Persona, source_people, source_regions
from syngen.values.dates import parse_format, strays
from syngen.values.kinds import DATE_KINDS, TEXT_KINDS, detect_kinds

FORMAT_VERSION = 9  # 9: redraws of measures (an older syngen would read them as categories)
OLDEST_FORMAT = 8  # the oldest format this one reads: what 9 added, 8 lacks harmlessly
MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
MIN_ROWS = 2
# Without an explicit epoch count, train for about this many optimiser steps (early
# stopping usually ends sooner), within these epoch bounds.
TARGET_STEPS = 12000
EPOCH_BOUNDS = (20, 300)
DEFAULT_BATCH_ROWS = 50_000
CALIBRATION_ROWS = (20_000, 50_000)  # generated once after training to calibrate the marginals: 5 per source row


@dataclass(frozen=True)
class FitSummary:
    """What fitting took: the rows learned, the epochs run (early stopping may end sooner
    than asked), the seed and the wall-clock seconds."""

    rows: int
    epochs_run: int
    seed: int
    seconds: float


def default_epochs(rows: int, batch_size: int) -> int:
    steps_per_epoch = max(1, math.ceil(rows * 0.9 / batch_size))
    return int(np.clip(math.ceil(TARGET_STEPS / steps_per_epoch), *EPOCH_BOUNDS))


class Synthesizer:
    """One table's generative model.

    Parameters mirror the CLI: ``epochs`` (None: automatic, with early stopping),
    ``batch_size`` (training rows per step), ``random_seed`` (reproducible training),
    ``columns`` (column -> kind overrides, see ``syngen.values.kinds.KINDS``),
    ``formats`` (column -> strftime format of a text date/time column, instead of the detected one),
    ``rare_threshold`` (category values seen fewer times are never generated as they are),
    ``rare_thresholds`` (column -> its own threshold), ``verbatim`` (keep a reference
    table, such as a list of categories or nations, as it is: refused for personal data) and
    ``as_decoded`` (columns never drawn again given the rest of the row, ``redraws.py``: the
    keys and children counts linked tables match on) and ``given`` (columns every generated
    row is given, a child's parent values: never composed from others, never drawn again).
    """

    def __init__(
        self,
        epochs: int | None = None,
        batch_size: int = 256,
        random_seed: int | None = None,
        columns: dict[str, str] | None = None,
        formats: dict[str, str] | None = None,
        rare_threshold: int = RARE_THRESHOLD,
        rare_thresholds: dict[str, int] | None = None,
        latent_dim: int = 24,
        kl_weight: float = 0.1,
        verbatim: bool = False,
        as_decoded: Collection[str] = (),
        given: Collection[str] = (),
    ):
        self.verbatim = verbatim
        self.as_decoded = set(as_decoded) | set(given)
        self.given = set(given)
        self.epochs = epochs
        self.batch_size = batch_size
        self.random_seed = random_seed
        self.column_kinds = dict(columns or {})
        self.formats = dict(formats or {})
        self.rare_threshold = rare_threshold
        self.rare_thresholds = dict(rare_thresholds or {})
        self.latent_dim = latent_dim
        self.kl_weight = kl_weight
        self.columns: list[str] = []
        self.codecs: list[Codec] = []
        self.decoder: Mlp | None = None
        self.mixture: LatentMixture | None = None
        self.dependencies: list[Dependency] = []
        self.distinct: list[Distinct] = []  # pairs of categories that never agree in a row
        self.relations: list[Relation] = []  # each with the codec of its target's residual
        self.redraws: list[Redraw] = []  # categories drawn again given the rest of the row
        self.row_orders: list[RowOrder] = []  # sequences that number rows in the order of other columns
        self.date_parts: list[DatePart] = []  # columns set from a part of a date in their row
        self.days_of_month: list[DayOfMonth] = []  # day columns never past their month's end
        self.persona = Persona()
        self.secret: str | None = None  # the key of the real-value check; saved apart from the model
        self.notes: list[str] = []  # what training tells the user about the table
        self.fitted: FitSummary | None = None

    # -- learning ---------------------------------------------------------------------------
    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.codecs}

    @property
    def identifying(self) -> dict[str, str]:
        """Columns that mean something personal, and how each is generated."""
        how = {}
        for codec in self.codecs:
            if codec.kind in IDENTIFYING or codec.kind == "email":
                how[codec.name] = f"{codec.kind}: made anew, never a real value"
            elif codec.kind in LOCATION:
                made = "other countries" if codec.kind == "country" else f"a {codec.kind} of the row's country"
                how[codec.name] = (
                    f"{codec.kind}: values seen fewer than {codec.protection.rare_threshold} times replaced by {made}"
                )
        return how

    @property
    def made_anew(self) -> set[str]:
        """Category and place columns whose values are mostly rare, so mostly made anew: a
        report compares their format, not their values (which protection removes on purpose)."""
        return {
            c.name
            for c in self.codecs
            if (share := getattr(c, "rare_share", 0.0)) > 0 and share >= 0.5 * (1.0 - c.null_share)
        }

    @property
    def text_formats(self) -> dict[str, str]:
        """Formats of the date and time columns read as text, as pandas parses them."""
        return {c.name: parse_format(fmt) for c in self.codecs if (fmt := getattr(c, "text_format", None))}

    def fit(self, data: pd.DataFrame, on_epoch: Callable[[int, int, dict], None] | None = None) -> "Synthesizer":
        """Learn ``data``. ``on_epoch(epoch, epochs, logs)`` is called after every epoch."""
        _check_table(data)
        started = time.perf_counter()
        seed = self.random_seed if self.random_seed is not None else _fresh_seed()
        kinds = detect_kinds(data, self.column_kinds)
        unknown = sorted(set(self.formats) - set(map(str, data.columns)))
        if unknown:
            raise SyngenError(f"format given for unknown column(s) {', '.join(map(repr, unknown))}")
        unknown = sorted(set(self.rare_thresholds) - set(map(str, data.columns)))
        if unknown:
            raise SyngenError(f"rare-value threshold given for unknown column(s) {', '.join(map(repr, unknown))}")
        self.columns = [str(c) for c in data.columns]
        data, stray_notes = _blank_strays(data, kinds, self.formats)
        if self.verbatim:
            return self._keep(data, kinds, started)
        self.secret = guard.new_secret()
        # each row's country (formats follow it) and person (a value is rare if few people hold it)
        regions, people = source_regions(data, kinds), source_people(data, kinds)
        self.codecs = [
            self._fit_codec(data[c], kinds[c], regions, people, declared=c in self.column_kinds) for c in data.columns
        ]
        self.notes = stray_notes + [note for note in map(_rare_note, self.codecs) if note]
        named = data.set_axis(self.columns, axis=1)
        str_kinds = {str(c): k for c, k in kinds.items()}
        places = {c.name: "place" for c in self.codecs if isinstance(c, LocationCodec) and c.learned}
        self.dependencies = find_dependencies(named, {**str_kinds, **places}, self.rare_threshold)
        self.notes += [f"rule kept: {d.describe()}" for d in self.dependencies]
        self.distinct = self._fit_distinct(named)
        self.notes += [f"rule kept: '{d.first}' and '{d.second}' never agree" for d in self.distinct]
        self.date_parts = self._fit_date_parts(named)
        self.days_of_month = self._fit_days_of_month(named)
        self.notes += [f"rule kept: {part.describe()}" for part in self.date_parts + self.days_of_month]
        self.persona = Persona.fit(named, str_kinds, self._by_name, self.secret)
        residuals = self._fit_relations(named, seed)
        self.notes += [f"rule kept: {relation.describe()}" for relation in self.relations]
        self.row_orders = self._fit_row_orders(named)
        self.notes += [
            f"rows are numbered by '{o.column}' in the order of {', '.join(map(repr, o.keys))}" for o in self.row_orders
        ]
        learned = self._learned
        self.redraws = self._fit_redraws(named, residuals, seed) if learned else []
        epochs_run = 0
        if learned:
            matrix = np.hstack([c.encode(residuals[c] if c in residuals else data[c.name]) for c in learned]).astype(
                np.float32
            )
            blocks = [b for c in learned for b in c.blocks()]
            from syngen.engine import vae  # the deep-learning backend loads only here

            epochs = self.epochs or default_epochs(len(data), self.batch_size)
            hook = (lambda epoch, logs: on_epoch(epoch, epochs, logs)) if on_epoch else None
            result = vae.train(
                matrix,
                blocks,
                vae.TrainConfig(
                    epochs=epochs,
                    batch_size=self.batch_size,
                    latent_dim=self.latent_dim,
                    kl_weight=self.kl_weight,
                    seed=seed,
                    on_epoch=hook,
                ),
            )
            self.decoder = result.decoder
            # TensorFlow's idle workers keep the cores busy for a while after training;
            # multi-threaded BLAS beside them runs several times slower than one thread.
            with threadpool_limits(limits=1, user_api="blas"):
                self._calibrate(learned, matrix, result.encoder(matrix), seed)
            epochs_run = result.epochs_run
        self.fitted = FitSummary(int(len(data)), epochs_run, seed, round(time.perf_counter() - started, 2))
        return self

    def _fit_relations(self, named: pd.DataFrame, seed: int) -> dict[Codec, pd.Series]:
        """Find the relations between numeric columns (``relations.py``), and fit the codec of
        each target's residual; returns each such codec's residual column."""
        numeric = {c.name: c for c in self.codecs if isinstance(c, NumericCodec) and c.learned and c.zones is None}
        numbers = {name: codec.numbers(named[name]) for name, codec in numeric.items()}
        categories = [c for c in self.codecs if c.learned and c.kind in ("categorical", "boolean")]
        self.relations = find_relations(
            numbers,
            {n: c.kind for n, c in numeric.items()},
            seed,
            factors={c.name: named[c.name] for c in categories},
            min_counts={c.name: int(self.rare_thresholds.get(c.name, self.rare_threshold)) for c in categories},
            # what links or a row's own date set is no target (an hour is its stamp's hour)
            fixed={d.dependent for d in self.dependencies} | self.given | {p.column for p in self.date_parts},
        )
        residuals: dict[Codec, pd.Series] = {}
        for relation in self.relations:
            inputs, levels = [numbers[n] for n in relation.inputs], [named[f.name] for f in relation.factors]
            residual = pd.Series(relation.residual(numbers[relation.target], inputs, levels), name=relation.target)
            relation.codec = NumericCodec(relation.target, "float").fit(residual)
            residuals[relation.codec] = residual
            numbers[relation.target] = relation.compose(residual.to_numpy(), inputs, levels)
            # its residual no more than the target's rounding: composed without it
            relation.rounding_only = relation.exact and rounds_to(
                numbers[relation.target], relation.predict(inputs, levels), numeric[relation.target].within
            )
        return residuals

    @property
    def _dated(self) -> dict[str, NumericCodec]:
        """The learned date and time columns (their parts can be read off them)."""
        return {
            c.name: c
            for c in self.codecs
            if isinstance(c, NumericCodec) and c.learned and c.kind in DATE_KINDS and c.zones is None
        }

    def _fit_date_parts(self, named: pd.DataFrame) -> list[DatePart]:
        """Number columns that are a part of a date in their row (``date_parts.py``); never a
        given column (a parent's) nor one a link fixes."""
        dates = {name: date_stamps(codec.numbers(named[name])) for name, codec in self._dated.items()}
        if not dates:
            return []
        fixed = {d.dependent for d in self.dependencies} | self.given
        candidates = [c.name for c in self.codecs if c.learned and c.name not in fixed]
        return find_date_parts(named[candidates], dates)

    def _fit_days_of_month(self, named: pd.DataFrame) -> list[DayOfMonth]:
        """Day and month columns that form a real date in every row (``date_parts.py``), and
        the year (learned, or one year in every row); not parts of a date beside them, which
        that date sets, nor a column a link or another step sets."""
        fixed = {d.dependent for d in self.dependencies} | self.given | {p.column for p in self.date_parts}
        columns = [c.name for c in self.codecs if (c.learned or c.kind == "constant") and c.name not in fixed]
        return find_days_of_month(named[columns])

    def _fit_distinct(self, named: pd.DataFrame) -> list[Distinct]:
        """Pairs of learned categories that never agree in a row (``distinct.py``); no column
        a link or another step sets."""
        fixed = {d.dependent for d in self.dependencies} | self.given
        columns = [
            c.name
            for c in self.codecs
            if isinstance(c, CategoricalCodec) and c.learned and c.kind != "boolean" and c.name not in fixed
        ]
        return find_distinct(named, columns)

    def _keep_apart(self, frame: pd.DataFrame, rng: np.random.Generator, given: set[str]) -> None:
        """Rows whose columns of a distinct pair agree swap one of them with another row's;
        what a moved column fixes by a link follows it."""
        apart = apart_from(self.distinct)
        for pair in self.distinct:
            moved = pair.apply(frame, rng, frozenset(given), apart)
            for dependency in self.dependencies if moved else ():
                if moved in dependency.determinants and dependency.dependent not in given:
                    dependency.apply(frame, rng)

    def _fit_row_orders(self, named: pd.DataFrame) -> list[RowOrder]:
        """The learned columns each sequence numbers the rows by (``order.py``)."""
        sequences = [c for c in self.codecs if c.kind == "sequence"]
        if not sequences:
            return []
        values = {c.name: self._order_values(c, named[c.name]) for c in self.codecs if c.learned}
        orders = (
            RowOrder.fit(s.name, named[s.name].to_numpy(dtype=np.float64), values, self.rare_threshold)
            for s in sequences
        )
        return [o for o in orders if o is not None]

    @staticmethod
    def _order_values(codec: Codec, column: pd.Series) -> np.ndarray:
        """A column as rows sort by it: numbers and dates as numbers, anything else as text."""
        if isinstance(codec, NumericCodec):
            return codec.numbers(column)
        if pd.api.types.is_numeric_dtype(column):
            return column.to_numpy(dtype=np.float64, na_value=np.nan)
        return column.to_numpy(dtype=object)

    def _number_in_order(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A batch's rows sorted by the first sequence's keys, each sequence numbering them
        in its keys' order (its values within the batch's range, spread by the first key's
        levels: ``RowOrder.numbered``)."""
        by_name = self._by_name
        first = None
        for order in self.row_orders:
            rows = order.permutation({k: self._order_values(by_name[k], frame[k]) for k in order.keys})
            first_key = self._order_values(by_name[order.keys[0]], frame[order.keys[0]])[rows]
            numbers = order.numbered(np.sort(frame[order.column].to_numpy()), first_key)
            moved = numbers.copy()
            moved[rows] = numbers
            frame[order.column] = pd.Series(moved, index=frame.index, dtype=frame[order.column].dtype)
            first = rows if first is None else first
        return frame.take(first).set_axis(frame.index)

    def _fit_redraws(self, named: pd.DataFrame, residuals: dict[Codec, pd.Series], seed: int) -> list[Redraw]:
        """A tree for each category the decoder draws, and each number of few values (a
        household's standard expenses), over the other columns it learns; and one for each
        number of many values (a measure), over the columns but the measures after it
        (``redraws.py``).
        A column that fixes others by a link keeps its decoded value: the columns it fixes
        only where it has some values were decoded beside it (redrawn, a customer without
        internet got DSL beside six "No internet service")."""
        columns, levels, measures = {}, {}, {}
        fixing = {n for d in self.dependencies for n in d.determinants} | self.as_decoded
        loose = {_residual(r): r.target for r in self.relations if not r.exact and r.target not in fixing}
        for name, codec in self._redraw_inputs.items():
            if codec in residuals:
                columns[name] = residuals[codec].to_numpy(dtype=np.float64)
            elif isinstance(codec, NumericCodec):
                columns[name] = codec.numbers(named[name])
                if name in fixing:
                    continue
                if 1 < len(codec.support) <= MAX_LEVELS and codec.in_tail(columns[name]).mean() <= MAX_TAIL_SHARE:
                    levels[name] = np.append(codec.support, [np.nan] * (codec.null_share > 0))  # the values it snaps to
                elif codec.kind in ("float", "integer"):  # a measure
                    measures[name] = codec.transform
            else:
                assert isinstance(codec, CategoricalCodec)  # redrawn, and no number: a category
                columns[name] = codec.slots(named[name]).astype(np.float64)
                if codec.width > 1 and name not in fixing and codec.redrawn:
                    levels[name] = np.arange(codec.width, dtype=np.float64)
        # a loose relation's residual is a measure too, after the others: a city's houses dearer
        # than their number says
        measures.update({target: codec.transform for codec, target in loose.items()})
        composed = [codec.name for codec in self._redraw_inputs.values() if codec in residuals]
        return fit_redraws(columns, levels, self.rare_threshold, seed, measures, composed)

    @property
    def _redraw_inputs(self) -> dict[str, LearnedCodec]:
        """The learned columns the redraws' trees read: categories, places (read, never
        redrawn: a city's sales follow it) and numbers (a relation's residual in its target's
        place), none a link fixes (they follow the others anyway)."""
        fixed = {d.dependent for d in self.dependencies}
        return {
            c.name: c
            for c in self._learned
            if c.name not in fixed
            and (
                getattr(c, "redrawn", False)
                or isinstance(c, LocationCodec)
                or isinstance(c, NumericCodec)
                and c.zones is None
            )
        }

    @property
    def _learned(self) -> list[LearnedCodec]:
        """What the autoencoder learns: each learned column, a relation's target as its residual."""
        targets = {r.target for r in self.relations}
        return [c for c in self.codecs if isinstance(c, LearnedCodec) and c.learned and c.name not in targets] + [
            _residual(r) for r in self.relations
        ]

    def _keep(self, data: pd.DataFrame, kinds: dict, started: float) -> "Synthesizer":
        """A reference table as it is; never one holding personal data."""
        personal = {c: k for c, k in kinds.items() if k in IDENTIFYING or k == "email"}
        if personal:
            column, kind = next(iter(personal.items()))
            raise SyngenError(
                f"copy keeps the table's real values, but column '{column}' looks like "
                f"personal data ({kind}); train the table instead, or give the column "
                "another kind if it is not personal"
            )
        # bytes (a category's picture, an employee's photo) are never kept: made anew at their lengths
        self.codecs = [
            codec_for(str(c), "binary" if kinds.get(c) == "binary" else "verbatim").fit(data[c]) for c in data.columns
        ]
        self.notes = [
            f"column '{c}': binary values are made anew (random bytes at the source's lengths), not copied"
            for c in data.columns
            if kinds.get(c) == "binary"
        ]
        self.fitted = FitSummary(int(len(data)), 0, 0, round(time.perf_counter() - started, 2))
        return self

    @property
    def is_verbatim(self) -> bool:
        """Whether the model keeps a reference table as it is (its rows, in order; its bytes made anew)."""
        kinds = {c.kind for c in self.codecs}
        return "verbatim" in kinds and kinds <= {"verbatim", "binary"}

    def _calibrate(self, learned: list[LearnedCodec], matrix: np.ndarray, codes: np.ndarray, seed: int) -> None:
        """Fit the latent sampler, then let each codec measure the model's output against
        the data: reconstruction noise first, then the marginals of generated rows."""
        assert self.decoder is not None  # trained just before
        reconstructed = self.decoder(codes)
        for codec, (outputs, encoded) in zip(learned, _split(learned, reconstructed, matrix)):
            codec.calibrate(outputs, encoded)
        self.mixture = LatentMixture.fit(codes, seed)
        rng = np.random.default_rng([seed, 1])
        generated = self.decoder(self.mixture.sample(int(np.clip(5 * len(matrix), *CALIBRATION_ROWS)), rng))
        for codec, (outputs, _) in zip(learned, _split(learned, generated, generated)):
            codec.calibrate_marginal(outputs, rng)
        if self.relations or self.redraws:
            self._decode(learned, generated, {}, rng, calibrating=True)

    def _fit_codec(
        self, column: pd.Series, kind: str, regions: pd.Series | None, people: pd.Series | None, declared: bool
    ) -> Codec:
        name = str(column.name)
        if (
            declared
            and kind in TEXT_KINDS
            and pd.api.types.is_numeric_dtype(column)
            and not pd.api.types.is_bool_dtype(column)
        ):
            raise SyngenError(
                f"column '{name}' holds numbers, so it cannot be of the kind '{kind}' declared "
                "for it; declare another kind, or none to let it be detected"
            )
        protection = Protection(self.secret, int(self.rare_thresholds.get(name, self.rare_threshold)), regions, people)
        try:
            return codec_for(name, kind).fit(column, self.formats.get(name), protection)
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as error:
            if not declared:
                raise
            detail = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            raise SyngenError(
                f"column '{name}': its values do not fit the kind '{kind}' declared for it "
                f"({detail}); declare another kind, or none to let it be detected"
            ) from None

    @property
    def _by_name(self) -> dict[str, Codec]:
        return {c.name: c for c in self.codecs}

    # -- generation -------------------------------------------------------------------------
    def _require_fitted(self) -> FitSummary:
        if self.fitted is None:
            raise SyngenError("the model is not trained yet: call fit() or load() first")
        return self.fitted

    def _decoded(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """The decoder's outputs for ``n`` latent codes drawn from the mixture."""
        if self.decoder is None or self.mixture is None:  # a damaged model: learned columns, no network
            raise TypeError("the model has learned columns but no network")
        return self.decoder(self.mixture.sample(n, rng))

    def generate_batch(
        self, start: int, n: int, total: int, seed: int, conditions: conditional.Conditions | None = None
    ) -> pd.DataFrame:
        """Rows ``start .. start+n`` of a run of ``total`` rows with seed ``seed``; with
        ``conditions`` (this batch's, see ``read_conditions``), rows keeping given values."""
        self._require_fitted()
        rng = np.random.default_rng([seed, start])
        outputs: dict[str, pd.Series] = {}
        learned = self._learned
        settled: list[Dependency] = []
        if learned:
            if conditions is None:
                raw = self._decoded(n, rng)
            else:
                raw = self._conditioned(learned, conditions, rng)
            settled = self._decode(learned, raw, outputs, rng, given=conditions)
            self._force(outputs, conditions)
        # one person and place per row, shared by its identifying columns
        rows = self.persona.rows(outputs, self._by_name, n, seed, start, self.secret)
        for codec in self.codecs:
            if not codec.learned:
                outputs[codec.name] = codec.generate(n, rng, start, total, seed, rows)
        index = pd.RangeIndex(start, start + n)
        frame = pd.DataFrame({name: outputs[name].set_axis(index) for name in self.columns}, index=index)
        given = set(conditions.values) if conditions is not None else set()
        for part in self.date_parts:
            if part.column not in given:
                part.apply(frame, date_stamps(expect(self._by_name[part.date], NumericCodec).numbers(frame[part.date])))
        for days in self.days_of_month:
            days.apply(frame, given)
        for dependency in self.dependencies:
            if conditions is not None or all(dependency is not d for d in settled):  # settled: nothing moved since
                dependency.apply(frame, rng)
        if conditions is not None:  # given values win over exact links; their determinants follow them
            self._force(frame, conditions)
            for dependency in self.dependencies:
                if dependency.dependent in conditions.values and dependency.determinants[0] not in conditions.values:
                    dependency.follow(
                        frame, conditions.given(dependency.dependent), rng, self._shares(dependency.determinants[0])
                    )
            for dependency in self.dependencies:  # what the moved determinants fix
                if dependency.dependent not in conditions.values:
                    dependency.apply(frame, rng)
        self._keep_apart(frame, rng, given)
        if conditions is None and self.row_orders and n:
            frame = self._number_in_order(frame)
        return frame

    def read_conditions(
        self, conditions: dict | pd.DataFrame, size: int | None = None, lenient: bool = False
    ) -> conditional.Conditions:
        """Conditions checked against this model: a dict of column -> value for ``size``
        rows, or a DataFrame of seed rows (one generated row each; blanks left free);
        ``lenient`` for values generated elsewhere (``conditions.read_conditions``)."""
        self._require_fitted()
        return conditional.read_conditions(self, conditions, size, lenient)

    def _conditioned(
        self, learned: list[LearnedCodec], conditions: conditional.Conditions, rng: np.random.Generator
    ) -> np.ndarray:
        """Decoder outputs of latent codes drawn by how likely each makes the given values
        (in rounds while a row's candidates are too few to carry the draw, ``conditions.py``)."""
        k = conditional.CANDIDATES
        chosen = []
        for first in range(0, conditions.rows, conditional.CHUNK_ROWS):
            part = conditions.batch(first, conditional.CHUNK_ROWS)
            draw: conditional.Draw | None = None
            rows = np.arange(part.rows)
            for _ in range(conditional.MAX_ROUNDS):
                raw = self._decoded(len(rows) * k, rng)
                if draw is None:
                    draw = conditional.Draw(part.rows, raw.shape[1], raw.dtype)
                scores = self._condition_scores(learned, raw, part.take(rows), rng).reshape(len(rows), k)
                draw.add(rows, scores, raw.reshape(len(rows), k, -1), rng)
                rows = draw.thin()
                if not len(rows):
                    break
            if draw is not None:
                chosen.append(draw.chosen)
        return np.vstack(chosen) if chosen else self._decoded(0, rng)

    def _condition_scores(
        self, learned: list[LearnedCodec], raw: np.ndarray, part: conditional.Conditions, rng: np.random.Generator
    ) -> np.ndarray:
        """The log-likelihood of each row's given values at each of its ``CANDIDATES`` codes
        (``raw``: the decoder's outputs, a row's candidates one after another)."""
        k, residuals = conditional.CANDIDATES, {r.codec for r in self.relations}
        score = np.zeros(part.rows * k)
        for codec, (outputs, _) in zip(learned, _split(learned, raw, raw)):
            if codec.name in part.values and codec not in residuals:
                score += conditional.log_likelihood(
                    codec, outputs, np.repeat(part.values[codec.name], k), np.repeat(part.given(codec.name), k)
                )
        targets = [r.target for r in self.relations if r.target in part.values]
        if targets:
            composed = self._expected_targets(learned, raw, rng)
            for name in targets:
                score += conditional.target_score(
                    expect(self._by_name[name], NumericCodec),
                    composed[name],
                    np.repeat(part.values[name], k),
                    np.repeat(part.given(name), k),
                )
        return score

    def _expected_targets(
        self, learned: list[LearnedCodec], raw: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray]:
        """Each relation's target as its inputs' and residual's predictions compose it (its
        categorical inputs drawn)."""
        residuals = {r.codec: r for r in self.relations}
        factors = {f.name for r in self.relations for f in r.factors}
        numbers: dict[str, np.ndarray] = {}
        predicted: dict[str, np.ndarray] = {}
        levels: dict[str, pd.Series] = {}
        for codec, (outputs, _) in zip(learned, _split(learned, raw, raw)):
            if isinstance(codec, NumericCodec) and codec.zones is None:
                (predicted if codec in residuals else numbers)[
                    residuals[codec].target if codec in residuals else codec.name
                ] = codec.expected(outputs)
            elif codec.name in factors:
                levels[codec.name] = codec.decode(outputs, rng)
        for relation in self.relations:
            x = relation.compose(
                predicted[relation.target],
                [numbers[n] for n in relation.inputs],
                [levels[f.name] for f in relation.factors],
            )
            numbers[relation.target] = self._onto_marginal(relation, x)
        return numbers

    def _force(self, columns, conditions: conditional.Conditions | None) -> None:
        """Set the given values in ``columns`` (a dict of Series or a frame), where present."""
        if conditions is None:
            return
        by_name = self._by_name
        for name, values in conditions.values.items():
            if name in columns:
                columns[name] = conditional.forced(by_name[name], columns[name], values, conditions.given(name))

    def _parts_of_inputs(
        self, numbers: dict[str, np.ndarray], outputs: dict[str, pd.Series], given: conditional.Conditions | None
    ) -> None:
        """Inputs of relations that are a part of a date in their row, set from the date before
        anything is composed from them: set after, as every date part is, they would break the
        sum (oscars: the award's year is the birth year, plus the age, plus one)."""
        targets = {r.target for r in self.relations}
        for part in self.date_parts:
            if (
                part.column not in numbers
                or part.date in targets
                or (given is not None and part.column in given.values)
            ):
                continue
            date = numbers.get(part.date)
            if date is None:
                date = expect(self._by_name[part.date], NumericCodec).numbers(outputs[part.date])
            values = part.values(date_stamps(date))
            numbers[part.column] = np.where(np.isnan(values), numbers[part.column], values)

    def _decode(
        self,
        learned: list[LearnedCodec],
        raw: np.ndarray,
        outputs: dict[str, pd.Series],
        rng: np.random.Generator,
        calibrating: bool = False,
        given: conditional.Conditions | None = None,
    ) -> list[Dependency]:
        """Each learned column's values from the decoder's output; then each relation's
        target, composed from its inputs and its decoded residual. Unless the relation is
        exact (cigarettes are 20 times packs), that is mapped onto the source's marginal
        through the quantiles of composed values, which ``calibrating`` measures on a large
        sample before using them (kept orders are made good again after it). Returns the
        links applied on the way (``_settle_factors``)."""
        inputs = {n for r in self.relations for n in r.inputs}
        residuals = {r.codec: r for r in self.relations}
        read = self._redraw_inputs if self.redraws else {}
        numbers: dict[str, np.ndarray] = {}
        decoded: dict[str | int, tuple[np.ndarray, np.ndarray | None]] = {}  # a residual's by its codec's id
        drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for codec, (parts, _) in zip(learned, _split(learned, raw, raw)):
            if codec in residuals or codec.name in inputs or (codec.name in read and isinstance(codec, NumericCodec)):
                assert isinstance(codec, NumericCodec)  # residuals and the relations' inputs are numbers
                decoded[codec.name if codec not in residuals else id(codec)] = codec.decode_numbers(parts, rng)
            elif codec.name in read:
                assert isinstance(codec, CategoricalCodec)  # redrawn, and no number: a category
                drawn[codec.name] = codec.draw_slots(parts, rng)
            else:
                outputs[codec.name] = codec.decode(parts, rng)
        if self.redraws:
            self._redraw(read, decoded, drawn, rng, given, calibrating)
        by_name = self._by_name
        for name, (slots, logits) in drawn.items():
            outputs[name] = expect(by_name[name], CategoricalCodec).from_slots(slots, logits, rng)
        for name in read.keys() - inputs - drawn.keys() - {r.target for r in self.relations}:
            outputs[name] = expect(by_name[name], NumericCodec).output(*decoded[name])
        settled = self._settle_factors(outputs, rng, given)
        for name in inputs - {r.target for r in self.relations}:
            x, nulls = _given_numbers(*decoded[name], given, name)
            numbers[name] = _blanked(x, nulls)
            outputs[name] = expect(by_name[name], NumericCodec).output(x, nulls)
        self._parts_of_inputs(numbers, outputs, given)
        for relation in self.relations:  # inputs first
            residual, nulls = decoded[id(relation.codec)]
            target = expect(by_name[relation.target], NumericCodec)
            values, levels = [numbers[n] for n in relation.inputs], [outputs[f.name] for f in relation.factors]
            # blank where the inputs leave it so (relations.py), and maybe elsewhere too
            blank = relation.blanks(values, len(residual))
            nulls = blank if nulls is None or not relation.blank_alone else nulls | blank
            x = relation.compose(residual, values, levels)
            if calibrating and relation.mapped:
                kept = x[np.isfinite(x) & ~nulls]
                relation.generated = (
                    encoders.calibration_quantiles(kept, target.count) if len(kept) > 1 else np.zeros(0)
                )
            composed = self._onto_marginal(relation, x, rng)
            x = target.within(composed)
            if relation.form == "order":  # the smallest gap the source has, at least; the range wins
                x = target.within(target.at_least(x, relation.predict(values) + relation.gap))
            else:  # never below (nor above) what it never is in the source
                if relation.floors:
                    x = target.within(target.at_least(x, np.fmax.reduce([numbers[n] for n in relation.floors])))
                if relation.ceilings:
                    x = target.within(target.at_most(x, np.fmin.reduce([numbers[n] for n in relation.ceilings])))
            x, nulls = _given_numbers(x, nulls, given, relation.target)
            numbers[relation.target] = _blanked(x, nulls)
            if given is not None and relation.target in given.values:
                self._agree(relation, given.given(relation.target), given, decoded, numbers, outputs)
            elif (relation.exact or relation.form == "order") and not calibrating:
                # a total past the source's range, or an order the range keeps it from: an input
                # moves to it, one no other relation reads (loans' balance, not the principal paid
                # that paid_total adds up; the wins and losses under the most games there are)
                shared = {n for other in self.relations if other is not relation for n in other.inputs}
                shared |= {part.column for part in self.date_parts}  # its date sets it again
                # nor one a link or another exact relation composes (pounds are ounces over 16)
                shared |= {d.dependent for d in self.dependencies} | {r.target for r in self.relations if r.exact}
                moved = target.outside(composed) if relation.exact else x < relation.predict(values) + relation.gap
                self._agree(relation, moved, given, decoded, numbers, outputs, keep=shared)
            outputs[relation.target] = target.output(x, nulls)
        return settled

    def _redraw(
        self,
        read: dict[str, LearnedCodec],
        decoded: dict[str | int, tuple[np.ndarray, np.ndarray | None]],
        drawn: dict[str, tuple[np.ndarray, np.ndarray]],
        rng: np.random.Generator,
        given: conditional.Conditions | None,
        calibrating: bool = False,
    ) -> None:
        """The decoded categories in ``drawn`` and numbers in ``decoded`` drawn again given
        the rest of each row (``redraws.py``); given columns keep theirs (they are set after).
        ``calibrating`` keeps only the redraws whose trees find the decoder's values less
        likely than the source's (``redraws.needed``)."""
        residuals = {r.codec for r in self.relations}
        columns = {
            name: drawn[name][0].astype(np.float64)
            if name in drawn
            else _blanked(*decoded[id(codec) if codec in residuals else name])
            for name, codec in read.items()
        }
        if calibrating:
            self.redraws = needed(self.redraws, columns)
        tails = {r.column: columns[r.column].copy() for r in self.redraws if r.column not in drawn}
        sweep(self.redraws, columns, rng, kept=set(given.values) if given is not None else set())
        for redraw in self.redraws:
            name, values = redraw.column, columns[redraw.column]
            if name in drawn:
                drawn[name] = (values.astype(np.int64), drawn[name][1])
            else:
                number = expect(read[name], NumericCodec)  # redrawn, and not drawn as a category
                decoded_values = tails[name]  # a value in a tail, where no level is, stays as decoded
                values = np.where(number.in_tail(decoded_values), decoded_values, values)
                blank = np.isnan(values)  # the source's values as read (9.640000343), in its grain (9.64)
                decoded[id(number) if number in residuals else name] = (
                    number.rounded(np.where(blank, 0.0, values), snap=isinstance(redraw, Measure)),
                    blank if number.null_share > 0 else None,
                )

    def _settle_factors(
        self, outputs: dict[str, pd.Series], rng: np.random.Generator, given: conditional.Conditions | None
    ) -> list[Dependency]:
        """The relations' categorical inputs as the rows will hold them, before the targets
        are composed from them: given values set, and the links that fix them applied (a
        service a link makes "No internet service" is priced as that)."""
        factors = {f.name for r in self.relations for f in r.factors}
        if not factors:
            return []
        self._force(outputs, given)
        links = [d for d in self.dependencies if d.dependent in factors and all(n in outputs for n in d.determinants)]
        # a given value a factor fixes (a loan's grade, by its sub-grade) brings a factor that gives it
        followed = [
            d
            for d in self.dependencies
            if given is not None
            and d.dependent in given.values
            and d.determinants[0] in factors
            and d.determinants[0] not in given.values
            and d.dependent in outputs
        ]
        if links or followed:
            frame = pd.DataFrame({n: outputs[n] for d in links + followed for n in d.determinants + [d.dependent]})
            for dependency in followed:
                assert given is not None  # only given values are followed
                dependency.follow(
                    frame, given.given(dependency.dependent), rng, self._shares(dependency.determinants[0])
                )
            for dependency in links:
                dependency.apply(frame, rng)
            outputs.update({n: frame[n] for n in frame.columns})
        return links

    def _shares(self, name: str) -> dict | None:
        """A categorical column's values and their shares in the source (None: not one)."""
        codec = self._by_name[name]
        return codec.value_shares() if isinstance(codec, CategoricalCodec) else None

    def _onto_marginal(self, relation: Relation, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Composed target values mapped onto the source's distribution (unless exact: no
        quantiles); ``rng`` spreads ties (see QuantileNormal.uniform)."""
        if len(relation.generated) < 2:
            return x
        return expect(self._by_name[relation.target], NumericCodec).transform.inverse_uniform(
            QuantileNormal(relation.generated).uniform(x, rng)
        )

    def _agree(
        self,
        relation: Relation,
        rows: np.ndarray,
        given: conditional.Conditions | None,
        decoded: dict[str | int, tuple[np.ndarray, np.ndarray | None]],
        numbers: dict[str, np.ndarray],
        outputs: dict[str, pd.Series],
        keep: Collection[str] = (),
    ) -> None:
        """On ``rows``, where the relation's target is given (or was moved: kept in its
        range), move its inputs (those not given too, nor in ``keep``) to agree with it, in
        their range and grain; then their own inputs, down the relations."""
        if not rows.any():
            return
        residual = decoded[id(relation.codec)][0]
        solved = relation.solve(
            numbers[relation.target],
            residual,
            [numbers[n] for n in relation.inputs],
            [outputs[f.name] for f in relation.factors],
            keep,
        )
        by_name, composed = self._by_name, {r.target: r for r in self.relations}
        for name, x in zip(relation.inputs, solved):
            if given is not None and name in given.values:
                continue
            codec, before = expect(by_name[name], NumericCodec), numbers[name]
            value = codec.within(x)
            if relation.form == "order":  # rounded under the target, never past it
                value = codec.at_most(value, x)
            moved = np.where(rows & np.isfinite(before), value, before)
            numbers[name] = moved
            outputs[name] = codec.output(np.nan_to_num(moved), np.isnan(moved) if np.isnan(moved).any() else None)
            if name in composed:
                self._agree(composed[name], rows & (moved != before), given, decoded, numbers, outputs, keep)

    def iter_batches(
        self,
        size: int,
        random_seed: int | None = None,
        batch_size: int | None = None,
        conditions: conditional.Conditions | None = None,
    ) -> Iterator[pd.DataFrame]:
        """``size`` rows as DataFrames of at most ``batch_size`` rows each."""
        seed = resolve_seed(random_seed)
        for start, n in batch_plan(size, batch_size):
            yield self.generate_batch(start, n, size, seed, conditions.batch(start, n) if conditions else None)

    def sample(
        self,
        size: int | None = None,
        random_seed: int | None = None,
        batch_size: int | None = None,
        conditions: dict | pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """``size`` synthetic rows with the source's columns, in order, and dtypes.

        ``conditions``: a dict of column -> value that every row keeps, or a DataFrame of
        seed rows, one generated row each (then ``size`` may be left out); the other columns
        follow the source's rows that hold such values. A value the model never saw is an
        error naming it."""
        given = self.read_conditions(conditions, size) if conditions is not None else None
        if given is not None:
            size = given.rows
        elif size is None:
            raise SyngenError("give the number of rows to generate")
        batches = list(self.iter_batches(size, random_seed, batch_size, given))
        if not batches:
            return self.generate_batch(0, 0, 0, resolve_seed(random_seed))
        return pd.concat(batches, ignore_index=True)

    # -- persistence ------------------------------------------------------------------------
    def save(
        self,
        path: str | os.PathLike,
        secret_path: str | os.PathLike | None = None,
        beside: dict[str, str] | None = None,
    ) -> Path:
        """Write the model as plain data (JSON + .npz) to the folder ``path``, atomically, and
        its real-value key to ``secret_path`` (default: ``<path>.key`` beside the folder), so
        that the folder can be shared without it (see ``syngen.privacy.guard``). ``beside``:
        file name -> text of the caller's own files, swapped in with the model (a run's
        manifest)."""
        fitted = self._require_fitted()
        from syngen import __version__

        target = Path(path)
        arrays: dict[str, np.ndarray] = {}
        columns = []
        for i, codec in enumerate(self.codecs):
            meta, codec_arrays = codec.state()
            columns.append(meta)
            arrays.update({f"column{i}.{k}": v for k, v in codec_arrays.items()})
        network = {}
        if self.decoder is not None:
            activations, decoder_arrays = self.decoder.state("decoder")
            arrays.update(decoder_arrays)
            assert self.mixture is not None  # fitted with the decoder
            arrays.update(self.mixture.state())
            network = {"decoder_activations": activations, "latent_dim": self.latent_dim, "kl_weight": self.kl_weight}
        persona, persona_arrays = self.persona.state()
        arrays.update(persona_arrays)
        relations = []
        for i, relation in enumerate(self.relations):
            meta, codec_arrays = _residual(relation).state()
            relations.append({**relation.state(), "residual": meta})
            arrays.update({f"relation{i}.{k}": v for k, v in codec_arrays.items()})
            arrays[f"relation{i}-generated"] = relation.generated
        redraws = []
        for i, redraw in enumerate(self.redraws):
            meta, redraw_arrays = redraw.state()
            redraws.append(meta)
            arrays.update({f"redraw{i}.{k}": v for k, v in redraw_arrays.items()})
        document = {
            "format_version": FORMAT_VERSION,
            "syngen_version": __version__,
            "columns": columns,
            "network": network,
            "persona": persona,
            "dependencies": [d.state() for d in self.dependencies],
            "distinct": [d.state() for d in self.distinct],
            "relations": relations,
            "redraws": redraws,
            "row_orders": [o.state() for o in self.row_orders],
            "date_parts": [p.state() for p in self.date_parts],
            "days_of_month": [d.state() for d in self.days_of_month],
            "fitted": asdict(fitted),
        }
        key, staging, staged_key = _secret_path(target, secret_path), None, None
        try:  # everything written before the earlier model is replaced: a full disk leaves it as it was
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = staging_folder(target)
            (staging / MODEL_FILE).write_text(json.dumps(document, indent=1, default=_json_default))
            # the keys name columns, relations and layers, never savez's own allow_pickle
            np.savez(staging / ARRAYS_FILE, **arrays)  # type: ignore[arg-type]
            for name, text in (beside or {}).items():
                (staging / name).write_text(text)
            os.chmod(staging, default_mode(0o777))  # staged private, published as any new folder is
            if self.secret:
                staged_key = guard.stage_secret(key, self.secret)
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
            if staged_key is not None:
                staged_key.replace(key)
        except OSError as error:
            raise os_error(error, f"cannot save the model to '{target}'") from None
        finally:  # nothing of a failed save stays (both are gone once renamed)
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if staged_key is not None:
                staged_key.unlink(missing_ok=True)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike, secret_path: str | os.PathLike | None = None) -> "Synthesizer":
        """The model in the folder ``path``; without its key file (``secret_path``, default
        ``<path>.key``) it generates as well, without checking for real values."""
        folder = Path(path)
        model_file = folder / MODEL_FILE
        if not model_file.is_file():
            raise SyngenError(f"no trained model in '{folder}' (missing {MODEL_FILE})")
        try:
            document = json.loads(model_file.read_text())
            version = document.get("format_version")
        except (json.JSONDecodeError, AttributeError) as error:
            raise SyngenError(f"the model file '{model_file}' is damaged ({error}); train again") from None
        if not isinstance(version, int) or not OLDEST_FORMAT <= version <= FORMAT_VERSION:
            raise SyngenError(
                f"the model in '{folder}' has format {version} (made by syngen "
                f"{document.get('syngen_version')}); this syngen reads formats {OLDEST_FORMAT} to "
                f"{FORMAT_VERSION}: train again"
            )
        try:
            model = cls._from_files(folder, document, secret_path)
            model.generate_batch(0, 1, 1, 0)  # arrays of the wrong shape show only when used
            return model
        except (OSError, EOFError, KeyError, IndexError, TypeError, ValueError, zipfile.BadZipFile) as error:
            detail = (
                f"{type(error).__name__}: {str(error).splitlines()[0][:120]}" if str(error) else type(error).__name__
            )
            raise SyngenError(f"the model in '{folder}' is damaged or incomplete ({detail}); train again") from None

    @classmethod
    def _from_files(cls, folder: Path, document: dict, secret_path) -> "Synthesizer":
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as stored:
            arrays = dict(stored)
        model = cls()
        model.fitted = FitSummary(**document["fitted"])
        model.columns = [c["name"] for c in document["columns"]]
        model.codecs = []
        for i, meta in enumerate(document["columns"]):
            prefix = f"column{i}."
            model.codecs.append(
                Codec.from_state(meta, {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)})
            )
        model.dependencies = [Dependency.from_state(d) for d in document["dependencies"]]
        model.distinct = [Distinct.from_state(d) for d in document.get("distinct", [])]
        for i, state in enumerate(document["relations"]):
            relation = Relation.from_state(state)
            prefix = f"relation{i}."
            relation.codec = expect(
                Codec.from_state(
                    state["residual"], {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
                ),
                NumericCodec,
            )
            relation.generated = arrays[f"relation{i}-generated"]
            model.relations.append(relation)
        model.redraws = [
            Redraw.from_state(meta, {k: arrays[f"redraw{i}.{k}"] for k in Redraw.ARRAYS})
            for i, meta in enumerate(document["redraws"])
        ]
        model.row_orders = [RowOrder.from_state(o) for o in document.get("row_orders", [])]
        model.date_parts = [DatePart(**p) for p in document.get("date_parts", [])]
        model.days_of_month = [DayOfMonth(**d) for d in document.get("days_of_month", [])]
        model.persona = Persona.from_state(document["persona"], arrays)
        model.secret = guard.read_secret(_secret_path(folder, secret_path))
        network = document["network"]
        if network:
            model.latent_dim = network["latent_dim"]
            model.kl_weight = network["kl_weight"]
            model.decoder = Mlp.from_state("decoder", network["decoder_activations"], arrays)
            model.mixture = LatentMixture.from_state(arrays)
        return model


def _given_numbers(
    x: np.ndarray, nulls: np.ndarray | None, given: conditional.Conditions | None, name: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """A column's numbers with the given ones set, so that relations compose from them."""
    if given is None or name not in given.values:
        return x, nulls
    mask = given.given(name)
    x = np.where(mask, given.values[name], x)
    return x, (nulls & ~mask if nulls is not None else None)


def _blanked(x: np.ndarray, nulls: np.ndarray | None) -> np.ndarray:
    return np.where(nulls, np.nan, x) if nulls is not None else x


def _blank_strays(data: pd.DataFrame, kinds: dict, formats: dict[str, str]) -> tuple[pd.DataFrame, list[str]]:
    """Text dates with a few values that are none (typos, ``dates.strays``) with those values
    blank, so they are learned as blanks and never written; a note says how many."""
    notes, blanked = [], {}
    for column, kind in kinds.items():
        values = data[column]
        if (
            kind not in DATE_KINDS
            or str(column) in formats
            or not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values))
        ):
            continue
        filled = np.flatnonzero(values.notna().to_numpy())
        found = strays(values.iloc[filled])
        if found is not None:
            stray = found[1].to_numpy()
            blank = np.zeros(len(values), dtype=bool)
            blank[filled[stray]] = True
            blanked[column] = values.mask(blank)
            notes.append(
                f"column '{column}': {int(stray.sum())} value(s) ({stray.mean():.1%}) are no {kind} in "
                f"the format '{found[0][1]}' of the rest; they are learned as blanks"
            )
    if blanked:
        data = data.copy()
        for column, values in blanked.items():
            data[column] = values
    return data, notes


def _rare_note(codec: Codec) -> str | None:
    """What rare-value protection did to a category column, when it changed much."""
    rare, present = getattr(codec, "rare_share", 0.0), 1.0 - codec.null_share
    if not rare or codec.kind in LOCATION:
        return None
    assert isinstance(codec, CategoricalCodec)  # only categories keep a rare share
    k = codec.protection.rare_threshold
    if not (codec.categories or codec.tail):
        return (
            f"column '{codec.name}': every value is seen fewer than {k} times, so values are made up in "
            f"their shape; give the column a kind, or a lower rare_threshold, to keep its values"
        )
    if rare >= 0.5 * present:
        return (
            f"column '{codec.name}': {rare / present:.0%} of its values are seen fewer than {k} times; "
            "those rows get values made up in their shape"
        )
    return None


def _secret_path(folder: Path, secret_path) -> Path:
    return Path(secret_path) if secret_path is not None else folder.with_name(folder.name + ".key")


def resolve_seed(random_seed: int | None) -> int:
    """The run's seed: the user's, or a fresh one (every batch of a run shares it)."""
    if random_seed is not None:
        return int(random_seed)
    return _fresh_seed()


def _fresh_seed() -> int:
    entropy = np.random.SeedSequence().entropy
    assert isinstance(entropy, int)  # drawn afresh (none was given): one whole number
    return int(entropy % 2**31)


def _residual(relation: Relation) -> NumericCodec:
    """The codec of a relation's residual, which the model fits (or loads) beside it."""
    assert relation.codec is not None
    return relation.codec


def batch_plan(size: int, batch_size: int | None) -> list[tuple[int, int]]:
    """(first row, rows) of each batch."""
    step = max(1, int(batch_size or DEFAULT_BATCH_ROWS))
    return [(start, min(step, size - start)) for start in range(0, size, step)]


def _split(codecs, outputs: np.ndarray, encoded: np.ndarray):
    """Per codec: its output blocks, and its slice of the encoded matrix."""
    position = 0
    for codec in codecs:
        parts = []
        first = position
        for _, width in codec.blocks():
            parts.append(outputs[:, position : position + width])
            position += width
        yield parts, encoded[:, first:position]


def _check_table(data: pd.DataFrame) -> None:
    if not isinstance(data, pd.DataFrame):
        raise SyngenError(f"expected a pandas DataFrame, got {type(data).__name__}")
    duplicated = data.columns[data.columns.duplicated()].tolist()
    if duplicated:
        raise SyngenError(f"the table has duplicate column names: {', '.join(map(str, duplicated))}")
    if len(data) < MIN_ROWS:
        raise SyngenError(f"the table has {len(data)} row(s); at least {MIN_ROWS} are needed to learn from")


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in the model file")
