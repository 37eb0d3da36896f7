"""dbt projects: tests read in both syntaxes and mapped onto seed columns through the models'
rendered SQL (Jinja, CTE chains, joins), synthetic seeds written beside the project, and the
project's own `dbt build` passing on them."""

from __future__ import annotations

import os
import re
import shutil

import pandas as pd
import pytest
from conftest import ROOT, run_cli, unavailable

from syngen.adapters.dbt import load_project, to_metadata
from syngen.adapters.dbt_lineage import trace
from syngen.adapters.dbt_render import model_sql
from syngen.errors import SyngenError

EXAMPLE = ROOT / "examples" / "dbt_shop"
TRADERS = ROOT / "examples" / "dbt_traders"
CLASSIC = ROOT / "tests" / "fixtures" / "dbt_classic"
MODERN = ROOT / "tests" / "fixtures" / "dbt_modern"
PACKAGE = ROOT / "tests" / "fixtures" / "dbt_package"
LOOKUPS = ROOT / "tests" / "fixtures" / "dbt_lookups"
SINGULAR = ROOT / "tests" / "fixtures" / "dbt_singular"


def origins(project) -> dict:
    """(model, column) -> (seed, column) for the columns that are plain copies of one seed column."""
    return {key: column.origin for key, column in trace(project, model_sql(project)).columns.items() if column.origin}


def keys_of(mapping) -> set:
    return {
        (name, k.type, k.columns, k.parent, k.parent_columns)
        for name, t in mapping.metadata.tables.items()
        for k in t.keys
    }


def test_tests_in_both_syntaxes_map_onto_seed_columns_through_renames():
    project = load_project(EXAMPLE)
    # data_tests with arguments: (new), tests with top-level arguments (old)
    assert {t.name for t in project.tests} == {"unique", "not_null", "relationships", "accepted_values"}
    assert origins(project)[("stg_invoices", "invoiced_at")] == ("raw_invoices", "InvoiceDate")
    mapping = to_metadata(project)
    assert keys_of(mapping) == {
        ("raw_customers", "PK", ("CustomerId",), None, ()),
        ("raw_invoices", "PK", ("InvoiceId",), None, ()),
        ("raw_invoice_lines", "PK", ("InvoiceLineId",), None, ()),
        ("raw_invoices", "FK", ("CustomerId",), "raw_customers", ("CustomerId",)),
        ("raw_invoice_lines", "FK", ("InvoiceId",), "raw_invoices", ("InvoiceId",)),
    }
    assert mapping.accepted[("raw_invoice_lines", "Quantity")] == [1]
    assert ("raw_customers", "Email") in mapping.not_null and not mapping.unmapped


def test_disabled_tests_self_references_packages_and_what_cannot_be_mapped(tmp_path):
    project = tmp_path / "p"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    (project / "models" / "staging" / "stg_managers.sql").write_text(
        "{{ config(materialized='view') }}\nselect CustomerId as id, SupportRepId + 0 as rep, "
        "upper(Country) as country_code from {{ ref('shop', 'raw_customers') }} c"
    )
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
    assert origins(load_project(project))[("stg_managers", "id")] == ("raw_customers", "CustomerId")
    assert any("(constraint)" in line and "-> PK raw_customers(CustomerId)" in line for line in mapping.applied)
    assert "relationships on stg_managers.rep" in " ".join(mapping.unmapped)  # 'SupportRepId + 0': computed
    reasons = " ".join(mapping.unmapped)
    assert "not_null on stg_managers.country_code" in reasons and "computed from raw_customers.Country" in reasons
    assert "not_empty_string" in reasons and "applies only where total > 20" in reasons
    with pytest.raises(SyngenError, match="no seed named nope"):
        to_metadata(load_project(project), ["nope"])


def test_dbt_expectations_tests_map_as_the_tests_they_equal(tmp_path):
    project = tmp_path / "classic"
    shutil.copytree(CLASSIC, project)
    (project / "seeds" / "expectations.yml").write_text("""
version: 2
seeds:
  - name: raw_charges
    data_tests:
      - dbt_expectations.expect_compound_columns_to_be_unique:
          arguments: {column_list: [purchase_id, method]}
    columns:
      - name: cents
        data_tests:
          - dbt_expectations.expect_column_values_to_be_between: {min_value: 0, strictly: true}
      - name: method
        data_tests:
          - dbt_expectations.expect_column_values_to_be_in_set: {value_set: [card, voucher, transfer]}
  - name: raw_people
    columns:
      - name: id
        data_tests: [dbt_expectations.expect_column_values_to_be_unique,
                     dbt_expectations.expect_column_values_to_not_be_null]
      - name: last_name
        data_tests:
          - dbt_expectations.expect_column_values_to_be_unique: {row_condition: "id > 1"}
""")
    mapping = to_metadata(load_project(project))
    keys = keys_of(mapping)
    assert {("raw_charges", "UQ", ("purchase_id", "method"), None, ()), ("raw_people", "PK", ("id",), None, ())} <= keys
    assert mapping.ranges[("raw_charges", "cents")] == (0, None, False)
    assert mapping.accepted[("raw_charges", "method")] == ["card", "voucher", "transfer"]
    assert not any(k[2] == ("last_name",) for k in keys)  # unique only where id > 1
    assert any(line.startswith("expect_compound_columns_to_be_unique on raw_charges") for line in mapping.applied)


