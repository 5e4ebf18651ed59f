"""The network view on the TEMPO pilot: peer groups' spans, against the scenario data."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from services.scenario.enrolment import PEER_GROUPS, WITHDRAWN
from services.tracking.temporal import reading
from services.tracking.views import network
from services.tracking.views.privacy import Policy
from tests.api.helpers import Api, assert_problem, unknown_id
from tests.support import expected_mobility as expected
from tests.support.pilot import Pilot

SPANS = ("members", "departments", "units", "cross_unit_ties", "pairs")


def path(pilot: Pilot) -> str:
    return f"/tracking/cohorts/{pilot.cohort_id}/network"


@pytest.fixture(scope="module")
def view(pilot: Pilot) -> dict[str, Any]:
    return pilot.json(path(pilot))  # type: ignore[no-any-return]


def test_each_peer_group_spans_what_the_scenario_says(view: dict[str, Any]) -> None:
    want = expected.peer_groups()
    assert [g["name"] for g in view["groups"]] == sorted(PEER_GROUPS)
    for group in view["groups"]:
        span = want[group["name"]]
        if span.members < expected.MINIMUM:
            continue
        assert {k: group[k]["value"] for k in SPANS} == {k: getattr(span, k) for k in SPANS}
        assert group["cross_unit_share"]["value"] == round(span.cross_unit_ties / span.pairs, 4)
        assert group["members"]["n"] == span.members
    assert view["placed_on"] == "2020-02-01"


def test_the_group_the_withdrawn_participant_left_is_suppressed(view: dict[str, Any]) -> None:
    name = next(n for n, keys in PEER_GROUPS.items() if WITHDRAWN in keys)
    assert expected.peer_groups()[name].members == 4
    group = next(g for g in view["groups"] if g["name"] == name)
    for key in (*SPANS, "cross_unit_share"):
        assert group[key]["suppressed"] and group[key]["value"] is None and group[key]["n"] is None
        assert "fewer than 5" in group[key]["reason"]


def test_cohort_totals_leave_out_the_suppressed_group(view: dict[str, Any]) -> None:
    totals = view["totals"]
    want = expected.network_totals()
    assert totals["groups"] == len(PEER_GROUPS) and totals["groups_counted"] == 3
    assert totals["members"]["value"] == want["members"] == 15
    for key in ("mean_departments", "mean_units", "cross_unit_share"):
        assert totals[key]["value"] == pytest.approx(want[key], abs=1e-4), key


def test_each_participant_sees_their_groups_spans(pilot: Pilot, view: dict[str, Any]) -> None:
    rows = {pilot.key_of(p["person_id"]): p for p in view["participants"]}
    assert WITHDRAWN not in rows
    assert set(rows) == set(expected.participants())
    spans = expected.peer_groups()
    for name, keys in PEER_GROUPS.items():
        for key in keys:
            if key == WITHDRAWN:
                continue
            row = rows[key]
            assert row["group_name"] == name
            if spans[name].members < expected.MINIMUM:
                assert row["departments"] is None and row["units"] is None
                assert "fewer than 5 members" in row["reason"]
            else:
                assert (row["departments"], row["units"], row["reason"]) == (
                    spans[name].departments,
                    spans[name].units,
                    None,
                )


def test_the_csv_has_one_row_per_group(pilot: Pilot) -> None:
    response = pilot.get(path(pilot), "coordinator", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["name"] for r in rows] == sorted(PEER_GROUPS)
    spans = expected.peer_groups()
    for row in rows:
        span = spans[row["name"]]
        if span.members < expected.MINIMUM:
            assert row["members"] == "" and row["cross_unit_share"] == ""
        else:
            assert int(row["cross_unit_ties"]) == span.cross_unit_ties


def test_the_summary_for_kirkpatrick_is_the_cohort_totals(
    pilot: Pilot, view: dict[str, Any]
) -> None:
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        summary = network.network_summary(cur, [pilot.cohort_id], Policy())
    assert summary == view["totals"]


def test_a_lower_minimum_shows_the_small_group(pilot: Pilot) -> None:
    with reading(pilot.runtime.tracking.readmodels.database) as cur:
        got = network.network(cur, pilot.cohort_id, Policy(minimum=3), individual=False)
    assert "participants" not in got
    spans = expected.peer_groups()
    for group in got["groups"]:
        assert group["members"]["value"] == spans[group["name"]].members
    assert got["totals"]["groups_counted"] == len(PEER_GROUPS)


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "coach", "auditor"])
def test_viewers_read_the_network(pilot: Pilot, role: str, view: dict[str, Any]) -> None:
    got = pilot.json(path(pilot), role)
    assert got["groups"] == view["groups"] and got["totals"] == view["totals"]


def test_a_coach_of_another_cohort_does_not_see_its_network(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot), "coach", sub="another-coach"), 404, {"cohort_id"})


@pytest.mark.parametrize("role", ["participant", "service"])
def test_participants_and_services_may_not_read_the_network(pilot: Pilot, role: str) -> None:
    assert_problem(pilot.get(path(pilot), role), 403)


def test_an_unknown_cohort_is_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(f"/tracking/cohorts/{unknown_id()}/network"), 404)


def test_as_of_answers_from_the_events_recorded_by_then(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot), as_of="2000-01-01T00:00:00+00:00"), 404)
    then = pilot.json(path(pilot), as_of=dt.datetime.now(dt.UTC).isoformat())
    live = pilot.json(path(pilot))
    assert then["as_of"] is not None
    assert {k: v for k, v in then.items() if k != "as_of"} == {
        k: v for k, v in live.items() if k != "as_of"
    }


@pytest.mark.parametrize("query", [{"format": "xml"}, {"as_of": "2999-01-01T00:00:00+00:00"}])
def test_bad_arguments_are_a_named_422(pilot: Pilot, query: dict[str, str]) -> None:
    assert_problem(pilot.get(path(pilot), **query), 422, set(query))


def test_a_cohort_without_groups_has_empty_totals(api: Api) -> None:
    cohort_id = api.cohort(capacity=5)
    api.embedded.tracking.projector.drain()
    got = api.get(f"/tracking/cohorts/{cohort_id}/network").get_json()
    assert got["groups"] == [] and got["participants"] == []
    assert got["totals"]["groups"] == 0
    assert got["totals"]["members"]["suppressed"]
    assert got["totals"]["cross_unit_share"]["value"] is None
