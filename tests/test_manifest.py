"""The manifest a run saves beside each table's model: typed, plain JSON, read back whole."""

from __future__ import annotations

import pytest

from syngen.errors import SyngenError
from syngen.manifest import MANIFEST_FILE, Links, Manifest, Schema, load
from syngen.metadata.model import Key


def _invoice_line() -> Manifest:
    keys = [
        Key("pk", "PK", ("InvoiceLineId",)),
        Key("fk_invoice", "FK", ("InvoiceId",), "Invoice", ("InvoiceId",), min_children=1),
        Key("fk_track", "FK", ("TrackId",), "Track", ("TrackId",)),
    ]
    return Manifest(
        source="sqlite:///chinook.sqlite",
        rows=2240,
        schema=Schema(
            columns=[{"name": "UnitPrice", "type": "NUMERIC(10,2)", "nullable": False}],
            formats={},
            keys=keys[:1],
            checks=["UnitPrice >= 0"],
            headers={"UnitPrice": "Unit Price"},
        ),
        run=".staging-abc",
        links=Links(
            columns=["InvoiceLineId", "InvoiceId", "TrackId", "UnitPrice", "Quantity"],
            foreign_keys=[{"name": "fk_invoice", "null_share": 0.0, "count_quantiles": [1.0, 4.0, 14.0]}],
            keys=keys,
            source_rows=2240,
            copies={"fk_track": {"UnitPrice": "UnitPrice"}},
            numbered={"fk_invoice": {"Line": 1}},
            aggregates=[
                {"column": "Total", "child": "InvoiceLine", "key": "fk_invoice", "of": ["UnitPrice", "Quantity"]}
            ],
        ),
    )


def test_a_manifest_reads_back_as_it_was_saved(tmp_path):
    manifest = _invoice_line()
    (tmp_path / MANIFEST_FILE).write_text(manifest.to_json())
    read = load(tmp_path)
    assert read == manifest
    assert read.links.keys[1].parent_columns == ("InvoiceId",) and read.links.keys[1].min_children == 1


def test_numpy_numbers_are_saved_as_plain_numbers(tmp_path):
    import numpy as np

    counted = Manifest("t.csv", 3, Schema([], {}, []), links=Links(["a"], [{"null_share": np.float64(0.25)}], [], 3))
    (tmp_path / MANIFEST_FILE).write_text(counted.to_json())
    assert load(tmp_path).links.foreign_keys == [{"null_share": 0.25}]


def test_a_table_trained_alone_has_no_links(tmp_path):
    alone = Manifest("churn.csv", 800, Schema([], {"signup": "%Y-%m-%d"}, []))
    (tmp_path / MANIFEST_FILE).write_text(alone.to_json())
    assert load(tmp_path).links is None and load(tmp_path).run is None


def test_a_missing_or_damaged_manifest_is_one_line(tmp_path):
    with pytest.raises(SyngenError, match="no manifest.json.*train again"):
        load(tmp_path)
    (tmp_path / MANIFEST_FILE).write_text('{"source": "x.csv"}')
    with pytest.raises(SyngenError, match="is damaged.*train again"):
        load(tmp_path)
