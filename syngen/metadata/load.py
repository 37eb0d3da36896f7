"""Read a metadata YAML file: JSON Schema check, then meaning, every problem reported at once.

Each problem names its place as a dotted YAML path and a line, e.g.
``ORDER.keys.FK1.references.table (line 12): no table 'CUSTOMERS' (did you mean 'CUSTOMER'?)``.
Only PyYAML and jsonschema are needed here: validating a file never loads the engine.
"""

from __future__ import annotations

import difflib
import json
from importlib import resources
from pathlib import Path

import yaml

from syngen.errors import SyngenError
from syngen.metadata.model import Key, Metadata, Table

GLOBAL = "global"
SCHEMA_FILE = "metadata.schema.json"


class MetadataError(SyngenError):
    """Everything wrong with one metadata file."""

    def __init__(self, path, problems: list[str]):
        problems = [" ".join(p.split()) for p in problems]  # one line each, whatever a reader said
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        super().__init__(f"metadata file '{path}' has {count}:\n" + "\n".join(f"  - {p}" for p in problems))


MAX_NODES = 100_000  # values a metadata file may stand for; real ones hold hundreds


def schema_path() -> Path:
    """The shipped JSON Schema (``schemas/metadata.schema.json`` in the source tree)."""
    try:
        return Path(str(resources.files("syngen.schemas") / SCHEMA_FILE))
    except ModuleNotFoundError:  # an editable install maps only the syngen/ folder
        return Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_FILE


def load_schema() -> dict:
    return json.loads(schema_path().read_text())


def load_metadata(path, check_sources: bool = True) -> Metadata:
    """Parse, validate and model the metadata file at ``path``.

    ``check_sources`` also opens each table's source (header only) to check that key and
    override columns exist in it.
    """
    path = Path(path)
    if not path.is_file():
        raise SyngenError(f"metadata file not found: '{path}'")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SyngenError(f"metadata file '{path}' is not UTF-8 text") from None
    document, lines, problems, repeated = _parse(path, text)
    shape, broken_tables = _schema_problems(document, lines)
    problems += shape
    broken_tables |= repeated
    tables = {
        name: _table(name, body, document.get(GLOBAL) or {})
        for name, body in document.items()
        if name != GLOBAL and name not in broken_tables
    }
    metadata = Metadata(tables, path)
    problems += _meaning_problems(metadata, lines, check_sources, skip=broken_tables)
    if problems:
        raise MetadataError(path, problems)
    return metadata


# -- YAML with line numbers ------------------------------------------------------------------


