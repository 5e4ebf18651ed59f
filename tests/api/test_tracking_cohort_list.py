"""``GET /tracking/cohorts``: filters, pages, a coach's view, and each cohort's headline figures."""

from __future__ import annotations

import csv
import io

from services.scenario import enrolment as scenario
from tests.api.helpers import Api
from tests.support.pilot import Pilot


def ids(api: Api, **query: object) -> list[str]:
    response = api.get("/tracking/cohorts", query_string=query)
    assert response.status_code == 200, response.get_json()
    return [row["cohort_id"] for row in response.get_json()["cohorts"]]


def test_cohorts_filter_by_programme_year_and_status_a_page_at_a_time(api: Api) -> None:
    first, second = api.programme("First"), api.programme("Second")
    a = api.cohort(first, name="A")
    b = api.created(
        "/enrolment/cohorts",
        {"programme_id": first, "name": "B", "capacity": 10, "start_date": "2021-02-01",
         "end_date": "2021-06-30"},
    )["id"]  # fmt: skip
    c = api.cohort(second, name="C")
    assert api.post(f"/enrolment/cohorts/{c}/open", {}).status_code == 200
    people = [api.person() for _ in range(5)]
    for person in people:
        assert api.enrol(c, person).status_code == 201
    api.embedded.tracking.projector.drain()

    assert ids(api) == [*sorted([a, c]), b]  # in start order, then by id
    assert ids(api, programme_id=first) == [a, b]
    assert ids(api, year=2021) == [b]
    assert ids(api, status="open") == [c]
    assert ids(api, programme_id=second, status="planned") == []
    page = api.get("/tracking/cohorts", query_string={"limit": 2}).get_json()
    assert page["count"] == 3 and page["next_after"] == 2
    rest = api.get("/tracking/cohorts", query_string={"limit": 2, "after": 2}).get_json()
    assert [r["cohort_id"] for r in rest["cohorts"]] == [b] and rest["next_after"] is None

    everything = page["cohorts"] + rest["cohorts"]
    row = next(r for r in everything if r["cohort_id"] == c)
    assert row["programme"] == "Second" and row["status"] == "open"
    assert row["enrolled"] == {"value": 5, "n": 5, "suppressed": False, "reason": None}
    small = next(r for r in everything if r["cohort_id"] == a)
    assert small["people"]["suppressed"] and small["people"]["value"] is None

    for name, value in (("status", "closed"), ("year", "20x1"), ("programme_id", "nope")):
        response = api.get("/tracking/cohorts", query_string={name: value})
        assert response.status_code == 422 and name in response.get_data(as_text=True)

    coached, _ = api.coached("carol")
    api.embedded.tracking.projector.drain()
    assert ids_as(api, "coach", "carol") == [coached]
    assert ids_as(api, "coach", "dave") == []


def ids_as(api: Api, role: str, sub: str) -> list[str]:
    response = api.get("/tracking/cohorts", role=role, sub=sub)
    assert response.status_code == 200, response.get_json()
    return [row["cohort_id"] for row in response.get_json()["cohorts"]]


def test_the_pilot_headlines_now_and_on_a_day_and_as_csv(pilot: Pilot) -> None:
    everyone = len(scenario.PARTICIPANTS)
    (row,) = pilot.json("/tracking/cohorts")["cohorts"]
    assert row["cohort_id"] == pilot.cohort_id and row["status"] == "completed"
    assert row["enrolled"]["value"] == everyone
    assert row["completed"]["value"] == everyone - 1
    assert row["completion_rate"]["value"] == round((everyone - 1) / everyone, 4)
    assert 0 < row["attendance_rate"]["value"] <= 1

    then = pilot.json("/tracking/cohorts", on="2020-03-01", status="running")["cohorts"]
    assert [r["cohort_id"] for r in then] == [pilot.cohort_id]
    assert then[0]["completed"]["value"] == 0
    assert pilot.json("/tracking/cohorts", on="2020-03-01", status="completed")["cohorts"] == []

    text = pilot.get("/tracking/cohorts", format="csv").get_data(as_text=True)
    (line,) = list(csv.DictReader(io.StringIO(text)))
    assert line["cohort_id"] == pilot.cohort_id and line["name"] == row["name"]
    assert line["status"] == "completed" and line["status_label"] == "Completed"
    assert line["enrolled"] == str(everyone) and line["programme"] == row["programme"]


def test_a_programme_s_growth_leaves_a_cohort_below_the_minimum_out(api: Api) -> None:
    from tests.api.test_tracking_privacy import programme_of_two

    programme, first = programme_of_two(api)  # A has six participants, B two
    pooled = api.get(f"/tracking/programmes/{programme}/growth").get_json()
    alone = api.get(f"/tracking/cohorts/{first}/growth").get_json()
    assert pooled["participant_cohorts"] == [first] and len(pooled["cohorts"]) == 2

    def means(view: dict[str, object]) -> dict[tuple[str, str], object]:
        return {
            (c["dimension"], c["wave"]): c["mean"]["value"]
            for i in view["instruments"]  # type: ignore[attr-defined]
            for c in i["cells"]
        }

    # B grew by 3 and A by 1: pooled in, B would move every mean.
    assert means(pooled) == means(alone) and means(alone)


def test_an_empty_system_lists_no_cohorts_and_an_as_of_before_anything_is_a_404(api: Api) -> None:
    empty = api.get("/tracking/cohorts").get_json()
    assert (empty["count"], empty["cohorts"], empty["next_after"]) == (0, [], None)
    assert empty["funding_sources"] == [] and empty["years"] == []
    before = api.get("/tracking/cohorts", query_string={"as_of": "2001-01-01T00:00:00Z"})
    assert before.status_code == 404
