"""The reaction view on the TEMPO pilot against the scenario's answers, and its suppression."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest

from services.scenario import assessment
from services.tracking.temporal import reading
from services.tracking.views.cohorts import UnknownCohort
from services.tracking.views.privacy import Policy
from services.tracking.views.reaction import reaction_summary
from tests.api.helpers import Api, assert_problem, bearer, unknown_id
from tests.support import expected_surveys as expected
from tests.support.pilot import Pilot, only_instrument
from tests.unit.assessment_builders import reaction as reaction_definition

APPROX = 1e-4
DAY = dt.date(2020, 12, 31)
"""Any view day: the pilot's survey is closed, so every response counts."""


def path(cohort_id: str) -> str:
    return f"/tracking/cohorts/{cohort_id}/reaction"


def test_responses_items_and_the_response_rate_match_the_scenario(pilot: Pilot) -> None:
    want = expected.reaction()
    got = only_instrument(pilot.json(path(pilot.cohort_id)))
    assert got["instrument_id"] == pilot.assessment["instruments"]["reaction"]
    assert got["surveys"] == [pilot.assessment["reaction_survey_id"]]
    assert got["issued"] == want["issued"]
    assert got["responses"]["value"] == want["responses"]
    assert got["response_rate"]["value"] == pytest.approx(want["response_rate"], abs=APPROX)
    assert got["response_rate"]["n"] == want["responses"]
    assert got["minimum"] == expected.REACTION_MINIMUM
    assert [i["key"] for i in got["items"]] == list(want["items"])
    for item in got["items"]:
        wanted = want["items"][item["key"]]
        assert item["n"]["value"] == wanted["n"]
        assert item["mean"]["value"] == pytest.approx(wanted["mean"], abs=APPROX)
        assert item["sd"]["value"] == pytest.approx(wanted["sd"], abs=APPROX)
        assert item["distribution"]["value"] == wanted["distribution"]
        assert not item["mean"]["suppressed"] and item["mean"]["n"] == wanted["n"]


def test_comments_are_shown_sorted_once_the_comment_minimum_is_met(pilot: Pilot) -> None:
    want = expected.reaction()
    got = only_instrument(pilot.json(path(pilot.cohort_id), "coordinator"))
    assert got["comments_shown"] is want["comments_shown"] is True
    assert got["comments_from"] == expected.COMMENTS_FROM
    by_question = {c["key"]: c for c in got["comments"]}
    assert set(by_question) == {q["key"] for q in assessment.REACTION["free_text_questions"]}
    for key, texts in want["comments"].items():
        assert by_question[key]["texts"] == texts
        assert by_question[key]["reason"] is None
    arrival = [
        r["comments"]["best"] for r in assessment.reaction_answers() if "best" in r["comments"]
    ]
    assert by_question["best"]["texts"] != arrival  # not the order they came in


def test_the_summary_for_kirkpatrick_pools_every_answer(pilot: Pilot) -> None:
    want = expected.reaction()
    database = pilot.runtime.tracking.readmodels.database
    with reading(database) as cur:
        summary = reaction_summary(cur, [pilot.cohort_id], Policy(), DAY)
        empty = reaction_summary(cur, [], Policy(), DAY)
        with pytest.raises(UnknownCohort):
            reaction_summary(cur, [unknown_id()], Policy(), DAY)
    assert summary["mean"]["value"] == pytest.approx(want["mean_of_every_answer"], abs=APPROX)
    assert summary["response_rate"]["value"] == pytest.approx(want["response_rate"], abs=APPROX)
    assert summary["issued"] == want["issued"] and summary["responses"]["value"] == 16
    assert empty["mean"]["suppressed"] and empty["response_rate"]["value"] is None


def test_the_csv_has_one_row_per_item(pilot: Pilot) -> None:
    want = expected.reaction()
    response = pilot.get(path(pilot.cohort_id), "auditor", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["item"] for r in rows] == list(want["items"])
    for row in rows:
        wanted = want["items"][row["item"]]
        assert int(row["n"]) == wanted["n"]
        assert float(row["mean"]) == pytest.approx(wanted["mean"], abs=APPROX)
        assert float(row["sd"]) == pytest.approx(wanted["sd"], abs=APPROX)
        # Written as "value: count; value: count" text, never JSON.
        written = dict(pair.split(": ") for pair in row["distribution"].split("; "))
        assert {k: int(v) for k, v in written.items()} == wanted["distribution"]


def test_survey_id_narrows_to_a_survey_of_this_cohort(pilot: Pilot) -> None:
    survey_id = pilot.assessment["reaction_survey_id"]
    narrowed = pilot.json(path(pilot.cohort_id), survey_id=survey_id)
    assert {k: v for k, v in narrowed.items() if k != "as_of"} == {
        k: v for k, v in pilot.json(path(pilot.cohort_id)).items() if k != "as_of"
    }
    assert_problem(pilot.get(path(pilot.cohort_id), survey_id=unknown_id()), 404, {"survey_id"})
    assert_problem(pilot.get(path(pilot.cohort_id), survey_id="not-a-uuid"), 422, {"survey_id"})


