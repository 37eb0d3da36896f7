"""Many tables at once: learn them from a metadata file, generate them with every key valid.

Keys are never learned by the autoencoder. PK and UQ columns are generated unique in the
source's format; FK columns are assigned from the generated parent keys. How many children
each parent has is learned *by the parent's model*, as one extra count column per relation,
so the counts keep both their distribution and their link to the parent's attributes; a
child's size follows from its generated parents unless the user sets it.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

import numpy as np
import pandas as pd

from syngen import artifacts, empty_tables
from syngen.adapters import sql, views
from syngen.adapters.sources import Loaded, describe_source, read_source
from syngen.adapters.sql import Constraint, is_database_url
from syngen.adapters.targets import check_location, describe_target, existing_rows, open_targets
from syngen.closed_sample import closed_sample, key_columns
from syngen.engine.synthesizer import Synthesizer, resolve_seed
from syngen.errors import SyngenError
from syngen.keys import UniqueRows, continue_keys, key_kinds, key_tuples, mark_keys
from syngen.linked.aggregates import Aggregate, find_aggregates
from syngen.linked.parents import CONTEXT_PREFIX, context_columns, copied_columns, parent_rows, picked
from syngen.linked.siblings import numbered_columns, places
from syngen.manifest import MANIFEST_FILE, Links, Manifest
from syngen.metadata.declared import add_unspoken, merge_declared
from syngen.metadata.graph import Plan
from syngen.metadata.graph import plan as plan_of
from syngen.metadata.model import INFER_DEFAULTS, TRAIN_DEFAULTS, Key, Metadata, effective_settings
from syngen.runs import generate_batches, load_manifest, load_model, schema_of, schema_only, table_spec

COUNT_PREFIX = "__children__"
COUNT_QUANTILES = 1001  # the source's distribution of children per parent row, kept to 0.1%
_DEDUPE_ROUNDS = 100


def count_column(child: str, key: Key) -> str:
    return f"{COUNT_PREFIX}{child}.{key.name}"


@dataclass
class TableReport:
    """What training or generation found out about one table, for the user."""

    table: str
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    output: str | None = None  # where the table went (a path, or a database URL without password)
    seconds: float = 0.0
    epochs_run: int = 0
    identifying: dict[str, str] = field(default_factory=dict)  # column -> how it is protected


# -- training -------------------------------------------------------------------------------


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
    for note in merge_declared(metadata):
        log(note)
    metadata, detached = _without_empty(metadata, artifacts_dir, run, log)
    plan = plan_of(metadata)
    settings = _all_settings(metadata, plan, "train_settings", TRAIN_DEFAULTS, cli, log)
    reports = {name: TableReport(name) for name in plan.order}
    frames, declared, source_rows = _read_sources(metadata, plan, settings, reports)
    _keep_views(metadata, artifacts_dir, log)
    for name, keys in detached.items():
        reports[name].notes += empty_tables.null_links(name, frames[name], declared[name], keys)
    for name in plan.order:
        _report_duplicate_keys(metadata, name, frames[name], reports[name])
    links = {
        name: _clean_links(metadata, name, frames, settings[name]["orphans"], reports[name]) for name in plan.order
    }
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
            parent = frames[_foreign_key(table, key_name).parent]
            for column, parent_column in columns.items():
                learned[column] = picked(parent[parent_column], up[name][key_name])
        kinds = {
            **key_kinds(table.keys, frame, fk_columns, table.kinds),
            **{c: k for c, k in table.kinds.items() if c in learned.columns},
            **{c: "integer" for c in counts.get(name, {})},
            **{c: learned_kinds[k.parent][p] for k in table.foreign_keys for c, p in context.get(k.name, {}).items()},
        }
        s = settings[name]
        try:
            model = Synthesizer(
                epochs=s.get("epochs"),
                batch_size=s["batch_size"],
                verbatim=s["copy"],
                random_seed=s.get("random_seed"),
                columns=kinds,
                formats={c: f for c, f in table.formats.items() if c in learned.columns},
                rare_threshold=s["rare_threshold"],
                rare_thresholds={c: k for c, k in table.rare_thresholds.items() if c in learned.columns},
                as_decoded={c for k in table.keys for c in k.columns} | set(counts.get(name, {})),
                given={c for columns in context.values() for c in columns},
            ).fit(learned, on_epoch=on_epoch)
        except SyngenError as error:
            raise SyngenError(f"table '{name}': {error}") from None
        mark_keys(model, table.keys, fk_columns)
        manifest = Manifest(
            describe_source(metadata.resolve(table.source)),
            len(frame),
            schema_of(model, frame, declared[name], table.keys),
            run,
            Links(
                columns=[str(c) for c in frame.columns],
                foreign_keys=links[name],
                keys=table.keys + detached.get(name, []),
                source_rows=source_rows[name],
                tokens=_token_stats(table, frame),
                copies=_kept_copies(copies[name], model, made_as, table, reports[name]),
                context=context,
                numbered=numbered[name],
                aggregates=[a.state() for a in totals.get(name, [])],
            ),
        )
        learned_kinds[name] = {c.name: c.kind for c in model.codecs if c.learned}
        made_as[name] = {c.name: c.kind for c in model.codecs}
        model.save(
            artifacts.model_dir(name, artifacts_dir),
            artifacts.secret_path(name, artifacts_dir),
            {MANIFEST_FILE: manifest.to_json()},
        )
        report = reports[name]
        report.identifying = model.identifying
        report.notes += _readable(model.notes, frame.columns, context, metadata.tables[name])
        if not s["copy"] and not model.identifying:
            report.notes += _reference_hint(metadata, name, frame)
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
    limits = {name: settings[name].get("row_limit") for name in plan.order}
    loaded: dict[str, Loaded] = {}
    keys: dict[str, pd.DataFrame] = {}
    for name in plan.order:
        table, source = metadata.tables[name], metadata.resolve(metadata.tables[name].source)
        if any(limits.values()) and _by_primary_key(table, source):
            keys[name] = sql.read_table(source, name, only=key_columns(metadata, name))[0]  # keys travel first
        else:
            loaded[name] = read_source(
                source, name, drop_null=settings[name]["drop_null"], csv_options=table.csv_options
            )
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
    """Whether a sample of the table can be fetched from its database by a one-column PK."""
    return is_database_url(source) and table.primary_key is not None and len(table.primary_key.columns) == 1


def _sampled(metadata, name, s, loaded: Loaded | None, keys: pd.DataFrame, kept: np.ndarray) -> Loaded:
    """A table's rows of the closed sample: fetched by primary key in its database, else
    taken from the rows read (``keys`` holds their key columns, in the same order)."""
    table = metadata.tables[name]
    if loaded is None:
        primary = table.primary_key.columns[0]
        frame, notes, declared = sql.read_table(
            metadata.resolve(table.source), name, drop_null=s["drop_null"], keys=(primary, keys[primary][kept].tolist())
        )
        loaded = Loaded(frame, notes, declared)
    else:
        loaded.frame = loaded.frame[kept].reset_index(drop=True)
    if len(loaded.frame) < len(keys):
        loaded.notes.append(
            f"learned from {len(loaded.frame):,} of its {len(keys):,} rows, sampled with the "
            "rows they link to (row_limit)"
        )
    return loaded


def _all_settings(metadata, plan: Plan, section, defaults, cli, log) -> dict[str, dict]:
    """Every table's effective settings; says which command-line values the file overrode."""
    settings = {}
    for name in plan.order:
        settings[name], ignored = effective_settings(getattr(metadata.tables[name], section), defaults, cli)
        for option in ignored:
            log(
                f"table '{name}': {section}.{option} = {settings[name][option]!r} from the metadata file "
                f"wins over --{option} {cli[option]!r}"
            )
    return settings


