"""One person and one place per generated row, shared by the row's identifying columns.

A row's country (learned like any category; rare countries replaced by other real
countries) chooses its Faker locale and telephone calling code, so a Brazilian row gets a
Brazilian name, street, city and phone prefix. Finer places follow coarser ones: a city kept
from the source stays in its country, or is swapped for a kept city of the row's country, or
made anew in the row's locale. First and last names are drawn once per row, so a full name,
its first name and its email address agree, and never as a real (first, last) pair.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from syngen.privacy import RARE, fake, guard, pending, places
from syngen.privacy.meaning import name_hint

_ORDER = ("country", "state", "city", "postal_code")  # coarse to fine
_MAPPED_SHARE = 0.95  # a finer value belongs to the coarser ones that hold this share of its rows
_MAX_PLACES = 3  # ... when they are this few
_SEPARATOR = "\x1f"
# how sources write a person's sex; a column of these gives first names of that sex
_SEX_WORDS = {"sex", "gender", "geschlecht", "sexo", "sexe", "genere", "genero", "geslacht"}
_SEXES = {
    **dict.fromkeys(
        (
            "m",
            "male",
            "man",
            "men",
            "boy",
            "masculine",
            "masculino",
            "homme",
            "h",
            "männlich",
            "mann",
            "hombre",
            "maschio",
            "man",
        ),
        "male",
    ),
    **dict.fromkeys(
        (
            "f",
            "female",
            "woman",
            "women",
            "girl",
            "feminine",
            "feminino",
            "femme",
            "w",
            "weiblich",
            "frau",
            "mujer",
            "femmina",
            "vrouw",
            "v",
        ),
        "female",
    ),
}


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
    placed: bool = False  # regions come from the row's own country column
    name_lengths: tuple[int, int] = (0, 0)  # names longer than these are drawn again (0: any)
    people_of: dict[str, int] = field(default_factory=dict)  # name column -> whose name (0: the row's person)
    sexes: np.ndarray | None = None  # 'male' / 'female' / None per row, where the table says
    _people: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def plain(cls, n: int, seed: int, start: int, region: str = "US", secret: str | None = None) -> "Rows":
        return cls(
            np.full(n, region, dtype=object),
            np.full(n, places.locale_for(region), dtype=object),
            seed,
            secret,
            np.random.default_rng([seed, start, 3]),
            default_region=region,
        )

    def __len__(self) -> int:
        return len(self.regions)

    def people(self, column: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(first names, last names) of the row's person, or of the other person a name
        column holds (a president's vice president), never a real pair."""
        slot = self.people_of.get(column, 0) if column is not None else 0
        if slot not in self._people:
            first = self._names("first", self.name_lengths[0])
            last = self._names("last", self.name_lengths[1])
            pairs = pair_text(first, last)

            def another(index):  # a new last name for a real pair
                last[index] = self._names("last", self.name_lengths[1], index)
                return pair_text(first[index], last[index])

            guard.remake(pairs, another, self.pair_hashes, self.secret)
            self._people[slot] = (first, last)
        return self._people[slot]

    def _names(self, what: str, longest: int, index: np.ndarray | None = None) -> np.ndarray:
        """Names of the rows' locales that fit the source's columns (``longest`` characters)."""
        locales = self.locales if index is None else self.locales[index]
        fits = (lambda pool: pd.Series(pool, dtype=object).str.len().to_numpy() <= longest) if longest else None
        if what != "first" or self.sexes is None:
            return fake.draw(locales, what, self.seed, self.rng, allowed=fits)
        sexes = self.sexes if index is None else self.sexes[index]
        names = np.empty(len(locales), dtype=object)
        for sex, pool_name in ((None, "first"), ("male", "first_male"), ("female", "first_female")):
            rows = np.flatnonzero(sexes == sex) if sex else np.flatnonzero(~np.isin(sexes, ("male", "female")))
            if len(rows):
                names[rows] = fake.draw(locales[rows], pool_name, self.seed, self.rng, allowed=fits)
        return names

    def take(self, index: np.ndarray, rng: np.random.Generator) -> "Rows":
        """These rows again, with new people (to remake values that clashed)."""
        return Rows(
            self.regions[index],
            self.locales[index],
            self.seed,
            self.secret,
            rng,
            self.pair_hashes,
            self.default_region,
            self.placed,
            self.name_lengths,
            self.people_of,
            None if self.sexes is None else self.sexes[index],
        )


