"""Style profiles: the categorical result of a style analysis, for one person and wave.

A profile names a primary style and optionally a secondary one, both from the instrument's style
categories and different from each other, plus optional dimension scores on its scale. One
profile per (person, instrument, wave): the id is a uuid5 of that key. A correction supersedes
the previous profile and keeps it in the history.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.assessment.domain import Meta, key_id
from services.assessment.domain.results import check_administered_on
from services.assessment.domain.waves import Wave
from shared.errors import ConflictError, RuleViolation


class DuplicateProfile(ConflictError):
    pass


class StylesInvalid(RuleViolation):
    pass


def check_styles(primary: str, secondary: str | None) -> None:
    if secondary is not None and secondary == primary:
        raise StylesInvalid("the secondary style must differ from the primary", field="secondary")


class StyleProfile(Aggregate):
    TOPIC = "polku.assessment:StyleProfile"

    class Event(Aggregate.Event):
        TOPIC = "polku.assessment:StyleProfile.Event"

    class Created(Aggregate.Created):
        TOPIC = "polku.assessment:StyleProfile.Created"

    @staticmethod
    def create_id(person_id: UUID, instrument_id: UUID, wave_key: str) -> UUID:
        return key_id("style-profile", person_id, instrument_id, wave_key)

    @staticmethod
    def id_for(person_id: UUID, instrument_id: UUID, wave: Wave) -> UUID:
        return StyleProfile.create_id(person_id, instrument_id, wave.key)

    @classmethod
    def record(
        cls,
        person_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID | None,
        wave: Wave,
        administered_on: dt.date,
        primary: str,
        secondary: str | None,
        scores: dict[str, float],
        meta: Meta,
    ) -> StyleProfile:
        check_styles(primary, secondary)
        check_administered_on(administered_on)
        return cls(
            person_id,
            instrument_id,
            cohort_id,
            wave.key,
            wave.name,
            wave.follow_up_months,
            wave.label,
            administered_on,
            primary,
            secondary,
            scores,
            meta,
        )

    @event("Recorded", topic="polku.assessment:StyleProfile.Recorded")
    def __init__(
        self,
        person_id: UUID,
        instrument_id: UUID,
        cohort_id: UUID | None,
        wave_key: str,
        wave: str,
        follow_up_months: int | None,
        wave_label: str | None,
        administered_on: dt.date,
        primary: str,
        secondary: str | None,
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
        self.administered_on = administered_on
        self.primary = primary
        self.secondary = secondary
        self.scores = dict(scores)
        self.superseded: list[dict[str, Any]] = []

    def correct(
        self,
        primary: str,
        secondary: str | None,
        scores: dict[str, float],
        reason: str,
        meta: Meta,
    ) -> None:
        check_styles(primary, secondary)
        if not reason.strip():
            raise StylesInvalid("give a reason", field="reason")
        self._corrected(primary, secondary, scores, reason, meta)

    @event("Corrected", topic="polku.assessment:StyleProfile.Corrected")
    def _corrected(
        self, primary: str, secondary: str | None, scores: dict[str, float], reason: str, meta: Meta
    ) -> None:
        self.superseded.append(
            {
                "version": self.version,
                "primary": self.primary,
                "secondary": self.secondary,
                "scores": dict(self.scores),
            }
        )
        self.primary, self.secondary, self.scores = primary, secondary, dict(scores)
