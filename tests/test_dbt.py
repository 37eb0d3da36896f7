"""dbt projects: tests read in both syntaxes and mapped onto seed columns through renaming
models, synthetic seeds written beside the project, and the project's own `dbt build`
passing on them."""
from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from conftest import ROOT, run_cli, unavailable
from syngen.adapters.dbt import lineage, load_project, to_metadata
from syngen.errors import SyngenError

EXAMPLE = ROOT / "examples" / "dbt_shop"


def keys_of(mapping) -> set:
    return {(name, k.type, k.columns, k.parent, k.parent_columns)
            for name, t in mapping.metadata.tables.items() for k in t.keys}


def test_tests_in_both_syntaxes_map_onto_seed_columns_through_renames():
    project = load_project(EXAMPLE)
    # data_tests with arguments: (new), tests with top-level arguments (old)
    assert {t.name for t in project.tests} == {"unique", "not_null", "relationships", "accepted_values"}
    assert lineage(project)[("stg_invoices", "invoiced_at")] == ("raw_invoices", "InvoiceDate")
    mapping = to_metadata(project)
    assert keys_of(mapping) == {
        ("raw_customers", "PK", ("CustomerId",), None, ()),
        ("raw_invoices", "PK", ("InvoiceId",), None, ()),
        ("raw_invoice_lines", "PK", ("InvoiceLineId",), None, ()),
        ("raw_invoices", "FK", ("CustomerId",), "raw_customers", ("CustomerId",)),
        ("raw_invoice_lines", "FK", ("InvoiceId",), "raw_invoices", ("InvoiceId",))}
    assert mapping.accepted[("raw_invoice_lines", "Quantity")] == [1]
    assert ("raw_customers", "Email") in mapping.not_null and not mapping.unmapped


