"""What docker/test.sh's commands wrote into the mounted folder (argument 1), checked inside the
image: the churn model and its 500 generated rows; each Chinook table generated, its primary
key unique and every foreign key value found in its parent; the DuckDB copy holding the same
tables and rows. Exits non-zero with one line naming what is wrong."""

import sys
from pathlib import Path

import duckdb
import pandas as pd
import yaml


def fail(message: str) -> None:
    sys.exit(f"docker/test.sh: {message}")


def generated(folder: Path, table: str) -> pd.DataFrame:
    path = folder / "tmp_store" / table / f"merged_infer_{table}.csv"
    if not path.exists():
        fail(f"{path} is missing")
    return pd.read_csv(path)


def main(folder: Path) -> None:
    if not any((folder / "resources" / "churn").iterdir()):
        fail("no model under model_artifacts/resources/churn")
    if len(generated(folder, "churn")) != 500:
        fail("churn: 500 rows asked for")
    print("churn: model saved, 500 rows generated")

    metadata = yaml.safe_load((folder / "chinook" / "metadata.yaml").read_text())
    tables = {name: generated(folder, name) for name in metadata if name != "global"}
    for name, table in tables.items():
        source = pd.read_csv(folder / "chinook" / metadata[name]["source"])
        for key in (metadata[name].get("keys") or {}).values():
            columns = key["columns"]
            if key["type"] == "PK" and (table[columns].isna().any().any() or table.duplicated(columns).any()):
                fail(f"{name}: primary key {columns} not unique")
            if key["type"] == "FK":
                parent = tables[key["references"]["table"]][key["references"]["columns"]]
                given = table[columns].dropna()
                found = given.merge(parent.drop_duplicates().set_axis(columns, axis=1), how="inner")
                if len(found) != len(given):
                    fail(f"{name}: {len(given) - len(found)} values of {columns} have no parent row")
        print(f"{name}: {len(table)} rows (source {len(source)}), keys valid")

    with duckdb.connect(str(folder / "chinook.duckdb"), read_only=True) as database:
        for name, table in tables.items():
            written = database.execute(f'select count(*) from "{name}"').fetchall()[0][0]
            if written != len(table):
                fail(f"chinook.duckdb: {name} holds {written} rows, {len(table)} generated as CSV")
    print(f"chinook.duckdb: the same {len(tables)} tables and rows")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
