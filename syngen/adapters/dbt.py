"""A dbt project as syngen metadata: its seeds are the tables, its tests the keys.

Read without running dbt (no side effects): ``dbt_project.yml`` for the paths and vars, every
properties YAML under the model and seed paths (and the model paths of the packages installed
in ``dbt_packages/``, whose models dbt builds too) for tests (``tests:`` and ``data_tests:``, with
or without ``arguments:``) and sources, and each model's SQL (``dbt_render``: dbt's compiled
SQL, or the Jinja rendered), whose columns are followed back to the seed columns they come
from (``dbt_lineage``). Every key says which tests it came from; a test that cannot be
mapped onto a seed column is listed with the reason, not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from syngen.errors import SyngenError
from syngen.metadata.model import Key, Metadata, Table

KNOWN_TESTS = (
    "unique",
    "not_null",
    "relationships",
    "accepted_values",
    "unique_combination_of_columns",
    "accepted_range",
)
# dbt_expectations' tests that say the same as one above: name -> (that test, its arguments' names)
EQUIVALENT_TESTS = {
    "expect_column_values_to_be_unique": ("unique", {}),
    "expect_column_values_to_not_be_null": ("not_null", {}),
    "expect_compound_columns_to_be_unique": (
        "unique_combination_of_columns",
        {"column_list": "combination_of_columns"},
    ),
    "expect_column_values_to_be_in_set": ("accepted_values", {"value_set": "values"}),
    "expect_column_values_to_be_between": ("accepted_range", {}),
}


@dataclass
class DbtTest:
    name: str  # unique, not_null, relationships, accepted_values, ...
    node: str  # the model or seed the test is declared on
    column: str
    arguments: dict
    origin: str  # file that declares it
    severity: str = "error"
    where: str | None = None  # config.where: the test applies to a subset of rows
    spelled: str = ""  # the name the project gives it, when it is the equivalent of a known test

    def __post_init__(self) -> None:
        if self.name in EQUIVALENT_TESTS:
            self.spelled, (self.name, renamed) = self.name, EQUIVALENT_TESTS[self.name]
            self.arguments = {renamed.get(k, k): v for k, v in self.arguments.items()}
            if "strictly" in self.arguments:  # between's 'strictly' is accepted_range's 'inclusive', negated
                self.arguments["inclusive"] = not self.arguments.pop("strictly")
            self.where = self.where or self.arguments.pop("row_condition", None)

    def __str__(self) -> str:
        on = f" on {self.node}{'.' + self.column if self.column else ''}" if self.node else ""
        return f"{self.spelled or self.name}{on} ({self.origin})"


@dataclass
class DbtProject:
    root: Path
    name: str
    seeds: dict[str, Path]  # seed name -> CSV file
    models: dict[str, Path]  # model name -> SQL file
    tests: list[DbtTest] = field(default_factory=list)
    config: dict = field(default_factory=dict)  # dbt_project.yml
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, table) -> identifier
    macro_folders: list[Path] = field(default_factory=list)
    package_macro_folders: dict[str, list[Path]] = field(default_factory=dict)  # installed package -> folders
    package_model_folders: dict[str, list[Path]] = field(default_factory=dict)  # installed package -> folders
    model_packages: dict[str, str] = field(default_factory=dict)  # model of an installed package -> package
    singular: list[str] = field(default_factory=list)  # the singular tests' files: SQL syngen does not map
    listed_packages: set[str] = field(default_factory=set)  # packages.yml's packages, by name

    @property
    def target_path(self) -> str:
        return str(self.config.get("target-path", "target"))

    @property
    def packages_path(self) -> str:
        return str(self.config.get("packages-install-path", "dbt_packages"))

    @property
    def vars(self) -> dict:
        """dbt_project.yml's vars: the global ones, then those scoped to this project."""
        found = dict(self.config.get("vars") or {})
        scoped = found.pop(self.name, None)
        for package in self.package_macro_folders:
            found.pop(package, None)
        return {**found, **(scoped if isinstance(scoped, dict) else {})}


