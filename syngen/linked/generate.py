"""Generate the tables of a metadata file, parents first, with every key valid: each table's
size from its parents, its FK values drawn from its generated parents' keys, its context
from their rows; loop-closing links and totals of children filled once the tables they
need exist; all tables written in one transaction (databases) or at the end (files)."""

from __future__ import annotations

import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd

from syngen import artifacts, empty_tables
from syngen.adapters import views
from syngen.adapters.sql import is_database_url
from syngen.adapters.targets import describe_target, existing_rows, open_targets
from syngen.engine.synthesizer import Synthesizer, resolve_seed
from syngen.errors import SyngenError
from syngen.keys import UniqueRows, continue_keys, key_tuples
from syngen.linked.aggregates import Aggregate
from syngen.linked.links import (
    COUNT_PREFIX,
    avoid_self_links,
    calibrated_counts,
    count_column,
    link_rows,
    tree_links,
)
from syngen.linked.parents import parent_rows, picked
from syngen.linked.run import TableReport, destinations, foreign_key, table_settings
from syngen.linked.siblings import places
from syngen.manifest import Links, Manifest
from syngen.metadata.declared import with_unspoken
from syngen.metadata.graph import Plan
from syngen.metadata.graph import plan as plan_of
from syngen.metadata.model import Key, Metadata
from syngen.runs import generate_batches, load_manifest, load_model, schema_only, table_spec
from syngen.settings import InferSettings

_DEDUPE_ROUNDS = 100