def wants_report(metadata: Metadata, cli: dict) -> bool:
    """Whether a linked run asks for the report: --print_report, or the file's print_report
    (infer settings) or the original syngen's ``reports`` (train settings)."""
    return bool(cli.get("print_report")) or any(
        t.infer_settings.get("print_report")
        or t.train_settings.get("print_report")
        or t.train_settings.get("reports") not in (None, "none", [])
        for t in metadata.tables.values()
    )


def destinations(metadata: Metadata, output: str | None = None, artifacts_dir=None) -> dict[str, str]:
    """Where each table of a linked run goes (see ``infer_tables``)."""
    return {
        name: _destination(metadata, name, table.infer_settings, output, artifacts_dir)
        for name, table in metadata.tables.items()
    }


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
                "count_quantiles": np.quantile(counts, np.linspace(0, 1, COUNT_QUANTILES)).tolist()
                if len(counts)
                else [],
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


def _foreign_key(table, name: str) -> Key:
    return next(k for k in table.foreign_keys if k.name == name)


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
    found = {}
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


def calibrated_counts(counts: np.ndarray, quantiles: list[float], rng, minimum: int = 0) -> np.ndarray:
    """The model's children per parent row, given the source's distribution: parents ranked by
    the model's counts (ties at random) take the source's quantiles at evenly spaced
    positions, smallest to largest, so as many parents as the source had get exactly its
    counts, and a relation where few parents have children (weather at 3 of 1,458 airports)
    keeps that shape at any number of parents, as category shares are kept. With no
    children at all drawn, the top-ranked parent takes them (not all parents evenly); none
    gets fewer than ``minimum`` (the key's min_children)."""
    n = len(counts)
    if not n or not quantiles:
        return counts
    order = np.lexsort((rng.random(n), np.asarray(counts, dtype=np.float64)))
    target = np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(quantiles)), quantiles)
    calibrated = np.empty(n)
    calibrated[order] = np.sort(target)
    if calibrated.sum() <= 0:
        calibrated[order[-1]] = 1.0
    return np.maximum(calibrated, minimum)