def load_project(root: str | Path) -> DbtProject:
    root = Path(root)
    config_file = root / "dbt_project.yml"
    if not config_file.is_file():
        raise SyngenError(f"'{root}' is not a dbt project: no dbt_project.yml")
    try:
        config = yaml.safe_load(config_file.read_text()) or {}
    except yaml.YAMLError as error:
        raise SyngenError(f"'{config_file}' is not valid YAML: {error}") from None
    seed_paths = [root / p for p in config.get("seed-paths", ["seeds"])]
    model_paths = [root / p for p in config.get("model-paths", ["models"])]
    seeds = {p.stem: p for folder in seed_paths if folder.is_dir() for p in sorted(folder.rglob("*.csv"))}
    models = {p.stem: p for folder in model_paths if folder.is_dir() for p in sorted(folder.rglob("*.sql"))}
    project = DbtProject(
        root,
        str(config.get("name", root.name)),
        seeds,
        models,
        config=config,
        macro_folders=[root / p for p in config.get("macro-paths", ["macros"])],
    )
    _read_packages(project)
    package_paths = [folder for folders in project.package_model_folders.values() for folder in folders]
    for package, folders in project.package_model_folders.items():  # dbt builds and tests these too
        for path in (p for folder in folders if folder.is_dir() for p in sorted(folder.rglob("*.sql"))):
            if path.stem not in project.models:
                project.models[path.stem] = path
                project.model_packages[path.stem] = package
    properties = [
        path
        for folder in seed_paths + model_paths + package_paths
        if folder.is_dir()
        for path in sorted(folder.rglob("*.yml")) + sorted(folder.rglob("*.yaml"))
    ]
    documents = {path: _properties(path) for path in properties}
    for document in documents.values():
        for source in document.get("sources") or []:
            for table in source.get("tables") or []:
                project.sources[(source["name"], table["name"])] = str(table.get("identifier") or table["name"])
    project.singular = [
        str(path.relative_to(root))
        for folder in config.get("test-paths", ["tests"])
        for path in sorted((root / folder).rglob("*.sql"))
        if not _is_generic(path)
    ]
    manifest = root / project.target_path / "manifest.json"
    if manifest.is_file():  # what dbt itself parsed (packages' tests, macros resolved)
        project.tests = _tests_from_manifest(manifest)
        return project
    for path, document in documents.items():
        project.tests += _tests_in(document, str(path.relative_to(root) if path.is_relative_to(root) else path))
    return project


def _is_generic(path: Path) -> bool:
    """A file of generic tests (``{% test name(model, ...) %}``), not a singular test's query."""
    return re.search(r"{%-?\s*test\s", path.read_text(errors="replace")) is not None


def _read_packages(project: DbtProject) -> None:
    """The packages installed in dbt_packages/ (their macro and model folders) and those
    packages.yml lists."""
    folder = project.root / project.packages_path
    for package in sorted(folder.iterdir()) if folder.is_dir() else []:
        config_file = package / "dbt_project.yml"
        if config_file.is_file():
            config = yaml.safe_load(config_file.read_text()) or {}
            name = str(config.get("name", package.name))
            project.package_macro_folders[name] = [package / p for p in config.get("macro-paths", ["macros"])]
            project.package_model_folders[name] = [package / p for p in config.get("model-paths", ["models"])]
    for listing in ("packages.yml", "dependencies.yml"):
        path = project.root / listing
        if path.is_file():
            for entry in (yaml.safe_load(path.read_text()) or {}).get("packages") or []:
                spelled = entry.get("package") or entry.get("git") or entry.get("local") or ""
                name = re.sub(r"\.git$", "", str(spelled).rstrip("/").split("/")[-1]).replace("-", "_")
                project.listed_packages.add(name)