@dataclass
class _Generated:
    """What children need of a generated table: its rows, referenced keys, children counts."""

    rows: int = 0
    keys: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    key_parts: dict[tuple[str, ...], list[pd.DataFrame]] = field(default_factory=dict)  # batch by batch, until sealed
    count_parts: dict[str, list[np.ndarray]] = field(default_factory=dict)
    expected: float = 0.0  # the rows it stands for: a copied table's scaled size, a table rounded up its share
    source_rows: int = 0  # the source's rows (not a sample's)


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
    models: dict[str, Synthesizer | None] = {}  # None: a table empty in its source, schema only
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
    plan = plan_of(metadata)
    settings = table_settings(metadata, plan, InferSettings, cli, log)
    places = destinations(metadata, output, artifacts_dir)
    locations = {name: places[name] for name in plan.order}  # parents first: tables are created in this order
    specs = {
        name: table_spec(
            name,
            manifests[name].schema,
            [k for k in metadata.tables[name].keys if k.type != "TKN"] + detached.get(name, []),
            [k.columns for k in _closing_keys(metadata, plan, name)],
        )
        for name in plan.order
        if is_database_url(locations[name])
    }
    _align_link_types(metadata, specs)
    run_seed = resolve_seed(cli.get("random_seed"))
    owners = _token_owners(metadata, plan)
    referenced = _referenced_keys(metadata)
    for owner, owned in owners.values():
        referenced.setdefault(owner, set()).add(owned)
    for name in plan.order:  # the parent columns children take travel with the parent's keys
        keys = {k.name: k for k in metadata.tables[name].foreign_keys}
        for by_key in _taken(links_of[name], models[name]).values():
            for key_name, taken in by_key.items():
                referenced.setdefault(keys[key_name].parent_table, set()).add(_parent_columns(taken))
    generated: dict[str, _Generated] = {}
    held: dict[str, tuple[pd.DataFrame, int]] = {}  # tables waiting for a loop to close or for totals, and seeds
    totals = {name: _aggregates(links_of[name], models[name]) for name in plan.order}
    feeding: dict[str, set[str]] = {}  # per child table, the columns parents' totals are made of
    for aggregates in totals.values():
        for a in aggregates:
            key = foreign_key(metadata.tables[a.child], a.key)
            feeding.setdefault(a.child, set()).update(key.columns + a.of)
    fed: dict[str, list[pd.DataFrame]] = {}
    reports = []
    appending_to = (
        {}
        if if_exists != "append"
        else {  # the rows already there, for keys after theirs
            name: existing_rows(
                locations[name], name, [c for k in metadata.tables[name].unique_keys for c in k.columns]
            )
            for name in plan.order
        }
    )
    kept_views = views.within(views.load(artifacts.views_path(artifacts_dir)), metadata.tables)
    with open_targets(
        locations,
        specs,
        if_exists,
        kept_views,
        {name: manifests[name].schema.headers for name in plan.order},
        {name: manifests[name].schema.written for name in plan.order},
    ) as targets:
        for name in plan.order:
            table, model, links_in, s = metadata.tables[name], models[name], links_of[name], settings[name]
            # one seed per table, so that tables sharing a run seed do not share random draws
            seed = _table_seed(s.random_seed if s.random_seed is not None else run_seed, name)
            rng = np.random.default_rng([seed, 7])
            report = TableReport(name, output=describe_target(locations[name]))
            if model is None:  # schema only: created, and left empty
                generated[name] = _Generated()
                targets[name].write(name, [pd.DataFrame(columns=links_in.columns)])
                reports.append(report)
                continue
            # a table with parents takes its size from them, unless its own settings give one
            driving = plan.driving_key(metadata, name)
            size = s.size if driving is None else table.infer_settings.get("size")
            if model.is_verbatim:
                if size is not None and size != manifests[name].rows:
                    report.notes.append(f"size {size} ignored: the table is copied as it is (train_settings.copy)")
                size = manifests[name].rows
            size, expected, links, indices = _assign_links(
                metadata, plan, name, links_in, size, s.scale, generated, rng, report
            )
            copied, context = _from_parents(table, links_in, model, indices, generated)
            if model.is_verbatim:  # copied as it is, but its children scale
                expected = manifests[name].rows * s.scale
            links.update(_shared_tokens(table, links_in, owners, generated, size, rng))
            if size < 1:
                raise SyngenError(
                    f"table '{name}': its parents got no children in this run, so it would "
                    "be empty; set infer_settings.size"
                )
            columns = links_in.columns
            state = _Generated(rows=size, expected=expected, source_rows=links_in.source_rows)
            generated[name] = state
            if on_table:
                on_table(name, size)

            existing = appending_to.get(name)
            kept_as_is = model.is_verbatim and existing is not None  # the copy is there already
            if existing is not None and not kept_as_is:  # appended rows take keys after the rows there
                continue_keys(model, existing)
                s = replace(s, run_parallel=False)  # workers would load the model unchanged
            unique = UniqueRows(model, table.unique_keys, None if kept_as_is else existing)

            def finished(batches, links=links, copied=copied, columns=columns, state=state, name=name, unique=unique):
                for batch in batches:
                    batch = _finish_batch(
                        batch, links, copied, columns, state, referenced.get(name, ()), on_rows, unique
                    )
                    if name in feeding:
                        fed.setdefault(name, []).append(batch[sorted(feeding[name])])
                    yield batch

            given = model.read_conditions(context, lenient=True) if len(context.columns) else None
            batches = finished(
                generate_batches(
                    model,
                    artifacts.model_dir(name, artifacts_dir),
                    size,
                    seed,
                    s.batch_size,
                    s.run_parallel,
                    given,
                )
            )
            report.rows = size
            late = [k for k in table.foreign_keys if plan.is_late(name, k)]
            if kept_as_is:  # its rows are read for the children's links, not written twice
                deque(batches, maxlen=0)
                _seal(state)
                report.rows = 0
                report.notes.append("copied table already in the target: its rows were kept, not added again")
            elif not late and not totals[name]:
                targets[name].write(name, batches)
                _seal(state)
            else:  # whole in memory: its self-references now, its loop-closing links at the end
                frame = pd.concat(list(batches), ignore_index=True)
                _seal(state)
                _fill_late_links(
                    metadata,
                    name,
                    frame,
                    links_in,
                    generated,
                    np.random.default_rng([seed, 8]),
                    [k for k in late if k.parent == name],
                )
                if _closing_keys(metadata, plan, name) or totals[name]:
                    targets[name].hold(name, frame)
                    held[name] = (frame, seed)
                else:
                    targets[name].write(name, [frame])
            _count_left_out(unique, state, report)
            reports.append(report)
        for name, (frame, seed) in held.items():
            _fill_late_links(
                metadata,
                name,
                frame,
                links_of[name],
                generated,
                np.random.default_rng([seed, 9]),
                _closing_keys(metadata, plan, name),
            )
            _fill_totals(metadata, frame, totals[name], fed)
            targets[name].complete(name, frame, [a.column for a in totals[name]])
    for report in reports:
        report.notes += targets[report.table].notes.get(report.table, [])
    for note in dict.fromkeys(n for t in targets.values() for n in getattr(t, "view_notes", [])):
        log(note)
    return reports


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
        values.update(_key_values(pool, shared, rows))
    return values


