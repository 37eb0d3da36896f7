"""Real-vs-synthetic measures, vectorised over samples so a report of a big table is quick.

Column shapes, pair trends and quality are SDMetrics' QualityReport's (its definitions
reimplemented here, pinned against sdmetrics by a test, so the report needs no sdmetrics and
its plotly), so scores are comparable with other tools. The accuracy matrix is the original
syngen's: for every pair of columns, how much of their joint distribution (binned) the
synthetic data reproduces, with its median as the headline.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from syngen.privacy import RARE_THRESHOLD
from syngen.privacy.meaning import IDENTIFYING, LOCATION
from syngen.privacy.patterns import patterns_of
from syngen.values.dates import duration_seconds

NUMERIC_KINDS = ("float", "integer", "datetime", "date", "time", "duration")
CATEGORY_KINDS = ("categorical", "boolean", "constant") + LOCATION
# made anew, so compared by their format (character shapes and lengths), not their values
FORMAT_KINDS = IDENTIFYING + ("email", "id", "uuid", "text")
BINS = 10
TOP_CATEGORIES = 20
PRIVACY_ROWS = 3000
# SDMetrics' QualityReport counts a pair only when its real columns are strongly associated
REAL_CORRELATION_THRESHOLD = 0.5  # |Pearson| of two numbers
REAL_ASSOCIATION_THRESHOLD = 0.3  # Cramér's V of any other pair


def comparable_columns(kinds: dict[str, str]) -> dict[str, str]:
    """Columns the model learns (numbers, dates, categories): 'numeric' or 'categorical'.
    Generated kinds (ids, emails, free text) are made fresh by design, not compared."""
    return {
        c: ("numeric" if k in NUMERIC_KINDS else "categorical")
        for c, k in kinds.items()
        if k in NUMERIC_KINDS + CATEGORY_KINDS
    }


def as_numbers(values: pd.Series, kind: str, text_format: str | None = None) -> pd.Series:
    """A numeric or date/time column as floats: dates as seconds since 1970 (zoned values at
    their UTC instant), times as seconds since midnight. Measured as a time span, so the
    storage unit (DuckDB gives microseconds, others nanoseconds or seconds) changes nothing.
    Durations written as text (121:36:00) as their seconds."""
    if kind == "duration" and not pd.api.types.is_numeric_dtype(values):
        return pd.Series(duration_seconds(values.where(values.notna(), "")), index=values.index)
    if kind in ("datetime", "date", "time") and (text_format or not pd.api.types.is_numeric_dtype(values)):
        if not pd.api.types.is_datetime64_any_dtype(values):  # text (or digits: 20170720), date/time objects
            values = values.astype(str).where(values.notna())
        # a time of day alone has no date whose format pandas could infer: parse it value by value
        layout = text_format or ("mixed" if kind == "time" else None)
        stamps = pd.to_datetime(values, format=layout, errors="coerce", utc=True)
        origin = stamps.dt.normalize() if kind == "time" else pd.Timestamp(0, tz="UTC")
        return ((stamps - origin) / pd.Timedelta(seconds=1)).astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def column_shape(real: pd.Series, synthetic: pd.Series, kind: str) -> float:
    """SDMetrics' KSComplement (numbers) or TVComplement (categories), nulls left out; NaN
    (left out of the mean, as SDMetrics does) when a side has no value."""
    r, s = real.dropna(), synthetic.dropna()
    if r.empty or s.empty:
        return float("nan")
    if kind == "numeric":
        return 1.0 - float(ks_2samp(r.to_numpy(), s.to_numpy(), method="asymp").statistic)
    return _tv_complement(r.astype(str), s.astype(str))


def pair_trends(
    values: dict[str, tuple[pd.Series, pd.Series]], columns: dict[str, str]
) -> dict[tuple[str, str], float]:
    """SDMetrics' column pair trends of the pairs its QualityReport counts. Two numbers:
    CorrelationSimilarity (1 - |Pearson real - Pearson synthetic| / 2), counted when the
    real |Pearson| > 0.5. Any other pair: ContingencySimilarity (the total-variation
    complement of the joint distributions, nulls a value of their own), counted when the
    real Cramér's V > 0.3; a number paired with a category is cut, on each side, into ten
    equal-width bins of that side's own range (``np.digitize``: the maximum and nulls share
    the last code)."""
    codes = {
        c: _category_codes(*values[c]) if k == "categorical" else tuple(_equal_width_bins(v) for v in values[c])
        for c, k in columns.items()
    }
    trends = {}
    for a, b in itertools.combinations(columns, 2):
        if columns[a] == columns[b] == "numeric":
            score = _correlation_similarity(values[a], values[b])
        else:
            score = _contingency_similarity(codes[a], codes[b])
        if not np.isnan(score):
            trends[(a, b)] = score
    return trends


def _category_codes(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Both sides' values as shared integer codes, compared as text; null is a code of its own."""
    both = pd.concat([real, synthetic], ignore_index=True)
    codes, _ = pd.factorize(both.astype(str).where(both.notna()), use_na_sentinel=False)
    return codes[: len(real)], codes[len(real) :]


