#!/usr/bin/env python
"""Benchmark syngen, and optionally SDV baselines, on the shared single-table datasets.

Every figure comes from the same pipeline so tools compare like with like: the shared seeded
80/20 split (``../shared/bench/split.py``), each tool fitted with its defaults on the 80 % and
asked for as many rows as it learned from, and the shared scorer (``../shared/bench/score.py``)
for quality, privacy and ML efficacy. Fitting and generating each run in a fresh child process,
so wall time and peak memory belong to that one step.

Usage (from the repository root)::

    python benchmarks/run.py                          # syngen on every dataset
    python benchmarks/run.py --datasets churn,taxi    # a subset
    python benchmarks/run.py --with-baselines         # also SDV GaussianCopula and TVAE
    python benchmarks/run.py --with-mostlyai --mostlyai-python /path/to/venv/bin/python
                                                      # also MOSTLY AI's open engine (TabularARGN)

mostlyai-engine pins its own torch release, which can differ from SDV's, so it may live in an
environment of its own (``pip install mostlyai-engine``); ``--mostlyai-python`` names that
environment's interpreter, which runs only the engine's fit and generation steps.

Writes ``WORKDIR/results.json`` (everything measured) and a markdown report
(``docs/benchmarks.md`` by default).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path

from sections import write_head

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA_DIR = SHARED / "data" / "single"
SPLIT_SCRIPT = SHARED / "bench" / "split.py"
SCORE_SCRIPT = SHARED / "bench" / "score.py"
DEFAULT_WORKDIR = REPO / "benchmarks" / "results"
DEFAULT_REPORT = REPO / "docs" / "benchmarks.md"

# dataset -> the column the scorer's ML-efficacy model predicts
TARGETS = {
    "churn": "churn",
    "diamonds": "price",
    "credit": "Status",
    "taxi": "tip",
    "pizzaplace": "price",
    # species has classes of one or two rows, which the scorer's stratified ML model cannot
    # split; the table is scored on quality and privacy only
    "seattlepets": None,
}
# The scorer's inferred metadata treats these tables' high-cardinality text as categorical and
# runs out of memory, so their column types are given explicitly.
SCORER_METADATA = {
    "pizzaplace": {
        "id": "id",
        "date": "datetime",
        "time": "datetime",
        "name": "categorical",
        "size": "categorical",
        "type": "categorical",
        "price": "numerical",
    },
    "seattlepets": {
        "license_issue_date": "datetime",
        "license_number": "id",
        "animal_name": "id",
        "species": "categorical",
        "primary_breed": "categorical",
        "secondary_breed": "categorical",
        "zip_code": "categorical",
    },
}

SYNGEN = "syngen"
BASELINES = ("gaussian_copula", "tvae")
MOSTLYAI = "mostlyai"
TOOL_NAMES = {
    SYNGEN: "syngen (defaults)",
    "gaussian_copula": "SDV GaussianCopula",
    "tvae": "SDV TVAE",
    MOSTLYAI: "MOSTLY AI engine TabularARGN",
}
SDV_DEFAULT_TVAE_EPOCHS = 300

# the scorer's SDMetrics quality is also taken on these further samples of real and synthetic
# rows (its --seed), to show how much of a figure is the luck of one sample
QUALITY_SEEDS = (0, 1, 2, 3, 4)

# churn extras: in-process sampling speed, and memory of streamed generation at two sizes
EXTRA_SAMPLE_ROWS = 100_000
MEMORY_SIZES = (100_000, 1_000_000)
MEMORY_BATCH_ROWS = 50_000


JOB_COMMAND = "_job"
JOB_MARKER = "@@benchmark-job "
ERROR_TAIL_CHARS = 3000


def log(message: str) -> None:
    """Progress goes to stderr so stdout stays free for anything piped."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Jobs: run inside a child process (``run.py _job KIND PARAMS``), one per measured step.
# Each job imports its libraries and returns a closure holding only the timed work, so the
# clock measures the step itself, not interpreter start or library imports.
# --------------------------------------------------------------------------------------------


def job_syngen_fit(params: dict):
    import syngen.engine.vae  # noqa: F401  (TensorFlow, loaded before the clock like SDV's torch)
    from syngen.runs import train_table

    def run():
        result = train_table(params["source"], params["table_name"], random_seed=0)
        return {"rows": result.rows, "model_fit_seconds": result.seconds, "epochs_run": result.epochs_run}

    return run


def job_syngen_infer(params: dict):
    from syngen.runs import infer_table

    def run():
        result = infer_table(
            params["table_name"],
            params["size"],
            random_seed=0,
            output=params["output"],
            batch_size=params.get("batch_size"),
        )
        return {"rows": result.rows}

    return run