def _referenced_keys(metadata) -> dict[str, set[tuple[str, ...]]]:
    referenced: dict[str, set[tuple[str, ...]]] = {}
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            referenced.setdefault(key.parent, set()).add(key.parent_columns)
    return referenced


def _finish_batch(batch, links, copied, columns, state: _Generated, referenced, on_rows, unique) -> pd.DataFrame:
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


def _count_left_out(unique: UniqueRows, state: _Generated, report: TableReport) -> None:
    for key, rows in unique.dropped.items():
        report.notes.append(
            f"{key}: {rows} row(s) left out: their key repeated an earlier row's and no free value was found for it"
        )
        state.rows -= rows
        report.rows -= rows


def _seal(state: _Generated) -> None:
    state.counts = {c: np.concatenate(parts) for c, parts in state.count_parts.items()}
    state.keys = {k: pd.concat(parts, ignore_index=True) for k, parts in state.key_parts.items()}
    state.count_parts, state.key_parts = {}, {}


def _assign_links(
    metadata, plan: Plan, name, links: Links, size, scale, generated, rng, report
) -> tuple[int, float, dict[str, pd.Series], dict[str, np.ndarray]]:
    """The table's size, the size it stands for (its children follow that one), the values
    of its (not late) FK columns, row by row, and per FK each row's parent row (-1: none).
    Without a size, a table without parents has ``scale`` times its source's rows; a child
    follows its parents."""
    table = metadata.tables[name]
    stats = {link["name"]: link for link in links.foreign_keys}
    driving = plan.driving_key(metadata, name)
    if size is not None:
        expected = float(size)
    elif driving is None:  # the source's size, also when a sample of it was learned
        expected = links.source_rows * scale
    else:
        # the source's rows times the share of its parents' source rows the parents stand
        # for: the counts drawn for a handful of parents would make the size of a whole
        # branch a lottery, a parent table rounded up to one row must not give its children
        # a whole table's worth, and a sample learned (row_limit) is not the source's size
        parent = generated[driving.parent]
        expected = links.source_rows * parent.expected / max(parent.source_rows, 1)
    if size is None:
        size = max(1, int(round(expected)))
    size = _room_for_least_children(table, plan, name, stats, generated, size, report)
    indices: dict[str, np.ndarray] = {}
    redraws: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    for key in table.foreign_keys:
        if plan.is_late(name, key):
            continue
        parent = generated[key.parent]
        link = stats[key.name]
        earlier = _sharing(table, key, indices)
        if earlier:  # columns it shares with links drawn before decide its parent's group
            redraws[key.name] = _within_groups(key, earlier, indices, generated, rng)
            indices[key.name] = redraws[key.name](np.arange(size))
            continue
        least = link.get("min_children", 0)
        counts = calibrated_counts(parent.counts[count_column(name, key)], link.get("count_quantiles", []), rng, least)
        caps = [c for c in (_partners(table, key, generated), _most_children(link, size, len(counts))) if c is not None]
        indices[key.name] = link_rows(
            counts,
            size,
            link["null_share"],
            rng,
            keep_together=key == driving,
            cap=max(min(caps), least) if caps else None,
            least=least,
        )
    size, indices = _unique_fk_tuples(table, indices, generated, size, rng, report, redraws)
    values: dict[str, pd.Series] = {}
    for key in table.foreign_keys:
        if key.name in indices:
            made = _key_values(generated[key.parent].keys[key.parent_columns], key, indices[key.name])
            # a grouped link agrees on the shared columns, or has no parent: those stay the earlier link's
            values.update({c: v for c, v in made.items() if key.name not in redraws or c not in values})
    return size, expected, values, indices


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
    """The parent's columns a child takes, as children's needs are kept (``_Generated.keys``)."""
    return tuple(dict.fromkeys(columns.values()))


