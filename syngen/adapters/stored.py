"""What a database column holds against what it declares.

SQLite keeps any value in any column: a SMALLINT column of 't'/'f', text in an INTEGER
column, text longer than its VARCHAR(n). A target database would refuse such values at write
time, after all the work, so a column is created as what it holds: boolean-like text becomes
booleans, anything else gets the type of its stored values, and each change is said once.
Only boolean-like words are ever quoted: other values may be personal.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import sqlalchemy as sa

from syngen.adapters.sql import ColumnSpec, TableSchema
from syngen.values.dates import detect_text_format

_TRUE = frozenset({"t", "true", "y", "yes", "1"})
_FALSE = frozenset({"f", "false", "n", "no", "0"})
_INTEGERS = ("SmallInteger", "Integer", "BigInteger")
NUMBERS = _INTEGERS + ("Float", "Double", "Numeric")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")


def boolean_like(values: pd.Series) -> pd.Series | None:
    """The values as nullable booleans when every one is a boolean word (t/f, yes/no, 1/0)."""
    present = values.dropna()
    if present.empty or pd.api.types.is_bool_dtype(present):
        return None
    words = present.astype(str).str.strip().str.lower()
    if not words.isin(_TRUE | _FALSE).all() or words.str.isdigit().all():
        return None
    return words.isin(_TRUE).reindex(values.index).astype("boolean").where(values.notna())


def stored_type(values: pd.Series, kind: str | None = None) -> dict:
    """The portable type of values as read (for columns no database declares)."""
    if pd.api.types.is_bool_dtype(values):
        return {"type": "Boolean"}
    if pd.api.types.is_integer_dtype(values):
        return {"type": "BigInteger"}
    if pd.api.types.is_float_dtype(values):
        return {"type": "Double"}
    if pd.api.types.is_datetime64_any_dtype(values):
        return {"type": "DateTime"}
    if kind == "binary":
        return {"type": "LargeBinary"}
    temporal: dict[str | None, str] = {"date": "Date", "datetime": "DateTime", "time": "Time"}
    return {"type": temporal.get(kind, "Text")}


def _mismatch(values: pd.Series, spec: dict) -> str | None:
    """What the stored values hold that the declared type cannot, or None when they fit."""
    present = values.dropna()
    if present.empty:
        return None
    kind = spec["type"]
    textual = pd.api.types.is_object_dtype(present) or pd.api.types.is_string_dtype(present)
    if kind in NUMBERS or kind == "Boolean":
        if textual:
            words = int(pd.to_numeric(present, errors="coerce").isna().sum())
            return f"text in {words:,} of {len(values):,} rows" if words else "numbers as text"
        if kind in _INTEGERS and pd.api.types.is_float_dtype(present):
            return "numbers with decimals"
        if kind == "Boolean" and not (pd.api.types.is_bool_dtype(present) or present.isin([0, 1]).all()):
            return "numbers other than 0 and 1"
        if (
            kind == "Numeric"
            and spec.get("precision")
            and float(np.abs(present.astype(float)).max()) >= 10.0 ** (spec["precision"] - spec.get("scale", 0))
        ):
            return f"numbers beyond its {spec['precision']} digits"
    elif kind in ("Date", "DateTime", "Time") and textual:
        text = present.astype(str)
        if pd.to_datetime(text, errors="coerce", format="ISO8601").isna().any() and detect_text_format(text) is None:
            return f"text that is not a {kind.lower()}"
    elif kind == "Uuid" and textual and not present.astype(str).str.match(_UUID).all():
        return "text that is not a UUID"
    elif kind == "String" and spec.get("length") and textual:
        longest = int(present.astype(str).str.len().max())
        if longest > spec["length"]:
            return f"text of up to {longest} characters"
    return None


def fit_stored(
    frame: pd.DataFrame, columns: list[ColumnSpec], table: str, dialect: sa.Dialect
) -> tuple[pd.DataFrame, list[ColumnSpec], list[str]]:
    """The frame (boolean-like text as booleans), each column's type as it will be created,
    and one note per column whose stored values break its declared type."""
    from syngen.adapters.sql import sa_type

    frame, fitted, notes = frame.copy(), [], []
    for column in columns:
        values = frame[column.name]
        found = _mismatch(values, column.type)
        if found is None:
            fitted.append(column)
            continue
        flags = boolean_like(values) if column.type["type"] in NUMBERS + ("Boolean",) else None
        if flags is not None:
            frame[column.name] = flags
            words = sorted(set(values.dropna().astype(str)))
            found = f"text ({', '.join(map(repr, words[:2]))}{', ...' if len(words) > 2 else ''})"
            new = {"type": "Boolean"}
        else:
            new = {"type": "Text"} if column.type["type"] == "String" else stored_type(values)
        declared, written = (sa_type(t).compile(dialect=dialect) for t in (column.type, new))
        learned = "learned as boolean, written as" if flags is not None else "learned and written as"
        notes.append(
            f"table '{table}' column '{column.name}': declared {declared} but holds {found}; {learned} {written}"
        )
        fitted.append(ColumnSpec(column.name, new, column.nullable))
    return frame, fitted, notes


def column_specs(frame: pd.DataFrame, kinds: dict[str, str], declared: TableSchema | None) -> list[ColumnSpec]:
    """How each source column should be created in a target database: as the source database
    declares it (after ``fit_stored``), else from what was read."""
    known = {c.name: c for c in declared.columns} if declared else {}
    return [
        known.get(name) or ColumnSpec(str(name), stored_type(frame[name], kinds.get(name)), True)
        for name in frame.columns
    ]