def installed_package(tmp_path):
    """The package fixture with its integration tests' project, the package installed in it as
    'dbt deps' installs a 'local: ../' package: an absolute symlink back to the package."""
    package = tmp_path / "shop_package"
    shutil.copytree(PACKAGE, package)
    (package / "integration_tests" / "dbt_packages").mkdir()
    (package / "integration_tests" / "dbt_packages" / "shop_package").symlink_to(package)
    return package / "integration_tests"


def test_the_models_and_tests_of_installed_packages_map_onto_the_seeds(tmp_path):
    folder = installed_package(tmp_path)
    (folder / "dbt_packages" / "shop_package").unlink()
    uninstalled = to_metadata(load_project(folder))  # 'dbt deps' not run: no test to map, and it says so
    assert not uninstalled.applied and any("no generic tests found" in note for note in uninstalled.notes)
    (folder / "dbt_packages" / "shop_package").symlink_to(folder.parent)
    project = load_project(folder)
    assert {"stg_shop__customers", "stg_shop__invoices", "shop__customers"} <= set(project.models)
    mapping = to_metadata(project)
    assert keys_of(mapping) == {
        ("shop_customers", "PK", ("CustomerId",), None, ()),
        ("shop_invoices", "PK", ("InvoiceId",), None, ()),
        ("shop_invoices", "FK", ("CustomerId",), "shop_customers", ("CustomerId",)),
    }
    assert mapping.unmapped == [  # a null filter on a computed column: a not_null test that maps onto no seed column
        "singular test on shop__customers.full_name (tests/assert_every_customer_is_named.sql): it is computed from "
        "shop_customers.FirstName, shop_customers.LastName"
    ]


def at_least(mapping) -> dict:
    """FK -> the fewest children each parent row keeps, where the SQL implies a minimum."""
    return {
        (name, k.columns, k.parent): k.min_children
        for name, t in mapping.metadata.tables.items()
        for k in t.foreign_keys
        if k.min_children
    }


def test_a_canonical_project_maps_every_test_whose_column_comes_from_a_seed():
    """CTE staging models, a Jinja loop in a mart, left-joined aggregates with not_null tests,
    relationships on marts, a dispatched project macro and a var (examples/dbt_traders)."""
    project = load_project(TRADERS)
    mapping = to_metadata(project)
    assert keys_of(mapping) == {
        ("raw_customers", "PK", ("CustomerID",), None, ()),
        ("raw_orders", "PK", ("OrderID",), None, ()),
        ("raw_products", "PK", ("ProductID",), None, ()),
        ("raw_order_lines", "PK", ("OrderID", "ProductID"), None, ()),
        ("raw_orders", "FK", ("CustomerID",), "raw_customers", ("CustomerID",)),  # a mart's relationships
        ("raw_order_lines", "FK", ("ProductID",), "raw_products", ("ProductID",)),
        ("raw_order_lines", "FK", ("OrderID",), "raw_orders", ("OrderID",)),
    }  # also the marts' order_lines
    # not_null on the per-category amounts a left join of aggregated lines gives every order
    assert at_least(mapping) == {("raw_order_lines", ("OrderID",), "raw_orders"): 1}
    assert mapping.accepted[("raw_orders", "ShipVia")] == [1, 2, 3]
    assert ("raw_orders", "OrderDate") in mapping.not_null
    unmapped = "\n".join(mapping.unmapped)
    # the computed ones, and only those, are left, each with what it is computed from
    assert len(mapping.unmapped) == 3, unmapped
    assert "accepted_values on stg_orders.status" in unmapped and "computed from raw_orders.ShippedDate" in unmapped
    assert "not_null on customers.number_of_orders" in unmapped
    assert "not_null on order_lines.line_amount" in unmapped
    applied = "\n".join(mapping.applied)
    for test in project.tests:  # every test is listed, mapped or not
        assert f"{test.name} on {test.node}" in applied + unmapped, test
    assert "every raw_orders row has at least 1 raw_order_lines row" in applied
    assert any("rendered" in note for note in mapping.notes)


