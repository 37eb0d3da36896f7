"""Codecs of columns that mean something personal.

Identifying columns (names, streets, phones, companies, national ids, cards, accounts,
IBANs, IP addresses, URLs) are never learned: the model keeps only their format (letter
case, length, character patterns, the share of international phone numbers, the order of
names) and keyed hashes of the real values, and every value is made anew from the row's
person and place. Place columns (countries, states, cities, postal codes) are categories
whose rare values are made anew in the row's locale.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

from syngen.engine.codec import Codec, register
from syngen.engine.encoders import CategoricalCodec
from syngen.privacy import fake, guard, patterns, pending, places
from syngen.privacy.meaning import IDENTIFYING, LOCATION
from syngen.privacy.persona import Rows

_PLACEHOLDER = 0.05  # share of rows from which a no-one value of a personal column is kept
_ROUNDS = 8  # attempts to remake a value that is real or, in a unique column, repeated
_NOT_ZERO = "123456789"
_SUBSCRIBER = "23456789"  # first digit of a national number: never a trunk or service prefix


def case_of(text: pd.Series) -> str | None:
    """'upper' or 'lower' when nearly every value with letters is written so, else None."""
    lettered = text[text.str.contains(r"[^\W\d_]", regex=True)]
    if lettered.empty:
        return None
    if (lettered == lettered.str.upper()).mean() >= 0.9:
        return "upper"
    if (lettered == lettered.str.lower()).mean() >= 0.9:
        return "lower"
    return None


def in_case(values: np.ndarray, case: str | None) -> np.ndarray:
    """Values in the source's letter case (missing ones stay missing)."""
    text = pd.Series(values, dtype=object)
    present = text.notna()
    if case == "upper":
        text[present] = text[present].astype(str).str.upper()
    elif case == "lower":
        text[present] = text[present].astype(str).str.lower()
    return text.to_numpy(dtype=object)


def too_long(values: np.ndarray, max_length: int) -> np.ndarray:
    """Values longer than the source's longest (remade, so that they fit its columns)."""
    if not max_length:
        return np.zeros(len(values), dtype=bool)
    return pd.Series(values, dtype=object).astype(str).str.len().to_numpy() > max_length


def cut(values: np.ndarray, max_length: int) -> np.ndarray:
    """The last resort for values that stayed too long."""
    if not max_length or not len(values):
        return values
    return pd.Series(values, dtype=object).astype(str).str.slice(0, max_length).str.rstrip().to_numpy(dtype=object)


@lru_cache(maxsize=512)
def _region_shapes(region: str | None, national: bool = False) -> list[tuple[str, float]]:
    """How a country writes a mobile number, after its calling code ('+55 11 96123-4567' ->
    '99 99999-9999') or in national form ('(11) 96123-4567'): for countries the source has
    no number of."""
    import phonenumbers

    example = region and (
        phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        or phonenumbers.example_number(region)
    )
    if not example:
        return []
    if national:
        text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    else:
        text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        assert example.country_code is not None  # an example number has its calling code
        text = _national_part(text, example.country_code)[0]
    return [(str(patterns.patterns_of(pd.Series([text])).iloc[0]), 1.0)]


@lru_cache(maxsize=1)
def _calling_codes() -> frozenset[str]:
    import phonenumbers

    return frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def calling_code_of(text: str) -> int | None:
    """The calling code of an international number ('+55 (12) 3923-5555' -> 55)."""
    text = str(text).strip()
    if not text.startswith("+"):
        return None
    digits = "".join(ch for ch in text[1:5] if ch.isdigit())
    for length in (1, 2, 3):
        if digits[:length] in _calling_codes():
            return int(digits[:length])
    return None


def _national_part(text: str, code: int) -> tuple[str, str]:
    """('(12) 3923-5555', ' ') from '+55 (12) 3923-5555': the rest after the calling code,
    and what separates them."""
    rest = text.strip()[1 + len(str(code)) :]
    stripped = rest.lstrip(" -.")
    return stripped, rest[: len(rest) - len(stripped)]


