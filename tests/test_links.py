"""The link math of linked tables (``syngen.linked.links``), on Chinook's real numbers of
lines per invoice and of reports per employee: no model, fast."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from conftest import RELATIONAL
from scipy.stats import ks_2samp

from syngen.linked.links import (
    COUNT_QUANTILES,
    avoid_self_links,
    calibrated_counts,
    count_quantiles,
    link_rows,
    scale_counts,
    tree_links,
)


def _query(sql: str) -> np.ndarray:
    with sqlite3.connect(f"file:{RELATIONAL / 'chinook.sqlite'}?mode=ro", uri=True) as db:
        return np.array([row[0] for row in db.execute(sql)], dtype=np.int64)


@pytest.fixture(scope="module")
def lines_per_invoice() -> np.ndarray:
    return _query(
        "select count(l.InvoiceLineId) from Invoice i left join InvoiceLine l on l.InvoiceId = i.InvoiceId "
        "group by i.InvoiceId"
    )


def test_calibrated_counts_take_the_source_distribution_in_the_model_s_order(lines_per_invoice):
    rng = np.random.default_rng(0)
    quantiles = np.quantile(lines_per_invoice, np.linspace(0, 1, COUNT_QUANTILES)).tolist()
    drawn = rng.gamma(2.0, 3.0, 5 * len(lines_per_invoice))  # the model's counts: any shape, five times as many
    counts = calibrated_counts(drawn, quantiles, rng)
    assert ks_2samp(counts, lines_per_invoice).statistic < 0.02
    assert np.all(np.diff(counts[np.argsort(drawn)]) >= 0)  # a parent ranked higher never gets fewer
    assert calibrated_counts(drawn, quantiles, rng, minimum=6).min() == 6


def test_a_few_parents_get_the_source_counts_exactly():
    """Chinook's 18 playlists (0 to 3,290 tracks): kept as 1,001 quantiles and read back at 18
    places, the two largest came out 3,284 and 3,289, and the counts' KS statistic was 0.11."""
    tracks = _query(
        "select count(t.TrackId) from Playlist p left join PlaylistTrack t on t.PlaylistId = p.PlaylistId "
        "group by p.PlaylistId"
    )
    rng = np.random.default_rng(5)
    counts = calibrated_counts(rng.random(len(tracks)), count_quantiles(tracks), rng)
    assert sorted(counts) == sorted(tracks)


def test_scaled_counts_sum_to_the_size_and_keep_the_cap(lines_per_invoice):
    rng = np.random.default_rng(1)
    for total in (10, len(lines_per_invoice), 3 * int(lines_per_invoice.sum())):
        scaled = scale_counts(lines_per_invoice, total, rng)
        assert scaled.sum() == total and scaled.min() >= 0
    capped = scale_counts(lines_per_invoice, int(lines_per_invoice.sum()), rng, cap=10)
    assert capped.sum() == lines_per_invoice.sum() and capped.max() <= 10
    # proportions: the parents with the most children in the source still have the most
    doubled = scale_counts(lines_per_invoice, 2 * int(lines_per_invoice.sum()), rng)
    assert np.corrcoef(doubled, lines_per_invoice)[0, 1] > 0.99


def test_link_rows_give_each_parent_its_children_and_the_null_share(lines_per_invoice):
    rng = np.random.default_rng(2)
    size = int(lines_per_invoice.sum())
    rows = link_rows(lines_per_invoice, size, 0.1, rng, keep_together=True)
    linked = rows[rows >= 0]
    assert abs((rows < 0).mean() - 0.1) < 0.001
    assert np.all(np.diff(linked) >= 0)  # kept together: each parent's children in one run
    per_parent = np.bincount(linked, minlength=len(lines_per_invoice))
    assert np.corrcoef(per_parent, lines_per_invoice)[0, 1] > 0.99
    least = link_rows(lines_per_invoice, size, 0.0, rng, keep_together=False, least=2)
    assert np.bincount(least, minlength=len(lines_per_invoice)).min() >= 2


def test_links_of_a_table_to_itself_form_a_forest():
    reports = _query(
        "select count(r.EmployeeId) from Employee e left join Employee r on r.ReportsTo = e.EmployeeId "
        "group by e.EmployeeId"
    )
    rng = np.random.default_rng(3)
    counts = np.tile(reports, 50)  # an org chart of 400 people shaped like Chinook's 8
    rows = tree_links(counts, 1 / 8, rng)
    assert (rows < 0).sum() == 50
    for start in range(len(rows)):  # every chain of managers ends at a root, never loops
        row, steps = start, 0
        while rows[row] >= 0:
            row, steps = rows[row], steps + 1
            assert steps <= len(rows)


def test_no_row_links_to_itself():
    rng = np.random.default_rng(4)
    rows = rng.integers(0, 5, 1000)
    rows[:5] = np.arange(5)  # the first rows point at themselves
    avoid_self_links(rows, rng)
    assert not np.any(rows == np.arange(len(rows)))
    one = np.array([0])
    avoid_self_links(one, rng)
    assert one[0] == -1