def test_projects_in_the_shapes_of_dbts_tutorial_map_without_a_relationships_test():
    """The classic tutorial's shapes: payments are tied to orders only by the not_null tests
    on a left-joined aggregate; the pivot's columns come from a Jinja loop."""
    mapping = to_metadata(load_project(CLASSIC))
    assert keys_of(mapping) == {
        ("raw_people", "PK", ("id",), None, ()),
        ("raw_purchases", "PK", ("id",), None, ()),
        ("raw_charges", "PK", ("id",), None, ()),
        ("raw_purchases", "FK", ("person_id",), "raw_people", ("id",)),
        ("raw_charges", "FK", ("purchase_id",), "raw_purchases", ("id",)),
    }
    assert at_least(mapping) == {("raw_charges", ("purchase_id",), "raw_purchases"): 1}
    assert mapping.accepted[("raw_purchases", "state")] == ["placed", "shipped", "completed", "returned"]
    assert not mapping.unmapped, mapping.unmapped
    lineage = trace(load_project(CLASSIC), model_sql(load_project(CLASSIC))).columns
    assert lineage[("purchases", "voucher_amount")].origin is None
    assert lineage[("purchases", "voucher_amount")].sources == {("raw_charges", "cents"), ("raw_charges", "method")}
    assert lineage[("people", "first_name")].origin == ("raw_people", "first_name")


def test_lookups_a_unique_mart_column_is_joined_through_are_unique_on_their_join_ids():
    """A mart's unique track_id stays unique only if the albums, the artists joined through
    them and the genres (a subquery on the seed) it left-joins have one row per id: those ids
    are UQ keys, and the columns joined to them FKs. The invoice lines it joins are grouped
    by track first, one row per track already: no key on them."""
    mapping = to_metadata(load_project(LOOKUPS))
    assert keys_of(mapping) == {
        ("raw_tracks", "PK", ("TrackId",), None, ()),
        ("raw_invoice_lines", "PK", ("InvoiceLineId",), None, ()),
        ("raw_albums", "UQ", ("AlbumId",), None, ()),
        ("raw_artists", "UQ", ("ArtistId",), None, ()),
        ("raw_genres", "UQ", ("GenreId",), None, ()),
        ("raw_tracks", "FK", ("AlbumId",), "raw_albums", ("AlbumId",)),
        ("raw_albums", "FK", ("ArtistId",), "raw_artists", ("ArtistId",)),
        ("raw_tracks", "FK", ("GenreId",), "raw_genres", ("GenreId",)),
    }
    applied = "\n".join(mapping.applied)
    assert (
        "unique on tracks.track_id (models/marts/_marts.yml) -> UQ raw_artists(ArtistId) (joined in tracks" in applied
    ), applied
    assert not mapping.unmapped, mapping.unmapped


def test_joins_whose_sides_are_one_row_per_key_or_cannot_be_kept_so(tmp_path):
    """A side made distinct on its join column needs no key; a join on no equality or on a
    union cannot be kept from repeating rows, and says so."""
    project_dir = tmp_path / "lookups"
    shutil.copytree(LOOKUPS, project_dir)
    (project_dir / "models" / "marts" / "track_shapes.sql").write_text(
        "select t.TrackId as track_id from {{ ref('raw_tracks') }} as t\n"
        "left join (select distinct AlbumId from {{ ref('raw_tracks') }}) as d on t.AlbumId = d.AlbumId\n"
        "left join {{ ref('raw_albums') }} as a on t.AlbumId < a.AlbumId\n"
        "inner join (select GenreId from {{ ref('raw_genres') }} union all\n"
        "            select GenreId from {{ ref('raw_genres') }}) as u on t.GenreId = u.GenreId"
    )
    (project_dir / "models" / "marts" / "shapes.yml").write_text(
        "models:\n  - name: track_shapes\n    columns: [{name: track_id, data_tests: [unique]}]\n"
    )
    mapping = to_metadata(load_project(project_dir))
    assert keys_of(mapping) == keys_of(to_metadata(load_project(LOOKUPS)))  # nothing on raw_tracks.AlbumId
    assert sorted(line.split(": ", 1)[1] for line in mapping.unmapped) == [
        "the join of a in track_shapes is no LEFT or INNER join on equal columns, so its rows may repeat the others'",
        "the join of u in track_shapes on genreid: its columns do not come unchanged from one seed's, so they "
        "cannot be kept unique",
    ]


