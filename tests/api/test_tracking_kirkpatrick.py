"""The Kirkpatrick L1-L4 summary of the TEMPO pilot, against figures from the scenario data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from typing import Any

import pytest

from services.scenario import assessment, enrolment
from services.scenario.organisation import COLLEAGUES, PARTICIPANTS
from tests.api.helpers import assert_problem, unknown_id
from tests.support import expected_mobility
from tests.support.pilot import Pilot

END = dt.date.fromisoformat(enrolment.COHORT["end_date"])
TWO_YEARS = END.replace(year=END.year + 2)


def figures(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for level in view["levels"] for f in level["figures"]}


def share_within_two_years(keys: list[str], kind: str) -> float:
    """Share of ``keys`` whose first move of ``kind`` started after the end, within 24 months."""
    moved = {m.key for m in enrolment.MOVES if m.kind == kind and END < m.start_date <= TWO_YEARS}
    return len(moved & set(keys)) / len(keys)


def rotated_within_two_years(keys: list[str], day: dt.date) -> float:
    """Kaplan-Meier incidence of a first rotation by 24 months; leavers censored on leaving."""
    points = expected_mobility.product_limit(
        expected_mobility.observations(keys, day, ("job_rotation",))
    )
    survival = expected_mobility.survival_at(points, expected_mobility.horizon(24))
    assert survival is not None
    return 1 - survival


def participants() -> list[str]:
    return [m.key for m in PARTICIPANTS if m.key != enrolment.WITHDRAWN]


def test_level_one_is_the_reaction_surveys_mean_and_response_rate(pilot: Pilot) -> None:
    level = figures(pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick"))
    answers = assessment.reaction_answers()
    mean = statistics.fmean(v for a in answers for v in a["answers"].values())
    assert level["mean_answer"]["value"] == pytest.approx(mean, abs=1e-4)
    assert level["response_rate"]["value"] == len(answers) / len(PARTICIPANTS)
    assert level["response_rate"]["n"] == len(answers)


def test_levels_two_and_three_show_improvement_from_the_ratings(pilot: Pilot) -> None:
    level = figures(pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick"))
    keep = set(participants())

    def improvement(groups: set[str]) -> float:
        """Mean over dimensions of the mean paired improvement, per rater group, averaged."""
        dimensions = assessment.BEHAVIOUR["dimensions"]
        per_group = []
        for group in sorted(groups):
            per_dimension = []
            for dimension in dimensions:
                sign = -1 if dimension.get("reverse_scored") else 1
                changes = []
                for person in sorted(keep):
                    ratings = [
                        r for r in assessment.behaviour_ratings()
                        if r.person == person and r.rater_group == group
                    ]  # fmt: skip
                    before = [r.scores[dimension["key"]] for r in ratings if r.wave == "baseline"]
                    after = [r.scores[dimension["key"]] for r in ratings if r.wave == "post"]
                    changes.append(statistics.fmean(after) - statistics.fmean(before))
                per_dimension.append(sign * statistics.fmean(changes))
            per_group.append(statistics.fmean(per_dimension))
        return statistics.fmean(per_group)

    assert level["self_assessed_change"]["value"] == pytest.approx(improvement({"self"}), abs=1e-3)
    assert level["change_manager"]["value"] == pytest.approx(improvement({"manager"}), abs=1e-3)
    assert level["change_peer"]["value"] == pytest.approx(improvement({"peer"}), abs=1e-3)
    assert level["self_assessed_change"]["n"] == len(keep)


def test_level_four_compares_rotation_and_retention_with_the_comparison_group(
    pilot: Pilot,
) -> None:
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick")
    level = figures(view)
    ours, theirs = participants(), [m.key for m in COLLEAGUES]
    day = dt.date.fromisoformat(view["view_date"])
    rotation = rotated_within_two_years(ours, day)
    compared = rotated_within_two_years(theirs, day)
    # No participant left the state before rotating within two years: the plain share.
    assert rotation == pytest.approx(share_within_two_years(ours, "job_rotation"))
    assert level["rotation_24m"]["value"] == pytest.approx(rotation, abs=1e-4)
    assert level["rotation_24m_comparison"]["value"] == pytest.approx(compared, abs=1e-4)
    assert level["rotation_24m_difference"]["value"] == pytest.approx(rotation - compared, abs=1e-3)
    retained = 1 - share_within_two_years(ours, "left_state")
    assert level["retention_24m"]["value"] == pytest.approx(retained, abs=1e-4)
    assert level["retention_24m_comparison"]["value"] == pytest.approx(
        1 - share_within_two_years(theirs, "left_state"), abs=1e-4
    )
    assert level["staff_survey_vs_organisation"]["value"] is not None


def test_a_programme_pools_its_cohorts(pilot: Pilot) -> None:
    programme = pilot.json(f"/tracking/programmes/{pilot.loaded.programme_id}/kirkpatrick")
    cohort = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick")
    assert programme["scope"] == "programme" and programme["cohorts"] == [pilot.cohort_id]
    assert programme["levels"] == cohort["levels"]  # one cohort: the same figures


def test_the_summary_exports_one_csv_row_per_figure(pilot: Pilot) -> None:
    view = pilot.json(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick")
    response = pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick", format="csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["key"] for r in rows] == list(figures(view))
    assert {r["level"] for r in rows} == {"1", "2", "3", "4"}


def test_as_of_before_the_pilot_was_recorded_knows_no_cohort(pilot: Pilot) -> None:
    response = pilot.get(
        f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick", as_of="2021-01-01T00:00:00+00:00"
    )
    assert_problem(response, 404)


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "auditor", "coach"])
def test_readers_of_the_cohort_summary(pilot: Pilot, role: str) -> None:
    assert pilot.get(f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick", role).status_code == 200


def test_a_coach_of_another_cohort_and_participants_are_refused(pilot: Pilot) -> None:
    path = f"/tracking/cohorts/{pilot.cohort_id}/kirkpatrick"
    assert_problem(pilot.get(path, "coach", sub="coach-elsewhere"), 404)
    assert_problem(pilot.get(path, "participant", sub=pilot.person("P01")), 403)
    assert_problem(pilot.get(path, "service"), 403)
    programme = f"/tracking/programmes/{pilot.loaded.programme_id}/kirkpatrick"
    assert_problem(pilot.get(programme, "coach"), 403)


def test_unknown_cohorts_and_programmes_are_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(f"/tracking/cohorts/{unknown_id()}/kirkpatrick"), 404)
    assert_problem(pilot.get(f"/tracking/programmes/{unknown_id()}/kirkpatrick"), 404)
