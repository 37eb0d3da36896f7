"""Keys guessed from the data of a set of tables, each with its evidence, for a person to check.

- A key candidate is unique, never null and id-like: whole numbers or short codes without
  spaces (not fractions, flags or dates).
- A column is a foreign key to another table's key candidate when at least ``INCLUSION`` of
  its rows are found there and either its name agrees once table prefixes are stripped
  (``o_custkey`` ~ ``customer.c_custkey``, ``customer_id`` ~ ``customers.id``) or its values
  alone tell: codes (text) with at least two values found, or whole numbers unlikely to all
  land in the parent by chance (the parent's share of the integers in the column's range, to
  the power of the column's distinct values, below ``CHANCE``), so that small numbers and
  dense ranges, found in any id column, are no evidence. A name match wins over values alone;
  among values alone, the smallest parent. A column unique in its table and named as its own
  id is a parent, never a child; row numbers (R's rownames, a saved pandas index) are named
  alike in every table, so their names are no evidence; of two alike that would reference each other, one link is
  kept. Self-references are not guessed.
- A candidate that misses only on inclusion (``PARTIAL`` or more) becomes a note with its
  share of orphans.
- Primary key: the column named as the table's own id (``AlbumId`` in Album, ``c_custkey`` in
  customer), else an id-named column that is no foreign key, else the fewest (up to
  ``COMPOSITE``) foreign-key and id-named columns, one a foreign key, unique together (link
  tables, order lines), else the first candidate.
- A composite foreign key maps every column of another table's composite key to a column of
  the same name, and replaces the single ones it implies (``lineitem.l_partkey -> part`` when
  ``(l_partkey, l_suppkey) -> partsupp`` and ``partsupp.ps_partkey -> part``).

Child values are compared on a sample of rows, parent keys in full, as pandas set look-ups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations

import numpy as np
import pandas as pd

INCLUSION = 0.95
PARTIAL = 0.5
CHANCE = 1e-6
COMPOSITE = 3
SAMPLE = 200_000  # child rows whose values are looked up in the parents
_PROBE = 1000
_KEY_WORDS = ("id", "key", "code", "no", "nr", "num", "number")
_KEY_END = re.compile(f"({'|'.join(_KEY_WORDS)})$")
_ID_NAME = re.compile(r"(^id$|id$|_id$|key$|code$|_no$|_nr$|num$|number$)", re.IGNORECASE)


@dataclass
class Guess:
    columns: list[str]
    evidence: str
    parent: str | None = None
    parent_columns: list[str] | None = None


def normal(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _singular(name: str) -> str:
    return (
        name[:-3] + "y"
        if name.endswith("ies")
        else name[:-1]
        if name.endswith("s") and not name.endswith("ss")
        else name
    )


def keyable(column: pd.Series) -> pd.Series | None:
    """Values as compared between tables (whole numbers as int64, codes as stripped text), or
    None for a column that cannot hold keys (fractions, flags, dates, long or spaced text)."""
    values = column.dropna()
    if values.empty or pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values):
        return None
    if pd.api.types.is_float_dtype(values):
        whole = np.isfinite(values).all() and np.array_equal(values, np.floor(values)) and values.abs().max() < 2**53
        return values.astype("int64") if whole else None
    if pd.api.types.is_numeric_dtype(values):
        return values
    if not values.iloc[:_PROBE].map(lambda v: isinstance(v, (str, int, np.integer))).all():
        return None  # lists, mappings, bytes
    for text in (values.iloc[:_PROBE].astype(str).str.strip(), values.astype(str).str.strip()):  # prose fails fast
        if (text.str.len() > 40).any() or text.str.contains(r"\s").any():
            return None
    return text


@dataclass
class Table:
    name: str
    frame: pd.DataFrame
    prefix: str = ""
    foreign: list[Guess] = field(default_factory=list)

    def __post_init__(self):
        self.sample = self.frame.sample(SAMPLE, random_state=0) if len(self.frame) > SAMPLE else self.frame
        self.sampled = len(self.frame) > SAMPLE
        heads = pd.Series([str(c).split("_", 1)[0] + "_" for c in self.frame.columns if "_" in str(c)[1:]])
        if not heads.empty:  # c_ in customer(c_custkey, c_name, ...): most columns start with it
            head, count = heads.value_counts().index[0], heads.value_counts().iloc[0]
            own = normal(head) in (normal(self.name), _singular(normal(self.name)))
            if count >= max(2, 0.6 * self.frame.shape[1]) and (len(head) <= 5 or own):
                self.prefix = head

    def stem(self, column) -> str:
        text = str(column)
        return normal(text[len(self.prefix) :] if self.prefix and text.startswith(self.prefix) else text)

    def forms(self, column) -> set[str]:
        """The names a column goes by: with and without its table prefix, and a bare ``id``
        with its table's name (``customers.id`` ~ ``customer_id``); bare key words alone never match."""
        stem = self.stem(column)
        forms = {normal(column), stem}
        if stem in _KEY_WORDS:
            forms |= {normal(self.name) + stem, _singular(normal(self.name)) + stem}
        return forms - set(_KEY_WORDS)

    @cached_property
    def counts(self) -> dict[str, pd.Series]:
        """Per key-able column: how often each value occurs in the sample."""
        found = {}
        for column in self.frame.columns:
            values = keyable(self.sample[column])
            if values is not None:
                found[column] = values.value_counts()
        return found

    @cached_property
    def candidates(self) -> dict[str, pd.Index]:
        """Key candidates (unique, never null, id-like) with all their values."""
        found: dict[str, pd.Index] = {}
        if len(self.frame) < 2:
            return found
        for column, counts in self.counts.items():
            if counts.max() == 1 and self.frame[column].notna().all():
                values = keyable(self.frame[column])
                if values is not None and values.is_unique:
                    found[column] = pd.Index(values)
        return found

    def numbers_rows(self, column) -> bool:
        """Row numbers (0 or 1 up to the row count), as R's rownames or a saved pandas index."""
        values = self.candidates.get(column)
        return (
            values is not None
            and pd.api.types.is_integer_dtype(values)
            and values.min() in (0, 1)
            and values.max() == values.min() + len(self.frame) - 1
        )

    def unique_together(self, columns: list[str]) -> bool:
        """Never null and unique together; a duplicate in the sample settles it without the whole."""
        if len(self.frame) < 2 or any(c not in self.counts for c in columns):
            return False
        if self.sampled and self.sample[columns].duplicated().any():
            return False
        return bool(self.frame[columns].notna().all(axis=None) and not self.frame[columns].duplicated().any())


