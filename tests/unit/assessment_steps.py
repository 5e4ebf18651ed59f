"""The assessment service's side of :class:`tests.unit.event_sequences.Logs`: instruments,
results and style profiles with corrections and voids, reaction surveys, staff-survey indices."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from shared.events import assessment as a

ASSESSMENT = "assessment"
SCORES = st.dictionaries(
    st.sampled_from(["focus", "trust", "clarity"]),
    st.sampled_from([1.0, 2.5, 3.0, 4.25, 5.0]),
    min_size=1,
)


class AssessmentSteps:
    """Mixed into ``Logs``, whose state (``instruments``, ``results`` ...) and ``emit`` they use."""

    draw: Any
    versions: dict[str, int]
    cohorts: list[str]
    people: list[str]
    instruments: list[str]
    results: list[str]
    profiles: list[str]
    surveys: dict[str, tuple[str, str]]
    staff_results: list[str]

    def new_id(self) -> str: ...
    def emit(self, source: str, subject: str, type_: str, data: dict[str, Any]) -> None: ...
    def pick(self, options: Any) -> Any: ...
    def day(self) -> str: ...

    # Assessment ------------------------------------------------------------------------

    def _definition(self) -> dict[str, Any]:
        return {
            "dimensions": [{"key": "focus", "label": "Focus", "reverse_scored": False}],
            "scale": {"min": 1.0, "max": 5.0, "step": 1.0, "labels": {}},
            "privacy": self.pick(["named", "pseudonymous", "anonymous"]),
            "min_group_size": self.draw(st.integers(3, 5)),
            "rater_group_minimums": {"peer": 3},
            "allows_partial": False,
            "style_categories": [],
            "free_text_questions": [{"key": "best", "label": "Best part"}],
            "comment_minimum": 5,
        }

    def instrument(self) -> None:
        instrument = self.new_id()
        self.instruments.append(instrument)
        data = self._definition() | {
            "instrument_id": instrument,
            "family_id": instrument,
            "previous_id": None,
            "instrument_version": 1,
            "name": "360",
            "kind": self.pick(a.KINDS),
        }
        self.emit(ASSESSMENT, instrument, a.INSTRUMENT_DEFINED, data)

    def instrument_change(self) -> None:
        instrument = self.pick(self.instruments)
        if self.draw(st.booleans()):
            data = self._definition() | {"instrument_id": instrument, "name": "360 v2"}
            self.emit(ASSESSMENT, instrument, a.INSTRUMENT_REVISED, data)
        else:
            data = {"instrument_id": instrument, "reason": "replaced"}
            self.emit(ASSESSMENT, instrument, a.INSTRUMENT_RETIRED, data)

    def _wave(self) -> dict[str, Any]:
        wave = self.pick(["baseline", "post", "follow_up"])
        months = 6 if wave == "follow_up" else None
        return {"wave": wave, "follow_up_months": months, "wave_label": None}

    def result(self) -> None:
        result = self.new_id()
        self.results.append(result)
        data = self._wave() | {
            "result_id": result,
            "person_id": self.pick(self.people),
            "cohort_id": self.draw(st.sampled_from([*self.cohorts, None])),
            "instrument_id": self.pick(self.instruments),
            "rater_group": self.pick(a.RATER_GROUPS),
            "administered_on": self.day(),
            "scores": self.draw(SCORES),
        }
        self.emit(ASSESSMENT, result, a.RESULT_RECORDED, data)

    def result_change(self) -> None:
        result = self.pick(self.results)
        if self.draw(st.booleans()):
            data: dict[str, Any] = {
                "result_id": result,
                "supersedes_version": self.versions[result],
                "administered_on": self.day(),
                "scores": self.draw(SCORES),
            }
            self.emit(ASSESSMENT, result, a.RESULT_CORRECTED, data)
        else:
            data = {"result_id": result, "reason": "wrong person"}
            self.emit(ASSESSMENT, result, a.RESULT_VOIDED, data)

    def profile(self) -> None:
        profile = self.new_id()
        self.profiles.append(profile)
        data = self._wave() | {
            "profile_id": profile,
            "person_id": self.pick(self.people),
            "cohort_id": None,
            "instrument_id": self.pick(self.instruments),
            "administered_on": self.day(),
            "primary": self.pick(["driver", "analyst"]),
            "secondary": self.draw(st.sampled_from(["amiable", None])),
            "scores": self.draw(SCORES),
        }
        self.emit(ASSESSMENT, profile, a.STYLE_PROFILE_RECORDED, data)

    def profile_corrected(self) -> None:
        profile = self.pick(self.profiles)
        data = {
            "profile_id": profile,
            "primary": self.pick(["driver", "expressive"]),
            "secondary": None,
            "scores": self.draw(SCORES),
        }
        self.emit(ASSESSMENT, profile, a.STYLE_PROFILE_CORRECTED, data)

    def survey(self) -> None:
        survey = self.new_id()
        instrument, cohort = self.pick(self.instruments), self.pick(self.cohorts)
        self.surveys[survey] = (instrument, cohort)
        data = {
            "survey_id": survey,
            "instrument_id": instrument,
            "cohort_id": cohort,
            "count": self.draw(st.integers(1, 25)),
        }
        self.emit(ASSESSMENT, survey, a.REACTION_TOKENS_ISSUED, data)

    def survey_change(self) -> None:
        survey = self.pick(self.surveys)
        instrument, cohort = self.surveys[survey]
        kind = self.pick(["more tokens", "response", "response", "closed"])
        if kind == "closed":
            self.emit(ASSESSMENT, survey, a.REACTION_SURVEY_CLOSED, {"survey_id": survey})
            return
        data: dict[str, Any] = {
            "survey_id": survey,
            "instrument_id": instrument,
            "cohort_id": cohort,
        }
        if kind == "more tokens":
            self.emit(ASSESSMENT, survey, a.REACTION_TOKENS_ISSUED, data | {"count": 2})
            return
        comments = self.draw(st.sampled_from([{}, {"best": "the peers"}]))
        data |= {"answers": self.draw(SCORES), "comments": comments}
        # Each response is an aggregate of its own: nothing links it to who answered.
        self.emit(ASSESSMENT, self.new_id(), a.REACTION_RESPONSE_SUBMITTED, data)

    def staff_result(self) -> None:
        result = self.new_id()
        self.staff_results.append(result)
        level = self.pick(["organisation", "department", "unit"])
        data = {
            "result_id": result,
            "instrument_id": self.pick(self.instruments),
            "year": self.draw(st.integers(2018, 2022)),
            "level": level,
            "organisation": "TEM",
            "department": None if level == "organisation" else "Innovation",
            "unit": "Digital" if level == "unit" else None,
            "respondents": self.draw(st.integers(0, 80)),
            "indices": self.draw(SCORES),
        }
        self.emit(ASSESSMENT, result, a.STAFF_SURVEY_RESULT_RECORDED, data)

    def staff_result_corrected(self) -> None:
        result = self.pick(self.staff_results)
        data = {"result_id": result, "respondents": 12, "indices": self.draw(SCORES)}
        self.emit(ASSESSMENT, result, a.STAFF_SURVEY_RESULT_CORRECTED, data)