def job_syngen_sample(params: dict):
    """Generation through the Python API, separating model load from sampling."""
    from syngen import Synthesizer

    def run():
        started = time.perf_counter()
        model = Synthesizer.load(params["model_dir"])
        loaded = time.perf_counter()
        frame = model.sample(params["size"], random_seed=0)
        sampled = time.perf_counter()
        return {"rows": len(frame), "load_seconds": loaded - started, "sample_seconds": sampled - loaded}

    return run


def _sdv_class(tool: str):
    from sdv.single_table import GaussianCopulaSynthesizer, TVAESynthesizer

    return {"gaussian_copula": GaussianCopulaSynthesizer, "tvae": TVAESynthesizer}[tool]


def _sdv_takes_dicts() -> bool:
    """SDV 2 passes single tables as ``{name: frame}``; SDV 1 passes the frame itself."""
    import sdv

    return int(sdv.__version__.split(".")[0]) >= 2


def _sdv_metadata(data, table_name: str):
    """SDV's own detected metadata (its default workflow), across SDV 1.x and 2.x."""
    from sdv.metadata import Metadata

    if hasattr(Metadata, "detect_from_dataframe"):
        return Metadata.detect_from_dataframe(data, table_name=table_name)
    return Metadata.detect_from_dataframes({table_name: data})


def job_baseline_fit(params: dict):
    import pandas as pd

    synthesizer_class = _sdv_class(params["tool"])

    def run():
        data = pd.read_csv(params["source"], low_memory=False)
        options = {"epochs": params["epochs"]} if params.get("epochs") else {}
        synthesizer = synthesizer_class(_sdv_metadata(data, params["table_name"]), **options)
        synthesizer.fit({params["table_name"]: data} if _sdv_takes_dicts() else data)
        synthesizer.save(params["model"])
        return {"rows": len(data)}

    return run


def job_baseline_sample(params: dict):
    synthesizer_class = _sdv_class(params["tool"])
    if hasattr(synthesizer_class, "load"):  # SDV 1.x
        load = synthesizer_class.load
    else:  # SDV 2.x
        from sdv.utils import load_synthesizer as load

    def run():
        synthesizer = load(params["model"])
        frame = synthesizer.sample(num_rows=params["size"])
        if isinstance(frame, dict):  # SDV 2: {table name: frame}
            frame = next(iter(frame.values()))
        frame.to_csv(params["output"], index=False)
        return {"rows": len(frame)}

    return run


def job_mostlyai_fit(params: dict):
    """The engine's TabularARGN with its defaults; its workspace (encoded data, model) is the model."""
    import pandas as pd
    from mostlyai.engine import TabularARGN

    def run():
        data = pd.read_csv(params["source"], low_memory=False)
        options = {"max_epochs": params["epochs"]} if params.get("epochs") else {}
        TabularARGN(workspace_dir=params["workspace"], random_state=0, **options).fit(data)
        return {"rows": len(data)}

    return run


def job_mostlyai_sample(params: dict):
    import pandas as pd
    from mostlyai.engine import generate, set_random_state

    def run():
        set_random_state(0)
        generate(workspace_dir=params["workspace"], sample_size=params["size"])
        frame = pd.read_parquet(Path(params["workspace"]) / "SyntheticData")
        frame.to_csv(params["output"], index=False)
        return {"rows": len(frame)}

    return run


def job_quality_samples(params: dict):
    """The scorer's quality report on several seeded samples, prepared as score.py prepares it."""
    import pandas as pd

    spec = importlib.util.spec_from_file_location("score", SCORE_SCRIPT)
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)

    def run():
        real = pd.read_csv(params["train"], low_memory=False)
        other = pd.read_csv(params["synthetic"], low_memory=False)
        inferred = scorer.infer_metadata(real)["columns"]
        given = scorer.load_metadata(params["metadata"])["columns"] if params.get("metadata") else {}
        meta = {"columns": {c: given.get(c, inferred[c]) for c in real.columns}}
        real, other, _ = scorer.align(real, other, meta)
        compared = [c for c in real.columns if c in other.columns and meta["columns"][c]["sdtype"] != "id"]
        meta = {"columns": {c: meta["columns"][c] for c in compared}}
        reports = [
            scorer.sdmetrics_reports(real[compared], other[compared], meta, 20000, seed)["quality"]
            for seed in params["seeds"]
        ]
        return {"seeds": params["seeds"], "overall": [r["overall"] for r in reports]}

    return run


