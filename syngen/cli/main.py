"""Command line: ``train`` and ``infer`` (the original syngen's flags) and the ``syngen`` group.

Commands only parse, call ``syngen.runs``, and render with rich. Nothing here imports the
deep-learning backend, so ``--help`` is instant.
"""
from __future__ import annotations

import os
import sys
import time

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from syngen.errors import SyngenError

console = Console(stderr=True)
_BOOL = click.BOOL


def _fail(error: Exception) -> None:
    console.print(Text.assemble(("Error: ", "bold red"), str(error)), highlight=False)  # user text as is
    sys.exit(1)


def _option(*names, **kwargs):
    """An option spelled as the original syngen does (``--table_name``) and also with dashes."""
    dashed = [n.replace("_", "-") for n in names if n.startswith("--") and "_" in n]
    return click.option(*names, *dashed, **kwargs)


def _given(ctx: click.Context, *names: str) -> dict:
    """The options the user typed (metadata values win over these, defaults do not count)."""
    return {name: ctx.params[name] for name in names
            if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}


def _load_metadata(path, check_sources: bool = True):
    from syngen.metadata import load_metadata

    return load_metadata(path, check_sources=check_sources)


def _log(message: str) -> None:
    console.print(Text.assemble(("Note: ", "yellow"), str(message)), highlight=False)


def _training_progress(table_name: str):
    progress = Progress(TextColumn("[bold]Training {task.fields[table]}"), BarColumn(),
                        TextColumn("{task.fields[epoch]}"),
                        TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=console, transient=False)
    task = progress.add_task("train", total=None, table=table_name, loss="", epoch="")

    def on_epoch(epoch, epochs_total, logs):
        loss = f"loss {logs.get('loss', float('nan')):.3f}"
        if "val_loss" in logs:
            loss += f"  val {logs['val_loss']:.3f}"
        progress.update(task, completed=epoch, total=epochs_total, loss=loss,
                        epoch=f"epoch {epoch}/{epochs_total}")
    return progress, task, on_epoch


DEFAULT_DATABASE = "model_artifacts/synthetic.duckdb"
TRAIN_OPTIONS = ("epochs", "row_limit", "drop_null", "batch_size", "random_seed", "rare_threshold")


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@_option("--source", default=None,
         help="CSV, TSV or Parquet file (local or s3://...) to learn from, or a database URL "
              "(duckdb:///shop.duckdb, postgresql://user@host/db): with --table_name that table, "
              "without it every table, keys read from the database.")
@_option("--table_name", default=None, help="Name of the table; models and outputs are filed under it.")
@_option("--metadata_path", default=None,
         help="YAML file of linked tables (sources, settings, keys); trains them all. Its values win over these options.")
@_option("--epochs", type=int, default=None,
         help="Maximum training epochs (default: chosen from the table size; early stopping may end sooner).")
@_option("--row_limit", type=int, default=None, help="Train on a random sample of this many rows.")
@_option("--drop_null", type=_BOOL, default=False, show_default=True, help="Drop rows that contain nulls before training.")
@_option("--batch_size", type=int, default=256, show_default=True, help="Training rows per optimisation step.")
@_option("--random_seed", type=int, default=None, help="Seed for reproducible training.")
@_option("--rare_threshold", type=click.IntRange(min=1), default=5, show_default=True,
         help="Category values seen fewer times are never generated as they are (1 keeps them all).")
@_option("--schema", default=None,
         help="With a database URL as --source alone: learn the tables of this schema (PostgreSQL, DuckDB) "
              "instead of the default one.")
