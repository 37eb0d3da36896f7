"""Build the report of a run: read (samples of) the real source and the synthetic output,
measure, draw, and write one HTML file; the headline figures are returned for the console."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from syngen import artifacts
from syngen.adapters.sources import read_source
from syngen.adapters.sql import is_database_url
from syngen.errors import SyngenError
from syngen.linked.links import children_per_parent
from syngen.privacy import RARE_THRESHOLD
from syngen.privacy.meaning import IDENTIFYING, LOCATION
from syngen.report import figures
from syngen.report.metrics import (
    REAL_ASSOCIATION_THRESHOLD,
    REAL_CORRELATION_THRESHOLD,
    TableMetrics,
    measure,
    quality_scores,
)
from syngen.report.page import cards, chart, esc, number, page, percent, shown, table

REPORT_ROWS = 20_000  # rows sampled from each side: measures and plots stay fast on any size
REAL_ENV = "SYNGEN_REAL_URL"  # where the real data is, when the model keeps its source without the password
STRONG_PAIRS = (
    f"pairs strongly associated in the real data (|Pearson| above {REAL_CORRELATION_THRESHOLD} "
    f"for two numbers, Cramér's V above {REAL_ASSOCIATION_THRESHOLD} otherwise)"
)
# why a headline figure can be missing; the DCR ratio's reason is measured
UNAVAILABLE = {
    "quality": "no learned column has values on both sides",
    "column shapes": "no learned column has values on both sides",
    "pair trends": "no pair of columns strongly associated in the real data",
    "median accuracy": "fewer than two learned columns",
    "exact copies": "no rows to compare",
}


@dataclass
class TableView:
    """What the report needs of a table's model: the kinds of the columns it compares (the
    table's own learned ones, not keys a run generates nor what a model learns beside them),
    the text formats of its dates, and the columns made anew (never copies by design)."""

    kinds: dict[str, str]
    text_formats: dict[str, str]
    made_anew: set[str]

    @classmethod
    def of(cls, model, columns, generated=()) -> "TableView":
        """The view of ``model`` over the table's ``columns``, less the ``generated`` ones."""
        kinds = {c: k for c, k in model.kinds.items() if c in set(columns) - set(generated)}
        return cls(kinds, model.text_formats, model.made_anew & set(kinds))


@dataclass
class ReportResult:
    path: Path
    headline: dict[str, float | str] = field(default_factory=dict)  # a figure, or 'n/a (why)'
    tables: dict[str, TableMetrics] = field(default_factory=dict)


def _read(
    location: str, name: str, what: str, row_limit: int | None = REPORT_ROWS, csv_options: dict | None = None
) -> pd.DataFrame:
    try:
        return read_source(location, name, row_limit=row_limit, csv_options=csv_options).frame
    except SyngenError as error:
        raise SyngenError(f"report of '{name}': cannot read the {what} data: {error}") from None


def _headline(tables: list[TableMetrics]) -> dict[str, float | str]:
    """The quality figures (pooled over ``tables``, quality the mean of shapes and pair
    trends) and, for one table, its privacy figures; a missing figure says why."""
    figures = quality_scores(tables)
    if len(tables) == 1:
        figures.update(
            {
                "exact copies": tables[0].privacy["exact_copies"],
                "DCR ratio": tables[0].privacy.get("dcr_ratio", float("nan")),
            }
        )
    why = {**UNAVAILABLE, "DCR ratio": tables[0].privacy.get("dcr_unavailable", "") if tables else ""}
    return {label: value if math.isfinite(value) else number(value, why=why[label]) for label, value in figures.items()}


def _share(frame: pd.DataFrame, column: str) -> str:
    return percent(frame[column].isna().mean(), why="no rows") if column in frame else "–"


