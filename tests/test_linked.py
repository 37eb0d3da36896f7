"""Linked tables from real databases (Chinook, Northwind): every key valid, children per
parent realistic, dirty sources reported."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, read_only, run_cli
from scipy.stats import ks_2samp

from syngen.adapters import sql
from syngen.adapters.files import is_binary, read_table
from syngen.keys import key_tuples
from syngen.linked.links import avoid_self_links, children_per_parent
from syngen.metadata import load_metadata

CHINOOK_YAML = ROOT / "examples" / "chinook" / "metadata.yaml"
NORTHWIND_YAML = ROOT / "tests" / "fixtures" / "northwind.yaml"


def export(database: str, folder) -> None:
    """Every non-empty table of a shared SQLite file as CSV (binary columns left out), read-only."""
    url = read_only(database)
    for name, rows in sql.row_counts(url, sql.table_names(url)).items():
        if rows:
            frame = sql.read_table(url, name)[0]
            frame.drop(columns=[c for c in frame if is_binary(frame[c])]).to_csv(folder / f"{name}.csv", index=False)


def run_linked(tmp_path_factory, database: str, metadata_file, *train_args):
    folder = tmp_path_factory.mktemp(database.split(".")[0])
    export(database, folder)
    shutil.copy(metadata_file, folder / "metadata.yaml")
    trained = run_cli("train", "--metadata_path", "metadata.yaml", *train_args, cwd=folder)
    generated = run_cli("infer", "--metadata_path", "metadata.yaml", cwd=folder)
    metadata = load_metadata(folder / "metadata.yaml")
    real = {name: read_table(folder / f"{name}.csv") for name in metadata.tables}
    synthetic = {
        name: read_table(folder / "model_artifacts" / "tmp_store" / name / f"merged_infer_{name}.csv")
        for name in metadata.tables
    }
    return metadata, real, synthetic, trained.stderr + generated.stderr


@pytest.fixture(scope="module")
def chinook(tmp_path_factory):
    return run_linked(tmp_path_factory, "chinook.sqlite", CHINOOK_YAML, "--epochs", "60", "--random_seed", "5")


@pytest.fixture(scope="module")
def northwind(tmp_path_factory):
    return run_linked(tmp_path_factory, "northwind.sqlite", NORTHWIND_YAML, "--epochs", "30")


def assert_keys_hold(metadata, synthetic):
    for name, table in metadata.tables.items():
        frame = synthetic[name]
        for key in table.unique_keys:
            values = frame[list(key.columns)]
            if key.type == "PK":
                assert values.notna().all().all(), f"{name}.{key.name} has nulls"
            assert not values.dropna().duplicated().any(), f"{name}.{key.name} repeats values"
        for key in table.foreign_keys:
            linked = frame[list(key.columns)].notna().all(axis=1)
            parent_keys = set(key_tuples(synthetic[key.parent], key.parent_columns))
            orphans = ~key_tuples(frame[linked], key.columns).isin(parent_keys)
            assert not orphans.any(), f"{name}.{key.name}: {int(orphans.sum())} values with no parent"


def test_chinook_tables_keep_their_columns(chinook):
    metadata, real, synthetic, _ = chinook
    for name in metadata.tables:
        assert list(synthetic[name].columns) == list(real[name].columns), name
        assert len(synthetic[name]) > 0, name


def test_chinook_keys_are_unique_and_every_link_holds(chinook):
    metadata, _, synthetic, _ = chinook
    assert_keys_hold(metadata, synthetic)
    employees = synthetic["Employee"]
    managers = employees["ReportsTo"].dropna()
    assert managers.isin(set(employees["EmployeeId"])).all()
    assert (employees["ReportsTo"] != employees["EmployeeId"]).all()  # nobody manages themself


def test_chinook_children_per_parent_follow_the_source(chinook):
    metadata, real, synthetic, _ = chinook
    for child, key_name in [
        ("InvoiceLine", "fk_invoice_line_invoice"),
        ("Invoice", "fk_invoice_customer"),
        ("InvoiceLine", "fk_invoice_line_track"),
        ("Track", "fk_track_album"),
    ]:
        key = next(k for k in metadata.tables[child].foreign_keys if k.name == key_name)
        statistic = ks_2samp(
            children_per_parent(real[child], real[key.parent], key),
            children_per_parent(synthetic[child], synthetic[key.parent], key),
            method="asymp",
        ).statistic
        assert statistic <= 0.1, (child, key_name, statistic)
    # sizes follow from the generated parents: the same order of magnitude as the source
    for name in ("InvoiceLine", "Track", "Invoice"):
        assert 0.7 <= len(synthetic[name]) / len(real[name]) <= 1.3, name


def test_chinook_children_follow_their_parent_rows(chinook):
    """A line is priced as its track is, a customer's invoices are billed where the customer
    lives, and an invoice's total adds up its lines, as in every source row."""
    _, real, synthetic, _ = chinook
    for tables in (real, synthetic):
        lines = tables["InvoiceLine"].merge(tables["Track"], on="TrackId", suffixes=("", "_track"))
        assert (lines["UnitPrice"] == lines["UnitPrice_track"]).mean() >= 0.95
        invoices = tables["Invoice"].merge(tables["Customer"], on="CustomerId")
        assert (invoices["BillingCountry"] == invoices["Country"]).mean() >= 0.9
        lines = tables["InvoiceLine"].assign(paid=lambda f: f["UnitPrice"] * f["Quantity"])
        totals = lines.groupby("InvoiceId")["paid"].sum()
        invoices = tables["Invoice"].set_index("InvoiceId")
        assert ((invoices["Total"] - totals.reindex(invoices.index).fillna(0)).abs() < 0.005).mean() >= 0.99