def _equal_width_bins(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype=float)
    return np.digitize(numbers, np.histogram_bin_edges(numbers[np.isfinite(numbers)]))


def _contingency_similarity(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
    """SDMetrics' ContingencySimilarity of two coded columns (real, synthetic); NaN when the
    real association is too weak to count."""
    if not len(a[0]) or not len(a[1]) or _cramers_v(a[0], b[0]) <= REAL_ASSOCIATION_THRESHOLD:
        return float("nan")
    width = int(max(b[0].max(), b[1].max())) + 1
    return _tv_complement(a[0].astype(np.int64) * width + b[0], a[1].astype(np.int64) * width + b[1])


def format_shape(real: pd.Series, synthetic: pd.Series) -> float:
    """How well generated values keep the source's format, not its values: the mean of the
    total-variation complement of their shapes (character classes with runs folded:
    '+1 (780) 428-9482' -> '+9 (9) 9-9') and the KS complement of their lengths."""
    real, synthetic = real.dropna().astype(str), synthetic.dropna().astype(str)
    if real.empty or synthetic.empty:
        return float(real.empty == synthetic.empty)
    fold = lambda text: patterns_of(text).str.replace(r"(.)\1+", r"\1", regex=True)  # noqa: E731
    shares = pd.concat(
        [fold(real).value_counts(normalize=True), fold(synthetic).value_counts(normalize=True)], axis=1
    ).fillna(0.0)
    shapes = 1.0 - 0.5 * float(np.abs(shares.iloc[:, 0] - shares.iloc[:, 1]).sum())
    lengths = 1.0 - float(ks_2samp(real.str.len(), synthetic.str.len()).statistic)
    return (shapes + lengths) / 2


def value_copies(
    real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict[str, str], rare_threshold: int = RARE_THRESHOLD
) -> dict[str, tuple[float, float]]:
    """Per text-like column: the share of generated values equal to a real value, and the
    share equal to a real value seen fewer than ``rare_threshold`` times (in the real sample)."""
    found = {}
    for column, kind in kinds.items():
        if kind in NUMERIC_KINDS + ("boolean", "constant", "empty", "sequence") or column not in synthetic:
            continue
        real_text = real[column].dropna().astype(str)
        made = synthetic[column].dropna().astype(str)
        if made.empty:
            continue
        counts = real_text.value_counts()
        rare = counts.index[counts < rare_threshold]
        # a first or last name alone is a common word of its language, not someone's
        alone = kind in ("first_name", "last_name")
        found[column] = (
            float(made.isin(counts.index).mean()),
            float("nan") if alone else float(made.isin(rare).mean()),
        )
    return found


def binned(real: pd.Series, synthetic: pd.Series, kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Both columns as shared bin codes: numbers in the real data's deciles, categories as
    their most frequent values plus 'other'; null is a bin of its own. Returns codes and count."""
    if kind == "numeric":
        edges = (
            np.unique(np.nanquantile(real.to_numpy(dtype=float), np.linspace(0, 1, BINS + 1)[1:-1]))
            if real.notna().any()
            else np.array([])
        )
        codes = [
            np.where(v.isna(), len(edges) + 1, np.searchsorted(edges, v.to_numpy(dtype=float), side="right"))
            for v in (real, synthetic)
        ]
        return codes[0], codes[1], len(edges) + 2
    top = real.dropna().astype(str).value_counts().index[:TOP_CATEGORIES]
    lookup = {value: i for i, value in enumerate(top)}
    codes = []
    for values in (real, synthetic):
        code = values.astype(str).map(lookup).fillna(len(top)).to_numpy(dtype=np.int64)
        code[values.isna().to_numpy()] = len(top) + 1
        codes.append(code)
    return codes[0], codes[1], len(top) + 2


def _tv_complement(real, synthetic) -> float:
    """1 - the total variation distance between two samples' distributions of values (codes
    or text)."""
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    index, values = pd.factorize(np.concatenate([real, synthetic]))
    p = np.bincount(index[: len(real)], minlength=len(values)) / max(len(real), 1)
    q = np.bincount(index[len(real) :], minlength=len(values)) / max(len(synthetic), 1)
    return 1.0 - 0.5 * float(np.abs(p - q).sum())


@dataclass
class TableMetrics:
    columns: dict[str, str]  # compared column -> numeric / categorical
    values: dict[str, tuple[pd.Series, pd.Series]] = field(default_factory=dict)  # real, synthetic; dates as seconds
    shapes: dict[str, float] = field(default_factory=dict)
    accuracy: pd.DataFrame | None = None  # the original syngen's accuracy matrix
    pair_trends: dict[tuple[str, str], float] = field(default_factory=dict)
    association_real: pd.DataFrame | None = None  # Cramér's V on the binned columns
    association_synthetic: pd.DataFrame | None = None
    privacy: dict[str, float | str] = field(default_factory=dict)  # dcr_unavailable: why no DCR ratio
    utility: dict[str, float | str] = field(default_factory=dict)
    formats: dict[str, float] = field(default_factory=dict)  # generated columns: format score
    copies: dict[str, tuple[float, float]] = field(default_factory=dict)  # column -> (real share, rare share)

    @property
    def shape_score(self) -> float:
        return quality_scores([self])["column shapes"]

    @property
    def pair_score(self) -> float:
        return quality_scores([self])["pair trends"]

    @property
    def quality(self) -> float:
        return quality_scores([self])["quality"]

    @property
    def median_accuracy(self) -> float:
        return quality_scores([self])["median accuracy"]

    def pair_accuracies(self) -> np.ndarray:
        if self.accuracy is None:
            return np.array([])
        values = self.accuracy.to_numpy()
        return values[np.triu_indices(len(values), k=1)]


def quality_scores(tables: list[TableMetrics]) -> dict[str, float]:
    """Column shapes (the mean over every compared column), pair trends (over every counted
    pair) and quality, their mean, as SDMetrics' QualityReport scores them (pooled over the
    tables, as its multi-table report pools them); and the median accuracy of every pair.
    NaN where nothing was measured."""
    shapes = [v for t in tables for v in t.shapes.values() if not np.isnan(v)]
    pairs = [v for t in tables for v in t.pair_trends.values()]
    accuracies = np.concatenate([t.pair_accuracies() for t in tables]) if tables else np.array([])
    scores = {
        "column shapes": float(np.mean(shapes)) if shapes else float("nan"),
        "pair trends": float(np.mean(pairs)) if pairs else float("nan"),
    }
    measured = [v for v in scores.values() if not np.isnan(v)]
    return {
        "quality": float(np.mean(measured)) if measured else float("nan"),
        **scores,
        "median accuracy": float(np.median(accuracies)) if len(accuracies) else float("nan"),
    }


def measure(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: dict[str, str],
    text_formats: dict[str, str] | None = None,
    target: str | None = None,
    seed: int = 0,
    made_anew: set[str] = frozenset(),
) -> TableMetrics:
    """Every measure of the report for one table (``real`` and ``synthetic`` already sampled).
    ``made_anew``: learned columns whose values are mostly made anew, compared by format."""
    columns = {
        c: k for c, k in comparable_columns(kinds).items() if c in real and c in synthetic and c not in made_anew
    }
    numbers = {
        c: (
            as_numbers(real[c], kinds[c], (text_formats or {}).get(c)),
            as_numbers(synthetic[c], kinds[c], (text_formats or {}).get(c)),
        )
        for c, k in columns.items()
        if k == "numeric"
    }
    values = {c: numbers.get(c, (real[c], synthetic[c])) for c in columns}
    metrics = TableMetrics(columns, values)
    metrics.shapes = {c: column_shape(*values[c], k) for c, k in columns.items()}
    codes = {c: binned(*values[c], k) for c, k in columns.items()}
    names = list(columns)
    matrix = np.ones((len(names), len(names)))
    association = np.ones((2, len(names), len(names)))
    for i, a in enumerate(names):
        matrix[i, i] = _tv_complement(codes[a][0], codes[a][1])
        for j in range(i + 1, len(names)):
            b = names[j]
            pair = [codes[a][side] * codes[b][2] + codes[b][side] for side in (0, 1)]
            matrix[i, j] = matrix[j, i] = _tv_complement(*pair)
            for side in (0, 1):
                association[side, i, j] = association[side, j, i] = _cramers_v(codes[a][side], codes[b][side])
    metrics.pair_trends = pair_trends(values, columns)
    metrics.accuracy = pd.DataFrame(matrix, index=names, columns=names)
    metrics.association_real, metrics.association_synthetic = (
        pd.DataFrame(association[side], index=names, columns=names) for side in (0, 1)
    )
    metrics.privacy = privacy(real, synthetic, columns, numbers, seed)
    metrics.formats = {
        c: format_shape(real[c], synthetic[c])
        for c, k in kinds.items()
        if (k in FORMAT_KINDS or c in made_anew) and c in real and c in synthetic
    }
    metrics.copies = value_copies(real, synthetic, kinds)
    if target:
        metrics.utility = utility(real, synthetic, columns, numbers, target, seed)
    return metrics


def _cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Association of two coded columns, 0 (independent) to 1: Cramér's V without continuity
    correction (scipy's ``association``), from the observed cells only, so columns of many
    categories need no dense table (chi² = sum of observed² / expected - n)."""
    width = int(b.max()) + 1 if len(b) else 1
    cells, counts = np.unique(a.astype(np.int64) * width + b, return_counts=True)
    row_of, column_of = cells // width, cells % width
    rows, columns = np.bincount(row_of, weights=counts), np.bincount(column_of, weights=counts)
    levels = min(np.count_nonzero(rows), np.count_nonzero(columns))
    if levels < 2:
        return 0.0
    total = float(counts.sum())
    chi2 = max(float((counts**2 / (rows[row_of] * columns[column_of] / total)).sum()) - total, 0.0)
    return float(np.sqrt(chi2 / (total * (levels - 1))))


