"""The two jobs behind the CLIs: train a table from its source, and generate it to a sink.

These functions hold no presentation: progress arrives through callbacks, so the CLI can
draw rich progress bars and the Python API can stay silent.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterator

import pandas as pd

from syngen import artifacts
from syngen.adapters.files import HEADERS, WRITTEN
from syngen.adapters.sources import describe_source, read_source
from syngen.adapters.sql import ColumnSpec, TableSchema, is_database_url
from syngen.adapters.sql_write import TableSpec
from syngen.adapters.stored import column_specs
from syngen.adapters.targets import check_location, describe_target, existing_rows, open_targets
from syngen.engine.conditions import Conditions
from syngen.engine.synthesizer import MODEL_FILE, Synthesizer, batch_plan, resolve_seed
from syngen.errors import SyngenError
from syngen.keys import UniqueRows, continue_keys, key_kinds, mark_keys
from syngen.manifest import MANIFEST_FILE, Links, Manifest, Schema
from syngen.manifest import load as read_manifest
from syngen.metadata.model import Key
from syngen.settings import Spark, TrainSettings

PREVIEW_ROWS = 2000


@dataclass
class TrainResult:
    table_name: str
    model_dir: Path
    rows: int
    kinds: dict[str, str]
    epochs_run: int
    seconds: float
    identifying: dict[str, str]  # column -> how it is protected
    notes: list[str]  # what training found worth saying (columns whose values are mostly rare)


@dataclass
class InferResult:
    table_name: str
    output: str
    rows: int
    seed: int
    preview: pd.DataFrame  # the first rows generated, for a summary


def train_table(
    source: str,
    table_name: str,
    *,
    epochs: int | None = None,
    row_limit: int | None = None,
    drop_null: bool = TrainSettings.drop_null,
    batch_size: int = TrainSettings.batch_size,
    random_seed: int | None = None,
    columns: dict[str, str] | None = None,
    rare_threshold: int = TrainSettings.rare_threshold,
    artifacts_dir=None,
    on_start: Callable[[pd.DataFrame], None] | None = None,
    on_epoch: Callable[[int, int, dict], None] | None = None,
) -> TrainResult:
    """Read ``source``, learn it, and save the model under the artifacts folder."""
    target = artifacts.model_dir(table_name, artifacts_dir)
    if batch_size < 1:
        raise SyngenError(f"--batch_size must be at least 1, got {batch_size}")
    if epochs is not None and epochs < 1:
        raise SyngenError(f"--epochs must be at least 1, got {epochs}")
    loaded = read_source(source, table_name, row_limit=row_limit, drop_null=drop_null)
    data = loaded.frame
    if on_start:
        on_start(data)
    # a database's PRIMARY KEY / UNIQUE columns are generated unique, never learned
    keys = [k for k in (loaded.declared.keys if loaded.declared else []) if k.type in ("PK", "UQ")]
    settings = TrainSettings(
        epochs=epochs, batch_size=batch_size, random_seed=random_seed, rare_threshold=rare_threshold
    )
    job = TableJob(
        table_name,
        describe_source(source),
        data,
        data,
        keys,
        loaded.declared,
        settings,
        {**key_kinds(keys, data, (), columns or {}), **(columns or {})},
    )
    model = learn_table(job, artifacts_dir, on_epoch, named=f"table '{table_name}' ({describe_source(source)})")
    assert model.fitted is not None  # fit() sets it
    return TrainResult(
        table_name,
        target,
        len(data),
        model.kinds,
        model.fitted.epochs_run,
        model.fitted.seconds,
        model.identifying,
        loaded.notes + model.notes,
    )


@dataclass
class TableJob:
    """One table to learn, as a single-table run and a linked run both describe it."""

    name: str
    source: str  # as described (a URL without its password)
    frame: pd.DataFrame  # the table as read: its schema is written from it
    learned: pd.DataFrame  # what the model learns (a linked run: FKs out, children counts and parents' columns in)
    keys: list[Key]
    declared: TableSchema | None  # what its database declares
    settings: TrainSettings
    kinds: dict[str, str]  # given kinds (keys', the user's)
    formats: dict[str, str] = field(default_factory=dict)
    rare_thresholds: dict[str, int] = field(default_factory=dict)
    as_decoded: set[str] = field(default_factory=set)  # columns generated as decoded (keys, counts)
    given: set[str] = field(default_factory=set)  # columns set from the parent row at generation
    fk_columns: set[str] = field(default_factory=set)


def learn_table(
    job: TableJob,
    artifacts_dir,
    on_epoch: Callable[[int, int, dict], None] | None = None,
    *,
    named: str,
    run: str | None = None,
    links: Callable[[Synthesizer], Links] | None = None,
) -> Synthesizer:
    """Fit a table's model and save it with its manifest (``links``: a linked run's, from the
    fitted model): the one job behind single-table and linked training. An error names the
    table as ``named``."""
    s = job.settings
    try:
        model = Synthesizer(
            epochs=s.epochs,
            batch_size=s.batch_size,
            verbatim=s.copy,
            random_seed=s.random_seed,
            columns=job.kinds,
            formats=job.formats,
            rare_threshold=s.rare_threshold,
            rare_thresholds=job.rare_thresholds,
            as_decoded=job.as_decoded,
            given=job.given,
        ).fit(job.learned, on_epoch=on_epoch)
    except SyngenError as error:
        raise SyngenError(f"{named}: {error}") from None
    mark_keys(model, job.keys, job.fk_columns)
    schema = schema_of(model, job.frame, job.declared, job.keys)
    manifest = Manifest(job.source, len(job.frame), schema, run, links(model) if links else None)
    model.save(
        artifacts.model_dir(job.name, artifacts_dir),
        artifacts.secret_path(job.name, artifacts_dir),
        {MANIFEST_FILE: manifest.to_json()},
    )
    return model


def schema_of(model: Synthesizer, frame: pd.DataFrame, declared, keys: list[Key]) -> Schema:
    """How the table's columns would be created in a database (types, NOT NULL, text formats
    of dates) and its PK/UQ keys, so generated rows can be written back faithfully."""
    return Schema(
        columns=[c.to_dict() for c in column_specs(frame, model.kinds, declared)],
        formats=model.text_formats,
        keys=[k for k in keys if k.type in ("PK", "UQ")],
        checks=declared.checks if declared else [],
        headers=frame.attrs.get(HEADERS, {}),
        written=frame.attrs.get(WRITTEN, {}),
    )


def table_spec(name: str, schema: Schema, keys: list[Key] | None = None, closing=()) -> TableSpec:
    """What a database target needs to create and fill the table; ``keys`` replace the PK/UQ
    keys the model was trained with (a linked run knows its FKs too)."""
    return TableSpec(
        name,
        [ColumnSpec.from_dict(c) for c in schema.columns],
        list(schema.keys) if keys is None else keys,
        dict(schema.formats),
        set(closing),
        list(schema.checks),
    )


def load_manifest(table_name: str, artifacts_dir=None) -> Manifest:
    """What the training run recorded of the table (source, schema, links)."""
    return read_manifest(_model_folder(table_name, artifacts_dir))


def _model_folder(table_name: str, artifacts_dir) -> Path:
    folder = artifacts.model_dir(table_name, artifacts_dir)
    if not folder.exists():
        raise SyngenError(
            f"no trained model for table '{table_name}' in '{folder}'; "
            f"run: train --source PATH --table_name {table_name}"
        )
    return folder


def schema_only(table_name: str, artifacts_dir=None) -> bool:
    """Whether the table was empty in its source: its folder holds a manifest and no model."""
    folder = artifacts.model_dir(table_name, artifacts_dir)
    return (folder / MANIFEST_FILE).is_file() and not (folder / MODEL_FILE).is_file()


def load_model(table_name: str, artifacts_dir=None) -> Synthesizer:
    folder = _model_folder(table_name, artifacts_dir)
    if schema_only(table_name, artifacts_dir):
        raise SyngenError(
            f"table '{table_name}' was empty in its source: '{folder}' holds its schema, no model; "
            "infer --metadata_path creates it, empty, with the tables it was trained with"
        )
    try:
        return Synthesizer.load(folder, artifacts.secret_path(table_name, artifacts_dir))
    except SyngenError as error:
        raise SyngenError(f"{error}; run: train --source PATH --table_name {table_name}") from None


def infer_table(
    table_name: str,
    size: int | None,
    *,
    run_parallel: bool = False,
    batch_size: int | None = None,
    random_seed: int | None = None,
    output: str | os.PathLike | None = None,
    if_exists: str = "fail",
    artifacts_dir=None,
    on_rows: Callable[[int], None] | None = None,
    conditions: dict | pd.DataFrame | None = None,
    spark: Spark | None = None,
) -> InferResult:
    """Generate ``size`` rows in batches, streamed to ``output``: a CSV/TSV/Parquet file
    (local or remote) or a database URL (the table created there, in one transaction).
    ``conditions``: values every row keeps, or seed rows (one generated row each; see
    ``Synthesizer.sample``). ``spark``: the batches made by Spark tasks, written here."""
    if size is not None and size < 1:
        raise SyngenError(f"size must be at least 1, got {size}")
    if batch_size is not None and batch_size < 1:
        raise SyngenError(f"--batch_size must be at least 1, got {batch_size}")
    model = load_model(table_name, artifacts_dir)
    manifest = load_manifest(table_name, artifacts_dir)
    given = model.read_conditions(conditions, size) if conditions is not None else None
    size = given.rows if given is not None else size
    if size is None:
        raise SyngenError(f"how many rows of table '{table_name}'? give a size, or conditions (seed rows)")
    if size < 1:
        raise SyngenError("the conditions file holds no seed rows")
    target = str(output) if output else str(artifacts.default_output(table_name, artifacts_dir))
    check_location(target)  # fail on an unsupported name before any work
    seed = resolve_seed(random_seed)
    keys = manifest.schema.keys
    existing = (
        existing_rows(target, table_name, [c for k in keys for c in k.columns]) if if_exists == "append" else None
    )
    if existing is not None:  # keys after the rows already there; workers would load the model unchanged
        refuse_spark_append(spark)
        continue_keys(model, existing)
        run_parallel = False
    batches = generate_batches(
        model, artifacts.model_dir(table_name, artifacts_dir), size, seed, batch_size, run_parallel, given, spark
    )
    unique = UniqueRows(model, keys, existing)
    if unique:
        batches = map(unique, batches)
    preview: list[pd.DataFrame] = []
    specs = {table_name: table_spec(table_name, manifest.schema)} if is_database_url(target) else {}
    with open_targets(
        {table_name: target},
        specs,
        if_exists,
        headers={table_name: manifest.schema.headers},
        written={table_name: manifest.schema.written},
    ) as targets:
        rows = targets[table_name].write(table_name, _observed(batches, on_rows, preview))
    return InferResult(table_name, describe_target(target), rows, seed, preview[0])


def generate_batches(
    model: Synthesizer,
    folder: Path,
    size: int,
    seed: int,
    batch_size: int | None,
    run_parallel: bool,
    conditions: Conditions | None = None,
    spark: Spark | None = None,
) -> Iterator[pd.DataFrame]:
    """The run's batches in order, from this process, from worker processes or from Spark
    tasks (``spark``), which load ``folder``."""
    plan = batch_plan(size, batch_size)
    if spark is not None:
        from syngen.spark import spark_batches

        return spark_batches(folder.name, folder.resolve(), model.secret, plan, size, seed, conditions, spark.master)
    if run_parallel and len(plan) > 1:
        return _parallel_batches(folder, model.secret, plan, size, seed, conditions)
    return (
        model.generate_batch(start, n, size, seed, conditions.batch(start, n) if conditions else None)
        for start, n in plan
    )


def refuse_spark_append(spark: Spark | None) -> None:
    """Appended rows take keys after the rows already there, which only this process's model knows."""
    if spark is not None:
        raise SyngenError(
            "--if_exists append continues the keys of the rows already there, which Spark's "
            "workers would not know; append without --engine spark"
        )


