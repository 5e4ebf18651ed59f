"""Instruments: define, list, read (``?version=``), revise, new version, retire."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import schemas as s
from services.assessment.api.access import INSTRUMENT_WRITERS, READERS, app_, as_page
from services.assessment.domain.instruments import Instrument
from shared.web.blueprint import Blueprint
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "instruments",
    __name__,
    url_prefix="/assessment",
    description="Instruments: what is measured, on which scale, under which privacy policy.",
)
INSTRUMENT_READERS = (*READERS, "participant")


def instrument_view(i: Instrument) -> dict[str, Any]:
    return {
        "id": i.id,
        "version": i.version,
        "name": i.name,
        "kind": i.kind,
        "instrument_version": i.instrument_version,
        "family_id": i.family_id,
        "previous_id": i.previous_id,
        "superseded_by": i.superseded_by,
        **i.definition,
        "in_use": i.in_use,
        "retired": i.retired,
        "retirement_reason": i.retirement_reason,
        "created_on": i.created_on,
    }


def _changes(body: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    changes = dict(body)
    return changes.pop("name", None), changes


@blp.route("/instruments")
class Instruments(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.InstrumentIn())
    @blp.response(201, s.InstrumentOut())
    @blp.alt_response(422, **problem_doc("The definition breaks a rule (names the field)."))
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Define an instrument (version 1 of a new family).

        Kinds: behaviour_assessment (multi-rater), style_analysis (categorical profiles),
        self_assessment, reaction_survey (anonymous, tokens), staff_survey (unit-level yearly
        indices; the default index set applies when no dimensions are given). Person-linked
        kinds are named or pseudonymous; survey kinds are always anonymous.
        """
        name, kind = body.pop("name"), body.pop("kind")
        return instrument_view(app_().define_instrument(name, kind, body, event_meta()))

    @requires(*INSTRUMENT_READERS)
    @blp.arguments(s.InstrumentFilter(), location="query")
    @blp.response(200, s.InstrumentPage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List instruments in the order they were defined, optionally by kind or family."""
        page = app_().instruments(
            args["after"], args["limit"], kind=args.get("kind"), family_id=args.get("family_id")
        )
        return as_page(page, instrument_view)


@blp.route("/instruments/<uuid:instrument_id>")
class InstrumentById(MethodView):
    @requires(*INSTRUMENT_READERS)
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.InstrumentOut())
    @blp.alt_response(404, **problem_doc("No such instrument (or no such version)."))
    def get(self, args: dict[str, Any], instrument_id: UUID) -> dict[str, Any]:
        """One instrument, as it is or as it was at ``?version=``."""
        return instrument_view(app_().instrument(instrument_id, version=args.get("version")))

    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.InstrumentChange())
    @blp.response(200, s.InstrumentOut())
    @blp.alt_response(404, **problem_doc("No such instrument."))
    @blp.alt_response(409, **problem_doc("Answers exist (frozen), retired, or If-Match stale."))
    @blp.alt_response(422, **problem_doc("The revised definition breaks a rule."))
    def patch(self, body: dict[str, Any], instrument_id: UUID) -> dict[str, Any]:
        """Revise an instrument: its name at any time, its definition only until answers exist.

        Once any result, profile, staff-survey result or reaction token exists, dimensions,
        scale, privacy policy and minimums are frozen (409): define a new version instead.
        A body that changes nothing (``{}``, or the values it has) is a 200 that records
        nothing: the version stays.
        """
        name, changes = _changes(body)
        revised = app_().revise_instrument(
            instrument_id, name, changes, event_meta(), expected_version()
        )
        return instrument_view(revised)


@blp.route("/instruments/<uuid:instrument_id>/versions")
class InstrumentVersions(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.InstrumentChange())
    @blp.response(201, s.InstrumentOut())
    @blp.alt_response(404, **problem_doc("No such instrument."))
    @blp.alt_response(409, **problem_doc("It already has a newer version, or If-Match stale."))
    @blp.alt_response(422, **problem_doc("The new definition breaks a rule."))
    def post(self, body: dict[str, Any], instrument_id: UUID) -> dict[str, Any]:
        """Define the next version: the same family, ``instrument_version`` one up, with the
        changes given and everything else as in this one."""
        name, changes = _changes(body)
        successor = app_().new_instrument_version(
            instrument_id, name, changes, event_meta(), expected_version()
        )
        return instrument_view(successor)


@blp.route("/instruments/<uuid:instrument_id>/retirement")
class InstrumentRetirement(MethodView):
    @requires(*INSTRUMENT_WRITERS)
    @blp.arguments(s.RetirementIn())
    @blp.response(201, s.InstrumentOut())
    @blp.alt_response(404, **problem_doc("No such instrument."))
    @blp.alt_response(409, **problem_doc("Already retired, or If-Match stale."))
    def post(self, body: dict[str, Any], instrument_id: UUID) -> dict[str, Any]:
        """Retire an instrument: it takes no new answers; what was recorded stays."""
        retired = app_().retire_instrument(
            instrument_id, body["reason"], event_meta(), expected_version()
        )
        return instrument_view(retired)