@register(*IDENTIFYING)
class PersonalCodec(Codec):
    """A column that identifies someone: made anew, in the source's format, never real."""

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.case: str | None = None
        self.max_length = 0
        self.unique = False
        self.hashes = np.zeros(0, dtype=np.uint64)  # keyed hashes of the real values
        self.patterns: list[tuple[str, float]] = []  # shapes (of national parts, for phones)
        self.by_calling_code: dict[str, list[tuple[str, float]]] = {}
        self.international = 0.0  # phones written with a calling code
        self.separator = " "  # between a phone's calling code and the rest
        self.first_characters = ""  # first characters seen at least k times (card issuers...)
        self.by_country: dict[str, list[tuple[str, float]]] = {}  # IBANs: shapes per country seen k times
        self.by_region: dict[str, list[tuple[str, float]]] = {}  # phones (national) and ids per row's country
        self.international_by_region: dict[str, float] = {}  # phones written with a calling code
        self.comma = 0.0  # full names written 'Last, First'
        self.middle = 0.0  # full names with a middle initial
        self.initial = 0.0  # full names whose given name is an initial ('D Jeter')
        self.joiner = " "  # between a full name's parts ('mary_smith' has '_')
        self.url = {"https": 1.0, "www": 0.0, "path": 0.0}
        self.ipv6 = False
        self.placeholders: dict[str, float] = {}  # 'not_applicable', 'No VP': kept at their share

    # -- learning ------------------------------------------------------------------------
    def _fit(self, values):
        text = values.astype(str).str.strip()
        self.case = case_of(text)
        self.max_length = int(text.str.len().max()) if len(text) else 0
        self.unique = bool(len(text) and values.nunique() / len(values) >= 0.98)
        # a first or last name alone is no one's (pairs are checked, see persona)
        if self.protection.secret and len(text) and self.kind not in ("first_name", "last_name"):
            self.hashes = guard.keyed_hashes(text, self.protection.secret)
        if self.kind not in ("first_name", "last_name") and len(text):
            # a common value that stands for no one ('not_applicable') is kept at its share
            counts = text.value_counts()
            common = counts[counts >= max(_PLACEHOLDER * len(text), self.protection.rare_threshold)]
            self.placeholders = {
                str(v): float(c / len(text)) for v, c in common.items() if _is_placeholder(self.kind, str(v))
            }
        if self.kind == "phone":
            self._fit_phone(text, self.protection.regions_of(values))
        elif self.kind in ("national_id", "card_number", "account_number", "iban"):
            k = self.protection.rare_threshold
            self.patterns = patterns.pattern_weights(text, keep=k)
            self.first_characters = self._frequent_firsts(text)
            if self.kind in ("national_id", "account_number"):  # each country has its own
                self.by_region = self._per_region(text, lambda group: patterns.pattern_weights(group, keep=k))
            if self.kind == "iban":  # each country has its own IBAN length and layout
                country = text.str[:2].str.upper()
                counts = country.value_counts()
                for code in counts[counts >= self.protection.rare_threshold].index:
                    self.by_country[str(code)] = patterns.pattern_weights(text[country == code])
        elif self.kind == "full_name":
            parts = [re.split(r"[\s_]+", v.replace(",", " ").strip()) for v in text]
            self.comma = float(text.str.contains(",", regex=False).mean()) if len(text) else 0.0
            self.middle = float(np.mean([len(p) == 3 and len(p[1].strip(".")) == 1 for p in parts])) if parts else 0.0
            self.initial = (
                float(
                    np.mean([len(p) >= 2 and len(p[0].strip(".")) == 1 and "," not in v for p, v in zip(parts, text)])
                )
                if parts
                else 0.0
            )
            joined = text[~text.str.contains(" ", regex=False)]
            self.joiner = (
                "_" if len(text) and joined.str.contains("_", regex=False).mean() * len(joined) > len(text) / 2 else " "
            )
        elif self.kind == "url":
            self.url = {
                "https": float(text.str.lower().str.startswith("https").mean()),
                "www": float(text.str.lower().str.contains(r"^(?:https?://)?www\.", regex=True).mean()),
                "path": float(text.str.contains(r"^(?:https?://)?[^/]+/.", regex=True).mean()),
            }
        elif self.kind == "ip_address":
            self.ipv6 = bool(text.str.contains(":", regex=False).mean() > 0.5)

    def _frequent_firsts(self, text: pd.Series) -> str:
        firsts = text.str.extract(r"([0-9A-Za-z])", expand=False).dropna()
        counts = firsts.value_counts()
        kept = counts[counts >= self.protection.rare_threshold]
        return "".join(sorted(kept.index)) if kept.sum() >= 0.9 * len(firsts) else ""

    def _fit_phone(self, text: pd.Series, regions: pd.Series | None) -> None:
        # extensions ('x806', 'ext. 12') and letters are no part of a number's shape
        text = text.str.replace(r"\s*(?:x|ext\.?)\s*\d+$", "", regex=True, case=False)
        text = text.str.replace(r"[^\W\d_]", "", regex=True).str.strip()
        k = self.protection.rare_threshold
        codes = text.map(calling_code_of)
        self.international = float(codes.notna().mean())
        national = text[codes.isna()]
        if len(national):
            self.patterns = patterns.pattern_weights(national, keep=k)
            self.first_characters = self._frequent_firsts(national)
        parts = [_national_part(t, int(c)) for t, c in zip(text[codes.notna()], codes.dropna())]
        if parts:
            rests = pd.Series([p[0] for p in parts])
            separators = pd.Series([p[1] for p in parts])
            self.separator = str(separators.mode().iloc[0])
            for code in codes.dropna().unique():
                mine = (codes.dropna() == code).to_numpy()
                self.by_calling_code[str(int(code))] = patterns.pattern_weights(rests[mine], keep=k)
        if regions is not None:  # how each country's rows write their numbers
            self.international_by_region = self._per_region(codes.notna(), lambda group: float(group.mean()), regions)
            self.by_region = self._per_region(national, lambda group: patterns.pattern_weights(group, keep=k), regions)

    def _per_region(self, values: pd.Series, learn, regions: pd.Series | None = None) -> dict:
        """``learn(values of one country)`` for each country with at least k of them."""
        regions = self.protection.regions_of(values) if regions is None else regions.reindex(values.index)
        if regions is None:
            return {}
        return {
            str(region): learn(group)
            for region, group in values.groupby(regions.to_numpy(), sort=True)
            if len(group) >= self.protection.rare_threshold
        }

    def as_key(self, nullable: bool = False) -> None:
        super().as_key(nullable)
        self.unique = True

    # -- generating ----------------------------------------------------------------------
    def generate(self, n, rng, start, total, seed, rows: Rows | None = None):
        rows = rows if rows is not None else Rows.plain(n, seed, start)
        values = self._make(rows, rng)
        left = guard.remake(
            values,
            lambda index: self._make(rows.take(index, rng), rng),
            self.hashes,
            rows.secret,
            self.unique,
            lambda v: too_long(v, self.max_length),
            _ROUNDS,
        )
        values[left] = cut(values[left], self.max_length)
        if self.placeholders:
            shares = np.asarray(list(self.placeholders.values()))
            pick = rng.choice(len(shares) + 1, size=n, p=np.append(shares, max(0.0, 1.0 - shares.sum())))
            held = pick < len(shares)
            values[held] = np.asarray(list(self.placeholders), dtype=object)[pick[held]]
        return self.restore_dtype(values, self.null_mask(n, rng))

    def _make(self, rows: Rows, rng: np.random.Generator) -> np.ndarray:
        n = len(rows)
        kind = self.kind
        if kind in ("first_name", "last_name", "full_name"):
            first, last = rows.people(self.name)
            if kind == "first_name":
                values = first
            elif kind == "last_name":
                values = last
            else:
                initials = pd.Series(first, dtype=object).str[:1].to_numpy(dtype=object)
                first = np.where(rng.random(n) < self.initial, initials, first)
                middle = np.where(
                    rng.random(n) < self.middle,
                    pd.Series(patterns.render("A", n, rng)).to_numpy(dtype=object) + ". ",
                    "",
                )
                given = middle.astype(object)
                values = np.where(
                    rng.random(n) < self.comma, last + ", " + first + _spaced(given), first + " " + given + last
                )
                if self.joiner != " ":
                    values = (
                        pd.Series(values, dtype=object)
                        .str.replace(" ", self.joiner, regex=False)
                        .to_numpy(dtype=object)
                    )
        elif kind == "company":
            values = fake.draw(rows.locales, "company", rows.seed, rng)
        elif kind == "street_address":
            values = _streets(rows, rng)
        elif kind == "phone":
            values = self._phones(rows, rng)
        elif kind == "ip_address":
            values = _ipv6(n, rng) if self.ipv6 else _ipv4(n, rng)
        elif kind == "url":
            values = self._urls(rows, rng)
        elif kind == "iban":
            values = self._ibans(rows, rng)
        else:
            values = self._by_rows_region(
                rows, rng, self.patterns or [("9" * 10, 1.0)], self.first_characters or _NOT_ZERO
            )
            if kind == "card_number":
                values = patterns.with_luhn(values)
        return in_case(values, self.case)

    def _phones(self, rows: Rows, rng) -> np.ndarray:
        """Each row's number as its country writes it in the source (national or with the
        calling code, in the layouts seen), else as the country writes its numbers."""
        n = len(rows)
        values = np.empty(n, dtype=object)
        regions = pd.Series(rows.regions, dtype=object)
        share = regions.map(self.international_by_region).fillna(self.international).to_numpy(dtype=np.float64)
        national = rng.random(n) >= share
        if self.dtype.lower().startswith(("int", "uint")):
            national[:] = True  # numbers stored as integers: digits only, in the source's lengths
        for region in pd.unique(regions[national]):
            index = np.flatnonzero(national & (regions == region).to_numpy())
            home = region == rows.default_region or not rows.placed
            shapes = self.by_region.get(region) or (self.patterns if home else _region_shapes(region, national=True))
            if shapes:
                first = self.first_characters if home and not self.by_region.get(region) else None
                values[index] = patterns.render_many(shapes, len(index), rng, first=first or _SUBSCRIBER)
            else:
                national[index] = False
        codes = regions.map({r: places.calling_code(r) for r in regions.dropna().unique()})
        codes = codes.fillna(0).to_numpy(dtype=np.int64)
        everywhere = _merged(self.by_calling_code) or self.patterns or [("999 999 9999", 1.0)]
        for code in np.unique(codes[~national]):
            index = np.flatnonzero(~national & (codes == code))
            region = places.region_of_calling_code(int(code)) if code else None
            shapes = self.by_calling_code.get(str(int(code))) or _region_shapes(region) or everywhere
            rest = patterns.render_many(shapes, len(index), rng, first=_SUBSCRIBER)
            prefix = f"+{int(code)}{self.separator}" if code else ""
            values[index] = prefix + rest
        return values

    def _by_rows_region(self, rows: Rows, rng, shapes, first: str) -> np.ndarray:
        """Values in the shapes of each row's country where the source has them, else in all
        the source's shapes."""
        values = np.empty(len(rows), dtype=object)
        regions = pd.Series(rows.regions, dtype=object)
        for region in pd.unique(regions):
            index = np.flatnonzero((regions == region).to_numpy())
            values[index] = patterns.render_many(self.by_region.get(region) or shapes, len(index), rng, first=first)
        return values

    def _ibans(self, rows: Rows, rng) -> np.ndarray:
        """IBANs of the row's country in its layout, where the source has that country
        often enough (else of a country it has), with valid check digits."""
        n = len(rows)
        known = list(self.by_country)
        countries = np.asarray(rows.regions, dtype=object).copy()
        missing = ~np.isin(countries, known)
        if known:
            countries[missing] = np.asarray(known, dtype=object)[rng.integers(0, len(known), int(missing.sum()))]
        values = np.empty(n, dtype=object)
        for country in pd.unique(countries):
            index = np.flatnonzero(countries == country)
            shapes = self.by_country.get(country) or self.patterns or [("AA99" + "9" * 18, 1.0)]
            made = pd.Series(patterns.render_many(shapes, len(index), rng), dtype=object)
            values[index] = (str(country)[:2] + made.str[2:]).to_numpy(dtype=object)
        return patterns.with_iban_check(values)

    def _urls(self, rows: Rows, rng) -> np.ndarray:
        n = len(rows)
        domains = fake.draw(rows.locales, "web_domain", rows.seed, rng)
        scheme = np.where(rng.random(n) < self.url["https"], "https://", "http://")
        www = np.where(rng.random(n) < self.url["www"], "www.", "")
        path = fake.draw(rows.locales, "url_path", rows.seed, rng)
        path = np.where(rng.random(n) < self.url["path"], "/" + path.astype(str), "")
        return (pd.Series(scheme, dtype=object) + www + domains + path).to_numpy(dtype=object)

    def _state(self):
        return (
            {
                "case": self.case,
                "max_length": self.max_length,
                "unique": self.unique,
                "patterns": self.patterns,
                "by_calling_code": self.by_calling_code,
                "international": self.international,
                "separator": self.separator,
                "first_characters": self.first_characters,
                "by_country": self.by_country,
                "by_region": self.by_region,
                "international_by_region": self.international_by_region,
                "comma": self.comma,
                "middle": self.middle,
                "initial": self.initial,
                "joiner": self.joiner,
                "placeholders": self.placeholders,
                "url": self.url,
                "ipv6": self.ipv6,
            },
            {"hashes": self.hashes},
        )

    def _load(self, meta, arrays):
        for key in (
            "case",
            "max_length",
            "unique",
            "international",
            "separator",
            "first_characters",
            "comma",
            "middle",
            "initial",
            "joiner",
            "url",
            "ipv6",
            "placeholders",
        ):
            setattr(self, key, meta[key])
        self.patterns = [tuple(p) for p in meta["patterns"]]
        self.by_calling_code = {k: [tuple(p) for p in v] for k, v in meta["by_calling_code"].items()}
        self.by_country = {k: [tuple(p) for p in v] for k, v in meta["by_country"].items()}
        self.by_region = {k: [tuple(p) for p in v] for k, v in meta["by_region"].items()}
        self.international_by_region = meta["international_by_region"]
        self.hashes = arrays["hashes"]


