"""The mobility view on the TEMPO pilot, against figures computed from the scenario data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from werkzeug.test import TestResponse

from services.scenario.organisation import COLLEAGUES
from services.tracking.temporal import reading
from services.tracking.views import mobility
from services.tracking.views.privacy import Policy
from services.tracking.views.survival import NO_FOLLOW_UP
from shared.auth import issue_token
from shared.events.people import SCOPES
from tests.api.helpers import Api, assert_problem, cohort_body, unknown_id
from tests.support import expected_mobility as expected
from tests.support.pilot import Pilot

ENERGY = "Energy Department"
ENTERPRISE = "Enterprise and Innovation Department"


def path(pilot: Pilot) -> str:
    return f"/tracking/cohorts/{pilot.cohort_id}/mobility"


def ask(pilot: Pilot, sub: str, role: str = "hr_admin", **query: str) -> TestResponse:
    """The view with filters (``role`` here is the token's; the filter is ``role_filter``)."""
    if "role_filter" in query:
        query["role"] = query.pop("role_filter")
    token = issue_token(pilot.secret, sub, role)
    return pilot.client.get(
        path(pilot), query_string=query, headers={"Authorization": f"Bearer {token}"}
    )


def answer(pilot: Pilot, sub: str, **query: str) -> dict[str, Any]:
    response = ask(pilot, sub, **query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def view(pilot: Pilot) -> dict[str, Any]:
    return pilot.json(path(pilot))  # type: ignore[no-any-return]


def view_day(view: dict[str, Any]) -> dt.date:
    """The day the view was answered for: today, which the expectation must use too."""
    day = dt.date.fromisoformat(view["view_date"])
    assert abs((dt.datetime.now(dt.UTC).date() - day).days) <= 1
    return day


def values(cells: dict[str, Any]) -> dict[str, Any]:
    return {k: c["value"] for k, c in cells.items()}


def assert_close(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for key, value in want.items():
        if value is None:
            assert got[key] is None, key
        else:
            assert got[key] == pytest.approx(value, abs=1e-4), key


def assert_curve(curve: dict[str, Any], points: list[expected.Point]) -> None:
    assert not curve["suppressed"]
    got = curve["value"]
    assert [(p["days"], p["at_risk"], p["events"]) for p in got] == [
        (p.days, p.at_risk, p.events) for p in points
    ]
    for g, p in zip(got, points, strict=True):
        assert g["survival"] == pytest.approx(p.survival, abs=1e-4)
        assert g["cumulative_incidence"] == pytest.approx(1 - p.survival, abs=1e-4)
        assert g["months"] == round(p.days / 30.4375, 2)
        for bound, want in (("ci_low", p.ci_low), ("ci_high", p.ci_high)):
            assert g[bound] == (None if want is None else pytest.approx(want, abs=1e-4))


def assert_group(group: dict[str, Any], keys: list[str], day: dt.date) -> None:
    want = expected.group(keys, day)
    assert group["people"]["value"] == want["people"]
    for kind in ("first_move", "first_rotation"):
        figures = want[kind]
        assert_curve(group[kind]["curve"], figures["points"])
        assert_close(values(group[kind]["incidence"]), figures["incidence"])
        assert_close(values(group[kind]["observed"]), figures["observed"])
        assert group[kind]["median_days"]["value"] == figures["median_days"]
    assert values(group["scopes"]) == want["scopes"]
    assert_close(values(group["retention"]["estimated"]), want["retention"])


def test_the_participants_kaplan_meier_curve_matches_a_product_limit(view: dict[str, Any]) -> None:
    day = view_day(view)
    points = expected.monthly(expected.observations(expected.participants(), day))
    assert_curve(view["participants"]["first_move"]["curve"], points)
    assert view["origin"] == "2020-06-30"
    # Released only at month ends, each step of at least five moves.
    grid = {expected.horizon(m) for m in range(1, 200)}
    assert len(points) > 1 and all(p.days in grid for p in points[1:])
    assert all(p.events >= expected.MINIMUM for p in points[1:])


def test_every_participant_figure_matches_the_scenario(view: dict[str, Any]) -> None:
    assert_group(view["participants"], expected.participants(), view_day(view))


def test_the_6_12_24_month_shares_of_participants(view: dict[str, Any]) -> None:
    day = view_day(view)
    keys = expected.participants()
    moved = {
        months: sum(t <= expected.horizon(months) for t, m in expected.observations(keys, day) if m)
        for months in expected.HORIZONS
    }
    first = view["participants"]["first_move"]
    for months, count in moved.items():
        # No one is censored before two years, so the estimate is the plain share.
        assert first["incidence"][str(months)]["value"] == round(count / len(keys), 4)
        assert first["observed"][str(months)]["value"] == round(count / len(keys), 4)
        assert first["observed"][str(months)]["n"] == len(keys) == 19
    assert view["horizon_days"] == {"6": 183, "12": 365, "24": 730}


def test_the_median_time_to_move_is_not_reached(view: dict[str, Any]) -> None:
    median = view["participants"]["first_move"]["median_days"]
    assert median["value"] is None and not median["suppressed"]
    assert median["reason"].startswith("not reached")
    assert view["participants"]["first_move"]["median_months"]["value"] is None


def test_moves_by_scope_have_all_six_keys(view: dict[str, Any]) -> None:
    scopes = values(view["participants"]["scopes"])
    assert set(scopes) == set(SCOPES)
    assert scopes == {
        "same_unit": 1,
        "other_unit": 1,
        "other_department": 3,
        "group_agency": 2,
        "other_state_organisation": 1,
        "outside_state": 1,
    }


def test_the_comparison_group_is_all_forty_colleagues(view: dict[str, Any]) -> None:
    day = view_day(view)
    keys = expected.comparison()
    assert len(keys) == len(COLLEAGUES) == 40
    assert_group(view["comparison"], keys, day)
    assert view["filters"] == {}


def test_the_difference_is_participants_minus_comparison(view: dict[str, Any]) -> None:
    day = view_day(view)
    ours, theirs = (
        expected.group(expected.participants(), day),
        expected.group(expected.comparison(), day),
    )
    for kind in ("first_move", "first_rotation"):
        for months in ("6", "12", "24"):
            got = view["difference"][kind][months]
            want = ours[kind]["incidence"][months] - theirs[kind]["incidence"][months]
            assert got["value"] == pytest.approx(want, abs=2e-4)
            assert got["n"] == 19
    for months in ("12", "24"):
        want = ours["retention"][months] - theirs["retention"][months]
        assert view["difference"]["retention"][months]["value"] == pytest.approx(want, abs=2e-4)


def test_a_department_filter_selects_the_comparison_group(pilot: Pilot) -> None:
    got = answer(pilot, "dept-filter", department=ENTERPRISE)
    keys = expected.comparison(department=ENTERPRISE)
    assert len(keys) == 9
    assert_group(got["comparison"], keys, view_day(got))
    assert got["filters"] == {"department": ENTERPRISE}
    assert_group(got["participants"], expected.participants(), view_day(got))


def test_a_profession_filter_selects_the_comparison_group(pilot: Pilot) -> None:
    got = answer(pilot, "profession-filter", profession="economist", role_filter="expert")
    keys = expected.comparison(profession="economist", role="expert")
    assert len(keys) == 10
    assert_group(got["comparison"], keys, view_day(got))


def test_a_comparison_group_below_the_minimum_is_suppressed(pilot: Pilot) -> None:
    got = answer(pilot, "small-group", department=ENTERPRISE, profession="lawyer")
    assert len(expected.comparison(department=ENTERPRISE, profession="lawyer")) == 2
    comparison = got["comparison"]
    assert comparison["people"] == {
        "value": None,
        "n": None,
        "suppressed": True,
        "reason": comparison["people"]["reason"],
    }
    assert comparison["first_move"]["curve"]["suppressed"]
    assert comparison["first_move"]["curve"]["value"] is None
    assert all(c["suppressed"] for c in comparison["scopes"].values())
    assert all(c["suppressed"] for c in comparison["retention"]["estimated"].values())
    difference = got["difference"]["first_rotation"]["12"]
    assert difference["suppressed"] and difference["value"] is None
    assert difference["reason"].startswith("comparison group:")
    assert not got["participants"]["people"]["suppressed"]  # participants still shown


def test_an_unknown_department_is_an_empty_suppressed_group(pilot: Pilot) -> None:
    got = answer(pilot, "unknown-dept", department="No Such Department")
    assert got["comparison"]["people"]["suppressed"]
    assert got["comparison"]["first_move"]["curve"]["value"] is None


def test_filters_differing_by_few_people_across_two_calls_are_refused(pilot: Pilot) -> None:
    assert len(expected.comparison(department=ENERGY)) == 6
    assert ask(pilot, "narrowing", department=ENERGY).status_code == 200
    # Six, then two of them: the difference would describe four people. Anyone may ask for
    # the department alone, so the pair is refused whoever asks, and first.
    for sub in ("narrowing", "someone-else"):
        refused = ask(pilot, sub, department=ENERGY, profession="lawyer")
        body = assert_problem(refused, 422, {"profession"})
        assert f"of the group with only department={ENERGY}" in body["detail"]


@pytest.mark.parametrize(
    "query",
    [
        {"profession": "law\x00yer"},
        {"department": "Energy\u202eDepartment"},
        {"role_filter": ""},
        {"department": "x" * 201},
        {"as_of": "2999-01-01T00:00:00+00:00"},
        {"as_of": "yesterday"},
        {"format": "xml"},
    ],
)
def test_bad_arguments_are_a_named_422(pilot: Pilot, query: dict[str, str]) -> None:
    named = {"role" if k == "role_filter" else k for k in query}
    assert_problem(ask(pilot, "bad-arguments", **query), 422, named)


def test_an_unknown_cohort_is_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(f"/tracking/cohorts/{unknown_id()}/mobility"), 404)


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "coach", "auditor"])
def test_viewers_read_the_mobility_view(pilot: Pilot, role: str, view: dict[str, Any]) -> None:
    got = pilot.json(path(pilot), role)
    assert got["participants"] == view["participants"]


