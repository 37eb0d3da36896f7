"""Apache Spark as a place for tables: the session a run uses, and Spark tables or folders
(Parquet, Delta, any format the session reads) as sources too big for one machine's memory.

A source is ``spark:DB.TABLE`` (a table of the session's catalog) or ``spark:FORMAT:PATH``
(``spark:parquet:s3://bucket/events/``, ``spark:delta:/mnt/lake/orders``). Spark counts and
samples it (``row_limit``), and only the sample travels to this process; a linked run reads
the key columns first, chooses its sample closed under the FKs, and fetches those rows by
primary key through a join in Spark.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from syngen.errors import SyngenError

if TYPE_CHECKING:  # pandas only where rows are read: the prefix is checked at start-up
    import pandas as pd

PREFIX = "spark:"
DEFAULT_MASTER = "local[*]"
WHOLE_ROWS = 5_000_000  # a source with more rows needs a row_limit: the sample is what travels


def is_spark(location: object) -> bool:
    return isinstance(location, str) and location.startswith(PREFIX)


def session(master: str | None = None, tables: bool = False):
    """A Spark session on ``master``; without one, the running session (a notebook's), the
    master spark-submit gave (it starts this Python with a gateway), or else ``local[*]``.
    Local masters run this Python on their workers; with ``tables``, a session this starts
    keeps its tables in a Hive metastore in the working folder, so later sessions find them.

    The session starts in a thread of its own: Ctrl-C then reaches this process's main thread
    while it waits, and the JVM being started (which pyspark starts deaf to Ctrl-C) is
    stopped once up, not left running; pyspark sets no Ctrl-C handler of its own there."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SyngenError("Spark needs pyspark: pip install 'syngen[spark]'") from None
    builder = SparkSession.builder.appName("syngen")
    submitted = SparkSession.getActiveSession() is not None or "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or (None if submitted else DEFAULT_MASTER)
    if chosen:
        check_master(chosen)
        builder = builder.master(chosen)
        if chosen.startswith("local"):  # workers run this Python (pyspark reads it from the environment)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no warning on its address
            logging = Path(__file__).with_name("spark-log4j2.properties")  # this run's lines say what failed
            builder = builder.config("spark.ui.enabled", "false").config(
                "spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={logging.as_uri()}"
            )
    if not submitted and not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise SyngenError("Spark needs Java 17 or newer: install it (apt-get install openjdk-17-jre-headless)")
    if tables:
        builder = builder.enableHiveSupport()
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    with ThreadPoolExecutor(1, thread_name_prefix="syngen-spark-start") as pool:
        starting = pool.submit(builder.getOrCreate)
        try:
            started = starting.result()
        except KeyboardInterrupt:
            with contextlib.suppress(Exception):
                starting.result().stop()
            raise
    if not submitted:  # a session of its own: this run's lines say what failed (a notebook's is left as it is)
        started.sparkContext.setLogLevel("FATAL")
    return started


_LOCAL = re.compile(r"local(\[(\*|[1-9][0-9]*)(,\s*[1-9][0-9]*)?\])?")


def check_master(master: str) -> None:
    """One line for a master Spark cannot use, before a JVM starts (or, for a standalone
    cluster's ``spark://`` address no one answers at, a minute of retries)."""
    if master.startswith("local") and not master.startswith("local-cluster["):
        if not _LOCAL.fullmatch(master):
            raise SyngenError(f"--spark_master '{master}': write local, local[N] (N cores, 1 or more) or local[*]")
        return
    if master == "yarn":
        if not (os.environ.get("HADOOP_CONF_DIR") or os.environ.get("YARN_CONF_DIR")):
            raise SyngenError("--spark_master yarn reads the cluster's settings: set HADOOP_CONF_DIR or YARN_CONF_DIR")
        return
    if master.startswith(("k8s://", "local-cluster[")):
        return
    if not master.startswith("spark://"):
        raise SyngenError(
            f"--spark_master '{master}' is not a Spark master: give local[N], spark://HOST:PORT, yarn or k8s://URL"
        )
    for address in master[len("spark://") :].split(","):  # several masters: high availability
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
            return
        except (OSError, ValueError):
            continue
    raise SyngenError(f"cannot reach the Spark master at {master}: is it running, and is the address right?")


def started(master: str | None = None, tables: bool = False):
    """``session(master, tables)``, and whether this call started it (so a run stops it on Ctrl-C)."""
    from pyspark import SparkContext

    running = SparkContext._active_spark_context is not None
    return session(master, tables), not running


def _frame(source: str, columns: list[str] | None = None):
    """The Spark DataFrame of a source, or one line saying why there is none."""
    from pyspark.errors import PySparkException

    name = source[len(PREFIX) :]
    spark = session(tables=True)
    try:
        if ":" in name:  # FORMAT:PATH
            kind, path = name.split(":", 1)
            frame = spark.read.format(kind).load(path)
        else:
            frame = spark.table(name)
        return frame.select(*columns) if columns is not None else frame
    except PySparkException as error:
        first = str(error).strip().splitlines()[0][:300]
        raise SyngenError(f"cannot read '{source}' through Spark: {first}") from None


def _pandas(frame) -> pd.DataFrame:
    """Rows of a Spark DataFrame as training reads a Parquet file's (through Arrow)."""
    from syngen.adapters.files import frame_of_arrow

    return frame_of_arrow(frame.toArrow())


def read_spark(source: str, row_limit: int | None = None, drop_null: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """A Spark source's rows (a seeded sample of ``row_limit`` drawn by Spark), with a note on
    what was left out."""
    if row_limit is not None and row_limit < 1:
        raise SyngenError(f"--row_limit must be at least 1, got {row_limit}")
    frame = _frame(source)
    if drop_null:
        frame = frame.dropna()
    rows = frame.count()
    if not rows:
        raise SyngenError(f"'{source}' has no rows" + (" without a null (--drop_null)" if drop_null else ""))
    notes = []
    if row_limit is not None and rows > row_limit:
        # a Bernoulli sample a little larger than asked, cut to size: one pass, no sort
        frame = frame.sample(fraction=min(1.0, 1.05 * row_limit / rows + 1e-3), seed=0).limit(row_limit)
        notes.append(f"learned from a sample of {row_limit:,} of its {rows:,} rows, drawn by Spark (row_limit)")
    elif rows > WHOLE_ROWS:
        raise SyngenError(
            f"'{source}' holds {rows:,} rows, more than one machine should read whole: give --row_limit "
            "(train_settings.row_limit), such as 500000"
        )
    data = _pandas(frame)
    return data, notes


def spark_columns(source: str) -> list[str]:
    return list(_frame(source).columns)


def spark_head(source: str, rows: int) -> pd.DataFrame:
    return _pandas(_frame(source).limit(rows))


def spark_keys(source: str, columns: list[str]) -> pd.DataFrame:
    """Only the key columns of a Spark source, every row, in the source's order."""
    return _pandas(_frame(source, columns))


def spark_rows_by_key(source: str, column: str, values: list, drop_null: bool = False) -> pd.DataFrame:
    """The rows whose ``column`` holds one of ``values`` (a sample chosen here), joined in Spark."""
    import pandas as pd

    frame = _frame(source)
    wanted = frame.sparkSession.createDataFrame(pd.DataFrame({column: values})).withColumnRenamed(
        column, "__syngen_key"
    )
    chosen = frame.join(wanted, frame[column] == wanted["__syngen_key"], "left_semi")
    if drop_null:
        chosen = chosen.dropna()
    return _pandas(chosen)