_NO_VALUE = re.compile(
    r"^(n/?a|none|null|nil|unknown|not[\s_-]*(applicable|available|known|given)|no\b.*|"
    r"-+|\?+|0+|x+|tbd|anonymous|withheld|redacted|private)$",
    re.IGNORECASE,
)


def _is_placeholder(kind: str, value: str) -> bool:
    """Whether a common value of a personal column stands for no one ('not_applicable',
    'No Vice President', '000-000-0000') rather than for a popular person or number."""
    from syngen.privacy.meaning import looks_like_person

    if _NO_VALUE.match(value.strip()):
        return True
    if kind == "full_name":
        return not looks_like_person(value)
    if kind in ("phone", "national_id", "card_number", "account_number", "iban"):
        return len(set(re.sub(r"\D", "", value))) <= 1  # '0000000000'
    return False


def _spaced(given: np.ndarray) -> np.ndarray:
    """' J.' for a middle initial 'J. ', '' for none (the 'Last, First M.' order)."""
    return np.where(given != "", " " + pd.Series(given, dtype=object).str.strip().to_numpy(dtype=object), "")


def _merged(by_code: dict[str, list[tuple[str, float]]]) -> list[tuple[str, float]]:
    shares: dict[str, float] = {}
    for weighted in by_code.values():
        for pattern, weight in weighted:
            shares[pattern] = shares.get(pattern, 0.0) + weight
    return sorted(shares.items(), key=lambda item: -item[1])


