"""The train / infer / syngen commands, run as installed console scripts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from conftest import DATA, run_cli

OUTPUT = "model_artifacts/tmp_store/churn/merged_infer_churn.csv"


def test_help_is_fast_and_does_not_load_tensorflow():
    probe = (
        "import sys; from click.testing import CliRunner; from syngen.cli.main import cli, train, infer;"
        "r = [CliRunner().invoke(c, ['--help']) for c in (cli, train, infer)];"
        "assert all(x.exit_code == 0 for x in r), r;"
        "assert not any(m.startswith(('tensorflow', 'keras', 'pandas')) for m in sys.modules), 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
    for command in ("train", "infer", "syngen"):
        assert "Usage:" in run_cli(command, "--help", cwd=DATA).stdout
    assert "--table_name" in run_cli("train", "--help", cwd=DATA).stdout
    assert "--print_report" in run_cli("infer", "--help", cwd=DATA).stdout


def test_train_then_infer_positional_writes_the_original_output_path(trained_cwd):
    source = pd.read_csv(DATA / "churn.csv")
    run_cli("infer", "5000", "churn", "--random_seed", "3", cwd=trained_cwd)
    output = pd.read_csv(trained_cwd / OUTPUT)
    assert output.shape == (5000, source.shape[1])
    assert list(output.columns) == list(source.columns)
    assert output.dtypes.to_dict() == source.dtypes.to_dict()
    text = (trained_cwd / OUTPUT).read_text().splitlines()
    assert all(len(line.split(",")[-1].split(".")[-1]) <= 2 for line in text[1:200])  # cents stay cents


def test_same_seed_gives_byte_identical_files_also_in_parallel(trained_cwd):
    def generate(name, *flags):
        run_cli(
            "infer",
            "--size",
            "30000",
            "--table_name",
            "churn",
            "--random_seed",
            "42",
            "--batch_size",
            "7000",
            "--output",
            name,
            *flags,
            cwd=trained_cwd,
        )
        return (trained_cwd / name).read_bytes()

    sequential = generate("a.csv")
    assert generate("b.csv") == sequential
    assert generate("c.csv", "--run_parallel", "True") == sequential
    run_cli(
        "infer",
        "--size",
        "30000",
        "--table_name",
        "churn",
        "--random_seed",
        "43",
        "--batch_size",
        "7000",
        "--output",
        "d.csv",
        cwd=trained_cwd,
    )
    assert (trained_cwd / "d.csv").read_bytes() != sequential


def test_syngen_group_and_parquet_output(trained_cwd):
    assert run_cli("syngen", "--version", cwd=trained_cwd).stdout.startswith("syngen, version")
    run_cli(
        "syngen",
        "infer",
        "--size",
        "1234",
        "--table_name",
        "churn",
        "--output",
        "out/churn.parquet",
        "--random_seed",
        "1",
        cwd=trained_cwd,
    )
    frame = pd.read_parquet(trained_cwd / "out" / "churn.parquet")
    assert frame.shape == (1234, 20)
    assert str(frame["tenure"].dtype) == "int64" and str(frame["monthly_charges"].dtype) == "float64"


def _fails(cwd, *args) -> str:
    done = run_cli(*args, cwd=cwd, check=False)
    assert done.returncode == 1, done
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "is empty"),
        (b"a,b,c\n", "header but no rows"),
        (b"a,b\n1,x\n", "1 row(s); at least 2"),
        (
            b"name,city\nJos\xe9,Sevilla\nAna,Madrid\n",
            "is not UTF-8 text (byte b'\\xe9' at position 13); re-save it "
            "as UTF-8, or give its encoding in a metadata file "
            "(format: {encoding: latin-1})",
        ),
        (b"a,b\n1,2\n3,4,5,6\n", "not a well-formed CSV"),
    ],
)
def test_bad_sources_fail_clearly_and_write_nothing(tmp_path, content, message):
    (tmp_path / "bad.csv").write_bytes(content)
    error = _fails(tmp_path, "train", "--source", "bad.csv", "--table_name", "bad")
    assert message in error and "bad.csv" in error
    assert not (tmp_path / "model_artifacts").exists()


@pytest.mark.parametrize(
    "encoding, message",
    [
        ("utf-16", "is not utf-16 text (UTF-16 stream does not start with BOM); correct its format.encoding"),
        ("latin-9x", "has an unknown encoding 'latin-9x'; give a Python codec name such as latin-1 or cp1252"),
    ],
)
def test_a_wrong_encoding_in_the_metadata_file_is_one_line(tmp_path, encoding, message):
    (tmp_path / "towns.csv").write_bytes("ville,n\nZürich,1\nGenève,2\nKöln,3\n".encode("latin-1"))
    (tmp_path / "m.yaml").write_text(f"towns:\n  source: towns.csv\n  format: {{encoding: {encoding}}}\n")
    error = _fails(tmp_path, "syngen", "metadata", "validate", "m.yaml")
    assert "towns.source (line 2): '" in error and f"towns.csv' {message}" in error, error


def test_missing_file_model_and_table_fail_clearly(tmp_path, trained_cwd):
    assert "source file not found: 'nope.csv'" in _fails(tmp_path, "train", "--source", "nope.csv", "--table_name", "x")
    error = _fails(tmp_path, "infer", "10", "orders")
    assert "no trained model for table 'orders'" in error and "train --source" in error
    assert "which table" in _fails(tmp_path, "infer", "--size", "10")
    assert ".csv, .tsv or .parquet" in _fails(trained_cwd, "infer", "10", "churn", "--output", "x.xlsx")


def test_incompatible_model_says_to_retrain(tmp_path, trained_cwd):
    shutil.copytree(trained_cwd / "model_artifacts", tmp_path / "model_artifacts")
    model = tmp_path / "model_artifacts" / "resources" / "churn" / "model.json"
    document = json.loads(model.read_text())
    document["format_version"] = 999
    model.write_text(json.dumps(document))
    error = _fails(tmp_path, "infer", "10", "churn")
    assert "format 999" in error and "train --source PATH --table_name churn" in error
    from syngen import Synthesizer

    document["format_version"] = 8  # before measures were redrawn: read as it is
    model.write_text(json.dumps(document))
    assert Synthesizer.load(model.parent).sample(10, random_seed=0).shape[0] == 10


def test_row_limit_and_drop_null(tmp_path):
    run_cli(
        "train",
        "--source",
        str(DATA / "credit.csv"),
        "--table_name",
        "credit",
        "--row_limit",
        "800",
        "--drop_null",
        "True",
        "--epochs",
        "2",
        "--batch_size",
        "64",
        cwd=tmp_path,
    )
    model = json.loads((tmp_path / "model_artifacts/resources/credit/model.json").read_text())
    assert model["fitted"]["rows"] == 800
    assert all(column["null_share"] == 0 for column in model["columns"])
    run_cli("infer", "300", "credit", cwd=tmp_path)
    output = pd.read_csv(tmp_path / "model_artifacts/tmp_store/credit/merged_infer_credit.csv")
    assert len(output) == 300 and not output.isna().any().any()


def test_errors_print_brackets_as_written(tmp_path):
    done = run_cli("syngen", "train", "--source", "postgres://me@localhost/shop", cwd=tmp_path, check=False)
    message = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1
    assert "write it postgresql+psycopg://user@host/database (after pip install 'syngen[postgres]')" in message


def test_adapters_and_metadata_load_without_the_engine():
    """Reading, writing and describing tables never needs the learning engine: importing every
    adapter, the metadata contract and the report leaves ``syngen.engine`` unloaded."""
    import subprocess
    import sys

    code = (
        "import pkgutil, sys, importlib, syngen.adapters as a\n"
        "for m in pkgutil.iter_modules(a.__path__): importlib.import_module('syngen.adapters.' + m.name)\n"
        "import syngen.metadata, syngen.keys, syngen.values.kinds\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('syngen.engine', 'syngen.linked', 'tensorflow')))\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_module_runs_as_the_command_group():
    """``python -m syngen.cli.main`` is the command group, as ``python -m syngen`` is: never a
    silent exit that looks like success."""
    done = subprocess.run([sys.executable, "-m", "syngen.cli.main", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "train" in done.stdout and "infer" in done.stdout