def test_projects_in_the_shapes_of_dbts_current_examples(monkeypatch):
    """Sources over seeds, dispatched macros that return (the project's and a package's),
    dbt's cross-database macros, group by 1, 'select *, more', windows, aliases, casts, a
    union, an incremental model, vars and env_var; what cannot be mapped says why."""
    monkeypatch.delenv("MODERN_REGION", raising=False)
    project = load_project(MODERN)
    models = model_sql(project, vars={"first_day": "2024-03-02"})
    assert "'2024-03-02'" in models.sql["stg_orders"] and "'emea' as region" in models.sql["stg_locations"]
    assert "btrim(name)" in models.sql["stg_customers"]  # the profile's adapter picks the macro
    assert (
        "'order_events' as loaded_into" in models.sql["order_events"]
        and "max(ordered_at)" not in models.sql["order_events"]
    )
    assert "dbt deps" in models.failed["stg_item_keys"]
    mapping = to_metadata(project)
    assert keys_of(mapping) == {
        ("raw_customers", "PK", ("id",), None, ()),
        ("raw_stores", "PK", ("id",), None, ()),
        ("raw_products", "PK", ("sku",), None, ()),
        ("raw_items", "PK", ("id",), None, ()),
        ("raw_orders", "PK", ("id",), None, ()),
        ("raw_items", "FK", ("sku",), "raw_products", ("sku",)),
        ("raw_orders", "FK", ("customer",), "raw_customers", ("id",)),
        ("raw_orders", "FK", ("store_id",), "raw_stores", ("id",)),
    }  # through a cast and a mart
    reasons = {line.split(" (")[0]: line for line in mapping.unmapped}
    assert set(reasons) == {
        "is_positive on stg_products.product_price",
        "unique on stg_order_history.order_id",
        "unique on stg_accounts.account_id",
        "unique on stg_item_keys.item_key",
        "accepted_values on customers.customer_type",
    }
    assert "raw_orders.id and raw_orders_archive.id" in reasons["unique on stg_order_history.order_id"]
    assert "crm.accounts" in reasons["unique on stg_accounts.account_id"]
    assert "could not be rendered" in reasons["unique on stg_item_keys.item_key"]
    assert "computed from raw_orders.id" in reasons["accepted_values on customers.customer_type"]
    assert any("stg_item_keys" in note and "dbt_utils" in note for note in mapping.notes)


def test_models_that_cannot_be_read_say_why_and_the_rest_still_map(tmp_path):
    project_dir = tmp_path / "classic"
    shutil.copytree(CLASSIC, project_dir)
    broken = {
        "bad_jinja": "select {{ ref('raw_people' }} x",
        "no_macro": "select {{ star_of('raw_people') }} from {{ ref('raw_people') }}",
        "no_var": "select id from {{ ref('raw_people') }} where id > {{ var('lowest') }}",
        "bad_sql": "select (id from {{ ref('raw_people') }}",
        "reads_broken": "select * from {{ ref('no_var') }}",
        "both_ids": "select id from {{ ref('raw_people') }} union all select id from {{ ref('raw_charges') }}",
        "copies_both": "select id from {{ ref('both_ids') }}",
    }
    for name, sql in broken.items():
        (project_dir / "models" / f"{name}.sql").write_text(sql)
    (project_dir / "models" / "broken.yml").write_text(
        "models:\n" + "".join(f"  - name: {n}\n    columns: [{{name: id, data_tests: [unique]}}]\n" for n in broken)
    )
    mapping = to_metadata(load_project(project_dir))
    reasons = {line.split(" ")[2].split(".")[0]: line for line in mapping.unmapped}
    assert "does not parse" in reasons["bad_jinja"]
    assert "'star_of' is undefined" in reasons["no_macro"]
    assert "var('lowest') is not set" in reasons["no_var"]
    assert "sqlglot cannot parse" in reasons["bad_sql"]
    assert "reads no_var, whose columns are not known" in reasons["reads_broken"]
    assert "it comes from raw_charges.id and raw_people.id" in reasons["copies_both"]  # through a copy
    assert ("raw_charges", "FK", ("purchase_id",), "raw_purchases", ("id",)) in keys_of(mapping)  # the rest
    with_var = to_metadata(load_project(project_dir), models=model_sql(load_project(project_dir), vars={"lowest": 0}))
    assert sorted(line.split(" ")[2] for line in with_var.unmapped) == [
        "bad_jinja.id",
        "bad_sql.id",
        "both_ids.id",
        "copies_both.id",
        "no_macro.id",
    ]