@lru_cache(maxsize=256)
def _street_order(locale: str) -> tuple[bool, str]:
    """Whether the locale writes the house number first, and what precedes a trailing one."""
    sample = pd.Series(fake.pool(locale, "street", 0, 200), dtype=object).astype(str)
    first = bool(sample.str.match(r"^\d").mean() >= 0.5)
    comma = ", " if sample.str.contains(r",\s*\d", regex=True).mean() >= 0.3 else " "
    return first, comma


def _streets(rows: Rows, rng) -> np.ndarray:
    """House number and street name, in the order the row's locale writes them: pools of
    street names times random numbers, so that values are distinct like real addresses."""
    n = len(rows)
    names = fake.draw(rows.locales, "street_name", rows.seed, rng).astype(str)
    numbers = (
        (
            rng.integers(1, 10, n) * 10 ** rng.integers(0, 4, n)
            + rng.integers(0, 1000, n) % (10 ** rng.integers(0, 4, n))
        )
        .astype(str)
        .astype(object)
    )
    order = [_street_order(locale) for locale in rows.locales]
    number_first = np.asarray([o[0] for o in order], dtype=bool)
    joiner = np.asarray([o[1] for o in order], dtype=object)
    return np.where(number_first, numbers + " " + names, names + joiner + numbers)