def _table_section(
    name: str,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    view: TableView,
    target: str | None,
    extra: str = "",
    with_cards: bool = True,
) -> tuple[TableMetrics, str]:
    kinds = view.kinds
    metrics = measure(real, synthetic, kinds, view.text_formats, target, made_anew=view.made_anew)
    parts = [
        f'<section id="{esc(name)}"><h2>{esc(name)}</h2>',
        f'<div class="muted">{len(real):,} real rows and {len(synthetic):,} synthetic rows compared '
        f"(samples of at most {REPORT_ROWS:,} each)</div>",
        _summary(_headline([metrics])) if with_cards else "",
        extra,
    ]
    rows = []
    for column, kind in kinds.items():
        shape = metrics.shapes.get(column)
        score = (
            number(shape, why="no values on one side")
            if shape is not None
            else f"format {number(metrics.formats[column])}"
            + (", values mostly rare, made anew" if column in view.made_anew else "")
            if column in metrics.formats
            else "generated, not compared"
        )
        distinct = (
            f"{real[column].nunique():,} / {synthetic[column].nunique():,}"
            if column in real and column in synthetic
            else "–"
        )
        rows.append([esc(column), esc(kind), score, f"{_share(real, column)} / {_share(synthetic, column)}", distinct])
    parts += [
        "<h3>Columns</h3>",
        table(["column", "kind", "shape score", "nulls real / synthetic", "distinct real / synthetic"], rows, {2}),
    ]
    parts.append(
        '<div class="grid">'
        + "".join(
            chart(figures.distribution(c, *metrics.values[c], metrics.columns[c], kinds[c])) for c in metrics.columns
        )
        + "</div>"
    )
    if metrics.accuracy is not None and len(metrics.accuracy) >= 2:
        parts += [
            "<h3>Pairs</h3>",
            f"<p>Accuracy matrix (as in the original syngen): for each pair of columns, the share of "
            f"their binned joint distribution the synthetic data reproduces; median accuracy "
            f"<b>{number(metrics.median_accuracy)}</b>. SDMetrics' pair trends, over the "
            f"{len(metrics.pair_trends)} of {len(metrics.columns) * (len(metrics.columns) - 1) // 2} "
            f"{STRONG_PAIRS}: <b>{number(metrics.pair_score, why=UNAVAILABLE['pair trends'])}</b>. "
            "Association is Cramér's V between the binned columns "
            "(numbers in deciles), so it covers categories and numbers alike.</p>",
            '<div class="grid">',
            chart(figures.heatmap(metrics.accuracy, "accuracy matrix", 0.5, 1.0)),
        ]
        parts += [
            chart(figures.heatmap(metrics.association_real, "association (Cramér's V), real", 0, 1)),
            chart(figures.heatmap(metrics.association_synthetic, "association (Cramér's V), synthetic", 0, 1)),
            chart(
                figures.heatmap(
                    (metrics.association_synthetic - metrics.association_real).abs(),
                    "association, |difference|",
                    0,
                    0.5,
                    "Reds",
                )
            ),
        ]
        parts.append("</div>")
    privacy = metrics.privacy
    why_not = privacy.get("dcr_unavailable", "")
    parts += [
        "<h3>Privacy</h3>",
        table(
            ["measure", "synthetic", "real baseline", "reading"],
            [
                [
                    "rows copied exactly from the real data",
                    percent(privacy["exact_copies"], 2, why="no synthetic rows"),
                    percent(privacy["real_copies_baseline"], 2, why="no real rows"),
                    "the baseline: real rows that repeat another real row",
                ],
                [
                    "median distance to the closest real row",
                    number(privacy.get("dcr_synthetic"), why=why_not),
                    number(privacy.get("dcr_holdout"), why=why_not),
                    f"ratio {esc(number(privacy.get('dcr_ratio'), why=why_not))}: near or above 1, synthetic rows "
                    "are no closer to real rows than real rows are to each other (the baseline); "
                    "near 0, they copy them",
                ],
            ],
        ),
    ]
    parts += _copies_section(metrics, kinds)
    if metrics.utility:
        u = metrics.utility
        parts += [
            "<h3>Utility</h3>",
            f"<p>{esc(u['error'])}</p>"
            if "error" in u
            else table(
                ["target", "metric", "train on real, test on real", "train on synthetic, test on real"],
                [
                    [esc(u["target"]), esc(u["metric"])]
                    + [
                        number(u[side], why="too few real rows to test on")
                        for side in ("train_real", "train_synthetic")
                    ]
                ],
                {2, 3},
            ),
        ]
    parts.append("</section>")
    return metrics, "".join(parts)


def _copies_section(metrics: TableMetrics, kinds: dict[str, str]) -> list[str]:
    """Per column: how many generated values are real ones, and whether rare values appear."""
    if not metrics.copies:
        return []
    rows = []
    for column, (real_share, rare_share) in metrics.copies.items():
        kind = kinds[column]
        expected = (
            "real names, never a real (first, last) pair"
            if kind in ("first_name", "last_name")
            else "made anew: 0% expected"
            if kind in IDENTIFYING + ("email",)
            else "frequent values kept, rare ones replaced"
            if kind in LOCATION + ("categorical",)
            else ""
        )
        rows.append(
            [
                esc(column),
                esc(kind),
                percent(real_share),
                (
                    "–"
                    if rare_share != rare_share
                    else f'<span class="bad">{rare_share:.2%}</span>'
                    if rare_share
                    else "0%"
                ),
                expected,
            ]
        )
    return [
        "<h4>Values per column</h4>",
        "<p>The share of generated values equal to a value of the real column, and the share equal "
        f"to a real value seen fewer than {RARE_THRESHOLD} times there (a rare value identifies "
        "someone: it should not appear).</p>",
        table(["column", "kind", "equal to a real value", "equal to a rare real value", "reading"], rows),
    ]


def _summary(headline: dict[str, float]) -> str:
    return cards([(label, shown(label, value)) for label, value in headline.items()])


