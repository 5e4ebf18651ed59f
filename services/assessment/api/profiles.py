"""Style profiles: record, correct, read, list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from services.assessment.api import schemas as s
from services.assessment.api.access import (
    READERS,
    RECORDERS,
    app_,
    as_page,
    is_participant,
    named_instruments,
    require_self,
)
from services.assessment.api.results import wave_of
from services.assessment.domain.profiles import StyleProfile
from shared.web.problems import problem_doc
from shared.web.security import event_meta, requires
from shared.web.versions import VersionArgs, expected_version

blp = Blueprint(
    "style_profiles",
    __name__,
    url_prefix="/assessment",
    description="Style profiles: the categorical results of a style analysis.",
)


def profile_view(p: StyleProfile) -> dict[str, Any]:
    return {
        "id": p.id,
        "version": p.version,
        "person_id": p.person_id,
        "instrument_id": p.instrument_id,
        "cohort_id": p.cohort_id,
        "wave": p.wave,
        "follow_up_months": p.follow_up_months,
        "wave_label": p.wave_label,
        "administered_on": p.administered_on,
        "primary": p.primary,
        "secondary": p.secondary,
        "scores": p.scores,
        "corrections": len(p.superseded),
        "created_on": p.created_on,
    }


@blp.route("/style-profiles")
class Profiles(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.ProfileIn())
    @blp.response(201, s.ProfileOut())
    @blp.alt_response(404, **problem_doc("The instrument does not exist."))
    @blp.alt_response(409, **problem_doc("The person already has a profile for this wave."))
    @blp.alt_response(422, **problem_doc("A style is not one of the instrument's categories."))
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a person's style profile for a wave: primary and optional secondary style
        from the instrument's categories, and optional dimension scores."""
        profile = app_().record_profile(
            body["person_id"],
            body["instrument_id"],
            wave_of(body),
            body["administered_on"],
            body["primary"],
            body["secondary"],
            body["scores"],
            event_meta(),
            cohort_id=body["cohort_id"],
        )
        return profile_view(profile)

    @requires(*READERS, "participant")
    @blp.arguments(s.ProfileFilter(), location="query")
    @blp.response(200, s.ProfilePage())
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List profiles by person, cohort or instrument; a participant lists only their own
        profiles of named instruments."""
        require_self(args.get("person_id"), "profiles")
        page = app_().profiles(
            args["after"],
            args["limit"],
            person_id=args.get("person_id"),
            instrument_id=args.get("instrument_id"),
            cohort_id=args.get("cohort_id"),
            instrument_ids=named_instruments() if is_participant() else None,
        )
        return as_page(page, profile_view)


@blp.route("/style-profiles/<uuid:profile_id>")
class ProfileById(MethodView):
    @requires(*READERS, "participant")
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.ProfileOut())
    @blp.alt_response(404, **problem_doc("No such profile (or version)."))
    def get(self, args: dict[str, Any], profile_id: UUID) -> dict[str, Any]:
        """One profile, as it is or as it was at ``?version=``."""
        profile = app_().profile(profile_id, version=args.get("version"))
        if is_participant():
            require_self(profile.person_id, "profiles")
            if profile.instrument_id not in named_instruments():
                abort(403, message="participants may read only profiles of named instruments")
        return profile_view(profile)


@blp.route("/style-profiles/<uuid:profile_id>/correction")
class ProfileCorrection(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.ProfileCorrectionIn())
    @blp.response(201, s.ProfileOut())
    @blp.alt_response(404, **problem_doc("No such profile."))
    @blp.alt_response(409, **problem_doc("If-Match is stale."))
    @blp.alt_response(422, **problem_doc("A style is not one of the categories."))
    def post(self, body: dict[str, Any], profile_id: UUID) -> dict[str, Any]:
        """Correct a profile; the previous one stays in its history."""
        profile = app_().correct_profile(
            profile_id,
            body["primary"],
            body["secondary"],
            body["scores"],
            body["reason"],
            event_meta(),
            expected_version(),
        )
        return profile_view(profile)