def children_per_parent(child: pd.DataFrame, parent: pd.DataFrame, key: Key) -> np.ndarray:
    """How many child rows each parent row has through ``key`` (zeros included)."""
    linked = child[list(key.columns)].notna().all(axis=1)
    per_key = key_tuples(child[linked], key.columns).value_counts()
    return key_tuples(parent, key.parent_columns).map(per_key).fillna(0).astype(np.int64).to_numpy()


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


# -- generation -----------------------------------------------------------------------------


@dataclass
class _Generated:
    """What children need of a generated table: its rows, referenced keys, children counts."""

    rows: int = 0
    keys: dict[tuple[str, ...], pd.DataFrame] = field(default_factory=dict)
    counts: dict[str, np.ndarray] = field(default_factory=dict)
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
        add_unspoken(metadata.tables[name], manifest.links.keys)
    metadata, detached = empty_tables.detach(metadata, {n for n, m in models.items() if m is None})
    runs = {m.run for m in manifests.values()}
    if len(runs) > 1:
        raise SyngenError(
            f"the models of the tables come from {len(runs)} different training runs (one was "
            f"interrupted, or trained other tables); run: train --metadata_path {metadata.path}"
        )
    plan = plan_of(metadata)
    settings = _all_settings(metadata, plan, "infer_settings", INFER_DEFAULTS, cli, log)
    places = destinations(metadata, output, artifacts_dir)
    locations = {name: places[name] for name in plan.order}  # parents first: tables are created in this order
    specs = {
        name: table_spec(
            name,
            manifests[name].schema,
            _constraints(metadata.tables[name]) + empty_tables.constraints(detached.get(name, [])),
            [k.columns for k in _closing_keys(metadata, plan, name)],
        )
        for name in plan.order
        if is_database_url(locations[name])
    }
    _align_link_types(metadata, specs)
    run_seed = resolve_seed(cli.get("random_seed"))
    owners = _token_owners(metadata, plan)
    referenced = _referenced_keys(metadata)
    for owner, columns in owners.values():
        referenced.setdefault(owner, set()).add(columns)
    for name in plan.order:  # the parent columns children take travel with the parent's keys
        keys = {k.name: k for k in metadata.tables[name].foreign_keys}
        for by_key in _taken(links_of[name], models[name]).values():
            for key_name, columns in by_key.items():
                referenced.setdefault(keys[key_name].parent, set()).add(_parent_columns(columns))
    generated: dict[str, _Generated] = {}
    held: dict[str, tuple[pd.DataFrame, int]] = {}  # tables waiting for a loop to close or for totals, and seeds
    totals = {name: _aggregates(links_of[name], models[name]) for name in plan.order}
    feeding: dict[str, set[str]] = {}  # per child table, the columns parents' totals are made of
    for aggregates in totals.values():
        for a in aggregates:
            key = _foreign_key(metadata.tables[a.child], a.key)
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
            seed = _table_seed(int(s["random_seed"]) if s.get("random_seed") is not None else run_seed, name)
            rng = np.random.default_rng([seed, 7])
            report = TableReport(name, output=describe_target(locations[name]))
            if model is None:  # schema only: created, and left empty
                generated[name] = _Generated()
                targets[name].write(name, [pd.DataFrame(columns=links_in.columns)])
                reports.append(report)
                continue
            # a table with parents takes its size from them, unless its own settings give one
            driving = plan.driving_key(metadata, name)
            size = s.get("size") if driving is None else table.infer_settings.get("size")
            if model.is_verbatim:
                if size is not None and size != manifests[name].rows:
                    report.notes.append(f"size {size} ignored: the table is copied as it is (train_settings.copy)")
                size = manifests[name].rows
            size, expected, links, indices = _assign_links(
                metadata, plan, name, links_in, size, s["scale"], generated, rng, report
            )
            copied, context = _from_parents(table, links_in, model, indices, generated)
            if model.is_verbatim:  # copied as it is, but its children scale
                expected = manifests[name].rows * s["scale"]
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
                s = {**s, "run_parallel": False}  # workers would load the model unchanged
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
                    s.get("batch_size"),
                    s["run_parallel"],
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