def _correlation_similarity(a: tuple[pd.Series, pd.Series], b: tuple[pd.Series, pd.Series]) -> float:
    """SDMetrics' CorrelationSimilarity: 1 - |Pearson real - Pearson synthetic| / 2; NaN
    (not counted) when the real |Pearson| is 0.5 or less, or either is undefined (a constant
    column on either side)."""
    if any(column[side].nunique() == 1 for column in (a, b) for side in (0, 1)):
        return float("nan")
    real = _pearson(a[0], b[0])
    if not abs(real) > REAL_CORRELATION_THRESHOLD:
        return float("nan")
    return 1.0 - abs(real - _pearson(a[1], b[1])) / 2


def _pearson(x: pd.Series, y: pd.Series) -> float:
    both = (x.notna() & y.notna()).to_numpy()
    x, y = x.to_numpy(dtype=float)[both], y.to_numpy(dtype=float)[both]
    if len(x) < 2 or x.std() == 0 or y.std() == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def _features(
    frame: pd.DataFrame,
    columns: dict[str, str],
    numbers: dict,
    side: int,
    scale: dict[str, tuple[float, float]],
    categories: dict[str, list],
) -> np.ndarray:
    """Rows as vectors for distances: numbers scaled by the real spread (null -> its own
    flag), categories one-hot over the real data's most frequent values. ``side`` picks the
    real (0) or synthetic (1) numbers."""
    parts = []
    for column, kind in columns.items():
        if kind == "numeric":
            values = numbers[column][side]
            centre, spread = scale[column]
            parts.append(((values - centre) / spread).fillna(0).to_numpy()[:, None])
            parts.append(values.isna().to_numpy(dtype=float)[:, None])
        else:
            text = frame[column].astype(str)
            parts.append(np.stack([(text == v).to_numpy(dtype=float) for v in categories[column]], axis=1))
    return np.hstack(parts) if parts else np.zeros((len(frame), 1))