def _parse(path: Path, text: str) -> tuple[dict, dict[tuple, int], list[str], set[str]]:
    """The document, the line of every mapping key and sequence item by its path, the
    problems found on the way (a name given twice, tables not named by text, left out), and
    the tables with a name given twice, whose meaning is then not checked; the other checks
    still run."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None and _expanded_size(node, {}) > MAX_NODES:
            raise MetadataError(
                path,
                [
                    f"the file expands to more than {MAX_NODES:,} values through its "
                    "aliases (*name); write the settings out, or use 'global:' for shared ones"
                ],
            )
        document = loader.construct_document(node) if node is not None else None
        lines: dict[tuple, int] = {}
        duplicates: list[tuple[tuple, str]] = []
        _index(loader, node, (), lines, duplicates)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise MetadataError(path, [f"YAML syntax error{where}: {problem}"]) from None
    finally:
        loader.dispose()
    if document is None:
        raise MetadataError(path, ["the file is empty: write a mapping of table names to their settings"])
    if not isinstance(document, dict):
        described: dict[type, str] = {list: "a list", str: "text"}
        found = described.get(type(document), type(document).__name__)
        raise MetadataError(path, [f"the file must be a mapping of table names to their settings (found {found})"])
    bad_names = [
        f"{name!r} (line {lines.get((name,), '?')}): table names must be text"
        for name in document
        if not isinstance(name, str)
    ]
    document = {name: body for name, body in document.items() if isinstance(name, str)}
    return document, lines, [text for _, text in duplicates] + bad_names, {path[0] for path, _ in duplicates}


def _expanded_size(node: yaml.Node, seen: dict[int, int]) -> int:
    """How many values the node stands for once aliases are expanded, counted without
    expanding them (an alias of an alias of ... is a 'billion laughs' bomb)."""
    if id(node) in seen:
        return seen[id(node)]
    seen[id(node)] = 1  # a node that holds itself counts once
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, seen) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, seen) + _expanded_size(v, seen) for k, v in node.value)
    seen[id(node)] = min(size, MAX_NODES + 1)
    return seen[id(node)]


def _index(loader, node, prefix: tuple, lines: dict, duplicates: list) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            path = prefix + (key,)
            if path in lines:
                duplicates.append(
                    (
                        path,
                        f"{_dotted(path)} (line {key_node.start_mark.line + 1}): "
                        f"given twice (first on line {lines[path]})",
                    )
                )
                continue
            lines[path] = key_node.start_mark.line + 1
            _index(loader, value_node, path, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[prefix + (i,)] = item.start_mark.line + 1
            _index(loader, item, prefix + (i,), lines, duplicates)


def _dotted(path) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _place(path, lines: dict) -> str:
    path = tuple(path)
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return f"{_dotted(path) or '(top level)'} (line {lines[path[:end]]})"
    return _dotted(path) or "(top level)"


def _suggest(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# -- shape: the JSON Schema ------------------------------------------------------------------


def _schema_problems(document: dict, lines: dict) -> tuple[list[str], set[str]]:
    """Problems of shape, and the tables they concern (whose meaning is then not checked)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(load_schema())
    problems, tables = [], set()
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.extend(_describe(error, lines))
        if error.absolute_path:
            tables.add(error.absolute_path[0])
    return problems, tables


def _describe(error, lines: dict) -> list[str]:
    path = list(error.absolute_path)
    instance, schema = error.instance, error.schema
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        return [
            f"{_place(path + [name], lines)}: unknown setting '{name}'{_suggest(name, allowed)}; "
            f"allowed here: {', '.join(allowed)}"
            for name in instance
            if name not in allowed
        ]
    if error.validator == "enum":
        choices = schema["enum"]
        return [
            f"{_place(path, lines)}: {instance!r} is not one of {', '.join(map(str, choices))}"
            f"{_suggest(instance, choices)}"
        ]
    if error.validator == "required":
        return [f"{_place(path, lines)}: {error.message.replace('is a required property', 'is required')}"]
    if error.validator == "type":
        names = {"object": "a mapping", "array": "a list", "null": "nothing"}
        expected: list[str] = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        wanted = " or ".join(names.get(t, t) for t in expected if t != "null")
        return [f"{_place(path, lines)}: expected {wanted}, got {instance!r}"]
    if error.validator == "minProperties" and not path:
        return ["the file declares no tables"]
    return [f"{_place(path, lines)}: {error.message}"]


# -- the model -------------------------------------------------------------------------------


def _table(name: str, body: dict, global_settings: dict) -> Table:
    body = body or {}
    train = {**(global_settings.get("train_settings") or {}), **(body.get("train_settings") or {})}
    infer = {**(global_settings.get("infer_settings") or {}), **(body.get("infer_settings") or {})}
    source = body.get("source") or train.pop("source", None)
    train.pop("source", None)
    keys, dropped = [], set()
    for key_name, key in (body.get("keys") or {}).items():
        if key is None:  # a key the source database declares, not wanted
            dropped.add(str(key_name))
            continue
        references = key.get("references") or {}
        keys.append(
            Key(
                str(key_name),
                key["type"],
                tuple(key["columns"]),
                references.get("table"),
                tuple(references.get("columns") or ()),
                int(key.get("min_children") or 0),
            )
        )
    columns = body.get("columns") or {}
    kinds = {column: spec["kind"] for column, spec in columns.items() if (spec or {}).get("kind")}
    formats = {column: spec["format"] for column, spec in columns.items() if (spec or {}).get("format")}
    rare = {
        column: spec["rare_threshold"]
        for column, spec in columns.items()
        if (spec or {}).get("rare_threshold") is not None
    }
    return Table(
        name,
        source,
        train,
        infer,
        keys,
        kinds,
        formats=formats,
        rare_thresholds=rare,
        csv_options=dict(body.get("format") or {}),
        dropped_keys=frozenset(dropped),
    )


