"""What a child row takes from its parent row (``syngen.linked.parents``): pure logic."""
from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import ROOT
from syngen.linked.parents import copied_columns, parent_rows, picked

CHINOOK = ROOT / "examples" / "chinook"


def test_each_child_row_finds_its_parent_row_by_a_composite_key_or_none():
    parent = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [10, 20, 30]})
    child = pd.DataFrame({"a": [2, 1, None, 3], "b": ["x", "y", "x", "x"]})
    rows = parent_rows(child, parent, ["a", "b"], ["a", "b"])
    assert rows.tolist() == [2, 1, -1, -1]
    values = picked(parent["v"], rows)
    assert values[:2].tolist() == [30, 20] and values[2:].isna().all()


def test_invoices_take_their_customers_address_and_lines_their_tracks_price():
    invoices, customers = pd.read_csv(CHINOOK / "Invoice.csv"), pd.read_csv(CHINOOK / "Customer.csv")
    rows = parent_rows(invoices, customers, ["CustomerId"], ["CustomerId"])
    copies = copied_columns(invoices, customers, rows, ["InvoiceDate", "BillingCity", "BillingState", "Total"],
                            ["FirstName", "City", "State", "Country", "SupportRepId"])
    assert copies == {"BillingCity": "City", "BillingState": "State"}  # blank states alike
    lines, tracks = pd.read_csv(CHINOOK / "InvoiceLine.csv"), pd.read_csv(CHINOOK / "Track.csv")
    rows = parent_rows(lines, tracks, ["TrackId"], ["TrackId"])
    assert copied_columns(lines, tracks, rows, ["UnitPrice", "Quantity"], ["Milliseconds", "UnitPrice"]) == {
        "UnitPrice": "UnitPrice"}


def test_a_column_that_mostly_agrees_is_not_copied_and_whole_numbers_match_floats():
    rng = np.random.default_rng(0)
    parent = pd.DataFrame({"id": range(100), "price": rng.integers(1, 5, 100)})
    child = pd.DataFrame({"id": rng.integers(0, 100, 1000)})
    rows = parent_rows(child, parent, ["id"], ["id"])
    child["same"] = parent["price"].to_numpy()[rows].astype(float)
    child["mostly"] = child["same"].where(rng.random(1000) > 0.05, 9.0)
    assert copied_columns(child, parent, rows, ["same", "mostly"], ["price"]) == {"same": "price"}
