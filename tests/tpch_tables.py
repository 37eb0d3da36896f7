"""TPC-H's eight tables as Parquet files, made the way its generator (dbgen) makes them: column
names with table prefixes (c_custkey, ps_partkey), sparse order keys (8 of every 32), each part
sold by 4 suppliers chosen by dbgen's formula, 1 to 7 lines per order numbered from 1, customers
whose key is a multiple of 3 without orders, dbgen's text formats (Customer#000000001, phones
by nation), and measures drawn over dbgen's ranges. Keys as TPC-H declares them are in ``KEYS``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

NATIONS = [
    ("ALGERIA", 0),
    ("ARGENTINA", 1),
    ("BRAZIL", 1),
    ("CANADA", 1),
    ("EGYPT", 4),
    ("ETHIOPIA", 0),
    ("FRANCE", 3),
    ("GERMANY", 3),
    ("INDIA", 2),
    ("INDONESIA", 2),
    ("IRAN", 4),
    ("IRAQ", 4),
    ("JAPAN", 2),
    ("JORDAN", 4),
    ("KENYA", 0),
    ("MOROCCO", 0),
    ("MOZAMBIQUE", 0),
    ("PERU", 1),
    ("CHINA", 2),
    ("ROMANIA", 3),
    ("SAUDI ARABIA", 4),
    ("VIETNAM", 2),
    ("RUSSIA", 3),
    ("UNITED KINGDOM", 3),
    ("UNITED STATES", 1),
]
REGIONS = ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]
WORDS = [
    "furiously",
    "final",
    "carefully",
    "express",
    "regular",
    "pending",
    "ironic",
    "special",
    "bold",
    "quick",
    "even",
    "slyly",
    "blithely",
]
COLOURS = [
    "almond",
    "antique",
    "aquamarine",
    "azure",
    "beige",
    "bisque",
    "black",
    "blanched",
    "blue",
    "blush",
    "brown",
    "burlywood",
]

# (table, type, columns, parent, parent columns), as in the TPC-H specification
KEYS = {
    ("region", "PK", ("r_regionkey",), None, ()),
    ("nation", "PK", ("n_nationkey",), None, ()),
    ("nation", "FK", ("n_regionkey",), "region", ("r_regionkey",)),
    ("supplier", "PK", ("s_suppkey",), None, ()),
    ("supplier", "FK", ("s_nationkey",), "nation", ("n_nationkey",)),
    ("customer", "PK", ("c_custkey",), None, ()),
    ("customer", "FK", ("c_nationkey",), "nation", ("n_nationkey",)),
    ("part", "PK", ("p_partkey",), None, ()),
    ("partsupp", "PK", ("ps_partkey", "ps_suppkey"), None, ()),
    ("partsupp", "FK", ("ps_partkey",), "part", ("p_partkey",)),
    ("partsupp", "FK", ("ps_suppkey",), "supplier", ("s_suppkey",)),
    ("orders", "PK", ("o_orderkey",), None, ()),
    ("orders", "FK", ("o_custkey",), "customer", ("c_custkey",)),
    ("lineitem", "PK", ("l_orderkey", "l_linenumber"), None, ()),
    ("lineitem", "FK", ("l_orderkey",), "orders", ("o_orderkey",)),
    ("lineitem", "FK", ("l_partkey", "l_suppkey"), "partsupp", ("ps_partkey", "ps_suppkey")),
}


def write_tpch(folder: Path, scale: float = 0.01, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    suppliers, customers, parts, orders = (max(int(n * scale), 1) for n in (10_000, 150_000, 200_000, 1_500_000))

    def text(rows):
        return [" ".join(rng.choice(WORDS, size=rng.integers(3, 9))) for _ in range(rows)]

    def phones(nations):
        digits = rng.integers([100, 100, 1000], [1000, 1000, 10000], size=(len(nations), 3))
        return [f"{n + 10}-{a}-{b}-{c}" for n, (a, b, c) in zip(nations, digits)]

    def dates(rows, start="1992-01-01", days=2405):
        return (pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, days, rows), unit="D")).strftime("%Y-%m-%d")

    tables = {
        "region": pd.DataFrame({"r_regionkey": range(5), "r_name": REGIONS, "r_comment": text(5)}),
        "nation": pd.DataFrame(
            {
                "n_nationkey": range(25),
                "n_name": [n for n, _ in NATIONS],
                "n_regionkey": [r for _, r in NATIONS],
                "n_comment": text(25),
            }
        ),
    }
    s_nation = rng.integers(0, 25, suppliers)
    tables["supplier"] = pd.DataFrame(
        {
            "s_suppkey": np.arange(1, suppliers + 1),
            "s_name": [f"Supplier#{k:09d}" for k in range(1, suppliers + 1)],
            "s_address": text(suppliers),
            "s_nationkey": s_nation,
            "s_phone": phones(s_nation),
            "s_acctbal": rng.uniform(-999.99, 9999.99, suppliers).round(2),
            "s_comment": text(suppliers),
        }
    )
    c_nation = rng.integers(0, 25, customers)
    tables["customer"] = pd.DataFrame(
        {
            "c_custkey": np.arange(1, customers + 1),
            "c_name": [f"Customer#{k:09d}" for k in range(1, customers + 1)],
            "c_address": text(customers),
            "c_nationkey": c_nation,
            "c_phone": phones(c_nation),
            "c_acctbal": rng.uniform(-999.99, 9999.99, customers).round(2),
            "c_mktsegment": rng.choice(["AUTOMOBILE", "BUILDING", "FURNITURE", "MACHINERY", "HOUSEHOLD"], customers),
            "c_comment": text(customers),
        }
    )
    p_key = np.arange(1, parts + 1)
    tables["part"] = pd.DataFrame(
        {
            "p_partkey": p_key,
            "p_name": [" ".join(rng.choice(COLOURS, 5)) for _ in range(parts)],
            "p_mfgr": [f"Manufacturer#{m}" for m in rng.integers(1, 6, parts)],
            "p_brand": [f"Brand#{m}{n}" for m, n in rng.integers(1, 6, (parts, 2))],
            "p_type": rng.choice(["STANDARD ANODIZED TIN", "PROMO BURNISHED COPPER", "LARGE BRUSHED BRASS"], parts),
            "p_size": rng.integers(1, 51, parts),
            "p_container": rng.choice(["SM CASE", "LG BOX", "WRAP PACK"], parts),
            "p_retailprice": (90000 + (p_key // 10) % 20001 + 100 * (p_key % 1000)) / 100,
            "p_comment": text(parts),
        }
    )

    # dbgen: the i-th supplier of part p
    def supplier_of(p, i):
        return (p + i * (suppliers // 4 + (p - 1) // suppliers)) % suppliers + 1

    tables["partsupp"] = pd.DataFrame(
        {
            "ps_partkey": np.repeat(p_key, 4),
            "ps_suppkey": supplier_of(np.repeat(p_key, 4), np.tile(np.arange(4), parts)),
            "ps_availqty": rng.integers(1, 10_000, 4 * parts),
            "ps_supplycost": rng.uniform(1, 1000, 4 * parts).round(2),
            "ps_comment": text(4 * parts),
        }
    )
    o_key = (np.arange(orders) // 8) * 32 + np.arange(orders) % 8 + 1
    with_orders = np.arange(1, customers + 1)[np.arange(1, customers + 1) % 3 != 0]
    tables["orders"] = pd.DataFrame(
        {
            "o_orderkey": o_key,
            "o_custkey": rng.choice(with_orders, orders),
            "o_orderstatus": rng.choice(list("FOP"), orders),
            "o_totalprice": rng.uniform(800, 550_000, orders).round(2),
            "o_orderdate": dates(orders),
            "o_orderpriority": rng.choice(["1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"], orders),
            "o_clerk": [f"Clerk#{k:09d}" for k in rng.integers(1, max(int(1000 * scale), 2) + 1, orders)],
            "o_shippriority": 0,
            "o_comment": text(orders),
        }
    )
    lines = rng.integers(1, 8, orders)
    l_part = rng.integers(1, parts + 1, lines.sum())
    rows = int(lines.sum())
    tables["lineitem"] = pd.DataFrame(
        {
            "l_orderkey": np.repeat(o_key, lines),
            "l_partkey": l_part,
            "l_suppkey": supplier_of(l_part, rng.integers(0, 4, rows)),
            "l_linenumber": np.arange(rows) - np.repeat(np.cumsum(lines) - lines, lines) + 1,
            "l_quantity": rng.integers(1, 51, rows).astype(float),
            "l_extendedprice": rng.uniform(900, 105_000, rows).round(2),
            "l_discount": rng.integers(0, 11, rows) / 100,
            "l_tax": rng.integers(0, 9, rows) / 100,
            "l_returnflag": rng.choice(list("RAN"), rows),
            "l_linestatus": rng.choice(list("OF"), rows),
            "l_shipdate": dates(rows),
            "l_commitdate": dates(rows),
            "l_receiptdate": dates(rows),
            "l_shipinstruct": rng.choice(["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"], rows),
            "l_shipmode": rng.choice(["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"], rows),
            "l_comment": text(rows),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
