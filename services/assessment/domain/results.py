"""Assessment results: one person's scores on an instrument, from one rater, in one wave.

The rule "one result per (person, instrument, wave, rater)" is the aggregate's identity: its id
is a uuid5 of that key, so the store refuses a second one however the requests race. Raters are
known only by ``rater_hash``, an HMAC the application computes with a secret key over the rated
person and the rater id, for every rater group: a rater id is never stored, and one rater's
hashes differ from one rated person to the next, so they do not reveal who rated whom.

A correction is a new event superseding the scores before it; the old ones stay in the history
(and in ``?version=``). A voided result stays, marked void with its reason; its slot may be
recorded again, which reinstates it with new scores.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.assessment.domain import Meta, key_id
from services.assessment.domain.waves import Wave
from shared.errors import ConflictError, RuleViolation


class DuplicateResult(ConflictError):
    pass


class ResultVoided(ConflictError):
    pass


class ReasonMissing(RuleViolation):
    pass


class DateInvalid(RuleViolation):
    pass


def check_administered_on(administered_on: dt.date, field: str = "administered_on") -> None:
    if not dt.date(1990, 1, 1) <= administered_on <= dt.date.today() + dt.timedelta(days=1):
        raise DateInvalid(f"{field} must be a real date from 1990 to today", field=field)


class Result(Aggregate):
    TOPIC = "polku.assessment:Result"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:Result.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:Result.Created"

    @staticmethod
    def create_id(person_id: UUID, instrument_id: UUID, wave_key: str, rater_hash: str) -> UUID:
        return key_id("result", person_id, instrument_id, wave_key, rater_hash)

    @staticmethod
    def id_for(person_id: UUID, instrument_id: UUID, wave: Wave, rater_hash: str) -> UUID:
        return Result.create_id(person_id, instrument_id, wave.key, rater_hash)

    @classmethod
    def record(
        cls,
        person_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID | None,
        wave: Wave,
        rater_group: str,
        rater_hash: str,
        administered_on: dt.date,
        scores: dict[str, float],
        meta: Meta,
    ) -> Result:
        check_administered_on(administered_on)
        return cls(
            person_id,
            instrument_id,
            cohort_id,
            wave.key,
            wave.name,
            wave.follow_up_months,
            wave.label,
            rater_group,
            rater_hash,
            administered_on,
            scores,
            meta,
        )

    @event("Recorded", topic="polku.assessment:Result.Recorded")
    def __init__(
        self,
        person_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID | None,
        wave_key: str,
        wave: str,
        follow_up_months: int | None,
        wave_label: str | None,
        rater_group: str,
        rater_hash: str,
        administered_on: dt.date,
        scores: dict[str, float],
        meta: Meta,
    ) -> None:
        self.person_id = person_id
        self.instrument_id = instrument_id
        self.cohort_id = cohort_id
        self.wave_key = wave_key
        self.wave = wave
        self.follow_up_months = follow_up_months
        self.wave_label = wave_label
        self.rater_group = rater_group
        self.rater_hash = rater_hash
        self.administered_on = administered_on
        self.scores = dict(scores)
        self.superseded: list[dict[str, Any]] = []
        self.voided = False
        self.void_reason: str | None = None

    def check_recordable_again(self) -> None:
        if not self.voided:
            raise DuplicateResult(
                "this rater already has a result for this person, instrument and wave; "
                f"correct result {self.id} instead",
                field="rater_id",
            )

    def check_not_voided(self) -> None:
        if self.voided:
            raise ResultVoided(f"result {self.id} is void ({self.void_reason})")

    def record_again(
        self,
        cohort_id: UUID | None,
        administered_on: dt.date,
        scores: dict[str, float],
        meta: Meta,
    ) -> None:
        """Fills a voided slot with a new answer (the voided one stays in the history)."""
        self.check_recordable_again()
        check_administered_on(administered_on)
        # The slot's identity is repeated, so the event stands on its own when published.
        self._recorded_again(
            self.person_id,
            self.instrument_id,
            cohort_id,
            self.wave,
            self.follow_up_months,
            self.wave_label,
            self.rater_group,
            administered_on,
            scores,
            meta,
        )

    @event("RecordedAgain", topic="polku.assessment:Result.RecordedAgain")
    def _recorded_again(
        self,
        person_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID | None,
        wave: str,
        follow_up_months: int | None,
        wave_label: str | None,
        rater_group: str,
        administered_on: dt.date,
        scores: dict[str, float],
        meta: Meta,
    ) -> None:
        self.superseded.append(self._snapshot())
        self.cohort_id = cohort_id
        self.administered_on = administered_on
        self.scores = dict(scores)
        self.voided = False
        self.void_reason = None

    def correct(
        self, scores: dict[str, float], administered_on: dt.date, reason: str, meta: Meta
    ) -> None:
        self.check_not_voided()
        check_administered_on(administered_on)
        _check_reason(reason)
        self._corrected(scores, administered_on, reason, self.version, meta)

    @event("Corrected", topic="polku.assessment:Result.Corrected")
    def _corrected(
        self,
        scores: dict[str, float],
        administered_on: dt.date,
        reason: str,
        supersedes_version: int,
        meta: Meta,
    ) -> None:
        self.superseded.append(self._snapshot())
        self.scores = dict(scores)
        self.administered_on = administered_on

    def void(self, reason: str, meta: Meta) -> None:
        self.check_not_voided()
        _check_reason(reason)
        self._voided(reason, meta)

    @event("Voided", topic="polku.assessment:Result.Voided")
    def _voided(self, reason: str, meta: Meta) -> None:
        self.voided = True
        self.void_reason = reason

    def _snapshot(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "scores": dict(self.scores),
            "administered_on": self.administered_on.isoformat(),
            "voided": self.voided,
        }

    def same_answer(self, administered_on: dt.date, scores: dict[str, float]) -> bool:
        """Whether recording this again would change nothing (a re-imported row)."""
        return (
            not self.voided
            and self.administered_on == administered_on
            and {k: float(v) for k, v in self.scores.items()}
            == {k: float(v) for k, v in scores.items()}
        )


def _check_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ReasonMissing("give a reason", field="reason")
