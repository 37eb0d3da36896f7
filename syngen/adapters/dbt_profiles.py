"""A dbt profile's target: what dbt's Jinja sees as ``target``, and the SQLAlchemy URL of the
schema where ``dbt seed`` puts the seeds (``--from-database`` / ``--to-database``).

Read from ``profiles.yml`` (the given folder, the project's, else ``~/.dbt``), with its
``env_var()`` calls rendered. Passwords go into the URL only; syngen shows URLs with the
password hidden, and no message here quotes a profile's values.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from syngen.errors import SyngenError

# adapter type -> how its target becomes a SQLAlchemy URL (the driver is the user's to install)
SUPPORTED = ("duckdb", "postgres", "redshift", "mysql", "snowflake", "trino")


def read_target(project, profiles_dir=None, target: str | None = None) -> tuple[str, str, dict]:
    """(profile name, target name, the target's settings with env_var() rendered)."""
    folders = [Path(profiles_dir)] if profiles_dir else [project.root, Path.home() / ".dbt"]
    found = next((f / "profiles.yml" for f in folders if (f / "profiles.yml").is_file()), None)
    if found is None:
        raise SyngenError(f"no profiles.yml in {', '.join(map(str, folders))}; give --profiles-dir")
    try:
        profiles = yaml.safe_load(found.read_text()) or {}
    except yaml.YAMLError as error:
        raise SyngenError(f"{found} is not valid YAML: {error}") from None
    name = str(project.config.get("profile", project.name))
    profile = profiles.get(name)
    if not isinstance(profile, dict):
        raise SyngenError(f"{found} has no profile '{name}'")
    chosen = target or profile.get("target")
    output = (profile.get("outputs") or {}).get(chosen)
    if not isinstance(output, dict):
        raise SyngenError(f"{found}: profile '{name}' has no target '{chosen}'")
    return (
        name,
        str(chosen),
        {key: _rendered(value, f"{found}: {name}.outputs.{chosen}.{key}") for key, value in output.items()},
    )


def target_context(project, profiles_dir=None, target: str | None = None) -> dict:
    """``target`` for rendering models: the profile's, secrets left out; a generic one when
    no profile can be read (models then render for no adapter in particular)."""
    from syngen.adapters.dbt_render import public_target

    try:
        profile, name, output = read_target(project, profiles_dir, target)
    except SyngenError:
        return {"name": target or "dev", "type": "default", "schema": "main", "database": None, "threads": 1}
    return {**public_target(output, name), "profile_name": profile}


def database_url(project, profiles_dir=None, target: str | None = None) -> str:
    """The SQLAlchemy URL of the schema the seeds are in: the target's schema, or the one the
    project's ``+schema`` for seeds names (through its own ``generate_schema_name`` if it has
    one, else dbt's default ``<target schema>_<custom>``)."""
    _, name, output = read_target(project, profiles_dir, target)
    kind = str(output.get("type"))
    if kind not in SUPPORTED:
        raise SyngenError(
            f"target '{name}' is a '{kind}' profile: syngen makes database URLs for "
            f"{', '.join(SUPPORTED)} profiles only; learn from the seed files instead "
            "(leave out --from-database / --to-database)"
        )
    schema = _seeds_schema(project, profiles_dir, target, output)
    return _URLS[kind](project, name, output, schema)


def ensure_schema(url: str) -> None:
    """Create the URL's schema (PostgreSQL's search_path) when it is not there, as dbt seed would."""
    import sqlalchemy as sa

    from syngen.adapters.sql import connected

    parsed = sa.make_url(url)
    options = str(parsed.query.get("options", ""))
    if not parsed.drivername.startswith("postgresql") or "search_path=" not in options:
        return
    schema = options.split("search_path=", 1)[1].split()[0]
    server = parsed.set(query={k: v for k, v in parsed.query.items() if k != "options"})
    with connected(server.render_as_string(hide_password=False), f"creating schema {schema}") as connection:
        connection.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        connection.commit()


def _rendered(value, where: str):
    """A profile value with its ``{{ env_var('X') }}`` (or ``env_var('X', 'default')``) filled in."""
    if not isinstance(value, str) or "{{" not in value:
        return value
    import jinja2

    def env_var(key, default=None):
        if key in os.environ:
            return os.environ[key]
        if default is None:
            raise SyngenError(f"{where}: env_var('{key}') is not set")
        return default

    try:
        text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(value).render(env_var=env_var)
    except jinja2.TemplateError as error:
        raise SyngenError(f"{where}: cannot render it: {error.message}") from None
    return text


def _seeds_schema(project, profiles_dir, target, output: dict) -> str | None:
    from syngen.adapters.dbt_render import Renderer, RenderError

    base = output.get("schema") or ("main" if output.get("type") == "duckdb" else None)
    seeds = (project.config.get("seeds") or {}).get(project.name) or {}
    custom = seeds.get("+schema", seeds.get("schema"))
    if not custom:
        return base
    try:
        chosen = Renderer(project, target_context(project, profiles_dir, target)).call(
            "generate_schema_name", custom, {"resource_type": "seed"}
        )
    except RenderError as error:
        raise SyngenError(f"the project's generate_schema_name macro cannot be rendered: {error}") from None
    return str(chosen).strip() if chosen is not None else f"{base}_{custom}"


def _duckdb(project, name: str, output: dict, schema: str | None) -> str:
    path = Path(str(output.get("path", ":memory:")))
    if str(path) == ":memory:":
        raise SyngenError(f"target '{name}' is an in-memory DuckDB database; nothing to read or keep")
    if schema not in (None, "main"):
        raise SyngenError(
            f"the seeds of target '{name}' are in DuckDB schema '{schema}'; syngen reads and "
            "writes DuckDB's main schema only"
        )
    return f"duckdb:///{path if path.is_absolute() else project.root / path}"


def _postgres(project, name: str, output: dict, schema: str | None) -> str:
    import sqlalchemy as sa

    query = {"options": f"-csearch_path={schema}"} if schema else {}
    if output.get("sslmode"):
        query["sslmode"] = str(output["sslmode"])
    default_port = 5439 if output.get("type") == "redshift" else 5432
    return sa.URL.create(
        "postgresql+psycopg",
        username=output.get("user"),
        password=output.get("password", output.get("pass")),
        host=output.get("host"),
        port=int(output.get("port", default_port)),
        database=output.get("dbname", output.get("database")),
        query=query,
    ).render_as_string(hide_password=False)


def _mysql(project, name: str, output: dict, schema: str | None) -> str:
    import sqlalchemy as sa

    return sa.URL.create(
        "mysql+pymysql",
        username=output.get("username", output.get("user")),
        password=output.get("password"),
        host=output.get("server", output.get("host")),
        port=int(output.get("port", 3306)),
        database=schema,
    ).render_as_string(hide_password=False)


def _snowflake(project, name: str, output: dict, schema: str | None) -> str:
    import sqlalchemy as sa

    query = {k: str(output[k]) for k in ("warehouse", "role") if output.get(k)}
    return sa.URL.create(
        "snowflake",
        username=output.get("user"),
        password=output.get("password"),
        host=output.get("account"),
        database=f"{output.get('database')}/{schema}",
        query=query,
    ).render_as_string(hide_password=False)


def _trino(project, name: str, output: dict, schema: str | None) -> str:
    import sqlalchemy as sa

    return sa.URL.create(
        "trino",
        username=output.get("user"),
        password=output.get("password"),
        host=output.get("host"),
        port=int(output.get("port", 8080)),
        database=f"{output.get('database')}/{schema}",
    ).render_as_string(hide_password=False)


_URLS = {
    "duckdb": _duckdb,
    "postgres": _postgres,
    "redshift": _postgres,
    "mysql": _mysql,
    "snowflake": _snowflake,
    "trino": _trino,
}
