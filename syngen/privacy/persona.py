"""One person and one place per generated row, shared by the row's identifying columns.

A row's country (learned like any category; rare countries replaced by other real
countries) chooses its Faker locale and telephone calling code, so a Brazilian row gets a
Brazilian name, street, city and phone prefix. Finer places follow coarser ones: a city kept
from the source stays in its country, or is swapped for a kept city of the row's country, or
made anew in the row's locale. First and last names are drawn once per row, so a full name,
its first name and its email address agree, and never as a real (first, last) pair.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from syngen.privacy import RARE, fake, guard, pending, places
from syngen.privacy.meaning import name_hint

_ORDER = ("country", "state", "city", "postal_code")  # coarse to fine
_MAPPED_SHARE = 0.95  # a finer value belongs to the coarser ones that hold this share of its rows
_MAX_PLACES = 3  # ... when they are this few
_SEPARATOR = "\x1f"


def pair_text(first, last) -> np.ndarray:
    """(first, last) pairs as the text the pair check hashes: case and spacing folded."""
    first = pd.Series(first, dtype=object).astype(str).str.strip().str.lower()
    last = pd.Series(last, dtype=object).astype(str).str.strip().str.lower()
    return (first + _SEPARATOR + last).to_numpy(dtype=object)


@dataclass
class Rows:
    """What the identifying columns of one batch share, row by row."""
    regions: np.ndarray  # ISO alpha-2 code per row
    locales: np.ndarray  # Faker locale per row
    seed: int
    secret: str | None
    rng: np.random.Generator
    pair_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    default_region: str = "US"
    _people: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def plain(cls, n: int, seed: int, start: int, region: str = "US", secret: str | None = None) -> "Rows":
        return cls(np.full(n, region, dtype=object), np.full(n, places.locale_for(region), dtype=object),
                   seed, secret, np.random.default_rng([seed, start, 3]), default_region=region)

    def __len__(self) -> int:
        return len(self.regions)

    def people(self) -> tuple[np.ndarray, np.ndarray]:
        """(first names, last names), one person per row, never a real pair."""
        if self._people is None:
            first = fake.draw(self.locales, "first", self.seed, self.rng)
            last = fake.draw(self.locales, "last", self.seed, self.rng)
            pairs = pair_text(first, last)

            def another(index):  # a new last name for a real pair
                last[index] = fake.draw(self.locales[index], "last", self.seed, self.rng)
                return pair_text(first[index], last[index])

            guard.remake(pairs, another, self.pair_hashes, self.secret)
            self._people = (first, last)
        return self._people

    def take(self, index: np.ndarray, rng: np.random.Generator) -> "Rows":
        """These rows again, with new people (to remake values that clashed)."""
        return Rows(self.regions[index], self.locales[index], self.seed, self.secret, rng,
                    self.pair_hashes, self.default_region)


@dataclass
class Persona:
    """What a table's rows share: its country column, its default country, the source's
    place hierarchy among kept values, and the real name pairs to avoid (keyed hashes)."""
    country: str | None = None
    default_region: str = "US"
    hierarchy: list[tuple[str, str, dict]] = field(default_factory=list)  # (fine, coarse, map)
    pair_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @classmethod
    def fit(cls, data: pd.DataFrame, kinds: dict[str, str], codecs: dict, secret: str | None) -> "Persona":
        located = [c for kind in _ORDER for c in kinds if kinds[c] == kind]
        country = next((c for c in located if kinds[c] == "country"), None)
        persona = cls(country=country, default_region=_default_region(data, kinds, country))
        for position, fine in enumerate(located):
            for coarse in located[:position]:
                if _ORDER.index(kinds[coarse]) < _ORDER.index(kinds[fine]):
                    mapping = _belongs(data, fine, coarse, codecs[fine], codecs[coarse])
                    if mapping:
                        persona.hierarchy.append((fine, coarse, mapping))
        if secret:
            pairs = _real_pairs(data, kinds)
            if len(pairs):
                persona.pair_hashes = guard.keyed_hashes(pairs, secret)
        return persona

    def rows(self, outputs: dict[str, pd.Series], codecs: dict, n: int, seed: int, start: int,
             secret: str | None) -> Rows:
        """The batch's rows; completes ``outputs`` in place: rare places made anew, finer
        places made to agree with coarser ones."""
        rng = np.random.default_rng([seed, start, 5])
        rows = Rows.plain(n, seed, start, self.default_region, secret)
        rows.pair_hashes = self.pair_hashes
        if self.country is not None:
            outputs[self.country] = codecs[self.country].fill_rare(outputs[self.country], rows, rng)
            regions = places.codes_of(outputs[self.country].to_numpy(dtype=object))
            regions = np.where(pd.isna(regions), self.default_region, regions).astype(object)
            rows.regions = regions
            rows.locales = places.locales_of(regions)
        for fine, coarse, mapping in self.hierarchy:
            outputs[fine] = _agree(outputs[fine], outputs[coarse], mapping, codecs[fine], rng)
        for name, values in outputs.items():
            may_be_marked = getattr(codecs[name], "rare_share", 0) > 0 or codecs[name].kind in _ORDER
            if name != self.country and may_be_marked and values.dtype == object and pending(values).any():
                outputs[name] = codecs[name].fill_rare(values, rows, rng)
        return rows

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return ({"country": self.country, "default_region": self.default_region,
                 "hierarchy": [[fine, coarse, [[k, v] for k, v in mapping.items()]]
                               for fine, coarse, mapping in self.hierarchy]},
                {"persona.pair_hashes": self.pair_hashes})

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Persona":
        return cls(meta["country"], meta["default_region"],
                   [(fine, coarse, {k: v for k, v in pairs}) for fine, coarse, pairs in meta["hierarchy"]],
                   arrays.get("persona.pair_hashes", np.zeros(0, dtype=np.uint64)))


def _default_region(data: pd.DataFrame, kinds: dict[str, str], country: str | None) -> str:
    """The table's country when a row says none: its most common country (a column, or the
    calling code of its phone numbers), else the United States."""
    candidates = [country] if country else []
    candidates += [c for c in data.columns if c != country and name_hint(str(c)) == "country"]
    for column in candidates:
        codes = places.codes_of(data[column].dropna().astype(str).to_numpy(dtype=object))
        codes = pd.Series(codes).dropna()
        if len(codes):
            return str(codes.mode().iloc[0])
    for column in (c for c in data.columns if kinds.get(c) == "phone"):
        from syngen.privacy.codecs import calling_code_of

        found = data[column].dropna().astype(str).map(calling_code_of).dropna()
        if len(found):
            region = places.region_of_calling_code(int(found.mode().iloc[0]))
            if region:
                return region
    return "US"


def _belongs(data, fine: str, coarse: str, fine_codec, coarse_codec) -> dict:
    """Kept finer values -> the kept coarser values that hold nearly all their source rows
    (a city name found in two countries belongs to both)."""
    kept = set(fine_codec.categories) | set(fine_codec.tail)
    kept_coarse = set(coarse_codec.categories) | set(coarse_codec.tail)
    pairs = data[[fine, coarse]].dropna()
    pairs = pairs[pairs[fine].isin(kept)]
    mapping = {}
    for value, places_seen in pairs.groupby(fine)[coarse]:
        counts = places_seen.value_counts()
        covering = counts.index[:int(np.searchsorted(counts.cumsum().to_numpy(), _MAPPED_SHARE * counts.sum())) + 1]
        if len(covering) <= _MAX_PLACES and set(covering) <= kept_coarse:
            mapping[_plain(value)] = sorted(_plain(c) for c in covering)
    return mapping


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _agree(fine: pd.Series, coarse: pd.Series, mapping: dict, codec, rng) -> pd.Series:
    """Finer values whose coarser places do not include the row's: swapped for a kept finer
    value of the row's place (by source frequency), or left to be made anew in its locale."""
    values, rows_place = fine.to_numpy(dtype=object), coarse.to_numpy(dtype=object)
    wanted = pd.Series(values, dtype=object).map(mapping).to_numpy(dtype=object)  # RARE, nulls: NaN
    wrong = np.asarray([isinstance(w, list) and p not in w for w, p in zip(wanted, rows_place)], dtype=bool)
    if not wrong.any():
        return fine
    weights = dict(zip(codec.categories, codec.shares[:len(codec.categories)]))
    by_place: dict = {}
    for value, owners in mapping.items():
        for place in owners:
            by_place.setdefault(place, []).append(value)
    result = values.copy()
    rows = np.flatnonzero(wrong)
    for place in pd.unique(rows_place[rows]):
        here = rows[rows_place[rows] == place]
        choices = by_place.get(place)
        if choices:
            p = np.asarray([weights.get(c, 1e-3) for c in choices], dtype=np.float64)
            result[here] = np.asarray(choices, dtype=object)[rng.choice(len(choices), size=len(here), p=p / p.sum())]
        else:
            result[here] = RARE
    return pd.Series(result, index=fine.index, dtype=object)


def _real_pairs(data: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    """The source's (first, last) name pairs: from first- and last-name columns, and from
    full names split at their first and last words."""
    found = []
    firsts = [c for c in data.columns if kinds.get(c) == "first_name"]
    lasts = [c for c in data.columns if kinds.get(c) == "last_name"]
    if firsts and lasts:
        both = data[[firsts[0], lasts[0]]].dropna()
        found.append(pair_text(both[firsts[0]], both[lasts[0]]))
    for column in (c for c in data.columns if kinds.get(c) == "full_name"):
        text = data[column].dropna().astype(str)
        comma = text.str.contains(",", regex=False)
        words = text.str.replace(",", " ", regex=False).str.split()
        first = np.where(comma, words.str[-1], words.str[0])
        last = np.where(comma, words.str[0], words.str[-1])
        found.append(pair_text(first, last))
    return np.concatenate(found) if found else np.zeros(0, dtype=object)