def test_chinook_null_links_keep_their_share(chinook):
    metadata, real, synthetic, _ = chinook
    for name, table in metadata.tables.items():
        for key in table.foreign_keys:
            column = key.columns[0]
            assert abs(real[name][column].isna().mean() - synthetic[name][column].isna().mean()) <= 0.05


def test_metadata_values_win_over_the_command_line_and_say_so(chinook):
    *_, output = chinook
    assert "train_settings.random_seed = 1 from the metadata file wins over --random_seed 5" in output


def test_northwind_text_and_composite_keys_hold(northwind):
    metadata, real, synthetic, _ = northwind
    assert_keys_hold(metadata, synthetic)
    # codes like 'ALFKI' (the source also holds one odd 'Val2 ')
    assert synthetic["Customers"]["CustomerID"].str.fullmatch(r"[A-Z]{5}").mean() >= 0.95
    assert not set(synthetic["Customers"]["CustomerID"]) & set(real["Customers"]["CustomerID"])
    # token keys of one name draw from one set: postal codes still join orders to customers
    shipped_to = synthetic["Orders"]["ShipPostalCode"].dropna()
    assert shipped_to.isin(set(synthetic["Customers"]["PostalCode"].dropna())).all()
    assert (
        abs(synthetic["Orders"]["ShipPostalCode"].isna().mean() - real["Orders"]["ShipPostalCode"].isna().mean()) < 0.05
    )
    details = synthetic["Order Details"]
    assert not details.duplicated(["OrderID", "ProductID"]).any()
    assert len(details) > 0.7 * len(real["Order Details"])


def test_orphans_are_counted_and_never_generated(tmp_path):
    """Albums whose artist is missing from the export: reported, and linked to generated
    artists like the other albums, so the link's null share stays the source's (none)."""
    for name in ("Artist", "Album"):
        shutil.copy(CHINOOK_YAML.parent / f"{name}.csv", tmp_path / f"{name}.csv")
    artists = read_table(tmp_path / "Artist.csv")
    albums = read_table(tmp_path / "Album.csv")
    kept = artists[artists["ArtistId"] > 40]
    kept.to_csv(tmp_path / "Artist.csv", index=False)
    orphans = int((~albums["ArtistId"].isin(kept["ArtistId"])).sum())
    (tmp_path / "m.yaml").write_text("""
Artist:
  source: Artist.csv
  keys: {pk: {type: PK, columns: [ArtistId]}}
Album:
  source: Album.csv
  train_settings: {epochs: 5}
  keys:
    pk: {type: PK, columns: [AlbumId]}
    artist: {type: FK, columns: [ArtistId], references: {table: Artist, columns: [ArtistId]}}
""")
    missing = run_cli("infer", "--metadata_path", "m.yaml", cwd=tmp_path, check=False)
    assert missing.returncode == 1 and "run: train --metadata_path m.yaml" in " ".join(missing.stderr.split())
    trained = run_cli("train", "--metadata_path", "m.yaml", "--epochs", "5", cwd=tmp_path)
    assert f"{orphans} row(s) reference no row of 'Artist'" in " ".join(trained.stderr.split())
    out = tmp_path / "model_artifacts" / "tmp_store"
    run_cli("infer", "--metadata_path", "m.yaml", "--random_seed", "3", cwd=tmp_path)
    first = (out / "Album" / "merged_infer_Album.csv").read_bytes()
    run_cli("infer", "--metadata_path", "m.yaml", "--random_seed", "3", cwd=tmp_path)
    assert (out / "Album" / "merged_infer_Album.csv").read_bytes() == first  # same seed, same bytes
    album = read_table(out / "Album" / "merged_infer_Album.csv")
    artist = read_table(out / "Artist" / "merged_infer_Artist.csv")
    linked = album["ArtistId"].dropna()
    assert linked.isin(set(artist["ArtistId"])).all()
    assert album["ArtistId"].notna().all()


