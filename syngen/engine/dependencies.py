"""Columns that other columns fix exactly: a pizza's name and size set its price, a product
code its category. The autoencoder learns such links only approximately (pizzaplace's price
matched its name and size in half the generated rows), while test data that breaks them is
obviously wrong. So they are found in the source at fit time, as lookup tables, and
generated rows take the looked-up value wherever their determining values occur in the source.

Only well-supported links are kept: at least ``MIN_ROWS_PER_GROUP`` source rows per
determining value on average, so a small table's coincidences do not become rules.
Determinants are categorical or boolean columns, or learned places (a country fixes its
continent, a state its region); a column is either determined or determining, never both,
so the lookups can be applied in any order.

Links of some values only are found too (``partial``), between categories: churn's
``internet_service = "No"`` makes six service columns "No internet service", while "DSL"
leaves them free. Each such value needs the rare threshold of rows of its own, all holding
one value. Values whose rows chance would give one value with odds below ``MAX_CHANCE`` (20
rows of a value 98 % of rows hold are no rule; 10 rows of one season among 14 are) must make
the link, together, likelier than chance by odds below it shared among every pair of columns
tested. Then every value whose rows hold one value is linked, if those beyond chance are at
least half of them; else those alone (five rows of a car maker's division all of four
cylinders are no rule). So a column of many values, each held by a few rows, links too, even
where every value does: a long table's contestant, ten rows each, keeps their season and
final rank, a country its continent. A dependent value that only those rows hold ("No
internet service", or a blank) is kept off the other rows: there it is drawn again from what
the other rows hold, by their shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from itertools import combinations

import numpy as np
import pandas as pd

MIN_ROWS_PER_GROUP = 20
MAX_CHANCE = 1e-4  # a value-level link: its rows holding one value by chance no likelier than this
DETERMINANT_KINDS = ("categorical", "boolean", "place")  # place: a learned place column
DEPENDENT_KINDS = ("categorical", "boolean", "integer", "float")
SCREEN_ROWS = 5000  # a violation among these rows rules a candidate out cheaply


@dataclass
class Dependency:
    determinants: list[str]
    dependent: str
    lookup: pd.DataFrame  # the determinants' observed combinations and the dependent's value
    # partial links: the values the other rows hold, and their shares (rare ones left out)
    others: pd.DataFrame | None = None

    def apply(self, frame: pd.DataFrame, rng: np.random.Generator | None = None) -> None:
        """Set the dependent column, in place, on rows whose determining values the source
        holds; other rows keep the model's value (of a partial link, never one only the
        linked rows hold: with ``rng``, drawn again)."""
        row = self._lookup_rows(frame)
        found = row >= 0
        values = self.lookup[self.dependent].to_numpy(dtype=object)
        looked = values[np.maximum(row, 0)] if len(values) else np.full(len(frame), None, dtype=object)
        column = frame[self.dependent]
        if self.others is not None and rng is not None and len(self.others):
            held = self.others[self.dependent]
            linked = set(self.lookup[self.dependent].dropna()) - set(held.dropna())
            blank = self.lookup[self.dependent].isna().any() and not held.isna().any()
            wrong = ~found & column.isin(linked).to_numpy()
            if blank:
                wrong |= ~found & column.isna().to_numpy()
            if wrong.any():
                shares = self.others["share"].to_numpy(dtype=float)
                drawn = rng.choice(len(shares), int(wrong.sum()), p=shares / shares.sum())
                looked[wrong] = held.to_numpy(dtype=object)[drawn]
                found = found | wrong
        if found.any():
            updated = column.to_numpy(dtype=object, copy=True)
            updated[found] = looked[found]
            updated = pd.Series(updated, index=frame.index)
            if column.dtype != object:  # an integer or boolean column that now holds a blank holds nulls
                updated = updated.astype(_holding_nulls(column.dtype) if updated.isna().any() else column.dtype)
            frame[self.dependent] = updated

    @cached_property
    def _levels(self) -> tuple[list[pd.Index], pd.Index]:
        """Each determinant's distinct values in the lookup table, and the lookup's rows as
        combined codes of them."""
        levels = [pd.Index(pd.unique(self.lookup[n].to_numpy(dtype=object)), dtype=object) for n in self.determinants]
        return levels, pd.Index(
            _level_codes(levels, [self.lookup[n].to_numpy(dtype=object) for n in self.determinants])
        )

    def _lookup_rows(self, frame: pd.DataFrame) -> np.ndarray:
        """Each frame row's row in the lookup table, or -1 where the source never held its
        determining values."""
        levels, rows = self._levels
        return rows.get_indexer(_level_codes(levels, [frame[n].to_numpy(dtype=object) for n in self.determinants]))

    def follow(
        self, frame: pd.DataFrame, rows: np.ndarray, rng: np.random.Generator, shares: dict | None = None
    ) -> None:
        """On ``rows``, where the dependent was given, set a one-column determinant that
        disagrees to one whose looked-up value is the given one (drawn among them by the
        determinant's ``shares`` in the source: grade F is mostly F1)."""
        if len(self.determinants) != 1 or self.others is not None:
            return
        determinant = self.determinants[0]
        looked = pd.Series(self.lookup[self.dependent].to_numpy(), index=self.lookup[determinant].to_numpy())
        looked = looked[~looked.index.duplicated()]
        current = _plain(frame[[determinant]])[determinant].map(looked)
        wanted = _plain(frame[[self.dependent]])[self.dependent]
        wrong = rows & (current != wanted).to_numpy()
        if not wrong.any():
            return
        choices = self.lookup.groupby(self.dependent, sort=False)[determinant].agg(list)
        picked = [
            options[rng.choice(len(options), p=_weights(options, shares))] if isinstance(options, list) else None
            for options in wanted[wrong].map(choices)
        ]
        keep = np.array([p is not None for p in picked])
        if keep.any():
            index = frame.index[wrong][keep]
            column = frame[determinant].astype(object)
            column.loc[index] = [p for p in picked if p is not None]
            frame[determinant] = column.astype(frame[determinant].dtype)

    def describe(self) -> str:
        by = " and ".join(f"'{n}'" for n in self.determinants)
        some = f" for {len(self.lookup)} of its values" if self.others is not None and len(self.others) else ""
        return f"'{self.dependent}' follows {by}{some}"

    def state(self) -> dict:
        others = None if self.others is None else self.others.to_numpy().tolist()
        return {
            "determinants": self.determinants,
            "dependent": self.dependent,
            "rows": self.lookup.to_numpy().tolist(),
            "others": others,
        }

    @classmethod
    def from_state(cls, state: dict) -> "Dependency":
        columns = state["determinants"] + [state["dependent"]]
        others = state.get("others")
        return cls(
            state["determinants"],
            state["dependent"],
            pd.DataFrame(state["rows"], columns=columns, dtype=object),
            None if others is None else pd.DataFrame(others, columns=[state["dependent"], "share"], dtype=object),
        )


def _weights(options: list, shares: dict | None) -> np.ndarray:
    """Chances of ``options`` by their shares (equal where none is known)."""
    weights = np.array([shares.get(o, 0.0) for o in options] if shares else np.ones(len(options)), dtype=float)
    return weights / weights.sum() if weights.sum() > 0 else np.full(len(options), 1.0 / len(options))


def _level_codes(levels: list[pd.Index], columns: list[np.ndarray]) -> np.ndarray:
    """One code per combination of the columns' values among ``levels`` (a blank matches a
    blank level), -1 where a value is not among them."""
    combined, unknown = np.zeros(len(columns[0]), np.int64), np.zeros(len(columns[0]), bool)
    for level, values in zip(levels, columns):
        codes = level.get_indexer(values)
        if level.hasnans:  # None, NaN and NA are one blank
            blank = (codes < 0) & pd.isna(values)
            codes[blank] = int(np.flatnonzero(level.isna())[0])
        unknown |= codes < 0
        combined = combined * len(level) + codes
    combined[unknown] = -1
    return combined


def _holding_nulls(dtype):
    """``dtype``, or its nullable twin where it cannot hold a blank (int64 -> Int64): a link
    can set a blank where the model made a value."""
    if dtype.kind in "iu":
        return pd.api.types.pandas_dtype(dtype.name.replace("uint", "UInt").replace("int", "Int"))
    return "boolean" if dtype.kind == "b" else dtype


def find_dependencies(data: pd.DataFrame, kinds: dict[str, str], rare_threshold: int = 1) -> list[Dependency]:
    """Exact links from one or two categorical columns to another column in ``data``."""
    rows = len(data)
    max_groups = rows // MIN_ROWS_PER_GROUP
    if max_groups < 2:
        return []
    columns = [c for c in data.columns if kinds.get(c) in DETERMINANT_KINDS + DEPENDENT_KINDS]
    screen = np.sort(np.random.default_rng(0).permutation(rows)[:SCREEN_ROWS])
    screened = {c: _codes(data[c].iloc[screen]) for c in columns}  # the whole table only if needed
    full: dict[str, np.ndarray] = {}

    def codes(column: str) -> np.ndarray:
        if column not in full:
            full[column] = _codes(data[column])
        return full[column]

    candidates = [c for c in columns if kinds[c] in DETERMINANT_KINDS and screened[c].max() + 1 <= max_groups]
    found: list[Dependency] = []
    determining: set[str] = set()
    determined: set[str] = set()
    for size in (1, 2):
        for determinants in combinations(candidates, size):
            if determined.intersection(determinants):
                continue
            open_ = [
                c
                for c in columns
                if kinds[c] in DEPENDENT_KINDS
                and c not in determinants
                and c not in determining
                and c not in determined
            ]
            sampled = _combined([screened[c] for c in determinants])
            passing = [c for c, ok in zip(open_, _determines(sampled, [screened[c] for c in open_])) if ok]
            if not passing:
                continue
            group = _combined([codes(c) for c in determinants])
            if not 1 < group.max() + 1 <= max_groups:
                continue
            targets = [codes(c) for c in passing]
            for dependent, target, ok in zip(passing, targets, _determines(group, targets)):
                if ok and target.max() >= 1:
                    found.append(_dependency(data, list(determinants), dependent, rare_threshold))
                    determining.update(determinants)
                    determined.add(dependent)
    categories = [c for c in columns if kinds[c] in DETERMINANT_KINDS]
    dependents = [c for c in categories if kinds[c] in DEPENDENT_KINDS]
    found += _partial(data, categories, dependents, codes, determining, determined, rare_threshold, max_groups)
    return found


def _partial(
    data: pd.DataFrame,
    candidates: list[str],
    dependents: list[str],
    codes,
    determining: set[str],
    determined: set[str],
    rare_threshold: int,
    max_groups: int,
) -> list[Dependency]:
    """Links of some values of one category (or place) to another category (see the module). The
    column that links the most rows goes first (then the leftmost): churn's
    internet_service, not one of the service columns that say the same. A link of every
    value is taken here only from a column of more than ``max_groups`` values, which the
    whole-column search leaves out."""
    support = max(2, rare_threshold)
    links: dict[str, list[tuple[str, np.ndarray]]] = {}
    open_ = [c for c in dependents if c not in determining and c not in determined]
    if not open_:
        return []
    targets = np.column_stack([codes(c) for c in open_])  # rows x dependents
    bound = np.log(MAX_CHANCE) - np.log(len(candidates) * len(open_))  # odds shared among the pairs
    shares = [np.bincount(t) / len(t) for t in targets.T]
    for determinant in candidates:
        if determinant in determined:
            continue
        group = codes(determinant)
        order = np.argsort(group, kind="stable")
        counts = np.bincount(group)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        ordered = targets[order]
        low = np.minimum.reduceat(ordered, starts, axis=0)  # groups x dependents
        high = np.maximum.reduceat(ordered, starts, axis=0)
        supported = (counts >= support)[:, None]
        for j in np.flatnonzero(((low == high) & supported).any(axis=0)):
            dependent = open_[j]
            if dependent == determinant:
                continue
            with np.errstate(divide="ignore"):  # rows sharing a value by chance: share ** rows
                chance = counts * np.log(shares[j][low[:, j]])
            # groups whose rows share one dependent value, more than chance explains, and
            # together beyond what any of the pairs tested would give by chance; then every
            # group that shares one (ten rows of a country in Africa, a continent 37% of rows hold)
            same = (low[:, j] == high[:, j]) & supported[:, 0]
            strict = same & (chance <= np.log(MAX_CHANCE))
            if chance[strict].sum() > bound:
                continue
            fixed = same if strict.sum() >= 0.5 * same.sum() else strict
            rest = np.unique(targets[~fixed[group], j])
            if fixed.any() and (len(rest) > 1 or len(counts) > max_groups):
                links.setdefault(determinant, []).append((dependent, fixed[group]))
    by_links = sorted(links, key=lambda c: (-sum(int(linked.sum()) for _, linked in links[c]), candidates.index(c)))
    found = []
    for determinant in by_links:
        if determinant in determined:
            continue
        for dependent, linked in links[determinant]:
            if dependent in determining or dependent in determined:
                continue
            lookup = _plain(data.loc[linked, [determinant, dependent]].drop_duplicates(determinant))
            rest = data.loc[~linked, dependent].value_counts(dropna=False)
            rest = rest[rest >= rare_threshold]
            values = _plain(pd.DataFrame({dependent: rest.index}))[dependent].to_numpy()
            others = pd.DataFrame({dependent: values, "share": (rest / rest.sum()).to_numpy()}, dtype=object)
            found.append(Dependency([determinant], dependent, lookup.reset_index(drop=True), others))
            determining.add(determinant)
            determined.add(dependent)
    return found


def _codes(values: pd.Series) -> np.ndarray:
    """One integer per distinct value, nulls included as a value of their own."""
    return pd.factorize(values, use_na_sentinel=False)[0].astype(np.int64)


def _combined(columns: list[np.ndarray]) -> np.ndarray:
    """One code per distinct combination of the columns' codes."""
    if len(columns) == 1:
        return columns[0]
    return pd.factorize(columns[0] * (columns[1].max() + 1) + columns[1])[0].astype(np.int64)


def _determines(group: np.ndarray, targets: list[np.ndarray]) -> np.ndarray:
    """For each target: whether every group holds a single one of its codes. Rows sorted by
    group once; a target fails where it changes between neighbours of the same group."""
    if not targets:
        return np.zeros(0, bool)
    order = np.argsort(group, kind="stable")
    within = group[order][1:] == group[order][:-1]
    sorted_targets = np.column_stack(targets)[order]
    changes = sorted_targets[1:] != sorted_targets[:-1]
    return ~(changes & within[:, None]).any(axis=0)


def _dependency(data: pd.DataFrame, determinants: list[str], dependent: str, rare_threshold: int) -> Dependency:
    """The lookup table, without combinations seen fewer than ``rare_threshold`` times: those
    identify someone, and keep the model's value."""
    sizes = data.groupby(determinants, dropna=False, sort=False)[dependent].transform("size")
    common = data.loc[sizes.to_numpy() >= rare_threshold, determinants + [dependent]]
    lookup = _plain(common.drop_duplicates(determinants))
    return Dependency(determinants, dependent, lookup.reset_index(drop=True))


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as Python objects with None for nulls, so source values, generated values and
    values read back from JSON compare equal whatever dtype each came in."""
    plain = frame.astype(object)
    return plain.where(frame.notna(), None)
