"""Countries as the rest of a row needs them: the ISO code behind a written country, the Faker
locale whose names, streets and cities fit it, its telephone calling code, and the way the
source writes countries (names, or ISO codes of two or three letters)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

DEFAULT_LOCALE = "en_US"
# common ways of writing a country that ISO 3166's names and codes do not cover
_ALIASES = {
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "great britain": "GB",
    "northern ireland": "GB",
    "britain": "GB",
    "u.k.": "GB",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "us": "US",
    "america": "US",
    "united states of america": "US",
    "holland": "NL",
    "russia": "RU",
    "south korea": "KR",
    "korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "vietnam": "VN",
    "iran": "IR",
    "uae": "AE",
    "ivory coast": "CI",
    "macedonia": "MK",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "syria": "SY",
    "taiwan": "TW",
    "laos": "LA",
    "moldova": "MD",
    "turkey": "TR",
    "swaziland": "SZ",
    "burma": "MM",
    "cape verde": "CV",
    "vatican": "VA",
    "palestine": "PS",
    "brunei": "BN",
}
STYLES = ("name", "alpha_2", "alpha_3")
# Faker locales whose suffix is not a country they stand for: es_CA is Catalan Spanish, and
# fr_QC a deprecated copy of fr_CA
_NOT_A_COUNTRY = frozenset({"es_CA", "fr_QC"})


@lru_cache(maxsize=8192)
def country_code(value) -> str | None:
    """ISO 3166 alpha-2 code of a written country ('Brazil', 'BRA', 'BR', 'UK'), or None."""
    import pycountry

    text = str(value).strip()
    if not 2 <= len(text) <= 60:
        return None
    alias = _ALIASES.get(text.lower())
    if alias:
        return alias
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return _translated_names().get(text.lower())


_LANGUAGES = ("de", "fr", "es", "pt", "it", "nl", "sv", "da", "nb", "pl", "cs", "fi", "hu", "ro", "tr")


@lru_cache(maxsize=1)
def _translated_names() -> dict[str, str]:
    """Country names in other languages ('Deutschland', 'España') -> ISO code, from the
    translations pycountry ships."""
    import gettext

    import pycountry

    names: dict[str, str] = {}
    for language in _LANGUAGES:
        try:
            translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
        except OSError:
            continue
        for country in pycountry.countries:
            for english in {country.name, getattr(country, "common_name", country.name)}:
                names.setdefault(translation.gettext(english).lower(), country.alpha_2)
    return names


def country_style(values: pd.Series) -> str:
    """How the source writes countries: full names, or alpha-2 or alpha-3 codes."""
    text = values.dropna().astype(str).str.strip().str.upper()  # 'prt' is written like 'PRT'
    two = text.str.fullmatch(r"[A-Z]{2}").mean()
    three = text.str.fullmatch(r"[A-Z]{3}").mean()
    if max(two, three) < 0.5:
        return "name"
    return "alpha_2" if two >= three else "alpha_3"


@lru_cache(maxsize=1024)
def country_text(alpha_2: str, style: str) -> str:
    """A country written in ``style``."""
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha_2)
    if country is None:
        return alpha_2
    if style == "alpha_3":
        return country.alpha_3
    if style == "alpha_2":
        return alpha_2
    return getattr(country, "common_name", None) or country.name


@lru_cache(maxsize=1)
def _latin_locales() -> dict[str, str]:
    """alpha-2 code -> the Faker locale used for it: Latin-script locales first (a source
    written in Latin letters should not get names in other scripts), then by name."""
    from faker.config import AVAILABLE_LOCALES

    chosen: dict[str, str] = {}
    for locale in sorted(AVAILABLE_LOCALES, key=lambda code: (not _native(code, "person"), not _is_latin(code), code)):
        if "_" in locale and locale not in _NOT_A_COUNTRY:
            region = locale.split("_")[1]
            if len(region) == 2 and region.isalpha() and region.isupper():
                chosen.setdefault(region, locale)
    return chosen


@lru_cache(maxsize=512)
def _native(locale: str, provider: str) -> bool:
    """Whether Faker has ``provider`` (person, address) written for this locale, rather than
    falling back to American English."""
    from importlib.util import find_spec

    return find_spec(f"faker.providers.{provider}.{locale}") is not None


@lru_cache(maxsize=256)
def _is_latin(locale: str) -> bool:
    """Whether the locale's surnames are written in Latin letters (read from Faker's data,
    without building a Faker for every locale)."""
    from syngen.privacy.fake import provider_values

    names = provider_values("person", locale, ("last_names",))[:50]
    return all(ord(ch) < 0x250 for name in names for ch in name)


def locale_for(alpha_2: str | None, default: str = DEFAULT_LOCALE) -> str:
    """The Faker locale for a country (``default`` when Faker has none for it)."""
    if alpha_2 is None:
        return default
    return _latin_locales().get(alpha_2, default)


@lru_cache(maxsize=512)
def calling_code(alpha_2: str | None) -> int:
    """International calling code of a country (0 when unknown)."""
    import phonenumbers

    return int(phonenumbers.country_code_for_region(alpha_2)) if alpha_2 else 0


@lru_cache(maxsize=512)
def region_of_calling_code(code: int) -> str | None:
    import phonenumbers

    region = phonenumbers.region_code_for_country_code(int(code))
    return None if region in (None, "ZZ", "001") else region


@lru_cache(maxsize=1)
def replacement_countries() -> tuple[str, ...]:
    """Countries a rare country may be replaced with: those with a Latin-script Faker locale
    of their own, so that names, streets and phone numbers can follow them."""
    return tuple(
        sorted(
            code
            for code, locale in _latin_locales().items()
            if _is_latin(locale) and _native(locale, "person") and _native(locale, "address") and calling_code(code)
        )
    )


def locales_of(regions: np.ndarray, default: str = DEFAULT_LOCALE, latin: bool = False) -> np.ndarray:
    """The Faker locale of each row's country; with ``latin``, only locales that write in
    Latin letters (a source that writes Japanese names in Latin letters keeps doing so)."""
    series = pd.Series(regions, dtype=object)
    mapping = {r: locale_for(r, default) for r in series.dropna().unique()}
    if latin:
        mapping = {r: locale if _is_latin(locale) else default for r, locale in mapping.items()}
    return series.map(mapping).fillna(default).to_numpy(dtype=object)


def codes_of(values: np.ndarray) -> np.ndarray:
    """alpha-2 code per value (None where the value is no country), vectorised over distinct
    values."""
    series = pd.Series(values, dtype=object)
    distinct = series.dropna().unique()
    mapping = {v: country_code(v) for v in distinct}
    return series.map(mapping).to_numpy(dtype=object)
