"""Learn the tables of a metadata file: keys are never learned by the autoencoder.

PK and UQ columns are generated unique in the source's format; FK columns are assigned from
the generated parent keys. How many children each parent has is learned *by the parent's
model*, as one extra count column per relation, so the counts keep both their distribution
and their link to the parent's attributes. What a table takes from its parents (copied
columns, context, numbering, totals) is found here and saved in its manifest.
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import pandas as pd

from syngen import artifacts, empty_tables
from syngen.adapters import views
from syngen.adapters.sources import Loaded, by_key, describe_source, read_by_key, read_keys, read_source
from syngen.adapters.sql import is_database_url
from syngen.closed_sample import closed_sample, key_columns
from syngen.keys import key_kinds, key_tuples
from syngen.linked.aggregates import Aggregate, find_aggregates
from syngen.linked.links import COUNT_PREFIX, children_per_parent, count_column, count_quantiles
from syngen.linked.parents import CONTEXT_PREFIX, context_columns, copied_columns, parent_rows, picked
from syngen.linked.run import TableReport, foreign_key, table_settings
from syngen.linked.siblings import numbered_columns
from syngen.manifest import Links
from syngen.metadata.declared import merge_declared
from syngen.metadata.graph import Plan
from syngen.metadata.graph import plan as plan_of
from syngen.metadata.model import Key, Metadata
from syngen.runs import TableJob, learn_table
from syngen.settings import TrainSettings


def train_tables(
    metadata: Metadata,
    cli: dict,
    artifacts_dir=None,
    log: Callable[[str], None] = lambda message: None,
    on_table: Callable[[str, int], None] | None = None,
    on_epoch: Callable[[int, int, dict], None] | None = None,
) -> list[TableReport]:
    """Learn every table of ``metadata``; ``cli`` holds the command-line values given.

    All or nothing: the models are written to a staging folder and take the earlier
    ones' places only once every table is learned, so a failure or Ctrl-C leaves the
    earlier set whole; every model of the set carries the run's id (``infer`` checks it)."""
    with artifacts.staged(artifacts_dir) as staging:
        return _train_all(metadata, cli, staging, log, on_table, on_epoch)