def test_singular_tests_of_the_shapes_of_keys_map_onto_the_seeds():
    """A null filter is a not_null test; a left-joined count of 0 and an anti-join from the
    parent, an FK with at least one child per parent; an anti-join from the child (LEFT JOIN
    ... IS NULL, NOT IN), an FK; a duplicate check, a (composite) unique key. A filter on a
    value is listed, not guessed at."""
    mapping = to_metadata(load_project(SINGULAR))
    assert keys_of(mapping) == {
        ("raw_employees", "PK", ("EmployeeId",), None, ()),
        ("raw_customers", "PK", ("CustomerId",), None, ()),
        ("raw_invoices", "PK", ("InvoiceId",), None, ()),
        ("raw_invoice_lines", "PK", ("InvoiceLineId",), None, ()),
        ("raw_invoice_lines", "UQ", ("InvoiceId", "TrackId"), None, ()),
        ("raw_invoices", "FK", ("CustomerId",), "raw_customers", ("CustomerId",)),
        ("raw_invoice_lines", "FK", ("InvoiceId",), "raw_invoices", ("InvoiceId",)),
        ("raw_customers", "FK", ("SupportRepId",), "raw_employees", ("EmployeeId",)),
    }
    assert at_least(mapping) == {
        ("raw_invoices", ("CustomerId",), "raw_customers"): 1,
        ("raw_invoice_lines", ("InvoiceId",), "raw_invoices"): 1,
    }
    assert ("raw_customers", "SupportRepId") in mapping.not_null
    applied = "\n".join(mapping.applied)
    for test in (
        "assert_customers_have_a_support_rep",
        "assert_every_customer_has_invoices",
        "assert_every_invoice_has_lines",
        "assert_support_reps_are_employees",
        "assert_invoices_are_of_customers",
        "assert_one_line_per_track_of_an_invoice",
    ):
        assert f"tests/{test}.sql" in applied, (test, applied)
    assert "every raw_customers row has at least 1 raw_invoices row" in applied
    assert [line.split(": ")[0] for line in mapping.unmapped] == [
        "singular test tests/assert_totals_are_not_negative.sql"
    ], mapping.unmapped
    assert "a singular test of a shape syngen does not read" in mapping.unmapped[0]