@dataclass
class Persona:
    """What a table's rows share: its country column, its default country, the source's
    place hierarchy among kept values, and the real name pairs to avoid (keyed hashes)."""

    country: str | None = None
    default_region: str = "US"
    latin: bool = True  # the source writes its personal values in Latin letters
    name_lengths: tuple[int, int] = (0, 0)  # longest first and last names the name columns hold
    people_of: dict[str, int] = field(default_factory=dict)  # name column -> whose name it holds
    sex: tuple[str, dict] | None = None  # the column that says a person's sex, and its values' meaning
    hierarchy: list[tuple[str, str, dict]] = field(default_factory=list)  # (fine, coarse, map)
    pair_hashes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @classmethod
    def fit(cls, data: pd.DataFrame, kinds: dict[str, str], codecs: dict, secret: str | None) -> "Persona":
        located = [c for kind in _ORDER for c in kinds if kinds[c] == kind]
        country = next((c for c in located if kinds[c] == "country"), None)
        persona = cls(
            country=country,
            default_region=_default_region(data, kinds, country),
            latin=_latin(data, kinds),
            name_lengths=_name_lengths(data, kinds),
            people_of=_people_of(data, kinds),
            sex=_sex_column(data, kinds),
        )
        for position, fine in enumerate(located):
            for coarse in located[:position]:  # a second country column follows the first
                if _ORDER.index(kinds[coarse]) <= _ORDER.index(kinds[fine]):
                    mapping = _belongs(data, fine, coarse, codecs[fine], codecs[coarse])
                    if mapping:
                        persona.hierarchy.append((fine, coarse, mapping))
        if secret:
            pairs = _real_pairs(data, kinds)
            if len(pairs):
                persona.pair_hashes = guard.keyed_hashes(pairs, secret)
        return persona

    def rows(
        self, outputs: dict[str, pd.Series], codecs: dict, n: int, seed: int, start: int, secret: str | None
    ) -> Rows:
        """The batch's rows; completes ``outputs`` in place: rare places made anew, finer
        places made to agree with coarser ones."""
        rng = np.random.default_rng([seed, start, 5])
        rows = Rows.plain(n, seed, start, self.default_region, secret)
        rows.pair_hashes, rows.name_lengths, rows.people_of = self.pair_hashes, self.name_lengths, self.people_of
        if self.sex is not None and self.sex[0] in outputs:
            said = pd.Series(outputs[self.sex[0]].to_numpy(dtype=object), dtype=object).map(self.sex[1])
            rows.sexes = said.to_numpy(dtype=object)
        if self.country is not None:
            outputs[self.country] = codecs[self.country].fill_rare(outputs[self.country], rows, rng)
            regions = places.codes_of(outputs[self.country].to_numpy(dtype=object))
            regions = np.where(pd.isna(regions), self.default_region, regions).astype(object)
            rows.regions, rows.placed = regions, True
            rows.locales = places.locales_of(regions, latin=self.latin)
        for fine, coarse, mapping in self.hierarchy:
            outputs[fine] = _agree(outputs[fine], outputs[coarse], mapping, codecs[fine], rng)
        for name, values in list(outputs.items()):
            may_be_marked = getattr(codecs[name], "rare_share", 0) > 0 or codecs[name].kind in _ORDER
            if name != self.country and may_be_marked and values.dtype == object and pending(values).any():
                outputs[name] = codecs[name].fill_rare(values, rows, rng)
        return rows

    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        return (
            {
                "country": self.country,
                "default_region": self.default_region,
                "latin": self.latin,
                "name_lengths": list(self.name_lengths),
                "people_of": self.people_of,
                "sex": [self.sex[0], [[k, v] for k, v in self.sex[1].items()]] if self.sex else None,
                "hierarchy": [
                    [fine, coarse, [[k, v] for k, v in mapping.items()]] for fine, coarse, mapping in self.hierarchy
                ],
            },
            {"persona.pair_hashes": self.pair_hashes},
        )

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray]) -> "Persona":
        sex = meta["sex"]
        return cls(
            meta["country"],
            meta["default_region"],
            meta["latin"],
            tuple(meta["name_lengths"]),
            meta["people_of"],
            (sex[0], {k: v for k, v in sex[1]}) if sex else None,
            [(fine, coarse, {k: v for k, v in pairs}) for fine, coarse, pairs in meta["hierarchy"]],
            arrays.get("persona.pair_hashes", np.zeros(0, dtype=np.uint64)),
        )


def source_regions(data: pd.DataFrame, kinds: dict[str, str]) -> pd.Series | None:
    """Each source row's country (ISO code) from the table's first country column."""
    country = next((c for kind in ("country",) for c in kinds if kinds[c] == kind), None)
    if country is None:
        return None
    return pd.Series(places.codes_of(data[country].to_numpy(dtype=object)), index=data.index, dtype=object)


# the columns that say best who a row is about, most specific first
_IDENTITY_SHARE = 0.05
_IDENTITIES = ("national_id", "email", "phone", "full_name", "street_address", "card_number", "account_number", "iban")