def privacy(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: dict[str, str], numbers: dict, seed: int
) -> dict[str, float | str]:
    """Exact copies and distance to closest record (DCR), each beside the real data's own
    baseline: how often a real row repeats another one, and how close a real row comes to
    its nearest *other* real row. A DCR ratio near 1 means synthetic rows sit among the real
    ones like new real rows would; near 0, they copy them."""
    from sklearn.neighbors import NearestNeighbors

    shared = [c for c in real.columns if c in synthetic.columns]
    real_rows = pd.util.hash_pandas_object(real[shared].astype(str), index=False)
    synthetic_rows = pd.util.hash_pandas_object(synthetic[shared].astype(str), index=False)
    result = {
        "exact_copies": float(synthetic_rows.isin(set(real_rows)).mean()),
        "real_copies_baseline": float(real_rows.duplicated(keep=False).mean()),
    }
    why = (
        "no learned column to measure distances on"
        if not columns
        else f"{len(real)} real rows, fewer than 3"
        if len(real) < 3
        else "no synthetic rows"
        if synthetic.empty
        else ""
    )
    if why:
        return {**result, "dcr_unavailable": why}
    scale = {}
    for column, kind in columns.items():
        if kind == "numeric":
            values = numbers[column][0]
            scale[column] = (
                float(values.mean()) if values.notna().any() else 0.0,
                float(values.std()) if values.std() and values.std() > 0 else 1.0,
            )
    categories = {
        c: list(real[c].astype(str).value_counts().index[:TOP_CATEGORIES])
        for c, k in columns.items()
        if k == "categorical"
    }
    rng = np.random.default_rng(seed)
    reference = _features(real, columns, numbers, 0, scale, categories)[rng.permutation(len(real))[: 2 * PRIVACY_ROWS]]
    fake = _features(synthetic, columns, numbers, 1, scale, categories)[rng.permutation(len(synthetic))[:PRIVACY_ROWS]]
    index = NearestNeighbors(n_neighbors=2).fit(reference)
    synthetic_distance = float(np.median(index.kneighbors(fake, n_neighbors=1)[0]))
    real_distance = float(np.median(index.kneighbors(reference[:PRIVACY_ROWS])[0][:, 1]))
    result.update(dcr_synthetic=synthetic_distance, dcr_holdout=real_distance)
    if real_distance > 0:
        result["dcr_ratio"] = synthetic_distance / real_distance
    else:  # no ratio to a zero baseline: the exact copies beside their baseline say it instead
        result["dcr_unavailable"] = (
            "most real rows equal another real row in every learned column, so the baseline distance is 0"
        )
    return result