JOBS = {
    "quality_samples": job_quality_samples,
    "syngen_fit": job_syngen_fit,
    "syngen_infer": job_syngen_infer,
    "syngen_sample": job_syngen_sample,
    "baseline_fit": job_baseline_fit,
    "baseline_sample": job_baseline_sample,
    "mostlyai_fit": job_mostlyai_fit,
    "mostlyai_sample": job_mostlyai_sample,
}


def job_main(argv: list[str]) -> int:
    """Child side: run one job, print its measurements as one marked JSON line."""
    import resource

    kind, params = argv[0], json.loads(argv[1])
    try:
        run = JOBS[kind](params)
        started = time.perf_counter()
        measured = run()
        measured["seconds"] = time.perf_counter() - started
    except Exception:  # reported to the parent through stderr and the exit code
        traceback.print_exc()
        return 1
    # ru_maxrss is in KiB on Linux; this process ran nothing but this job
    measured["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(JOB_MARKER + json.dumps(measured), flush=True)
    return 0


class StepFailed(Exception):
    """A child step failed; the message carries the end of its error output."""


EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*:")


def _tail(text: str) -> str:
    text = (text or "").strip()
    return text if len(text) <= ERROR_TAIL_CHARS else "..." + text[-ERROR_TAIL_CHARS:]


def _summary(text, limit: int = 500) -> str:
    """An error text in one line, for logs and tables: from a traceback, its last exception
    line and what follows it (joblib, for one, puts the workers' exit codes there)."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    raised = [i for i, line in enumerate(lines) if EXCEPTION_LINE.match(line)]
    line = " ".join(lines[raised[-1] :] if raised else lines[-1:]) or str(text)
    return line if len(line) <= limit else line[:limit] + "..."


def _exit_text(code: int) -> str:
    # a negative code is a signal: -9 is usually the kernel's out-of-memory killer
    return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


STEP_TIMEOUT: float | None = None  # seconds; --step-timeout
MOSTLYAI_PYTHON = sys.executable  # --mostlyai-python


def run_job(kind: str, params: dict, cwd: Path, python: str = sys.executable) -> dict:
    """Parent side: run a job in a fresh interpreter and return its measurements."""
    command = [python, str(Path(__file__).resolve()), JOB_COMMAND, kind, json.dumps(params)]
    started = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"{kind} stopped after {STEP_TIMEOUT:.0f} s (--step-timeout)") from None
    elapsed = time.perf_counter() - started
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(JOB_MARKER):
            measured = json.loads(line[len(JOB_MARKER) :])
            measured["process_seconds"] = elapsed
            return measured
    raise StepFailed(f"{kind} {_exit_text(done.returncode)}: {_tail(done.stderr or done.stdout)}")


def run_script(command: list[str]) -> None:
    """Run a shared script, turning a failure into StepFailed with its error output."""
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise StepFailed(f"{Path(command[1]).name} {_exit_text(done.returncode)}: {_tail(done.stderr or done.stdout)}")


# --------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------


def split_dataset(name: str, workdir: Path) -> tuple[Path, Path]:
    run_script([sys.executable, str(SPLIT_SCRIPT), str(DATA_DIR / f"{name}.csv"), str(workdir)])
    return workdir / f"{name}_train.csv", workdir / f"{name}_holdout.csv"


def scorer_metadata(name: str, workdir: Path) -> Path | None:
    """Write the scorer's metadata file where the inferred one does not work, else None."""
    if name not in SCORER_METADATA:
        return None
    path = workdir / f"{name}_metadata.json"
    columns = {column: {"sdtype": sdtype} for column, sdtype in SCORER_METADATA[name].items()}
    path.write_text(json.dumps({"columns": columns}, indent=1) + "\n")
    return path


def score(
    name: str, tool: str, train: Path, holdout: Path, synthetic: Path, folder: Path, metadata: Path | None
) -> dict:
    out = folder / "score.json"
    command = [
        sys.executable,
        str(SCORE_SCRIPT),
        str(train),
        str(synthetic),
        "--holdout",
        str(holdout),
        "--out",
        str(out),
        "--label",
        f"{tool} on {name}",
    ]
    if TARGETS[name]:
        command += ["--target", TARGETS[name]]
    if metadata:
        command += ["--metadata", str(metadata)]
    run_script(command)
    return json.loads(out.read_text())


def quality_samples(train: Path, rows: Path, metadata: Path | None, folder: Path) -> dict:
    params = {
        "train": str(train),
        "synthetic": str(rows),
        "seeds": list(QUALITY_SEEDS),
        "metadata": str(metadata) if metadata else None,
    }
    return run_job("quality_samples", params, folder)


def fit_and_generate(
    tool: str, name: str, train: Path, folder: Path, tvae_epochs: int | None, mostlyai_python: str | None = None
) -> dict:
    """Fit on the training part, then generate as many rows, each step in its own process.
    ``mostlyai_python`` is the engine's interpreter (default: ``--mostlyai-python``'s)."""
    synthetic = folder / "synthetic.csv"
    mostlyai_python = mostlyai_python or MOSTLYAI_PYTHON
    if tool == SYNGEN:
        fit = run_job("syngen_fit", {"source": str(train), "table_name": name}, folder)
        generate = run_job("syngen_infer", {"table_name": name, "size": fit["rows"], "output": str(synthetic)}, folder)
    elif tool == MOSTLYAI:
        workspace = str(folder / "workspace")
        fit = run_job(
            "mostlyai_fit",
            {"source": str(train), "workspace": workspace, "epochs": tvae_epochs},
            folder,
            mostlyai_python,
        )
        generate = run_job(
            "mostlyai_sample",
            {"workspace": workspace, "size": fit["rows"], "output": str(synthetic)},
            folder,
            mostlyai_python,
        )
    else:
        model = folder / "model.pkl"
        fit = run_job(
            "baseline_fit",
            {
                "tool": tool,
                "source": str(train),
                "table_name": name,
                "model": str(model),
                "epochs": tvae_epochs if tool == "tvae" else None,
            },
            folder,
        )
        generate = run_job(
            "baseline_sample",
            {"tool": tool, "model": str(model), "size": fit["rows"], "output": str(synthetic)},
            folder,
        )
    generate["rows_per_second"] = generate["rows"] / generate["seconds"]
    return {
        "fit": fit,
        "generate": generate,
        "synthetic": str(synthetic),
        "peak_rss_mb": max(fit["peak_rss_mb"], generate["peak_rss_mb"]),
    }


def run_tool(
    tool: str, name: str, train: Path, holdout: Path, metadata: Path | None, workdir: Path, tvae_epochs: int | None
) -> dict:
    folder = workdir / name / tool
    folder.mkdir(parents=True, exist_ok=True)
    label = f"[{name}] {TOOL_NAMES[tool]}"
    log(f"{label}: fit, then generate")
    try:
        record = fit_and_generate(tool, name, train, folder, tvae_epochs)
    except StepFailed as error:
        log(f"{label}: FAILED: {_summary(error)}")
        return {"error": str(error)}
    fit, generate = record["fit"], record["generate"]
    log(
        f"{label}: fit {fit['seconds']:.1f} s, {fit['peak_rss_mb']:.0f} MB; generated "
        f"{generate['rows']:,} rows at {generate['rows_per_second']:,.0f} rows/s, "
        f"{generate['peak_rss_mb']:.0f} MB; scoring"
    )
    try:
        record["score"] = score(name, tool, train, holdout, Path(record["synthetic"]), folder, metadata)
        quality = record["score"]["quality"]["overall"]
        detection = record["score"].get("detection", {})
        log(
            f"{label}: quality {quality:.3f}, detection AUC {_fmt(detection.get('auc_synthetic'))} "
            f"(held-out {_fmt(detection.get('auc_holdout'))}; scored in "
            f"{record['score'].get('score_seconds')} s)"
        )
        record["quality_samples"] = quality_samples(train, Path(record["synthetic"]), metadata, folder)
    except (StepFailed, KeyError, ValueError) as error:
        log(f"{label}: scoring FAILED: {_summary(error)}")
        record["score"] = {"error": str(error)}
    return record


def churn_extras(workdir: Path) -> dict:
    """Generation speed through the API, and memory of streamed generation at two sizes."""
    folder = workdir / "churn" / SYNGEN
    extras: dict = {}
    log(f"[churn] syngen: sampling {EXTRA_SAMPLE_ROWS:,} rows in process")
    try:
        model_dir = folder / "model_artifacts" / "resources" / "churn"
        extras["sample_in_process"] = run_job(
            "syngen_sample", {"model_dir": str(model_dir), "size": EXTRA_SAMPLE_ROWS}, folder
        )
    except StepFailed as error:
        extras["sample_in_process"] = {"error": str(error)}
    extras["memory_vs_size"] = {}
    for size in MEMORY_SIZES:
        log(f"[churn] syngen: generating {size:,} rows to CSV in batches of {MEMORY_BATCH_ROWS:,}")
        output = folder / f"memory_{size}.csv"
        try:
            extras["memory_vs_size"][str(size)] = run_job(
                "syngen_infer",
                {"table_name": "churn", "size": size, "output": str(output), "batch_size": MEMORY_BATCH_ROWS},
                folder,
            )
        except StepFailed as error:
            extras["memory_vs_size"][str(size)] = {"error": str(error)}
        finally:
            output.unlink(missing_ok=True)  # only its memory matters; the file is large
    return extras


def run_dataset(name: str, tools: list[str], workdir: Path, tvae_epochs: int | None) -> dict:
    entry: dict = {"target": TARGETS[name], "tools": {}}
    log(f"[{name}] splitting")
    try:
        train, holdout = split_dataset(name, workdir)
    except StepFailed as error:
        log(f"[{name}] split FAILED: {_summary(error)}")
        entry["error"] = str(error)
        return entry
    metadata = scorer_metadata(name, workdir)
    entry["scorer_metadata"] = str(metadata) if metadata else None
    log(f"[{name}] scoring the real held-out rows on {len(QUALITY_SEEDS)} samples")
    try:
        entry["holdout_quality_samples"] = quality_samples(train, holdout, metadata, workdir)
    except StepFailed as error:
        entry["holdout_quality_samples"] = {"error": str(error)}
    for tool in tools:
        entry["tools"][tool] = run_tool(tool, name, train, holdout, metadata, workdir, tvae_epochs)
    if name == "churn" and "error" not in entry["tools"][SYNGEN]:
        entry["syngen_extras"] = churn_extras(workdir)
    return entry


# --------------------------------------------------------------------------------------------
# Environment description
# --------------------------------------------------------------------------------------------


def total_memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except (OSError, ValueError, IndexError):
        pass
    return None


def package_version(name: str) -> str:
    try:
        return package_metadata.version(name)
    except package_metadata.PackageNotFoundError:
        return "not installed"


MOSTLYAI_PACKAGES = ("mostlyai-engine", "torch")
# prints the versions of MOSTLYAI_PACKAGES as a JSON list, in the engine's own interpreter
MOSTLYAI_VERSIONS = (
    "import json, sys; from importlib.metadata import version; "
    "print(json.dumps([version(name) for name in sys.argv[1:]]))"
)


def mostlyai_versions(python: str) -> list[str] | None:
    """The engine's and its torch's versions in ``python``, or None if the engine is missing."""
    try:
        done = subprocess.run([python, "-c", MOSTLYAI_VERSIONS, *MOSTLYAI_PACKAGES], capture_output=True, text=True)
    except OSError:  # no such interpreter
        return None
    return json.loads(done.stdout) if done.returncode == 0 else None


def environment(with_baselines: bool, mostlyai: list[str] | None = None) -> dict:
    packages = ["syngen", "tensorflow", "keras", "sdmetrics"]
    if with_baselines:
        packages += ["sdv", "torch"]
    versions = {name: package_version(name) for name in packages}
    if mostlyai:
        engine, torch = mostlyai
        versions["mostlyai-engine"] = engine if torch == versions.get("torch") else f"{engine} (torch {torch})"
    return {
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "memory_gb": total_memory_gb(),
        },
        "versions": versions,
    }


