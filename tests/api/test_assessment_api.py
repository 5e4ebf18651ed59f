"""The assessment API: every endpoint family, each role, success and refusal (problem+json)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.helpers import Api, assert_problem, bearer, unknown_id
from tests.unit.assessment_builders import behaviour, indices, reaction, staff, style

SCORES = {"listening": 3, "sharing": 4, "blaming": 2}
ROLES = ("hr_admin", "coordinator", "coach", "auditor", "participant", "service")


def instrument(api: Api, kind: str = "behaviour_assessment", **definition: Any) -> dict[str, Any]:
    maker = {
        "behaviour_assessment": behaviour,
        "self_assessment": behaviour,
        "style_analysis": style,
        "reaction_survey": reaction,
        "staff_survey": staff,
    }[kind]
    return api.created(
        "/assessment/instruments", {"name": kind, "kind": kind, **maker(**definition)}
    )


def result_body(instrument: str, person: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "person_id": person,
        "instrument_id": instrument,
        "wave": "baseline",
        "rater_group": "self",
        "administered_on": "2020-02-14",
        "scores": SCORES,
    }
    body.update(overrides)
    return body


# Instruments -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_hr_and_coordinators_define_instruments(api: Api, role: str) -> None:
    body = {"name": "360", "kind": "behaviour_assessment", **behaviour()}
    response = api.post("/assessment/instruments", body, role=role)
    if role in ("hr_admin", "coordinator"):
        assert response.status_code == 201
        assert response.get_json()["version"] == 1
    else:
        assert_problem(response, 403)


def test_an_instrument_is_listed_read_and_read_as_it_was(api: Api) -> None:
    made = instrument(api)
    assert made["rater_group_minimums"]["peer"] == 3 and made["instrument_version"] == 1
    revised = api.client.patch(
        f"/assessment/instruments/{made['id']}",
        json={"name": "Renamed"},
        headers={**bearer(), "If-Match": "1"},
    )
    assert revised.status_code == 200 and revised.get_json()["version"] == 2
    old = api.get(f"/assessment/instruments/{made['id']}?version=1", role="participant")
    assert old.get_json()["name"] == "behaviour_assessment"
    listed = api.get("/assessment/instruments?kind=behaviour_assessment", role="auditor").get_json()
    assert [i["id"] for i in listed["items"]] == [made["id"]]
    assert_problem(api.get(f"/assessment/instruments/{made['id']}?version=9"), 404, {"version"})
    assert_problem(api.get(f"/assessment/instruments/{unknown_id()}"), 404)


def test_bad_definitions_are_422_naming_the_field_and_write_nothing(api: Api) -> None:
    with api.assessment_writes_nothing():
        for body, field in (
            (
                {
                    "name": "x",
                    "kind": "behaviour_assessment",
                    **behaviour(scale={"min": 5, "max": 1}),
                },
                "scale.max",
            ),
            ({"name": "x", "kind": "horoscope", **behaviour()}, "kind"),
            ({"name": "x", "kind": "reaction_survey", **reaction(privacy="named")}, "privacy"),
            (
                {"name": "x", "kind": "behaviour_assessment", **behaviour(dimensions=[])},
                "dimensions",
            ),
            ({"name": "", "kind": "behaviour_assessment", **behaviour()}, "name"),
        ):
            assert_problem(api.post("/assessment/instruments", body), 422, {field})


def test_a_used_instrument_is_frozen_and_changes_by_new_version(api: Api) -> None:
    made = instrument(api)
    api.created("/assessment/results", result_body(made["id"], api.person()))
    path = f"/assessment/instruments/{made['id']}"
    with api.assessment_writes_nothing():
        frozen = api.client.patch(path, json={"privacy": "named"}, headers=bearer())
        assert_problem(frozen, 409, {"privacy"})
        stale = api.post(f"{path}/versions", {}, headers={"If-Match": "1"})
        body = assert_problem(stale, 409)
        assert body.get("current_version") == 2 or "version" in body["detail"]
    successor = api.created(f"{path}/versions", {"privacy": "named"})
    assert (successor["instrument_version"], successor["previous_id"]) == (2, made["id"])
    assert successor["family_id"] == made["id"] and successor["privacy"] == "named"
    assert_problem(api.post(f"{path}/versions", {}), 409)
    retired = api.created(f"{path}/retirement", {"reason": "replaced"})
    assert retired["retired"]
    assert_problem(api.post(f"{path}/retirement", {"reason": "again"}), 409)
    refused = api.post("/assessment/results", result_body(made["id"], api.person()))
    assert_problem(refused, 409, {"instrument_id"})


# Results -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_hr_coordinators_and_coaches_record_results(api: Api, role: str) -> None:
    made = instrument(api)
    cohort, person = api.coached()  # a coach records only for their cohort's participants
    body = result_body(made["id"], person, cohort_id=cohort)
    response = api.post("/assessment/results", body, role=role)
    if role in ("hr_admin", "coordinator", "coach"):
        assert response.status_code == 201
    else:
        assert_problem(response, 403)


def test_result_refusals_name_the_field_and_write_nothing(api: Api) -> None:
    made = instrument(api)
    person = api.person()
    with api.assessment_writes_nothing():
        for overrides, status, field in (
            ({"scores": {**SCORES, "listening": 6}}, 422, "scores.listening"),
            ({"scores": {"listening": 3}}, 422, "scores.sharing"),
            ({"scores": {**SCORES, "listening": 2.5}}, 422, "scores.listening"),
            ({"wave": "follow_up"}, 422, "follow_up_months"),
            ({"rater_group": "peer"}, 422, "rater_id"),
            ({"rater_group": "friend"}, 422, "rater_group"),
            ({"instrument_id": unknown_id()}, 404, "instrument_id"),
            ({"person_id": "not-a-uuid"}, 422, "person_id"),
            ({"administered_on": "1899-01-01"}, 422, "administered_on"),
        ):
            body = result_body(made["id"], person, **overrides)
            assert_problem(
                api.post("/assessment/results", body),
                status,
                {field},
            )


def test_one_result_per_rater_and_wave_then_correct_and_void(api: Api) -> None:
    made = instrument(api)
    person = api.person()
    first = api.created("/assessment/results", result_body(made["id"], person))
    with api.assessment_writes_nothing():
        assert_problem(api.post("/assessment/results", result_body(made["id"], person)), 409)
    path = f"/assessment/results/{first['id']}"
    corrected = api.created(
        f"{path}/correction", {"scores": {**SCORES, "listening": 5}, "reason": "typo"}
    )
    assert corrected["scores"]["listening"] == 5 and corrected["corrections"] == 1
    assert api.get(f"{path}?version=1").get_json()["scores"]["listening"] == 3
    assert_problem(
        api.post(
            f"{path}/correction", {"scores": SCORES, "reason": "x"}, headers={"If-Match": "1"}
        ),
        409,
    )
    voided = api.created(f"{path}/void", {"reason": "wrong person"})
    assert voided["voided"] and voided["void_reason"] == "wrong person"
    assert_problem(api.post(f"{path}/void", {"reason": "again"}), 409)
    assert_problem(api.post(f"{path}/void", {}), 422, {"reason"})
    assert_problem(api.post(f"/assessment/results/{unknown_id()}/void", {"reason": "x"}), 404)


def test_results_list_by_filters_and_pages(api: Api) -> None:
    made = instrument(api)
    cohort, enrolled = api.coached()
    people = [enrolled]
    for _ in range(2):
        people.append(api.person())
        assert api.enrol(cohort, people[-1]).status_code == 201
    api.catch_up_scope()
    for person in people:
        api.created("/assessment/results", result_body(made["id"], person, cohort_id=cohort))
    api.created("/assessment/results", result_body(made["id"], people[0], wave="post"))
    first = api.get(f"/assessment/results?cohort_id={cohort}&limit=2", role="coach").get_json()
    assert len(first["items"]) == 2 and first["next_after"]
    rest = api.get(f"/assessment/results?cohort_id={cohort}&after={first['next_after']}").get_json()
    assert [r["person_id"] for r in first["items"] + rest["items"]] == people
    assert rest["next_after"] is None
    by_wave = api.get(f"/assessment/results?wave=post&person_id={people[0]}").get_json()
    assert [r["wave"] for r in by_wave["items"]] == ["post"]
    assert_problem(api.get("/assessment/results?limit=0"), 422, {"limit"})


def test_multi_rater_answers_are_never_shown_one_by_one(api: Api) -> None:
    made = instrument(api)
    person = api.person()
    for n in range(3):
        api.created(
            "/assessment/results",
            result_body(made["id"], person, rater_group="peer", rater_id=f"peer-{n}"),
        )
    api.created("/assessment/results", result_body(made["id"], person))
    items = api.get(f"/assessment/results?person_id={person}", role="auditor").get_json()["items"]
    peers = [r for r in items if r["rater_group"] == "peer"]
    assert all(r["scores"] is None and r["scores_withheld"] for r in peers)
    assert [r["scores"] for r in items if r["rater_group"] == "self"] == [SCORES]
    assert all("rater" not in key or key == "rater_group" for r in items for key in r)


def test_the_summary_is_for_hr_and_the_person_only(api: Api) -> None:
    made = instrument(api)
    person = api.person()
    for n, listening in enumerate((2, 3, 4)):
        body = result_body(
            made["id"], person, rater_group="peer", rater_id=f"p{n}",
            scores={**SCORES, "listening": listening},
        )  # fmt: skip
        api.created("/assessment/results", body)
    api.created(
        "/assessment/results",
        result_body(made["id"], person, rater_group="direct_report", rater_id="d1"),
    )
    path = f"/assessment/people/{person}/results/{made['id']}/summary"
    own = api.get(path, role="participant", sub=person)
    assert own.status_code == 200
    groups = {g["rater_group"]: g for g in own.get_json()["waves"][0]["groups"]}
    assert groups["peer"]["means"]["listening"] == 3.0
    assert not groups["direct_report"]["shown"] and groups["direct_report"]["means"] is None
    assert api.get(path).status_code == 200
    assert_problem(api.get(path, role="participant", sub=unknown_id()), 404)  # not theirs
    for role in ("coordinator", "coach", "auditor", "service"):
        assert_problem(api.get(path, role=role), 403)


def test_participants_read_only_their_own_named_results(api: Api) -> None:
    named = instrument(api, "self_assessment", privacy="named")
    pseudonymous = instrument(api, "self_assessment")
    person = api.person()
    mine = api.created("/assessment/results", result_body(named["id"], person))
    hidden = api.created("/assessment/results", result_body(pseudonymous["id"], person))
    listed = api.get(f"/assessment/results?person_id={person}", role="participant", sub=person)
    assert [r["id"] for r in listed.get_json()["items"]] == [mine["id"]]
    assert (
        api.get(f"/assessment/results/{mine['id']}", role="participant", sub=person).status_code
        == 200
    )
    assert_problem(
        api.get(f"/assessment/results/{hidden['id']}", role="participant", sub=person), 404
    )
    # Without a filter a participant's list is still only their own.
    unfiltered = api.get("/assessment/results", role="participant", sub=person).get_json()
    assert [r["id"] for r in unfiltered["items"]] == [mine["id"]]
    someone = unknown_id()
    theirs = api.get(f"/assessment/results?person_id={person}", role="participant", sub=someone)
    assert theirs.get_json()["items"] == []
    other = api.get(f"/assessment/results/{mine['id']}", role="participant", sub=someone)
    assert_problem(other, 404)
    assert_problem(api.get("/assessment/results", role="service"), 403)


# Style profiles -------------------------------------------------------------------------------


def test_style_profiles(api: Api) -> None:
    made = instrument(api, "style_analysis")
    cohort, person = api.coached()
    body = {
        "cohort_id": cohort,
        "person_id": person,
        "instrument_id": made["id"],
        "wave": "baseline",
        "administered_on": "2020-03-10",
        "primary": "driver",
        "secondary": "amiable",
        "scores": {"pace": 70},
    }
    profile = api.created("/assessment/style-profiles", body)
    assert (profile["primary"], profile["secondary"]) == ("driver", "amiable")
    with api.assessment_writes_nothing():
        assert_problem(api.post("/assessment/style-profiles", body), 409)
        assert_problem(
            api.post(
                "/assessment/style-profiles", {**body, "person_id": api.person(), "primary": "x"}
            ),
            422,
            {"primary"},
        )
        assert_problem(api.post("/assessment/style-profiles", body, role="auditor"), 403)
    path = f"/assessment/style-profiles/{profile['id']}"
    fixed = api.created(f"{path}/correction", {"primary": "analytical", "reason": "misread"})
    assert fixed["corrections"] == 1 and fixed["secondary"] is None
    assert api.get(f"{path}?version=1").get_json()["primary"] == "driver"
    listed = api.get(f"/assessment/style-profiles?person_id={person}", role="coach").get_json()
    assert [p["id"] for p in listed["items"]] == [profile["id"]]
    assert_problem(api.get(path, role="participant", sub=person), 404)  # pseudonymous


# Reaction surveys -------------------------------------------------------------------------------


def issue(api: Api, count: int = 3, **definition: Any) -> tuple[dict[str, Any], list[str]]:
    made = instrument(api, "reaction_survey", **definition)
    cohort, _person = api.coached()  # coached by "alice", who reads as coach below
    body = {"instrument_id": made["id"], "cohort_id": cohort, "count": count}
    issued = api.created("/assessment/reaction-surveys/tokens", body)
    return issued, issued["tokens"]


def submit(api: Api, survey_id: str, token: str, **overrides: Any) -> Any:
    body = {"token": token, "answers": {"overall": 5, "virtual": 4}, "comments": {"best": "peers"}}
    body.update(overrides)
    return api.client.post(
        f"/assessment/reaction-surveys/{survey_id}/responses",
        json=body,
        headers={**bearer("participant", unknown_id()), "Idempotency-Key": "k-1"},
    )


def test_tokens_are_issued_once_and_used_once(api: Api) -> None:
    survey, tokens = issue(api)
    assert survey["issued"] == 3 and len(set(tokens)) == 3
    assert submit(api, survey["id"], tokens[0]).get_json() == {
        "accepted": True,
        "survey_id": survey["id"],
    }
    with api.assessment_writes_nothing():
        assert_problem(submit(api, survey["id"], tokens[0]), 409, {"token"})
        assert_problem(submit(api, survey["id"], "made-up"), 404, {"token"})
        assert_problem(
            submit(api, survey["id"], tokens[1], answers={"overall": 7, "virtual": 4}),
            422,
            {"answers.overall"},
        )
        assert_problem(submit(api, unknown_id(), tokens[1]), 404)
    assert submit(api, survey["id"], tokens[1]).status_code == 201


@pytest.mark.parametrize("role", ("hr_admin", "coordinator", "coach", "auditor", "service"))
def test_only_participants_submit_responses(api: Api, role: str) -> None:
    survey, tokens = issue(api, 1)
    response = api.post(
        f"/assessment/reaction-surveys/{survey['id']}/responses",
        {"token": tokens[0], "answers": {"overall": 5, "virtual": 4}},
        role=role,
    )
    assert_problem(response, 403)


@pytest.mark.parametrize("role", ("coach", "auditor", "participant", "service"))
def test_only_hr_and_coordinators_issue_tokens(api: Api, role: str) -> None:
    made = instrument(api, "reaction_survey")
    body = {"instrument_id": made["id"], "cohort_id": api.cohort(), "count": 2}
    assert_problem(api.post("/assessment/reaction-surveys/tokens", body, role=role), 403)


def test_token_issue_refusals(api: Api) -> None:
    made = instrument(api)
    with api.assessment_writes_nothing():
        body = {"instrument_id": made["id"], "cohort_id": api.cohort(), "count": 2}
        assert_problem(
            api.post("/assessment/reaction-surveys/tokens", body), 422, {"instrument_id"}
        )
        assert_problem(
            api.post("/assessment/reaction-surveys/tokens", {**body, "count": 0}), 422, {"count"}
        )


def test_answers_are_shown_only_as_distributions_from_the_minimum_group_size(api: Api) -> None:
    survey, tokens = issue(api, 6, min_group_size=4, comment_minimum=3, allows_partial=True)
    path = f"/assessment/reaction-surveys/{survey['id']}"
    for token in tokens[:3]:
        submit(api, survey["id"], token)
    few = api.get(f"{path}/summary", role="auditor").get_json()
    assert (few["responses"], few["minimum"]) == (3, 4)
    assert not few["answers_shown"] and few["items"] == [] and few["answers_suppressed_reason"]
    assert not few["comments_shown"]  # k applies to free text too: max(4, 3)
    hidden = api.get(f"{path}/comments", role="coach").get_json()
    assert hidden["items"] == [] and not hidden["comments_shown"]
    assert "4" in hidden["comments_suppressed_reason"]
    submit(api, survey["id"], tokens[3], answers={"overall": 2}, comments={"best": "a coach"})
    enough = api.get(f"{path}/summary", role="coach").get_json()
    assert enough["answers_shown"] and enough["comments_shown"]
    overall, virtual = enough["items"]
    assert overall == {
        "key": "overall",
        "label": "Overall",
        "answered": 4,
        "mean": 4.25,
        "distribution": {"2": 1, "5": 3},
        "suppressed_reason": None,
    }
    assert virtual["answered"] is None and virtual["suppressed_reason"]  # only 3 answered it
    comments = api.get(f"{path}/comments?limit=3", role="hr_admin").get_json()
    assert [c["text"] for c in comments["items"]] == ["a coach", "peers", "peers"]
    assert set(comments["items"][0]) == {"question", "label", "text"}  # no answers beside it
    rest = api.get(f"{path}/comments?after={comments['next_after']}").get_json()
    assert [c["text"] for c in rest["items"]] == ["peers"] and rest["next_after"] is None
    for reader in ("summary", "comments"):
        assert_problem(api.get(f"{path}/{reader}", role="participant"), 403)
        assert_problem(api.get(f"{path}/{reader}", role="service"), 403)
        assert_problem(api.get(f"/assessment/reaction-surveys/{unknown_id()}/{reader}"), 404)
    assert api.get(f"{path}/responses").status_code == 405  # no response is ever listed
    state = api.get(path).get_json()
    assert (state["issued"], state["responses"]) == (6, 4)


def test_idempotency_keys_are_not_kept_for_anonymous_responses(api: Api) -> None:
    survey, tokens = issue(api, 1)
    assert submit(api, survey["id"], tokens[0]).status_code == 201
    store = api.embedded.services["assessment"].database
    with store.transaction(write=False) as cur:
        cur.execute("SELECT COUNT(*) FROM assessment_idempotency WHERE key = 'k-1'")
        assert cur.fetchone()[0] == 0


def test_a_closed_survey_takes_nothing_more(api: Api) -> None:
    survey, tokens = issue(api, 2)
    closed = api.created(f"/assessment/reaction-surveys/{survey['id']}/closure", {})
    assert closed["closed"]
    assert_problem(submit(api, survey["id"], tokens[0]), 409)
    assert_problem(api.post(f"/assessment/reaction-surveys/{survey['id']}/closure", {}), 409)


# Staff survey ---------------------------------------------------------------------------------


def staff_body(instrument_id: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "instrument_id": instrument_id,
        "year": 2020,
        "level": "unit",
        "organisation": "TEM",
        "department": "Energy Department",
        "unit": "Energy Markets Unit",
        "respondents": 12,
        "indices": indices(3.41),
    }
    body.update(overrides)
    return body


def test_staff_survey_results(api: Api) -> None:
    made = instrument(api, "staff_survey")
    recorded = api.created("/assessment/staff-survey-results", staff_body(made["id"]))
    assert recorded["indices"]["leadership"] == 3.41
    with api.assessment_writes_nothing():
        assert_problem(
            api.post(
                "/assessment/staff-survey-results", staff_body(made["id"], respondents=4, year=2021)
            ),
            422,
            {"respondents"},
        )
        assert_problem(api.post("/assessment/staff-survey-results", staff_body(made["id"])), 409)
        bad = staff_body(made["id"], year=2022, indices={**indices(), "leadership": 5.5})
        assert_problem(
            api.post("/assessment/staff-survey-results", bad), 422, {"indices.leadership"}
        )
        assert_problem(
            api.post("/assessment/staff-survey-results", staff_body(made["id"]), role="coach"), 403
        )
    path = f"/assessment/staff-survey-results/{recorded['id']}"
    fixed = api.created(
        f"{path}/correction", {"respondents": 13, "indices": indices(3.5), "reason": "x"}
    )
    assert fixed["respondents"] == 13
    assert api.get(f"{path}?version=1", role="auditor").get_json()["respondents"] == 12
    api.created("/assessment/staff-survey-results", staff_body(made["id"], year=2021))
    by_year = api.get("/assessment/staff-survey-results?year=2021", role="coach").get_json()
    assert [r["year"] for r in by_year["items"]] == [2021]
    assert_problem(api.get("/assessment/staff-survey-results", role="participant"), 403)


# The event feed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_event_feed_is_for_service_auditor_and_hr(api: Api, role: str) -> None:
    instrument(api)
    response = api.get("/assessment/events", role=role)
    if role in ("service", "auditor", "hr_admin"):
        types = [e["type"] for e in response.get_json()["events"]]
        assert types == ["fi.polku.assessment.InstrumentDefined"]
    else:
        assert_problem(response, 403)


def test_the_openapi_document_lists_every_resource(api: Api) -> None:
    spec = api.client.get("/assessment/openapi.json").get_json()
    for path in (
        "/assessment/instruments",
        "/assessment/results/{result_id}/correction",
        "/assessment/people/{person_id}/results/{instrument_id}/summary",
        "/assessment/reaction-surveys/{survey_id}/responses",
        "/assessment/reaction-surveys/{survey_id}/summary",
        "/assessment/reaction-surveys/{survey_id}/comments",
        "/assessment/staff-survey-results",
        "/assessment/imports/results",
    ):
        assert path in spec["paths"], path
    post = spec["paths"]["/assessment/results"]["post"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(post["responses"])


def test_unknown_ids_in_paths_are_404(api: Api) -> None:
    for path in (
        f"/assessment/results/{uuid.uuid4()}",
        f"/assessment/style-profiles/{uuid.uuid4()}",
        f"/assessment/reaction-surveys/{uuid.uuid4()}",
        f"/assessment/staff-survey-results/{uuid.uuid4()}",
    ):
        assert_problem(api.get(path), 404)


def test_numbers_given_as_text_are_refused_not_reinterpreted(api: Api) -> None:
    made = instrument(api)
    survey, tokens = issue(api, 1)
    staff_made = instrument(api, "staff_survey")
    person = api.person()
    with api.assessment_writes_nothing():
        body = {"name": "x", "kind": "behaviour_assessment", **behaviour()}
        body["scale"] = {"min": "1", "max": 5}
        assert_problem(api.post("/assessment/instruments", body), 422, {"scale.min"})
        quoted = {**SCORES, "listening": "3"}
        assert_problem(
            api.post("/assessment/results", result_body(made["id"], person, scores=quoted)),
            422,
            {"scores.listening.value"},
        )
        assert_problem(
            submit(api, survey["id"], tokens[0], answers={"overall": "5", "virtual": 4}),
            422,
            {"answers.overall.value"},
        )
        quoted_index = {**indices(), "leadership": "3.5"}
        assert_problem(
            api.post(
                "/assessment/staff-survey-results",
                staff_body(staff_made["id"], indices=quoted_index),
            ),
            422,
            {"indices.leadership.value"},
        )


@pytest.mark.parametrize(
    "wave",
    ["a\x00b", "sometime", "follow_up", "follow_up:x", "follow_up:06", "follow_up:601",
     "custom:", "custom: spring ", "post:extra", "post\u202e"],
)  # fmt: skip
def test_a_results_filter_no_wave_can_match_names_wave(api: Api, wave: str) -> None:
    problem = assert_problem(api.get("/assessment/results", query_string={"wave": wave}), 422)
    assert {e["field"] for e in problem["errors"]} == {"wave"}


@pytest.mark.parametrize("wave", ["baseline", "follow_up:6", "custom:spring check"])
def test_a_results_filter_by_any_wave_key_is_read(api: Api, wave: str) -> None:
    response = api.get("/assessment/results", query_string={"wave": wave})
    assert response.status_code == 200 and response.get_json()["items"] == []
