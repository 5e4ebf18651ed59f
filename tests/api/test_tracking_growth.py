"""The growth view on the TEMPO pilot against figures from the scenario's own ratings, and on a
small cohort built here for suppression, differencing, waves and ``as_of``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from dataclasses import dataclass, field
from typing import Any

import pytest
from scipy import stats

from services.scenario import enrolment
from services.scenario.enrolment import COACH
from services.tracking.temporal import reading
from services.tracking.views.growth import growth_summary
from services.tracking.views.privacy import Policy
from tests.api.helpers import Api, assert_problem, unknown_id
from tests.support import expected_growth as expected
from tests.support.pilot import Pilot

APPROX = {"abs": 1e-4}
GROUPS = ("self", "manager", "peer")
ENTERPRISE = "Enterprise and Innovation Department"
ENERGY = "Energy Department"


def cohort_path(pilot: Pilot) -> str:
    return f"/tracking/cohorts/{pilot.cohort_id}/growth"


def behaviour(view: dict[str, Any]) -> dict[str, Any]:
    (instrument,) = view["instruments"]
    return instrument  # type: ignore[no-any-return]


def cells_of(instrument: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(c["dimension"], c["rater_group"], c["wave"]): c for c in instrument["cells"]}


def changes_of(instrument: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(c["dimension"], c["rater_group"], c["to"]): c for c in instrument["changes"]}


# The pilot's figures ---------------------------------------------------------------------------


def test_every_wave_cell_matches_the_scenario(pilot: Pilot) -> None:
    instrument = behaviour(pilot.json(cohort_path(pilot)))
    assert instrument["waves"] == ["baseline", "post"]
    assert instrument["rater_groups"] == list(GROUPS)
    cells = cells_of(instrument)
    assert len(cells) == len(expected.DIMENSIONS) * len(GROUPS) * 2
    for dimension in expected.DIMENSIONS:
        for group in GROUPS:
            for wave in ("baseline", "post"):
                want = expected.wave_figures(dimension, group, wave)
                got = cells[(dimension, group, wave)]
                assert got["n"]["value"] == want.n == len(expected.taking_part())
                assert got["mean"]["value"] == pytest.approx(want.mean, **APPROX)
                assert got["sd"]["value"] == pytest.approx(want.sd, **APPROX)
                half = stats.t.ppf(0.975, want.n - 1) * want.sd / want.n**0.5
                assert got["ci_low"]["value"] == pytest.approx(want.mean - half, **APPROX)
                assert got["ci_high"]["value"] == pytest.approx(want.mean + half, **APPROX)


def test_the_paired_change_matches_the_scenario(pilot: Pilot) -> None:
    changes = changes_of(behaviour(pilot.json(cohort_path(pilot))))
    assert len(changes) == len(expected.DIMENSIONS) * len(GROUPS)
    for dimension in expected.DIMENSIONS:
        for group in GROUPS:
            want = expected.change_figures(dimension, group)
            got = changes[(dimension, group, "post")]
            assert got["from"] == "baseline"
            assert got["reverse_scored"] is (dimension in expected.REVERSE_SCORED)
            assert got["pairs"]["value"] == want.pairs
            assert got["mean_difference"]["value"] == pytest.approx(want.mean_difference, **APPROX)
            assert got["sd_difference"]["value"] == pytest.approx(want.sd_difference, **APPROX)
            assert got["ci_low"]["value"] == pytest.approx(want.ci_low, **APPROX)
            assert got["ci_high"]["value"] == pytest.approx(want.ci_high, **APPROX)
            assert got["improvement"]["value"] == pytest.approx(want.improvement, **APPROX)
            if want.d_z is None:
                assert got["d_z"]["value"] is None and "SD 0" in got["d_z"]["reason"]
            else:
                assert got["d_z"]["value"] == pytest.approx(want.d_z, **APPROX)


def test_reverse_scored_withdrawing_falls_yet_counts_as_improvement(pilot: Pilot) -> None:
    change = changes_of(behaviour(pilot.json(cohort_path(pilot))))[("withdrawing", "peer", "post")]
    assert change["mean_difference"]["value"] < 0 < change["improvement"]["value"]
    assert change["d_z"]["value"] < 0
    assert change["ci_high"]["value"] < 0  # the fall is clear of zero in the scenario


def test_the_summary_averages_improvement_over_dimensions(pilot: Pilot) -> None:
    instrument = behaviour(pilot.json(cohort_path(pilot)))
    for group in GROUPS:
        assert instrument["summary"][group]["value"] == pytest.approx(
            expected.summary(group), **APPROX
        )
        assert instrument["summary"][group]["n"] == len(expected.taking_part())


def test_growth_summary_takes_a_list_of_cohorts(pilot: Pilot) -> None:
    database = pilot.runtime.tracking.readmodels.database
    with reading(database) as cur:
        pooled = growth_summary(cur, [pilot.cohort_id], Policy())
        nothing = growth_summary(cur, [], Policy())
    (instrument,) = pooled["instruments"]
    assert instrument["kind"] == "behaviour_assessment"
    assert instrument["summary"]["peer"]["value"] == pytest.approx(
        expected.summary("peer"), **APPROX
    )
    assert pooled["people"]["value"] == len(expected.taking_part())
    assert nothing["instruments"] == [] and nothing["people"]["suppressed"]


def test_the_withdrawn_participant_is_not_in_the_population(pilot: Pilot) -> None:
    view = pilot.json(cohort_path(pilot))
    assert view["people"]["value"] == len(expected.taking_part()) == 19
    assert enrolment.WITHDRAWN not in expected.taking_part()
    assert behaviour(view)["excluded"] == {
        group: {"value": 0, "n": 19, "suppressed": False, "reason": None} for group in GROUPS
    }


def test_a_rater_group_filter_keeps_only_that_group(pilot: Pilot) -> None:
    instrument = behaviour(pilot.json(cohort_path(pilot), rater_group="manager"))
    assert instrument["rater_groups"] == ["manager"]
    assert {c["rater_group"] for c in instrument["cells"]} == {"manager"}
    want = expected.wave_figures("feedback", "manager", "post")
    assert cells_of(instrument)[("feedback", "manager", "post")]["mean"]["value"] == pytest.approx(
        want.mean, **APPROX
    )


def test_an_instrument_filter_keeps_that_instrument(pilot: Pilot) -> None:
    instrument_id = pilot.assessment["instruments"]["behaviour"]
    view = pilot.json(cohort_path(pilot), instrument_id=instrument_id)
    assert [i["instrument_id"] for i in view["instruments"]] == [instrument_id]
    assert view["filters"]["instrument_id"] == instrument_id


# Department filters and suppression on the pilot ---------------------------------------------


def test_a_department_of_five_is_shown_and_matches_the_scenario(pilot: Pilot) -> None:
    response = pilot.get(
        cohort_path(pilot), "coordinator", sub="growth-enterprise", department=ENTERPRISE
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["people"]["value"] == len(expected.taking_part(ENTERPRISE)) == 5
    cell = cells_of(behaviour(body))[("cross_unit_cooperation", "peer", "post")]
    want = expected.wave_figures("cross_unit_cooperation", "peer", "post", ENTERPRISE)
    assert cell["n"]["value"] == 5
    assert cell["mean"]["value"] == pytest.approx(want.mean, **APPROX)
    assert cell["sd"]["value"] == pytest.approx(want.sd, **APPROX)


def test_a_department_of_two_gives_only_suppressed_cells(pilot: Pilot) -> None:
    response = pilot.get(cohort_path(pilot), "hr_admin", sub="growth-energy", department=ENERGY)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert len(expected.taking_part(ENERGY)) == 2
    assert body["people"] == {
        "value": None,
        "n": None,
        "suppressed": True,
        "reason": body["people"]["reason"],
    }
    instrument = behaviour(body)
    figures = [c[k] for c in instrument["cells"] for k in ("n", "mean", "sd", "ci_low")]
    figures += [c[k] for c in instrument["changes"] for k in ("pairs", "mean_difference", "d_z")]
    figures += list(instrument["summary"].values())
    assert figures and all(f["suppressed"] and f["value"] is None for f in figures)
    assert "fewer than 5" in figures[0]["reason"]
    text = response.get_data(as_text=True)
    for key in ("P04", "P18"):
        assert pilot.person(key) not in text


def test_an_unknown_department_is_an_empty_suppressed_answer(pilot: Pilot) -> None:
    body = pilot.json(cohort_path(pilot), department="No Such Department")
    assert body["people"]["suppressed"] and body["instruments"] == []


# Roles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "coach", "auditor"])
def test_viewers_read_cohort_growth(pilot: Pilot, role: str) -> None:
    view = pilot.json(cohort_path(pilot), role)
    assert view["cohort_id"] == pilot.cohort_id and behaviour(view)["cells"]


@pytest.mark.parametrize("role", ["participant", "service"])
def test_participants_and_services_may_not_read_cohort_growth(pilot: Pilot, role: str) -> None:
    assert_problem(pilot.get(cohort_path(pilot), role), 403)


def test_a_coach_of_another_cohort_gets_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(cohort_path(pilot), "coach", sub="another-coach"), 404)


def test_an_auditors_growth_query_is_logged(pilot: Pilot) -> None:
    database = pilot.runtime.tracking.readmodels.database
    path = cohort_path(pilot)

    def logged() -> int:
        with reading(database) as cur:
            cur.execute("SELECT COUNT(*) FROM tr_query_log WHERE path = ?", (path,))
            return int(cur.fetchone()[0])

    before = logged()
    pilot.json(path, "auditor")
    assert logged() == before + 1


# A participant's own trajectory ----------------------------------------------------------------


def person_path(pilot: Pilot, key: str) -> str:
    return f"/tracking/people/{pilot.person(key)}/growth"


def test_a_participant_sees_their_own_trajectory(pilot: Pilot) -> None:
    me = pilot.person("P03")
    response = pilot.get(person_path(pilot, "P03"), "participant", sub=me)
    assert response.status_code == 200, response.get_data(as_text=True)
    (instrument,) = response.get_json()["instruments"]
    want = {k[1:]: v for k, v in expected.person_values().items() if k[0] == "P03"}
    got = {(v["wave"], v["rater_group"], v["dimension"]): v for v in instrument["values"]}
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key]["value"] == pytest.approx(value, **APPROX)
        assert got[key]["reason"] is None
    assert all(v["raters"] == 1 for k, v in got.items() if k[1] in ("self", "manager"))
    assert all(v["raters"] >= 3 for k, v in got.items() if k[1] == "peer")
    changes = {(c["rater_group"], c["dimension"]): c for c in instrument["changes"]}
    self_change = want[("post", "self", "withdrawing")] - want[("baseline", "self", "withdrawing")]
    assert changes[("self", "withdrawing")]["difference"] == pytest.approx(self_change, **APPROX)
    assert changes[("self", "withdrawing")]["improvement"] == pytest.approx(-self_change, **APPROX)


def test_a_participant_may_not_read_someone_else(pilot: Pilot) -> None:
    response = pilot.get(person_path(pilot, "P04"), "participant", sub=pilot.person("P03"))
    assert_problem(response, 404)  # to them, no one else exists


@pytest.mark.parametrize("role", ["hr_admin", "coordinator", "auditor", "coach"])
def test_staff_read_a_participants_trajectory(pilot: Pilot, role: str) -> None:
    view = pilot.json(person_path(pilot, "P05"), role)
    assert view["person_id"] == pilot.person("P05")
    assert len(view["instruments"][0]["values"]) == len(expected.DIMENSIONS) * len(GROUPS) * 2


def test_the_withdrawn_participants_own_results_remain_theirs(pilot: Pilot) -> None:
    key = enrolment.WITHDRAWN
    response = pilot.get(person_path(pilot, key), "participant", sub=pilot.person(key))
    assert response.status_code == 200
    assert response.get_json()["instruments"][0]["values"]


def test_a_coach_sees_only_people_of_cohorts_they_coach(pilot: Pilot) -> None:
    assert pilot.get(person_path(pilot, "P05"), "coach", sub=COACH).status_code == 200
    assert_problem(pilot.get(person_path(pilot, "P05"), "coach", sub="another-coach"), 404)
    # A colleague was never enrolled, so no coach sees them.
    assert_problem(pilot.get(person_path(pilot, "C01"), "coach", sub=COACH), 404)


def test_services_may_not_read_a_trajectory(pilot: Pilot) -> None:
    assert_problem(pilot.get(person_path(pilot, "P05"), "service"), 403)


def test_an_unknown_person_is_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(f"/tracking/people/{unknown_id()}/growth"), 404)
    stranger = unknown_id()
    assert_problem(
        pilot.get(f"/tracking/people/{stranger}/growth", "participant", sub=stranger), 404
    )


def test_a_colleague_without_results_has_an_empty_trajectory(pilot: Pilot) -> None:
    assert pilot.json(person_path(pilot, "C01"))["instruments"] == []


# CSV, as_of and bad input ----------------------------------------------------------------------


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_cohort_growth_exports_wave_and_change_rows(pilot: Pilot) -> None:
    rows = csv_rows(pilot.get(cohort_path(pilot), "auditor", format="csv"))
    waves = [r for r in rows if r["row"] == "wave"]
    changes = [r for r in rows if r["row"] == "change"]
    assert len(waves) == len(expected.DIMENSIONS) * len(GROUPS) * 2
    assert len(changes) == len(expected.DIMENSIONS) * len(GROUPS)
    row = next(
        r
        for r in waves
        if (r["dimension"], r["rater_group"], r["wave"]) == ("feedback", "peer", "post")
    )
    assert float(row["mean"]) == pytest.approx(
        expected.wave_figures("feedback", "peer", "post").mean, **APPROX
    )
    row = next(r for r in changes if (r["dimension"], r["rater_group"]) == ("withdrawing", "self"))
    want = expected.change_figures("withdrawing", "self")
    assert (row["from"], row["to"], row["reverse_scored"]) == ("baseline", "post", "true")
    assert float(row["ci_low"]) == pytest.approx(want.ci_low, **APPROX)
    assert float(row["improvement"]) == pytest.approx(want.improvement, **APPROX)


def test_a_trajectory_exports_one_row_per_value(pilot: Pilot) -> None:
    rows = csv_rows(pilot.get(person_path(pilot, "P03"), "hr_admin", format="csv"))
    assert len(rows) == len(expected.DIMENSIONS) * len(GROUPS) * 2
    want = expected.person_values()[("P03", "post", "peer", "initiative")]
    row = next(
        r
        for r in rows
        if (r["wave"], r["rater_group"], r["dimension"]) == ("post", "peer", "initiative")
    )
    assert float(row["value"]) == pytest.approx(want, **APPROX)


def test_as_of_before_anything_was_recorded_is_not_found(pilot: Pilot) -> None:
    early = "2000-01-01T00:00:00+00:00"
    assert_problem(pilot.get(cohort_path(pilot), as_of=early), 404)
    assert_problem(pilot.get(person_path(pilot, "P03"), as_of=early), 404)


def test_as_of_now_answers_as_the_live_view(pilot: Pilot) -> None:
    now = dt.datetime.now(dt.UTC).isoformat()
    then = pilot.json(cohort_path(pilot), as_of=now)
    live = pilot.json(cohort_path(pilot))
    assert then["as_of"] is not None and live["as_of"] is None
    assert then["instruments"] == live["instruments"]


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"instrument_id": "not-a-uuid"}, 422, "instrument_id"),
        ({"rater_group": "boss"}, 422, "rater_group"),
        ({"department": ""}, 422, "department"),
        ({"department": "Energy\x00"}, 422, "department"),
        ({"format": "xlsx"}, 422, "format"),
        ({"as_of": "2999-01-01T00:00:00+00:00"}, 422, "as_of"),
    ],
)
def test_bad_arguments_are_named_problems(
    pilot: Pilot, query: dict[str, str], status: int, named: str
) -> None:
    assert_problem(pilot.get(cohort_path(pilot), **query), status, {named})


def test_an_unknown_instrument_is_not_found(pilot: Pilot) -> None:
    assert_problem(
        pilot.get(cohort_path(pilot), instrument_id=unknown_id()), 404, {"instrument_id"}
    )


def test_a_style_analysis_is_not_a_growth_instrument(pilot: Pilot) -> None:
    style = pilot.assessment["instruments"]["style"]
    assert_problem(pilot.get(cohort_path(pilot), instrument_id=style), 422, {"instrument_id"})


def test_an_unknown_cohort_is_not_found(pilot: Pilot) -> None:
    assert_problem(pilot.get(f"/tracking/cohorts/{unknown_id()}/growth"), 404)


# A small cohort built for the edges ------------------------------------------------------------

SCALE = {"min": 1, "max": 5, "step": 1}
DIMENSIONS = [
    {"key": "clarity", "label": "Clarity"},
    {"key": "avoidance", "label": "Avoidance", "reverse_scored": True},
]


@dataclass
class Small:
    """7 people in Innovation and 5 in Energy, enrolled; then a behaviour assessment (self for
    all 12 at baseline, post and 12 months on; a manager for 7 Innovation and 2 Energy; two
    peers, fewer than the minimum of 3, for one person) and a self-assessment (self for 5 of
    each department)."""

    cohort_id: str
    innovation: list[str]
    energy: list[str]
    behaviour: str = ""
    self_assessment: str = ""
    enrolled_by: str = ""
    midway: str = ""
    """When 3 of the 5 in Energy had taken the self-assessment (and 5 in Innovation)."""
    scores: list[tuple[str, str, str, str, dict[str, int]]] = field(default_factory=list)
    """(person, instrument, wave key, rater group, scores) as posted."""


def _result(api: Api, small: Small, person: str, instrument: str, wave: str, group: str,
            scores: dict[str, int], rater: str | None = None) -> None:  # fmt: skip
    body: dict[str, Any] = {
        "person_id": person,
        "instrument_id": instrument,
        "cohort_id": small.cohort_id,
        "wave": "follow_up" if wave.startswith("follow_up") else wave,
        "rater_group": group,
        "rater_id": rater,
        "administered_on": "2020-06-01",
        "scores": scores,
    }
    if wave.startswith("follow_up"):
        body["follow_up_months"] = int(wave.removeprefix("follow_up_"))
    response = api.post("/assessment/results", body)
    assert response.status_code == 201, response.get_json()
    small.scores.append((person, instrument, wave, group, scores))


@pytest.fixture
def small(api: Api) -> Small:
    cohort_id = api.cohort(capacity=20)
    scene = Small(cohort_id, [], [])
    for department, people, count in (
        ("Innovation", scene.innovation, 7),
        ("Energy", scene.energy, 5),
    ):
        for _ in range(count):
            person_id = api.person(department=department)
            assert api.enrol(cohort_id, person_id).status_code == 201
            people.append(person_id)
    api.embedded.tracking.projector.drain()
    scene.enrolled_by = dt.datetime.now(dt.UTC).isoformat()
    for name, kind in (
        ("behaviour", "behaviour_assessment"),
        ("self_assessment", "self_assessment"),
    ):
        body = {"name": f"Small {name}", "kind": kind, "scale": SCALE, "dimensions": DIMENSIONS}
        setattr(scene, name, api.created("/assessment/instruments", body)["id"])
    everyone = scene.innovation + scene.energy
    for i, person in enumerate(everyone):
        for wave, clarity, avoidance in (
            ("baseline", 1 + i % 3, 4),
            ("post", 2 + i % 4, 3 - i % 2),
            ("follow_up_12", 2 + i % 3, 2 + i % 3),
        ):
            scores = {"clarity": clarity, "avoidance": avoidance}
            _result(api, scene, person, scene.behaviour, wave, "self", scores)
    for i, person in enumerate(scene.innovation + scene.energy[:2]):
        for wave, clarity in (("baseline", 2), ("post", 3 + i % 2)):
            scores = {"clarity": clarity, "avoidance": 3}
            _result(api, scene, person, scene.behaviour, wave, "manager", scores, f"m-{i}")
    for peer in ("peer-a", "peer-b"):
        for wave in ("baseline", "post"):
            scores = {"clarity": 3, "avoidance": 3}
            _result(api, scene, scene.innovation[0], scene.behaviour, wave, "peer", scores, peer)
    for i, person in enumerate(scene.innovation[:5] + scene.energy):
        if i == 8:
            scene.midway = dt.datetime.now(dt.UTC).isoformat()
        for wave, clarity in (("baseline", 2 + i % 2), ("post", 4)):
            scores = {"clarity": clarity, "avoidance": 2}
            _result(api, scene, person, scene.self_assessment, wave, "self", scores)
    api.embedded.tracking.projector.drain()
    return scene


def small_growth(api: Api, small: Small, sub: str = "alice", **query: Any) -> Any:
    return api.get(
        f"/tracking/cohorts/{small.cohort_id}/growth", "coordinator", sub, query_string=query
    )


def instrument_of(body: dict[str, Any], instrument_id: str) -> dict[str, Any]:
    return next(i for i in body["instruments"] if i["instrument_id"] == instrument_id)


def test_follow_up_waves_are_ordered_and_compared_with_baseline(api: Api, small: Small) -> None:
    response = small_growth(api, small, instrument_id=small.behaviour, rater_group="self")
    assert response.status_code == 200, response.get_json()
    instrument = instrument_of(response.get_json(), small.behaviour)
    assert instrument["waves"] == ["baseline", "post", "follow_up_12"]
    changes = changes_of(instrument)
    assert set(changes) == {
        (d, "self", later) for d in ("clarity", "avoidance") for later in ("post", "follow_up_12")
    }
    posted = {(p, w): s for p, i, w, g, s in small.scores if i == small.behaviour and g == "self"}
    people = small.innovation + small.energy
    differences = [
        posted[(p, "follow_up_12")]["avoidance"] - posted[(p, "baseline")]["avoidance"]
        for p in people
    ]
    got = changes[("avoidance", "self", "follow_up_12")]
    mean, sd = statistics.fmean(differences), statistics.stdev(differences)
    assert got["pairs"]["value"] == 12
    assert got["mean_difference"]["value"] == pytest.approx(mean, **APPROX)
    assert got["d_z"]["value"] == pytest.approx(mean / sd, **APPROX)
    assert got["improvement"]["value"] == pytest.approx(-mean, **APPROX)


def test_a_rater_group_below_its_minimum_is_excluded_and_counted(api: Api, small: Small) -> None:
    body = small_growth(api, small, instrument_id=small.behaviour).get_json()
    instrument = instrument_of(body, small.behaviour)
    assert instrument["excluded"]["peer"]["value"] == 2  # one person, baseline and post
    assert instrument["excluded"]["self"]["value"] == 0
    peer = cells_of(instrument)[("clarity", "peer", "baseline")]
    assert peer["n"]["suppressed"] and peer["mean"]["value"] is None
    own = api.get(f"/tracking/people/{small.innovation[0]}/growth", "participant",
                  small.innovation[0]).get_json()  # fmt: skip
    values = instrument_of(own, small.behaviour)["values"]
    peers = [v for v in values if v["rater_group"] == "peer"]
    assert peers and all(v["value"] is None and v["raters"] == 2 for v in peers)
    assert "minimum of 3" in peers[0]["reason"]


def test_a_department_leaving_out_fewer_than_five_is_refused(api: Api, small: Small) -> None:
    # Managers rated 7 in Innovation and 2 in Energy: Innovation alone leaves out 2.
    response = small_growth(api, small, department="Innovation", rater_group="manager")
    body = assert_problem(response, 422, {"department"})
    assert "fewer than 5" in body["detail"] and "unfiltered" in body["detail"]


def test_a_small_department_gives_suppressed_cells(api: Api, small: Small) -> None:
    response = small_growth(api, small, department="Energy", rater_group="manager")
    assert response.status_code == 200, response.get_json()
    instrument = instrument_of(response.get_json(), small.behaviour)
    assert all(c["mean"]["suppressed"] for c in instrument["cells"])
    assert response.get_json()["people"]["suppressed"]


def test_a_narrower_filter_releasing_the_same_cells_shows_them_again(
    api: Api, small: Small
) -> None:
    first = small_growth(api, small, "differ", department="Innovation")
    assert first.get_json()["people"]["value"] == 7
    # 5 of those 7 took the self-assessment: its cells were released over those 5 already,
    # so the narrower answer adds nothing and is shown, to this caller and anyone else.
    before = instrument_of(first.get_json(), small.self_assessment)["cells"]
    for caller in ("differ", "someone-else"):
        second = small_growth(api, small, caller, department="Innovation",
                              instrument_id=small.self_assessment)  # fmt: skip
        assert second.status_code == 200, second.get_json()
        assert second.get_json()["people"]["value"] == 5
        assert instrument_of(second.get_json(), small.self_assessment)["cells"] == before


def test_the_same_department_on_another_day_is_primary_suppressed(api: Api, small: Small) -> None:
    query = {"department": "Energy", "instrument_id": small.self_assessment}
    now = small_growth(api, small, "days", **query)
    assert now.get_json()["people"]["value"] == 5
    # Midway 3 of them had results: too few to show anything, to anyone.
    midway = small_growth(api, small, "days", as_of=small.midway, **query)
    assert midway.status_code == 200, midway.get_json()
    assert midway.get_json()["people"]["suppressed"]
    cells = instrument_of(midway.get_json(), small.self_assessment)["cells"]
    assert all(c["mean"]["value"] is None for c in cells)


def test_as_of_between_enrolment_and_assessment_shows_no_results(api: Api, small: Small) -> None:
    then = small_growth(api, small, as_of=small.enrolled_by)
    assert then.status_code == 200, then.get_json()
    assert then.get_json()["instruments"] == []
    assert then.get_json()["people"]["suppressed"]
    now = small_growth(api, small).get_json()
    assert {i["instrument_id"] for i in now["instruments"]} == {
        small.behaviour,
        small.self_assessment,
    }
    assert now["people"]["value"] == 12


def test_a_voided_result_no_longer_counts(api: Api, small: Small) -> None:
    listing = api.get(
        "/assessment/results",
        query_string={"person_id": small.energy[4], "instrument_id": small.self_assessment},
    ).get_json()
    post = next(r for r in listing["items"] if r["wave"] == "post")
    voided = api.post(f"/assessment/results/{post['id']}/void", {"reason": "wrong person"})
    assert voided.status_code == 201, voided.get_json()
    api.embedded.tracking.projector.drain()
    body = small_growth(api, small, instrument_id=small.self_assessment).get_json()
    instrument = instrument_of(body, small.self_assessment)
    # Baseline over 10 beside post and pairs over 9 would give the 10th baseline away: the
    # headline change is kept and the baseline withheld (secondary suppression).
    baseline = cells_of(instrument)[("clarity", "self", "baseline")]
    assert baseline["mean"]["value"] is None and "secondary" in baseline["mean"]["reason"]
    assert cells_of(instrument)[("clarity", "self", "post")]["n"]["value"] == 9
    assert changes_of(instrument)[("clarity", "self", "post")]["pairs"]["value"] == 9