# -- meaning: keys, references, sources ------------------------------------------------------


def _meaning_problems(metadata: Metadata, lines: dict, check_sources: bool, skip: set) -> list[str]:
    problems: list[str] = []
    tables = metadata.tables
    for table in tables.values():
        at = lambda *p: _place((table.name,) + p, lines)  # noqa: E731
        primaries = [k for k in table.keys if k.type == "PK"]
        if len(primaries) > 1:
            problems.append(
                f"{at('keys', primaries[1].name)}: table '{table.name}' has "
                f"{len(primaries)} primary keys ({', '.join(k.name for k in primaries)}); "
                "keep one PK and declare the others as UQ"
            )
        for key in table.keys:
            repeated = sorted({c for c in key.columns if key.columns.count(c) > 1})
            if repeated:
                problems.append(f"{at('keys', key.name, 'columns')}: column(s) {', '.join(repeated)} listed twice")
            if key.type != "FK" and key.parent is not None:
                problems.append(
                    f"{at('keys', key.name, 'references')}: only an FK references "
                    f"another table, this key is a {key.type}"
                )
            if key.type != "FK" and key.min_children:
                problems.append(
                    f"{at('keys', key.name, 'min_children')}: only an FK has children per "
                    f"parent, this key is a {key.type}"
                )
            if key.type == "FK":
                problems += _reference_problems(table, key, tables, at, skip)
    problems += _token_problems(metadata, lines)
    if check_sources:
        problems += _source_problems(metadata, lines)
    return problems


def _token_problems(metadata: Metadata, lines: dict) -> list[str]:
    """TKN keys that share a name share one token set, so they must have as many columns."""
    problems: list[str] = []
    first: dict[str, tuple[str, Key]] = {}
    for table in metadata.tables.values():
        for key in (k for k in table.keys if k.type == "TKN"):
            owner = first.setdefault(key.name, (table.name, key))
            if len(owner[1].columns) != len(key.columns):
                problems.append(
                    f"{_place((table.name, 'keys', key.name, 'columns'), lines)}: TKN "
                    f"'{key.name}' has {len(key.columns)} column(s) here but "
                    f"{len(owner[1].columns)} in '{owner[0]}'; keys of one name share their tokens"
                )
    return problems


def _reference_problems(table: Table, key: Key, tables: dict, at, skip: set) -> list[str]:
    if key.parent is None:
        return [f"{at('keys', key.name)}: an FK needs 'references' (table and columns)"]
    if key.parent in skip:
        return []
    parent = tables.get(key.parent)
    if parent is None:
        return [f"{at('keys', key.name, 'references', 'table')}: no table '{key.parent}'{_suggest(key.parent, tables)}"]
    if len(key.columns) != len(key.parent_columns):
        return [
            f"{at('keys', key.name, 'columns')}: the FK has {len(key.columns)} column(s) but "
            f"references {len(key.parent_columns)} in '{key.parent}'"
        ]
    if not _references_a_key(parent, key):
        declared = "; ".join(f"{k.type} ({', '.join(k.columns)})" for k in parent.unique_keys) or "none"
        return [
            f"{at('keys', key.name, 'references', 'columns')}: ({', '.join(key.parent_columns)}) "
            f"is not a PK or UQ of '{key.parent}' (its keys: {declared})"
        ]
    return []


def _references_a_key(parent: Table, key: Key) -> bool:
    """Whether the FK references a PK or UQ of its parent (a database declares its own)."""
    from syngen.adapters.sql import is_database_url

    return key.parent_columns in {k.columns for k in parent.unique_keys} or is_database_url(parent.source)


