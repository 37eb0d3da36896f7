"""A dbt project as syngen metadata: its seeds are the tables, its tests the keys.

Read without running dbt (no side effects): ``dbt_project.yml`` for the paths, every
properties YAML under the model and seed paths for tests (``tests:`` and ``data_tests:``, with
or without ``arguments:``), and each model's SQL, parsed with sqlglot after its ``ref()`` /
``source()`` calls are replaced by table names, to follow renamed columns back to the seed
they come from (``stg_orders.customer_id`` <- ``raw_orders.user_id``). Every key says where it
came from; tests that cannot be mapped onto a seed column are listed, not guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from syngen.errors import SyngenError
from syngen.metadata.model import Key, Metadata, Table

KNOWN_TESTS = ("unique", "not_null", "relationships", "accepted_values")
_REF = re.compile(r"""\{\{\s*(ref|source)\(\s*(['"][^'"]+['"])\s*(?:,\s*(['"][^'"]+['"])\s*)?\)\s*\}\}""")
_JINJA = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)


@dataclass
class DbtTest:
    name: str  # unique, not_null, relationships, accepted_values, ...
    node: str  # the model or seed the test is declared on
    column: str
    arguments: dict
    origin: str  # file that declares it
    severity: str = "error"


@dataclass
class DbtProject:
    root: Path
    name: str
    seeds: dict[str, Path]  # seed name -> CSV file
    models: dict[str, Path]  # model name -> SQL file
    tests: list[DbtTest] = field(default_factory=list)


def load_project(root: str | Path) -> DbtProject:
    root = Path(root)
    config_file = root / "dbt_project.yml"
    if not config_file.is_file():
        raise SyngenError(f"'{root}' is not a dbt project: no dbt_project.yml")
    config = yaml.safe_load(config_file.read_text()) or {}
    seed_paths = [root / p for p in config.get("seed-paths", ["seeds"])]
    model_paths = [root / p for p in config.get("model-paths", ["models"])]
    seeds = {p.stem: p for folder in seed_paths if folder.is_dir() for p in sorted(folder.rglob("*.csv"))}
    models = {p.stem: p for folder in model_paths if folder.is_dir() for p in sorted(folder.rglob("*.sql"))}
    project = DbtProject(root, str(config.get("name", root.name)), seeds, models)
    for folder in seed_paths + model_paths:
        for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
            project.tests += _tests_in(path, root)
    return project


def _tests_in(path: Path, root: Path) -> list[DbtTest]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SyngenError(f"dbt properties file '{path}' is not valid YAML: {error}") from None
    tests = []
    for section in ("models", "seeds"):
        for node in document.get(section) or []:
            for column in node.get("columns") or []:
                for entry in (column.get("data_tests") or []) + (column.get("tests") or []):
                    test = _test(entry, node["name"], column["name"], str(path.relative_to(root)))
                    if test is not None:
                        tests.append(test)
    return tests


def _test(entry, node: str, column: str, origin: str) -> DbtTest | None:
    """One column test in any of dbt's spellings: ``unique``, ``{relationships: {to, field}}``,
    ``{relationships: {arguments: {to, field}, config: {...}}}``."""
    if isinstance(entry, str):
        return DbtTest(entry, node, column, {}, origin)
    name, body = next(iter(entry.items()))
    body = dict(body or {})
    config = dict(body.pop("config", None) or {})
    if config.get("enabled") is False:
        return None
    arguments = {**{k: v for k, v in body.items() if k != "arguments"}, **(body.get("arguments") or {})}
    severity = str(config.get("severity", arguments.pop("severity", "error"))).lower()
    return DbtTest(name.split(".")[-1], node, column, arguments, origin, severity)


def lineage(project: DbtProject) -> dict[tuple[str, str], tuple[str, str]]:
    """(model, column) -> (seed, column), for columns a model takes from a seed (renamed or
    not), through other models too. Models sqlglot cannot read are left out."""
    try:
        import sqlglot
        from sqlglot import exp
    except ImportError:
        raise SyngenError("reading a dbt project's models needs sqlglot: pip install 'syngen[dbt]'") from None

    direct: dict[tuple[str, str], tuple[str, str]] = {}
    for model, path in project.models.items():
        # ref('model'), ref('package', 'model') and source('name', 'table') become the table name
        sql = _REF.sub(lambda m: (m.group(3) or m.group(2)).strip("'\""), _JINJA.sub("", path.read_text()))
        sql = _EXPRESSION.sub("", sql)  # config() and other {{ }} calls left after ref/source
        try:
            tree = sqlglot.parse_one(sql)
        except sqlglot.errors.ParseError:
            continue
        sources = {t.alias_or_name: t.name for t in tree.find_all(exp.Table)}
        if not isinstance(tree, exp.Select):
            continue
        for projection in tree.expressions:
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(inner, exp.Column) and (inner.table in sources or len(sources) == 1):
                upstream = sources.get(inner.table) or next(iter(sources.values()))
                direct[(model, projection.alias_or_name)] = (upstream, inner.name)
    resolved = {}
    for key, (node, column) in direct.items():
        seen = {key}
        while node not in project.seeds and (node, column) in direct and (node, column) not in seen:
            seen.add((node, column))
            node, column = direct[(node, column)]
        if node in project.seeds:
            resolved[key] = (node, column)
    return resolved


def _parent_of(argument: str) -> str | None:
    match = re.search(r"""(?:ref|source)\(\s*(?:['"][^'"]+['"]\s*,\s*)?['"]([^'"]+)['"]\s*\)""", str(argument))
    return match.group(1) if match else None


@dataclass
class Mapping:
    metadata: Metadata
    applied: list[str]  # "unique on stg_customers.customer_id -> PK raw_customers(CustomerId)"
    unmapped: list[str]
    accepted: dict[tuple[str, str], list] = field(default_factory=dict)
    not_null: set[tuple[str, str]] = field(default_factory=set)


def to_metadata(project: DbtProject, select: list[str] | None = None) -> Mapping:
    """Seeds as tables, tests as keys: unique + not_null -> PK, unique -> UQ, relationships
    -> FK; not_null and accepted_values are kept by the engine (nulls and values are only
    generated as seen) and checked after generation."""
    lineage_map = lineage(project)
    names = [n for n in project.seeds if not select or n in select]
    unknown = [n for n in select or [] if n not in project.seeds]
    if unknown:
        raise SyngenError(f"no seed named {', '.join(unknown)} in {project.root} (seeds: {', '.join(project.seeds)})")

    def place(node, column):
        if node in project.seeds:
            return node, column
        return lineage_map.get((node, column))
    found: dict[str, dict[tuple[str, str], list[DbtTest]]] = {}
    mapping = Mapping(Metadata({}), [], [])
    for test in project.tests:
        target = place(test.node, test.column)
        if test.name not in KNOWN_TESTS:
            mapping.unmapped.append(f"{test.name} on {test.node}.{test.column} ({test.origin}): not a test syngen maps")
        elif target is None:
            mapping.unmapped.append(f"{test.name} on {test.node}.{test.column} ({test.origin}): the column's seed "
                                    "could not be followed through the model's SQL")
        elif target[0] in names:
            found.setdefault(test.name, {}).setdefault(target, []).append(test)
    tables = {n: Table(n, str(project.seeds[n])) for n in names}
    unique, not_null = found.get("unique", {}), found.get("not_null", {})
    for (seed, column), tests in unique.items():
        table = tables[seed]
        kind = "PK" if (seed, column) in not_null and table.primary_key is None else "UQ"
        table.keys.append(Key(f"{kind.lower()}_{column}", kind, (column,)))
        mapping.applied.append(f"{tests[0].name} on {tests[0].node}.{tests[0].column} ({tests[0].origin}) -> "
                               f"{kind} {seed}({column})")
    for (seed, column), tests in found.get("relationships", {}).items():
        test = tests[0]
        parent = place(_parent_of(test.arguments.get("to")), test.arguments.get("field"))
        if parent is None or parent[0] not in tables:
            mapping.unmapped.append(f"relationships on {test.node}.{test.column} ({test.origin}): its parent "
                                    f"{test.arguments.get('to')}.{test.arguments.get('field')} is not a selected seed column")
            continue
        if not any(k.columns == (parent[1],) for k in tables[parent[0]].unique_keys):
            mapping.unmapped.append(f"relationships on {test.node}.{test.column} ({test.origin}): the parent column "
                                    f"{parent[0]}.{parent[1]} has no unique test, so it is not a key")
            continue
        tables[seed].keys.append(Key(f"fk_{column}", "FK", (column,), parent[0], (parent[1],)))
        mapping.applied.append(f"relationships on {test.node}.{test.column} ({test.origin}) -> FK {seed}({column}) "
                               f"-> {parent[0]}({parent[1]})")
    for (seed, column), tests in not_null.items():
        mapping.not_null.add((seed, column))
        mapping.applied.append(f"not_null on {tests[0].node}.{tests[0].column} ({tests[0].origin}) -> "
                               f"{seed}.{column} generated without nulls where the seed has none")
    for (seed, column), tests in found.get("accepted_values", {}).items():
        mapping.accepted[(seed, column)] = list(tests[0].arguments.get("values") or [])
        mapping.applied.append(f"accepted_values on {tests[0].node}.{tests[0].column} ({tests[0].origin}) -> "
                               f"only seen values of {seed}.{column}, checked after generation")
    mapping.metadata = Metadata(tables)
    return mapping
