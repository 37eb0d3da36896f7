"""Writes that fail midway (a full disk, a file size limit, a killed run) or cannot start (an
output that is a folder, a malformed database URL): one clear line naming the place, as the
last line, exit 1, no traceback; the earlier file, database or model stays as it was and no
staging file is left behind."""

from __future__ import annotations

import errno
import resource
import shutil
import signal
import subprocess
import time

import pytest
from conftest import BIN, DATA, run_cli


def _size_limit(limit: int):
    """For ``preexec_fn``: the run's files may not grow past ``limit`` bytes (the kernel
    then fails the write, as on a full disk; Python ignores SIGXFSZ, so it is an OSError)."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def _one_line_error(done) -> str:
    """The run's error: one line, the last, with no progress bar left above it."""
    status = getattr(done, "returncode", getattr(done, "exit_code", None))
    assert status == 1, done
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and not any(line.startswith("Error") for line in lines[:-1]), done.stderr
    assert not any(line.startswith(("Training", "Generating")) for line in lines), done.stderr
    return lines[-1]


@pytest.mark.parametrize("name", ["out.csv", "out.parquet"])
def test_an_output_file_that_cannot_grow_keeps_the_earlier_one(trained_cwd, tmp_path, name):
    target = tmp_path / name
    run_cli("infer", "50", "churn", "--output", str(target), cwd=trained_cwd)
    before = target.read_bytes()
    done = run_cli(
        "infer", "20000", "churn", "--output", str(target), cwd=trained_cwd, check=False, preexec_fn=_size_limit(30_000)
    )
    line = _one_line_error(done)
    assert f"cannot write '{target}': file too large" in line and ".syngen-" not in line, line
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no staging file left


def test_a_failed_write_into_new_folders_leaves_no_folder(trained_cwd, tmp_path):
    target = tmp_path / "made" / "for" / "it" / "out.csv"
    done = run_cli(
        "infer", "20000", "churn", "--output", str(target), cwd=trained_cwd, check=False, preexec_fn=_size_limit(30_000)
    )
    assert f"cannot write '{target}'" in _one_line_error(done)
    assert list(tmp_path.iterdir()) == []  # the folders the run made for its output are gone with it


@pytest.mark.slow
def test_a_model_that_cannot_be_saved_keeps_the_earlier_one(trained_cwd, tmp_path):
    shutil.copytree(trained_cwd / "model_artifacts", tmp_path / "model_artifacts")
    folder = tmp_path / "model_artifacts" / "resources" / "churn"
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    done = run_cli(
        "train",
        "--source",
        str(DATA / "churn.csv"),
        "--table_name",
        "churn",
        "--epochs",
        "1",
        cwd=tmp_path,
        check=False,
        preexec_fn=_size_limit(20_000),
    )
    line = _one_line_error(done)
    assert "cannot save the model to 'model_artifacts/resources/churn': file too large" in line
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert [p.name for p in folder.parent.iterdir()] == ["churn"]


def test_a_full_disk_says_so_and_what_to_do(churn_model, tmp_path, monkeypatch):
    import numpy as np

    from syngen.errors import SyngenError

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(
        SyngenError,
        match=r"cannot save the model to '.*model': no space left on device; "
        r"free some space or write elsewhere",
    ):
        churn_model.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite"])