# --------------------------------------------------------------------------------------------
# Markdown report
# --------------------------------------------------------------------------------------------


def _fmt(value, digits: int = 3, thousands: bool = False) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    return f"{value:,.{digits}f}" if thousands else f"{value:.{digits}f}"


def _seconds(value) -> str:
    return _fmt(value, 1 if value is not None and value < 100 else 0, thousands=True)


def _ml_cell(ml: dict | None) -> str:
    if not ml:
        return "n/a"
    synth, real = ml.get("train_on_synthetic", {}), ml.get("train_on_real", {})
    error = ml.get("error") or synth.get("error")
    if error:
        return f"error: {_summary(error, 80)}"
    if ml.get("task") == "regression":
        return f"R2 {_fmt(synth.get('r2'))} (real {_fmt(real.get('r2'))})"
    if "roc_auc" in synth or "roc_auc" in real:
        return (
            f"acc {_fmt(synth.get('accuracy'))} / AUC {_fmt(synth.get('roc_auc'))} "
            f"(real {_fmt(real.get('accuracy'))} / {_fmt(real.get('roc_auc'))})"
        )
    return f"acc {_fmt(synth.get('accuracy'))} (real {_fmt(real.get('accuracy'))})"


def _detection_cell(detection: dict | None) -> str:
    if not detection:
        return "n/a"
    if "error" in detection:
        return f"error: {_summary(detection['error'], 80)}"
    return f"{_fmt(detection.get('auc_synthetic'))} ({_fmt(detection.get('auc_holdout'))})"


