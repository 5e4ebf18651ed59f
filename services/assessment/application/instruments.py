"""Instrument commands: define, revise (until answers exist), new version, retire."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from services.assessment.application.base import AssessmentBase, Page
from services.assessment.domain import Meta
from services.assessment.domain.instruments import Instrument

DEFINED = "polku.assessment:Instrument.Defined"


class InstrumentCommands(AssessmentBase):
    def define_instrument(
        self, name: str, kind: str, definition: Mapping[str, Any], meta: Meta
    ) -> Instrument:
        instrument = Instrument.define(name, kind, definition, meta)
        self.save_all(instrument)
        return instrument

    def revise_instrument(
        self,
        instrument_id: UUID,
        name: str | None,
        changes: Mapping[str, Any],
        meta: Meta,
        expected_version: int | None = None,
    ) -> Instrument:
        def attempt() -> Instrument:
            instrument: Instrument = self.get(
                instrument_id, Instrument, "instrument", expected_version=expected_version
            )
            instrument.revise(name, changes, meta)
            self.save_all(instrument)
            return instrument

        return self.retrying(attempt, key=instrument_id)

    def new_instrument_version(
        self,
        instrument_id: UUID,
        name: str | None,
        changes: Mapping[str, Any],
        meta: Meta,
        expected_version: int | None = None,
    ) -> Instrument:
        def attempt() -> Instrument:
            previous: Instrument = self.get(
                instrument_id, Instrument, "instrument", expected_version=expected_version
            )
            successor = previous.next_version(name, changes, meta)
            self.save_all(previous, successor)
            return successor

        return self.retrying(attempt, key=instrument_id)

    def retire_instrument(
        self, instrument_id: UUID, reason: str, meta: Meta, expected_version: int | None = None
    ) -> Instrument:
        def attempt() -> Instrument:
            instrument: Instrument = self.get(
                instrument_id, Instrument, "instrument", expected_version=expected_version
            )
            instrument.retire(reason, meta)
            self.save_all(instrument)
            return instrument

        return self.retrying(attempt, key=instrument_id)

    def instruments(
        self, after: int, limit: int, kind: str | None = None, family_id: UUID | None = None
    ) -> Page:
        def keep(event: Any) -> bool:
            family = event.family_id or event.originator_id
            return (kind is None or event.kind == kind) and (
                family_id is None or family == family_id
            )

        return self.scan(DEFINED, after, limit, keep)