def test_a_least_number_of_children_per_parent_holds_at_any_scale(tmp_path):
    """71 of Chinook's 275 artists have no album; an FK's min_children: 1 (what a dbt not_null
    on a left-joined aggregate implies) gives every generated artist at least one."""
    from syngen.linked.generate import infer_tables
    from syngen.linked.train import train_tables

    for name in ("Artist", "Album"):
        shutil.copy(CHINOOK_YAML.parent / f"{name}.csv", tmp_path / f"{name}.csv")
    (tmp_path / "m.yaml").write_text("""
Artist:
  source: Artist.csv
  keys: {pk: {type: PK, columns: [ArtistId]}}
Album:
  source: Album.csv
  keys:
    pk: {type: PK, columns: [AlbumId]}
    artist: {type: FK, columns: [ArtistId], references: {table: Artist, columns: [ArtistId]}, min_children: 1}
""")
    metadata = load_metadata(tmp_path / "m.yaml")
    assert metadata.tables["Album"].foreign_keys[0].min_children == 1
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    for scale in (1.0, 0.2):
        out = tmp_path / f"out{int(scale * 10)}"
        infer_tables(metadata, {"random_seed": 2, "scale": scale}, tmp_path / "models", output=str(out))
        artist, album = read_table(out / "Artist.csv"), read_table(out / "Album.csv")
        assert artist["ArtistId"].isin(set(album["ArtistId"])).all(), scale
        assert len(album) >= len(artist) and album["ArtistId"].isin(set(artist["ArtistId"])).all()


def test_a_metadata_file_in_the_original_syngen_style_works(tmp_path):
    """Sources under train_settings, relative to the working folder; CSV format options;
    nulls for unset values; a child's size set by hand; a primary key with a duplicate."""
    (tmp_path / "data").mkdir()
    artists = read_table(CHINOOK_YAML.parent / "Artist.csv")
    pd.concat([artists, artists.head(1)]).to_csv(tmp_path / "data" / "artists.csv", sep=";", index=False)
    shutil.copy(CHINOOK_YAML.parent / "Album.csv", tmp_path / "data" / "albums.csv")
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "metadata.yaml").write_text("""
global:
  train_settings: {epochs: 3, drop_null: false, row_limit: null, print_report: false}
ARTISTS:
  train_settings:
    source: "./data/artists.csv"
  format: {sep: ";"}
  keys:
    PK_ARTIST: {type: "PK", columns: [ArtistId]}
ALBUMS:
  train_settings:
    source: "./data/albums.csv"
  infer_settings:
    size: 1000
    destination: "../out/albums.parquet"
  keys:
    PK_ALBUM: {type: "PK", columns: [AlbumId]}
    FK1: {type: "FK", columns: [ArtistId], references: {table: "ARTISTS", columns: [ArtistId]}}
""")
    trained = run_cli("train", "--metadata_path", "conf/metadata.yaml", cwd=tmp_path)
    assert "PK PK_ARTIST (ArtistId) is not unique in the source: 1 repeated value(s)" in " ".join(
        trained.stderr.split()
    )
    run_cli("infer", "--metadata_path", "conf/metadata.yaml", cwd=tmp_path)
    albums = pd.read_parquet(tmp_path / "out" / "albums.parquet")
    artists_out = read_table(tmp_path / "model_artifacts" / "tmp_store" / "ARTISTS" / "merged_infer_ARTISTS.csv")
    assert len(albums) == 1000 and albums["AlbumId"].is_unique
    assert len(artists_out) == len(artists) + 1 and artists_out["ArtistId"].is_unique
    assert albums["ArtistId"].isin(set(artists_out["ArtistId"])).all()