def _train_all(metadata, cli, artifacts_dir, log, on_table, on_epoch) -> list[TableReport]:
    run = artifacts_dir.name  # the staging folder's unique name is the run's id
    metadata, notes = merge_declared(metadata)
    for note in notes:
        log(note)
    metadata, detached = _without_empty(metadata, artifacts_dir, run, log)
    plan = plan_of(metadata)
    settings = table_settings(metadata, plan, TrainSettings, cli, log)
    reports = {name: TableReport(name) for name in plan.order}
    frames, declared, source_rows = _read_sources(metadata, plan, settings, reports)
    _keep_views(metadata, artifacts_dir, log)
    for name, keys in detached.items():
        reports[name].notes += empty_tables.null_links(name, frames[name], declared[name], keys)
    for name in plan.order:
        _report_duplicate_keys(metadata, name, frames[name], reports[name])
    links = {name: _clean_links(metadata, name, frames, settings[name].orphans, reports[name]) for name in plan.order}
    counts = _children_counts(metadata, frames)
    up = _rows_up(metadata, plan, frames)
    copies = {name: _copies(metadata, plan, name, frames, up[name]) for name in plan.order}
    numbered = {name: _numbered(metadata, name, frames, up[name], reports[name]) for name in plan.order}
    totals = _totals(metadata, plan, frames, up, reports)
    learned_kinds: dict[str, dict[str, str]] = {}  # per table trained, its learned columns' kinds
    made_as: dict[str, dict[str, str]] = {}  # and every column's
    for name in plan.order:
        table = metadata.tables[name]
        frame = frames[name]
        if on_table:
            on_table(name, len(frame))
        fk_columns = {c for k in table.foreign_keys for c in k.columns}
        learned = frame.drop(columns=[c for c in frame.columns if c in fk_columns])
        for column, values in counts.get(name, {}).items():
            learned[column] = values
        context = _context(metadata, name, frames, up[name], learned_kinds)
        for key_name, columns in context.items():
            parent = frames[foreign_key(table, key_name).parent]
            for column, parent_column in columns.items():
                learned[column] = picked(parent[parent_column], up[name][key_name])
        kinds = {
            **key_kinds(table.keys, frame, fk_columns, table.kinds),
            **{c: k for c, k in table.kinds.items() if c in learned.columns},
            **{c: "integer" for c in counts.get(name, {})},
            **{c: learned_kinds[k.parent][p] for k in table.foreign_keys for c, p in context.get(k.name, {}).items()},
        }
        job = TableJob(
            name,
            describe_source(metadata.resolve(table.source)),
            frame,
            learned,
            table.keys,
            declared[name],
            settings[name],
            kinds,
            formats={c: f for c, f in table.formats.items() if c in learned.columns},
            rare_thresholds={c: k for c, k in table.rare_thresholds.items() if c in learned.columns},
            as_decoded={c for k in table.keys for c in k.columns} | set(counts.get(name, {})),
            given={c for columns in context.values() for c in columns},
            fk_columns=fk_columns,
        )

        def links_of(model) -> Links:  # called at once, in this loop's turn
            return Links(
                columns=[str(c) for c in frame.columns],
                foreign_keys=links[name],
                keys=table.keys + detached.get(name, []),
                source_rows=source_rows[name],
                tokens=_token_stats(table, frame),
                copies=_kept_copies(copies[name], model, made_as, table, reports[name]),
                context=context,
                numbered=numbered[name],
                aggregates=[a.state() for a in totals.get(name, [])],
            )

        model = learn_table(job, artifacts_dir, on_epoch, named=f"table '{name}'", run=run, links=links_of)
        learned_kinds[name] = {c.name: c.kind for c in model.codecs if c.learned}
        made_as[name] = {c.name: c.kind for c in model.codecs}
        s = settings[name]
        report = reports[name]
        report.identifying = model.identifying
        report.notes += _readable(model.notes, frame.columns, context, metadata.tables[name])
        if not s.copy and not model.identifying:
            report.notes += _reference_hint(metadata, name, frame)
        assert model.fitted is not None  # fit() sets it
        report.rows, report.seconds = len(frame), model.fitted.seconds
        report.epochs_run = model.fitted.epochs_run
    return [reports[name] for name in plan.order]


def _without_empty(metadata, artifacts_dir, run: str, log) -> tuple[Metadata, dict[str, list[Key]]]:
    """Save the tables whose source is empty as schema only; the metadata left to learn, and
    its FKs to those tables (their columns are learned null)."""
    empty = empty_tables.find(metadata)
    for name, schema in empty.items():
        table = metadata.tables[name]
        source = describe_source(metadata.resolve(table.source))
        empty_tables.save(name, table.keys, schema, source, run, artifacts_dir)
        log(f"table '{name}' is empty: created empty in the target, with its keys")
    metadata, detached = empty_tables.detach(metadata, set(empty))
    kept = Metadata({n: t for n, t in metadata.tables.items() if n not in empty}, metadata.path)
    return kept, {n: keys for n, keys in detached.items() if n not in empty}


def _keep_views(metadata, artifacts_dir, log) -> None:
    """Save the views of the source databases that read only tables of this run."""
    by_url: dict[str, list[str]] = {}
    for name, table in metadata.tables.items():
        source = metadata.resolve(table.source)
        if is_database_url(source):
            by_url.setdefault(source, []).append(name)
    kept = []
    for url, names in by_url.items():
        found, notes = views.read_views(url)
        for note in notes:
            log(note)
        kept += views.within(found, names)
    views.save(kept, artifacts.views_path(artifacts_dir))
    if kept:
        log(f"{len(kept)} view(s) of the source kept, to be made again in database targets")