def test_singular_tests_in_other_spellings_of_the_same_shapes(tmp_path):
    """NOT IN and LEFT JOIN ... IS NULL from the parent, NOT EXISTS from the child, a count
    compared below 1 through a coalesce, a count of rows that come through an INNER JOIN
    (which must match too), dbt's own duplicate check in a CTE (the only unique
    test of employees: the FK to them needs it); a duplicate check on a computed column, a
    filter on a subset of rows and a union say why they are not read."""
    project_dir = tmp_path / "singular"
    shutil.copytree(SINGULAR, project_dir)
    for path in (project_dir / "tests").glob("*.sql"):
        path.unlink()
    (project_dir / "models" / "staging" / "_staging.yml").write_text(
        (SINGULAR / "models" / "staging" / "_staging.yml")
        .read_text()
        .replace(
            "  - name: stg_employees\n    columns:\n      - name: employee_id\n"
            "        data_tests: [unique, not_null]\n",
            "",
        )
    )
    variants = {
        "count_below_one": "select customer_id from {{ ref('customers') }} where coalesce(invoice_count, 0) < 1",
        "not_in": "select i.invoice_id from {{ ref('stg_invoices') }} i\n"
        "where i.invoice_id not in (select l.invoice_id from {{ ref('stg_invoice_lines') }} l)",
        "left_join": "select i.invoice_id from {{ ref('stg_invoices') }} i left join {{ ref('stg_invoice_lines') }} l\n"
        "on i.invoice_id = l.invoice_id where l.invoice_line_id is null",
        "not_exists": "select c.customer_id from {{ ref('stg_customers') }} c where not exists (\n"
        "select 1 from {{ ref('stg_employees') }} e where e.employee_id = c.support_rep_id)",
        "dbt_unique": "with validation as (\n  select employee_id as unique_field, count(*) as n_records\n"
        "  from {{ ref('stg_employees') }} where employee_id is not null\n"
        "  group by employee_id having count(*) > 1\n)\nselect * from validation",
        "computed_unique": "select full_name from {{ ref('stg_employees') }} group by full_name having count(*) > 1",
        "subset": "select customer_id from {{ ref('customers') }} where invoice_count = 0 and country = 'Brazil'",
        "union": "select customer_id from {{ ref('stg_customers') }} where support_rep_id is null\n"
        "union all select invoice_id from {{ ref('stg_invoices') }} where customer_id is null",
    }
    for name, sql in variants.items():
        (project_dir / "tests" / f"{name}.sql").write_text(sql)
    (project_dir / "models" / "marts" / "customer_lines.sql").write_text(  # a count of lines joined to invoices,
        # in an ephemeral model as dbt compiles one: a CTE with a WITH of its own, whose names hide the outer ones
        "with __dbt__cte__invoiced_lines as (\n"
        "  with lines as (select * from {{ ref('stg_invoice_lines') }}),\n"
        "  invoices as (select * from {{ ref('stg_invoices') }}),\n"
        "  joined as (select lines.invoice_line_id, invoices.customer_id from lines\n"
        "             inner join invoices on lines.invoice_id = invoices.invoice_id)\n"
        "  select * from joined\n"
        "), lines as (select * from __dbt__cte__invoiced_lines),\n"
        "counted as (select customer_id, count(invoice_line_id) as line_count from lines group by 1)\n"
        "select c.customer_id, coalesce(n.line_count, 0) as line_count from {{ ref('stg_customers') }} c\n"
        "left join counted n on c.customer_id = n.customer_id"
    )
    (project_dir / "tests" / "lines_counted.sql").write_text(
        "select customer_id from {{ ref('customer_lines') }} where line_count = 0"
    )
    mapping = to_metadata(load_project(project_dir))
    applied = "\n".join(mapping.applied)
    assert (
        "singular test on customer_lines.line_count (tests/lines_counted.sql) -> every raw_customers row has at "
        "least 1 raw_invoices row (the LEFT JOIN in customer_lines)" in applied
    ), applied
    assert (
        "(tests/lines_counted.sql) -> every raw_invoice_lines row has its raw_invoices row (the INNER JOIN in "
        "customer_lines)" in applied
    ), applied  # the lines counted are those that find their invoice
    assert keys_of(mapping) == {
        ("raw_employees", "UQ", ("EmployeeId",), None, ()),
        ("raw_customers", "PK", ("CustomerId",), None, ()),
        ("raw_invoices", "PK", ("InvoiceId",), None, ()),
        ("raw_invoice_lines", "PK", ("InvoiceLineId",), None, ()),
        ("raw_invoices", "FK", ("CustomerId",), "raw_customers", ("CustomerId",)),
        ("raw_invoice_lines", "FK", ("InvoiceId",), "raw_invoices", ("InvoiceId",)),
        ("raw_customers", "FK", ("SupportRepId",), "raw_employees", ("EmployeeId",)),
    }
    assert at_least(mapping) == {
        ("raw_invoices", ("CustomerId",), "raw_customers"): 1,
        ("raw_invoice_lines", ("InvoiceId",), "raw_invoices"): 1,
    }
    unmapped = {re.search(r"tests/(\w+\.sql)", line).group(1): line for line in mapping.unmapped}
    assert sorted(unmapped) == ["computed_unique.sql", "subset.sql", "union.sql"], mapping.unmapped
    assert "computed" in unmapped["computed_unique.sql"]
    assert all("a singular test of a shape syngen does not read" in unmapped[n] for n in ("subset.sql", "union.sql"))


def test_dbts_compiled_sql_is_read_when_it_is_newer_than_the_model(tmp_path):
    project_dir = tmp_path / "shop"
    shutil.copytree(EXAMPLE, project_dir, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    compiled = project_dir / "target" / "compiled" / "shop" / "models" / "staging" / "stg_customers.sql"
    compiled.parent.mkdir(parents=True)
    compiled.write_text('select CustomerId as customer_key, Email as email\nfrom "shop"."main"."raw_customers"')
    models = model_sql(load_project(project_dir))
    assert models.how["stg_customers"] == "compiled by dbt" and models.how["stg_invoices"] == "rendered"
    assert origins(load_project(project_dir))[("stg_customers", "customer_key")] == ("raw_customers", "CustomerId")
    os.utime(compiled, (1, 1))  # older than the model: the model has changed since dbt compiled it
    assert model_sql(load_project(project_dir)).how["stg_customers"] == "rendered"


def test_profiles_give_sqlalchemy_urls_and_never_show_passwords(tmp_path, monkeypatch):
    from syngen.adapters.dbt_profiles import database_url

    monkeypatch.setenv("MODERN_DB_PASSWORD", "s3cr3t!")
    url = database_url(load_project(MODERN))
    assert url.startswith("postgresql+psycopg://analyst:s3cr3t%21@localhost:5432/shop?")
    assert url.endswith("search_path%3Draw")  # the seeds' +schema, named by the project's generate_schema_name
    (tmp_path / "profiles.yml").write_text(
        "classic:\n  target: ci\n  outputs:\n"
        "    ci: {type: postgres, host: db, user: ci, password: \"{{ env_var('MODERN_DB_PASSWORD') }}\", "
        "port: 6432, dbname: shop, schema: dbt_ci}\n"
        "    prod: {type: bigquery, method: oauth, project: p, dataset: d}\n"
    )
    # dbt's own naming without an override: the target's schema, '_', the custom schema
    assert database_url(load_project(CLASSIC), tmp_path).endswith("@db:6432/shop?options=-csearch_path%3Ddbt_ci_raw")
    with pytest.raises(SyngenError, match="'bigquery'.*duckdb, postgres") as error:
        database_url(load_project(CLASSIC), tmp_path, "prod")
    assert "s3cr3t" not in str(error.value)


def dbt_executable() -> str:
    found = os.environ.get("SYNGEN_TEST_DBT") or shutil.which("dbt")
    if not found:
        unavailable("no dbt executable (.ci/run installs dbt-core and dbt-duckdb 1.11 and sets SYNGEN_TEST_DBT)")
    return found


def test_synthetic_seeds_pass_the_projects_own_dbt_build(tmp_path):
    dbt = dbt_executable()
    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    done = run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--epochs",
        "5",
        "--random_seed",
        "1",
        "--scale",
        "0.5",
        "--build",
        "--dbt",
        dbt,
        cwd=tmp_path,
    )
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