@click.pass_context
def train(ctx, source, table_name, metadata_path, epochs, row_limit, drop_null, batch_size, random_seed,
          rare_threshold, schema):
    """Learn a table (or every table of --metadata_path) and save its model under
    ./model_artifacts/resources/TABLE_NAME."""
    if metadata_path:
        if source or table_name:
            _log("--source and --table_name are ignored: the metadata file names the tables and sources")
        try:
            metadata = _load_metadata(metadata_path)
        except SyngenError as error:
            _fail(error)
        return _train_linked(metadata, _given(ctx, *TRAIN_OPTIONS))
    if source and not table_name and _is_database(source):
        return _train_database(source, _given(ctx, *TRAIN_OPTIONS), schema)
    if schema is not None:
        _fail(SyngenError("--schema applies to a database URL as --source alone (every table of the schema); "
                          "for one table, give --table_name SCHEMA.TABLE"))
    if not source or not table_name:
        _fail(SyngenError("give --source and --table_name, or --metadata_path "
                          "(or a database URL as --source alone, to learn all its tables)"))
    from syngen.runs import train_table

    progress, task, on_epoch = _training_progress(table_name)

    def on_start(data):
        console.print(f"Read [bold]{len(data):,}[/] rows x {data.shape[1]} columns from {source}",
                      highlight=False)

    try:
        with progress:
            result = train_table(source, table_name, epochs=epochs, row_limit=row_limit,
                                 drop_null=drop_null, batch_size=batch_size, random_seed=random_seed,
                                 rare_threshold=rare_threshold, on_start=on_start, on_epoch=on_epoch)
    except SyngenError as error:
        _fail(error)
    kinds = Table(title=f"Columns of {table_name}", show_edge=False)
    kinds.add_column("column")
    kinds.add_column("kind")
    for column, kind in result.kinds.items():
        kinds.add_row(column, kind)
    console.print(kinds)
    _print_identifying({table_name: result.identifying})
    for note in result.notes:
        _log(note)
    console.print(f"Trained on {result.rows:,} rows in {result.seconds:.1f} s "
                  f"({result.epochs_run} epochs); model saved to [bold]{result.model_dir}[/]", highlight=False)


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
    try:
        text = discover(url, schema)
        target.parent.mkdir(parents=True, exist_ok=True)
        drafted.write_text(text)
        metadata = _load_metadata(drafted, check_sources=False)
    except SyngenError as error:
        _fail(error)
    for table in metadata.tables.values():
        table.source = url  # the file shows it without its password
    console.print(Text(f"Found {len(metadata.tables)} tables; their keys go to {target}"), highlight=False)
    _train_linked(metadata, given)
    os.replace(drafted, target)
    console.print(Text(f"Next: syngen infer --metadata_path {target}"), highlight=False)


def _train_linked(metadata, given: dict) -> None:
    from syngen.relational import train_tables

    progress, task, on_epoch = _training_progress("")

    def on_table(name, rows):
        progress.reset(task, total=None)
        progress.update(task, table=f"{name} ({rows:,} rows)", loss="", epoch="")

    try:
        with progress:
            reports = train_tables(metadata, given, log=_log, on_table=on_table, on_epoch=on_epoch)
    except SyngenError as error:
        _fail(error)
    summary = Table(title="Trained tables", show_edge=False)
    for column in ("table", "rows", "epochs", "seconds", "notes"):
        summary.add_column(column)
    for report in reports:
        summary.add_row(report.table, f"{report.rows:,}", str(report.epochs_run), f"{report.seconds:.1f}",
                        "\n".join(report.notes))
    console.print(summary)
    _print_identifying({report.table: report.identifying for report in reports})
    console.print("Models saved under [bold]model_artifacts/resources/[/]", highlight=False)


def _print_identifying(tables: dict[str, dict[str, str]]) -> None:
    """Which columns are treated as personal data, and how (user text printed literally)."""
    listed = Table(title="Personal data: never copied", show_edge=False)
    for column in ("table", "column", "treated as"):
        listed.add_column(column)
    for table, columns in tables.items():
        for column, how in columns.items():
            listed.add_row(Text(table), Text(column), Text(how))
    if listed.row_count:
        console.print(listed)
    else:
        console.print("No column was recognised as personal data (names, addresses, phones, ids); "
                      "declare one with columns: {COLUMN: {kind: phone}} in a metadata file", markup=False)


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
@_option("--print_report", type=_BOOL, default=False, show_default=True,
         help="Also write the HTML quality and privacy report (real vs synthetic) and print its headline.")
