"""Generation on Apache Spark, for runs past one machine.

A batch depends only on the model, the run's seed, its first row and its given values
(``generate_batch``), so batch k is the same wherever it is made. Spark tasks load the model
from its folder (NumPy only: executors need no TensorFlow) and generate batches, two ways:

- ``generate_on_spark``: one table into a folder of Parquet parts. Each task writes its
  batches as parts (``part-00000.parquet``, ...) into a staging folder beside the output;
  only when every task has succeeded does the folder take the output's name, so a failed
  job leaves an earlier output as it was. Rows never travel to the driver, only each part's
  row count.
- ``spark_batches``: the batches of any run (linked tables, conditions, keys kept unique
  batch after batch, files and databases), made by Spark a window at a time and returned
  to this process in order, which finishes and writes them as a local run does. The next
  window is made while this one is written; memory holds two windows.

Either way the rows are those a single-process run with the same seed and batch size makes.

The model folder and the output must be reachable from every executor: local paths on one
machine (``local[N]``), shared storage (``s3://``, a cluster file system) on a cluster.
"""

from __future__ import annotations

import functools
import os
import posixpath
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from syngen import artifacts
from syngen.adapters.files import is_remote, missing_folders, output_format, remove_made
from syngen.adapters.spark_tables import is_spark, started
from syngen.adapters.sql import is_database_url
from syngen.errors import SyngenError

if TYPE_CHECKING:
    import pandas as pd

    from syngen.engine.conditions import Conditions
    from syngen.engine.synthesizer import Synthesizer

IN_FLIGHT_ROWS = 1_000_000  # rows a window of batches returned to this process holds at most


@dataclass(frozen=True)
class _Tasks:
    """What every Spark task needs to make batches, shipped to executors: plain values only."""

    folder: str  # the model's
    secret: str | None  # the key rare values are hashed with (checks made values are not real)
    total: int
    seed: int

    def model(self) -> Synthesizer:
        return _loaded(self.folder, _stamp(self.folder), self.secret)


@dataclass(frozen=True)
class _Job(_Tasks):
    """Tasks that write their batches as Parquet parts into ``staging``."""

    staging: str = ""
    headers: dict = field(default_factory=dict)
    decimals: dict = field(default_factory=dict)

    def write(self, batches: Iterator[tuple[int, int, int]]) -> Iterator[int]:
        """Generate and write this task's batches (index, first row, rows); yield their row counts."""
        import fsspec

        from syngen.adapters.files import write_parquet

        model = self.model()
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

    model, manifest = _written_by_tasks(table_name, artifacts_dir)
    if not parts_folder(output):
        raise SyngenError(
            f"Spark tasks write a folder of Parquet parts, not '{output}': give a folder, or make "
            "Spark's batches into a file or database with infer_table(..., spark=Spark(master))"
        )
    fs, path = fsspec.core.url_to_fs(output)
    if fs.exists(path) and (not fs.isdir(path) or fs.ls(path)):
        if if_exists != "replace":
            raise SyngenError(f"'{output}' exists; give --if_exists replace to replace it")
    seed = resolve_seed(random_seed)
    plan = batch_plan(size, batch_size)
    parent, name = posixpath.split(path.rstrip("/"))
    staging_path = posixpath.join(parent, f".{name}.syngen-{uuid.uuid4().hex[:8]}")
    staging = fs.unstrip_protocol(staging_path) if is_remote(output) else staging_path
    with _spark_errors(table_name):  # a bad master says so before any folder is made
        spark, owned = started(master)
    context = spark.sparkContext
    made = missing_folders(output)  # removed again if the job fails, as a file's are
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
        slices = min(len(plan), max(1, context.defaultParallelism) * 4)
        batches = [(i, start, n) for i, (start, n) in enumerate(plan)]
        with _jobs(context, owned) as submit, _spark_errors(table_name):
            rows = sum(submit(context.parallelize(batches, slices).mapPartitions(job.write).collect).result())
        if fs.exists(path):
            fs.rm(path, recursive=True)
        if is_remote(output):  # object stores have no folders to rename: each part moves
            for part in fs.ls(staging_path, detail=False):
                fs.mv(part, posixpath.join(path, posixpath.basename(part)))
            _remove(fs, staging_path)
        else:
            fs.mv(staging_path, path, recursive=True)
    except BaseException:
        _remove(fs, staging_path)
        remove_made(made)
        raise
    return rows, seed, len(plan)


