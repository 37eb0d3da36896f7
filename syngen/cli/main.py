"""Command line: ``train`` and ``infer`` (the original syngen's flags) and the ``syngen`` group.

Commands only parse, call ``syngen.runs``, and render with rich. Nothing here imports the
deep-learning backend, so ``--help`` is instant.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterator

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from syngen.adapters.spark_tables import is_spark
from syngen.errors import SyngenError, os_error
from syngen.settings import Spark, TrainSettings

# Names, paths, values and messages are users' text: shown as written, never read as markup
# or emoji codes (a '[/]' in a column name crashed, 'amount [usd]' lost its '[usd]').
console = Console(stderr=True, markup=False, emoji=False, highlight=False)
_BOOL = click.BOOL


def _fail(error: Exception) -> None:
    _say(("Error: ", "bold red"), str(error))
    sys.exit(1)


class _Command(click.Command):
    """A command whose user-facing failures end it with one line and exit status 1, never a
    traceback: a SyngenError, or an OSError no writer put into words (a full disk, a
    permission) with the file it names."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SyngenError as error:
            _fail(error)
        except OSError as error:
            _fail(os_error(error, f"cannot use '{error.filename}'" if error.filename else "a file operation failed"))


class _Group(click.Group):
    command_class = _Command
    group_class = type  # subgroups are _Groups too


@contextmanager
def _shown(progress: Progress) -> Iterator[None]:
    """Show ``progress`` during the block; a run that fails clears its bar, so its error
    line is what stays on screen."""
    progress.start()
    try:
        yield
    except BaseException:
        progress.live.transient = True
        progress.live.stop()  # not Progress.stop, which adds a blank line to a log
        raise
    progress.stop()


def _option(*names, **kwargs):
    """An option spelled as the original syngen does (``--table_name``) and also with dashes."""
    dashed = [n.replace("_", "-") for n in names if n.startswith("--") and "_" in n]
    return click.option(*names, *dashed, **kwargs)


def _given(ctx: click.Context, *names: str) -> dict:
    """The options the user typed (metadata values win over these, defaults do not count)."""
    return {
        name: ctx.params[name]
        for name in names
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }


def _load_metadata(path, check_sources: bool = True):
    from syngen.metadata import load_metadata

    return load_metadata(path, check_sources=check_sources)


def _log(message: str) -> None:
    _say(("Note: ", "yellow"), str(message))


def _say(*parts) -> None:
    """One line of plain text and ``(text, style)`` pairs, user text as written, unwrapped
    (one line in a log too)."""
    console.print(Text.assemble(*parts), soft_wrap=True)


def _bold(value) -> tuple[str, str]:
    return str(value), "bold"


def _text(template: str, style: str = "") -> TextColumn:
    """A progress bar's text column; its table name is shown as written, not as markup."""
    return TextColumn(template, style=style, markup=False)