@_option("--output", default=None,
         help="Output file (.csv, .tsv or .parquet; local or s3://...) or database URL "
              "(duckdb:///out.duckdb, postgresql://user@host/db); default "
              "./model_artifacts/tmp_store/TABLE_NAME/merged_infer_TABLE_NAME.csv. With --metadata_path: "
              "a database URL or a folder (one CSV per table) for tables without a destination "
              f"(syngen infer: duckdb:///{DEFAULT_DATABASE} by default).")
@_option("--if_exists", type=click.Choice(["fail", "replace", "append"]), default="fail", show_default=True,
         help="When the output database already has the table: stop, drop and recreate it, or add rows.")
@_option("--metadata_path", default=None,
         help="YAML file of linked tables: generates them all, parents first, keys valid. "
              "Its values win over these options; --size then applies to tables without parents.")
@_option("--scale", type=click.FloatRange(min=0, min_open=True), default=None,
         help="With --metadata_path: every table about this many times its source's rows "
              "(tables without parents scaled, children following them).")
@click.pass_context
def infer(ctx, size_arg, table_arg, size, table_name, run_parallel, batch_size, random_seed, print_report,
          output, if_exists, metadata_path, scale):
    """Generate synthetic rows of a trained table: infer 5000 TABLE_NAME."""
    if scale is not None and (size is not None or size_arg is not None):
        _fail(SyngenError("give --size or --scale, not both"))
    if metadata_path:
        given = _given(ctx, "size", "run_parallel", "batch_size", "random_seed", "print_report", "scale")
        if size_arg is not None:
            given["size"] = size_arg
        if output is None and ctx.parent is not None:  # 'syngen infer': one embedded database
            output = f"duckdb:///{DEFAULT_DATABASE}"
        return _infer_linked(metadata_path, given, table_name or table_arg, output, if_exists)
    from syngen.runs import infer_table

    if scale is not None:
        _fail(SyngenError("--scale applies to linked tables: give --metadata_path, or --size for one table"))
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
                                 random_seed=random_seed, output=output, if_exists=if_exists, on_rows=on_rows)
    except SyngenError as error:
        _fail(error)
    seconds = time.perf_counter() - started
    console.print(f"Wrote [bold]{result.rows:,}[/] rows to [bold]{result.output}[/] in {seconds:.1f} s "
                  f"({result.rows / max(seconds, 1e-9):,.0f} rows/s, seed {result.seed})", highlight=False)
    _summary(result.preview)
    if print_report:
        _report(lambda report_table, _: report_table(table_name, output or None))


def _infer_linked(metadata_path, given: dict, table_name, output, if_exists) -> None:
    from syngen.relational import infer_tables

    if table_name:
        _log("--table_name is ignored: the metadata file names the tables")
    progress = Progress(TextColumn("[bold]Generating {task.fields[table]}"), BarColumn(), TaskProgressColumn(),
                        TextColumn("{task.completed:,.0f}/{task.total:,.0f} rows"), TimeElapsedColumn(),
                        console=console)
    task = progress.add_task("infer", total=0, table="")

    def on_table(name, rows):
        progress.reset(task, total=rows)
        progress.update(task, table=name)

    started = time.perf_counter()
    try:
        metadata = _load_metadata(metadata_path, check_sources=False)  # generating needs no source
        with progress:
            reports = infer_tables(metadata, given, output=output, if_exists=if_exists, log=_log,
                                   on_table=on_table, on_rows=lambda rows: progress.advance(task, rows))
    except SyngenError as error:
        _fail(error)
    summary = Table(title="Generated tables", show_edge=False)
    for column in ("table", "rows", "output", "notes"):
        summary.add_column(column)
    for report in reports:
        summary.add_row(report.table, f"{report.rows:,}", str(report.output), "\n".join(report.notes))
    console.print(summary)
    console.print(f"Generated {len(reports)} tables in {time.perf_counter() - started:.1f} s", highlight=False)
    from syngen.relational import destinations, wants_report

    if wants_report(metadata, given):
        _report(lambda _, report_tables: report_tables(metadata, destinations(metadata, output)))


