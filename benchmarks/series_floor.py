#!/usr/bin/env python
"""How low detection can go on tables that are series (hourly weather, a city's monthly house
sales) for a generator that copies no row: real training rows whose measures are swapped with
another real row's of the same group (the same airport, month and hour of the day; the same
city and month of the year) and scored by the shared ``score.py`` against the training rows,
as ``unseen.py`` scores syngen's.

Such rows are drawn from each group's true distribution, exactly, and are real rows' values;
what they lack is only the series itself: which day of the month had which weather. The
classifier reads each hour's weather from its neighbours among the training rows, and real
held-out rows sit between those neighbours, so they score 0.5; a generator that does not
copy the series cannot. Moving the measures within a finer group (the same day) shows how
close to copying a generator must come. Usage (repository root)::

    python benchmarks/series_floor.py            # writes its section of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import unseen
from sections import write_section

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- series floor: written by benchmarks/series_floor.py -->"
WEATHER = ["temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
HOUSING = ["sales", "volume", "median", "listings", "inventory"]
# (package, item, target of the shared scorer, measures moved, the groups they move within)
SERIES = [
    ("nycflights13", "weather", "origin", WEATHER, [["origin", "month", "hour"], ["origin", "month", "day"]]),
    ("ggplot2", "txhousing", "city", HOUSING, [["city", "month"], ["city", "year"]]),
]


def regrouped(frame: pd.DataFrame, measures: list[str], group: list[str], seed: int = 0) -> pd.DataFrame:
    """``frame`` with each row's ``measures`` taken, together, from another row of its group
    (a random permutation inside each group)."""
    rng = np.random.default_rng(seed)
    out = frame.copy()
    for rows in frame.groupby(group, dropna=False).indices.values():
        out.iloc[rows, [frame.columns.get_loc(c) for c in measures]] = frame.iloc[rng.permutation(rows)][
            measures
        ].to_numpy()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/syngen-unseen"))
    parser.add_argument("--report", default=str(REPO / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    lines = [
        "## Series: the detection a generator reaches without copying the series",
        "",
        "- Command: `python benchmarks/series_floor.py` (the split of `unseen.py`, the same workdir)",
        f"- Date (UTC): {time.strftime('%Y-%m-%d %H:%M', time.gmtime())}; machine: {platform.platform()}, "
        f"{os.cpu_count()} CPUs",
        "- Real training rows whose measures are swapped, all together, with another training row's of the "
        "same group, scored by the shared `score.py` as syngen's rows are. Such rows hold real values from "
        "each group's true distribution and lack only the series: which day had which weather.",
        "",
        "| table | measures | moved within | detection AUC | held-out |",
        "| --- | --- | --- | --- | --- |",
    ]
    for package, item, target, measures, groups in SERIES:
        train, holdout = unseen.split_table(package, item, args.workdir.resolve() / f"{package}-{item}")
        frame = pd.read_csv(train)
        for group in groups:
            moved = train.with_name(f"regrouped-{'-'.join(group)}.csv")
            regrouped(frame, measures, group).to_csv(moved, index=False)
            result = unseen.score(train, holdout, moved, target)
            print(item, group, result, flush=True)
            lines.append(
                f"| {package} {item} | {', '.join(measures)} | {', '.join(group)} | "
                f"{result['detection']:.3f} | {result['floor']:.3f} |"
            )
    write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