@pytest.mark.slow  # a whole dbt build; the keys it needs are checked in the fast tier
def test_a_package_whose_sources_are_the_seeds_passes_its_build_from_the_project_folder(tmp_path):
    """'--project .' from inside the integration tests, whose installed package links back to
    the folder around them; the models read the seeds as sources, so dbt seeds them first."""
    dbt = dbt_executable()
    project = installed_package(tmp_path)
    done = run_cli(
        "syngen", "dbt", "--project", ".", "--epochs", "5", "--random_seed", "1", "--build", "--dbt", dbt, cwd=project
    )
    assert "dbt build passed: PASS=11 WARN=0 ERROR=0" in " ".join(done.stderr.split()), done.stderr
    invoices = pd.read_csv(project / "synthetic_seeds" / "shop_invoices.csv")
    customers = pd.read_csv(project / "synthetic_seeds" / "shop_customers.csv")
    assert invoices["CustomerId"].isin(customers["CustomerId"]).all() and invoices["InvoiceId"].is_unique


@pytest.mark.slow  # a whole dbt build; the keys it needs are checked in the fast tier
def test_seeds_behind_a_marts_joined_lookups_pass_its_unique_test(tmp_path):
    dbt = dbt_executable()
    project = tmp_path / "lookups"
    shutil.copytree(LOOKUPS, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    done = run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--epochs",
        "5",
        "--random_seed",
        "1",
        "--build",
        "--dbt",
        dbt,
        cwd=tmp_path,
        check=False,
    )
    assert "dbt build passed: PASS=14 WARN=0 ERROR=0" in " ".join(done.stderr.split()), done.stderr
    out = project / "synthetic_seeds"
    albums, tracks = pd.read_csv(out / "raw_albums.csv"), pd.read_csv(out / "raw_tracks.csv")
    assert albums["AlbumId"].is_unique and tracks["AlbumId"].dropna().isin(set(albums["AlbumId"])).all()


def test_synthetic_seeds_pass_the_singular_tests_their_keys_come_from(tmp_path):
    """Compiled by dbt: every customer has invoices and every invoice lines, support reps
    are employees, no track twice on an invoice."""
    dbt = dbt_executable()
    project = tmp_path / "singular"
    shutil.copytree(SINGULAR, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    done = run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--compile",
        "--epochs",
        "5",
        "--random_seed",
        "1",
        "--build",
        "--dbt",
        dbt,
        cwd=tmp_path,
        check=False,
    )
    assert "dbt build passed: PASS=26 WARN=0 ERROR=0" in " ".join(done.stderr.split()), done.stderr
    out = project / "synthetic_seeds"
    customers, invoices = pd.read_csv(out / "raw_customers.csv"), pd.read_csv(out / "raw_invoices.csv")
    lines, employees = pd.read_csv(out / "raw_invoice_lines.csv"), pd.read_csv(out / "raw_employees.csv")
    assert customers["CustomerId"].isin(set(invoices["CustomerId"])).all()
    assert invoices["InvoiceId"].isin(set(lines["InvoiceId"])).all()
    assert customers["SupportRepId"].isin(set(employees["EmployeeId"])).all()
    assert not lines.duplicated(["InvoiceId", "TrackId"]).any()


