"""Which rows a linked run learns from when tables are sampled (``row_limit``): a sample
closed under its foreign keys, so children are learned with their parents and the links
between sampled rows hold, instead of each table sampled on its own (payments of unsampled
rentals learned as orphans).

Works on key columns only: the rows themselves are then fetched by key (in the database
where it can). Top-down, a table without parents keeps a seeded random ``row_limit`` of its
rows and a child keeps the children of its kept parents (through the FK that sets its size),
whole families at a time when it has a ``row_limit`` of its own. Bottom-up, every parent
row a kept row references is kept too, until nothing changes. Same seed, same sample.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from syngen.keys import key_tuples
from syngen.metadata.graph import Plan
from syngen.metadata.model import Metadata


def key_columns(metadata: Metadata, name: str) -> list[str]:
    """The columns of a table the sample needs: its keys and the columns children reference."""
    columns = [c for k in metadata.tables[name].keys for c in k.columns]
    columns += [
        c for t in metadata.tables.values() for k in t.foreign_keys if k.parent == name for c in k.parent_columns
    ]
    return list(dict.fromkeys(columns))


def closed_sample(
    metadata: Metadata, plan: Plan, keys: dict[str, pd.DataFrame], limits: dict[str, int | None], seed: int
) -> dict[str, np.ndarray]:
    """Per table, which of its rows (a boolean mask over ``keys[name]``) the run learns from."""
    kept: dict[str, np.ndarray] = {}
    for name in plan.order:
        rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
        rows, limit = len(keys[name]), limits.get(name)
        driving = plan.driving_key(metadata, name)
        if driving is None:
            kept[name] = _random_rows(rows, limit, rng)
            continue
        parent = keys[driving.parent_table]
        links = key_tuples(keys[name], driving.columns)
        linked = keys[name][list(driving.columns)].notna().all(axis=1).to_numpy()
        known = links.isin(set(key_tuples(parent, driving.parent_columns))).to_numpy()
        chosen = set(key_tuples(parent[kept[driving.parent_table]], driving.parent_columns))
        mask = linked & links.isin(chosen).to_numpy()
        # rows without a parent (null links, orphans) at the share of parents kept
        share = kept[driving.parent_table].mean() if len(parent) else 1.0
        loose = ~(linked & known)
        mask |= loose & (rng.random(rows) < share)
        kept[name] = _whole_families(mask, links, limit, rng)
    _close_upwards(metadata, keys, kept)
    return kept


def _random_rows(rows: int, limit: int | None, rng) -> np.ndarray:
    mask = np.zeros(rows, dtype=bool)
    if limit is None or rows <= limit:
        mask[:] = True
    else:
        mask[rng.choice(rows, limit, replace=False)] = True
    return mask


def _whole_families(mask: np.ndarray, links: pd.Series, limit: int | None, rng) -> np.ndarray:
    """``mask`` cut to about ``limit`` rows by keeping whole parents' children, in a seeded
    random order of parents, so the children-per-parent counts stay the source's."""
    if limit is None or mask.sum() <= limit:
        return mask
    families = links[mask]
    sizes = families.value_counts(sort=False)
    order = sizes.index[rng.permutation(len(sizes))]
    within = sizes[order].cumsum() <= limit
    within.iloc[0] = True  # at least one family
    kept = mask.copy()
    kept[np.flatnonzero(mask)] = families.isin(set(order[within.to_numpy()])).to_numpy()
    return kept


def _close_upwards(metadata: Metadata, keys: dict[str, pd.DataFrame], kept: dict[str, np.ndarray]) -> None:
    """Keep every parent row that a kept row references, until nothing changes (a kept row
    may reference rows of tables generated before or after it, or of its own table)."""
    changed = True
    while changed:
        changed = False
        for name, table in metadata.tables.items():
            for key in table.foreign_keys:
                child = keys[name][kept[name]]
                wanted = set(key_tuples(child.dropna(subset=list(key.columns)), key.columns))
                parent_links = key_tuples(keys[key.parent_table], key.parent_columns)
                missing = parent_links.isin(wanted).to_numpy() & ~kept[key.parent_table]
                if missing.any():
                    kept[key.parent_table] = kept[key.parent_table] | missing
                    changed = True