def home(stem: str, tables: dict[str, Table]) -> str | None:
    """The table a key column's name points to: ``ArtistId`` -> Artist, ``custkey`` -> customer."""
    stem = _KEY_END.sub("", stem)
    names = {name: normal(name) for name in tables}
    exact = [t for t, n in names.items() if stem in (n, _singular(n))]
    starting = [t for t, n in names.items() if len(stem) >= 3 and n.startswith(stem)]
    found = exact or starting
    return found[0] if len(found) == 1 else None


def _own_id(table: Table, column, tables) -> bool:
    stem = table.stem(column)
    return stem in _KEY_WORDS or home(stem, tables) == table.name


def _inclusion(counts: pd.Series, parent: pd.Index) -> tuple[float, pd.Index]:
    """Share of the child's rows whose value is in the parent, and the distinct values found."""
    found = counts.index.isin(parent)
    return float(counts[found].sum() / counts.sum()), counts.index[found]


def _by_chance(found: pd.Index, parent: pd.Index) -> float:
    """Odds that as many integers, drawn over the range they span, all land among the parent's:
    1 where the parent fills that range (1..77 holds any quantity up to 77)."""
    low, high = int(found.min()), int(found.max())
    ordered = np.sort(parent.to_numpy())
    inside = np.searchsorted(ordered, high, "right") - np.searchsorted(ordered, low, "left")
    return float((inside / (high - low + 1)) ** len(found))


