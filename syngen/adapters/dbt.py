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

KNOWN_TESTS = ("unique", "not_null", "relationships", "accepted_values", "unique_combination_of_columns",
               "accepted_range")
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
    where: str | None = None  # config.where: the test applies to a subset of rows


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
    manifest = root / config.get("target-path", "target") / "manifest.json"
    if manifest.is_file():  # what dbt itself parsed (packages' tests, macros resolved)
        project.tests = _tests_from_manifest(manifest)
        return project
    for folder in seed_paths + model_paths:
        for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml")) if folder.is_dir() else []:
            project.tests += _tests_in(path, root)
    return project


def _tests_from_manifest(path: Path) -> list[DbtTest]:
    import json

    try:
        nodes = json.loads(path.read_text())["nodes"]
    except (ValueError, KeyError) as error:
        raise SyngenError(f"cannot read dbt's manifest '{path}': {error}; run 'dbt parse' again or delete it") from None
    tests = []
    for node in nodes.values():
        if node.get("resource_type") != "test" or not node.get("test_metadata") or not node.get("attached_node"):
            continue
        config = node.get("config") or {}
        if config.get("enabled") is False:
            continue
        kwargs = {k: v for k, v in (node["test_metadata"].get("kwargs") or {}).items() if k != "model"}
        tests.append(DbtTest(node["test_metadata"]["name"], node["attached_node"].split(".")[-1],
                             node.get("column_name") or kwargs.get("column_name") or "", kwargs,
                             node.get("original_file_path", str(path)), str(config.get("severity", "error")).lower(),
                             config.get("where")))
    return tests


def _tests_in(path: Path, root: Path) -> list[DbtTest]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SyngenError(f"dbt properties file '{path}' is not valid YAML: {error}") from None
    tests = []
    origin = str(path.relative_to(root))
    for section in ("models", "seeds"):
        for node in document.get(section) or []:
            entries = [(entry, "") for entry in (node.get("data_tests") or []) + (node.get("tests") or [])]
            for column in node.get("columns") or []:
                entries += [(entry, column["name"])
                            for entry in (column.get("data_tests") or []) + (column.get("tests") or [])]
            for entry, column in entries:
                test = _test(entry, node["name"], column, origin)
                if test is not None:
                    tests.append(test)
            for column in node.get("columns") or []:
                tests += _constraint_tests(column.get("constraints") or [], node["name"], column["name"], origin)
    return tests


def _constraint_tests(constraints: list, node: str, column: str, origin: str) -> list[DbtTest]:
    """A model contract's column constraints as the tests they amount to."""
    tests = []
    for constraint in constraints:
        kind = constraint.get("type")
        if kind in ("primary_key", "unique"):
            tests.append(DbtTest("unique", node, column, {}, f"{origin} (constraint)"))
        if kind in ("primary_key", "not_null"):
            tests.append(DbtTest("not_null", node, column, {}, f"{origin} (constraint)"))
        if kind == "foreign_key" and constraint.get("to"):
            field_name = (constraint.get("to_columns") or [column])[0]
            tests.append(DbtTest("relationships", node, column, {"to": constraint["to"], "field": field_name},
                                 f"{origin} (constraint)"))
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
    where = config.get("where", arguments.pop("where", None))
    return DbtTest(name.split(".")[-1], node, column, arguments, origin, severity, where)


def lineage(project: DbtProject) -> dict[tuple[str, str], tuple[str, str]]:
    """(model, column) -> (seed, column), for columns a model takes from a seed (renamed or
    not), through other models too. Models sqlglot cannot read are left out."""
    import sqlglot
    from sqlglot import exp

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


def _sources(tests: list[DbtTest]) -> str:
    """Where a mapped item came from: every test behind it, with its file."""
    return "; ".join(dict.fromkeys(f"{t.name} on {t.node}.{t.column} ({t.origin})" for t in tests))


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
    ranges: dict[tuple[str, str], tuple] = field(default_factory=dict)  # (min, max, inclusive)