def _source_problems(metadata: Metadata, lines: dict) -> list[str]:
    from syngen.adapters.sources import source_columns

    problems, readable = [], {}
    for table in metadata.tables.values():
        where = ("source",) if (table.name, "source") in lines else ("train_settings", "source")
        if table.source is None:
            problems.append(f"{_place((table.name,), lines)}: no source; give 'source' (or train_settings.source)")
            continue
        try:
            columns = source_columns(metadata.resolve(table.source), table.name, table.csv_options)
        except SyngenError as error:
            problems.append(f"{_place((table.name,) + where, lines)}: {error}")
            continue
        readable[table.name] = columns
        for key in table.keys:
            missing = [c for c in key.columns if c not in columns]
            for column in missing:
                problems.append(
                    f"{_place((table.name, 'keys', key.name, 'columns'), lines)}: no column "
                    f"'{column}' in {table.source}{_suggest(column, columns)}"
                )
        for key in table.foreign_keys:
            parent = metadata.tables.get(key.parent) if key.parent is not None else None  # None: reported
            if parent is None or parent.source is None:
                continue
            try:
                parent_columns = source_columns(metadata.resolve(parent.source), parent.name, parent.csv_options)
            except SyngenError:
                continue  # reported with the parent
            for column in (c for c in key.parent_columns if c not in parent_columns):
                problems.append(
                    f"{_place((table.name, 'keys', key.name, 'references', 'columns'), lines)}: "
                    f"no column '{column}' in {parent.source}{_suggest(column, parent_columns)}"
                )
        for column in (c for c in {**table.kinds, **table.formats, **table.rare_thresholds} if c not in columns):
            problems.append(
                f"{_place((table.name, 'columns', column), lines)}: no column '{column}' "
                f"in {table.source}{_suggest(column, columns)}"
            )
    return problems + _link_value_problems(metadata, lines, readable)


LOOK_ROWS = 10_000  # rows of each source looked at for what its key columns hold


def _link_value_problems(metadata: Metadata, lines: dict, readable: dict[str, list[str]]) -> list[str]:
    """FKs whose values could never be their parent key's: numbers against text, or
    fractions against whole numbers (what a source's first rows hold, as training reads it)."""
    from syngen.adapters.sources import source_head

    heads: dict[str, object] = {}

    def head(name):
        if name not in heads:
            table = metadata.tables[name]
            assert table.source is not None  # a readable table's
            heads[name] = source_head(metadata.resolve(table.source), name, LOOK_ROWS, table.csv_options)
        return heads[name]

    problems = []
    for table in metadata.tables.values():
        for key in table.foreign_keys:
            if (
                table.name not in readable
                or key.parent not in readable
                or not set(key.columns) <= set(readable[table.name])
                or not set(key.parent_columns) <= set(readable[key.parent])
                or not _references_a_key(metadata.tables[key.parent], key)
            ):
                continue  # reported above
            try:
                child, parent = head(table.name), head(key.parent)
            except SyngenError:
                continue  # a source that reads its header but not its rows fails training clearly
            for column, parent_column in zip(key.columns, key.parent_columns):
                held, wanted = _held(child[column]), _held(parent[parent_column])
                if (
                    held is None
                    or wanted is None
                    or not (
                        "text" in (held[0], wanted[0])
                        and held[0] != wanted[0]
                        or (held[0], wanted[0]) == ("fractional", "whole")
                    )
                ):
                    continue
                words = _SHAPES if "text" not in (held[0], wanted[0]) else {"text": "text"}
                problems.append(
                    f"{_place((table.name, 'keys', key.name, 'columns'), lines)}: {column} holds "
                    f"{words.get(held[0], 'numbers')} ({held[1]}, ...) but {key.parent}.{parent_column}, "
                    f"which it references, holds {words.get(wanted[0], 'numbers')} ({wanted[1]}, ...); "
                    "an FK's values are its parent key's: correct the columns or the source's values"
                )
    return problems


_SHAPES = {"whole": "whole numbers", "fractional": "fractional numbers"}


def _held(values) -> tuple[str, str] | None:
    """What a column holds (text, whole or fractional numbers) and its first value."""
    import pandas as pd

    values = values.dropna()
    if values.empty:
        return None
    first = values.iloc[0]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "text", repr(str(first))
    whole = pd.api.types.is_integer_dtype(values) or bool((values % 1 == 0).all())
    return ("whole" if whole else "fractional"), str(first)