@dataclass
class _Match:
    column: str
    parent: str
    parent_column: str
    named: bool
    share: float
    rows: int
    distinct: tuple[int, int]  # found, all

    def describe(self, child: Table) -> str:
        values = f"{self.rows:,} {'sampled ' if child.sampled else ''}values"
        where = f"{self.parent}.{self.parent_column}"
        if self.named:
            return f"names match; {self.share:.1%} of {values} found in {where}"
        return (
            f"names differ, but {self.share:.1%} of {values} ({self.distinct[0]:,} of {self.distinct[1]:,} "
            f"distinct) found in {where}, a unique column"
        )

    def note(self, child: Table) -> str:
        return (
            f"not proposed: {child.name}.{self.column} -> {self.parent}.{self.parent_column} "
            f"({'names match' if self.named else 'values only'}): {1 - self.share:.1%} of "
            f"{self.rows:,} values have no parent row"
        )


def _matches(child: Table, tables: dict[str, Table]) -> list[_Match]:
    """Every parent key candidate a column of ``child`` might reference, with its evidence."""
    found = []
    for column, counts in child.counts.items():
        if column in child.candidates and _own_id(child, column, tables):
            continue
        forms, integer = child.forms(column), pd.api.types.is_integer_dtype(counts.index)
        for parent in (t for t in tables.values() if t.name != child.name):
            for parent_column, values in parent.candidates.items():
                if pd.api.types.is_integer_dtype(values) != integer:
                    continue
                named = bool(forms & parent.forms(parent_column)) and not (
                    child.numbers_rows(column)
                    and parent.numbers_rows(parent_column)
                    and home(child.stem(column), tables) != parent.name
                )  # every table's rownames
                share, hits = _inclusion(counts, values)
                telling = len(hits) >= 2 and (not integer or _by_chance(hits, values) < CHANCE)
                if share >= PARTIAL and (named or telling):
                    found.append(
                        _Match(
                            column,
                            parent.name,
                            parent_column,
                            named,
                            share,
                            int(counts.sum()),
                            (len(hits), len(counts)),
                        )
                    )
    return found


def foreign_keys(child: Table, tables: dict[str, Table]) -> tuple[list[Guess], list[str]]:
    """Single-column foreign keys of ``child`` (one parent per column) and notes on near misses."""
    guesses, notes = [], []
    matches = _matches(child, tables)
    for column in dict.fromkeys(m.column for m in matches):
        mine = [m for m in matches if m.column == column]
        accepted = [m for m in mine if m.share >= INCLUSION]
        if accepted:
            best = max(accepted, key=lambda m: (m.named, -len(tables[m.parent].candidates[m.parent_column])))
            guesses.append(Guess([column], best.describe(child), best.parent, [best.parent_column]))
        else:
            notes += [m.note(child) for m in mine]
    return guesses, notes


def primary_key(table: Table, tables: dict[str, Table]) -> Guess | None:
    rows = f"unique and never null in {len(table.frame):,} rows"
    linked = [g.columns[0] for g in table.foreign if len(g.columns) == 1]
    single = list(table.candidates)
    own = [c for c in single if _own_id(table, c, tables)]
    named = [c for c in single if _ID_NAME.search(str(c)) and c not in linked]
    if own or named:
        return Guess([(own or named)[0]], rows + ("; named as the table's own id" if own else "; named as an id"))
    composite = _composite(table, linked, tables)
    if composite:
        return Guess(composite, f"no single-column id; unique together in {len(table.frame):,} rows")
    if single:
        return Guess([single[0]], rows + ("; a foreign key too" if single[0] in linked else ""))
    return None


def _composite(table: Table, linked: list[str], tables) -> list[str] | None:
    """The fewest foreign-key and id-named columns, one a foreign key, unique together; among
    equals, the one with a column named after the table (``l_linenumber`` in lineitem)."""
    pool = linked + [c for c in table.counts if _ID_NAME.search(str(c)) and c not in linked]
    for size in range(2, COMPOSITE + 1):
        unique = [list(c) for c in combinations(pool, size) if set(c) & set(linked) and table.unique_together(list(c))]
        if unique:
            return max(
                unique,
                key=lambda c: (any(home(table.stem(x), tables) == table.name for x in c), sum(x in linked for x in c)),
            )
    return None


