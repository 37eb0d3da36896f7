"""What a column holds, from its name and its values: person names, addresses, phones, ids.

A meaning is a column kind. Identifying meanings are generated from scratch (never learned,
never stored); location meanings are learned like categories, with every value seen fewer
than k times replaced by a generated value of the same meaning. Names alone decide nothing:
each name hint is confirmed by the values (a 'state' column of 'active'/'closed' is no
state), and a few shapes are recognised from values alone (card numbers pass Luhn, IBANs
mod 97, SSNs, IP addresses, URLs, international phone numbers, person names).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import pandas as pd

IDENTIFYING = (
    "first_name",
    "last_name",
    "full_name",
    "street_address",
    "phone",
    "company",
    "national_id",
    "card_number",
    "account_number",
    "iban",
    "ip_address",
    "url",
)
LOCATION = ("country", "state", "city", "postal_code")
MEANINGS = IDENTIFYING + LOCATION
# meanings whose values are made from a character pattern (digits and letters), not words
PATTERNED = ("phone", "national_id", "card_number", "account_number", "iban", "ip_address")

_SAMPLE = 500
_NAME_HINTS = {  # joined lower-case name fragments -> meaning
    "firstname": "first_name",
    "fname": "first_name",
    "givenname": "first_name",
    "forename": "first_name",
    "christianname": "first_name",
    "lastname": "last_name",
    "surname": "last_name",
    "familyname": "last_name",
    "lname": "last_name",
    "fullname": "full_name",
    "customername": "full_name",
    "contactname": "full_name",
    "personname": "full_name",
    "employeename": "full_name",
    "username": "full_name",
    "clientname": "full_name",
    "patientname": "full_name",
    "ownername": "full_name",
    "cardholder": "full_name",
    "holdername": "full_name",
    "membername": "full_name",
    "phone": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "cell": "phone",
    "fax": "phone",
    "msisdn": "phone",
    "cellphone": "phone",
    "company": "company",
    "companyname": "company",
    "employer": "company",
    "organization": "company",
    "organisation": "company",
    "firm": "company",
    "address": "street_address",
    "street": "street_address",
    "addr": "street_address",
    "streetaddress": "street_address",
    "addressline": "street_address",
    "zip": "postal_code",
    "zipcode": "postal_code",
    "postal": "postal_code",
    "postalcode": "postal_code",
    "postcode": "postal_code",
    "plz": "postal_code",
    "pincode": "postal_code",
    "city": "city",
    "town": "city",
    "hometown": "city",
    "birthplace": "city",
    "municipality": "city",
    "locality": "city",
    "state": "state",
    "province": "state",
    "stateprovince": "state",
    "county": "state",
    "country": "country",
    "nation": "country",
    "countrycode": "country",
    "countryname": "country",
    "ssn": "national_id",
    "socialsecurity": "national_id",
    "nationalid": "national_id",
    "taxid": "national_id",
    "nin": "national_id",
    "passport": "national_id",
    "cpf": "national_id",
    "creditcard": "card_number",
    "cardnumber": "card_number",
    "ccnumber": "card_number",
    "pan": "card_number",
    "card": "card_number",
    "accountnumber": "account_number",
    "accountno": "account_number",
    "acctnumber": "account_number",
    "acctno": "account_number",
    "bankaccount": "account_number",
    "iban": "iban",
    "ip": "ip_address",
    "ipaddress": "ip_address",
    "url": "url",
    "website": "url",
    "homepage": "url",
    # the same in German, French, Spanish, Portuguese, Italian and Dutch headers
    "vorname": "first_name",
    "prenom": "first_name",
    "prénom": "first_name",
    "nombre": "first_name",
    "primernombre": "first_name",
    "voornaam": "first_name",
    "nachname": "last_name",
    "familienname": "last_name",
    "nom": "last_name",
    "apellido": "last_name",
    "apellidos": "last_name",
    "sobrenome": "last_name",
    "cognome": "last_name",
    "achternaam": "last_name",
    "nomcomplet": "full_name",
    "nombrecompleto": "full_name",
    "nomecompleto": "full_name",
    "telefon": "phone",
    "telefono": "phone",
    "teléfono": "phone",
    "téléphone": "phone",
    "handy": "phone",
    "celular": "phone",
    "movil": "phone",
    "móvil": "phone",
    "cellulare": "phone",
    "telefoon": "phone",
    "portable": "phone",
    "firma": "company",
    "unternehmen": "company",
    "empresa": "company",
    "entreprise": "company",
    "societe": "company",
    "société": "company",
    "azienda": "company",
    "bedrijf": "company",
    "strasse": "street_address",
    "straße": "street_address",
    "adresse": "street_address",
    "anschrift": "street_address",
    "calle": "street_address",
    "direccion": "street_address",
    "dirección": "street_address",
    "rue": "street_address",
    "endereco": "street_address",
    "endereço": "street_address",
    "indirizzo": "street_address",
    "straat": "street_address",
    "postleitzahl": "postal_code",
    "codigopostal": "postal_code",
    "códigopostal": "postal_code",
    "codepostal": "postal_code",
    "cep": "postal_code",
    "ort": "city",
    "stadt": "city",
    "wohnort": "city",
    "ciudad": "city",
    "ville": "city",
    "cidade": "city",
    "città": "city",
    "citta": "city",
    "localidad": "city",
    "plaats": "city",
    "woonplaats": "city",
    "bundesland": "state",
    "provincia": "state",
    "estado": "state",
    "région": "state",
    "regione": "state",
    "land": "country",
    "staat": "country",
    "pais": "country",
    "país": "country",
    "pays": "country",
    "paese": "country",
    "ausweisnummer": "national_id",
    "ausweis": "national_id",
    "personalausweis": "national_id",
    "dni": "national_id",
    "nif": "national_id",
    "nie": "national_id",
    "cnpj": "national_id",
    "codicefiscale": "national_id",
    "steuernummer": "national_id",
    "bsn": "national_id",
    "kontonummer": "account_number",
    "numerodecuenta": "account_number",
}
_IPV4 = re.compile(r"^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$")
_IPV6 = re.compile(r"^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}$")
_URL = re.compile(r"^(https?://|www\.)[^\s]+$", re.IGNORECASE)
_SSN = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")
_INTERNATIONAL_PHONE = re.compile(r"^\+\d[\d\s().\-/]{6,20}$")
_NATIONAL_PHONE = re.compile(r"^\(?\d{2,4}\)?[\s.\-/]\d{2,4}[\s.\-]\d{2,5}$")
_STREET_WORDS = re.compile(
    r"\b(?:st|street|ave|avenue|rd|road|blvd|boulevard|lane|ln|dr|drive|way|court|ct|place|pl|"
    r"square|sq|terrace|highway|hwy|rua|av|calle|strasse|straße|str|rue|via|weg|gasse|ul)\b\.?",
    re.IGNORECASE,
)


def name_tokens(name: str) -> list[str]:
    """'BillingPostalCode' -> ['billing', 'postal', 'code']; 'animal_s_name' -> [...]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(name))
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", spaced)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def name_hint(name: str) -> str | None:
    """The meaning a column's name suggests: the longest run of its tokens that is a hint."""
    tokens = name_tokens(name)
    best, best_length = None, 0
    for i in range(len(tokens)):
        for j in range(i + 1, len(tokens) + 1):
            joined = "".join(tokens[i:j])
            if joined in _NAME_HINTS and j - i >= best_length:
                best, best_length = _NAME_HINTS[joined], j - i
    if (
        best is None
        and tokens
        and tokens[-1] == "name"
        and len(tokens) > 1
        and tokens[-2] in ("first", "last", "given", "family", "middle")
    ):
        best = "first_name" if tokens[-2] in ("first", "given") else "last_name"
    return best


