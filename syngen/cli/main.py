"""Command line: ``train`` and ``infer`` (the original syngen's flags) and the ``syngen`` group.

Commands only parse, call ``syngen.runs``, and render with rich. Nothing here imports the
deep-learning backend, so ``--help`` is instant.
"""
from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from syngen.errors import SyngenError

console = Console(stderr=True)
_BOOL = click.BOOL


def _fail(error: Exception) -> None:
    console.print(f"[bold red]Error:[/] {error}", highlight=False)
    sys.exit(1)


def _option(*names, **kwargs):
    """An option spelled as the original syngen does (``--table_name``) and also with dashes."""
    dashed = [n.replace("_", "-") for n in names if n.startswith("--") and "_" in n]
    return click.option(*names, *dashed, **kwargs)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@_option("--source", required=True, help="CSV, TSV or Parquet file to learn from.")
@_option("--table_name", required=True, help="Name of the table; models and outputs are filed under it.")
@_option("--epochs", type=int, default=None,
         help="Maximum training epochs (default: chosen from the table size; early stopping may end sooner).")
@_option("--row_limit", type=int, default=None, help="Train on a random sample of this many rows.")
@_option("--drop_null", type=_BOOL, default=False, show_default=True, help="Drop rows that contain nulls before training.")
@_option("--batch_size", type=int, default=256, show_default=True, help="Training rows per optimisation step.")
@_option("--random_seed", type=int, default=None, help="Seed for reproducible training.")
def train(source, table_name, epochs, row_limit, drop_null, batch_size, random_seed):
    """Learn a table and save its model under ./model_artifacts/resources/TABLE_NAME."""
    from syngen.runs import train_table

    progress = Progress(TextColumn("[bold]Training {task.fields[table]}"), BarColumn(),
                        TextColumn("{task.fields[epoch]}"),
                        TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=console, transient=False)
    task = progress.add_task("train", total=None, table=table_name, loss="", epoch="")

    def on_start(data):
        console.print(f"Read [bold]{len(data):,}[/] rows x {data.shape[1]} columns from {source}",
                      highlight=False)

    def on_epoch(epoch, epochs_total, logs):
        loss = f"loss {logs.get('loss', float('nan')):.3f}"
        if "val_loss" in logs:
            loss += f"  val {logs['val_loss']:.3f}"
        progress.update(task, completed=epoch, total=epochs_total, loss=loss,
                        epoch=f"epoch {epoch}/{epochs_total}")

    try:
        with progress:
            result = train_table(source, table_name, epochs=epochs, row_limit=row_limit,
                                 drop_null=drop_null, batch_size=batch_size, random_seed=random_seed,
                                 on_start=on_start, on_epoch=on_epoch)
    except SyngenError as error:
        _fail(error)
    kinds = Table(title=f"Columns of {table_name}", show_edge=False)
    kinds.add_column("column")
    kinds.add_column("kind")
    for column, kind in result.kinds.items():
        kinds.add_row(column, kind)
    console.print(kinds)
    console.print(f"Trained on {result.rows:,} rows in {result.seconds:.1f} s "
                  f"({result.epochs_run} epochs); model saved to [bold]{result.model_dir}[/]", highlight=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("size_arg", metavar="[SIZE]", required=False, type=int)
@click.argument("table_arg", metavar="[TABLE_NAME]", required=False)
@_option("--size", type=int, default=None, help="Rows to generate (default 100).")
@_option("--table_name", default=None, help="Table whose model to use.")
@_option("--run_parallel", type=_BOOL, default=False, show_default=True,
         help="Generate batches in several processes (same rows as a sequential run).")
@_option("--batch_size", type=int, default=None,
         help="Rows per generated batch; bounds memory (default 50000).")
@_option("--random_seed", type=int, default=None, help="Seed for byte-identical output.")
@_option("--print_report", type=_BOOL, default=False, show_default=True, help="Write a quality report.")
@_option("--output", default=None,
         help="Output file (.csv, .tsv or .parquet); default "
              "./model_artifacts/tmp_store/TABLE_NAME/merged_infer_TABLE_NAME.csv.")
def infer(size_arg, table_arg, size, table_name, run_parallel, batch_size, random_seed, print_report, output):
    """Generate synthetic rows of a trained table: infer 5000 TABLE_NAME."""
    from syngen.runs import infer_table

    size = size if size is not None else (size_arg if size_arg is not None else 100)
    table_name = table_name or table_arg
    if not table_name:
        _fail(SyngenError("which table? give it as 'infer SIZE TABLE_NAME' or --table_name NAME"))
    progress = Progress(TextColumn("[bold]Generating {task.fields[table]}"), BarColumn(), TaskProgressColumn(),
                        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"),
                        TextColumn("{task.fields[speed]}"), TimeElapsedColumn(), console=console)
    task = progress.add_task("infer", total=size, table=table_name, speed="")
    started = time.perf_counter()

    def on_rows(rows):
        progress.advance(task, rows)
        done = progress.tasks[0].completed
        progress.update(task, speed=f"{done / max(time.perf_counter() - started, 1e-9):,.0f} rows/s")

    try:
        with progress:
            result = infer_table(table_name, size, run_parallel=run_parallel, batch_size=batch_size,
                                 random_seed=random_seed, output=output, on_rows=on_rows)
    except SyngenError as error:
        _fail(error)
    seconds = time.perf_counter() - started
    console.print(f"Wrote [bold]{result.rows:,}[/] rows to [bold]{result.output}[/] in {seconds:.1f} s "
                  f"({result.rows / max(seconds, 1e-9):,.0f} rows/s, seed {result.seed})", highlight=False)
    _summary(result.preview)
    if print_report:
        console.print("The quality report is not available yet in this version; "
                      "the synthetic data was written as usual.")


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="syngen", prog_name="syngen")
def cli():
    """syngen: learn real tables and generate realistic synthetic ones."""


cli.add_command(train)
cli.add_command(infer)
