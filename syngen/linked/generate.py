"""Generate the tables of a metadata file, in named steps:

1. ``_load``: each table's model and manifest, checked against the metadata file;
2. ``_prepare``: the order (parents first), each table's settings, destination and seed, and
   what children take from their parents;
3. ``_streams``: each table's batch stream, parents first: its size from its parents, its FK
   values drawn from its generated parents' keys (``linked.assign``), its context from their
   rows; reading a stream to its end keeps what the table's children need;
4. ``_write``: a stream into its target, or, for a table with late links or totals, whole
   in memory (its links to itself filled now);
5. ``_close_loops``: loop-closing links and totals of children, once the tables they need exist.

All tables are written in one transaction (databases) or at the end (files)."""

from __future__ import annotations

import os
import zlib
from collections import deque
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from syngen import artifacts, empty_tables
from syngen.adapters import views
from syngen.adapters.sql import is_database_url
from syngen.adapters.sql_write import TableSpec
from syngen.adapters.targets import describe_target, existing_rows, open_targets
from syngen.engine.synthesizer import Synthesizer, resolve_seed
from syngen.errors import SyngenError
from syngen.keys import UniqueRows, continue_keys
from syngen.linked.aggregates import Aggregate
from syngen.linked.assign import Generated, assign_links, fill_late_links, key_values
from syngen.linked.links import COUNT_PREFIX
from syngen.linked.parents import parent_rows, picked
from syngen.linked.run import TableReport, destinations, foreign_key, table_settings
from syngen.linked.siblings import places
from syngen.manifest import Links, Manifest
from syngen.metadata.declared import with_unspoken
from syngen.metadata.graph import Plan
from syngen.metadata.graph import plan as plan_of
from syngen.metadata.model import Key, Metadata
from syngen.runs import generate_batches, load_manifest, load_model, refuse_spark_append, schema_only, table_spec
from syngen.settings import InferSettings


@dataclass(frozen=True)
class _Trained:
    """What training left for each table, checked against the metadata file (step 1)."""

    metadata: Metadata  # with the keys the sources declared at training; empty tables detached
    models: dict[str, Synthesizer | None]  # None: a table empty in its source, schema only
    manifests: dict[str, Manifest]
    links: dict[str, Links]
    detached: dict[str, list[Key]]  # FKs to empty tables, kept for the targets' schema


@dataclass(frozen=True)
class _Run:
    """What every table's steps read (step 2)."""

    plan: Plan
    settings: dict[str, InferSettings]
    locations: dict[str, str]  # parents first: tables are created in this order
    specs: dict[str, TableSpec]  # of the tables that go to a database
    seed: int
    owners: dict[str, tuple[str, tuple[str, ...]]]  # TKN key -> the table whose tokens the others draw
    referenced: dict[str, set[tuple[str, ...]]]  # per table, the columns its children read of its rows
    totals: dict[str, list[Aggregate]]  # per table, its columns that total its children
    feeding: dict[str, set[str]]  # per child table, the columns parents' totals are made of
    appending_to: dict[str, pd.DataFrame | None]  # the rows already in a target, for keys after theirs
    artifacts_dir: str | os.PathLike | None = None  # where the models are (None: the default folder)


@dataclass
class _Stream:
    """One table's batches (step 3). Reading them to the end seals what its children need."""

    name: str
    report: TableReport
    batches: Iterator[pd.DataFrame]
    seed: int
    late: list[Key]  # its FKs to tables made after it, or to itself
    kept_as_is: bool = False  # a copied table already in the target: its rows are read, not written