def luhn_valid(digits: np.ndarray) -> np.ndarray:
    """Whether each row of a digit matrix (rightmost digit = check digit) passes Luhn."""
    doubled = digits[:, ::-1].astype(np.int64)
    doubled[:, 1::2] *= 2
    doubled[doubled > 9] -= 9
    return doubled.sum(axis=1) % 10 == 0


def _luhn_share(text: pd.Series) -> float:
    digits = text.str.replace(r"[\s\-]", "", regex=True)
    ok = digits.str.fullmatch(r"\d{13,19}")
    if ok.mean() < 0.9:
        return 0.0
    passed = [bool(luhn_valid(np.frombuffer(d.encode(), np.uint8)[None, :] - 48)[0]) for d in digits[ok]]
    return float(np.mean(passed)) * float(ok.mean())


def _iban_share(text: pd.Series) -> float:
    compact = text.str.replace(" ", "", regex=False).str.upper()
    ok = compact.str.match(_IBAN)
    if ok.mean() < 0.9:
        return 0.0
    valid = [int("".join(str(int(c, 36)) for c in v[4:] + v[:4])) % 97 == 1 for v in compact[ok]]
    return float(np.mean(valid)) * float(ok.mean())


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Lower-case first names of Faker's Latin-script locales: the dictionary that tells a
    column of person names from one of products or places."""
    from syngen.privacy.fake import name_lists

    return frozenset(n.lower() for n in name_lists("first"))


@lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    from syngen.privacy.fake import name_lists

    return frozenset(n.lower() for n in name_lists("last"))


_TITLES = frozenset(
    {
        "mr",
        "mrs",
        "miss",
        "ms",
        "master",
        "dr",
        "rev",
        "sir",
        "lady",
        "mme",
        "mlle",
        "don",
        "dona",
        "prof",
        "col",
        "capt",
        "major",
        "jr",
        "sr",
        "ii",
        "iii",
    }
)
_WORD = re.compile(r"^[^\W\d_][^\W\d_'\-]*$")


def _split_name(value: str) -> tuple[str, str, int]:
    """(given name, family name, words) of 'Mary Smith', 'Smith, Mary', 'Allen, Miss Elisabeth
    Walton' or 'mary_smith', titles left out."""
    family_part = None
    if "," in value:
        family_part, value = value.split(",", 1)
    given = [w for w in re.split(r"[\s_]+", value.strip()) if w and w.lower().strip(".") not in _TITLES]
    if family_part is None:
        return (given[0], given[-1], len(given)) if len(given) >= 2 else ("".join(given), "", len(given))
    family = family_part.split()
    return (given[0] if given else ""), (family[-1] if family else ""), len(given) + len(family)


