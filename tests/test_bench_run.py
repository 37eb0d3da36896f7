"""benchmarks/run.py's report and command line, without running any tool: the per-table rows
carry the scorer's detection AUC beside the real held-out rows' own, and asking for the MOSTLY AI
engine where it is not installed is refused with what to do."""

from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import run  # noqa: E402


def _scored(detection: dict) -> dict:
    return {
        "fit": {"seconds": 2.0, "peak_rss_mb": 500.0},
        "peak_rss_mb": 500.0,
        "generate": {"rows_per_second": 1000.0, "peak_rss_mb": 300.0},
        "score": {
            "quality": {"overall": 0.9, "column_shapes": 0.95, "column_pair_trends": 0.85},
            "privacy": {},
            "detection": detection,
        },
    }


def test_each_tool_row_has_its_detection_auc_beside_the_held_out_rows_own():
    entry = {
        "target": "Status",
        "tools": {
            "gaussian_copula": _scored({"auc_synthetic": 0.8123, "auc_holdout": 0.4876}),
            run.MOSTLYAI: _scored({"error": "ValueError: Input contains NaN"}),
        },
    }
    lines = run.dataset_section("credit", entry, None)
    header = next(line for line in lines if line.startswith("| tool |"))
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    at = columns.index("detection AUC (held-out's own)")
    rows = {
        line.split("|")[1].strip(): [cell.strip() for cell in line.strip("|").split("|")]
        for line in lines
        if line.startswith("| ") and not line.startswith("| tool")
    }
    assert rows["SDV GaussianCopula"][at] == "0.812 (0.488)"
    assert rows["MOSTLY AI engine TabularARGN"][at] == "error: ValueError: Input contains NaN"
    assert all(len(cells) == len(columns) for cells in rows.values())


def test_the_mostlyai_engine_missing_is_refused_with_how_to_install_it(tmp_path, capsys):
    code = run.main(
        [
            "--datasets",
            "credit",
            "--with-mostlyai",
            "--workdir",
            str(tmp_path),
            "--mostlyai-python",
            str(tmp_path / "no-such-python"),
        ]
    )
    assert code == 2
    assert "pip install mostlyai-engine" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