def test_a_failed_first_write_to_a_new_database_file_leaves_nothing(trained_cwd, tmp_path, dialect):
    url = f"{dialect}:///{tmp_path / 'new.db'}"
    done = run_cli(
        "infer", "20000", "churn", "--output", url, cwd=trained_cwd, check=False, preexec_fn=_size_limit(100_000)
    )
    line = _one_line_error(done)
    assert f"{tmp_path / 'new.db'}" in line and ".syngen-" not in line, line  # SQLite: 'disk I/O error'
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_a_killed_first_write_to_a_new_duckdb_file_is_swept_by_the_next_run(trained_cwd, tmp_path):
    url = f"duckdb:///{tmp_path / 'new.duckdb'}"
    run = subprocess.Popen(
        [str(BIN / "infer"), "3000000", "churn", "--output", url, "--batch_size", "20000"],
        cwd=trained_cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any(p.stat().st_size > 1_000_000 for p in tmp_path.iterdir() if p.is_file()):
        assert run.poll() is None and time.monotonic() < deadline, "the run ended before it was killed"
        time.sleep(0.2)
    run.send_signal(signal.SIGKILL)
    run.wait()
    left = list(tmp_path.iterdir())
    assert left and all(p.name.startswith(".new.duckdb.syngen-") for p in left), left
    run_cli("infer", "50", "churn", "--output", url, cwd=trained_cwd)
    assert [p.name for p in tmp_path.iterdir()] == ["new.duckdb"]


def test_an_output_that_is_a_folder_is_refused_before_generating(trained_cwd, tmp_path):
    (tmp_path / "out.csv").mkdir()
    line = _one_line_error(
        run_cli("infer", "50", "churn", "--output", str(tmp_path / "out.csv"), cwd=trained_cwd, check=False)
    )
    assert f"cannot write '{tmp_path / 'out.csv'}': it is a folder; give a file name" in line, line
    assert list(tmp_path.iterdir()) == [tmp_path / "out.csv"]


@pytest.mark.parametrize(
    "url, expected",
    [
        ("sqlite:/x.db", "'sqlite:/x.db' is not a database URL: write sqlite:///x.db"),
        ("sqlite://host/x.db", "'sqlite://host/x.db' is not a valid sqlite URL"),
        ("sqlite://me:s3cret@host/x.db", "'sqlite://me:***@host/x.db' is not a valid sqlite URL"),
        (
            "postgresql+psycopg:/me:s3cret@localhost/db",
            "'postgresql+psycopg:/me:***@localhost/db' is not a database URL",
        ),
        (
            "sqlite:///nowhere/dir/x.db",
            "cannot create 'nowhere/dir/x.db' (sqlite:///nowhere/dir/x.db): its folder does not exist",
        ),
    ],
)
def test_a_malformed_database_url_is_one_line_naming_it(trained_cwd, monkeypatch, url, expected):
    from click.testing import CliRunner

    from syngen.cli.main import infer, train

    monkeypatch.chdir(trained_cwd)
    written = _one_line_error(CliRunner().invoke(infer, ["50", "churn", "--output", url]))
    assert expected in written and "s3cret" not in written, written
    if "nowhere" not in url:  # reading a missing file is its own message
        read = _one_line_error(CliRunner().invoke(train, ["--source", url]))
        assert expected in read and "s3cret" not in read, read
    assert not (trained_cwd / "x.db").exists()


@pytest.mark.parametrize("output", ["a_file/out.csv", "a_file/deeper/out.parquet"])
def test_an_output_below_a_file_names_the_file_in_the_way(trained_cwd, tmp_path, output):
    (tmp_path / "a_file").write_text("not a folder\n")
    line = _one_line_error(
        run_cli("infer", "50", "churn", "--output", str(tmp_path / output), cwd=trained_cwd, check=False)
    )
    assert f"cannot write '{tmp_path / output}': '{tmp_path / 'a_file'}' is a file, not a folder" in line, line
    assert [p.name for p in tmp_path.iterdir()] == ["a_file"]


@pytest.mark.parametrize("dialect", ["duckdb", "sqlite"])
def test_a_new_database_file_in_a_folder_that_refuses_writes_names_it(trained_cwd, tmp_path, monkeypatch, dialect):
    """Not the hidden staging name: the file the user asked for."""
    import tempfile

    from click.testing import CliRunner

    from syngen.cli.main import infer

    def refused(*args, dir=None, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    monkeypatch.chdir(trained_cwd)
    line = _one_line_error(CliRunner().invoke(infer, ["50", "churn", "--output", f"{dialect}:///{tmp_path / 'x.db'}"]))
    assert f"cannot write '{tmp_path / 'x.db'}': permission denied; check the permissions" in line, line
    assert ".syngen-" not in line and list(tmp_path.iterdir()) == []