def _read_sources(metadata, plan: Plan, settings, reports) -> tuple[dict, dict, dict]:
    """Every table's rows, what its database declares, and its rows in the source. Where
    tables are sampled (``row_limit``), the sample is closed under the FKs (``closed_sample``)."""
    limits = {name: settings[name].row_limit for name in plan.order}
    loaded: dict[str, Loaded] = {}
    keys: dict[str, pd.DataFrame] = {}
    for name in plan.order:
        table, source = metadata.tables[name], metadata.resolve(metadata.tables[name].source)
        if any(limits.values()) and _by_primary_key(table, source):
            keys[name] = read_keys(source, name, key_columns(metadata, name))  # keys travel first
        else:
            loaded[name] = read_source(source, name, drop_null=settings[name].drop_null, csv_options=table.csv_options)
            keys[name] = loaded[name].frame[key_columns(metadata, name)]
    source_rows = {name: len(keys[name]) for name in plan.order}
    if any(limits.values()):
        kept = closed_sample(metadata, plan, keys, limits, seed=0)
        for name in plan.order:
            loaded[name] = _sampled(metadata, name, settings[name], loaded.get(name), keys[name], kept[name])
    for name in plan.order:
        reports[name].notes += loaded[name].notes
    return ({n: loaded[n].frame for n in plan.order}, {n: loaded[n].declared for n in plan.order}, source_rows)


def _by_primary_key(table, source) -> bool:
    """Whether a sample of the table can be fetched where it lives (a database, Spark) by a one-column PK."""
    return by_key(source) and table.primary_key is not None and len(table.primary_key.columns) == 1


def _sampled(metadata, name, s, loaded: Loaded | None, keys: pd.DataFrame, kept: np.ndarray) -> Loaded:
    """A table's rows of the closed sample: fetched by primary key in its database, else
    taken from the rows read (``keys`` holds their key columns, in the same order)."""
    table = metadata.tables[name]
    if loaded is None:
        primary = table.primary_key.columns[0]
        source = metadata.resolve(table.source)
        loaded = read_by_key(source, name, primary, keys[primary][kept].tolist(), s.drop_null)
    else:
        loaded.frame = loaded.frame[kept].reset_index(drop=True)
    if len(loaded.frame) < len(keys):
        loaded.notes.append(
            f"learned from {len(loaded.frame):,} of its {len(keys):,} rows, sampled with the "
            "rows they link to (row_limit)"
        )
    return loaded


REFERENCE_ROWS = 1000  # a table this small, with distinct labels, is likely a lookup


def _reference_hint(metadata, name, frame) -> list[str]:
    """Suggest ``copy`` for what looks like a lookup table: small, no parents of its own,
    referenced by other tables, with a text column whose values are all distinct (labels)."""
    table = metadata.tables[name]
    children = sorted(
        {child for child, t in metadata.tables.items() for k in t.foreign_keys if k.parent == name and child != name}
    )
    if table.foreign_keys or not children or len(frame) > REFERENCE_ROWS:
        return []
    keyed = {c for k in table.keys for c in k.columns}
    labels = [
        c
        for c in frame.columns
        if c not in keyed and frame[c].dtype == object and frame[c].notna().all() and frame[c].is_unique
    ]
    if not labels:
        return []
    return [
        f"looks like a reference table ({len(frame)} rows, every '{labels[0]}' distinct, used by "
        f"{', '.join(children)}): train_settings: {{copy: true}} keeps it as it is, labels included "
        "(only if it holds no personal data)"
    ]


def _report_duplicate_keys(metadata, name, frame, report) -> None:
    for key in metadata.tables[name].unique_keys:
        values = frame[list(key.columns)].dropna()
        repeated = int(values.duplicated().sum())
        if repeated:
            report.notes.append(
                f"{key.type} {key.name} ({', '.join(key.columns)}) is not unique in the source: "
                f"{repeated} repeated value(s); generated values are unique"
            )


def _clean_links(metadata, name, frames, orphans: str, report) -> list[dict]:
    """Per FK: orphans counted and handled, and the share of rows without a parent."""
    table = metadata.tables[name]
    links = []
    for key in table.foreign_keys:
        child = frames[name]
        parent = frames[key.parent]
        present = child[list(key.columns)].notna().all(axis=1)
        known = key_tuples(child, key.columns).isin(set(key_tuples(parent, key.parent_columns)))
        orphan = present & ~known
        found = int(orphan.sum())
        if found:
            if orphans == "drop":
                frames[name] = child = child[~orphan].reset_index(drop=True)
                present = present[~orphan].reset_index(drop=True)
                action = "dropped (train_settings.orphans: drop)"
            elif orphans == "link":
                action = (
                    "generated as children of generated parents, at the source's rate "
                    "(train_settings.orphans: null makes them null, drop leaves them out)"
                )
            else:
                child.loc[orphan, list(key.columns)] = None
                present = present & ~orphan
                action = "kept, with the link treated as unknown (null)"
            report.notes.append(f"FK {key.name}: {found} row(s) reference no row of '{key.parent}' (orphans); {action}")
        counts = children_per_parent(child, parent, key)
        links.append(
            {
                "name": key.name,
                "null_share": float(1 - present.mean()) if len(present) else 0.0,
                "orphans": found,
                "children_per_parent": float(present.sum() / len(parent)),
                "min_children": key.min_children,
                "count_quantiles": count_quantiles(counts),
            }
        )
    return links


