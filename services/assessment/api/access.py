"""What every assessment resource module shares: the roles, the application, pages, scope.

Scope, the same in every service: hr_admin, coordinators and auditors reach everyone; a
participant only themselves; a coach only people ever enrolled in a cohort they coach, and of
them only what is tied to such a cohort (or to none). A resource outside the caller's scope is a
404, exactly as if it did not exist; a list holds only what is in scope. Which cohorts a coach
coaches, and who was enrolled in them, comes from :class:`~services.assessment.scope.CoachScope`,
fed by enrolment's integration events.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn
from uuid import UUID

from flask import current_app, g

from services.assessment.application import AssessmentApplication, Page
from services.assessment.domain.instruments import Instrument
from services.assessment.scope import CoachScope
from shared.auth import subject_reference
from shared.errors import NotFoundError, RuleViolation
from shared.web import jwt_secret

log = logging.getLogger("polku.assessment.scope")

INSTRUMENT_WRITERS = ("hr_admin", "coordinator")
RECORDERS = ("hr_admin", "coordinator", "coach")
READERS = ("hr_admin", "coordinator", "coach", "auditor")
SUMMARY_READERS = ("hr_admin", "participant")


def app_() -> AssessmentApplication:
    return current_app.extensions["polku.assessment"]  # type: ignore[no-any-return]


def as_page(page: Page, view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    return {"items": [view(item) for item in page.items], "next_after": page.next_after}


def is_participant() -> bool:
    return bool(g.principal.role == "participant")


Visible = Callable[[UUID, UUID | None], bool]
"""Whether the caller may see what is about (person, cohort)."""


def coach_scope() -> CoachScope:
    return current_app.extensions["polku.assessment.scope"]  # type: ignore[no-any-return]


def is_coach() -> bool:
    return bool(g.principal.role == "coach")


def catch_up_scope() -> None:
    """In one process, applies enrolment's newest events first (read your writes)."""
    if g.get("scope_caught_up"):
        return
    catch_up = current_app.extensions.get("polku.assessment.scope_catch_up")
    if catch_up is not None:
        try:
            catch_up()
        except Exception:  # the stored scope still answers; the follower thread retries
            log.exception("coach scope: catching up before a request failed")
    g.scope_caught_up = True


LAGGING = (
    "assessment knows the people and cohorts enrolment has published so far; one created a "
    "moment ago may not have arrived yet: retry shortly"
)


def check_known(
    person_id: UUID | None = None,
    cohort_id: UUID | None = None,
    person_field: str = "person_id",
    cohort_field: str = "cohort_id",
) -> None:
    """An id that names no person or cohort enrolment has registered is a 422 naming the field,
    never a result recorded for nobody."""
    catch_up_scope()
    scope = coach_scope()
    if person_id is not None and scope.unknown_people([str(person_id)]):
        raise UnknownReference(
            f"no person {person_id} is registered in enrolment ({LAGGING})", field=person_field
        )
    if cohort_id is not None and scope.unknown_cohorts([str(cohort_id)]):
        raise UnknownReference(
            f"no cohort {cohort_id} is planned in enrolment ({LAGGING})", field=cohort_field
        )


class UnknownReference(RuleViolation):
    """A person or cohort id enrolment never registered (or not yet, as far as known)."""


def coached_members() -> tuple[set[str], set[tuple[str, str]]]:
    """The calling coach's cohorts, and (cohort, person) for everyone ever enrolled in them."""
    cached: tuple[set[str], set[tuple[str, str]]] | None = g.get("coached_members")
    if cached is None:
        catch_up_scope()
        scope = coach_scope()
        cohorts = scope.cohorts_of(subject_reference(jwt_secret(), g.principal.sub))
        cached = (cohorts, scope.members(cohorts))
        g.coached_members = cached
    return cached


def visible() -> Visible | None:
    """The caller's scope over (person, cohort); None: everything."""
    if is_participant():
        me = g.principal.sub
        return lambda person_id, _cohort_id: str(person_id) == me
    if is_coach():
        _cohorts, members = coached_members()
        people = {person for _cohort, person in members}

        def coached(person_id: UUID, cohort_id: UUID | None) -> bool:
            if cohort_id is None:
                return str(person_id) in people
            return (str(cohort_id), str(person_id)) in members

        return coached
    return None


def in_scope(person_id: UUID, cohort_id: UUID | None) -> bool:
    check = visible()
    return check is None or check(person_id, cohort_id)


def out_of_scope(what: str, field: str | None = None) -> NoReturn:
    raise NotFoundError(f"no such {what} (or not one you may reach)", field=field)


def check_coach_may_record(person_id: UUID, cohort_id: UUID | None) -> None:
    """A coach records only for a person enrolled in a cohort they coach, in that cohort."""
    if not is_coach():
        return
    if cohort_id is None:
        raise RuleViolation(
            "a coach records only within a cohort they coach: give its cohort_id",
            field="cohort_id",
        )
    cohorts, members = coached_members()
    if str(cohort_id) not in cohorts:
        out_of_scope("cohort", "cohort_id")
    if (str(cohort_id), str(person_id)) not in members:
        out_of_scope("participant of this cohort", "person_id")


def check_cohort_reach(cohort_id: UUID | None, what: str) -> None:
    """A coach reaches a cohort's anonymous surveys only if they coach that cohort."""
    if is_coach() and (cohort_id is None or str(cohort_id) not in coached_members()[0]):
        out_of_scope(what)


def check_coach_may_change(load: Callable[[UUID], Any], resource_id: UUID, what: str) -> None:
    """A coach changes only what they could have recorded; anything else is not there."""
    if not is_coach():
        return
    current = load(resource_id)
    _cohorts, members = coached_members()
    cohort_id = current.cohort_id
    if cohort_id is None or (str(cohort_id), str(current.person_id)) not in members:
        out_of_scope(what)


def require_self(person_id: UUID | None, what: str) -> None:
    """A participant reaches only what is about themselves; anyone else is not there."""
    if is_participant() and (person_id is None or g.principal.sub != str(person_id)):
        out_of_scope(what, "person_id")


def named_instruments() -> set[UUID]:
    """The instruments whose answers a participant may read as themselves (privacy named)."""
    cache: set[UUID] | None = g.get("named_instruments")
    if cache is None:
        cache, after = set(), 0
        while True:
            page = app_().instruments(after, 500)
            cache |= {i.id for i in page.items if i.privacy == "named"}
            if page.next_after is None:
                break
            after = page.next_after
        g.named_instruments = cache
    return cache


def instrument_of(instrument_id: UUID) -> Instrument:
    """An instrument, loaded once per request."""
    loaded: dict[UUID, Instrument] = g.setdefault("instruments", {})
    if instrument_id not in loaded:
        loaded[instrument_id] = app_().instrument(instrument_id)
    return loaded[instrument_id]