def looks_like_person(value: str) -> bool:
    """Whether one value reads as a person's full name. A capital before a word in lower case
    ('E. maculata', 'Acacia mabellae') names a species, not a person."""
    given, family, words = _split_name(value)
    initial = len(given.strip(".")) == 1 and given[:1].isupper()
    if given[:1].isupper() and family.islower():
        return False
    return bool(
        2 <= words <= 5
        and (given.lower() in first_names() or initial)
        and (family.lower() in last_names() or _WORD.match(family))
    )


def _person_name_share(text: pd.Series) -> tuple[float, float, float]:
    """Shares of values that look like a first name, a last name, and a full name (given name
    in the first-name dictionary, family name a known surname or a plain word)."""
    firsts, lasts = first_names(), last_names()
    lower = text.str.lower()
    full = sum(looks_like_person(value) for value in text)  # 'D Jeter', 'Allard, K' too
    return float(lower.isin(firsts).mean()), float(lower.isin(lasts).mean()), full / max(len(text), 1)


def detect_meaning(name: str, column: pd.Series, kind: str) -> str | None:
    """The meaning of a column whose detected kind is ``kind``, or None."""
    if kind in ("datetime", "date", "time", "duration", "uuid", "email", "constant", "empty", "boolean", "binary"):
        return None
    values = column.dropna()
    if values.nunique() < 2:
        return None
    numeric = pd.api.types.is_numeric_dtype(values)
    if numeric and not pd.api.types.is_integer_dtype(values):
        return None
    if len(values) > _SAMPLE:
        values = values.sample(_SAMPLE, random_state=0)
    text = values.astype(str).str.strip()
    hint = name_hint(name)
    digits = text.str.count(r"\d")
    if _luhn_share(text) >= 0.9 and (hint == "card_number" or text.str.len().median() >= 15):
        return "card_number"
    if _iban_share(text) >= 0.9:
        return "iban"
    if numeric:  # identifying numbers need their name to say so
        if hint in ("phone", "card_number", "account_number", "national_id", "postal_code") and (
            digits.median() >= (4 if hint == "postal_code" else 6)
        ):
            return hint
        return None
    if text.str.match(_SSN).mean() >= 0.9:
        return "national_id"
    if text.str.match(_IPV4).mean() >= 0.9 or (text.str.match(_IPV6).mean() >= 0.9 and hint == "ip_address"):
        return "ip_address"
    if text.str.match(_URL).mean() >= 0.9:
        return "url"
    if hint == "phone" and (digits >= 6).mean() >= 0.8:
        return "phone"
    if text.str.match(_INTERNATIONAL_PHONE).mean() >= 0.9 and (digits >= 8).mean() >= 0.9:
        return "phone"
    if hint is None and text.str.match(_NATIONAL_PHONE).mean() >= 0.9 and values.nunique() >= 0.5 * len(values):
        return "phone"
    letters = text.str.count(r"[^\W\d_]")
    wordy = (letters >= 2).mean() >= 0.9
    if hint in IDENTIFYING and values.value_counts(normalize=True).iloc[0] >= 0.5:
        hint = None  # one value in half the rows ('not_applicable'): a placeholder, not a person's
    if hint in ("national_id", "account_number") and (digits >= 4).mean() >= 0.8:
        return hint
    if hint in ("first_name", "last_name", "full_name") and wordy:
        first, last, full = _person_name_share(text)
        if hint == "full_name" and full < 0.3 and max(first, last) >= 0.5:
            return "first_name" if first >= last else "last_name"
        return hint
    if hint == "card_number" and (digits >= 12).mean() >= 0.9:
        return "card_number"
    spaced = text.str.contains(" ", regex=False).mean() >= 0.8
    if (
        hint == "street_address"
        and wordy
        and spaced
        and ((digits > 0).mean() >= 0.5 or text.str.contains(_STREET_WORDS).mean() >= 0.3)
    ):
        return "street_address"
    if hint == "postal_code" and (digits > 0).mean() >= 0.8 and text.str.len().max() <= 12:
        return "postal_code"
    if hint == "company" and wordy and _mostly_rare(column):
        return "company"
    if hint == "city" and wordy and (digits == 0).mean() >= 0.9:
        return "city"
    if hint == "country" and _country_share(text) >= 0.7:
        return "country"
    if hint == "state" and wordy and (digits == 0).mean() >= 0.9 and _looks_like_states(text):
        return "state"
    if wordy and (digits == 0).mean() >= 0.9:
        if hint is None and text.str.len().median() > 3 and _country_share(text) >= 0.9:
            return "country"
        first, last, full = _person_name_share(text)
        if full >= 0.6 or (full >= 0.4 and _mostly_rare(column)):  # 'No VP' beside 47 vice presidents
            return "full_name"
        named = "name" in str(name).lower()
        if (
            named
            and values.nunique() >= 10
            and (
                max(first, last) >= 0.6
                or (
                    max(first, last) >= 0.3
                    and _mostly_rare(column)
                    and text.str.fullmatch(r"[^\W\d_][^\W\d_'\-]+").mean() >= 0.9
                )
            )
        ):
            return "first_name" if first >= last else "last_name"
    if (
        hint is None
        and wordy
        and text.str.contains(_STREET_WORDS).mean() >= 0.6
        and (text.str.match(r"^\d+\w?\s") | text.str.contains(r",?\s\d+\w?$")).mean() >= 0.6
    ):
        return "street_address"
    return None


