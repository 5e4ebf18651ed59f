"""Style profiles: record, correct, read, list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask.views import MethodView

from services.assessment.api import schemas as s
from services.assessment.api.access import (
    READERS,
    RECORDERS,
    app_,
    as_page,
    check_coach_may_change,
    check_coach_may_record,
    check_known,
    in_scope,
    is_participant,
    named_instruments,
    out_of_scope,
    visible,
)
from services.assessment.api.results import wave_of
from services.assessment.domain.profiles import StyleProfile
from shared.web.blueprint import Blueprint
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
    @blp.alt_response(
        404,
        **problem_doc(
            "The instrument does not exist; or, to a coach, the cohort is not one they coach "
            "or the person was never enrolled in it."
        ),
    )
    @blp.alt_response(409, **problem_doc("The person already has a profile for this wave."))
    @blp.alt_response(
        422,
        **problem_doc(
            "A style is not one of the instrument's categories; a coach gave no cohort; or "
            "enrolment has no such person (person_id) or cohort (cohort_id)."
        ),
    )
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record a person's style profile for a wave: primary and optional secondary style
        from the instrument's categories, and optional dimension scores. A coach records only
        for a person enrolled in a cohort they coach, naming that cohort."""
        check_coach_may_record(body["person_id"], body["cohort_id"])
        check_known(body["person_id"], body["cohort_id"])
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
        """List profiles by person, cohort or instrument, of those the caller may reach: a
        participant their own of named instruments, a coach those of people enrolled in a
        cohort they coach (tied to such a cohort or to none)."""
        page = app_().profiles(
            args["after"],
            args["limit"],
            person_id=args.get("person_id"),
            instrument_id=args.get("instrument_id"),
            cohort_id=args.get("cohort_id"),
            instrument_ids=named_instruments() if is_participant() else None,
            visible=visible(),
        )
        return as_page(page, profile_view)


@blp.route("/style-profiles/<uuid:profile_id>")
class ProfileById(MethodView):
    @requires(*READERS, "participant")
    @blp.arguments(VersionArgs(), location="query")
    @blp.response(200, s.ProfileOut())
    @blp.alt_response(404, **problem_doc("No such profile (or version), or not one you may reach."))
    def get(self, args: dict[str, Any], profile_id: UUID) -> dict[str, Any]:
        """One profile, as it is or as it was at ``?version=``."""
        profile = app_().profile(profile_id, version=args.get("version"))
        if not in_scope(profile.person_id, profile.cohort_id) or (
            is_participant() and profile.instrument_id not in named_instruments()
        ):
            out_of_scope("profile")
        return profile_view(profile)


@blp.route("/style-profiles/<uuid:profile_id>/correction")
class ProfileCorrection(MethodView):
    @requires(*RECORDERS)
    @blp.arguments(s.ProfileCorrectionIn())
    @blp.response(201, s.ProfileOut())
    @blp.alt_response(404, **problem_doc("No such profile, or not one you may reach."))
    @blp.alt_response(409, **problem_doc("If-Match is stale."))
    @blp.alt_response(422, **problem_doc("A style is not one of the categories."))
    def post(self, body: dict[str, Any], profile_id: UUID) -> dict[str, Any]:
        """Correct a profile; the previous one stays in its history. A coach corrects only
        profiles they could record."""
        check_coach_may_change(app_().profile, profile_id, "profile")
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