def profile_database(project: DbtProject, profiles_dir=None, target: str | None = None) -> str:
    """The SQLAlchemy URL of the project's target database (dbt-duckdb), from profiles.yml
    (the given folder, the project's, else ~/.dbt), where ``dbt seed`` put the seeds."""
    config = yaml.safe_load((project.root / "dbt_project.yml").read_text()) or {}
    folders = [Path(profiles_dir)] if profiles_dir else [project.root, Path.home() / ".dbt"]
    found = next((f / "profiles.yml" for f in folders if (f / "profiles.yml").is_file()), None)
    if found is None:
        raise SyngenError(f"no profiles.yml in {', '.join(map(str, folders))}; give --profiles-dir")
    profiles = yaml.safe_load(found.read_text()) or {}
    profile = profiles.get(config.get("profile", project.name))
    if not profile:
        raise SyngenError(f"{found} has no profile '{config.get('profile', project.name)}'")
    name = target or profile.get("target")
    output = (profile.get("outputs") or {}).get(name)
    if not output:
        raise SyngenError(f"{found}: profile '{config.get('profile')}' has no target '{name}'")
    if output.get("type") != "duckdb":
        raise SyngenError(f"reading seeds from a '{output.get('type')}' target is not supported yet (dbt-duckdb "
                          "is); train from the seed files instead (leave out --from-database)")
    path = Path(str(output.get("path", ":memory:")))
    if str(path) == ":memory:":
        raise SyngenError(f"{found}: target '{name}' is an in-memory DuckDB database; nothing to read")
    return f"duckdb:///{path if path.is_absolute() else project.root / path}"


def to_metadata(project: DbtProject, select: list[str] | None = None, database: str | None = None) -> Mapping:
    """Seeds as tables, tests as keys: unique + not_null -> PK, unique -> UQ, relationships
    -> FK; not_null and accepted_values are kept by the engine (nulls and values are only
    generated as seen) and checked after generation. With ``database`` (a URL), the seeds'
    rows are read from its tables of the same names instead of the CSV files."""
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
    combinations = []
    for test in project.tests:
        if test.name == "unique_combination_of_columns":
            combinations.append(test)
            continue
        target = place(test.node, test.column)
        if test.where and test.name in ("unique", "relationships"):
            mapping.unmapped.append(f"{test.name} on {test.node}.{test.column} ({test.origin}): it applies only "
                                    f"where {test.where}, so it is not a key of the whole seed")
        elif test.name not in KNOWN_TESTS:
            mapping.unmapped.append(f"{test.name} on {test.node}.{test.column} ({test.origin}): not a test syngen maps")
        elif target is None:
            mapping.unmapped.append(f"{test.name} on {test.node}.{test.column} ({test.origin}): the column's seed "
                                    "could not be followed through the model's SQL")
        elif target[0] in names:
            found.setdefault(test.name, {}).setdefault(target, []).append(test)
    tables = {n: Table(n, database or str(project.seeds[n])) for n in names}
    unique, not_null = found.get("unique", {}), found.get("not_null", {})
    for test in combinations:
        columns = [place(test.node, c) for c in test.arguments.get("combination_of_columns") or []]
        seeds = {c[0] for c in columns if c}
        if not columns or None in columns or len(seeds) != 1:
            mapping.unmapped.append(f"unique_combination_of_columns on {test.node} ({test.origin}): its columns do "
                                    "not all come from one seed")
            continue
        seed = seeds.pop()
        if seed not in tables:
            continue
        kind = "UQ" if tables[seed].primary_key or any(t[0] == seed for t in unique if t in not_null) else "PK"
        tables[seed].keys.append(Key(f"{kind.lower()}_{'_'.join(c[1] for c in columns)}", kind,
                                     tuple(c[1] for c in columns)))
        mapping.applied.append(f"unique_combination_of_columns on {test.node} ({test.origin}) -> {kind} "
                               f"{seed}({', '.join(c[1] for c in columns)})")
    for (seed, column), tests in unique.items():
        table = tables[seed]
        kind = "PK" if (seed, column) in not_null and table.primary_key is None else "UQ"
        table.keys.append(Key(f"{kind.lower()}_{column}", kind, (column,)))
        mapping.applied.append(f"{_sources(tests + not_null.get((seed, column), []))} -> {kind} {seed}({column})")
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
    for (seed, column), tests in found.get("accepted_range", {}).items():
        bounds = {k: tests[0].arguments.get(k) for k in ("min_value", "max_value")}
        mapping.ranges[(seed, column)] = (bounds["min_value"], bounds["max_value"],
                                          tests[0].arguments.get("inclusive", True))
        mapping.applied.append(f"accepted_range on {tests[0].node}.{tests[0].column} ({tests[0].origin}) -> "
                               f"{seed}.{column} stays in the seed's own range, checked after generation")
    for (seed, column), tests in found.get("accepted_values", {}).items():
        mapping.accepted[(seed, column)] = list(tests[0].arguments.get("values") or [])
        # a closed set of values: a category whose rare values give way to frequent ones, never
        # to a made-up value of its meaning (another country) that the test would reject
        tables[seed].kinds.setdefault(column, "categorical")
        mapping.applied.append(f"accepted_values on {tests[0].node}.{tests[0].column} ({tests[0].origin}) -> "
                               f"only seen values of {seed}.{column}, checked after generation")
    mapping.metadata = Metadata(tables)
    return mapping