def _report(build) -> None:
    """Build a report (``build`` gets report_table and report_tables) and print its headline."""
    from syngen.report import report_table, report_tables

    started = time.perf_counter()
    try:
        with console.status("Writing the report"):
            result = build(report_table, report_tables)
    except SyngenError as error:
        _fail(error)
    headline = Table(title="Report", show_edge=False)
    headline.add_column("measure")
    headline.add_column("value", justify="right")
    from syngen.report.page import shown

    for label, value in result.headline.items():
        headline.add_row(label, shown(label, value))
    console.print(headline)
    console.print(f"Report written to [bold]{result.path}[/] in {time.perf_counter() - started:.1f} s",
                  highlight=False)


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

    try:
        loaded = load_metadata(path, check_sources=not no_sources)
    except SyngenError as error:
        _fail(error)
    order = plan(loaded)
    console.print(f"[green]OK[/]: {len(loaded.tables)} tables; generation order: {', '.join(order.order)}",
                  highlight=False)
    for table, key in sorted(order.late):
        console.print(f"  {table}.{key} closes a loop: filled after its parent is generated", highlight=False)


@metadata.command("infer")
@click.option("--source", required=True,
              help="Folder of CSV/Parquet files, one table each (named after the file), or a database "
                   "URL (its declared keys; guessed from the data where it declares none).")
@click.option("--output", default=None, type=click.Path(dir_okay=False),
              help="Write the YAML here (default: print it). Sources in it are relative to this file.")
@click.option("--schema", default=None,
              help="With a database URL: the tables of this schema (PostgreSQL, DuckDB), named SCHEMA.TABLE.")
def infer_metadata(source, output, schema):
    """Propose a metadata file: PKs and FKs guessed from the data, with their evidence."""
    from pathlib import Path

    from syngen.metadata.discover import discover

    try:
        text = discover(source, schema)
        if output:
            target = Path(output)
            if not _is_database(source):
                text = text.replace("  source: ", "  source: " + _relative_prefix(Path(source), target.parent))
            target.write_text(text)
            console.print(f"Wrote [bold]{target}[/]; check the keys, then: "
                          f"syngen metadata validate {target}", highlight=False)
        else:
            click.echo(text)
    except SyngenError as error:
        _fail(error)


def _relative_prefix(source, folder) -> str:
    import os

    prefix = os.path.relpath(source.resolve(), folder.resolve())
    return "" if prefix == "." else prefix.replace(os.sep, "/") + "/"


@cli.command()
@click.argument("table_name", required=False)
@click.option("--metadata_path", "--metadata-path", default=None, type=click.Path(dir_okay=False),
              help="Report every table of a linked run (keys and children per parent too).")
@click.option("--synthetic", default=None,
              help="Where the synthetic data is: a file or database URL (default: where infer writes it; "
                   "with --metadata_path, a database URL or folder as given to infer --output).")
@click.option("--target", default=None, help="A column to predict: train on synthetic, test on real.")
@click.option("--output", default=None, type=click.Path(dir_okay=False),
              help="The HTML file (default: model_artifacts/tmp_store/TABLE/report_TABLE.html, "
                   "or model_artifacts/tmp_store/report.html for linked tables).")
def report(table_name, metadata_path, synthetic, target, output):
    """Compare real and synthetic data in one HTML page: distributions, pairs, accuracy matrix,
    privacy and utility."""
    if metadata_path:
        from syngen.relational import destinations

        try:
            metadata = _load_metadata(metadata_path, check_sources=False)
        except SyngenError as error:
            _fail(error)
        from pathlib import Path

        default = f"duckdb:///{DEFAULT_DATABASE}" if Path(DEFAULT_DATABASE).exists() else None
        locations = destinations(metadata, synthetic or default)
        return _report(lambda _, report_tables: report_tables(metadata, locations, output=output))
    if not table_name:
        _fail(SyngenError("which table? syngen report TABLE_NAME, or --metadata_path FILE"))
    _report(lambda report_table, _: report_table(table_name, synthetic, target=target, output=output))