def _spread(values: list[float]) -> str:
    return f"{sum(values) / len(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def tool_label(tool: str, tvae_epochs: int | None) -> str:
    if tool == "tvae":
        return f"{TOOL_NAMES[tool]} ({tvae_epochs or SDV_DEFAULT_TVAE_EPOCHS} epochs)"
    if tool == MOSTLYAI and tvae_epochs:
        return f"{TOOL_NAMES[tool]} (at most {tvae_epochs} epochs)"
    return TOOL_NAMES[tool]


def dataset_section(name: str, entry: dict, tvae_epochs: int | None) -> list[str]:
    lines = [
        f"### {name}",
        "",
        f"Target for ML efficacy: `{entry['target']}`."
        + (
            " Scored with explicit column types (`" + Path(entry["scorer_metadata"]).name + "`)."
            if entry.get("scorer_metadata")
            else ""
        ),
        "",
    ]
    if "error" in entry:
        return lines + [f"Not run: {_summary(entry['error'])}", ""]
    lines += [
        "| tool | fit s | sampling rows/s | peak RSS MB | quality overall | column shapes "
        "| pair trends | detection AUC (held-out's own) | exact-copy share (held-out's own) "
        "| DCR ratio synth/held-out | ML efficacy (real-trained) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for tool, record in entry["tools"].items():
        label = tool_label(tool, tvae_epochs)
        if "error" in record:
            lines.append(f"| {label} | failed | | | | | | | | | |")
            notes.append(f"{label} failed: {_summary(record['error'])}")
            continue
        cells = [
            _seconds(record["fit"]["seconds"]),
            _fmt(record["generate"]["rows_per_second"], 0, thousands=True),
            _fmt(record["peak_rss_mb"], 0, thousands=True),
        ]
        result = record.get("score", {})
        if "error" in result:
            cells += ["scoring failed"] + [""] * 6
            notes.append(f"{label}: scoring failed: {_summary(result['error'])}")
        else:
            quality, privacy = result.get("quality", {}), result.get("privacy", {})
            cells += [
                _fmt(quality.get("overall")),
                _fmt(quality.get("column_shapes")),
                _fmt(quality.get("column_pair_trends")),
                _detection_cell(result.get("detection")),
                f"{_fmt(privacy.get('exact_copy_share'), 4)} ({_fmt(privacy.get('holdout_exact_copy_share'), 4)})",
                _fmt(privacy.get("dcr_median_ratio_synth_over_holdout"), 2),
                _ml_cell(result.get("ml_efficacy")),
            ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    samples = [("real held-out rows", entry.get("holdout_quality_samples", {}))]
    samples += [
        (tool_label(tool, tvae_epochs), record.get("quality_samples", {})) for tool, record in entry["tools"].items()
    ]
    cells = [f"{label} {_spread(found['overall'])}" for label, found in samples if "overall" in found]
    if cells:
        lines += [
            f"Quality overall on {len(QUALITY_SEEDS)} samples (scorer seeds "
            f"{QUALITY_SEEDS[0]}-{QUALITY_SEEDS[-1]}; mean, min-max): " + "; ".join(cells) + ".",
            "",
        ]
    syngen = entry["tools"].get(SYNGEN, {})
    if "fit" in syngen:
        fit = syngen["fit"]
        lines.append(
            f"syngen: the model's own fit time {_seconds(fit['model_fit_seconds'])} s "
            f"({fit['epochs_run']} epochs); the fit step as a command, interpreter start "
            f"and imports included, {_seconds(fit['process_seconds'])} s. "
            f"Peak RSS fit {_fmt(fit['peak_rss_mb'], 0, True)} MB, generate "
            f"{_fmt(syngen['generate']['peak_rss_mb'], 0, True)} MB."
        )
        lines.append("")
        ratios = [
            f"syngen / {tool_label(tool, tvae_epochs)} {fit['seconds'] / record['fit']['seconds']:.2f}"
            for tool, record in entry["tools"].items()
            if tool != SYNGEN and "fit" in record and record["fit"]["seconds"] > 0
        ]
        if ratios:
            lines += ["Fit time ratios: " + "; ".join(ratios) + ".", ""]
    for note in notes:
        lines += [f"- {note}"]
    if notes:
        lines.append("")
    if "syngen_extras" in entry:
        lines += extras_section(entry["syngen_extras"])
    return lines


def extras_section(extras: dict) -> list[str]:
    lines = []
    sample = extras.get("sample_in_process", {})
    if "error" in sample:
        lines.append(f"- Generating {EXTRA_SAMPLE_ROWS:,} rows in process failed: {_summary(sample['error'])}")
    elif sample:
        lines.append(
            f"- `Synthesizer.load(model_dir).sample({EXTRA_SAMPLE_ROWS:_}, random_seed=0)`: "
            f"{_seconds(sample['sample_seconds'])} s for {sample['rows']:,} rows "
            f"({_fmt(sample['rows'] / sample['sample_seconds'], 0, True)} rows/s), "
            f"after loading the model in {sample['load_seconds'] * 1000:.0f} ms."
        )
    figures = []
    for size, measured in extras.get("memory_vs_size", {}).items():
        if "error" in measured:
            figures.append(f"{int(size):,} rows failed: {_summary(measured['error'])}")
        else:
            figures.append(
                f"{int(size):,} rows peak RSS {_fmt(measured['peak_rss_mb'], 0, True)} MB "
                f"({_seconds(measured['seconds'])} s)"
            )
    if figures:
        lines.append(
            f"- Memory vs size, generating to CSV with `infer_table(..., "
            f"batch_size={MEMORY_BATCH_ROWS:_})`, each size in its own process: " + "; ".join(figures) + "."
        )
    return lines + [""] if lines else []


def write_report(path: Path, results: dict) -> None:
    machine, versions = results["machine"], results["versions"]
    tvae_epochs = results["options"]["baseline_epochs"]
    run, everything = results["options"]["datasets"], list(TARGETS)
    which = ", ".join(run) + (" (all)" if run == everything else f" (a subset of {', '.join(everything)})")
    memory = machine["memory_gb"]
    peers = [
        TOOL_NAMES[tool]
        for tool in (*BASELINES, MOSTLYAI)
        if results["options"].get("with_mostlyai" if tool == MOSTLYAI else "with_baselines")
    ]
    lines = [
        "# Benchmarks",
        "",
        "syngen learning single tables with its default settings, scored the same way as the "
        "tools users would otherwise pick" + (f" ({', '.join(peers)}, run alongside)." if peers else "."),
        "",
        f"- Command: `{results['command']}`",
        f"- Date (UTC): {results['date_utc']}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs, "
        f"{_fmt(memory, 1) if memory else 'unknown'} GB memory",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        f"- Datasets run: {which}",
        "",
        "## Method",
        "",
        "Each table is split 80/20 with the shared seeded split (`../shared/bench/split.py`). Each "
        "tool fits the 80 % with its defaults, then generates as many rows as it learned from; "
        "the fit and the generation each run in a fresh process. syngen trains and generates with "
        "`--random_seed 0`, so its scores repeat from run to run. The shared scorer "
        "(`../shared/bench/score.py`) compares the synthetic "
        "rows with the 80 % (quality, privacy) and trains a model on them to predict the target, "
        "tested on the held-out 20 % (ML efficacy).",
        "",
        "- fit s: wall time of the fit step inside its process: reading the training CSV, fitting "
        "and saving the model (interpreter start and library imports excluded).",
        "- sampling rows/s: rows generated / wall time of the generation step inside its process: "
        "loading the model, generating, writing the CSV.",
        "- peak RSS MB: the larger of the fit and generation processes' peak resident memory.",
        "- quality: SDMetrics quality report (overall, column shapes, column pair trends), 0 to 1.",
        "- ML efficacy: accuracy / ROC AUC (classification) or R2 (regression) of a model trained "
        "on the synthetic rows, in parentheses the same model trained on the real 80 %.",
        "- detection AUC: ROC AUC of a classifier (gradient boosting, 5-fold, at most 10,000 rows "
        "a side) telling the tool's rows from real training rows; in parentheses the same for the "
        "real held-out rows, the level real unseen data reaches.",
        "",
        "## How to read",
        "",
        "- Detection AUC: 0.5 means the classifier cannot tell the rows from real ones; 1.0 that it "
        "always can. Unlike quality, which compares columns one and two at a time, it sees whole "
        "rows, so a generator that breaks a relation among three or more columns shows here. The "
        "held-out rows' own figure (near 0.5) is the floor.",
        "- DCR ratio: median distance from synthetic rows to their closest training row, over the "
        "same for held-out real rows. Far below 1 means the generator memorises training rows; far "
        "above 1 means its rows are further from the data than real unseen rows are (low fidelity).",
        "- Exact-copy share: the share of synthetic rows identical to a training row. It should not "
        "exceed the held-out data's own share (in parentheses), which counts the duplicates real "
        "data has anyway.",
        "- Single runs with one seed: differences under about 0.02 in quality are noise. Column "
        "pair trends bin each numeric column on each data set's own min..max, and the scorer "
        "compares samples of at most 20,000 rows: whether a table's one or two outliers (diamonds' "
        "depth 43 and 79, taxi's 42.3-mile trip) land in both samples moves a table's score by "
        "up to 0.05 from run to run, for every tool. Below each table, the quality of the same "
        "rows on five scorer samples, the real held-out rows' among them, shows that spread.",
        "",
        "## Results",
        "",
    ]
    for name in run:
        lines += dataset_section(
            name, results["datasets"].get(name, {"target": TARGETS[name], "error": "did not run"}), tvae_epochs
        )
    write_head(path, lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", default=",".join(TARGETS), help=f"comma-separated subset of: {', '.join(TARGETS)} (default: all)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=DEFAULT_WORKDIR,
        help="splits, models, synthetic data, scores and results.json (default: benchmarks/results/)",
    )
    parser.add_argument(
        "--report", type=Path, default=DEFAULT_REPORT, help="markdown report to write (default: docs/benchmarks.md)"
    )
    parser.add_argument(
        "--with-baselines", action="store_true", help="also run SDV GaussianCopula and TVAE with their defaults"
    )
    parser.add_argument(
        "--with-mostlyai",
        action="store_true",
        help="also run MOSTLY AI's open engine (mostlyai-engine, TabularARGN) with its defaults",
    )
    add_mostlyai_python(parser)
    parser.add_argument(
        "--baseline-epochs",
        type=int,
        default=None,
        metavar="N",
        help=f"TVAE epochs and the MOSTLY AI engine's epoch cap, for quick checks "
        f"only (default: SDV's {SDV_DEFAULT_TVAE_EPOCHS} and the engine's "
        f"own, which published figures must use)",
    )
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop any fit or generation step that runs longer (recorded as stopped)",
    )
    args = parser.parse_args(argv)
    args.datasets = [name.strip() for name in args.datasets.split(",") if name.strip()]
    unknown = [name for name in args.datasets if name not in TARGETS]
    if unknown or not args.datasets:
        parser.error(f"unknown dataset(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(TARGETS)}")
    if args.baseline_epochs is not None and args.baseline_epochs < 1:
        parser.error("--baseline-epochs must be at least 1")
    return args


def add_mostlyai_python(parser: argparse.ArgumentParser) -> None:
    """``--mostlyai-python``, shared with the other benchmarks that run the MOSTLY AI engine."""
    parser.add_argument(
        "--mostlyai-python",
        default=sys.executable,
        metavar="PYTHON",
        help="the interpreter that has mostlyai-engine installed, when it lives in an "
        "environment of its own (default: this one)",
    )


def main(argv: list[str]) -> int:
    if argv and argv[0] == JOB_COMMAND:
        return job_main(argv[1:])
    args = parse_args(argv)
    global STEP_TIMEOUT, MOSTLYAI_PYTHON
    STEP_TIMEOUT, MOSTLYAI_PYTHON = args.step_timeout, args.mostlyai_python
    if args.with_baselines and importlib.util.find_spec("sdv") is None:
        print(
            'The baselines need SDV, which is not installed. Install it with:\n    pip install -e ".[baselines]"',
            file=sys.stderr,
        )
        return 2
    mostlyai = mostlyai_versions(args.mostlyai_python) if args.with_mostlyai else None
    if args.with_mostlyai and mostlyai is None:
        print(
            f"--with-mostlyai needs mostlyai-engine, which {args.mostlyai_python} cannot import. "
            "Install it (it pins its own torch, so a separate environment keeps SDV's) with:\n"
            "    python -m venv /path/to/venv && /path/to/venv/bin/pip install mostlyai-engine\n"
            "and pass --mostlyai-python /path/to/venv/bin/python",
            file=sys.stderr,
        )
        return 2
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    tools = [SYNGEN] + (list(BASELINES) if args.with_baselines else []) + ([MOSTLYAI] if args.with_mostlyai else [])
    results = {
        "command": "python " + shlex.join([os.path.relpath(sys.argv[0])] + argv),
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        **environment(args.with_baselines, mostlyai),
        "options": {
            "datasets": args.datasets,
            "with_baselines": args.with_baselines,
            "with_mostlyai": args.with_mostlyai,
            "baseline_epochs": args.baseline_epochs,
            "workdir": str(workdir),
        },
        "datasets": {},
    }
    results_path = workdir / "results.json"
    started = time.perf_counter()
    for name in args.datasets:
        results["datasets"][name] = run_dataset(name, tools, workdir, args.baseline_epochs)
        results_path.write_text(json.dumps(results, indent=2) + "\n")  # kept current if interrupted
    write_report(args.report, results)
    log(f"done in {(time.perf_counter() - started) / 60:.1f} min: {results_path}, {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