def utility(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: dict[str, str], numbers: dict, target: str, seed: int
) -> dict[str, float | str]:
    """Train on synthetic, test on real (TSTR) against train on real, test on real, with a
    gradient-boosted model; accuracy for a categorical target, R² for a numeric one."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, r2_score

    if target not in columns:
        return {"error": f"target '{target}' is not a learned column"}
    features = [c for c in columns if c != target]
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    cut = int(len(real) * 0.7)
    train_rows, test_rows = order[:cut], order[cut:]

    def matrix(frame, side, rows):
        """Features of ``rows`` (positions) of the real (0) or synthetic (1) frame."""
        out = {}
        for column in features:
            if columns[column] == "numeric":
                out[column] = numbers[column][side].iloc[rows].to_numpy()
            else:
                out[column] = pd.Categorical(
                    frame[column].iloc[rows].astype(str), categories=real[column].astype(str).value_counts().index[:250]
                )
        return pd.DataFrame(out)

    def labels(frame, side, rows):
        if columns[target] == "categorical":
            return frame[target].iloc[rows].astype(str).to_numpy()
        return numbers[target][side].iloc[rows].to_numpy()

    classify = columns[target] == "categorical"
    model_type = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
    truth = labels(real, 0, test_rows)
    scores = {}
    for name, frame, side, rows in (
        ("real", real, 0, train_rows),
        ("synthetic", synthetic, 1, np.arange(len(synthetic))),
    ):
        y = labels(frame, side, rows)
        keep = pd.notna(y)
        model = model_type(categorical_features="from_dtype", random_state=seed)
        model.fit(matrix(frame, side, rows)[keep], y[keep])
        known = pd.notna(truth)
        predicted = model.predict(matrix(real, 0, test_rows)[known])
        scores[name] = float(accuracy_score(truth[known], predicted) if classify else r2_score(truth[known], predicted))
    return {
        "target": target,
        "metric": "accuracy" if classify else "R²",
        "train_real": scores["real"],
        "train_synthetic": scores["synthetic"],
    }
