"""The headline figures with their uncertainty, on the TEMPO pilot, against hand computations.

Growth's pooled change with Holm-adjusted p-values, mobility's difference intervals, log-rank
tests, counts, Aalen-Johansen incidence and the matched comparison group, the staff-survey
DiD interval and the attendance interval: every figure is recomputed in
``tests/support/expected_stats.py`` from the scenario's data, never by the view's code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from typing import Any

import pytest
import statsmodels.formula.api as smf
from pandas import DataFrame

from services.scenario.organisation import MEMBERS
from tests.support import expected_mobility, expected_surveys
from tests.support import expected_stats as expected
from tests.support.pilot import Pilot

APPROX = {"abs": 1.5e-4}
ENTERPRISE = "Enterprise and Innovation Department"
ENERGY = "Energy Department"


def cohort_path(pilot: Pilot, view: str) -> str:
    return f"/tracking/cohorts/{pilot.cohort_id}/{view}"


@pytest.fixture(scope="module")
def growth(pilot: Pilot) -> dict[str, Any]:
    body = pilot.json(cohort_path(pilot, "growth"))
    return body  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def mobility(pilot: Pilot) -> dict[str, Any]:
    return pilot.json(cohort_path(pilot, "mobility"))  # type: ignore[no-any-return]


def behaviour(view: dict[str, Any]) -> dict[str, Any]:
    (found,) = [i for i in view["instruments"] if i["kind"] == "behaviour_assessment"]
    return found


# Growth ----------------------------------------------------------------------------------------


def test_the_growth_headline_is_over_each_persons_mean_change(growth: dict[str, Any]) -> None:
    headline = behaviour(growth)["headline"]
    assert set(headline) == {"self", "manager", "peer"}
    for group, got in headline.items():
        want = expected.headline(group)
        assert got["people"]["value"] == want["n"]
        for key in ("mean_improvement", "sd", "ci_low", "ci_high", "t"):
            assert got[key]["value"] == pytest.approx(want[key], **APPROX), (group, key)
        assert got["p_value"]["value"] == pytest.approx(want["p_value"], rel=1e-3, abs=1e-12)
        assert got["ci_low"]["value"] < got["mean_improvement"]["value"] < got["ci_high"]["value"]


def test_holm_adjusts_every_headline_shown_and_says_how_many(growth: dict[str, Any]) -> None:
    headlines = [h for i in growth["instruments"] for h in i["headline"].values()]
    tested = [h for h in headlines if h["p_value"]["value"] is not None]
    want = expected.holm([expected.headline(h["rater_group"])["p_value"] for h in tested])
    for h, adjusted in zip(tested, want, strict=True):
        assert h["p_holm"]["value"] == pytest.approx(adjusted, rel=1e-3, abs=1e-12)
        assert h["p_holm"]["value"] >= h["p_value"]["value"]
    assert growth["multiplicity"]["intervals"] == len(tested) == 3
    assert growth["multiplicity"]["method"] == "holm"


def test_a_headline_below_the_minimum_is_suppressed(pilot: Pilot) -> None:
    body = pilot.json(cohort_path(pilot, "growth"), sub="headline-energy", department=ENERGY)
    for instrument in body["instruments"]:
        for h in instrument["headline"].values():
            assert h["people"]["suppressed"] and h["people"]["value"] is None
            assert all(h[k]["value"] is None for k in ("mean_improvement", "ci_low", "p_holm"))
    assert body["multiplicity"]["intervals"] == 0


# Mobility --------------------------------------------------------------------------------------


def observations(keys: list[str], day: dt.date, kinds: tuple[str, ...] | None) -> Any:
    return expected_mobility.observations(keys, day, kinds)


KINDS = {"first_move": None, "first_rotation": ("job_rotation",)}


def test_the_difference_has_a_greenwood_interval(mobility: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(mobility["view_date"])
    ours, theirs = expected_mobility.participants(), expected_mobility.comparison()
    for kind, kinds in KINDS.items():
        for months in (6, 12, 24):
            got = mobility["difference_interval"][kind][str(months)]
            value, low, high = expected.difference_interval(
                observations(ours, day, kinds),
                observations(theirs, day, kinds),
                expected_mobility.horizon(months),
            )
            assert mobility["difference"][kind][str(months)]["value"] == pytest.approx(
                value, abs=2e-4
            )
            assert got["ci_low"]["value"] == pytest.approx(low, abs=3e-4)
            assert got["ci_high"]["value"] == pytest.approx(high, abs=3e-4)
    leaving = ("left_state",)
    value, low, high = expected.difference_interval(
        observations(ours, day, leaving), observations(theirs, day, leaving),
        expected_mobility.horizon(24),
    )  # fmt: skip
    got = mobility["difference_interval"]["retention"]["24"]
    assert (got["ci_low"]["value"], got["ci_high"]["value"]) == (
        pytest.approx(-high, abs=3e-4),  # retention is 1 - incidence: the sign turns
        pytest.approx(-low, abs=3e-4),
    )


def test_the_log_rank_tests_match_a_hand_computation(mobility: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(mobility["view_date"])
    ours, theirs = expected_mobility.participants(), expected_mobility.comparison()
    for kind, kinds in (*KINDS.items(), ("left_state", ("left_state",))):
        z, p = expected.logrank(observations(ours, day, kinds), observations(theirs, day, kinds))
        got = mobility["logrank"][kind]
        assert got["statistic"]["value"] == pytest.approx(z, abs=1e-3), kind
        assert got["p_value"]["value"] == pytest.approx(p, rel=1e-3), kind
    assert mobility["logrank"]["first_move"]["statistic"]["value"] > 0  # participants sooner


def test_counts_of_movers_are_shown_only_from_the_minimum(mobility: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(mobility["view_date"])
    for group, keys in (
        ("participants", expected_mobility.participants()),
        ("comparison", expected_mobility.comparison()),
    ):
        for kind, kinds in KINDS.items():
            obs = observations(keys, day, kinds)
            got = mobility[group]["moved"][kind]
            total = sum(e for _, e in obs)
            for months in (6, 12, 24):
                count = sum(e and t <= expected_mobility.horizon(months) for t, e in obs)
                cell = got["within"][str(months)]
                if count >= 5:
                    assert cell["value"] == count
                else:
                    assert cell["suppressed"] and cell["value"] is None
                    assert "fewer than 5 moved" in cell["reason"]
            assert got["by_view_date"]["value"] == (total if total >= 5 else None)


def test_aalen_johansen_incidence_with_leaving_as_a_competing_risk(
    mobility: dict[str, Any],
) -> None:
    day = dt.date.fromisoformat(mobility["view_date"])
    for group, keys in (
        ("participants", expected_mobility.participants()),
        ("comparison", expected_mobility.comparison()),
    ):
        for kind, cause in (("first_move", None), ("first_rotation", ("job_rotation",))):
            timed = expected.competing(keys, day, cause)
            got = mobility[group]["competing"][kind]
            for months in (6, 12, 24):
                cif, left = expected.aalen_johansen(timed, expected_mobility.horizon(months))
                assert got["cumulative_incidence"][str(months)]["value"] == pytest.approx(
                    cif, abs=1e-4
                )
                assert got["left_state"][str(months)]["value"] == pytest.approx(left, abs=1e-4)
                assert cif + left <= 1


def test_a_suppressed_comparison_group_withholds_the_interval_and_test(pilot: Pilot) -> None:
    body = pilot.json(
        cohort_path(pilot, "mobility"), sub="small-ci", department=ENTERPRISE, profession="lawyer"
    )
    ci = body["difference_interval"]["first_move"]["12"]["ci_low"]
    assert ci["suppressed"] and ci["value"] is None
    assert ci["reason"].startswith("comparison group:")
    test = body["logrank"]["first_move"]["p_value"]
    assert test["suppressed"] and test["value"] is None
    assert all(
        c["value"] is None for c in body["comparison"]["moved"]["first_move"]["within"].values()
    )


# Matched comparison ----------------------------------------------------------------------------


def stratum(key: str) -> tuple[str, str, str, str]:
    m = MEMBERS[key]
    department = expected_mobility.placement(key, expected_mobility.START)[0]
    return department, m.role, m.profession_category, m.education_level


def hand_matching(pilot: Pilot) -> dict[str, str]:
    """Control key -> participant key, by the documented rule, written out here."""

    def order(key: str) -> str:
        return hashlib.sha256(f"{pilot.cohort_id}:{pilot.person(key)}".encode()).hexdigest()

    wanting: dict[Any, list[str]] = defaultdict(list)
    for key in expected_mobility.participants():
        wanting[stratum(key)].append(key)
    pool: dict[Any, list[str]] = defaultdict(list)
    for key in expected_mobility.comparison():
        pool[stratum(key)].append(key)
    controls = {}
    for s, people in wanting.items():
        people.sort(key=order)
        for i, control in enumerate(sorted(pool[s], key=order)[: 3 * len(people)]):
            controls[control] = people[i % len(people)]
    return controls


def test_the_matched_group_follows_the_documented_rule(
    pilot: Pilot, mobility: dict[str, Any]
) -> None:
    controls = hand_matching(pilot)
    matched = mobility["matched"]
    assert matched["controls"]["value"] == len(controls)
    assert matched["matched_participants"]["value"] == len(set(controls.values()))
    assert matched["unmatched_participants"]["value"] == 19 - len(set(controls.values()))
    assert all(stratum(c) == stratum(p) for c, p in controls.items())
    assert max(list(controls.values()).count(p) for p in set(controls.values())) <= 3
    day = dt.date.fromisoformat(mobility["view_date"])
    want = expected_mobility.group(sorted(controls), day)
    for kind in KINDS:
        for months in ("6", "12", "24"):
            got = matched["comparison"][kind]["incidence"][months]["value"]
            assert got == pytest.approx(want[kind]["incidence"][months], abs=1e-4)
            value, low, high = expected.difference_interval(
                observations(expected_mobility.participants(), day, KINDS[kind]),
                observations(sorted(controls), day, KINDS[kind]),
                expected_mobility.horizon(int(months)),
            )
            assert matched["difference"][kind][months]["value"] == pytest.approx(value, abs=2e-4)
            interval = matched["difference_interval"][kind][months]
            assert interval["ci_low"]["value"] == pytest.approx(low, abs=3e-4)
            assert interval["ci_high"]["value"] == pytest.approx(high, abs=3e-4)
    again = pilot.json(cohort_path(pilot, "mobility"), sub="matched-again")["matched"]
    assert again["balance"] == matched["balance"]  # deterministic


def test_the_balance_table_counts_each_group(pilot: Pilot, mobility: dict[str, Any]) -> None:
    groups = {
        "participants": expected_mobility.participants(),
        "matched": sorted(hand_matching(pilot)),
        "comparison": expected_mobility.comparison(),
    }
    rows = mobility["matched"]["balance"]
    names = ("department", "role", "profession", "education")
    assert {r["attribute"] for r in rows} == set(names)
    for row in rows:
        index = names.index(row["attribute"])
        ours = [stratum(k)[index] for k in groups["participants"]]
        large = {c for c in ours if ours.count(c) >= 5}
        small = sum(1 for c in ours if c not in large)
        if 0 < small < 5 and large:  # complementary: the smallest shown joins "other"
            large.remove(min(large, key=lambda c: (ours.count(c), str(c))))

        def category(value: str, large: set[str] = large) -> str:
            return value if value in large else "other"

        behind = sum(category(v) == row["category"] for v in ours)
        for name, keys in groups.items():
            cell = row[name]
            if behind < 5:
                assert cell["count"]["suppressed"] and cell["share"]["value"] is None
                continue
            count = sum(category(stratum(k)[index]) == row["category"] for k in keys)
            assert cell["count"]["value"] == count, (row["attribute"], row["category"], name)
            assert cell["share"]["value"] == pytest.approx(count / len(keys), abs=1e-4)


def test_no_suppressed_balance_count_is_the_total_minus_the_counts_shown(
    mobility: dict[str, Any],
) -> None:
    participants = len(expected_mobility.participants())
    rows = mobility["matched"]["balance"]
    for attribute in {r["attribute"] for r in rows}:
        counts = [r["participants"]["count"] for r in rows if r["attribute"] == attribute]
        hidden = [c for c in counts if c["suppressed"]]
        shown = sum(c["value"] for c in counts if not c["suppressed"])
        # Either nothing is hidden, or what is hidden together reaches the minimum.
        assert not hidden or participants - shown >= 5, (attribute, counts)


# Staff survey ----------------------------------------------------------------------------------


def test_the_did_interval_is_the_ols_interaction(pilot: Pilot) -> None:
    body = pilot.json(cohort_path(pilot, "staff-survey"))
    (report,) = body["instruments"]
    checked = 0
    for change in report["change"]:
        for row in change["after"]:
            want = expected.did(change["index"], row["year"])
            assert row["difference_units"] == want["units"]
            assert row["difference_ci_low"]["value"] == pytest.approx(want["low"], **APPROX)
            assert row["difference_ci_high"]["value"] == pytest.approx(want["high"], **APPROX)
            checked += 1
    assert checked
    # The same interval from the long-form model with the interaction term, in statsmodels.
    index, year = report["change"][0]["index"], report["change"][0]["after"][0]["year"]
    before = expected_surveys.before_year()
    org = expected_surveys.series("organisation")
    rows = []
    for department, unit in expected_surveys.participant_units():
        mine = expected_surveys.series("unit", department, unit)
        if before in mine and year in mine:
            for post, y in ((0, before), (1, year)):
                rows.append({"unit": unit, "treated": 1, "post": post, "y": mine[y][1][index]})
                rows.append({"unit": unit, "treated": 0, "post": post, "y": org[y][1][index]})
    fit = smf.ols(
        "y ~ C(unit) + C(unit):treated + C(unit):post + treated:post", DataFrame(rows)
    ).fit()
    low, high = fit.conf_int().loc["treated:post"]
    row = report["change"][0]["after"][0]
    assert row["difference_ci_low"]["value"] == pytest.approx(low, **APPROX)
    assert row["difference_ci_high"]["value"] == pytest.approx(high, **APPROX)


# Attendance ------------------------------------------------------------------------------------


def test_the_attendance_difference_has_a_newcombe_interval_and_a_warning(pilot: Pilot) -> None:
    attendance = pilot.json(cohort_path(pilot, "funnel"))["attendance"]
    modes = attendance["by_delivery"]
    counts = []
    for mode in ("virtual", "in_person"):
        total = modes[mode]["person_sessions"]["value"]
        counts += [round(modes[mode]["rate"]["value"] * total), total]
    low, high = expected.newcombe(*counts)
    got = attendance["virtual_minus_in_person_ci"]
    assert got["low"]["value"] == pytest.approx(low, abs=1e-4)
    assert got["high"]["value"] == pytest.approx(high, abs=1e-4)
    assert low < attendance["virtual_minus_in_person"]["value"] < high
    assert modes["in_person"]["sessions"] < 3 <= modes["virtual"]["sessions"]
    assert "in_person: fewer than 3 sessions" in attendance["virtual_minus_in_person_warning"]


# The documents ---------------------------------------------------------------------------------


def test_the_openapi_documents_describe_every_new_figure(pilot: Pilot) -> None:
    schemas = pilot.client.get("/tracking/openapi.json").get_json()["components"]["schemas"]
    assert {"p_holm", "ci_low", "mean_improvement"} <= set(schemas["Headline"]["properties"])
    assert "multiplicity" in schemas["CohortGrowth"]["properties"]
    mobility = schemas["Mobility"]["properties"]
    assert {"difference_interval", "logrank", "matched"} <= set(mobility)
    assert {"moved", "competing"} <= set(schemas["GroupMobility"]["properties"])
    assert "balance" in schemas["MatchedMobility"]["properties"]
    assert {"difference_ci_low", "difference_units"} <= set(schemas["AfterYear"]["properties"])
    attendance = schemas["Attendance"]["properties"]
    assert {"virtual_minus_in_person_ci", "virtual_minus_in_person_warning"} <= set(attendance)


def test_the_programme_views_carry_the_same_intervals(
    pilot: Pilot, growth: dict[str, Any], mobility: dict[str, Any]
) -> None:
    """The pilot's programme has one cohort: its pooled figures are the cohort's."""
    base = f"/tracking/programmes/{pilot.loaded.programme_id}"
    pooled = pilot.json(f"{base}/growth")
    assert pooled["multiplicity"] == growth["multiplicity"]
    assert behaviour(pooled)["headline"] == behaviour(growth)["headline"]
    assert pilot.json(f"{base}/mobility")["logrank"] == mobility["logrank"]
    survey = pilot.json(f"{base}/staff-survey")
    for index, interval in survey["intervals"].items():
        want = expected.did(index, expected_surveys.after_years()[0])
        assert interval["difference_ci_low"]["value"] == pytest.approx(want["low"], **APPROX)
        assert interval["difference_units"] == want["units"]
    schemas = pilot.client.get("/tracking/openapi.json").get_json()["components"]["schemas"]
    assert "multiplicity" in schemas["PooledGrowth"]["properties"]
    assert "logrank" in schemas["PooledMobility"]["properties"]
    assert "intervals" in schemas["PooledStaffSurvey"]["properties"]


def test_a_difference_without_events_has_no_interval(mobility: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(mobility["view_date"])
    leaving = ("left_state",)
    ours = observations(expected_mobility.participants(), day, leaving)
    theirs = observations(expected_mobility.comparison(), day, leaving)
    twelve = expected_mobility.horizon(12)
    assert not any(e and t <= twelve for t, e in ours + theirs)  # no one left within 12 months
    got = mobility["difference_interval"]["retention"]["12"]["ci_low"]
    assert got["value"] is None and "no variance" in got["reason"]