@dataclass(frozen=True)
class _ArrowMaker(_Tasks):
    """Tasks that make batches as Arrow record batches, for ``write_spark_table``."""

    plan: list[tuple[int, int]] = field(default_factory=list)
    headers: dict = field(default_factory=dict)
    decimals: dict = field(default_factory=dict)
    schema: object = None  # pyarrow.Schema: every batch is cast to the table's types

    def make(self, indexes):
        from syngen.adapters.files import arrow_table

        model = self.model()
        for record in indexes:
            for index in record.column(0).to_pylist():
                start, n = self.plan[index]
                batch = model.generate_batch(start, n, self.total, self.seed)
                yield from arrow_table(batch, self.headers, self.decimals).cast(self.schema).to_batches()


def write_spark_table(
    table_name: str,
    size: int,
    target: str,
    *,
    batch_size: int | None = None,
    random_seed: int | None = None,
    master: str | None = None,
    if_exists: str = "fail",
    artifacts_dir=None,
) -> tuple[int, int, int]:
    """Generate ``size`` rows of a trained table into the Spark table ``target`` (``db.table``
    or ``table``, in the session's catalog: a local run keeps it in a Hive metastore in the
    working folder), one DataFrame whose partitions make the batches, written by Spark.
    Returns (rows, seed, batches)."""
    import pyarrow as pa

    from syngen.adapters.files import arrow_table
    from syngen.engine.synthesizer import batch_plan, resolve_seed

    model, manifest = _written_by_tasks(table_name, artifacts_dir)
    if if_exists == "append" and manifest.schema.keys:
        raise SyngenError(
            f"table '{table_name}' has keys, which rows appended to a Spark table would repeat; "
            "give --if_exists replace, or another table"
        )
    seed = resolve_seed(random_seed)
    plan = batch_plan(size, batch_size)
    headers, decimals = manifest.schema.headers, manifest.schema.written.get("arrow", {})
    sample = arrow_table(model.generate_batch(0, min(size, 2000), size, seed), headers, decimals).schema
    schema = pa.schema([f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in sample])
    maker = _ArrowMaker(
        folder=str(artifacts.model_dir(table_name, artifacts_dir).resolve()),
        secret=model.secret,
        total=size,
        seed=seed,
        plan=plan,
        headers=headers,
        decimals=decimals,
        schema=schema,
    )
    with _spark_errors(table_name):
        spark, owned = started(master, tables=True)
        if spark.catalog.tableExists(target) and if_exists == "fail":
            raise SyngenError(f"the Spark table '{target}' exists; give --if_exists replace to replace it")
        if "." in target:
            spark.sql(f"CREATE DATABASE IF NOT EXISTS `{target.rsplit('.', 1)[0].replace('`', '``')}`")
    from pyspark.sql.pandas.types import from_arrow_schema

    context = spark.sparkContext
    slices = min(len(plan), max(1, context.defaultParallelism) * 4)
    frame = spark.range(0, len(plan), 1, slices).mapInArrow(maker.make, from_arrow_schema(schema))
    mode = {"fail": "errorifexists", "replace": "overwrite", "append": "append"}[if_exists]
    with _jobs(context, owned) as submit, _spark_errors(table_name):
        submit(frame.write.mode(mode).saveAsTable, target).result()
    return size, seed, len(plan)


def _written_by_tasks(table_name: str, artifacts_dir):
    """The table's model and manifest, for a run whose Spark tasks write the rows themselves:
    refused for a key of learned columns, which this process keeps unique batch after batch."""
    from syngen.keys import UniqueRows
    from syngen.runs import load_manifest, load_model

    model = load_model(table_name, artifacts_dir)
    manifest = load_manifest(table_name, artifacts_dir)
    if UniqueRows(model, manifest.schema.keys):
        raise SyngenError(
            f"table '{table_name}' has a primary or unique key of learned columns, which this process keeps "
            "unique batch after batch, in order: give a .parquet or .csv file or a database URL as the output, "
            "and it writes the rows Spark makes"
        )
    return model, manifest


