"""The report's figures as inline SVG (matplotlib, no display, no pyplot state): text stays
text, so the page is small, sharp at any zoom, and needs nothing from the network."""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pandas as pd

REAL, SYNTHETIC = "#4c72b0", "#dd8452"
SHOWN_CATEGORIES = 12
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.rcParams.update(
        {"svg.fonttype": "none", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False}
    )
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(figure) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():  # a label in a script the font lacks is drawn as boxes, not an error
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="svg")
    return _PROLOGUE.sub("", buffer.getvalue(), count=1)


def _date_ticks(axis, kind: str) -> None:
    from matplotlib.ticker import FuncFormatter

    pattern = {"time": "%H:%M", "date": "%Y-%m-%d"}.get(kind, "%Y-%m-%d")
    axis.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _: pd.Timestamp(x, unit="s").strftime(pattern) if np.isfinite(x) else "")
    )
    for label in axis.get_xticklabels():
        label.set_rotation(30)


def distribution(name: str, real: pd.Series, synthetic: pd.Series, kind: str, model_kind: str) -> str:
    """Real vs synthetic: density histograms for numbers and dates, bars of shares for
    categories (the most frequent ones, the rest summed as 'other')."""
    figure = _figure(4.2, 2.6)
    axis = figure.add_subplot()
    axis.set_title(str(name), loc="left", fontsize=10)
    if kind == "numeric":
        both = np.concatenate([real.dropna().to_numpy(), synthetic.dropna().to_numpy()])
        low, high = (np.nanmin(both), np.nanmax(both)) if len(both) else (0.0, 1.0)
        edges = np.linspace(low, high if high > low else low + 1, 41)
        for values, colour, label in ((real, REAL, "real"), (synthetic, SYNTHETIC, "synthetic")):
            counts, _ = np.histogram(values.dropna(), bins=edges)
            axis.stairs(
                counts / max(counts.sum(), 1),
                edges,
                color=colour,
                label=label,
                linewidth=1.6,
                fill=label == "real",
                alpha=0.35 if label == "real" else 1.0,
            )
        if model_kind in ("datetime", "date", "time"):
            _date_ticks(axis, model_kind)
        axis.set_ylabel("share of rows")
    else:
        real_share = real.astype(str).where(real.notna(), "(null)").value_counts(normalize=True)
        synthetic_share = synthetic.astype(str).where(synthetic.notna(), "(null)").value_counts(normalize=True)
        shown = list(real_share.index[:SHOWN_CATEGORIES])
        rest = len(real_share) - len(shown)
        labels = shown + ([f"other ({rest})"] if rest > 0 else [])

        def shares(share):
            values = [float(share.get(v, 0.0)) for v in shown]
            return values + ([max(0.0, 1.0 - sum(values))] if rest > 0 else [])

        positions = np.arange(len(labels))
        axis.barh(positions - 0.2, shares(real_share), height=0.4, color=REAL, label="real")
        axis.barh(positions + 0.2, shares(synthetic_share), height=0.4, color=SYNTHETIC, label="synthetic")
        axis.set_yticks(positions, [label if len(label) <= 24 else label[:23] + "…" for label in labels])
        axis.invert_yaxis()
        axis.set_xlabel("share of rows")
    axis.legend(frameon=False, fontsize=8)
    return _svg(figure)


def heatmap(matrix: pd.DataFrame, title: str, low: float, high: float, colours: str = "viridis") -> str:
    size = max(3.0, min(9.0, 0.32 * len(matrix) + 2))
    figure = _figure(size + 0.8, size)
    axis = figure.add_subplot()
    image = axis.imshow(matrix.to_numpy(), vmin=low, vmax=high, cmap=colours)
    labels = [str(c) if len(str(c)) <= 18 else str(c)[:17] + "…" for c in matrix.columns]
    axis.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    axis.set_yticks(range(len(labels)), labels, fontsize=7)
    axis.set_title(title, loc="left", fontsize=10)
    figure.colorbar(image, ax=axis, shrink=0.8)
    return _svg(figure)


def counts_histogram(title: str, real: np.ndarray, synthetic: np.ndarray) -> str:
    """Children per parent, real vs synthetic (shares of parents with each count)."""
    figure = _figure(4.2, 2.6)
    axis = figure.add_subplot()
    top = int(max(np.percentile(real, 99) if len(real) else 0, np.percentile(synthetic, 99) if len(synthetic) else 0))
    edges = np.arange(-0.5, top + 1.5)
    for values, colour, label in ((real, REAL, "real"), (synthetic, SYNTHETIC, "synthetic")):
        counts, _ = np.histogram(np.minimum(values, top), bins=edges)
        axis.stairs(
            counts / max(counts.sum(), 1),
            edges,
            color=colour,
            label=label,
            linewidth=1.6,
            fill=label == "real",
            alpha=0.35 if label == "real" else 1.0,
        )
    axis.set_title(title, loc="left", fontsize=10)
    axis.set_xlabel("children per parent row")
    axis.set_ylabel("share of parents")
    axis.legend(frameon=False, fontsize=8)
    return _svg(figure)
