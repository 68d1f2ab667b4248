"""Small kernels of the synthetic borough generator."""

from __future__ import annotations

import numpy as np

from joinedup.core.nhs_number import check_digits
from joinedup.synth import config, mortality
from joinedup.synth.geography import build_geography, decile_quota
from joinedup.synth.history import decile_weights
from joinedup.synth.identifiers import (
    corrupt_nhs_number,
    is_valid_nhs_number,
    nhs_numbers,
)
from joinedup.synth.mess import swap_day_month, typo
from joinedup.synth.streams import stream


def test_nhs_check_digit_known_number() -> None:
    # 943 476 5919 is the NHS Data Dictionary's worked example.
    assert check_digits(np.array([943476591]))[0] == 9


def test_nhs_numbers_are_valid_unique_and_in_the_test_range() -> None:
    numbers = nhs_numbers(stream(7, "nhs"), 50_000)
    assert is_valid_nhs_number(numbers).all()
    assert np.unique(numbers).size == numbers.size
    assert (numbers // 10_000_000 == 999).all()


def test_nhs_number_typo_breaks_the_check_digit() -> None:
    numbers = nhs_numbers(stream(7, "nhs"), 1_000)
    assert not is_valid_nhs_number(corrupt_nhs_number(stream(7, "typo"), numbers)).any()


def test_streams_are_stable_and_independent() -> None:
    assert stream(5, "a").random() == stream(5, "a").random()
    assert stream(5, "a").random() != stream(5, "b").random()
    assert stream(5, "a").random() != stream(6, "a").random()


def test_decile_quota_spans_all_deciles_and_sums() -> None:
    for n in (20, 190, 1932):
        quota = decile_quota(n)
        assert quota.sum() == n
        assert (quota >= 1).all()
        assert quota[-1] > quota[0]  # skewed towards affluent


def test_geography_postcodes_unique_and_inside_their_lsoa() -> None:
    geo = build_geography(295_000, stream(1, "geography"))
    assert np.unique(geo.postcode).size == geo.postcode.size
    half_lat = geo.half_cell_km / config.KM_PER_DEG_LAT
    half_lon = geo.half_cell_km / config.KM_PER_DEG_LON
    assert (np.abs(geo.postcode_lat - geo.lat[geo.postcode_lsoa]) <= half_lat).all()
    assert (np.abs(geo.postcode_lon - geo.lon[geo.postcode_lsoa]) <= half_lon).all()
    central = geo.imd_decile[
        np.argsort(np.hypot(geo.lat - geo.lat.mean(), geo.lon - geo.lon.mean()))[:20]
    ]
    assert central.mean() < 4  # the deprived cluster is central


def test_mortality_model_meets_calibration_targets() -> None:
    geo = build_geography(295_000, stream(1, "geography"))
    weights = decile_weights(geo)
    model = mortality.calibrate(weights)
    for sex in ("M", "F"):
        gap = mortality.model_life_expectancy(model, sex, 10) - mortality.model_life_expectancy(
            model, sex, 1
        )
        assert abs(gap - config.LE_GAP_CALIBRATION[sex]) < 0.05
        borough = mortality.borough_life_expectancy(model, sex, weights)
        assert abs(borough - config.LE_CALIBRATION[sex]) < 0.05


def test_typo_changes_names_slightly() -> None:
    names = np.array(["Margaret", "Thompson", "Alexander"] * 50)
    changed = typo(stream(3, "typo"), names)
    assert (changed != names).mean() > 0.8
    assert (np.abs(np.strings.str_len(changed) - np.strings.str_len(names)) <= 1).all()


def test_swap_day_month_only_where_valid() -> None:
    dates = np.array(["1950-03-07", "1950-03-25", "1950-05-05"], dtype="datetime64[D]")
    swapped = swap_day_month(dates)
    assert str(swapped[0]) == "1950-07-03"
    assert swapped[1] == dates[1]
    assert swapped[2] == dates[2]
