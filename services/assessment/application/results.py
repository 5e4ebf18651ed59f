"""Result commands and queries: record, correct, void, list, and one person's rater-group summary.

Rater ids enter here and leave as a hash: ``HMAC(rater secret, person id, rater id)``. The
secret is the key store's, so neither the log nor Kafka can be searched for a rater id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from statistics import fmean
from typing import Any
from uuid import UUID

from services.assessment.application.base import AssessmentBase, Page
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument, RaterGroupInvalid
from services.assessment.domain.results import Result
from services.assessment.domain.waves import Wave

RECORDED = "polku.assessment:Result.Recorded"
RESULT_KINDS = ("behaviour_assessment", "self_assessment")
MULTI_RATER = "behaviour_assessment"


def check_rater(
    instrument: Instrument, person_id: UUID, rater_group: str, rater_id: str | None
) -> str:
    """The rater of an answer: a group the instrument has, and a named rater but for the
    self, whose rater is the person rated."""
    instrument.check_rater_group(rater_group)
    if rater_group == "self":
        rater_id = rater_id or str(person_id)
        if rater_id != str(person_id):
            raise RaterGroupInvalid("a self rating's rater is the person rated", field="rater_id")
    elif not rater_id:
        raise RaterGroupInvalid(f"a {rater_group} rating names its rater", field="rater_id")
    return rater_id


class ResultCommands(AssessmentBase):
    def rater_hash(self, person_id: UUID, rater_id: str) -> str:
        secret = bytes.fromhex(self.keys.secret("rater"))
        message = f"{person_id}\x00{rater_id}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()

    def prepare_result(
        self,
        instrument: Instrument,
        person_id: UUID,
        wave: Wave,
        rater_group: str,
        rater_id: str | None,
        scores: Mapping[str, Any],
    ) -> tuple[UUID, str, dict[str, float]]:
        """Checks one answer against its instrument: its slot id, rater hash and scores."""
        instrument.check_kind(*RESULT_KINDS)
        instrument.check_not_retired()
        rater_id = check_rater(instrument, person_id, rater_group, rater_id)
        checked = instrument.check_scores(scores)
        rater_hash = self.rater_hash(person_id, rater_id)
        return Result.id_for(person_id, instrument.id, wave, rater_hash), rater_hash, checked

    def record_result(
        self,
        person_id: UUID,
        instrument_id: UUID,
        wave: Wave,
        rater_group: str,
        rater_id: str | None,
        administered_on: dt.date,
        scores: Mapping[str, Any],
        meta: Meta,
        cohort_id: UUID | None = None,
    ) -> Result:
        def attempt() -> Result:
            instrument = self.instrument(instrument_id, field="instrument_id")
            result_id, rater_hash, checked = self.prepare_result(
                instrument, person_id, wave, rater_group, rater_id, scores
            )
            result: Result | None = self.existing(result_id, Result)
            if result is not None:
                result.record_again(cohort_id, administered_on, checked, meta)
            else:
                result = Result.record(
                    person_id,
                    instrument_id,
                    cohort_id,
                    wave,
                    rater_group,
                    rater_hash,
                    administered_on,
                    checked,
                    meta,
                )
            instrument.put_in_use(meta)
            self.save_all(result, instrument)
            return result

        return self.retrying(attempt, key=person_id)

    def correct_result(
        self,
        result_id: UUID,
        scores: Mapping[str, Any],
        administered_on: dt.date | None,
        reason: str,
        meta: Meta,
        expected_version: int | None = None,
    ) -> Result:
        def attempt() -> Result:
            result: Result = self.get(
                result_id, Result, "result", expected_version=expected_version
            )
            instrument = self.instrument(result.instrument_id)
            checked = instrument.check_scores(scores)
            result.correct(checked, administered_on or result.administered_on, reason, meta)
            self.save_all(result)
            return result

        return self.retrying(attempt, key=result_id)

    def void_result(
        self, result_id: UUID, reason: str, meta: Meta, expected_version: int | None = None
    ) -> Result:
        def attempt() -> Result:
            result: Result = self.get(
                result_id, Result, "result", expected_version=expected_version
            )
            result.void(reason, meta)
            self.save_all(result)
            return result

        return self.retrying(attempt, key=result_id)

    def result(self, result_id: UUID, version: int | None = None) -> Result:
        return self.get(result_id, Result, "result", version=version)  # type: ignore[no-any-return]

    def results(
        self,
        after: int,
        limit: int,
        person_id: UUID | None = None,
        cohort_id: UUID | None = None,
        instrument_id: UUID | None = None,
        wave: str | None = None,
        instrument_ids: set[UUID] | None = None,
        visible: Callable[[UUID, UUID | None], bool] | None = None,
    ) -> Page:
        """Results in the order first recorded, filtered by what their first record says.

        ``instrument_ids`` further limits the instruments (a participant's named ones), and
        ``visible`` the (person, cohort) pairs (the caller's scope).
        """

        def keep(event: Any) -> bool:
            return (
                (person_id is None or event.person_id == person_id)
                and (cohort_id is None or event.cohort_id == cohort_id)
                and (instrument_id is None or event.instrument_id == instrument_id)
                and (wave is None or wave in (event.wave, event.wave_key))
                and (instrument_ids is None or event.instrument_id in instrument_ids)
                and (visible is None or visible(event.person_id, event.cohort_id))
            )

        return self.scan(RECORDED, after, limit, keep)

    def summary(self, person_id: UUID, instrument_id: UUID) -> dict[str, Any]:
        """Rater-group means per wave, for groups that meet the instrument's minimums only.

        A group below its minimum is listed as suppressed, with the reason but without its
        count or scores: the smaller the group, the easier an answer is to attribute.
        """
        instrument = self.instrument(instrument_id)
        instrument.check_kind(*RESULT_KINDS)
        found: list[Result] = []
        after = 0
        while True:
            page = self.results(after, 500, person_id=person_id, instrument_id=instrument_id)
            found += [r for r in page.items if not r.voided]
            if page.next_after is None:
                break
            after = page.next_after
        waves: dict[str, dict[str, list[Result]]] = {}
        for result in found:
            waves.setdefault(result.wave_key, {}).setdefault(result.rater_group, []).append(result)
        return {
            "person_id": person_id,
            "instrument_id": instrument_id,
            "dimensions": instrument.dimensions,
            "waves": [
                _wave_summary(instrument, key, groups) for key, groups in sorted(waves.items())
            ],
        }


def _wave_summary(
    instrument: Instrument, wave_key: str, groups: dict[str, list[Result]]
) -> dict[str, Any]:
    wave = Wave.from_key(wave_key)
    summaries = []
    for group in sorted(groups, key=("self", "manager", "peer", "direct_report", "coach").index):
        results = groups[group]
        minimum = instrument.rater_group_minimums[group]
        if len(results) < minimum:
            summaries.append(
                {
                    "rater_group": group,
                    "minimum": minimum,
                    "shown": False,
                    "raters": None,
                    "means": None,
                    "suppressed_reason": f"fewer than {minimum} raters in this group",
                }
            )
            continue
        means: dict[str, float | None] = {}
        for key in instrument.dimension_keys:
            values = [float(r.scores[key]) for r in results if key in r.scores]
            means[key] = round(fmean(values), 4) if len(values) >= minimum else None
        summaries.append(
            {
                "rater_group": group,
                "minimum": minimum,
                "shown": True,
                "raters": len(results),
                "means": means,
                "suppressed_reason": None,
            }
        )
    return {
        "wave": wave.name,
        "follow_up_months": wave.follow_up_months,
        "wave_label": wave.label,
        "groups": summaries,
    }
