"""Databases as they are found: values that break their declared type, unique indexes,
replacing tables that reference each other, and the rest of a schema (empty tables, binary
columns, CHAR and NUMERIC types, defaults, CHECKs, schemas, views). Every test builds its own
small database in SQLite, DuckDB or PostgreSQL and asks the target database what it holds."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syngen.adapters import sql
from syngen.errors import SyngenError

EPOCHS = 2


def _sqlite(path, script: str, rows: dict[str, list[tuple]]) -> str:
    connection = sqlite3.connect(path)
    connection.executescript(script)
    for table, values in rows.items():
        marks = ", ".join("?" * len(values[0]))
        connection.executemany(f'insert into "{table}" values ({marks})', values)
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def _column_types(url: str, table: str) -> dict[str, str]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "duckdb":
            rows = connection.execute(
                sa.text("select column_name, data_type from duckdb_columns() where table_name = :t"), {"t": table}
            ).all()
            found = dict(rows)
        else:
            found = {c["name"]: str(c["type"]) for c in sa.inspect(connection).get_columns(table)}
    engine.dispose()
    return found


def _read(url: str, table: str) -> pd.DataFrame:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        frame = pd.read_sql(sa.select(sa.text("*")).select_from(sa.table(table)), connection)
    engine.dispose()
    return frame


def _target(dialect: str, folder, request) -> str:
    """A fresh target database of the dialect (PostgreSQL: a new database on the test server)."""
    if dialect == "postgresql":
        return request.getfixturevalue("postgres")()
    path = folder / f"target_{len(list(folder.glob('target_*')))}.{dialect}"
    return f"{dialect}:///{path}"


# -- stored values that break the declared type ------------------------------------------------


@pytest.fixture(scope="module")
def flags(tmp_path_factory):
    """A SQLite table whose SMALLINT column holds 't'/'f' and whose INTEGER column holds text."""
    folder = tmp_path_factory.mktemp("flags")
    rng = np.random.default_rng(0)
    rows = [
        (
            i,
            ["t", "f", None][rng.choice(3, p=[0.6, 0.3, 0.1])],
            "n/a" if i % 7 == 0 else int(rng.integers(1, 50)),
            float(rng.normal(10, 2)),
        )
        for i in range(1, 301)
    ]
    url = _sqlite(
        folder / "flags.sqlite",
        "create table flags (id integer primary key, active smallint, qty integer, price real)",
        {"flags": rows},
    )
    from syngen.runs import train_table

    result = train_table(url, "flags", epochs=EPOCHS, random_seed=1, artifacts_dir=folder / "artifacts")
    return folder, result


def test_values_that_break_the_declared_type_are_said_once_and_learned_as_stored(flags):
    _, result = flags
    said = [n for n in result.notes if "declared" in n]
    assert (
        "table 'flags' column 'active': declared SMALLINT but holds text ('f', 't'); learned as boolean, "
        "written as BOOLEAN" in said
    )
    qty = next(n for n in said if "'qty'" in n)
    assert qty.startswith(
        "table 'flags' column 'qty': declared INTEGER but holds text in 42 of 300 rows; learned and written as TEXT"
    )
    assert "n/a" not in qty  # no values of a column that may be identifying
    assert result.kinds["active"] == "boolean"


@pytest.mark.parametrize("target", ["duckdb", "sqlite", "postgresql"])
def test_such_columns_are_written_as_what_they_hold(flags, target, request):
    from syngen.runs import infer_table

    folder, _ = flags
    url = _target(target, folder, request)
    infer_table("flags", 500, output=url, if_exists="replace", random_seed=2, artifacts_dir=folder / "artifacts")
    frame = _read(url, "flags")
    types = {k: v.upper() for k, v in _column_types(url, "flags").items()}
    assert len(frame) == 500 and frame["id"].is_unique
    assert types["active"] == "BOOLEAN" and types["qty"] in ("TEXT", "VARCHAR")
    active = frame["active"].dropna()
    assert set(active.astype(bool)) == {True, False} and 0.6 < active.astype(bool).mean() < 0.8
    assert 0.03 < frame["active"].isna().mean() < 0.2


def test_a_failed_first_write_to_a_new_database_file_leaves_no_file(flags):
    from syngen.runs import infer_table

    folder, _ = flags
    for name in ("new.duckdb", "new.sqlite"):
        url = f"{name.split('.')[1]}:///{folder / 'fresh' / name}"
        (folder / "fresh").mkdir(exist_ok=True)

        def stop(rows):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            infer_table("flags", 2000, batch_size=500, output=url, artifacts_dir=folder / "artifacts", on_rows=stop)
        assert list((folder / "fresh").iterdir()) == []
        infer_table("flags", 50, output=url, artifacts_dir=folder / "artifacts")
        assert [p.name for p in (folder / "fresh").iterdir()] == [name]
        assert len(_read(url, "flags")) == 50
        (folder / "fresh" / name).unlink()


def test_a_batch_that_does_not_fit_its_column_type_fails_before_anything_is_written(tmp_path):
    from syngen.adapters.sql import ColumnSpec
    from syngen.adapters.sql_write import DatabaseWriter, TableSpec

    spec = TableSpec("t", [ColumnSpec("n", {"type": "Integer"}), ColumnSpec("on", {"type": "Boolean"})])
    url = f"duckdb:///{tmp_path / 't.duckdb'}"
    with DatabaseWriter(url, [spec]) as writer:  # boolean-like text is converted, and goes in
        writer.insert("t", [pd.DataFrame({"n": [1, 2], "on": ["t", "F"]})])
    assert _read(url, "t")["on"].tolist() == [True, False]
    with pytest.raises(SyngenError, match=r"table 't' column 'n': 1 generated value\(s\) do not fit INTEGER"):
        with DatabaseWriter(url, [spec], "append") as writer:
            writer.insert("t", [pd.DataFrame({"n": [3, "x"], "on": [True, None]})])
    assert len(_read(url, "t")) == 2


# -- unique indexes ---------------------------------------------------------------------------

_INDEXED = [
    "create table person (id integer primary key, code varchar(8) not null, nick varchar(20), "
    "shop integer, seat integer)",
    "create unique index person_code on person (code)",
    "create unique index person_seat on person (shop, seat)",
    "create unique index person_nick on person (nick) where nick is not null",
    "create unique index person_lower on person (lower(code))",
    "create index person_shop on person (shop)",
]


def _indexed_source(dialect: str, folder, request) -> str:
    url = _target(dialect, folder, request)
    rows = pd.DataFrame(
        {
            "id": range(1, 201),
            "code": [f"C{i:04d}" for i in range(200)],
            "nick": [None if i % 3 else f"n{i}" for i in range(200)],
            "shop": [i % 10 for i in range(200)],
            "seat": [i // 10 for i in range(200)],
        }
    )
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in _INDEXED:
            if not (dialect == "duckdb" and " where " in statement):  # DuckDB has no partial index
                connection.exec_driver_sql(statement)
        rows.to_sql("person", connection, if_exists="append", index=False)
    engine.dispose()
    return url


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgresql"])
def test_unique_indexes_are_read_as_unique_keys(dialect, tmp_path, request):
    url = _indexed_source(dialect, tmp_path, request)
    frame, notes, declared = sql.read_table(url, "person")
    keys = {(k.type, k.columns) for k in declared.keys}
    assert keys == {("PK", ("id",)), ("UQ", ("code",)), ("UQ", ("shop", "seat"))}
    skipped = " ".join(notes)
    if dialect != "duckdb":
        assert "unique index 'person_nick' of table 'person' is partial (WHERE): not kept as a key" in notes
    assert "unique index 'person_lower' of table 'person' is on an expression: not kept as a key" in skipped
    assert "person_shop" not in skipped and "C0001" not in skipped


def test_a_unique_index_is_generated_unique_and_created_in_the_target(tmp_path, request):
    from syngen.runs import infer_table, train_table

    url = _indexed_source("sqlite", tmp_path, request)
    train_table(url, "person", epochs=EPOCHS, random_seed=1, artifacts_dir=tmp_path / "artifacts")
    for dialect in ("duckdb", "postgresql", "sqlite"):
        target = _target(dialect, tmp_path, request)
        infer_table("person", 400, output=target, random_seed=3, artifacts_dir=tmp_path / "artifacts")
        out = sql.describe(target, ["person"])["person"]
        assert {(k.type, k.columns) for k in out.keys} >= {("UQ", ("code",)), ("UQ", ("shop", "seat"))}
        frame = _read(target, "person")
        assert len(frame) == 400 and frame["code"].is_unique and not frame[["shop", "seat"]].duplicated().any()


# -- replacing tables that reference each other ------------------------------------------------


def _store_specs():
    from syngen.adapters.sql import ColumnSpec
    from syngen.adapters.sql_write import TableSpec
    from syngen.metadata import Key

    store = TableSpec(
        "store",
        [ColumnSpec("store_id", {"type": "Integer"}, False), ColumnSpec("manager_staff_id", {"type": "Integer"})],
        [Key.declared("PK", ("store_id",)), Key.declared("FK", ("manager_staff_id",), "staff", ("staff_id",))],
        closing={("manager_staff_id",)},
    )
    staff = TableSpec(
        "staff",
        [ColumnSpec("staff_id", {"type": "Integer"}, False), ColumnSpec("store_id", {"type": "Integer"})],
        [Key.declared("PK", ("staff_id",)), Key.declared("FK", ("store_id",), "store", ("store_id",))],
    )
    return [store, staff]


def _write_stores(url: str, if_exists: str, stores: int) -> None:
    from syngen.adapters.sql_write import DatabaseWriter

    store = pd.DataFrame({"store_id": range(1, stores + 1), "manager_staff_id": range(1, stores + 1)})
    staff = pd.DataFrame(
        {"staff_id": range(1, 2 * stores + 1), "store_id": [1 + i % stores for i in range(2 * stores)]}
    )
    with DatabaseWriter(url, _store_specs(), if_exists) as writer:
        writer.insert("store", [store.assign(manager_staff_id=None)])
        writer.insert("staff", [staff])
        writer.fill_later("store", store, writer.specs["store"].closing_columns)


@pytest.mark.parametrize("dialect", ["duckdb", "postgresql", "sqlite"])
def test_replace_drops_a_key_cycle_children_first_and_never_a_table_it_does_not_replace(dialect, tmp_path, request):
    url = _target(dialect, tmp_path, request)
    _write_stores(url, "fail", 2)
    _write_stores(url, "replace", 3)  # staff <-> store (DuckDB: staff -> store; it cannot close a loop)
    assert len(_read(url, "store")) == 3 and len(_read(url, "staff")) == 6
    fks = {k.parent for s in sql.describe(url, ["store", "staff"]).values() for k in s.keys if k.type == "FK"}
    assert fks == ({"store"} if dialect == "duckdb" else {"store", "staff"})

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "create table rental (id integer primary key, staff_id integer references staff (staff_id))"
        )
        connection.exec_driver_sql("insert into rental values (1, 4)")
    engine.dispose()
    with pytest.raises(SyngenError) as failed:
        _write_stores(url, "replace", 1)
    assert str(failed.value).startswith(
        f"{sql.safe_url(url)}: table 'rental' (not being replaced) has a foreign key to 'staff'"
    ) and "\n" not in str(failed.value)
    assert len(_read(url, "store")) == 3 and len(_read(url, "staff")) == 6 and len(_read(url, "rental")) == 1


# -- CHECK constraints and defaults -------------------------------------------------------------


def test_repair_makes_every_row_satisfy_the_common_check_forms():
    from syngen.adapters.checks import portable_check, repair, violations

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "qty": rng.integers(-50, 50, 1000),
            "rate": rng.normal(0.5, 1, 1000),
            "status": rng.choice(["new", "old", "odd", None], 1000, p=[0.5, 0.3, 0.1, 0.1]),
            "code": rng.choice(["AB", "ABCD", "ABCDEFG"], 1000),
            "lo": rng.integers(0, 10, 1000),
            "hi": rng.integers(0, 10, 1000),
            "note": rng.choice(["x", None], 1000),
        }
    )
    sources = {
        "qty >= 0": "sqlite",
        "rate BETWEEN 0 AND 1": "sqlite",
        "length(code) <= 4": "sqlite",
        "status = ANY (ARRAY['new'::text, 'old'::text])": "postgres",
        "lo < hi": "sqlite",
        "(note IS NOT NULL) OR (qty > 40)": "duckdb",
        "10 > lo AND qty <> 7": "sqlite",
    }
    checks = [
        portable_check(sql, dialect.replace("postgres", "postgresql"), list(frame.columns), set())[0]
        for sql, dialect in sources.items()
    ]
    assert None not in checks and all(violations(frame, c) > 0 for c in checks[:6])
    fixed = repair(frame, checks)
    assert {c: violations(fixed, c) for c in checks} == {c: 0 for c in checks}
    assert fixed["status"].isna().sum() == frame["status"].isna().sum()  # null passes a CHECK, as in SQL
    kept = frame["status"].isin(["new", "old"])
    assert fixed.loc[kept, "status"].equals(frame.loc[kept, "status"])  # passing rows untouched
    moved = fixed.loc[~kept & frame["status"].notna(), "status"].value_counts(normalize=True)
    assert 0.45 < moved["new"] < 0.8  # an allowed value drawn by the batch's own frequencies
    assert fixed["qty"].min() == 0 and fixed["rate"].between(0, 1).all()


def test_checks_that_cannot_be_guaranteed_are_said_and_left_out():
    from syngen.adapters.checks import portable_check

    columns = ["a", "b", "id"]
    assert portable_check("a * 2 > b", "sqlite", columns, set()) == (
        None,
        "generated rows cannot be guaranteed to satisfy it",
    )
    assert portable_check("id > 0", "sqlite", columns, {"id"})[0] is None
    assert portable_check("zz > 0", "sqlite", columns, set())[1] == "it names a column that is not generated"
    assert portable_check("A >= 0", "sqlite", columns, set())[0] == '"a" >= 0'


@pytest.fixture(scope="module")
def declared(tmp_path_factory):
    """A SQLite table with CHAR, VARCHAR and NUMERIC types, defaults and CHECKs, learned."""
    folder = tmp_path_factory.mktemp("declared")
    rng = np.random.default_rng(1)
    rows = [
        (
            i,
            f"{['AB', 'CD', 'EF'][i % 3]}{i % 10}",
            f"item {i}",
            round(float(rng.uniform(1, 99)), 2),
            ["new", "old"][i % 2],
            int(rng.integers(0, 20)),
            int(rng.integers(20, 40)),
            int(rng.integers(1, 9)),
        )
        for i in range(1, 301)
    ]
    url = _sqlite(
        folder / "declared.sqlite",
        """
        create table item (id integer primary key, code char(3) not null, name varchar(20),
            price numeric(10, 2) default 1 check (price > 0),
            status text default 'new' check (status in ('new', 'old')),
            lo integer, hi integer, qty integer check (qty between 1 and 8),
            check (lo <= hi), check (lower(name) <> name || 'x'))""",
        {"item": rows},
    )
    from syngen.runs import train_table

    result = train_table(url, "item", epochs=EPOCHS, random_seed=1, artifacts_dir=folder / "artifacts")
    return folder, result


def test_declared_types_defaults_and_checks_reach_every_target(declared, request):
    from syngen.runs import infer_table

    folder, result = declared
    assert (
        "CHECK (lower(name) <> name || 'x') of table 'item' is left out of the target: generated rows cannot "
        "be guaranteed to satisfy it" in result.notes
    )
    expected = {
        "duckdb": {"code": "VARCHAR", "name": "VARCHAR", "price": "DECIMAL(10,2)"},
        "sqlite": {"code": "CHAR(3)", "name": "VARCHAR(20)", "price": "NUMERIC(10, 2)"},
        "postgresql": {"code": "CHAR(3)", "name": "VARCHAR(20)", "price": "NUMERIC(10, 2)"},
    }
    for dialect, types in expected.items():
        url = _target(dialect, folder, request)
        infer_table("item", 400, output=url, random_seed=5, artifacts_dir=folder / "artifacts")
        assert {c: t for c, t in _column_types(url, "item").items() if c in types} == types
        frame = _read(url, "item")
        assert len(frame) == 400 and (frame["qty"].dropna().between(1, 8)).all()
        assert (frame["lo"] <= frame["hi"]).all() and frame["status"].isin(["new", "old"]).all()
        engine = sa.create_engine(url)
        with pytest.raises(sa.exc.DBAPIError):  # the target declares them: it refuses what breaks them
            with engine.begin() as connection:
                connection.execute(sa.text("insert into item (id, code, qty) values (-1, 'ZZ9', 9)"))
        with engine.begin() as connection:
            connection.execute(sa.text("insert into item (id, code, lo, hi, qty) values (-2, 'ZZ8', 1, 2, 3)"))
            added = connection.execute(sa.text("select status, price from item where id = -2")).one()
        engine.dispose()
        assert added[0] == "new" and float(added[1]) == 1  # the defaults


# -- empty tables --------------------------------------------------------------------------------

_EMPTY_SCHEMA = """
    create table customer (id integer primary key, name text, score real);
    create table demographic (type_id text primary key, descr text);
    create table customer_demo (customer_id integer not null references customer (id),
                                type_id text not null references demographic (type_id),
                                primary key (customer_id, type_id));
    create table visit (id integer primary key, customer_id integer not null references customer (id),
                        demo_type text references demographic (type_id), minutes integer);"""


def _empty_source(folder, not_null_link: bool = False) -> str:
    rng = np.random.default_rng(3)
    customers = [(i, f"c{i}", float(rng.normal(50, 10))) for i in range(1, 61)]
    visits = [
        (i, int(rng.integers(1, 61)), "x" if not_null_link else None, int(rng.integers(1, 90))) for i in range(1, 201)
    ]
    schema = (
        _EMPTY_SCHEMA.replace("demo_type text references", "demo_type text not null references")
        if not_null_link
        else _EMPTY_SCHEMA
    )
    return _sqlite(folder / "empty.sqlite", schema, {"customer": customers, "visit": visits})


def _linked_run(folder, url: str):
    from syngen.metadata import load_metadata
    from syngen.metadata.discover import discover

    (folder / "metadata.yaml").write_text(discover(url))
    return load_metadata(folder / "metadata.yaml")


@pytest.fixture(scope="module")
def with_empty(tmp_path_factory):
    """A database with two empty tables (one referencing the other), learned whole."""
    from syngen.linked.train import train_tables

    folder = tmp_path_factory.mktemp("empty")
    metadata = _linked_run(folder, _empty_source(folder))
    notes = []
    reports = train_tables(metadata, {"epochs": EPOCHS, "random_seed": 1}, folder / "artifacts", log=notes.append)
    return folder, notes, reports


def test_empty_tables_are_listed_and_said_at_training(with_empty):
    folder, notes, reports = with_empty
    text = (folder / "metadata.yaml").read_text()
    assert "demographic:" in text and "customer_demo:" in text
    for name in ("customer_demo", "demographic"):
        assert f"table '{name}' is empty: created empty in the target, with its keys" in notes
        assert not (folder / "artifacts" / "resources" / name / "model.json").exists()
    from syngen.runs import infer_table

    with pytest.raises(
        SyngenError,
        match=r"^table 'demographic' was empty in its source: .* holds its schema, no "
        r"model; infer --metadata_path creates it, empty",
    ):
        infer_table("demographic", 10, artifacts_dir=folder / "artifacts")
    visit = next(r for r in reports if r.table == "visit")
    assert "FK fk_demo_type -> demographic: 'demographic' is empty, so demo_type is generated null" in visit.notes


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgresql"])
def test_empty_tables_are_created_empty_with_their_keys(with_empty, dialect, request):
    from syngen.linked.generate import infer_tables
    from syngen.metadata import load_metadata

    folder, _, _ = with_empty
    url = _target(dialect, folder, request)
    metadata = load_metadata(folder / "metadata.yaml", check_sources=False)
    reports = {r.table: r for r in infer_tables(metadata, {"random_seed": 2}, folder / "artifacts", output=url)}
    assert reports["demographic"].rows == 0 and reports["customer_demo"].rows == 0
    declared = sql.describe(url)
    keys = {name: {(k.type, k.columns, k.parent) for k in s.keys} for name, s in declared.items()}
    assert keys["demographic"] == {("PK", ("type_id",), None)}
    assert keys["customer_demo"] == {
        ("PK", ("customer_id", "type_id"), None),
        ("FK", ("customer_id",), "customer"),
        ("FK", ("type_id",), "demographic"),
    }
    assert ("FK", ("demo_type",), "demographic") in keys["visit"]
    assert len(_read(url, "demographic")) == 0 and len(_read(url, "customer_demo")) == 0
    visits = _read(url, "visit")
    assert len(visits) > 100 and visits["demo_type"].isna().all() and visits["customer_id"].notna().all()


def test_a_not_null_link_to_an_empty_table_is_one_clear_line(tmp_path):
    from syngen.linked.train import train_tables

    metadata = _linked_run(tmp_path, _empty_source(tmp_path, not_null_link=True))
    with pytest.raises(SyngenError) as failed:
        train_tables(metadata, {"epochs": EPOCHS}, tmp_path / "artifacts")
    assert str(failed.value) == (
        "table 'visit' column 'demo_type' is NOT NULL but references the empty table "
        "'demographic': no generated row could satisfy it; give 'demographic' rows, or "
        "leave 'visit' out of the metadata file"
    )


# -- binary columns ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    """A SQLite table with a BLOB column of varied lengths and nulls, learned."""
    folder = tmp_path_factory.mktemp("blobs")
    rng = np.random.default_rng(5)
    rows = [
        (i, ["a", "b", "c"][i % 3], None if i % 5 == 0 else b"\x89PNG" + rng.bytes(int(rng.integers(20, 400))))
        for i in range(1, 301)
    ]
    url = _sqlite(
        folder / "blobs.sqlite",
        "create table picture (id integer primary key, kind text, data blob)",
        {"picture": rows},
    )
    from syngen.runs import train_table

    result = train_table(url, "picture", epochs=EPOCHS, random_seed=1, artifacts_dir=folder / "artifacts")
    return folder, result, rows


def test_binary_columns_are_learned_by_their_lengths_only(blobs):
    folder, result, rows = blobs
    assert result.kinds["data"] == "binary" and not any("binary" in n for n in result.notes)
    saved = (folder / "artifacts" / "resources" / "picture" / "model.json").read_text()
    assert "PNG" not in saved and rows[1][2][4:12].hex() not in saved


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite", "postgresql"])
def test_binary_columns_are_written_as_binary(blobs, dialect, request):
    from syngen.runs import infer_table

    folder, _, rows = blobs
    url = _target(dialect, folder, request)
    infer_table("picture", 1000, output=url, random_seed=2, artifacts_dir=folder / "artifacts", batch_size=300)
    assert _column_types(url, "picture")["data"].upper() in ("BLOB", "BYTEA")
    data = _read(url, "picture")["data"]
    present = data.dropna().map(bytes)
    lengths = present.map(len)
    source = pd.Series([len(r[2]) for r in rows if r[2] is not None])
    assert 0.12 < data.isna().mean() < 0.28 and lengths.between(source.min(), source.max()).all()
    assert abs(lengths.median() - source.median()) < 40 and present.nunique() == len(present)
    assert not present.map(lambda value: value.startswith(b"\x89PNG")).any()  # random bytes, nothing copied


def test_binary_columns_go_to_parquet_as_binary_and_to_csv_as_hex(blobs):
    import pyarrow.parquet as pq

    from syngen.runs import infer_table

    folder, _, _ = blobs
    infer_table("picture", 200, output=folder / "p.parquet", random_seed=2, artifacts_dir=folder / "artifacts")
    table = pq.read_table(folder / "p.parquet")
    assert str(table.schema.field("data").type) == "binary"
    infer_table("picture", 200, output=folder / "p.csv", random_seed=2, artifacts_dir=folder / "artifacts")
    text = pd.read_csv(folder / "p.csv")["data"].dropna()
    parquet = table.column("data").to_pandas().dropna()
    assert text.str.fullmatch(r"[0-9a-f]+").all() and text.tolist() == [b.hex() for b in parquet]


# -- tables in a schema other than the default -------------------------------------------------


def _schema_source(url: str) -> str:
    """A PostgreSQL database with customers and orders in schema 'sales', and a public table."""
    rng = np.random.default_rng(7)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in (
            "create schema sales",
            "create table region (id integer primary key, name text)",
            "create table sales.customer (id integer primary key, name text, score double precision)",
            "create table sales.orders (id integer primary key, "
            "customer_id integer not null references sales.customer (id), "
            "region_id integer references region (id), amount double precision)",
        ):
            connection.exec_driver_sql(statement)
        pd.DataFrame({"id": range(1, 5), "name": list("nesw")}).to_sql(
            "region", connection, if_exists="append", index=False
        )
        pd.DataFrame({"id": range(1, 61), "name": [f"c{i}" for i in range(60)], "score": rng.normal(5, 1, 60)}).to_sql(
            "customer", connection, schema="sales", if_exists="append", index=False
        )
        pd.DataFrame(
            {
                "id": range(1, 301),
                "customer_id": rng.integers(1, 61, 300),
                "region_id": rng.integers(1, 5, 300),
                "amount": rng.gamma(2, 10, 300),
            }
        ).to_sql("orders", connection, schema="sales", if_exists="append", index=False)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def sales(tmp_path_factory, postgres):
    """The 'sales' schema of a PostgreSQL database, learned whole (as --schema sales does)."""
    from syngen.linked.train import train_tables
    from syngen.metadata import load_metadata
    from syngen.metadata.discover import discover

    folder = tmp_path_factory.mktemp("sales")
    url = _schema_source(postgres())
    (folder / "metadata.yaml").write_text(discover(url, schema="sales"))
    train_tables(load_metadata(folder / "metadata.yaml"), {"epochs": EPOCHS, "random_seed": 1}, folder / "artifacts")
    return folder, url


def test_a_schema_is_read_with_its_keys(sales):
    folder, url = sales
    text = (folder / "metadata.yaml").read_text()
    assert "sales.customer:" in text and "sales.orders:" in text and "\nregion:" not in text
    assert "references: {table: sales.customer, columns: [id]}" in text
    declared = sql.describe(url, ["sales.orders"])["sales.orders"]
    assert {(k.type, k.parent) for k in declared.keys} == {
        ("PK", None),
        ("FK", "sales.customer"),
        ("FK", "region"),
    }
    assert sql.row_counts(url, ["sales.orders", "region"]) == {"sales.orders": 300, "region": 4}


@pytest.mark.parametrize("dialect", ["postgresql", "duckdb"])
def test_a_schema_is_recreated_in_the_target(sales, dialect, request):
    from syngen.linked.generate import infer_tables
    from syngen.metadata import load_metadata

    folder, _ = sales
    url = _target(dialect, folder, request)
    metadata = load_metadata(folder / "metadata.yaml", check_sources=False)
    infer_tables(metadata, {"random_seed": 2}, folder / "artifacts", output=url)
    assert sql.table_names(url) == [] and sql.table_names(url, schema="sales") == ["sales.customer", "sales.orders"]
    declared = sql.describe(url, ["sales.orders"])["sales.orders"]
    assert ("FK", ("customer_id",), "sales.customer") in {(k.type, k.columns, k.parent) for k in declared.keys}
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        orders = pd.read_sql(sa.select(sa.text("*")).select_from(sa.table("orders", schema="sales")), connection)
        customers = pd.read_sql(sa.select(sa.text("id")).select_from(sa.table("customer", schema="sales")), connection)
    engine.dispose()
    assert len(orders) > 100 and orders["customer_id"].isin(set(customers["id"])).all()


def test_a_schema_table_alone_and_sqlite_refusing_schemas(sales, tmp_path, postgres):
    from syngen.runs import infer_table, train_table

    _, url = sales
    train_table(url, "sales.customer", epochs=EPOCHS, random_seed=1, artifacts_dir=tmp_path)
    target = postgres()
    infer_table("sales.customer", 50, output=target, artifacts_dir=tmp_path)
    infer_table("sales.customer", 20, output=target, artifacts_dir=tmp_path, if_exists="append")
    assert sql.row_counts(target, ["sales.customer"]) == {"sales.customer": 70}
    with pytest.raises(SyngenError) as refused:
        infer_table("sales.customer", 50, output=f"sqlite:///{tmp_path / 'x.sqlite'}", artifacts_dir=tmp_path)
    assert str(refused.value) == (
        "SQLite has no schemas, so table 'sales.customer' cannot be written to "
        f"sqlite:///{tmp_path / 'x.sqlite'}; write it to PostgreSQL or DuckDB"
    )
    assert not (tmp_path / "x.sqlite").exists()


def test_schema_on_the_command_line_and_in_duckdb(sales, tmp_path):
    from conftest import run_cli

    _, url = sales
    done = run_cli("syngen", "metadata", "infer", "--source", url, "--schema", "sales", cwd=tmp_path)
    assert "sales.orders:" in done.stdout and "references: {table: sales.customer" in done.stdout
    wrong = run_cli("train", "--source", url, "--table_name", "x", "--schema", "sales", cwd=tmp_path, check=False)
    assert wrong.returncode == 1 and "--schema applies to a database URL as --source alone" in wrong.stderr
    engine = sa.create_engine(f"duckdb:///{tmp_path / 's.duckdb'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("create schema shop")
        connection.exec_driver_sql("create table shop.parent (id integer primary key, name varchar)")
        connection.exec_driver_sql(
            "create table shop.child (id integer primary key, parent_id integer references shop.parent (id))"
        )
        connection.exec_driver_sql("insert into shop.parent values (1, 'a'), (2, 'b')")
    engine.dispose()
    duck = f"duckdb:///{tmp_path / 's.duckdb'}"
    declared = sql.describe(duck, schema="shop")
    assert list(declared) == ["shop.child", "shop.parent"]
    assert [(k.type, k.parent) for k in declared["shop.child"].keys] == [("PK", None), ("FK", "shop.parent")]
    assert sql.read_table(duck, "shop.parent")[0]["name"].tolist() == ["a", "b"]


def test_binary_values_from_duckdb_are_bytes(tmp_path):
    engine = sa.create_engine(f"duckdb:///{tmp_path / 'b.duckdb'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("create table t (id integer primary key, b blob)")
        connection.exec_driver_sql("insert into t values (1, '\\xAA\\x00'::blob), (2, null), (3, 'abc'::blob)")
    engine.dispose()
    frame = sql.read_table(f"duckdb:///{tmp_path / 'b.duckdb'}", "t")[0]
    assert frame["b"].where(frame["b"].notna(), None).tolist() == [b"\xaa\x00", None, b"abc"]


def test_a_postgresql_check_with_negative_bounds_is_kept_and_repaired():
    from syngen.adapters.checks import portable_check, repair, violations

    stored = "((lat >= ('-90'::integer)::numeric) AND (lat <= (90)::numeric))"  # how PostgreSQL keeps BETWEEN
    check, _ = portable_check(stored, "postgresql", ["lat"], set())
    frame = pd.DataFrame({"lat": [-120.5, -45.0, 95.0, None]})
    fixed = repair(frame, [check])
    assert violations(fixed, check) == 0 and fixed["lat"].iloc[1] == -45.0


def test_a_foreign_key_across_schemas_goes_to_duckdb_as_a_note(tmp_path, postgres):
    from syngen.linked.generate import infer_tables
    from syngen.linked.train import train_tables
    from syngen.metadata import load_metadata

    url = _schema_source(postgres())
    (tmp_path / "m.yaml").write_text(
        "".join(f"{t}: {{source: '{url}'}}\n" for t in ("region", "sales.customer", "sales.orders"))
    )
    metadata = load_metadata(tmp_path / "m.yaml")
    train_tables(metadata, {"epochs": EPOCHS, "random_seed": 1}, tmp_path / "artifacts")
    target = f"duckdb:///{tmp_path / 'out.duckdb'}"
    reports = {r.table: r for r in infer_tables(metadata, {"random_seed": 2}, tmp_path / "artifacts", output=target)}
    assert "FK (region_id) -> region crosses schemas: DuckDB cannot declare it" in " ".join(
        reports["sales.orders"].notes
    )
    engine = sa.create_engine(target)
    with engine.connect() as connection:
        orders = pd.read_sql(
            sa.select(sa.text("region_id")).select_from(sa.table("orders", schema="sales")), connection
        )
        regions = pd.read_sql(sa.select(sa.text("id")).select_from(sa.table("region")), connection)
    engine.dispose()
    assert orders["region_id"].dropna().isin(set(regions["id"])).all()


def test_views_a_dialect_cannot_list_or_read_are_notes_not_failures(tmp_path, monkeypatch):
    from syngen.adapters.views import read_views

    url = _sqlite(
        tmp_path / "shop.db",
        """
        create table item (id integer primary key, price real);
        create view dear as select id from item where price > 10;
        create view odd as select id from item where price > 10;""",
        {"item": [(1, 5.0), (2, 20.0)]},
    )
    definition = sa.engine.reflection.Inspector.get_view_definition
    monkeypatch.setattr(
        sa.engine.reflection.Inspector,
        "get_view_definition",
        lambda self, name, *a, **k: "select 'unclosed from item" if name == "odd" else definition(self, name, *a, **k),
    )
    views, notes = read_views(url)
    assert [v.name for v in views] == ["dear"]
    assert len(notes) == 1 and notes[0].startswith("view 'odd' is left out: its SQL could not be read"), notes

    def unsupported(self, *args, **kwargs):
        raise NotImplementedError()

    monkeypatch.setattr(sa.engine.reflection.Inspector, "get_view_names", unsupported)
    views, notes = read_views(url)
    assert views == [] and notes == [f"views of {url} are not kept: SQLAlchemy's sqlite dialect cannot list them"]
