"""Where models and outputs live on disk (the original syngen's layout, kept for users'
scripts): ``model_artifacts/resources/<table>/`` and
``model_artifacts/tmp_store/<table>/merged_infer_<table>.csv``."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from syngen.errors import SyngenError

DEFAULT_ROOT = "model_artifacts"
_SAFE_NAME = re.compile(r"^[^/\\\x00]+$")


def root(artifacts_dir: str | os.PathLike | None = None) -> Path:
    return Path(artifacts_dir if artifacts_dir is not None else DEFAULT_ROOT)


def check_table_name(table_name: str) -> str:
    if not table_name or not _SAFE_NAME.match(table_name) or table_name in (".", ".."):
        raise SyngenError(
            f"invalid table name {table_name!r}: it names a folder, so it cannot be empty or contain '/' or '\\'"
        )
    return table_name


def model_dir(table_name: str, artifacts_dir=None) -> Path:
    return root(artifacts_dir) / "resources" / check_table_name(table_name)


def secret_path(table_name: str, artifacts_dir=None) -> Path:
    """The model's real-value key: outside ``resources/``, so that folder can be shared."""
    return root(artifacts_dir) / "secrets" / f"{check_table_name(table_name)}.key"


def default_output(table_name: str, artifacts_dir=None) -> Path:
    name = check_table_name(table_name)
    return root(artifacts_dir) / "tmp_store" / name / f"merged_infer_{name}.csv"


def report_path(table_name: str, artifacts_dir=None) -> Path:
    name = check_table_name(table_name)
    return root(artifacts_dir) / "tmp_store" / name / f"report_{name}.html"


def views_path(artifacts_dir=None) -> Path:
    """The source databases' views a linked run recreates (their SQL, no data)."""
    return root(artifacts_dir) / "views.json"


@contextmanager
def staged(artifacts_dir=None) -> Iterator[Path]:
    """A staging artifacts folder for a run that writes many models: when the block ends
    well, its models, keys and views replace those of the same names in the artifacts
    folder; in any case it is removed. Staging folders of processes that are gone (a
    killed run) are swept first."""
    base = root(artifacts_dir)
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.glob(".staging-*"):
        pid = stale.name.split("-")[1]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{os.getpid()}-", dir=base))
    try:
        yield staging
        _publish(staging, base)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, base: Path) -> None:
    for kind in ("resources", "secrets"):
        if not (staging / kind).is_dir():
            continue
        (base / kind).mkdir(parents=True, exist_ok=True)
        for item in sorted((staging / kind).iterdir()):
            target = base / kind / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
    if (staging / "views.json").exists():
        os.replace(staging / "views.json", base / "views.json")


def process_alive(pid: int) -> bool:
    """Whether a process of this id runs (a staging file's or folder's writer)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
