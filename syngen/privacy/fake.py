"""Realistic values from Faker, drawn fast: Faker makes a seeded pool of values per locale
once, and rows draw from the pools with NumPy, so a million names cost a few index draws
rather than a million Faker calls, and every batch of a run sees the same pools.

Faker rather than mimesis: it has person, address, company and phone providers for about
ninety locales (mimesis for about forty), so a row's country can choose them."""

from __future__ import annotations

import re
import zlib
from functools import lru_cache, partial

import numpy as np
import pandas as pd

_HYPHENS = re.compile(r"\s*-[\s-]*")
POOL = 1000  # values per (locale, what); pairs of pools give a million distinct names
# what -> Faker methods tried in order (locales name their regions differently)
_METHODS = {
    "first": ("first_name",),
    "first_male": ("first_name_male",),
    "first_female": ("first_name_female",),
    "last": ("last_name",),
    "city": ("city",),
    "state": ("administrative_unit", "state", "province", "region", "estado_nome"),
    "state_abbr": ("state_abbr", "province_abbr", "estado_sigla"),
    "street": ("street_address",),
    "street_name": ("street_name",),
    "company": ("company",),
    "postcode": ("postcode",),
    "domain": ("free_email_domain",),
    "web_domain": ("domain_name",),
    "url_path": ("uri_path",),
    "word": ("word",),
}
# Latin-script locales whose name lists make the first-name dictionary used for detection
_DICTIONARY_LOCALES = (
    "en_US",
    "en_GB",
    "en_CA",
    "en_AU",
    "en_IE",
    "en_IN",
    "de_DE",
    "de_AT",
    "fr_FR",
    "fr_CA",
    "es_ES",
    "es_MX",
    "es_AR",
    "es_CL",
    "pt_BR",
    "pt_PT",
    "it_IT",
    "nl_NL",
    "sv_SE",
    "no_NO",
    "da_DK",
    "fi_FI",
    "pl_PL",
    "cs_CZ",
    "hu_HU",
    "ro_RO",
    "tr_TR",
    "id_ID",
)


@lru_cache(maxsize=128)
def _faker(locale: str):
    import warnings

    from faker import Faker

    with warnings.catch_warnings():  # deprecated locales (fr_QC) say so on every use
        warnings.simplefilter("ignore")
        return Faker(locale)


def _own(faker, method: str) -> bool:
    """Whether the locale has ``method``; states and provinces only count when the locale
    defines them itself (Faker lends American states to locales without any)."""
    if not hasattr(faker, method):
        return False
    if method in ("state", "state_abbr") and faker.locales[0] != "en_US":
        from syngen.privacy.places import _native

        return _native(faker.locales[0], "address") and method in vars(type(getattr(faker, method).__self__))
    return True


@lru_cache(maxsize=512)
def pool(locale: str, what: str, seed: int, size: int = POOL) -> np.ndarray:
    """``size`` seeded Faker values of ``what`` in ``locale`` (deterministic per arguments)."""
    faker = _faker(locale)
    method = next((getattr(faker, m) for m in _METHODS[what] if _own(faker, m)), None)
    if method is None:
        return np.zeros(0, dtype=object)
    faker.seed_instance(zlib.crc32(f"{seed}:{locale}:{what}".encode()))
    if method.__name__ == "state_abbr":
        method = _states_only(method)
    values = [str(method()).replace("\n", ", ") for _ in range(size)]
    if what == "city":  # some locales' made-up names come out as 'Mont- François', 'Dominique -sur-Mer'
        values = [_HYPHENS.sub("-", v) for v in values]
    return np.asarray(values, dtype=object)


def _states_only(method):
    """States, not territories (GU, MP) or freely associated states (FM), where the locale's
    method can tell them apart."""
    states = partial(method, include_territories=False, include_freely_associated_states=False)
    try:
        states()
    except TypeError:  # a locale whose abbreviations are all states
        return method
    return states


def draw(
    locales: np.ndarray, what: str, seed: int, rng: np.random.Generator, fallback: str | None = "en_US", allowed=None
) -> np.ndarray:
    """One value of ``what`` per row, from the pool of the row's locale; where the locale has
    none, from ``fallback``'s (or None: a country without states has no state). ``allowed``
    (pool -> mask) leaves values out of the pool, unless it would leave none."""
    values = np.empty(len(locales), dtype=object)
    codes, distinct = _factorize(locales)
    for index, locale in enumerate(distinct):
        rows = np.flatnonzero(codes == index)
        source = pool(locale, what, seed)
        if not len(source) and fallback is not None:
            source = pool(fallback, what, seed)
        if len(source) and allowed is not None:
            keep = allowed(source)
            source = source[keep] if keep.any() else source
        if len(source):
            values[rows] = source[rng.integers(0, len(source), size=len(rows))]
    return values


def _factorize(locales: np.ndarray) -> tuple[np.ndarray, list[str]]:
    codes, distinct = pd.factorize(pd.Series(locales, dtype=object), sort=True)
    return codes, list(distinct)


def provider_values(kind: str, locale: str, attributes: tuple[str, ...]) -> list[str]:
    import importlib

    try:
        module = importlib.import_module(f"faker.providers.{kind}.{locale}")
    except ImportError:
        return []
    found: list[str] = []
    for attribute in attributes:
        values = getattr(module.Provider, attribute, None)
        if not isinstance(values, (tuple, list, dict)):
            continue
        for value in values:
            if isinstance(value, tuple):  # (code, name) pairs
                found.extend(str(v) for v in value)
            else:
                found.append(str(value))
    return found


@lru_cache(maxsize=2)
def name_lists(which: str) -> tuple[str, ...]:
    """Faker's first or last names across Latin-script locales."""
    attributes = ("first_names", "first_names_male", "first_names_female") if which == "first" else ("last_names",)
    names = {n for locale in _DICTIONARY_LOCALES for n in provider_values("person", locale, attributes) if n}
    return tuple(sorted(names))


@lru_cache(maxsize=1)
def state_names() -> frozenset[str]:
    """Lower-case names and codes of states, provinces and regions that Faker knows."""
    attributes = ("states", "provinces", "regions", "administrative_units", "estados", "states_abbr", "provinces_abbr")
    return frozenset(
        v.lower() for locale in _DICTIONARY_LOCALES for v in provider_values("address", locale, attributes)
    )
