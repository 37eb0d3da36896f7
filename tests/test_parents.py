"""What a child row takes from its parent row (``syngen.linked.parents``): pure logic."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import ROOT
from tpch_tables import write_tpch

from syngen.linked.aggregates import find_aggregates
from syngen.linked.parents import copied_columns, parent_rows, picked
from syngen.linked.siblings import numbered_columns, places

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
    copies = copied_columns(
        invoices,
        customers,
        rows,
        ["InvoiceDate", "BillingCity", "BillingState", "Total"],
        ["FirstName", "City", "State", "Country", "SupportRepId"],
    )
    assert copies == {"BillingCity": "City", "BillingState": "State"}  # blank states alike
    lines, tracks = pd.read_csv(CHINOOK / "InvoiceLine.csv"), pd.read_csv(CHINOOK / "Track.csv")
    rows = parent_rows(lines, tracks, ["TrackId"], ["TrackId"])
    assert copied_columns(lines, tracks, rows, ["UnitPrice", "Quantity"], ["Milliseconds", "UnitPrice"]) == {
        "UnitPrice": "UnitPrice"
    }


def test_a_column_that_mostly_agrees_is_not_copied_and_whole_numbers_match_floats():
    rng = np.random.default_rng(0)
    parent = pd.DataFrame({"id": range(100), "price": rng.integers(1, 5, 100)})
    child = pd.DataFrame({"id": rng.integers(0, 100, 1000)})
    rows = parent_rows(child, parent, ["id"], ["id"])
    child["same"] = parent["price"].to_numpy()[rows].astype(float)
    child["mostly"] = child["same"].where(rng.random(1000) > 0.05, 9.0)
    child["picture"] = parent["picture"] = b"\xff\xd8"  # bytes are compared, not decoded as text
    assert copied_columns(child, parent, rows, ["same", "mostly", "picture"], ["price", "picture"]) == {
        "same": "price",
        "picture": "picture",
    }


def test_line_numbers_that_start_again_with_each_order_are_found_and_made_so(tmp_path):
    write_tpch(tmp_path, scale=0.001)
    orders, lines = (pd.read_parquet(tmp_path / f"{n}.parquet") for n in ("orders", "lineitem"))
    rows = parent_rows(lines, orders, ["l_orderkey"], ["o_orderkey"])
    shuffled = lines.sample(frac=1.0, random_state=0)  # the numbers need not come in order
    assert numbered_columns(shuffled, rows[shuffled.index], ["l_linenumber", "l_quantity", "l_partkey"]) == {
        "l_linenumber": 1
    }
    assert places(np.array([4, 4, 2, 4, 2, 7])).tolist() == [0, 1, 0, 2, 1, 0]


def test_totals_and_counts_of_children_are_found_and_added_up_from_generated_children():
    rng = np.random.default_rng(1)
    lines = pd.DataFrame(
        {"order": rng.integers(0, 60, 400), "price": rng.choice([0.99, 1.99], 400), "quantity": rng.integers(1, 4, 400)}
    )
    orders = pd.DataFrame({"id": range(60), "noise": rng.normal(size=60)})
    paid = (lines["price"] * lines["quantity"]).groupby(lines["order"]).sum()
    orders["total"] = paid.reindex(orders["id"]).fillna(0).round(2).to_numpy()
    orders["items"] = lines.groupby("order").size().reindex(orders["id"]).fillna(0).astype(int).to_numpy()
    rows = parent_rows(lines, orders, ["order"], ["id"])
    found = find_aggregates(orders, lines, rows, ["noise", "total", "items"], ["price", "quantity"], "lines", "fk")
    assert [(a.column, a.of, a.decimals) for a in found] == [("total", ("price", "quantity"), 2), ("items", (), 0)]
    made = found[0].values(
        np.array([0, 0, 2, -1]), {"price": np.array([1.0, 2.5, 3.0, 9.0]), "quantity": np.array([2, 1, 1, 1])}, 3
    )
    assert made.tolist() == [4.5, 0.0, 3.0]