def _properties(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise SyngenError(f"dbt properties file '{path}' is not valid YAML: {error}") from None


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
        tests.append(
            DbtTest(
                node["test_metadata"]["name"],
                node["attached_node"].split(".")[-1],
                node.get("column_name") or kwargs.get("column_name") or "",
                kwargs,
                node.get("original_file_path", str(path)),
                str(config.get("severity", "error")).lower(),
                config.get("where"),
            )
        )
    return tests


def _tests_in(document: dict, origin: str) -> list[DbtTest]:
    tests = []
    for section in ("models", "seeds"):
        for node in document.get(section) or []:
            entries = [(entry, "") for entry in (node.get("data_tests") or []) + (node.get("tests") or [])]
            for column in node.get("columns") or []:
                entries += [
                    (entry, column["name"]) for entry in (column.get("data_tests") or []) + (column.get("tests") or [])
                ]
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
            tests.append(
                DbtTest(
                    "relationships",
                    node,
                    column,
                    {"to": constraint["to"], "field": field_name},
                    f"{origin} (constraint)",
                )
            )
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


@dataclass
class Mapping:
    metadata: Metadata
    applied: list[str]  # "unique on stg_customers.customer_id (...) -> PK raw_customers(CustomerId)"
    unmapped: list[str]  # every test not mapped, with the reason
    accepted: dict[tuple[str, str], list] = field(default_factory=dict)
    not_null: set[tuple[str, str]] = field(default_factory=set)
    ranges: dict[tuple[str, str], tuple] = field(default_factory=dict)  # (min, max, inclusive)
    notes: list[str] = field(default_factory=list)  # how the models' SQL was read; what could not be


def _sources(tests: list[DbtTest]) -> str:
    """Where a mapped item came from: every test behind it, with its file."""
    return "; ".join(dict.fromkeys(map(str, tests)))


class _Places:
    """Where a test's column is among the seeds, or why it is not."""

    def __init__(self, project: DbtProject, lineage):
        self.project, self.lineage = project, lineage

    def node(self, argument) -> str | None:
        """The seed or model a relationships test's ``to`` names (``ref('x')``, ``source('s', 't')``)."""
        match = re.search(r"""(ref|source)\(\s*(?:['"]([^'"]+)['"]\s*,\s*)?['"]([^'"]+)['"]""", str(argument))
        if match is None:
            return None
        if match.group(1) == "source":
            return self.project.sources.get((match.group(2), match.group(3)), match.group(3))
        return match.group(3)

    def column(self, node: str | None, column: str | None):
        """(seed, column as the seed writes it), or None."""
        if node in self.project.seeds:
            written = self.lineage.seed_columns.get(node, {}).get(str(column).lower())
            return (node, written) if written else None
        found = self.lineage.of(node, str(column)) if node else None
        return found.origin if found else None

    def why(self, node: str, column: str) -> str:
        if node in self.project.seeds:
            return f"seed {node} has no column {column}"
        if node not in self.project.models:
            return f"the project has no seed or model named {node}"
        if node in self.lineage.failed:
            return f"model {node}: {self.lineage.failed[node]}"
        found = self.lineage.of(node, column)
        return found.reason if found else f"model {node} has no column {column}"


def to_metadata(
    project: DbtProject, select: list[str] | None = None, database: str | None = None, lineage=None, models=None
) -> Mapping:
    """Seeds as tables, tests as keys: unique + not_null -> PK, unique -> UQ, relationships
    -> FK; a not_null on a column a LEFT JOIN reads -> the join always matches (a minimum of
    children per parent); not_null and accepted_values are kept by the engine (nulls and
    values are only generated as seen) and checked after generation. ``models`` and
    ``lineage`` default to the models rendered here and their lineage; with ``database``
    (a URL) the seeds' rows are read from its tables of the same names."""
    from syngen.adapters.dbt_lineage import trace
    from syngen.adapters.dbt_render import model_sql
    from syngen.adapters.dbt_singular import read_singular

    models = models or model_sql(project)
    lineage = lineage or trace(project, models)
    singular = read_singular(project, models, lineage)
    every_test = project.tests + singular.tests
    names = [n for n in project.seeds if not select or n in select]
    unknown = [n for n in select or [] if n not in project.seeds]
    if unknown:
        raise SyngenError(f"no seed named {', '.join(unknown)} in {project.root} (seeds: {', '.join(project.seeds)})")
    places = _Places(project, lineage)
    mapping = Mapping(Metadata({}), [], [], notes=_model_notes(models, lineage))
    found: dict[str, dict[tuple[str, str], list[DbtTest]]] = {}
    combinations, implied = [], {link: list(found) for link, found in singular.links.items()}
    for test in every_test:
        target = places.column(test.node, test.column)
        # a not_null on what a LEFT JOIN reads: the join always matches (not if it holds only where ...)
        links = (
            getattr(lineage.of(test.node, test.column), "links", [])
            if test.name == "not_null" and not test.where
            else []
        )
        if test.name == "unique_combination_of_columns":
            combinations.append(test)
        elif test.where and test.name in ("unique", "relationships"):
            mapping.unmapped.append(f"{test}: it applies only where {test.where}, so it is not a key of the whole seed")
        elif test.name not in KNOWN_TESTS:
            mapping.unmapped.append(f"{test}: not a test syngen maps")
        elif target is None and not links:
            mapping.unmapped.append(f"{test}: {places.why(test.node, test.column)}")
        elif target is not None and target[0] not in names:
            mapping.unmapped.append(f"{test}: its seed {target[0]} is not among the selected ones")
        elif target is not None:
            found.setdefault(test.name, {}).setdefault(target, []).append(test)
        for link in links:
            implied.setdefault(link, []).append(test)
    tables = {n: Table(n, database or str(project.seeds[n])) for n in names}
    unique, not_null = found.get("unique", {}), found.get("not_null", {})
    _composite_keys(combinations, places, tables, unique, not_null, mapping)
    for (seed, column), tests in unique.items():
        table = tables[seed]
        kind = "PK" if (seed, column) in not_null and table.primary_key is None else "UQ"
        table.keys.append(Key(f"{kind.lower()}_{column}", kind, (column,)))
        mapping.applied.append(f"{_sources(tests + not_null.get((seed, column), []))} -> {kind} {seed}({column})")
    lookups = _lookup_keys(project, every_test, lineage, tables, mapping)
    for (seed, column), tests in found.get("relationships", {}).items():
        test = tests[0]
        parent = places.column(places.node(test.arguments.get("to")), test.arguments.get("field"))
        if parent is None or parent[0] not in tables:
            mapping.unmapped.append(
                f"{_sources(tests)}: its parent {test.arguments.get('to')}."
                f"{test.arguments.get('field')} is not a selected seed column"
            )
        elif not _is_unique(tables, parent):
            mapping.unmapped.append(
                f"{_sources(tests)}: the parent column {parent[0]}.{parent[1]} has no unique test, so it is not a key"
            )
        else:
            _add_link(tables, (seed, column), parent, 0)
            mapping.applied.append(f"{_sources(tests)} -> FK {seed}({column}) -> {parent[0]}({parent[1]})")
    _lookup_references(lookups, tables, mapping)
    for link, tests in implied.items():
        _implied(link, tests, tables, mapping)
    for (seed, column), tests in not_null.items():
        mapping.not_null.add((seed, column))
        mapping.applied.append(f"{_sources(tests)} -> {seed}.{column} generated without nulls where the seed has none")
    for (seed, column), tests in found.get("accepted_range", {}).items():
        bounds = {k: tests[0].arguments.get(k) for k in ("min_value", "max_value")}
        mapping.ranges[(seed, column)] = (
            bounds["min_value"],
            bounds["max_value"],
            tests[0].arguments.get("inclusive", True),
        )
        mapping.applied.append(
            f"{_sources(tests)} -> {seed}.{column} stays in the seed's own range, checked after generation"
        )
    for (seed, column), tests in found.get("accepted_values", {}).items():
        mapping.accepted[(seed, column)] = list(tests[0].arguments.get("values") or [])
        # a closed set of values: a category whose rare values give way to frequent ones, never
        # to a made-up value of its meaning (another country) that the test would reject
        tables[seed].kinds.setdefault(column, "categorical")
        mapping.applied.append(f"{_sources(tests)} -> only seen values of {seed}.{column}, checked after generation")
    mapping.unmapped += singular.unmapped
    if not every_test and not singular.links:
        mapping.notes.append(
            "no generic tests found (the properties YAML under the model and seed paths and "
            "installed packages' model paths, or target/manifest.json): the seeds are learned "
            "without keys"
        )
    mapping.metadata = Metadata(tables)
    return mapping


def _model_notes(models, lineage) -> list[str]:
    """How the models' SQL was had, and the models whose columns cannot be followed."""
    from collections import Counter

    from syngen.adapters.dbt_render import RENDERED

    counts = Counter(models.how.values())
    words = {RENDERED: "rendered here from their Jinja"}
    notes = (
        [f"models: {', '.join(f'{n} {words.get(how, how)}' for how, n in sorted(counts.items()))}"] if counts else []
    )
    return notes + [f"model {model}: {why}" for model, why in sorted(lineage.failed.items())]


def _composite_keys(combinations, places, tables, unique, not_null, mapping) -> None:
    for test in combinations:
        columns = [places.column(test.node, c) for c in test.arguments.get("combination_of_columns") or []]
        seeds = {c[0] for c in columns if c}
        if not columns or None in columns or len(seeds) != 1:
            mapping.unmapped.append(f"{test}: its columns do not all come from one seed")
            continue
        seed = seeds.pop()
        if seed not in tables:
            mapping.unmapped.append(f"{test}: its seed {seed} is not among the selected ones")
            continue
        kind = "UQ" if tables[seed].primary_key or any(t[0] == seed for t in unique if t in not_null) else "PK"
        tables[seed].keys.append(
            Key(f"{kind.lower()}_{'_'.join(c[1] for c in columns)}", kind, tuple(c[1] for c in columns))
        )
        mapping.applied.append(f"{test} -> {kind} {seed}({', '.join(c[1] for c in columns)})")


def _lookup_keys(project, tests, lineage, tables, mapping) -> dict:
    """A model column that must be unique stays so only if each side its rows are joined to
    has one row per join key: the seed columns behind these keys become UQ keys (unless they
    are keys already, or the side is grouped by them). Returns the joins, with their tests."""
    tested: dict[tuple, list[DbtTest]] = {}
    for test in tests:
        columns = (
            [test.column]
            if test.name == "unique"
            else test.arguments.get("combination_of_columns")
            if test.name == "unique_combination_of_columns"
            else None
        )
        if columns and not test.where and test.node in project.models:
            tested.setdefault((test.node, tuple(columns)), []).append(test)
    found: dict = {}
    for (model, columns), tests in tested.items():
        lookups, unfollowed = lineage.lookups(model, columns)
        for lookup in lookups:
            found.setdefault(lookup, []).extend(tests)
        mapping.unmapped += [f"{_sources(tests)}: {why}" for why in unfollowed]
    keys: dict[tuple, list[DbtTest]] = {}
    for lookup, tests in found.items():
        keys.setdefault(lookup.inner, []).extend(tests)
    for inner, tests in keys.items():
        seed, columns = inner[0][0], tuple(column for _, column in inner)
        models = ", ".join(dict.fromkeys(lookup.model for lookup in found if lookup.inner == inner))
        if seed not in tables:
            mapping.unmapped.append(
                f"{_sources(tests)}: the join in {models} needs {seed} unique on "
                f"{', '.join(columns)}, and it is not among the selected seeds"
            )
        elif all(key.columns != columns for key in tables[seed].unique_keys):
            tables[seed].keys.append(Key(f"uq_{'_'.join(columns)}", "UQ", columns))
            mapping.applied.append(
                f"{_sources(tests)} -> UQ {seed}({', '.join(columns)}) (joined in {models}: "
                "a repeated key would repeat rows)"
            )
    return found


def _lookup_references(lookups: dict, tables, mapping) -> None:
    """A join on a seed column now unique, from another seed's column that has no FK: the
    natural reference, child -> parent."""
    for lookup, tests in lookups.items():
        child, parent = lookup.outer, lookup.inner[0]
        if (
            len(lookup.inner) != 1
            or child is None
            or child == parent
            or child[0] not in tables
            or parent[0] not in tables
            or not _is_unique(tables, parent)
            or _is_unique(tables, child)
            or any(key.columns == (child[1],) for key in tables[child[0]].foreign_keys)
        ):
            continue
        _add_link(tables, child, parent, 0)
        mapping.applied.append(
            f"{_sources(tests)} -> FK {child[0]}({child[1]}) -> {parent[0]}({parent[1]}) (the join in {lookup.model})"
        )


def _is_unique(tables, place) -> bool:
    return any(k.columns == (place[1],) for k in tables[place[0]].unique_keys)


def _add_link(tables, child, parent, least: int) -> None:
    """An FK from child (seed, column) to parent, or the one there, with at least ``least``
    children per parent row."""
    table = tables[child[0]]
    for index, key in enumerate(table.keys):
        if key.type == "FK" and key.columns == (child[1],) and key.parent == parent[0]:
            table.keys[index] = replace(key, min_children=max(key.min_children, least))
            return
    table.keys.append(Key(f"fk_{child[1]}", "FK", (child[1],), parent[0], (parent[1],), least))


def _implied(link, tests, tables, mapping) -> None:
    """A LEFT JOIN every left row of which must find a joined row: when the left side's
    column is a key, its seed's rows each have at least one row of the joined side's seed
    (an FK with min_children 1); when the joined side's is, the left side's column is an FK
    that is never null."""
    (outer_seed, outer_column), (inner_seed, inner_column) = link.outer, link.inner
    joined = f"{_sources(tests)} -> every {outer_seed} row has"
    if outer_seed not in tables or inner_seed not in tables:
        mapping.unmapped.append(f"{_sources(tests)}: the {link.kind} in {link.model} is of seeds not all selected")
    elif _is_unique(tables, link.outer) and link.inner != link.outer:
        _add_link(tables, link.inner, link.outer, 1)
        mapping.applied.append(
            f"{joined} at least 1 {inner_seed} row (the {link.kind} in {link.model}): FK "
            f"{inner_seed}({inner_column}) -> {outer_seed}({outer_column}), min_children 1"
        )
    elif _is_unique(tables, link.inner):
        _add_link(tables, link.outer, link.inner, 0)
        mapping.not_null.add(link.outer)
        mapping.applied.append(
            f"{joined} its {inner_seed} row (the {link.kind} in {link.model}): FK "
            f"{outer_seed}({outer_column}) -> {inner_seed}({inner_column}), never null"
        )
    else:
        mapping.unmapped.append(
            f"{_sources(tests)}: the {link.kind} in {link.model} must always match, but neither "
            f"{outer_seed}.{outer_column} nor {inner_seed}.{inner_column} has a unique test"
        )
