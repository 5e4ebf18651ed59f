"""The Kaplan-Meier helpers against textbook examples, with censoring, ties and edge cases."""

from __future__ import annotations

import datetime as dt

import pytest

from services.tracking.views.survival import (
    KaplanMeier,
    Observation,
    add_months,
    horizon_days,
    in_months,
)

# Freireich et al. (1963), the 6-MP arm as analysed by Gehan (1965) and in Kleinbaum & Klein,
# "Survival Analysis", table 2.1: weeks in remission, + marks a censored time.
SIX_MP = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+"
# (week, at risk, relapses, S(t), Greenwood standard error) from the textbook.
SIX_MP_TABLE = [
    (6, 21, 3, 0.8571, 0.0764),
    (7, 17, 1, 0.8067, 0.0869),
    (10, 15, 1, 0.7529, 0.0963),
    (13, 12, 1, 0.6902, 0.1068),
    (16, 11, 1, 0.6275, 0.1141),
    (22, 7, 1, 0.5378, 0.1282),
    (23, 6, 1, 0.4482, 0.1346),
]
Z = 1.959964


def observations(text: str) -> list[Observation]:
    return [Observation(int(t.rstrip("+")), not t.endswith("+")) for t in text.split()]


@pytest.fixture
def six_mp() -> KaplanMeier:
    return KaplanMeier.of(observations(SIX_MP))


def test_the_6mp_curve_matches_the_textbook(six_mp: KaplanMeier) -> None:
    points = six_mp.points()
    assert [p["days"] for p in points] == [0, 6, 7, 10, 13, 16, 22, 23, 35]
    by_day = {p["days"]: p for p in points}
    for week, at_risk, events, survival, _ in SIX_MP_TABLE:
        point = by_day[week]
        assert (point["at_risk"], point["events"]) == (at_risk, events)
        assert point["survival"] == pytest.approx(survival, abs=1e-4)
        assert point["cumulative_incidence"] == pytest.approx(1 - survival, abs=1e-4)
    assert (points[0]["survival"], points[0]["at_risk"], points[0]["events"]) == (1.0, 21, 0)
    # After the last relapse the curve runs flat to the longest follow-up (35+).
    assert (points[-1]["survival"], points[-1]["at_risk"], points[-1]["events"]) == (
        points[-2]["survival"],
        1,
        0,
    )


def test_the_interval_is_greenwoods_linear_one_clipped(six_mp: KaplanMeier) -> None:
    by_day = {p["days"]: p for p in six_mp.points()}
    for week, _, _, survival, se in SIX_MP_TABLE:
        assert by_day[week]["ci_low"] == pytest.approx(max(0, survival - Z * se), abs=1e-3)
        assert by_day[week]["ci_high"] == pytest.approx(min(1, survival + Z * se), abs=1e-3)
    assert by_day[6]["ci_high"] == 1.0


def test_the_median_is_the_first_time_survival_reaches_half(six_mp: KaplanMeier) -> None:
    assert six_mp.median() == 23  # S(22) = 0.538, S(23) = 0.448


def test_a_median_exactly_at_one_half_counts() -> None:
    km = KaplanMeier.of([Observation(t, True) for t in (1, 2, 3, 4)])
    assert km.survival_at(2) == 0.5
    assert km.median() == 2


def test_the_curve_is_right_continuous_and_known_up_to_the_follow_up(
    six_mp: KaplanMeier,
) -> None:
    assert six_mp.survival_at(5) == 1.0
    assert six_mp.survival_at(6) == pytest.approx(0.8571, abs=1e-4)
    assert six_mp.survival_at(9) == pytest.approx(0.8067, abs=1e-4)
    assert six_mp.incidence_at(35) == pytest.approx(1 - 0.4482, abs=1e-4)
    assert six_mp.follow_up == 35
    assert six_mp.survival_at(36) is None and six_mp.incidence_at(36) is None


def test_someone_censored_on_an_event_day_is_still_at_risk_that_day() -> None:
    km = KaplanMeier.of(
        [Observation(2, True), Observation(2, False), Observation(4, True), Observation(5, False)]
    )
    points = {p["days"]: p for p in km.points()}
    assert (points[2]["at_risk"], points[2]["events"], points[2]["survival"]) == (4, 1, 0.75)
    assert (points[4]["at_risk"], points[4]["events"], points[4]["survival"]) == (2, 1, 0.375)
    assert (points[5]["at_risk"], points[5]["events"]) == (1, 0)
    assert sorted(points) == [0, 2, 4, 5]


def test_with_no_events_everyone_survives_and_there_is_no_median() -> None:
    km = KaplanMeier.of([Observation(10, False), Observation(30, False)])
    points = km.points()
    assert [(p["days"], p["survival"], p["ci_low"], p["ci_high"]) for p in points] == [
        (0, 1.0, 1.0, 1.0),
        (30, 1.0, 1.0, 1.0),
    ]
    assert km.median() is None
    assert km.incidence_at(30) == 0.0


def test_the_interval_is_null_where_everyone_at_risk_has_the_event() -> None:
    km = KaplanMeier.of([Observation(1, True), Observation(2, True)])
    last = km.points()[-1]
    assert (last["days"], last["survival"], last["cumulative_incidence"]) == (2, 0.0, 1.0)
    assert last["ci_low"] is None and last["ci_high"] is None


def test_no_one_observed_gives_no_curve() -> None:
    km = KaplanMeier.of([])
    assert km.points() == []
    assert km.n == 0 and km.follow_up is None
    assert km.survival_at(0) is None and km.median() is None


def test_a_time_before_the_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="before its origin"):
        KaplanMeier.of([Observation(-1, True)])


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2020-06-30", 6, "2020-12-30"),
        ("2020-06-30", 24, "2022-06-30"),
        ("2020-08-31", 6, "2021-02-28"),  # no 31 February: the month's last day
        ("2020-01-31", 1, "2020-02-29"),  # a leap year
        ("2020-11-15", 3, "2021-02-15"),
        ("2021-03-31", -1, "2021-02-28"),
    ],
)
def test_calendar_months_are_added_with_month_end_clamping(
    day: str, months: int, expected: str
) -> None:
    assert add_months(dt.date.fromisoformat(day), months) == dt.date.fromisoformat(expected)


def test_horizons_count_the_days_of_the_calendar_months() -> None:
    origin = dt.date(2020, 6, 30)
    assert [horizon_days(origin, m) for m in (6, 12, 24)] == [183, 365, 730]
    assert in_months(183) == 6.01 and in_months(0) == 0.0