def report_table(
    table_name: str,
    synthetic: str | None = None,
    *,
    real: str | None = None,
    target: str | None = None,
    output: str | None = None,
    artifacts_dir=None,
) -> ReportResult:
    """Compare a trained table's source (or ``real``) with its synthetic output (default:
    where ``infer`` writes it); write the HTML report beside the output unless ``output``
    says where."""
    from syngen.runs import load_manifest, load_model

    location = str(synthetic or artifacts.default_output(table_name, artifacts_dir))
    source = _real_location(real, load_manifest(table_name, artifacts_dir).source, table_name)
    real_rows = _read(source, table_name, "real")
    view = TableView.of(load_model(table_name, artifacts_dir), real_rows.columns)
    metrics, section = _table_section(
        table_name, real_rows, _read(location, table_name, "synthetic"), view, target, with_cards=False
    )
    headline = _headline([metrics])
    path = Path(output) if output else artifacts.report_path(table_name, artifacts_dir)
    _write(path, page(f"syngen report: {table_name}", _summary(headline), [section]))
    return ReportResult(path, headline, {table_name: metrics})


def _real_location(given: str | None, source: str | None, table_name: str) -> str:
    """Where the real rows are: ``given`` (--real), else the source the model recorded; one
    recorded without its password (``user:***@host``) is read from SYNGEN_REAL_URL instead."""
    location = given or source
    if not location or _password_hidden(location):
        location = os.environ.get(REAL_ENV)
    if not location:
        raise SyngenError(
            f"report of '{table_name}': the model keeps its source without the password "
            f"({source or 'none recorded'}); give the real data with --real URL or the "
            f"{REAL_ENV} environment variable (which keeps the password out of the shell's history)"
        )
    return location


def _password_hidden(location: str) -> bool:
    if not is_database_url(location):
        return False
    import sqlalchemy as sa

    try:
        return sa.make_url(location).password == "***"
    except sa.exc.ArgumentError:
        return False


def report_tables(
    metadata, locations: dict[str, str], *, real: str | None = None, output: str | None = None, artifacts_dir=None
) -> ReportResult:
    """The report of a linked run: each table as above, then every key checked and the
    children-per-parent distributions, real vs synthetic (whole key columns are read).
    ``real`` (or SYNGEN_REAL_URL), a database URL, replaces every table's recorded source."""
    from syngen.keys import key_tuples
    from syngen.runs import load_model

    if real and len(metadata.tables) > 1 and not is_database_url(real):
        raise SyngenError(
            "report: with --metadata_path, --real names a database URL (each table is read by its "
            "name there), not one file"
        )
    sections, metrics, keys_rows, count_charts = [], {}, [], []
    real_keys, fake_keys = {}, {}
    for name, table_meta in metadata.tables.items():
        source = _real_location(real, metadata.resolve(table_meta.source), name)
        real_full = _read(source, name, "real", None, table_meta.csv_options)
        fake_full = _read(locations[name], name, "synthetic", None)
        key_columns = {c for k in table_meta.keys for c in k.columns}
        real_keys[name], fake_keys[name] = real_full, fake_full
        real_rows, fake_rows = (
            frame.sample(min(len(frame), REPORT_ROWS), random_state=0) for frame in (real_full, fake_full)
        )
        view = TableView.of(load_model(name, artifacts_dir), real_full.columns, key_columns)
        metrics[name], section = _table_section(name, real_rows, fake_rows, view, None)
        sections.append(section)
    for name, table_meta in metadata.tables.items():
        frame = fake_keys[name]
        for key in table_meta.unique_keys:
            repeated = int(frame[list(key.columns)].dropna().duplicated().sum())
            nulls = int(frame[list(key.columns)].isna().any(axis=1).sum()) if key.type == "PK" else 0
            keys_rows.append(
                [
                    esc(name),
                    esc(key.type),
                    esc(", ".join(key.columns)),
                    "–",
                    _flag(repeated + nulls, f"{repeated} repeated, {nulls} null"),
                ]
            )
        for key in table_meta.foreign_keys:
            linked = frame[list(key.columns)].notna().all(axis=1)
            parents = set(key_tuples(fake_keys[key.parent], key.parent_columns))
            orphans = int((~key_tuples(frame[linked], key.columns).isin(parents)).sum())
            keys_rows.append(
                [esc(name), "FK", esc(", ".join(key.columns)), esc(key.parent), _flag(orphans, f"{orphans} orphan(s)")]
            )
            count_charts.append(
                chart(
                    figures.counts_histogram(
                        f"{name}.{key.name} → {key.parent}",
                        children_per_parent(real_keys[name], real_keys[key.parent], key),
                        children_per_parent(frame, fake_keys[key.parent], key),
                    )
                )
            )
    keys_section = (
        '<section id="keys"><h2>Keys</h2>'
        + table(["table", "type", "columns", "references", "synthetic data"], keys_rows)
        + "<h3>Children per parent</h3>"
        + '<div class="grid">'
        + "".join(count_charts)
        + "</div></section>"
    )
    headline = {
        **_headline(list(metrics.values())),
        "key violations": float(sum("bad" in row[-1] for row in keys_rows)),
    }
    path = Path(output) if output else artifacts.root(artifacts_dir) / "tmp_store" / "report.html"
    _write(
        path,
        page(f"syngen report: {len(metadata.tables)} linked tables", _summary(headline), [keys_section] + sections),
    )
    return ReportResult(path, headline, metrics)


def _flag(problems: int, text: str) -> str:
    return f'<span class="bad">{esc(text)}</span>' if problems else "valid"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
