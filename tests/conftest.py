"""Shared fixtures: real tables from ../shared/data and small, fast training settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data" / "single").resolve()
RELATIONAL = (ROOT.parent / "shared" / "data" / "relational").resolve()
BIN = Path(sys.executable).parent
FAST = {"epochs": 8, "random_seed": 1}


def pytest_sessionstart(session):
    """The tests learn real tables; without them every test would fail on its own."""
    if not DATA.is_dir() or not RELATIONAL.is_dir():
        pytest.exit(
            f"the tests read the real tables in {DATA.parent}, the 'shared/data' folder "
            f"beside this checkout ({ROOT.name}); it is missing",
            returncode=4,
        )


def real(name: str) -> pd.DataFrame:
    """A real table, read the way the CLI reads it."""
    from syngen.adapters.files import read_table

    return read_table(DATA / f"{name}.csv")


def page_words(html: str) -> str:
    """The words an HTML page shows: tags, styles, scripts and figures (SVG path data) left out."""
    return re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|style|script).*?</\1>", "", html, flags=re.S))


def read_only(database: str) -> str:
    """A SQLAlchemy URL that opens one of the shared SQLite files read-only."""
    return f"sqlite:///file:{RELATIONAL / database}?mode=ro&uri=true"


def unavailable(what: str) -> None:
    """A server or program a test needs is missing. Under .ci/run (which installs them all and
    sets SYNGEN_CI) that fails the test; on a developer's machine the test is skipped."""
    if os.environ.get("SYNGEN_CI"):
        pytest.fail(f"{what}: .ci/run should have provided it")
    pytest.skip(what)


def run_cli(*args: str, cwd: Path, check: bool = True, **options) -> subprocess.CompletedProcess:
    """Run one of the installed console scripts (train, infer, syngen) as a user would
    (``options`` go to ``subprocess.run``)."""
    env = dict(os.environ, COLUMNS="200")
    done = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, env=env, **options)
    if check and done.returncode != 0:
        raise AssertionError(f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="session")
def churn_model():
    from syngen import Synthesizer

    return Synthesizer(**FAST).fit(real("churn"))


@pytest.fixture(scope="session")
def trained_cwd(tmp_path_factory):
    """A working folder where churn has been trained with the CLI."""
    cwd = tmp_path_factory.mktemp("cli")
    run_cli(
        "train",
        "--source",
        str(DATA / "churn.csv"),
        "--table_name",
        "churn",
        "--epochs",
        "5",
        "--random_seed",
        "1",
        cwd=cwd,
    )
    return cwd


PG_ENV = "SYNGEN_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres():
    """A function making a fresh, empty PostgreSQL database per call (server from .ci/run)."""
    url = os.environ.get(PG_ENV)
    if not url:
        unavailable(f"{PG_ENV} is not set (.ci/run starts a PostgreSQL server and sets it)")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")

    def fresh() -> str:
        name = f"syngen_{uuid.uuid4().hex[:10]}"
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return sa.make_url(url).set(database=name).render_as_string(hide_password=False)

    yield fresh
    admin.dispose()
