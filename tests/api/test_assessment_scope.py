"""A coach reaches assessment data only of participants of the cohorts they coach.

Assessment learns who coaches which cohort, and who was enrolled in it, from enrolment's
events (:mod:`services.assessment.scope`); to a coach, anything outside that is a 404, as if it
did not exist, and a list holds only what is in scope.
"""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Api, assert_problem, unknown_id
from tests.api.test_assessment_api import instrument, result_body


def recorded(api: Api, made: str, person: str, cohort: str | None, **kw: Any) -> dict[str, Any]:
    return api.created("/assessment/results", result_body(made, person, cohort_id=cohort, **kw))


def test_a_coach_of_no_cohort_reaches_no_ones_results(api: Api) -> None:
    made = instrument(api, "self_assessment")["id"]
    cohort, person = api.coached(coach="someone-else")
    mine = recorded(api, made, person, cohort)
    path = f"/assessment/results/{mine['id']}"
    assert api.get("/assessment/results", role="coach").get_json()["items"] == []
    listed = api.get(f"/assessment/results?person_id={person}", role="coach").get_json()
    assert listed["items"] == []
    assert_problem(api.get(path, role="coach"), 404)
    with api.assessment_writes_nothing():
        body = result_body(made, person, cohort_id=cohort, wave="post")
        assert_problem(api.post("/assessment/results", body, role="coach"), 404, {"cohort_id"})
        fix = {"scores": {"listening": 1, "sharing": 1, "blaming": 1}, "reason": "x"}
        assert_problem(api.post(f"{path}/correction", fix, role="coach"), 404)
        assert_problem(api.post(f"{path}/void", {"reason": "x"}, role="coach"), 404)
    # The same requests by the cohort's own coach succeed: the refusals were about scope.
    assert api.get(path, role="coach", sub="someone-else").status_code == 200


def test_a_coach_reaches_their_cohorts_participants_and_only_there(api: Api) -> None:
    made = instrument(api, "self_assessment")["id"]
    cohort, person = api.coached()  # coached by alice, the helpers' default subject
    other_cohort, stranger = api.coached(coach="bob")
    assert api.enrol(other_cohort, person).status_code == 201  # also in bob's cohort
    api.catch_up_scope()
    ours = recorded(api, made, person, cohort)
    untied = recorded(api, made, person, None, wave="post")
    elsewhere = recorded(api, made, person, other_cohort, wave="follow_up", follow_up_months=6)
    strangers = recorded(api, made, stranger, other_cohort)

    listed = api.get("/assessment/results", role="coach").get_json()["items"]
    assert sorted(r["id"] for r in listed) == sorted([ours["id"], untied["id"]])
    assert api.get(f"/assessment/results/{ours['id']}", role="coach").status_code == 200
    assert api.get(f"/assessment/results/{untied['id']}", role="coach").status_code == 200
    for hidden in (elsewhere, strangers):
        assert_problem(api.get(f"/assessment/results/{hidden['id']}", role="coach"), 404)
        assert_problem(
            api.post(f"/assessment/results/{hidden['id']}/void", {"reason": "x"}, role="coach"),
            404,
        )

    with api.assessment_writes_nothing():
        for body, field in (
            (result_body(made, stranger, cohort_id=cohort, wave="post"), "person_id"),
            (result_body(made, stranger, cohort_id=other_cohort, wave="post"), "cohort_id"),
            (result_body(made, person, cohort_id=unknown_id(), wave="post"), "cohort_id"),
        ):
            assert_problem(api.post("/assessment/results", body, role="coach"), 404, {field})
        no_cohort = result_body(made, person, wave="midpoint")
        assert_problem(api.post("/assessment/results", no_cohort, role="coach"), 422, {"cohort_id"})
        # An untied result is readable (the person is theirs) but not theirs to change.
        void = api.post(f"/assessment/results/{untied['id']}/void", {"reason": "x"}, role="coach")
        assert_problem(void, 404)

    body = result_body(made, person, cohort_id=cohort, wave="midpoint")
    assert api.post("/assessment/results", body, role="coach").status_code == 201
    fix = {"scores": {"listening": 5, "sharing": 5, "blaming": 1}, "reason": "typo"}
    path = f"/assessment/results/{ours['id']}"
    assert api.post(f"{path}/correction", fix, role="coach").status_code == 201
    assert api.post(f"{path}/void", {"reason": "wrong"}, role="coach").status_code == 201


def test_a_coach_reaches_style_profiles_only_of_their_cohorts(api: Api) -> None:
    made = instrument(api, "style_analysis")["id"]
    cohort, person = api.coached()
    other_cohort, stranger = api.coached(coach="bob")

    def body(who: str, where: str) -> dict[str, Any]:
        return {
            "person_id": who,
            "cohort_id": where,
            "instrument_id": made,
            "wave": "baseline",
            "administered_on": "2020-03-10",
            "primary": "driver",
        }

    ours = api.post("/assessment/style-profiles", body(person, cohort), role="coach")
    assert ours.status_code == 201
    with api.assessment_writes_nothing():
        refused = api.post("/assessment/style-profiles", body(stranger, other_cohort), role="coach")
        assert_problem(refused, 404, {"cohort_id"})
    theirs = api.created("/assessment/style-profiles", body(stranger, other_cohort))
    listed = api.get("/assessment/style-profiles", role="coach").get_json()["items"]
    assert [p["id"] for p in listed] == [ours.get_json()["id"]]
    path = f"/assessment/style-profiles/{theirs['id']}"
    assert_problem(api.get(path, role="coach"), 404)
    fix = {"primary": "amiable", "reason": "x"}
    assert_problem(api.post(f"{path}/correction", fix, role="coach"), 404)
    assert api.get(path, role="coach", sub="bob").status_code == 200


def test_a_coach_reads_reaction_surveys_only_of_their_cohorts(api: Api) -> None:
    made = instrument(api, "reaction_survey")["id"]
    cohort, _ = api.coached()
    other_cohort, _ = api.coached(coach="bob")
    surveys = {
        where: api.created(
            "/assessment/reaction-surveys/tokens",
            {"instrument_id": made, "cohort_id": where, "count": 1},
        )["id"]
        for where in (cohort, other_cohort)
    }
    for suffix in ("", "/summary", "/comments"):
        path = f"/assessment/reaction-surveys/{surveys[cohort]}{suffix}"
        assert api.get(path, role="coach").status_code == 200
        hidden = f"/assessment/reaction-surveys/{surveys[other_cohort]}{suffix}"
        assert_problem(api.get(hidden, role="coach"), 404)
        assert api.get(hidden, role="coach", sub="bob").status_code == 200


def test_the_scope_is_learnt_from_enrolments_events(api: Api) -> None:
    # Without the in-process catch-up, only the follower applying enrolment's events helps.
    api.embedded.apps["assessment"].extensions.pop("polku.assessment.scope_catch_up")
    made = instrument(api, "self_assessment")["id"]
    cohort, _person = api.coached(coach="carol")
    newcomer = api.person()
    assert api.enrol(cohort, newcomer).status_code == 201
    body = result_body(made, newcomer, cohort_id=cohort)
    # Until assessment has applied the enrolment, the newcomer is no one carol coaches.
    with api.assessment_writes_nothing():
        assert_problem(api.post("/assessment/results", body, role="coach", sub="carol"), 404)
    api.catch_up_scope()
    assert api.post("/assessment/results", body, role="coach", sub="carol").status_code == 201