def test_a_cycle_is_generated_valid_and_orphans_can_be_dropped(tmp_path):
    """Artist.BestAlbumId -> Album and Album.ArtistId -> Artist close a loop (neither FK is
    nullable); albums of a removed artist are dropped on request."""
    artists = read_table(CHINOOK_YAML.parent / "Artist.csv")
    albums = read_table(CHINOOK_YAML.parent / "Album.csv")
    best = albums.groupby("ArtistId")["AlbumId"].min()
    artists = artists[artists["ArtistId"].isin(best.index)].assign(BestAlbumId=lambda a: a["ArtistId"].map(best))
    artists = artists[artists["ArtistId"] != 22]  # Led Zeppelin's 14 albums become orphans
    artists.to_csv(tmp_path / "Artist.csv", index=False)
    albums.to_csv(tmp_path / "Album.csv", index=False)
    (tmp_path / "m.yaml").write_text("""
global: {train_settings: {epochs: 5}}
Artist:
  source: Artist.csv
  keys:
    pk: {type: PK, columns: [ArtistId]}
    best_album: {type: FK, columns: [BestAlbumId], references: {table: Album, columns: [AlbumId]}}
Album:
  source: Album.csv
  train_settings: {orphans: drop}
  keys:
    pk: {type: PK, columns: [AlbumId]}
    artist: {type: FK, columns: [ArtistId], references: {table: Artist, columns: [ArtistId]}}
""")
    trained = run_cli("train", "--metadata_path", "m.yaml", cwd=tmp_path)
    assert "14 row(s) reference no row of 'Artist' (orphans); dropped" in " ".join(trained.stderr.split())
    run_cli("infer", "--metadata_path", "m.yaml", cwd=tmp_path)
    out = tmp_path / "model_artifacts" / "tmp_store"
    artist = read_table(out / "Artist" / "merged_infer_Artist.csv")
    album = read_table(out / "Album" / "merged_infer_Album.csv")
    assert artist["BestAlbumId"].notna().all() and artist["BestAlbumId"].isin(set(album["AlbumId"])).all()
    assert album["ArtistId"].notna().all() and album["ArtistId"].isin(set(artist["ArtistId"])).all()
    assert abs(len(album) - (len(albums) - 14)) <= 0.1 * len(albums)


def test_no_row_references_itself_even_when_all_share_one_parent():
    rows = np.array([4] * 7 + [-1])  # what Chinook's 8 employees drew: everyone reports to row 4
    avoid_self_links(rows, np.random.default_rng(0))
    linked = rows >= 0
    assert (rows[linked] != np.arange(8)[linked]).all() and (rows == -1).sum() == 1


def test_line_numbers_start_again_with_each_generated_order(tmp_path):
    """TPC-H numbers each order's lines 1..n (its PK is the order and the number): generated
    lines are numbered within their generated order, not 1..n across the table."""
    from tpch_tables import write_tpch

    from syngen.linked.generate import infer_tables
    from syngen.linked.train import train_tables

    write_tpch(tmp_path, scale=0.001)
    (tmp_path / "m.yaml").write_text("""
orders:
  source: orders.parquet
  keys: {pk: {type: PK, columns: [o_orderkey]}}
lineitem:
  source: lineitem.parquet
  keys:
    pk: {type: PK, columns: [l_orderkey, l_linenumber]}
    order: {type: FK, columns: [l_orderkey], references: {table: orders, columns: [o_orderkey]}}
""")
    metadata = load_metadata(tmp_path / "m.yaml")
    reports = train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    assert any("l_linenumber count(s) the rows of each 'orders' row" in n for r in reports for n in r.notes)
    infer_tables(metadata, {"random_seed": 2}, tmp_path / "models", output=str(tmp_path / "out"))
    lines = read_table(tmp_path / "out" / "lineitem.csv")
    numbers = lines.groupby("l_orderkey")["l_linenumber"].agg(["min", "max", "count"])
    assert (numbers["min"] == 1).all() and (numbers["max"] == numbers["count"]).all()
    assert numbers["count"].max() <= 7 and not lines[["l_orderkey", "l_linenumber"]].duplicated().any()


def test_totals_of_children_are_filled_in_a_database_target(tmp_path):
    """Invoices go into the database before their lines; their totals are set once the lines exist."""
    import duckdb

    from syngen.linked.generate import infer_tables
    from syngen.linked.train import train_tables

    for name in ("Invoice", "InvoiceLine"):
        shutil.copy(CHINOOK_YAML.parent / f"{name}.csv", tmp_path / f"{name}.csv")
    (tmp_path / "m.yaml").write_text("""
Invoice:
  source: Invoice.csv
  keys: {pk: {type: PK, columns: [InvoiceId]}}
InvoiceLine:
  source: InvoiceLine.csv
  keys:
    pk: {type: PK, columns: [InvoiceLineId]}
    invoice: {type: FK, columns: [InvoiceId], references: {table: Invoice, columns: [InvoiceId]}}
""")
    metadata = load_metadata(tmp_path / "m.yaml")
    train_tables(metadata, {"epochs": 1, "random_seed": 1}, tmp_path / "models")
    url = f"duckdb:///{tmp_path / 'out.duckdb'}"
    infer_tables(metadata, {"random_seed": 2}, tmp_path / "models", output=url)
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as connection:
        off = connection.execute("""select count(*) from "Invoice" i left join (select "InvoiceId", sum("UnitPrice")
                                    as paid from "InvoiceLine" group by 1) l using ("InvoiceId")
                                    where abs(i."Total" - coalesce(l.paid, 0)) >= 0.005""").fetchone()[0]
    assert off == 0