def test_the_manifest_when_present_gives_the_same_keys_as_the_yaml(tmp_path):
    import subprocess

    dbt = dbt_executable()
    project = tmp_path / "dbt_shop"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    from_yaml = to_metadata(load_project(project))
    subprocess.run(
        [dbt, "parse", "--profiles-dir", str(project)],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
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
    subprocess.run(
        [dbt, "seed", "--profiles-dir", str(project)],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )
    run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--from-database",
        "--epochs",
        "3",
        "--size",
        "40",
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
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
    done = run_cli(
        "syngen", "dbt", "--project", str(project), "--to-database", "--epochs", "3", "--size", "30", cwd=tmp_path
    )
    assert "duckdb:///" in " ".join(done.stderr.split())
    database = duckdb.connect(str(project / "target" / "shop.duckdb"), read_only=True)
    counts = dict(database.execute("select table_name, estimated_size from duckdb_tables()").fetchall())
    fks = database.execute("select count(*) from duckdb_constraints() where constraint_type = 'FOREIGN KEY'").fetchone()
    database.close()
    assert counts["raw_customers"] == 30 and set(counts) == {"raw_customers", "raw_invoices", "raw_invoice_lines"}
    assert fks[0] == 2
    again = run_cli(
        "syngen", "dbt", "--project", str(project), "--to-database", "--epochs", "2", cwd=tmp_path, check=False
    )
    assert again.returncode == 1 and "would overwrite table raw_customers" in again.stderr
    assert "--overwrite" in again.stderr


def test_seeds_learned_from_and_written_to_a_postgres_profile(tmp_path, postgres, monkeypatch):
    """The seeds 'dbt seed' (dbt-postgres) loaded, learned from the profile's schema; synthetic
    ones written into another target's schema, made if missing; the password never shown."""
    import subprocess

    import sqlalchemy as sa

    url = sa.make_url(postgres())
    project = tmp_path / "traders"
    shutil.copytree(TRADERS, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    (project / "profiles.yml").write_text(f"""
traders:
  target: dev
  outputs:
    dev: &pg
      type: postgres
      host: {url.host}
      port: {url.port}
      user: {url.username}
      password: "{{{{ env_var('TRADERS_PG_PASSWORD') }}}}"
      dbname: {url.database}
      schema: analytics
      threads: 1
    synthetic:
      <<: *pg
      schema: synthetic
""")
    monkeypatch.setenv("TRADERS_PG_PASSWORD", "never-shown-pw")
    subprocess.run(
        [dbt_executable(), "seed", "--profiles-dir", str(project)],
        cwd=project,
        check=True,
        capture_output=True,
        env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )  # dbt-postgres
    engine = sa.create_engine(url)
    tables = ["--select", "raw_customers", "--select", "raw_orders", "--epochs", "1", "--size", "20"]
    learned = run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--from-database",
        *tables,
        "--out",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    written = run_cli(
        "syngen", "dbt", "--project", str(project), "--to-database", "--target", "synthetic", *tables, cwd=tmp_path
    )
    customers = pd.read_csv(tmp_path / "out" / "raw_customers.csv")
    assert len(customers) == 20 and list(customers.columns) == [
        "CustomerID",
        "CompanyName",
        "ContactName",
        "City",
        "Country",
    ]
    with engine.connect() as connection:
        made = pd.read_sql("SELECT * FROM synthetic.raw_orders", connection)
        parents = set(pd.read_sql('SELECT "CustomerID" FROM synthetic.raw_customers', connection)["CustomerID"])
    engine.dispose()
    assert len(made) > 0 and made["CustomerID"].isin(parents).all()
    for done in (learned, written):
        assert "never-shown-pw" not in done.stdout + done.stderr


def test_a_canonical_project_compiled_by_dbt_passes_its_own_build(tmp_path):
    dbt = dbt_executable()
    project = tmp_path / "traders"
    shutil.copytree(TRADERS, project, ignore=shutil.ignore_patterns("target", "logs", "synthetic_seeds"))
    done = run_cli(
        "syngen",
        "dbt",
        "--project",
        str(project),
        "--compile",
        "--epochs",
        "5",
        "--random_seed",
        "1",
        "--vars",
        "{unshipped_status: open}",
        "--build",
        "--dbt",
        dbt,
        cwd=tmp_path,
    )
    text = " ".join(done.stderr.split())
    assert "dbt build passed: PASS=44 WARN=0 ERROR=0" in text, done.stderr
    assert "compiled by dbt" in text and "not mapped" in text
    orders = pd.read_csv(project / "synthetic_seeds" / "raw_orders.csv")
    lines = pd.read_csv(project / "synthetic_seeds" / "raw_order_lines.csv")
    assert orders["OrderID"].isin(set(lines["OrderID"])).all()  # every order has a line
    assert not (project / "target" / "compiled").exists()  # compiled on a copy: the project is not touched