def composite_foreign_keys(
    child: Table, keys: dict[str, Guess | None], tables: dict[str, Table]
) -> tuple[list[Guess], list[str]]:
    """Columns of ``child`` named like every column of another table's composite key."""
    guesses, notes = [], []
    for parent in tables.values():
        key = keys.get(parent.name)
        if parent.name == child.name or key is None or len(key.columns) < 2:
            continue
        named = [next((c for c in child.counts if child.forms(c) & parent.forms(p)), None) for p in key.columns]
        if None in named or len(set(named)) < len(named):
            continue
        columns = [c for c in named if c is not None]  # all of them
        rows = child.sample[columns].dropna()
        tuples = [keyable(rows[c]) for c in columns]
        known = [keyable(parent.frame[p]) for p in key.columns]
        # k is None where the parent's whole column holds no keys though its sample did (a fraction past it)
        if rows.empty or any(t is None or k is None or t.dtype.kind != k.dtype.kind for t, k in zip(tuples, known)):
            continue
        tuples, known = pd.concat(tuples, axis=1), pd.MultiIndex.from_frame(pd.concat(known, axis=1))
        share = float(pd.MultiIndex.from_frame(tuples).isin(known).mean())
        where = f"{parent.name}.({', '.join(map(str, key.columns))})"
        if share >= INCLUSION:
            guesses.append(
                Guess(
                    columns,
                    f"names match; {share:.1%} of {len(tuples):,} value tuples found in {where}",
                    parent.name,
                    list(key.columns),
                )
            )
        elif share >= PARTIAL:
            notes.append(
                f"not proposed: {child.name}.({', '.join(map(str, columns))}) -> {where} (names match): "
                f"{1 - share:.1%} of {len(tuples):,} value tuples have no parent row"
            )
    return guesses, notes


def implied(single: Guess, composite: list[Guess], tables: dict[str, Table]) -> bool:
    """A single FK that a composite one already says: its parent's column references the same."""
    for key in composite:
        if single.columns[0] in key.columns:
            assert key.parent is not None and key.parent_columns is not None  # a foreign key's guess
            through = key.parent_columns[key.columns.index(single.columns[0])]
            if any(
                g.columns == [through] and g.parent == single.parent and g.parent_columns == single.parent_columns
                for g in tables[key.parent].foreign
            ):
                return True
    return False


def _one_way(tables: dict[str, Table]) -> None:
    """Two unique columns named alike with the same values (a table split in two) would each
    reference the other: only one link is kept, to the table with more rows (or first by name)."""
    for table in tables.values():
        for guess in list(table.foreign):
            assert guess.parent is not None  # a foreign key's guess
            parent = tables[guess.parent]
            back = any(g.columns == guess.parent_columns and g.parent == table.name for g in parent.foreign)
            if back and (-len(table.frame), table.name) < (-len(parent.frame), parent.name):
                table.foreign.remove(guess)


def guess_keys(
    frames: dict[str, pd.DataFrame],
) -> tuple[dict[str, Guess | None], dict[str, list[Guess]], dict[str, list[str]]]:
    """Per table: its primary key, foreign keys and notes on links not proposed."""
    tables = {name: Table(name, frame) for name, frame in frames.items()}
    notes = {}
    for table in tables.values():
        table.foreign, notes[table.name] = foreign_keys(table, tables)
    _one_way(tables)
    keys = {name: primary_key(table, tables) for name, table in tables.items()}
    foreign = {}
    for table in tables.values():
        composite, more = composite_foreign_keys(table, keys, tables)
        foreign[table.name] = [g for g in table.foreign if not implied(g, composite, tables)] + composite
        notes[table.name] += more
    return keys, foreign, notes
