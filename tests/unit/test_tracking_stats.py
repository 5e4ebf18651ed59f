"""The growth statistics on small samples worked by hand (and against scipy's t quantile)."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from services.tracking.views.stats import describe, hedges_correction, paired_change, rounded

BEFORE = [1.0, 2.0, 3.0, 4.0]
AFTER = [2.0, 4.0, 3.0, 6.0]
# Differences 1, 2, 0, 2: mean 1.25, squared deviations 0.0625 + 0.5625 + 1.5625 + 0.5625.
MEAN_DIFFERENCE = 1.25
SD_DIFFERENCE = math.sqrt(2.75 / 3)


def test_the_paired_change_is_the_mean_and_sd_of_the_differences() -> None:
    change = paired_change(BEFORE, AFTER)
    assert change.n == 4
    assert change.mean_difference == pytest.approx(MEAN_DIFFERENCE)
    assert change.sd_difference == pytest.approx(SD_DIFFERENCE)
    assert change.sd_difference == pytest.approx(0.957427, abs=1e-6)


def test_the_interval_is_the_t_interval_of_the_mean_difference() -> None:
    change = paired_change(BEFORE, AFTER)
    half = scipy_stats.t.ppf(0.975, 3) * SD_DIFFERENCE / math.sqrt(4)
    assert change.ci_low == pytest.approx(MEAN_DIFFERENCE - half)
    assert change.ci_high == pytest.approx(MEAN_DIFFERENCE + half)
    assert (change.ci_low, change.ci_high) == pytest.approx((-0.27348, 2.77348), abs=1e-5)
    differences = [b - a for a, b in zip(BEFORE, AFTER, strict=True)]
    scipy_ci = scipy_stats.ttest_1samp(differences, 0.0).confidence_interval(0.95)
    assert (change.ci_low, change.ci_high) == pytest.approx((scipy_ci.low, scipy_ci.high))
    narrower = paired_change(BEFORE, AFTER, confidence=0.9)
    assert change.ci_low < narrower.ci_low < narrower.ci_high < change.ci_high


def test_d_z_is_the_mean_difference_over_the_sd_of_differences() -> None:
    change = paired_change(BEFORE, AFTER)
    assert change.d_z == pytest.approx(MEAN_DIFFERENCE / SD_DIFFERENCE)
    assert change.d_z == pytest.approx(1.305582, abs=1e-6)
    assert change.d_z_reason is None
    # d_z is the paired t statistic over sqrt(n).
    t = scipy_stats.ttest_rel(AFTER, BEFORE).statistic
    assert change.d_z == pytest.approx(t / math.sqrt(4))


def test_g_av_uses_the_mean_of_the_waves_sds_and_hedges_correction() -> None:
    sd_before, sd_after = math.sqrt(5 / 3), math.sqrt(8.75 / 3)
    correction = 1 - 3 / 11  # df = 3
    change = paired_change(BEFORE, AFTER)
    assert hedges_correction(3) == pytest.approx(correction)
    assert change.g_av == pytest.approx(MEAN_DIFFERENCE / ((sd_before + sd_after) / 2) * correction)
    assert change.g_av == pytest.approx(0.606299, abs=1e-6)


def test_a_fall_has_negative_figures() -> None:
    change = paired_change(AFTER, BEFORE)
    assert change.mean_difference == pytest.approx(-MEAN_DIFFERENCE)
    assert change.d_z == pytest.approx(-1.305582, abs=1e-6)
    assert change.ci_high == pytest.approx(0.27348, abs=1e-5)


def test_differences_that_do_not_vary_have_no_d_z_and_a_point_interval() -> None:
    change = paired_change([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    assert change.sd_difference == 0.0
    assert (change.ci_low, change.ci_high) == (1.0, 1.0)
    assert change.d_z is None and "SD 0" in (change.d_z_reason or "")
    assert change.g_av == pytest.approx(1.0 * (1 - 3 / 7))


def test_waves_that_do_not_vary_have_no_g_av() -> None:
    change = paired_change([3.0, 3.0, 3.0], [3.0, 3.0, 3.0])
    assert change.mean_difference == 0.0
    assert change.d_z is None and change.g_av is None
    assert "SD 0" in (change.g_av_reason or "")


def test_too_few_pairs_give_no_spread_interval_or_effect_size() -> None:
    one = paired_change([2.0], [3.0])
    assert (one.n, one.mean_difference) == (1, 1.0)
    assert one.sd_difference is None and one.ci_low is None and one.ci_high is None
    assert one.d_z is None and one.d_z_reason == "needs at least 2 pairs"
    two = paired_change([2.0, 3.0], [3.0, 5.0])
    assert two.d_z is not None and two.g_av is None and two.g_av_reason == "needs at least 3 pairs"
    none = paired_change([], [])
    assert none.n == 0 and none.mean_difference is None


def test_unequal_samples_are_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        paired_change([1.0, 2.0], [1.0])


def test_describe_gives_mean_sample_sd_and_the_means_t_interval() -> None:
    values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]
    d = describe(values)
    assert (d.n, d.mean) == (8, 5.0)
    assert d.sd == pytest.approx(math.sqrt(32 / 7))  # ddof=1, not the population SD of 2
    half = scipy_stats.t.ppf(0.975, 7) * math.sqrt(32 / 7) / math.sqrt(8)
    assert (d.ci_low, d.ci_high) == pytest.approx((5 - half, 5 + half))
    scipy_ci = scipy_stats.t.interval(0.95, 7, loc=5.0, scale=scipy_stats.sem(values))
    assert (d.ci_low, d.ci_high) == pytest.approx(scipy_ci)


def test_describe_below_two_values_and_without_spread() -> None:
    assert (describe([]).n, describe([]).mean, describe([]).sd) == (0, None, None)
    single = describe([3.0])
    assert (single.n, single.mean, single.sd, single.ci_low) == (1, 3.0, None, None)
    flat = describe([4.0, 4.0, 4.0])
    assert (flat.sd, flat.ci_low, flat.ci_high) == (0.0, 4.0, 4.0)


def test_figures_are_plain_floats_ready_for_json() -> None:
    change, d = paired_change(BEFORE, AFTER), describe(BEFORE)
    figures = [change.mean_difference, change.sd_difference, change.ci_low, change.ci_high,
               change.d_z, change.g_av, d.mean, d.sd, d.ci_low, d.ci_high]  # fmt: skip
    assert all(type(f) is float for f in figures)
    assert rounded(1.234567) == 1.2346 and rounded(None) is None