def _room_for_least_children(table, plan: Plan, name, stats, generated, size: int, report) -> int:
    """The table's size, raised where an FK's min_children needs more rows than that for
    every generated parent row to get its least number of children."""
    for key in table.foreign_keys:
        link = stats[key.name]
        least = link.get("min_children", 0)
        if not least or plan.is_late(name, key):
            continue
        needed = int(np.ceil(least * generated[key.parent].rows / max(1 - link["null_share"], 1e-9)))
        if needed > size:
            report.notes.append(
                f"{needed} rows instead of {size}, so that every '{key.parent}' row has at "
                f"least {least} (FK {key.name}: min_children)"
            )
            size = needed
    return size


def _most_children(link: dict, size: int, parents: int) -> int | None:
    """The most children a parent row may get: the source's most, times how much more
    children than parents were asked for (a copied parent whose children scale), so that
    a few parents do not take more than the source ever held (an airport's every hour)."""
    if not link.get("count_quantiles"):
        return None
    expected = link["children_per_parent"] * parents / max(1 - link["null_share"], 1e-9)
    return int(np.ceil(link["count_quantiles"][-1] * max(1.0, size / max(expected, 1e-9))))


def _partners(table, key: Key, generated) -> int | None:
    """When ``key`` is part of a PK/UQ made only of FKs, how many distinct partners a parent
    can have: the rows of the other parents in that key (a playlist holds each track once)."""
    fk_of = {c: k for k in table.foreign_keys for c in k.columns}
    for unique in table.unique_keys:
        if key.columns[0] in unique.columns and all(c in fk_of for c in unique.columns):
            others = {fk_of[c].name: fk_of[c] for c in unique.columns if fk_of[c] != key}
            if others and all(k.parent in generated for k in others.values()):
                return int(np.prod([generated[k.parent].rows for k in others.values()]))
    return None


def _sharing(table, key: Key, indices) -> list[Key]:
    """The links already drawn that share columns with ``key`` (a contestant's and an
    episode's season in a row of both)."""
    return [k for k in table.foreign_keys if k.name in indices and set(k.columns) & set(key.columns)]


def _within_groups(key: Key, earlier: list[Key], indices, generated, rng) -> Callable[[np.ndarray], np.ndarray]:
    """Parent rows for ``key``, drawn for some child rows among the parents that agree with
    the values the ``earlier`` links gave the shared columns (-1 where none does)."""
    shared = {}  # child column -> its values, from the earlier links' parents
    for other in earlier:
        for column, values in _key_values(
            generated[other.parent].keys[other.parent_columns], other, indices[other.name]
        ).items():
            if column in key.columns:
                shared[column] = values
    columns = list(shared)
    parents = generated[key.parent].keys[key.parent_columns]
    parent_groups = key_tuples(parents.rename(columns=dict(zip(key.parent_columns, key.columns))), columns)
    child_groups = key_tuples(pd.DataFrame(shared), columns)
    unknown = pd.DataFrame(shared).isna().any(axis=1).to_numpy()
    codes, uniques = pd.factorize(parent_groups)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(uniques))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group = pd.Index(uniques).get_indexer(child_groups)
    group[unknown] = -1

    def draw(rows: np.ndarray) -> np.ndarray:
        found = group[rows]
        picked = np.full(len(rows), -1, dtype=np.int64)
        ok = found >= 0
        offsets = (rng.random(int(ok.sum())) * sizes[found[ok]]).astype(np.int64)
        picked[ok] = order[starts[found[ok]] + offsets]
        return picked

    return draw


