"""Staff-survey trends on the TEMPO pilot against the scenario's rows, and the small cases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from services.scenario import assessment, enrolment
from services.scenario.organisation import MEMBERS, ORGANISATION
from services.tracking.temporal import reading
from services.tracking.views.cohorts import UnknownCohort
from services.tracking.views.privacy import Policy
from services.tracking.views.staff_survey import staff_survey_summary
from tests.api.helpers import Api, assert_problem, unknown_id
from tests.support import expected_surveys as expected
from tests.support.pilot import Pilot, only_instrument
from tests.unit.assessment_builders import staff as staff_definition

APPROX = 1e-4


def path(cohort_id: str) -> str:
    return f"/tracking/cohorts/{cohort_id}/staff-survey"


def test_the_units_are_the_participants_on_the_start_date(pilot: Pilot) -> None:
    got = only_instrument(pilot.json(path(pilot.cohort_id)))
    units = [(u["department"], u["unit"]) for u in got["units"]]
    assert units == expected.participant_units()
    withdrawn = MEMBERS[enrolment.WITHDRAWN]
    assert (withdrawn.department, withdrawn.unit) not in units  # P07 was the unit's only one
    moved = MEMBERS[enrolment.PLACEMENT_CHANGE[0]]
    assert (moved.department, moved.unit) in units  # reorganised only after the start
    assert [d["department"] for d in got["departments"]] == expected.participant_departments()
    assert [o["organisation"] for o in got["organisations"]] == [ORGANISATION]
    for unit in got["units"]:  # how many each unit sent is never published
        assert set(unit) == {"organisation", "department", "unit", "years"}


def _assert_series(got: list[dict[str, Any]], want: dict[int, Any]) -> None:
    assert [point["year"] for point in got] == sorted(want)
    for point in got:
        respondents, indices = want[point["year"]]
        assert set(point["values"]) == set(assessment.INDICES)
        for index, value in point["values"].items():
            assert value["value"] == pytest.approx(indices[index], abs=APPROX)
            assert value["n"] == respondents and not value["suppressed"]


def test_index_values_per_year_match_the_stored_rows(pilot: Pilot) -> None:
    got = only_instrument(pilot.json(path(pilot.cohort_id)))
    assert got["years"] == expected.years() == list(assessment.YEARS)
    assert [i["key"] for i in got["indices"]] == list(assessment.INDICES)
    for unit in got["units"]:
        _assert_series(unit["years"], expected.series("unit", unit["department"], unit["unit"]))
    for department in got["departments"]:
        _assert_series(department["years"], expected.series("department", department["department"]))
    _assert_series(got["organisations"][0]["years"], expected.series("organisation"))
    small = [u for u in got["units"] if u["unit"] in assessment.SMALL_UNITS]
    assert small and any(len(u["years"]) < len(assessment.YEARS) for u in small)


def test_change_before_and_after_against_the_organisation(pilot: Pilot) -> None:
    got = only_instrument(pilot.json(path(pilot.cohort_id), "coordinator"))
    assert got["before_year"] == expected.before_year() == 2019
    assert got["after_years"] == expected.after_years() == [2021, 2022, 2023]
    assert [c["index"] for c in got["change"]] == list(assessment.INDICES)
    for index in got["change"]:
        assert [a["year"] for a in index["after"]] == expected.after_years()
        for after in index["after"]:
            want = expected.change(index["index"], after["year"])
            assert after["units"]["value"] == pytest.approx(want["units"], abs=APPROX)
            assert after["units"]["n"] == want["units_n"]
            assert after["organisation"]["value"] == pytest.approx(want["organisation"], abs=APPROX)
            assert after["organisation"]["n"] == want["organisation_n"]
            assert after["difference"]["value"] == pytest.approx(want["difference"], abs=APPROX)


def test_the_summary_for_kirkpatrick_l4(pilot: Pilot) -> None:
    want = expected.staff_survey_summary()
    database = pilot.runtime.tracking.readmodels.database
    with reading(database) as cur:
        summary = staff_survey_summary(cur, [pilot.cohort_id], Policy())
        with pytest.raises(UnknownCohort):
            staff_survey_summary(cur, [unknown_id()], Policy())
    for index in assessment.INDICES:
        assert summary["indices"][index]["value"] == pytest.approx(want[index], abs=APPROX)
    assert summary["total"]["value"] == pytest.approx(want["total"], abs=APPROX)
    years = summary["years"][pilot.cohort_id][pilot.assessment["instruments"]["staff"]]
    assert years == {"before_year": 2019, "after_year": 2021}


def test_the_csv_has_one_row_per_level_unit_year_and_index(pilot: Pilot) -> None:
    response = pilot.get(path(pilot.cohort_id), "auditor", format="csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    wanted = {}
    groups: list[tuple[str, str | None, str | None]]
    groups = [("unit", d, u) for d, u in expected.participant_units()]
    groups += [("department", d, None) for d in expected.participant_departments()]
    groups += [("organisation", None, None)]
    for level, department, unit in groups:
        for year, (respondents, indices) in expected.series(level, department, unit).items():
            for index, value in indices.items():
                wanted[(level, department or "", unit or "", str(year), index)] = (
                    value,
                    respondents,
                )
    assert len(rows) == len(wanted)
    for row in rows:
        value, respondents = wanted[
            (row["level"], row["department"], row["unit"], row["year"], row["index"])
        ]
        assert float(row["value"]) == pytest.approx(value, abs=APPROX)
        assert int(row["n"]) == respondents


def test_instrument_id_selects_a_staff_survey(pilot: Pilot) -> None:
    staff = pilot.assessment["instruments"]["staff"]
    chosen = pilot.json(path(pilot.cohort_id), instrument_id=staff)
    assert only_instrument(chosen) == only_instrument(pilot.json(path(pilot.cohort_id)))
    reaction = pilot.assessment["instruments"]["reaction"]
    assert_problem(pilot.get(path(pilot.cohort_id), instrument_id=reaction), 422, {"instrument_id"})
    assert_problem(
        pilot.get(path(pilot.cohort_id), instrument_id=unknown_id()), 404, {"instrument_id"}
    )
    assert_problem(pilot.get(path(pilot.cohort_id), instrument_id="x"), 422, {"instrument_id"})


def test_unknown_cohorts_and_bad_arguments(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(unknown_id())), 404)
    assert_problem(pilot.get(path(pilot.cohort_id), format="pdf"), 422, {"format"})
    assert_problem(pilot.get(path(pilot.cohort_id), as_of="2020-01-01T00:00:00"), 422, {"as_of"})


@pytest.mark.parametrize(
    "role", ["hr_admin", "coordinator", "coach", "auditor", "participant", "service"]
)
def test_each_role(pilot: Pilot, role: str) -> None:
    response = pilot.get(path(pilot.cohort_id), role)
    if role in ("participant", "service"):
        assert_problem(response, 403)
    else:
        assert response.status_code == 200
        assert len(only_instrument(response.get_json())["units"]) == len(
            expected.participant_units()
        )


def test_a_coach_sees_only_the_cohorts_they_coach(pilot: Pilot) -> None:
    assert_problem(pilot.get(path(pilot.cohort_id), "coach", sub="another-coach"), 404)


def test_as_of_answers_from_the_results_recorded_by_then(pilot: Pilot) -> None:
    database = pilot.runtime.tracking.readmodels.database
    with reading(database) as cur:
        cur.execute(
            "SELECT time, data FROM tr_applied_events WHERE type = ? ORDER BY time",
            ("fi.polku.assessment.StaffSurveyResultRecorded",),
        )
        recorded = [(time, json.loads(data)["year"]) for time, data in cur.fetchall()]
    first = dt.datetime.fromisoformat(recorded[0][0])
    last_of_2019 = max(dt.datetime.fromisoformat(t) for t, year in recorded if year == 2019)
    assert all(dt.datetime.fromisoformat(t) > last_of_2019 for t, y in recorded if y != 2019)
    nothing = only_instrument(
        pilot.json(path(pilot.cohort_id), as_of=(first - dt.timedelta(microseconds=1)).isoformat())
    )
    assert nothing["years"] == [] and nothing["before_year"] is None
    assert all(u["years"] == [] for u in nothing["units"]) and nothing["units"]
    early = only_instrument(pilot.json(path(pilot.cohort_id), as_of=last_of_2019.isoformat()))
    assert early["years"] == [2019] and early["before_year"] == 2019
    assert early["after_years"] == [] and all(c["after"] == [] for c in early["change"])
    assert_problem(pilot.get(path(pilot.cohort_id), as_of="2000-01-01T00:00:00+00:00"), 404)


# A small cohort, through the API --------------------------------------------------------------


def indices(base: float) -> dict[str, float]:
    return {key: round(base + n / 100, 2) for n, key in enumerate(assessment.INDICES)}


def test_missing_years_and_small_groups_in_a_small_cohort(api: Api) -> None:
    cohort_id = api.cohort()  # 2020-03-01 .. 2020-11-30
    for placed_in, placed_at in [("Innovation", "Digital")] * 2 + [("Energy", "Grid")] * 3:
        person = api.person(department=placed_in, unit=placed_at)
        assert api.enrol(cohort_id, person).status_code == 201
    made = api.created(
        "/assessment/instruments", {"name": "Staff", "kind": "staff_survey", **staff_definition()}
    )
    rows: list[tuple[int, str, str | None, str | None, int, float]] = [
        (2019, "organisation", None, None, 300, 3.0),
        (2021, "organisation", None, None, 310, 3.2),
        (2019, "unit", "Innovation", "Digital", 12, 3.1),
        (2021, "unit", "Innovation", "Digital", 14, 3.6),
        (2021, "unit", "Energy", "Grid", 9, 3.9),
        (2019, "department", "Innovation", None, 40, 3.3),
    ]
    for year, level, department, unit, respondents, base in rows:
        body = {
            "instrument_id": made["id"],
            "year": year,
            "level": level,
            "organisation": "TEM",
            "department": department,
            "unit": unit,
            "respondents": respondents,
            "indices": indices(base),
        }
        api.created("/assessment/staff-survey-results", body)
    api.embedded.tracking.projector.drain()
    # The service refuses a group below the minimum; a row from before that rule (written here
    # straight into the read model) must still be withheld, and left out of every change.
    with api.embedded.tracking.readmodels.database.transaction() as cur:
        cur.execute(
            "INSERT INTO tr_staff_survey (result_id, instrument_id, year, level, organisation,"
            " department, unit, respondents, indices, recorded_from)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (unknown_id(), made["id"], 2019, "unit", "TEM", "Energy", "Grid", 3,
             json.dumps(indices(1.0)), "2019-01-01T00:00:00.000000+00:00"),
        )  # fmt: skip
    got = only_instrument(api.get(path(cohort_id)).get_json())
    assert [(u["department"], u["unit"]) for u in got["units"]] == [
        ("Energy", "Grid"),
        ("Innovation", "Digital"),
    ]
    grid = got["units"][0]["years"]
    assert [p["year"] for p in grid] == [2019, 2021]
    for value in grid[0]["values"].values():
        assert value["suppressed"] and value["value"] is None and value["n"] is None
        assert "5" in value["reason"]
    assert [d["department"] for d in got["departments"]] == ["Energy", "Innovation"]
    assert got["departments"][0]["years"] == []
    assert (got["before_year"], got["after_years"]) == (2019, [2021])
    leadership = next(c for c in got["change"] if c["index"] == "leadership")["after"][0]
    assert leadership["units"] == {"value": 0.5, "n": 14, "suppressed": False, "reason": None}
    assert leadership["organisation"]["value"] == pytest.approx(0.2, abs=APPROX)
    assert leadership["difference"]["value"] == pytest.approx(0.3, abs=APPROX)
    chosen = api.get(path(cohort_id), query_string={"instrument_id": made["id"]}).get_json()
    assert only_instrument(chosen)["change"] == got["change"]


def test_no_unit_with_both_years_gives_null_changes_with_the_reason(api: Api) -> None:
    cohort_id = api.cohort()
    for _ in range(5):
        person = api.person(department="Energy", unit="Grid")
        assert api.enrol(cohort_id, person).status_code == 201
    made = api.created(
        "/assessment/instruments", {"name": "Staff", "kind": "staff_survey", **staff_definition()}
    )
    for year, level, unit in ((2019, "organisation", None), (2021, "organisation", None),
                              (2021, "unit", "Grid")):  # fmt: skip
        body = {
            "instrument_id": made["id"],
            "year": year,
            "level": level,
            "organisation": "TEM",
            "department": "Energy" if unit else None,
            "unit": unit,
            "respondents": 20,
            "indices": indices(3.0 + (year - 2019) / 10),
        }
        api.created("/assessment/staff-survey-results", body)
    api.embedded.tracking.projector.drain()
    after = only_instrument(api.get(path(cohort_id), role="auditor").get_json())["change"][0][
        "after"
    ][0]
    assert after["units"]["value"] is None and "2019" in after["units"]["reason"]
    assert after["difference"]["value"] is None and after["difference"]["reason"]
    assert after["organisation"]["value"] == pytest.approx(0.2, abs=APPROX)


def test_a_cohort_below_the_minimum_names_no_units(api: Api) -> None:
    """Three participants' units would say where those three work: none is listed."""
    cohort_id = api.cohort()
    for unit in ("Digital", "Grid", "Grid"):
        person = api.person(department="Energy", unit=unit)
        assert api.enrol(cohort_id, person).status_code == 201
    api.created(
        "/assessment/instruments", {"name": "Staff", "kind": "staff_survey", **staff_definition()}
    )
    api.embedded.tracking.projector.drain()
    body = api.get(path(cohort_id)).get_json()
    assert "fewer than 5 participants" in body["units_withheld"]
    report = only_instrument(body)
    assert report["units"] == [] and report["departments"] == []
    assert "Grid" not in json.dumps(body) and "Digital" not in json.dumps(body)
