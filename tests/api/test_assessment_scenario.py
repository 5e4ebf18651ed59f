"""The TEMPO assessment scenario loads through the API and leaves what its data says."""

from __future__ import annotations

from statistics import fmean

from services.scenario import assessment as scenario
from services.scenario.organisation import PARTICIPANTS
from tests.api.helpers import SECRET, Api
from tests.support.scenario import COACH, ClientCall


def coached_cohort(api: Api) -> tuple[str, dict[str, str]]:
    """The cohort and its participants, in enrolment, coached by the scenario's coach: the
    scenario records results as that coach, who may do so only for their own participants."""
    cohort = api.cohort(capacity=len(PARTICIPANTS))
    assert api.post(f"/enrolment/cohorts/{cohort}/open", {}).status_code == 200
    people = {member.key: api.person() for member in PARTICIPANTS}
    for person in people.values():
        assert api.enrol(cohort, person).status_code == 201
    assert api.post(f"/enrolment/cohorts/{cohort}/coaches", {"coach": COACH}).status_code == 200
    return cohort, people


def test_the_pilot_assessments_load_and_add_up(api: Api) -> None:
    cohort, people = coached_cohort(api)
    loaded = scenario.load(ClientCall(api.client, SECRET), cohort, people)
    ids = loaded["instruments"]

    ratings = scenario.behaviour_ratings()
    listed, after = [], 0
    while True:
        page = api.get(f"/assessment/results?cohort_id={cohort}&limit=500&after={after}").get_json()
        listed += page["items"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert len(listed) == len(ratings)

    p01 = [r for r in ratings if r.person == "P01"]
    summary = api.get(f"/assessment/people/{people['P01']}/results/{ids['behaviour']}/summary")
    waves = {
        w["wave"]: {g["rater_group"]: g for g in w["groups"]} for w in summary.get_json()["waves"]
    }
    for wave in ("baseline", "post"):
        peers = [r.scores for r in p01 if r.wave == wave and r.rater_group == "peer"]
        expected = round(fmean(s["listening"] for s in peers), 4)
        assert waves[wave]["peer"]["means"]["listening"] == expected
        assert waves[wave]["peer"]["raters"] == len(peers)

    profiles = api.get(
        f"/assessment/style-profiles?instrument_id={ids['style']}&limit=50"
    ).get_json()
    assert {p["primary"] for p in profiles["items"]} <= set(scenario.STYLE["style_categories"])
    assert len(profiles["items"]) == len(PARTICIPANTS)

    survey = api.get(f"/assessment/reaction-surveys/{loaded['reaction_survey_id']}").get_json()
    assert (survey["issued"], survey["responses"]) == (20, scenario.RESPONDENTS)
    report = api.get(f"/assessment/reaction-surveys/{survey['id']}/summary").get_json()
    overall = next(item for item in report["items"] if item["key"] == "overall")
    expected = fmean(a["answers"]["overall"] for a in scenario.reaction_answers())
    assert overall["mean"] == round(expected, 4)
    assert report["answers_shown"] and report["comments_shown"]

    rows = scenario.staff_survey_rows()
    small = [r for r in rows if r.respondents < scenario.STAFF["min_group_size"]]
    assert small, "the scenario must exercise the minimum group size"
    assert loaded["staff_survey_refused"] == small
    assert len(loaded["staff_survey_recorded"]) == len(rows) - len(small)
    org = api.get("/assessment/staff-survey-results?level=organisation&limit=50").get_json()
    assert sorted(r["year"] for r in org["items"]) == list(scenario.YEARS)