def test_a_coach_of_another_cohort_does_not_see_it(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot), "coach", sub="another-coach"), 404, {"cohort_id"})


@pytest.mark.parametrize("role", ["participant", "service"])
def test_participants_and_services_may_not_read_mobility(pilot: Pilot, role: str) -> None:
    assert_problem(pilot.get(path(pilot), role), 403)


def test_as_of_answers_from_the_events_recorded_by_then(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot), as_of="2000-01-01T00:00:00+00:00"), 404)
    now = dt.datetime.now(dt.UTC).isoformat()
    then = pilot.json(path(pilot), as_of=now)
    live = pilot.json(path(pilot))
    assert then["as_of"] is not None and live["as_of"] is None
    assert {k: v for k, v in then.items() if k != "as_of"} == {
        k: v for k, v in live.items() if k != "as_of"
    }


def test_the_csv_has_one_row_per_curve_point(pilot: Pilot, view: dict[str, Any]) -> None:
    response = pilot.get(path(pilot), "auditor", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0])[:9] == [
        "group", "group_label", "kind", "kind_label", "days", "months", "survival", "ci_low",
        "ci_high",
    ]  # fmt: skip
    assert {r["group_label"] for r in rows} <= {"Participants", "Comparison group"}
    for group in ("participants", "comparison"):
        for kind in ("first_move", "first_rotation"):
            points = view[group][kind]["curve"]["value"]
            mine = [r for r in rows if r["group"] == group and r["kind"] == kind]
            assert [int(r["days"]) for r in mine] == [p["days"] for p in points]
            assert [float(r["survival"]) for r in mine] == [p["survival"] for p in points]


