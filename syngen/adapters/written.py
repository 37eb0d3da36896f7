"""Numbers as a CSV file writes them in text: with a decimal comma ('5,1', in the
';'-separated exports of many locales) or grouped in thousands ('1,234.50'). They are read
as numbers and each column's form is kept, so output files write them as the source did."""

from __future__ import annotations

import pandas as pd

# every value a number with a decimal comma; decided only in a file not separated by ','
_DECIMAL_COMMA = r"[+-]?\d+(?:,\d+)?"
# every value a number grouped in thousands by ',' (or too small to need a group)
_GROUPED = r"[+-]?\d{1,3}(?:,\d{3})*(?:\.\d+)?"


def number_form(
    text: pd.Series, sep: str | None, decimal: str | None = None, thousands: str | None = None
) -> dict | None:
    """How the column's values write numbers when that is not plain ('.' and no groups),
    from the whole column and the file's separator, or as ``format`` says (decimal,
    thousands); None when they are not such numbers."""
    text = text.dropna().astype(str)
    if text.empty:
        return None
    if decimal is None and thousands is None:
        if not text.str.contains(",", regex=False).any():
            return None
        if sep not in (",", None) and text.str.fullmatch(_DECIMAL_COMMA).all():
            decimal = ","
        elif text.str.fullmatch(_GROUPED).all():
            thousands = ","
        else:
            return None
    form: dict[str, str | int | None] = {"decimal": decimal or ".", "thousands": thousands}
    marked = text.str.rpartition(form["decimal"])
    has_mark = marked[1] != ""
    places = marked[2][has_mark].str.len().unique()
    form["places"] = int(places[0]) if len(places) == 1 and has_mark.all() else None
    return form


def plain_numbers(text: pd.Series, form: dict) -> pd.Series:
    """The values with '.' for a decimal point and no groups: numbers as pandas reads them."""
    if form["thousands"]:
        text = text.str.replace(form["thousands"], "", regex=False)
    return text.str.replace(form["decimal"], ".", regex=False) if form["decimal"] != "." else text


def written_numbers(values: pd.Series, form: dict) -> pd.Series:
    """Numbers as text in the source's form: its marks, its fixed decimals (or as few as
    needed), grouped when it groups."""
    group = "," if form["thousands"] else ""
    whole = pd.api.types.is_integer_dtype(values)
    places = 0 if whole else (form["places"] if form["places"] is not None else 6)
    text = values.map(lambda x: f"{x + 0:{group}.{places}f}", na_action="ignore")  # + 0: no '-0.00'
    if form["places"] is None and not whole:
        text = text.str.rstrip("0").str.rstrip(".")
    marks = str.maketrans({",": form["thousands"] or "", ".": form["decimal"]})
    return text.str.translate(marks).astype(object).where(values.notna(), None)
