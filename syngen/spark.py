"""Generation on Apache Spark: a table's batches as one Spark job, for runs past one machine.

A batch depends only on the model, the run's seed and its first row (``generate_batch``), so
batch k is the same wherever it is made. The driver plans the batches; each Spark task
loads the model from its folder (NumPy only: executors need no TensorFlow), generates its
batches and writes each as one Parquet part (``part-00000.parquet``, ...) into a staging
folder beside the output; only when every task has succeeded does the folder take the
output's name, so a failed job leaves an earlier output as it was. Rows never travel to the
driver, only each part's row count. Read in the parts' order, the folder holds exactly the
rows a single-process run with the same seed and batch size writes.

The model folder and the output must be reachable from every executor: local paths on one
machine (``local[N]``), shared storage (``s3://``, a cluster file system) on a cluster.
"""

from __future__ import annotations

import os
import posixpath
import sys
import uuid
from dataclasses import dataclass
from typing import Iterator

from syngen import artifacts
from syngen.adapters.files import is_remote
from syngen.adapters.sql import is_database_url
from syngen.errors import SyngenError

DEFAULT_MASTER = "local[*]"


@dataclass(frozen=True)
class _Job:
    """What each task needs, shipped to executors: plain values only."""

    folder: str  # the model's
    secret: str | None  # the key rare values are hashed with (checks made values are not real)
    staging: str
    total: int
    seed: int
    headers: dict
    decimals: dict

    def write(self, batches: Iterator[tuple[int, int, int]]) -> Iterator[int]:
        """Generate and write this task's batches (index, first row, rows); yield their row counts."""
        import fsspec

        from syngen.adapters.files import write_parquet
        from syngen.engine.synthesizer import Synthesizer

        model = Synthesizer.load(self.folder)
        model.secret = self.secret
        for index, start, n in batches:
            batch = model.generate_batch(start, n, self.total, self.seed)
            with fsspec.open(posixpath.join(self.staging, f"part-{index:05d}.parquet"), "wb") as out:
                yield write_parquet([batch], out, self.headers, self.decimals)


def generate_on_spark(
    table_name: str,
    size: int,
    output: str,
    *,
    batch_size: int | None = None,
    random_seed: int | None = None,
    master: str | None = None,
    if_exists: str = "fail",
    artifacts_dir=None,
) -> tuple[int, int, int]:
    """Generate ``size`` rows of a trained table as Parquet parts in the folder ``output``
    (local or remote), one Spark task per group of batches. Returns (rows, seed, parts)."""
    import fsspec

    from syngen.engine.synthesizer import batch_plan, resolve_seed
    from syngen.keys import UniqueRows
    from syngen.runs import load_manifest, load_model

    model = load_model(table_name, artifacts_dir)
    manifest = load_manifest(table_name, artifacts_dir)
    if UniqueRows(model, manifest.schema.keys):
        raise SyngenError(
            f"table '{table_name}' has a primary or unique key of learned columns, which a run keeps "
            "unique batch after batch, in order; generate it without --engine spark"
        )
    if is_database_url(output) or output.lower().endswith((".csv", ".tsv")):
        raise SyngenError(f"--engine spark writes a folder of Parquet parts, not '{output}': give a folder")
    fs, path = fsspec.core.url_to_fs(output)
    if fs.exists(path) and (not fs.isdir(path) or fs.ls(path)):
        if if_exists != "replace":
            raise SyngenError(f"'{output}' exists; give --if_exists replace to replace it")
    seed = resolve_seed(random_seed)
    plan = batch_plan(size, batch_size)
    parent, name = posixpath.split(path.rstrip("/"))
    staging_path = posixpath.join(parent, f".{name}.syngen-{uuid.uuid4().hex[:8]}")
    staging = fs.unstrip_protocol(staging_path) if is_remote(output) else staging_path
    fs.makedirs(staging_path, exist_ok=True)
    job = _Job(
        folder=str(artifacts.model_dir(table_name, artifacts_dir).resolve()),
        secret=model.secret,
        staging=staging,
        total=size,
        seed=seed,
        headers=manifest.schema.headers,
        decimals=manifest.schema.written.get("arrow", {}),
    )
    try:
        context = _session(master).sparkContext
        slices = min(len(plan), max(1, context.defaultParallelism) * 4)
        batches = [(i, start, n) for i, (start, n) in enumerate(plan)]
        rows = sum(context.parallelize(batches, slices).mapPartitions(job.write).collect())
        if fs.exists(path):
            fs.rm(path, recursive=True)
        if is_remote(output):  # object stores have no folders to rename: each part moves
            for part in fs.ls(staging_path, detail=False):
                fs.mv(part, posixpath.join(path, posixpath.basename(part)))
            _remove(fs, staging_path)
        else:
            fs.mv(staging_path, path, recursive=True)
    except BaseException as error:
        _remove(fs, staging_path)
        if type(error).__module__.startswith(("py4j", "pyspark")):
            raise SyngenError(f"the Spark job generating '{table_name}' failed: {_first_line(error)}") from None
        raise
    return rows, seed, len(plan)


def _remove(fs, path: str) -> None:
    """Remove a folder if it is still there (an object store drops an emptied prefix itself)."""
    fs.invalidate_cache(path)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def _session(master: str | None):
    """A Spark session on ``master``; without one, the running session (a notebook's), the
    master spark-submit gave (it starts this Python with a gateway), or else ``local[*]``.
    Local masters run this Python on their workers."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SyngenError("--engine spark needs pyspark: pip install 'syngen[spark]'") from None
    builder = SparkSession.builder.appName("syngen")
    submitted = SparkSession.getActiveSession() is not None or "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or (None if submitted else DEFAULT_MASTER)
    if chosen:
        builder = builder.master(chosen)
        if chosen.startswith("local"):  # workers run this Python (pyspark reads it from the environment)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = builder.config("spark.ui.enabled", "false")
    session = builder.config("spark.ui.showConsoleProgress", "false").getOrCreate()
    session.sparkContext.setLogLevel("ERROR")  # the run's own line says what was written
    return session


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    errors = [line for line in lines if "Error:" in line or "Exception:" in line]
    return (errors[-1] if errors else lines[0] if lines else type(error).__name__)[:500]