def _constraints(table) -> list[Constraint]:
    return [Constraint(k.type, k.columns, k.parent, k.parent_columns) for k in table.keys if k.type != "TKN"]


def _table_seed(run_seed: int, name: str) -> int:
    return (run_seed * 1_000_003 + zlib.crc32(name.encode())) % 2**31


def _destination(metadata, name, settings, output, artifacts_dir) -> str:
    """A table's output: its own destination, else ``output`` (a database URL, or a folder
    that gets one CSV file per table), else the original syngen's CSV path."""
    target = settings.get("destination")
    if target:
        location = metadata.resolve(target)
    elif output and not is_database_url(output):
        if PurePosixPath(str(output)).suffix:
            raise SyngenError(
                f"--output '{output}' names one file, but the metadata file has several "
                "tables: give a database URL or a folder (or each table's "
                "infer_settings.destination)"
            )
        location = f"{str(output).rstrip('/')}/{name}.csv"
    else:
        location = output or str(artifacts.default_output(name, artifacts_dir))
    check_location(location)
    return location


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
        state.counts.setdefault(column, []).append(batch.pop(column).to_numpy())
    for referenced_columns in referenced:
        state.keys.setdefault(referenced_columns, []).append(batch[list(referenced_columns)])
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
    state.counts = {c: np.concatenate(parts) for c, parts in state.counts.items()}
    state.keys = {k: pd.concat(parts, ignore_index=True) for k, parts in state.keys.items()}