def _rows_up(metadata, plan: Plan, frames) -> dict[str, dict[str, np.ndarray]]:
    """Per table, per FK to another table (not a late one): each source row's parent row
    (``linked.parents.parent_rows``), found once for all a child takes from its parents."""
    return {
        name: {
            key.name: parent_rows(frames[name], frames[key.parent], key.columns, key.parent_columns)
            for key in metadata.tables[name].foreign_keys
            if not plan.is_late(name, key) and key.parent != name
        }
        for name in plan.order
    }


def _context(metadata, name, frames, up: dict[str, np.ndarray], learned_kinds) -> dict[str, dict[str, str]]:
    """Per FK of ``up`` (see ``_rows_up``), the parent's learned columns the table's model
    learns beside its own (``linked.parents``), column -> parent column; none for a table of
    keys alone."""
    table = metadata.tables[name]
    keys = {c for k in table.keys for c in k.columns}
    if all(c in keys for c in frames[name].columns):
        return {}
    found = {}
    for key in table.foreign_keys:
        if key.name not in up or key.parent not in learned_kinds:
            continue
        learned = learned_kinds[key.parent]
        skip = {c for k in metadata.tables[key.parent].keys for c in k.columns} | {
            n for n in learned if n.startswith((COUNT_PREFIX, CONTEXT_PREFIX))
        }  # made with the parent's rows
        columns = context_columns(key.name, learned, skip)
        if columns:
            found[key.name] = columns
    return found


def _readable(notes: list[str], columns, context: dict[str, dict[str, str]], table) -> list[str]:
    """The model's notes as the user knows the columns: a parent's column as ``parent.column``,
    a children count as what it counts; a note on the parent's columns alone (a rule of the
    parent's, a warning on its values) is the parent's and is left out."""
    parents = {k.name: k.parent for k in table.foreign_keys}
    shown = {c: f"{parents[key]}.{p}" for key, taken in context.items() for c, p in taken.items()}
    own = [re.compile(rf"(?<![\w.]){re.escape(str(c))}(?![\w.])") for c in columns]
    kept = []
    for note in notes:
        internal = [c for c in shown if c in note]
        if internal:
            rest = note
            for column in internal:
                rest = rest.replace(column, "")
            if not any(pattern.search(rest) for pattern in own):
                continue
            for column in sorted(internal, key=len, reverse=True):
                note = note.replace(column, shown[column])
        kept.append(re.sub(rf"{re.escape(COUNT_PREFIX)}([^ ,.]+)\.[\w-]+", r"the number of its '\1' rows", note))
    return kept


def _totals(metadata, plan: Plan, frames, up, reports) -> dict[str, list[Aggregate]]:
    """Per parent table, its columns that total its children (``linked.aggregates``)."""
    found: dict[str, list[Aggregate]] = {}
    for name in plan.order:
        table = metadata.tables[name]
        own = {c for k in table.keys for c in k.columns}
        for key in table.foreign_keys:
            if key.name not in up[name]:
                continue
            parent = frames[key.parent]
            theirs = {c for k in metadata.tables[key.parent].keys for c in k.columns}
            taken = {a.column for a in found.get(key.parent, [])}
            made = find_aggregates(
                parent,
                frames[name],
                up[name][key.name],
                [c for c in parent.columns if c not in theirs | taken],
                [c for c in frames[name].columns if c not in own],
                name,
                key.name,
            )
            found.setdefault(key.parent, []).extend(made)
            for a in made:
                what = f"the sum of {' × '.join(a.of)}" if a.of else "the number"
                reports[key.parent].notes.append(
                    f"{a.column} is {what} of its '{name}' rows (FK {key.name}) in "
                    "the source: filled from the generated ones"
                )
    return found