def _ipv4(n: int, rng) -> np.ndarray:
    first = rng.integers(1, 224, n)
    first = np.where(np.isin(first, (10, 127)), first + 1, first)
    rest = rng.integers(0, 256, (n, 3))
    parts = [pd.Series(first).astype(str)] + [pd.Series(rest[:, i]).astype(str) for i in range(3)]
    return (parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[3]).to_numpy(dtype=object)


def _ipv6(n: int, rng) -> np.ndarray:
    groups = rng.integers(0, 65536, (n, 8))
    text = pd.Series(["2001"] * n, dtype=object)
    for i in range(1, 8):
        text = text + ":" + pd.Series(groups[:, i]).map("{:x}".format)
    return text.to_numpy(dtype=object)


def _inner_span(codes: pd.Series) -> list[str] | None:
    """Where postal codes are digits of one width, the span that codes made anew keep, as
    numbers keep theirs (the source's region, not anywhere in the country): its ends rounded
    inward to tens, so that the model holds no extreme code, which few would share."""
    if codes.empty or not codes.str.fullmatch(r"\d+").all() or codes.str.len().nunique() != 1:
        return None
    low, high = -(-int(codes.min()) // 10) * 10, int(codes.max()) // 10 * 10
    width = len(codes.iloc[0])
    return [str(low).zfill(width), str(high).zfill(width)] if low <= high and len(str(high)) <= width else None


@register(*LOCATION)
class LocationCodec(CategoricalCodec):
    """A country, state, city or postal code: frequent values kept as categories, rare ones
    made anew in the row's locale (never one of the rare real values)."""

    replaces_rare_with_frequent = False
    redrawn = False  # places follow the row's country, not the other columns

    def __init__(self, name, kind):
        super().__init__(name, kind)
        self.case: str | None = None
        self.max_length = 0
        self.style = "name"  # countries: name, alpha_2, alpha_3; states: name or code
        self.shapes: list[tuple[str, float]] = []  # postal codes of the home country
        self.span: list[str] | None = None  # their lowest and highest, where all are digits of one width

    def _fit(self, values):
        super()._fit(values)
        text = values.astype(str).str.strip()
        self.case = case_of(text)
        self.max_length = int(text.str.len().max()) if len(text) else 0
        if self.kind == "country":
            self.style = places.country_style(text)
            rare = self.protection.holders(values)
            rare = rare[rare < self.protection.rare_threshold].index
            codes = [c for c in (places.country_code(v) for v in rare) if c]
            if self.protection.secret and (len(rare) or codes):
                self.rare_hashes = guard.keyed_hashes(list(map(str, rare)) + codes, self.protection.secret)
        elif self.kind == "state":
            self.style = "code" if text.str.fullmatch(r"[A-Z]{2,3}").mean() >= 0.8 else "name"
        elif self.kind == "postal_code":  # the home country's codes in the source's own layout
            regions = self.protection.regions_of(values)
            home = (
                text
                if regions is None or regions.isna().all()
                else text[(regions == regions.mode().iloc[0]).to_numpy()]
            )
            self.shapes = patterns.pattern_weights(home, keep=self.protection.rare_threshold)
            self.span = _inner_span(home)

    def fill_rare(self, values, rows, rng):
        marked = pending(values)
        values = values.copy()
        index = np.flatnonzero(marked)
        if len(index):
            made = self._make(rows.take(index, rng), rng)
            left = guard.remake(
                made,
                lambda again: self._make(rows.take(index[again], rng), rng),
                self.rare_hashes,
                rows.secret,
                too_long=lambda v: too_long(v, self.max_length),
                rounds=_ROUNDS,
            )
            made[left] = cut(made[left], self.max_length)
            values[marked] = made
        return self.restore_dtype(values.to_numpy(dtype=object), values.isna().to_numpy())

    def _make(self, rows: Rows, rng) -> np.ndarray:
        n = len(rows)
        if self.kind == "country":
            kept = {places.country_code(v) for v in self.categories + self.tail}
            countries = [
                c
                for c in places.replacement_countries()
                if c not in kept and len(places.country_text(c, self.style)) <= max(self.max_length, 3)
            ] or ["US"]
            choices = np.asarray(countries, dtype=object)
            # a second country column writes the row's country; the first draws another one
            codes = (
                np.asarray(rows.regions, dtype=object).copy()
                if rows.placed
                else choices[rng.integers(0, len(choices), n)]
            )
            guard.remake(
                codes,
                lambda index: choices[rng.integers(0, len(choices), len(index))],
                self.rare_hashes,
                rows.secret,
                rounds=_ROUNDS,
            )
            values = np.asarray([places.country_text(c, self.style) for c in codes], dtype=object)
        elif self.kind == "state":
            what = "state_abbr" if self.style == "code" else "state"
            values = fake.draw(rows.locales, what, rows.seed, rng, fallback=None, allowed=self._unseen(rows))
            if self.style == "code":
                text = pd.Series(values, dtype=object)
                values = text.where(text.isna(), text.astype(str).str[:3].str.upper()).to_numpy(dtype=object)
        elif self.kind == "city":
            values = fake.draw(rows.locales, "city", rows.seed, rng, allowed=self._unseen(rows))
        else:
            values = fake.draw(rows.locales, "postcode", rows.seed, rng, allowed=self._unseen(rows))
            home = (np.asarray(rows.regions, dtype=object) == rows.default_region) | (not rows.placed)
            if self.shapes and home.any():
                values[home] = patterns.render_many(self.shapes, int(home.sum()), rng, between=self.span)
            if self.dtype.lower().startswith(("int", "uint", "float")):
                digits = pd.Series(values, dtype=object).astype(str).str.replace(r"\D", "", regex=True)
                values = digits.str.lstrip("0").replace("", "1").to_numpy(dtype=object)
        return in_case(values, self.case)

    def _unseen(self, rows: Rows):
        """Pool filter: no rare real value (a gazetteer's cities are the source's cities too)."""
        return lambda pool: ~guard.contains(self.rare_hashes, in_case(pool, self.case), rows.secret)

    def _state(self):
        meta, arrays = super()._state()
        meta.update(
            {
                "case": self.case,
                "max_length": self.max_length,
                "style": self.style,
                "shapes": self.shapes,
                "span": self.span,
            }
        )
        return meta, arrays

    def _load(self, meta, arrays):
        super()._load(meta, arrays)
        self.case, self.max_length, self.style = meta["case"], meta["max_length"], meta["style"]
        self.shapes = [tuple(p) for p in meta["shapes"]]
        self.span = meta["span"]