def _assign_links(
    metadata, plan: Plan, name, links: Links, size, scale, generated, rng, report
) -> tuple[int, float, dict[str, pd.Series], dict[str, tuple[pd.Series, np.ndarray]]]:
    """The table's size, the size it stands for (its children follow that one), the values
    of its (not late) FK columns, row by row, and those of the columns it copies from its
    parents with the rows that have a parent. Without a size, a table without parents has
    ``scale`` times its source's rows; a child follows its parents."""
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
        indices[key.name] = _link_rows(
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
        key = _foreign_key(metadata.tables[a.child], a.key)
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
            key = _foreign_key(table, key_name)
            parent_values = generated[key.parent].keys[_parent_columns(columns)]
            rows = indices[key_name]
            for column, parent_column in columns.items():
                picks[kind][column] = picked(parent_values[parent_column], rows)
                linked[column] = rows >= 0
    copied = {c: (v, linked[c]) for c, v in picks["copies"].items()}
    numbered = {} if model.is_verbatim else links.numbered
    for key_name, columns in numbered.items():
        rows = indices[key_name]
        for column, first in columns.items():
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


def _link_rows(
    counts: np.ndarray, size: int, null_share: float, rng, keep_together: bool, cap: int | None = None, least: int = 0
) -> np.ndarray:
    """For ``size`` child rows, the parent row each links to (-1: none).

    Parents get children in proportion to their learned counts, at least ``least`` and at
    most ``cap`` each; the driving link keeps each parent's children together, as exports
    usually list them.
    """
    linked = int(round(size * (1 - null_share)))
    if least and least * len(counts) <= linked:  # the least first, the rest in proportion
        per_parent = least + _scale(
            np.clip(np.asarray(counts, dtype=np.float64) - least, 0, None),
            linked - least * len(counts),
            rng,
            cap - least if cap is not None else None,
        )
    else:
        per_parent = _scale(counts, linked, rng, cap)
    parents = np.repeat(np.arange(len(counts)), per_parent)
    if not keep_together:
        parents = rng.permutation(parents)
    rows = np.full(size, -1, dtype=np.int64)
    slots = np.sort(rng.choice(size, len(parents), replace=False)) if len(parents) < size else np.arange(size)
    rows[slots] = parents
    return rows


def _scale(counts: np.ndarray, total: int, rng, cap: int | None = None) -> np.ndarray:
    """Integer counts in the same proportions, summing to ``total``; with ``cap``, what a
    parent would get beyond it goes to the others, in proportion too (while they have room)."""
    scaled = _proportional(counts, total, rng)
    if cap is None or cap * len(scaled) < total:  # no room for all: the repeats are reported later
        return scaled
    for _ in range(20):
        excess = int(np.clip(scaled - cap, 0, None).sum())
        room = np.clip(cap - scaled, 0, None)
        if not excess or not room.sum():
            break
        scaled = np.minimum(scaled, cap)
        weights = np.where(room > 0, np.asarray(counts, dtype=np.float64).clip(min=0) + 1e-9, 0.0)
        scaled += np.minimum(_proportional(weights, excess, rng), room)
    scaled = np.minimum(scaled, cap)
    short = total - int(scaled.sum())
    if short > 0:  # what rounding left over goes to the parents with the most room, so no child is left out
        order = np.argsort(scaled - cap, kind="stable")
        room = (cap - scaled)[order]
        given = np.minimum(room, np.clip(short - (np.cumsum(room) - room), 0, None))
        scaled[order] += given
    return scaled


def _proportional(counts: np.ndarray, total: int, rng) -> np.ndarray:
    """Integer counts in the same proportions as ``counts``, summing to ``total``."""
    counts = np.asarray(counts, dtype=np.float64).clip(min=0)
    if counts.sum() == 0:
        counts = np.ones_like(counts)
    exact = counts * (total / counts.sum())
    scaled = np.floor(exact).astype(np.int64)
    short = total - int(scaled.sum())
    if short > 0:
        remainder = exact - scaled
        weights = remainder / remainder.sum() if remainder.sum() > 0 else None
        scaled[rng.choice(len(counts), short, replace=False, p=weights)] += 1
    return scaled


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
            rows = _tree_links(counts, null_share, rng)
        else:
            rows = _link_rows(counts, len(frame), null_share, rng, keep_together=False)
            if key.parent == name:
                _avoid_self_links(rows, rng)
        for column, values in _key_values(parent.keys[key.parent_columns], key, rows).items():
            frame[column] = values.set_axis(frame.index)


def _tree_links(counts: np.ndarray, null_share: float, rng) -> np.ndarray:
    """A table's links to itself as a forest (an org chart, a category tree): roots have no
    parent and every other row hangs below one, so no chain of links loops back on itself.
    Rows keep about their learned number of children, and rows with more children sit
    nearer the roots (a root is drawn in proportion to its children, like a CEO)."""
    size = len(counts)
    roots = min(size, max(1, int(round(size * null_share))))
    slots = _scale(counts, size - roots, rng)
    weights = slots + 1e-6
    top = rng.choice(size, roots, replace=False, p=weights / weights.sum())
    rest = np.setdiff1d(np.arange(size), top)
    rest = rest[np.lexsort((rng.random(len(rest)), -slots[rest]))]  # busiest first, ties at random
    rows = np.full(size, -1, dtype=np.int64)
    level, placed = top, 0
    while placed < len(rest):
        parents = rng.permutation(np.repeat(level, slots[level]))
        if not len(parents):  # the placed rows have no room left: the rest hang below any of them
            rows[rest[placed:]] = rng.choice(np.concatenate([top, rest[:placed]]), len(rest) - placed)
            break
        children = rest[placed : placed + len(parents)]
        rows[children] = parents[: len(children)]
        level, placed = children, placed + len(children)
    return rows


def _avoid_self_links(rows: np.ndarray, rng) -> None:
    """A row that would reference itself swaps its link with another row's; where every
    candidate holds the same parent, it links to another row at random (or to none in a
    one-row table)."""
    own = np.flatnonzero(rows == np.arange(len(rows)))
    for row in own:  # few rows: those whose drawn parent happens to be themselves
        other = int(rng.integers(len(rows)))
        if rows[other] != row and rows[row] != other:
            rows[row], rows[other] = rows[other], rows[row]
    still = np.flatnonzero(rows == np.arange(len(rows)))
    if len(rows) < 2:
        rows[still] = -1
    elif len(still):
        rows[still] = (still + rng.integers(1, len(rows), len(still))) % len(rows)