def _numbered(metadata, name, frames, up: dict[str, np.ndarray], report) -> dict[str, dict[str, int]]:
    """Per FK of ``up``: the columns that number each parent's rows (``linked.siblings``),
    column -> first number."""
    table = metadata.tables[name]
    fk_columns = {c for k in table.foreign_keys for c in k.columns}
    found: dict[str, dict[str, int]] = {}
    for key in table.foreign_keys:
        if key.name not in up:
            continue
        taken = {c for columns in found.values() for c in columns}
        columns = numbered_columns(
            frames[name], up[key.name], [c for c in frames[name].columns if c not in fk_columns and c not in taken]
        )
        if columns:
            found[key.name] = columns
            report.notes.append(
                f"{', '.join(columns)} count(s) the rows of each '{key.parent}' row (FK {key.name}) "
                f"from {next(iter(columns.values()))}, as in the source"
            )
    return found


def _copies(metadata, plan: Plan, name, frames, up: dict[str, np.ndarray]) -> dict[str, dict[str, str]]:
    """Per FK of ``up``: the child's columns that hold a column of their parent row
    (``linked.parents``), column -> parent column; the child's key columns are links' own
    business."""
    table = metadata.tables[name]
    own = {c for k in table.keys for c in k.columns}
    found: dict[str, dict[str, str]] = {}
    for key in table.foreign_keys:
        if key.name not in up:
            continue
        child, parent = frames[name], frames[key.parent]
        # the parent's keys too (a flight's hour is its weather row's), but links filled last
        late = {c for k in metadata.tables[key.parent].foreign_keys if plan.is_late(key.parent, k) for c in k.columns}
        copies = copied_columns(
            child,
            parent,
            up[key.name],
            [c for c in child.columns if c not in own],
            [c for c in parent.columns if c not in late],
        )
        copies = {c: p for c, p in copies.items() if not any(c in f for f in found.values())}
        if copies:
            found[key.name] = copies
    return found


def _kept_copies(copies: dict[str, dict[str, str]], model, made_as, table, report) -> dict[str, dict[str, str]]:
    """The copies whose parent column is made as the table's own column is (``made_as``: per
    table trained, each column's kind): a customer's country made anew among all countries
    would break a billing country kept to its seen values (a dbt test's accepted values);
    and a note of each."""
    mine = {c.name: c.kind for c in model.codecs}
    parents = {k.name: k.parent for k in table.foreign_keys}
    kept = {}
    for key_name, columns in copies.items():
        theirs = made_as.get(parents[key_name], {})
        columns = {
            c: p for c, p in columns.items() if c in mine and p in theirs and _family(mine[c]) == _family(theirs[p])
        }
        if columns:
            kept[key_name] = columns
            report.notes.append(
                f"taken from its '{parents[key_name]}' row (FK {key_name}), as in the source: "
                + ", ".join(c if c == p else f"{c} ({p})" for c, p in columns.items())
            )
    return kept


def _family(kind: str) -> str:
    """Kinds whose values a copy can carry across: a whole number read as a float is a number."""
    return {"integer": "number", "float": "number", "date": "time", "datetime": "time"}.get(kind, kind)


def _children_counts(metadata, frames) -> dict[str, dict[str, np.ndarray]]:
    """Per parent table: for each FK pointing at it, every parent row's number of children."""
    counts: dict[str, dict[str, np.ndarray]] = {}
    for name, table in metadata.tables.items():
        for key in table.foreign_keys:
            counts.setdefault(key.parent, {})[count_column(name, key)] = children_per_parent(
                frames[name], frames[key.parent], key
            )
    return counts


def _token_stats(table, frame) -> dict[str, dict]:
    """Per TKN key: whether its tokens are unique per row, and its null share."""
    stats = {}
    for key in (k for k in table.keys if k.type == "TKN"):
        values = frame[list(key.columns)]
        present = values.notna().all(axis=1)
        stats[key.name] = {
            "unique": not bool(values[present].duplicated().any()),
            "null_share": float(1 - present.mean()),
        }
    return stats
