"""The README's quick start, run exactly as written, in a clean copy of the project."""

from __future__ import annotations

import re
import shutil
import subprocess

import duckdb
import pandas as pd
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```\n(.*?)```", section, flags=re.S)]


def test_commands_are_copy_paste_safe():
    commands = quick_start_commands()
    assert len(commands) == 2, "the quick start is two commands: install and run, then test"
    for command in commands:
        assert command.isascii() and "\n" not in command
    assert commands[1] == ".venv/bin/pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert ".venv/bin/pytest" in ci  # CI runs the README's test command


def test_quick_start_installs_and_generates(tmp_path):
    project = tmp_path / "syngen"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(".venv*", "model_artifacts", ".git", "__pycache__", "*.egg-info", "results"),
    )
    (project.parent / "shared").symlink_to(ROOT.parent / "shared")
    for _ in range(2):  # a newcomer runs it again, over the first run's models and database
        done = subprocess.run(
            ["bash", "-c", quick_start_commands()[0]], cwd=project, capture_output=True, text=True, timeout=1500
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "Generated 11 tables" in done.stderr
    database = duckdb.connect(str(project / "model_artifacts" / "synthetic.duckdb"), read_only=True)
    constraints = dict(
        database.execute("select constraint_type, count(*) from duckdb_constraints() group by 1").fetchall()
    )
    invoices = database.execute('select * from "Invoice"').df()
    lonely = database.execute(
        'select count(*) from "InvoiceLine" l left join "Invoice" i using ("InvoiceId") where i."InvoiceId" is null'
    ).fetchone()[0]
    database.close()
    assert constraints["PRIMARY KEY"] == 11 and constraints["FOREIGN KEY"] == 11 and lonely == 0
    assert list(invoices.columns) == list(
        pd.read_csv(project / "examples" / "chinook" / "Invoice.csv", nrows=1).columns
    )