def test_disabled_tests_self_references_packages_and_what_cannot_be_mapped(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    (project / "models" / "staging" / "stg_managers.sql").write_text(
        "{{ config(materialized='view') }}\nselect CustomerId as id, SupportRepId + 0 as rep, "
        "upper(Country) as country_code from {{ ref('shop', 'raw_customers') }} c")
    (project / "seeds" / "props.yml").write_text("""
version: 2
seeds:
  - name: raw_customers
    columns:
      - name: SupportRepId
        tests:
          - relationships: {to: ref('raw_customers'), field: CustomerId}
      - name: Company
        data_tests:
          - unique: {config: {enabled: false}}
models:
  - name: stg_invoice_lines
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          arguments: {combination_of_columns: [invoice_id, track_id]}
  - name: stg_invoices
    columns:
      - name: total
        data_tests:
          - dbt_utils.accepted_range: {arguments: {min_value: 0}}
      - name: billing_country
        data_tests:
          - unique: {config: {where: "total > 20"}}
  - name: stg_managers
    config: {contract: {enforced: true}}
    columns:
      - name: rep
        constraints: [{type: foreign_key, to: "ref('stg_managers')", to_columns: [id]}]
      - name: id
        constraints: [{type: primary_key}]
        data_tests: [{unique: {config: {severity: warn}}}]
      - name: country_code
        data_tests: [not_null, dbt_utils.not_empty_string]
""")
    mapping = to_metadata(load_project(project))
    keys = keys_of(mapping)
    assert ("raw_customers", "FK", ("SupportRepId",), "raw_customers", ("CustomerId",)) in keys  # self-reference
    assert not any(k[2] == ("Company",) for k in keys)  # disabled
    assert ("raw_invoice_lines", "UQ", ("InvoiceId", "TrackId"), None, ()) in keys  # model-level, composite
    assert mapping.ranges[("raw_invoices", "Total")] == (0, None, True)
    assert not any(k[2] == ("BillingCountry",) for k in keys)  # unique only where total > 20
    assert lineage(load_project(project))[("stg_managers", "id")] == ("raw_customers", "CustomerId")
    assert any("(constraint)" in line and "-> PK raw_customers(CustomerId)" in line for line in mapping.applied)
    assert "relationships on stg_managers.rep" in " ".join(mapping.unmapped)  # 'SupportRepId + 0': computed
    reasons = " ".join(mapping.unmapped)
    assert "not_null on stg_managers.country_code" in reasons and "could not be followed" in reasons
    assert "not_empty_string" in reasons and "applies only where total > 20" in reasons
    with pytest.raises(SyngenError, match="no seed named nope"):
        to_metadata(load_project(project), ["nope"])


def dbt_executable() -> str:
    found = os.environ.get("SYNGEN_TEST_DBT") or shutil.which("dbt")
    if not found:
        unavailable("no dbt executable (.ci/run installs dbt-core and dbt-duckdb 1.11 and sets SYNGEN_TEST_DBT)")
    return found


def test_synthetic_seeds_pass_the_projects_own_dbt_build(tmp_path):
    dbt = dbt_executable()
    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    done = run_cli("syngen", "dbt", "--project", str(project), "--epochs", "5", "--random_seed", "1",
                   "--scale", "0.5", "--build", "--dbt", dbt, cwd=tmp_path)
    text = " ".join(done.stderr.split())
    assert "dbt build passed: PASS=20 WARN=0 ERROR=0" in text, done.stderr
    out = project / "synthetic_seeds"
    for seed in ("raw_customers", "raw_invoices", "raw_invoice_lines"):
        real = pd.read_csv(project / "seeds" / f"{seed}.csv", nrows=5)
        fake = pd.read_csv(out / f"{seed}.csv")
        assert list(fake.columns) == list(real.columns)
    customers = pd.read_csv(out / "raw_customers.csv")
    assert abs(len(customers) - round(59 * 0.5)) <= 1
    assert "relationships" in (out / "_syngen_seeds.yml").read_text()
    again = run_cli("syngen", "dbt", "--project", str(project), "--epochs", "2", cwd=tmp_path, check=False)
    assert again.returncode == 1 and "--overwrite" in again.stderr


def test_the_manifest_when_present_gives_the_same_keys_as_the_yaml(tmp_path):
    import subprocess

    dbt = dbt_executable()
    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    from_yaml = to_metadata(load_project(project))
    subprocess.run([dbt, "parse", "--profiles-dir", str(project)], cwd=project, check=True, capture_output=True,
                   env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    assert (project / "target" / "manifest.json").exists()
    from_manifest = to_metadata(load_project(project))
    assert keys_of(from_manifest) == keys_of(from_yaml)
    assert from_manifest.accepted == from_yaml.accepted and from_manifest.not_null == from_yaml.not_null


def test_seeds_can_be_learned_from_the_profiles_duckdb_database(tmp_path):
    import subprocess

    dbt = dbt_executable()
    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    missing = run_cli("syngen", "dbt", "--project", str(project), "--from-database", cwd=tmp_path, check=False)
    assert missing.returncode == 1 and "database file not found" in missing.stderr
    subprocess.run([dbt, "seed", "--profiles-dir", str(project)], cwd=project, check=True, capture_output=True,
                   env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
    run_cli("syngen", "dbt", "--project", str(project), "--from-database", "--epochs", "3", "--size", "40",
            "--out", str(tmp_path / "out"), cwd=tmp_path)
    customers = pd.read_csv(tmp_path / "out" / "raw_customers.csv")
    invoices = pd.read_csv(tmp_path / "out" / "raw_invoices.csv")
    assert len(customers) == 40 and customers["CustomerId"].is_unique
    assert invoices["CustomerId"].isin(set(customers["CustomerId"])).all()
    assert list(invoices.columns) == list(pd.read_csv(project / "seeds" / "raw_invoices.csv", nrows=1).columns)


def test_synthetic_seeds_can_go_into_the_profiles_database(tmp_path):
    import duckdb

    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    (project / "target").mkdir()
    done = run_cli("syngen", "dbt", "--project", str(project), "--to-database", "--epochs", "3", "--size", "30",
                   cwd=tmp_path)
    assert "duckdb:///" in " ".join(done.stderr.split())
    database = duckdb.connect(str(project / "target" / "shop.duckdb"), read_only=True)
    counts = dict(database.execute("select table_name, estimated_size from duckdb_tables()").fetchall())
    fks = database.execute("select count(*) from duckdb_constraints() where constraint_type = 'FOREIGN KEY'").fetchone()
    database.close()
    assert counts["raw_customers"] == 30 and set(counts) == {"raw_customers", "raw_invoices", "raw_invoice_lines"}
    assert fks[0] == 2
    again = run_cli("syngen", "dbt", "--project", str(project), "--to-database", "--epochs", "2", cwd=tmp_path,
                    check=False)
    assert again.returncode == 1 and "would overwrite table raw_customers" in again.stderr
    assert "--overwrite" in again.stderr