def _unique_fk_tuples(table, indices, generated, size, rng, report, redraws=None):
    """Make a PK/UQ made only of FK columns unique (a playlist holding a track twice) by
    swapping the repeated rows' last link with other rows' links: every parent keeps its
    number of children. A link drawn within the groups of links it shares columns with is
    drawn again there instead. Rows still repeated after the last round are left out, and
    reported."""
    redraws = redraws or {}
    fk_of = {c: k for k in table.foreign_keys if k.name in indices for c in k.columns}
    for key in table.unique_keys:
        if not all(c in fk_of for c in key.columns):
            continue
        keys = list(
            dict.fromkeys(k for k in table.foreign_keys if k.name in indices and set(k.columns) & set(key.columns))
        )
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: k.name in redraws)  # a grouped link moves, the others keep theirs
        moving = indices[keys[-1].name]
        parent_rows = generated[keys[-1].parent].rows
        for round_ in range(2 * _DEDUPE_ROUNDS):
            repeated = np.flatnonzero(_repeated(indices, keys))
            if not len(repeated):
                break
            if keys[-1].name in redraws:
                moving[repeated] = redraws[keys[-1].name](repeated)
            elif round_ < _DEDUPE_ROUNDS:
                partners = rng.integers(0, len(moving), len(repeated))
                moving[repeated], moving[partners] = moving[partners], moving[repeated]
            else:  # swapping cannot help (a parent needs more distinct partners than exist twice)
                moving[repeated] = rng.integers(0, parent_rows, len(repeated))
        keep = ~_repeated(indices, keys)
        if key.type == "PK":  # a primary key has no nulls: a row no parent had room for goes too
            keep &= np.all([indices[k.name] >= 0 for k in keys], axis=0)
        if not keep.all():
            report.notes.append(
                f"{key.type} {key.name}: {int((~keep).sum())} row(s) left out: "
                "no unused parent combination was found for them"
            )
            indices = {k: v[keep] for k, v in indices.items()}
            size = int(keep.sum())
    return size, indices


def _repeated(indices, keys) -> np.ndarray:
    frame = pd.DataFrame({k.name: indices[k.name] for k in keys})
    return frame.duplicated().to_numpy() & (frame >= 0).all(axis=1).to_numpy()


def _key_values(parent_keys: pd.DataFrame, key: Key, rows: np.ndarray) -> dict[str, pd.Series]:
    return {c: picked(parent_keys[p], rows) for c, p in zip(key.columns, key.parent_columns)}


def _fill_late_links(metadata, name, frame, links: Links, generated, rng, keys: list[Key]) -> None:
    """Fill the FK columns of ``keys`` (late links) once their parent table exists."""
    stats = {link["name"]: link for link in links.foreign_keys}
    for key in keys:
        parent = generated[key.parent]
        counts = calibrated_counts(
            parent.counts[count_column(name, key)], stats[key.name].get("count_quantiles", []), rng
        )
        null_share = stats[key.name]["null_share"]
        if key.parent == name and null_share > 0:
            rows = tree_links(counts, null_share, rng)
        else:
            rows = link_rows(counts, len(frame), null_share, rng, keep_together=False)
            if key.parent == name:
                avoid_self_links(rows, rng)
        for column, values in _key_values(parent.keys[key.parent_columns], key, rows).items():
            frame[column] = values.set_axis(frame.index)