def test_unknown_cohorts_and_bad_arguments(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(unknown_id())), 404)
    assert_problem(pilot.get(path(pilot.cohort_id), format="xml"), 422, {"format"})
    assert_problem(pilot.get(path(pilot.cohort_id), as_of="yesterday"), 422, {"as_of"})
    assert_problem(
        pilot.get(path(pilot.cohort_id), as_of="2999-01-01T00:00:00+00:00"), 422, {"as_of"}
    )


@pytest.mark.parametrize(
    "role", ["hr_admin", "coordinator", "coach", "auditor", "participant", "service"]
)
def test_each_role(pilot: Pilot, role: str) -> None:
    response = pilot.get(path(pilot.cohort_id), role)
    if role in ("participant", "service"):
        assert_problem(response, 403)
    else:
        assert response.status_code == 200
        assert only_instrument(response.get_json())["responses"]["value"] == 16


def test_a_coach_sees_only_the_cohorts_they_coach(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot.cohort_id), "coach", sub="another-coach"), 404)


def test_as_of_answers_from_the_events_recorded_by_then(pilot: Pilot) -> None:
    database = pilot.runtime.tracking.readmodels.database
    with reading(database) as cur:
        cur.execute(
            "SELECT MIN(time) FROM tr_applied_events WHERE type = ?",
            ("fi.polku.assessment.ReactionTokensIssued",),
        )
        issued_at = dt.datetime.fromisoformat(cur.fetchone()[0])
    before = (issued_at - dt.timedelta(microseconds=1)).isoformat()
    then = pilot.json(path(pilot.cohort_id), as_of=before)
    assert then["instruments"] == [] and then["as_of"] == before
    now = dt.datetime.now(dt.UTC).isoformat()
    assert only_instrument(pilot.json(path(pilot.cohort_id), as_of=now)) == only_instrument(
        pilot.json(path(pilot.cohort_id))
    )
    assert_problem(pilot.get(path(pilot.cohort_id), as_of="2000-01-01T00:00:00+00:00"), 404)


# A tiny survey, through the API -----------------------------------------------------------------


def tiny_survey(api: Api, answered: int, **definition: Any) -> tuple[str, str]:
    """A cohort with a reaction survey of 8 tokens, ``answered`` of them used, then closed (so
    today's responses count); projected."""
    cohort_id = api.cohort()
    made = api.created(
        "/assessment/instruments",
        {"name": "Reaction", "kind": "reaction_survey", **reaction_definition(**definition)},
    )
    body = {"instrument_id": made["id"], "cohort_id": cohort_id, "count": 8}
    issued = api.created("/assessment/reaction-surveys/tokens", body)
    texts = ["zebra crossing", "Apples", "  ", "mango", "banana", "cherry"]
    for number, token in enumerate(issued["tokens"][:answered]):
        response = api.client.post(
            f"/assessment/reaction-surveys/{issued['id']}/responses",
            json={
                "token": token,
                "answers": {"overall": 1 + number % 5, "virtual": 4},
                "comments": {"best": texts[number % len(texts)]},
            },
            headers=bearer("participant", unknown_id()),
        )
        assert response.status_code == 201, response.get_json()
    api.created(f"/assessment/reaction-surveys/{issued['id']}/closure", {})
    api.embedded.tracking.projector.drain()
    return cohort_id, issued["id"]


def test_fewer_responses_than_the_minimum_show_null_cells_and_no_comments(api: Api) -> None:
    cohort_id, _ = tiny_survey(api, 3, min_group_size=4, comment_minimum=2)
    got = only_instrument(api.get(path(cohort_id)).get_json())
    assert got["issued"] == 8 and got["minimum"] == 4
    for figure in (got["responses"], got["response_rate"]):
        assert figure["suppressed"] and figure["value"] is None and figure["n"] is None
        assert "4" in figure["reason"]
    for item in got["items"]:
        for name in ("n", "mean", "sd", "distribution"):
            assert item[name]["suppressed"] and item[name]["value"] is None
            assert item[name]["reason"]
    assert not got["comments_shown"]
    assert [(c["texts"], bool(c["reason"])) for c in got["comments"]] == [(None, True)]


def test_comments_wait_for_the_comment_minimum_above_the_group_minimum(api: Api) -> None:
    cohort_id, _ = tiny_survey(api, 5, min_group_size=3, comment_minimum=6)
    got = only_instrument(api.get(path(cohort_id)).get_json())
    assert got["responses"]["value"] == 5 and got["response_rate"]["value"] == 0.625
    overall = got["items"][0]
    assert overall["distribution"]["value"] == {"1": 1, "2": 1, "3": 1, "4": 1, "5": 1}
    assert overall["mean"]["value"] == 3.0
    assert got["comments_from"] == 6 and not got["comments_shown"]
    assert got["comments"][0]["texts"] is None and "6" in got["comments"][0]["reason"]
    more, _ = tiny_survey(api, 6, min_group_size=3, comment_minimum=6)
    shown = only_instrument(api.get(path(more), role="coordinator").get_json())
    assert shown["responses"]["value"] == 6 and shown["comments_shown"]
    assert shown["comments"][0]["texts"] == [
        "Apples",
        "banana",
        "cherry",
        "mango",
        "zebra crossing",
    ]