def test_an_earlier_view_date_censors_and_withholds_unfinished_horizons(pilot: Pilot) -> None:
    day = dt.date(2021, 12, 31)  # 18 months after the cohort's end
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        chosen = mobility.groups(cur, [pilot.cohort_id], {})
        got = mobility.cohort_mobility(cur, pilot.cohort_id, chosen, 5, day)
    first = got["participants"]["first_move"]
    want = expected.group(expected.participants(), day)["first_move"]
    assert_curve(first["curve"], want["points"])
    assert first["observed"]["12"]["value"] == pytest.approx(want["observed"]["12"], abs=1e-4)
    for figure in (first["observed"]["24"], first["incidence"]["24"]):
        assert figure["value"] is None and not figure["suppressed"]
        assert figure["reason"] == "follow-up shorter than 24 months"
    assert values(got["participants"]["scopes"]) == expected.scope_counts(
        expected.participants(), day
    )


def test_before_the_cohort_ends_there_is_no_follow_up(pilot: Pilot) -> None:
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        chosen = mobility.groups(cur, [pilot.cohort_id], {})
        got = mobility.cohort_mobility(cur, pilot.cohort_id, chosen, 5, dt.date(2020, 6, 1))
    assert got["participants"]["followed"]["value"] == 0
    for figure in (
        got["participants"]["first_move"]["curve"],
        got["participants"]["first_move"]["incidence"]["6"],
        got["participants"]["scopes"]["same_unit"],
        got["comparison"]["retention"]["estimated"]["12"],
    ):
        assert figure["value"] is None and not figure["suppressed"]
        assert figure["reason"] == NO_FOLLOW_UP


