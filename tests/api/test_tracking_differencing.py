"""One test per class of differencing attack that worked against the views before the ledger.

Each sets up the smallest scene for its attack through the public APIs, asks what the attacker
asked, and checks that the figure completing the difference is withheld (or, for ``as_of``,
that the two answers are equal). The property-based attacker over random query sequences is
``tests/unit/test_differencing_attacker.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.tracking.views.survival import horizon_days
from tests.api.helpers import Api, bearer, unknown_id
from tests.unit.assessment_builders import reaction as reaction_definition

SCALE = {"min": 1, "max": 5, "step": 1}
DIMENSIONS = [{"key": "clarity", "label": "Clarity"}]
END = dt.date(2020, 11, 30)
"""The end date of every test cohort (``tests.api.helpers.cohort_body``)."""


def rated_cohort(
    api: Api, departments: list[str], waves: dict[str, int], managers: dict[str, int] | None = None
) -> tuple[str, str, list[str]]:
    """A cohort of one person per department given; self results for the first ``waves[w]``
    people at each wave w, manager results for the first ``managers[w]``. Projected."""
    cohort_id = api.cohort(capacity=len(departments))
    people = []
    for department in departments:
        person = api.person(department=department)
        assert api.enrol(cohort_id, person).status_code == 201
        people.append(person)
    body = {"name": "Rated", "kind": "behaviour_assessment", "scale": SCALE,
            "dimensions": DIMENSIONS}  # fmt: skip
    instrument = api.created("/assessment/instruments", body)["id"]
    for group, counts in (("self", waves), ("manager", managers or {})):
        for wave, count in counts.items():
            for n, person in enumerate(people[:count]):
                result(api, cohort_id, instrument, person, wave, group, 1 + (n * 7 + 3) % 5)
    api.embedded.tracking.projector.drain()
    return cohort_id, instrument, people


def result(
    api: Api, cohort_id: str, instrument: str, person: str, wave: str, group: str, score: int
) -> None:
    body: dict[str, Any] = {
        "person_id": person, "instrument_id": instrument, "cohort_id": cohort_id,
        "wave": "follow_up" if wave == "follow_up_12" else wave, "rater_group": group,
        "rater_id": None if group == "self" else f"{group}-{person}",
        "administered_on": "2020-06-01", "scores": {"clarity": score},
    }  # fmt: skip
    if wave == "follow_up_12":
        body["follow_up_months"] = 12
    assert api.post("/assessment/results", body).status_code == 201


def growth(api: Api, cohort_id: str, sub: str = "alice", **query: Any) -> dict[str, Any]:
    response = api.get(f"/tracking/cohorts/{cohort_id}/growth", "coordinator", sub,
                       query_string=query)  # fmt: skip
    assert response.status_code == 200, response.get_json()
    return response.get_json()["instruments"][0]  # type: ignore[no-any-return]


def wave(instrument: dict[str, Any], group: str, name: str) -> dict[str, Any]:
    return next(c for c in instrument["cells"] if c["rater_group"] == group and c["wave"] == name)


def change(instrument: dict[str, Any], group: str, to: str) -> dict[str, Any]:
    return next(c for c in instrument["changes"] if c["rater_group"] == group and c["to"] == to)


def secondary(figure: dict[str, Any]) -> bool:
    return figure["value"] is None and "secondary suppression" in (figure["reason"] or "")


# Within one answer ------------------------------------------------------------------------------


def test_within_one_answer_a_baseline_over_one_more_than_its_pairs_is_withheld(api: Api) -> None:
    # baseline n = 7, post n = 6, change over 6: baseline sum - (post sum - change) = the 7th.
    cohort_id, _, _ = rated_cohort(api, ["Innovation"] * 7, {"baseline": 7, "post": 6},
                                   managers={"baseline": 7, "post": 6})  # fmt: skip
    got = growth(api, cohort_id)
    for group in ("self", "manager"):  # the same per rater group
        assert change(got, group, "post")["mean_difference"]["value"] is not None
        assert wave(got, group, "post")["mean"]["value"] is not None
        assert secondary(wave(got, group, "baseline")["mean"])
        assert secondary(wave(got, group, "baseline")["n"])


# Per cell across a filter -----------------------------------------------------------------------


def test_a_filter_allowed_for_the_view_but_one_short_in_a_cell_withholds_that_cell(
    api: Api,
) -> None:
    # Innovation leaves out 5 of 12 people (allowed), but of the manager follow-up only 1:
    # unfiltered n = 7 (6 Innovation, 1 Energy), filtered n = 6.
    departments = ["Innovation"] * 6 + ["Energy"] + ["Innovation"] + ["Energy"] * 4
    cohort_id, _, _ = rated_cohort(api, departments, {"baseline": 12},
                                   managers={"follow_up_12": 7})  # fmt: skip
    everyone = growth(api, cohort_id, "first")
    assert wave(everyone, "manager", "follow_up_12")["n"]["value"] == 7
    innovation = growth(api, cohort_id, "second", department="Innovation")
    assert secondary(wave(innovation, "manager", "follow_up_12")["mean"])
    assert wave(innovation, "self", "baseline")["n"]["value"] == 7  # the rest stays useful


# Over time --------------------------------------------------------------------------------------


def test_the_same_view_at_two_moments_one_result_apart_withholds_the_second(api: Api) -> None:
    cohort_id, instrument, people = rated_cohort(api, ["Innovation"] * 7, {"baseline": 6})
    before = dt.datetime.now(dt.UTC).isoformat()
    result(api, cohort_id, instrument, people[6], "baseline", "self", 5)
    api.embedded.tracking.projector.drain()
    assert wave(growth(api, cohort_id, as_of=before), "self", "baseline")["n"]["value"] == 6
    live = growth(api, cohort_id)
    assert secondary(wave(live, "self", "baseline")["mean"])


# Across callers and across cohorts (the mobility comparison group) -----------------------------


def colleagues(api: Api, rows: list[tuple[str, str, int]]) -> tuple[str, list[list[str]]]:
    """A cohort of one participant, and colleagues (department, profession, how many)."""
    cohort_id = api.cohort()
    assert api.enrol(cohort_id, api.person()).status_code == 201
    made = [[api.person(department=d, profession_category=p) for _ in range(n)] for d, p, n in rows]
    api.embedded.tracking.projector.drain()
    return cohort_id, made


def mobility(api: Api, cohort_id: str, sub: str, **filters: str) -> dict[str, Any]:
    response = api.get(f"/tracking/cohorts/{cohort_id}/mobility", sub=sub, query_string=filters)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def comparison_withheld(view: dict[str, Any]) -> bool:
    return secondary(view["comparison"]["first_move"]["incidence"]["6"])


def test_a_second_caller_cannot_complete_a_difference(api: Api) -> None:
    # Innovation is six economists and two lawyers; the economists are only those six.
    cohort_id, _ = colleagues(api, [("Innovation", "economist", 6), ("Innovation", "lawyer", 2),
                                    ("Energy", "lawyer", 6)])  # fmt: skip
    assert not comparison_withheld(mobility(api, cohort_id, "first", department="Innovation"))
    assert comparison_withheld(mobility(api, cohort_id, "second", profession="economist"))
    assert comparison_withheld(mobility(api, cohort_id, "first", profession="economist"))


def test_a_new_empty_cohort_with_the_same_end_date_shares_the_ledger(api: Api) -> None:
    cohort_id, _ = colleagues(api, [("Innovation", "economist", 6), ("Innovation", "lawyer", 2),
                                    ("Energy", "lawyer", 6)])  # fmt: skip
    assert not comparison_withheld(mobility(api, cohort_id, "first", department="Innovation"))
    empty = api.cohort()  # same organisation, same end date: the same comparison group
    api.embedded.tracking.projector.drain()
    assert comparison_withheld(mobility(api, empty, "first", profession="economist"))


# Intersections ----------------------------------------------------------------------------------


def test_two_filters_overlapping_in_one_person_never_show_that_persons_day(api: Api) -> None:
    # Innovation: one economist and seven lawyers; economists: that one and seven in Energy.
    cohort_id, (overlap, lawyers, energy) = colleagues(
        api, [("Innovation", "economist", 1), ("Innovation", "lawyer", 7),
              ("Energy", "economist", 7)],
    )  # fmt: skip
    movers = overlap + lawyers + energy
    days = {}
    for n, person in enumerate(movers):
        start = END + dt.timedelta(days=2 + 4 * n)  # distinct days, none a month end
        days[person] = (start - END).days
        move = {"kind": "job_rotation", "organisation": "TEM", "department": "Innovation",
                "unit": "Elsewhere", "start_date": start.isoformat(),
                "planned_end_date": "2021-12-31"}  # fmt: skip
        api.created(f"/enrolment/people/{person}/career-moves", move)
    api.embedded.tracking.projector.drain()
    month_ends = {horizon_days(END, m) for m in range(1, 80)}
    views = [
        mobility(api, cohort_id, "x", department="Innovation"),
        mobility(api, cohort_id, "y", profession="economist"),
    ]
    shown_days = set()
    for view in views:
        curve = view["comparison"]["first_move"]["curve"]["value"] or []
        steps = curve[1:]
        assert all(p["days"] in month_ends and p["events"] >= 5 for p in steps), curve
        shown_days |= {p["days"] for p in steps}
    assert days[overlap[0]] not in shown_days
    # The whole group beside the two: whole - Innovation - economists = -the overlap.
    assert comparison_withheld(mobility(api, cohort_id, "z"))


# as_of consistency ------------------------------------------------------------------------------


def survey_answer(api: Api, survey_id: str, token: str) -> None:
    response = api.client.post(
        f"/assessment/reaction-surveys/{survey_id}/responses",
        json={"token": token, "answers": {"overall": 4, "virtual": 2}},
        headers=bearer("participant", unknown_id()),
    )
    assert response.status_code == 201, response.get_json()


def test_as_of_equals_what_a_live_query_returned_at_that_moment(api: Api) -> None:
    cohort_id = api.cohort()
    made = api.created("/assessment/instruments", {"name": "Reaction", "kind": "reaction_survey",
                       **reaction_definition(min_group_size=3)})  # fmt: skip
    body = {"instrument_id": made["id"], "cohort_id": cohort_id, "count": 10}
    issued = api.created("/assessment/reaction-surveys/tokens", body)
    path = f"/tracking/cohorts/{cohort_id}/reaction"

    def read(**query: str) -> dict[str, Any]:
        got = api.get(path, query_string=query).get_json()
        return {k: v for k, v in got.items() if k != "as_of"}

    for token in issued["tokens"][:5]:
        survey_answer(api, issued["id"], token)
    api.embedded.tracking.projector.drain()
    live = read()
    moment = dt.datetime.now(dt.UTC).isoformat()
    for token in issued["tokens"][5:8]:  # later the same day
        survey_answer(api, issued["id"], token)
    api.embedded.tracking.projector.drain()
    assert read(as_of=moment) == live
    api.created(f"/assessment/reaction-surveys/{issued['id']}/closure", {})
    api.embedded.tracking.projector.drain()
    closed = read()
    assert closed["instruments"][0]["responses"]["value"] == 8
    assert read(as_of=dt.datetime.now(dt.UTC).isoformat()) == closed
    assert read(as_of=moment) == live


def test_every_cohort_view_as_of_a_moment_equals_the_live_answer_then(api: Api) -> None:
    cohort_id, instrument, people = rated_cohort(api, ["Innovation"] * 6, {"baseline": 6})
    made = api.created("/assessment/instruments", {"name": "Reaction", "kind": "reaction_survey",
                       **reaction_definition(min_group_size=3)})  # fmt: skip
    body = {"instrument_id": made["id"], "cohort_id": cohort_id, "count": 6}
    issued = api.created("/assessment/reaction-surveys/tokens", body)
    for token in issued["tokens"][:4]:
        survey_answer(api, issued["id"], token)
    api.embedded.tracking.projector.drain()
    views = ("roster", "funnel", "growth", "reaction", "mobility", "network", "kirkpatrick",
             "staff-survey")  # fmt: skip

    def read(view: str, **query: str) -> dict[str, Any]:
        got = api.get(f"/tracking/cohorts/{cohort_id}/{view}", query_string=query)
        assert got.status_code == 200, got.get_json()
        return {k: v for k, v in got.get_json().items() if k != "as_of"}

    live = {view: read(view) for view in views}
    moment = dt.datetime.now(dt.UTC).isoformat()
    # Later the same day: a response, a result, a withdrawal.
    survey_answer(api, issued["id"], issued["tokens"][4])
    result(api, cohort_id, instrument, people[0], "post", "self", 4)
    withdrawal = {"reason": "moved abroad", "on": dt.datetime.now(dt.UTC).date().isoformat()}
    path = f"/enrolment/cohorts/{cohort_id}/enrolments/{people[5]}/withdraw"
    assert api.post(path, withdrawal).status_code == 200
    api.embedded.tracking.projector.drain()
    assert read("funnel") != live["funnel"] and read("roster") != live["roster"]
    for view in views:
        assert read(view, as_of=moment) == live[view], view