def _mostly_rare(column: pd.Series, threshold: int = 5) -> bool:
    """Whether most rows hold a value few other rows share: an employer column identifies,
    a taxi fleet's half-dozen companies are categories."""
    counts = column.dropna().value_counts()
    return bool(counts[counts < threshold].sum() >= 0.5 * counts.sum())


def _country_share(text: pd.Series) -> float:
    from syngen.privacy.places import country_code

    distinct = pd.Series(text.unique())
    known = distinct.map(lambda v: country_code(v) is not None)
    weights = text.value_counts()
    return float(weights[distinct[known.to_numpy()]].sum() / weights.sum())


def _looks_like_states(text: pd.Series) -> bool:
    """Codes of two or three capitals (CA, SP, NSW), or the names of real regions."""
    from syngen.privacy.fake import state_names

    if text.str.fullmatch(r"[A-Z]{2,3}").mean() >= 0.8:
        return True
    return float(text.str.lower().isin(state_names()).mean()) >= 0.5


NAME_PART_SHARE = 0.9  # of rows where a column holds a word of the full name beside it


def detect_meanings(frame: pd.DataFrame, kinds: dict[str, str], fixed: set[str]) -> dict[str, str]:
    """Meanings found in ``frame`` for columns whose kind was not given (``fixed``); then the
    columns that hold the first or the last word of a full name in their row (a baker's
    'Annetha' beside 'Annetha Mills'), whatever they are called."""
    found = {}
    for column in frame.columns:
        if column in fixed:
            continue
        meaning = detect_meaning(str(column), frame[column], kinds[column])
        if meaning:
            found[column] = meaning
    for full in [c for c in frame.columns if {**kinds, **found}[c] == "full_name"]:
        words = frame[full].astype("string").str.split()
        parts = {"first_name": words.str[0], "last_name": words.str[-1]}
        for column in frame.columns:
            if column in fixed or column in found or kinds[column] not in ("categorical", "id", "text"):
                continue
            text = frame[column].astype("string")
            both = text.notna() & words.notna()
            if both.sum() < 10:
                continue
            for meaning, part in parts.items():
                if (text[both] == part[both]).mean() >= NAME_PART_SHARE:
                    found[column] = meaning
                    break
    return found