def test_the_summary_for_kirkpatrick_pools_cohorts(pilot: Pilot, view: dict[str, Any]) -> None:
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        summary = mobility.mobility_summary(cur, [pilot.cohort_id], Policy(), view_day(view))
    rotation = summary["rotation_24_months"]
    assert rotation["participants"] == view["participants"]["first_rotation"]["incidence"]["24"]
    assert rotation["comparison"] == view["comparison"]["first_rotation"]["incidence"]["24"]
    assert rotation["difference"] == view["difference"]["first_rotation"]["24"]
    retention = summary["retention_24_months"]
    assert retention["participants"] == view["participants"]["retention"]["estimated"]["24"]
    assert summary["people"]["comparison"]["value"] == 40


# A tiny cohort of one's own, for what the pilot's populations cannot show.


def small_scene(api: Api) -> str:
    """One participant and seven colleagues (five in Innovation, two in Energy), plus one
    colleague who left the state before the cohort ended (2020-11-30): not in the comparison."""
    cohort_id = api.cohort(capacity=5)
    participant = api.person()
    assert api.enrol(cohort_id, participant).status_code == 201
    for department in ["Innovation"] * 5 + ["Energy"] * 2:
        api.person(department=department)
    gone = api.person(department="Innovation")
    left = {"kind": "left_state", "organisation": "Private sector", "start_date": "2020-09-01"}
    api.created(f"/enrolment/people/{gone}/career-moves", left)
    api.embedded.tracking.projector.drain()
    return cohort_id


def test_a_filter_leaving_out_fewer_than_the_minimum_is_refused(api: Api) -> None:
    cohort_id = small_scene(api)
    where = f"/tracking/cohorts/{cohort_id}/mobility"
    body = assert_problem(
        api.get(where, query_string={"department": "Innovation"}), 422, {"department"}
    )
    assert "department=Innovation" in body["detail"]
    got = api.get(where, sub="another").get_json()
    assert got["comparison"]["people"]["value"] == 7
    assert got["participants"]["people"]["suppressed"]  # one participant
    assert got["participants"]["first_move"]["incidence"]["6"]["suppressed"]
    energy = api.get(where, sub="third", query_string={"department": "Energy"})
    assert energy.status_code == 200  # leaves out five: allowed, but too few to show
    assert energy.get_json()["comparison"]["people"]["suppressed"]


def test_pooled_cohorts_follow_each_participant_from_their_own_cohorts_end(api: Api) -> None:
    programme = api.programme()
    first = api.cohort(programme, capacity=5, name="First")  # ends 2020-11-30
    second = str(
        api.created(
            "/enrolment/cohorts",
            cohort_body(programme, name="Second", start_date="2021-01-04", end_date="2021-05-31"),
        )["id"]
    )
    movers = []
    for cohort_id in (first, second):
        people = [api.person() for _ in range(5)]
        for person_id in people:
            assert api.enrol(cohort_id, person_id).status_code == 201
        movers.append(people[0])
    for _ in range(5):
        api.person()  # the comparison group: no one moves
    for person_id, start in zip(movers, ("2021-01-15", "2021-07-01"), strict=True):
        rotation = {
            "kind": "job_rotation",
            "organisation": "TEM",
            "department": "Innovation",
            "unit": "Elsewhere",
            "start_date": start,
            "planned_end_date": "2021-12-31",
        }
        api.created(f"/enrolment/people/{person_id}/career-moves", rotation)
    api.embedded.tracking.projector.drain()
    day = dt.date(2024, 1, 1)
    with reading(api.embedded.tracking.readmodels.database) as cur:
        pooled = mobility.figures(cur, mobility.groups(cur, [first, second], {}), 5, day)
        summary = mobility.mobility_summary(cur, [first, second], Policy(), day)
    curve = pooled["participants"]["first_rotation"]["curve"]
    # 46 days after the first cohort's end, 31 after the second's: two rotations, never a
    # step of five, so the curve is only its origin; the horizons still carry the estimate.
    assert [(p["days"], p["at_risk"], p["events"]) for p in curve["value"]] == [(0, 10, 0)]
    assert curve["n"] == 10 and "shown to day 0" in curve["reason"]
    rotation = summary["rotation_24_months"]
    assert rotation["participants"]["value"] == pytest.approx(0.2)  # 1 - 9/10 * 8/9
    assert rotation["comparison"]["value"] == 0.0
    assert rotation["difference"]["value"] == pytest.approx(0.2)
    assert summary["retention_24_months"]["participants"]["value"] == 1.0
    assert pooled["participants"]["scopes"]["other_unit"]["value"] == 2
