"""A dbt model's SQL as dbt runs it: dbt's own compiled SQL when it is there and not older
than the model, else the model's Jinja rendered here, in a context like dbt's: ``ref``,
``source``, ``config``, ``var`` (``dbt_project.yml`` and ``--vars``), ``env_var``,
``is_incremental`` (false: the full build), ``this``, ``target`` (the profile's, without
secrets), ``adapter.dispatch``, a few of dbt's cross-database macros, and the macros of the
project and of the packages installed in ``dbt_packages/``.

Seeds and models are written ``dbt_nodes.<name>`` in the SQL handed on, so that a CTE named
like a model (``orders as (select * from {{ ref('orders') }})``) never hides it. A model that
cannot be rendered is reported with the reason, never guessed at.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

NODES = "dbt_nodes"  # the schema every seed and model is named in, in the SQL handed to lineage
COMPILED = "compiled by dbt"
RENDERED = "rendered"
_MISSING = object()
_DIALECTS = {"sqlserver": "tsql", "synapse": "tsql"}  # dbt adapter type -> sqlglot dialect, where they differ
_PARENT_ADAPTERS = {"redshift": ("postgres",), "databricks": ("spark",), "materialize": ("postgres",)}
_SECRETS = re.compile(r"pass|secret|token|private_key|keyfile", re.I)


@dataclass
class Models:
    """Every model's SQL (seeds and models named ``dbt_nodes.<name>``), how it was had, and
    the models that could not be rendered, with why."""

    sql: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)  # model -> COMPILED or RENDERED
    failed: dict[str, str] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)  # a relation's identifier (lower case) -> node
    dialect: str | None = None  # sqlglot's name for the target's SQL
    tests: dict[str, str] = field(default_factory=dict)  # a singular test's file -> its SQL
    tests_failed: dict[str, str] = field(default_factory=dict)  # a singular test's file -> why it has no SQL


class RenderError(Exception):
    """Why a model cannot be rendered, in words for the user."""


def model_sql(
    project, vars: dict | None = None, profiles_dir=None, target: str | None = None, manifest: Path | None = None
) -> Models:
    """The SQL of every model of ``project``; ``manifest`` is a manifest.json of a ``dbt
    compile`` (default: the project's own target folder's, when it holds compiled code)."""
    from syngen.adapters.dbt_profiles import target_context

    context_target = target_context(project, profiles_dir, target)
    models = Models(dialect=_dialect(context_target["type"]))
    models.relations = {name.lower(): name for name in list(project.seeds) + list(project.models)}
    compiled, tests = _compiled(project, manifest or project.root / project.target_path / "manifest.json", models)
    renderer = Renderer(project, context_target, vars)
    for name, path in project.models.items():
        if name in compiled:
            models.sql[name], models.how[name] = compiled[name], COMPILED
            continue
        try:
            models.sql[name] = renderer.render(path.read_text(), name)
            models.how[name] = RENDERED
        except RenderError as error:
            models.failed[name] = str(error)
    for test in project.singular:
        try:
            models.tests[test] = tests.get(test) or renderer.render((project.root / test).read_text(), Path(test).stem)
        except RenderError as error:
            models.tests_failed[test] = str(error)
    return models


def _dialect(adapter_type: str) -> str | None:
    from sqlglot.dialects.dialect import Dialect

    name = _DIALECTS.get(adapter_type, adapter_type)
    try:
        Dialect.get_or_raise(name)
    except ValueError:
        return None
    return name


def _compiled(project, manifest: Path, models: Models) -> tuple[dict[str, str], dict[str, str]]:
    """dbt's compiled SQL of the models (by name) and singular tests (by file) that have not
    changed since: the manifest's ``compiled_code`` (a ``dbt compile``, ``run`` or
    ``build``), else the files of ``target/compiled``. A model edited after dbt compiled it
    is rendered again."""
    found: dict[str, str] = {}
    tests: dict[str, str] = {}
    if manifest.is_file():
        try:
            nodes = json.loads(manifest.read_text()).get("nodes", {})
        except ValueError:
            nodes = {}
        for node in nodes.values():
            if node.get("resource_type") in ("model", "seed") and node.get("alias"):
                models.relations[str(node["alias"]).lower()] = node["name"]
            code = node.get("compiled_code") or node.get("compiled_sql")
            package = project.model_packages.get(node.get("name"), project.name)
            path = project.models.get(node.get("name")) if node.get("package_name", project.name) == package else None
            if (
                node.get("resource_type") == "model"
                and code
                and path is not None
                and path.stat().st_mtime <= manifest.stat().st_mtime
            ):
                found[node["name"]] = code
            test = node.get("original_file_path")
            if (
                node.get("resource_type") == "test"
                and code
                and test in project.singular
                and node.get("package_name", project.name) == project.name
                and (project.root / test).stat().st_mtime <= manifest.stat().st_mtime
            ):
                tests[test] = code
    folder = project.root / project.target_path / "compiled" / project.name
    written = {
        name: path.relative_to(project.root)
        for name, path in project.models.items()
        if name not in project.model_packages
    }  # a package's are under its own folder: the manifest has them
    for into, files in ((found, written), (tests, {test: Path(test) for test in project.singular})):
        for name, path in files.items():
            compiled = folder / path
            if (
                name not in into
                and compiled.is_file()
                and (project.root / path).stat().st_mtime <= compiled.stat().st_mtime
            ):
                into[name] = compiled.read_text()
    return found, tests


# -- the Jinja context ------------------------------------------------------------------------


class _Return(Exception):
    """dbt's ``{{ return(value) }}``: the macro's value instead of its text."""

    def __init__(self, value):
        self.value = value


def _return(value):
    raise _Return(value)


class _Relation:
    """What ``ref()``, ``source()`` and ``this`` give: prints as the name lineage reads."""

    def __init__(self, text: str, identifier: str, schema: str = NODES, database: str | None = None):
        self.text, self.identifier, self.name, self.table = text, identifier, identifier, identifier
        self.schema, self.database = schema, database

    def __str__(self) -> str:
        return self.text

    def __html__(self) -> str:
        return self.text

    def include(self, **_) -> _Relation:
        return self

    def render(self) -> str:
        return self.text


class _Config(dict):
    """``config(...)`` in a model (renders nothing) and ``config.get`` in its macros."""

    def __call__(self, *args, **kwargs) -> str:
        self.update(kwargs)
        return ""

    def require(self, key):
        if key not in self:
            raise RenderError(f"config '{key}' is required")
        return self[key]


class _Namespace:
    """Macros reached as ``package.macro`` (or dbt's own, as ``dbt.macro``)."""

    def __init__(self, name: str, macros: dict, missing: str):
        self._name, self._macros, self._missing = name, macros, missing

    def __getattr__(self, macro: str):
        if macro.startswith("__"):
            raise AttributeError(macro)
        if macro not in self._macros:
            raise RenderError(f"{self._name}.{macro} is {self._missing}")
        return self._macros[macro]


class _Macro:
    """A macro of a file, called lazily so that it sees every macro and the model's context,
    as dbt's do; ``return()`` gives its value."""

    def __init__(self, template, name: str, scope: dict, modules: dict):
        self.template, self.name, self.scope, self.modules = template, name, scope, modules

    def __call__(self, *args, **kwargs):
        key = id(self.template)
        if key not in self.modules:
            self.modules[key] = self.template.make_module(vars=self.scope)
        try:
            return getattr(self.modules[key], self.name)(*args, **kwargs)
        except _Return as returned:
            return returned.value


class _Adapter:
    """``adapter.dispatch``: the target's own version of a macro, else its default one."""

    def __init__(self, adapter_type: str, lookup):
        self.type, self.lookup = adapter_type, lookup

    def dispatch(self, macro_name: str, macro_namespace: str | None = None):
        for prefix in (self.type, *_PARENT_ADAPTERS.get(self.type, ()), "default"):
            found = self.lookup(f"{prefix}__{macro_name}", macro_namespace)
            if found is not None:
                return found
        raise RenderError(
            f"adapter.dispatch('{macro_name}'): no {self.type}__{macro_name} or default__{macro_name} macro"
        )

    def quote(self, identifier) -> str:
        return f'"{identifier}"'

    def get_relation(self, *_, **__):
        return None

    def get_columns_in_relation(self, *_, **__) -> list:
        return []


class _Exceptions:
    @staticmethod
    def raise_compiler_error(message):
        raise RenderError(f"the model raises a compiler error: {message}")

    @staticmethod
    def warn(*_, **__) -> str:
        return ""


def _cross_database_macros() -> dict:
    """dbt's own macros that models call most (``dbt.date_trunc`` ...), as SQL lineage reads."""

    def types(name):
        return lambda *_: name

    return {
        "date_trunc": lambda part, expression: f"date_trunc('{part}', {expression})",
        "dateadd": lambda part, interval, expression: f"({expression} + interval '{interval}' {part})",
        "datediff": lambda first, second, part: f"date_diff('{part}', {first}, {second})",
        "cast": lambda expression, type_: f"cast({expression} as {type_})",
        "safe_cast": lambda expression, type_: f"try_cast({expression} as {type_})",
        "concat": lambda fields: "concat(" + ", ".join(map(str, fields)) + ")",
        "hash": lambda expression: f"md5(cast({expression} as varchar))",
        "current_timestamp": lambda: "current_timestamp",
        "split_part": lambda text, delimiter, part: f"split_part({text}, {delimiter}, {part})",
        "any_value": lambda expression: f"any_value({expression})",
        "type_string": types("varchar"),
        "type_int": types("integer"),
        "type_bigint": types("bigint"),
        "type_float": types("float"),
        "type_numeric": types("numeric(28, 6)"),
        "type_boolean": types("boolean"),
        "type_timestamp": types("timestamp"),
    }


def _without_blocks(text: str) -> str:
    """A macro file as plain Jinja: dbt's ``{% test %}`` blocks as macros (``test_<name>``),
    its ``{% materialization %}`` blocks left out."""
    text = re.sub(r"{%-?\s*materialization\b.*?{%-?\s*endmaterialization\s*-?%}", "", text, flags=re.S)
    text = re.sub(r"{%(-?)\s*test\s+(\w+)\s*\(", r"{%\1 macro test_\2(", text)
    return re.sub(r"{%(-?)\s*endtest\s*(-?)%}", r"{%\1 endmacro \2%}", text)


@dataclass
class _MacroFile:
    template: object
    names: list[str]


class Renderer:
    """Renders models (and single macros, like ``generate_schema_name``) of one project."""

    def __init__(self, project, target: dict, vars: dict | None = None):
        import jinja2
        from jinja2 import nodes

        self.project, self.target = project, target
        self.environment = jinja2.Environment(
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"], undefined=jinja2.StrictUndefined
        )
        self.environment.filters.update(as_bool=_as_bool, as_number=_as_number, as_text=str, as_native=lambda v: v)
        self.vars = {**project.vars, **(vars or {})}

        def files(folders: list[Path]) -> list[_MacroFile]:
            found = []
            for path in sorted(p for folder in folders if folder.is_dir() for p in folder.rglob("*.sql")):
                text = _without_blocks(path.read_text())
                try:
                    found.append(
                        _MacroFile(
                            self.environment.from_string(text),
                            [m.name for m in self.environment.parse(text).find_all(nodes.Macro)],
                        )
                    )
                except jinja2.TemplateSyntaxError as error:
                    raise RenderError(f"macro file '{path}' line {error.lineno}: {error.message}") from None
            return found

        self.error: str | None = None
        try:
            self.macros = files(project.macro_folders)
            self.packages = {name: files(folders) for name, folders in project.package_macro_folders.items()}
        except RenderError as error:  # every model needs the macros: all of them fail with this reason
            self.error, self.macros, self.packages = str(error), [], {}

    def render(self, text: str, model: str) -> str:
        """The model's SQL; RenderError says why it cannot be had."""
        return self._guarded(lambda: self.environment.from_string(text).render(self.context(model)))

    def call(self, macro: str, *args):
        """One of the project's macros (None if it has none), outside any model."""
        context = self.context(self.project.name)
        return self._guarded(lambda: context[macro](*args)) if macro in context else None

    def _guarded(self, work):
        """``work``'s result; any failure of the user's Jinja as a RenderError with the reason."""
        import jinja2

        if self.error:
            raise RenderError(self.error)
        try:
            return work()
        except RenderError:
            raise
        except _Return as returned:
            return str(returned.value)
        except jinja2.UndefinedError as error:
            assert error.message is not None  # jinja2 names what is undefined
            raise RenderError(f"{error.message}{self._missing_package(error.message)}") from None
        except jinja2.TemplateSyntaxError as error:
            raise RenderError(f"its Jinja does not parse (line {error.lineno}): {error.message}") from None
        except Exception as error:  # a macro's own failure (a Python error in the user's Jinja)
            raise RenderError(f"{type(error).__name__}: {error}") from None

    def context(self, model: str) -> dict:
        context = self._base(model)
        cross = _cross_database_macros()
        modules: dict = {}
        own = {name: _Macro(f.template, name, context, modules) for f in self.macros for name in f.names}
        packages = {}
        for package, package_files in self.packages.items():
            scope: dict = {}
            packages[package] = (
                scope,
                {name: _Macro(f.template, name, scope, modules) for f in package_files for name in f.names},
            )
            context[package] = _Namespace(package, packages[package][1], "not a macro of that package")

        def lookup(name: str, namespace: str | None):
            """A dispatched macro: the project's first (it may override any), then the
            namespace's (a package's, or dbt's own), then any package's."""
            if name in own:
                return own[name]
            if namespace in packages:
                return packages[namespace][1].get(name)
            if namespace in (None, "dbt") and name.startswith("default__"):
                found = cross.get(name[len("default__") :])
                if found is not None:
                    return found
            return (
                next((macros[name] for _, macros in packages.values() if name in macros), None)
                if namespace is None
                else None
            )

        context["adapter"] = _Adapter(self.target["type"], lookup)
        for name, macro in own.items():
            context.setdefault(name, macro)  # ref, source, var ... stay dbt's
        home = self.project.model_packages.get(model)
        for name, macro in packages[home][1].items() if home in packages else ():
            context.setdefault(name, macro)  # a package's model calls its package's macros by their names
        for scope, macros in packages.values():  # a package's macros see the model's context and each other
            scope.update(context)
            scope.update(macros)
        return context

    def _base(self, model: str) -> dict:
        project = self.project

        def ref(*names, **_):
            name = names[-1]
            if name not in project.seeds and name not in project.models:
                raise RenderError(f"ref('{name}'): the project has no seed or model of that name")
            return _Relation(f"{NODES}.{_identifier(name)}", name)

        def source(source_name, table_name):
            identifier = project.sources.get((source_name, table_name), table_name)
            if identifier in project.seeds:
                return _Relation(f"{NODES}.{_identifier(identifier)}", identifier)
            return _Relation(f"{_identifier(source_name)}.{_identifier(identifier)}", identifier, source_name)

        def var(name, default=_MISSING):
            if name in self.vars:
                return self.vars[name]
            if default is _MISSING:
                raise RenderError(f"var('{name}') is not set: give it in dbt_project.yml's vars or with --vars")
            return default

        def env_var(name, default=_MISSING):
            if name in os.environ:
                return os.environ[name]
            if default is _MISSING:
                raise RenderError(f"env_var('{name}') is not set and has no default")
            return default

        def statement(*_, caller=None, **__) -> str:
            return ""

        config = _Config()
        return {
            "ref": ref,
            "source": source,
            "var": var,
            "env_var": env_var,
            "config": config,
            "builtins": {"ref": ref, "source": source, "config": config},
            "is_incremental": lambda: False,
            "execute": False,
            "flags": {"FULL_REFRESH": False, "WHICH": "compile"},
            "this": _Relation(f"{NODES}.{_identifier(model)}", model, NODES, self.target.get("database")),
            "model": {"name": model, "config": config, "resource_type": "model"},
            "target": self.target,
            "project_name": project.name,
            "graph": {"nodes": {}, "sources": {}},
            "return": _return,
            "run_query": lambda *_: None,
            "statement": statement,
            "load_result": lambda *_: None,
            "log": lambda *_, **__: "",
            "print": lambda *_, **__: "",
            "exceptions": _Exceptions(),
            "modules": {"datetime": datetime, "re": re, "itertools": itertools},
            "tojson": json.dumps,
            "fromjson": json.loads,
            "toyaml": yaml.safe_dump,
            "fromyaml": yaml.safe_load,
            "zip": zip,
            "set": set,
            "local_md5": lambda text: hashlib.md5(str(text).encode()).hexdigest(),
            "invocation_id": "syngen",
            "run_started_at": datetime.datetime.now(datetime.timezone.utc),
            "dbt": _Namespace(
                "dbt",
                _cross_database_macros(),
                "not one of dbt's macros syngen renders (give --compile to have your dbt compile the project)",
            ),
        }

    def _missing_package(self, message: str) -> str:
        """A hint when the undefined name is a package listed but not installed."""
        name = message.split("'")[1] if message.count("'") >= 2 else ""
        if name in self.project.listed_packages and name not in self.project.package_macro_folders:
            return (
                f": a package in packages.yml that is not installed in "
                f"{self.project.packages_path}/ (run dbt deps, or give --compile)"
            )
        return ""


def _identifier(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else '"' + name.replace('"', '""') + '"'


def _as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")


def _as_number(value):
    text = str(value)
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


def public_target(output: dict, name: str) -> dict:
    """The profile's target as dbt's ``target`` shows it: no password, token or key."""
    shown = {k: v for k, v in output.items() if not _SECRETS.search(str(k))}
    return {**shown, "name": name, "type": str(output.get("type", "default"))}
