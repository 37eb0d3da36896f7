"""Keys of a table as the engine and the writers see them: which columns are generated as
keys (never learned), and each row's key as one comparable value."""
from __future__ import annotations

import pandas as pd

from syngen.engine.columns import detect_kinds

KEY_KINDS = ("sequence", "uuid", "id")
# identifying kinds a token column keeps: cards stay Luhn-valid cards, IBANs valid IBANs
TOKEN_KINDS = ("uuid", "email", "phone", "national_id", "card_number", "account_number", "iban")
_SEPARATOR = "\x1f"


def key_tuples(frame: pd.DataFrame, columns) -> pd.Series:
    """Each row's key as one comparable string (composite keys included)."""
    parts = [frame[c].astype(str) for c in columns]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + _SEPARATOR + part
    return joined


def key_kinds(keys, frame: pd.DataFrame, fk_columns) -> dict[str, str]:
    """Generated kinds for PK/UQ/TKN columns that are not FKs."""
    kinds = {}
    for key in keys:
        if key.type == "FK":
            continue
        own = [c for c in key.columns if c not in fk_columns]
        # in a composite key, one generated unique column makes the tuple unique
        for column in (own if key.type == "TKN" else own[-1:]):
            detected = detect_kinds(frame[[column]])[column]
            if key.type == "TKN":  # never real, never from a real value: no sequence from the real start
                kinds[column] = detected if detected in TOKEN_KINDS else "id"
            elif detected == "id" and pd.api.types.is_integer_dtype(frame[column]):
                kinds[column] = "sequence"  # an integer key keeps counting, as databases number rows
            elif detected in KEY_KINDS + TOKEN_KINDS:
                kinds[column] = detected
            else:
                kinds[column] = "sequence" if pd.api.types.is_integer_dtype(frame[column]) else "id"
    return kinds


def mark_keys(model, keys, fk_columns) -> None:
    """Make the model generate PK/UQ columns unique (PK ones never null)."""
    key_columns = {c: k.type for k in keys if k.type in ("PK", "UQ") for c in k.columns if c not in fk_columns}
    for codec in model.codecs:
        if codec.name in key_columns:
            codec.as_key(nullable=key_columns[codec.name] == "UQ")
