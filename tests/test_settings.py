"""A table's settings: the metadata file's win over the command line's, which win over the
defaults (one home: ``syngen.settings``)."""

from __future__ import annotations

import dataclasses

import pytest

from syngen.settings import InferSettings, TrainSettings, resolve


def test_the_file_wins_over_the_command_line_which_wins_over_the_defaults():
    settings, ignored = resolve(TrainSettings, {"epochs": 50, "batch_size": None}, {"epochs": 10, "batch_size": 64})
    assert (settings.epochs, settings.batch_size, settings.rare_threshold) == (50, 64, TrainSettings.rare_threshold)
    assert ignored == ["epochs"]  # the file overrode it; batch_size: null in the file is not set


def test_keys_of_the_other_section_or_of_the_original_syngen_are_not_settings_of_this_one():
    # train_settings may hold 'source' and the original syngen's 'reports'; the CLI passes every option
    settings, ignored = resolve(InferSettings, {"destination": "out.csv", "scale": 2}, {"metadata_path": "m.yaml"})
    assert settings == InferSettings(scale=2) and not ignored


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainSettings().epochs = 3  # type: ignore[misc]


def test_a_whole_number_written_with_a_point_is_the_int_its_setting_is():
    # the metadata's JSON Schema takes 42.0 for an integer; NumPy's seeding refuses a float
    settings, _ = resolve(InferSettings, {"random_seed": 42.0, "scale": 2.0}, {})
    assert settings.random_seed == 42 and isinstance(settings.random_seed, int)
    assert settings.scale == 2.0 and isinstance(settings.scale, float)
    assert isinstance(resolve(TrainSettings, {"epochs": 50.0}, {})[0].epochs, int)
