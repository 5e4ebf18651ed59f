"""Style-profile commands and queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from services.assessment.application.base import AssessmentBase, Page
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument
from services.assessment.domain.profiles import DuplicateProfile, StyleProfile
from services.assessment.domain.waves import Wave

RECORDED = "polku.assessment:StyleProfile.Recorded"


def _checked_scores(instrument: Instrument, scores: Mapping[str, Any]) -> dict[str, float]:
    # Dimension scores are optional on a style profile, and may be partial.
    return instrument.check_scores(scores) if scores else {}


class ProfileCommands(AssessmentBase):
    def record_profile(
        self,
        person_id: UUID,
        instrument_id: UUID,
        wave: Wave,
        administered_on: dt.date,
        primary: str,
        secondary: str | None,
        scores: Mapping[str, Any],
        meta: Meta,
        cohort_id: UUID | None = None,
    ) -> StyleProfile:
        def attempt() -> StyleProfile:
            instrument = self.instrument(instrument_id, field="instrument_id")
            instrument.check_kind("style_analysis")
            instrument.check_not_retired()
            instrument.check_style(primary, "primary")
            if secondary is not None:
                instrument.check_style(secondary, "secondary")
            checked = _checked_scores(instrument, scores)
            profile_id = StyleProfile.id_for(person_id, instrument_id, wave)
            if self.existing(profile_id, StyleProfile) is not None:
                raise DuplicateProfile(
                    f"this person already has a profile for this wave: correct {profile_id}",
                    field="wave",
                )
            profile = StyleProfile.record(
                person_id,
                instrument_id,
                cohort_id,
                wave,
                administered_on,
                primary,
                secondary,
                checked,
                meta,
            )
            instrument.put_in_use(meta)
            self.save_all(profile, instrument)
            return profile

        return self.retrying(attempt, key=person_id)

    def correct_profile(
        self,
        profile_id: UUID,
        primary: str,
        secondary: str | None,
        scores: Mapping[str, Any],
        reason: str,
        meta: Meta,
        expected_version: int | None = None,
    ) -> StyleProfile:
        def attempt() -> StyleProfile:
            profile: StyleProfile = self.get(
                profile_id, StyleProfile, "style profile", expected_version=expected_version
            )
            instrument = self.instrument(profile.instrument_id)
            instrument.check_style(primary, "primary")
            if secondary is not None:
                instrument.check_style(secondary, "secondary")
            profile.correct(primary, secondary, _checked_scores(instrument, scores), reason, meta)
            self.save_all(profile)
            return profile

        return self.retrying(attempt, key=profile_id)

    def profile(self, profile_id: UUID, version: int | None = None) -> StyleProfile:
        return self.get(profile_id, StyleProfile, "style profile", version=version)  # type: ignore[no-any-return]

    def profiles(
        self,
        after: int,
        limit: int,
        person_id: UUID | None = None,
        instrument_id: UUID | None = None,
        cohort_id: UUID | None = None,
        instrument_ids: set[UUID] | None = None,
        visible: Callable[[UUID, UUID | None], bool] | None = None,
    ) -> Page:
        def keep(event: Any) -> bool:
            return (
                (person_id is None or event.person_id == person_id)
                and (instrument_id is None or event.instrument_id == instrument_id)
                and (cohort_id is None or event.cohort_id == cohort_id)
                and (instrument_ids is None or event.instrument_id in instrument_ids)
                and (visible is None or visible(event.person_id, event.cohort_id))
            )

        return self.scan(RECORDED, after, limit, keep)
