"""Assessment refuses ids enrolment never registered, and stores scores on their steps.

A typo in an import's mapping used to record results for nobody: now a person or cohort that
assessment's reference (enrolment's events) does not know is a 422 naming the field, or a
problem of the import's row. In one process the reference catches up before it answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.test import Client

from tests.api.helpers import Api, assert_problem, build, unknown_id
from tests.api.test_assessment_api import instrument, result_body
from tests.api.test_assessment_imports_api import registered_mapping
from tests.unit.test_assessment_imports import GOOD


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One runtime for the module: every test makes its own programmes, cohorts and people."""
    runtime = build(tmp_path_factory.mktemp("coordination"))
    yield Api(runtime, Client(runtime.wsgi))
    runtime.close()


def test_a_result_for_an_unknown_person_or_cohort_is_a_422_naming_the_field(api: Api) -> None:
    made = instrument(api)
    tokens = {"instrument_id": instrument(api, "reaction_survey")["id"], "count": 2}
    person, cohort = api.person(), api.cohort()  # registered a moment ago: known at once
    with api.assessment_writes_nothing():
        problem = assert_problem(
            api.post("/assessment/results", result_body(made["id"], unknown_id())),
            422,
            {"person_id"},
        )
        assert "registered in enrolment" in problem["detail"]
        assert_problem(
            api.post(
                "/assessment/results",
                result_body(made["id"], person, cohort_id=unknown_id()),
            ),
            422,
            {"cohort_id"},
        )
        assert_problem(
            api.post("/assessment/reaction-surveys/tokens", {**tokens, "cohort_id": person}),
            422,
            {"cohort_id"},  # a person's id is no cohort's
        )
    api.created("/assessment/results", result_body(made["id"], person, cohort_id=cohort))


def test_a_style_profile_for_an_unknown_person_is_refused(api: Api) -> None:
    made = instrument(api, "style_analysis")
    body: dict[str, Any] = {
        "person_id": unknown_id(),
        "instrument_id": made["id"],
        "wave": "baseline",
        "administered_on": "2020-03-10",
        "primary": "driver",
    }
    with api.assessment_writes_nothing():
        assert_problem(api.post("/assessment/style-profiles", body), 422, {"person_id"})
    api.created("/assessment/style-profiles", {**body, "person_id": api.person()})


def test_an_import_names_each_row_of_an_unknown_person_or_cohort(api: Api) -> None:
    made = instrument(api)
    mapping = registered_mapping(api)
    typo = next(iter(mapping["people"]))
    mapping["people"][typo] = unknown_id()  # one respondent mapped to nobody
    cohort = api.cohort()
    csv = "Cohort," + GOOD.replace("\n", "\n" + cohort + ",", GOOD.count("\n") - 1)
    csv = csv.replace(
        f"{cohort},p2@example.invalid,self", f"{unknown_id()},p2@example.invalid,self"
    )
    body = {
        "instrument_id": made["id"],
        "csv": csv,
        "mapping": {**mapping, "columns": {**mapping["columns"], "cohort": "Cohort"}},
    }
    with api.assessment_writes_nothing():
        problem = assert_problem(api.post("/assessment/imports/results", body), 422)
    named = sorted(e["field"] for e in problem["errors"])
    # The typo's three rows (2-4) by the person column; p2's self row (8) by the cohort column.
    assert named == ["row 2: Respondent", "row 3: Respondent", "row 4: Respondent",
                     "row 8: Cohort"]  # fmt: skip
    assert all("enrolment" in e["message"] for e in problem["errors"])


def test_a_score_within_noise_of_a_step_is_stored_on_the_step(api: Api) -> None:
    tenths = {"min": 0, "max": 1, "step": 0.1}
    made = instrument(api, scale=tenths)
    person = api.person()
    noisy = {"listening": 0.1 + 0.2, "sharing": 0.7000000000000001, "blaming": 1.0000000000001}
    stored = api.created("/assessment/results", result_body(made["id"], person, scores=noisy))
    assert stored["scores"] == {"listening": 0.3, "sharing": 0.7, "blaming": 1}
    whole = instrument(api)
    other = api.person()
    body = result_body(whole["id"], other, scores={"listening": 2.9999999999999996,
                                                   "sharing": 4, "blaming": 2})  # fmt: skip
    assert api.created("/assessment/results", body)["scores"]["listening"] == 3
    with api.assessment_writes_nothing():
        off = result_body(whole["id"], api.person(), scores={"listening": 3.001, "sharing": 4,
                                                             "blaming": 2})  # fmt: skip
        assert_problem(api.post("/assessment/results", off), 422, {"scores.listening"})