@dataclass(frozen=True)
class _Maker(_Tasks):
    """Tasks that make batches returned to this process, for ``spark_batches``."""

    def make(self, batches: Iterator[tuple[int, int, Conditions | None]]) -> Iterator[pd.DataFrame]:
        model = self.model()
        for start, n, given in batches:
            yield model.generate_batch(start, n, self.total, self.seed, given)


def spark_batches(
    table_name: str,
    folder,
    secret: str | None,
    plan: list[tuple[int, int]],
    total: int,
    seed: int,
    conditions: Conditions | None,
    master: str | None,
) -> Iterator[pd.DataFrame]:
    """The batches of ``plan``, made by Spark tasks and returned in order, a window of batches
    at a time (as many as the cluster has cores, at most ``IN_FLIGHT_ROWS`` rows), the next
    window made while this one is used."""
    maker = _Maker(str(folder), secret, total, seed)
    with _spark_errors(table_name):
        spark, owned = started(master)
    context = spark.sparkContext
    largest = max((n for _, n in plan), default=1)
    window = max(1, min(context.defaultParallelism, IN_FLIGHT_ROWS // max(largest, 1)))
    windows = [plan[i : i + window] for i in range(0, len(plan), window)]

    def made(part: list[tuple[int, int]]) -> list[pd.DataFrame]:
        jobs = [(start, n, conditions.batch(start, n) if conditions else None) for start, n in part]
        return context.parallelize(jobs, len(jobs)).mapPartitions(maker.make).collect()

    with _jobs(context, owned) as submit:
        pending = submit(made, windows[0]) if windows else None
        for i in range(len(windows)):
            assert pending is not None
            with _spark_errors(table_name):
                batches = pending.result()
            pending = submit(made, windows[i + 1]) if i + 1 < len(windows) else None
            yield from batches


@contextmanager
def _jobs(context, owned: bool) -> Iterator[Callable[..., Future]]:
    """Spark actions submitted to a thread of their own: Ctrl-C then reaches this process's
    main thread while it waits, not a call into the JVM (which would print py4j's
    tracebacks), and the jobs still running are cancelled quietly; also on an error, or
    when a stream of batches is closed early. A session this run started (``owned``) is
    stopped then, so its workers end before this process does."""
    pool = ThreadPoolExecutor(1, thread_name_prefix="syngen-spark")
    try:
        yield pool.submit
    except BaseException:
        context.setLogLevel("OFF")  # cancelled tasks would log their end as errors
        context.cancelAllJobs()
        if owned:
            context.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _spark_errors(table_name: str) -> Iterator[None]:
    """A failed Spark job as one line naming the table; other errors as they are."""
    try:
        yield
    except Exception as error:
        if type(error).__module__.startswith(("py4j", "pyspark")):
            raise SyngenError(f"the Spark job generating '{table_name}' failed: {_first_line(error)}") from None
        raise


@functools.lru_cache(maxsize=4)
def _loaded(folder: str, stamp: int, secret: str | None) -> Synthesizer:
    """A model loaded once per Spark worker process (workers are reused from task to task);
    ``stamp`` tells a model trained again into the same folder."""
    from syngen.engine.synthesizer import Synthesizer

    model = Synthesizer.load(folder)
    model.secret = secret  # the driver's key, wherever its file lives
    return model


def _stamp(folder: str) -> int:
    return os.stat(folder).st_mtime_ns


def parts_folder(output: str) -> bool:
    """Whether ``output`` names a folder of Parquet parts (no file suffix, or a trailing
    slash) rather than one file, a database or a Spark table."""
    if is_database_url(output) or is_spark(output):
        return False
    if output.endswith("/"):
        return True
    try:
        output_format(output)
    except SyngenError:
        return True
    return False


def _remove(fs, path: str) -> None:
    """Remove a folder if it is still there (an object store drops an emptied prefix itself)."""
    fs.invalidate_cache(path)
    if fs.exists(path):
        fs.rm(path, recursive=True)


def _first_line(error: BaseException) -> str:
    lines = [line.strip().lstrip(": ").removeprefix("Caused by: ") for line in str(error).splitlines()]
    lines = [line for line in lines if line]
    errors = [line for line in lines if "Error:" in line or "Exception:" in line]
    return (errors[-1] if errors else lines[0] if lines else type(error).__name__)[:500]