def _training_progress(table_name: str):
    progress = Progress(
        _text("Training {task.fields[table]}", style="bold"),
        BarColumn(),
        _text("{task.fields[epoch]}"),
        _text("{task.fields[loss]}"),
        TimeElapsedColumn(),
        _text("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    task = progress.add_task("train", total=None, table=table_name, loss="", epoch="")

    def on_epoch(epoch, epochs_total, logs):
        loss = f"loss {logs.get('loss', float('nan')):.3f}"
        if "val_loss" in logs:
            loss += f"  val {logs['val_loss']:.3f}"
        progress.update(task, completed=epoch, total=epochs_total, loss=loss, epoch=f"epoch {epoch}/{epochs_total}")

    return progress, task, on_epoch


DEFAULT_DATABASE = "model_artifacts/synthetic.duckdb"
TRAIN_OPTIONS = ("epochs", "row_limit", "drop_null", "batch_size", "random_seed", "rare_threshold")


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@_option(
    "--source",
    default=None,
    help="CSV, TSV or Parquet file (local or s3://...) to learn from, or a database URL "
    "(duckdb:///shop.duckdb, postgresql://user@host/db): with --table_name that table, "
    "without it every table, keys read from the database.",
)
@_option("--table_name", default=None, help="Name of the table; models and outputs are filed under it.")
@_option(
    "--metadata_path",
    default=None,
    help="YAML file of linked tables (sources, settings, keys); trains them all. Its values win over these options.",
)
@_option(
    "--epochs",
    type=int,
    default=None,
    help="Maximum training epochs (default: chosen from the table size; early stopping may end sooner).",
)
@_option("--row_limit", type=int, default=None, help="Train on a random sample of this many rows.")
@_option(
    "--drop_null",
    type=_BOOL,
    default=TrainSettings.drop_null,
    show_default=True,
    help="Drop rows that contain nulls before training.",
)
@_option(
    "--batch_size",
    type=int,
    default=TrainSettings.batch_size,
    show_default=True,
    help="Training rows per optimisation step.",
)
@_option("--random_seed", type=int, default=None, help="Seed for reproducible training.")
@_option(
    "--rare_threshold",
    type=click.IntRange(min=1),
    default=TrainSettings.rare_threshold,
    show_default=True,
    help="Category values seen fewer times are never generated as they are (1 keeps them all).",
)
@_option(
    "--schema",
    default=None,
    help="With a database URL as --source alone: learn the tables of this schema (PostgreSQL, DuckDB) "
    "instead of the default one.",
)
@click.pass_context
def train(
    ctx,
    source,
    table_name,
    metadata_path,
    epochs,
    row_limit,
    drop_null,
    batch_size,
    random_seed,
    rare_threshold,
    schema,
):
    """Learn a table (or every table of --metadata_path) and save its model under
    ./model_artifacts/resources/TABLE_NAME."""
    if metadata_path:
        if source or table_name:
            _log("--source and --table_name are ignored: the metadata file names the tables and sources")
        metadata = _load_metadata(metadata_path)
        return _train_linked(metadata, _given(ctx, *TRAIN_OPTIONS))
    if source and not table_name and _is_database(source):
        return _train_database(source, _given(ctx, *TRAIN_OPTIONS), schema)
    if schema is not None:
        raise SyngenError(
            "--schema applies to a database URL as --source alone (every table of the schema); "
            "for one table, give --table_name SCHEMA.TABLE"
        )
    if not source or not table_name:
        raise SyngenError(
            "give --source and --table_name, or --metadata_path "
            "(or a database URL as --source alone, to learn all its tables)"
        )
    from syngen.runs import train_table

    progress, task, on_epoch = _training_progress(table_name)

    def on_start(data):
        from syngen.adapters.sources import describe_source

        _say("Read ", _bold(f"{len(data):,}"), f" rows x {data.shape[1]} columns from {describe_source(source)}")

    with _shown(progress):
        result = train_table(
            source,
            table_name,
            epochs=epochs,
            row_limit=row_limit,
            drop_null=drop_null,
            batch_size=batch_size,
            random_seed=random_seed,
            rare_threshold=rare_threshold,
            on_start=on_start,
            on_epoch=on_epoch,
        )
    kinds = Table(title=f"Columns of {table_name}", show_edge=False)
    kinds.add_column("column")
    kinds.add_column("kind")
    for column, kind in result.kinds.items():
        kinds.add_row(column, kind)
    console.print(kinds)
    _print_identifying({table_name: result.identifying})
    for note in result.notes:
        _log(note)
    _say(
        f"Trained on {result.rows:,} rows in {result.seconds:.1f} s ({_count(result.epochs_run, 'epoch')}); "
        "model saved to ",
        _bold(result.model_dir),
    )


def _is_database(source) -> bool:
    from syngen.adapters.sql import is_database_url

    return is_database_url(source)


def _train_database(url, given: dict, schema: str | None = None) -> None:
    """Every table of a database (or of one of its schemas): its declared keys become a
    metadata file in the artifacts folder, which ``infer --metadata_path`` then uses."""
    from syngen import artifacts
    from syngen.metadata.discover import discover

    target = artifacts.root() / "metadata.yaml"
    drafted = target.with_name(".metadata.yaml.new")  # in place once the models are, not before
    text = discover(url, schema)
    target.parent.mkdir(parents=True, exist_ok=True)
    drafted.write_text(text)
    # the file shows the database without its password; the run reads it with one
    metadata = _load_metadata(drafted, check_sources=False).read_from(url)
    _say(f"Found {len(metadata.tables)} tables; their keys go to {target}")
    _train_linked(metadata, given)
    os.replace(drafted, target)
    _say(f"Next: syngen infer --metadata_path {target}")


def _train_linked(metadata, given: dict) -> None:
    from syngen.linked.train import train_tables

    progress, task, on_epoch = _training_progress("")

    def on_table(name, rows):
        progress.reset(task, total=None)
        progress.update(task, table=f"{name} ({rows:,} rows)", loss="", epoch="")

    with _shown(progress):
        reports = train_tables(metadata, given, log=_log, on_table=on_table, on_epoch=on_epoch)
    summary = Table(title="Trained tables", show_edge=False)
    for column in ("table", "rows", "epochs", "seconds", "notes"):
        summary.add_column(column)
    for report in reports:
        summary.add_row(
            report.table, f"{report.rows:,}", str(report.epochs_run), f"{report.seconds:.1f}", "\n".join(report.notes)
        )
    console.print(summary)
    _print_identifying({report.table: report.identifying for report in reports})
    _say("Models saved under ", _bold("model_artifacts/resources/"))


def _print_identifying(tables: dict[str, dict[str, str]]) -> None:
    """Which columns are treated as personal data, and how (user text printed literally)."""
    listed = Table(title="Personal data: never copied", show_edge=False)
    for column in ("table", "column", "treated as"):
        listed.add_column(column)
    for table, columns in tables.items():
        for column, how in columns.items():
            listed.add_row(table, column, how)
    if listed.row_count:
        console.print(listed)
    else:
        _say(
            "No column was recognised as personal data (names, addresses, phones, ids); "
            "declare one with columns: {COLUMN: {kind: phone}} in a metadata file"
        )


@click.command(cls=_Command, context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("size_arg", metavar="[SIZE]", required=False, type=int)
@click.argument("table_arg", metavar="[TABLE_NAME]", required=False)
@_option("--size", type=int, default=None, help="Rows to generate (default 100).")
@_option("--table_name", default=None, help="Table whose model to use.")
@_option(
    "--run_parallel",
    type=_BOOL,
    default=False,
    show_default=True,
    help="Generate batches in several processes (same rows as a sequential run).",
)
@_option("--batch_size", type=int, default=None, help="Rows per generated batch; bounds memory (default 50000).")
@_option("--random_seed", type=int, default=None, help="Seed for byte-identical output.")
@_option(
    "--print_report",
    type=_BOOL,
    default=False,
    show_default=True,
    help="Also write the HTML quality and privacy report (real vs synthetic) and print its headline.",
)
@_option(
    "--output",
    default=None,
    help="Output file (.csv, .tsv or .parquet; local or s3://...) or database URL "
    "(duckdb:///out.duckdb, postgresql://user@host/db); default "
    "./model_artifacts/tmp_store/TABLE_NAME/merged_infer_TABLE_NAME.csv. With --metadata_path: "
    "a database URL or a folder (one CSV per table) for tables without a destination "
    f"(syngen infer: duckdb:///{DEFAULT_DATABASE} by default).",
)
@_option(
    "--if_exists",
    type=click.Choice(["fail", "replace", "append"]),
    default="fail",
    show_default=True,
    help="When the output database already has the table: stop, drop and recreate it, or add rows.",
)
@_option(
    "--metadata_path",
    default=None,
    help="YAML file of linked tables: generates them all, parents first, keys valid. "
    "Its values win over these options; --size then applies to tables without parents.",
)
@_option(
    "--scale",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="With --metadata_path: every table about this many times its source's rows "
    "(tables without parents scaled, children following them).",
)
@_option(
    "--condition",
    "conditions",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="A value every generated row keeps (repeat for more columns); the other columns "
    "follow the source's rows that hold it.",
)
@_option(
    "--conditions",
    "conditions_file",
    default=None,
    metavar="FILE",
    help="A CSV or Parquet file of seed rows: one generated row each, keeping its values (blank cells left free).",
)
@_option(
    "--engine",
    type=click.Choice(["local", "spark"]),
    default="local",
    show_default=True,
    help="Where batches are generated: this machine, or Apache Spark tasks (pip install 'syngen[spark]'), "
    "the same rows as a local run. An --output without a file suffix is a folder the tasks write Parquet "
    "parts into (local or s3://), spark:DB.TABLE a table of the session's catalog; files, databases and "
    "--metadata_path runs are written by this process.",
)
@_option(
    "--spark_master",
    default=None,
    metavar="URL",
    help="With --engine spark: the cluster (spark://host:7077, yarn, local[4]; default: the running "
    "session, or local[*]).",
)
@click.pass_context
def infer(
    ctx,
    size_arg,
    table_arg,
    size,
    table_name,
    run_parallel,
    batch_size,
    random_seed,
    print_report,
    output,
    if_exists,
    metadata_path,
    scale,
    conditions,
    conditions_file,
    engine,
    spark_master,
):
    """Generate synthetic rows of a trained table: infer 5000 TABLE_NAME."""
    if spark_master and engine != "spark":
        raise SyngenError("--spark_master goes with --engine spark")
    spark = None
    if engine == "spark":
        from syngen.spark import parts_folder

        if run_parallel:
            raise SyngenError("--run_parallel makes batches on this machine: leave it out with --engine spark")
        spark = Spark(spark_master)
        if not metadata_path and output and (parts_folder(output) or is_spark(output)):
            others = _given(ctx, "print_report", "conditions", "conditions_file")
            if others:
                flag = next(p.opts[0] for p in ctx.command.params if p.name in others)
                raise SyngenError(
                    f"--engine spark into a folder of Parquet parts or a Spark table takes no {flag}: "
                    "give a .parquet or .csv file or a database URL as --output"
                )
            return _infer_on_spark(
                table_name or table_arg,
                size if size is not None else size_arg,
                output,
                if_exists,
                batch_size,
                random_seed,
                spark_master,
            )
    elif output and is_spark(output):
        raise SyngenError(f"'{output}' is a Spark table: add --engine spark")
    if scale is not None and (size is not None or size_arg is not None):
        raise SyngenError("give --size or --scale, not both")
    if metadata_path and (conditions or conditions_file):
        raise SyngenError("--condition and --conditions apply to one table: give --table_name, not --metadata_path")
    if metadata_path:
        given = _given(ctx, "size", "run_parallel", "batch_size", "random_seed", "print_report", "scale")
        if size_arg is not None:
            given["size"] = size_arg
        if spark is not None:
            given["spark"] = spark
        if output is None and ctx.parent is not None:  # 'syngen infer': one embedded database
            output = f"duckdb:///{DEFAULT_DATABASE}"
        return _infer_linked(metadata_path, given, table_name or table_arg, output, if_exists)
    from syngen.runs import infer_table

    if scale is not None:
        raise SyngenError("--scale applies to linked tables: give --metadata_path, or --size for one table")
    size = size if size is not None else size_arg
    given = _conditions(conditions, conditions_file)
    if size is None and (given is None or isinstance(given, dict)):
        size = 100
    table_name = table_name or table_arg
    if not table_name:
        raise SyngenError("which table? give it as 'infer SIZE TABLE_NAME' or --table_name NAME")
    progress = Progress(
        _text("Generating {task.fields[table]}", style="bold"),
        BarColumn(),
        TaskProgressColumn(),
        _text("{task.completed:,.0f}/{task.total:,.0f} rows"),
        _text("{task.fields[speed]}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("infer", total=size if size is not None else len(given), table=table_name, speed="")
    started = time.perf_counter()

    def on_rows(rows):
        progress.advance(task, rows)
        done = progress.tasks[0].completed
        progress.update(task, speed=f"{done / max(time.perf_counter() - started, 1e-9):,.0f} rows/s")

    with _shown(progress):
        result = infer_table(
            table_name,
            size,
            run_parallel=run_parallel,
            batch_size=batch_size,
            random_seed=random_seed,
            output=output,
            if_exists=if_exists,
            on_rows=on_rows,
            conditions=given,
            spark=spark,
        )
    _wrote(result.rows, result.output, started, result.seed)
    _summary(result.preview)
    if print_report:
        _report(lambda report_table, _: report_table(table_name, output or None))


def _infer_on_spark(table_name, size, output, if_exists, batch_size, random_seed, master) -> None:
    """One table made and written by Spark tasks: a folder of Parquet parts or a Spark table."""
    from syngen.adapters.spark_tables import PREFIX
    from syngen.spark import generate_on_spark, write_spark_table

    if not table_name:
        raise SyngenError("which table? give it as 'infer SIZE TABLE_NAME' or --table_name NAME")
    started = time.perf_counter()
    into_table = is_spark(output)
    write = write_spark_table if into_table else generate_on_spark
    with console.status(Text(f"Generating {table_name} on Spark")):
        rows, seed, parts = write(
            table_name,
            size if size is not None else 100,
            output[len(PREFIX) :] if into_table else output,
            batch_size=batch_size,
            random_seed=random_seed,
            master=master,
            if_exists=if_exists,
        )
    how = f" ({_count(parts, 'batch')})" if into_table else f" as {_count(parts, 'Parquet part')}"
    _wrote(rows, output, started, seed, how)


def _count(n: int, noun: str) -> str:
    """``n`` and its noun, plural unless one: 1 epoch, 5 Parquet parts, 2 batches."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}{'es' if noun.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def _wrote(rows: int, output: str, started: float, seed: int, how: str = "") -> None:
    seconds = time.perf_counter() - started
    _say(
        "Wrote ",
        _bold(f"{rows:,}"),
        " rows to ",
        _bold(output),
        f"{how} in {seconds:.1f} s ({rows / max(seconds, 1e-9):,.0f} rows/s, seed {seed})",
    )


def _conditions(pairs: tuple[str, ...], path: str | None):
    """--condition COLUMN=VALUE pairs as a dict, or the seed rows of --conditions FILE."""
    if pairs and path:
        raise SyngenError("give --condition or --conditions, not both")
    if path:
        from syngen.adapters.files import read_table

        return read_table(path)
    given = {}
    for pair in pairs:
        column, equals, value = pair.partition("=")
        if not equals or not column.strip():
            raise SyngenError(f"--condition {pair!r}: write it as COLUMN=VALUE, such as contract=Two year")
        given[column.strip()] = value
    return given or None


def _infer_linked(metadata_path, given: dict, table_name, output, if_exists) -> None:
    from syngen.linked.generate import infer_tables

    if table_name:
        _log("--table_name is ignored: the metadata file names the tables")
    progress = Progress(
        _text("Generating {task.fields[table]}", style="bold"),
        BarColumn(),
        TaskProgressColumn(),
        _text("{task.completed:,.0f}/{task.total:,.0f} rows"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task("infer", total=0, table="")

    def on_table(name, rows):
        progress.reset(task, total=rows)
        progress.update(task, table=name)

    started = time.perf_counter()
    metadata = _load_metadata(metadata_path, check_sources=False)  # generating needs no source
    with _shown(progress):
        reports = infer_tables(
            metadata,
            given,
            output=output,
            if_exists=if_exists,
            log=_log,
            on_table=on_table,
            on_rows=lambda rows: progress.advance(task, rows),
        )
    summary = Table(title="Generated tables", show_edge=False)
    for column in ("table", "rows", "output", "notes"):
        summary.add_column(column)
    for report in reports:
        summary.add_row(report.table, f"{report.rows:,}", str(report.output), "\n".join(report.notes))
    console.print(summary)
    _say(f"Generated {_count(len(reports), 'table')} in {time.perf_counter() - started:.1f} s")
    from syngen.linked.run import destinations, wants_report

    if wants_report(metadata, given):
        _report(lambda _, report_tables: report_tables(metadata, destinations(metadata, output)))


def _report(build) -> None:
    """Build a report (``build`` gets report_table and report_tables) and print its headline."""
    from syngen.report import report_table, report_tables

    started = time.perf_counter()
    with console.status("Writing the report"):
        result = build(report_table, report_tables)
    headline = Table(title="Report", show_edge=False)
    headline.add_column("measure")
    headline.add_column("value", justify="right")
    from syngen.report.page import shown

    for label, value in result.headline.items():
        headline.add_row(label, shown(label, value))
    console.print(headline)
    _say("Report written to ", _bold(result.path), f" in {time.perf_counter() - started:.1f} s")


def _summary(data) -> None:
    """One screen: each generated column's null share, distinct values and examples."""
    table = Table(title="Generated data (sample)", show_edge=False)
    widths = {"column": min(30, max(len(str(c)) for c in data.columns)), "nulls": 5, "distinct": 8}
    for name, width in widths.items():
        table.add_column(name, no_wrap=True, min_width=width)
    table.add_column("examples", overflow="ellipsis", no_wrap=True, ratio=1)
    for column in data.columns:
        values = data[column]
        examples = ", ".join(map(str, values.dropna().unique()[:4]))
        table.add_row(str(column), f"{values.isna().mean():.0%}", f"{values.nunique():,}", examples)
    console.print(table)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="syngen", prog_name="syngen")
def cli():
    """syngen: learn real tables and generate realistic synthetic ones."""


cli.add_command(train)
cli.add_command(infer)


@cli.group()
def metadata():
    """Check and explain metadata files."""


@metadata.command("validate")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--no-sources", is_flag=True, help="Check the file alone, without opening the sources.")
def validate(path, no_sources):
    """Check a metadata file against the schema and its sources; list every problem."""
    from syngen.metadata import load_metadata
    from syngen.metadata.graph import plan

    loaded = load_metadata(path, check_sources=not no_sources)
    order = plan(loaded)
    _say(("OK", "green"), f": {len(loaded.tables)} tables; generation order: {', '.join(order.order)}")
    for table, key in sorted(order.late):
        _say(f"  {table}.{key} closes a loop: filled after its parent is generated")


@metadata.command("infer")
@click.option(
    "--source",
    required=True,
    help="Folder of CSV/Parquet files, one table each (named after the file), or a database "
    "URL (its declared keys; guessed from the data where it declares none).",
)
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the YAML here (default: print it). Sources in it are relative to this file.",
)
@click.option(
    "--schema",
    default=None,
    help="With a database URL: the tables of this schema (PostgreSQL, DuckDB), named SCHEMA.TABLE.",
)
def infer_metadata(source, output, schema):
    """Propose a metadata file: PKs and FKs guessed from the data, with their evidence."""
    from pathlib import Path

    from syngen.metadata.discover import discover

    text = discover(source, schema)
    if output:
        target = Path(output)
        if not _is_database(source):
            text = text.replace("  source: ", "  source: " + _relative_prefix(Path(source), target.parent))
        target.write_text(text)
        _say("Wrote ", _bold(target), f"; check the keys, then: syngen metadata validate {target}")
    else:
        click.echo(text)


def _relative_prefix(source, folder) -> str:
    import os

    prefix = os.path.relpath(source.resolve(), folder.resolve())
    return "" if prefix == "." else prefix.replace(os.sep, "/") + "/"


@cli.command()
@click.argument("table_name", required=False)
@click.option(
    "--metadata_path",
    "--metadata-path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Report every table of a linked run (keys and children per parent too).",
)
@click.option(
    "--synthetic",
    default=None,
    help="Where the synthetic data is: a file or database URL (default: where infer writes it; "
    "with --metadata_path, a database URL or folder as given to infer --output).",
)
@click.option(
    "--real",
    default=None,
    help="Where the real data is: a file or database URL (default: the model's source, but a database "
    "URL is kept without its password: give it here or in the SYNGEN_REAL_URL environment variable).",
)
@click.option("--target", default=None, help="A column to predict: train on synthetic, test on real.")
@click.option(
    "--output",
    default=None,
    type=click.Path(dir_okay=False),
    help="The HTML file (default: model_artifacts/tmp_store/TABLE/report_TABLE.html, "
    "or model_artifacts/tmp_store/report.html for linked tables).",
)
def report(table_name, metadata_path, synthetic, real, target, output):
    """Compare real and synthetic data in one HTML page: distributions, pairs, accuracy matrix,
    privacy and utility."""
    if metadata_path:
        from syngen.linked.run import destinations

        metadata = _load_metadata(metadata_path, check_sources=False)
        from pathlib import Path

        default = f"duckdb:///{DEFAULT_DATABASE}" if Path(DEFAULT_DATABASE).exists() else None
        locations = destinations(metadata, synthetic or default)
        return _report(lambda _, report_tables: report_tables(metadata, locations, real=real, output=output))
    if not table_name:
        raise SyngenError("which table? syngen report TABLE_NAME, or --metadata_path FILE")
    _report(lambda report_table, _: report_table(table_name, synthetic, real=real, target=target, output=output))


@cli.command("dbt")
@click.option(
    "--project",
    "project_dir",
    required=True,
    type=click.Path(file_okay=False, exists=True),
    help="The dbt project (the folder of dbt_project.yml).",
)
@click.option("--select", multiple=True, help="Seeds to generate (repeat; default: all).")
@click.option("--size", type=int, default=None, help="Rows of each seed without parents (children follow).")
@click.option("--scale", type=float, default=None, help="Or: seeds without parents at this share of their rows.")
@click.option("--random_seed", "--random-seed", type=int, default=None, help="Seed for reproducible output.")
@click.option("--epochs", type=int, default=None, help="Maximum training epochs per seed.")
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Folder for the synthetic seeds and their properties file (default PROJECT/synthetic_seeds).",
)
@click.option("--overwrite", is_flag=True, help="Replace files already in --out.")
@click.option(
    "--build",
    is_flag=True,
    help="Then run 'dbt build' on a copy of the project with these seeds; fail if any of the project's tests fails.",
)
@click.option(
    "--to-database",
    is_flag=True,
    help="Write the synthetic tables where 'dbt seed' puts seeds in the profile's target, instead of "
    "files (duckdb, postgres, redshift, mysql, snowflake, trino profiles).",
)
@click.option(
    "--from-database", is_flag=True, help="Learn the seeds from the tables 'dbt seed' made in the profile's target."
)
@click.option(
    "--compile",
    "compile_first",
    is_flag=True,
    help="Have your dbt compile a copy of the project first, and read the models' compiled SQL.",
)
@click.option("--vars", "dbt_vars", default=None, help="dbt vars as YAML, as dbt takes them: '{key: value}'.")
@click.option(
    "--dbt", "dbt_command", default="dbt", show_default=True, help="The dbt executable for --build and --compile."
)
@click.option(
    "--profiles-dir",
    default=None,
    type=click.Path(file_okay=False),
    help="dbt's profiles folder (default: the project's, else ~/.dbt).",
)
@click.option("--target", default=None, help="dbt target (default: the profile's).")
def dbt_command_group(
    project_dir,
    select,
    size,
    scale,
    random_seed,
    epochs,
    out,
    overwrite,
    build,
    to_database,
    from_database,
    compile_first,
    dbt_vars,
    dbt_command,
    profiles_dir,
    target,
):
    """Learn a dbt project's seeds, with its tests as keys, and write synthetic seeds."""
    from pathlib import Path

    from syngen.seeds import build as run_build
    from syngen.seeds import generate_seeds, parse_vars

    if size is not None and scale is not None:
        raise SyngenError("give --size or --scale, not both")
    if build and to_database:
        raise SyngenError("--build runs dbt on synthetic seed files; leave out --to-database")
    variables = parse_vars(dbt_vars)
    with console.status("Learning and generating the seeds"):
        result = generate_seeds(
            project_dir,
            out,
            select=list(select) or None,
            size=size,
            scale=scale,
            random_seed=random_seed,
            epochs=epochs,
            overwrite=overwrite,
            from_database=from_database,
            to_database=to_database,
            profiles_dir=profiles_dir,
            target=target,
            vars=variables,
            compile_with=dbt_command if compile_first else None,
            log=_log,
        )
    for line in result.mapping.notes:
        _say("  ", line)
    for label, style, lines in (
        ("mapped", "green", result.mapping.applied),
        ("not mapped", "yellow", result.mapping.unmapped),
        ("violates", "red", result.violations),
    ):
        for line in lines:
            _say("  ", (label, style), f" {line}")
    _say(f"Wrote {len(result.rows)} seeds ({sum(result.rows.values()):,} rows) to ", _bold(result.out))
    if build:
        with console.status("dbt build on the synthetic seeds"):
            output = run_build(
                project_dir,
                Path(result.out),
                list(result.rows),
                dbt=dbt_command,
                profiles_dir=profiles_dir,
                target=target,
                vars=variables,
            )
        done = [line for line in output.splitlines() if "Done. PASS=" in line]
        _say(f"dbt build passed: {done[-1].split('Done. ')[-1] if done else 'ok'}")
    if result.violations:
        sys.exit(1)


@cli.command()
def schema():
    """Print the metadata JSON Schema (for editors: save it, or point them at the path on stderr)."""
    from syngen.metadata import schema_path

    path = schema_path()
    _say(f"# {path}")
    click.echo(path.read_text())


if __name__ == "__main__":  # python -m syngen.cli.main, as python -m syngen
    cli()
