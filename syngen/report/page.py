"""The report as one self-contained HTML page: inline CSS and SVG, one small inline script
that checks every figure laid out (for tests and for users' own checks), no network."""

from __future__ import annotations

import html
import math
from datetime import datetime, timezone

import syngen

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header,section{max-width:1280px;margin:0 auto;padding:16px 24px}
header{background:#fff;border-bottom:1px solid #dde1e6;max-width:none}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:24px 0 8px;border-bottom:1px solid #dde1e6}
h3{font-size:15px;margin:18px 0 6px}.muted{color:#5b6472}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}
.card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:8px 14px;min-width:130px}
.card b{display:block;font-size:20px}.card span{color:#5b6472;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:10px}
figure.chart{background:#fff;border:1px solid #dde1e6;border-radius:8px;margin:0;padding:6px;overflow:auto}
figure.chart svg{max-width:100%;height:auto}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #dde1e6;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}.bad{color:#b42318;font-weight:600}
"""

CHECK = """
<script>
(function () {
  var charts = document.querySelectorAll("figure.chart"), drawn = 0;
  charts.forEach(function (chart) {
    var svg = chart.querySelector("svg"), box = svg && svg.getBoundingClientRect();
    if (box && box.width > 0 && box.height > 0) { drawn += 1; } else { chart.dataset.failed = "true"; }
  });
  document.body.dataset.figuresRendered = String(drawn);
})();
</script>
"""


def esc(value) -> str:
    return html.escape(str(value))


def number(value, digits: int = 3, why: str = "") -> str:
    """A figure as the page shows it: never nan or inf, but n/a and, when known, why."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return f"n/a ({why})" if why else "n/a"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def percent(value, digits: int = 1, why: str = "") -> str:
    if value is None or not math.isfinite(value):
        return number(None, why=why)
    return f"{value:.{digits}%}"


def shown(label: str, value: float | str) -> str:
    """A headline figure as the report and the console show it (text says why there is none)."""
    if isinstance(value, str):
        return value
    if label == "exact copies":
        return percent(value, 2)
    return number(value, 0) if label == "key violations" else number(value)


def cards(items: list[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{esc(value)}</b><span>{esc(label)}</span></div>' for label, value in items)
        + "</div>"
    )


def chart(svg: str) -> str:
    return f'<figure class="chart">{svg}</figure>'


def table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, summary: str, sections: list[str]) -> str:
    figures = sum(s.count('<figure class="chart">') for s in sections)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f'<body data-figures-expected="{figures}"><header><h1>{esc(title)}</h1>'
        f'<div class="muted">syngen {esc(syngen.__version__)} · {when}</div>{summary}</header>'
        + "".join(sections)
        + CHECK
        + "</body></html>"
    )
