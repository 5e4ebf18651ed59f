"""Views over many cohorts: a programme's and the organisation's funnel and Kirkpatrick, by year."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, cohort_body, unknown_id


@dataclass
class Scene:
    programme: str
    other_programme: str
    spring: str  # 2020, six enrolled
    autumn: str  # 2021, five enrolled, one of whom withdraws
    tiny: str  # 2020, two enrolled: too few to pool
    elsewhere: str  # 2021, another programme, five enrolled
    before_2021: dt.datetime


def _cohort(api: Api, programme: str, name: str, start: str, end: str) -> str:
    body = cohort_body(programme, name=name, start_date=start, end_date=end)
    return str(api.created("/enrolment/cohorts", body)["id"])


def _enrol(api: Api, cohort_id: str, n: int) -> list[str]:
    people = [api.person() for _ in range(n)]
    for person_id in people:
        assert api.enrol(cohort_id, person_id).status_code == 201
    return people


@pytest.fixture
def scene(api: Api) -> Scene:
    programme, other = api.programme(), api.programme("Other")
    spring = _cohort(api, programme, "Spring", "2020-03-01", "2020-11-30")
    tiny = _cohort(api, programme, "Tiny", "2020-04-01", "2020-10-31")
    _enrol(api, spring, 6)
    _enrol(api, tiny, 2)
    api.embedded.tracking.projector.drain()
    before_2021 = dt.datetime.now(dt.UTC)
    autumn = _cohort(api, programme, "Autumn", "2021-09-01", "2021-12-15")
    leaver = _enrol(api, autumn, 5)[0]
    withdrawal = {"reason": "moved on"}
    response = api.post(f"/enrolment/cohorts/{autumn}/enrolments/{leaver}/withdraw", withdrawal)
    assert response.status_code < 300, response.get_json()
    elsewhere = _cohort(api, other, "Elsewhere", "2021-02-01", "2021-06-30")
    _enrol(api, elsewhere, 5)
    api.embedded.tracking.projector.drain()
    return Scene(programme, other, spring, autumn, tiny, elsewhere, before_2021)


def values(cells: dict[str, Any]) -> dict[str, Any]:
    return {k: c["value"] for k, c in cells.items()}


def test_a_programme_funnel_sums_the_funnels_of_its_cohorts_that_are_shown(
    api: Api, scene: Scene
) -> None:
    view = api.get(f"/tracking/programmes/{scene.programme}/funnel").get_json()
    spring = api.get(f"/tracking/cohorts/{scene.spring}/funnel").get_json()
    autumn = api.get(f"/tracking/cohorts/{scene.autumn}/funnel").get_json()
    tiny = api.get(f"/tracking/cohorts/{scene.tiny}/funnel").get_json()
    assert tiny["people"]["suppressed"]  # so it is not pooled either
    assert view["scope"] == "programme" and view["year"] is None
    assert view["people"]["value"] == spring["people"]["value"] + autumn["people"]["value"] == 11
    for stage, got in values(view["stages"]).items():
        assert got == spring["stages"][stage]["value"] + autumn["stages"][stage]["value"], stage
    assert values(view["stages"])["enrolled"] == 11
    assert values(view["stages"])["withdrawn"] == values(autumn["stages"])["withdrawn"] == 1
    assert view["rates"]["completion"]["n"] == 11
    rows = {r["cohort_id"]: r for r in view["cohorts"]}
    assert set(rows) == {scene.spring, scene.autumn, scene.tiny}
    assert not rows[scene.tiny]["pooled"] and "people" not in rows[scene.tiny]
    assert rows[scene.spring]["stages"] == spring["stages"]


def test_a_year_is_the_cohorts_starting_in_it(api: Api, scene: Scene) -> None:
    path = f"/tracking/programmes/{scene.programme}/funnel"
    in_2021 = api.get(path, query_string={"year": "2021"}).get_json()
    assert [r["cohort_id"] for r in in_2021["cohorts"]] == [scene.autumn]
    assert in_2021["people"]["value"] == 5 and in_2021["year"] == 2021
    in_2020 = api.get(path, query_string={"year": "2020"}).get_json()
    assert in_2020["people"]["value"] == 6  # the tiny cohort is left out of the pool
    in_2019 = api.get(path, query_string={"year": "2019"}).get_json()
    assert in_2019["cohorts"] == [] and in_2019["people"]["suppressed"]


def test_the_organisation_funnel_pools_every_programme(api: Api, scene: Scene) -> None:
    every = api.get("/tracking/organisation/funnel").get_json()
    assert every["scope"] == "organisation"
    assert every["people"]["value"] == 16
    in_2021 = api.get("/tracking/organisation/funnel", query_string={"year": 2021}).get_json()
    assert {r["cohort_id"] for r in in_2021["cohorts"]} == {scene.autumn, scene.elsewhere}
    assert values(in_2021["stages"])["enrolled"] == 10


def test_as_of_sees_the_cohorts_recorded_by_then(api: Api, scene: Scene) -> None:
    query = {"as_of": scene.before_2021.isoformat()}
    view = api.get("/tracking/organisation/funnel", query_string=query).get_json()
    assert {r["cohort_id"] for r in view["cohorts"]} == {scene.spring, scene.tiny}
    assert view["people"]["value"] == 6


def test_the_csv_has_a_row_per_cohort_and_the_totals(api: Api, scene: Scene) -> None:
    response = api.get(
        f"/tracking/programmes/{scene.programme}/funnel", query_string={"format": "csv"}
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["cohort_id"] for r in rows] == [scene.spring, scene.tiny, scene.autumn, "total"]
    assert rows[-1]["people"] == "11" and rows[1]["people"] == ""


@pytest.mark.parametrize("year", ["1800", "twenty", "2020.5"])
def test_a_bad_year_is_a_named_422(api: Api, year: str) -> None:
    response = api.get("/tracking/organisation/funnel", query_string={"year": year})
    assert_problem(response, 422, {"year"})


def test_an_unknown_programme_is_not_found(api: Api) -> None:
    assert_problem(api.get(f"/tracking/programmes/{unknown_id()}/funnel"), 404)


@pytest.mark.parametrize("role", ["coach", "participant"])
def test_only_those_who_see_every_cohort_read_pooled_views(api: Api, role: str) -> None:
    for path in ("/tracking/organisation/funnel", "/tracking/organisation/kirkpatrick"):
        assert api.get(path, role=role).status_code == 403


def test_the_organisation_kirkpatrick_pools_the_years_cohorts(api: Api, scene: Scene) -> None:
    view = api.get("/tracking/organisation/kirkpatrick", query_string={"year": 2021}).get_json()
    assert view["scope"] == "organisation" and view["year"] == 2021
    assert set(view["cohorts"]) == {scene.autumn, scene.elsewhere}
    assert [level["level"] for level in view["levels"]] == [1, 2, 3, 4]
    csv_rows = api.get(
        "/tracking/organisation/kirkpatrick", query_string={"format": "csv"}
    ).get_data(as_text=True)
    assert csv_rows.splitlines()[0].startswith("level,level_name,key")


@pytest.mark.parametrize("kind", ["growth", "mobility", "staff-survey"])
def test_pooled_views_of_a_programme_and_the_organisation(
    api: Api, scene: Scene, kind: str
) -> None:
    programme = api.get(f"/tracking/programmes/{scene.programme}/{kind}").get_json()
    assert programme["scope"] == "programme"
    assert programme["cohorts"] == [scene.spring, scene.tiny, scene.autumn]
    year = api.get(f"/tracking/organisation/{kind}", query_string={"year": 2021}).get_json()
    assert year["scope"] == "organisation" and year["year"] == 2021
    assert set(year["cohorts"]) == {scene.autumn, scene.elsewhere}
    csv_answer = api.get(f"/tracking/organisation/{kind}", query_string={"format": "csv"})
    assert csv_answer.status_code == 200 and csv_answer.mimetype == "text/csv"
    assert_problem(api.get(f"/tracking/programmes/{unknown_id()}/{kind}"), 404)
    assert api.get(f"/tracking/organisation/{kind}", role="coach").status_code == 403


def test_pooled_mobility_leaves_small_cohorts_out_of_the_participants(
    api: Api, scene: Scene
) -> None:
    view = api.get(f"/tracking/programmes/{scene.programme}/mobility").get_json()
    # Autumn keeps four participants after a withdrawal, the tiny cohort two: both too few.
    assert view["participant_cohorts"] == [scene.spring]
    assert view["participants"]["people"]["value"] == 6
    assert view["comparison"]["people"]["suppressed"]  # everyone here is enrolled somewhere