def infer_tables(
    metadata: Metadata,
    cli: dict,
    artifacts_dir=None,
    output: str | None = None,
    if_exists: str = "fail",
    log: Callable[[str], None] = lambda message: None,
    on_table: Callable[[str, int], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> list[TableReport]:
    """Generate every table of ``metadata``, parents first, with valid keys, into each
    table's ``destination``, else ``output`` (a database URL), else CSV files in the
    artifacts folder. The run is all-or-nothing: files appear and databases commit at the end."""
    trained = _load(metadata, artifacts_dir)
    run = _prepare(trained, cli, artifacts_dir, output, if_exists, log)
    generated: dict[str, Generated] = {}
    fed: dict[str, list[pd.DataFrame]] = {}  # per child table, its columns that parents' totals read
    held: dict[str, tuple[pd.DataFrame, int]] = {}  # tables waiting for a loop to close or for totals
    reports = []
    kept_views = views.within(views.load(artifacts.views_path(artifacts_dir)), trained.metadata.tables)
    with open_targets(
        run.locations,
        run.specs,
        if_exists,
        kept_views,
        {name: trained.manifests[name].schema.headers for name in run.plan.order},
        {name: trained.manifests[name].schema.written for name in run.plan.order},
    ) as targets:
        for stream in _streams(trained, run, generated, fed, on_table, on_rows):
            frame = _write(stream, targets[stream.name], trained, run, generated)
            if frame is not None:
                held[stream.name] = (frame, stream.seed)
            reports.append(stream.report)
        _close_loops(held, trained, run, generated, fed, targets)
    for report in reports:
        report.notes += targets[report.table].notes.get(report.table, [])
    for note in dict.fromkeys(n for t in targets.values() for n in getattr(t, "view_notes", [])):
        log(note)
    return reports


def _load(metadata: Metadata, artifacts_dir) -> _Trained:
    """Each table's model and manifest; an error naming the command to run where a table was
    trained on its own, without a key the file declares, or in another run."""
    models: dict[str, Synthesizer | None] = {}
    manifests: dict[str, Manifest] = {}
    for name in metadata.tables:
        try:
            models[name] = None if schema_only(name, artifacts_dir) else load_model(name, artifacts_dir)
            manifests[name] = load_manifest(name, artifacts_dir)
        except SyngenError as error:
            reason = str(error).split("; run:")[0]
            raise SyngenError(f"{reason}; run: train --metadata_path {metadata.path}") from None
    links_of: dict[str, Links] = {}
    for name, manifest in manifests.items():
        if manifest.links is None:
            raise SyngenError(
                f"the model of table '{name}' was trained on its own, without the metadata "
                f"file; run: train --metadata_path {metadata.path}"
            )
        links_of[name] = manifest.links
        trained_with = {(k.type, k.columns, k.parent) for k in manifest.links.keys}
        differing = [
            k
            for k in metadata.tables[name].keys
            if trained_with and k.type != "TKN" and (k.type, k.columns, k.parent) not in trained_with
        ]
        if differing:
            raise SyngenError(
                f"the model of table '{name}' was trained without the key {differing[0].type} "
                f"({', '.join(differing[0].columns)}) the metadata file declares; "
                f"run: train --metadata_path {metadata.path}"
            )
        # keys the sources declared at training (a database's constraints) hold here too
        metadata = replace(
            metadata, tables={**metadata.tables, name: with_unspoken(metadata.tables[name], manifest.links.keys)}
        )
    metadata, detached = empty_tables.detach(metadata, {n for n, m in models.items() if m is None})
    runs = {m.run for m in manifests.values()}
    if len(runs) > 1:
        raise SyngenError(
            f"the models of the tables come from {len(runs)} different training runs (one was "
            f"interrupted, or trained other tables); run: train --metadata_path {metadata.path}"
        )
    return _Trained(metadata, models, manifests, links_of, detached)


def _prepare(trained: _Trained, cli: dict, artifacts_dir, output: str | None, if_exists: str, log) -> _Run:
    """The order, settings, destinations and seed of the run, and what tables read of others."""
    metadata = trained.metadata
    plan = plan_of(metadata)
    places_of = destinations(metadata, output, artifacts_dir)
    locations = {name: places_of[name] for name in plan.order}
    specs = {
        name: table_spec(
            name,
            trained.manifests[name].schema,
            [k for k in metadata.tables[name].keys if k.type != "TKN"] + trained.detached.get(name, []),
            [k.columns for k in _closing_keys(metadata, plan, name)],
        )
        for name in plan.order
        if is_database_url(locations[name])
    }
    _align_link_types(metadata, specs)
    owners = _token_owners(metadata, plan)
    referenced = _referenced_keys(metadata)
    for owner, owned in owners.values():
        referenced.setdefault(owner, set()).add(owned)
    for name in plan.order:  # the parent columns children take travel with the parent's keys
        keys = {k.name: k for k in metadata.tables[name].foreign_keys}
        for by_key in _taken(trained.links[name], trained.models[name]).values():
            for key_name, taken in by_key.items():
                referenced.setdefault(keys[key_name].parent_table, set()).add(_parent_columns(taken))
    totals = {name: _aggregates(trained.links[name], trained.models[name]) for name in plan.order}
    feeding: dict[str, set[str]] = {}
    for aggregates in totals.values():
        for a in aggregates:
            key = foreign_key(metadata.tables[a.child], a.key)
            feeding.setdefault(a.child, set()).update(key.columns + a.of)
    appending_to = (
        {}
        if if_exists != "append"
        else {
            name: existing_rows(
                locations[name], name, [c for k in metadata.tables[name].unique_keys for c in k.columns]
            )
            for name in plan.order
        }
    )
    return _Run(
        plan,
        table_settings(metadata, plan, InferSettings, cli, log),
        locations,
        specs,
        resolve_seed(cli.get("random_seed")),
        owners,
        referenced,
        totals,
        feeding,
        appending_to,
        artifacts_dir,
    )


def _streams(
    trained: _Trained,
    run: _Run,
    generated: dict[str, Generated],
    fed: dict[str, list[pd.DataFrame]],
    on_table: Callable[[str, int], None] | None,
    on_rows: Callable[[int], None] | None,
) -> Iterator[_Stream]:
    """Each table's stream, parents first; a stream must be read to its end before the next
    is asked for, since a child's links are drawn from its parents' generated rows."""
    for name in run.plan.order:
        stream = _stream(name, trained, run, generated, fed, on_table, on_rows)
        yield stream
        assert generated[name].sealed, f"the batches of '{name}' were not read to the end"


def _stream(name: str, trained: _Trained, run: _Run, generated, fed, on_table, on_rows) -> _Stream:
    """One table's size, links and context from its generated parents, and its batches."""
    metadata = trained.metadata
    table, model, links_in, s = metadata.tables[name], trained.models[name], trained.links[name], run.settings[name]
    # one seed per table, so that tables sharing a run seed do not share random draws
    seed = _table_seed(s.random_seed if s.random_seed is not None else run.seed, name)
    rng = np.random.default_rng([seed, 7])
    report = TableReport(name, output=describe_target(run.locations[name]))
    if model is None:  # schema only: created, and left empty
        state = generated[name] = Generated()
        empty = [pd.DataFrame(columns=links_in.columns)]
        return _Stream(name, report, _sealing(empty, state), seed, late=[])
    # a table with parents takes its size from them, unless its own settings give one
    driving = run.plan.driving_key(metadata, name)
    size = s.size if driving is None else table.infer_settings.get("size")
    if model.is_verbatim:
        if size is not None and size != trained.manifests[name].rows:
            report.notes.append(f"size {size} ignored: the table is copied as it is (train_settings.copy)")
        size = trained.manifests[name].rows
    size, expected, links, indices = assign_links(
        metadata, run.plan, name, links_in, size, s.scale, generated, rng, report
    )
    copied, context = _from_parents(table, links_in, model, indices, generated)
    if model.is_verbatim:  # copied as it is, but its children scale
        expected = trained.manifests[name].rows * s.scale
    links.update(_shared_tokens(table, links_in, run.owners, generated, size, rng))
    if size < 1:
        raise SyngenError(
            f"table '{name}': its parents got no children in this run, so it would be empty; set infer_settings.size"
        )
    state = generated[name] = Generated(rows=size, expected=expected, source_rows=links_in.source_rows)
    if on_table:
        on_table(name, size)
    existing = run.appending_to.get(name)
    kept_as_is = model.is_verbatim and existing is not None  # the copy is there already
    if existing is not None and not kept_as_is:  # appended rows take keys after the rows there
        refuse_spark_append(s.spark)
        continue_keys(model, existing)
        s = replace(s, run_parallel=False)  # workers would load the model unchanged
    unique = UniqueRows(model, table.unique_keys, None if kept_as_is else existing)
    given = model.read_conditions(context, lenient=True) if len(context.columns) else None
    made = generate_batches(
        model, artifacts.model_dir(name, run.artifacts_dir), size, seed, s.batch_size, s.run_parallel, given, s.spark
    )
    report.rows = size

    def finished() -> Iterator[pd.DataFrame]:
        for batch in made:
            batch = _finish_batch(
                batch, links, copied, links_in.columns, state, run.referenced.get(name, ()), on_rows, unique
            )
            if name in run.feeding:
                fed.setdefault(name, []).append(batch[sorted(run.feeding[name])])
            yield batch
        _count_left_out(unique, state, report)

    late = [k for k in table.foreign_keys if run.plan.is_late(name, k)]
    return _Stream(name, report, _sealing(finished(), state), seed, late, kept_as_is)


def _sealing(batches: Iterable[pd.DataFrame], state: Generated) -> Iterator[pd.DataFrame]:
    """``batches``, then ``state`` sealed: what children need is whole once the last is read."""
    yield from batches
    state.seal()


def _write(stream: _Stream, target, trained: _Trained, run: _Run, generated) -> pd.DataFrame | None:
    """The stream into its target; a table with late links or totals is made whole in
    memory instead, its links to itself filled now, and returned where it waits for others."""
    name = stream.name
    if stream.kept_as_is:  # its rows are read for the children's links, not written twice
        deque(stream.batches, maxlen=0)
        stream.report.rows = 0
        stream.report.notes.append("copied table already in the target: its rows were kept, not added again")
        return None
    if not stream.late and not run.totals[name]:
        target.write(name, stream.batches)
        return None
    frame = pd.concat(list(stream.batches), ignore_index=True)
    _fill_late(
        trained,
        generated,
        name,
        frame,
        np.random.default_rng([stream.seed, 8]),
        [k for k in stream.late if k.parent == name],
    )
    if not _closing_keys(trained.metadata, run.plan, name) and not run.totals[name]:
        target.write(name, [frame])
        return None
    target.hold(name, frame)
    return frame


def _close_loops(held: dict[str, tuple[pd.DataFrame, int]], trained: _Trained, run: _Run, generated, fed, targets):
    """The held tables' links to tables made after them, and their totals of children."""
    for name, (frame, seed) in held.items():
        closing = _closing_keys(trained.metadata, run.plan, name)
        _fill_late(trained, generated, name, frame, np.random.default_rng([seed, 9]), closing)
        _fill_totals(trained.metadata, frame, run.totals[name], fed)
        targets[name].complete(name, frame, [a.column for a in run.totals[name]])


def _fill_late(trained: _Trained, generated, name: str, frame: pd.DataFrame, rng, keys: list[Key]) -> None:
    """The FK columns of ``keys``, late links of ``frame`` (its table, whole), from their generated parents."""
    fill_late_links(trained.metadata, name, frame, trained.links[name], generated, rng, keys)


def _align_link_types(metadata, specs) -> None:
    """FK columns take their parent column's type: a database refuses a foreign key between
    different types, which files can suggest (an FK column with no value reads as text)."""
    for name, spec in specs.items():
        for key in metadata.tables[name].foreign_keys:
            if key.parent not in specs:
                continue
            parent_types = {c.name: c.type for c in specs[key.parent].columns}
            for column in spec.columns:
                if column.name in key.columns:
                    column.type = parent_types[key.parent_columns[key.columns.index(column.name)]]


def _closing_keys(metadata, plan: Plan, name: str) -> list[Key]:
    """The table's late links to other tables: FKs whose parent is generated after it."""
    return [k for k in metadata.tables[name].foreign_keys if plan.is_late(name, k) and k.parent != name]


def _table_seed(run_seed: int, name: str) -> int:
    return (run_seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def _token_owners(metadata, plan: Plan) -> dict[str, tuple[str, tuple[str, ...]]]:
    """TKN key name -> the first table (in generation order) that has it, and its columns:
    that table's generated tokens are the set every other table with the name draws from."""
    owners: dict[str, tuple[str, tuple[str, ...]]] = {}
    for name in plan.order:
        for key in metadata.tables[name].keys:
            if key.type == "TKN":
                owners.setdefault(key.name, (name, key.columns))
    return owners


def _shared_tokens(table, links: Links, owners, generated, size, rng) -> dict[str, pd.Series]:
    """Token columns of a table that is not its tokens' owner, drawn from the owner's set
    (without repeats where the source had none), so joins on them still work."""
    values: dict[str, pd.Series] = {}
    stats = links.tokens
    for key in (k for k in table.keys if k.type == "TKN"):
        owner, owner_columns = owners[key.name]
        if owner == table.name:
            continue
        pool = generated[owner].keys[owner_columns].dropna().reset_index(drop=True)
        if pool.empty:
            continue  # the owner generated no tokens: keep this table's own
        unique = stats.get(key.name, {}).get("unique", False)
        if unique and len(pool) >= size:
            rows = rng.permutation(len(pool))[:size]
        else:
            rows = rng.integers(0, len(pool), size)
        rows[rng.random(size) < stats.get(key.name, {}).get("null_share", 0.0)] = -1
        shared = Key(key.name, "TKN", key.columns, owner, owner_columns)
        values.update(key_values(pool, shared, rows))
    return values


def _referenced_keys(metadata) -> dict[str, set[tuple[str, ...]]]:
    referenced: dict[str, set[tuple[str, ...]]] = {}
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            referenced.setdefault(key.parent, set()).add(key.parent_columns)
    return referenced


def _finish_batch(batch, links, copied, columns, state: Generated, referenced, on_rows, unique) -> pd.DataFrame:
    """Put the FK values in and the parents' copied columns (``copied``: values and rows with
    a parent), make keys with learned columns unique, keep what children need, and restore
    the source's columns."""
    start = batch.index[0] if len(batch) else 0
    for column, values in links.items():
        batch[column] = values.iloc[start : start + len(batch)].set_axis(batch.index)
    for column, (values, linked) in copied.items():
        part = values.iloc[start : start + len(batch)].set_axis(batch.index)
        batch[column] = part.where(linked[start : start + len(batch)], batch[column]) if column in batch else part
    if unique:
        batch = unique(batch)
    for column in [c for c in batch.columns if str(c).startswith(COUNT_PREFIX)]:
        state.count_parts.setdefault(column, []).append(batch.pop(column).to_numpy())
    for referenced_columns in referenced:
        state.key_parts.setdefault(referenced_columns, []).append(batch[list(referenced_columns)])
    missing = [c for c in columns if c not in batch.columns]
    for column in missing:  # late links, filled when the whole table is made
        batch[column] = None
    if on_rows:
        on_rows(len(batch))
    return batch[columns].reset_index(drop=True)


def _aggregates(links: Links, model: Synthesizer | None) -> list[Aggregate]:
    """The table's columns that total its children (none in a verbatim copy or an empty table)."""
    if model is None or model.is_verbatim:
        return []
    return [Aggregate(**{**a, "of": tuple(a["of"])}) for a in links.aggregates]


def _fill_totals(
    metadata, frame: pd.DataFrame, aggregates: list[Aggregate], fed: dict[str, list[pd.DataFrame]]
) -> None:
    """Set each total of ``frame`` (a parent table, whole) from its generated children."""
    for a in aggregates:
        key = foreign_key(metadata.tables[a.child], a.key)
        children = (
            pd.concat(fed.get(a.child, []), ignore_index=True)
            if fed.get(a.child)
            else pd.DataFrame(columns=list(key.columns) + list(a.of))
        )
        rows = parent_rows(children, frame, key.columns, key.parent_columns)
        values = a.values(
            rows, {c: pd.to_numeric(children[c], errors="coerce").to_numpy(dtype=float) for c in a.of}, len(frame)
        )
        frame[a.column] = (
            values.astype(np.int64) if a.decimals == 0 and pd.api.types.is_integer_dtype(frame[a.column]) else values
        )


def _taken(links: Links, model: Synthesizer | None) -> dict[str, dict[str, dict[str, str]]]:
    """What the table takes from its parent rows (``linked.parents``), per kind ("copies":
    its columns, "context": its model's given columns) and FK: column -> parent column.
    A verbatim copy or an empty table takes nothing."""
    if model is None or model.is_verbatim:
        return {}
    return {"copies": links.copies, "context": links.context}


def _from_parents(
    table, links: Links, model: Synthesizer, indices, generated
) -> tuple[dict[str, tuple[pd.Series, np.ndarray]], pd.DataFrame]:
    """The columns the table copies from its generated parent rows or that number its rows
    within each parent (values, and the rows that have a parent), and its model's context
    columns, row by row."""
    picks: dict[str, dict[str, pd.Series]] = {"copies": {}, "context": {}}
    linked: dict[str, np.ndarray] = {}
    for kind, by_key in _taken(links, model).items():
        for key_name, columns in by_key.items():
            key = foreign_key(table, key_name)
            parent_values = generated[key.parent].keys[_parent_columns(columns)]
            rows = indices[key_name]
            for column, parent_column in columns.items():
                picks[kind][column] = picked(parent_values[parent_column], rows)
                linked[column] = rows >= 0
    copied = {c: (v, linked[c]) for c, v in picks["copies"].items()}
    numbered = {} if model.is_verbatim else links.numbered
    for key_name, firsts in numbered.items():
        rows = indices[key_name]
        for column, first in firsts.items():
            copied[column] = (pd.Series(places(rows) + first), rows >= 0)
    return copied, pd.DataFrame(picks["context"])


def _parent_columns(columns: dict[str, str]) -> tuple[str, ...]:
    """The parent's columns a child takes, as children's needs are kept (``Generated.keys``)."""
    return tuple(dict.fromkeys(columns.values()))


def _count_left_out(unique: UniqueRows, state: Generated, report: TableReport) -> None:
    for key, rows in unique.dropped.items():
        report.notes.append(
            f"{key}: {rows} row(s) left out: their key repeated an earlier row's and no free value was found for it"
        )
        state.rows -= rows
        report.rows -= rows
