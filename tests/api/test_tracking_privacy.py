"""Every tracking view on tiny and empty cohorts, and the privacy rules across the views.

The pilot is too large to show a view's edges: here cohorts of no one and of one person, a
cohort with sessions but no attendance, instruments with no results, are built through the
APIs with the function-scoped ``api`` fixture, and every view must answer them (no 500) with
nothing that fewer than the minimum are behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, bearer, unknown_id
from tests.support.pilot import Pilot
from tests.unit.assessment_builders import behaviour, indices, reaction, staff

COHORT_VIEWS = (
    "funnel", "growth", "reaction", "staff-survey", "mobility", "network", "kirkpatrick",
)  # fmt: skip


def figures(value: Any) -> Iterator[dict[str, Any]]:
    """Every cell in a view, however deep."""
    if isinstance(value, dict):
        if {"value", "n", "suppressed", "reason"} <= set(value):
            yield value
        for inner in value.values():
            yield from figures(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from figures(inner)


def instruments(api: Api) -> dict[str, str]:
    """One instrument of each kind the views read, none with a result."""
    made = {}
    for kind, definition in (
        ("behaviour_assessment", behaviour()),
        ("self_assessment", behaviour()),
        ("reaction_survey", reaction()),
        ("staff_survey", staff()),
    ):
        body = {"name": f"Empty {kind}", "kind": kind, **definition}
        made[kind] = str(api.created("/assessment/instruments", body)["id"])
    return made


def session(api: Api, cohort_id: str, starts_at: str = "2020-03-04T09:00:00+02:00") -> str:
    body = {
        "title": "Kick-off",
        "starts_at": starts_at,
        "delivery": "virtual",
        "platform": "Teams",
        "facilitators": [{"kind": "coach"}],
    }
    return str(api.created(f"/enrolment/cohorts/{cohort_id}/sessions", body)["id"])


@pytest.fixture
def tiny(api: Api) -> dict[str, Any]:
    """Cohorts of nobody, of one person (with a session no one's attendance was taken at),
    and of one person who withdrew; instruments with no results; a reaction survey with
    tokens but no responses."""
    programme = api.programme()
    empty = api.cohort(programme, name="Nobody")
    single = api.cohort(programme, name="One")
    withdrew = api.cohort(programme, name="Gone")
    person, leaver = api.person(), api.person(department="Energy")
    for cohort_id, who in ((single, person), (withdrew, leaver)):
        body = {"person_id": who, "on": "2020-03-01"}
        assert api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", body).status_code == 201
    withdrawal = {"reason": "moved on", "on": "2020-04-01"}
    response = api.post(f"/enrolment/cohorts/{withdrew}/enrolments/{leaver}/withdraw",
                        withdrawal)  # fmt: skip
    assert response.status_code == 200, response.get_json()
    session(api, single)
    made = instruments(api)
    tokens = {"instrument_id": made["reaction_survey"], "cohort_id": single, "count": 3}
    api.created("/assessment/reaction-surveys/tokens", tokens)
    api.embedded.tracking.projector.drain()
    return {
        "programme": programme,
        "cohorts": {"empty": empty, "single": single, "withdrew": withdrew},
        "people": {"person": person, "leaver": leaver},
        "instruments": made,
    }


@pytest.mark.parametrize("which", ["empty", "single", "withdrew"])
def test_every_cohort_view_answers_a_tiny_cohort_with_nothing_shown(
    api: Api, tiny: dict[str, Any], which: str
) -> None:
    cohort_id = tiny["cohorts"][which]
    for view in COHORT_VIEWS:
        where = f"/tracking/cohorts/{cohort_id}/{view}"
        exported = api.get(where, query_string={"format": "csv"})
        assert exported.status_code == 200, (view, exported.get_data(as_text=True))
        assert exported.mimetype == "text/csv"
        response = api.get(where)
        assert response.status_code == 200, (view, response.get_data(as_text=True))
        body = response.get_json()
        assert [f for f in figures(body) if f["value"] is not None] == [], view
        for figure in figures(body):
            assert figure["n"] is None or figure["n"] >= 5, (view, figure)
            assert figure["suppressed"] or figure["reason"], (view, figure)


@pytest.mark.parametrize("kind", ["behaviour_assessment", "self_assessment", "staff_survey"])
def test_an_instrument_with_no_results_is_answered(
    api: Api, tiny: dict[str, Any], kind: str
) -> None:
    view = "staff-survey" if kind == "staff_survey" else "growth"
    cohort_id = tiny["cohorts"]["single"]
    response = api.get(
        f"/tracking/cohorts/{cohort_id}/{view}",
        query_string={"instrument_id": tiny["instruments"][kind]},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [f for f in figures(response.get_json()) if f["value"] is not None] == []


def test_a_programme_of_tiny_cohorts_and_one_of_none_are_answered(
    api: Api, tiny: dict[str, Any]
) -> None:
    for programme in (tiny["programme"], api.programme("No cohorts")):
        api.embedded.tracking.projector.drain()
        response = api.get(f"/tracking/programmes/{programme}/kirkpatrick")
        assert response.status_code == 200, response.get_data(as_text=True)
        assert [f for f in figures(response.get_json()) if f["value"] is not None] == []


@pytest.mark.parametrize("who", ["person", "leaver"])
@pytest.mark.parametrize("view", ["timeline", "growth"])
def test_a_person_without_results_has_their_own_views(
    api: Api, tiny: dict[str, Any], who: str, view: str
) -> None:
    person = tiny["people"][who]
    for fmt in ("json", "csv"):
        response = api.client.get(
            f"/tracking/people/{person}/{view}",
            query_string={"format": fmt},
            headers=bearer("participant", person),
        )
        assert response.status_code == 200, response.get_data(as_text=True)


# Funnel: no total gives a small session away -----------------------------------------------------


def attend(api: Api, session_id: str, statuses: dict[str, str]) -> None:
    records = [{"person_id": p, "status": s} for p, s in statuses.items()]
    response = api.post(f"/enrolment/sessions/{session_id}/attendance", {"records": records})
    assert response.status_code == 200, response.get_json()


def enrolled(api: Api, count: int) -> tuple[str, list[str]]:
    cohort_id = api.cohort()
    people = [api.person() for _ in range(count)]
    for person in people:
        body = {"person_id": person, "on": "2020-03-01"}
        assert api.post(f"/enrolment/cohorts/{cohort_id}/enrolments", body).status_code == 201
    return cohort_id, people


def test_a_session_too_small_to_show_is_left_out_of_every_attendance_total(api: Api) -> None:
    cohort_id, people = enrolled(api, 6)
    full = session(api, cohort_id)
    late = session(api, cohort_id, "2020-03-11T09:00:00+02:00")
    attend(api, full, {p: "present" if i < 3 else "absent" for i, p in enumerate(people)})
    attend(api, late, {people[0]: "present", people[1]: "present"})  # only two recorded yet
    api.embedded.tracking.projector.drain()
    attendance = api.get(f"/tracking/cohorts/{cohort_id}/funnel").get_json()["attendance"]
    shown, small = attendance["sessions"]
    assert shown["rate"]["value"] == 0.5 and small["rate"]["suppressed"]
    # With the small session in them (5 of 8), the totals minus the full one give its 2 of 2.
    assert attendance["overall"] == {"value": 0.5, "n": 6, "suppressed": False, "reason": None}
    virtual = attendance["by_delivery"]["virtual"]
    assert virtual["sessions"] == 1 and virtual["person_sessions"]["value"] == 6
    assert virtual["rate"]["value"] == 0.5


def test_a_rate_of_no_one_gives_the_reason_rather_than_a_bare_null(api: Api) -> None:
    cohort_id = api.cohort()
    for _ in range(5):
        body = {"person_id": api.person()}
        assert api.post(f"/enrolment/cohorts/{cohort_id}/invitations", body).status_code == 201
    api.embedded.tracking.projector.drain()
    funnel = api.get(f"/tracking/cohorts/{cohort_id}/funnel").get_json()
    assert funnel["stages"]["invited"]["value"] == 5
    assert funnel["rates"]["acceptance"]["value"] == 0.0
    for rate in ("completion", "withdrawal"):
        assert funnel["rates"][rate] == {
            "value": None,
            "n": 5,
            "suppressed": False,
            "reason": "no one enrolled",
        }


# Mobility: filters against each other and across calls -----------------------------------------


def colleagues(api: Api, rows: list[tuple[str, str, int]]) -> str:
    """A cohort of one participant, and colleagues (department, profession, how many)."""
    cohort_id = api.cohort()
    assert api.enrol(cohort_id, api.person()).status_code == 201
    for department, profession, count in rows:
        for _ in range(count):
            api.person(department=department, profession_category=profession)
    api.embedded.tracking.projector.drain()
    return cohort_id


def mobility(api: Api, cohort_id: str, sub: str, **filters: str) -> Any:
    return api.get(f"/tracking/cohorts/{cohort_id}/mobility", sub=sub, query_string=filters)


def withheld(response: Any) -> bool:
    """Whether the comparison group's outcomes were withheld by secondary suppression."""
    assert response.status_code == 200, response.get_json()
    incidence = response.get_json()["comparison"]["first_move"]["incidence"]["6"]
    return incidence["value"] is None and "secondary" in (incidence["reason"] or "")


def test_filters_nested_only_by_the_data_are_withheld_from_every_caller(api: Api) -> None:
    # Every economist works in Innovation: economists are Innovation less its two lawyers,
    # though neither filter holds the other.
    cohort_id = colleagues(
        api, [("Innovation", "economist", 6), ("Innovation", "lawyer", 2), ("Energy", "lawyer", 6)]
    )
    assert not withheld(mobility(api, cohort_id, "asker", department="Innovation"))
    assert withheld(mobility(api, cohort_id, "asker", profession="economist"))
    assert withheld(mobility(api, cohort_id, "someone-else", profession="economist"))


def test_overlapping_filters_each_holding_a_few_others_are_withheld(api: Api) -> None:
    # Innovation is six economists and a lawyer; the economists those six and one in Energy.
    cohort_id = colleagues(
        api,
        [("Innovation", "economist", 6), ("Innovation", "lawyer", 1),
         ("Energy", "economist", 1), ("Energy", "lawyer", 6)],
    )  # fmt: skip
    assert not withheld(mobility(api, cohort_id, "asker", department="Innovation"))
    assert withheld(mobility(api, cohort_id, "asker", profession="economist"))


def test_a_combination_of_filters_is_checked_against_each_filter_alone(api: Api) -> None:
    cohort_id = colleagues(
        api, [("Innovation", "economist", 6), ("Innovation", "lawyer", 2), ("Energy", "lawyer", 6)]
    )
    # Innovation lawyers are 2 of Innovation's 8 (6 left out) but 2 of the 8 lawyers: fine;
    # Innovation economists leave out only the 2 lawyers of Innovation: refused to anyone.
    both = mobility(api, cohort_id, "fresh", department="Innovation", profession="lawyer")
    assert both.status_code == 200 and both.get_json()["comparison"]["people"]["suppressed"]
    refused = mobility(api, cohort_id, "new", department="Innovation", profession="economist")
    body = assert_problem(refused, 422, {"profession"})
    assert "of the group with only department=Innovation" in body["detail"]


# The reaction mean in the Kirkpatrick summary ---------------------------------------------------


def test_the_l1_mean_leaves_out_an_item_too_few_answered(api: Api) -> None:
    cohort_id = api.cohort()
    definition = reaction(min_group_size=5, allows_partial=True)
    made = api.created(
        "/assessment/instruments", {"name": "Reaction", "kind": "reaction_survey", **definition}
    )
    body = {"instrument_id": made["id"], "cohort_id": cohort_id, "count": 6}
    issued = api.created("/assessment/reaction-surveys/tokens", body)
    answers = [{"overall": 4}] * 4 + [{"overall": 2, "virtual": 1}, {"overall": 4, "virtual": 1}]
    for token, given in zip(issued["tokens"], answers, strict=True):
        response = api.client.post(
            f"/assessment/reaction-surveys/{issued['id']}/responses",
            json={"token": token, "answers": given},
            headers=bearer("participant", unknown_id()),
        )
        assert response.status_code == 201, response.get_json()
    api.created(f"/assessment/reaction-surveys/{issued['id']}/closure", {})
    api.embedded.tracking.projector.drain()
    view = api.get(f"/tracking/cohorts/{cohort_id}/reaction").get_json()["instruments"][0]
    items = {i["key"]: i for i in view["items"]}
    assert items["overall"]["mean"]["value"] == pytest.approx(22 / 6, abs=1e-4)
    assert items["virtual"]["mean"]["suppressed"]  # two answers
    levels = api.get(f"/tracking/cohorts/{cohort_id}/kirkpatrick").get_json()["levels"]
    mean = next(f for f in levels[0]["figures"] if f["key"] == "mean_answer")
    # With the two 1s of the withheld item pooled in, it would be 24 / 8 = 3.0.
    assert mean["value"] == pytest.approx(22 / 6, abs=1e-4) and mean["n"] == 6


def test_an_index_missing_from_a_years_result_is_null_with_the_reason(api: Api) -> None:
    cohort_id, _ = enrolled(api, 1)
    made = api.created(
        "/assessment/instruments",
        {"name": "Staff", "kind": "staff_survey", **staff(allows_partial=True)},
    )
    for year, given in ((2019, indices()), (2021, indices() | {"leadership": None})):
        body = {
            "instrument_id": made["id"],
            "year": year,
            "level": "organisation",
            "organisation": "TEM",
            "department": None,
            "unit": None,
            "respondents": 300,
            "indices": {k: v for k, v in given.items() if v is not None},
        }
        api.created("/assessment/staff-survey-results", body)
    api.embedded.tracking.projector.drain()
    view = api.get(f"/tracking/cohorts/{cohort_id}/staff-survey").get_json()["instruments"][0]
    (organisation,) = view["organisations"]
    later = organisation["years"][1]["values"]
    assert later["leadership"] == {
        "value": None,
        "n": 300,
        "suppressed": False,
        "reason": "the result of that year has no value for this index",
    }
    assert later["own_work"]["value"] == 3.5


# A programme pools its cohorts without a small one -----------------------------------------------


def programme_of_two(api: Api) -> tuple[str, str]:
    """Six in cohort A, two in cohort B, each with self-assessments and a reaction survey; in
    B the figures differ from A's: both grew by 3 points, rated the programme 1, one rotated."""
    programme = api.programme()
    made = instruments(api)
    cohorts = []
    for name, count, growth, rating in (("A", 6, 1, 4), ("B", 2, 3, 1)):
        cohort_id = api.cohort(programme, name=name)
        cohorts.append(cohort_id)
        people = [api.person() for _ in range(count)]
        for person in people:
            assert api.enrol(cohort_id, person).status_code == 201
            for wave, score in (("baseline", 1), ("post", 1 + growth)):
                scores = {d["key"]: score for d in behaviour()["dimensions"]}
                api.created("/assessment/results", {
                    "person_id": person, "instrument_id": made["self_assessment"],
                    "cohort_id": cohort_id, "wave": wave, "rater_group": "self",
                    "rater_id": None, "administered_on": "2020-06-01", "scores": scores,
                })  # fmt: skip
        body = {"instrument_id": made["reaction_survey"], "cohort_id": cohort_id, "count": count}
        issued = api.created("/assessment/reaction-surveys/tokens", body)
        for token in issued["tokens"]:
            response = api.client.post(
                f"/assessment/reaction-surveys/{issued['id']}/responses",
                json={"token": token, "answers": {"overall": rating, "virtual": rating}},
                headers=bearer("participant", unknown_id()),
            )
            assert response.status_code == 201, response.get_json()
        api.created(f"/assessment/reaction-surveys/{issued['id']}/closure", {})
        if name == "B":
            rotation = {"kind": "job_rotation", "organisation": "TEM", "department": "Energy",
                        "unit": "Grid", "start_date": "2021-03-01",
                        "planned_end_date": "2021-12-31"}  # fmt: skip
            api.created(f"/enrolment/people/{people[0]}/career-moves", rotation)
    for _ in range(5):
        api.person()  # a comparison group
    api.embedded.tracking.projector.drain()
    return programme, cohorts[0]


def headline(api: Api, path: str) -> dict[str, Any]:
    levels = api.get(path).get_json()["levels"]
    return {f["key"]: f for level in levels for f in level["figures"]}


def test_a_programme_leaves_a_cohort_below_the_minimum_out_of_its_figures(api: Api) -> None:
    programme, first = programme_of_two(api)
    pooled = headline(api, f"/tracking/programmes/{programme}/kirkpatrick")
    alone = headline(api, f"/tracking/cohorts/{first}/kirkpatrick")
    # With B's two pooled in, the programme less A would give B's figures away. (Blaming is
    # reverse-scored: its rise is a fall in improvement, so A improved by (1 + 1 - 1) / 3.)
    for key, value in (("mean_answer", 4.0), ("self_assessed_change", 0.3333),
                       ("rotation_24m", 0.0)):  # fmt: skip
        assert pooled[key]["value"] == alone[key]["value"] == value, key
        assert pooled[key]["n"] == alone[key]["n"] == 6, key
    assert pooled["response_rate"]["value"] == 1.0


# Person ids only in the rows meant to carry them ------------------------------------------------


INDIVIDUAL_ROWS = {"participants"}
"""The per-participant lists of a cohort view (funnel attendance, network); nowhere else."""


def without_rows(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_rows(v) for k, v in value.items() if k not in INDIVIDUAL_ROWS}
    if isinstance(value, list):
        return [without_rows(v) for v in value]
    return value


@pytest.mark.parametrize("view", COHORT_VIEWS)
def test_no_cohort_view_names_a_person_outside_its_per_participant_rows(
    pilot: Pilot, view: str
) -> None:
    people = set(pilot.loaded.people.values())
    where = f"/tracking/cohorts/{pilot.cohort_id}/{view}"
    body = json.dumps(without_rows(pilot.json(where)))
    exported = pilot.get(where, format="csv").get_data(as_text=True)
    assert [p for p in people if p in body or p in exported] == []
    coached = pilot.json(where, "coach")
    assert [p for p in people if p in json.dumps(without_rows(coached))] == []


@pytest.mark.parametrize("view", COHORT_VIEWS)
def test_every_figure_of_the_pilot_is_shown_from_enough_people_or_says_why(
    pilot: Pilot, view: str
) -> None:
    body = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/{view}")
    for figure in figures(body):
        assert figure["n"] is None or figure["n"] >= 5, figure
        assert figure["value"] is not None or figure["reason"], figure
        assert not figure["suppressed"] or (figure["value"], figure["n"]) == (None, None)