def _observed(batches: Iterator[pd.DataFrame], on_rows, preview: list) -> Iterator[pd.DataFrame]:
    """Pass batches through, reporting progress and keeping the head of the first."""
    for batch in batches:
        if not preview:
            preview.append(batch.head(PREVIEW_ROWS))
        yield batch
        if on_rows:
            on_rows(len(batch))


_WORKER_MODEL: Synthesizer | None = None


def _load_in_worker(folder: str, secret: str | None) -> None:
    global _WORKER_MODEL
    _WORKER_MODEL = Synthesizer.load(folder)
    _WORKER_MODEL.secret = secret  # the parent's key, wherever its file lives


def _batch_in_worker(start: int, n: int, total: int, seed: int, conditions: Conditions | None) -> pd.DataFrame:
    assert _WORKER_MODEL is not None  # the pool's initializer loads it
    return _WORKER_MODEL.generate_batch(start, n, total, seed, conditions)


def _parallel_batches(
    folder: Path, secret: str | None, plan, size: int, seed: int, conditions: Conditions | None
) -> Iterator[pd.DataFrame]:
    """Batches from worker processes, in order, with a bounded number in flight."""
    workers = max(1, min(os.cpu_count() or 1, len(plan)))
    window = 2 * workers
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_load_in_worker,
        initargs=(str(folder), secret),
    ) as pool:
        pending = []
        for start, n in plan:
            pending.append(
                pool.submit(_batch_in_worker, start, n, size, seed, conditions.batch(start, n) if conditions else None)
            )
            if len(pending) >= window:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