def source_people(data: pd.DataFrame, kinds: dict[str, str]) -> pd.Series | None:
    """Who each source row is about: the values of its most distinct identifying column (or
    first and last name together), a row of its own where that is empty; None when the
    table has no such column."""
    candidates = [data[c].astype(str).where(data[c].notna()) for c in data.columns if kinds.get(c) in _IDENTITIES]
    firsts = [c for c in data.columns if kinds.get(c) == "first_name"]
    lasts = [c for c in data.columns if kinds.get(c) == "last_name"]
    if firsts and lasts:
        candidates.append(
            (data[firsts[0]].astype(str) + _SEPARATOR + data[lasts[0]].astype(str)).where(
                data[firsts[0]].notna() & data[lasts[0]].notna()
            )
        )
    # a column that says who rows are about has many different values (an agent's name on
    # thousands of bookings says who handled them, not whom they are about)
    candidates = [c for c in candidates if c.nunique() >= _IDENTITY_SHARE * len(c)]
    if not candidates:
        return None
    best = max(candidates, key=lambda c: c.nunique())
    alone = pd.Series([f"{_SEPARATOR}row{i}" for i in range(len(best))], index=best.index)
    return best.fillna(alone)


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


def _latin(data: pd.DataFrame, kinds: dict[str, str]) -> bool:
    """Whether the names (else the personal and place columns) are written in Latin letters
    (then a row of a country whose Faker locale writes otherwise gets the default locale's)."""
    from syngen.privacy.meaning import IDENTIFYING

    names = [c for c in data.columns if kinds.get(c) in ("first_name", "last_name", "full_name")]
    text = [
        data[c].dropna().astype(str).head(500)
        for c in (names or [c for c in data.columns if kinds.get(c) in IDENTIFYING + _ORDER])
    ]
    joined = "".join("".join(t.tolist()) for t in text)
    return all(ord(ch) < 0x250 for ch in joined)


def _sex_column(data: pd.DataFrame, kinds: dict[str, str]) -> tuple[str, dict] | None:
    """A learned column named like sex or gender whose values are male and female ('M'/'F',
    'female'/'male'), when the table has people's names: their first names follow it."""
    if not any(kinds.get(c) in ("first_name", "full_name") for c in data.columns):
        return None
    for column in data.columns:
        if kinds.get(column) not in ("categorical", "boolean") or not (
            _SEX_WORDS & set(re.split(r"[^a-z]+", str(column).lower()))
        ):
            continue
        values = data[column].dropna()
        meaning = {v: _SEXES.get(str(v).strip().lower()) for v in values.unique()}
        if values.map(meaning).notna().mean() >= 0.9:
            return str(column), {_plain(k): v for k, v in meaning.items() if v}
    return None


def _people_of(data: pd.DataFrame, kinds: dict[str, str]) -> dict[str, int]:
    """Whose name each name column holds: the n-th first-name and last-name columns the n-th
    person (one holding an earlier one's values in nearly every row, that one's person); a
    full name holding the first name column's values, or the first full name of a table
    without one, the row's person; any other full name a person of its own."""
    of: dict[str, int] = {}
    for kind in ("first_name", "last_name"):
        earlier: list[str] = []
        for column in (c for c in data.columns if kinds.get(c) == kind):
            same = next((e for e in earlier if _same_values(data[e], data[column])), None)
            of[str(column)] = of[str(same)] if same is not None else len(earlier)
            if same is None:
                earlier.append(column)
    people = max(of.values(), default=-1) + 1
    firsts = [c for c in data.columns if kinds.get(c) == "first_name"]
    for column in (c for c in data.columns if kinds.get(c) == "full_name"):
        both = data[[column] + firsts[:1]].dropna().astype(str)
        holds = (
            bool(firsts)
            and len(both)
            and np.mean([f.lower() in v.lower() for v, f in zip(both[column], both[firsts[0]])]) >= 0.5
        )
        if holds or people == 0:
            of[str(column)] = 0
            people = max(people, 1)
        else:
            of[str(column)] = people
            people += 1
    return of


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns hold the same value in nearly every row that has both."""
    both = a.notna() & b.notna()
    return bool(both.sum() and (a[both].astype(str) == b[both].astype(str)).mean() >= 0.9)


def _name_lengths(data: pd.DataFrame, kinds: dict[str, str]) -> tuple[int, int]:
    """The longest first and last names the table's name columns hold (0: no such column)."""

    def longest(kind: str) -> int:
        found = [
            int(data[c].dropna().astype(str).str.len().max())
            for c in data.columns
            if kinds.get(c) == kind and data[c].notna().any()
        ]
        return min(found) if found else 0

    return longest("first_name"), longest("last_name")


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
        covering = counts.index[: int(np.searchsorted(counts.cumsum().to_numpy(), _MAPPED_SHARE * counts.sum())) + 1]
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
    weights = dict(zip(codec.categories, codec.shares[: len(codec.categories)]))
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
