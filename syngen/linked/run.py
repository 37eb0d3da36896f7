"""What training and generating linked tables share: each table's effective settings, where
each table goes, the foreign key of a name, and the per-table report for the user."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from syngen import artifacts
from syngen.adapters.sql import is_database_url
from syngen.adapters.targets import check_location
from syngen.errors import SyngenError
from syngen.metadata.graph import Plan
from syngen.metadata.model import Key, Metadata
from syngen.settings import Settings, TrainSettings, resolve


@dataclass
class TableReport:
    """What training or generation found out about one table, for the user."""

    table: str
    rows: int = 0
    notes: list[str] = field(default_factory=list)
    output: str | None = None  # where the table went (a path, or a database URL without password)
    seconds: float = 0.0
    epochs_run: int = 0
    identifying: dict[str, str] = field(default_factory=dict)  # column -> how it is protected


def table_settings(metadata, plan: Plan, kind: type[Settings], cli, log) -> dict[str, Settings]:
    """Every table's settings (``train_settings`` or ``infer_settings`` by ``kind``); says
    which command-line values the file overrode."""
    section = "train_settings" if kind is TrainSettings else "infer_settings"
    settings = {}
    for name in plan.order:
        settings[name], ignored = resolve(kind, getattr(metadata.tables[name], section), cli)
        for option in ignored:
            log(
                f"table '{name}': {section}.{option} = {getattr(settings[name], option)!r} from the metadata "
                f"file wins over --{option} {cli[option]!r}"
            )
    return settings


def wants_report(metadata: Metadata, cli: dict) -> bool:
    """Whether a linked run asks for the report: --print_report, or the file's print_report
    (infer settings) or the original syngen's ``reports`` (train settings)."""
    return bool(cli.get("print_report")) or any(
        t.infer_settings.get("print_report")
        or t.train_settings.get("print_report")
        or t.train_settings.get("reports") not in (None, "none", [])
        for t in metadata.tables.values()
    )


def destinations(metadata: Metadata, output: str | None = None, artifacts_dir=None) -> dict[str, str]:
    """Where each table of a linked run goes (see ``infer_tables``)."""
    return {
        name: destination(metadata, name, table.infer_settings, output, artifacts_dir)
        for name, table in metadata.tables.items()
    }


def foreign_key(table, name: str) -> Key:
    return next(k for k in table.foreign_keys if k.name == name)


def destination(metadata, name, settings, output, artifacts_dir) -> str:
    """A table's output: its own destination, else ``output`` (a database URL, or a folder
    that gets one CSV file per table), else the original syngen's CSV path."""
    target = settings.get("destination")
    if target:
        location = metadata.resolve(target)
    elif output and not is_database_url(output):
        if PurePosixPath(str(output)).suffix:
            raise SyngenError(
                f"--output '{output}' names one file, but the metadata file has several "
                "tables: give a database URL or a folder (or each table's "
                "infer_settings.destination)"
            )
        location = f"{str(output).rstrip('/')}/{name}.csv"
    else:
        location = output or str(artifacts.default_output(name, artifacts_dir))
    check_location(location)
    return location