@cli.command("dbt")
@click.option("--project", "project_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="The dbt project (the folder of dbt_project.yml).")
@click.option("--select", multiple=True, help="Seeds to generate (repeat; default: all).")
@click.option("--size", type=int, default=None, help="Rows of each seed without parents (children follow).")
@click.option("--scale", type=float, default=None, help="Or: seeds without parents at this share of their rows.")
@click.option("--random_seed", "--random-seed", type=int, default=None, help="Seed for reproducible output.")
@click.option("--epochs", type=int, default=None, help="Maximum training epochs per seed.")
@click.option("--out", default=None, type=click.Path(file_okay=False),
              help="Folder for the synthetic seeds and their properties file (default PROJECT/synthetic_seeds).")
@click.option("--overwrite", is_flag=True, help="Replace files already in --out.")
@click.option("--build", is_flag=True, help="Then run 'dbt build' on a copy of the project with these seeds; "
                                           "fail if any of the project's tests fails.")
@click.option("--to-database", is_flag=True,
              help="Write the synthetic tables where 'dbt seed' puts seeds in the profile's target, instead of "
                   "files (duckdb, postgres, redshift, mysql, snowflake, trino profiles).")
@click.option("--from-database", is_flag=True,
              help="Learn the seeds from the tables 'dbt seed' made in the profile's target.")
@click.option("--compile", "compile_first", is_flag=True,
              help="Have your dbt compile a copy of the project first, and read the models' compiled SQL.")
@click.option("--vars", "dbt_vars", default=None, help="dbt vars as YAML, as dbt takes them: '{key: value}'.")
@click.option("--dbt", "dbt_command", default="dbt", show_default=True, help="The dbt executable for --build "
                                                                            "and --compile.")
@click.option("--profiles-dir", default=None, type=click.Path(file_okay=False),
              help="dbt's profiles folder (default: the project's, else ~/.dbt).")
@click.option("--target", default=None, help="dbt target (default: the profile's).")
def dbt_command_group(project_dir, select, size, scale, random_seed, epochs, out, overwrite, build, to_database,
                      from_database, compile_first, dbt_vars, dbt_command, profiles_dir, target):
    """Learn a dbt project's seeds, with its tests as keys, and write synthetic seeds."""
    from pathlib import Path

    from syngen.seeds import build as run_build, generate_seeds, parse_vars

    if size is not None and scale is not None:
        _fail(SyngenError("give --size or --scale, not both"))
    if build and to_database:
        _fail(SyngenError("--build runs dbt on synthetic seed files; leave out --to-database"))
    try:
        variables = parse_vars(dbt_vars)
        with console.status("Learning and generating the seeds"):
            result = generate_seeds(project_dir, out, select=list(select) or None, size=size, scale=scale,
                                    random_seed=random_seed, epochs=epochs, overwrite=overwrite,
                                    from_database=from_database, to_database=to_database,
                                    profiles_dir=profiles_dir, target=target, vars=variables,
                                    compile_with=dbt_command if compile_first else None,
                                    log=_log)
        for line in result.mapping.notes:
            console.print(Text.assemble("  ", line), highlight=False)
        for line in result.mapping.applied:
            console.print(f"  [green]mapped[/] {line}", highlight=False)
        for line in result.mapping.unmapped:
            console.print(f"  [yellow]not mapped[/] {line}", highlight=False)
        for line in result.violations:
            console.print(f"  [red]violates[/] {line}", highlight=False)
        console.print(f"Wrote {len(result.rows)} seeds ({sum(result.rows.values()):,} rows) to "
                      f"[bold]{result.out}[/]", highlight=False)
        if build:
            with console.status("dbt build on the synthetic seeds"):
                output = run_build(project_dir, Path(result.out), list(result.rows), dbt=dbt_command,
                                   profiles_dir=profiles_dir, target=target, vars=variables)
            done = [line for line in output.splitlines() if "Done. PASS=" in line]
            console.print(f"dbt build passed: {done[-1].split('Done. ')[-1] if done else 'ok'}", highlight=False)
    except SyngenError as error:
        _fail(error)
    if result.violations:
        sys.exit(1)


@cli.command()
def schema():
    """Print the metadata JSON Schema (for editors: save it, or point them at the path on stderr)."""
    from syngen.metadata import schema_path

    path = schema_path()
    console.print(f"# {path}", highlight=False)
    click.echo(path.read_text())
